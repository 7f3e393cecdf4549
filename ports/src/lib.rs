//! Ports: the narrow interfaces every stage's handler depends on.
//!
//! A handler never knows whether it runs in a Lambda or in `generate --local`;
//! it talks to these traits. The [`local`] module holds the embedded adapters
//! (in-process queues, a directory for objects, an in-memory run table, a
//! secrets file); the AWS adapters implement the same traits over SNS, SQS,
//! S3, DynamoDB, STS and Secrets Manager. Each trait documents the contract
//! both sets must keep.

/// The port contracts as test suites, for every adapter.
#[cfg(feature = "testing")]
pub mod contract;
pub mod credentials;
/// Fault-injecting wrappers for tests (crash after storing, after counting, …).
#[cfg(feature = "testing")]
pub mod faults;
/// A finished run to finalize, for tests.
#[cfg(feature = "testing")]
pub mod fixtures;
pub mod local;
pub mod logs;
pub mod signing;

use async_trait::async_trait;
use dbadmin_contracts::manifest::ChainLink;
use dbadmin_contracts::{CollectionJob, FinalizeMessage, ReportRequest, Target};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub use credentials::{CredentialError, DbCredentials, SecretBinding};
pub use logs::{LogError, LogRead, LoginLogs};

/// What a caught panic said (its `&str` or `String` payload), for the record it fails.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

/// An error and its causes on one line (`what failed: why: the cause`), for logs and records.
/// A cause whose text is already in the line (drivers often repeat their source) is left out.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

/// A failure of the infrastructure behind a port (not of a database being audited).
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// Worth retrying: throttling, a timeout, a 5xx.
    #[error("{operation} failed transiently")]
    Transient {
        operation: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Retrying will not help: access denied, a malformed request, a missing bucket.
    #[error("{operation} failed")]
    Permanent {
        operation: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The thing asked for does not exist.
    #[error("{what} does not exist")]
    NotFound { what: String },
    /// The request belongs to a state the system has moved past (a job of an earlier report
    /// version): it must be dropped, not retried.
    #[error("{what} is stale")]
    Stale { what: String },
}

impl PortError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, PortError::Transient { .. })
    }

    /// The answer to counting a `version` job of a target whose run is at version `current`.
    pub fn stale(report_id: &str, target_id: &str, version: u32, current: u32) -> Self {
        PortError::Stale {
            what: format!(
                "the version {version} job of target {target_id} (report {report_id} is at version {current})"
            ),
        }
    }

    pub fn transient(
        operation: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        PortError::Transient { operation: operation.into(), source: source.into() }
    }

    pub fn permanent(
        operation: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        PortError::Permanent { operation: operation.into(), source: source.into() }
    }
}

/// Fans collection jobs out to collectors.
///
/// Contract: delivery is at-least-once; a job may reach a collector twice.
/// `publish_batch` takes at most [`MAX_BATCH`] jobs and returns the indices of
/// the entries that were *not* accepted, so the caller retries only those; an
/// `Err` means none of the batch is known to be accepted.
#[async_trait]
pub trait JobQueue: Send + Sync {
    async fn publish_batch(&self, jobs: &[CollectionJob]) -> Result<Vec<usize>, PortError>;
}

/// The most jobs one `publish_batch` call may carry (SNS PublishBatch's limit).
pub const MAX_BATCH: usize = 10;

/// Tells the reporter a run is ready. At-least-once; the reporter's claim makes it idempotent.
#[async_trait]
pub trait FinalizeQueue: Send + Sync {
    async fn send_finalize(&self, message: &FinalizeMessage) -> Result<(), PortError>;
}

/// Where report requests go: the publisher's queue.
#[async_trait]
pub trait RequestQueue: Send + Sync {
    async fn submit(&self, request: &ReportRequest) -> Result<(), PortError>;
}

/// A message resting in a dead-letter queue, as received: hidden from other readers until it is
/// released, deleted, or its hold runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub message_id: String,
    pub body: String,
    /// The handle that releases or deletes this receipt of the message.
    pub receipt: String,
    /// How often the message has been received (SQS `ApproximateReceiveCount`).
    pub receive_count: Option<u32>,
    /// When it was first sent, RFC 3339 UTC.
    pub sent_at: Option<String>,
    /// Why a function dead-lettered it at once (a permanent failure), when it said.
    pub reason: Option<String>,
}

