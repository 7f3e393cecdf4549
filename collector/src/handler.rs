//! The collector handler, shared by the Lambda and `generate --local`.

use crate::engine::{self, ConnectOptions};
use dbadmin_contracts::message::Population;
use dbadmin_contracts::result::{Failure, TargetRef};
use dbadmin_contracts::{
    keys, CollectionJob, CredentialBinding, Engine, ErrorKind, FinalizeMessage, Outcome, Target, TargetResult,
    Versioned,
};
use dbadmin_ports::{
    AttemptLog, CompletionCounter, CredentialError, CredentialSource, FinalizeQueue, ObjectStore, PortError, Stored,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;
use tracing::{info, warn, Instrument};

/// The ports a collector uses.
pub struct CollectorDeps<'a> {
    pub credentials: &'a dyn CredentialSource,
    pub store: &'a dyn ObjectStore,
    pub counter: &'a dyn CompletionCounter,
    /// Where a job's infrastructure failures are recorded for operators.
    pub attempts: &'a dyn AttemptLog,
    pub finalize: &'a dyn FinalizeQueue,
    pub connect: &'a ConnectOptions,
    /// Where `cloudwatch:` login logs are read (CloudWatch Logs on AWS).
    pub login_logs: &'a dyn dbadmin_ports::LoginLogs,
    /// The population snapshots read so far (a Lambda keeps them across invocations).
    pub populations: &'a Populations,
}

/// The targets of recently seen reports, by report id: a job names its target and the collector
/// reads what to connect to from here, never from the message.
#[derive(Default)]
pub struct Populations {
    /// Newest last; a few reports at a time are in flight. A report's jobs that arrive together
    /// share one read of its snapshot (the cell), however many there are.
    cache: Mutex<Vec<(String, Arc<OnceCell<Targets>>)>>,
}

/// One report's targets by id.
type Targets = HashMap<String, Target>;

/// Reports whose populations are kept at once.
const POPULATIONS_KEPT: usize = 8;

impl Populations {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, Arc<OnceCell<Targets>>)>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The target `target_id` of report `report_id`, from the publisher's snapshot.
    async fn target(
        &self,
        store: &dyn ObjectStore,
        report_id: &str,
        target_id: &str,
    ) -> Result<Target, CollectorError> {
        let cell = {
            let mut cache = self.lock();
            match cache.iter().find(|(id, _)| id == report_id) {
                Some((_, cell)) => cell.clone(),
                None => {
                    if cache.len() >= POPULATIONS_KEPT {
                        cache.remove(0);
                    }
                    let cell = Arc::new(OnceCell::new());
                    cache.push((report_id.to_owned(), cell.clone()));
                    cell
                }
            }
        };
        let targets = match cell.get_or_try_init(|| load_population(store, report_id)).await {
            Ok(targets) => targets,
            Err(e) => {
                // Nothing is kept for a report that could not be read (a forged id must not evict
                // a real report's snapshot): the next job reads again.
                self.lock().retain(|(id, c)| id != report_id || c.initialized());
                return Err(e);
            }
        };
        targets.get(target_id).cloned().ok_or_else(|| CollectorError::UnknownTarget {
            report_id: report_id.to_owned(),
            target_id: target_id.to_owned(),
        })
    }
}

async fn load_population(store: &dyn ObjectStore, report_id: &str) -> Result<Targets, CollectorError> {
    let key = keys::population(report_id);
    let store_err = |source| CollectorError::Population { report_id: report_id.to_owned(), source };
    let bytes = store
        .get(&key)
        .await
        .map_err(store_err)?
        .ok_or_else(|| CollectorError::UnknownReport { report_id: report_id.to_owned() })?;
    let population = dbadmin_contracts::decode::<Population>(&bytes)
        .map_err(|e| store_err(PortError::permanent(format!("decode {key}"), e)))?;
    Ok(population.targets.into_iter().map(|t| (t.id.clone(), t)).collect())
}

