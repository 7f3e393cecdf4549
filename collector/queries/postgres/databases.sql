-- Every database that accepts connections: its owner, and whether it is a template. Functions are
-- per database, so each of these is read (functions.sql, definer_functions.sql).
SELECT datname, datdba::pg_catalog.int8, datistemplate FROM pg_catalog.pg_database WHERE datallowconn