/// A dead-letter queue and the queue its messages came from.
///
/// Contract: `receive` hides what it returns for `hold` (a second receive within it does not
/// return the same message); `release` makes messages visible again at once and fails unless every
/// entry was released; `send_back` then `delete` moves a message home, and an interruption between
/// the two leaves it in both queues (never in neither).
#[async_trait]
pub trait DeadLetterQueue: Send + Sync {
    async fn receive(&self, max: usize, hold: std::time::Duration) -> Result<Vec<DeadLetter>, PortError>;
    async fn release(&self, receipts: &[&str]) -> Result<(), PortError>;
    async fn send_back(&self, body: &str) -> Result<(), PortError>;
    async fn delete(&self, receipt: &str) -> Result<(), PortError>;
    /// Starts the service's own move of every message back to its source (SQS `StartMessageMoveTask`);
    /// returns the task's handle.
    async fn start_move_task(&self) -> Result<String, PortError>;
}

/// What a write-once [`ObjectStore::put`] did.
#[must_use = "an object that existed already was not written: compare or read it"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Created,
    /// An object had the key already; it is left as it was.
    Existed,
}

/// Objects by key (see `dbadmin_contracts::keys`).
///
/// Contract: every object is written once. `put` creates the object only if no object has the
/// key (S3 `If-None-Match: *`; an atomic no-clobber link on disk) and otherwise changes nothing
/// and answers [`Stored::Existed`]; a reader sees no object or the whole object. Evidence is thus
/// never rewritten in place: a second writer finds the first one's bytes.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<Stored, PortError>;
    /// `Ok(None)` when no object has the key.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError>;
    /// Where the object lives, for people: a path or an `s3://` URI.
    fn location(&self, key: &str) -> String;

    /// Stores the file at `path` under `key`, with [`ObjectStore::put`]'s write-once contract; the
    /// caller removes the file afterwards. A large artifact is written to a file in
    /// [`ObjectStore::staging_dir`] and stored from there, so it is never held in memory where the
    /// store can avoid it (on disk: a link). By default the file is read and put.
    async fn put_file(&self, key: &str, path: &std::path::Path, content_type: &str) -> Result<Stored, PortError> {
        let body =
            tokio::fs::read(path).await.map_err(|e| PortError::permanent(format!("read {}", path.display()), e))?;
        self.put(key, body, content_type).await
    }

    /// Where to write files for [`ObjectStore::put_file`].
    fn staging_dir(&self) -> std::path::PathBuf {
        std::env::temp_dir()
    }
}

/// Reads an inventory by the name a request gives (a path, an `s3://` URI, an `ssm:` parameter or
/// path).
#[async_trait]
pub trait InventorySource: Send + Sync {
    async fn fetch(&self, source: &str) -> Result<dbadmin_contracts::InventoryDocument, PortError>;
}

/// Lists what AWS says exists: the organization's accounts, and the RDS/Aurora databases of one
/// account × region (through the role the collector uses there).
#[async_trait]
pub trait DatabaseDiscovery: Send + Sync {
    /// Every ACTIVE account of the AWS Organization.
    async fn organization_accounts(&self) -> Result<Vec<String>, PortError>;
    /// Every DB instance and cluster of `account_id` in `region` (a cluster's members folded in).
    async fn databases(
        &self,
        account_id: &str,
        region: &str,
    ) -> Result<Vec<dbadmin_contracts::discovery::DiscoveredDatabase>, PortError>;
}

/// Fetches a database login for a target: through the target's role and Secrets Manager on AWS,
/// from a secrets file or the environment locally.
#[async_trait]
pub trait CredentialSource: Send + Sync {
    async fn credentials(&self, target: &Target) -> Result<DbCredentials, CredentialError>;
}

/// The state of one run, as the run table keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub report_id: String,
    pub requested_by: String,
    pub requested_at: String,
    /// The population size: how many distinct targets must complete.
    pub total: u64,
    /// Distinct targets counted complete.
    pub completed: u64,
    /// Of those, the targets counted as error rows.
    #[serde(default)]
    pub failed: u64,
    /// The report version being collected: 1 at first, raised when failed targets are collected
    /// again; finalizing it writes that version of the report.
    #[serde(alias = "generation")]
    pub version: u32,
    /// Versions of the report written so far (0 before the first).
    pub reported_version: u32,
    /// Where the newest version's primary artifact is.
    pub report_location: Option<String>,
}

impl RunRecord {
    /// A new run of `total` targets at version 1, nothing counted or written yet.
    pub fn new(
        report_id: impl Into<String>,
        requested_by: impl Into<String>,
        requested_at: impl Into<String>,
        total: u64,
    ) -> Self {
        RunRecord {
            report_id: report_id.into(),
            requested_by: requested_by.into(),
            requested_at: requested_at.into(),
            total,
            completed: 0,
            failed: 0,
            version: 1,
            reported_version: 0,
            report_location: None,
        }
    }
}

