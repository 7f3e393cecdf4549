//! The reporter: turns a run's population and results into the evidence an auditor receives.
//!
//! [`handle_finalize`] claims the next version of a report (at most one writer
//! per version), reads the population snapshot and every result, and writes
//! `report.csv`, `report.json` and `manifest.json` under
//! `reports/{yyyy}/{mm}/{dd}/{report_id}/v{n}/`. [`render`] holds the pure
//! row-building and formatting, golden-tested.

pub mod render;
/// A synthetic estate for benchmarks.
#[cfg(feature = "testing")]
pub mod synthetic;

use dbadmin_contracts::manifest::{Artifact, Manifest};
use dbadmin_contracts::message::Population;
use dbadmin_contracts::result::{Failure, TargetRef};
use dbadmin_contracts::{
    keys, DecodeError, ErrorKind, FinalizeMessage, Outcome, OutputFormat, QueryRecord, ReportRequest, Target,
    TargetResult, Versioned,
};
use dbadmin_ports::{ObjectStore, PortError, RunStore};
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use tracing::{info, Instrument};

/// How many results are read at once.
const READ_PARALLELISM: usize = 16;

pub struct ReporterDeps<'a> {
    pub store: &'a dyn ObjectStore,
    pub runs: &'a dyn RunStore,
}

/// What finalizing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinalizeOutcome {
    /// This call wrote version `version`; `primary` is where the requested format's artifact is.
    Written { version: u32, primary: String, manifest: String, rows: usize },
    /// Nothing to do: the run is incomplete, or its current version is written.
    NotClaimed,
    /// Another call holds a live claim on the current version: ask again later (it may die).
    Held,
}

#[derive(Debug, thiserror::Error)]
pub enum ReporterError {
    #[error("reading or writing the run state of report {report_id}")]
    RunState {
        report_id: String,
        #[source]
        source: PortError,
    },
    #[error("reading {key}")]
    Read {
        key: String,
        #[source]
        source: PortError,
    },
    #[error("{key} is missing")]
    Missing { key: String },
    #[error("{key} cannot be read")]
    Decode {
        key: String,
        #[source]
        source: dbadmin_contracts::DecodeError,
    },
    #[error("writing {key}")]
    Write {
        key: String,
        #[source]
        source: PortError,
    },
}

impl ReporterError {
    pub fn is_retryable(&self) -> bool {
        match self {
            ReporterError::RunState { source, .. }
            | ReporterError::Read { source, .. }
            | ReporterError::Write { source, .. } => source.is_retryable(),
            ReporterError::Missing { .. } | ReporterError::Decode { .. } => false,
        }
    }
}

async fn read<T: Versioned>(store: &dyn ObjectStore, key: &str) -> Result<Option<T>, ReporterError> {
    let Some(bytes) = store.get(key).await.map_err(|source| ReporterError::Read { key: key.to_owned(), source })?
    else {
        return Ok(None);
    };
    dbadmin_contracts::decode(&bytes).map(Some).map_err(|source| ReporterError::Decode { key: key.to_owned(), source })
}

async fn read_required<T: Versioned>(store: &dyn ObjectStore, key: &str) -> Result<T, ReporterError> {
    read(store, key).await?.ok_or_else(|| ReporterError::Missing { key: key.to_owned() })
}

/// Writes the next version of a report, if this call wins the claim for it.
pub async fn handle_finalize(
    message: &FinalizeMessage,
    deps: &ReporterDeps<'_>,
) -> Result<FinalizeOutcome, ReporterError> {
    let span = tracing::info_span!("finalize", report_id = %message.report_id);
    finalize(message, deps).instrument(span).await
}

/// Status counts by name, and the `(name, sha256)` of every query text run.
type Tallies = (BTreeMap<String, u64>, BTreeSet<(String, String)>);

/// Reads the results in report order (a bounded read-ahead) and renders them one target at a time:
/// memory holds the two output buffers and a few results, never every row.
async fn render_results(
    store: &dyn ObjectStore,
    report_id: &str,
    population: &Population,
    request: &ReportRequest,
    version: u32,
) -> Result<(render::Rendered, BTreeMap<String, u64>, BTreeSet<(String, String)>), ReporterError> {
    let ordered = render::target_order(population);
    let keys: Vec<String> = ordered.iter().map(|t| keys::result(report_id, &t.id)).collect();
    let mut renderer = render::Renderer::new(report_id, version, &request.requested_at);
    let (mut status_counts, mut queries): Tallies = Default::default();
    if population.targets.is_empty() {
        renderer.push(&[render::empty_report_row(population, &request.requested_at)]);
    }
    let mut results = futures::stream::iter(keys)
        .map(|key| async move { read::<TargetResult>(store, &key).await })
        .buffered(READ_PARALLELISM);
    let mut targets = ordered.iter();
    while let Some(result) = results.next().await {
        let target = targets.next().expect("one result per target");
        let result = match result {
            // One unreadable result is that target's error row, not a report that cannot be written.
            Err(ReporterError::Decode { key, source }) => Some(unreadable(report_id, target, &key, &source)),
            other => other?,
        };
        renderer.push(&render::target_rows(target, result.as_ref(), &request.requested_at));
        render::count_status(&mut status_counts, result.as_ref());
        if let Some(TargetResult { outcome: Outcome::Collected(c), .. }) = &result {
            queries.extend(c.queries.iter().map(|q| (q.name.clone(), q.sha256.clone())));
        }
    }
    Ok((renderer.finish(), status_counts, queries))
}

