-- Database-level permissions (class 0 = the database itself).
SELECT CAST(grantee_principal_id AS nvarchar(16)), state, permission_name
FROM {db}.sys.database_permissions
WHERE class = 0 AND state IN ('G', 'W')
