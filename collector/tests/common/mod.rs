//! Shared set-up for tests against the real servers started by `scripts/test-servers.sh up`.
#![allow(dead_code)]

pub mod harness;
pub mod sqlserver_estate;
pub mod tds_double;

use dbadmin_collector::engine::{self, ConnectOptions};
use dbadmin_contracts::{Collected, Engine, Level, Principal, Target, TlsMode};
use dbadmin_ports::DbCredentials;
use std::path::PathBuf;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("collector/ has a parent").to_owned()
}

pub fn port(var: &str, default: u16) -> u16 {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub fn ca_file() -> PathBuf {
    std::env::var("DBADMIN_TEST_CA_FILE").map(PathBuf::from).unwrap_or_else(|_| repo_root().join(".state/tls/ca.pem"))
}

/// Fails the test, naming the server, unless one answers on 127.0.0.1:`port` (tests that need one are `#[ignore = "needs …"]`: they run when asked for, as scripts/test.sh does).
pub fn require_server(name: &str, port: u16) {
    if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        panic!("{name} is not listening on 127.0.0.1:{port}; start it with scripts/test-servers.sh up");
    }
}

pub fn target(engine: Engine, port: u16, tls: TlsMode) -> Target {
    Target {
        id: format!("{engine}-fixture"),
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
        engine,
        host: "127.0.0.1".into(),
        port,
        databases: vec![],
        secret: "fixture".into(),
        role_arn: None,
        tls,
        tags: Default::default(),
        login_log: None,
    }
}

pub fn options() -> ConnectOptions {
    ConnectOptions { ca_file: Some(ca_file()), ..ConnectOptions::default() }
}

pub fn collector_login() -> DbCredentials {
    DbCredentials { username: "dbadmin_collector".into(), password: "collector-pw".into(), ..Default::default() }
}

pub async fn collect(engine: Engine, port: u16) -> Collected {
    let (result, _) = engine::collect(&target(engine, port, TlsMode::VerifyFull), &collector_login(), &options()).await;
    result.unwrap_or_else(|e| panic!("collecting {engine} on {port}: {e}"))
}

/// Asserts that a result from `engine` on `port` records the SHA-256 of the certificate the server
/// presents (the test CA's server certificate) in every TLS mode that encrypts, and none without TLS.
pub async fn assert_certificate_recorded(engine: Engine, port: u16) {
    let pem = std::fs::read(ca_file().with_file_name("server.pem")).unwrap();
    let der = rustls_pemfile::certs(&mut pem.as_slice()).next().unwrap().unwrap();
    let expected = dbadmin_contracts::sha256_hex(&der);
    for mode in [TlsMode::VerifyFull, TlsMode::VerifyCa, TlsMode::Require] {
        let (c, _) = engine::collect(&target(engine, port, mode), &collector_login(), &options()).await;
        let c = c.unwrap_or_else(|e| panic!("{engine} {mode}: {e}"));
        assert_eq!(c.server_certificate_sha256.as_deref(), Some(expected.as_str()), "{engine} {mode}");
    }
    let (c, _) = engine::collect(&target(engine, port, TlsMode::Disable), &collector_login(), &options()).await;
    assert_eq!(c.unwrap().server_certificate_sha256, None, "{engine}: no TLS, no certificate");
}

pub fn find<'a>(c: &'a Collected, name: &str, host: Option<&str>) -> Option<&'a Principal> {
    c.principals.iter().find(|p| p.name == name && p.host.as_deref() == host)
}

/// Asserts a principal is reported at `level` with a finding for `privilege` whose path is `path`.
#[track_caller]
pub fn expect(
    c: &Collected,
    name: &str,
    host: Option<&str>,
    level: Level,
    privilege: &str,
    path: &[&str],
) -> Principal {
    let p = find(c, name, host).unwrap_or_else(|| panic!("{name}@{host:?} is not reported; got {:?}", names(c)));
    assert_eq!(p.level, level, "{name}: level; findings {:#?}", p.findings);
    let f = p
        .findings
        .iter()
        .find(|f| f.privilege == privilege && f.path == path)
        .unwrap_or_else(|| panic!("{name}: no finding {privilege} with path {path:?}; findings {:#?}", p.findings));
    assert!(!f.reason.is_empty());
    p.clone()
}

#[track_caller]
pub fn absent(c: &Collected, name: &str, host: Option<&str>) {
    assert!(find(c, name, host).is_none(), "{name}@{host:?} must not be reported: {:#?}", find(c, name, host));
}

pub fn names(c: &Collected) -> Vec<String> {
    c.principals.iter().map(|p| p.display_name()).collect()
}
