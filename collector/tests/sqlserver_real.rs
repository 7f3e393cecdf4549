//! Opt-in: the SQL Server queries against a **real** server. Runs only when `MSSQL_TEST_URL`
//! is set, e.g. `mssql://sa:Str0ng!Passw0rd@127.0.0.1:1433?tls=require` (see docs/sqlserver.md for a
//! Docker command); otherwise it prints why it is skipped. It loads scripts/fixtures/sqlserver.sql
//! as the admin login, then collects as the low-privileged `dbadmin_collector` login.

mod common;

use dbadmin_collector::engine::{self, ConnectOptions};
use dbadmin_contracts::{Engine, Level, TlsMode};
use dbadmin_ports::DbCredentials;
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio_util::compat::TokioAsyncWriteCompatExt;

struct Url {
    user: String,
    password: String,
    host: String,
    port: u16,
    tls: TlsMode,
}

fn parse(url: &str) -> Url {
    let rest = url.strip_prefix("mssql://").expect("MSSQL_TEST_URL starts with mssql://");
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (auth, addr) = rest.rsplit_once('@').expect("MSSQL_TEST_URL holds user:password@host:port");
    let (user, password) = auth.split_once(':').expect("user:password");
    let (host, port) = addr.rsplit_once(':').unwrap_or((addr, "1433"));
    let tls = query.split('&').find_map(|kv| kv.strip_prefix("tls=")).unwrap_or("require").parse().expect("tls mode");
    Url { user: user.into(), password: password.into(), host: host.into(), port: port.parse().expect("port"), tls }
}

async fn load_fixtures(url: &Url) {
    let mut config = Config::new();
    config.host(&url.host);
    config.port(url.port);
    config.authentication(AuthMethod::sql_server(&url.user, &url.password));
    match url.tls {
        TlsMode::Disable => config.encryption(EncryptionLevel::NotSupported),
        _ => {
            config.encryption(EncryptionLevel::Required);
            config.trust_cert();
        }
    }
    let tcp = tokio::net::TcpStream::connect((url.host.as_str(), url.port)).await.expect("reach MSSQL_TEST_URL");
    tcp.set_nodelay(true).unwrap();
    let mut client = Client::connect(config, tcp.compat_write()).await.expect("log in as the admin of MSSQL_TEST_URL");
    let script = std::fs::read_to_string(common::repo_root().join("scripts/fixtures/sqlserver.sql")).unwrap();
    for batch in script.split("\nGO\n") {
        let stream = client.simple_query(batch).await.unwrap_or_else(|e| panic!("fixture batch failed: {e}\n{batch}"));
        stream.into_results().await.unwrap_or_else(|e| panic!("fixture batch failed: {e}\n{batch}"));
    }
}

#[tokio::test]
#[ignore = "needs a SQL Server: MSSQL_TEST_URL (none can run on this machine; docs/sqlserver.md)"]
async fn real_sql_server_admin_definition() {
    let Ok(raw) = std::env::var("MSSQL_TEST_URL") else {
        panic!("MSSQL_TEST_URL is not set: name a SQL Server to run this test (docs/sqlserver.md)");
    };
    let url = parse(&raw);
    load_fixtures(&url).await;
    let mut target = common::target(Engine::Sqlserver, url.port, url.tls);
    target.host = url.host.clone();
    let creds = DbCredentials {
        username: "dbadmin_collector".into(),
        password: "Collector-Passw0rd!".into(),
        ..Default::default()
    };
    let (result, _) = engine::collect(&target, &creds, &ConnectOptions::default()).await;
    let c = result.expect("collect as dbadmin_collector");
    let get = |n: &str| c.principals.iter().find(|p| p.name == n).unwrap_or_else(|| panic!("{n} not reported"));
    let has = |n: &str, privilege: &str, path: &[&str]| {
        let p = get(n);
        assert!(
            p.findings.iter().any(|f| f.privilege == privilege && f.path == path),
            "{n}: {privilege} via {path:?}; {:#?}",
            p.findings
        );
        p.clone()
    };
    has("sa", "MEMBER OF sysadmin", &["sa", "sysadmin"]);
    has("fx_secadmin", "MEMBER OF securityadmin", &["fx_secadmin", "securityadmin"]);
    has("fx_nested", "CONTROL SERVER", &["fx_nested", "fx_ops_role", "fx_core_role", "CONTROL SERVER"]);
    has("fx_control", "CONTROL SERVER", &["fx_control", "CONTROL SERVER"]);
    has("fx_impersonate", "IMPERSONATE ON LOGIN::sa", &["fx_impersonate", "IMPERSONATE ON LOGIN::sa"]);
    assert_eq!(has("fx_viewstate", "VIEW SERVER STATE", &["fx_viewstate", "VIEW SERVER STATE"]).level, Level::Elevated);
    for p in [
        "MEMBER OF processadmin",
        "MEMBER OF setupadmin",
        "ALTER ANY LOGIN",
        "ALTER ANY SERVER ROLE",
        "CREATE ANY DATABASE",
    ] {
        assert!(get("fx_rds_like").findings.iter().any(|f| f.privilege == p), "fx_rds_like lacks {p}");
    }
    assert_eq!(get("fx_disabled").status.flags, vec!["DISABLED"]);
    assert_eq!(get("fx_denied").status.flags, vec!["CONNECT_DENIED"]);
    assert!(get("fx_mustchange").status.flags.contains(&"MUST_CHANGE".to_owned()));
    assert!(get("fx_nopolicy").notes.contains(&"CHECK_POLICY OFF".to_owned()));
    has("fx_app_owner", "OWNER", &["fx_app_owner", "fx_sales.dbo", "OWNER"]);
    has("fx_ddl", "MEMBER OF db_ddladmin", &["fx_ddl", "fx_sales.fx_ddl", "db_ddladmin"]);
    has("fx_dbcontrol", "CONTROL", &["fx_dbcontrol", "fx_sales.fx_dbcontrol", "CONTROL"]);
    has("fx_dbnested", "MEMBER OF db_owner", &["fx_dbnested", "fx_sales.fx_dbnested", "fx_app_admins", "db_owner"]);
    has("fx_agent_owner", "MEMBER OF db_owner", &["fx_agent_owner", "msdb.fx_agent_owner", "db_owner"]);
    assert!(get("fx_orphan").notes.iter().any(|n| n.starts_with("orphaned database user in fx_sales")));
    assert!(c.principals.iter().all(|p| p.name != "fx_reader"), "db_datareader is not admin");
    assert!(c.queries.iter().any(|q| q.name == "sqlserver/server_permissions"), "2017+ runs the STRING_AGG query");
}
