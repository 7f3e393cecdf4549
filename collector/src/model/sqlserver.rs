//! Who is admin on SQL Server 2012+ and RDS for SQL Server, from the security catalog views.
//!
//! Server level: membership (recursive: user-defined server roles nest) of the fixed admin roles,
//! and admin permissions granted to a login, to a role it holds, or to `public`, including
//! `IMPERSONATE`/`CONTROL`/`ALTER` on another login. Database level, per database in scope:
//! membership of `db_owner`, `db_securityadmin`, `db_accessadmin`, `db_ddladmin`, the owner (`dbo`),
//! and `CONTROL` (or user/role administration) on the database. Database users reach their login
//! by SID; users without one are reported as orphaned (or contained) users.

use super::graph::reachable;
use super::{level_of, tidy, Direct};
use dbadmin_contracts::{AccountStatus, Finding, LastLogin, Principal, PrincipalKind};
use std::collections::{BTreeMap, BTreeSet};

/// A `sys.server_principals` row with its login properties.
#[derive(Debug, Clone, Default)]
pub struct ServerPrincipal {
    pub id: i32,
    pub name: String,
    /// `S` SQL login, `U` Windows login, `G` Windows group, `R` server role, `C`/`K` certificate or
    /// key mapped, `E`/`X` Microsoft Entra login or group.
    pub kind: char,
    pub disabled: bool,
    pub fixed_role: bool,
    pub created: Option<String>,
    pub modified: Option<String>,
    pub locked: bool,
    pub expired: bool,
    pub must_change: bool,
    pub password_last_set: Option<String>,
    /// SQL logins only.
    pub policy_checked: Option<bool>,
    pub expiration_checked: Option<bool>,
}

