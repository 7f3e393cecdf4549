//! The run ports' contracts (those of [`crate::RunRecords`], [`crate::CompletionCounter`],
//! [`crate::FinalizeClaims`], [`crate::ManifestChain`], [`crate::AttemptLog`], and the [`RunStore`]
//! clauses across them) as one test suite, run against every adapter of the whole table (the
//! in-memory store in this crate's tests, DynamoDB on the emulator in the AWS adapters' tests).
//! Test-only.

use crate::{Counted, NewVersion, PortError, RunRecord, RunStore, Seal, SealedManifest};
use dbadmin_contracts::manifest::ChainLink;

fn run(report_id: &str, total: u64) -> RunRecord {
    RunRecord::new(
        report_id.to_owned(),
        "arn:aws:iam::123456789012:user/contract",
        dbadmin_contracts::now_rfc3339(),
        total,
    )
}

/// Every clause of the run ports' contracts, on fresh report ids starting with `prefix`.
/// Panics with the clause that does not hold. The steps run in order on one run, each starting from
/// the state the one before left.
pub async fn run_store(store: &dyn RunStore, prefix: &str) {
    let id = format!("{prefix}-contract");
    run_records(store, &id, prefix).await;
    completion_count(store, &id).await;
    finalize_claims(store, &id).await;
    attempt_log(store, &id).await;
    next_version(store, &id).await;
    manifest_chain(store, &id).await;
    abandoned_version(store, prefix).await;
    newest_first(store, &id, prefix).await;
}

/// `create_run` is idempotent; an unknown run is `None`.
async fn run_records(store: &dyn RunStore, id: &str, prefix: &str) {
    let a = run(id, 3);
    assert!(store.create_run(&a).await.unwrap(), "create_run creates a new run");
    assert!(!store.create_run(&run(id, 99)).await.unwrap(), "create_run is idempotent on report_id");
    assert_eq!(store.get_run(id).await.unwrap().unwrap().total, 3, "a second create_run changes nothing");
    assert!(store.get_run(&format!("{prefix}-none")).await.unwrap().is_none(), "an unknown run is None");
}

/// Exactly-once counting, with error rows counted apart.
async fn completion_count(store: &dyn RunStore, id: &str) {
    const V: u32 = 1;
    let first = store.mark_complete(id, "t1", V, false).await.unwrap();
    // A count that leaves targets missing may go unread (`None`); a known one is exact.
    assert!(first.newly_counted && first.completed.is_none_or(|c| c == 1) && !first.is_last());
    let again = store.mark_complete(id, "t1", V, false).await.unwrap();
    assert!(!again.newly_counted && again.completed == Some(1), "a redelivered job is not counted twice");
    let second = store.mark_complete(id, "t2", V, true).await.unwrap();
    assert!(second.newly_counted && second.completed.is_none_or(|c| c == 2) && !second.is_last());
    assert_eq!(store.claim_finalize(id).await.unwrap(), None, "no claim before every target is counted");
    let last = store.mark_complete(id, "t3", V, false).await.unwrap();
    assert!(last.is_last() && last.completed == Some(3), "the last count is always known: it finalizes");
    let counted = store.counted(id).await.unwrap();
    assert_eq!(counted.len(), 3);
    assert_eq!(counted.get("t2"), Some(&Counted { failed: true, version: 1 }), "t2 was counted as an error row");
    assert_eq!(store.get_run(id).await.unwrap().unwrap().failed, 1);
    assert_eq!(store.completed_targets(id).await.unwrap().len(), 3);
}

/// One claim per version; recording it ends the run's version.
async fn finalize_claims(store: &dyn RunStore, id: &str) {
    let claim = store.claim_finalize(id).await.unwrap().expect("a complete run grants a claim");
    assert_eq!((claim.version, claim.supersedes), (1, None));
    assert_eq!(store.claim_finalize(id).await.unwrap(), None, "a live claim is granted once");
    assert!(store.awaiting_report(id).await.unwrap(), "and it is seen as held");
    store.record_report(id, 1, "s3://bucket/reports/v1/report.csv").await.unwrap();
    let record = store.get_run(id).await.unwrap().unwrap();
    assert_eq!(record.reported_version, 1);
    assert_eq!(record.report_location.as_deref(), Some("s3://bucket/reports/v1/report.csv"));
    assert_eq!(store.claim_finalize(id).await.unwrap(), None, "a reported version is not claimed again");
    assert!(!store.awaiting_report(id).await.unwrap(), "a written version is not held");
}

/// Attempt errors accumulate per target.
async fn attempt_log(store: &dyn RunStore, id: &str) {
    store.record_attempt_error(id, "t2", "first").await.unwrap();
    store.record_attempt_error(id, "t2", "second").await.unwrap();
    let errors = store.attempt_errors(id).await.unwrap();
    assert_eq!((errors["t2"].error.as_str(), errors["t2"].attempts), ("second", 2));
}

