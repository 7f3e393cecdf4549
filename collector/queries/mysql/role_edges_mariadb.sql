-- MariaDB roles have an empty host.
SELECT User, Host, Role, '' FROM mysql.roles_mapping
