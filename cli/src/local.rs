//! `generate --local`: publisher → collectors → reporter in one process, through the same handler
//! functions the Lambdas run, over the embedded adapters of `dbadmin_ports::local`.

use anyhow::{bail, Context};
use dbadmin_collector::{handle_job, CollectorDeps, CollectorError, ConnectOptions, Populations};
use dbadmin_contracts::manifest::{ChainLink, Manifest};
use dbadmin_contracts::{keys, Filters, OutputFormat, Provenance, ReportRequest, Versioned};
use dbadmin_ports::local::{ChannelQueue, DirStore, FileInventory, LocalCredentials, MemoryRunStore};
use dbadmin_ports::signing::LocalSigner;
use dbadmin_publisher::{handle_request, PublisherDeps};
use dbadmin_reporter::{handle_finalize, FinalizeOutcome, ReporterDeps};
use futures::StreamExt;
use std::path::{Path, PathBuf};

/// Redeliveries of a job whose infrastructure step failed (as SQS would redeliver it).
const LOCAL_DELIVERIES: u32 = 3;

#[derive(Debug, Clone)]
pub struct LocalOptions {
    pub inventory: PathBuf,
    pub filters: Filters,
    pub output_format: OutputFormat,
    pub out: PathBuf,
    pub secrets_file: Option<PathBuf>,
    pub concurrency: usize,
    pub connect: ConnectOptions,
    pub requested_by: String,
    /// The key the manifest is signed with (made there on first use).
    pub signing_key: PathBuf,
    /// Set to discover what AWS says exists and reconcile it (needs a [`DatabaseDiscovery`]).
    pub discovery: Option<dbadmin_contracts::discovery::DiscoveryRequest>,
    /// The approved-admin baseline CSV to read the report against.
    pub baseline: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LocalOutcome {
    pub report_id: String,
    pub version: u32,
    /// The requested format's artifact.
    pub report: String,
    pub manifest: String,
    pub population: usize,
    pub errors: usize,
    pub rows: usize,
    pub timings: Timings,
    /// The key file the manifest was signed with, and whether this run made it.
    pub signing_key: String,
    pub signing_key_created: bool,
    /// The manifest's warning about targets read without verifying the server, if any.
    pub tls_warning: Option<String>,
    /// When discovery ran: rows per reconciliation status and the completeness finding.
    pub reconciliation: Option<dbadmin_contracts::manifest::ReconciliationSummary>,
    /// When read against an approved-admin baseline: which, and the review statuses' counts.
    pub baseline: Option<dbadmin_contracts::manifest::BaselineSummary>,
}

/// Where a local run's time went, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Timings {
    /// Reading the inventory, snapshotting the population, queueing every job.
    pub publish_ms: u64,
    /// From the first job taken to the last one counted.
    pub collect_ms: u64,
    /// One job (collect + store + count), over all jobs.
    pub job_ms_p50: u64,
    pub job_ms_p95: u64,
    pub job_ms_max: u64,
    /// Reading every result and writing CSV, JSON and the manifest.
    pub finalize_ms: u64,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Progress callbacks: `(done, total, errors)` after each target.
pub trait Progress: Sync {
    fn start(&self, total: usize);
    fn advance(&self, done: usize, errors: usize);
    fn finish(&self);
}

/// No progress output.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: usize) {}
    fn advance(&self, _: usize, _: usize) {}
    fn finish(&self) {}
}

/// Who is running this, for the manifest: `local:user@host`.
pub fn local_identity() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(user_from_passwd)
        .unwrap_or_else(|| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    format!("local:{user}@{host}")
}

/// The name of this process's real uid, from /proc and /etc/passwd (no libc call needed).
fn user_from_passwd() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid).then(|| name.to_owned())
    })
}

/// Runs every queued job through the collector, `concurrency` at once, delivering a failed job again
/// as SQS would (up to [`LOCAL_DELIVERIES`]). Returns the error rows written and each job's time in
/// milliseconds, sorted.
async fn collect_all(
    job_rx: &mut tokio::sync::mpsc::UnboundedReceiver<dbadmin_contracts::CollectionJob>,
    collector: &CollectorDeps<'_>,
    concurrency: usize,
    progress: &dyn Progress,
) -> anyhow::Result<(usize, Vec<u64>)> {
    let queue = futures::stream::poll_fn(|cx| job_rx.poll_recv(cx));
    let mut results = queue
        .map(|job| async move {
            let mut delivery = 1;
            let job_started = std::time::Instant::now();
            loop {
                match handle_job(&job, collector).await {
                    Ok(report) => return Ok((report, job_started.elapsed().as_millis() as u64)),
                    Err(e) if delivery < LOCAL_DELIVERIES => {
                        tracing::warn!(target_id = %job.target_id, delivery, error = %format!("{:#}", anyhow::Error::from(e)), "Job failed, delivering it again.");
                        delivery += 1;
                    }
                    Err(e) => return Err::<_, CollectorError>(e),
                }
            }
        })
        .buffer_unordered(concurrency);
    let (mut done, mut errors) = (0, 0);
    let mut job_ms = Vec::new();
    while let Some(result) = results.next().await {
        let (report, ms) = result.context("a collection job failed on every delivery")?;
        job_ms.push(ms);
        done += 1;
        errors += usize::from(report.error.is_some());
        progress.advance(done, errors);
    }
    drop(results);
    progress.finish();
    job_ms.sort_unstable();
    Ok((errors, job_ms))
}

