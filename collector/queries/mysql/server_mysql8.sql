SELECT @@partial_revokes, @@mandatory_roles
