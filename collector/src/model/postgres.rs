//! Who is admin on PostgreSQL (12+), from `pg_roles`, `pg_auth_members` and `pg_database`.

use super::graph::reachable;
use super::{level_of, tidy, Direct};
use dbadmin_contracts::{AccountStatus, LastLogin, Principal, PrincipalKind};
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

#[derive(Debug, Clone)]
pub struct Catalog {
    pub server_version_num: u32,
    pub roles: Vec<Role>,
    pub memberships: Vec<Membership>,
    /// `(database, owner oid)` for databases in scope.
    pub database_owners: Vec<(String, u32)>,
}

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
const ELEVATED_ROLES: [(&str, &str); 7] = [
    ("pg_read_all_data", "can read every table, view and sequence"),
    ("pg_write_all_data", "can write every table, view and sequence"),
    ("pg_signal_backend", "can cancel or terminate other sessions"),
    ("pg_checkpoint", "can run CHECKPOINT"),
    ("pg_maintain", "can VACUUM, ANALYZE, REINDEX, CLUSTER and REFRESH every relation"),
    ("pg_create_subscription", "can create logical replication subscriptions"),
    ("pg_use_reserved_connections", "can use reserved connection slots"),
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

    /// How a membership lets its member use the role: `None` when it does not, else whether only
    /// the ADMIN option does (PostgreSQL 16+).
    fn usable(&self, m: &Membership, by_oid: &BTreeMap<u32, &Role>) -> Option<bool> {
        // Before 16 the options are NULL and every membership allows SET ROLE.
        if m.set_option.unwrap_or(true) || m.inherit_option.unwrap_or(true) {
            return Some(false);
        }
        // ADMIN alone: the member can grant the role to itself, except a SUPERUSER role, which only
        // a superuser may grant (the server refuses).
        let superuser = by_oid.get(&m.role).is_some_and(|r| r.superuser);
        (m.admin_option && !superuser).then_some(true)
    }

    pub fn classify(&self) -> Vec<Principal> {
        let by_oid: BTreeMap<u32, &Role> = self.roles.iter().map(|r| (r.oid, r)).collect();
        let mut edges: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
        let mut admin_only: BTreeSet<(u32, u32)> = BTreeSet::new();
        for m in &self.memberships {
            let Some(only_admin) = self.usable(m, &by_oid) else { continue };
            edges.entry(m.member).or_default().insert(m.role);
            if only_admin {
                admin_only.insert((m.member, m.role));
            }
        }
        let direct: BTreeMap<u32, Vec<Direct>> = self.roles.iter().map(|r| (r.oid, self.direct(r))).collect();

        let mut out = Vec::new();
        for role in self.roles.iter().filter(|r| !is_predefined(&r.name)) {
            let mut findings: Vec<_> = direct[&role.oid]
                .iter()
                // A predefined/cloud role's own "membership" finding describes the role, not a grant to it.
                .filter(|d| !d.membership)
                .chain(Self::vendor_admin_role(role).as_ref())
                .map(|d| d.reached(&role.name, &[], None))
                .collect();
            for (reached, path) in reachable(&role.oid, &edges) {
                let Some(held) = direct.get(&reached) else { continue };
                let chain: Vec<String> = path.iter().filter_map(|o| by_oid.get(o).map(|r| r.name.clone())).collect();
                let hops = std::iter::once(role.oid).chain(path.iter().copied()).collect::<Vec<_>>();
                let note = hops.windows(2).any(|w| admin_only.contains(&(w[0], w[1]))).then_some(ADMIN_ONLY_NOTE);
                findings.extend(held.iter().map(|d| d.reached(&role.name, &chain, note)));
            }
            let Some(level) = level_of(&findings) else { continue };
            out.push(principal(role, level, findings));
        }
        tidy(out)
    }
}

fn principal(role: &Role, level: dbadmin_contracts::Level, findings: Vec<dbadmin_contracts::Finding>) -> Principal {
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
        notes: Vec::new(),
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
        };
        let ps = cat.classify();
        let alice = ps.iter().find(|p| p.name == "alice").unwrap();
        assert_eq!(alice.level, Level::Admin);
        assert_eq!(alice.findings[0].path, vec!["alice", "team", "dba", "SUPERUSER"]);
        assert!(ps.iter().all(|p| p.name != "bob"), "neither SET nor INHERIT: no use of the role");
        assert!(ps.iter().all(|p| !p.name.starts_with("pg_")), "predefined roles are privileges, not principals");
        assert_eq!(ps.iter().find(|p| p.name == "dba").unwrap().status.flags, vec!["NOLOGIN"]);
    }
}
