//! Who is admin on PostgreSQL (12+), from `pg_roles`, `pg_auth_members` and `pg_database`.

use super::graph::reachable;
use super::{level_of, tidy, Direct, Held};
use dbadmin_contracts::{AccountStatus, Finding, LastLogin, Level, Principal, PrincipalKind};
use std::collections::{BTreeMap, BTreeSet};

/// A `pg_roles` row (never `pg_authid`: its `rolpassword` is a password hash).
#[derive(Debug, Clone, Default)]
pub struct Role {
    pub oid: u32,
    pub name: String,
    pub superuser: bool,
    pub createrole: bool,
    pub createdb: bool,
    pub canlogin: bool,
    pub replication: bool,
    pub bypassrls: bool,
    pub connlimit: i32,
    pub valid_until: Option<String>,
    pub valid_until_passed: bool,
    /// Where the role was read when `pg_roles` did not list it (`pg_user` or `pg_group`): the
    /// catalog disagrees with itself, and the row says so.
    pub source: Option<&'static str>,
}

/// A `pg_auth_members` row: `member` belongs to `role`.
#[derive(Debug, Clone)]
pub struct Membership {
    pub role: u32,
    pub member: u32,
    /// PostgreSQL 16+: whether the member inherits the role's privileges / may `SET ROLE` to it.
    /// `None` before 16, where every membership allows `SET ROLE`.
    pub inherit_option: Option<bool>,
    pub set_option: Option<bool>,
    /// The member may grant the role to others, itself included.
    pub admin_option: bool,
}

/// The server's live settings that decide whether a parameter privilege works.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `archive_mode`: `off`, `on` or `always`.
    pub archive_mode: String,
    pub ssl: bool,
    /// `pg_is_in_recovery()`: a standby runs `restore_command` and the recovery commands.
    pub in_recovery: bool,
    /// `log_connections` as the server shows it: `on`/`off`, or (18+) a list of aspects.
    pub log_connections: String,
    /// `log_min_messages`: `fatal` or `panic` drop a login's LOG line.
    pub log_min_messages: String,
    /// `lc_messages`: the language of the log's lines.
    pub lc_messages: String,
    /// Whether `log_min_messages` or `lc_messages` is set for a login or a database.
    pub logging_overridden: bool,
}

/// A `pg_parameter_acl` grant (15+): `privilege` is `SET` or `ALTER SYSTEM`; grantee 0 is PUBLIC.
#[derive(Debug, Clone)]
pub struct ParameterGrant {
    pub parameter: String,
    pub grantee: u32,
    pub privilege: String,
}

/// `EXECUTE` on a function the server revokes from PUBLIC by default, granted beyond its initial
/// privileges; grantee 0 is PUBLIC.
#[derive(Debug, Clone)]
pub struct FunctionGrant {
    pub database: String,
    /// `schema.name(argument types)`.
    pub function: String,
    pub grantee: u32,
}

/// A `SECURITY DEFINER` function: it runs with its owner's rights.
#[derive(Debug, Clone)]
pub struct DefinerFunction {
    pub database: String,
    /// `schema.name(argument types)`.
    pub function: String,
    pub owner: u32,
    pub language: String,
    /// Runs SQL built at run time (dynamic `EXECUTE`, from its arguments or anything the caller
    /// controls), or is written in an
    /// untrusted language that can run anything.
    pub runs_sql_from_arguments: bool,
    /// Grantees of `EXECUTE` (0: PUBLIC, the default).
    pub executors: Vec<u32>,
    /// Grantees of `USAGE` on its schema (0: PUBLIC).
    pub schema_usage: Vec<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub server_version_num: u32,
    pub roles: Vec<Role>,
    pub memberships: Vec<Membership>,
    /// `(database, owner oid)` for databases in scope.
    pub database_owners: Vec<(String, u32)>,
    /// Every connectable database's owner (`pg_database_owner` stands for it in that database).
    pub owner_of: BTreeMap<String, u32>,
    pub settings: Settings,
    pub parameter_grants: Vec<ParameterGrant>,
    pub function_grants: Vec<FunctionGrant>,
    pub definer_functions: Vec<DefinerFunction>,
    /// What could not be read, or disagreed with itself (reported with the result).
    pub warnings: Vec<String>,
    /// `(role, admin role)` pairs the server was asked about (`pg_has_role`), and those it says the
    /// first reaches (SET ROLE, or holds its privileges): checked against the membership graph.
    pub role_check_pairs: Vec<(u32, u32)>,
    pub server_reaches: BTreeSet<(u32, u32)>,
}

