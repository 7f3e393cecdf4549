-- The settings that decide whether PROXY and CLONE_ADMIN work (ADMIN-MODEL.md, "Role options and
-- special privileges"): the variables, and the authentication and clone plugins that are active.
SHOW GLOBAL VARIABLES WHERE Variable_name IN
  ('check_proxy_users', 'mysql_native_password_proxy_users', 'sha256_password_proxy_users', 'skip_name_resolve')
