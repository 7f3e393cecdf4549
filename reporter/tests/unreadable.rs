//! Finalization faults: one unreadable result (a truncated object, an unknown schema version during
//! a rolling deploy) becomes that target's ERROR row of kind `unreadable_result` and the rest of the
//! report is written; a finalize message that finds another reporter's live claim is told so
//! (`Held`, which the Lambda returns to the queue) instead of being dropped.

use dbadmin_contracts::message::Population;
use dbadmin_contracts::result::{Failure, TargetRef};
use dbadmin_contracts::{
    keys, Engine, ErrorKind, Filters, FinalizeMessage, Outcome, ReportRequest, Target, TargetResult, TlsMode, Versioned,
};
use dbadmin_ports::local::{DirStore, MemoryRunStore};
use dbadmin_ports::{ObjectStore, RunRecord, RunStore};
use dbadmin_reporter::{handle_finalize, render, FinalizeOutcome, ReporterDeps};

const ID: &str = "01UNREADABLE000000000000AA";

fn target(id: &str) -> Target {
    Target {
        id: id.into(),
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
        engine: Engine::Postgres,
        host: format!("{id}.internal"),
        port: 5432,
        databases: vec![],
        secret: "s".into(),
        role_arn: None,
        tls: TlsMode::VerifyFull,
        tags: Default::default(),
    }
}

/// A complete run of three targets: one readable result, one truncated, one from the future.
async fn seed(store: &DirStore, runs: &MemoryRunStore) -> ReportRequest {
    let targets = vec![target("a-ok"), target("b-truncated"), target("c-future")];
    let request = ReportRequest {
        schema_version: ReportRequest::SCHEMA_VERSION,
        report_id: ID.into(),
        requested_by: "me".into(),
        requested_at: "2026-12-02T04:00:00Z".into(),
        inventory: "inventory.csv".into(),
        filters: Filters::default(),
        output_format: Default::default(),
        retry: None,
    };
    let population = Population {
        schema_version: Population::SCHEMA_VERSION,
        report_id: ID.into(),
        inventory_source: "inventory.csv".into(),
        inventory_sha256: "0".repeat(64),
        filters: Filters::default(),
        targets: targets.clone(),
    };
    let put = |key: String, body: Vec<u8>| async move { store.put(&key, body, "application/json").await.unwrap() };
    put(keys::request(ID), dbadmin_contracts::encode(&request)).await;
    put(keys::population(ID), dbadmin_contracts::encode(&population)).await;
    let ok = TargetResult {
        schema_version: TargetResult::SCHEMA_VERSION,
        report_id: ID.into(),
        target: TargetRef::from(&targets[0]),
        collected_at: "2026-12-02T04:00:01Z".into(),
        attempts: 1,
        duration_ms: 5,
        outcome: Outcome::Failed(Failure { kind: ErrorKind::Unreachable, reason: "refused".into() }),
    };
    let bytes = dbadmin_contracts::encode(&ok);
    put(keys::result(ID, "a-ok"), bytes.clone()).await;
    put(keys::result(ID, "b-truncated"), bytes[..bytes.len() / 2].to_vec()).await;
    let future = String::from_utf8(bytes).unwrap().replacen("\"schema_version\":1", "\"schema_version\":99", 1);
    put(keys::result(ID, "c-future"), future.into_bytes()).await;
    let run = RunRecord {
        report_id: ID.into(),
        requested_by: "me".into(),
        requested_at: request.requested_at.clone(),
        total: 3,
        completed: 0,
        failed: 0,
        version: 1,
        reported_version: 0,
        report_location: None,
    };
    runs.create_run(&run).await.unwrap();
    for t in &targets {
        runs.mark_complete(ID, &t.id, true).await.unwrap();
    }
    request
}

#[tokio::test]
async fn an_unreadable_result_is_an_error_row_and_the_report_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::new(dir.path());
    let runs = MemoryRunStore::new();
    let request = seed(&store, &runs).await;
    let message = FinalizeMessage { schema_version: FinalizeMessage::SCHEMA_VERSION, report_id: ID.into() };
    let outcome = handle_finalize(&message, &ReporterDeps { store: &store, runs: &runs }).await;
    let Ok(FinalizeOutcome::Written { rows, .. }) = outcome else { panic!("the report must be written: {outcome:?}") };
    assert_eq!(rows, 3);
    let dir = keys::report_dir(ID, &request.requested_at, 1);
    let csv = store.get(&format!("{dir}/{}", keys::CSV_NAME)).await.unwrap().unwrap();
    let rows = render::from_csv(&csv).unwrap();
    let kind = |id: &str| {
        rows.iter().find(|r| r.database_name == id).map(|r| (r.error_kind.clone(), r.admin_reason.clone())).unwrap()
    };
    assert_eq!(kind("a-ok").0, "unreachable");
    for id in ["b-truncated", "c-future"] {
        let (kind, reason) = kind(id);
        assert_eq!(kind, "unreadable_result", "{id}");
        assert!(reason.contains(&keys::result(ID, id)), "the reason names the object: {reason}");
    }
    assert!(reason_contains(&rows, "c-future", "schema_version 99"));
}

fn reason_contains(rows: &[render::Row], id: &str, needle: &str) -> bool {
    rows.iter().any(|r| r.database_name == id && r.admin_reason.contains(needle))
}

#[tokio::test]
async fn a_finalize_that_finds_a_live_claim_is_held_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::new(dir.path());
    let runs = MemoryRunStore::new();
    seed(&store, &runs).await;
    // Another reporter claimed version 1 and is still within its lease.
    runs.claim_finalize(ID).await.unwrap().expect("the claim");
    let message = FinalizeMessage { schema_version: FinalizeMessage::SCHEMA_VERSION, report_id: ID.into() };
    let deps = ReporterDeps { store: &store, runs: &runs };
    assert_eq!(handle_finalize(&message, &deps).await.unwrap(), FinalizeOutcome::Held);

    // Once the holder's lease runs out (it died), the same message writes the report.
    let expired = MemoryRunStore::with_lease(std::time::Duration::ZERO);
    seed(&store, &expired).await;
    expired.claim_finalize(ID).await.unwrap().expect("the claim");
    let deps = ReporterDeps { store: &store, runs: &expired };
    assert!(matches!(handle_finalize(&message, &deps).await.unwrap(), FinalizeOutcome::Written { version: 1, .. }));
    // Written: a duplicate is nothing to do, not held.
    assert_eq!(handle_finalize(&message, &deps).await.unwrap(), FinalizeOutcome::NotClaimed);
}
