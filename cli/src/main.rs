//! `db-admin-report`: request, watch and check database admin-access reports.

mod aws;

use anyhow::Context;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use db_admin_report::local::{self, LocalOptions, Progress};
use db_admin_report::{config, diff, exit, verify, NotReady};
use dbadmin_collector::ConnectOptions;
use dbadmin_contracts::{Engine, Filters, Inventory, OutputFormat};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const AFTER_HELP: &str = "\
Exit codes:
  0  success: every target was read
  1  failure: nothing trustworthy was produced (the error says why)
  2  usage error
  3  partial: a report was written, but some targets are error rows
  4  not ready: the report is still running, or waiting for it timed out

Configuration: flags, then DBADMIN_* environment variables, then the config file
(--config, DBADMIN_CONFIG, or ~/.config/db-admin-report/config.toml; TOML keyed by
the variables' names, e.g. DBADMIN_REQUESTS_QUEUE_URL = \"https://sqs...\").
AWS credentials come from the standard chain (AWS_PROFILE, environment, SSO, role).

Examples:
  db-admin-report generate --local --inventory inventory.csv --secrets-file secrets.json
  db-admin-report generate --inventory s3://my-bucket/inventory.csv --engines mysql,postgres
  db-admin-report generate --inventory s3://my-bucket/inventory.csv --no-wait --output json
  db-admin-report status 01JD3Q5W0000000000000000
  db-admin-report list --limit 10
  db-admin-report download 01JD3Q5W0000000000000000 --out ./evidence
  db-admin-report verify ./evidence/01JD3Q5W0000000000000000/v1
  db-admin-report dlq list
  db-admin-report dlq redrive --report 01JD3Q5W0000000000000000 --dry-run
  db-admin-report retry 01JD3Q5W0000000000000000
  db-admin-report diff ./evidence/01JC.../v1 01JD3Q5W0000000000000000 --format csv > review.csv
  db-admin-report inventory validate s3://my-bucket/inventory.csv
  db-admin-report completions bash > /etc/bash_completion.d/db-admin-report";

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

    /// A configuration file (TOML keyed by DBADMIN_* names); read before the environment is consulted.
    #[arg(long, global = true, env = "DBADMIN_CONFIG")]
    config: Option<PathBuf>,

    #[command(flatten)]
    deployment: Deployment,

    #[command(subcommand)]
    command: Command,
}