/// What this delivery of a job may spend and whether another one will come.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delivery {
    /// When the collection must be over (the Lambda's deadline less a margin to store and count).
    pub deadline: Option<tokio::time::Instant>,
    /// The queue will not deliver the job again (`ApproximateReceiveCount` reached
    /// `maxReceiveCount`): a failure that would have been retried becomes the target's error row,
    /// so the report still completes, instead of the job resting in the dead-letter queue.
    pub last: bool,
    /// The queue delivers this message for the first time (`ApproximateReceiveCount` is 1): no
    /// earlier delivery of it can have stored a result, so the collector does not look for one (one
    /// S3 read less per database). A job SNS delivered twice, as two messages, is still counted once:
    /// the second result's conditional put finds the first and counts that one.
    pub first: bool,
}

/// What handling one job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    /// `None` when collected, the error kind when the target became an error row.
    pub error: Option<ErrorKind>,
    /// False when the target had been counted already (a redelivered job).
    pub newly_counted: bool,
    /// The run's count after this job, where the store read it ([`dbadmin_ports::Completion`]).
    pub completed: Option<u64>,
    pub total: u64,
    /// True when this call asked for the report.
    pub finalize_sent: bool,
    /// The run had moved to another version: the job was dropped uncounted.
    pub stale: bool,
    /// The target's engine (for metrics).
    pub engine: Engine,
    /// What this delivery read, when it collected (not when it reused an earlier delivery's result).
    pub collected: Option<CollectionStats>,
}

/// What one collection read, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectionStats {
    /// Connect and catalog queries, all attempts.
    pub duration_ms: u64,
    pub principals_examined: u32,
    /// Principals reported (admin or elevated).
    pub admins: u32,
}

/// An infrastructure failure (the job is not done and must be delivered again), or a job that names
/// no target of its report (poison: it must never be handled). Database-level failures never
/// surface here; they become error results.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    #[error("report {report_id} has no population snapshot: the job was not published by this system")]
    UnknownReport { report_id: String },
    #[error(
        "target {target_id} is not in the population of report {report_id}: the job was not published by this system"
    )]
    UnknownTarget { report_id: String, target_id: String },
    #[error("reading the population of report {report_id}")]
    Population {
        report_id: String,
        #[source]
        source: PortError,
    },
    #[error("fetching credentials for target {target_id}")]
    Credentials {
        target_id: String,
        #[source]
        source: CredentialError,
    },
    #[error("storing the result of target {target_id}")]
    Store {
        target_id: String,
        #[source]
        source: PortError,
    },
    #[error("counting target {target_id} complete")]
    Count {
        target_id: String,
        #[source]
        source: PortError,
    },
    #[error("requesting finalization of report {report_id}")]
    Finalize {
        report_id: String,
        #[source]
        source: PortError,
    },
}

impl CollectorError {
    /// Whether delivering the job again may succeed. A job naming no target of its report, or a
    /// report that does not exist, never will: it goes to the dead-letter queue with the reason.
    pub fn is_retryable(&self) -> bool {
        match self {
            CollectorError::UnknownReport { .. } | CollectorError::UnknownTarget { .. } => false,
            CollectorError::Population { source, .. } => source.is_retryable(),
            _ => true,
        }
    }
}

/// Collects one target and counts it, exactly once however often the job is delivered.
///
/// Order matters: the result is stored (written once) *before* the target is counted, so a
/// count never points at a missing result; a crash between any two steps is
/// repaired by redelivery (the stored result of the job's version is reused: the first outcome
/// wins; a second count is a no-op, and the finalize request is sent again when the count is full).
/// A job of a version the run has moved past is dropped ([`JobReport::stale`]).
pub async fn handle_job(job: &CollectionJob, deps: &CollectorDeps<'_>) -> Result<JobReport, CollectorError> {
    handle_delivery(job, deps, Delivery::default()).await
}

