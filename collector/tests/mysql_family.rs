//! The admin definition for MariaDB and Oracle MySQL, asserted on the fixture accounts of
//! scripts/fixtures/{mariadb,mysql}.sql, read from real servers over verified TLS.
//! Each rule of docs/admin-definition.md has a fixture here, so removing a rule fails a test.

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

/// The principal's first finding held directly (not through a role).
fn own(p: &dbadmin_contracts::Principal) -> &dbadmin_contracts::Finding {
    p.findings.iter().find(|f| f.via_role.is_none()).expect("a finding held directly")
}

/// Rules shared by both engines. `role_host` is where roles live: '' on MariaDB, '%' on MySQL.
fn common_rules(c: &Collected, role_host: &str) {
    admin_rules(c, role_host);
    elevated_status_and_negative_rules(c, role_host);
    definition_2026_12_2(c, role_host);
}

/// Definition 2026.12-2 (docs/admin-definition.md),
/// on scripts/fixtures/mysql-family.sql.
fn definition_2026_12_2(c: &Collected, role_host: &str) {
    let role = |r: &str| format!("'{r}'@'{role_host}'");
    // A role held WITH ADMIN OPTION counts like the role; the option says so.
    let option = expect(
        c,
        "fx_admin_option",
        ANY,
        Level::Admin,
        "SUPER",
        &["'fx_admin_option'@'%'", &role("fx_dba_role"), "SUPER"],
    );
    assert!(option.findings.iter().any(|f| f.reason.contains("WITH ADMIN OPTION")), "{:#?}", option.findings);
    absent(c, "fx_admin_option_harmless", ANY);
    // PROXY on an admin where the server maps no proxy users: dormant, a note on a listed account.
    absent(c, "fx_proxy", ANY);
    let listed = expect(c, "fx_proxy_listed", ANY, Level::Elevated, "PROCESS", &["'fx_proxy_listed'@'%'", "PROCESS"]);
    assert!(listed.findings.iter().all(|f| !f.privilege.starts_with("PROXY")), "{:#?}", listed.findings);
    assert!(
        listed.notes.iter().any(|n| n.starts_with("dormant: PROXY ON 'fx_super'@'%'")),
        "the dormant PROXY is named in the notes: {:?}",
        listed.notes
    );
    // Definer routines of an admin: dynamic SQL from an argument is admin to call, fixed SQL elevated;
    // EXECUTE on the routine, on its schema, or through a role.
    let run = "EXECUTE ON PROCEDURE app.fx_run_sql";
    expect(c, "fx_definer_dynamic", ANY, Level::Admin, run, &["'fx_definer_dynamic'@'%'", run]);
    expect(c, "fx_definer_schema", ANY, Level::Admin, run, &["'fx_definer_schema'@'%'", run]);
    expect(
        c,
        "fx_definer_via_role",
        ANY,
        Level::Admin,
        run,
        &["'fx_definer_via_role'@'%'", &role("fx_exec_role"), run],
    );
    let fixed = "EXECUTE ON PROCEDURE app.fx_fixed";
    let f = expect(c, "fx_definer_fixed", ANY, Level::Elevated, fixed, &["'fx_definer_fixed'@'%'", fixed]);
    assert!(f.findings[0].reason.contains("'root'@'localhost'"), "names the definer: {}", f.findings[0].reason);
    absent(c, "fx_invoker_caller", ANY);
    absent(c, "fx_definer_nonadmin", ANY);
}

