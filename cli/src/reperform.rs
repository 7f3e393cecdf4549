//! `reperform`: an auditor collects one target of a signed report again, now, with the same query
//! texts (checked against the manifest's checksums), and compares the access it finds with the
//! report's rows: identical, or each difference listed (a grant changed since).

use anyhow::{bail, Context};
use dbadmin_collector::engine::{self, ConnectOptions};
use dbadmin_contracts::manifest::Manifest;
use dbadmin_contracts::result::TargetRef;
use dbadmin_contracts::{Inventory, Outcome, QueryRecord, Target, TargetResult, Versioned};
use dbadmin_ports::CredentialSource;
use dbadmin_reporter::render::{self, Row};
use std::collections::BTreeSet;
use std::path::Path;

/// The columns that say who holds what access, and why: the ones a re-performance compares.
/// Left out: when it was read, last login and password dates (they move without any grant
/// changing), notes and the certificate fingerprint (a rotated certificate is not an access change).
fn access(row: &Row) -> [String; 11] {
    [
        row.username.clone(),
        row.user_host.clone(),
        row.principal_type.clone(),
        row.role_name.clone(),
        row.permission_level.clone(),
        row.privilege.clone(),
        row.scope.clone(),
        row.admin_reason.clone(),
        row.grant_path.clone(),
        row.vendor_managed.clone(),
        row.collection_status.clone(),
    ]
}

/// What re-collecting one target found, against the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reperformance {
    pub report_id: String,
    pub version: u32,
    pub target_id: String,
    /// Rows (by their access columns) in the report but not found now.
    pub only_in_report: Vec<Vec<String>>,
    /// Rows found now but not in the report.
    pub only_now: Vec<Vec<String>>,
    /// The query texts this build ran, all with the checksums the manifest records.
    pub queries_checked: usize,
    pub collected_at: String,
}

impl Reperformance {
    /// The same principals hold the same access for the same reasons.
    pub fn identical(&self) -> bool {
        self.only_in_report.is_empty() && self.only_now.is_empty()
    }
}

/// Re-collects `target_id` of the report in `folder` (manifest.json and report.json, as written
/// or downloaded) with the target's definition from `inventory`.
pub async fn reperform(
    folder: &Path,
    target_id: &str,
    inventory: &Inventory,
    credentials: &dyn CredentialSource,
    connect: &ConnectOptions,
) -> anyhow::Result<Reperformance> {
    let read = |name: &str| {
        let path = folder.join(name);
        std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
    };
    let manifest: Manifest = dbadmin_contracts::decode(&read("manifest.json")?).context("reading the manifest")?;
    let report = render::from_json(&read("report.json")?).context("reading report.json")?;
    let target = inventory
        .targets
        .iter()
        .find(|t| t.id == target_id)
        .with_context(|| format!("{target_id} is not in the inventory {}", inventory.source))?;
    let reported: Vec<&Row> = report.iter().filter(|r| r.database_name == target.id).collect();
    let Some(first) = reported.first() else { bail!("{target_id} is not in report {}", manifest.report_id) };
    let endpoint = format!("{}:{}", target.host, target.port);
    if first.endpoint != endpoint || first.account_id != target.account_id {
        bail!(
            "the inventory's {target_id} is {endpoint} in {}, but the report read {} in {}: re-performing it would read another database",
            target.account_id,
            first.endpoint,
            first.account_id
        );
    }

    let ran = same_queries(&manifest, target)?;
    let (outcome, attempts) = collect_now(target, target_id, &ran, credentials, connect).await?;
    let result = TargetResult {
        schema_version: TargetResult::SCHEMA_VERSION,
        report_id: manifest.report_id.clone(),
        target: TargetRef::from(target),
        collected_at: dbadmin_contracts::now_rfc3339(),
        attempts,
        duration_ms: 0,
        credential_binding: None,
        outcome,
    };
    let now = render::target_rows(target, Some(&result), &manifest.requested_at, None);
    let before: BTreeSet<Vec<String>> = reported.iter().map(|r| access(r).to_vec()).collect();
    let after: BTreeSet<Vec<String>> = now.iter().map(|r| access(r).to_vec()).collect();
    Ok(Reperformance {
        report_id: manifest.report_id.clone(),
        version: manifest.version,
        target_id: target_id.to_owned(),
        only_in_report: before.difference(&after).cloned().collect(),
        only_now: after.difference(&before).cloned().collect(),
        queries_checked: ran.len(),
        collected_at: result.collected_at,
    })
}

/// The same SQL: every fixed query the report ran for `target`'s engine must be this build's text
/// (a template's text is built on the server, so it is checked once this collection built it).
/// Returns the report's query records of that engine.
fn same_queries<'m>(manifest: &'m Manifest, target: &Target) -> anyhow::Result<Vec<&'m QueryRecord>> {
    let built: Vec<(&str, &str)> = engine::queries();
    let family = match target.engine {
        dbadmin_contracts::Engine::Mysql | dbadmin_contracts::Engine::Mariadb => "mysql/",
        dbadmin_contracts::Engine::Postgres => "postgres/",
        dbadmin_contracts::Engine::Sqlserver => "sqlserver/",
    };
    let ran: Vec<&QueryRecord> = manifest.queries.iter().filter(|q| q.name.starts_with(family)).collect();
    let this_build = |name: &str, sha256: &str| {
        built.iter().any(|(n, text)| {
            *n == name && (engine::is_template(text) || dbadmin_contracts::sha256_hex(text.as_bytes()) == sha256)
        })
    };
    if let Some(q) = ran.iter().find(|q| !this_build(&q.name, &q.sha256)) {
        bail!(
            "the report ran {} with SHA-256 {}, which this build does not run (it is db-admin-report {}; the report was made by {}): re-perform with the release that made it",
            q.name,
            q.sha256,
            dbadmin_contracts::TOOL_VERSION,
            manifest.tool_version
        );
    }
    Ok(ran)
}

/// Collects `target` now, refusing a collection that ran a query text the report did not.
/// Returns the outcome and the attempts it took.
async fn collect_now(
    target: &Target,
    target_id: &str,
    ran: &[&QueryRecord],
    credentials: &dyn CredentialSource,
    connect: &ConnectOptions,
) -> anyhow::Result<(Outcome, u32)> {
    let creds = credentials.credentials(target).await.with_context(|| format!("the login of {target_id}"))?;
    let (outcome, attempts) = engine::collect(target, &creds, connect).await;
    let collected = match outcome {
        Ok(collected) => collected,
        Err(e) => bail!("collecting {target_id} now failed: {e}"),
    };
    let unknown: Vec<&str> = collected
        .queries
        .iter()
        .filter(|q| !ran.iter().any(|r| r.name == q.name && r.sha256 == q.sha256))
        .map(|q| q.name.as_str())
        .collect();
    if !unknown.is_empty() {
        bail!(
            "this collection ran query texts the report did not ({}): the server changed (its privilege columns, its version) or it is another server",
            unknown.join(", ")
        );
    }
    Ok((Outcome::Collected(collected), attempts))
}
