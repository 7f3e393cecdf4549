//! Every job ends by its delivery's deadline, whatever the database does: a server that accepts and
//! never answers, and a real server behind a proxy that stalls once the first catalog query is sent,
//! both become a counted `timeout` error row naming what was in progress — well before the
//! per-step time-outs (30 s per query) would have ended them. On the queue's last delivery, a
//! failure that would have been redelivered becomes an error row instead of resting in the DLQ.

mod common;

use async_trait::async_trait;
use common::harness::{self, Harness};
use common::*;
use dbadmin_collector::{handle_delivery, CollectorError, ConnectOptions, Delivery};
use dbadmin_contracts::{keys, CollectionJob, Engine, ErrorKind, Outcome, Target, TargetResult, TlsMode};
use dbadmin_ports::{CredentialError, CredentialSource, DbCredentials, ObjectStore, RunRecords};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Fixed(DbCredentials);

#[async_trait]
impl CredentialSource for Fixed {
    async fn credentials(&self, _: &Target) -> Result<DbCredentials, CredentialError> {
        Ok(self.0.clone())
    }
}

/// Secrets Manager throttling on every call.
struct Throttled;

#[async_trait]
impl CredentialSource for Throttled {
    async fn credentials(&self, t: &Target) -> Result<DbCredentials, CredentialError> {
        Err(CredentialError::Transient {
            secret: t.secret.clone(),
            source: "ThrottlingException: Rate exceeded".into(),
        })
    }
}

/// A run whose one target, `slow`, is a MariaDB on 127.0.0.1:`port`.
async fn world(port: u16) -> Harness {
    let mut slow = target(Engine::Mariadb, port, TlsMode::Disable);
    slow.id = "slow".into();
    let mut h = Harness::new(vec![slow]).await;
    // The per-step limits are long: only the deadline can end these jobs quickly.
    h.connect = ConnectOptions {
        connect_timeout: Duration::from_secs(30),
        query_timeout: Duration::from_secs(30),
        ..ConnectOptions::default()
    };
    h
}

fn job() -> CollectionJob {
    harness::job("slow")
}

/// Handles the job under a deadline `budget` from now; the guard fails the test instead of hanging.
async fn run(
    w: &Harness,
    creds: &dyn CredentialSource,
    job: &CollectionJob,
    delivery: Delivery,
) -> Result<dbadmin_collector::JobReport, CollectorError> {
    let deps = w.deps(creds);
    tokio::time::timeout(Duration::from_secs(20), handle_delivery(job, &deps, delivery))
        .await
        .expect("the job must end by its deadline, not by the per-step time-outs")
}

async fn stored(w: &Harness) -> TargetResult {
    let bytes = w.store.get(&keys::result("R1", 1, "slow")).await.unwrap().expect("an error row is stored");
    dbadmin_contracts::decode(&bytes).unwrap()
}

fn in_seconds(s: f32) -> Delivery {
    Delivery { deadline: Some(tokio::time::Instant::now() + Duration::from_secs_f32(s)), last: false, first: false }
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout_row_by_the_deadline() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let w = world(port).await;
    let creds = Fixed(collector_login());
    let report = run(&w, &creds, &job(), in_seconds(1.5)).await.unwrap();
    assert_eq!(report.error, Some(ErrorKind::Timeout));
    assert!(report.newly_counted && report.completed == Some(1), "the target is counted: the report can finish");
    let Outcome::Failed(f) = stored(&w).await.outcome else { panic!("an error row") };
    assert_eq!(f.kind, ErrorKind::Timeout);
    assert!(
        f.reason.contains("time budget") && f.reason.contains(&format!("connecting to 127.0.0.1:{port}")),
        "{}",
        f.reason
    );
    drop(silent);
}

/// Forwards to `upstream` until the client sends a chunk holding `trigger`, then holds that chunk
/// and everything after it: the server never sees the query, the client never gets an answer.
async fn stalling_proxy(upstream: u16, trigger: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect(("127.0.0.1", upstream)).await.unwrap();
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut stalled = false;
                while let Ok(n) = cr.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    stalled |= buf[..n].windows(trigger.len()).any(|w| w == trigger);
                    if !stalled && sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut sr, &mut cw).await;
            });
        }
    });
    port
}

