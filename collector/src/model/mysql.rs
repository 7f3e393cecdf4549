//! Who is admin on MySQL 8+/9 and MariaDB 10.4+, from the grant tables.

use super::graph::reachable;
use super::{level_of, tidy, Direct};
use dbadmin_contracts::{AccountStatus, LastLogin, Principal, PrincipalKind};
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Mysql,
    Mariadb,
}

/// `(user, host)`: MySQL identities. MariaDB roles have an empty host.
pub type Ident = (String, String);

/// One row of `mysql.user` joined with what the engine keeps of the account's state.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub user: String,
    pub host: String,
    /// Names of the `*_priv` columns set to `Y` (`Super_priv`, `Create_user_priv`, …).
    pub global_privs: BTreeSet<String>,
    /// MariaDB marks roles; on MySQL roles are found from the role tables.
    pub is_role: bool,
    pub locked: bool,
    pub password_expired_flag: bool,
    pub password_last_changed: Option<OffsetDateTime>,
    /// Days; `None` means the server default, `Some(0)` never expires.
    pub password_lifetime_days: Option<i64>,
    pub plugin: Option<String>,
    pub password_set: Option<bool>,
    /// Partial revokes (MySQL 8 `User_attributes.Restrictions`): schema → privileges revoked there.
    pub restrictions: BTreeMap<String, BTreeSet<String>>,
}

/// A `mysql.db` row: privileges on schemas matching a pattern.
#[derive(Debug, Clone)]
pub struct DbGrant {
    pub user: String,
    pub host: String,
    pub db: String,
    /// Upper-case privilege names set to `Y` (`INSERT`, `GRANT OPTION`, …).
    pub privs: BTreeSet<String>,
}

/// A `mysql.tables_priv` row for a table of the `mysql` schema.
#[derive(Debug, Clone)]
pub struct TableGrant {
    pub user: String,
    pub host: String,
    pub table: String,
    pub privs: BTreeSet<String>,
}

/// A `mysql.global_grants` row (MySQL 8+ dynamic privileges).
#[derive(Debug, Clone)]
pub struct DynamicGrant {
    pub user: String,
    pub host: String,
    pub privilege: String,
    pub with_grant_option: bool,
}

/// Everything the classification needs, as read from one server.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub flavor: Flavor,
    /// All `*_priv` columns `mysql.user` has on this server.
    pub priv_columns: BTreeSet<String>,
    pub accounts: Vec<Account>,
    pub db_grants: Vec<DbGrant>,
    pub table_grants: Vec<TableGrant>,
    pub dynamic_grants: Vec<DynamicGrant>,
    /// grantee → role.
    pub role_edges: Vec<(Ident, Ident)>,
    /// user → its default roles.
    pub default_roles: Vec<(Ident, Ident)>,
    /// MySQL `@@mandatory_roles`: granted to every account.
    pub mandatory_roles: Vec<Ident>,
    pub partial_revokes: bool,
    pub lower_case_table_names: u32,
    /// `@@default_password_lifetime`, days (0: never).
    pub default_password_lifetime: i64,
    pub now: OffsetDateTime,
}

/// Global privileges that make an account admin by themselves.
const ADMIN_GLOBAL: [(&str, &str, &str); 3] = [
    ("Super_priv", "SUPER", "SUPER bypasses access checks and can change the server"),
    ("Create_user_priv", "CREATE USER", "CREATE USER can create, drop and rename any account"),
    ("Grant_priv", "GRANT OPTION", "global GRANT OPTION can give its privileges to any account"),
];

/// Global privileges that write data: on `*.*` they include the `mysql` schema, i.e. the grant tables.
const WRITE_PRIVS: [(&str, &str); 6] = [
    ("Insert_priv", "INSERT"),
    ("Update_priv", "UPDATE"),
    ("Delete_priv", "DELETE"),
    ("Create_priv", "CREATE"),
    ("Drop_priv", "DROP"),
    ("Alter_priv", "ALTER"),
];

