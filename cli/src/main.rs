//! `db-admin-report`: request, watch and check database admin-access reports.
//!
//! Glue only: [`args`] defines the command line, [`cmd`] runs each command family over the library
//! (`db_admin_report`), [`print`] prints the results. The exit code is the verdict of what the
//! command answered ([`db_admin_report::outcome`]).

mod args;
mod cmd;
mod print;

use args::{Cli, Command, InventoryCommand, KeyCommand, QueriesCommand};
use clap::{CommandFactory, Parser};
use cmd::Ctx;
use db_admin_report::config;
use db_admin_report::outcome::Verdict;
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    // The config file fills in what the environment does not set; clap then reads flags > env.
    let args: Vec<String> = std::env::args().collect();
    match config::locate(&args).and_then(|p| p.map(|p| config::read(&p)).transpose()) {
        Ok(Some(settings)) => config::apply(&settings),
        Ok(None) => {}
        Err(e) => return fail(&e),
    }
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    match run(cli) {
        Ok(verdict) => ExitCode::from(verdict.code()),
        Err(e) => fail(&e),
    }
}

/// One line with the cause chain, a hint where one helps, and the exit code for the kind of failure.
fn fail(e: &anyhow::Error) -> ExitCode {
    let line = format!("{e:#}");
    eprintln!("error: {line}");
    if let Some(hint) = db_admin_report::hint(&line) {
        eprintln!("hint: {hint}");
    }
    ExitCode::from(Verdict::of_error(e).code())
}

/// Human-readable logs on stderr; colour only when stderr is a terminal.
fn init_tracing(verbose: bool) {
    let filter = if verbose { "info" } else { "error" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DBADMIN_LOG").unwrap_or_else(|_| filter.into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

fn run(cli: Cli) -> anyhow::Result<Verdict> {
    let ctx = Ctx { output: cli.output, verbose: cli.verbose, deployment: cli.deployment };
    match cli.command {
        Command::Generate(g) if g.local => cmd::generate::local(&ctx, g),
        Command::Generate(g) => cmd::generate::remote(&ctx, g),
        Command::Status { report_id } => cmd::reports::status(&ctx, &report_id),
        Command::List { limit } => cmd::reports::list(&ctx, limit),
        Command::Download { report_id, version, out } => cmd::reports::download(&ctx, &report_id, version, &out),
        Command::Verify { path, public_key, previous, chain: false } => {
            cmd::reports::verify(&ctx, &path, public_key.as_deref(), previous.as_deref())
        }
        Command::Verify { path, public_key, chain: true, .. } => {
            cmd::reports::walk_chain(&ctx, &path, public_key.as_deref())
        }
        Command::Key(KeyCommand::Export { local, signing_key, out }) => {
            cmd::reports::key_export(&ctx, local, signing_key, out.as_deref())
        }
        Command::Diff { a, b, format, baseline } => cmd::reports::diff(&ctx, &a, &b, format, baseline.as_deref()),
        Command::Retry { report_id, wait } => cmd::reports::retry(&ctx, &report_id, wait),
        Command::Finalize { report_id } => cmd::reports::finalize(&ctx, &report_id),
        Command::Dlq(command) => cmd::dlq::run(&ctx, command),
        Command::Inventory(InventoryCommand::Validate { file }) => cmd::inventory::validate(&ctx, &file),
        Command::Reperform(r) => cmd::reports::reperform(&ctx, r),
        Command::Queries(QueriesCommand::Show { engine, manifest }) => {
            print::show(&db_admin_report::queries::show(engine, manifest.as_deref())?, ctx.output)
        }
        Command::Inventory(InventoryCommand::Discover { accounts, regions, organization }) => {
            cmd::inventory::discover(&ctx, accounts, regions, organization)
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "db-admin-report", &mut std::io::stdout());
            Ok(Verdict::Ok)
        }
    }
}
