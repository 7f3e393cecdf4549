//! Who is admin on MySQL 8+/9 and MariaDB 10.4+, from the grant tables.

use super::graph::reachable;
use super::{level_of, tidy, Direct, Held};
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
    /// MariaDB 10.5+ global privileges the `mysql.user` view has no column for (`SET USER`, …).
    pub extra_privs: BTreeSet<String>,
    /// What the reviewer must know of how the account was read (pending or lost grant-table edits).
    pub notes: Vec<String>,
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

/// A `mysql.columns_priv` row for a column of a table of the `mysql` schema.
#[derive(Debug, Clone)]
pub struct ColumnGrant {
    pub user: String,
    pub host: String,
    pub table: String,
    pub column: String,
    /// Upper-case privilege names (`SELECT`, `INSERT`, `UPDATE`, `REFERENCES`).
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

/// A `mysql.proxies_priv` row: `grantee` may log in as `proxied` where the server maps proxies.
#[derive(Debug, Clone)]
pub struct ProxyGrant {
    pub grantee: Ident,
    pub proxied: Ident,
}

/// A `mysql.procs_priv` row: privileges on one stored routine.
#[derive(Debug, Clone)]
pub struct RoutineGrant {
    pub grantee: Ident,
    pub db: String,
    pub name: String,
    /// `PROCEDURE` or `FUNCTION`.
    pub kind: String,
    pub execute: bool,
}

/// A `SQL SECURITY DEFINER` routine: it runs with its definer's rights.
#[derive(Debug, Clone)]
pub struct DefinerRoutine {
    pub db: String,
    pub name: String,
    pub kind: String,
    pub definer: Ident,
    /// `Some(true)`: PREPAREs SQL built at run time and takes arguments; `None`: the body could not be
    /// read (judged as if it did).
    pub runs_sql_from_arguments: Option<bool>,
}

/// The server settings that decide whether `PROXY` and `CLONE_ADMIN` work.
#[derive(Debug, Clone, Default)]
pub struct ServerSettings {
    /// Global variables by lower-case name (`check_proxy_users`, `skip_name_resolve`, …).
    pub variables: BTreeMap<String, String>,
    /// Plugins whose status is ACTIVE (lower-case names).
    pub active_plugins: BTreeSet<String>,
}

impl ServerSettings {
    fn on(&self, variable: &str) -> bool {
        self.variables.get(variable).is_some_and(|v| v.eq_ignore_ascii_case("on") || v == "1")
    }
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
    pub column_grants: Vec<ColumnGrant>,
    pub dynamic_grants: Vec<DynamicGrant>,
    /// grantee → role.
    pub role_edges: Vec<(Ident, Ident)>,
    /// The role edges held WITH ADMIN OPTION.
    pub admin_option_edges: BTreeSet<(Ident, Ident)>,
    pub proxies: Vec<ProxyGrant>,
    pub routine_grants: Vec<RoutineGrant>,
    pub definer_routines: Vec<DefinerRoutine>,
    pub settings: ServerSettings,
    /// What could not be read, or disagreed with itself (reported with the result).
    pub warnings: Vec<String>,
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
const ADMIN_DYNAMIC: [&str; 12] = [
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
    "TABLE_ENCRYPTION_ADMIN",
    "APPLICATION_PASSWORD_ADMIN",
];

/// Is this MySQL dynamic privilege admin by itself?
pub fn is_admin_dynamic(privilege: &str) -> bool {
    ADMIN_DYNAMIC.contains(&privilege)
}

/// MySQL dynamic privileges that are neither admin nor elevated: `SYSTEM_USER` shields its holder
/// and grants nothing (docs/admin-definition.md); `SHOW_ROUTINE` only reads routine definitions (the collector's
/// own login needs it).
const NOT_REPORTED_DYNAMIC: [&str; 2] = ["SYSTEM_USER", "SHOW_ROUTINE"];

/// Authentication plugins that map proxy users by themselves (PAM, LDAP, Kerberos, Windows).
const SELF_MAPPING_PLUGINS: [&str; 8] = [
    "authentication_pam",
    "authentication_ldap_sasl",
    "authentication_ldap_simple",
    "authentication_kerberos",
    "authentication_windows",
    "auth_pam",
    "auth_pam_v1",
    "pam",
];

/// The global privileges MariaDB keeps as bits of `mysql.global_priv`'s `access`, bit 0 first, named
/// as the `mysql.user` view's columns (the view derives them from these bits).
pub const MARIADB_PRIV_BITS: [&str; 30] = [
    "Select_priv",
    "Insert_priv",
    "Update_priv",
    "Delete_priv",
    "Create_priv",
    "Drop_priv",
    "Reload_priv",
    "Shutdown_priv",
    "Process_priv",
    "File_priv",
    "Grant_priv",
    "References_priv",
    "Index_priv",
    "Alter_priv",
    "Show_db_priv",
    "Super_priv",
    "Create_tmp_table_priv",
    "Lock_tables_priv",
    "Execute_priv",
    "Repl_slave_priv",
    "Repl_client_priv",
    "Create_view_priv",
    "Show_view_priv",
    "Create_routine_priv",
    "Alter_routine_priv",
    "Create_user_priv",
    "Event_priv",
    "Trigger_priv",
    "Create_tablespace_priv",
    "Delete_history_priv",
];

/// MariaDB 10.5+ privileges split from SUPER: `(bit of global_priv.access, name, admin?, why)`.
/// The `mysql.user` view has no column for them. `SLAVE MONITOR` and `BINLOG MONITOR` only show
/// status and are not listed.
pub const MARIADB_SPLIT_SUPER: [(u32, &str, bool, &str); 8] = [
    (30, "SET USER", true, "SET USER creates objects with any DEFINER, so code runs as any account, root included"),
    (31, "FEDERATED ADMIN", false, "FEDERATED ADMIN can create and change federated servers"),
    (
        32,
        "CONNECTION ADMIN",
        true,
        "CONNECTION ADMIN sets init_connect, SQL that runs in every other account's session",
    ),
    (33, "READ_ONLY ADMIN", false, "READ_ONLY ADMIN can write while the server is read-only and change read_only"),
    (34, "REPLICATION SLAVE ADMIN", false, "REPLICATION SLAVE ADMIN can start, stop and repoint replication"),
    (35, "REPLICATION MASTER ADMIN", false, "REPLICATION MASTER ADMIN controls the primary side of replication"),
    (36, "BINLOG ADMIN", false, "BINLOG ADMIN can purge binary logs and change binlog settings"),
    (37, "BINLOG REPLAY", false, "BINLOG REPLAY can replay binary log events with the BINLOG statement"),
];

/// Roles a cloud vendor gives the master user: admin by what they are.
const VENDOR_ADMIN_ROLES: [(&str, &str); 1] = [(
    "rds_superuser_role",
    "rds_superuser_role is the RDS for MySQL master user's role (CREATE USER, ROLE_ADMIN, SET_USER_ID, \
     … but no SUPER): whoever holds it administers the server",
)];

/// Tables of the `mysql` schema whose rows hold password hashes.
const HASH_TABLES: [&str; 3] = ["user", "global_priv", "password_history"];

/// Column privileges (`mysql.columns_priv.Column_priv`) that write.
const COLUMN_WRITES: [&str; 2] = ["INSERT", "UPDATE"];

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
    like(&pattern, &name)
}

/// One element of a LIKE pattern.
#[derive(Clone, Copy, PartialEq)]
enum LikeToken {
    /// `%`: any run of characters, the empty one included.
    AnyRun,
    /// `_`: exactly one character.
    AnyOne,
    /// A literal character (`\x` is the literal `x`).
    Literal(char),
}

/// LIKE as the server matches it: `%` any run, `_` any one character, `\` escapes the next one.
/// The pattern comes from a catalog the audited admins write, so it is matched as a set of
/// states advanced one character at a time: the work grows with pattern × name length, never
/// exponentially with the number of `%` (a backtracking matcher takes minutes on `%a%a…%b`,
/// long past the collector's deadline).
fn like(pattern: &str, name: &str) -> bool {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '%' => LikeToken::AnyRun,
            '_' => LikeToken::AnyOne,
            '\\' => LikeToken::Literal(chars.next().unwrap_or('\\')),
            c => LikeToken::Literal(c),
        });
    }
    // live[i]: the first i tokens match the part of the name read so far.
    let mut live = vec![false; tokens.len() + 1];
    live[0] = true;
    close_over_any_runs(&tokens, &mut live);
    for c in name.chars() {
        let mut next = vec![false; tokens.len() + 1];
        for (i, token) in tokens.iter().enumerate().filter(|(i, _)| live[*i]) {
            match token {
                LikeToken::AnyRun => next[i] = true,
                LikeToken::AnyOne => next[i + 1] = true,
                LikeToken::Literal(l) => next[i + 1] |= *l == c,
            }
        }
        close_over_any_runs(&tokens, &mut next);
        if !next.contains(&true) {
            return false;
        }
        live = next;
    }
    live[tokens.len()]
}