/// PUBLIC in an ACL.
pub const PUBLIC: u32 = 0;
/// `pg_database_owner` (14+): in a database's ACLs, it stands for that database's owner.
pub const PG_DATABASE_OWNER: u32 = 6171;

/// Predefined and cloud roles whose membership is admin.
const ADMIN_ROLES: [(&str, &str); 7] = [
    ("pg_execute_server_program", "can run programs on the server host as the database OS user (superuser-equivalent)"),
    ("pg_read_server_files", "can read any file the server can (superuser-equivalent)"),
    ("pg_write_server_files", "can write any file the server can (superuser-equivalent)"),
    ("rds_superuser", "Amazon RDS's administrator role"),
    ("azure_pg_admin", "Azure Database for PostgreSQL's administrator role"),
    ("cloudsqlsuperuser", "Cloud SQL's administrator role"),
    ("alloydbsuperuser", "AlloyDB's administrator role"),
];

/// Predefined roles whose membership is elevated.
/// (`pg_monitor` and `pg_read_all_settings`/`pg_read_all_stats` are monitoring roles, deliberately not listed.)
const ELEVATED_ROLES: [(&str, &str); 8] = [
    ("pg_read_all_data", "can read every table, view and sequence"),
    ("pg_write_all_data", "can write every table, view and sequence"),
    ("pg_signal_backend", "can cancel or terminate other sessions"),
    ("pg_checkpoint", "can run CHECKPOINT"),
    ("pg_maintain", "can VACUUM, ANALYZE, REINDEX, CLUSTER and REFRESH every relation"),
    ("pg_create_subscription", "can create logical replication subscriptions"),
    ("pg_use_reserved_connections", "can use reserved connection slots"),
    ("pg_signal_autovacuum_worker", "can cancel or terminate autovacuum workers"),
];

const VENDOR_ROLES: [&str; 13] = [
    "postgres_fdw_user_mapping",
    "rdsadmin",
    "rdsrepladmin",
    "rdstopmgr",
    "rds_superuser",
    "rds_replication",
    "azuresu",
    "azure_superuser",
    "azure_pg_admin",
    "cloudsqladmin",
    "cloudsqlsuperuser",
    "alloydbadmin",
    "alloydbsuperuser",
];

fn is_predefined(name: &str) -> bool {
    name.starts_with("pg_")
}

const ADMIN_ONLY_NOTE: &str = "granted WITH ADMIN OPTION only: the member can grant the role to itself";

impl Catalog {
    fn direct(&self, role: &Role) -> Vec<Direct> {
        let mut out = Vec::new();
        if role.superuser {
            out.push(Direct::admin("SUPERUSER", "server", "a superuser bypasses every permission check"));
        }
        if role.createrole {
            out.push(Direct::admin(
                "CREATEROLE",
                "server",
                "CREATEROLE can create roles and change their membership and passwords",
            ));
        }
        if role.createdb {
            out.push(Direct::elevated("CREATEDB", "server", "can create databases"));
        }
        if role.replication {
            out.push(Direct::elevated("REPLICATION", "server", "can stream every change in the cluster"));
        }
        if role.bypassrls {
            out.push(Direct::elevated("BYPASSRLS", "server", "bypasses row-level security policies"));
        }
        if let Some((_, why)) = ADMIN_ROLES.iter().find(|(n, _)| *n == role.name) {
            out.push(
                Direct::admin(format!("MEMBER OF {}", role.name), "server", format!("member of {}: {why}", role.name))
                    .as_membership(),
            );
        }
        if let Some((_, why)) = ELEVATED_ROLES.iter().find(|(n, _)| *n == role.name) {
            out.push(
                Direct::elevated(
                    format!("MEMBER OF {}", role.name),
                    "server",
                    format!("member of {}: {why}", role.name),
                )
                .as_membership(),
            );
        }
        for (db, _) in self.database_owners.iter().filter(|(_, owner)| *owner == role.oid) {
            out.push(Direct::elevated(
                "OWNER",
                format!("database {db}"),
                format!("owns database {db}: can drop it and grant on it"),
            ));
        }
        out
    }

    /// The cloud vendor's admin role is admin by what it is, with or without attributes. (Its
    /// members are reported through their membership, so this finding is the role's own.)
    fn vendor_admin_role(role: &Role) -> Option<Direct> {
        let (_, why) = ADMIN_ROLES.iter().find(|(n, _)| *n == role.name && !is_predefined(n))?;
        Some(Direct::admin(
            "VENDOR ADMIN ROLE",
            "server",
            format!("{} is {why}: it carries the service's administrator rights", role.name),
        ))
    }

