//! The publisher: one report request in, one collection job per database out.
//!
//! [`handle_request`] validates the request, reads and validates the inventory
//! (nothing is published from an invalid one), filters it, stores the request
//! and the population snapshot, records the run with its total, and publishes
//! jobs in batches of [`MAX_BATCH`] with a bounded number in flight, retrying
//! only the entries a batch rejected. A redelivered request reuses the stored
//! population, so a changed inventory cannot change a run half-way.

use dbadmin_contracts::baseline::{Baseline, BaselineError};
use dbadmin_contracts::discovery::{Discovery, DiscoveryRequest, DiscoveryScope, ScopeDiscovery};
use dbadmin_contracts::message::Population;
use dbadmin_contracts::{
    keys, AccountId, CollectionJob, FinalizeMessage, Inventory, InventoryDocument, InventoryError, Provenance,
    ReceivedRequest, ReportRequest, Retry, Target, Versioned,
};
use dbadmin_ports::{
    CompletionCounter, DatabaseDiscovery, FinalizeQueue, InventorySource, JobQueue, NewVersion, ObjectStore, PortError,
    RunRecord, RunRecords, Stored, MAX_BATCH,
};
use futures::StreamExt;
use std::time::Duration;
use tracing::{info, warn, Instrument};

/// Batches in flight at once.
const PUBLISH_PARALLELISM: usize = 4;
/// How far a report id's time may be from the queue's send time: ids are made by the requester
/// just before sending, so a larger gap means a chosen (back- or forward-dated) id.
pub const MAX_ID_SKEW: Duration = Duration::from_secs(300);
/// Attempts per batch for the entries it rejected.
const PUBLISH_ATTEMPTS: u32 = 5;

pub struct PublisherDeps<'a> {
    pub inventory: &'a dyn InventorySource,
    pub store: &'a dyn ObjectStore,
    pub runs: &'a dyn RunRecords,
    /// Read to retry a run's failed targets, and moved to the retry's version.
    pub counter: &'a dyn CompletionCounter,
    pub jobs: &'a dyn JobQueue,
    pub finalize: &'a dyn FinalizeQueue,
    /// Lists what AWS says exists, for requests that ask for discovery (`None`: such requests are
    /// refused).
    pub discovery: Option<&'a dyn DatabaseDiscovery>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishReport {
    /// The report published (a schedule's request gets its id here, see [`with_report_id`]).
    pub report_id: String,
    pub population: usize,
    pub published: usize,
    /// False when the run existed already (a redelivered request).
    pub new_run: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PublisherError {
    #[error("invalid report request: {0}")]
    InvalidRequest(String),
    #[error("reading inventory {source_name}")]
    InventoryRead {
        source_name: String,
        #[source]
        source: PortError,
    },
    #[error(transparent)]
    InvalidInventory(#[from] InventoryError),
    #[error("reading baseline {source_name}")]
    BaselineRead {
        source_name: String,
        #[source]
        source: PortError,
    },
    #[error(transparent)]
    InvalidBaseline(#[from] BaselineError),
    #[error("storing {key}")]
    Store {
        key: String,
        #[source]
        source: PortError,
    },
    #[error("{key} names report {found}, not this one: it is not reused")]
    ForeignEvidence { key: String, found: String },
    #[error("stored {key} cannot be read")]
    Decode {
        key: String,
        #[source]
        source: dbadmin_contracts::DecodeError,
    },
    #[error("recording run {report_id}")]
    RunState {
        report_id: String,
        #[source]
        source: PortError,
    },
    #[error("{failed} of {total} collection jobs could not be published")]
    Publish {
        failed: usize,
        total: usize,
        #[source]
        source: Option<PortError>,
    },
    #[error("requesting finalization of the empty report {report_id}")]
    Finalize {
        report_id: String,
        #[source]
        source: PortError,
    },
}

impl PublisherError {
    /// Whether delivering the request again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            PublisherError::InvalidRequest(_)
            | PublisherError::InvalidInventory(_)
            | PublisherError::InvalidBaseline(_)
            | PublisherError::ForeignEvidence { .. }
            | PublisherError::Decode { .. } => false,
            PublisherError::InventoryRead { source, .. } | PublisherError::BaselineRead { source, .. } => {
                source.is_retryable()
            }
            _ => true,
        }
    }
}

/// Reads and validates the approved-admin baseline a request names (where inventories are read).
async fn read_baseline(source: &str, deps: &PublisherDeps<'_>) -> Result<Baseline, PublisherError> {
    let document = deps
        .inventory
        .fetch(source)
        .await
        .map_err(|e| PublisherError::BaselineRead { source_name: source.to_owned(), source: e })?;
    match document {
        InventoryDocument::Csv(bytes) => Ok(Baseline::parse(source, &bytes)?),
        InventoryDocument::Parameters(_) => Err(PublisherError::InvalidRequest(format!(
            "the baseline {source} is not a CSV file or S3 object (Parameter Store holds inventories, not baselines)"
        ))),
    }
}

