-- MariaDB roles have an empty host. Admin_option: the grantee may hand the role on.
SELECT User, Host, Role, '', Admin_option FROM mysql.roles_mapping
