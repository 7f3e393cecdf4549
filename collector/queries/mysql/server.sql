SELECT VERSION(), @@version_comment, @@lower_case_table_names, @@default_password_lifetime, CURRENT_USER()