fn validate(request: &ReportRequest, received: &Provenance) -> Result<(), PublisherError> {
    let bad = |m: String| Err(PublisherError::InvalidRequest(m));
    let Ok(id) = ulid::Ulid::from_string(&request.report_id) else {
        return bad(format!("report id '{}' is not a ULID", request.report_id));
    };
    // A retry names a report made earlier; a new report's id must be as new as its message.
    if request.retry.is_none() {
        let sent = time::OffsetDateTime::parse(&received.sent_at, &time::format_description::well_known::Rfc3339)
            .map_err(|e| {
                PublisherError::InvalidRequest(format!("the send time '{}' cannot be read: {e}", received.sent_at))
            })?;
        let sent_ms = sent.unix_timestamp_nanos() / 1_000_000;
        let skew = (i128::from(id.timestamp_ms()) - sent_ms).unsigned_abs();
        if skew > MAX_ID_SKEW.as_millis() {
            let made = dbadmin_contracts::format_rfc3339(
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(id.timestamp_ms()) * 1_000_000)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
            );
            return bad(format!(
                "report id {} was made at {made} but the request was sent at {}: ids are made when a report is requested",
                request.report_id, received.sent_at
            ));
        }
    }
    if let Some(Err(why)) = request.filters.accounts.iter().map(|a| AccountId::parse(a)).find(Result::is_err) {
        return bad(format!("account filter {why}"));
    }
    if request.inventory.is_empty() {
        return bad("no inventory given".into());
    }
    Ok(())
}

/// A request with no report id (what a schedule sends: its body is fixed, so it cannot carry a
/// fresh id) gets one made from the queue's record: a ULID of the send time whose random part is
/// taken from the message id, so a redelivery of the same message names the same report. A request
/// with an id is returned as it is (and checked by [`handle_request`]).
fn with_report_id<'a>(request: &'a ReportRequest, received: &Provenance) -> std::borrow::Cow<'a, ReportRequest> {
    if !request.report_id.is_empty() || request.retry.is_some() {
        return std::borrow::Cow::Borrowed(request);
    }
    let sent_ms = time::OffsetDateTime::parse(&received.sent_at, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as u64)
        .unwrap_or(0);
    let digest = dbadmin_contracts::sha256_hex(received.message_id.as_bytes());
    let random = u128::from_str_radix(&digest[..20], 16).unwrap_or(0);
    let mut request = request.clone();
    request.report_id = ulid::Ulid::from_parts(sent_ms, random).to_string();
    std::borrow::Cow::Owned(request)
}

/// Handles one report request. `received` is what the queue recorded about the message (sender,
/// send time, message id): the run's requester and time are taken from it, not from the body.
pub async fn handle_request(
    request: &ReportRequest,
    received: &Provenance,
    deps: &PublisherDeps<'_>,
) -> Result<PublishReport, PublisherError> {
    let request = with_report_id(request, received);
    let span = tracing::info_span!("publish", report_id = %request.report_id);
    publish(&request, received, deps).instrument(span).await
}

async fn put(store: &dyn ObjectStore, key: &str, body: Vec<u8>) -> Result<Stored, PublisherError> {
    store
        .put(key, body, "application/json")
        .await
        .map_err(|source| PublisherError::Store { key: key.to_owned(), source })
}

async fn get<T: Versioned>(store: &dyn ObjectStore, key: &str) -> Result<Option<T>, PublisherError> {
    let Some(bytes) = store.get(key).await.map_err(|source| PublisherError::Store { key: key.to_owned(), source })?
    else {
        return Ok(None);
    };
    dbadmin_contracts::decode(&bytes).map(Some).map_err(|source| PublisherError::Decode { key: key.to_owned(), source })
}

/// Keeps the request as received at `key` (written once). A different message already kept there
/// means the id is taken: a report id names exactly one request.
async fn keep_request(
    store: &dyn ObjectStore,
    key: &str,
    request: &ReportRequest,
    received: &Provenance,
) -> Result<(), PublisherError> {
    let kept = ReceivedRequest {
        schema_version: ReceivedRequest::SCHEMA_VERSION,
        request: request.clone(),
        received: received.clone(),
    };
    if put(store, key, dbadmin_contracts::encode(&kept)).await? == Stored::Created {
        return Ok(());
    }
    let earlier: ReceivedRequest = get(store, key).await?.ok_or_else(|| PublisherError::Store {
        key: key.to_owned(),
        source: PortError::NotFound { what: key.to_owned() },
    })?;
    if earlier.received.message_id != received.message_id {
        return Err(PublisherError::InvalidRequest(format!(
            "report id {} is already used by the request {} sent at {} by {}; a report id names one request",
            request.report_id, earlier.received.message_id, earlier.received.sent_at, earlier.received.sender
        )));
    }
    Ok(())
}

