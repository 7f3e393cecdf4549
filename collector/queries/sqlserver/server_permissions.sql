-- SQL Server 2017+: permissions per grantee, state and securable, aggregated with STRING_AGG.
-- class 100 = the server, 101 = a server principal (major_id names it).
SELECT CAST(grantee_principal_id AS nvarchar(16)), state, CAST(class AS nvarchar(8)), CAST(major_id AS nvarchar(16)),
       STRING_AGG(CAST(permission_name AS nvarchar(max)), N',')
FROM sys.server_permissions
WHERE class IN (100, 101) AND state IN ('G', 'W', 'D')
GROUP BY grantee_principal_id, state, class, major_id