    /// What a role holds through parameter and function grants of its own (PUBLIC's: oid 0).
    fn granted(&self, oid: u32) -> Vec<Direct> {
        let mut out: Vec<Direct> =
            self.parameter_grants.iter().filter(|g| g.grantee == oid).map(|g| self.parameter(g)).collect();
        // pg_database_owner in a function's ACL stands for the owner of the function's database.
        let owner_there =
            |g: &FunctionGrant| g.grantee == PG_DATABASE_OWNER && self.owner_of.get(&g.database) == Some(&oid);
        out.extend(self.function_grants.iter().filter(|g| g.grantee == oid || owner_there(g)).map(function_grant));
        out
    }

    /// A parameter privilege, judged with the server's live settings (docs/admin-definition.md).
    fn parameter(&self, g: &ParameterGrant) -> Direct {
        let name = g.parameter.to_ascii_lowercase();
        let privilege = format!("{} ON PARAMETER {}", g.privilege, g.parameter);
        let scope = "server";
        let alter_system = g.privilege.eq_ignore_ascii_case("ALTER SYSTEM");
        if let Some((_, what)) = LIBRARY_PARAMETERS.iter().find(|(p, _)| *p == name) {
            if alter_system {
                return Direct::admin(
                    privilege,
                    scope,
                    format!("ALTER SYSTEM on {name} {what}: code of its choosing runs as the server's OS account after the next reload or restart"),
                );
            }
            return Direct::elevated(privilege, scope, format!("SET on {name}, which {what}"));
        }
        if let Some((what, in_use)) = self.command_parameter(&name) {
            if !alter_system {
                return Direct::elevated(privilege, scope, format!("SET on {name}, {what}"));
            }
            return match in_use {
                Ok(why) => Direct::admin(
                    privilege,
                    scope,
                    format!("ALTER SYSTEM on {name}, {what}: a command of its choosing runs as the server's OS account ({why})"),
                ),
                Err(why) => Direct::dormant(
                    privilege,
                    scope,
                    format!("ALTER SYSTEM on {name}, {what}, works only once {why}"),
                ),
            };
        }
        if name == "lo_compat_privileges" {
            return Direct::elevated(
                privilege,
                scope,
                "lo_compat_privileges on: every large object can be read and written, regardless of grants",
            );
        }
        if alter_system {
            Direct::elevated(privilege, scope, format!("can change the server-wide setting {name} for every session"))
        } else {
            Direct::elevated(privilege, scope, format!("can set {name}, a setting only a superuser may set by default"))
        }
    }

    /// A parameter naming a command the server runs: what it is, and whether it is in use now
    /// (`Ok(why)`) or not (`Err(what would have to change)`).
    fn command_parameter(&self, name: &str) -> Option<(&'static str, Result<String, String>)> {
        let archiving = || {
            if self.settings.archive_mode.is_empty() || self.settings.archive_mode == "off" {
                Err("archive_mode is turned on (it is off)".to_owned())
            } else {
                Ok(format!("archive_mode is {}", self.settings.archive_mode))
            }
        };
        let recovery = || {
            if self.settings.in_recovery {
                Ok("the server is in recovery".to_owned())
            } else {
                Err("the server is put in recovery (it is a primary)".to_owned())
            }
        };
        let (what, in_use) = match name {
            "archive_command" => ("the command that archives each WAL segment", archiving()),
            "archive_library" => ("the library that archives each WAL segment", archiving()),
            "restore_command" => ("the command a standby runs to fetch WAL", recovery()),
            "archive_cleanup_command" => ("a command a standby runs at every restart point", recovery()),
            "recovery_end_command" => ("a command run at the end of recovery", recovery()),
            "ssl_passphrase_command" => (
                "the command that unlocks the TLS key",
                if self.settings.ssl {
                    Ok("ssl is on".to_owned())
                } else {
                    Err("ssl is turned on (it is off)".to_owned())
                },
            ),
            _ => return None,
        };
        Some((what, in_use))
    }

    /// How a membership lets its member use the role (PostgreSQL 16+ options; before 16 every
    /// membership allows SET ROLE): `(set, inherit, only through the ADMIN option)`.
    fn options(&self, m: &Membership, by_oid: &BTreeMap<u32, &Role>) -> (bool, bool, bool) {
        let set = m.set_option.unwrap_or(true);
        let inherit = m.inherit_option.unwrap_or(true);
        if set || inherit {
            return (set, inherit, false);
        }
        // ADMIN alone: the member can grant the role to itself (with either option), except a
        // SUPERUSER role, which only a superuser may grant (the server refuses).
        let superuser = by_oid.get(&m.role).is_some_and(|r| r.superuser);
        let self_grant = m.admin_option && !superuser;
        (self_grant, self_grant, self_grant)
    }

