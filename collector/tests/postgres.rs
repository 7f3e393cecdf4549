//! The admin definition for PostgreSQL, asserted on scripts/fixtures/postgres.sql, read from a real
//! server over verified TLS. Each rule of docs/admin-definition.md has a fixture here.

mod common;

use common::*;
use dbadmin_collector::engine;
use dbadmin_contracts::{Engine, ErrorKind, Level, PrincipalKind, TlsMode};
use dbadmin_ports::DbCredentials;

fn pg_port() -> u16 {
    port("DBADMIN_TEST_PG_PORT", 15432)
}

#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
#[allow(clippy::too_many_lines, reason = "the admin definition's table, one fixture principal per line")]
async fn postgres_admin_definition() {
    require_server("PostgreSQL", pg_port());
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
    // archive_mode is off on this server: ALTER SYSTEM on archive_command is dormant.
    definition_2026_12_2(&c, false);
}

/// Definition 2026.12-2 (docs/admin-definition.md) on scripts/fixtures/postgres.sql. `archiving`: the server runs with archive_mode on.
fn definition_2026_12_2(c: &dbadmin_contracts::Collected, archiving: bool) {
    let archive = "ALTER SYSTEM ON PARAMETER archive_command";
    if archiving {
        let p = expect(c, "fx_param_archive", None, Level::Admin, archive, &["fx_param_archive", archive]);
        assert!(p.findings[0].reason.contains("archive_mode is on"), "{}", p.findings[0].reason);
    } else {
        absent(c, "fx_param_archive", None);
    }
    let preload = "ALTER SYSTEM ON PARAMETER shared_preload_libraries";
    expect(c, "fx_param_preload", None, Level::Admin, preload, &["fx_param_preload", preload]);
    let session = "ALTER SYSTEM ON PARAMETER session_preload_libraries";
    expect(c, "fx_param_member", None, Level::Admin, session, &["fx_param_member", "fx_param_group", session]);
    let lo = "SET ON PARAMETER lo_compat_privileges";
    expect(c, "fx_param_lo_compat", None, Level::Elevated, lo, &["fx_param_lo_compat", lo]);
    let work_mem = "ALTER SYSTEM ON PARAMETER work_mem";
    expect(c, "fx_param_work_mem", None, Level::Elevated, work_mem, &["fx_param_work_mem", work_mem]);
    // EXECUTE on functions revoked from PUBLIC by default.
    for (role, function, level) in [
        ("fx_lo_export", "pg_catalog.lo_export(oid, text)", Level::Admin),
        ("fx_lo_import", "pg_catalog.lo_import(text)", Level::Admin),
        ("fx_read_file", "pg_catalog.pg_read_file(text)", Level::Elevated),
        ("fx_reload_conf", "pg_catalog.pg_reload_conf()", Level::Elevated),
    ] {
        let privilege = format!("EXECUTE ON FUNCTION {function}");
        expect(c, role, None, level, &privilege, &[role, &privilege]);
    }
    // SECURITY DEFINER functions of a superuser, in this database and in another one.
    let run = "EXECUTE ON SECURITY DEFINER FUNCTION public.fx_run_sql(q text)";
    let dynamic = expect(c, "fx_definer_dynamic", None, Level::Admin, run, &["fx_definer_dynamic", run]);
    assert!(dynamic.findings[0].reason.contains("runs as its owner postgres"), "{}", dynamic.findings[0].reason);
    expect(c, "fx_definer_via_role", None, Level::Admin, run, &["fx_definer_via_role", "fx_exec_group", run]);
    let atomic = "EXECUTE ON SECURITY DEFINER FUNCTION public.fx_atomic_sql(q text)";
    expect(c, "fx_definer_atomic", None, Level::Admin, atomic, &["fx_definer_atomic", atomic]);
    let fixed = "EXECUTE ON SECURITY DEFINER FUNCTION public.fx_fixed()";
    expect(c, "fx_definer_fixed", None, Level::Elevated, fixed, &["fx_definer_fixed", fixed]);
    let other = "EXECUTE ON SECURITY DEFINER FUNCTION public.fx_app_sql(q text)";
    let p = expect(c, "fx_definer_other_db", None, Level::Admin, other, &["fx_definer_other_db", other]);
    assert_eq!(p.findings[0].scope, "database fx_app", "functions are read in every database");
    for role in ["fx_definer_nonadmin", "fx_definer_no_usage"] {
        absent(c, role, None);
    }
    assert!(c.catalog_warnings.is_empty(), "no warning on a stock server: {:?}", c.catalog_warnings);
}