/// [`handle_job`] under a delivery's deadline (see [`Delivery`]).
pub async fn handle_delivery(
    job: &CollectionJob,
    deps: &CollectorDeps<'_>,
    delivery: Delivery,
) -> Result<JobReport, CollectorError> {
    let span =
        tracing::info_span!("collect", report_id = %job.report_id, target_id = %job.target_id, version = job.version);
    let outcome = handle(job, deps, delivery).instrument(span).await;
    // A job naming no target of its report records nothing: it is not one of the run's jobs.
    if let Some(e) = outcome.as_ref().err().filter(|e| e.is_retryable()) {
        // Kept for `status` and `dlq list`: SQS messages cannot carry why they were redelivered.
        let error = dbadmin_ports::error_chain(e);
        if let Err(record) = deps.attempts.record_attempt_error(&job.report_id, &job.target_id, &error).await {
            warn!(error = %record, "Could not record the job's failure.");
        }
    }
    outcome
}

async fn handle(
    job: &CollectionJob,
    deps: &CollectorDeps<'_>,
    delivery: Delivery,
) -> Result<JobReport, CollectorError> {
    let started = std::time::Instant::now();
    // The target comes from the publisher's snapshot; the message only names it.
    let target = &deps.populations.target(deps.store, &job.report_id, &job.target_id).await?;
    let (error, collected) = store_outcome(job, target, deps, delivery).await?;
    let db_ms = collected.as_ref().map_or(0, |c| c.duration_ms);
    let stale = JobReport {
        error,
        newly_counted: false,
        completed: None,
        total: 0,
        finalize_sent: false,
        stale: true,
        engine: target.engine,
        collected,
    };
    let completion = match deps.counter.mark_complete(&job.report_id, &target.id, job.version, error.is_some()).await {
        Ok(c) => c,
        Err(PortError::Stale { what }) => {
            info!(%what, "The run has moved to another version; dropping the job.");
            return Ok(stale);
        }
        Err(source) => return Err(CollectorError::Count { target_id: target.id.clone(), source }),
    };
    let finalize_sent = completion.is_last();
    if finalize_sent {
        request_finalize(job, deps, &completion).await?;
    }
    info!(db_ms, total_ms = started.elapsed().as_millis() as u64, "Job done.");
    Ok(JobReport {
        newly_counted: completion.newly_counted,
        completed: completion.completed,
        total: completion.total,
        finalize_sent,
        stale: false,
        ..stale
    })
}

/// This version's one stored outcome for `target`: an earlier delivery's, else this delivery's
/// collection (or a concurrent delivery's, when it stored first). Returns the outcome's error kind
/// and, when this delivery collected, the collection's figures.
async fn store_outcome(
    job: &CollectionJob,
    target: &Target,
    deps: &CollectorDeps<'_>,
    delivery: Delivery,
) -> Result<(Option<ErrorKind>, Option<CollectionStats>), CollectorError> {
    let key = keys::result(&job.report_id, job.version, &target.id);
    let store_err = |source| CollectorError::Store { target_id: target.id.clone(), source };
    let existing = if delivery.first { None } else { deps.store.get(&key).await.map_err(store_err)? };
    // The first stored outcome of this version wins (a retry of the report collects under the
    // next version's key).
    if let Some(Ok(stored)) = existing.as_deref().map(dbadmin_contracts::decode::<TargetResult>) {
        info!("Result already stored by an earlier delivery, counting it.");
        return Ok((failure_kind(&stored), None));
    }
    let result = collect(job, target, deps, delivery).await?;
    let (principals_examined, admins) = match &result.outcome {
        Outcome::Collected(c) => (c.principals_examined, c.principals.len() as u32),
        Outcome::Failed(_) => (0, 0),
    };
    let stats = CollectionStats { duration_ms: result.duration_ms, principals_examined, admins };
    let error = match &result.outcome {
        Outcome::Collected(c) => {
            info!(
                principals = c.principals.len(),
                examined = c.principals_examined,
                attempts = result.attempts,
                "Collected."
            );
            None
        }
        Outcome::Failed(f) => {
            warn!(kind = %f.kind, reason = %f.reason, attempts = result.attempts, "Target could not be collected; recording an error row.");
            Some(f.kind)
        }
    };
    let error =
        match deps.store.put(&key, dbadmin_contracts::encode(&result), "application/json").await.map_err(store_err)? {
            Stored::Created => error,
            Stored::Existed => {
                // A concurrent delivery stored its outcome first: that one is counted.
                info!("Another delivery stored this version's result first; counting that one.");
                let stored = deps.store.get(&key).await.map_err(store_err)?;
                stored
                    .as_deref()
                    .and_then(|b| dbadmin_contracts::decode::<TargetResult>(b).ok())
                    .map_or(error, |r| failure_kind(&r))
            }
        };
    Ok((error, Some(stats)))
}

