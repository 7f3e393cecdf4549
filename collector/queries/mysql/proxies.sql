-- PROXY grants: the grantee may log in as the proxied account, where the server maps proxies.
SELECT User, Host, Proxied_user, Proxied_host, With_grant FROM mysql.proxies_priv
