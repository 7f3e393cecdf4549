//! The reporter: turns a run's population and results into the evidence an auditor receives.
//!
//! [`handle_finalize`] claims the next version of a report (at most one writer
//! per version), reads the population snapshot and every result, and writes
//! `report.csv`, `report.json` and `manifest.json` under
//! `reports/{yyyy}/{mm}/{dd}/{report_id}/v{n}/`. [`render`] holds the pure
//! row-building and formatting, golden-tested.

pub mod diff;
pub mod html;
pub mod render;
pub mod review;
pub mod staged;
/// A synthetic estate for benchmarks.
#[cfg(feature = "testing")]
pub mod synthetic;

use dbadmin_contracts::discovery::{Discovery, ReconciliationRow};
use dbadmin_contracts::manifest::{
    Artifact, BaselineSummary, ChainLink, Manifest, ManifestSignature, ReconciliationSummary,
};
use dbadmin_contracts::message::Population;
use dbadmin_contracts::result::{Failure, TargetRef};
use dbadmin_contracts::{
    keys, CredentialBinding, DecodeError, ErrorKind, FinalizeMessage, Outcome, OutputFormat, QueryRecord,
    ReceivedRequest, Target, TargetResult, TlsMode, Versioned,
};
use dbadmin_ports::signing::{self, Signer};
use dbadmin_ports::{
    CompletionCounter, Counted, FinalizeClaims, ManifestChain, ObjectStore, PortError, Seal, SealedManifest, Stored,
};
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use tracing::{info, warn, Instrument};

/// The largest previous `report.json` (bytes) that `report.html` compares with (about 40 000 rows).
const PREVIOUS_COMPARE_LIMIT: u64 = 16_000_000;

/// How many results are read at once.
const READ_PARALLELISM: usize = 16;

pub struct ReporterDeps<'a> {
    pub store: &'a dyn ObjectStore,
    /// The right to write a version, and the record that it is written.
    pub claims: &'a dyn FinalizeClaims,
    /// Which version each target's result is in.
    pub counter: &'a dyn CompletionCounter,
    /// The deployment's chain of signed manifests.
    pub chain: &'a dyn ManifestChain,
    /// Signs every manifest (KMS on AWS, a local key file for `generate --local`).
    pub signer: &'a dyn Signer,
}

/// Versions given up in one finalize before it fails (each needs an earlier attempt's leftovers).
const MAX_ABANDONED: u32 = 3;
/// Attempts to append to the chain while other reports are being sealed.
const MAX_SEAL_ATTEMPTS: u32 = 10;

/// What finalizing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinalizeOutcome {
    /// This call wrote version `version`; `primary` is where the requested format's artifact is.
    /// `tls_warning` is the manifest's sentence about targets read without verifying the server;
    /// `requested_at` is when the queue received the request (RFC 3339).
    Written {
        version: u32,
        primary: String,
        manifest: String,
        rows: usize,
        tls_warning: Option<String>,
        requested_at: String,
        /// When discovery was asked: rows per reconciliation status, and the finding (databases
        /// not in the inventory) if any.
        reconciliation: Option<Box<ReconciliationSummary>>,
        /// When read against an approved-admin baseline: which, and the review statuses' counts.
        baseline: Option<Box<BaselineSummary>>,
    },
    /// Nothing to do: the run is incomplete, or its current version is written.
    NotClaimed,
    /// The current version is complete but its claim was refused (another call holds it, or held
    /// it a moment ago): ask again later, as the holder may die.
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
    #[error("{key} holds other bytes than this report's: evidence is never rewritten")]
    Conflict { key: String },
    #[error("signing the manifest of report {report_id}")]
    Sign {
        report_id: String,
        #[source]
        source: PortError,
    },
    #[error("the chain of manifests kept moving: {attempts} attempts to append report {report_id}")]
    ChainBusy { report_id: String, attempts: u32 },
    #[error("writing a staging file in {dir}")]
    Stage {
        dir: String,
        #[source]
        source: std::io::Error,
    },
}

