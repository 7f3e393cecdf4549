//! The collector's SQL Server client path (tiberius: connect, login, encryption negotiation, query,
//! decoding, error mapping) against a TDS-speaking test double serving the recorded estate.
//! This proves the client path, **not** the T-SQL: see sqlserver_real.rs for that.

mod common;

use common::sqlserver_estate as estate;
use common::tds_double::{Reply, Responder, TdsDouble};
use dbadmin_collector::engine::sqlserver::{self as mssql, catalog_from_rows, quote_name};
use dbadmin_collector::engine::{self, ConnectOptions};
use dbadmin_contracts::{Engine, ErrorKind, TlsMode};
use dbadmin_ports::DbCredentials;
use std::sync::Arc;

/// Answers the query files as a SQL Server of `version` holding the recorded estate would.
fn estate_server(version: &'static str, deny: Option<&'static str>) -> Responder {
    let server = estate::server_rows();
    let dbs = estate::database_rows();
    Arc::new(move |sql: &str| {
        // The collector sends each query file's text without its trailing white space.
        let sql = sql.trim_end();
        let is = |text: &str| sql == text.trim_end();
        if deny.is_some_and(is) {
            return Reply::Error(
                300,
                "VIEW SERVER STATE permission was denied on object 'server', database 'master'.".into(),
            );
        }
        let legacy = version.starts_with("13.");
        let per_db = |q: (&str, &str), db: &str| q.1.replace("{db}", &quote_name(db)).trim_end().to_owned();
        let rows = if is(mssql::SERVER.1) {
            let mut r = estate::server_row();
            r[0] = Some(version.into());
            vec![r]
        } else if is(mssql::LOGINS.1) {
            server.logins.clone()
        } else if is(mssql::SERVER_ROLE_MEMBERS.1) {
            server.role_members.clone()
        } else if (is(mssql::SERVER_PERMISSIONS.1) && !legacy) || is(mssql::SERVER_PERMISSIONS_LEGACY.1) {
            server.permissions.clone()
        } else if is(mssql::SESSIONS.1) {
            server.sessions.clone()
        } else if is(mssql::DATABASES.1) {
            // tempdb and model are online too; querying them would hit the "unexpected query" arm.
            let system = ["tempdb", "model"].map(|n| vec![Some(n.to_owned()), Some("sa".to_owned())]);
            let id = |d: &Vec<Option<String>>| Some(estate::database_id(d[0].as_deref().unwrap_or("")).to_string());
            dbs.iter()
                .map(|d| vec![Some(d.name.clone()), d.owner.clone()])
                .chain(system)
                .map(|mut d| {
                    let i = id(&d);
                    d.push(i);
                    d
                })
                .collect()
        } else if let Some(d) = dbs.iter().find(|d| sql == per_db(mssql::DB_PRINCIPALS, &d.name)) {
            d.principals.clone()
        } else if let Some(d) = dbs.iter().find(|d| sql == per_db(mssql::DB_ROLE_MEMBERS, &d.name)) {
            d.role_members.clone()
        } else if let Some(d) = dbs.iter().find(|d| sql == per_db(mssql::DB_PERMISSIONS, &d.name)) {
            d.permissions.clone()
        } else if sql.contains("STRING_AGG") {
            return Reply::Error(195, "'STRING_AGG' is not a recognized built-in function name.".into());
        } else {
            return Reply::Error(208, format!("Invalid object name in unexpected query: {sql}"));
        };
        Reply::Rows(rows)
    })
}

fn login() -> DbCredentials {
    DbCredentials { username: "dbadmin_collector".into(), password: "s3cret!Pa55".into(), ..Default::default() }
}

fn opts() -> ConnectOptions {
    ConnectOptions { max_attempts: 2, backoff: std::time::Duration::from_millis(10), ..ConnectOptions::default() }
}

async fn run(
    double: &TdsDouble,
    tls: TlsMode,
    databases: &[&str],
    creds: DbCredentials,
) -> Result<dbadmin_contracts::Collected, engine::EngineError> {
    let mut target = common::target(Engine::Sqlserver, double.port, tls);
    target.databases = databases.iter().map(|d| d.to_string()).collect();
    let (r, _) = engine::collect(&target, &creds, &opts()).await;
    r
}

