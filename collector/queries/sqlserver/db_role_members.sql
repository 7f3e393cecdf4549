SELECT CAST(role_principal_id AS nvarchar(16)), CAST(member_principal_id AS nvarchar(16))
FROM {db}.sys.database_role_members