/// Permissions of one grantee, in one state, on one securable (`class` 100 = server, 101 = login).
#[derive(Debug, Clone)]
pub struct ServerPermission {
    pub grantee: i32,
    /// `G` grant, `W` grant with grant option, `D` deny.
    pub state: char,
    pub class: u32,
    pub major_id: i32,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct DbPrincipal {
    pub id: i32,
    pub name: String,
    pub kind: char,
    /// The login whose SID the user carries, if any.
    pub login: Option<String>,
    /// A contained database user (authenticates at the database, needs no login).
    pub contained: bool,
}

#[derive(Debug, Clone)]
pub struct Database {
    pub name: String,
    pub owner_login: Option<String>,
    pub principals: Vec<DbPrincipal>,
    /// `(role, member)`.
    pub role_members: Vec<(i32, i32)>,
    /// `(grantee, state, permission)` on the database itself.
    pub permissions: Vec<(i32, char, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub major_version: u32,
    pub principals: Vec<ServerPrincipal>,
    /// `(role, member)`.
    pub role_members: Vec<(i32, i32)>,
    pub permissions: Vec<ServerPermission>,
    /// Login name → latest login time of its open sessions.
    pub sessions: BTreeMap<String, String>,
    pub databases: Vec<Database>,
}

/// Fixed server roles that are admin (securityadmin is sysadmin-equivalent per Microsoft).
const ADMIN_SERVER_ROLES: [(&str, &str); 11] = [
    ("sysadmin", "can do anything on the server"),
    ("securityadmin", "manages logins and their permissions; Microsoft treats it as equivalent to sysadmin"),
    ("serveradmin", "changes server-wide configuration and can shut the server down"),
    ("setupadmin", "manages linked servers"),
    ("processadmin", "ends any session"),
    ("diskadmin", "manages disk files"),
    ("dbcreator", "creates, alters, drops and restores any database"),
    ("bulkadmin", "runs BULK INSERT from any file the server can read"),
    ("##MS_DatabaseManager##", "creates and deletes databases (SQL Server 2022)"),
    ("##MS_LoginManager##", "creates, changes and deletes logins (SQL Server 2022)"),
    ("##MS_ServerStateManager##", "changes server state (SQL Server 2022)"),
];

/// Server permissions that amount to admin.
const ADMIN_SERVER_PERMISSIONS: [&str; 18] = [
    "CONTROL SERVER",
    "ALTER ANY LOGIN",
    "ALTER ANY SERVER ROLE",
    "IMPERSONATE ANY LOGIN",
    "ALTER ANY CREDENTIAL",
    "ALTER SETTINGS",
    "ALTER ANY DATABASE",
    "CREATE ANY DATABASE",
    "SHUTDOWN",
    "ALTER ANY LINKED SERVER",
    "UNSAFE ASSEMBLY",
    "EXTERNAL ACCESS ASSEMBLY",
    "ALTER RESOURCES",
    "ALTER SERVER STATE",
    "ALTER ANY ENDPOINT",
    "AUTHENTICATE SERVER",
    "CREATE LOGIN",
    "ALTER ANY CONNECTION",
];

/// Server permissions that are elevated, not admin.
const ELEVATED_SERVER_PERMISSIONS: [&str; 9] = [
    "VIEW SERVER STATE",
    "VIEW ANY DEFINITION",
    "ALTER TRACE",
    "ALTER ANY EVENT SESSION",
    "ADMINISTER BULK OPERATIONS",
    "CONNECT ANY DATABASE",
    "SELECT ALL USER SECURABLES",
    "VIEW SERVER SECURITY STATE",
    "VIEW ANY ERROR LOG",
];

/// Permissions on another login that give control of it.
const LOGIN_CONTROL_PERMISSIONS: [&str; 3] = ["IMPERSONATE", "CONTROL", "ALTER"];

const ADMIN_DB_ROLES: [(&str, &str); 4] = [
    ("db_owner", "can do anything in the database"),
    ("db_securityadmin", "manages role membership and permissions in the database"),
    ("db_accessadmin", "adds and removes database users"),
    ("db_ddladmin", "runs any DDL in the database"),
];

const ADMIN_DB_PERMISSIONS: [&str; 3] = ["CONTROL", "ALTER ANY USER", "ALTER ANY ROLE"];

/// The `public` server role and database role.
const SERVER_PUBLIC: i32 = 2;
const DB_PUBLIC: i32 = 0;
/// `dbo`, the database owner's user.
const DBO: i32 = 1;

fn is_login(kind: char) -> bool {
    matches!(kind, 'S' | 'U' | 'G' | 'C' | 'K' | 'E' | 'X')
}

fn is_group(kind: char) -> bool {
    matches!(kind, 'G' | 'X')
}

/// Logins the engine or AWS creates and manages.
pub fn vendor_managed(name: &str) -> bool {
    name == "rdsa"
        || name.starts_with("##")
        || name.to_ascii_uppercase().starts_with("NT SERVICE\\")
        || name.to_ascii_uppercase().starts_with("NT AUTHORITY\\")
}

/// A principal being built up across server and databases.
struct Builder {
    kind: PrincipalKind,
    findings: Vec<Finding>,
    base: Option<ServerPrincipal>,
    notes: BTreeSet<String>,
}

impl Catalog {
    fn server_direct(&self, by_id: &BTreeMap<i32, &ServerPrincipal>) -> BTreeMap<i32, Vec<Direct>> {
        let mut direct: BTreeMap<i32, Vec<Direct>> = BTreeMap::new();
        for p in &self.principals {
            if let Some((_, why)) = ADMIN_SERVER_ROLES.iter().find(|(n, _)| *n == p.name) {
                direct.entry(p.id).or_default().push(
                    Direct::admin(format!("MEMBER OF {}", p.name), "server", format!("member of {}: {why}", p.name))
                        .as_membership(),
                );
            }
        }
        for perm in self.permissions.iter().filter(|p| p.state != 'D') {
            let option = if perm.state == 'W' { " WITH GRANT OPTION" } else { "" };
            for name in &perm.permissions {
                let name = name.trim();
                let d = match perm.class {
                    100 if ADMIN_SERVER_PERMISSIONS.contains(&name) => {
                        Direct::admin(name, "server", format!("server permission {name}{option} amounts to admin"))
                    }
                    100 if ELEVATED_SERVER_PERMISSIONS.contains(&name) => {
                        Direct::elevated(name, "server", format!("server permission {name}{option}"))
                    }
                    101 if LOGIN_CONTROL_PERMISSIONS.contains(&name) => {
                        let target =
                            by_id.get(&perm.major_id).map_or_else(|| format!("#{}", perm.major_id), |p| p.name.clone());
                        Direct::admin(
                            format!("{name} ON LOGIN::{target}"),
                            "server",
                            format!("{name}{option} on login {target} lets it act as or take over that login"),
                        )
                    }
                    _ => continue,
                };
                direct.entry(perm.grantee).or_default().push(d);
            }
        }
        direct
    }

