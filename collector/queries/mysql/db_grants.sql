SELECT User, Host, Db, Select_priv, Insert_priv, Update_priv, Delete_priv,
       Create_priv, Drop_priv, Alter_priv, Grant_priv, Execute_priv
FROM mysql.db