    /// The membership graph: a chain counts only when one option holds on every edge (docs/admin-definition.md),
    /// so SET edges and INHERIT edges are two graphs.
    fn graph(&self, by_oid: &BTreeMap<u32, &Role>) -> Graph {
        let mut g = Graph::default();
        for m in &self.memberships {
            let (set, inherit, admin_only) = self.options(m, by_oid);
            if set {
                g.set.entry(m.member).or_default().insert(m.role);
            }
            if inherit {
                g.inherit.entry(m.member).or_default().insert(m.role);
            }
            if admin_only {
                g.admin_only.insert((m.member, m.role));
            }
        }
        g
    }

    /// Where the membership graph read from `pg_auth_members` and the server's own `pg_has_role`
    /// disagree on who reaches an admin role (ADMIN-only self-grants aside: the server answers for
    /// what is granted now). Each is a sentence naming both sources.
    pub fn membership_disagreements(&self) -> Vec<String> {
        let by_oid: BTreeMap<u32, &Role> = self.roles.iter().map(|r| (r.oid, r)).collect();
        let mut graph = self.graph(&by_oid);
        let admin_only = std::mem::take(&mut graph.admin_only);
        for (member, role) in &admin_only {
            for edges in [&mut graph.set, &mut graph.inherit] {
                if let Some(to) = edges.get_mut(member) {
                    to.remove(role);
                }
            }
        }
        let name = |o: &u32| by_oid.get(o).map(|r| r.name.clone()).unwrap_or_else(|| format!("oid {o}"));
        let mut out = Vec::new();
        for (role, admin) in &self.role_check_pairs {
            let graph_says = graph.pure_reachable(*role).iter().any(|(r, _)| r == admin);
            let server_says = self.server_reaches.contains(&(*role, *admin));
            if graph_says != server_says {
                out.push(format!(
                    "role {} {} {} by the memberships read from pg_auth_members, but the server's pg_has_role says it {}",
                    name(role),
                    if graph_says { "reaches" } else { "does not reach" },
                    name(admin),
                    if server_says { "does" } else { "does not" }
                ));
            }
        }
        out
    }

    pub fn classify(&self) -> Vec<Principal> {
        let by_oid: BTreeMap<u32, &Role> = self.roles.iter().map(|r| (r.oid, r)).collect();
        let graph = self.graph(&by_oid);
        let direct: BTreeMap<u32, Vec<Direct>> = self
            .roles
            .iter()
            .map(|r| {
                let mut d = self.direct(r);
                d.extend(self.granted(r.oid));
                (r.oid, d)
            })
            .collect();
        let public = self.granted(PUBLIC);
        let mut held = self.hold(&by_oid, &graph, &direct, &public);
        // A definer function's reach depends on who is admin, which it can change: repeat until stable.
        let admins_with = |definer: &BTreeMap<u32, Vec<Finding>>| -> BTreeSet<u32> {
            held.iter()
                .filter(|(oid, h)| {
                    let extra = definer.get(oid).map(Vec::as_slice).unwrap_or_default();
                    level_of(&h.findings) == Some(Level::Admin) || level_of(extra) == Some(Level::Admin)
                })
                .map(|(oid, _)| *oid)
                .collect()
        };
        let mut definer = BTreeMap::new();
        let mut admins = admins_with(&definer);
        // Admins only ever grow, so this ends; at most once per role.
        for _ in 0..=self.roles.len() {
            definer = self.definer_findings(&by_oid, &graph, &admins);
            let next = admins_with(&definer);
            if next == admins {
                break;
            }
            admins = next;
        }
        for (oid, found) in definer {
            if let Some(h) = held.get_mut(&oid) {
                h.findings.extend(found);
            }
        }
        let mut out = Vec::new();
        for role in self.roles.iter().filter(|r| !is_predefined(&r.name)) {
            let Some(h) = held.remove(&role.oid) else { continue };
            let Some(level) = level_of(&h.findings) else { continue };
            out.push(principal(role, level, h));
        }
        tidy(out)
    }

