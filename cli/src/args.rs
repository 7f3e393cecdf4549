//! The command line: every command, flag and environment variable, with its help text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use dbadmin_contracts::{Engine, OutputFormat};
use std::path::PathBuf;

pub const AFTER_HELP: &str = "\
Exit codes:
  0  success: every target was read
  1  failure: nothing trustworthy was produced (the error says why)
  2  usage error
  3  partial: a report was written, but some targets are error rows or discovery
     found the inventory incomplete; reperform found a difference; queries show
     --manifest found a query this build does not run; inventory discover could
     not list an account, a region or the organization
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
  db-admin-report verify ./evidence/01JD3Q5W0000000000000000/v1 --public-key signing-key.pub.pem
  db-admin-report dlq list
  db-admin-report dlq list --queue finalize
  db-admin-report finalize 01JD3Q5W0000000000000000
  db-admin-report dlq redrive --report 01JD3Q5W0000000000000000 --dry-run
  db-admin-report retry 01JD3Q5W0000000000000000
  db-admin-report diff ./evidence/01JC.../v1 01JD3Q5W0000000000000000 --format csv > review.csv
  db-admin-report inventory validate s3://my-bucket/inventory.csv
  db-admin-report completions bash > /etc/bash_completion.d/db-admin-report";

/// Proves who holds administrator access on every database, across AWS accounts and regions.
#[derive(Parser, Debug)]
#[command(name = "db-admin-report", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Log what happens to stderr (turns the progress bar off).
    #[arg(long, short, global = true, env = "DBADMIN_VERBOSE", help_heading = "Global options")]
    pub verbose: bool,

    /// Print results as text for people or JSON for scripts.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text, env = "DBADMIN_OUTPUT", help_heading = "Global options")]
    pub output: Output,

    /// A configuration file (TOML keyed by DBADMIN_* names); read before the environment is consulted.
    #[arg(long, global = true, env = "DBADMIN_CONFIG", help_heading = "Global options")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub deployment: Deployment,

    #[command(subcommand)]
    pub command: Command,
}

