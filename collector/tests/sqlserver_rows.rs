//! SQL Server's admin definition on recorded row shapes (no server needed). These prove the
//! row mapping and the classification; the T-SQL itself is verified only against a real server
//! (the opt-in test in sqlserver_real.rs).

mod common;

use common::sqlserver_estate as estate;
use dbadmin_collector::engine::sqlserver::{catalog_from_rows, ServerRows};
use dbadmin_contracts::{LastLogin, Level, Principal, PrincipalKind};

fn classify() -> Vec<Principal> {
    catalog_from_rows(16, &estate::server_rows(), &estate::database_rows()).classify()
}

fn get<'a>(ps: &'a [Principal], name: &str) -> &'a Principal {
    ps.iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{name} is not reported: {:?}", ps.iter().map(|p| &p.name).collect::<Vec<_>>()))
}

#[track_caller]
fn has(p: &Principal, level: Level, privilege: &str, path: &[&str]) {
    assert!(
        p.findings.iter().any(|f| f.level == level && f.privilege == privilege && f.path == path),
        "{}: no {level:?} {privilege} via {path:?}; findings {:#?}",
        p.name,
        p.findings
    );
}

#[test]
fn server_roles_nest_and_fixed_roles_are_admin() {
    let ps = classify();
    has(get(&ps, "sa"), Level::Admin, "MEMBER OF sysadmin", &["sa", "sysadmin"]);
    has(get(&ps, "fx_secadmin"), Level::Admin, "MEMBER OF securityadmin", &["fx_secadmin", "securityadmin"]);
    has(
        get(&ps, "fx_nested"),
        Level::Admin,
        "CONTROL SERVER",
        &["fx_nested", "fx_ops_role", "fx_core_role", "CONTROL SERVER"],
    );
    has(
        get(&ps, "fx_loginmgr"),
        Level::Admin,
        "MEMBER OF ##MS_LoginManager##",
        &["fx_loginmgr", "##MS_LoginManager##"],
    );
    let role = get(&ps, "fx_core_role");
    assert_eq!(role.kind, PrincipalKind::Role, "user-defined server roles carrying admin are principals");
    assert_eq!(role.status.flags, vec!["ROLE"]);
    assert!(
        ps.iter().all(|p| p.name != "sysadmin" && p.name != "public"),
        "fixed roles are privileges, not principals"
    );
}

#[test]
fn admin_permissions_direct_through_roles_and_on_logins() {
    let ps = classify();
    has(get(&ps, "fx_control"), Level::Admin, "CONTROL SERVER", &["fx_control", "CONTROL SERVER"]);
    has(
        get(&ps, "fx_login_admin_via_role"),
        Level::Admin,
        "ALTER ANY LOGIN",
        &["fx_login_admin_via_role", "fx_login_admins", "ALTER ANY LOGIN"],
    );
    has(
        get(&ps, "fx_impersonate"),
        Level::Admin,
        "IMPERSONATE ON LOGIN::sa",
        &["fx_impersonate", "IMPERSONATE ON LOGIN::sa"],
    );
    let view = get(&ps, "fx_viewstate");
    assert_eq!(view.level, Level::Elevated);
    has(view, Level::Elevated, "VIEW SERVER STATE", &["fx_viewstate", "VIEW SERVER STATE"]);
}

#[test]
fn permissions_granted_to_public_reach_every_login() {
    let mut server = estate::server_rows();
    server.permissions.push(vec![
        Some("2".into()),
        Some("G".into()),
        Some("100".into()),
        Some("0".into()),
        Some("ALTER ANY DATABASE".into()),
    ]);
    let ps = catalog_from_rows(16, &server, &[]).classify();
    has(get(&ps, "fx_reader"), Level::Admin, "ALTER ANY DATABASE", &["fx_reader", "public", "ALTER ANY DATABASE"]);
    let through_public = get(&ps, "fx_reader").findings.iter().find(|f| f.privilege == "ALTER ANY DATABASE").unwrap();
    assert!(through_public.to_everyone, "a grant to public is marked as reaching every login");
    assert!(through_public.reason.contains("every login"), "{}", through_public.reason);
    let empty = ServerRows { permissions: vec![], ..estate::server_rows() };
    assert!(catalog_from_rows(16, &empty, &[]).classify().iter().all(|p| p.name != "fx_reader"));
}