/// PostgreSQL 16+ grant options and predefined roles, on the newest PostgreSQL the scripts run
/// (Debian unstable's, in the chroot) with scripts/fixtures/postgres-16plus.sql.
/// The result records which certificate the server presented on the connection that was read
/// (the SHA-256 of its DER), in every TLS mode that encrypts.
#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn postgres_records_the_server_certificate() {
    require_server("PostgreSQL", pg_port());
    assert_certificate_recorded(Engine::Postgres, pg_port()).await;
}

#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn postgres_newest_grant_options() {
    let port = port("DBADMIN_TEST_PG_NEW_PORT", 15433);
    require_server("the newest PostgreSQL", port);
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
    // archive_mode is on here: ALTER SYSTEM on archive_command runs a command as the server.
    definition_2026_12_2(&c, true);
    // Paths on 16+: one option on every edge.
    let su = ["fx_su_group", "SUPERUSER"];
    expect(&c, "fx_chain_set_set", None, Level::Admin, "SUPERUSER", &["fx_chain_set_set", "fx_mid_set", su[0], su[1]]);
    expect(
        &c,
        "fx_chain_inh_inh",
        None,
        Level::Admin,
        "SUPERUSER",
        &["fx_chain_inh_inh", "fx_mid_inherit", su[0], su[1]],
    );
    absent(&c, "fx_chain_inh_set", None);
    // SET then INHERIT: SET ROLE to the middle role, which holds what it inherits.
    let mixed = expect(
        &c,
        "fx_chain_set_inh",
        None,
        Level::Admin,
        "SUPERUSER",
        &["fx_chain_set_inh", "fx_mid_inherit", su[0], su[1]],
    );
    assert!(mixed.findings[0].reason.contains("SET ROLE along the chain"), "{}", mixed.findings[0].reason);
    if version >= 18 {
        let p = "MEMBER OF pg_signal_autovacuum_worker";
        expect(
            &c,
            "fx_signal_autovacuum",
            None,
            Level::Elevated,
            p,
            &["fx_signal_autovacuum", "pg_signal_autovacuum_worker"],
        );
    }
    server_agrees_on_membership_paths(port, &c).await;
}

/// The server's own answer, `pg_has_role(member, role, 'SET' | 'USAGE')`, for every fixture role and
/// the superuser role of the fixtures: the report lists a role as reaching it exactly when the server
/// says it can (SET ROLE to it, or hold its privileges), ADMIN-only self-grants aside (the server
/// answers for what is granted now; the report for what the member can grant itself) and SET-then-
/// INHERIT chains aside (the server answers per option; the member gets there in two steps).
async fn server_agrees_on_membership_paths(port: u16, c: &dbadmin_contracts::Collected) {
    let (client, connection) = tokio_postgres::connect(
        &format!("host=127.0.0.1 port={port} user=dbadmin_collector password=collector-pw dbname=postgres"),
        tokio_postgres::NoTls,
    )
    .await
    .expect("connect as the collector");
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT r.rolname::text, pg_catalog.pg_has_role(r.oid, s.oid, 'SET') OR pg_catalog.pg_has_role(r.oid, s.oid, 'USAGE') \
             FROM pg_catalog.pg_roles r, pg_catalog.pg_roles s \
             WHERE r.rolname LIKE 'fx\\_%' AND s.rolname = 'fx_su_group' AND r.oid <> s.oid AND NOT r.rolsuper",
            &[],
        )
        .await
        .expect("pg_has_role");
    assert!(rows.len() > 20, "fixture roles: {}", rows.len());
    for row in rows {
        let (role, server_says): (String, bool) = (row.get(0), row.get(1));
        let ours = find(c, &role, None).is_some_and(|p| {
            p.findings
                .iter()
                .filter(|f| !f.reason.contains("ADMIN OPTION") && !f.reason.contains("SET ROLE along the chain"))
                .any(|f| f.path.iter().any(|step| step == "fx_su_group"))
        });
        assert_eq!(ours, server_says, "{role}: the report and pg_has_role disagree on reaching fx_su_group");
    }
}