/// The admin rules: they hold whatever else every account receives (MariaDB 11's PUBLIC fixture).
fn admin_rules(c: &Collected, role_host: &str) {
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
    let held = all.findings.iter().filter(|f| f.via_role.is_none()).count();
    assert_eq!(held, 1, "ALL PRIVILEGES folds every privilege into one finding: {:#?}", all.findings);
    expect(c, "fx_global_write", ANY, Level::Admin, "INSERT", &["'fx_global_write'@'%'", "INSERT"]);
    expect(c, "fx_global_write", ANY, Level::Admin, "UPDATE", &["'fx_global_write'@'%'", "UPDATE"]);
    let schema = expect(c, "fx_mysql_schema", ANY, Level::Admin, "INSERT", &["'fx_mysql_schema'@'%'", "INSERT"]);
    assert_eq!(own(&schema).scope, "schema mysql");
    let table = expect(c, "fx_mysql_table", ANY, Level::Admin, "UPDATE", &["'fx_mysql_table'@'%'", "UPDATE"]);
    assert!(own(&table).scope.starts_with("table mysql."), "{}", own(&table).scope);
    // Column-level grants on the grant tables (mysql.columns_priv), directly and through a role.
    let col = expect(c, "fx_column_write", ANY, Level::Admin, "UPDATE", &["'fx_column_write'@'%'", "UPDATE"]);
    assert!(own(&col).scope.starts_with("column mysql."), "{}", own(&col).scope);
    expect(
        c,
        "fx_column_via_role",
        ANY,
        Level::Admin,
        "INSERT",
        &["'fx_column_via_role'@'%'", &role("fx_column_role"), "INSERT"],
    );
}

fn elevated_status_and_negative_rules(c: &Collected, role_host: &str) {
    let role = |r: &str| format!("'{r}'@'{role_host}'");

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
    // Status says what the server says: MySQL creates roles as locked accounts with an expired
    // password; MariaDB roles are not accounts and cannot log in.
    let role_flags: &[&str] = if role_host.is_empty() { &["NOLOGIN"] } else { &["LOCKED", "PASSWORD_EXPIRED"] };
    assert_eq!(dba.status.flags, role_flags);
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

    let read = expect(c, "fx_column_read", ANY, Level::Elevated, "SELECT", &["'fx_column_read'@'%'", "SELECT"]);
    assert!(read.findings[0].reason.contains("password hash"), "{}", read.findings[0].reason);

    // Negative cases.
    for user in ["fx_reader", "fx_escaped_pattern", "fx_analyst", "fx_app_writer", "fx_column_harmless"] {
        absent(c, user, ANY);
    }
    absent(c, "fx_readonly_role", Some(role_host));
    assert!(c.principals_examined as usize > c.principals.len());
}

#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn mariadb_admin_definition() {
    require_server("MariaDB", mariadb_port());
    let c = collect(Engine::Mariadb, mariadb_port()).await;
    assert!(c.server_version.contains("MariaDB"), "{}", c.server_version);
    common_rules(&c, "");
    // Schema names in mysql.db are LIKE patterns on MariaDB.
    let p = expect(&c, "fx_mysql_pattern", ANY, Level::Admin, "UPDATE", &["'fx_mysql_pattern'@'%'", "UPDATE"]);
    assert!(p.findings[0].reason.contains("'m%'"), "{}", p.findings[0].reason);
    let sys = find(&c, "mariadb.sys", Some("localhost")).expect("vendor accounts are reported, not dropped");
    assert!(sys.vendor_managed);
    assert!(c.queries.iter().any(|q| q.name == "mysql/accounts_mariadb"));
    mariadb_split_super(&c, false);
    assert!(c.catalog_warnings.is_empty(), "no warning on a stock server: {:?}", c.catalog_warnings);
}

/// MariaDB 10.5+ split SUPER into privileges the mysql.user view does not show. With `public_admin`
/// every account is admin through PUBLIC, so only the level of each finding itself is checked.
fn mariadb_split_super(c: &Collected, public_admin: bool) {
    for (user, privilege) in [("fx_set_user", "SET USER"), ("fx_connection_admin", "CONNECTION ADMIN")] {
        expect(c, user, ANY, Level::Admin, privilege, &[&format!("'{user}'@'%'"), privilege]);
    }
    for (user, privilege) in [
        ("fx_read_only_admin", "READ_ONLY ADMIN"),
        ("fx_binlog_admin", "BINLOG ADMIN"),
        ("fx_repl_master_admin", "REPLICATION MASTER ADMIN"),
        ("fx_repl_slave_admin", "REPLICATION SLAVE ADMIN"),
        ("fx_federated_admin", "FEDERATED ADMIN"),
    ] {
        let level = if public_admin { Level::Admin } else { Level::Elevated };
        let p = expect(c, user, ANY, level, privilege, &[&format!("'{user}'@'%'"), privilege]);
        let f = p.findings.iter().find(|f| f.privilege == privilege).unwrap();
        assert_eq!(f.level, Level::Elevated, "{user}: {privilege} is elevated");
    }
    if !public_admin {
        absent(c, "fx_slave_monitor", ANY);
    }
}