    /// What every role holds: its own privileges, those of every role it reaches, and PUBLIC's.
    fn hold(
        &self,
        by_oid: &BTreeMap<u32, &Role>,
        graph: &Graph,
        direct: &BTreeMap<u32, Vec<Direct>>,
        public: &[Direct],
    ) -> BTreeMap<u32, Held> {
        let mut out = BTreeMap::new();
        for role in self.roles.iter().filter(|r| !is_predefined(&r.name)) {
            let mut h = Held::default();
            // A predefined/cloud role's own "membership" finding describes the role, not a grant to it.
            for d in direct[&role.oid].iter().filter(|d| !d.membership).chain(Self::vendor_admin_role(role).as_ref()) {
                h.add(d, &role.name, &[], None, false);
            }
            for (reached, path, mixed) in graph.reachable_marked(role.oid) {
                let Some(held) = direct.get(&reached) else { continue };
                let chain: Vec<String> = path.iter().filter_map(|o| by_oid.get(o).map(|r| r.name.clone())).collect();
                let note = match (graph.admin_only_on(role.oid, &path), mixed) {
                    (true, _) => Some(ADMIN_ONLY_NOTE),
                    (false, true) => Some(MIXED_NOTE),
                    (false, false) => None,
                };
                for d in held {
                    h.add(d, &role.name, &chain, note, false);
                }
            }
            if role.canlogin {
                let chain = ["PUBLIC".to_owned()];
                for d in public {
                    h.add(d, &role.name, &chain, Some(PUBLIC_NOTE), true);
                }
            }
            out.insert(role.oid, h);
        }
        out
    }

    /// EXECUTE on SECURITY DEFINER functions whose owner is admin, for every role that may call one
    /// (EXECUTE and USAGE on its schema, its own, through a role it reaches, or PUBLIC's).
    fn definer_findings(
        &self,
        by_oid: &BTreeMap<u32, &Role>,
        graph: &Graph,
        admins: &BTreeSet<u32>,
    ) -> BTreeMap<u32, Vec<Finding>> {
        let mut out: BTreeMap<u32, Vec<Finding>> = BTreeMap::new();
        for f in self.definer_functions.iter().filter(|f| admins.contains(&f.owner)) {
            let owner = by_oid.get(&f.owner).map(|r| r.name.as_str()).unwrap_or("?");
            let direct = definer_direct(f, owner);
            let resolve = |g: &u32| {
                if *g == PG_DATABASE_OWNER {
                    self.owner_of.get(&f.database).copied().unwrap_or(*g)
                } else {
                    *g
                }
            };
            let executors: BTreeSet<u32> = f.executors.iter().map(resolve).collect();
            let usage: BTreeSet<u32> = f.schema_usage.iter().map(resolve).collect();
            for role in self.roles.iter().filter(|r| !is_predefined(&r.name) && r.oid != f.owner && !r.superuser) {
                let reached = graph.reachable(role.oid);
                let path_to = |grantees: &BTreeSet<u32>| -> Option<Vec<u32>> {
                    if grantees.contains(&role.oid) {
                        return Some(Vec::new());
                    }
                    if let Some((_, p)) = reached.iter().find(|(r, _)| grantees.contains(r)) {
                        return Some(p.clone());
                    }
                    (role.canlogin && grantees.contains(&PUBLIC)).then(|| vec![PUBLIC])
                };
                let (Some(path), Some(_)) = (path_to(&executors), path_to(&usage)) else { continue };
                let chain: Vec<String> = path
                    .iter()
                    .map(|o| {
                        if *o == PUBLIC {
                            "PUBLIC".to_owned()
                        } else {
                            by_oid.get(o).map(|r| r.name.clone()).unwrap_or_default()
                        }
                    })
                    .collect();
                let to_everyone = path == [PUBLIC];
                let note = to_everyone.then_some(PUBLIC_NOTE);
                let mut h = Held::default();
                h.add(&direct, &role.name, &chain, note, to_everyone);
                out.entry(role.oid).or_default().extend(h.findings);
            }
        }
        out
    }
}

/// `EXECUTE` on a function the server revokes from PUBLIC by default (docs/admin-definition.md).
fn function_grant(g: &FunctionGrant) -> Direct {
    let privilege = format!("EXECUTE ON FUNCTION {}", g.function);
    let scope = format!("database {}", g.database);
    let bare = g.function.strip_prefix("pg_catalog.").unwrap_or(&g.function);
    let name = bare.split('(').next().unwrap_or(bare);
    match (name, bare) {
        ("lo_export", _) => Direct::admin(
            privilege,
            scope,
            "lo_export writes any file the server's OS account can (as pg_write_server_files): it can overwrite pg_hba.conf",
        ),
        ("lo_import", _) => Direct::admin(
            privilege,
            scope,
            "server-side lo_import reads any file the server's OS account can (as pg_read_server_files)",
        ),
        ("pg_read_file" | "pg_read_binary_file" | "pg_stat_file" | "pg_ls_dir", _) => Direct::elevated(
            privilege,
            scope,
            format!("{name} reads the data directory: every table's files and the password verifiers"),
        ),
        _ => Direct::elevated(
            privilege,
            scope,
            format!("EXECUTE on {bare}, which the server revokes from PUBLIC by default (an administrative function)"),
        ),
    }
}

