-- Online databases, their owners and ids. The collector keeps master (1) and msdb (4): db_owner
-- there is a path to sysadmin (SQL Agent jobs, server-scoped objects). It leaves out tempdb (2),
-- recreated empty at every start, and model (3), a template no one connects to.
SELECT name, SUSER_SNAME(owner_sid), database_id
FROM sys.databases
WHERE state = 0
