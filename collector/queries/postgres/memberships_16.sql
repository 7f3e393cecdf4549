SELECT roleid::int8, member::int8, inherit_option, set_option FROM pg_auth_members
