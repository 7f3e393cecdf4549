-- {db} is replaced by the database name, bracket-quoted. Users map to logins by SID.
SELECT CAST(dp.principal_id AS nvarchar(16)), dp.name, dp.type, sp.name,
       CAST(CASE WHEN dp.authentication_type = 2 THEN 1 ELSE 0 END AS nvarchar(1))
FROM {db}.sys.database_principals dp
LEFT JOIN sys.server_principals sp ON sp.sid = dp.sid
WHERE dp.type IN ('S', 'U', 'G', 'R', 'C', 'K', 'E', 'X')
