-- Before SQL Server 2017 (no STRING_AGG): the same aggregation with FOR XML PATH.
SELECT CAST(p.grantee_principal_id AS nvarchar(16)), p.state, CAST(p.class AS nvarchar(8)), CAST(p.major_id AS nvarchar(16)),
       STUFF((SELECT N',' + CAST(q.permission_name AS nvarchar(128))
              FROM sys.server_permissions q
              WHERE q.grantee_principal_id = p.grantee_principal_id AND q.state = p.state
                AND q.class = p.class AND q.major_id = p.major_id
              FOR XML PATH(''), TYPE).value('.', 'nvarchar(max)'), 1, 1, N'')
FROM sys.server_permissions p
WHERE p.class IN (100, 101) AND p.state IN ('G', 'W', 'D')
GROUP BY p.grantee_principal_id, p.state, p.class, p.major_id