#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn mysql_admin_definition() {
    require_server("Oracle MySQL", mysql_port());
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
    // MySQL 9: SET_ANY_DEFINER is admin, FLUSH_PRIVILEGES alone is elevated.
    expect(
        &c,
        "fx_set_any_definer",
        ANY,
        Level::Admin,
        "SET_ANY_DEFINER",
        &["'fx_set_any_definer'@'%'", "SET_ANY_DEFINER"],
    );
    expect(
        &c,
        "fx_flush_privileges",
        ANY,
        Level::Elevated,
        "FLUSH_PRIVILEGES",
        &["'fx_flush_privileges'@'%'", "FLUSH_PRIVILEGES"],
    );
    // A role that was unlocked and given a password logs in: it is still a role, and active.
    let login_role =
        expect(&c, "fx_login_role", ANY, Level::Admin, "CREATE USER", &["'fx_login_role'@'%'", "CREATE USER"]);
    assert_eq!(login_role.kind, PrincipalKind::Role);
    assert!(login_role.status.flags.is_empty(), "an unlocked role is ACTIVE: {:?}", login_role.status);
    assert_eq!(login_role.password_set, Some(true));
    assert!(login_role.notes.iter().any(|n| n.contains("can log in")), "{:?}", login_role.notes);
    // Definition 2026.12-2: SYSTEM_USER alone is neither; CONNECTION_ADMIN is elevated; CLONE_ADMIN
    // without the clone plugin is dormant (a note beside PROCESS).
    absent(&c, "fx_system_user", ANY);
    expect(
        &c,
        "fx_mysql_connection_admin",
        ANY,
        Level::Elevated,
        "CONNECTION_ADMIN",
        &["'fx_mysql_connection_admin'@'%'", "CONNECTION_ADMIN"],
    );
    absent(&c, "fx_clone_admin", ANY);
    let clone = expect(&c, "fx_clone_listed", ANY, Level::Elevated, "PROCESS", &["'fx_clone_listed'@'%'", "PROCESS"]);
    assert!(clone.notes.iter().any(|n| n.starts_with("dormant: CLONE_ADMIN")), "{:?}", clone.notes);
    assert!(c.catalog_warnings.is_empty(), "no warning on a stock server: {:?}", c.catalog_warnings);
}