async fn publish(
    request: &ReportRequest,
    received: &Provenance,
    deps: &PublisherDeps<'_>,
) -> Result<PublishReport, PublisherError> {
    let started = std::time::Instant::now();
    validate(request, received)?;
    if let Some(retry) = request.retry {
        return publish_retry(request, received, retry, deps).await;
    }
    let report_id = &request.report_id;
    let population_key = keys::population(report_id);
    let population =
        match get::<Population>(deps.store, &population_key).await? {
            Some(population) => {
                // A redelivery passes; another request under a used id is refused.
                keep_request(deps.store, &keys::request(report_id), request, received).await?;
                info!("Population already snapshotted by an earlier delivery, reusing it.");
                population
            }
            None => {
                let document = deps.inventory.fetch(&request.inventory).await.map_err(|source| {
                    PublisherError::InventoryRead { source_name: request.inventory.clone(), source }
                })?;
                // Nothing is written from an invalid inventory or baseline.
                let inventory = Inventory::read(&request.inventory, &document)?;
                let baseline = match &request.baseline {
                    Some(source) => Some(read_baseline(source, deps).await?),
                    None => None,
                };
                keep_request(deps.store, &keys::request(report_id), request, received).await?;
                let population = Population {
                    schema_version: Population::SCHEMA_VERSION,
                    report_id: report_id.clone(),
                    inventory_source: inventory.source,
                    inventory_sha256: inventory.sha256,
                    filters: request.filters.clone(),
                    targets: inventory.targets.into_iter().filter(|t| request.filters.admits_target(t)).collect(),
                    baseline,
                };
                match put(deps.store, &population_key, dbadmin_contracts::encode(&population)).await? {
                    Stored::Created => population,
                    // A concurrent delivery of the same request wrote it first: its snapshot is the one.
                    Stored::Existed => get(deps.store, &population_key).await?.unwrap_or(population),
                }
            }
        };

    if let Some(asked) = &request.discovery {
        discover(report_id, asked, &population, deps).await?;
    }

    let total = population.targets.len();
    let run = RunRecord::new(report_id.clone(), received.sender.clone(), received.sent_at.clone(), total as u64);
    let new_run = deps
        .runs
        .create_run(&run)
        .await
        .map_err(|source| PublisherError::RunState { report_id: report_id.clone(), source })?;

    if total == 0 {
        info!("No target matches the request; finalizing an empty report.");
        let message = FinalizeMessage { schema_version: FinalizeMessage::SCHEMA_VERSION, report_id: report_id.clone() };
        deps.finalize
            .send_finalize(&message)
            .await
            .map_err(|source| PublisherError::Finalize { report_id: report_id.clone(), source })?;
        return Ok(PublishReport { report_id: report_id.clone(), population: 0, published: 0, new_run });
    }

    publish_jobs(report_id, 1, &population.targets, deps).await?;
    info!(targets = total, new_run, publish_ms = started.elapsed().as_millis() as u64, "Published collection jobs.");
    Ok(PublishReport { report_id: report_id.clone(), population: total, published: total, new_run })
}

/// Lists every account × region in scope: the accounts of `targets` and `accounts`, plus the
/// organization's when asked; the asked regions, else those of `targets`. A listing that fails is
/// kept as that scope's error, never raised.
pub async fn list_databases(
    discovery: &dyn DatabaseDiscovery,
    asked: &DiscoveryRequest,
    targets: &[Target],
    accounts: &[String],
) -> (DiscoveryScope, Vec<ScopeDiscovery>) {
    let (mut extra, organization_error) = if asked.organization {
        match discovery.organization_accounts().await {
            Ok(accounts) => (accounts, None),
            Err(e) => {
                warn!(error = %dbadmin_ports::error_chain(&e), "The organization's accounts could not be listed.");
                (Vec::new(), Some(dbadmin_ports::error_chain(&e)))
            }
        }
    } else {
        (Vec::new(), None)
    };
    extra.extend(accounts.iter().cloned());
    let mut scope = dbadmin_contracts::discovery::scope(asked, targets, &extra);
    scope.organization_error = organization_error;
    let pairs: Vec<(String, String)> =
        scope.accounts.iter().flat_map(|a| scope.regions.iter().map(move |r| (a.clone(), r.clone()))).collect();
    let scopes = futures::stream::iter(pairs)
        .map(|(account_id, region)| async move {
            match discovery.databases(&account_id, &region).await {
                Ok(databases) => ScopeDiscovery { account_id, region, databases, error: None },
                Err(e) => {
                    let error = dbadmin_ports::error_chain(&e);
                    warn!(%account_id, %region, %error, "Listing RDS failed; recorded as DISCOVERY_FAILED.");
                    ScopeDiscovery { account_id, region, databases: Vec::new(), error: Some(error) }
                }
            }
        })
        .buffered(DISCOVERY_CONCURRENCY)
        .collect()
        .await;
    (scope, scopes)
}

/// How many account × region listings run at once.
const DISCOVERY_CONCURRENCY: usize = 16;

/// Lists the databases in the request's scope and keeps what was found as the report's discovery
/// (written once: a redelivery reuses the first). A listing that fails is recorded as failed for
/// its account and region; it never stops the report.
async fn discover(
    report_id: &str,
    asked: &DiscoveryRequest,
    population: &Population,
    deps: &PublisherDeps<'_>,
) -> Result<(), PublisherError> {
    let key = keys::discovery(report_id);
    if let Some(bytes) =
        deps.store.get(&key).await.map_err(|source| PublisherError::Store { key: key.clone(), source })?
    {
        // A redelivery reuses the first listing, once it is known to be this report's.
        let stored: Discovery =
            dbadmin_contracts::decode(&bytes).map_err(|source| PublisherError::Decode { key: key.clone(), source })?;
        if stored.report_id != report_id {
            return Err(PublisherError::ForeignEvidence { key, found: stored.report_id });
        }
        return Ok(());
    }
    let Some(discovery) = deps.discovery else {
        return Err(PublisherError::InvalidRequest(
            "this deployment cannot discover databases (no AWS access); request the report without discovery".into(),
        ));
    };
    let started = std::time::Instant::now();
    let (scope, scopes) = list_databases(discovery, asked, &population.targets, &[]).await;
    let found = Discovery {
        schema_version: Discovery::SCHEMA_VERSION,
        report_id: report_id.to_owned(),
        scope,
        scopes,
        discovered_at: dbadmin_contracts::now_rfc3339(),
    };
    info!(
        accounts = found.scope.accounts.len(),
        regions = found.scope.regions.len(),
        databases = found.scopes.iter().map(|s| s.databases.len()).sum::<usize>(),
        failed = found.scopes.iter().filter(|s| s.error.is_some()).count(),
        discovery_ms = started.elapsed().as_millis() as u64,
        "Discovered the databases in scope."
    );
    // Written once: if a concurrent delivery's discovery was stored first, that one is kept.
    let _stored_or_existed = put(deps.store, &key, dbadmin_contracts::encode(&found)).await?;
    Ok(())
}

