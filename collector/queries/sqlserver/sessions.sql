-- Last login exists only for sessions open now (needs VIEW SERVER STATE).
SELECT login_name, CONVERT(nvarchar(33), DATEADD(minute, DATEDIFF(minute, GETDATE(), GETUTCDATE()), MAX(login_time)), 126)
FROM sys.dm_exec_sessions
WHERE is_user_process = 1
GROUP BY login_name