/// A `%` also matches the empty run: a live state before it makes the state after it live.
fn close_over_any_runs(tokens: &[LikeToken], live: &mut [bool]) {
    for (i, token) in tokens.iter().enumerate() {
        if live[i] && *token == LikeToken::AnyRun {
            live[i + 1] = true;
        }
    }
}

/// MariaDB 10.5+ privileges split from SUPER, held as bits of `mysql.global_priv`'s `access`.
fn split_super(account: &Account) -> Vec<Direct> {
    let mut out = Vec::new();
    for (_, name, admin, why) in MARIADB_SPLIT_SUPER {
        if !account.extra_privs.contains(name) {
            continue;
        }
        out.push(if admin { Direct::admin(name, "server", why) } else { Direct::elevated(name, "server", why) });
    }
    out
}

/// A cloud vendor's administrator role is admin by what it is, whatever grants the catalog shows.
fn vendor_admin_role(account: &Account) -> Option<Direct> {
    VENDOR_ADMIN_ROLES
        .iter()
        .find(|(name, _)| *name == account.user)
        .map(|(_, why)| Direct::admin("VENDOR ADMIN ROLE", "server", *why))
}

/// `EXECUTE` on a definer routine whose definer is admin (docs/admin-definition.md).
fn definer_direct(r: &DefinerRoutine) -> Direct {
    let routine = format!("{} {}.{}", r.kind.to_uppercase(), r.db, r.name);
    let privilege = format!("EXECUTE ON {routine}");
    let scope = format!("routine {}.{}", r.db, r.name);
    let definer = display(&r.definer);
    match r.runs_sql_from_arguments {
        Some(true) => Direct::admin(
            privilege,
            scope,
            format!("{routine} runs as its definer {definer}, an admin, and PREPAREs SQL built at run time (from its arguments or the caller's session): the caller runs any SQL as {definer}"),
        ),
        None => Direct::admin(
            privilege,
            scope,
            format!("{routine} runs as its definer {definer}, an admin, and its body cannot be read (the collector's login lacks SHOW_ROUTINE): judged as if it ran any SQL"),
        ),
        Some(false) => Direct::elevated(
            privilege,
            scope,
            format!("{routine} runs as its definer {definer}, an admin: its body decides what the caller gets"),
        ),
    }
}