/// MariaDB 11 (Debian unstable's), with a column write on a grant table granted TO PUBLIC.
#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn mariadb_11_public_reaches_every_account() {
    let port = port("DBADMIN_TEST_MARIADB_NEW_PORT", 13309);
    require_server("MariaDB 11", port);
    let c = collect(Engine::Mariadb, port).await;
    assert!(c.server_version.starts_with("11."), "{}", c.server_version);
    admin_rules(&c, "");
    mariadb_split_super(&c, true);
    // An account with nothing of its own (elsewhere a negative case) is admin through PUBLIC.
    for user in ["fx_reader", "fx_app_writer", "dbadmin_collector"] {
        let p = expect(&c, user, ANY, Level::Admin, "UPDATE", &[&format!("'{user}'@'%'"), "'PUBLIC'@''", "UPDATE"]);
        let f = p.findings.iter().find(|f| f.via_role.as_deref() == Some("'PUBLIC'@''")).unwrap();
        assert!(f.reason.contains("PUBLIC, granted to every account"), "{}", f.reason);
        assert!(f.to_everyone, "{user}: marked as reaching every account");
        assert!(f.scope.starts_with("column mysql.global_priv"), "{}", f.scope);
    }
    // MariaDB roles cannot log in: PUBLIC does not reach them.
    absent(&c, "fx_readonly_role", Some(""));
    let public = find(&c, "PUBLIC", Some("")).expect("PUBLIC carries admin: listed as a role");
    assert!(public.vendor_managed);
    // Definition 2026.12-2 on MariaDB 11.8: every account is admin through PUBLIC here, so each
    // finding's own level is what is checked.
    let finding_level = |user: &str, privilege: &str| {
        let p = find(&c, user, ANY).unwrap_or_else(|| panic!("{user} is listed"));
        p.findings.iter().find(|f| f.privilege == privilege).map(|f| f.level)
    };
    assert_eq!(finding_level("fx_definer_dynamic", "EXECUTE ON PROCEDURE app.fx_run_sql"), Some(Level::Admin));
    assert_eq!(finding_level("fx_definer_schema", "EXECUTE ON PROCEDURE app.fx_run_sql"), Some(Level::Admin));
    assert_eq!(finding_level("fx_definer_fixed", "EXECUTE ON PROCEDURE app.fx_fixed"), Some(Level::Elevated));
    assert_eq!(finding_level("fx_invoker_caller", "EXECUTE ON PROCEDURE app.fx_invoker_sql"), None);
    // fx_reader, elsewhere no admin, is one here through PUBLIC: so is its definer routine's caller.
    assert_eq!(finding_level("fx_definer_nonadmin", "EXECUTE ON PROCEDURE app.fx_reader_sql"), Some(Level::Admin));
    assert_eq!(finding_level("fx_admin_option", "SUPER"), Some(Level::Admin));
    let proxy = find(&c, "fx_proxy_listed", ANY).unwrap();
    assert!(proxy.notes.iter().any(|n| n.starts_with("dormant: PROXY ON 'fx_super'@'%'")), "{:?}", proxy.notes);
    assert!(proxy.findings.iter().all(|f| !f.privilege.starts_with("PROXY")));
    // Root redefined the mysql.user view to hide fx_hidden (scripts/fixtures/mariadb-public.sql): the
    // report lists it all the same, read from mysql.global_priv, and says the view is not the stock one.
    expect(&c, "fx_hidden", ANY, Level::Admin, "ALL PRIVILEGES", &["'fx_hidden'@'%'", "ALL PRIVILEGES"]);
    // Root deleted fx_unflushed_outer's role grant without FLUSH PRIVILEGES: still in force.
    let (outer, role) = ("'fx_unflushed_outer'@''", "'fx_unflushed_role'@''");
    expect(
        &c,
        "fx_unflushed_member",
        ANY,
        Level::Admin,
        "CREATE USER",
        &["'fx_unflushed_member'@'%'", outer, role, "CREATE USER"],
    );
    let warning = format!("{outer}: the server holds role {role} granted");
    assert!(c.catalog_warnings.iter().any(|w| w.starts_with(&warning)), "{:?}", c.catalog_warnings);
    // …and cleared a role's privilege bits without a flush: the role still grants CREATE USER.
    let role = "'fx_unflushed_priv_role'@''";
    expect(
        &c,
        "fx_unflushed_priv_member",
        ANY,
        Level::Admin,
        "CREATE USER",
        &["'fx_unflushed_priv_member'@'%'", role, "CREATE USER"],
    );
    let warning = format!("{role}: the server enforces [\"CREATE USER\"], which the grant tables no longer hold");
    assert!(c.catalog_warnings.iter().any(|w| w.starts_with(&warning)), "{:?}", c.catalog_warnings);
    assert_eq!(c.catalog_warnings.len(), 3, "nothing else disagrees: {:?}", c.catalog_warnings);
    assert!(
        c.catalog_warnings.iter().any(|w| w.starts_with("mysql.user is not MariaDB's stock view")),
        "{:?}",
        c.catalog_warnings
    );
}