/// `EXECUTE` on a SECURITY DEFINER function whose owner (`owner`) is admin (docs/admin-definition.md).
fn definer_direct(f: &DefinerFunction, owner: &str) -> Direct {
    let privilege = format!("EXECUTE ON SECURITY DEFINER FUNCTION {}", f.function);
    let scope = format!("database {}", f.database);
    if f.runs_sql_from_arguments {
        Direct::admin(
            privilege,
            scope,
            format!(
                "{} runs as its owner {owner}, an admin, and runs SQL built at run time (language {}): the caller runs any SQL as {owner}",
                f.function, f.language
            ),
        )
    } else {
        Direct::elevated(
            privilege,
            scope,
            format!(
                "{} runs as its owner {owner}, an admin: its body decides what the caller gets (language {})",
                f.function, f.language
            ),
        )
    }
}

/// Does a function body run SQL built at run time (PL/pgSQL `EXECUTE`, or a function that runs a
/// query text), or is it written in an untrusted language that can run anything? Errs towards yes.
pub fn runs_sql_from_arguments(language: &str, trusted: bool, body: &str) -> bool {
    if !trusted && !matches!(language, "c" | "internal") {
        return true;
    }
    // Arguments or not: dynamic SQL can come from a setting or a table the caller writes.
    let lower = body.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).collect();
    words.iter().any(|w| DYNAMIC_SQL_WORDS.contains(w))
}

/// Words that make a body run a query text: PL/pgSQL's dynamic `EXECUTE`, and functions that run one.
const DYNAMIC_SQL_WORDS: [&str; 7] = [
    "execute",
    "query_to_xml",
    "query_to_xml_and_xmlschema",
    "query_to_xmlschema",
    "dblink",
    "dblink_exec",
    "dblink_open",
];

/// Parameters that load a library into the server: ALTER SYSTEM on one is admin whenever it is set.
const LIBRARY_PARAMETERS: [(&str, &str); 5] = [
    ("shared_preload_libraries", "names libraries the server loads at start"),
    ("session_preload_libraries", "names libraries every session loads"),
    ("local_preload_libraries", "names libraries every session loads"),
    ("dynamic_library_path", "decides where the server loads libraries from"),
    ("jit_provider", "names the library the server loads for JIT compilation"),
];

const PUBLIC_NOTE: &str = "granted to PUBLIC, i.e. every role";
const MIXED_NOTE: &str =
    "SET ROLE along the chain's SET grants, then the privileges and ownerships its INHERIT grants pass on";

/// The membership graph of one server: SET edges and INHERIT edges (a chain is one or the other).
#[derive(Debug, Default)]
struct Graph {
    set: BTreeMap<u32, BTreeSet<u32>>,
    inherit: BTreeMap<u32, BTreeSet<u32>>,
    /// `(member, role)` edges usable only because the member can grant the role to itself.
    admin_only: BTreeSet<(u32, u32)>,
}

impl Graph {
    /// Every role `start` can use, with its chain: by SET on every edge or INHERIT on every edge
    /// (what `pg_has_role` answers), and else by SET edges then INHERIT edges (SET ROLE to a role,
    /// which holds the privileges and ownerships of what it inherits; `mixed` marks such a chain).
    /// INHERIT then SET is no path: the server refuses the SET ROLE.
    fn reachable(&self, start: u32) -> Vec<(u32, Vec<u32>)> {
        self.reachable_marked(start).into_iter().map(|(r, p, _)| (r, p)).collect()
    }

    fn reachable_marked(&self, start: u32) -> Vec<(u32, Vec<u32>, bool)> {
        let mut out: Vec<(u32, Vec<u32>, bool)> =
            self.pure_reachable(start).into_iter().map(|(r, p)| (r, p, false)).collect();
        let known: BTreeSet<u32> = out.iter().map(|(r, _, _)| *r).collect();
        // Breadth first over (role, whether an INHERIT edge was taken yet).
        let mut seen = BTreeSet::from([(start, false)]);
        let mut queue = std::collections::VecDeque::from([(start, false, Vec::new())]);
        let mut mixed: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        while let Some((node, inheriting, path)) = queue.pop_front() {
            let set_edges = if inheriting { None } else { self.set.get(&node) };
            let next = set_edges
                .into_iter()
                .flatten()
                .map(|r| (*r, false))
                .chain(self.inherit.get(&node).into_iter().flatten().map(|r| (*r, true)));
            for (role, by_inherit) in next {
                let state = (role, inheriting || by_inherit);
                if role == start || !seen.insert(state) {
                    continue;
                }
                let mut p = path.clone();
                p.push(role);
                if state.1 && !known.contains(&role) {
                    mixed.entry(role).or_insert_with(|| p.clone());
                }
                queue.push_back((role, state.1, p));
            }
        }
        out.extend(mixed.into_iter().map(|(r, p)| (r, p, true)));
        out.sort_by(|a, b| a.1.len().cmp(&b.1.len()).then(a.0.cmp(&b.0)));
        out
    }

