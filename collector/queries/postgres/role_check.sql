-- The server's own answer on membership, beside the graph read from pg_auth_members: for every role
-- that is not a superuser and every role that carries admin by its attributes or name, can the
-- first SET ROLE to the second ({set_privilege}: 'SET' on 16+, 'MEMBER' before) or hold its
-- privileges ('USAGE')? A disagreement with the graph is reported, not believed.
SELECT r.oid::pg_catalog.int8, s.oid::pg_catalog.int8,
       pg_catalog.pg_has_role(r.oid, s.oid, '{set_privilege}'), pg_catalog.pg_has_role(r.oid, s.oid, 'USAGE')
FROM pg_catalog.pg_roles r CROSS JOIN pg_catalog.pg_roles s
WHERE r.oid <> s.oid AND NOT r.rolsuper
  AND (s.rolsuper OR s.rolcreaterole
       OR s.rolname IN ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files',
                        'rds_superuser', 'azure_pg_admin', 'cloudsqlsuperuser', 'alloydbsuperuser'))
