//! The admin definition for MariaDB and Oracle MySQL, asserted on the fixture accounts of
//! scripts/fixtures/{mariadb,mysql}.sql, read from real servers over verified TLS.
//! Each rule of ADMIN-MODEL.md has a fixture here, so removing a rule fails a test.

mod common;

use common::*;
use dbadmin_collector::engine::{self, ConnectOptions};
use dbadmin_contracts::{Collected, Engine, ErrorKind, Level, PrincipalKind, TlsMode};
use dbadmin_ports::DbCredentials;

const ANY: Option<&str> = Some("%");

fn mariadb_port() -> u16 {
    port("DBADMIN_TEST_MARIADB_PORT", 13306)
}

fn mysql_port() -> u16 {
    port("DBADMIN_TEST_MYSQL_PORT", 13307)
}

/// Rules shared by both engines. `role_host` is where roles live: '' on MariaDB, '%' on MySQL.
fn common_rules(c: &Collected, role_host: &str) {
    let role = |r: &str| format!("'{r}'@'{role_host}'");
    expect(c, "fx_super", ANY, Level::Admin, "SUPER", &["'fx_super'@'%'", "SUPER"]);
    expect(c, "fx_create_user", ANY, Level::Admin, "CREATE USER", &["'fx_create_user'@'%'", "CREATE USER"]);
    expect(c, "fx_grant_option", ANY, Level::Admin, "GRANT OPTION", &["'fx_grant_option'@'%'", "GRANT OPTION"]);
    let all = expect(
        c,
        "fx_all",
        Some("localhost"),
        Level::Admin,
        "ALL PRIVILEGES",
        &["'fx_all'@'localhost'", "ALL PRIVILEGES"],
    );
    assert_eq!(all.findings.len(), 1, "ALL PRIVILEGES folds every privilege into one finding: {:#?}", all.findings);
    expect(c, "fx_global_write", ANY, Level::Admin, "INSERT", &["'fx_global_write'@'%'", "INSERT"]);
    expect(c, "fx_global_write", ANY, Level::Admin, "UPDATE", &["'fx_global_write'@'%'", "UPDATE"]);
    let schema = expect(c, "fx_mysql_schema", ANY, Level::Admin, "INSERT", &["'fx_mysql_schema'@'%'", "INSERT"]);
    assert_eq!(schema.findings[0].scope, "schema mysql");
    let table = expect(c, "fx_mysql_table", ANY, Level::Admin, "UPDATE", &["'fx_mysql_table'@'%'", "UPDATE"]);
    assert!(table.findings[0].scope.starts_with("table mysql."), "{}", table.findings[0].scope);

    for (user, privs) in [
        ("fx_ops", &["PROCESS", "RELOAD", "SHUTDOWN"][..]),
        ("fx_file", &["FILE"][..]),
        ("fx_repl", &["REPLICATION SLAVE"][..]),
        ("fx_global_select", &["SELECT"][..]),
    ] {
        for p in privs {
            expect(c, user, ANY, Level::Elevated, p, &[&format!("'{user}'@'%'"), p]);
        }
    }

    // Roles at any depth, default or not, and roles listed as principals.
    let nested = expect(
        c,
        "fx_nested",
        ANY,
        Level::Admin,
        "SUPER",
        &["'fx_nested'@'%'", &role("fx_lead_role"), &role("fx_dba_role"), "SUPER"],
    );
    assert!(nested.findings.iter().all(|f| f.via_role.as_deref() == Some(role("fx_dba_role").as_str())));
    assert!(!nested.findings[0].reason.contains("SET ROLE"), "fx_lead_role is fx_nested's default role");
    let nondefault = expect(
        c,
        "fx_nondefault",
        ANY,
        Level::Admin,
        "CREATE USER",
        &["'fx_nondefault'@'%'", &role("fx_dba_role"), "CREATE USER"],
    );
    assert!(nondefault.findings[0].reason.contains("not a default role"), "{}", nondefault.findings[0].reason);
    let dba = expect(c, "fx_dba_role", Some(role_host), Level::Admin, "SUPER", &[&role("fx_dba_role"), "SUPER"]);
    assert_eq!(dba.kind, PrincipalKind::Role);
    assert_eq!(dba.status.flags, vec!["ROLE"]);
    expect(
        c,
        "fx_lead_role",
        Some(role_host),
        Level::Admin,
        "SUPER",
        &[&role("fx_lead_role"), &role("fx_dba_role"), "SUPER"],
    );
    expect(
        c,
        "fx_elevated_via_role",
        ANY,
        Level::Elevated,
        "PROCESS",
        &["'fx_elevated_via_role'@'%'", &role("fx_ops_role"), "PROCESS"],
    );

    // Status.
    let locked = expect(c, "fx_locked", ANY, Level::Admin, "SUPER", &["'fx_locked'@'%'", "SUPER"]);
    assert_eq!(locked.status.flags, vec!["LOCKED"]);
    let expired = expect(c, "fx_expired", ANY, Level::Admin, "CREATE USER", &["'fx_expired'@'%'", "CREATE USER"]);
    assert_eq!(expired.status.flags, vec!["PASSWORD_EXPIRED"]);
    let sup = find(c, "fx_super", ANY).unwrap();
    assert!(sup.status.flags.is_empty(), "{:?}", sup.status);
    assert_eq!(sup.password_set, Some(true));
    assert!(sup.auth_plugin.is_some());
    assert!(
        sup.password_last_changed.as_deref().is_some_and(|t| t.ends_with('Z') && t.len() == 20),
        "{:?}",
        sup.password_last_changed
    );
    assert_eq!(sup.last_login, dbadmin_contracts::LastLogin::NotRecorded);
    assert!(!sup.vendor_managed);

    // Identity is user@host.
    expect(c, "fx_dual", Some("localhost"), Level::Admin, "SUPER", &["'fx_dual'@'localhost'", "SUPER"]);
    absent(c, "fx_dual", Some("10.0.0.%"));

    // The collector's own login is shown for what it is.
    expect(c, "dbadmin_collector", ANY, Level::Elevated, "SELECT", &["'dbadmin_collector'@'%'", "SELECT"]);

    // Negative cases.
    for user in ["fx_reader", "fx_escaped_pattern", "fx_analyst", "fx_app_writer"] {
        absent(c, user, ANY);
    }
    absent(c, "fx_readonly_role", Some(role_host));
    assert!(c.principals_examined as usize > c.principals.len());
}

