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
    let deps = ReporterDeps { store, claims: runs, counter: runs, chain: runs, signer };
    let outcome = handle_finalize(&message, &deps).await.unwrap();
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
    // A local key is named by its fingerprint, never by a path of the machine that made it.
    let fingerprint = &dbadmin_contracts::sha256_hex(&key.der)[..16];
    assert_eq!(v.signature.key_id.as_deref(), Some(format!("local:sha256:{fingerprint}").as_str()));
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

/// `verify --chain`: every report of a folder in order; a deleted report is a gap, a chain head
/// rolled back (a second chain from #1 in the same folder) is a fork, and an altered manifest
/// leaves the chain.
#[tokio::test]
async fn a_folder_of_reports_is_walked_and_gaps_and_forks_are_named() {
    use db_admin_report::verify::walk_chain;
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::new(dir.path().join("out"));
    let runs = MemoryRunStore::new();
    let (signer, _) = LocalSigner::load_or_create(&dir.path().join("key.pem")).unwrap();
    let key = PublicKey { der: signer.public_key_der().await.unwrap(), source: "test key".into() };
    let first = report(&store, &runs, &signer, "01WALKA0000000000000000000").await;
    let second = report(&store, &runs, &signer, "01WALKB0000000000000000000").await;
    let third = report(&store, &runs, &signer, "01WALKC0000000000000000000").await;
    let root = dir.path().join("out");

    let walk = walk_chain(&root, Some(&key)).unwrap();
    assert!(walk.ok(), "{walk:#?}");
    assert_eq!(walk.reports.iter().map(|r| r.sequence).collect::<Vec<_>>(), vec![1, 2, 3]);

    // A row deleted from a report's CSV: every link still holds, but the walk is not ok.
    let csv = first.join(keys::CSV_NAME);
    let original = std::fs::read(&csv).unwrap();
    std::fs::write(&csv, &original[..original.len() / 2]).unwrap();
    let walk = walk_chain(&root, Some(&key)).unwrap();
    assert!(!walk.ok() && walk.problems.iter().any(|p| p.contains("report.csv size")), "{:?}", walk.problems);
    std::fs::write(&csv, &original).unwrap();

    // The report in the middle deleted: the third names a report that is not there.
    let kept = dir.path().join("kept");
    std::fs::rename(&second, &kept).unwrap();
    let walk = walk_chain(&root, Some(&key)).unwrap();
    assert!(!walk.ok());
    assert!(walk.problems.iter().any(|p| p.starts_with("gap: #3")), "{:?}", walk.problems);
    std::fs::rename(&kept, &second).unwrap();

    // The chain head rolled back (a new run store): another report signed as #1, beside the first.
    let rolled_back = MemoryRunStore::new();
    report(&store, &rolled_back, &signer, "01WALKD0000000000000000000").await;
    let walk = walk_chain(&root, Some(&key)).unwrap();
    assert!(walk.problems.iter().any(|p| p.starts_with("fork: #1 is claimed by both")), "{:?}", walk.problems);

    // An altered manifest is named and left out of the chain.
    let manifest = third.join(keys::MANIFEST_NAME);
    let bytes = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, bytes.replace("\"population\": 1", "\"population\": 0")).unwrap();
    let walk = walk_chain(&root, Some(&key)).unwrap();
    assert!(walk.problems.iter().any(|p| p.contains("its signature does not hold")), "{:?}", walk.problems);
    assert!(walk.reports.iter().all(|r| r.report_id != "01WALKC0000000000000000000"));
}

/// A manifest's artifact names are read only when its signature holds, and only beside it.
#[tokio::test]
async fn artifact_names_outside_the_report_are_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::new(dir.path().join("out"));
    let runs = MemoryRunStore::new();
    let (signer, _) = LocalSigner::load_or_create(&dir.path().join("key.pem")).unwrap();
    let key = PublicKey { der: signer.public_key_der().await.unwrap(), source: "test key".into() };
    let folder = report(&store, &runs, &signer, "01PATHS0000000000000000000").await;
    let manifest = folder.join(keys::MANIFEST_NAME);
    let text = std::fs::read_to_string(&manifest).unwrap();
    let forged = text.replacen("\"name\": \"report.csv\"", "\"name\": \"../../key.pem\"", 1);
    assert_ne!(forged, text, "the manifest names report.csv");
    std::fs::write(&manifest, forged).unwrap();
    let v = verify(&folder, Some(&key), None).unwrap();
    assert!(!v.ok() && !v.signature.ok);
    let named = v.artifacts.iter().find(|a| a.name == "../../key.pem").unwrap();
    assert!(named.problem.as_deref().unwrap().contains("not a plain file name"), "{named:?}");
    assert!(v.artifacts.iter().filter(|a| a.name != named.name).all(|a| a
        .problem
        .as_deref()
        .unwrap()
        .contains("signature does not hold")));
}