/// Sent by whoever sees the full count, duplicates included: the reporter's claim makes it once.
async fn request_finalize(
    job: &CollectionJob,
    deps: &CollectorDeps<'_>,
    completion: &dbadmin_ports::Completion,
) -> Result<(), CollectorError> {
    let message = FinalizeMessage { schema_version: FinalizeMessage::SCHEMA_VERSION, report_id: job.report_id.clone() };
    deps.finalize
        .send_finalize(&message)
        .await
        .map_err(|source| CollectorError::Finalize { report_id: job.report_id.clone(), source })?;
    info!(completed = completion.total, total = completion.total, "Last target counted, finalization requested.");
    Ok(())
}

fn failure_kind(result: &TargetResult) -> Option<ErrorKind> {
    match &result.outcome {
        Outcome::Collected(_) => None,
        Outcome::Failed(f) => Some(f.kind),
    }
}

async fn collect(
    job: &CollectionJob,
    target: &Target,
    deps: &CollectorDeps<'_>,
    delivery: Delivery,
) -> Result<TargetResult, CollectorError> {
    let failed = |kind, reason: String| Outcome::Failed(Failure { kind, reason });
    let mut db_ms = 0;
    let mut binding = None;
    let (outcome, attempts) = if let Some(e) = engine::below_tls_floor(target, deps.connect) {
        // Below the TLS floor: refused before its secret is even read.
        (failed(e.kind, e.reason), 0)
    } else {
        match deps.credentials.credentials(target).await {
            Err(e) if e.is_retryable() && !delivery.last => {
                return Err(CollectorError::Credentials { target_id: target.id.clone(), source: e });
            }
            Err(e) if e.is_retryable() => (
                failed(
                    ErrorKind::Credentials,
                    format!(
                        "{} (still failing on the queue's last delivery of this job)",
                        dbadmin_ports::error_chain(&e)
                    ),
                ),
                0,
            ),
            Err(e @ CredentialError::BoundElsewhere { .. }) => {
                (failed(ErrorKind::CredentialHostMismatch, e.to_string()), 0)
            }
            Err(e) => (failed(ErrorKind::Credentials, e.to_string()), 0),
            Ok(creds) if deps.connect.require_bound_secrets && creds.binding == CredentialBinding::Unbound => (
                failed(
                    ErrorKind::CredentialHostMismatch,
                    format!(
                        "secret '{}' names no database (no RDS host or identifier, no db-admin-report:hosts) and \
                         this deployment sends a password only where its secret says: no connection was opened",
                        target.secret
                    ),
                ),
                0,
            ),
            Ok(creds) => {
                binding = Some(creds.binding);
                let started = std::time::Instant::now();
                let collected = engine::collect_until(target, &creds, deps.connect, delivery.deadline).await;
                db_ms = started.elapsed().as_millis() as u64;
                match collected {
                    (Ok(mut collected), attempts) => {
                        // Beside the catalogs: when each principal last logged in, from the engine's log.
                        let now = time::OffsetDateTime::now_utc();
                        let local = deps.connect.read_local_logs;
                        let evidence =
                            login_evidence(target, &mut collected, deps, local, delivery.deadline, now).await;
                        collected.login_evidence = Some(Box::new(evidence));
                        (Outcome::Collected(collected), attempts)
                    }
                    (Err(e), attempts) => (failed(e.kind, e.reason), attempts),
                }
            }
        }
    };
    Ok(TargetResult {
        schema_version: TargetResult::SCHEMA_VERSION,
        report_id: job.report_id.clone(),
        target: TargetRef::from(target),
        collected_at: dbadmin_contracts::now_rfc3339(),
        attempts,
        duration_ms: db_ms,
        credential_binding: binding,
        outcome,
    })
}

