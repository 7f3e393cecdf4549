//! `generate`: a report in this process (`--local`), or requested from the deployment and waited for.

use super::Ctx;
use crate::args::{Generate, Output, WaitArgs};
use crate::print;
use anyhow::{bail, Context};
use db_admin_report::local::{self, LocalOptions};
use db_admin_report::ops::WaitOutcome;
use db_admin_report::outcome::{Submitted, Verdict, Written};
use db_admin_report::remote::Remote;
use db_admin_report::NotReady;
use dbadmin_collector::ConnectOptions;
use dbadmin_contracts::{Filters, ReportRequest, Versioned};
use std::path::PathBuf;
use std::time::Duration;

pub fn local(ctx: &Ctx, g: Generate) -> anyhow::Result<Verdict> {
    let discovery = g.discovery();
    let opts = LocalOptions {
        inventory: PathBuf::from(g.inventory),
        filters: Filters { accounts: g.accounts, regions: g.regions, engines: g.engines },
        output_format: g.output_format.into(),
        out: g.out,
        secrets_file: g.secrets_file,
        concurrency: g.concurrency,
        connect: ConnectOptions {
            connect_timeout: Duration::from_secs(g.connect_timeout),
            query_timeout: Duration::from_secs(g.query_timeout),
            ca_file: g.tls_ca_file,
            min_tls: g.min_tls_mode,
            require_bound_secrets: g.require_bound_secrets,
            login_window_days: g.login_window_days,
            read_local_logs: true,
            ..ConnectOptions::default()
        },
        requested_by: local::local_identity(),
        signing_key: db_admin_report::config::signing_key_path(g.signing_key)?,
        discovery,
        baseline: g.baseline.map(PathBuf::from),
    };
    let bar = print::Bar(print::progress_bar(g.no_progress || ctx.verbose || ctx.output == Output::Json));
    if opts.discovery.is_some() {
        // Discovery reads AWS from this process (a bastion user's credentials or the target role).
        return ctx.remote(|remote| async move {
            let discovery = remote.discovery();
            print::show(&local::run(&opts, &bar, Some(discovery.as_ref())).await?, ctx.output)
        });
    }
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let outcome = runtime.block_on(local::run(&opts, &bar, None))?;
    print::show(&outcome, ctx.output)
}

pub fn remote(ctx: &Ctx, g: Generate) -> anyhow::Result<Verdict> {
    if !g.inventory.starts_with("s3://") && !g.inventory.starts_with("ssm:") {
        bail!("on AWS the inventory must be an s3://bucket/key URI or an ssm:/parameter (ssm:/path/ for one parameter per database) the publisher can read (got '{}'); for a local file add --local", g.inventory);
    }
    if let Some(b) = g.baseline.as_ref().filter(|b| !b.starts_with("s3://")) {
        bail!("on AWS the baseline must be an s3://bucket/key URI the publisher can read, next to the inventory (got '{b}'); for a local file add --local");
    }
    let discovery = g.discovery();
    ctx.remote(|remote| async move {
        let requested_by = remote.identity().await?;
        // Checked here too, so a malformed inventory is reported with its lines and nothing is requested.
        let inventory = remote.inventory(&g.inventory).await?;
        let filters = Filters { accounts: g.accounts, regions: g.regions, engines: g.engines };
        let in_scope = inventory.targets.iter().filter(|t| filters.admits_target(t)).count();
        if let Some(uri) = &g.baseline {
            remote.baseline(uri).await?;
        }
        let request = ReportRequest {
            schema_version: ReportRequest::SCHEMA_VERSION,
            report_id: ulid::Ulid::new().to_string(),
            requested_by,
            requested_at: dbadmin_contracts::now_rfc3339(),
            inventory: g.inventory,
            filters,
            output_format: g.output_format.into(),
            retry: None,
            discovery,
            baseline: g.baseline,
        };
        remote.deployment.submit(&request).await?;
        if ctx.output == Output::Text {
            eprintln!("Requested report {} for {in_scope} database(s) as {}.", request.report_id, request.requested_by);
        }
        if g.wait.no_wait {
            return print::show(&Submitted::new(&request.report_id), ctx.output);
        }
        wait(ctx, &remote, &request.report_id, 1, &g.wait).await
    })
}

/// Waits for `version` of a report with a progress bar and prints the outcome.
pub async fn wait(
    ctx: &Ctx,
    remote: &Remote,
    report_id: &str,
    version: u32,
    wait: &WaitArgs,
) -> anyhow::Result<Verdict> {
    let bar = print::RunBar(print::progress_bar(ctx.verbose || ctx.output == Output::Json));
    bar.0.enable_steady_tick(Duration::from_millis(200));
    let outcome = remote.deployment.wait(report_id, version, Duration::from_secs(wait.timeout), &bar).await?;
    bar.0.finish_and_clear();
    match outcome {
        WaitOutcome::Done(run) => {
            // The manifest says whether any database was read without verifying the server, and
            // how the population reconciled with what AWS lists.
            let (tls_warning, reconciliation, baseline) =
                match remote.deployment.manifest(report_id, Some(run.reported_version)).await {
                    Ok((.., manifest)) => (manifest.tls_warning, manifest.reconciliation, manifest.baseline),
                    Err(e) => {
                        (Some(format!("the manifest could not be read to check the TLS modes used: {e:#}")), None, None)
                    }
                };
            print::show(&Written::new(&run, tls_warning, reconciliation, baseline), ctx.output)
        }
        WaitOutcome::TimedOut(run) => {
            let progress =
                run.map(|r| format!("{} of {} done", r.completed, r.total)).unwrap_or_else(|| "not started".into());
            bail!(NotReady(format!(
                "report {report_id} is still running after {} s ({progress}); follow it with `db-admin-report status {report_id}`",
                wait.timeout
            )))
        }
    }
}
