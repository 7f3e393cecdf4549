-- A second listing of every role, for a count that pg_roles dropped no one: pg_user (roles that log
-- in, with their attributes but CREATEROLE) and pg_group (roles that do not) are views of their own
-- over the same pg_authid. A role in either but not in pg_roles is reported from what they show.
SELECT usesysid::pg_catalog.int8, usename, usesuper, usecreatedb, userepl, usebypassrls, true
FROM pg_catalog.pg_user
UNION ALL
SELECT grosysid::pg_catalog.int8, groname, NULL, NULL, NULL, NULL, false
FROM pg_catalog.pg_group