/// How a target was counted: as an error row or not, and in which report version (its result is
/// at `keys::result(report_id, version, target_id)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    pub failed: bool,
    pub version: u32,
}

/// The result of counting one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// False when this target had already been counted (a redelivered job).
    pub newly_counted: bool,
    /// The count after this call; `None` when the store counted on the condition that other targets
    /// were still missing and so did not read the count back (DynamoDB's common path).
    pub completed: Option<u64>,
    pub total: u64,
}

impl Completion {
    pub fn is_last(&self) -> bool {
        self.completed.is_some_and(|c| c >= self.total)
    }
}

/// How long a finalize claim holds before another reporter may take over the same version.
pub const FINALIZE_LEASE: std::time::Duration = std::time::Duration::from_secs(600);

/// The right to write one version of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinalizeClaim {
    pub version: u32,
    pub supersedes: Option<u32>,
}

/// What asking for a run's next version did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewVersion {
    /// The targets were uncounted and the run moved to `version`.
    Started { version: u32, reset: usize },
    /// The run is already at the next version (an earlier delivery of the same retry, or a
    /// concurrent retry of the same version): only the targets still uncounted need collecting.
    AlreadyStarted { version: u32 },
    /// The run cannot start a new version from the one asked (still running, or moved on).
    NotReady { reason: String },
}

/// Why a run cannot move from version `from` to the next, or `None` when it can.
pub fn not_ready(record: &RunRecord, from: u32) -> Option<String> {
    if record.version != from {
        Some(format!("the report is at version {}, not {from}", record.version))
    } else if record.completed < record.total {
        Some(format!("the report is still running ({} of {} targets done)", record.completed, record.total))
    } else if record.reported_version < from {
        Some(format!("version {from} of the report is not written yet"))
    } else {
        None
    }
}

/// The checks every [`CompletionCounter::begin_version`] makes before changing anything: the targets to
/// uncount, or the answer to give. `counted` says whether a target is counted now.
pub fn plan_version<'a>(
    record: &RunRecord,
    from: u32,
    targets: &'a [String],
    counted: impl Fn(&str) -> bool,
) -> Result<Vec<&'a String>, NewVersion> {
    if record.version == from + 1 {
        return Err(NewVersion::AlreadyStarted { version: record.version });
    }
    if let Some(reason) = not_ready(record, from) {
        return Err(NewVersion::NotReady { reason });
    }
    let reset: Vec<&String> = targets.iter().filter(|t| counted(t)).collect();
    if reset.is_empty() {
        return Err(NewVersion::NotReady { reason: "none of the targets to collect again was counted".into() });
    }
    Ok(reset)
}

/// A signed manifest's exact bytes, as kept with its run until they are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedManifest {
    pub manifest: Vec<u8>,
    pub signature: Vec<u8>,
}

/// What [`ManifestChain::seal`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seal {
    /// The manifest is the chain's new head and is kept with its run.
    Sealed,
    /// Another report was sealed since the head was read: build the manifest again on the new head.
    HeadMoved,
    /// This version was sealed already (an earlier attempt): these are the bytes to write.
    AlreadySealed(SealedManifest),
}

/// The last infrastructure failure of a target's job (the reason a message may reach the DLQ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptError {
    pub error: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// Failed attempts recorded so far.
    pub attempts: u32,
}

/// Run records: one per report, created by the publisher and read by the CLI.
///
/// Contract: `create_run` is idempotent on `report_id`: a second call returns `false` and changes
/// nothing.
#[async_trait]
pub trait RunRecords: Send + Sync {
    async fn create_run(&self, run: &RunRecord) -> Result<bool, PortError>;
    async fn get_run(&self, report_id: &str) -> Result<Option<RunRecord>, PortError>;
    /// Every run, newest request first.
    async fn list_runs(&self) -> Result<Vec<RunRecord>, PortError>;
}

