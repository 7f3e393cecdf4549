//! The collector handler's invariants over the embedded adapters, with faults injected between
//! steps: redelivery counts once, a crash after storing or after counting still finalizes, a
//! missing secret becomes an error result that names it, a job of an old version is dropped.

mod common;

use async_trait::async_trait;
use common::harness::{job, Harness, REPORT};
use dbadmin_collector::{handle_job, CollectorDeps, CollectorError};
use dbadmin_contracts::{keys, CollectionJob, Engine, ErrorKind, Outcome, Target, TargetResult, TlsMode};
use dbadmin_ports::faults::{FailCounting, FailFinalizing};
use dbadmin_ports::local::ChannelQueue;
use dbadmin_ports::{CompletionCounter, CredentialError, CredentialSource, DbCredentials, FinalizeClaims};
use std::sync::atomic::{AtomicU32, Ordering};

/// No secret exists; counts how often it was asked.
#[derive(Default)]
struct NoSecrets(AtomicU32);

#[async_trait]
impl CredentialSource for NoSecrets {
    async fn credentials(&self, t: &Target) -> Result<DbCredentials, CredentialError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(CredentialError::NotFound { secret: t.secret.clone(), hint: String::new() })
    }
}

fn target(id: &str) -> Target {
    Target {
        id: id.into(),
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
        engine: Engine::Mysql,
        host: "127.0.0.1".into(),
        port: 3306,
        databases: vec![],
        secret: format!("missing/{id}"),
        role_arn: None,
        tls: TlsMode::VerifyFull,
        tags: Default::default(),
        login_log: None,
    }
}

/// The first `n` of targets `a` and `b`.
fn targets(n: usize) -> Vec<Target> {
    ["a", "b"].iter().take(n).map(|id| target(id)).collect()
}

#[tokio::test]
async fn redelivery_counts_once_and_missing_secret_is_an_error_row() {
    let mut h = Harness::new(targets(2)).await;
    let creds = NoSecrets::default();
    let deps = h.deps(&creds);

    let first = handle_job(&job("a"), &deps).await.unwrap();
    assert_eq!(first.error, Some(ErrorKind::Credentials));
    assert!(first.newly_counted && !first.finalize_sent);
    let again = handle_job(&job("a"), &deps).await.unwrap();
    assert!(!again.newly_counted, "a redelivered job must not count twice");
    assert_eq!(again.completed, Some(1));
    // The first stored outcome of a version wins, error rows included: the redelivery counts it as it
    // is (a retry of the report collects again, under the next version).
    assert_eq!(creds.0.load(Ordering::SeqCst), 1, "a redelivery reuses the stored outcome");

    let last = handle_job(&job("b"), &deps).await.unwrap();
    assert!(last.finalize_sent && last.completed == Some(2));
    assert_eq!(h.finalized.try_recv().unwrap().report_id, REPORT);
    assert!(h.finalized.try_recv().is_err(), "asked for once, by the last count");

    let path = h.dir.path().join(keys::result(REPORT, 1, "a"));
    let stored: TargetResult = dbadmin_contracts::decode(&std::fs::read(path).unwrap()).unwrap();
    match stored.outcome {
        Outcome::Failed(f) => assert!(f.reason.contains("missing/a"), "the reason names the secret: {}", f.reason),
        other => panic!("expected an error result, got {other:?}"),
    }
}

#[tokio::test]
async fn crash_between_store_and_count_is_repaired_by_redelivery() {
    let mut h = Harness::new(targets(1)).await;
    let dying = FailCounting::new(&h.runs, 1);
    let creds = NoSecrets::default();
    let deps = CollectorDeps { counter: &dying, ..h.deps(&creds) };

    let err = handle_job(&job("a"), &deps).await.unwrap_err();
    assert!(matches!(err, CollectorError::Count { .. }), "{err}");
    assert!(h.dir.path().join(keys::result(REPORT, 1, "a")).exists(), "the result was stored before the crash");

    let retry = handle_job(&job("a"), &deps).await.unwrap();
    assert!(retry.newly_counted && retry.finalize_sent);
    assert_eq!(h.finalized.try_recv().unwrap().report_id, REPORT);
    assert_eq!(h.runs.completed_targets(REPORT).await.unwrap().len(), 1);
}