    pub fn classify(&self) -> Vec<Principal> {
        let by_id: BTreeMap<i32, &ServerPrincipal> = self.principals.iter().map(|p| (p.id, p)).collect();
        let by_name: BTreeMap<&str, &ServerPrincipal> = self.principals.iter().map(|p| (p.name.as_str(), p)).collect();
        let direct = self.server_direct(&by_id);
        let mut edges: BTreeMap<i32, BTreeSet<i32>> = BTreeMap::new();
        for (role, member) in &self.role_members {
            edges.entry(*member).or_default().insert(*role);
        }
        let connect_denied: BTreeSet<i32> = self
            .permissions
            .iter()
            .filter(|p| p.state == 'D' && p.class == 100 && p.permissions.iter().any(|n| n.trim() == "CONNECT SQL"))
            .map(|p| p.grantee)
            .collect();

        let mut built: BTreeMap<String, Builder> = BTreeMap::new();
        let server_listed = self
            .principals
            .iter()
            .filter(|p| is_login(p.kind) || (p.kind == 'R' && !p.fixed_role && p.id != SERVER_PUBLIC));
        for p in server_listed {
            let findings = server_findings(p, &direct, &edges, &by_id);
            let kind = match p.kind {
                'R' => PrincipalKind::Role,
                k if is_group(k) => PrincipalKind::Group,
                _ => PrincipalKind::User,
            };
            built.insert(p.name.clone(), Builder { kind, findings, base: Some(p.clone()), notes: BTreeSet::new() });
        }

        for db in &self.databases {
            self.classify_database(db, &by_name, &mut built);
        }

        let out = built.into_iter().filter_map(|(name, b)| self.principal(name, b, &connect_denied)).collect();
        tidy(out)
    }

    /// A built principal as reported (its status and notes), or `None` when it holds nothing.
    fn principal(&self, name: String, b: Builder, connect_denied: &BTreeSet<i32>) -> Option<Principal> {
        let level = level_of(&b.findings)?;
        let mut notes = b.notes;
        let mut flags = Vec::new();
        let (mut password_last_changed, mut last_login) = (None, LastLogin::NoOpenSession);
        if b.kind == PrincipalKind::Role {
            flags.push("ROLE".to_owned());
        }
        if let Some(p) = &b.base {
            for (on, flag) in [
                (p.disabled, "DISABLED"),
                (p.locked, "LOCKED"),
                (p.expired, "PASSWORD_EXPIRED"),
                (p.must_change, "MUST_CHANGE"),
                (connect_denied.contains(&p.id), "CONNECT_DENIED"),
            ] {
                if on {
                    flags.push(flag.to_owned());
                }
            }
            if p.policy_checked == Some(false) {
                notes.insert("CHECK_POLICY OFF".into());
            }
            if p.expiration_checked == Some(false) {
                notes.insert("CHECK_EXPIRATION OFF".into());
            }
            if let Some(c) = &p.created {
                notes.insert(format!("created {c}"));
            }
            if let Some(m) = &p.modified {
                notes.insert(format!("modified {m}"));
            }
            password_last_changed = p.password_last_set.clone();
            if let Some(at) = self.sessions.get(&p.name) {
                last_login = LastLogin::ActiveSession(at.clone());
            }
        }
        if b.kind == PrincipalKind::Group {
            notes.insert("Windows/Entra group: members need directory expansion".into());
        }
        Some(Principal {
            vendor_managed: vendor_managed(&name),
            name,
            host: None,
            kind: b.kind,
            level,
            findings: b.findings,
            status: AccountStatus { flags },
            password_last_changed,
            password_set: None,
            last_login,
            auth_plugin: None,
            notes: notes.into_iter().collect(),
        })
    }

