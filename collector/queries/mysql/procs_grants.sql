-- Routine-level grants: EXECUTE on one stored procedure or function.
SELECT User, Host, Db, Routine_name, Routine_type, Proc_priv FROM mysql.procs_priv
