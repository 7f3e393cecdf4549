-- SECURITY DEFINER functions: they run with their owner's rights. Who may EXECUTE them (a NULL
-- ACL is the default: PUBLIC and the owner) and USAGE on their schema, the language and whether it
-- is trusted, and the body (a SQL-standard BEGIN ATOMIC body has no prosrc:
-- its definition instead), from which the collector decides whether the function runs SQL built at
-- run time. The body is classified, never exported. Per database.
SELECT p.oid::pg_catalog.int8, n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid),
       p.proowner::pg_catalog.int8, l.lanname, l.lanpltrusted,
       COALESCE(NULLIF(p.prosrc, ''), pg_catalog.pg_get_functiondef(p.oid)),
       (SELECT pg_catalog.string_agg(g.grantee::pg_catalog.text, ',')
          FROM pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) g
         WHERE g.privilege_type = 'EXECUTE'),
       (SELECT pg_catalog.string_agg(g.grantee::pg_catalog.text, ',')
          FROM pg_catalog.aclexplode(COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) g
         WHERE g.privilege_type = 'USAGE')
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE p.prosecdef