/// Where the AWS deployment is (terraform output cli_config).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Deployment (AWS; terraform output cli_config, or DBADMIN_* in the environment)")]
pub struct Deployment {
    /// The requests queue the publisher reads.
    #[arg(long, global = true, env = "DBADMIN_REQUESTS_QUEUE_URL", hide_env_values = true)]
    pub requests_queue_url: Option<String>,
    /// The evidence bucket.
    #[arg(long, global = true, env = "DBADMIN_BUCKET")]
    pub bucket: Option<String>,
    /// The run table.
    #[arg(long, global = true, env = "DBADMIN_TABLE")]
    pub table: Option<String>,
    /// The collection queue (where `dlq redrive` sends jobs back).
    #[arg(long, global = true, env = "DBADMIN_COLLECT_QUEUE_URL", hide_env_values = true)]
    pub collect_queue_url: Option<String>,
    /// The collection dead-letter queue.
    #[arg(long, global = true, env = "DBADMIN_COLLECT_DLQ_URL", hide_env_values = true)]
    pub collect_dlq_url: Option<String>,
    /// The finalize queue (where `finalize` sends a report's finalize message again).
    #[arg(long, global = true, env = "DBADMIN_FINALIZE_QUEUE_URL", hide_env_values = true)]
    pub finalize_queue_url: Option<String>,
    /// The finalize dead-letter queue.
    #[arg(long, global = true, env = "DBADMIN_FINALIZE_DLQ_URL", hide_env_values = true)]
    pub finalize_dlq_url: Option<String>,
    /// The requests dead-letter queue.
    #[arg(long, global = true, env = "DBADMIN_REQUESTS_DLQ_URL", hide_env_values = true)]
    pub requests_dlq_url: Option<String>,
    /// The KMS key the reporter signs manifests with (for `key export`).
    #[arg(long, global = true, env = "DBADMIN_SIGNING_KEY_ID")]
    pub signing_key_id: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Print (or write) the signing key's public key as PEM: the deployment's KMS key, or with
    /// --local the key `generate --local` signs with. Auditors verify with it, without AWS access.
    Export {
        /// The local signing key instead of the deployment's.
        #[arg(long)]
        local: bool,
        /// The local signing key file (default: signing-key.pem in the configuration folder).
        #[arg(long, env = "DBADMIN_SIGNING_KEY_FILE")]
        signing_key: Option<PathBuf>,
        /// Write the PEM to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
    /// Check a downloaded report offline: its artifacts against the manifest, the manifest's
    /// signature, and with --previous the chain to the report before it.
    Verify {
        /// The report folder, or its manifest.json.
        path: PathBuf,
        /// The signing key's public key, PEM or DER (`key export`). Default: the local signing key's.
        #[arg(long, env = "DBADMIN_PUBLIC_KEY")]
        public_key: Option<PathBuf>,
        /// The report the manifest names as the one before it (a folder or its manifest.json).
        #[arg(long, conflicts_with = "chain")]
        previous: Option<PathBuf>,
        /// PATH is a folder of many reports (as `download` writes them): check every signature and
        /// walk the chain from the lowest sequence to the highest, naming gaps and forks (two
        /// signed reports at one place of the chain).
        #[arg(long)]
        chain: bool,
    },
    /// The public key that verifies report signatures.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Send a report's finalize message again (a complete run whose report was not written).
    Finalize {
        /// The report id.
        report_id: String,
    },
    /// Inspect and redrive the dead-letter queues (requests, collect, finalize).
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
        /// Mark each added principal APPROVED, UNAPPROVED or APPROVAL_EXPIRED against this
        /// approved-admin baseline (a local CSV), on the later report's day. Without it, the later
        /// report's own Review Status is shown where it has one.
        #[arg(long)]
        baseline: Option<PathBuf>,
    },
    /// Work with inventories.
    #[command(subcommand)]
    Inventory(InventoryCommand),
    /// The SQL the collector runs, as auditors read it.
    #[command(subcommand)]
    Queries(QueriesCommand),
    /// Re-perform one target of a signed report: collect it again now, with the same query texts,
    /// and compare who holds admin access with the report's rows (exit 0 identical, 3 changed).
    /// Runs from a host that reaches the database, like generate --local.
    Reperform(Reperform),
    /// Print a shell completion script.
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Csv,
}

#[derive(Args, Debug, Clone)]
pub struct WaitArgs {
    /// Print the report id and return instead of waiting.
    #[arg(long)]
    pub no_wait: bool,
    /// Stop waiting after this many seconds (exit code 4; the report goes on).
    #[arg(long, default_value_t = 1800, env = "DBADMIN_WAIT_TIMEOUT")]
    pub timeout: u64,
}

