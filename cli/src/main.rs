//! `db-admin-report`: request, watch and check database admin-access reports.

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use db_admin_report::local::{self, LocalOptions, Progress};
use db_admin_report::{exit, verify};
use dbadmin_collector::ConnectOptions;
use dbadmin_contracts::{Engine, Filters, Inventory, OutputFormat};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const AFTER_HELP: &str = "\
Exit codes:
  0  success: every target was read
  1  failure: nothing trustworthy was produced
  2  usage error
  3  partial: a report was written, but some targets are error rows

Examples:
  db-admin-report generate --local --inventory inventory.csv --secrets-file secrets.json
  db-admin-report generate --local --inventory inventory.csv --engines mysql,postgres --accounts 123456789012
  db-admin-report inventory validate inventory.csv
  db-admin-report verify ./db-admin-report-output/reports/2026/11/22/01JD.../v1";

/// Proves who holds administrator access on every database, across AWS accounts and regions.
#[derive(Parser, Debug)]
#[command(name = "db-admin-report", version, after_help = AFTER_HELP)]
struct Cli {
    /// Log what happens to stderr (turns the progress bar off).
    #[arg(long, short, global = true, env = "DBADMIN_VERBOSE")]
    verbose: bool,

    /// Print results as text for people or JSON for scripts.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text, env = "DBADMIN_OUTPUT")]
    output: Output,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Request a report and wait for it.
    Generate(Generate),
    /// Work with inventories.
    #[command(subcommand)]
    Inventory(InventoryCommand),
    /// Check a downloaded report's artifacts against its manifest, offline.
    Verify {
        /// The report folder, or its manifest.json.
        path: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum InventoryCommand {
    /// Validate an inventory file and print every problem with its line and field.
    Validate {
        /// The inventory CSV.
        file: PathBuf,
    },
}

#[derive(Args, Debug)]
struct Generate {
    /// Run everything in this process, with no AWS: results and reports go to --out.
    #[arg(long)]
    local: bool,

    /// The inventory CSV (one database per row).
    #[arg(long, env = "DBADMIN_INVENTORY")]
    inventory: PathBuf,

    /// Only these AWS account ids (comma-separated).
    #[arg(long, value_delimiter = ',', env = "DBADMIN_ACCOUNTS")]
    accounts: Vec<String>,

    /// Only these regions (comma-separated).
    #[arg(long, value_delimiter = ',', env = "DBADMIN_REGIONS")]
    regions: Vec<String>,

    /// Only these engines (comma-separated): sqlserver, mysql, mariadb, postgres.
    #[arg(long, value_delimiter = ',', value_parser = parse_engine, env = "DBADMIN_ENGINES")]
    engines: Vec<Engine>,

    /// Which artifact to point at when done (CSV, JSON and the manifest are always written).
    #[arg(long, value_enum, default_value_t = Format::Csv, env = "DBADMIN_OUTPUT_FORMAT")]
    output_format: Format,

    /// Where a local run writes results and reports.
    #[arg(long, default_value = "db-admin-report-output", env = "DBADMIN_OUT")]
    out: PathBuf,

    /// Local logins: a JSON object of secret name to {"username", "password"}; must be chmod 600.
    /// Without it, DBADMIN_SECRET_<NAME> environment variables are read.
    #[arg(long, env = "DBADMIN_SECRETS_FILE")]
    secrets_file: Option<PathBuf>,

    /// Extra trusted CA certificates (PEM) for database TLS, e.g. the RDS CA bundle.
    #[arg(long, env = "DBADMIN_TLS_CA_FILE")]
    tls_ca_file: Option<PathBuf>,

    /// Databases read at once.
    #[arg(long, default_value_t = 16, env = "DBADMIN_CONCURRENCY")]
    concurrency: usize,

    /// Seconds to wait for a connection.
    #[arg(long, default_value_t = 10, env = "DBADMIN_CONNECT_TIMEOUT")]
    connect_timeout: u64,

    /// Seconds to wait for each catalog query.
    #[arg(long, default_value_t = 30, env = "DBADMIN_QUERY_TIMEOUT")]
    query_timeout: u64,

    /// Do not draw a progress bar.
    #[arg(long)]
    no_progress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Csv,
    Json,
}

fn parse_engine(s: &str) -> Result<Engine, String> {
    s.trim().parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::FAILURE)
        }
    }
}

