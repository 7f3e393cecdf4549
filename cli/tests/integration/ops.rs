//! `status`, `wait`, `retry` and the dead-letter operations on the embedded adapters (the same code
//! runs against the AWS adapters in deployed_cli.rs): a run with one collected, one failed and one
//! missing target, a DLQ holding that target's job and a message that is not a job.

use db_admin_report::ops::{Deployment, Queue, RetryPlan, WaitOutcome};
use db_admin_report::NotReady;
use dbadmin_contracts::message::Population;
use dbadmin_contracts::result::{Failure, TargetRef};
use dbadmin_contracts::{
    keys, CollectionJob, Engine, ErrorKind, Filters, FinalizeMessage, Outcome, ReportRequest, Target, TargetResult,
    TlsMode, Versioned,
};
use dbadmin_ports::local::{ChannelQueue, DirStore, MemoryDeadLetterQueue, MemoryRunStore};
use dbadmin_ports::{
    AttemptLog, CompletionCounter, DeadLetterQueue, FinalizeClaims, ObjectStore, RunRecord, RunRecords,
};
use std::sync::Arc;
use std::time::Duration;

const ID: &str = "01JD3Q5W0000000000000000AA";

fn target(id: &str) -> Target {
    Target {
        id: id.into(),
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
        engine: Engine::Postgres,
        host: format!("{id}.example"),
        port: 5432,
        databases: vec![],
        secret: "s".into(),
        role_arn: None,
        tls: TlsMode::VerifyFull,
        tags: Default::default(),
        login_log: None,
    }
}

fn job(id: &str) -> String {
    let job = CollectionJob {
        schema_version: CollectionJob::SCHEMA_VERSION,
        report_id: ID.into(),
        target_id: id.into(),
        version: 1,
    };
    String::from_utf8(dbadmin_contracts::encode(&job)).unwrap()
}

struct Fixture {
    ops: Deployment,
    runs: Arc<MemoryRunStore>,
    dlq: Arc<MemoryDeadLetterQueue>,
    finalize_dlq: Arc<MemoryDeadLetterQueue>,
    requests: tokio::sync::mpsc::UnboundedReceiver<ReportRequest>,
    finalized: tokio::sync::mpsc::UnboundedReceiver<FinalizeMessage>,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::new(dir.path());
    let population = Population {
        schema_version: Population::SCHEMA_VERSION,
        report_id: ID.into(),
        inventory_source: "inventory.csv".into(),
        inventory_sha256: "0".repeat(64),
        filters: Filters::default(),
        targets: vec![target("a"), target("b"), target("c")],
        baseline: None,
    };
    let _ = store.put(&keys::population(ID), dbadmin_contracts::encode(&population), "application/json").await.unwrap();
    let failed = TargetResult {
        schema_version: TargetResult::SCHEMA_VERSION,
        report_id: ID.into(),
        target: TargetRef::from(&target("b")),
        collected_at: dbadmin_contracts::now_rfc3339(),
        attempts: 3,
        duration_ms: 10,
        credential_binding: None,
        outcome: Outcome::Failed(Failure { kind: ErrorKind::Unreachable, reason: "b.example:5432 refused".into() }),
    };
    let _ = store.put(&keys::result(ID, 1, "b"), dbadmin_contracts::encode(&failed), "application/json").await.unwrap();

    let runs = Arc::new(MemoryRunStore::new());
    let record = RunRecord::new(ID, "arn:aws:iam::123456789012:user/ops", "2026-12-02T03:00:00Z", 3);
    runs.create_run(&record).await.unwrap();
    runs.mark_complete(ID, "a", 1, false).await.unwrap();
    runs.mark_complete(ID, "b", 1, true).await.unwrap();
    runs.record_attempt_error(ID, "c", "Lambda timed out").await.unwrap();