/// A retry: uncount the targets that failed in `retry.version`, move the run to the next
/// version and publish their jobs again. A redelivered retry publishes every target that is
/// still uncounted, so a crash between the two steps loses nothing.
async fn publish_retry(
    request: &ReportRequest,
    received: &Provenance,
    retry: Retry,
    deps: &PublisherDeps<'_>,
) -> Result<PublishReport, PublisherError> {
    let started = std::time::Instant::now();
    let report_id = &request.report_id;
    let population_key = keys::population(report_id);
    let bytes = deps
        .store
        .get(&population_key)
        .await
        .map_err(|source| PublisherError::Store { key: population_key.clone(), source })?
        .ok_or_else(|| PublisherError::InvalidRequest(format!("report {report_id} does not exist")))?;
    let population = dbadmin_contracts::decode::<Population>(&bytes)
        .map_err(|source| PublisherError::Decode { key: population_key.clone(), source })?;
    let failed = failed_targets(deps.counter, &population).await?;
    let run_err = |source| PublisherError::RunState { report_id: report_id.clone(), source };
    let next = match deps.counter.begin_version(report_id, retry.version, &failed).await.map_err(run_err)? {
        NewVersion::Started { version, reset } => {
            info!(version, reset, "Started the next version for the failed targets.");
            keep_request(deps.store, &keys::retry_request(report_id, version), request, received).await?;
            version
        }
        NewVersion::AlreadyStarted { version } => {
            info!(version, "The retry was started by an earlier delivery; publishing what is still uncounted.");
            version
        }
        NewVersion::NotReady { reason } => {
            return Err(PublisherError::InvalidRequest(format!(
                "report {report_id} cannot be retried from version {}: {reason}",
                retry.version
            )))
        }
    };
    let counted = deps.counter.completed_targets(report_id).await.map_err(run_err)?;
    let pending: Vec<Target> = population.targets.into_iter().filter(|t| !counted.contains(&t.id)).collect();
    publish_jobs(report_id, next, &pending, deps).await?;
    info!(
        version = next,
        targets = pending.len(),
        publish_ms = started.elapsed().as_millis() as u64,
        "Published collection jobs for the retry."
    );
    Ok(PublishReport {
        report_id: report_id.clone(),
        population: pending.len(),
        published: pending.len(),
        new_run: false,
    })
}

/// The targets counted as error rows in the run's current version (or not counted at all).
async fn failed_targets(
    counter: &dyn CompletionCounter,
    population: &Population,
) -> Result<Vec<String>, PublisherError> {
    let counted = counter
        .counted(&population.report_id)
        .await
        .map_err(|source| PublisherError::RunState { report_id: population.report_id.clone(), source })?;
    Ok(population
        .targets
        .iter()
        .filter(|t| counted.get(&t.id).is_none_or(|c| c.failed))
        .map(|t| t.id.clone())
        .collect())
}

/// Publishes one job per target of version `version` in batches, a bounded number of batches in
/// flight. A job names its target; the collector reads the target from the population snapshot.
async fn publish_jobs(
    report_id: &str,
    version: u32,
    targets: &[Target],
    deps: &PublisherDeps<'_>,
) -> Result<(), PublisherError> {
    let total = targets.len();
    let jobs: Vec<CollectionJob> = targets
        .iter()
        .map(|t| CollectionJob {
            schema_version: CollectionJob::SCHEMA_VERSION,
            report_id: report_id.to_owned(),
            target_id: t.id.clone(),
            version,
        })
        .collect();
    // Owned batches: a stream of futures borrowing a slice is not `Send` for every caller.
    let batches: Vec<Vec<CollectionJob>> = jobs.chunks(MAX_BATCH).map(<[CollectionJob]>::to_vec).collect();
    let queue = deps.jobs;
    let failures: Vec<(usize, Option<PortError>)> = futures::stream::iter(batches)
        .map(|batch| async move { publish_batch(queue, batch).await })
        .buffer_unordered(PUBLISH_PARALLELISM)
        .filter(|(failed, _)| futures::future::ready(*failed > 0))
        .collect()
        .await;
    if !failures.is_empty() {
        let failed = failures.iter().map(|(n, _)| n).sum();
        let source = failures.into_iter().find_map(|(_, e)| e);
        return Err(PublisherError::Publish { failed, total, source });
    }
    Ok(())
}

