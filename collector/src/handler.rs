//! The collector handler, shared by the Lambda and `generate --local`.

use crate::engine::{self, ConnectOptions};
use dbadmin_contracts::result::{Failure, TargetRef};
use dbadmin_contracts::{keys, CollectionJob, ErrorKind, FinalizeMessage, Outcome, TargetResult, Versioned};
use dbadmin_ports::{CredentialError, CredentialSource, FinalizeQueue, ObjectStore, PortError, RunStore};
use tracing::{info, warn, Instrument};

/// The ports a collector uses.
pub struct CollectorDeps<'a> {
    pub credentials: &'a dyn CredentialSource,
    pub store: &'a dyn ObjectStore,
    pub runs: &'a dyn RunStore,
    pub finalize: &'a dyn FinalizeQueue,
    pub connect: &'a ConnectOptions,
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
}

/// What handling one job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    /// `None` when collected, the error kind when the target became an error row.
    pub error: Option<ErrorKind>,
    /// False when the target had been counted already (a redelivered job).
    pub newly_counted: bool,
    pub completed: u64,
    pub total: u64,
    /// True when this call asked for the report.
    pub finalize_sent: bool,
}

/// An infrastructure failure: the job is not done and must be delivered again.
/// Database-level failures never surface here; they become error results.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
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

/// Collects one target and counts it, exactly once however often the job is delivered.
///
/// Order matters: the result is stored *before* the target is counted, so a
/// count never points at a missing result; a crash between any two steps is
/// repaired by redelivery (an already stored collected result is reused, a second count
/// is a no-op, and the finalize request is sent again when the count is full).
pub async fn handle_job(job: &CollectionJob, deps: &CollectorDeps<'_>) -> Result<JobReport, CollectorError> {
    handle_delivery(job, deps, Delivery::default()).await
}

/// [`handle_job`] under a delivery's deadline (see [`Delivery`]).
pub async fn handle_delivery(
    job: &CollectionJob,
    deps: &CollectorDeps<'_>,
    delivery: Delivery,
) -> Result<JobReport, CollectorError> {
    let span = tracing::info_span!("collect", report_id = %job.report_id, target_id = %job.target.id);
    let outcome = handle(job, deps, delivery).instrument(span).await;
    if let Err(e) = &outcome {
        // Kept for `status` and `dlq list`: SQS messages cannot carry why they were redelivered.
        let error = dbadmin_ports::error_chain(e);
        if let Err(record) = deps.runs.record_attempt_error(&job.report_id, &job.target.id, &error).await {
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
    let target = &job.target;
    let key = keys::result(&job.report_id, &target.id);
    let store_err = |source| CollectorError::Store { target_id: target.id.clone(), source };

    let existing = deps.store.get(&key).await.map_err(store_err)?;
    let mut db_ms = 0;
    let error = match existing.as_deref().map(dbadmin_contracts::decode::<TargetResult>) {
        // A stored error row is not reused: a redelivery, or a retry of the report, tries the database again.
        Some(Ok(stored)) if matches!(stored.outcome, Outcome::Collected(_)) => {
            info!("Result already stored by an earlier delivery, counting it.");
            None
        }
        _ => {
            let result = collect(job, deps, delivery).await?;
            db_ms = result.duration_ms;
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
            deps.store.put(&key, dbadmin_contracts::encode(&result), "application/json").await.map_err(store_err)?;
            error
        }
    };

    let completion = deps
        .runs
        .mark_complete(&job.report_id, &target.id, error.is_some())
        .await
        .map_err(|source| CollectorError::Count { target_id: target.id.clone(), source })?;
    let mut finalize_sent = false;
    if completion.is_last() {
        // Sent by whoever sees the full count, duplicates included: the reporter's claim makes it once.
        let message =
            FinalizeMessage { schema_version: FinalizeMessage::SCHEMA_VERSION, report_id: job.report_id.clone() };
        deps.finalize
            .send_finalize(&message)
            .await
            .map_err(|source| CollectorError::Finalize { report_id: job.report_id.clone(), source })?;
        finalize_sent = true;
        info!(
            completed = completion.completed,
            total = completion.total,
            "Last target counted, finalization requested."
        );
    }
    info!(db_ms, total_ms = started.elapsed().as_millis() as u64, "Job done.");
    Ok(JobReport {
        error,
        newly_counted: completion.newly_counted,
        completed: completion.completed,
        total: completion.total,
        finalize_sent,
    })
}

async fn collect(
    job: &CollectionJob,
    deps: &CollectorDeps<'_>,
    delivery: Delivery,
) -> Result<TargetResult, CollectorError> {
    let target = &job.target;
    let failed = |kind, reason: String| Outcome::Failed(Failure { kind, reason });
    let mut db_ms = 0;
    let (outcome, attempts) = match deps.credentials.credentials(target).await {
        Err(e) if e.is_retryable() && !delivery.last => {
            return Err(CollectorError::Credentials { target_id: target.id.clone(), source: e });
        }
        Err(e) if e.is_retryable() => (
            failed(
                ErrorKind::Credentials,
                format!("{} (still failing on the queue's last delivery of this job)", dbadmin_ports::error_chain(&e)),
            ),
            0,
        ),
        Err(e) => (failed(ErrorKind::Credentials, e.to_string()), 0),
        Ok(creds) => {
            let started = std::time::Instant::now();
            let collected = engine::collect_until(target, &creds, deps.connect, delivery.deadline).await;
            db_ms = started.elapsed().as_millis() as u64;
            match collected {
                (Ok(collected), attempts) => (Outcome::Collected(collected), attempts),
                (Err(e), attempts) => (failed(e.kind, e.reason), attempts),
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
        outcome,
    })
}
