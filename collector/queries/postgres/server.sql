-- What the server says of itself, and the live settings that decide whether a parameter privilege
-- works (ADMIN-MODEL.md: a grant is judged on the server as it is configured now). Every name is
-- qualified with pg_catalog, and the session's search_path is pinned to pg_catalog at connect (a
-- startup parameter, which outranks a login-level ALTER ROLE … SET search_path): the audited
-- cannot redirect a read to objects of their own. The last column says what search_path the
-- session really has, so a report shows it was pinned. log_connections, log_min_messages and lc_messages
-- say whether the server writes logins as the collector reads them (login evidence,
-- docs/report.md); the last column says whether either of the two a login or a database can set
-- for itself (ALTER ROLE/DATABASE … SET) is set so, hiding the server's value from this session.
SELECT pg_catalog.version(), pg_catalog.current_setting('server_version_num'),
       pg_catalog.current_setting('archive_mode'), pg_catalog.current_setting('ssl'),
       pg_catalog.pg_is_in_recovery(), pg_catalog.current_database(),
       pg_catalog.current_setting('search_path'), pg_catalog.current_setting('log_connections'),
       pg_catalog.current_setting('log_min_messages'), pg_catalog.current_setting('lc_messages'),
       EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting s
               WHERE s.setconfig::text LIKE '%log\_min\_messages=%' OR s.setconfig::text LIKE '%lc\_messages=%')
