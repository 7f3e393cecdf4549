-- Server principals (logins and server roles) with their state; dates converted to UTC. sys.sql_logins.password_hash is
-- never selected: only the policy flags come from sys.sql_logins.
SELECT CAST(sp.principal_id AS nvarchar(16)), sp.name, sp.type,
       CAST(sp.is_disabled AS nvarchar(1)), CAST(sp.is_fixed_role AS nvarchar(1)),
       CONVERT(nvarchar(33), DATEADD(minute, DATEDIFF(minute, GETDATE(), GETUTCDATE()), sp.create_date), 126),
       CONVERT(nvarchar(33), DATEADD(minute, DATEDIFF(minute, GETDATE(), GETUTCDATE()), sp.modify_date), 126),
       CAST(LOGINPROPERTY(sp.name, 'IsLocked') AS nvarchar(4)),
       CAST(LOGINPROPERTY(sp.name, 'IsExpired') AS nvarchar(4)),
       CAST(LOGINPROPERTY(sp.name, 'IsMustChange') AS nvarchar(4)),
       CONVERT(nvarchar(33), DATEADD(minute, DATEDIFF(minute, GETDATE(), GETUTCDATE()),
               CAST(LOGINPROPERTY(sp.name, 'PasswordLastSetTime') AS datetime)), 126),
       CAST(sl.is_policy_checked AS nvarchar(1)), CAST(sl.is_expiration_checked AS nvarchar(1))
FROM sys.server_principals sp
LEFT JOIN sys.sql_logins sl ON sl.principal_id = sp.principal_id
WHERE sp.type IN ('S', 'U', 'G', 'R', 'C', 'K', 'E', 'X')
