-- Online user databases and their owners.
SELECT name, SUSER_SNAME(owner_sid)
FROM sys.databases
WHERE state = 0 AND database_id > 4