    /// Every role `start` reaches by SET on every edge or by INHERIT on every edge, each with its
    /// shortest such chain.
    fn pure_reachable(&self, start: u32) -> Vec<(u32, Vec<u32>)> {
        let mut best: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for (role, path) in reachable(&start, &self.set).into_iter().chain(reachable(&start, &self.inherit)) {
            let shorter = best.get(&role).is_none_or(|p| path.len() < p.len());
            if shorter {
                best.insert(role, path);
            }
        }
        let mut out: Vec<(u32, Vec<u32>)> = best.into_iter().collect();
        out.sort_by(|a, b| a.1.len().cmp(&b.1.len()).then(a.0.cmp(&b.0)));
        out
    }

    fn admin_only_on(&self, start: u32, path: &[u32]) -> bool {
        std::iter::once(start)
            .chain(path.iter().copied())
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| self.admin_only.contains(&(w[0], w[1])))
    }
}

fn principal(role: &Role, level: dbadmin_contracts::Level, held: Held) -> Principal {
    let Held { findings, mut notes } = held;
    if let Some(source) = role.source {
        notes.push(format!(
            "not in pg_roles: read from {source}, which shows {}; the server's catalog disagrees with itself",
            if source == "pg_user" { "its attributes except CREATEROLE" } else { "only its name" }
        ));
    }
    let mut flags = Vec::new();
    if !role.canlogin {
        flags.push("NOLOGIN".to_owned());
    }
    if role.valid_until_passed {
        flags.push("VALID_UNTIL_PASSED".to_owned());
    }
    if role.connlimit == 0 {
        flags.push("CONNECTION_LIMIT_0".to_owned());
    }
    Principal {
        name: role.name.clone(),
        host: None,
        kind: if role.canlogin { PrincipalKind::User } else { PrincipalKind::Role },
        level,
        findings,
        status: AccountStatus { flags },
        password_last_changed: None,
        password_set: None,
        last_login: LastLogin::NotRecorded,
        auth_plugin: None,
        vendor_managed: VENDOR_ROLES.contains(&role.name.as_str()),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbadmin_contracts::Level;

    fn role(oid: u32, name: &str) -> Role {
        Role { oid, name: name.into(), canlogin: true, connlimit: -1, ..Default::default() }
    }

    #[test]
    fn membership_of_superuser_is_admin_with_path_and_pg16_options_count() {
        let mut su = role(1, "dba");
        su.superuser = true;
        su.canlogin = false;
        let cat = Catalog {
            server_version_num: 160000,
            roles: vec![su, role(2, "team"), role(3, "alice"), role(4, "bob"), role(5, "pg_write_server_files")],
            memberships: vec![
                Membership {
                    role: 1,
                    member: 2,
                    inherit_option: Some(false),
                    set_option: Some(true),
                    admin_option: false,
                },
                Membership {
                    role: 2,
                    member: 3,
                    inherit_option: Some(true),
                    set_option: Some(true),
                    admin_option: false,
                },
                Membership {
                    role: 1,
                    member: 4,
                    inherit_option: Some(false),
                    set_option: Some(false),
                    admin_option: false,
                },
            ],
            database_owners: vec![],
            ..Default::default()
        };
        let ps = cat.classify();
        let alice = ps.iter().find(|p| p.name == "alice").unwrap();
        assert_eq!(alice.level, Level::Admin);
        assert_eq!(alice.findings[0].path, vec!["alice", "team", "dba", "SUPERUSER"]);
        assert!(ps.iter().all(|p| p.name != "bob"), "neither SET nor INHERIT: no use of the role");
        assert!(ps.iter().all(|p| !p.name.starts_with("pg_")), "predefined roles are privileges, not principals");
        assert_eq!(ps.iter().find(|p| p.name == "dba").unwrap().status.flags, vec!["NOLOGIN"]);
    }

    /// A SECURITY DEFINER function of a superuser that runs SQL from its argument, executable by
    /// PUBLIC (the default): every role that can log in is admin through it, marked as such.
    #[test]
    fn a_definer_function_executable_by_public_reaches_every_login() {
        let mut su = role(10, "postgres");
        su.superuser = true;
        let mut group = role(3, "nologin_group");
        group.canlogin = false;
        let cat = Catalog {
            server_version_num: 180000,
            roles: vec![su, role(2, "alice"), group],
            definer_functions: vec![DefinerFunction {
                database: "app".into(),
                function: "public.run(q text)".into(),
                owner: 10,
                language: "plpgsql".into(),
                runs_sql_from_arguments: runs_sql_from_arguments("plpgsql", true, "BEGIN EXECUTE q; END"),
                executors: vec![PUBLIC, 10],
                schema_usage: vec![PG_DATABASE_OWNER, PUBLIC],
            }],
            ..Default::default()
        };
        let ps = cat.classify();
        let alice = ps.iter().find(|p| p.name == "alice").expect("alice may call it");
        assert_eq!(alice.level, Level::Admin);
        assert_eq!(
            alice.findings[0].path,
            vec!["alice", "PUBLIC", "EXECUTE ON SECURITY DEFINER FUNCTION public.run(q text)"]
        );
        assert!(alice.findings[0].to_everyone);
        assert!(ps.iter().all(|p| p.name != "nologin_group"), "PUBLIC reaches roles that log in");
    }

    #[test]
    fn dynamic_sql_and_untrusted_languages_are_told_apart() {
        assert!(runs_sql_from_arguments("plpgsql", true, "BEGIN EXECUTE format('SELECT %s', q); END"));
        assert!(runs_sql_from_arguments("sql", true, "SELECT query_to_xml($1, true, false, '')"));
        assert!(!runs_sql_from_arguments("plpgsql", true, "BEGIN PERFORM 1; END"));
        assert!(
            runs_sql_from_arguments("plpgsql", true, "BEGIN EXECUTE current_setting('x.q'); END"),
            "SQL from a setting the caller sets: judged as running the caller's SQL"
        );
        assert!(runs_sql_from_arguments("plpython3u", false, "return 1"), "an untrusted language runs anything");
        assert!(!runs_sql_from_arguments("c", false, "my_symbol"));
    }

    /// Parameter privileges follow the live settings: archive_command is dormant with archiving off.
    #[test]
    fn archive_command_is_dormant_without_archiving() {
        let grant =
            ParameterGrant { parameter: "archive_command".into(), grantee: 2, privilege: "ALTER SYSTEM".into() };
        let mut cat = Catalog {
            roles: vec![role(2, "ops")],
            parameter_grants: vec![grant],
            settings: Settings { archive_mode: "off".into(), ..Default::default() },
            ..Default::default()
        };
        assert!(cat.classify().is_empty(), "dormant alone: not listed");
        cat.settings.archive_mode = "always".into();
        assert_eq!(cat.classify()[0].level, Level::Admin);
    }

    /// The graph read from pg_auth_members and the server's pg_has_role must agree; where they do
    /// not (a membership the catalog read did not show), it is said, naming both sources.
    #[test]
    fn membership_read_and_server_answer_are_cross_checked() {
        let mut su = role(1, "dba");
        su.superuser = true;
        let mut cat = Catalog {
            server_version_num: 160000,
            roles: vec![su, role(2, "alice"), role(3, "bob")],
            memberships: vec![Membership {
                role: 1,
                member: 2,
                inherit_option: Some(true),
                set_option: Some(true),
                admin_option: false,
            }],
            role_check_pairs: vec![(2, 1), (3, 1)],
            server_reaches: [(2, 1)].into(),
            ..Default::default()
        };
        assert!(cat.membership_disagreements().is_empty());
        cat.server_reaches.insert((3, 1));
        let d = cat.membership_disagreements();
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].contains("role bob does not reach dba") && d[0].contains("pg_has_role says it does"), "{}", d[0]);
    }

    /// `pg_database_owner` in a function's ACL is the owner of that function's database.
    #[test]
    fn a_function_grant_to_pg_database_owner_reaches_the_databases_owner() {
        let cat = Catalog {
            roles: vec![role(2, "app_owner"), role(3, "other")],
            owner_of: [("app".to_owned(), 2)].into(),
            function_grants: vec![FunctionGrant {
                database: "app".into(),
                function: "pg_catalog.lo_export(oid, text)".into(),
                grantee: PG_DATABASE_OWNER,
            }],
            ..Default::default()
        };
        let ps = cat.classify();
        assert_eq!(ps.len(), 1, "{ps:?}");
        assert_eq!((ps[0].name.as_str(), ps[0].level), ("app_owner", Level::Admin));
    }
}
