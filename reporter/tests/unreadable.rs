//! Finalization faults: one unreadable result (a truncated object, an unknown schema version during
//! a rolling deploy) becomes that target's ERROR row of kind `unreadable_result` and the rest of the
//! report is written; a finalize message that finds another reporter's live claim is told so
//! (`Held`, which the Lambda returns to the queue) instead of being dropped.

mod common;

use common::*;
use dbadmin_contracts::{keys, FinalizeMessage, Versioned};
use dbadmin_ports::local::{DirStore, MemoryRunStore};
use dbadmin_ports::signing::LocalSigner;
use dbadmin_ports::{FinalizeClaims, ObjectStore};
use dbadmin_reporter::{handle_finalize, render, FinalizeOutcome, ReporterDeps};

const ID: &str = "01UNREADABLE000000000000AA";

/// A complete run of three targets: one readable result, one truncated, one from the future.
async fn seed_unreadable(store: &DirStore, runs: &MemoryRunStore) {
    let bytes = dbadmin_contracts::encode(&error_result(ID, &target("a-ok")));
    let future = String::from_utf8(bytes.clone()).unwrap().replacen("\"schema_version\":1", "\"schema_version\":99", 1);
    let results = [
        (target("a-ok"), bytes.clone()),
        (target("b-truncated"), bytes[..bytes.len() / 2].to_vec()),
        (target("c-future"), future.into_bytes()),
    ];
    seed(store, runs, ID, &results).await;
}

fn signer(dir: &tempfile::TempDir) -> LocalSigner {
    LocalSigner::load_or_create(&dir.path().join("key.pem")).unwrap().0
}

#[tokio::test]
async fn an_unreadable_result_is_an_error_row_and_the_report_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::new(dir.path());
    let runs = MemoryRunStore::new();
    seed_unreadable(&store, &runs).await;
    let signer = signer(&dir);
    let message = FinalizeMessage { schema_version: FinalizeMessage::SCHEMA_VERSION, report_id: ID.into() };
    let deps = ReporterDeps { store: &store, claims: &runs, counter: &runs, chain: &runs, signer: &signer };
    let outcome = handle_finalize(&message, &deps).await;
    let Ok(FinalizeOutcome::Written { rows, .. }) = outcome else { panic!("the report must be written: {outcome:?}") };
    assert_eq!(rows, 3);
    let dir = keys::report_dir(ID, SENT_AT, 1);
    let csv = store.get(&format!("{dir}/{}", keys::CSV_NAME)).await.unwrap().unwrap();
    let rows = render::from_csv(&csv).unwrap();
    let kind = |id: &str| {
        rows.iter().find(|r| r.database_name == id).map(|r| (r.error_kind.clone(), r.admin_reason.clone())).unwrap()
    };
    assert_eq!(kind("a-ok").0, "unreachable");
    for id in ["b-truncated", "c-future"] {
        let (kind, reason) = kind(id);
        assert_eq!(kind, "unreadable_result", "{id}");
        assert!(reason.contains(&keys::result(ID, 1, id)), "the reason names the object: {reason}");
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
    seed_unreadable(&store, &runs).await;
    let signer = signer(&dir);
    // Another reporter claimed version 1 and is still within its lease.
    runs.claim_finalize(ID).await.unwrap().expect("the claim");
    let message = FinalizeMessage { schema_version: FinalizeMessage::SCHEMA_VERSION, report_id: ID.into() };
    let deps = ReporterDeps { store: &store, claims: &runs, counter: &runs, chain: &runs, signer: &signer };
    assert_eq!(handle_finalize(&message, &deps).await.unwrap(), FinalizeOutcome::Held);

    // Once the holder's lease runs out (it died), the same message writes the report.
    let expired = MemoryRunStore::with_lease(std::time::Duration::ZERO);
    seed_unreadable(&store, &expired).await;
    expired.claim_finalize(ID).await.unwrap().expect("the claim");
    let deps = ReporterDeps { store: &store, claims: &expired, counter: &expired, chain: &expired, signer: &signer };
    assert!(matches!(handle_finalize(&message, &deps).await.unwrap(), FinalizeOutcome::Written { version: 1, .. }));
    // Written: a duplicate is nothing to do, not held.
    assert_eq!(handle_finalize(&message, &deps).await.unwrap(), FinalizeOutcome::NotClaimed);
}