    let dlq = Arc::new(MemoryDeadLetterQueue::new());
    dlq.push(&job("c"), 3);
    dlq.push("{\"not\": \"a job\"}", 3);
    let (requests, rx) = ChannelQueue::<ReportRequest>::new();
    let (finalize, finalize_rx) = ChannelQueue::<FinalizeMessage>::new();
    // A finalize message that failed: it names the report.
    let finalize_dlq = Arc::new(MemoryDeadLetterQueue::new());
    let message = FinalizeMessage { schema_version: FinalizeMessage::SCHEMA_VERSION, report_id: ID.into() };
    finalize_dlq.push(&String::from_utf8(dbadmin_contracts::encode(&message)).unwrap(), 5);
    let ops = Deployment {
        runs: Some(runs.clone()),
        store: Some(Arc::new(store)),
        requests: Some(Arc::new(requests)),
        finalize: Some(Arc::new(finalize)),
        dlqs: [(Queue::Collect, dlq.clone() as Arc<dyn DeadLetterQueue>), (Queue::Finalize, finalize_dlq.clone() as _)]
            .into_iter()
            .collect(),
        poll: Some(Duration::from_millis(5)),
    };
    Fixture { ops, runs, dlq, finalize_dlq, requests: rx, finalized: finalize_rx, _dir: dir }
}

#[tokio::test]
async fn status_names_missing_and_failed_targets_and_dlq_messages() {
    let f = fixture().await;
    let s = f.ops.status(ID).await.unwrap();
    assert_eq!((s.state, s.total, s.completed, s.failed), ("running", 3, 2, 1));
    assert_eq!(s.missing.len(), 1);
    assert_eq!(s.missing[0].target_id, "c");
    assert_eq!(s.missing[0].last_error.as_ref().unwrap().error, "Lambda timed out");
    assert_eq!(s.failed_targets.len(), 1);
    assert_eq!((s.failed_targets[0].target_id.as_str(), s.failed_targets[0].error_kind.as_str()), ("b", "unreachable"));
    assert_eq!(s.dlq_messages, Some(2), "its job and its finalize message; the other message is not a job");
    let by_queue: Vec<(Queue, usize)> = s.dlq_by_queue.iter().map(|(q, n)| (*q, *n)).collect();
    assert_eq!(by_queue, vec![(Queue::Collect, 1), (Queue::Finalize, 1)], "counted per queue");
    let err = f.ops.status("01NOSUCHREPORT").await.unwrap_err();
    assert!(err.to_string().contains("no report with id 01NOSUCHREPORT"), "{err}");
}

#[tokio::test]
async fn wait_times_out_then_sees_the_version_written() {
    let f = fixture().await;
    match f.ops.wait(ID, 1, Duration::from_millis(30), &()).await.unwrap() {
        WaitOutcome::TimedOut(Some(run)) => assert_eq!(run.completed, 2),
        other => panic!("expected a time-out with the run, got {other:?}"),
    }
    let runs = f.runs.clone();
    let writer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        runs.mark_complete(ID, "c", 1, false).await.unwrap();
        runs.claim_finalize(ID).await.unwrap().expect("complete: the claim is granted");
        runs.record_report(ID, 1, "reports/…/report.csv").await.unwrap();
    });
    match f.ops.wait(ID, 1, Duration::from_secs(5), &()).await.unwrap() {
        WaitOutcome::Done(run) => assert_eq!((run.reported_version, run.failed), (1, 1)),
        other => panic!("expected the written version, got {other:?}"),
    }
    writer.await.unwrap();
}

#[tokio::test]
async fn dlq_list_leaves_messages_and_redrive_moves_only_jobs() {
    let f = fixture().await;
    let listed = f.ops.dlq_list(&[Queue::Collect], 100).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|m| m.queue == Queue::Collect));
    let c = listed.iter().find(|m| m.target_id.as_deref() == Some("c")).expect("the job is decoded");
    assert_eq!(c.report_id.as_deref(), Some(ID));
    assert_eq!(c.last_error.as_deref(), Some("Lambda timed out"));
    let other = listed.iter().find(|m| m.target_id.is_none()).unwrap();
    assert!(other.last_error.as_deref().unwrap().starts_with("not a collection job"));
    assert!(other.body_preview.as_deref().unwrap().contains("not"));
    assert_eq!(
        f.ops.dlq_list(&[Queue::Collect], 100).await.unwrap().len(),
        2,
        "listing consumes nothing and releases what it read"
    );
    let all = f.ops.dlq_list(&[Queue::Collect, Queue::Finalize], 100).await.unwrap();
    let fin = all.iter().find(|m| m.queue == Queue::Finalize).expect("the finalize DLQ is listed too");
    assert_eq!((fin.report_id.as_deref(), fin.target_id.as_deref()), (Some(ID), None));
    let err = f.ops.dlq_list(&[Queue::Requests], 10).await.unwrap_err();
    assert!(err.to_string().contains("DBADMIN_REQUESTS_DLQ_URL is not set"), "{err}");

    let dry = f.ops.dlq_redrive(Queue::Collect, None, None, true, Duration::from_secs(60), 100).await.unwrap();
    assert_eq!((dry.moved.len(), dry.left), (1, 1));
    assert!(f.dlq.returned().is_empty(), "a dry run moves nothing");

    let other_report =
        f.ops.dlq_redrive(Queue::Collect, Some("01OTHER"), None, false, Duration::from_secs(60), 100).await.unwrap();
    assert_eq!((other_report.moved.len(), other_report.left), (0, 2));

    let moved =
        f.ops.dlq_redrive(Queue::Collect, Some(ID), Some("c"), false, Duration::from_secs(60), 100).await.unwrap();
    assert_eq!(moved.moved.len(), 1);
    assert_eq!(f.dlq.returned(), vec![job("c")]);
    assert_eq!(f.dlq.bodies(), vec!["{\"not\": \"a job\"}".to_owned()], "the non-job stays for an operator");
}