fn init_tracing(verbose: bool) {
    let filter = if verbose { "info" } else { "error" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DBADMIN_LOG").unwrap_or_else(|_| filter.into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Generate(g) => generate(g, cli.output, cli.verbose),
        Command::Inventory(InventoryCommand::Validate { file }) => validate_inventory(&file, cli.output),
        Command::Verify { path } => verify_report(&path, cli.output),
    }
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn start(&self, total: usize) {
        self.0.set_length(total as u64);
        self.0.reset_elapsed();
    }
    fn advance(&self, done: usize, errors: usize) {
        self.0.set_position(done as u64);
        self.0.set_message(format!("{errors} error{}", if errors == 1 { "" } else { "s" }));
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

fn generate(g: Generate, output: Output, verbose: bool) -> anyhow::Result<u8> {
    if !g.local {
        bail!("only local runs are available in this build: add --local (the AWS deployment is not part of it yet)");
    }
    let opts = LocalOptions {
        inventory: g.inventory,
        filters: Filters { accounts: g.accounts, regions: g.regions, engines: g.engines },
        output_format: match g.output_format {
            Format::Csv => OutputFormat::Csv,
            Format::Json => OutputFormat::Json,
        },
        out: g.out,
        secrets_file: g.secrets_file,
        concurrency: g.concurrency,
        connect: ConnectOptions {
            connect_timeout: Duration::from_secs(g.connect_timeout),
            query_timeout: Duration::from_secs(g.query_timeout),
            ca_file: g.tls_ca_file,
            ..ConnectOptions::default()
        },
        requested_by: local::local_identity(),
    };
    let bar = if g.no_progress || verbose || output == Output::Json {
        indicatif::ProgressBar::hidden()
    } else {
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} databases, {msg}",
        )
        .expect("static template");
        indicatif::ProgressBar::new(0).with_style(style)
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let outcome = runtime.block_on(local::run(&opts, &Bar(bar)))?;
    match output {
        Output::Json => print_json(&outcome)?,
        Output::Text => {
            eprintln!(
                "Report {} v{}: {} databases, {} with errors, {} rows.",
                outcome.report_id, outcome.version, outcome.population, outcome.errors, outcome.rows
            );
            eprintln!("Manifest: {}", outcome.manifest);
            println!("{}", outcome.report);
        }
    }
    Ok(if outcome.errors > 0 { exit::PARTIAL } else { exit::OK })
}

fn validate_inventory(file: &std::path::Path, output: Output) -> anyhow::Result<u8> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    match Inventory::parse(&file.display().to_string(), &bytes) {
        Ok(inv) => {
            let mut by_engine = std::collections::BTreeMap::new();
            for t in &inv.targets {
                *by_engine.entry(t.engine.to_string()).or_insert(0usize) += 1;
            }
            match output {
                Output::Json => print_json(
                    &serde_json::json!({"valid": true, "targets": inv.targets.len(), "by_engine": by_engine, "sha256": inv.sha256}),
                )?,
                Output::Text => {
                    let engines: Vec<String> = by_engine.iter().map(|(e, n)| format!("{n} {e}")).collect();
                    println!("{}: valid, {} targets ({})", file.display(), inv.targets.len(), engines.join(", "));
                }
            }
            Ok(exit::OK)
        }
        Err(err) => {
            match output {
                Output::Json => print_json(&serde_json::json!({
                    "valid": false,
                    "problems": err.issues.iter().map(|i| serde_json::json!({"file": i.file, "line": i.line, "field": i.field, "message": i.message})).collect::<Vec<_>>(),
                }))?,
                Output::Text => eprintln!("error: {err}"),
            }
            Ok(exit::FAILURE)
        }
    }
}

fn verify_report(path: &std::path::Path, output: Output) -> anyhow::Result<u8> {
    let v = verify::verify(path)?;
    match output {
        Output::Json => print_json(&v)?,
        Output::Text => {
            for a in &v.artifacts {
                match &a.problem {
                    None => println!("ok       {}", a.name),
                    Some(p) => println!("MISMATCH {}: {p}", a.name),
                }
            }
            println!("{} v{}: {}", v.report_id, v.version, if v.ok() { "ok" } else { "FAILED" });
        }
    }
    Ok(if v.ok() { exit::OK } else { exit::FAILURE })
}
