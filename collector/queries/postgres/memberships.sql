-- Every role membership. PostgreSQL 16+ says per grant whether it passes privileges (INHERIT) and
-- allows SET ROLE (SET); read through to_jsonb, those options are NULL before 16, where every
-- membership allows SET ROLE and inheritance is the member's rolinherit. One text for every
-- version, so it is sent with the version query, in the same round trip.
SELECT roleid::pg_catalog.int8, member::pg_catalog.int8, pg_catalog.to_jsonb(m) ->> 'inherit_option',
       pg_catalog.to_jsonb(m) ->> 'set_option', admin_option
FROM pg_catalog.pg_auth_members m
