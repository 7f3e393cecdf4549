-- MySQL 8+: account state. The hash in authentication_string is only tested for emptiness on the
-- server; User_attributes is narrowed to Restrictions because it can hold a second password hash.
SELECT User, Host, account_locked, password_expired,
       DATE_FORMAT(password_last_changed, '%Y-%m-%dT%H:%i:%sZ'),
       password_lifetime, plugin,
       IF(LENGTH(authentication_string) > 0, 'Y', 'N'),
       JSON_EXTRACT(User_attributes, '$.Restrictions')
FROM mysql.user