#[tokio::test]
async fn mariadb_admin_definition() {
    if !server_available("MariaDB", mariadb_port()) {
        return;
    }
    let c = collect(Engine::Mariadb, mariadb_port()).await;
    assert!(c.server_version.contains("MariaDB"), "{}", c.server_version);
    common_rules(&c, "");
    // Schema names in mysql.db are LIKE patterns on MariaDB.
    let p = expect(&c, "fx_mysql_pattern", ANY, Level::Admin, "UPDATE", &["'fx_mysql_pattern'@'%'", "UPDATE"]);
    assert!(p.findings[0].reason.contains("'m%'"), "{}", p.findings[0].reason);
    let sys = find(&c, "mariadb.sys", Some("localhost")).expect("vendor accounts are reported, not dropped");
    assert!(sys.vendor_managed);
    assert!(c.queries.iter().any(|q| q.name == "mysql/accounts_mariadb"));
}

#[tokio::test]
async fn mysql_admin_definition() {
    if !server_available("Oracle MySQL", mysql_port()) {
        return;
    }
    let c = collect(Engine::Mysql, mysql_port()).await;
    assert!(!c.server_version.contains("MariaDB"), "{}", c.server_version);
    common_rules(&c, "%");
    expect(&c, "fx_role_admin", ANY, Level::Admin, "ROLE_ADMIN", &["'fx_role_admin'@'%'", "ROLE_ADMIN"]);
    expect(
        &c,
        "fx_sysvar",
        ANY,
        Level::Admin,
        "SYSTEM_VARIABLES_ADMIN",
        &["'fx_sysvar'@'%'", "SYSTEM_VARIABLES_ADMIN"],
    );
    expect(&c, "fx_binlog", ANY, Level::Elevated, "BINLOG_ADMIN", &["'fx_binlog'@'%'", "BINLOG_ADMIN"]);
    // Partial revokes are honoured: INSERT everywhere but mysql is elevated only.
    let partial = expect(&c, "fx_partial", ANY, Level::Elevated, "INSERT", &["'fx_partial'@'%'", "INSERT"]);
    assert!(partial.findings[0].reason.contains("partially revoked"));
    // With partial_revokes ON, `m%` is a literal schema name, not a pattern covering mysql.
    absent(&c, "fx_mysql_pattern", ANY);
    for vendor in ["mysql.sys", "mysql.session", "mysql.infoschema"] {
        let p = find(&c, vendor, Some("localhost")).unwrap_or_else(|| panic!("{vendor} must be reported"));
        assert!(p.vendor_managed, "{vendor} is vendor-managed");
    }
    assert!(c.queries.iter().any(|q| q.name == "mysql/dynamic_grants"));
}

async fn error_kind(engine: Engine, port: u16, tls: TlsMode, creds: DbCredentials, opts: ConnectOptions) -> ErrorKind {
    let (r, _) = engine::collect(&target(engine, port, tls), &creds, &opts).await;
    r.expect_err("must fail").kind
}

fn login(user: &str, pw: &str) -> DbCredentials {
    DbCredentials { username: user.into(), password: pw.into() }
}

#[tokio::test]
async fn failures_are_typed() {
    if !server_available("MariaDB", mariadb_port()) {
        return;
    }
    let p = mariadb_port();
    let opts = options();
    assert_eq!(
        error_kind(Engine::Mariadb, p, TlsMode::VerifyFull, login("dbadmin_collector", "wrong"), opts.clone()).await,
        ErrorKind::AuthenticationFailed
    );
    assert_eq!(
        error_kind(Engine::Mariadb, p, TlsMode::VerifyFull, login("fx_reader", "pw"), opts.clone()).await,
        ErrorKind::InsufficientPrivilege
    );
    let no_ca = ConnectOptions { ca_file: None, ..opts.clone() };
    assert_eq!(
        error_kind(Engine::Mariadb, p, TlsMode::VerifyFull, collector_login(), no_ca.clone()).await,
        ErrorKind::Tls,
        "an untrusted certificate must fail verify-full"
    );
    // `require` encrypts without checking the certificate, `disable` is plain text: both read the server.
    for tls in [TlsMode::Require, TlsMode::Disable, TlsMode::VerifyCa] {
        let opts = if tls == TlsMode::VerifyCa { opts.clone() } else { no_ca.clone() };
        let (r, _) = engine::collect(&target(Engine::Mariadb, p, tls), &collector_login(), &opts).await;
        assert!(r.is_ok(), "{tls:?}: {r:?}");
    }
    // A closed port: unreachable after bounded retries.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let fast = ConnectOptions { max_attempts: 2, backoff: std::time::Duration::from_millis(10), ..opts };
    let (r, attempts) =
        engine::collect(&target(Engine::Mariadb, closed, TlsMode::VerifyFull), &collector_login(), &fast).await;
    assert_eq!(r.unwrap_err().kind, ErrorKind::Unreachable);
    assert_eq!(attempts, 2, "unreachable is retried up to max_attempts");
}