/// Publishes one batch, retrying only rejected entries. Returns how many were never accepted.
async fn publish_batch(queue: &dyn JobQueue, batch: Vec<CollectionJob>) -> (usize, Option<PortError>) {
    let mut pending = batch;
    let mut last_error = None;
    for attempt in 1..=PUBLISH_ATTEMPTS {
        match queue.publish_batch(&pending).await {
            Ok(failed) if failed.is_empty() => return (0, None),
            Ok(failed) => {
                warn!(attempt, rejected = failed.len(), "Some collection jobs were rejected, retrying them.");
                pending = failed.into_iter().filter_map(|i| pending.get(i).cloned()).collect();
            }
            Err(e) if e.is_retryable() => {
                warn!(attempt, error = %e, "Publishing a batch failed, retrying it.");
                last_error = Some(e);
            }
            Err(e) => return (pending.len(), Some(e)),
        }
        tokio::time::sleep(Duration::from_millis(50 * 2u64.pow(attempt))).await;
    }
    (pending.len(), last_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use dbadmin_contracts::{Outcome, TargetResult};
    use dbadmin_ports::local::{ChannelQueue, DirStore, MemoryRunStore};
    use dbadmin_ports::FinalizeClaims;
    use std::sync::Mutex;

    const INVENTORY: &str = "id,account_id,region,engine,host,port,secret\n\
        a,111111111111,eu-west-1,mysql,h,3306,s\n\
        b,222222222222,us-east-1,postgres,h,5432,s\n\
        c,111111111111,us-east-1,mariadb,h,3306,s\n";

    struct StaticInventory(&'static str);
    #[async_trait]
    impl InventorySource for StaticInventory {
        async fn fetch(&self, _: &str) -> Result<dbadmin_contracts::InventoryDocument, PortError> {
            Ok(dbadmin_contracts::InventoryDocument::Csv(self.0.as_bytes().to_vec()))
        }
    }

    /// Rejects the first entry of every batch once, then accepts it.
    struct Flaky {
        rejected: Mutex<std::collections::HashSet<String>>,
        accepted: Mutex<Vec<String>>,
    }
    #[async_trait]
    impl JobQueue for Flaky {
        async fn publish_batch(&self, jobs: &[CollectionJob]) -> Result<Vec<usize>, PortError> {
            assert!(jobs.len() <= MAX_BATCH);
            let mut rejected = self.rejected.lock().unwrap();
            let mut failed = Vec::new();
            for (i, j) in jobs.iter().enumerate() {
                if i == 0 && rejected.insert(j.target_id.clone()) {
                    failed.push(i);
                } else {
                    self.accepted.lock().unwrap().push(j.target_id.clone());
                }
            }
            Ok(failed)
        }
    }

    /// One report id for the whole test binary, made now like a CLI would.
    fn id() -> &'static str {
        static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        ID.get_or_init(|| ulid::Ulid::new().to_string())
    }

    /// What the queue says about the test's message `message_id`, sent now.
    fn sent(message_id: &str) -> Provenance {
        Provenance {
            sender: "AROAEXAMPLE:alice".into(),
            sent_at: dbadmin_contracts::now_rfc3339(),
            message_id: message_id.into(),
        }
    }

    fn request(accounts: &[&str]) -> ReportRequest {
        ReportRequest {
            schema_version: 1,
            report_id: id().into(),
            requested_by: "test".into(),
            requested_at: "2026-11-22T00:00:00Z".into(),
            inventory: "inv.csv".into(),
            filters: dbadmin_contracts::Filters {
                accounts: accounts.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            },
            output_format: Default::default(),
            retry: None,
            discovery: None,
            baseline: None,
        }
    }

    /// The embedded adapters a publisher test runs over.
    struct World {
        _dir: tempfile::TempDir,
        store: DirStore,
        runs: MemoryRunStore,
        jobs: ChannelQueue<CollectionJob>,
        finalize: ChannelQueue<FinalizeMessage>,
    }

    type Rx<T> = tokio::sync::mpsc::UnboundedReceiver<T>;

    /// The world, and what it publishes: jobs and finalize messages.
    fn world() -> (World, Rx<CollectionJob>, Rx<FinalizeMessage>) {
        let dir = tempfile::tempdir().unwrap();
        let (jobs, job_rx) = ChannelQueue::new();
        let (finalize, fin_rx) = ChannelQueue::new();
        let w = World { store: DirStore::new(dir.path()), runs: MemoryRunStore::new(), jobs, finalize, _dir: dir };
        (w, job_rx, fin_rx)
    }

    impl World {
        fn deps<'a>(&'a self, inventory: &'a dyn InventorySource) -> PublisherDeps<'a> {
            PublisherDeps {
                inventory,
                store: &self.store,
                runs: &self.runs,
                counter: &self.runs,
                jobs: &self.jobs,
                finalize: &self.finalize,
                discovery: None,
            }
        }
    }

    #[tokio::test]
    async fn filters_snapshots_and_retries_only_rejected_entries() {
        let (w, ..) = world();
        let runs = &w.runs;
        let jobs = Flaky { rejected: Default::default(), accepted: Default::default() };
        let deps = PublisherDeps { jobs: &jobs, ..w.deps(&StaticInventory(INVENTORY)) };
        let report = handle_request(&request(&["111111111111"]), &sent("m1"), &deps).await.unwrap();
        assert_eq!(report, PublishReport { report_id: id().into(), population: 2, published: 2, new_run: true });
        let mut accepted = jobs.accepted.lock().unwrap().clone();
        accepted.sort();
        assert_eq!(accepted, vec!["a", "c"], "each job accepted exactly once after its retry");
        assert_eq!(runs.get_run(id()).await.unwrap().unwrap().total, 2);

        // A redelivered request reuses the stored population even if the inventory changed.
        let deps = PublisherDeps { inventory: &StaticInventory("garbage"), ..deps };
        let again = handle_request(&request(&["111111111111"]), &sent("m1"), &deps).await.unwrap();
        assert_eq!(again, PublishReport { report_id: id().into(), population: 2, published: 2, new_run: false });
    }

    #[tokio::test]
    async fn invalid_inventory_publishes_nothing_and_empty_population_finalizes() {
        let (w, mut job_rx, mut fin_rx) = world();
        let runs = &w.runs;
        let bad = "id,account_id,region,engine,host,port,secret\na,1,eu-west-1,mysql,h,3306,s\n";
        let bad = StaticInventory(bad);
        let deps = w.deps(&bad);
        let err = handle_request(&request(&[]), &sent("m1"), &deps).await.unwrap_err();
        assert!(matches!(err, PublisherError::InvalidInventory(_)) && !err.is_retryable(), "{err}");
        assert!(err.to_string().contains("inv.csv:2: field 'account_id'"), "{err}");
        assert!(job_rx.try_recv().is_err(), "nothing may be published from an invalid inventory");
        assert!(runs.get_run(id()).await.unwrap().is_none());

        let deps = PublisherDeps { inventory: &StaticInventory(INVENTORY), ..deps };
        let report = handle_request(&request(&["333333333333"]), &sent("m1"), &deps).await.unwrap();
        assert_eq!(report.population, 0);
        assert_eq!(fin_rx.try_recv().unwrap().report_id, id());
        assert!(handle_request(&request(&["12"]), &sent("m1"), &deps).await.is_err(), "bad account filter");
    }

    /// An inventory at `inv.csv` and a baseline at any other name.
    struct WithBaseline(&'static str);
    #[async_trait]
    impl InventorySource for WithBaseline {
        async fn fetch(&self, source: &str) -> Result<dbadmin_contracts::InventoryDocument, PortError> {
            let text = if source == "inv.csv" { INVENTORY } else { self.0 };
            Ok(dbadmin_contracts::InventoryDocument::Csv(text.as_bytes().to_vec()))
        }
    }

    #[tokio::test]
    async fn the_baseline_is_read_into_the_population_and_an_invalid_one_publishes_nothing() {
        let (w, mut job_rx, _fin) = world();
        let with_baseline = |source: &str| ReportRequest { baseline: Some(source.into()), ..request(&[]) };
        let bad = WithBaseline("account_id,database,principal,approved_by\n111111111111,a,alice,\n");
        let err = handle_request(&with_baseline("baseline.csv"), &sent("m1"), &w.deps(&bad)).await.unwrap_err();
        assert!(matches!(err, PublisherError::InvalidBaseline(_)) && !err.is_retryable(), "{err}");
        assert!(err.to_string().contains("baseline.csv:2: field 'approved_by': must not be empty"), "{err}");
        assert!(job_rx.try_recv().is_err(), "nothing may be published against an invalid baseline");
        assert!(w.runs.get_run(id()).await.unwrap().is_none());
        assert!(w.store.get(&keys::population(id())).await.unwrap().is_none(), "no population either");

        let text = "account_id,database,principal,approved_by\n111111111111,a,alice,Carol\n";
        let good = WithBaseline(text);
        handle_request(&with_baseline("baseline.csv"), &sent("m1"), &w.deps(&good)).await.unwrap();
        let population: Population =
            dbadmin_contracts::decode(&w.store.get(&keys::population(id())).await.unwrap().unwrap()).unwrap();
        let baseline = population.baseline.expect("the population carries the baseline");
        assert_eq!((baseline.source.as_str(), baseline.approvals.len()), ("baseline.csv", 1));
        assert_eq!(baseline.sha256, dbadmin_contracts::sha256_hex(text.as_bytes()));
    }

    fn drain(rx: &mut tokio::sync::mpsc::UnboundedReceiver<CollectionJob>) -> Vec<String> {
        let mut ids = Vec::new();
        while let Ok(job) = rx.try_recv() {
            ids.push(job.target_id);
        }
        ids.sort();
        ids
    }

    fn drain_versions(rx: &mut tokio::sync::mpsc::UnboundedReceiver<CollectionJob>) -> Vec<(String, u32)> {
        std::iter::from_fn(|| rx.try_recv().ok()).map(|j| (j.target_id, j.version)).collect()
    }

    #[tokio::test]
    async fn a_retry_recollects_only_failed_targets_and_survives_redelivery() {
        let (w, mut job_rx, _fin_rx) = world();
        let deps = w.deps(&StaticInventory(INVENTORY));
        let (store, runs) = (&w.store, &w.runs);
        let first = request(&[]);
        handle_request(&first, &sent("m1"), &deps).await.unwrap();
        assert_eq!(drain(&mut job_rx), ["a", "b", "c"]);
        let mut retry = first.clone();
        retry.retry = Some(Retry { version: 1 });

        // Still running: refused, nothing published.
        let err = handle_request(&retry, &sent("m2"), &deps).await.unwrap_err();
        assert!(err.to_string().contains("still running") && !err.is_retryable(), "{err}");
        assert!(drain(&mut job_rx).is_empty());

        // Target b failed, a and c were collected; version 1 is written.
        let population: Population =
            dbadmin_contracts::decode(&store.get(&keys::population(id())).await.unwrap().unwrap()).unwrap();
        for t in &population.targets {
            let outcome = if t.id == "b" {
                Outcome::Failed(dbadmin_contracts::Failure {
                    kind: dbadmin_contracts::ErrorKind::Unreachable,
                    reason: "test".into(),
                })
            } else {
                Outcome::Collected(dbadmin_contracts::Collected {
                    server_version: "1".into(),
                    tls: dbadmin_contracts::TlsMode::VerifyFull,
                    server_certificate_sha256: None,
                    admin_definition_version: "x".into(),
                    queries: vec![],
                    principals_examined: 0,
                    catalog_warnings: Vec::new(),
                    principals: vec![],
                    login_evidence: None,
                    login_settings: None,
                })
            };
            let result = TargetResult {
                schema_version: TargetResult::SCHEMA_VERSION,
                report_id: id().into(),
                target: t.into(),
                collected_at: "2026-11-22T00:00:00Z".into(),
                attempts: 1,
                duration_ms: 1,
                credential_binding: None,
                outcome,
            };
            let _ = store
                .put(&keys::result(id(), 1, &t.id), dbadmin_contracts::encode(&result), "application/json")
                .await
                .unwrap();
            runs.mark_complete(id(), &t.id, 1, t.id == "b").await.unwrap();
        }
        assert_eq!(runs.claim_finalize(id()).await.unwrap().unwrap().version, 1);
        runs.record_report(id(), 1, "v1").await.unwrap();

        let report = handle_request(&retry, &sent("m2"), &deps).await.unwrap();
        assert_eq!(report.published, 1);
        assert_eq!(drain_versions(&mut job_rx), [("b".to_owned(), 2)], "the retry's job is of version 2");
        let run = runs.get_run(id()).await.unwrap().unwrap();
        assert_eq!((run.version, run.completed, run.total), (2, 2, 3));
        assert!(store.get(&keys::retry_request(id(), 2)).await.unwrap().is_some(), "retry kept for the audit");

        // Delivered again (the first delivery died after starting the version): same jobs, same count.
        handle_request(&retry, &sent("m2"), &deps).await.unwrap();
        assert_eq!(drain(&mut job_rx), ["b"]);
        assert_eq!(runs.get_run(id()).await.unwrap().unwrap().completed, 2);
        // A retry of a version that is not the newest is refused.
        let mut stale = retry.clone();
        stale.retry = Some(Retry { version: 3 });
        assert!(handle_request(&stale, &sent("m3"), &deps).await.is_err());
    }

    #[tokio::test]
    async fn the_queue_says_who_asked_and_when_and_a_report_id_names_one_request() {
        let (w, mut job_rx, _fin_rx) = world();
        let deps = w.deps(&StaticInventory(INVENTORY));
        let (store, runs) = (&w.store, &w.runs);
        // The body claims another requester and a date in the past.
        let mut claimed = request(&[]);
        claimed.requested_by = "arn:aws:iam::111111111111:user/somebody-else".into();
        claimed.requested_at = "2020-01-01T00:00:00Z".into();
        let received = sent("m1");
        handle_request(&claimed, &received, &deps).await.unwrap();
        let run = runs.get_run(id()).await.unwrap().unwrap();
        assert_eq!(
            (run.requested_by.as_str(), run.requested_at.as_str()),
            ("AROAEXAMPLE:alice", received.sent_at.as_str())
        );
        let kept: ReceivedRequest =
            dbadmin_contracts::decode(&store.get(&keys::request(id())).await.unwrap().unwrap()).unwrap();
        assert_eq!(kept.received, received, "the queue's record is kept beside the claim");
        assert_eq!(kept.request.requested_by, claimed.requested_by);
        assert_eq!(drain(&mut job_rx).len(), 3);

        // The same id in another message is refused, and publishes nothing.
        let err = handle_request(&claimed, &sent("m-other"), &deps).await.unwrap_err();
        assert!(err.to_string().contains("already used") && !err.is_retryable(), "{err}");
        assert!(drain(&mut job_rx).is_empty());

        // An id that is not a ULID, or whose time is far from the send time, is refused.
        let mut odd = request(&[]);
        odd.report_id = "my-report".into();
        assert!(handle_request(&odd, &sent("m4"), &deps).await.unwrap_err().to_string().contains("not a ULID"));
        let day_old = ulid::Ulid::from_parts(ulid::Ulid::new().timestamp_ms() - 86_400_000, 7).to_string();
        odd.report_id = day_old.clone();
        let err = handle_request(&odd, &sent("m5"), &deps).await.unwrap_err();
        assert!(err.to_string().contains("ids are made when a report is requested") && !err.is_retryable(), "{err}");
        assert!(runs.get_run(&day_old).await.unwrap().is_none() && drain(&mut job_rx).is_empty());
    }

    /// A schedule's request has a fixed body with no report id: the publisher names the report from
    /// the queue's record (send time, message id), so a redelivery is the same report and the next
    /// firing another one.
    #[tokio::test]
    async fn a_request_without_an_id_is_named_from_the_queue_record() {
        let (w, mut job_rx, _fin_rx) = world();
        let deps = w.deps(&StaticInventory(INVENTORY));
        let mut scheduled = request(&[]);
        scheduled.report_id = String::new();
        scheduled.requested_by = "schedule weekly".into();
        let first = sent("fire-1");
        let named = with_report_id(&scheduled, &first).into_owned();
        let id = ulid::Ulid::from_string(&named.report_id).expect("a ULID");
        let sent_ms = time::OffsetDateTime::parse(&first.sent_at, &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp_nanos()
            / 1_000_000;
        assert_eq!(i128::from(id.timestamp_ms()), sent_ms, "its time is the send time");
        assert_eq!(with_report_id(&scheduled, &first).report_id, named.report_id, "a redelivery names the same report");
        assert_ne!(
            with_report_id(&scheduled, &sent("fire-2")).report_id,
            named.report_id,
            "another firing, another report"
        );

        assert!(handle_request(&scheduled, &first, &deps).await.unwrap().new_run);
        assert!(!handle_request(&scheduled, &first, &deps).await.unwrap().new_run, "redelivered: the same run");
        let run = w.runs.get_run(&named.report_id).await.unwrap().expect("the run is under the made id");
        assert_eq!(run.total, 3);
        assert_eq!(drain(&mut job_rx).len(), 6, "published twice (a redelivery publishes again), one run");
        let kept: ReceivedRequest =
            dbadmin_contracts::decode(&w.store.get(&keys::request(&named.report_id)).await.unwrap().unwrap()).unwrap();
        assert_eq!(kept.request.requested_by, "schedule weekly");
    }

    /// Lists what a test says AWS holds: the organization's accounts, and one database per account
    /// and region except where listing is refused.
    struct FakeAws {
        organization: Result<Vec<String>, &'static str>,
        refuse: (&'static str, &'static str),
        calls: std::sync::atomic::AtomicUsize,
    }

    #[async_trait]
    impl DatabaseDiscovery for FakeAws {
        async fn organization_accounts(&self) -> Result<Vec<String>, PortError> {
            self.organization.clone().map_err(|e| PortError::permanent("organizations:ListAccounts", e))
        }
        async fn databases(
            &self,
            account_id: &str,
            region: &str,
        ) -> Result<Vec<dbadmin_contracts::discovery::DiscoveredDatabase>, PortError> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if (account_id, region) == self.refuse {
                return Err(PortError::permanent("rds:DescribeDBInstances", "AccessDenied"));
            }
            Ok(vec![dbadmin_contracts::discovery::DiscoveredDatabase {
                account_id: account_id.into(),
                region: region.into(),
                kind: dbadmin_contracts::discovery::DatabaseKind::Instance,
                identifier: format!("db-{account_id}-{region}"),
                arn: format!("arn:aws:rds:{region}:{account_id}:db:x"),
                rds_engine: "postgres".into(),
                engine: Some(dbadmin_contracts::Engine::Postgres),
                endpoint: Some("x".into()),
                port: Some(5432),
                aliases: vec![],
                tags: Default::default(),
                log_exports: vec![],
            }])
        }
    }

    /// Discovery covers the population's accounts and regions plus the organization's accounts; a
    /// refused listing is recorded for its account and region and the report goes on; a redelivery
    /// keeps the first discovery; a deployment that cannot discover refuses such a request whole.
    #[tokio::test]
    async fn discovery_lists_the_scope_records_refusals_and_is_kept_once() {
        let (w, mut job_rx, _fin_rx) = world();
        let aws = FakeAws {
            organization: Ok(vec!["333333333333".into()]),
            refuse: ("222222222222", "eu-west-1"),
            calls: Default::default(),
        };
        let deps = PublisherDeps { discovery: Some(&aws), ..w.deps(&StaticInventory(INVENTORY)) };
        let mut asked = request(&[]);
        asked.discovery = Some(DiscoveryRequest { organization: true, regions: vec![] });
        handle_request(&asked, &sent("m1"), &deps).await.unwrap();
        let found: Discovery =
            dbadmin_contracts::decode(&w.store.get(&keys::discovery(id())).await.unwrap().unwrap()).unwrap();
        assert_eq!(found.scope.accounts, vec!["111111111111", "222222222222", "333333333333"]);
        assert_eq!(found.scope.regions, vec!["eu-west-1", "us-east-1"]);
        assert_eq!(found.scopes.len(), 6, "every account × region");
        let refused: Vec<_> = found.scopes.iter().filter(|s| s.error.is_some()).collect();
        assert_eq!((refused.len(), refused[0].account_id.as_str()), (1, "222222222222"));
        assert!(refused[0].error.as_deref().unwrap().contains("AccessDenied"));
        assert_eq!(drain(&mut job_rx).len(), 3, "the report goes on");

        handle_request(&asked, &sent("m1"), &deps).await.unwrap();
        assert_eq!(aws.calls.load(std::sync::atomic::Ordering::SeqCst), 6, "a redelivery lists nothing again");

        // The organization cannot be listed: the inventory's accounts are, and the manifest will say why.
        let (w2, _jobs2, _fin2) = world();
        let no_org = FakeAws {
            organization: Err("AWSOrganizationsNotInUseException"),
            refuse: ("", ""),
            calls: Default::default(),
        };
        let deps = PublisherDeps { discovery: Some(&no_org), ..w2.deps(&StaticInventory(INVENTORY)) };
        handle_request(&asked, &sent("m1"), &deps).await.unwrap();
        let found: Discovery =
            dbadmin_contracts::decode(&w2.store.get(&keys::discovery(id())).await.unwrap().unwrap()).unwrap();
        assert_eq!(found.scope.accounts, vec!["111111111111", "222222222222"]);
        assert!(found.scope.organization_error.as_deref().unwrap().contains("NotInUse"));

        // A discovery already under this report's key that is another report's is not reused.
        let (w4, mut jobs4, _) = world();
        let mut foreign = found.clone();
        foreign.report_id = "01OTHERREPORT0000000000000".into();
        let _new = w4
            .store
            .put(&keys::discovery(id()), dbadmin_contracts::encode(&foreign), "application/json")
            .await
            .unwrap();
        let deps = PublisherDeps { discovery: Some(&no_org), ..w4.deps(&StaticInventory(INVENTORY)) };
        let err = handle_request(&asked, &sent("m1"), &deps).await.unwrap_err();
        assert!(err.to_string().contains("names report 01OTHERREPORT") && !err.is_retryable(), "{err}");
        assert!(drain(&mut jobs4).is_empty(), "nothing published on a foreign discovery");

        let (w3, mut job_rx, _) = world();
        let err = handle_request(&asked, &sent("m1"), &w3.deps(&StaticInventory(INVENTORY))).await.unwrap_err();
        assert!(err.to_string().contains("cannot discover") && !err.is_retryable(), "{err}");
        assert!(drain(&mut job_rx).is_empty() && w3.runs.get_run(id()).await.unwrap().is_none());
    }
}