#[tokio::test]
async fn retry_is_refused_while_running_then_requests_the_failed_targets() {
    let mut f = fixture().await;
    let err = f.ops.plan_retry(ID, "me".into()).await.unwrap_err();
    assert!(err.downcast_ref::<NotReady>().is_some(), "a running report is not ready: {err}");

    f.runs.mark_complete(ID, "c", 1, false).await.unwrap();
    f.runs.claim_finalize(ID).await.unwrap();
    f.runs.record_report(ID, 1, "reports/…/report.csv").await.unwrap();
    let RetryPlan::Request { request, version, failed } = f.ops.plan_retry(ID, "me".into()).await.unwrap() else {
        panic!("one target failed: a retry is planned");
    };
    assert_eq!((version, failed), (2, 1));
    assert_eq!(request.retry.map(|r| r.version), Some(1));
    assert_eq!(request.requested_by, "me");
    f.ops.submit(&request).await.unwrap();
    let sent = f.requests.try_recv().expect("the request reached the requests queue");
    assert_eq!(sent.report_id, ID);
}

#[tokio::test]
async fn nothing_to_retry_when_every_target_was_read() {
    let runs = MemoryRunStore::new();
    let record = RunRecord::new("01CLEAN", "me", "2026-12-02T03:00:00Z", 1);
    runs.create_run(&record).await.unwrap();
    runs.mark_complete("01CLEAN", "a", 1, false).await.unwrap();
    runs.claim_finalize("01CLEAN").await.unwrap();
    runs.record_report("01CLEAN", 1, "x").await.unwrap();
    let ops = Deployment { runs: Some(Arc::new(runs)), ..Default::default() };
    assert!(matches!(ops.plan_retry("01CLEAN", "me".into()).await.unwrap(), RetryPlan::Nothing(_)));
    let err = ops.dlq_list(&[Queue::Collect], 10).await.unwrap_err();
    assert!(err.to_string().contains("DBADMIN_COLLECT_DLQ_URL is not set"), "{err}");
}

#[tokio::test]
async fn finalize_resends_only_for_a_complete_unwritten_run_and_its_dlq_message_redrives() {
    let mut f = fixture().await;
    let err = f.ops.finalize(ID).await.unwrap_err();
    assert!(err.downcast_ref::<NotReady>().is_some(), "still running: {err}");
    assert!(f.finalized.try_recv().is_err());

    f.runs.mark_complete(ID, "c", 1, false).await.unwrap();
    let run = f.ops.finalize(ID).await.unwrap();
    assert_eq!(run.version, 1);
    assert_eq!(f.finalized.try_recv().expect("the finalize message was sent").report_id, ID);

    // The finalize message resting in its DLQ goes back to the finalize queue.
    let moved = f.ops.dlq_redrive(Queue::Finalize, Some(ID), None, false, Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(moved.moved.len(), 1);
    assert_eq!(f.finalize_dlq.returned().len(), 1);

    f.runs.claim_finalize(ID).await.unwrap();
    f.runs.record_report(ID, 1, "x").await.unwrap();
    let err = f.ops.finalize(ID).await.unwrap_err();
    assert!(err.to_string().contains("already written"), "{err}");
}
