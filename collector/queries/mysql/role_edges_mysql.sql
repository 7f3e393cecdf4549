-- FROM is the role, TO the account it is granted to; WITH_ADMIN_OPTION: it may hand the role on.
SELECT TO_USER, TO_HOST, FROM_USER, FROM_HOST, WITH_ADMIN_OPTION FROM mysql.role_edges