    fn classify_database(
        &self,
        db: &Database,
        logins: &BTreeMap<&str, &ServerPrincipal>,
        built: &mut BTreeMap<String, Builder>,
    ) {
        let scope = format!("database {}", db.name);
        let by_id: BTreeMap<i32, &DbPrincipal> = db.principals.iter().map(|p| (p.id, p)).collect();
        let direct = database_direct(db, &scope);
        let mut edges: BTreeMap<i32, BTreeSet<i32>> = BTreeMap::new();
        for (role, member) in &db.role_members {
            edges.entry(*member).or_default().insert(*role);
        }

        for user in db.principals.iter().filter(|p| p.kind != 'R') {
            // Who this user is at server level: its login, or the user itself when it has none.
            let (owner_name, hop) = match (&user.login, user.id == DBO) {
                (_, true) => (
                    db.owner_login.clone().or_else(|| user.login.clone()).unwrap_or_else(|| "dbo".into()),
                    format!("{}.dbo", db.name),
                ),
                (Some(login), false) => (login.clone(), format!("{}.{}", db.name, user.name)),
                (None, false) => (user.name.clone(), format!("{}.{}", db.name, user.name)),
            };
            let mut findings = Vec::new();
            if user.id == DBO {
                findings.push(
                    Direct::admin("OWNER", &scope, format!("owns database {} (maps to dbo)", db.name)).reached(
                        &owner_name,
                        std::slice::from_ref(&hop),
                        None,
                    ),
                );
            }
            findings.extend(
                direct
                    .get(&user.id)
                    .into_iter()
                    .flatten()
                    .map(|d| d.reached(&owner_name, std::slice::from_ref(&hop), None)),
            );
            let mut reach = reachable(&user.id, &edges);
            reach.push((DB_PUBLIC, vec![DB_PUBLIC]));
            for (role, path) in reach {
                let Some(held) = direct.get(&role) else { continue };
                let mut chain = vec![hop.clone()];
                chain.extend(path.iter().filter_map(|id| by_id.get(id).map(|r| r.name.clone())));
                let to_everyone = role == DB_PUBLIC;
                let note = to_everyone.then_some("public, which every database user holds");
                findings.extend(held.iter().map(|d| Finding { to_everyone, ..d.reached(&owner_name, &chain, note) }));
            }
            if findings.is_empty() {
                continue;
            }
            let entry = built.entry(owner_name.clone()).or_insert_with(|| Builder {
                kind: if is_group(user.kind) { PrincipalKind::Group } else { PrincipalKind::User },
                findings: Vec::new(),
                base: logins.get(owner_name.as_str()).map(|p| (*p).clone()),
                notes: BTreeSet::new(),
            });
            if user.login.is_none() && user.id != DBO {
                entry.notes.insert(if user.contained {
                    format!("contained database user in {}", db.name)
                } else {
                    format!("orphaned database user in {} (no login)", db.name)
                });
            }
            entry.findings.extend(findings);
        }
        database_roles(db, &direct, &edges, &by_id, built);
    }
}

/// A server principal's findings: its own grants, the server roles it reaches, and `public`'s.
fn server_findings(
    p: &ServerPrincipal,
    direct: &BTreeMap<i32, Vec<Direct>>,
    edges: &BTreeMap<i32, BTreeSet<i32>>,
    by_id: &BTreeMap<i32, &ServerPrincipal>,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = direct
        .get(&p.id)
        .into_iter()
        .flatten()
        .filter(|d| !d.membership)
        .map(|d| d.reached(&p.name, &[], None))
        .collect();
    let mut reach = reachable(&p.id, edges);
    if p.kind != 'R' {
        // Everything granted to public reaches every login.
        reach.push((SERVER_PUBLIC, vec![SERVER_PUBLIC]));
    }
    for (role, path) in reach {
        let Some(held) = direct.get(&role) else { continue };
        let chain: Vec<String> = path.iter().filter_map(|id| by_id.get(id).map(|r| r.name.clone())).collect();
        let to_everyone = role == SERVER_PUBLIC;
        let note = to_everyone.then_some("public, which every login holds");
        findings.extend(held.iter().map(|d| Finding { to_everyone, ..d.reached(&p.name, &chain, note) }));
    }
    findings
}

/// What each database principal holds itself: the fixed admin roles' membership and admin
/// database permissions.
fn database_direct(db: &Database, scope: &str) -> BTreeMap<i32, Vec<Direct>> {
    let mut direct: BTreeMap<i32, Vec<Direct>> = BTreeMap::new();
    for p in &db.principals {
        if let Some((_, why)) = ADMIN_DB_ROLES.iter().find(|(n, _)| *n == p.name) {
            direct.entry(p.id).or_default().push(
                Direct::admin(format!("MEMBER OF {}", p.name), scope, format!("member of {}: {why}", p.name))
                    .as_membership(),
            );
        }
    }
    for (grantee, state, perm) in &db.permissions {
        if ADMIN_DB_PERMISSIONS.contains(&perm.trim()) {
            let option = if *state == 'W' { " WITH GRANT OPTION" } else { "" };
            direct.entry(*grantee).or_default().push(Direct::admin(
                perm.trim(),
                scope,
                format!("{} on database {}{option} amounts to admin there", perm.trim(), db.name),
            ));
        }
    }
    direct
}

/// User-defined database roles carrying admin are principals too.
fn database_roles(
    db: &Database,
    direct: &BTreeMap<i32, Vec<Direct>>,
    edges: &BTreeMap<i32, BTreeSet<i32>>,
    by_id: &BTreeMap<i32, &DbPrincipal>,
    built: &mut BTreeMap<String, Builder>,
) {
    let user_defined =
        |p: &&DbPrincipal| p.kind == 'R' && !ADMIN_DB_ROLES.iter().any(|(n, _)| *n == p.name) && p.id != DB_PUBLIC;
    for role in db.principals.iter().filter(user_defined) {
        let name = format!("{}.{}", db.name, role.name);
        let mut findings: Vec<Finding> =
            direct.get(&role.id).into_iter().flatten().map(|d| d.reached(&name, &[], None)).collect();
        for (reached, path) in reachable(&role.id, edges) {
            let Some(held) = direct.get(&reached) else { continue };
            let chain: Vec<String> = path.iter().filter_map(|id| by_id.get(id).map(|r| r.name.clone())).collect();
            findings.extend(held.iter().map(|d| d.reached(&name, &chain, None)));
        }
        if !findings.is_empty() {
            built.insert(name, Builder { kind: PrincipalKind::Role, findings, base: None, notes: BTreeSet::new() });
        }
    }
}
