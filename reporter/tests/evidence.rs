//! The evidence a report leaves: every artifact is written once, every manifest is signed and
//! names the manifest sealed before it, and the requester is the one the queue recorded.

mod common;

use common::*;
use dbadmin_contracts::manifest::{Manifest, ManifestSignature};
use dbadmin_contracts::{keys, sha256_hex, FinalizeMessage, Versioned};
use dbadmin_ports::faults::FailRecording;
use dbadmin_ports::local::{DirStore, MemoryRunStore};
use dbadmin_ports::signing::{self, LocalSigner, Signer};
use dbadmin_ports::{ManifestChain, ObjectStore, RunRecords};
use dbadmin_reporter::{handle_finalize, FinalizeOutcome, ReporterDeps, ReporterError};

const A: &str = "01EVIDENCEA000000000000000";
const B: &str = "01EVIDENCEB000000000000000";

fn finalize_message(id: &str) -> FinalizeMessage {
    FinalizeMessage { schema_version: FinalizeMessage::SCHEMA_VERSION, report_id: id.into() }
}

async fn one_target_run(store: &DirStore, runs: &MemoryRunStore, id: &str) {
    let t = target("db1");
    seed(store, runs, id, &[(t.clone(), dbadmin_contracts::encode(&error_result(id, &t)))]).await;
}

async fn object(store: &DirStore, key: &str) -> Vec<u8> {
    store.get(key).await.unwrap().unwrap_or_else(|| panic!("{key} is missing"))
}

#[tokio::test]
async fn manifests_are_signed_chained_and_name_the_queues_requester() {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::new(dir.path().join("bucket"));
    let runs = MemoryRunStore::new();
    let (signer, _) = LocalSigner::load_or_create(&dir.path().join("key.pem")).unwrap();
    let deps = ReporterDeps { store: &store, claims: &runs, counter: &runs, chain: &runs, signer: &signer };
    let public_key = signer.public_key_der().await.unwrap();

    let mut sealed = Vec::new();
    for id in [A, B] {
        one_target_run(&store, &runs, id).await;
        let outcome = handle_finalize(&finalize_message(id), &deps).await.unwrap();
        assert!(matches!(outcome, FinalizeOutcome::Written { version: 1, .. }), "{outcome:?}");
        let folder = keys::report_dir(id, SENT_AT, 1);
        let manifest_bytes = object(&store, &format!("{folder}/{}", keys::MANIFEST_NAME)).await;
        let signature_bytes = object(&store, &format!("{folder}/{}", keys::SIGNATURE_NAME)).await;
        let signature: ManifestSignature = dbadmin_contracts::decode(&signature_bytes).unwrap();
        assert_eq!(signature.manifest_sha256, sha256_hex(&manifest_bytes));
        assert_eq!(signature.algorithm, "ECDSA_SHA_256");
        assert_eq!(signature.public_key_sha256, sha256_hex(&public_key));
        let raw = signing::decode_signature(&signature.signature).unwrap();
        signing::verify(&public_key, &manifest_bytes, &raw).expect("the manifest verifies with the public key");
        let mut bent = manifest_bytes.clone();
        bent[10] ^= 1;
        assert!(signing::verify(&public_key, &bent, &raw).is_err(), "one changed byte breaks the signature");
        let manifest: Manifest = serde_json::from_slice(&manifest_bytes).unwrap();
        sealed.push((manifest, sha256_hex(&manifest_bytes), sha256_hex(&signature_bytes)));
    }
    let (first, first_manifest_sha, first_signature_sha) = &sealed[0];
    let (second, ..) = &sealed[1];
    assert_eq!((first.sequence, first.previous.as_ref()), (1, None), "the first report starts the chain");
    let link = second.previous.as_ref().expect("the second report names the first");
    assert_eq!(second.sequence, 2);
    assert_eq!((link.report_id.as_str(), link.version, link.sequence), (A, 1, 1));
    assert_eq!((&link.manifest_sha256, &link.signature_sha256), (first_manifest_sha, first_signature_sha));

    // Who asked and when are the queue's record; the body's claim is kept apart.
    assert_eq!((first.requested_by.as_str(), first.requested_at.as_str()), (SENDER, SENT_AT));
    assert_eq!(first.requested_by_claimed.as_deref(), Some("arn:aws:iam::123456789012:user/claimed"));
    assert_eq!(first.tls_modes.get("verify-full"), Some(&1));
    assert_eq!(first.tls_warning, None);
}

