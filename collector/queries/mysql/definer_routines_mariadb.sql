-- SQL SECURITY DEFINER routines (base table mysql.proc): they run with their definer's rights. The
-- body is classified by the collector (does it PREPARE SQL built at run time?), never exported.
SELECT db, name, type, definer, body
FROM mysql.proc WHERE security_type = 'DEFINER'
