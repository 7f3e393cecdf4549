-- What the server enforces now: information_schema.USER_PRIVILEGES comes from the server's
-- in-memory privilege tables, not from the grant tables read above. A grant-table edit made without
-- FLUSH PRIVILEGES shows as a difference between the two (MariaDB leaves roles out of this view).
SELECT GRANTEE, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES
