-- SQL SECURITY DEFINER routines: they run with their definer's rights. MySQL keeps routines in its
-- data dictionary, readable only through information_schema, which shows them to a login holding
-- SHOW_ROUTINE (or global SELECT). The body is classified by the collector, never exported.
SELECT r.ROUTINE_SCHEMA, r.ROUTINE_NAME, r.ROUTINE_TYPE, r.DEFINER,
       r.ROUTINE_DEFINITION
FROM information_schema.ROUTINES r WHERE r.SECURITY_TYPE = 'DEFINER'