pub async fn run(
    opts: &LocalOptions,
    progress: &dyn Progress,
    discovery: Option<&dyn dbadmin_ports::DatabaseDiscovery>,
) -> anyhow::Result<LocalOutcome> {
    let credentials = match &opts.secrets_file {
        Some(path) => LocalCredentials::from_file(path)?,
        None => LocalCredentials::from_env(),
    };
    if opts.concurrency == 0 {
        bail!("concurrency must be at least 1");
    }
    let (signer, signing_key_created) = LocalSigner::load_or_create(&opts.signing_key)?;
    let store = DirStore::new(&opts.out);
    // The chain goes on from the newest report already in the output folder.
    let runs = MemoryRunStore::new().continuing(chain_head(&opts.out));
    let (jobs, mut job_rx) = ChannelQueue::new();
    let (finalize, mut finalize_rx) = ChannelQueue::new();
    let request = request_of(opts);

    let publisher = PublisherDeps {
        inventory: &FileInventory,
        store: &store,
        runs: &runs,
        counter: &runs,
        jobs: &jobs,
        finalize: &finalize,
        discovery,
    };
    let started = std::time::Instant::now();
    // In one process the sender and send time are this user and now, as SQS would record them.
    let received = Provenance {
        sender: opts.requested_by.clone(),
        sent_at: request.requested_at.clone(),
        message_id: ulid::Ulid::new().to_string(),
    };
    let published = handle_request(&request, &received, &publisher).await.context("publishing collection jobs")?;
    let publish_ms = started.elapsed().as_millis() as u64;
    // Every job is queued: close the queue so the workers stop when it is drained.
    drop(jobs);

    progress.start(published.population);
    let populations = Populations::new();
    let collector = CollectorDeps {
        populations: &populations,
        credentials: &credentials,
        store: &store,
        counter: &runs,
        attempts: &runs,
        finalize: &finalize,
        connect: &opts.connect,
        login_logs: &dbadmin_ports::logs::NoCloudLogs,
    };
    let collect_started = std::time::Instant::now();
    let (errors, job_ms) = collect_all(&mut job_rx, &collector, opts.concurrency, progress).await?;
    let collect_ms = collect_started.elapsed().as_millis() as u64;

    let message = finalize_rx
        .try_recv()
        .context("every job ran but no finalization was requested; the completion count is incomplete")?;
    let reporter = ReporterDeps { store: &store, claims: &runs, counter: &runs, chain: &runs, signer: &signer };
    let finalize_started = std::time::Instant::now();
    let finalized = handle_finalize(&message, &reporter).await.context("writing the report")?;
    let timings = Timings {
        publish_ms,
        collect_ms,
        job_ms_p50: percentile(&job_ms, 0.50),
        job_ms_p95: percentile(&job_ms, 0.95),
        job_ms_max: job_ms.last().copied().unwrap_or(0),
        finalize_ms: finalize_started.elapsed().as_millis() as u64,
    };
    let signed = (signer.path().display().to_string(), signing_key_created);
    outcome_of(finalized, request.report_id, published.population, errors, timings, signed)
}

/// The request a local run publishes, as the CLI would send it to the requests queue.
fn request_of(opts: &LocalOptions) -> ReportRequest {
    ReportRequest {
        schema_version: ReportRequest::SCHEMA_VERSION,
        report_id: ulid::Ulid::new().to_string(),
        requested_by: opts.requested_by.clone(),
        requested_at: dbadmin_contracts::now_rfc3339(),
        inventory: opts.inventory.display().to_string(),
        filters: opts.filters.clone(),
        output_format: opts.output_format,
        retry: None,
        discovery: opts.discovery.clone(),
        baseline: opts.baseline.as_ref().map(|p| p.display().to_string()),
    }
}

/// What a local run says it did, from the reporter's outcome; `signed` is the signing key's path
/// and whether this run made it.
fn outcome_of(
    finalized: FinalizeOutcome,
    report_id: String,
    population: usize,
    errors: usize,
    timings: Timings,
    (signing_key, signing_key_created): (String, bool),
) -> anyhow::Result<LocalOutcome> {
    match finalized {
        FinalizeOutcome::Written {
            version, primary, manifest, rows, tls_warning, reconciliation, baseline, ..
        } => Ok(LocalOutcome {
            report_id,
            version,
            report: primary,
            manifest,
            population,
            errors,
            rows,
            timings,
            signing_key,
            signing_key_created,
            tls_warning,
            reconciliation: reconciliation.map(|r| *r),
            baseline: baseline.map(|b| *b),
        }),
        FinalizeOutcome::NotClaimed | FinalizeOutcome::Held => {
            bail!("the report was not finalized: the run is incomplete")
        }
    }
}

/// The newest manifest under `out/reports/` (highest chain sequence), as the link the next report
/// names. `None` when the folder holds no signed report yet.
pub fn chain_head(out: &Path) -> Option<ChainLink> {
    let mut found: Option<ChainLink> = None;
    let mut stack = vec![out.join("reports")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.file_name().and_then(|n| n.to_str()) != Some(keys::MANIFEST_NAME) {
                continue;
            }
            let (Ok(manifest_bytes), Ok(signature_bytes)) =
                (std::fs::read(&path), std::fs::read(path.with_file_name(keys::SIGNATURE_NAME)))
            else {
                continue;
            };
            let Ok(manifest) = serde_json::from_slice::<Manifest>(&manifest_bytes) else { continue };
            if found.as_ref().is_some_and(|f| f.sequence >= manifest.sequence) {
                continue;
            }
            let manifest_key = path.strip_prefix(out).unwrap_or(&path).display().to_string();
            found = Some(ChainLink {
                sequence: manifest.sequence,
                report_id: manifest.report_id,
                version: manifest.version,
                manifest_sha256: dbadmin_contracts::sha256_hex(&manifest_bytes),
                signature_sha256: dbadmin_contracts::sha256_hex(&signature_bytes),
                manifest_key,
            });
        }
    }
    found
}
