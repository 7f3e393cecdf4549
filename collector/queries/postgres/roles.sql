-- pg_roles, never pg_authid: rolpassword holds the password hash.
SELECT oid::pg_catalog.int8, rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin,
       rolreplication, rolbypassrls, rolconnlimit,
       CASE WHEN pg_catalog.isfinite(rolvaliduntil)
            THEN pg_catalog.to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END,
       COALESCE(rolvaliduntil < pg_catalog.now(), false)
FROM pg_catalog.pg_roles