/// A new version uncounts exactly the targets asked, once.
async fn next_version(store: &dyn RunStore, id: &str) {
    let targets = vec!["t2".to_owned()];
    assert!(
        matches!(store.begin_version(id, 2, &targets).await.unwrap(), NewVersion::NotReady { .. }),
        "only the current version moves on"
    );
    assert_eq!(store.begin_version(id, 1, &targets).await.unwrap(), NewVersion::Started { version: 2, reset: 1 });
    assert_eq!(
        store.begin_version(id, 1, &targets).await.unwrap(),
        NewVersion::AlreadyStarted { version: 2 },
        "a redelivered retry starts nothing new"
    );
    let record = store.get_run(id).await.unwrap().unwrap();
    assert_eq!((record.version, record.completed, record.failed), (2, 2, 0));
    assert!(!store.attempt_errors(id).await.unwrap().contains_key("t2"), "the retried target's errors are cleared");
    let stale = store.mark_complete(id, "t2", 1, false).await.unwrap_err();
    assert!(matches!(stale, PortError::Stale { .. }), "a job of version 1 is stale at version 2: {stale}");
    assert!(store.mark_complete(id, "t2", 2, false).await.unwrap().is_last());
    let counted = store.counted(id).await.unwrap();
    assert_eq!(counted["t2"], Counted { failed: false, version: 2 }, "counted in the version that collected it");
    assert_eq!(counted["t1"].version, 1);
    let claim = store.claim_finalize(id).await.unwrap().expect("version 2 is complete");
    assert_eq!((claim.version, claim.supersedes), (2, Some(1)));
}

/// The chain: a manifest is sealed only on the head it was built on, and once per version.
async fn manifest_chain(store: &dyn RunStore, id: &str) {
    let link = |sequence: u64, version: u32| ChainLink {
        sequence,
        report_id: id.to_owned(),
        version,
        manifest_sha256: format!("m{sequence}"),
        signature_sha256: format!("s{sequence}"),
        manifest_key: format!("reports/{id}/v{version}/manifest.json"),
    };
    let bytes = |m: &str, s: &str| SealedManifest { manifest: m.as_bytes().to_vec(), signature: s.as_bytes().to_vec() };
    let mut sealed_at = None;
    for _ in 0..10 {
        // Other tests may seal reports on the same table meanwhile: build on the head as read.
        let head = store.chain_head().await.unwrap().map(|h| h.sequence);
        let stale = head.map_or(Some(u64::MAX), |h| h.checked_sub(1));
        assert_eq!(
            store.seal(stale, &link(9, 2), &bytes("x", "y")).await.unwrap(),
            Seal::HeadMoved,
            "a manifest built on an older head is refused"
        );
        let next = head.unwrap_or(0) + 1;
        match store.seal(head, &link(next, 2), &bytes("manifest-2", "sig-2")).await.unwrap() {
            Seal::Sealed => {
                sealed_at = Some(next);
                break;
            }
            Seal::HeadMoved => continue,
            other => panic!("a first seal of version 2 answered {other:?}"),
        }
    }
    let sequence = sealed_at.expect("sealed within ten tries");
    assert!(store.chain_head().await.unwrap().is_some_and(|h| h.sequence >= sequence), "the head moved on");
    let head = store.chain_head().await.unwrap().map(|h| h.sequence);
    assert_eq!(
        store.seal(head, &link(sequence + 100, 2), &bytes("other", "other")).await.unwrap(),
        Seal::AlreadySealed(bytes("manifest-2", "sig-2")),
        "a version is sealed once; a second attempt gets the first bytes"
    );
    assert_eq!(store.sealed(id, 2).await.unwrap(), Some(bytes("manifest-2", "sig-2")));
    assert_eq!(store.sealed(id, 1).await.unwrap(), None);
}

/// A claimed version whose artifacts cannot be written moves on, still claimed.
async fn abandoned_version(store: &dyn RunStore, prefix: &str) {
    let stuck = format!("{prefix}-contract-abandon");
    store.create_run(&run(&stuck, 1)).await.unwrap();
    store.mark_complete(&stuck, "t1", 1, false).await.unwrap();
    assert_eq!(store.claim_finalize(&stuck).await.unwrap().map(|c| c.version), Some(1));
    assert!(store.abandon_version(&stuck, 1).await.unwrap());
    assert_eq!(store.get_run(&stuck).await.unwrap().unwrap().version, 2);
    assert!(store.awaiting_report(&stuck).await.unwrap(), "version 2 is claimed by the abandoning caller");
    assert_eq!(store.claim_finalize(&stuck).await.unwrap(), None, "and by no one else");
    assert!(!store.abandon_version(&stuck, 1).await.unwrap(), "only the run's current version");
    assert_eq!(store.counted(&stuck).await.unwrap()["t1"].version, 1, "its results stay where they are");
}

/// Runs are listed newest first.
async fn newest_first(store: &dyn RunStore, id: &str, prefix: &str) {
    let newer = run(&format!("{prefix}-contract-newer"), 1);
    let newer = RunRecord { requested_at: "2999-01-01T00:00:00Z".into(), ..newer };
    store.create_run(&newer).await.unwrap();
    let listed = store.list_runs().await.unwrap();
    let position = |r: &str| listed.iter().position(|x| x.report_id == r);
    assert!(position(&newer.report_id) < position(id), "newest request first: {listed:?}");
}
