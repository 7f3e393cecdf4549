//! The admin definition for PostgreSQL, asserted on scripts/fixtures/postgres.sql, read from a real
//! server over verified TLS. Each rule of ADMIN-MODEL.md has a fixture here.

mod common;

use common::*;
use dbadmin_collector::engine;
use dbadmin_contracts::{Engine, ErrorKind, Level, PrincipalKind, TlsMode};
use dbadmin_ports::DbCredentials;

fn pg_port() -> u16 {
    port("DBADMIN_TEST_PG_PORT", 15432)
}

#[tokio::test]
async fn postgres_admin_definition() {
    if !server_available("PostgreSQL", pg_port()) {
        return;
    }
    let c = collect(Engine::Postgres, pg_port()).await;
    assert!(c.server_version.starts_with("PostgreSQL"), "{}", c.server_version);

    expect(&c, "fx_super", None, Level::Admin, "SUPERUSER", &["fx_super", "SUPERUSER"]);
    expect(&c, "fx_createrole", None, Level::Admin, "CREATEROLE", &["fx_createrole", "CREATEROLE"]);
    expect(
        &c,
        "fx_file_reader",
        None,
        Level::Admin,
        "MEMBER OF pg_read_server_files",
        &["fx_file_reader", "pg_read_server_files"],
    );
    expect(
        &c,
        "fx_file_writer",
        None,
        Level::Admin,
        "MEMBER OF pg_write_server_files",
        &["fx_file_writer", "pg_write_server_files"],
    );
    expect(
        &c,
        "fx_program",
        None,
        Level::Admin,
        "MEMBER OF pg_execute_server_program",
        &["fx_program", "pg_execute_server_program"],
    );
    expect(&c, "fx_rds_master", None, Level::Admin, "MEMBER OF rds_superuser", &["fx_rds_master", "rds_superuser"]);
    let rds = find(&c, "rds_superuser", None).expect("cloud admin roles are reported");
    assert!(rds.vendor_managed && rds.kind == PrincipalKind::Role);
    // A cloud admin role with no attribute of its own is listed itself, not only its members.
    let cloudsql = expect(
        &c,
        "cloudsqlsuperuser",
        None,
        Level::Admin,
        "VENDOR ADMIN ROLE",
        &["cloudsqlsuperuser", "VENDOR ADMIN ROLE"],
    );
    assert!(cloudsql.vendor_managed && cloudsql.kind == PrincipalKind::Role);
    let member = expect(
        &c,
        "fx_cloudsql_member",
        None,
        Level::Admin,
        "MEMBER OF cloudsqlsuperuser",
        &["fx_cloudsql_member", "cloudsqlsuperuser"],
    );
    assert_eq!(member.findings.len(), 1, "one finding per path: {:#?}", member.findings);

    // Membership, two levels deep through NOLOGIN roles; attributes are reachable by SET ROLE.
    let nested = expect(
        &c,
        "fx_nested",
        None,
        Level::Admin,
        "SUPERUSER",
        &["fx_nested", "fx_team_lead", "fx_dba_group", "SUPERUSER"],
    );
    assert_eq!(nested.findings[0].via_role.as_deref(), Some("fx_dba_group"));
    let group = expect(&c, "fx_dba_group", None, Level::Admin, "SUPERUSER", &["fx_dba_group", "SUPERUSER"]);
    assert_eq!(group.kind, PrincipalKind::Role);
    assert_eq!(group.status.flags, vec!["NOLOGIN"]);

    // Elevated.
    expect(&c, "fx_createdb", None, Level::Elevated, "CREATEDB", &["fx_createdb", "CREATEDB"]);
    expect(&c, "fx_replication", None, Level::Elevated, "REPLICATION", &["fx_replication", "REPLICATION"]);
    expect(&c, "fx_bypassrls", None, Level::Elevated, "BYPASSRLS", &["fx_bypassrls", "BYPASSRLS"]);
    expect(
        &c,
        "fx_all_data",
        None,
        Level::Elevated,
        "MEMBER OF pg_read_all_data",
        &["fx_all_data", "pg_read_all_data"],
    );
    expect(&c, "fx_signal", None, Level::Elevated, "MEMBER OF pg_signal_backend", &["fx_signal", "pg_signal_backend"]);
    let owner = expect(&c, "fx_db_owner", None, Level::Elevated, "OWNER", &["fx_db_owner", "OWNER"]);
    assert_eq!(owner.findings[0].scope, "database fx_app");
    let via =
        expect(&c, "fx_owner_member", None, Level::Elevated, "OWNER", &["fx_owner_member", "fx_owner_group", "OWNER"]);
    assert_eq!(via.findings[0].scope, "database fx_group_app");
    expect(&c, "fx_checkpoint", None, Level::Elevated, "MEMBER OF pg_checkpoint", &["fx_checkpoint", "pg_checkpoint"]);
    expect(
        &c,
        "fx_elevated_via_role",
        None,
        Level::Elevated,
        "REPLICATION",
        &["fx_elevated_via_role", "fx_ops_group", "REPLICATION"],
    );

    // Status.
    let expired = expect(&c, "fx_expired", None, Level::Admin, "SUPERUSER", &["fx_expired", "SUPERUSER"]);
    assert_eq!(expired.status.flags, vec!["VALID_UNTIL_PASSED"]);
    let nologin = expect(&c, "fx_nologin_admin", None, Level::Admin, "CREATEROLE", &["fx_nologin_admin", "CREATEROLE"]);
    assert_eq!(nologin.status.flags, vec!["NOLOGIN"]);
    let nocon = expect(&c, "fx_no_connections", None, Level::Admin, "CREATEROLE", &["fx_no_connections", "CREATEROLE"]);
    assert_eq!(nocon.status.flags, vec!["CONNECTION_LIMIT_0"]);
    let sup = find(&c, "fx_super", None).unwrap();
    assert!(sup.status.flags.is_empty());
    assert_eq!(sup.password_set, None, "PostgreSQL shows password state only in pg_authid, which is never read");
    expect(&c, "postgres", None, Level::Admin, "SUPERUSER", &["postgres", "SUPERUSER"]);

    // Negative cases, and predefined roles are privileges, not principals.
    for role in ["fx_reader", "fx_readonly_role", "fx_analyst", "fx_monitor", "dbadmin_collector"] {
        absent(&c, role, None);
    }
    assert!(c.principals.iter().all(|p| !p.name.starts_with("pg_")));
}

