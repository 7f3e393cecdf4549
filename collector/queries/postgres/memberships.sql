-- Before PostgreSQL 16 every membership allows SET ROLE.
SELECT roleid::int8, member::int8, NULL, NULL FROM pg_auth_members