#[tokio::test]
async fn a_finalize_that_died_before_recording_writes_the_same_bytes_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::new(dir.path().join("bucket"));
    // Claims expire at once, as if the dead reporter's lease had run out.
    let runs = MemoryRunStore::with_lease(std::time::Duration::ZERO);
    let dies = FailRecording::new(&runs, 1);
    let (signer, _) = LocalSigner::load_or_create(&dir.path().join("key.pem")).unwrap();
    one_target_run(&store, &runs, A).await;
    let deps = ReporterDeps { store: &store, claims: &dies, counter: &runs, chain: &runs, signer: &signer };

    let err = handle_finalize(&finalize_message(A), &deps).await.unwrap_err();
    assert!(matches!(err, ReporterError::RunState { .. }) && err.is_retryable(), "{err}");
    let folder = keys::report_dir(A, SENT_AT, 1);
    let names = [keys::CSV_NAME, keys::JSON_NAME, keys::MANIFEST_NAME, keys::SIGNATURE_NAME];
    let mut before = Vec::new();
    for name in names {
        before.push(object(&store, &format!("{folder}/{name}")).await);
    }

    let outcome = handle_finalize(&finalize_message(A), &deps).await.unwrap();
    assert!(matches!(outcome, FinalizeOutcome::Written { version: 1, .. }), "{outcome:?}");
    for (name, bytes) in names.iter().zip(before) {
        assert_eq!(object(&store, &format!("{folder}/{name}")).await, bytes, "{name} is byte-identical");
    }
    assert_eq!(runs.get_run(A).await.unwrap().unwrap().reported_version, 1);
    assert_eq!(runs.chain_head().await.unwrap().unwrap().sequence, 1, "sealed once");
}

#[tokio::test]
async fn other_bytes_under_a_version_move_the_report_to_the_next_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::new(dir.path().join("bucket"));
    let runs = MemoryRunStore::new();
    let (signer, _) = LocalSigner::load_or_create(&dir.path().join("key.pem")).unwrap();
    one_target_run(&store, &runs, A).await;
    // An interrupted attempt (or anyone) left other bytes where version 1's CSV goes.
    let v1_csv = format!("{}/{}", keys::report_dir(A, SENT_AT, 1), keys::CSV_NAME);
    put(&store, &v1_csv, b"not this report".to_vec()).await;

    let deps = ReporterDeps { store: &store, claims: &runs, counter: &runs, chain: &runs, signer: &signer };
    let outcome = handle_finalize(&finalize_message(A), &deps).await.unwrap();
    assert!(matches!(outcome, FinalizeOutcome::Written { version: 2, .. }), "{outcome:?}");
    assert_eq!(object(&store, &v1_csv).await, b"not this report", "never rewritten");
    let v2 = keys::report_dir(A, SENT_AT, 2);
    let manifest: Manifest =
        serde_json::from_slice(&object(&store, &format!("{v2}/{}", keys::MANIFEST_NAME)).await).unwrap();
    assert_eq!((manifest.version, manifest.abandoned.clone()), (2, vec![1]));
    let run = runs.get_run(A).await.unwrap().unwrap();
    assert_eq!((run.version, run.reported_version), (2, 2));
    assert!(run.report_location.unwrap().contains("/v2/"));
}

/// Streams a DirStore's `put_file` through the default (read, then `put`), as S3 does.
struct ReadingStore(DirStore);