/// PostgreSQL 16+ grant options and predefined roles, on the newest PostgreSQL the scripts run
/// (Debian unstable's, in the chroot) with scripts/fixtures/postgres-16plus.sql.
/// The result records which certificate the server presented on the connection that was read
/// (the SHA-256 of its DER), in every TLS mode that encrypts.
#[tokio::test]
async fn postgres_records_the_server_certificate() {
    if !server_available("PostgreSQL", pg_port()) {
        return;
    }
    assert_certificate_recorded(Engine::Postgres, pg_port()).await;
}

#[tokio::test]
async fn postgres_newest_grant_options() {
    let port = port("DBADMIN_TEST_PG_NEW_PORT", 15433);
    if !server_available("the newest PostgreSQL", port) {
        return;
    }
    let c = collect(Engine::Postgres, port).await;
    let version: u32 =
        c.server_version.split_whitespace().nth(1).and_then(|v| v.split('.').next()?.parse().ok()).unwrap_or(0);
    assert!(version >= 17, "the newest PostgreSQL must be 17+ for pg_maintain: {}", c.server_version);
    absent(&c, "fx_opt_none", None);
    expect(&c, "fx_opt_set", None, Level::Admin, "SUPERUSER", &["fx_opt_set", "fx_su_group", "SUPERUSER"]);
    expect(&c, "fx_opt_inherit", None, Level::Admin, "SUPERUSER", &["fx_opt_inherit", "fx_su_group", "SUPERUSER"]);
    let admin_only = expect(
        &c,
        "fx_opt_admin_predefined",
        None,
        Level::Admin,
        "MEMBER OF pg_write_server_files",
        &["fx_opt_admin_predefined", "pg_write_server_files"],
    );
    assert!(admin_only.findings[0].reason.contains("ADMIN OPTION"), "{}", admin_only.findings[0].reason);
    absent(&c, "fx_opt_admin_super", None);
    for (role, predefined) in [
        ("fx_maintain", "pg_maintain"),
        ("fx_create_subscription", "pg_create_subscription"),
        ("fx_reserved_connections", "pg_use_reserved_connections"),
    ] {
        expect(&c, role, None, Level::Elevated, &format!("MEMBER OF {predefined}"), &[role, predefined]);
    }
    // The rules of every version hold here too.
    expect(
        &c,
        "fx_nested",
        None,
        Level::Admin,
        "SUPERUSER",
        &["fx_nested", "fx_team_lead", "fx_dba_group", "SUPERUSER"],
    );
    expect(
        &c,
        "cloudsqlsuperuser",
        None,
        Level::Admin,
        "VENDOR ADMIN ROLE",
        &["cloudsqlsuperuser", "VENDOR ADMIN ROLE"],
    );
    for role in ["fx_reader", "fx_readonly_role", "fx_analyst", "fx_monitor", "dbadmin_collector"] {
        absent(&c, role, None);
    }
}

#[tokio::test]
async fn postgres_failures_are_typed() {
    if !server_available("PostgreSQL", pg_port()) {
        return;
    }
    let bad = DbCredentials { username: "dbadmin_collector".into(), password: "wrong".into() };
    let (r, attempts) =
        engine::collect(&target(Engine::Postgres, pg_port(), TlsMode::VerifyFull), &bad, &options()).await;
    assert_eq!(r.unwrap_err().kind, ErrorKind::AuthenticationFailed);
    assert_eq!(attempts, 1, "authentication failures are not retried");
    let no_ca = engine::ConnectOptions { ca_file: None, ..options() };
    let (r, _) =
        engine::collect(&target(Engine::Postgres, pg_port(), TlsMode::VerifyFull), &collector_login(), &no_ca).await;
    assert_eq!(r.unwrap_err().kind, ErrorKind::Tls);
    let (r, _) =
        engine::collect(&target(Engine::Postgres, pg_port(), TlsMode::Require), &collector_login(), &no_ca).await;
    assert!(r.is_ok(), "require encrypts without verifying: {r:?}");
}
