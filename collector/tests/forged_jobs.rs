//! A collection job names a target; it cannot carry one. Whatever a message claims about a host,
//! port or secret, the collector connects only to what the publisher's population snapshot says,
//! and a job naming a target outside that snapshot never opens a connection.

mod common;

use async_trait::async_trait;
use common::harness::{Harness, REPORT};
use dbadmin_collector::{handle_job, CollectorError};
use dbadmin_contracts::{CollectionJob, Engine, Target, TlsMode};
use dbadmin_ports::{AttemptLog, CredentialError, CredentialSource, DbCredentials, ObjectStore};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// A real secret exists for every target: the forger's aim is to have it sent to their host.
#[derive(Default)]
struct RealSecret(AtomicU32);

#[async_trait]
impl CredentialSource for RealSecret {
    async fn credentials(&self, _: &Target) -> Result<DbCredentials, CredentialError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(DbCredentials { username: "admin".into(), password: "the-real-password".into(), ..Default::default() })
    }
}

fn target(id: &str, host: &str, port: u16) -> Target {
    Target {
        id: id.into(),
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
        engine: Engine::Mysql,
        host: host.into(),
        port,
        databases: vec![],
        secret: "prod/db".into(),
        role_arn: None,
        tls: TlsMode::Disable,
        tags: Default::default(),
        login_log: None,
    }
}

#[tokio::test]
async fn a_forged_job_never_reaches_the_forgers_listener() {
    // The forger's listener; a connection to it would carry the real login.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let forged_port = listener.local_addr().unwrap().port();
    // The genuine target: a closed port, so a genuine attempt fails fast as `unreachable`.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();

    let h = Harness::new(vec![target("genuine", "127.0.0.1", closed)]).await;
    let creds = RealSecret::default();
    let deps = h.deps(&creds);

    let forged = serde_json::to_value(target("genuine", "127.0.0.1", forged_port)).unwrap();
    let outsider = serde_json::to_value(target("outsider", "127.0.0.1", forged_port)).unwrap();
    let bodies = [
        // The old shape: the whole target in the message, under a genuine id.
        serde_json::json!({"schema_version": 1, "report_id": "R1", "target": forged}),
        // The old shape, under an id outside the population.
        serde_json::json!({"schema_version": 1, "report_id": "R1", "target": outsider}),
        // The new shape with a target smuggled in beside the id.
        serde_json::json!({"schema_version": 2, "report_id": "R1", "target_id": "genuine", "version": 1, "target": forged}),
        // The new shape naming a target outside the population, and a report that does not exist.
        serde_json::json!({"schema_version": 2, "report_id": "R1", "target_id": "outsider", "version": 1}),
        serde_json::json!({"schema_version": 2, "report_id": "NOPE", "target_id": "genuine", "version": 1}),
    ];
    for body in bodies {
        let bytes = serde_json::to_vec(&body).unwrap();
        // A body that does not decode is poison before any connection; one that does is handled, and
        // one naming no target of its report is poison too.
        if let Ok(job) = dbadmin_contracts::decode::<CollectionJob>(&bytes) {
            match handle_job(&job, &deps).await {
                Err(e @ (CollectorError::UnknownTarget { .. } | CollectorError::UnknownReport { .. })) => {
                    assert!(!e.is_retryable(), "a job outside the population is poison, never retried: {e}");
                    assert!(e.to_string().contains("not published by this system"), "{e}");
                }
                // The genuine target, from the snapshot: its closed port is an error row.
                Ok(report) => assert_eq!(report.error, Some(dbadmin_contracts::ErrorKind::Unreachable)),
                Err(e) => panic!("{body}: {e}"),
            }
        }
        match listener.accept() {
            Ok((_, from)) => panic!("the forged job {body} connected to the forger's listener (from {from})"),
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}"),
        }
    }
    assert_eq!(creds.0.load(Ordering::SeqCst), 1, "the login was fetched once, for the genuine target");
    assert!(h.runs.attempt_errors(REPORT).await.unwrap().is_empty(), "a forged job records nothing on the run");
}

/// Whoever writes the inventory can pair any secret with any host. A secret that says where its
/// database is (the RDS fields) goes only there: a target pointing it at another host is an error
/// row `credential_host_mismatch`, and nothing connects to that host. Through the real local
/// secrets adapter, reading the same secret for the genuine target first (as a cache would).
#[tokio::test]
async fn a_secret_bound_to_its_host_is_never_sent_to_another() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let thief_port = listener.local_addr().unwrap().port();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets.json");
    let secret = serde_json::json!({"prod/db": {"username": "admin", "password": "the-real-password",
        "engine": "mysql", "host": "127.0.0.1", "port": closed, "dbInstanceIdentifier": "prod-db"}});
    std::fs::write(&secrets, secret.to_string()).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&secrets, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let creds = dbadmin_ports::local::LocalCredentials::from_file(&secrets).unwrap();

    let h = Harness::new(vec![target("genuine", "127.0.0.1", closed), target("thief", "127.0.0.1", thief_port)]).await;
    let deps = h.deps(&creds);
    let genuine = handle_job(&common::harness::job("genuine"), &deps).await.unwrap();
    assert_eq!(genuine.error, Some(dbadmin_contracts::ErrorKind::Unreachable), "the genuine target is tried");
    let thief = handle_job(&common::harness::job("thief"), &deps).await.unwrap();
    assert_eq!(thief.error, Some(dbadmin_contracts::ErrorKind::CredentialHostMismatch));
    match listener.accept() {
        Ok((_, from)) => panic!("the secret was sent to another host's listener (from {from})"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}"),
    }
    let stored = h.store.get(&dbadmin_contracts::keys::result(REPORT, 1, "thief")).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&stored);
    assert!(text.contains(&format!("the secret is for port {closed}")), "the row says why: {text}");
    assert!(!text.contains("the-real-password"));
}