#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn a_server_that_stalls_mid_query_is_a_timeout_row_naming_the_query() {
    let mariadb = port("DBADMIN_TEST_MARIADB_PORT", 13306);
    require_server("MariaDB", mariadb);
    // The first catalog query (collector/queries/mysql/server.sql) never reaches the server.
    let proxy = stalling_proxy(mariadb, b"SELECT VERSION()").await;
    let w = world(proxy).await;
    let creds = Fixed(collector_login());
    let report = run(&w, &creds, &job(), in_seconds(2.0)).await.unwrap();
    assert_eq!(report.error, Some(ErrorKind::Timeout));
    let Outcome::Failed(f) = stored(&w).await.outcome else { panic!("an error row") };
    // The version and the privilege columns are read in one round trip: both are named.
    assert!(
        f.reason.contains("in progress: queries mysql/server, mysql/priv_columns"),
        "the login passed, the query stalled: {}",
        f.reason
    );
    assert_eq!(w.runs.get_run("R1").await.unwrap().unwrap().failed, 1);
}

#[tokio::test]
async fn the_last_delivery_turns_a_retryable_failure_into_an_error_row() {
    let w = world(1).await;
    let job = job();
    let err = run(&w, &Throttled, &job, Delivery::default()).await.unwrap_err();
    assert!(matches!(err, CollectorError::Credentials { .. }), "an earlier delivery is retried: {err}");
    assert!(w.store.get(&keys::result("R1", 1, "slow")).await.unwrap().is_none());

    let report = run(&w, &Throttled, &job, Delivery { deadline: None, last: true, first: false }).await.unwrap();
    assert_eq!(report.error, Some(ErrorKind::Credentials));
    assert_eq!(report.completed, Some(1), "counted: the report finishes without waiting on the DLQ");
    let Outcome::Failed(f) = stored(&w).await.outcome else { panic!("an error row") };
    assert!(f.reason.contains("Rate exceeded") && f.reason.contains("last delivery"), "{}", f.reason);
}

/// A login log that never answers (CloudWatch Logs hanging).
struct HangingLogs;

#[async_trait]
impl dbadmin_ports::LoginLogs for HangingLogs {
    async fn read(
        &self,
        _: &Target,
        _: &str,
        _: &[&str],
        _: i64,
        _: i64,
    ) -> Result<dbadmin_ports::LogRead, dbadmin_ports::LogError> {
        std::future::pending().await
    }
}

/// The login evidence is read beside the catalogs; a log query that hangs is the reason there is
/// no evidence, on a stored and counted result, by the job's deadline.
#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn a_login_log_that_never_answers_is_missing_evidence_by_the_deadline() {
    let pg = port("DBADMIN_TEST_PG_PORT", 15432);
    require_server("PostgreSQL", pg);
    let mut t = target(Engine::Postgres, pg, TlsMode::VerifyFull);
    t.id = "slow".into();
    t.tags.insert("identifier".into(), "slow".into());
    t.login_log = Some("cloudwatch:/aws/rds/instance/slow/postgresql".into());
    let mut w = Harness::new(vec![t]).await;
    w.connect = options();
    let creds = Fixed(collector_login());
    let deps = dbadmin_collector::CollectorDeps { login_logs: &HangingLogs, ..w.deps(&creds) };
    let started = std::time::Instant::now();
    let report = tokio::time::timeout(Duration::from_secs(20), handle_delivery(&job(), &deps, in_seconds(4.0)))
        .await
        .expect("the job ends by its deadline")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
    assert_eq!(report.error, None, "the catalogs were read: {report:?}");
    assert!(report.newly_counted);
    let Outcome::Collected(c) = stored(&w).await.outcome else { panic!("collected") };
    let evidence = c.login_evidence.expect("evidence recorded");
    assert!(evidence.missing.as_deref().is_some_and(|m| m.contains("was not read within")), "{evidence:?}");
}
