-- {priv_columns} is replaced by the *_priv column names read from information_schema.
-- Never select authentication_string / Password: they hold password hashes.
SELECT User, Host, {priv_columns} FROM mysql.user
