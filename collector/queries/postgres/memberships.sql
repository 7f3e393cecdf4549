-- Before PostgreSQL 16 every membership allows SET ROLE.
SELECT roleid::int8, member::int8, NULL, NULL, admin_option FROM pg_auth_members
