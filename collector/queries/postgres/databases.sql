SELECT datname, datdba::int8 FROM pg_database WHERE datallowconn AND NOT datistemplate