/// An admin set the collector login's search_path to a schema of their own whose views hide a
/// superuser and every membership (scripts/fixtures/postgres.sql): the report still lists them all,
/// and says the session's search_path was the pinned one.
#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn a_login_search_path_cannot_redirect_the_catalog_reads() {
    require_server("PostgreSQL", pg_port());
    let login = DbCredentials {
        username: "fx_redirected_collector".into(),
        password: "collector-pw".into(),
        ..Default::default()
    };
    let (r, _) = engine::collect(&target(Engine::Postgres, pg_port(), TlsMode::VerifyFull), &login, &options()).await;
    let c = r.expect("collects");
    expect(&c, "fx_super", None, Level::Admin, "SUPERUSER", &["fx_super", "SUPERUSER"]);
    expect(
        &c,
        "fx_nested",
        None,
        Level::Admin,
        "SUPERUSER",
        &["fx_nested", "fx_team_lead", "fx_dba_group", "SUPERUSER"],
    );
    assert!(c.catalog_warnings.is_empty(), "{:?}", c.catalog_warnings);
}

/// A superuser replaced pg_catalog.pg_roles (hiding fx_super) and pg_catalog.version() in database
/// fx_tampered (scripts/fixtures/postgres.sql). Both are named, and fx_super is still reported, from
/// pg_user, with a note saying the catalog disagrees with itself. On PostgreSQL 15 and 18.
#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn a_replaced_catalog_object_is_named_and_hides_no_one() {
    for (what, port) in [("PostgreSQL", pg_port()), ("PostgreSQL 18", port("DBADMIN_TEST_PG_NEW_PORT", 15433))] {
        require_server(what, port);
        let mut at = target(Engine::Postgres, port, TlsMode::VerifyFull);
        at.databases = vec!["fx_tampered".into()];
        let (r, _) = engine::collect(&at, &collector_login(), &options()).await;
        let c = r.expect("collects");
        let warned = |says: &str| c.catalog_warnings.iter().any(|w| w.contains(says));
        assert!(
            warned("pg_catalog.pg_roles in database fx_tampered is not PostgreSQL's stock view"),
            "{what}: {:?}",
            c.catalog_warnings
        );
        assert!(
            warned("pg_catalog.version in database fx_tampered has an overload that is not a built-in"),
            "{what}: {:?}",
            c.catalog_warnings
        );
        assert!(warned("role fx_super"), "{what}: {:?}", c.catalog_warnings);
        let ghost = expect(&c, "fx_super", None, Level::Admin, "SUPERUSER", &["fx_super", "SUPERUSER"]);
        assert!(ghost.notes.iter().any(|n| n.contains("not in pg_roles: read from pg_user")), "{:?}", ghost.notes);
        // The stock catalog of the database every other test connects to raises nothing.
        let stock = collect(Engine::Postgres, port).await;
        assert!(stock.catalog_warnings.is_empty(), "{what}: {:?}", stock.catalog_warnings);
    }
}

