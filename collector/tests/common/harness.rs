//! One run over the embedded adapters, for tests of the collector handler: its population stored,
//! its run created, and the ports a [`CollectorDeps`] needs.

use dbadmin_collector::{CollectorDeps, ConnectOptions, Populations};
use dbadmin_contracts::message::Population;
use dbadmin_contracts::{keys, CollectionJob, FinalizeMessage, Target, Versioned};
use dbadmin_ports::local::{ChannelQueue, DirStore, MemoryRunStore};
use dbadmin_ports::{CredentialSource, ObjectStore, RunRecord, RunRecords};

/// The report every harness runs.
pub const REPORT: &str = "R1";

/// The version-1 job of `target_id`.
pub fn job(target_id: &str) -> CollectionJob {
    CollectionJob {
        schema_version: CollectionJob::SCHEMA_VERSION,
        report_id: REPORT.into(),
        target_id: target_id.into(),
        version: 1,
    }
}

/// Stores the population of `targets` and creates their run in `runs`.
pub async fn new_run(store: &dyn ObjectStore, runs: &dyn RunRecords, targets: Vec<Target>) {
    let total = targets.len() as u64;
    let population = Population {
        schema_version: Population::SCHEMA_VERSION,
        report_id: REPORT.into(),
        inventory_source: "inv.csv".into(),
        inventory_sha256: "0".repeat(64),
        filters: Default::default(),
        targets,
        baseline: None,
    };
    let _ = store.put(&keys::population(REPORT), dbadmin_contracts::encode(&population), "application/json").await;
    assert!(runs.create_run(&RunRecord::new(REPORT, "t", "2026-12-02T00:00:00Z", total)).await.unwrap());
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub store: DirStore,
    pub runs: MemoryRunStore,
    pub finalize: ChannelQueue<FinalizeMessage>,
    pub finalized: tokio::sync::mpsc::UnboundedReceiver<FinalizeMessage>,
    pub connect: ConnectOptions,
    pub populations: Populations,
}

impl Harness {
    /// A run of `targets`.
    pub async fn new(targets: Vec<Target>) -> Harness {
        let runs = MemoryRunStore::new();
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::new(dir.path());
        new_run(&store, &runs, targets).await;
        let (finalize, finalized) = ChannelQueue::new();
        Harness {
            dir,
            store,
            runs,
            finalize,
            finalized,
            connect: ConnectOptions::default(),
            populations: Populations::new(),
        }
    }

    /// The collector's ports over this harness, with `credentials` (a test puts a fault-injecting
    /// wrapper of one port in its slot: `CollectorDeps { counter: &failing, ..h.deps(&creds) }`).
    pub fn deps<'a>(&'a self, credentials: &'a dyn CredentialSource) -> CollectorDeps<'a> {
        CollectorDeps {
            credentials,
            store: &self.store,
            counter: &self.runs,
            attempts: &self.runs,
            finalize: &self.finalize,
            connect: &self.connect,
            login_logs: &dbadmin_ports::logs::NoCloudLogs,
            populations: &self.populations,
        }
    }
}