const ELEVATED_GLOBAL: [(&str, &str, &str); 7] = [
    ("Shutdown_priv", "SHUTDOWN", "can stop the server"),
    ("File_priv", "FILE", "can read and write files on the server host"),
    ("Process_priv", "PROCESS", "can see every session's statements"),
    ("Reload_priv", "RELOAD", "can flush logs, privileges and caches"),
    ("Repl_slave_priv", "REPLICATION SLAVE", "can stream the binary log, i.e. every change to every table"),
    ("Create_role_priv", "CREATE ROLE", "can create roles"),
    ("Drop_role_priv", "DROP ROLE", "can drop roles"),
];

/// MySQL 8+ dynamic privileges that amount to admin.
const ADMIN_DYNAMIC: [&str; 13] = [
    "ROLE_ADMIN",
    "SYSTEM_VARIABLES_ADMIN",
    "SET_USER_ID",
    "SET_ANY_DEFINER",
    "ALLOW_NONEXISTENT_DEFINER",
    "AUDIT_ADMIN",
    "AUTHENTICATION_POLICY_ADMIN",
    "ENCRYPTION_KEY_ADMIN",
    "PERSIST_RO_VARIABLES_ADMIN",
    "FIREWALL_ADMIN",
    "SYSTEM_USER",
    "TABLE_ENCRYPTION_ADMIN",
    "APPLICATION_PASSWORD_ADMIN",
];

/// Schema-level privileges on `mysql` that amount to admin (they write the grant tables).
const MYSQL_SCHEMA_WRITES: [&str; 7] = ["INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "GRANT OPTION"];

/// Accounts the engine or a cloud vendor creates and manages.
const VENDOR_ACCOUNTS: [&str; 8] = [
    "mysql.sys",
    "mysql.session",
    "mysql.infoschema",
    "mariadb.sys",
    "rdsadmin",
    "rdsrepladmin",
    "rds_superuser_role",
    "PUBLIC",
];

pub fn display(ident: &Ident) -> String {
    format!("'{}'@'{}'", ident.0, ident.1)
}

/// Does a `mysql.db` schema pattern cover the schema `name`, as the server would match it?
pub fn db_pattern_matches(pattern: &str, name: &str, wildcards: bool, case_insensitive: bool) -> bool {
    let fold = |s: &str| if case_insensitive { s.to_lowercase() } else { s.to_owned() };
    let (pattern, name) = (fold(pattern), fold(name));
    if !wildcards {
        return pattern.replace("\\_", "_").replace("\\%", "%") == name;
    }
    // LIKE semantics: % any run, _ any one character, \ escapes the next one.
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('%') => (0..=n.len()).any(|i| go(&p[1..], &n[i..])),
            Some('_') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && go(&p[2..], &n[1..]),
            Some(c) => n.first() == Some(c) && go(&p[1..], &n[1..]),
        }
    }
    go(&p, &n)
}