/// Does a routine body PREPARE (or EXECUTE IMMEDIATE) SQL built at run time? Arguments or not
/// (`PREPARE s FROM @q` runs the caller's session variable). Errs towards yes.
pub fn routine_runs_sql(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    lower.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).any(|w| w == "prepare" || w == "immediate")
}

/// Does a column of a `mysql` table hold password hashes?
fn is_hash_column(table: &str, column: &str) -> bool {
    let column = column.to_ascii_lowercase();
    match table {
        "user" => matches!(column.as_str(), "authentication_string" | "password" | "user_attributes"),
        "global_priv" => column == "priv",
        "password_history" => column == "password",
        _ => false,
    }
}

impl Catalog {
    /// Everything an account holds itself, rule family by rule family (docs/admin-definition.md's order).
    fn direct(&self, account: &Account) -> Vec<Direct> {
        let all = self.holds_all_privileges(account);
        let mut out = self.global_privileges(account, all);
        out.extend(self.schema_grants(account));
        out.extend(self.table_grants(account));
        out.extend(self.column_grants(account));
        // Under ALL PRIVILEGES the dynamic and split privileges are part of the one finding.
        if !all {
            out.extend(self.dynamic_grants(account));
            out.extend(split_super(account));
        }
        out.extend(vendor_admin_role(account));
        out
    }

    /// ALL PRIVILEGES is every static privilege but GRANT OPTION (and, on MySQL 8+, every dynamic one).
    fn holds_all_privileges(&self, account: &Account) -> bool {
        let g = &account.global_privs;
        self.priv_columns.len() > 1 && self.priv_columns.iter().filter(|c| *c != "Grant_priv").all(|c| g.contains(c))
    }

    /// `mysql.user`'s `*_priv` columns: privileges on `*.*`.
    fn global_privileges(&self, account: &Account, all: bool) -> Vec<Direct> {
        let g = &account.global_privs;
        let mut out = Vec::new();
        if all {
            out.push(Direct::admin(
                "ALL PRIVILEGES",
                "server",
                "ALL PRIVILEGES ON *.* holds every privilege, SUPER and the grant tables included",
            ));
            if g.contains("Grant_priv") {
                out.push(Direct::admin("GRANT OPTION", "server", ADMIN_GLOBAL[2].2));
            }
            return out;
        }
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
        if g.contains("Select_priv") && !mysql_revoked.is_some_and(|r| r.contains("SELECT")) {
            out.push(Direct::elevated(
                "SELECT",
                "server",
                "global SELECT can read every table, the mysql schema's password hashes included",
            ));
        }
        out
    }

