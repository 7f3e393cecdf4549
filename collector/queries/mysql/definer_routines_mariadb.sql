-- SQL SECURITY DEFINER routines (base table mysql.proc): they run with their definer's rights. The
-- body is classified by the collector (does it PREPARE SQL built at run time?), never exported.
SELECT db, name, type, definer, IF(LENGTH(param_list) > 0, 1, 0), body
FROM mysql.proc WHERE security_type = 'DEFINER'
