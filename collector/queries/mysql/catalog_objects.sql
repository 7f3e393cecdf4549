-- Tamper evidence: the grant tables the collector reads must be the engine's own base tables (an
-- admin can rename one and put a filtering view in its place), and MariaDB's mysql.user must be the
-- stock view over mysql.global_priv. VIEW_DEFINITION needs SHOW VIEW on the mysql schema.
SELECT t.TABLE_NAME, t.TABLE_TYPE, v.DEFINER, v.VIEW_DEFINITION
FROM information_schema.TABLES t
LEFT JOIN information_schema.VIEWS v ON v.TABLE_SCHEMA = t.TABLE_SCHEMA AND v.TABLE_NAME = t.TABLE_NAME
WHERE t.TABLE_SCHEMA = 'mysql'
  AND t.TABLE_NAME IN ('user', 'global_priv', 'db', 'tables_priv', 'columns_priv', 'procs_priv', 'proxies_priv',
                       'roles_mapping', 'role_edges', 'default_roles', 'global_grants', 'proc')
