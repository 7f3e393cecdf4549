-- EXECUTE granted on a function that the server revokes from PUBLIC by default (its initial
-- privileges, pg_init_privs, hold no EXECUTE for PUBLIC: lo_export, lo_import, pg_read_file, …),
-- to a grantee the initial privileges do not name. Grantee 0 is PUBLIC. Per database.
SELECT p.oid::pg_catalog.int8, n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid),
       g.grantee::pg_catalog.int8
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_init_privs i
  ON i.objoid = p.oid AND i.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND i.objsubid = 0
CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) g
WHERE g.privilege_type = 'EXECUTE' AND g.grantee <> p.proowner
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(i.initprivs) d
                  WHERE d.privilege_type = 'EXECUTE' AND d.grantee = 0)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(i.initprivs) d
                  WHERE d.privilege_type = 'EXECUTE' AND d.grantee = g.grantee)