/// Where the AWS deployment is (terraform output cli_config).
#[derive(Args, Debug, Clone)]
struct Deployment {
    /// The requests queue the publisher reads.
    #[arg(long, global = true, env = "DBADMIN_REQUESTS_QUEUE_URL", hide_env_values = true)]
    requests_queue_url: Option<String>,
    /// The evidence bucket.
    #[arg(long, global = true, env = "DBADMIN_BUCKET")]
    bucket: Option<String>,
    /// The run table.
    #[arg(long, global = true, env = "DBADMIN_TABLE")]
    table: Option<String>,
    /// The collection queue (where `dlq redrive` sends jobs back).
    #[arg(long, global = true, env = "DBADMIN_COLLECT_QUEUE_URL", hide_env_values = true)]
    collect_queue_url: Option<String>,
    /// The collection dead-letter queue.
    #[arg(long, global = true, env = "DBADMIN_COLLECT_DLQ_URL", hide_env_values = true)]
    collect_dlq_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Request a report and wait for it (on AWS, or with --local in this process).
    Generate(Generate),
    /// A report's progress: counts, targets still missing or failed and why, its DLQ messages.
    Status {
        /// The report id `generate` printed.
        report_id: String,
    },
    /// Recent reports with their state, newest first.
    List {
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Fetch a report's artifacts and check each SHA-256 against the manifest.
    Download {
        report_id: String,
        /// The version (default: the newest).
        #[arg(long)]
        version: Option<u32>,
        /// The folder to write REPORT_ID/vN/ under.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Check a downloaded report's artifacts against its manifest, offline.
    Verify {
        /// The report folder, or its manifest.json.
        path: PathBuf,
    },
    /// Inspect and redrive the collection dead-letter queue.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Collect a finished report's failed targets again and write its next version.
    Retry {
        report_id: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Who gained, lost or changed admin access between two reports.
    Diff {
        /// The earlier report: a downloaded folder, a report.json/.csv, or REPORT_ID[@VERSION].
        a: String,
        /// The later report, the same way.
        b: String,
        /// Readable text, or CSV for a spreadsheet (--output json gives JSON).
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
    },
    /// Work with inventories.
    #[command(subcommand)]
    Inventory(InventoryCommand),
    /// Print a shell completion script.
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    Text,
    Csv,
}

#[derive(Args, Debug, Clone)]
struct WaitArgs {
    /// Print the report id and return instead of waiting.
    #[arg(long)]
    no_wait: bool,
    /// Stop waiting after this many seconds (exit code 4; the report goes on).
    #[arg(long, default_value_t = 1800, env = "DBADMIN_WAIT_TIMEOUT")]
    timeout: u64,
}

#[derive(Subcommand, Debug)]
enum DlqCommand {
    /// Each message's report, target and last error, without consuming it.
    List {
        /// Read at most this many messages.
        #[arg(long, default_value_t = 1000)]
        max: usize,
    },
    /// Move messages back to the collection queue (receive, send, then delete: never loses one).
    Redrive {
        /// Only this report's jobs.
        #[arg(long)]
        report: Option<String>,
        /// Only this target's jobs.
        #[arg(long)]
        target: Option<String>,
        /// Show what would move; move nothing.
        #[arg(long)]
        dry_run: bool,
        /// Seconds a message being moved stays hidden; after an interruption it reappears in the DLQ then.
        #[arg(long, default_value_t = 60)]
        visibility_timeout: u64,
        /// Move at most this many messages.
        #[arg(long, default_value_t = 1000)]
        max: usize,
        /// Instead, start SQS's own StartMessageMoveTask for the whole queue (where the service has it).
        #[arg(long, conflicts_with_all = ["report", "target", "dry_run"])]
        move_task: bool,
    },
}

#[derive(Subcommand, Debug)]
enum InventoryCommand {
    /// Validate an inventory (a file or s3://bucket/key) and print every problem with its line and field.
    Validate {
        /// The inventory CSV.
        file: String,
    },
}

#[derive(Args, Debug)]
struct Generate {
    /// Run everything in this process, with no AWS: results and reports go to --out.
    #[arg(long)]
    local: bool,

    /// The inventory CSV (one database per row): a file with --local, else an s3://bucket/key URI.
    #[arg(long, env = "DBADMIN_INVENTORY")]
    inventory: String,

    #[command(flatten)]
    wait: WaitArgs,

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

impl Deployment {
    #[cfg(feature = "aws")]
    fn config(&self) -> db_admin_report::remote::RemoteConfig {
        db_admin_report::remote::RemoteConfig {
            requests_queue_url: self.requests_queue_url.clone(),
            bucket: self.bucket.clone(),
            table: self.table.clone(),
            collect_queue_url: self.collect_queue_url.clone(),
            collect_dlq_url: self.collect_dlq_url.clone(),
        }
    }
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
        Ok(code) => ExitCode::from(code),
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
    if e.downcast_ref::<NotReady>().is_some() {
        ExitCode::from(exit::NOT_READY)
    } else {
        ExitCode::from(exit::FAILURE)
    }
}

fn init_tracing(verbose: bool) {
    let filter = if verbose { "info" } else { "error" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DBADMIN_LOG").unwrap_or_else(|_| filter.into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let output = cli.output;
    match cli.command {
        Command::Generate(g) if g.local => generate_local(g, output, cli.verbose),
        Command::Inventory(InventoryCommand::Validate { file }) if !file.starts_with("s3://") => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {file}"))?;
            report_inventory(&file, Inventory::parse(&file, &bytes), output)
        }
        Command::Verify { path } => verify_report(&path, output),
        Command::Diff { a, b, format } if !is_report_id(&a) && !is_report_id(&b) => {
            let (a, b) = (local_rows(Path::new(&a))?, local_rows(Path::new(&b))?);
            print_diff(&diff::diff(&a.0, &a.1, &b.0, &b.1), format, output)
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "db-admin-report", &mut std::io::stdout());
            Ok(exit::OK)
        }
        command => aws::run(command, &cli.deployment, output, cli.verbose),
    }
}

/// `ID` or `ID@N` / `ID@vN`, as opposed to a path that exists.
fn is_report_id(s: &str) -> bool {
    !Path::new(s).exists()
        && s.split('@')
            .next()
            .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

#[cfg_attr(not(feature = "aws"), allow(dead_code))]
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
fn local_rows(path: &Path) -> anyhow::Result<(String, Vec<dbadmin_reporter::render::Row>)> {
    let file = if path.is_dir() { path.join(dbadmin_contracts::keys::JSON_NAME) } else { path.to_owned() };
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let rows = if file.extension().is_some_and(|e| e == "csv") {
        dbadmin_reporter::render::from_csv(&bytes).with_context(|| format!("reading {}", file.display()))?
    } else {
        dbadmin_reporter::render::from_json(&bytes).with_context(|| format!("reading {}", file.display()))?
    };
    Ok((path.display().to_string(), rows))
}

fn print_diff(d: &diff::Diff, format: DiffFormat, output: Output) -> anyhow::Result<u8> {
    match (output, format) {
        (Output::Json, _) => {
            print_json(&serde_json::json!({"a": d.a, "b": d.b, "counts": d.counts(), "changes": d.changes}))?
        }
        (_, DiffFormat::Csv) => {
            use std::io::Write;
            std::io::stdout().write_all(&diff::to_csv(d)).context("writing to stdout")?;
        }
        (_, DiffFormat::Text) => print!("{}", diff::to_text(d)),
    }
    Ok(exit::OK)
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

fn progress_bar(hidden: bool, template: &str) -> indicatif::ProgressBar {
    if hidden {
        return indicatif::ProgressBar::hidden();
    }
    let style = indicatif::ProgressStyle::with_template(template).expect("static template");
    indicatif::ProgressBar::new(0).with_style(style)
}

fn generate_local(g: Generate, output: Output, verbose: bool) -> anyhow::Result<u8> {
    let opts = LocalOptions {
        inventory: PathBuf::from(g.inventory),
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
    let bar = progress_bar(
        g.no_progress || verbose || output == Output::Json,
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} databases, {msg}",
    );
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

fn report_inventory(
    name: &str,
    parsed: Result<Inventory, dbadmin_contracts::InventoryError>,
    output: Output,
) -> anyhow::Result<u8> {
    match parsed {
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
                    println!("{name}: valid, {} targets ({})", inv.targets.len(), engines.join(", "));
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