#[test]
fn database_roles_owner_and_control() {
    let ps = classify();
    has(get(&ps, "fx_app_owner"), Level::Admin, "OWNER", &["fx_app_owner", "sales.dbo", "OWNER"]);
    has(get(&ps, "fx_ddl"), Level::Admin, "MEMBER OF db_ddladmin", &["fx_ddl", "sales.fx_ddl", "db_ddladmin"]);
    has(get(&ps, "fx_dbcontrol"), Level::Admin, "CONTROL", &["fx_dbcontrol", "sales.fx_dbcontrol", "CONTROL"]);
    has(
        get(&ps, "fx_dbnested"),
        Level::Admin,
        "MEMBER OF db_owner",
        &["fx_dbnested", "sales.fx_dbnested", "app_admins", "db_owner"],
    );
    has(
        get(&ps, "fx_secadmin_db"),
        Level::Admin,
        "MEMBER OF db_securityadmin",
        &["fx_secadmin_db", "hr.fx_secadmin_db", "db_securityadmin"],
    );
    has(
        get(&ps, "fx_access"),
        Level::Admin,
        "MEMBER OF db_accessadmin",
        &["fx_access", "hr.fx_access", "db_accessadmin"],
    );
    let sa = get(&ps, "sa");
    has(sa, Level::Admin, "OWNER", &["sa", "hr.dbo", "OWNER"]);
    assert!(get(&ps, "fx_ddl").findings.iter().all(|f| f.scope == "database sales"));
    assert_eq!(get(&ps, "sales.app_admins").kind, PrincipalKind::Role);
}

#[test]
fn orphaned_and_contained_users_are_reported_as_such() {
    let ps = classify();
    let orphan = get(&ps, "old_contractor");
    has(orphan, Level::Admin, "MEMBER OF db_owner", &["old_contractor", "sales.old_contractor", "db_owner"]);
    assert!(orphan.notes.iter().any(|n| n == "orphaned database user in sales (no login)"), "{:?}", orphan.notes);
    let contained = get(&ps, "hr_app");
    assert!(contained.notes.iter().any(|n| n == "contained database user in hr"), "{:?}", contained.notes);
}

#[test]
fn rds_master_user_is_admin_without_sysadmin() {
    let ps = classify();
    let master = get(&ps, "rds_master");
    assert_eq!(master.level, Level::Admin);
    for privilege in [
        "MEMBER OF processadmin",
        "MEMBER OF setupadmin",
        "ALTER ANY LOGIN",
        "ALTER ANY SERVER ROLE",
        "CREATE ANY DATABASE",
    ] {
        assert!(
            master.findings.iter().any(|f| f.privilege == privilege),
            "rds_master lacks {privilege}: {:#?}",
            master.findings
        );
    }
    assert!(master.findings.iter().any(|f| f.reason.contains("WITH GRANT OPTION")));
    has(master, Level::Admin, "MEMBER OF db_owner", &["rds_master", "sales.rds_master", "db_owner"]);
    assert!(master.findings.iter().all(|f| f.privilege != "MEMBER OF sysadmin"));
    assert!(!master.vendor_managed);
    assert!(get(&ps, "rdsa").vendor_managed, "rdsa is AWS's");
}

#[test]
fn status_dates_groups_and_sessions() {
    let ps = classify();
    assert_eq!(get(&ps, "fx_disabled").status.flags, vec!["DISABLED"]);
    let locked = get(&ps, "fx_locked");
    assert_eq!(locked.status.flags, vec!["LOCKED", "PASSWORD_EXPIRED", "MUST_CHANGE"]);
    assert!(
        locked.notes.contains(&"CHECK_POLICY OFF".to_owned())
            && locked.notes.contains(&"CHECK_EXPIRATION OFF".to_owned())
    );
    assert_eq!(get(&ps, "fx_denied").status.flags, vec!["CONNECT_DENIED"]);
    let sa = get(&ps, "sa");
    assert!(sa.status.flags.is_empty());
    assert_eq!(sa.password_last_changed.as_deref(), Some("2025-02-03T04:05:06Z"));
    assert!(
        sa.notes.contains(&"created 2020-01-02T03:04:05Z".to_owned())
            && sa.notes.contains(&"modified 2024-05-06T07:08:09Z".to_owned())
    );
    assert_eq!(sa.last_login, LastLogin::ActiveSession("2026-11-22T08:00:00Z".into()));
    assert_eq!(get(&ps, "fx_control").last_login, LastLogin::NoOpenSession);
    let group = get(&ps, "CORP\\DBAs");
    assert_eq!(group.kind, PrincipalKind::Group);
    assert!(group.notes.iter().any(|n| n.contains("members need directory expansion")));
    assert!(get(&ps, "NT SERVICE\\SQLWriter").vendor_managed);
}

#[test]
fn negative_cases_and_the_collector_login() {
    let ps = classify();
    for absent in ["fx_reader", "guest", "##MS_PolicyEventProcessingLogin##"] {
        assert!(ps.iter().all(|p| p.name != absent), "{absent} must not be reported");
    }
    // The collector's documented grants are elevated and shown as such.
    let collector = get(&ps, "dbadmin_collector");
    assert_eq!(collector.level, Level::Elevated);
}
