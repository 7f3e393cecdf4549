//! `verify --previous`: two reports written and signed by the reporter into one folder; the second
//! verifies against the first, and not against a report that is not the one it names.

use db_admin_report::verify::{verify, PublicKey};
use dbadmin_contracts::{encode, keys, FinalizeMessage, TlsMode, Versioned};
use dbadmin_ports::fixtures::{error_result, seed, target};
use dbadmin_ports::local::{DirStore, MemoryRunStore};
use dbadmin_ports::signing::{LocalSigner, Signer};
use dbadmin_reporter::{handle_finalize, FinalizeOutcome, ReporterDeps};

/// Finalizes a one-target run (read with `tls=require`) and returns its report folder.
async fn report(store: &DirStore, runs: &MemoryRunStore, signer: &LocalSigner, id: &str) -> std::path::PathBuf {
    let mut db = target("db1");
    db.tls = TlsMode::Require;
    seed(store, runs, id, &[(db.clone(), encode(&error_result(id, &db)))]).await;
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
