-- PostgreSQL 15+: privileges granted on configuration parameters (SET, ALTER SYSTEM), one row per
-- grantee and privilege; grantee 0 is PUBLIC. The owner's own entries (the bootstrap superuser's)
-- are left out.
SELECT a.parname, g.grantee::pg_catalog.int8, g.privilege_type
FROM pg_catalog.pg_parameter_acl a
CROSS JOIN LATERAL pg_catalog.aclexplode(a.paracl) g
WHERE g.grantee <> g.grantor