#[async_trait::async_trait]
impl ObjectStore for ReadingStore {
    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<dbadmin_ports::Stored, dbadmin_ports::PortError> {
        self.0.put(key, body, content_type).await
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, dbadmin_ports::PortError> {
        self.0.get(key).await
    }
    fn location(&self, key: &str) -> String {
        self.0.location(key)
    }
}

/// The CSV and JSON are streamed to staging files and stored from there (linked on disk, read and
/// put elsewhere): the bytes are exactly those of rendering in memory, the manifest's hashes and
/// sizes are of those bytes, and no staging file is left behind.
#[tokio::test]
async fn streamed_artifacts_are_the_bytes_rendered_in_memory() {
    for linked in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let disk = DirStore::new(dir.path().join("bucket"));
        let reading = ReadingStore(DirStore::new(dir.path().join("bucket")));
        let store: &dyn ObjectStore = if linked { &disk } else { &reading };
        let runs = MemoryRunStore::new();
        let (signer, _) = LocalSigner::load_or_create(&dir.path().join("key.pem")).unwrap();
        let deps = ReporterDeps { store, claims: &runs, counter: &runs, chain: &runs, signer: &signer };
        let targets: Vec<_> = (0..3).map(|i| target(&format!("db{i}"))).collect();
        let seeded: Vec<_> =
            targets.iter().map(|t| (t.clone(), dbadmin_contracts::encode(&error_result(A, t)))).collect();
        seed(store, &runs, A, &seeded).await;
        handle_finalize(&finalize_message(A), &deps).await.unwrap();

        let population: dbadmin_contracts::message::Population =
            dbadmin_contracts::decode(&object(&disk, &keys::population(A)).await).unwrap();
        let results = targets.iter().map(|t| (t.id.clone(), error_result(A, t))).collect();
        let rows = dbadmin_reporter::render::rows(&population, &results, SENT_AT);
        let folder = keys::report_dir(A, SENT_AT, 1);
        let csv = object(&disk, &format!("{folder}/{}", keys::CSV_NAME)).await;
        let json = object(&disk, &format!("{folder}/{}", keys::JSON_NAME)).await;
        assert_eq!(csv, dbadmin_reporter::render::to_csv(&rows), "linked={linked}");
        assert_eq!(json, dbadmin_reporter::render::to_json(A, 1, SENT_AT, &rows), "linked={linked}");
        let manifest: Manifest =
            serde_json::from_slice(&object(&disk, &format!("{folder}/{}", keys::MANIFEST_NAME)).await).unwrap();
        for (name, bytes) in [(keys::CSV_NAME, &csv), (keys::JSON_NAME, &json)] {
            let a = manifest.artifacts.iter().find(|a| a.name == name).unwrap();
            assert_eq!((a.sha256.as_str(), a.size), (sha256_hex(bytes).as_str(), bytes.len() as u64));
        }
        let staging = dir.path().join("bucket/.staging");
        let left = std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0);
        assert_eq!(left, 0, "no staging file left in {}", staging.display());
    }
}

/// report.html compares with the report signed before, unless that report is too large to hold in
/// memory for it: then the page says so and names the command that compares any size.
#[tokio::test]
async fn the_page_compares_with_the_previous_report_unless_it_is_too_large() {
    for (bent_size, expected) in [
        (
            None,
            "Compared with report 01EVIDENCEA000000000000000 v1, the report signed before this one: 0 admin(s) added",
        ),
        (Some(90_000_000u64), "is not compared: its report.json is 90 MB, more than this page compares"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::new(dir.path().join("bucket"));
        let runs = MemoryRunStore::new();
        let (signer, _) = LocalSigner::load_or_create(&dir.path().join("key.pem")).unwrap();
        let deps = ReporterDeps { store: &store, claims: &runs, counter: &runs, chain: &runs, signer: &signer };
        one_target_run(&store, &runs, A).await;
        handle_finalize(&finalize_message(A), &deps).await.unwrap();
        if let Some(size) = bent_size {
            let path = dir.path().join("bucket").join(keys::report_dir(A, SENT_AT, 1)).join(keys::MANIFEST_NAME);
            let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            for a in manifest["artifacts"].as_array_mut().unwrap() {
                if a["name"] == keys::JSON_NAME {
                    a["size"] = size.into();
                }
            }
            std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
        }
        one_target_run(&store, &runs, B).await;
        handle_finalize(&finalize_message(B), &deps).await.unwrap();
        let page = object(&store, &format!("{}/{}", keys::report_dir(B, SENT_AT, 1), keys::HTML_NAME)).await;
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains(expected), "{expected}: {}", &page[page.find("Changes since").unwrap()..][..400]);
    }
}
