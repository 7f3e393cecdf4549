-- MariaDB 10.4+: mysql.user is a view; locking and password state live in mysql.global_priv JSON.
-- The hash is only tested for emptiness on the server, never returned.
SELECT u.User, u.Host, u.is_role,
       JSON_VALUE(g.Priv, '$.account_locked'),
       JSON_VALUE(g.Priv, '$.password_last_changed'),
       JSON_VALUE(g.Priv, '$.password_lifetime'),
       JSON_VALUE(g.Priv, '$.plugin'),
       IF(COALESCE(JSON_VALUE(g.Priv, '$.authentication_string'), '') <> '', 'Y', 'N'),
       u.default_role,
       JSON_VALUE(g.Priv, '$.access')
FROM mysql.user u
JOIN mysql.global_priv g ON g.User = u.User AND g.Host = u.Host