impl Catalog {
    fn direct(&self, account: &Account) -> Vec<Direct> {
        let mut out = Vec::new();
        let ident = (account.user.clone(), account.host.clone());
        let g = &account.global_privs;
        // ALL PRIVILEGES is every static privilege but GRANT OPTION (and, on MySQL 8+, every dynamic one).
        let all = self.priv_columns.iter().filter(|c| *c != "Grant_priv").all(|c| g.contains(c))
            && self.priv_columns.len() > 1;
        if all {
            out.push(Direct::admin(
                "ALL PRIVILEGES",
                "server",
                "ALL PRIVILEGES ON *.* holds every privilege, SUPER and the grant tables included",
            ));
            if g.contains("Grant_priv") {
                out.push(Direct::admin("GRANT OPTION", "server", ADMIN_GLOBAL[2].2));
            }
        } else {
            for (col, name, why) in ADMIN_GLOBAL {
                if g.contains(col) {
                    out.push(Direct::admin(name, "server", why));
                }
            }
            let mysql_revoked = account.restrictions.get("mysql");
            for (col, name) in WRITE_PRIVS {
                if !g.contains(col) {
                    continue;
                }
                if mysql_revoked.is_some_and(|r| r.contains(name)) {
                    out.push(Direct::elevated(
                        name,
                        "server",
                        format!("global {name} outside the mysql schema (partially revoked on mysql)"),
                    ));
                } else {
                    out.push(Direct::admin(
                        name,
                        "server",
                        format!("global {name} on *.* includes the mysql schema's grant tables"),
                    ));
                }
            }
            for (col, name, why) in ELEVATED_GLOBAL {
                if g.contains(col) {
                    out.push(Direct::elevated(name, "server", why));
                }
            }
            if g.contains("Select_priv") && !account.restrictions.get("mysql").is_some_and(|r| r.contains("SELECT")) {
                out.push(Direct::elevated(
                    "SELECT",
                    "server",
                    "global SELECT can read every table, the mysql schema's password hashes included",
                ));
            }
        }

        let wildcards = !(self.flavor == Flavor::Mysql && self.partial_revokes);
        let ci = self.lower_case_table_names != 0;
        for grant in self.db_grants.iter().filter(|d| d.user == ident.0 && d.host == ident.1) {
            if !db_pattern_matches(&grant.db, "mysql", wildcards, ci) {
                continue;
            }
            let via = if grant.db == "mysql" {
                String::new()
            } else {
                format!(" (schema pattern '{}' matches mysql)", grant.db)
            };
            for p in &grant.privs {
                if MYSQL_SCHEMA_WRITES.contains(&p.as_str()) {
                    out.push(Direct::admin(
                        p,
                        "schema mysql",
                        format!("{p} on the mysql schema changes the grant tables{via}"),
                    ));
                } else if p == "SELECT" {
                    out.push(Direct::elevated(
                        p,
                        "schema mysql",
                        format!("SELECT on the mysql schema can read password hashes{via}"),
                    ));
                }
            }
        }
        for grant in self.table_grants.iter().filter(|t| t.user == ident.0 && t.host == ident.1) {
            for p in &grant.privs {
                let scope = format!("table mysql.{}", grant.table);
                if MYSQL_SCHEMA_WRITES.contains(&p.as_str()) {
                    out.push(Direct::admin(p, scope, format!("{p} on mysql.{} changes a grant table", grant.table)));
                } else if p == "SELECT" && matches!(grant.table.as_str(), "user" | "global_priv") {
                    out.push(Direct::elevated(
                        p,
                        scope,
                        format!("SELECT on mysql.{} can read password hashes", grant.table),
                    ));
                }
            }
        }
        // Under ALL PRIVILEGES the dynamic privileges are part of the one finding, not rows of their own.
        for grant in self.dynamic_grants.iter().filter(|d| !all && d.user == ident.0 && d.host == ident.1) {
            let p = grant.privilege.to_uppercase();
            let option = if grant.with_grant_option { " WITH GRANT OPTION" } else { "" };
            if ADMIN_DYNAMIC.contains(&p.as_str()) {
                out.push(Direct::admin(&p, "server", format!("dynamic privilege {p}{option} amounts to admin")));
            } else {
                out.push(Direct::elevated(
                    &p,
                    "server",
                    format!("dynamic privilege {p}{option} is an administrative privilege"),
                ));
            }
        }
        out
    }