#[tokio::test]
async fn client_path_decodes_the_estate_exactly_as_the_row_mapping_does() {
    let double = TdsDouble::start("dbadmin_collector", "s3cret!Pa55", estate_server(estate::VERSION, None)).await;
    let collected = run(&double, TlsMode::Disable, &[], login()).await.expect("the double serves every query");
    assert_eq!(
        double.batches.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "three round trips: the version, the server-level views with the databases, every database's views"
    );
    let expected = catalog_from_rows(16, &estate::server_rows(), &estate::database_rows()).classify();
    assert_eq!(collected.principals, expected, "decoding through TDS loses or changes nothing");
    assert!(collected.server_version.contains("16.0.4135.4"));
    let names: Vec<&str> = collected.queries.iter().map(|q| q.name.as_str()).collect();
    assert!(names.contains(&"sqlserver/server_permissions"), "2017+ uses STRING_AGG: {names:?}");
    assert!(!names.contains(&"sqlserver/server_permissions_legacy"));
    assert_eq!(
        names.iter().filter(|n| **n == "sqlserver/db_principals").count(),
        3,
        "one per database: sales, msdb and hr, not tempdb or model"
    );
    let agent = collected.principals.iter().find(|p| p.name == "fx_agent_owner").expect("msdb's db_owner is admin");
    assert!(
        agent.findings.iter().any(|f| f.privilege == "MEMBER OF db_owner" && f.scope.contains("msdb")),
        "{:#?}",
        agent.findings
    );
}

#[tokio::test]
async fn servers_before_2017_get_the_for_xml_path_query() {
    let double = TdsDouble::start("dbadmin_collector", "s3cret!Pa55", estate_server("13.0.5026.0", None)).await;
    let collected = run(&double, TlsMode::Disable, &[], login()).await.expect("the legacy query is answered");
    let names: Vec<&str> = collected.queries.iter().map(|q| q.name.as_str()).collect();
    assert!(
        names.contains(&"sqlserver/server_permissions_legacy") && !names.contains(&"sqlserver/server_permissions"),
        "{names:?}"
    );
    assert!(collected.principals.iter().any(|p| p.name == "fx_control"));
}

#[tokio::test]
async fn the_inventory_narrows_databases() {
    let double = TdsDouble::start("dbadmin_collector", "s3cret!Pa55", estate_server(estate::VERSION, None)).await;
    let collected = run(&double, TlsMode::Disable, &["hr"], login()).await.unwrap();
    assert!(collected.principals.iter().all(|p| p.name != "fx_ddl"), "sales is out of scope");
    assert!(collected.principals.iter().any(|p| p.name == "fx_access"));
    assert!(
        collected.principals.iter().any(|p| p.name == "fx_agent_owner"),
        "msdb is read whatever databases the inventory names"
    );
    let err = run(&double, TlsMode::Disable, &["nope"], login()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Configuration);
    assert!(err.reason.contains("database nope"), "{}", err.reason);
}

#[tokio::test]
async fn errors_are_typed() {
    let double = TdsDouble::start("dbadmin_collector", "s3cret!Pa55", estate_server(estate::VERSION, None)).await;
    let bad = DbCredentials { username: "dbadmin_collector".into(), password: "wrong".into(), ..Default::default() };
    let err = run(&double, TlsMode::Disable, &[], bad).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::AuthenticationFailed, "{}", err.reason);
    assert!(!err.reason.contains("wrong"), "the password never appears in a reason");

    let err = run(&double, TlsMode::Require, &[], login()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Tls, "required encryption that the server declines: {}", err.reason);
    let err = run(&double, TlsMode::VerifyCa, &[], login()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Configuration);

    let denied =
        TdsDouble::start("dbadmin_collector", "s3cret!Pa55", estate_server(estate::VERSION, Some(mssql::SESSIONS.1)))
            .await;
    let err = run(&denied, TlsMode::Disable, &[], login()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InsufficientPrivilege, "{}", err.reason);
    assert!(
        err.reason.starts_with("query sqlserver/sessions: "),
        "the failing query of the batch is named: {}",
        err.reason
    );

    let old = TdsDouble::start("dbadmin_collector", "s3cret!Pa55", estate_server("10.50.6000.34", None)).await;
    assert_eq!(run(&old, TlsMode::Disable, &[], login()).await.unwrap_err().kind, ErrorKind::UnsupportedVersion);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (r, attempts) =
        engine::collect(&common::target(Engine::Sqlserver, closed, TlsMode::Disable), &login(), &opts()).await;
    assert_eq!(r.unwrap_err().kind, ErrorKind::Unreachable);
    assert_eq!(attempts, 2);
}