impl ReporterError {
    /// Wraps a run table error of `report_id` (for `map_err`).
    fn run_state(report_id: &str) -> impl Fn(PortError) -> ReporterError + '_ {
        move |source| ReporterError::RunState { report_id: report_id.to_owned(), source }
    }

    pub fn is_retryable(&self) -> bool {
        match self {
            ReporterError::RunState { source, .. }
            | ReporterError::Read { source, .. }
            | ReporterError::Write { source, .. }
            | ReporterError::Sign { source, .. } => source.is_retryable(),
            ReporterError::ChainBusy { .. } => true,
            // A full disk or a read-only staging folder may clear up.
            ReporterError::Stage { .. } => true,
            ReporterError::Missing { .. } | ReporterError::Decode { .. } | ReporterError::Conflict { .. } => false,
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

/// What the manifest says about the results besides their rows.
#[derive(Default)]
struct Tallies {
    /// Targets per status (`OK`, `ERROR:timeout`, …).
    status_counts: BTreeMap<String, u64>,
    /// The `(name, sha256)` of every query text run.
    queries: BTreeSet<(String, String)>,
    /// Targets per TLS mode.
    tls_modes: BTreeMap<String, u64>,
    /// Principal rows per review status, when read against a baseline.
    review_counts: BTreeMap<String, u64>,
    /// Targets whose secret was bound to no database ([`CredentialBinding::Unbound`]).
    unbound_secrets: Vec<String>,
    /// The login logs read, for targets whose inventory row names one.
    login_evidence: Vec<dbadmin_contracts::manifest::TargetLoginEvidence>,
}

impl Tallies {
    /// Counts one target: its rows' review statuses, its status, TLS mode and unbound secret, and
    /// what its result says of the queries run and the login log read.
    fn count(&mut self, target: &Target, result: Option<&TargetResult>, rows: &[render::Row]) {
        for r in rows.iter().filter(|r| !r.review_status.is_empty()) {
            *self.review_counts.entry(r.review_status.clone()).or_default() += 1;
        }
        render::count_status(&mut self.status_counts, result);
        *self.tls_modes.entry(target.tls.to_string()).or_default() += 1;
        if result.is_some_and(|r| r.credential_binding == Some(CredentialBinding::Unbound)) {
            self.unbound_secrets.push(target.id.clone());
        }
        if let Some(TargetResult { outcome: Outcome::Collected(c), .. }) = result {
            self.queries.extend(c.queries.iter().map(|q| (q.name.clone(), q.sha256.clone())));
            if let Some(e) = c.login_evidence.as_deref().filter(|e| !e.source.is_empty()) {
                let evidence = e.clone();
                self.login_evidence
                    .push(dbadmin_contracts::manifest::TargetLoginEvidence { target: target.id.clone(), evidence });
            }
        }
    }
}

/// What rendering wrote: the CSV and JSON staged in files, their rows.
struct RenderedFiles {
    csv: staged::StagedFile,
    json: staged::StagedFile,
    rows: usize,
}

/// Reads the results in report order (a bounded read-ahead) and renders them one target at a time
/// into staging files ([`staged`]): memory holds a few results and the page's summaries, never
/// every row. Each target's result is the one of the version it was counted in.
async fn render_results(
    store: &dyn ObjectStore,
    population: &Population,
    counted: &BTreeMap<String, Counted>,
    report_timestamp: &str,
    version: u32,
    reconciliation: Option<&[ReconciliationRow]>,
    previous: html::Previous,
) -> Result<(RenderedFiles, Tallies, html::Html), ReporterError> {
    let report_id = &population.report_id;
    let ordered = render::target_order(population);
    let keys: Vec<Option<String>> =
        ordered.iter().map(|t| counted.get(&t.id).map(|c| keys::result(report_id, c.version, &t.id))).collect();
    let staging = store.staging_dir();
    let stage_err = |source: std::io::Error| ReporterError::Stage { dir: staging.display().to_string(), source };
    let mut renderer = render::Renderer::to(
        staged::Staged::create(&staging).map_err(stage_err)?,
        staged::Staged::create(&staging).map_err(stage_err)?,
        report_id,
        version,
        report_timestamp,
    )
    .map_err(stage_err)?;
    let mut page = html::Html::new(report_id, version, report_timestamp);
    page.compare_with(previous);
    let baseline = population.baseline.as_ref();
    let mut tallies = Tallies::default();
    if population.targets.is_empty() {
        renderer.write(&[render::empty_report_row(population, report_timestamp)]).map_err(stage_err)?;
    }
    let mut results = futures::stream::iter(keys)
        .map(|key| async move {
            match key {
                Some(key) => read::<TargetResult>(store, &key).await.map_err(|e| (key, e)),
                None => Ok(None),
            }
        })
        .buffered(READ_PARALLELISM);
    let mut targets = ordered.iter();
    while let Some(result) = results.next().await {
        let target = targets.next().expect("one result per target");
        let result = match result {
            // One unreadable result is that target's error row, not a report that cannot be written.
            Err((_, ReporterError::Decode { key, source })) => Some(unreadable(report_id, target, &key, &source)),
            Err((_, e)) => return Err(e),
            Ok(r) => r,
        };
        let signals = review::signals(result.as_ref());
        let rows = render::target_rows_with(target, result.as_ref(), report_timestamp, baseline, &signals);
        renderer.write(&rows).map_err(stage_err)?;
        page.target(&rows, &signals);
        tallies.count(target, result.as_ref(), &rows);
    }
    let render::Rendered { csv, json, rows } = renderer.finish_with(reconciliation).map_err(stage_err)?;
    let files = RenderedFiles { csv: csv.finish().map_err(stage_err)?, json: json.finish().map_err(stage_err)?, rows };
    Ok((files, tallies, page))
}

/// The report `report.html` compares this version with: the one signed before it. That is the
/// chain's head, unless this version was sealed already (an attempt that died after sealing), when
/// it is the report its sealed manifest names, so every attempt renders the same page.
async fn previous_report(deps: &ReporterDeps<'_>, report_id: &str, version: u32) -> html::Previous {
    let link = match deps.chain.sealed(report_id, version).await {
        Ok(Some(sealed)) => serde_json::from_slice::<Manifest>(&sealed.manifest).ok().and_then(|m| m.previous),
        Ok(None) => match deps.chain.chain_head().await {
            Ok(head) => head,
            Err(e) => return unreadable_previous("the chain's head".into(), &e),
        },
        Err(e) => return unreadable_previous(format!("report {report_id} v{version}"), &e),
    };
    let Some(link) = link else { return html::Previous::None };
    let label = format!("report {} v{}", link.report_id, link.version);
    let dir = link.manifest_key.rsplit_once('/').map_or("", |(dir, _)| dir);
    let key = format!("{dir}/{}", keys::JSON_NAME);
    // The page compares in memory: a previous report too large for that is said, not loaded.
    let size = match deps.store.get(&link.manifest_key).await {
        Ok(Some(bytes)) => serde_json::from_slice::<Manifest>(&bytes)
            .ok()
            .and_then(|m| m.artifacts.iter().find(|a| a.name == keys::JSON_NAME).map(|a| a.size)),
        Ok(None) => None,
        Err(e) => return unreadable_previous(label, &e),
    };
    if let Some(size) = size.filter(|s| *s > PREVIOUS_COMPARE_LIMIT) {
        return html::Previous::NotCompared {
            label,
            reason: format!(
                "its report.json is {} MB, more than this page compares ({} MB); `db-admin-report diff` compares reports of any size",
                size / 1_000_000,
                PREVIOUS_COMPARE_LIMIT / 1_000_000
            ),
        };
    }
    match deps.store.get(&key).await {
        Ok(Some(bytes)) => match render::from_json(&bytes) {
            Ok(rows) => html::Previous::Report { label, sides: diff::sides(&rows) },
            Err(e) => html::Previous::NotCompared { label, reason: format!("{key} cannot be read: {e}") },
        },
        Ok(None) => html::Previous::NotCompared { label, reason: format!("{key} is missing") },
        Err(e) => unreadable_previous(label, &e),
    }
}

fn unreadable_previous(label: String, error: &PortError) -> html::Previous {
    warn!(%label, error = %dbadmin_ports::error_chain(error), "The previous report cannot be read; report.html says so.");
    html::Previous::NotCompared { label, reason: format!("it cannot be read: {}", dbadmin_ports::error_chain(error)) }
}

/// The manifest's sentence about targets read without proving which server answered, if any
/// were: `require` and `disable` check no certificate, and `verify-ca` checks the chain but not
/// the name, so any server holding a certificate from the same authority (every RDS database in
/// every account, for the RDS CA) could have answered.
fn tls_warning(tls_modes: &BTreeMap<String, u64>) -> Option<String> {
    let weak: Vec<(TlsMode, u64)> = [TlsMode::VerifyCa, TlsMode::Require, TlsMode::Disable]
        .into_iter()
        .filter_map(|m| tls_modes.get(m.as_str()).map(|n| (m, *n)))
        .collect();
    if weak.is_empty() {
        return None;
    }
    let total: u64 = weak.iter().map(|(_, n)| n).sum();
    let modes: Vec<String> = weak
        .iter()
        .map(|(m, n)| match m {
            TlsMode::VerifyCa => format!("{n} with tls={m}: the certificate's chain checked, not its name"),
            _ => format!("{n} with tls={m}: no certificate checked"),
        })
        .collect();
    Some(format!(
        "{total} target(s) were read without verifying which server answered ({}): their rows could come from another server",
        modes.join("; ")
    ))
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
        credential_binding: None,
        outcome: Outcome::Failed(Failure {
            kind: ErrorKind::UnreadableResult,
            reason: format!("the stored result {key} cannot be read: {}", dbadmin_ports::error_chain(error)),
        }),
    }
}

/// An artifact's bytes: in memory, or in a staging file.
enum Body {
    Bytes(Vec<u8>),
    File(staged::StagedFile),
}

impl Body {
    fn sha256_and_size(&self) -> (String, u64) {
        match self {
            Body::Bytes(b) => (dbadmin_contracts::sha256_hex(b), b.len() as u64),
            Body::File(f) => (f.sha256.clone(), f.size),
        }
    }
}

/// Writes `body` at `key` once and returns its SHA-256 and size. An object already there is fine
/// when it holds the same bytes (an earlier attempt of this finalize); other bytes are a
/// [`ReporterError::Conflict`].
async fn write_once(
    store: &dyn ObjectStore,
    key: &str,
    body: Body,
    content_type: &str,
) -> Result<(String, u64), ReporterError> {
    let (sha, size) = body.sha256_and_size();
    let stored = match body {
        Body::Bytes(bytes) => store.put(key, bytes, content_type).await,
        // The staging file is removed when `file` drops, after the store has linked or read it.
        Body::File(file) => store.put_file(key, &file.path, content_type).await,
    }
    .map_err(|source| ReporterError::Write { key: key.to_owned(), source })?;
    if stored == Stored::Existed {
        let existing = store
            .get(key)
            .await
            .map_err(|source| ReporterError::Read { key: key.to_owned(), source })?
            .unwrap_or_default();
        if dbadmin_contracts::sha256_hex(&existing) != sha {
            return Err(ReporterError::Conflict { key: key.to_owned() });
        }
        info!(%key, "An earlier attempt wrote the same bytes already.");
    }
    Ok((sha, size))
}

/// Writes each `(name, body, content type)` under `dir` once and describes it for the manifest.
async fn write_artifacts(
    store: &dyn ObjectStore,
    dir: &str,
    files: Vec<(&str, Body, &str)>,
) -> Result<Vec<Artifact>, ReporterError> {
    let mut artifacts = Vec::new();
    for (name, body, content_type) in files {
        let (sha256, size) = write_once(store, &format!("{dir}/{name}"), body, content_type).await?;
        artifacts.push(Artifact { name: name.to_owned(), sha256, size, content_type: content_type.to_owned() });
    }
    Ok(artifacts)
}

/// Signs the manifest `build` makes on the chain's current head and appends it to the chain, once
/// per version: returns the manifest and signature bytes to write.
async fn seal(
    deps: &ReporterDeps<'_>,
    report_id: &str,
    version: u32,
    manifest_key: &str,
    build: impl Fn(Option<ChainLink>, u64) -> Manifest,
) -> Result<SealedManifest, ReporterError> {
    if let Some(sealed) = deps.chain.sealed(report_id, version).await.map_err(ReporterError::run_state(report_id))? {
        info!(version, "This version was sealed by an earlier attempt; writing those bytes.");
        return Ok(sealed);
    }
    let sign_err = |source| ReporterError::Sign { report_id: report_id.to_owned(), source };
    let public_key = deps.signer.public_key_der().await.map_err(sign_err)?;
    for _ in 0..MAX_SEAL_ATTEMPTS {
        let head = deps.chain.chain_head().await.map_err(ReporterError::run_state(report_id))?;
        let previous = head.as_ref().map(|h| h.sequence);
        let sequence = previous.unwrap_or(0) + 1;
        let manifest = serde_json::to_vec_pretty(&build(head, sequence)).expect("manifest serializes");
        let signature = deps.signer.sign(&manifest).await.map_err(sign_err)?;
        let signature = ManifestSignature {
            schema_version: ManifestSignature::SCHEMA_VERSION,
            manifest_sha256: dbadmin_contracts::sha256_hex(&manifest),
            algorithm: signing::ALGORITHM.to_owned(),
            key_id: deps.signer.key_id(),
            public_key_sha256: dbadmin_contracts::sha256_hex(&public_key),
            signed_at: dbadmin_contracts::now_rfc3339(),
            signature: signing::encode_signature(&signature),
        };
        let signature = serde_json::to_vec_pretty(&signature).expect("signature serializes");
        let link = ChainLink {
            sequence,
            report_id: report_id.to_owned(),
            version,
            manifest_sha256: dbadmin_contracts::sha256_hex(&manifest),
            signature_sha256: dbadmin_contracts::sha256_hex(&signature),
            manifest_key: manifest_key.to_owned(),
        };
        let sealed = SealedManifest { manifest, signature };
        match deps.chain.seal(previous, &link, &sealed).await.map_err(ReporterError::run_state(report_id))? {
            Seal::Sealed => return Ok(sealed),
            Seal::AlreadySealed(earlier) => return Ok(earlier),
            Seal::HeadMoved => info!("Another report was sealed meanwhile; signing again on the new head."),
        }
    }
    Err(ReporterError::ChainBusy { report_id: report_id.to_owned(), attempts: MAX_SEAL_ATTEMPTS })
}

async fn finalize(message: &FinalizeMessage, deps: &ReporterDeps<'_>) -> Result<FinalizeOutcome, ReporterError> {
    let started = std::time::Instant::now();
    let report_id = &message.report_id;
    let Some(claim) = deps.claims.claim_finalize(report_id).await.map_err(ReporterError::run_state(report_id))? else {
        return not_claimed(deps, report_id).await;
    };
    let inputs = read_inputs(deps, report_id).await?;
    let written = write_data(deps, &inputs, claim.version).await?;
    let tls_warning = tls_warning(&written.tallies.tls_modes);
    let baseline = baseline_summary(&inputs.population, &written.tallies);
    let draft = manifest_draft(&inputs, &claim, &written, tls_warning.clone(), baseline.clone());
    let build = |previous: Option<ChainLink>, sequence: u64| Manifest {
        finished_at: dbadmin_contracts::now_rfc3339(),
        sequence,
        previous,
        ..draft.clone()
    };
    let manifest_key = format!("{}/{}", written.dir, keys::MANIFEST_NAME);
    let sealed = seal(deps, report_id, written.version, &manifest_key, build).await?;
    write_manifest_last(deps.store, &written.dir, &manifest_key, sealed).await?;

    let request = &inputs.received.request;
    let primary_name = match request.output_format {
        OutputFormat::Csv => keys::CSV_NAME,
        OutputFormat::Json => keys::JSON_NAME,
    };
    let (version, rows) = (written.version, written.rows);
    let primary = deps.store.location(&format!("{}/{primary_name}", written.dir));
    deps.claims.record_report(report_id, version, &primary).await.map_err(ReporterError::run_state(report_id))?;
    info!(
        version,
        rows,
        targets = inputs.population.targets.len(),
        finalize_ms = started.elapsed().as_millis() as u64,
        "Report written and signed."
    );
    Ok(FinalizeOutcome::Written {
        version,
        primary,
        manifest: deps.store.location(&manifest_key),
        rows,
        tls_warning,
        requested_at: inputs.received.received.sent_at,
        reconciliation: inputs.summary.map(Box::new),
        baseline: baseline.map(Box::new),
    })
}

/// Why this call writes nothing: another call holds (or just held) the claim of a complete
/// version, or there is nothing to claim.
async fn not_claimed(deps: &ReporterDeps<'_>, report_id: &str) -> Result<FinalizeOutcome, ReporterError> {
    if deps.claims.awaiting_report(report_id).await.map_err(ReporterError::run_state(report_id))? {
        info!("The version is complete but another reporter holds (or just held) its claim; the message comes back after the visibility time-out.");
        return Ok(FinalizeOutcome::Held);
    }
    info!("Nothing to finalize: incomplete, or this version was already claimed.");
    Ok(FinalizeOutcome::NotClaimed)
}

/// What a claimed finalize reads before it renders.
struct Inputs {
    /// The message's report id (the one claimed).
    report_id: String,
    /// The queue's record of the request, not the body's claims: it dates and signs the report.
    received: ReceivedRequest,
    population: Population,
    /// The version each target's result was counted in.
    counted: BTreeMap<String, Counted>,
    /// When the request asked for discovery: what AWS lists, reconciled with the population.
    reconciliation: Option<Vec<ReconciliationRow>>,
    /// The manifest's summary of the reconciliation, made once (the manifest may be built again on
    /// a moved chain head).
    summary: Option<ReconciliationSummary>,
}

impl Inputs {
    fn requested_at(&self) -> &String {
        &self.received.received.sent_at
    }
}

/// Reads the request, the population, the counted results and (when asked) the discovery.
async fn read_inputs(deps: &ReporterDeps<'_>, report_id: &str) -> Result<Inputs, ReporterError> {
    let received: ReceivedRequest = read_required(deps.store, &keys::request(report_id)).await?;
    let population: Population = read_required(deps.store, &keys::population(report_id)).await?;
    let counted = deps.counter.counted(report_id).await.map_err(ReporterError::run_state(report_id))?;
    let request = &received.request;
    let discovery = match &request.discovery {
        Some(_) => Some(read_discovery(deps.store, report_id).await?),
        None => None,
    };
    let reconciliation =
        discovery.as_ref().map(|d| dbadmin_contracts::discovery::reconcile(&population.targets, &request.filters, d));
    let summary =
        discovery.as_ref().zip(reconciliation.as_deref()).map(|(d, rows)| ReconciliationSummary::new(d, rows));
    Ok(Inputs { report_id: report_id.to_owned(), received, population, counted, reconciliation, summary })
}

/// This report's listing of what AWS says exists (only it is reconciled with the population).
async fn read_discovery(store: &dyn ObjectStore, report_id: &str) -> Result<Discovery, ReporterError> {
    let key = keys::discovery(report_id);
    let found: Discovery = read_required(store, &key).await?;
    if found.report_id != report_id {
        return Err(ReporterError::Conflict { key });
    }
    Ok(found)
}

/// The data artifacts as written, and the version they were written under.
struct Written {
    version: u32,
    /// Versions given up on the way, for other bytes under their keys.
    abandoned: Vec<u32>,
    dir: String,
    artifacts: Vec<Artifact>,
    rows: usize,
    tallies: Tallies,
}

/// Writes the data artifacts once, from `version` on. Other bytes under a version's keys (an
/// attempt that died part-way with other results, or another build) are left alone: the report
/// moves to the next version.
async fn write_data(deps: &ReporterDeps<'_>, inputs: &Inputs, version: u32) -> Result<Written, ReporterError> {
    let report_id = &inputs.report_id;
    let signer_name = deps.signer.key_id();
    let mut version = version;
    let mut abandoned = Vec::new();
    loop {
        let RenderedVersion { dir, files, rows, tallies } = render_version(deps, inputs, version, &signer_name).await?;
        match write_artifacts(deps.store, &dir, files).await {
            Ok(artifacts) => return Ok(Written { version, abandoned, dir, artifacts, rows, tallies }),
            Err(ReporterError::Conflict { key }) if (abandoned.len() as u32) < MAX_ABANDONED => {
                warn!(%key, version, "Other bytes are stored under this version; writing the next version instead.");
                if !deps
                    .claims
                    .abandon_version(report_id, version)
                    .await
                    .map_err(ReporterError::run_state(report_id))?
                {
                    return Err(ReporterError::Conflict { key });
                }
                abandoned.push(version);
                version += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// One version's data artifacts, rendered and not yet written.
struct RenderedVersion {
    dir: String,
    /// `(name, body, content type)` of each artifact.
    files: Vec<(&'static str, Body, &'static str)>,
    rows: usize,
    tallies: Tallies,
}

/// Renders `report.csv`, `report.json`, `report.html` (compared with the report signed before) and,
/// when discovery ran, `reconciliation.csv` for `version`.
async fn render_version(
    deps: &ReporterDeps<'_>,
    inputs: &Inputs,
    version: u32,
    signer_name: &str,
) -> Result<RenderedVersion, ReporterError> {
    let (report_id, population, requested_at) = (&inputs.report_id, &inputs.population, inputs.requested_at());
    let reconciliation = inputs.reconciliation.as_deref();
    let previous = previous_report(deps, report_id, version).await;
    let (rendered, tallies, page) =
        render_results(deps.store, population, &inputs.counted, requested_at, version, reconciliation, previous)
            .await?;
    let RenderedFiles { csv, json, rows } = rendered;
    let page = page.finish(&html::PageFacts {
        requested_by: &inputs.received.received.sender,
        requested_at,
        signer: signer_name,
        reconciliation,
        baseline: population.baseline.as_ref().map(|b| (b.source.as_str(), b.sha256.as_str())),
    });
    let mut files = vec![
        (keys::CSV_NAME, Body::File(csv), "text/csv; charset=utf-8"),
        (keys::JSON_NAME, Body::File(json), "application/json"),
        (keys::HTML_NAME, Body::Bytes(page), "text/html; charset=utf-8"),
    ];
    if let Some(r) = reconciliation {
        files.push((keys::RECONCILIATION_NAME, Body::Bytes(render::reconciliation_csv(r)), "text/csv; charset=utf-8"));
    }
    Ok(RenderedVersion { dir: keys::report_dir(report_id, requested_at, version), files, rows, tallies })
}

/// The manifest's account of the baseline, when the report was read against one.
fn baseline_summary(population: &Population, tallies: &Tallies) -> Option<BaselineSummary> {
    population.baseline.as_ref().map(|b| BaselineSummary {
        source: b.source.clone(),
        sha256: b.sha256.clone(),
        approvals: b.approvals.len() as u64,
        review_counts: tallies.review_counts.clone(),
    })
}

/// The manifest of the written version, but for what sealing sets: its place in the chain
/// (`sequence`, `previous`) and `finished_at`.
fn manifest_draft(
    inputs: &Inputs,
    claim: &dbadmin_ports::FinalizeClaim,
    written: &Written,
    tls_warning: Option<String>,
    baseline: Option<BaselineSummary>,
) -> Manifest {
    let (received, request, population) = (&inputs.received.received, &inputs.received.request, &inputs.population);
    let tallies = &written.tallies;
    Manifest {
        schema_version: Manifest::SCHEMA_VERSION,
        report_id: inputs.report_id.clone(),
        version: written.version,
        supersedes: claim.supersedes,
        requested_by: received.sender.clone(),
        requested_at: received.sent_at.clone(),
        finished_at: dbadmin_contracts::now_rfc3339(),
        tool_version: dbadmin_contracts::TOOL_VERSION.to_owned(),
        parameters: request.filters.clone(),
        inventory_source: population.inventory_source.clone(),
        inventory_sha256: population.inventory_sha256.clone(),
        population: population.targets.len() as u64,
        status_counts: tallies.status_counts.clone(),
        admin_definition_version: dbadmin_contracts::result::ADMIN_DEFINITION_VERSION.to_owned(),
        queries: tallies
            .queries
            .iter()
            .map(|(name, sha256)| QueryRecord { name: name.clone(), sha256: sha256.clone() })
            .collect(),
        artifacts: written.artifacts.clone(),
        requested_by_claimed: (request.requested_by != received.sender).then(|| request.requested_by.clone()),
        tls_modes: tallies.tls_modes.clone(),
        tls_warning,
        unbound_secrets: tallies.unbound_secrets.clone(),
        login_evidence: tallies.login_evidence.clone(),
        abandoned: written.abandoned.clone(),
        sequence: 0,
        previous: None,
        reconciliation: inputs.summary.clone(),
        baseline,
    }
}

/// Writes the manifest and its signature, last: their presence says every artifact they name is
/// complete.
async fn write_manifest_last(
    store: &dyn ObjectStore,
    dir: &str,
    manifest_key: &str,
    sealed: SealedManifest,
) -> Result<(), ReporterError> {
    let SealedManifest { manifest, signature } = sealed;
    write_once(store, manifest_key, Body::Bytes(manifest), "application/json").await?;
    write_once(store, &format!("{dir}/{}", keys::SIGNATURE_NAME), Body::Bytes(signature), "application/json").await?;
    Ok(())
}

#[cfg(test)]
mod tls_tests {
    #[test]
    fn verify_ca_is_named_weak_like_require() {
        assert_eq!(super::tls_warning(&[("verify-full".to_owned(), 3)].into()), None);
        let w = super::tls_warning(&[("verify-ca".to_owned(), 2), ("require".to_owned(), 1)].into()).unwrap();
        assert!(w.starts_with("3 target(s) were read without verifying which server answered"), "{w}");
        assert!(w.contains("2 with tls=verify-ca: the certificate's chain checked, not its name"), "{w}");
        assert!(w.contains("1 with tls=require: no certificate checked"), "{w}");
    }
}