/// fx_unflushed_member's grant of fx_unflushed_role was deleted from the role table without FLUSH
/// PRIVILEGES (scripts/fixtures/mariadb-public.sql, mysql-mandatory.sql): the server still grants it,
/// so the member is listed with the role's privilege, noted, and the result names the difference.
#[track_caller]
fn unflushed_role_grant_is_reported(c: &dbadmin_contracts::Collected, role: &str, privilege: &str) {
    let member =
        expect(c, "fx_unflushed_member", ANY, Level::Admin, privilege, &["'fx_unflushed_member'@'%'", role, privilege]);
    let note = format!("in force but not in the grant tables: role {role}");
    assert!(member.notes.iter().any(|n| n.starts_with(&note)), "{:?}", member.notes);
    let warning = format!("'fx_unflushed_member'@'%': the server holds role {role} granted");
    assert!(c.catalog_warnings.iter().any(|w| w.starts_with(&warning)), "{:?}", c.catalog_warnings);
}

/// A second Oracle MySQL with @@mandatory_roles set (scripts/fixtures/mysql-mandatory.sql).
#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn mysql_mandatory_roles_reach_every_account_that_logs_in() {
    let port = port("DBADMIN_TEST_MYSQL_MANDATORY_PORT", 13308);
    require_server("Oracle MySQL (mandatory roles)", port);
    let c = collect(Engine::Mysql, port).await;
    let mandatory = "'fx_mandatory_role'@'%'";
    for user in ["fx_plain", "fx_login_role", "dbadmin_collector"] {
        let p =
            expect(&c, user, ANY, Level::Admin, "CREATE USER", &[&format!("'{user}'@'%'"), mandatory, "CREATE USER"]);
        assert!(p.findings[0].reason.contains("mandatory role"), "{}", p.findings[0].reason);
        assert!(p.findings[0].to_everyone, "{user}: marked as reaching every account");
    }
    assert_eq!(find(&c, "fx_login_role", ANY).unwrap().kind, PrincipalKind::Role);
    let role = expect(&c, "fx_mandatory_role", ANY, Level::Admin, "CREATE USER", &[mandatory, "CREATE USER"]);
    assert_eq!(role.kind, PrincipalKind::Role);
    absent(&c, "fx_locked_role", ANY);
    // Root deleted fx_unflushed_ghost's row without FLUSH PRIVILEGES: it still holds SUPER in force,
    // so it is listed, noted, and the result says the grant tables disagree with the server.
    let ghost = expect(&c, "fx_unflushed_ghost", ANY, Level::Admin, "SUPER", &["'fx_unflushed_ghost'@'%'", "SUPER"]);
    assert!(ghost.notes.iter().any(|n| n.contains("not in the grant tables")), "{:?}", ghost.notes);
    unflushed_role_grant_is_reported(&c, "'fx_unflushed_role'@'%'", "FILE");
    assert_eq!(c.catalog_warnings.len(), 2, "{:?}", c.catalog_warnings);
    assert!(c.catalog_warnings[0].starts_with("'fx_unflushed_ghost'@'%' is in force"), "{:?}", c.catalog_warnings);
}

/// MariaDB and Oracle MySQL results record the certificate the server presented, like PostgreSQL's
/// (mysql_async hides it, so a TLS handshake to the same endpoint reads it; see engine::mysql).
#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn mysql_family_records_the_server_certificate() {
    for (engine, port, name) in
        [(Engine::Mariadb, mariadb_port(), "MariaDB"), (Engine::Mysql, mysql_port(), "Oracle MySQL")]
    {
        require_server(name, port);
        assert_certificate_recorded(engine, port).await;
    }
}

async fn error_kind(engine: Engine, port: u16, tls: TlsMode, creds: DbCredentials, opts: ConnectOptions) -> ErrorKind {
    let (r, _) = engine::collect(&target(engine, port, tls), &creds, &opts).await;
    r.expect_err("must fail").kind
}

fn login(user: &str, pw: &str) -> DbCredentials {
    DbCredentials { username: user.into(), password: pw.into(), ..Default::default() }
}

#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn failures_are_typed() {
    require_server("MariaDB", mariadb_port());
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