#[derive(Subcommand, Debug)]
pub enum DlqCommand {
    /// Each message's report, target and last error, without consuming it.
    List {
        /// Only this queue's dead-letter queue (default: all three).
        #[arg(long, value_enum)]
        queue: Option<db_admin_report::ops::Queue>,
        /// Read at most this many messages per queue.
        #[arg(long, default_value_t = 1000)]
        max: usize,
    },
    /// Move messages back to their queue (receive, send, then delete: never loses one).
    Redrive {
        /// Which queue's dead-letter queue.
        #[arg(long, value_enum, default_value = "collect")]
        queue: db_admin_report::ops::Queue,
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
pub enum InventoryCommand {
    /// Validate an inventory (a file or s3://bucket/key) and print every problem with its line and field.
    Validate {
        /// The inventory CSV.
        file: String,
    },
    /// Write a draft inventory (CSV, to stdout) of every RDS/Aurora database AWS lists in the
    /// given accounts and regions: review it, fill the empty secrets, validate it.
    Discover {
        /// Accounts to list (comma-separated), through DBADMIN_TARGET_ROLE_NAME when it is set.
        #[arg(long, value_delimiter = ',')]
        accounts: Vec<String>,
        /// Regions to list (comma-separated).
        #[arg(long, value_delimiter = ',', required = true)]
        regions: Vec<String>,
        /// Add every ACTIVE account of the AWS Organization.
        #[arg(long)]
        organization: bool,
    },
}

#[derive(Args, Debug)]
pub struct Reperform {
    /// The report's folder (written by generate --local, or by download): manifest.json, report.json.
    pub report: PathBuf,
    /// The target to collect again (the report's Database Name).
    pub target_id: String,
    /// The inventory the target's address and secret are read from (a local file).
    #[arg(long, env = "DBADMIN_INVENTORY")]
    pub inventory: PathBuf,
    /// The key the report's signature is checked with first (default: the local signing key).
    #[arg(long)]
    pub public_key: Option<PathBuf>,
    /// Local logins, as for generate --local (else DBADMIN_SECRET_<NAME> variables).
    #[arg(long, env = "DBADMIN_SECRETS_FILE")]
    pub secrets_file: Option<PathBuf>,
    /// Extra trusted CA certificates (PEM) for database TLS.
    #[arg(long, env = "DBADMIN_TLS_CA_FILE")]
    pub tls_ca_file: Option<PathBuf>,
    /// Seconds to wait for a connection.
    #[arg(long, default_value_t = 10, env = "DBADMIN_CONNECT_TIMEOUT")]
    pub connect_timeout: u64,
}

#[derive(Subcommand, Debug)]
pub enum QueriesCommand {
    /// Print every query text this build runs with its SHA-256 (the checksums a manifest lists).
    Show {
        /// Only this engine's queries (mysql and mariadb share theirs).
        #[arg(long, value_parser = parse_engine)]
        engine: Option<Engine>,
        /// Also compare with a report's manifest.json: which of its queries this build runs unchanged.
        #[arg(long)]
        manifest: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct Generate {
    /// Run everything in this process, with no AWS: results and reports go to --out.
    #[arg(long)]
    pub local: bool,

    /// The inventory CSV (one database per row): a file with --local, else an s3://bucket/key URI,
    /// an ssm:/parameter holding the CSV, or ssm:/path/ (one parameter per database, a JSON object).
    #[arg(long, env = "DBADMIN_INVENTORY")]
    pub inventory: String,

    /// The approved-admin baseline (CSV: account_id, database, principal, approved_by, ticket,
    /// expires, and optionally user_host for MySQL-style accounts): a file with --local, else an
    /// s3://bucket/key URI next to the inventory (which only the inventory writers may write). Every
    /// admin and elevated row gets a Review Status (APPROVED, UNAPPROVED, APPROVAL_EXPIRED) and
    /// the manifest records the baseline's SHA-256.
    #[arg(long, env = "DBADMIN_BASELINE")]
    pub baseline: Option<String>,

    #[command(flatten)]
    pub wait: WaitArgs,

    /// Only these AWS account ids (comma-separated).
    #[arg(long, value_delimiter = ',', env = "DBADMIN_ACCOUNTS")]
    pub accounts: Vec<String>,

    /// Only these regions (comma-separated).
    #[arg(long, value_delimiter = ',', env = "DBADMIN_REGIONS")]
    pub regions: Vec<String>,

    /// Only these engines (comma-separated): sqlserver, mysql, mariadb, postgres.
    #[arg(long, value_delimiter = ',', value_parser = parse_engine, env = "DBADMIN_ENGINES")]
    pub engines: Vec<Engine>,

    /// Which artifact to point at when done (CSV, JSON and the manifest are always written).
    #[arg(long, value_enum, default_value_t = Format::Csv, env = "DBADMIN_OUTPUT_FORMAT")]
    pub output_format: Format,

    /// Where a local run writes results and reports.
    #[arg(long, default_value = "db-admin-report-output", env = "DBADMIN_OUT")]
    pub out: PathBuf,

    /// Local logins: a JSON object of secret name to {"username", "password"}; must be chmod 600.
    /// Without it, DBADMIN_SECRET_<NAME> environment variables are read.
    #[arg(long, env = "DBADMIN_SECRETS_FILE")]
    pub secrets_file: Option<PathBuf>,

    /// Extra trusted CA certificates (PEM) for database TLS, e.g. the RDS CA bundle.
    #[arg(long, env = "DBADMIN_TLS_CA_FILE")]
    pub tls_ca_file: Option<PathBuf>,

    /// The weakest TLS mode a local run connects with (verify-full, verify-ca, require, disable):
    /// an inventory row asking for less becomes an error row, and nothing is sent to it. On AWS,
    /// the deployment's `min_tls_mode`.
    #[arg(long, default_value = "disable", env = "DBADMIN_MIN_TLS_MODE")]
    pub min_tls_mode: dbadmin_contracts::TlsMode,

    /// Send a password only to a database its secret names (RDS fields, or a
    /// "db-admin-report:hosts" list in the secret); a secret naming none becomes an error row.
    #[arg(long, env = "DBADMIN_REQUIRE_BOUND_SECRETS")]
    pub require_bound_secrets: bool,

    /// Days of login evidence asked for, ending at collection: the window of the Last Login Date,
    /// read from each database's login log (the inventory's login_log column).
    #[arg(long, default_value_t = 90, env = "DBADMIN_LOGIN_WINDOW_DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub login_window_days: u32,

    /// The key a local run signs its manifest with (made on first use, mode 0600). Default:
    /// signing-key.pem in the configuration folder (~/.config/db-admin-report/).
    #[arg(long, env = "DBADMIN_SIGNING_KEY_FILE")]
    pub signing_key: Option<PathBuf>,

    /// Databases read at once.
    #[arg(long, default_value_t = 16, env = "DBADMIN_CONCURRENCY")]
    pub concurrency: usize,

    /// Seconds to wait for a connection.
    #[arg(long, default_value_t = 10, env = "DBADMIN_CONNECT_TIMEOUT")]
    pub connect_timeout: u64,

    /// Seconds to wait for each catalog query.
    #[arg(long, default_value_t = 30, env = "DBADMIN_QUERY_TIMEOUT")]
    pub query_timeout: u64,

    /// Do not draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,

    /// List every RDS/Aurora database in the inventory's accounts and regions (through the target
    /// role) and reconcile it with the inventory in the evidence (reconciliation.csv). Databases
    /// missing from the inventory make the report partial (exit 3). With --local this process
    /// needs AWS credentials.
    #[arg(long, env = "DBADMIN_DISCOVER")]
    pub discover: bool,

    /// With --discover: add every ACTIVE account of the AWS Organization (organizations:ListAccounts).
    #[arg(long, requires = "discover")]
    pub organization: bool,

    /// With --discover: the regions to list (comma-separated); default: the inventory's regions.
    #[arg(long, value_delimiter = ',', requires = "discover")]
    pub discover_regions: Vec<String>,
}

impl Generate {
    /// What the request asks discovery to do, when --discover is given.
    pub fn discovery(&self) -> Option<dbadmin_contracts::discovery::DiscoveryRequest> {
        self.discover.then(|| dbadmin_contracts::discovery::DiscoveryRequest {
            organization: self.organization,
            regions: self.discover_regions.clone(),
        })
    }
}

impl Deployment {
    pub fn config(&self) -> db_admin_report::remote::RemoteConfig {
        db_admin_report::remote::RemoteConfig {
            requests_queue_url: self.requests_queue_url.clone(),
            bucket: self.bucket.clone(),
            table: self.table.clone(),
            collect_queue_url: self.collect_queue_url.clone(),
            collect_dlq_url: self.collect_dlq_url.clone(),
            finalize_queue_url: self.finalize_queue_url.clone(),
            finalize_dlq_url: self.finalize_dlq_url.clone(),
            requests_dlq_url: self.requests_dlq_url.clone(),
            signing_key_id: self.signing_key_id.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

pub fn parse_engine(s: &str) -> Result<Engine, String> {
    s.trim().parse()
}

impl From<Format> for OutputFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Csv => OutputFormat::Csv,
            Format::Json => OutputFormat::Json,
        }
    }
}