    /// Classifies every account and role; returns those holding admin or elevated privileges.
    pub fn classify(&self) -> Vec<Principal> {
        let mut edges: BTreeMap<Ident, BTreeSet<Ident>> = BTreeMap::new();
        let mut roles: BTreeSet<Ident> = BTreeSet::new();
        for (grantee, role) in &self.role_edges {
            edges.entry(grantee.clone()).or_default().insert(role.clone());
            roles.insert(role.clone());
        }
        roles.extend(self.mandatory_roles.iter().cloned());
        // MariaDB 10.11: privileges granted TO PUBLIC reach every account.
        let public: Ident = ("PUBLIC".into(), String::new());
        let public_exists =
            self.flavor == Flavor::Mariadb && self.accounts.iter().any(|a| (a.user.clone(), a.host.clone()) == public);
        let defaults: BTreeSet<(Ident, Ident)> = self.default_roles.iter().cloned().collect();
        let direct: BTreeMap<Ident, Vec<Direct>> =
            self.accounts.iter().map(|a| ((a.user.clone(), a.host.clone()), self.direct(a))).collect();

        let mut out = Vec::new();
        for account in &self.accounts {
            let ident = (account.user.clone(), account.host.clone());
            let is_role = account.is_role || roles.contains(&ident);
            let name = display(&ident);
            let mut findings: Vec<_> = direct[&ident].iter().map(|d| d.reached(&name, &[], None)).collect();

            let mut implicit: Vec<(Ident, &str)> = Vec::new();
            if !is_role {
                implicit.extend(
                    self.mandatory_roles.iter().map(|r| (r.clone(), "mandatory role, granted to every account")),
                );
            }
            if public_exists && !is_role && ident != public {
                implicit.push((public.clone(), "PUBLIC, granted to every account"));
            }
            let mut starts: Vec<(Ident, Vec<Ident>, Option<&str>)> = reachable(&ident, &edges)
                .into_iter()
                .map(|(role, path)| {
                    let first = path[0].clone();
                    let note = if is_role || defaults.contains(&(ident.clone(), first)) {
                        None
                    } else {
                        Some("not a default role: usable after SET ROLE")
                    };
                    (role, path, note)
                })
                .collect();
            for (root, note) in implicit {
                starts.push((root.clone(), vec![root.clone()], Some(note)));
                for (role, mut path) in reachable(&root, &edges) {
                    path.insert(0, root.clone());
                    starts.push((role, path, Some(note)));
                }
            }
            for (role, path, note) in starts {
                let Some(held) = direct.get(&role) else { continue };
                let chain: Vec<String> = path.iter().map(display).collect();
                findings.extend(held.iter().map(|d| d.reached(&name, &chain, note)));
            }

            let Some(level) = level_of(&findings) else { continue };
            out.push(Principal {
                name: account.user.clone(),
                host: Some(account.host.clone()),
                kind: if is_role { PrincipalKind::Role } else { PrincipalKind::User },
                level,
                findings,
                status: self.status(account, is_role),
                password_last_changed: account.password_last_changed.map(dbadmin_contracts::format_rfc3339),
                password_set: account.password_set,
                last_login: LastLogin::NotRecorded,
                auth_plugin: account.plugin.clone().filter(|p| !p.is_empty()),
                vendor_managed: VENDOR_ACCOUNTS.contains(&account.user.as_str()),
                notes: Vec::new(),
            });
        }
        tidy(out)
    }

    fn status(&self, a: &Account, is_role: bool) -> AccountStatus {
        if is_role {
            // MySQL creates roles locked and with an expired password: that is what a role is, not a state.
            return AccountStatus { flags: vec!["ROLE".to_owned()] };
        }
        let mut flags = Vec::new();
        if a.locked {
            flags.push("LOCKED".to_owned());
        }
        let lifetime = a.password_lifetime_days.unwrap_or(self.default_password_lifetime);
        let lifetime_elapsed = lifetime > 0
            && a.password_last_changed.is_some_and(|changed| self.now - changed > time::Duration::days(lifetime));
        if a.password_expired_flag || lifetime_elapsed {
            flags.push("PASSWORD_EXPIRED".to_owned());
        }
        AccountStatus { flags }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(u: &str, h: &str) -> Ident {
        (u.into(), h.into())
    }

    fn acct(u: &str, h: &str, privs: &[&str]) -> Account {
        Account {
            user: u.into(),
            host: h.into(),
            global_privs: privs.iter().map(|s| s.to_string()).collect(),
            plugin: Some("caching_sha2_password".into()),
            password_set: Some(true),
            ..Default::default()
        }
    }

    fn catalog(accounts: Vec<Account>) -> Catalog {
        Catalog {
            flavor: Flavor::Mysql,
            priv_columns: [
                "Select_priv",
                "Insert_priv",
                "Super_priv",
                "Create_user_priv",
                "Grant_priv",
                "Shutdown_priv",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            accounts,
            db_grants: vec![],
            table_grants: vec![],
            dynamic_grants: vec![],
            role_edges: vec![],
            default_roles: vec![],
            mandatory_roles: vec![],
            partial_revokes: false,
            lower_case_table_names: 0,
            default_password_lifetime: 0,
            now: OffsetDateTime::now_utc(),
        }
    }

    fn find<'a>(ps: &'a [Principal], user: &str) -> Option<&'a Principal> {
        ps.iter().find(|p| p.name == user)
    }

