-- Tamper evidence: the catalog relations and functions this database's queries name, as this
-- database's own catalog describes them. A superuser can replace objects in pg_catalog (with
-- allow_system_table_mods), so the collector checks each against the engine's own: a relation's
-- kind, owner (the bootstrap superuser), row security, options (security_invoker…) and rules, a
-- view's definition, and that a function is the built-in C function of its name. {relations} and
-- {functions} are the names the query files use, read from their text, and the tables under the
-- stock views they name.
SELECT 'relation', c.relname::pg_catalog.text, c.relkind::pg_catalog.text, c.relowner::pg_catalog.int8,
       c.relrowsecurity OR c.relforcerowsecurity OR c.reloptions IS NOT NULL, c.relhasrules,
       CASE WHEN c.relkind = 'v' THEN pg_catalog.pg_get_viewdef(c.oid) END
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'pg_catalog' AND c.relname = ANY ('{relations}'::pg_catalog.name[])
UNION ALL
SELECT 'function', p.proname::pg_catalog.text, p.prokind::pg_catalog.text, p.proowner::pg_catalog.int8,
       p.prolang <> 12, p.prosecdef, p.prosrc
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'pg_catalog' AND p.proname = ANY ('{functions}'::pg_catalog.name[])
