-- Column-level privileges on the mysql schema's tables: a column write on a grant table is admin.
SELECT User, Host, Table_name, Column_name, Column_priv FROM mysql.columns_priv WHERE Db = 'mysql'
