//! Printing for the commands that need the AWS deployment. Without the `aws` feature they refuse.

use super::{Command, Deployment, Output};

#[cfg(not(feature = "aws"))]
pub fn run(_: Command, _: &Deployment, _: Output, _: bool) -> anyhow::Result<u8> {
    anyhow::bail!(
        "this build has no AWS support (built without the `aws` feature); use --local, or build with default features"
    )
}

#[cfg(feature = "aws")]
pub use with_aws::run;

#[cfg(feature = "aws")]
mod with_aws {
    use super::super::{
        is_report_id, local_rows, print_diff, print_json, progress_bar, report_inventory, split_report_id,
        verify_report, DlqCommand, Format, Generate, InventoryCommand, WaitArgs,
    };
    use super::{Command, Deployment, Output};
    use anyhow::{bail, Context};
    use db_admin_report::remote::{state, Remote, WaitOutcome, WaitProgress};
    use db_admin_report::{diff, exit, NotReady};
    use dbadmin_contracts::{Filters, OutputFormat, ReportRequest, Retry, Versioned};
    use dbadmin_ports::RunRecord;
    use std::path::Path;
    use std::time::Duration;

    pub fn run(command: Command, deployment: &Deployment, output: Output, verbose: bool) -> anyhow::Result<u8> {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
        runtime.block_on(async move {
            let remote = Remote::connect(deployment.config()).await;
            match command {
                Command::Generate(g) => generate(&remote, g, output, verbose).await,
                Command::Status { report_id } => status(&remote, &report_id, output).await,
                Command::List { limit } => list(&remote, limit, output).await,
                Command::Download { report_id, version, out } => {
                    let folder = remote.download(&report_id, version, &out).await?;
                    verify_report(&folder, output)
                }
                Command::Dlq(DlqCommand::List { max }) => dlq_list(&remote, max, output).await,
                Command::Dlq(DlqCommand::Redrive { report, target, dry_run, visibility_timeout, max, move_task }) => {
                    if move_task {
                        let handle = remote.dlq_move_task().await?;
                        match output {
                            Output::Json => print_json(&serde_json::json!({"task_handle": handle}))?,
                            Output::Text => println!("Started a message move task: {handle}"),
                        }
                        return Ok(exit::OK);
                    }
                    let hold = Duration::from_secs(visibility_timeout);
                    let r = remote.dlq_redrive(report.as_deref(), target.as_deref(), dry_run, hold, max).await?;
                    match output {
                        Output::Json => print_json(&r)?,
                        Output::Text => {
                            let verb = if r.dry_run { "would move" } else { "moved" };
                            for m in &r.moved {
                                println!(
                                    "{verb} {} (report {}, target {})",
                                    m.message_id,
                                    m.report_id.as_deref().unwrap_or("-"),
                                    m.target_id.as_deref().unwrap_or("-")
                                );
                            }
                            println!("{} message(s) {verb}, {} left in the dead-letter queue", r.moved.len(), r.left);
                        }
                    }
                    Ok(exit::OK)
                }
                Command::Retry { report_id, wait } => retry(&remote, &report_id, wait, output, verbose).await,
                Command::Diff { a, b, format } => {
                    let a = rows(&remote, &a).await?;
                    let b = rows(&remote, &b).await?;
                    print_diff(&diff::diff(&a.0, &a.1, &b.0, &b.1), format, output)
                }
                Command::Inventory(InventoryCommand::Validate { file }) => match remote.inventory(&file).await {
                    Ok(inv) => report_inventory(&file, Ok(inv), output),
                    Err(e) => match e.downcast::<dbadmin_contracts::InventoryError>() {
                        Ok(invalid) => report_inventory(&file, Err(invalid), output),
                        Err(e) => Err(e),
                    },
                },
                Command::Verify { .. } | Command::Completions { .. } => unreachable!("handled without AWS"),
            }
        })
    }

    async fn rows(remote: &Remote, arg: &str) -> anyhow::Result<(String, Vec<dbadmin_reporter::render::Row>)> {
        if is_report_id(arg) {
            let (id, version) = split_report_id(arg)?;
            remote.rows(&id, version).await
        } else {
            local_rows(Path::new(arg))
        }
    }

    struct RunBar(indicatif::ProgressBar);

