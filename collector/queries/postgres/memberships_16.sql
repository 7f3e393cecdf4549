-- PostgreSQL 16+: each grant says whether it passes privileges (INHERIT), allows SET ROLE (SET)
-- and lets the member grant the role on (ADMIN, to itself too).
SELECT roleid::int8, member::int8, inherit_option, set_option, admin_option FROM pg_auth_members
