//! Reading reports: `status`, `list`, `download`, `verify`, `diff`, and `retry` of failed targets.

use super::{generate, is_report_id, Ctx};
use crate::args::{DiffFormat, Output, WaitArgs};
use crate::print;
use anyhow::Context;
use db_admin_report::ops::RetryPlan;
use db_admin_report::outcome::{
    Compared, FinalizeSent, Listed, Listing, NothingToRetry, PublicKeyExport, Reperformed, Submitted, Verdict,
};
use db_admin_report::remote::Remote;
use db_admin_report::{diff, verify};
use dbadmin_contracts::baseline::Baseline;
use dbadmin_reporter::render::Row;
use std::path::{Path, PathBuf};

pub fn status(ctx: &Ctx, report_id: &str) -> anyhow::Result<Verdict> {
    ctx.remote(|remote| async move { print::show(&remote.deployment.status(report_id).await?, ctx.output) })
}

pub fn list(ctx: &Ctx, limit: usize) -> anyhow::Result<Verdict> {
    ctx.remote(|remote| async move {
        let runs = remote.deployment.list().await?;
        print::show(&Listing(runs.iter().take(limit).map(Listed::from).collect()), ctx.output)
    })
}

pub fn download(ctx: &Ctx, report_id: &str, version: Option<u32>, out: &Path) -> anyhow::Result<Verdict> {
    ctx.remote(|remote| async move {
        let folder = remote.deployment.download(report_id, version, out).await?;
        // The signature is checked with the deployment's key, read from KMS.
        let (key_id, der) = remote.public_key().await?;
        let key = verify::PublicKey { der, source: key_id };
        print::show(&verify::verify(&folder, Some(&key), None)?, ctx.output)
    })
}

/// The key given, or else the key a local run signs with, if this machine has one.
fn checking_key(public_key: Option<&Path>) -> anyhow::Result<Option<verify::PublicKey>> {
    match public_key {
        Some(path) => Ok(Some(verify::PublicKey::from_file(path)?)),
        None => local_public_key(None),
    }
}

pub fn verify(ctx: &Ctx, path: &Path, public_key: Option<&Path>, previous: Option<&Path>) -> anyhow::Result<Verdict> {
    let key = checking_key(public_key)?;
    print::show(&verify::verify(path, key.as_ref(), previous)?, ctx.output)
}

pub fn walk_chain(ctx: &Ctx, root: &Path, public_key: Option<&Path>) -> anyhow::Result<Verdict> {
    let key = checking_key(public_key)?;
    print::show(&verify::walk_chain(root, key.as_ref())?, ctx.output)
}

/// The public half of the local signing key, if the key file exists.
fn local_public_key(file: Option<PathBuf>) -> anyhow::Result<Option<verify::PublicKey>> {
    let path = db_admin_report::config::signing_key_path(file)?;
    if !path.exists() {
        return Ok(None);
    }
    let (signer, _) = dbadmin_ports::signing::LocalSigner::load_or_create(&path)?;
    let der = signer.public_key_der_now();
    Ok(Some(verify::PublicKey { der, source: format!("the local signing key {}", path.display()) }))
}

pub fn key_export(ctx: &Ctx, local: bool, signing_key: Option<PathBuf>, out: Option<&Path>) -> anyhow::Result<Verdict> {
    let (key_id, der) = if local {
        let path = db_admin_report::config::signing_key_path(signing_key)?;
        let (signer, created) = dbadmin_ports::signing::LocalSigner::load_or_create(&path)?;
        if created {
            eprintln!("Made a new local signing key at {} (mode 0600).", path.display());
        }
        let der = signer.public_key_der_now();
        (dbadmin_ports::signing::local_key_id(&der), der)
    } else {
        ctx.remote(|remote| async move { remote.public_key().await })?
    };
    let pem = dbadmin_ports::signing::public_key_pem(&der);
    if let Some(path) = out {
        std::fs::write(path, &pem).with_context(|| format!("writing {}", path.display()))?;
    }
    let sha256 = dbadmin_contracts::sha256_hex(&der);
    print::show(&PublicKeyExport { key_id, sha256, pem, written_to: out.map(Path::to_path_buf) }, ctx.output)
}