/// The error row of a target whose stored result cannot be read.
fn unreadable(report_id: &str, target: &Target, key: &str, error: &DecodeError) -> TargetResult {
    tracing::error!(target_id = %target.id, %key, error = %dbadmin_ports::error_chain(error), "A stored result cannot be read; reporting it as an error row.");
    TargetResult {
        schema_version: TargetResult::SCHEMA_VERSION,
        report_id: report_id.to_owned(),
        target: TargetRef::from(target),
        collected_at: String::new(),
        attempts: 0,
        duration_ms: 0,
        outcome: Outcome::Failed(Failure {
            kind: ErrorKind::UnreadableResult,
            reason: format!("the stored result {key} cannot be read: {}", dbadmin_ports::error_chain(error)),
        }),
    }
}

/// Writes each `(name, body, content type)` under `dir` and describes it for the manifest.
async fn write_artifacts<const N: usize>(
    store: &dyn ObjectStore,
    dir: &str,
    files: [(&str, Vec<u8>, &str); N],
) -> Result<Vec<Artifact>, ReporterError> {
    let mut artifacts = Vec::new();
    for (name, body, content_type) in files {
        artifacts.push(Artifact {
            name: name.to_owned(),
            sha256: dbadmin_contracts::sha256_hex(&body),
            size: body.len() as u64,
            content_type: content_type.to_owned(),
        });
        let key = format!("{dir}/{name}");
        store.put(&key, body, content_type).await.map_err(|source| ReporterError::Write { key, source })?;
    }
    Ok(artifacts)
}

async fn finalize(message: &FinalizeMessage, deps: &ReporterDeps<'_>) -> Result<FinalizeOutcome, ReporterError> {
    let started = std::time::Instant::now();
    let report_id = &message.report_id;
    let run_err = |source| ReporterError::RunState { report_id: report_id.clone(), source };
    let Some(claim) = deps.runs.claim_finalize(report_id).await.map_err(run_err)? else {
        if deps.runs.claim_held(report_id).await.map_err(run_err)? {
            info!("Another reporter holds the claim on this version; the message comes back after the visibility time-out.");
            return Ok(FinalizeOutcome::Held);
        }
        info!("Nothing to finalize: incomplete, or this version was already claimed.");
        return Ok(FinalizeOutcome::NotClaimed);
    };
    let request: ReportRequest = read_required(deps.store, &keys::request(report_id)).await?;
    let population: Population = read_required(deps.store, &keys::population(report_id)).await?;

    let (rendered, status_counts, queries) =
        render_results(deps.store, report_id, &population, &request, claim.version).await?;
    let finished_at = dbadmin_contracts::now_rfc3339();
    let render::Rendered { csv, json, rows } = rendered;
    let dir = keys::report_dir(report_id, &request.requested_at, claim.version);
    let artifacts = write_artifacts(
        deps.store,
        &dir,
        [(keys::CSV_NAME, csv, "text/csv; charset=utf-8"), (keys::JSON_NAME, json, "application/json")],
    )
    .await?;

    let manifest = Manifest {
        schema_version: Manifest::SCHEMA_VERSION,
        report_id: report_id.clone(),
        version: claim.version,
        supersedes: claim.supersedes,
        requested_by: request.requested_by.clone(),
        requested_at: request.requested_at.clone(),
        finished_at,
        tool_version: dbadmin_contracts::TOOL_VERSION.to_owned(),
        parameters: request.filters.clone(),
        inventory_source: population.inventory_source.clone(),
        inventory_sha256: population.inventory_sha256.clone(),
        population: population.targets.len() as u64,
        status_counts,
        admin_definition_version: dbadmin_contracts::result::ADMIN_DEFINITION_VERSION.to_owned(),
        queries: queries.into_iter().map(|(name, sha256)| QueryRecord { name, sha256 }).collect(),
        artifacts,
    };
    // The manifest goes last: its presence says every artifact it names is complete.
    let manifest_key = format!("{dir}/{}", keys::MANIFEST_NAME);
    let body = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
    deps.store
        .put(&manifest_key, body, "application/json")
        .await
        .map_err(|source| ReporterError::Write { key: manifest_key.clone(), source })?;

    let primary_name = match request.output_format {
        OutputFormat::Csv => keys::CSV_NAME,
        OutputFormat::Json => keys::JSON_NAME,
    };
    let primary = deps.store.location(&format!("{dir}/{primary_name}"));
    deps.runs.record_report(report_id, claim.version, &primary).await.map_err(run_err)?;
    info!(
        version = claim.version,
        rows,
        targets = population.targets.len(),
        finalize_ms = started.elapsed().as_millis() as u64,
        "Report written."
    );
    Ok(FinalizeOutcome::Written { version: claim.version, primary, manifest: deps.store.location(&manifest_key), rows })
}