    /// `mysql.db` rows whose schema pattern covers `mysql`, matched as the server matches them.
    fn schema_grants(&self, account: &Account) -> Vec<Direct> {
        let wildcards = !(self.flavor == Flavor::Mysql && self.partial_revokes);
        let ci = self.lower_case_table_names != 0;
        let mut out = Vec::new();
        for grant in self.db_grants.iter().filter(|d| d.user == account.user && d.host == account.host) {
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
        out
    }

    /// `mysql.tables_priv` rows on tables of the `mysql` schema.
    fn table_grants(&self, account: &Account) -> Vec<Direct> {
        let mut out = Vec::new();
        for grant in self.table_grants.iter().filter(|t| t.user == account.user && t.host == account.host) {
            for p in &grant.privs {
                let scope = format!("table mysql.{}", grant.table);
                if MYSQL_SCHEMA_WRITES.contains(&p.as_str()) {
                    out.push(Direct::admin(p, scope, format!("{p} on mysql.{} changes a grant table", grant.table)));
                } else if p == "SELECT" && HASH_TABLES.contains(&grant.table.as_str()) {
                    out.push(Direct::elevated(
                        p,
                        scope,
                        format!("SELECT on mysql.{} can read password hashes", grant.table),
                    ));
                }
            }
        }
        out
    }

    /// `mysql.columns_priv` rows on the `mysql` schema: a column write is a write on the table.
    fn column_grants(&self, account: &Account) -> Vec<Direct> {
        let mut out = Vec::new();
        for grant in self.column_grants.iter().filter(|c| c.user == account.user && c.host == account.host) {
            let scope = format!("column mysql.{}.{}", grant.table, grant.column);
            for p in &grant.privs {
                if COLUMN_WRITES.contains(&p.as_str()) {
                    out.push(Direct::admin(
                        p,
                        scope.clone(),
                        format!(
                            "{p} on column {} of mysql.{} writes a grant table: it can change accounts, \
                             privileges or passwords",
                            grant.column, grant.table
                        ),
                    ));
                } else if p == "SELECT" && is_hash_column(&grant.table, &grant.column) {
                    out.push(Direct::elevated(
                        p,
                        scope.clone(),
                        format!("SELECT on column {} of mysql.{} can read password hashes", grant.column, grant.table),
                    ));
                }
            }
        }
        out
    }

    /// `mysql.global_grants` (MySQL 8+ dynamic privileges).
    fn dynamic_grants(&self, account: &Account) -> Vec<Direct> {
        let mut out = Vec::new();
        for grant in self.dynamic_grants.iter().filter(|d| d.user == account.user && d.host == account.host) {
            let p = grant.privilege.to_uppercase();
            let option = if grant.with_grant_option { " WITH GRANT OPTION" } else { "" };
            if NOT_REPORTED_DYNAMIC.contains(&p.as_str()) {
                continue;
            }
            if p == "CLONE_ADMIN" {
                out.push(if self.settings.active_plugins.contains("clone") {
                    Direct::admin(
                        &p,
                        "server",
                        "CLONE_ADMIN with the clone plugin active: CLONE INSTANCE replaces every account and row from a donor of its choosing",
                    )
                } else {
                    Direct::dormant(&p, "server", "CLONE_ADMIN works only once the clone plugin is installed (it is not active)")
                });
            } else if p == "CONNECTION_ADMIN" && self.flavor == Flavor::Mysql {
                out.push(Direct::elevated(
                    &p,
                    "server",
                    format!("CONNECTION_ADMIN{option} can kill other accounts' sessions and connect past max_connections (it cannot set init_connect)"),
                ));
            } else if ADMIN_DYNAMIC.contains(&p.as_str()) {
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
    /// `PROXY` and definer routines count only where the proxied account or the definer is admin,
    /// which they can change themselves: the classification repeats until it is stable.
    pub fn classify(&self) -> Vec<Principal> {
        let admins_of = |ps: &[Principal]| -> BTreeSet<Ident> {
            ps.iter()
                .filter(|p| p.level == dbadmin_contracts::Level::Admin)
                .map(|p| (p.name.clone(), p.host.clone().unwrap_or_default()))
                .collect()
        };
        let mut extra = BTreeMap::new();
        let mut out = self.classify_with(&extra);
        let mut admins = admins_of(&out);
        // Admins only ever grow, so this ends; at most once per account.
        for _ in 0..=self.accounts.len() {
            let next = self.through_admins(&admins);
            if next == extra {
                break;
            }
            extra = next;
            out = self.classify_with(&extra);
            admins = admins_of(&out);
        }
        out
    }

    fn classify_with(&self, extra: &BTreeMap<Ident, Vec<Direct>>) -> Vec<Principal> {
        let mut edges: BTreeMap<Ident, BTreeSet<Ident>> = BTreeMap::new();
        let mut roles: BTreeSet<Ident> = BTreeSet::new();
        for (grantee, role) in &self.role_edges {
            edges.entry(grantee.clone()).or_default().insert(role.clone());
            roles.insert(role.clone());
        }
        roles.extend(self.mandatory_roles.iter().cloned());
        let direct: BTreeMap<Ident, Vec<Direct>> = self
            .accounts
            .iter()
            .map(|a| {
                let ident = (a.user.clone(), a.host.clone());
                let mut d = self.direct(a);
                d.extend(extra.get(&ident).into_iter().flatten().cloned());
                (ident, d)
            })
            .collect();
        let graph = Grants {
            edges,
            defaults: self.default_roles.iter().cloned().collect(),
            admin_option: self.admin_option_edges.clone(),
            direct,
        };

        let mut out = Vec::new();
        for account in &self.accounts {
            let ident = (account.user.clone(), account.host.clone());
            let is_role = account.is_role || roles.contains(&ident);
            let name = display(&ident);
            // What PUBLIC holds, every account holds.
            let public = self.is_mariadb_public(account);
            let mut held = Held::default();
            for d in &graph.direct[&ident] {
                held.add(d, &name, &[], None, public);
            }
            let implicit = self.implicit_roles(account, is_role);
            let everyone: BTreeSet<Ident> = implicit.iter().map(|(root, _)| root.clone()).collect();
            for (role, path, note) in graph.paths(&ident, is_role, implicit) {
                let Some(direct) = graph.direct.get(&role) else { continue };
                let chain: Vec<String> = path.iter().map(display).collect();
                // Through PUBLIC or a mandatory role: what every account that logs in receives.
                let to_everyone = public || everyone.contains(&path[0]);
                for d in direct {
                    held.add(d, &name, &chain, note, to_everyone);
                }
            }
            let Some(level) = level_of(&held.findings) else { continue };
            out.push(self.principal(account, is_role, level, held));
        }
        tidy(out)
    }

    /// The privileges that count only through an admin: `PROXY` on an admin account, and `EXECUTE`
    /// on a definer routine whose definer is admin, each attached to the account that holds it (so
    /// roles carry it like any privilege). Every path is listed, for holders admin otherwise too.
    fn through_admins(&self, admins: &BTreeSet<Ident>) -> BTreeMap<Ident, Vec<Direct>> {
        let mut out: BTreeMap<Ident, Vec<Direct>> = BTreeMap::new();
        let accounts: BTreeMap<Ident, &Account> =
            self.accounts.iter().map(|a| ((a.user.clone(), a.host.clone()), a)).collect();
        for p in self.proxies.iter().filter(|p| admins.contains(&p.proxied) && p.grantee != p.proxied) {
            let Some(grantee) = accounts.get(&p.grantee) else { continue };
            out.entry(p.grantee.clone()).or_default().push(self.proxy(grantee, &p.proxied));
        }
        for r in self.definer_routines.iter().filter(|r| admins.contains(&r.definer)) {
            let direct = definer_direct(r);
            for holder in self.executors(r) {
                if holder != r.definer && accounts.contains_key(&holder) {
                    out.entry(holder).or_default().push(direct.clone());
                }
            }
        }
        for v in out.values_mut() {
            v.sort_by(|a, b| (&a.privilege, &a.scope).cmp(&(&b.privilege, &b.scope)));
            v.dedup();
        }
        out
    }

    /// `PROXY ON proxied` held by `grantee`, judged by whether the server maps proxies for it now.
    fn proxy(&self, grantee: &Account, proxied: &Ident) -> Direct {
        let privilege = format!("PROXY ON {}", display(proxied));
        let works = self.proxy_mapping(grantee).and_then(|why| {
            let host = &proxied.1;
            let host_name =
                host != "localhost" && !host.contains(['%', '_', ':']) && host.chars().any(|c| c.is_ascii_alphabetic());
            if host_name && self.settings.on("skip_name_resolve") {
                Err(format!("skip_name_resolve is ON, so the proxied account's host name '{host}' never matches"))
            } else {
                Ok(why)
            }
        });
        match works {
            Ok(why) => Direct::admin(
                privilege,
                "server",
                format!("PROXY lets it log in as {}, an admin ({why})", display(proxied)),
            ),
            Err(why) => Direct::dormant(
                privilege,
                "server",
                format!("PROXY on {}, an admin, works only once the server maps proxy users: {why}", display(proxied)),
            ),
        }
    }

    /// Does the server map proxy users for accounts of `grantee`'s authentication plugin?
    fn proxy_mapping(&self, grantee: &Account) -> Result<String, String> {
        let plugin = grantee.plugin.clone().unwrap_or_default().to_ascii_lowercase();
        if SELF_MAPPING_PLUGINS.contains(&plugin.as_str()) {
            return Ok(format!("its {plugin} plugin maps proxy users itself"));
        }
        if self.flavor == Flavor::Mariadb {
            return Err(format!("MariaDB maps proxy users only through plugins such as pam; it uses {plugin}"));
        }
        let variable = match plugin.as_str() {
            "mysql_native_password" => "mysql_native_password_proxy_users",
            "sha256_password" | "caching_sha2_password" => "sha256_password_proxy_users",
            _ => return Err(format!("its {plugin} plugin does not map proxy users")),
        };
        match (self.settings.on("check_proxy_users"), self.settings.on(variable)) {
            (true, true) => Ok(format!("check_proxy_users and {variable} are ON")),
            (false, _) => Err("check_proxy_users is OFF".to_owned()),
            (true, false) => Err(format!("{variable} is OFF")),
        }
    }

    /// Who may EXECUTE a routine: global, schema-level (patterns matched as the server does) and
    /// routine-level grants.
    fn executors(&self, r: &DefinerRoutine) -> BTreeSet<Ident> {
        let wildcards = !(self.flavor == Flavor::Mysql && self.partial_revokes);
        let ci = self.lower_case_table_names != 0;
        let mut out: BTreeSet<Ident> = self
            .accounts
            .iter()
            // Under ALL PRIVILEGES ON *.* every routine is part of the one finding.
            .filter(|a| a.global_privs.contains("Execute_priv") && !self.holds_all_privileges(a))
            .map(|a| (a.user.clone(), a.host.clone()))
            .collect();
        out.extend(
            self.db_grants
                .iter()
                .filter(|g| g.privs.contains("EXECUTE") && db_pattern_matches(&g.db, &r.db, wildcards, ci))
                .map(|g| (g.user.clone(), g.host.clone())),
        );
        out.extend(
            self.routine_grants
                .iter()
                .filter(|g| {
                    g.execute
                        && g.db == r.db
                        && g.name.eq_ignore_ascii_case(&r.name)
                        && g.kind.eq_ignore_ascii_case(&r.kind)
                })
                .map(|g| g.grantee.clone()),
        );
        out
    }

    /// Can this account log in? MariaDB roles never can; a MySQL role is an account like any other.
    fn can_log_in(&self, account: &Account) -> bool {
        !account.is_role && !account.locked
    }

    /// Roles every account that logs in receives without a grant of its own: `@@mandatory_roles`
    /// (MySQL) and `PUBLIC` (MariaDB 10.11+). A role that can log in receives them too.
    fn implicit_roles(&self, account: &Account, is_role: bool) -> Vec<(Ident, &'static str)> {
        if is_role && !self.can_log_in(account) {
            return Vec::new();
        }
        let mut out: Vec<(Ident, &'static str)> =
            self.mandatory_roles.iter().map(|r| (r.clone(), "mandatory role, granted to every account")).collect();
        let public: Ident = ("PUBLIC".into(), String::new());
        let public_exists =
            self.flavor == Flavor::Mariadb && self.accounts.iter().any(|a| a.user == public.0 && a.host == public.1);
        if public_exists && (account.user.as_str(), account.host.as_str()) != ("PUBLIC", "") {
            out.push((public, "PUBLIC, granted to every account"));
        }
        out
    }

    /// Is `account` MariaDB's `PUBLIC`, whose privileges every account receives?
    fn is_mariadb_public(&self, account: &Account) -> bool {
        self.flavor == Flavor::Mariadb && account.user == "PUBLIC" && account.host.is_empty()
    }

    fn principal(&self, account: &Account, is_role: bool, level: dbadmin_contracts::Level, held: Held) -> Principal {
        let Held { findings, mut notes } = held;
        notes.extend(account.notes.iter().cloned());
        if is_role && self.can_log_in(account) {
            notes.push("role that can log in: its account is unlocked, so it uses its privileges directly".to_owned());
        }
        Principal {
            name: account.user.clone(),
            host: Some(account.host.clone()),
            kind: if is_role { PrincipalKind::Role } else { PrincipalKind::User },
            level,
            findings,
            status: self.status(account),
            password_last_changed: account.password_last_changed.map(dbadmin_contracts::format_rfc3339),
            password_set: account.password_set,
            last_login: LastLogin::NotRecorded,
            auth_plugin: account.plugin.clone().filter(|p| !p.is_empty()),
            vendor_managed: VENDOR_ACCOUNTS.contains(&account.user.as_str()),
            notes,
        }
    }

    /// What the server says of the account. MySQL roles are accounts (created locked with an expired
    /// password, and as able to log in as any account once unlocked); MariaDB roles are not accounts.
    fn status(&self, a: &Account) -> AccountStatus {
        if a.is_role {
            return AccountStatus { flags: vec!["NOLOGIN".to_owned()] };
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

/// The role graph of one server and what each account or role holds itself.
struct Grants {
    /// grantee → roles granted to it.
    edges: BTreeMap<Ident, BTreeSet<Ident>>,
    defaults: BTreeSet<(Ident, Ident)>,
    admin_option: BTreeSet<(Ident, Ident)>,
    direct: BTreeMap<Ident, Vec<Direct>>,
}

impl Grants {
    /// Every role `ident` can use, with its chain and a note on how: through its own grants (any
    /// depth; a non-default role needs SET ROLE) and through the implicit roles.
    fn paths(
        &self,
        ident: &Ident,
        is_role: bool,
        implicit: Vec<(Ident, &'static str)>,
    ) -> Vec<(Ident, Vec<Ident>, Option<&'static str>)> {
        let mut out: Vec<(Ident, Vec<Ident>, Option<&'static str>)> = reachable(ident, &self.edges)
            .into_iter()
            .map(|(role, path)| {
                let first = (ident.clone(), path[0].clone());
                let default = is_role || self.defaults.contains(&first);
                let note = match (default, self.admin_option.contains(&first)) {
                    (true, false) => None,
                    (true, true) => Some("held WITH ADMIN OPTION: it can also grant the role to others"),
                    (false, false) => Some("not a default role: usable after SET ROLE"),
                    (false, true) => Some(
                        "not a default role: usable after SET ROLE; held WITH ADMIN OPTION: it can also grant the role to others",
                    ),
                };
                (role, path, note)
            })
            .collect();
        for (root, note) in implicit.into_iter().filter(|(root, _)| root != ident) {
            out.push((root.clone(), vec![root.clone()], Some(note)));
            for (role, mut path) in reachable(&root, &self.edges) {
                path.insert(0, root.clone());
                out.push((role, path, Some(note)));
            }
        }
        out
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
            column_grants: vec![],
            role_edges: vec![],
            admin_option_edges: Default::default(),
            proxies: vec![],
            routine_grants: vec![],
            definer_routines: vec![],
            settings: Default::default(),
            warnings: vec![],
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
        assert!(db_pattern_matches("%%", "", true, false));
        assert!(db_pattern_matches("a%b%c", "axxbyyc", true, false));
        assert!(!db_pattern_matches("a%b%c", "axxbyy", true, false));
        assert!(db_pattern_matches("_%_", "ab", true, false));
        assert!(!db_pattern_matches("_%_", "a", true, false));
        assert!(db_pattern_matches("50\\%", "50%", true, false));
        assert!(!db_pattern_matches("50\\%", "500", true, false));
    }

    #[test]
    fn a_hostile_like_pattern_is_matched_in_bounded_work() {
        // `%a%a…%a%b` against `aaa…a`: a backtracking matcher explores about C(64, 32) splits
        // before answering; this one answers at once (the test finishing is the bound).
        let pattern = "%a".repeat(32) + "%b";
        let name = "a".repeat(64);
        assert!(!db_pattern_matches(&pattern, &name, true, false));
        assert!(db_pattern_matches(&pattern, &(name.clone() + "b"), true, false));
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
        assert!(!alice.findings[0].to_everyone, "a role of her own, not one every account receives");
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
        assert!(bob.findings[0].to_everyone, "marked as reaching every account");
        let own = find(&ps, "everyone").unwrap();
        assert!(!own.findings[0].to_everyone, "the role's own grant is its own");
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
        assert!(bob.findings[0].to_everyone);
        let public = find(&ps, "PUBLIC").unwrap();
        assert!(public.vendor_managed);
        assert!(public.findings.iter().all(|f| f.to_everyone), "what PUBLIC holds, everyone holds");
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

    /// RDS for MySQL 8.0.36+, as its catalog reads: the master user holds `rds_superuser_role`
    /// (CREATE USER, ROLE_ADMIN, SET_USER_ID…, no SUPER); `rdsadmin` is the vendor's own account.
    #[test]
    fn rds_mysql_master_user_is_admin_through_rds_superuser_role() {
        let mut role = acct("rds_superuser_role", "%", &["Create_user_priv", "Select_priv"]);
        role.locked = true;
        let mut c = catalog(vec![
            acct("admin", "%", &[]),
            role,
            acct("rdsadmin", "localhost", &["Super_priv", "Create_user_priv"]),
        ]);
        c.role_edges = vec![(id("admin", "%"), id("rds_superuser_role", "%"))];
        c.default_roles = vec![(id("admin", "%"), id("rds_superuser_role", "%"))];
        c.dynamic_grants = vec![DynamicGrant {
            user: "rds_superuser_role".into(),
            host: "%".into(),
            privilege: "ROLE_ADMIN".into(),
            with_grant_option: true,
        }];
        let ps = c.classify();
        let admin = find(&ps, "admin").expect("the master user is reported");
        assert_eq!(admin.level, dbadmin_contracts::Level::Admin);
        let vendor =
            admin.findings.iter().find(|f| f.privilege == "VENDOR ADMIN ROLE").expect("the role's own finding");
        assert_eq!(vendor.path, vec!["'admin'@'%'", "'rds_superuser_role'@'%'", "VENDOR ADMIN ROLE"]);
        assert!(vendor.reason.contains("RDS for MySQL master user"), "{}", vendor.reason);
        assert!(admin.findings.iter().all(|f| f.privilege != "SUPER"), "no SUPER on RDS");
        let role = find(&ps, "rds_superuser_role").unwrap();
        assert!(role.vendor_managed && role.kind == PrincipalKind::Role);
        assert_eq!(role.status.flags, vec!["LOCKED"]);
        assert!(find(&ps, "rdsadmin").unwrap().vendor_managed, "the vendor's account is flagged, not dropped");
    }

    /// RDS for MariaDB: the master user has no SUPER, and is admin through what it holds.
    #[test]
    fn rds_mariadb_master_user_without_super_is_admin() {
        let mut c =
            catalog(vec![acct("admin", "%", &["Create_user_priv", "Grant_priv", "Insert_priv", "Select_priv"])]);
        c.flavor = Flavor::Mariadb;
        let ps = c.classify();
        let admin = find(&ps, "admin").unwrap();
        let privs: BTreeSet<&str> = admin.findings.iter().map(|f| f.privilege.as_str()).collect();
        assert!(
            privs.contains("CREATE USER") && privs.contains("GRANT OPTION") && privs.contains("INSERT"),
            "{privs:?}"
        );
    }

    #[test]
    fn column_grants_on_grant_tables() {
        let mut c = catalog(vec![acct("w", "%", &[]), acct("r", "%", &[]), acct("h", "%", &[])]);
        let col = |u: &str, table: &str, column: &str, p: &str| ColumnGrant {
            user: u.into(),
            host: "%".into(),
            table: table.into(),
            column: column.into(),
            privs: [p.to_owned()].into(),
        };
        c.column_grants = vec![
            col("w", "user", "authentication_string", "UPDATE"),
            col("r", "user", "authentication_string", "SELECT"),
            col("h", "db", "Host", "SELECT"),
        ];
        let ps = c.classify();
        assert_eq!(find(&ps, "w").unwrap().level, dbadmin_contracts::Level::Admin);
        assert_eq!(find(&ps, "w").unwrap().findings[0].scope, "column mysql.user.authentication_string");
        assert_eq!(find(&ps, "r").unwrap().level, dbadmin_contracts::Level::Elevated);
        assert!(find(&ps, "h").is_none(), "a read of a column without hashes is not reported");
    }

    /// PROXY on an admin works where the server maps proxy users for the grantee's plugin.
    #[test]
    fn proxy_is_admin_only_where_proxies_are_mapped() {
        let mut c = catalog(vec![acct("dba", "%", &["Super_priv"]), acct("p", "%", &[]), acct("named", "%", &[])]);
        c.accounts.push(acct("dba2", "db.example.com", &["Super_priv"]));
        c.proxies = vec![
            ProxyGrant { grantee: id("p", "%"), proxied: id("dba", "%") },
            ProxyGrant { grantee: id("named", "%"), proxied: id("dba2", "db.example.com") },
        ];
        assert!(find(&c.classify(), "p").is_none(), "check_proxy_users OFF: dormant");
        for v in ["check_proxy_users", "sha256_password_proxy_users"] {
            c.settings.variables.insert(v.into(), "ON".into());
        }
        let ps = c.classify();
        let p = find(&ps, "p").expect("mapped: admin");
        assert_eq!(p.findings[0].privilege, "PROXY ON 'dba'@'%'");
        assert_eq!(p.level, dbadmin_contracts::Level::Admin);
        assert!(find(&ps, "named").is_some());
        c.settings.variables.insert("skip_name_resolve".into(), "ON".into());
        assert!(find(&c.classify(), "named").is_none(), "a host name never matches under skip_name_resolve");
    }

    #[test]
    fn clone_admin_follows_the_plugin_and_system_user_is_nothing() {
        let mut c = catalog(vec![acct("c", "%", &[]), acct("s", "%", &[])]);
        let dynamic = |u: &str, p: &str| DynamicGrant {
            user: u.into(),
            host: "%".into(),
            privilege: p.into(),
            with_grant_option: false,
        };
        c.dynamic_grants = vec![dynamic("c", "CLONE_ADMIN"), dynamic("s", "SYSTEM_USER")];
        assert!(c.classify().is_empty(), "CLONE_ADMIN without the plugin is dormant; SYSTEM_USER grants nothing");
        c.settings.active_plugins.insert("clone".into());
        let ps = c.classify();
        assert_eq!(find(&ps, "c").unwrap().level, dbadmin_contracts::Level::Admin);
        assert!(find(&ps, "s").is_none());
    }

    #[test]
    fn routine_bodies_that_prepare_sql() {
        assert!(routine_runs_sql("BEGIN SET @s = q; PREPARE st FROM @s; EXECUTE st; END"));
        assert!(routine_runs_sql("BEGIN EXECUTE IMMEDIATE q; END"));
        assert!(routine_runs_sql("BEGIN PREPARE st FROM @q; END"), "the caller's session variable is its SQL");
        assert!(!routine_runs_sql("BEGIN SELECT prepared_at FROM t; END"));
    }
}
