-- Version and edition. ProductVersion is '16.0.4135.4'; the major number picks the queries below.
SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)),
       CAST(SERVERPROPERTY('Edition') AS nvarchar(128)),
       CAST(SERVERPROPERTY('EngineEdition') AS nvarchar(16))
