//! The [`RunStore`] contract as a test suite, run against every adapter (the in-memory store in
//! this crate's tests, DynamoDB on the emulator in the AWS adapters' tests). Test-only.

use crate::{NewVersion, RunRecord, RunStore};

fn run(report_id: &str, total: u64) -> RunRecord {
    RunRecord {
        report_id: report_id.to_owned(),
        requested_by: "arn:aws:iam::123456789012:user/contract".into(),
        requested_at: dbadmin_contracts::now_rfc3339(),
        total,
        completed: 0,
        failed: 0,
        version: 1,
        reported_version: 0,
        report_location: None,
    }
}

/// Every clause of the [`RunStore`] contract, on fresh report ids starting with `prefix`.
/// Panics with the clause that does not hold.
pub async fn run_store(store: &dyn RunStore, prefix: &str) {
    let id = format!("{prefix}-contract");
    let a = run(&id, 3);
    assert!(store.create_run(&a).await.unwrap(), "create_run creates a new run");
    assert!(!store.create_run(&run(&id, 99)).await.unwrap(), "create_run is idempotent on report_id");
    assert_eq!(store.get_run(&id).await.unwrap().unwrap().total, 3, "a second create_run changes nothing");
    assert!(store.get_run(&format!("{prefix}-none")).await.unwrap().is_none(), "an unknown run is None");

    // Exactly-once counting, with error rows counted apart.
    let first = store.mark_complete(&id, "t1", false).await.unwrap();
    assert!(first.newly_counted && first.completed == 1 && !first.is_last());
    let again = store.mark_complete(&id, "t1", false).await.unwrap();
    assert!(!again.newly_counted && again.completed == 1, "a redelivered job is not counted twice");
    store.mark_complete(&id, "t2", true).await.unwrap();
    assert_eq!(store.claim_finalize(&id).await.unwrap(), None, "no claim before every target is counted");
    let last = store.mark_complete(&id, "t3", false).await.unwrap();
    assert!(last.is_last() && last.completed == 3);
    let counted = store.counted(&id).await.unwrap();
    assert_eq!(counted.len(), 3);
    assert_eq!(counted.get("t2"), Some(&true), "t2 was counted as an error row");
    assert_eq!(store.get_run(&id).await.unwrap().unwrap().failed, 1);
    assert_eq!(store.completed_targets(&id).await.unwrap().len(), 3);

    // One claim per version; recording it ends the run's version.
    let claim = store.claim_finalize(&id).await.unwrap().expect("a complete run grants a claim");
    assert_eq!((claim.version, claim.supersedes), (1, None));
    assert_eq!(store.claim_finalize(&id).await.unwrap(), None, "a live claim is granted once");
    assert!(store.claim_held(&id).await.unwrap(), "and it is seen as held");
    store.record_report(&id, 1, "s3://bucket/reports/v1/report.csv").await.unwrap();
    let record = store.get_run(&id).await.unwrap().unwrap();
    assert_eq!(record.reported_version, 1);
    assert_eq!(record.report_location.as_deref(), Some("s3://bucket/reports/v1/report.csv"));
    assert_eq!(store.claim_finalize(&id).await.unwrap(), None, "a reported version is not claimed again");
    assert!(!store.claim_held(&id).await.unwrap(), "a written version is not held");

    // Attempt errors accumulate per target.
    store.record_attempt_error(&id, "t2", "first").await.unwrap();
    store.record_attempt_error(&id, "t2", "second").await.unwrap();
    let errors = store.attempt_errors(&id).await.unwrap();
    assert_eq!((errors["t2"].error.as_str(), errors["t2"].attempts), ("second", 2));

    // A new version uncounts exactly the targets asked, once.
    let targets = vec!["t2".to_owned()];
    assert!(
        matches!(store.begin_version(&id, 2, &targets).await.unwrap(), NewVersion::NotReady { .. }),
        "only the current version moves on"
    );
    assert_eq!(store.begin_version(&id, 1, &targets).await.unwrap(), NewVersion::Started { version: 2, reset: 1 });
    assert_eq!(
        store.begin_version(&id, 1, &targets).await.unwrap(),
        NewVersion::AlreadyStarted { version: 2 },
        "a redelivered retry starts nothing new"
    );
    let record = store.get_run(&id).await.unwrap().unwrap();
    assert_eq!((record.version, record.completed, record.failed), (2, 2, 0));
    assert!(!store.attempt_errors(&id).await.unwrap().contains_key("t2"), "the retried target's errors are cleared");
    assert!(store.mark_complete(&id, "t2", false).await.unwrap().is_last());
    let claim = store.claim_finalize(&id).await.unwrap().expect("version 2 is complete");
    assert_eq!((claim.version, claim.supersedes), (2, Some(1)));

    // Runs are listed newest first.
    let newer = run(&format!("{prefix}-contract-newer"), 1);
    let newer = RunRecord { requested_at: "2999-01-01T00:00:00Z".into(), ..newer };
    store.create_run(&newer).await.unwrap();
    let listed = store.list_runs().await.unwrap();
    let position = |r: &str| listed.iter().position(|x| x.report_id == r);
    assert!(position(&newer.report_id) < position(&id), "newest request first: {listed:?}");
}
