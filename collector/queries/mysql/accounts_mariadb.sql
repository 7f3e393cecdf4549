-- MariaDB 10.4+: every account and role from the base table mysql.global_priv, never the mysql.user
-- view (an admin can redefine a view to hide a row). Its "access" bit mask holds the global
-- privileges, locking and password state live in the same JSON. The hash is only tested for
-- emptiness on the server, never returned.
SELECT g.User, g.Host, JSON_VALUE(g.Priv, '$.is_role'),
       JSON_VALUE(g.Priv, '$.account_locked'),
       JSON_VALUE(g.Priv, '$.password_last_changed'),
       JSON_VALUE(g.Priv, '$.password_lifetime'),
       JSON_VALUE(g.Priv, '$.plugin'),
       IF(COALESCE(JSON_VALUE(g.Priv, '$.authentication_string'), '') <> '', 'Y', 'N'),
       JSON_VALUE(g.Priv, '$.default_role'),
       JSON_VALUE(g.Priv, '$.access')
FROM mysql.global_priv g