#[tokio::test]
async fn crash_between_count_and_finalize_still_finalizes() {
    let h = Harness::new(targets(1)).await;
    let (inner, mut rx) = ChannelQueue::new();
    let finalize = FailFinalizing::new(inner, 1);
    let creds = NoSecrets::default();
    let deps = CollectorDeps { finalize: &finalize, ..h.deps(&creds) };

    assert!(matches!(handle_job(&job("a"), &deps).await.unwrap_err(), CollectorError::Finalize { .. }));
    let retry = handle_job(&job("a"), &deps).await.unwrap();
    assert!(!retry.newly_counted, "already counted before the crash");
    assert!(retry.finalize_sent, "a full count sends the finalize request again");
    assert_eq!(rx.try_recv().unwrap().report_id, REPORT);
}

#[tokio::test]
async fn a_job_of_a_version_the_run_moved_past_is_dropped_uncounted() {
    let h = Harness::new(targets(2)).await;
    let creds = NoSecrets::default();
    let deps = h.deps(&creds);
    let runs = &h.runs;
    // Version 1 is written and a retry moved the run to version 2 for target a.
    for id in ["a", "b"] {
        handle_job(&job(id), &deps).await.unwrap();
    }
    assert_eq!(runs.claim_finalize(REPORT).await.unwrap().unwrap().version, 1);
    runs.record_report(REPORT, 1, "v1").await.unwrap();
    let started = runs.begin_version(REPORT, 1, &["a".to_owned()]).await.unwrap();
    assert_eq!(started, dbadmin_ports::NewVersion::Started { version: 2, reset: 1 });

    // A late redelivery of a's version-1 job: its stored outcome must not stand in for version 2.
    let late = handle_job(&job("a"), &deps).await.unwrap();
    assert!(late.stale && !late.newly_counted, "{late:?}");
    assert!(!runs.counted(REPORT).await.unwrap().contains_key("a"), "a waits for its version-2 job");
    let fresh = CollectionJob { version: 2, ..job("a") };
    let report = handle_job(&fresh, &deps).await.unwrap();
    assert!(report.newly_counted && report.finalize_sent && !report.stale);
    assert_eq!(runs.counted(REPORT).await.unwrap()["a"].version, 2);
    assert!(h.dir.path().join(keys::result(REPORT, 2, "a")).exists(), "version 2's result has its own key");
}

/// Counts reads of results through to a real store.
struct CountingReads<'a> {
    inner: &'a dyn dbadmin_ports::ObjectStore,
    result_reads: AtomicU32,
}

#[async_trait]
impl dbadmin_ports::ObjectStore for CountingReads<'_> {
    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<dbadmin_ports::Stored, dbadmin_ports::PortError> {
        self.inner.put(key, body, content_type).await
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, dbadmin_ports::PortError> {
        if key.contains("/results/") {
            self.result_reads.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.get(key).await
    }
    fn location(&self, key: &str) -> String {
        self.inner.location(key)
    }
}

/// A first delivery does not look for a stored result (nothing can have stored one); a redelivery
/// does and reuses it; SNS delivering one job twice as two first deliveries still counts once,
/// with the first stored outcome.
#[tokio::test]
async fn a_first_delivery_reads_no_result_and_a_duplicate_first_delivery_counts_once() {
    use dbadmin_collector::{handle_delivery, Delivery};
    let h = Harness::new(targets(2)).await;
    let creds = NoSecrets::default();
    let store = CountingReads { inner: &h.store, result_reads: AtomicU32::new(0) };
    let deps = CollectorDeps { store: &store, ..h.deps(&creds) };
    let first = Delivery { first: true, ..Delivery::default() };

    let done = handle_delivery(&job("a"), &deps, first).await.unwrap();
    assert!(done.newly_counted && done.error == Some(ErrorKind::Credentials));
    assert_eq!(store.result_reads.load(Ordering::SeqCst), 0, "no read of a result on a first delivery");

    // The same job again as another first delivery (SNS's at-least-once): collected again, its put
    // finds the stored result, which is counted, once.
    let duplicate = handle_delivery(&job("a"), &deps, first).await.unwrap();
    assert!(!duplicate.newly_counted, "counted once");
    assert_eq!(store.result_reads.load(Ordering::SeqCst), 1, "the put found a result: it is read and used");

    // A redelivery reads the stored result first and collects nothing.
    let asked = creds.0.load(Ordering::SeqCst);
    let again = handle_delivery(&job("a"), &deps, Delivery::default()).await.unwrap();
    assert!(!again.newly_counted);
    assert_eq!(creds.0.load(Ordering::SeqCst), asked, "a redelivery reuses the stored outcome");
    assert_eq!(store.result_reads.load(Ordering::SeqCst), 2);
}
