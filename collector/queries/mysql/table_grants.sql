SELECT User, Host, Table_name, Table_priv FROM mysql.tables_priv WHERE Db = 'mysql'
