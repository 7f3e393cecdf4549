-- The role grants the server holds in memory for one account ({account}: `user`@`host`, or a
-- MariaDB role's `name`), compared with the role tables read above: a role grant deleted from them
-- without FLUSH PRIVILEGES is still in force, and one written but not flushed is not in force yet.
SHOW GRANTS FOR {account}