    #[test]
    fn like_patterns_match_as_the_server_does() {
        assert!(db_pattern_matches("m%", "mysql", true, false));
        assert!(db_pattern_matches("my_ql", "mysql", true, false));
        assert!(db_pattern_matches("%", "mysql", true, false));
        assert!(!db_pattern_matches("my\\_ql", "mysql", true, false), "escaped _ is literal");
        assert!(!db_pattern_matches("MYSQL", "mysql", true, false));
        assert!(db_pattern_matches("MYSQL", "mysql", true, true));
        assert!(!db_pattern_matches("m%", "mysql", false, false), "literal when wildcards are off");
        assert!(db_pattern_matches("app", "app", false, false));
    }

    #[test]
    fn role_chain_reports_path_and_non_default_note() {
        let mut c = catalog(vec![acct("alice", "%", &[]), acct("lead", "%", &[]), acct("dba", "%", &["Super_priv"])]);
        c.role_edges = vec![(id("alice", "%"), id("lead", "%")), (id("lead", "%"), id("dba", "%"))];
        let ps = c.classify();
        let alice = find(&ps, "alice").unwrap();
        assert_eq!(alice.findings[0].path, vec!["'alice'@'%'", "'lead'@'%'", "'dba'@'%'", "SUPER"]);
        assert_eq!(alice.findings[0].via_role.as_deref(), Some("'dba'@'%'"));
        assert!(alice.findings[0].reason.contains("SET ROLE"), "{}", alice.findings[0].reason);
        assert_eq!(find(&ps, "dba").unwrap().kind, PrincipalKind::Role);
    }

    #[test]
    fn partial_revoke_on_mysql_downgrades_global_writes() {
        let mut a = acct("w", "%", &["Insert_priv"]);
        a.restrictions.insert("mysql".into(), ["INSERT".to_string()].into());
        let ps = catalog(vec![a]).classify();
        let w = find(&ps, "w").unwrap();
        assert_eq!(w.level, dbadmin_contracts::Level::Elevated);
    }

    #[test]
    fn mandatory_roles_reach_every_account() {
        let mut c = catalog(vec![acct("bob", "%", &[]), acct("everyone", "%", &["Create_user_priv"])]);
        c.mandatory_roles = vec![id("everyone", "%")];
        let ps = c.classify();
        let bob = find(&ps, "bob").expect("bob inherits the mandatory role");
        assert!(bob.findings[0].reason.contains("mandatory"));
    }

    #[test]
    fn mariadb_public_reaches_every_account_but_roles() {
        let mut c = catalog(vec![acct("bob", "%", &[]), acct("PUBLIC", "", &[]), acct("r", "", &[])]);
        c.flavor = Flavor::Mariadb;
        c.accounts[2].is_role = true;
        c.db_grants = vec![DbGrant {
            user: "PUBLIC".into(),
            host: "".into(),
            db: "mysql".into(),
            privs: ["INSERT".to_string()].into(),
        }];
        let ps = c.classify();
        let bob = find(&ps, "bob").expect("PUBLIC's grants reach bob");
        assert_eq!(bob.findings[0].path, vec!["'bob'@'%'", "'PUBLIC'@''", "INSERT"]);
        assert!(bob.findings[0].reason.contains("PUBLIC, granted to every account"));
        assert!(find(&ps, "r").is_none(), "roles do not inherit PUBLIC");
        assert!(find(&ps, "PUBLIC").unwrap().vendor_managed);
    }

    #[test]
    fn password_lifetime_expires_accounts() {
        let mut a = acct("old", "%", &["Super_priv"]);
        a.password_last_changed = Some(OffsetDateTime::now_utc() - time::Duration::days(100));
        a.password_lifetime_days = Some(90);
        let ps = catalog(vec![a]).classify();
        assert_eq!(find(&ps, "old").unwrap().status.flags, vec!["PASSWORD_EXPIRED"]);
    }

    #[test]
    fn all_priv_columns_collapse_to_all_privileges() {
        let c = catalog(vec![acct(
            "root",
            "localhost",
            &["Select_priv", "Insert_priv", "Super_priv", "Create_user_priv", "Grant_priv", "Shutdown_priv"],
        )]);
        let ps = c.classify();
        let root = find(&ps, "root").unwrap();
        let privs: Vec<_> = root.findings.iter().map(|f| f.privilege.as_str()).collect();
        assert_eq!(
            privs,
            vec!["ALL PRIVILEGES", "GRANT OPTION"],
            "ALL excludes GRANT OPTION, which is reported beside it"
        );
    }
}