pub fn diff(ctx: &Ctx, a: &str, b: &str, format: DiffFormat, baseline: Option<&Path>) -> anyhow::Result<Verdict> {
    let baseline = match baseline {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            Some(Baseline::parse(&path.display().to_string(), &bytes)?)
        }
        None => None,
    };
    let compare = |a: (String, Vec<Row>), b: (String, Vec<Row>)| {
        let mut d = diff::diff(&a.0, &a.1, &b.0, &b.1);
        if let Some(baseline) = &baseline {
            // On the later report's day: an approval that had expired by then is expired.
            let day = b.1.first().map(|r| r.report_timestamp.clone()).filter(|t| !t.is_empty());
            diff::review(&mut d, baseline, &day.unwrap_or_else(dbadmin_contracts::now_rfc3339));
        }
        Compared::from(d)
    };
    if !is_report_id(a) && !is_report_id(b) {
        let (a, b) = (local_rows(Path::new(a))?, local_rows(Path::new(b))?);
        return print::diff(&compare(a, b), format, ctx.output);
    }
    ctx.remote(|remote| async move {
        let a = rows(&remote, a).await?;
        let b = rows(&remote, b).await?;
        print::diff(&compare(a, b), format, ctx.output)
    })
}

pub fn finalize(ctx: &Ctx, report_id: &str) -> anyhow::Result<Verdict> {
    ctx.remote(|remote| async move {
        let run = remote.deployment.finalize(report_id).await?;
        print::show(&FinalizeSent::new(&run), ctx.output)
    })
}

pub fn retry(ctx: &Ctx, report_id: &str, wait: WaitArgs) -> anyhow::Result<Verdict> {
    ctx.remote(|remote| async move {
        let (request, version, failed) = match remote.deployment.plan_retry(report_id, remote.identity().await?).await?
        {
            RetryPlan::Nothing(run) => return print::show(&NothingToRetry::new(&run), ctx.output),
            RetryPlan::Request { request, version, failed } => (request, version, failed),
        };
        remote.deployment.submit(&request).await?;
        if ctx.output == Output::Text {
            eprintln!("Requested version {version} of {report_id}: {failed} failed target(s) collected again.");
        }
        if wait.no_wait {
            return print::show(&Submitted::new(report_id), ctx.output);
        }
        generate::wait(ctx, &remote, report_id, version, &wait).await
    })
}

/// `REPORT_ID[@N]` from the deployment, or a downloaded report.
async fn rows(remote: &Remote, arg: &str) -> anyhow::Result<(String, Vec<Row>)> {
    if is_report_id(arg) {
        let (id, version) = split_report_id(arg)?;
        remote.deployment.rows(&id, version).await
    } else {
        local_rows(Path::new(arg))
    }
}

fn split_report_id(s: &str) -> anyhow::Result<(String, Option<u32>)> {
    match s.split_once('@') {
        None => Ok((s.to_owned(), None)),
        Some((id, v)) => {
            let v = v
                .trim_start_matches('v')
                .parse()
                .with_context(|| format!("'{s}': the version after @ must be a number"))?;
            Ok((id.to_owned(), Some(v)))
        }
    }
}

/// Rows from a downloaded report: its folder (report.json), a report.json, or a report.csv.
fn local_rows(path: &Path) -> anyhow::Result<(String, Vec<Row>)> {
    let file: PathBuf = if path.is_dir() { path.join(dbadmin_contracts::keys::JSON_NAME) } else { path.to_owned() };
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let rows = if file.extension().is_some_and(|e| e == "csv") {
        dbadmin_reporter::render::from_csv(&bytes).with_context(|| format!("reading {}", file.display()))?
    } else {
        dbadmin_reporter::render::from_json(&bytes).with_context(|| format!("reading {}", file.display()))?
    };
    Ok((path.display().to_string(), rows))
}

pub fn reperform(ctx: &Ctx, r: crate::args::Reperform) -> anyhow::Result<Verdict> {
    // Only a report that verifies is re-performed: its rows are what is compared.
    let key = match &r.public_key {
        Some(path) => Some(verify::PublicKey::from_file(path)?),
        None => local_public_key(None)?,
    };
    let checked = verify::verify(&r.report, key.as_ref(), None)?;
    if !checked.ok() {
        print::show(&checked, ctx.output)?;
        anyhow::bail!("{} does not verify; nothing was re-performed", r.report.display());
    }
    let bytes = std::fs::read(&r.inventory).with_context(|| format!("reading {}", r.inventory.display()))?;
    let inventory = dbadmin_contracts::Inventory::parse(&r.inventory.display().to_string(), &bytes)?;
    let credentials = match &r.secrets_file {
        Some(path) => dbadmin_ports::local::LocalCredentials::from_file(path)?,
        None => dbadmin_ports::local::LocalCredentials::from_env(),
    };
    let connect = dbadmin_collector::ConnectOptions {
        connect_timeout: std::time::Duration::from_secs(r.connect_timeout),
        ca_file: r.tls_ca_file.clone(),
        ..dbadmin_collector::ConnectOptions::default()
    };
    let folder = checked.manifest.parent().map(Path::to_path_buf).unwrap_or_else(|| r.report.clone());
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let done = runtime.block_on(db_admin_report::reperform::reperform(
        &folder,
        &r.target_id,
        &inventory,
        &credentials,
        &connect,
    ))?;
    print::show(&Reperformed::from(done), ctx.output)
}
