-- FROM is the role, TO the account it is granted to.
SELECT TO_USER, TO_HOST, FROM_USER, FROM_HOST FROM mysql.role_edges
