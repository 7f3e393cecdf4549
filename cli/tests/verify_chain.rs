//! `verify --previous`: two reports written and signed by the reporter into one folder; the second
//! verifies against the first, and not against a report that is not the one it names.

use db_admin_report::verify::{verify, PublicKey};
use dbadmin_contracts::message::Population;
use dbadmin_contracts::result::{Failure, TargetRef};
use dbadmin_contracts::*;
use dbadmin_ports::local::{DirStore, MemoryRunStore};
use dbadmin_ports::signing::{LocalSigner, Signer};
use dbadmin_ports::{ObjectStore, RunRecord, RunStore};
use dbadmin_reporter::{handle_finalize, FinalizeOutcome, ReporterDeps};

const SENT_AT: &str = "2026-12-02T04:00:00Z";

async fn report(store: &DirStore, runs: &MemoryRunStore, signer: &LocalSigner, id: &str) -> std::path::PathBuf {
    let target = Target {
        id: "db1".into(),
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
        engine: Engine::Postgres,
        host: "db1.internal".into(),
        port: 5432,
        databases: vec![],
        secret: "s".into(),
        role_arn: None,
        tls: TlsMode::Require,
        tags: Default::default(),
    };
    let request = ReportRequest {
        schema_version: ReportRequest::SCHEMA_VERSION,
        report_id: id.into(),
        requested_by: "me".into(),
        requested_at: SENT_AT.into(),
        inventory: "inv.csv".into(),
        filters: Filters::default(),
        output_format: Default::default(),
        retry: None,
    };
    let received = ReceivedRequest {
        schema_version: ReceivedRequest::SCHEMA_VERSION,
        request,
        received: Provenance { sender: "me".into(), sent_at: SENT_AT.into(), message_id: id.into() },
    };
    let population = Population {
        schema_version: Population::SCHEMA_VERSION,
        report_id: id.into(),
        inventory_source: "inv.csv".into(),
        inventory_sha256: "0".repeat(64),
        filters: Filters::default(),
        targets: vec![target.clone()],
    };
    let result = TargetResult {
        schema_version: TargetResult::SCHEMA_VERSION,
        report_id: id.into(),
        target: TargetRef::from(&target),
        collected_at: SENT_AT.into(),
        attempts: 1,
        duration_ms: 1,
        outcome: Outcome::Failed(Failure { kind: ErrorKind::Unreachable, reason: "refused".into() }),
    };
    for (key, body) in [
        (keys::request(id), encode(&received)),
        (keys::population(id), encode(&population)),
        (keys::result(id, 1, "db1"), encode(&result)),
    ] {
        let _ = store.put(&key, body, "application/json").await.unwrap();
    }
    let run = RunRecord {
        report_id: id.into(),
        requested_by: "me".into(),
        requested_at: SENT_AT.into(),
        total: 1,
        completed: 0,
        failed: 0,
        version: 1,
        reported_version: 0,
        report_location: None,
    };
    runs.create_run(&run).await.unwrap();
    runs.mark_complete(id, "db1", 1, true).await.unwrap();
    let message = FinalizeMessage { schema_version: FinalizeMessage::SCHEMA_VERSION, report_id: id.into() };
    let outcome = handle_finalize(&message, &ReporterDeps { store, runs, signer }).await.unwrap();
    let FinalizeOutcome::Written { manifest, .. } = outcome else { panic!("{outcome:?}") };
    std::path::PathBuf::from(manifest).parent().unwrap().to_owned()
}

#[tokio::test]
async fn a_report_verifies_against_the_one_it_names_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::new(dir.path().join("out"));
    let runs = MemoryRunStore::new();
    let (signer, _) = LocalSigner::load_or_create(&dir.path().join("key.pem")).unwrap();
    let key = PublicKey { der: signer.public_key_der().await.unwrap(), source: "test key".into() };
    let first = report(&store, &runs, &signer, "01CHAINA000000000000000000").await;
    let second = report(&store, &runs, &signer, "01CHAINB000000000000000000").await;

    let v = verify(&second, Some(&key), Some(&first)).unwrap();
    assert!(v.ok(), "{v:#?}");
    assert_eq!((v.sequence, v.previous.as_ref().map(|p| p.sequence)), (2, Some(1)));
    assert!(v.tls_warning.as_deref().is_some_and(|w| w.contains("tls=require")), "{v:#?}");

    // The first report does not name itself, and names no report before it.
    let wrong = verify(&second, Some(&key), Some(&second)).unwrap();
    assert!(!wrong.ok() && wrong.chain.unwrap().problem.unwrap().contains("not the one this manifest names"));
    let start = verify(&first, Some(&key), Some(&first)).unwrap();
    assert!(start.chain.unwrap().problem.unwrap().contains("starts the chain"));

    // Another key does not verify it; a previous report whose manifest was edited breaks the link.
    let (other, _) = LocalSigner::load_or_create(&dir.path().join("other.pem")).unwrap();
    let other = PublicKey { der: other.public_key_der().await.unwrap(), source: "other".into() };
    let foreign = verify(&second, Some(&other), None).unwrap();
    assert!(!foreign.ok() && foreign.signature.problem.unwrap().contains("names the key"));
    let manifest = first.join(keys::MANIFEST_NAME);
    let bytes = std::fs::read(&manifest).unwrap();
    std::fs::write(&manifest, String::from_utf8(bytes).unwrap().replace("\"population\": 1", "\"population\": 0"))
        .unwrap();
    let broken = verify(&second, Some(&key), Some(&first)).unwrap();
    let problem = broken.chain.unwrap().problem.unwrap();
    assert!(problem.contains("signature does not hold"), "{problem}");
}