/// The completion count of a run's current version: collectors count targets, the publisher moves
/// a run to its next version for the targets to collect again.
///
/// Contract:
/// - `mark_complete` counts each `(report_id, target_id)` exactly once, however often it is called,
///   and only for the run's current version: a job of another version gets [`PortError::Stale`].
/// - `begin_version(from, targets)` succeeds only on a run whose version `from` is complete and
///   reported; it uncounts exactly `targets` (those counted) and raises the version to `from + 1`,
///   so the count reaches the total again only when each of them is collected again.
///   A call for a run already at `from + 1` answers [`NewVersion::AlreadyStarted`] after finishing
///   what an interrupted earlier call began: those of `targets` still counted in an earlier version
///   are uncounted too (a store that cannot uncount atomically must leave such a state resumable).
#[async_trait]
pub trait CompletionCounter: Send + Sync {
    /// `failed`: the target's result is an error row (counted in [`RunRecord::failed`]); `version`:
    /// the version the job collected for.
    async fn mark_complete(
        &self,
        report_id: &str,
        target_id: &str,
        version: u32,
        failed: bool,
    ) -> Result<Completion, PortError>;
    /// Targets counted so far, each with how it was counted.
    async fn counted(&self, report_id: &str) -> Result<BTreeMap<String, Counted>, PortError>;
    /// Targets counted so far (for status views and tests).
    async fn completed_targets(&self, report_id: &str) -> Result<BTreeSet<String>, PortError> {
        Ok(self.counted(report_id).await?.into_keys().collect())
    }
    async fn begin_version(&self, report_id: &str, from: u32, targets: &[String]) -> Result<NewVersion, PortError>;
}

/// Finalize claims: the right to write one version of a report, and the record that it is written.
///
/// Contract:
/// - `claim_finalize` grants version `version` only when every target is counted and that version
///   is neither reported nor claimed by a live lease; concurrent callers get at most one claim. A
///   claim older than [`FINALIZE_LEASE`] that never got recorded is granted again, so a reporter
///   that died after claiming cannot leave a run stuck.
/// - `record_report` ends the version: it is not claimed again.
/// - `abandon_version(v)` moves a claimed, unwritten version `v` to `v + 1`, keeping the claim.
#[async_trait]
pub trait FinalizeClaims: Send + Sync {
    async fn claim_finalize(&self, report_id: &str) -> Result<Option<FinalizeClaim>, PortError>;
    /// Whether the run's current version is complete but not written, so that a finalize message
    /// whose claim was refused must come back later, not be dropped: another call holds the claim
    /// (and may still die), or its lease ran out just after the refusal. Whether a lease is live
    /// does not matter here; only a written version (or an incomplete run) lets a message go.
    async fn awaiting_report(&self, report_id: &str) -> Result<bool, PortError>;
    async fn record_report(&self, report_id: &str, version: u32, location: &str) -> Result<(), PortError>;
    /// Gives up a claimed version whose artifacts cannot be written as rendered (an earlier
    /// attempt left other bytes under its keys): the run moves to `version + 1`, still claimed.
    /// False when the run is not at `version` or the version is written.
    async fn abandon_version(&self, report_id: &str, version: u32) -> Result<bool, PortError>;
}

/// The deployment's chain of signed manifests, each kept with its run until it is written.
///
/// Contract: `seal` appends a version's signed manifest to the chain atomically: only on the head
/// it was built on, and once per version; `sealed` gives the bytes back, so a reporter that died
/// after sealing writes exactly those bytes.
#[async_trait]
pub trait ManifestChain: Send + Sync {
    /// The last manifest sealed into the chain.
    async fn chain_head(&self) -> Result<Option<ChainLink>, PortError>;
    /// Appends `link` (version `link.version` of report `link.report_id`) to the chain if its head
    /// is still `previous` (by sequence), keeping the signed bytes with the run.
    async fn seal(&self, previous: Option<u64>, link: &ChainLink, sealed: &SealedManifest) -> Result<Seal, PortError>;
    /// The manifest and signature sealed for `version`, if it was.
    async fn sealed(&self, report_id: &str, version: u32) -> Result<Option<SealedManifest>, PortError>;
}

/// Why a target's jobs failed, kept for operators (`status`, `dlq`).
#[async_trait]
pub trait AttemptLog: Send + Sync {
    /// Records why a job failed (best effort: callers ignore a failure to record).
    async fn record_attempt_error(&self, report_id: &str, target_id: &str, error: &str) -> Result<(), PortError>;
    /// The recorded job failures of a run, by target id.
    async fn attempt_errors(&self, report_id: &str) -> Result<BTreeMap<String, AttemptError>, PortError>;
}

/// The whole run table: every run port above, as one adapter (DynamoDB, memory) keeps them over the
/// same state. Handlers take the narrow ports they use; wiring, the CLI's views and the contract
/// suite take this.
///
/// Contract, across the ports: a claim needs the current version's full count (above); a new
/// version ([`CompletionCounter::begin_version`]) also clears the attempt log of the targets it
/// uncounts.
pub trait RunStore: RunRecords + CompletionCounter + FinalizeClaims + ManifestChain + AttemptLog {}

impl<T: RunRecords + CompletionCounter + FinalizeClaims + ManifestChain + AttemptLog + ?Sized> RunStore for T {}