/// The longest the login evidence may take when no deadline is set (a local run).
const LOGIN_EVIDENCE_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// [`crate::logins::evidence`], ended by the job's deadline (or [`LOGIN_EVIDENCE_LIMIT`]): a log
/// query that is slow, or hangs, is an evidence-missing reason on a stored result, never a job
/// that misses its deadline.
async fn login_evidence(
    target: &Target,
    collected: &mut dbadmin_contracts::Collected,
    deps: &CollectorDeps<'_>,
    local: bool,
    deadline: Option<tokio::time::Instant>,
    now: time::OffsetDateTime,
) -> dbadmin_contracts::LoginEvidence {
    let window = deps.connect.login_window_days;
    let limit = deadline
        .map(|d| d.saturating_duration_since(tokio::time::Instant::now()))
        .unwrap_or(LOGIN_EVIDENCE_LIMIT)
        .min(LOGIN_EVIDENCE_LIMIT);
    let read = crate::logins::evidence(target, collected, window, now, local, deps.login_logs);
    match tokio::time::timeout(limit, read).await {
        Ok(evidence) => evidence,
        Err(_) => dbadmin_contracts::LoginEvidence::missing(
            target.login_log.as_deref().unwrap_or_default(),
            window,
            format!("the login log was not read within {} s, before the job's deadline", limit.as_secs()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use dbadmin_contracts::{Engine, TlsMode};
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Holds one population and counts how often it is read.
    struct CountingStore {
        population: Vec<u8>,
        reads: AtomicU32,
    }

    #[async_trait]
    impl ObjectStore for CountingStore {
        async fn put(&self, _: &str, _: Vec<u8>, _: &str) -> Result<Stored, PortError> {
            unreachable!("the cache only reads")
        }
        async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok((key == keys::population("R1")).then(|| self.population.clone()))
        }
        fn location(&self, key: &str) -> String {
            key.to_owned()
        }
    }

    #[tokio::test]
    async fn a_reports_jobs_share_one_read_and_unknown_reports_are_not_kept() {
        let target = Target {
            id: "a".into(),
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            engine: Engine::Mysql,
            host: "h".into(),
            port: 3306,
            databases: vec![],
            secret: "s".into(),
            role_arn: None,
            tls: TlsMode::VerifyFull,
            tags: Default::default(),
            login_log: None,
        };
        let population = Population {
            schema_version: Population::SCHEMA_VERSION,
            report_id: "R1".into(),
            inventory_source: "inv.csv".into(),
            inventory_sha256: String::new(),
            filters: Default::default(),
            targets: vec![target],
            baseline: None,
        };
        let store = CountingStore { population: dbadmin_contracts::encode(&population), reads: AtomicU32::new(0) };
        let cache = Populations::new();
        let lookups = (0..10).map(|_| cache.target(&store, "R1", "a"));
        for found in futures::future::join_all(lookups).await {
            assert_eq!(found.unwrap().host, "h");
        }
        assert_eq!(store.reads.load(Ordering::SeqCst), 1, "ten jobs arriving together read the snapshot once");

        for i in 0..POPULATIONS_KEPT * 2 {
            let err = cache.target(&store, &format!("FORGED{i}"), "a").await.unwrap_err();
            assert!(matches!(err, CollectorError::UnknownReport { .. }), "{err}");
        }
        cache.target(&store, "R1", "a").await.unwrap();
        assert_eq!(store.reads.load(Ordering::SeqCst), 1 + POPULATIONS_KEPT as u32 * 2, "R1 stayed cached");
    }
}