    impl WaitProgress for RunBar {
        fn update(&self, run: Option<&RunRecord>) {
            match run {
                None => self.0.set_message("waiting for the publisher to pick up the request"),
                Some(run) => {
                    self.0.set_length(run.total);
                    self.0.set_position(run.completed);
                    let errors = if run.failed == 1 { "1 error".to_owned() } else { format!("{} errors", run.failed) };
                    self.0.set_message(format!("{errors}, {}", state(run)));
                }
            }
            self.0.tick();
        }
    }

    /// Waits for `version` of a report and prints the outcome.
    async fn wait_and_print(
        remote: &Remote,
        report_id: &str,
        version: u32,
        wait: &WaitArgs,
        output: Output,
        verbose: bool,
    ) -> anyhow::Result<u8> {
        let bar = RunBar(progress_bar(
            verbose || output == Output::Json,
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} databases, {msg}",
        ));
        bar.0.enable_steady_tick(Duration::from_millis(200));
        let outcome = remote.wait(report_id, version, Duration::from_secs(wait.timeout), &bar).await?;
        bar.0.finish_and_clear();
        match outcome {
            WaitOutcome::Done(run) => {
                let location = run.report_location.clone().unwrap_or_default();
                match output {
                    Output::Json => print_json(&serde_json::json!({
                        "report_id": run.report_id, "version": run.reported_version, "state": state(&run),
                        "total": run.total, "completed": run.completed, "failed": run.failed, "report": location,
                    }))?,
                    Output::Text => {
                        eprintln!(
                            "Report {} v{}: {} databases, {} with errors.",
                            run.report_id, run.reported_version, run.total, run.failed
                        );
                        println!("{location}");
                    }
                }
                Ok(if run.failed > 0 { exit::PARTIAL } else { exit::OK })
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

    fn print_submitted(report_id: &str, output: Output) -> anyhow::Result<u8> {
        match output {
            Output::Json => print_json(&serde_json::json!({"report_id": report_id, "state": "requested"}))?,
            Output::Text => println!("{report_id}"),
        }
        Ok(exit::OK)
    }

    async fn generate(remote: &Remote, g: Generate, output: Output, verbose: bool) -> anyhow::Result<u8> {
        if !g.inventory.starts_with("s3://") {
            bail!("on AWS the inventory must be an s3://bucket/key URI the publisher can read (got '{}'); for a local file add --local", g.inventory);
        }
        let requested_by = remote.identity().await?;
        // Checked here too, so a malformed inventory is reported with its lines and nothing is requested.
        let inventory = remote.inventory(&g.inventory).await?;
        let filters = Filters { accounts: g.accounts, regions: g.regions, engines: g.engines };
        let in_scope = inventory.targets.iter().filter(|t| filters.matches(t)).count();
        let request = ReportRequest {
            schema_version: ReportRequest::SCHEMA_VERSION,
            report_id: ulid::Ulid::new().to_string(),
            requested_by,
            requested_at: dbadmin_contracts::now_rfc3339(),
            inventory: g.inventory,
            filters,
            output_format: match g.output_format {
                Format::Csv => OutputFormat::Csv,
                Format::Json => OutputFormat::Json,
            },
            retry: None,
        };
        remote.submit(&request).await?;
        if output == Output::Text {
            eprintln!("Requested report {} for {in_scope} database(s) as {}.", request.report_id, request.requested_by);
        }
        if g.wait.no_wait {
            return print_submitted(&request.report_id, output);
        }
        wait_and_print(remote, &request.report_id, 1, &g.wait, output, verbose).await
    }

    async fn retry(
        remote: &Remote,
        report_id: &str,
        wait: WaitArgs,
        output: Output,
        verbose: bool,
    ) -> anyhow::Result<u8> {
        let run = remote.run(report_id).await?;
        if state(&run) != "complete" {
            bail!(NotReady(format!(
                "report {report_id} is {} ({} of {} done); retry it once it is complete",
                state(&run),
                run.completed,
                run.total
            )));
        }
        if run.failed == 0 {
            match output {
                Output::Json => print_json(
                    &serde_json::json!({"report_id": report_id, "retried": 0, "version": run.reported_version}),
                )?,
                Output::Text => {
                    println!("Nothing to retry: every target of {report_id} v{} was read.", run.reported_version)
                }
            }
            return Ok(exit::OK);
        }
        let request = ReportRequest {
            schema_version: ReportRequest::SCHEMA_VERSION,
            report_id: report_id.to_owned(),
            requested_by: remote.identity().await?,
            requested_at: dbadmin_contracts::now_rfc3339(),
            inventory: format!("retry of {report_id} v{}", run.reported_version),
            filters: Filters::default(),
            output_format: OutputFormat::default(),
            retry: Some(Retry { generation: run.reported_version }),
        };
        remote.submit(&request).await?;
        if output == Output::Text {
            eprintln!(
                "Requested version {} of {report_id}: {} failed target(s) collected again.",
                run.reported_version + 1,
                run.failed
            );
        }
        if wait.no_wait {
            return print_submitted(report_id, output);
        }
        wait_and_print(remote, report_id, run.reported_version + 1, &wait, output, verbose).await
    }

    async fn status(remote: &Remote, report_id: &str, output: Output) -> anyhow::Result<u8> {
        let s = remote.status(report_id).await?;
        match output {
            Output::Json => print_json(&s)?,
            Output::Text => {
                println!("Report {} ({}), requested by {} at {}", s.report_id, s.state, s.requested_by, s.requested_at);
                println!(
                    "Version {}: {} of {} databases done, {} with errors",
                    s.version, s.completed, s.total, s.failed
                );
                if let Some(l) = &s.report_location {
                    println!("Newest report (v{}): {l}", s.reported_version);
                }
                for m in &s.missing {
                    match &m.last_error {
                        Some(e) => println!(
                            "  missing {}: last error ({} attempt(s), {}): {}",
                            m.target_id, e.attempts, e.at, e.error
                        ),
                        None => println!("  missing {}: not collected yet", m.target_id),
                    }
                }
                for f in &s.failed_targets {
                    println!("  error   {}: {}: {}", f.target_id, f.error_kind, f.reason);
                }
                if let Some(n) = s.dlq_messages {
                    println!("Dead-letter queue: {n} message(s) of this report");
                }
            }
        }
        Ok(match s.state {
            "complete" if s.failed > 0 => exit::PARTIAL,
            "complete" => exit::OK,
            _ => exit::NOT_READY,
        })
    }

    async fn list(remote: &Remote, limit: usize, output: Output) -> anyhow::Result<u8> {
        let runs: Vec<RunRecord> = remote.list().await?.into_iter().take(limit).collect();
        match output {
            Output::Json => {
                let rows: Vec<_> = runs
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "report_id": r.report_id, "state": state(r), "requested_by": r.requested_by,
                            "requested_at": r.requested_at, "version": r.reported_version, "total": r.total,
                            "completed": r.completed, "failed": r.failed, "report": r.report_location,
                        })
                    })
                    .collect();
                print_json(&rows)?
            }
            Output::Text => {
                println!(
                    "{:<26}  {:<20}  {:<10}  {:>3}  {:>11}  {:>6}  REQUESTED BY",
                    "REPORT", "REQUESTED AT", "STATE", "VER", "DONE", "ERRORS"
                );
                for r in &runs {
                    println!(
                        "{:<26}  {:<20}  {:<10}  {:>3}  {:>11}  {:>6}  {}",
                        r.report_id,
                        r.requested_at,
                        state(r),
                        r.reported_version,
                        format!("{}/{}", r.completed, r.total),
                        r.failed,
                        r.requested_by
                    );
                }
            }
        }
        Ok(exit::OK)
    }

    async fn dlq_list(remote: &Remote, max: usize, output: Output) -> anyhow::Result<u8> {
        let messages = remote.dlq_list(max).await?;
        match output {
            Output::Json => print_json(&messages)?,
            Output::Text => {
                for m in &messages {
                    println!(
                        "{}  report {}  target {}  received {}x  sent {}\n    last error: {}",
                        m.message_id,
                        m.report_id.as_deref().unwrap_or("-"),
                        m.target_id.as_deref().unwrap_or("-"),
                        m.receive_count.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
                        m.sent_at.as_deref().unwrap_or("?"),
                        m.last_error.as_deref().unwrap_or("none recorded")
                    );
                }
                println!("{} message(s) in the dead-letter queue", messages.len());
            }
        }
        Ok(exit::OK)
    }
}