/// Last Login Date from the server's own login log (scripts/test-servers.sh: log_connections, jsonlog,
/// UTC): fx_super logs in now and is dated; fx_createrole never logs in, and the log is younger than
/// the window, so its row says since when it has not. On PostgreSQL 15 and 18.
#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn last_logins_are_read_from_the_servers_own_login_log() {
    let servers = [
        ("PostgreSQL", pg_port(), "DBADMIN_TEST_PG_LOGIN_LOG"),
        ("PostgreSQL 18", port("DBADMIN_TEST_PG_NEW_PORT", 15433), "DBADMIN_TEST_PG_NEW_LOGIN_LOG"),
    ];
    for (what, port, log_var) in servers {
        require_server(what, port);
        let log = std::env::var(log_var).unwrap_or_else(|_| panic!("{log_var} (export scripts/test-servers.sh env)"));
        let before = time::OffsetDateTime::now_utc() - time::Duration::seconds(2);
        let login = DbCredentials { username: "fx_super".into(), password: "pw".into(), ..Default::default() };
        let (as_super, _) =
            engine::collect(&target(Engine::Postgres, port, TlsMode::VerifyFull), &login, &options()).await;
        as_super.expect("fx_super logs in");
        let mut at = target(Engine::Postgres, port, TlsMode::VerifyFull);
        at.login_log = Some(format!("file:{log}"));
        let mut c = collect(Engine::Postgres, port).await;
        let logging = c.login_settings.clone().unwrap_or_default();
        assert!(
            (logging.log_connections.as_str(), logging.log_min_messages.as_str(), logging.overridden)
                == ("on", "warning", false)
                && !logging.lc_messages.is_empty(),
            "{what}: the server says it logs logins: {logging:?}"
        );
        let now = time::OffsetDateTime::now_utc();
        // The log is written by the server's logging collector a moment after the login.
        let mut evidence =
            dbadmin_collector::logins::evidence(&at, &mut c, 90, now, true, &dbadmin_ports::logs::NoCloudLogs).await;
        for _ in 0..50 {
            if matches!(find(&c, "fx_super", None).unwrap().last_login, dbadmin_contracts::LastLogin::Logged(ref t) if dbadmin_contracts::parse_rfc3339(t).unwrap() >= before)
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            evidence =
                dbadmin_collector::logins::evidence(&at, &mut c, 90, now, true, &dbadmin_ports::logs::NoCloudLogs)
                    .await;
        }
        assert_eq!(evidence.missing, None, "{what}: {evidence:?}");
        assert!(evidence.logins > 0 && evidence.sha256.len() == 64, "{what}: {evidence:?}");
        match &find(&c, "fx_super", None).unwrap().last_login {
            dbadmin_contracts::LastLogin::Logged(t) => {
                assert!(dbadmin_contracts::parse_rfc3339(t).unwrap() >= before, "{what}: {t} is this test's login")
            }
            other => panic!("{what}: fx_super logged in: {other:?}"),
        }
        let never = &find(&c, "fx_createrole", None).unwrap().last_login;
        assert_eq!(
            never,
            &dbadmin_contracts::LastLogin::NeverSince(evidence.covers_from.clone().unwrap()),
            "{what}: the log starts inside the window"
        );
        // In a Lambda there is no such file: the reason is said, and no row is dated.
        let mut lambda = collect(Engine::Postgres, port).await;
        let e =
            dbadmin_collector::logins::evidence(&at, &mut lambda, 90, now, false, &dbadmin_ports::logs::NoCloudLogs)
                .await;
        assert_eq!(e.missing.as_deref(), Some("file: logs are read by local runs only"));
    }
}

#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn postgres_failures_are_typed() {
    require_server("PostgreSQL", pg_port());
    let bad = DbCredentials { username: "dbadmin_collector".into(), password: "wrong".into(), ..Default::default() };
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

#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn the_deployment_tls_floor_holds_on_postgres() {
    require_server("PostgreSQL", pg_port());
    // An inventory row below the deployment's floor: refused before any connection is opened.
    let floor = engine::ConnectOptions { min_tls: TlsMode::VerifyFull, ..options() };
    let (r, attempts) =
        engine::collect(&target(Engine::Postgres, pg_port(), TlsMode::Require), &collector_login(), &floor).await;
    let e = r.unwrap_err();
    assert_eq!((e.kind, attempts), (ErrorKind::Configuration, 0), "{}", e.reason);
    assert!(e.reason.contains("tls=require, below this deployment's minimum (verify-full)"), "{}", e.reason);
    let (r, _) =
        engine::collect(&target(Engine::Postgres, pg_port(), TlsMode::VerifyFull), &collector_login(), &floor).await;
    assert!(r.is_ok(), "at the floor: {r:?}");
}
