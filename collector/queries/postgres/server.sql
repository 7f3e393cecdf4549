-- What the server says of itself, and the live settings that decide whether a parameter privilege
-- works (ADMIN-MODEL.md: a grant is judged on the server as it is configured now). Every name is
-- qualified with pg_catalog, and the session's search_path is pinned to pg_catalog at connect (a
-- startup parameter, which outranks a login-level ALTER ROLE … SET search_path): the audited
-- cannot redirect a read to objects of their own. The last column says what search_path the
-- session really has, so a report shows it was pinned. log_connections and log_min_messages say whether
-- the server writes logins at all (login evidence, docs/report.md); they are the server's own (a
-- login cannot change them for itself).
SELECT pg_catalog.version(), pg_catalog.current_setting('server_version_num'),
       pg_catalog.current_setting('archive_mode'), pg_catalog.current_setting('ssl'),
       pg_catalog.pg_is_in_recovery(), pg_catalog.current_database(),
       pg_catalog.current_setting('search_path'), pg_catalog.current_setting('log_connections'),
       pg_catalog.current_setting('log_min_messages')
