//! Database drivers: connect with TLS and timeouts, read the catalogs, hand rows to [`crate::model`].

/// `(name, text)` of a query file under `collector/queries/{engine}/{name}.sql`; the name is
/// `engine/name`, as recorded in results and manifests.
macro_rules! query_file {
    ($engine:literal, $name:literal) => {
        (concat!($engine, "/", $name), include_str!(concat!("../../queries/", $engine, "/", $name, ".sql")))
    };
}

pub mod mysql;
pub mod postgres;

/// Whether a query text is a template whose `{placeholder}` is filled from the server at run time
/// (the MySQL privilege columns): its checksum in a manifest is of the text as built there.
pub fn is_template(text: &str) -> bool {
    text.split('{').skip(1).any(|rest| {
        rest.split_once('}')
            .is_some_and(|(name, _)| !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    })
}

/// Every query text the collector can run, `(engine/name, text)`, for auditors to read
/// (`db-admin-report queries show`) and to check against a manifest's checksums.
pub fn queries() -> Vec<(&'static str, &'static str)> {
    vec![
        mysql::SERVER,
        mysql::SERVER_MYSQL8,
        mysql::PRIV_COLUMNS,
        mysql::USER_PRIVS,
        mysql::ACCOUNTS_MYSQL,
        mysql::ACCOUNTS_MARIADB,
        mysql::DB_GRANTS,
        mysql::TABLE_GRANTS,
        mysql::COLUMN_GRANTS,
        mysql::DYNAMIC_GRANTS,
        mysql::ROLE_EDGES_MYSQL,
        mysql::DEFAULT_ROLES_MYSQL,
        mysql::ROLE_EDGES_MARIADB,
        mysql::PROXIES,
        mysql::PROXY_SETTINGS,
        mysql::PLUGINS,
        mysql::PROCS_GRANTS,
        mysql::DEFINER_ROUTINES_MYSQL,
        mysql::DEFINER_ROUTINES_MARIADB,
        mysql::CATALOG_OBJECTS,
        mysql::ENFORCED_PRIVILEGES,
        mysql::SHOW_GRANTS,
        postgres::SERVER,
        postgres::ROLES,
        postgres::MEMBERSHIPS,
        postgres::DATABASES,
        postgres::PARAMETER_ACL,
        postgres::FUNCTIONS,
        postgres::DEFINER_FUNCTIONS,
        postgres::ROLE_CHECK,
        postgres::ROLE_SOURCES,
        postgres::CATALOG_OBJECTS,
        crate::logins::CLOUDWATCH_POSTGRES,
        sqlserver::SERVER,
        sqlserver::LOGINS,
        sqlserver::SERVER_ROLE_MEMBERS,
        sqlserver::SERVER_PERMISSIONS,
        sqlserver::SERVER_PERMISSIONS_LEGACY,
        sqlserver::SESSIONS,
        sqlserver::DATABASES,
        sqlserver::DB_PRINCIPALS,
        sqlserver::DB_ROLE_MEMBERS,
        sqlserver::DB_PERMISSIONS,
    ]
}
pub mod sqlserver;
pub mod tls;
mod tls_probe;

use async_trait::async_trait;
use dbadmin_contracts::result::ADMIN_DEFINITION_VERSION;
use dbadmin_contracts::{Collected, Engine, ErrorKind, Principal, QueryRecord, Target, TlsMode};
use dbadmin_ports::DbCredentials;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// How the collector connects, for every engine.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub connect_timeout: Duration,
    pub query_timeout: Duration,
    /// Attempts for transient failures (unreachable, timeouts), the first included.
    pub max_attempts: u32,
    /// First back-off; doubled for each further attempt.
    pub backoff: Duration,
    /// Extra trusted CA certificates (PEM), e.g. the RDS bundle or a private CA.
    pub ca_file: Option<PathBuf>,
    /// The weakest TLS mode this deployment connects with: a target whose inventory row asks
    /// for less is an error row and no connection is opened (the inventory's author cannot
    /// downgrade the deployment's transport).
    pub min_tls: TlsMode,
    /// Send a password only to a database its secret names (RDS fields or `db-admin-report:hosts`):
    /// a secret that names none is an error row, so the inventory alone never decides where a
    /// password goes.
    pub require_bound_secrets: bool,
    /// Days of login evidence asked for, ending at collection (the Last Login Date's window).
    pub login_window_days: u32,
    /// Read the login logs the inventory names as `file:` (local runs; a Lambda has no such files).
    pub read_local_logs: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            connect_timeout: Duration::from_secs(10),
            query_timeout: Duration::from_secs(30),
            max_attempts: 3,
            backoff: Duration::from_millis(250),
            ca_file: None,
            min_tls: TlsMode::Disable,
            require_bound_secrets: false,
            login_window_days: crate::logins::DEFAULT_WINDOW_DAYS,
            read_local_logs: false,
        }
    }
}

/// A database-level failure: becomes the target's error row unless a retry succeeds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {reason}")]
pub struct EngineError {
    pub kind: ErrorKind,
    pub reason: String,
    /// Worth another attempt (the server may come back).
    pub transient: bool,
}

impl EngineError {
    pub fn new(kind: ErrorKind, reason: impl Into<String>) -> Self {
        let transient = matches!(kind, ErrorKind::Unreachable | ErrorKind::Timeout);
        EngineError { kind, reason: reason.into(), transient }
    }
}

/// Every query text run against one server, recorded for the manifest.
#[derive(Debug, Default)]
pub struct QueryLog {
    pub queries: Vec<QueryRecord>,
}

impl QueryLog {
    pub fn record(&mut self, name: &str, text: &str) {
        let sha256 = dbadmin_contracts::sha256_hex(text.as_bytes());
        if !self.queries.iter().any(|q| q.name == name && q.sha256 == sha256) {
            self.queries.push(QueryRecord { name: name.to_owned(), sha256 });
        }
    }
}

/// Runs `fut` under `limit`, turning a time-out into a typed error naming `what`.
pub async fn within<T>(
    limit: Duration,
    what: &str,
    fut: impl Future<Output = Result<T, EngineError>>,
) -> Result<T, EngineError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => {
            Err(EngineError::new(ErrorKind::Timeout, format!("{what} took longer than {}s", limit.as_secs_f32())))
        }
    }
}

/// A connection that runs query texts and returns their rows as text.
#[async_trait]
pub(crate) trait Session: Send {
    async fn query(&mut self, name: &str, text: &str) -> Result<Vec<TextRow>, EngineError>;
    /// Runs several `(name, text)` queries in as few round trips as the driver allows, and returns
    /// each one's rows in order; an error names the query that failed. By default, one at a time.
    async fn batch(&mut self, queries: &[(&str, &str)]) -> Result<Vec<Vec<TextRow>>, EngineError> {
        let mut out = Vec::with_capacity(queries.len());
        for (name, text) in queries {
            out.push(self.query(name, text).await?);
        }
        Ok(out)
    }
    /// Like [`Session::batch`], but with every query's own outcome: one failing hides no other's
    /// answer. By default, one at a time.
    async fn batch_each(&mut self, queries: &[(&str, &str)]) -> Vec<Result<Vec<TextRow>, EngineError>> {
        let mut out = Vec::with_capacity(queries.len());
        for (name, text) in queries {
            out.push(self.query(name, text).await);
        }
        out
    }
    /// SHA-256 of the certificate the server presented, where the driver lets us see it.
    fn server_certificate_sha256(&self) -> Option<String> {
        None
    }
    /// Says goodbye; a failed goodbye does not change what was read.
    async fn close(self: Box<Self>);
}

/// Runs query files on a session: each text is recorded for the manifest and runs under the query
/// time limit.
pub(crate) struct Reader<'a> {
    session: Box<dyn Session>,
    log: QueryLog,
    limit: Duration,
    step: &'a Step,
    /// For a driver that reads more than one database of the server, each on a connection of its own.
    pub(crate) creds: &'a DbCredentials,
    pub(crate) opts: &'a ConnectOptions,
}

impl Reader<'_> {
    pub(crate) async fn rows(&mut self, (name, text): (&str, &str)) -> Result<Vec<TextRow>, EngineError> {
        self.step.set(format!("query {name}"));
        self.log.record(name, text);
        within(self.limit, &format!("query {name}"), self.session.query(name, text)).await
    }

    /// Runs `queries` together (one round trip where the driver can: [`Session::batch`]), each text
    /// recorded; the time limit is the query limit once per query.
    pub(crate) async fn batch(&mut self, queries: &[(&str, &str)]) -> Result<Vec<Vec<TextRow>>, EngineError> {
        let (what, limit) = self.start(queries);
        let rows = within(limit, &what, self.session.batch(queries)).await?;
        debug_assert_eq!(rows.len(), queries.len());
        Ok(rows)
    }

    /// [`Reader::batch`] with each query's own outcome ([`Session::batch_each`]); only running out
    /// of time fails the whole.
    pub(crate) async fn batch_each(
        &mut self,
        queries: &[(&str, &str)],
    ) -> Result<Vec<Result<Vec<TextRow>, EngineError>>, EngineError> {
        let (what, limit) = self.start(queries);
        let session = &mut self.session;
        within(limit, &what, async { Ok(session.batch_each(queries).await) }).await
    }

    /// Records the texts and says what is in progress; the time limit is the query limit per query.
    /// A driver that runs the texts on sessions of its own (other databases) calls it first.
    pub(crate) fn start(&mut self, queries: &[(&str, &str)]) -> (String, Duration) {
        let names: Vec<&str> = queries.iter().map(|(name, _)| *name).collect();
        let what = format!("queries {}", names.join(", "));
        self.step.set(what.clone());
        for (name, text) in queries {
            self.log.record(name, text);
        }
        (what, self.limit * queries.len().max(1) as u32)
    }
}

/// The classification of one server's catalog ([`crate::model`]).
pub(crate) trait Classify {
    fn classify(&self) -> Vec<Principal>;
    /// Principals looked at (reported or not).
    fn principals_examined(&self) -> u32;
    /// What could not be read, or what the catalogs said that disagrees with itself.
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
}

/// One engine: the steps [`collect_with`] runs in the same order for every engine —
/// connect → read the version and the catalog rows ([`Driver::read`], refusing an unsupported
/// version) → map them ([`Driver::catalog`], pure) → classify → [`Collected`].
#[async_trait]
pub(crate) trait Driver {
    /// What the version query said, once the version is known to be supported.
    type Server: Send + Sync;
    /// Every catalog row the classification needs, as read.
    type Rows: Send;
    type Catalog: Classify;
    async fn connect(
        target: &Target,
        creds: &DbCredentials,
        opts: &ConnectOptions,
    ) -> Result<Box<dyn Session>, EngineError>;
    /// Reads what the server says of itself (refusing a version it does not support) and every
    /// catalog row, in as few round trips as the engine allows.
    async fn read(reader: &mut Reader<'_>, target: &Target) -> Result<(Self::Server, Self::Rows), EngineError>;
    fn catalog(server: &Self::Server, rows: Self::Rows) -> Self::Catalog;
    /// The server's version as the result records it.
    fn describe(server: &Self::Server) -> String;
    /// The setting that decides whether the server writes logins, as the result records it
    /// ([`Collected::login_settings`]).
    fn login_settings(_server: &Self::Server) -> Option<Box<dbadmin_contracts::LoginSettings>> {
        None
    }
}

/// Collects one target once with driver `D`.
async fn collect_with<D: Driver>(
    target: &Target,
    creds: &DbCredentials,
    opts: &ConnectOptions,
    step: &Step,
) -> Result<Collected, EngineError> {
    step.set(format!("connecting to {}:{}", target.host, target.port));
    let session = D::connect(target, creds, opts).await?;
    let mut reader = Reader { session, log: QueryLog::default(), limit: opts.query_timeout, step, creds, opts };
    let read = D::read(&mut reader, target).await;
    let Reader { session, log, .. } = reader;
    let server_certificate_sha256 = session.server_certificate_sha256();
    step.set("closing the connection");
    session.close().await;
    let (server, rows) = read?;
    let catalog = D::catalog(&server, rows);
    Ok(Collected {
        server_version: D::describe(&server),
        tls: target.tls,
        server_certificate_sha256,
        admin_definition_version: ADMIN_DEFINITION_VERSION.to_owned(),
        queries: log.queries,
        principals_examined: catalog.principals_examined(),
        catalog_warnings: catalog.warnings(),
        principals: catalog.classify(),
        login_evidence: None,
        login_settings: D::login_settings(&server),
    })
}

/// Collects one target once: connect, read the catalogs, classify.
async fn collect_once(
    target: &Target,
    creds: &DbCredentials,
    opts: &ConnectOptions,
    step: &Step,
) -> Result<Collected, EngineError> {
    match target.engine {
        Engine::Mysql | Engine::Mariadb => collect_with::<mysql::MysqlDriver>(target, creds, opts, step).await,
        Engine::Postgres => collect_with::<postgres::PostgresDriver>(target, creds, opts, step).await,
        Engine::Sqlserver => collect_with::<sqlserver::SqlServerDriver>(target, creds, opts, step).await,
    }
}

/// What a collection is doing now, for the error row when its time runs out.
#[derive(Debug, Default)]
pub struct Step(std::sync::Mutex<String>);

impl Step {
    fn set(&self, step: impl Into<String>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = step.into();
    }

    fn get(&self) -> String {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Collects with bounded retries and exponential back-off, for transient failures only.
/// Returns the outcome and the number of attempts made.
pub async fn collect(
    target: &Target,
    creds: &DbCredentials,
    opts: &ConnectOptions,
) -> (Result<Collected, EngineError>, u32) {
    collect_until(target, creds, opts, None).await
}

/// [`collect`] that ends by `deadline` whatever the database does: the attempts share the time
/// left, and when it runs out the collection fails with kind `timeout`, naming what was in progress
/// (a database that accepts connections and never answers cannot hold a job past its deadline).
pub async fn collect_until(
    target: &Target,
    creds: &DbCredentials,
    opts: &ConnectOptions,
    deadline: Option<tokio::time::Instant>,
) -> (Result<Collected, EngineError>, u32) {
    if let Some(refused) = below_tls_floor(target, opts) {
        return (Err(refused), 0);
    }
    let started = tokio::time::Instant::now();
    let out_of_time = |step: &Step| {
        let budget = deadline.map(|d| d.saturating_duration_since(started).as_secs_f32()).unwrap_or_default();
        EngineError {
            kind: ErrorKind::Timeout,
            reason: format!(
                "the collection did not finish within its time budget of {budget:.1}s (the function's timeout less \
                 a margin to store and count the result); in progress: {}",
                step.get()
            ),
            transient: false,
        }
    };
    let mut attempt = 1;
    loop {
        let step = Step::default();
        let once = without_panics(collect_once(target, creds, opts, &step));
        let result = match deadline {
            None => once.await,
            Some(d) => match tokio::time::timeout_at(d, once).await {
                Ok(result) => result,
                Err(_) => Err(out_of_time(&step)),
            },
        };
        match &result {
            Err(e) if e.transient && attempt < opts.max_attempts => {
                let delay = opts.backoff * 2u32.saturating_pow(attempt - 1);
                if deadline.is_some_and(|d| tokio::time::Instant::now() + delay >= d) {
                    // No time for another attempt: this failure is the outcome.
                    return (result, attempt);
                }
                tracing::warn!(target_id = %target.id, attempt, kind = %e.kind, delay_ms = delay.as_millis() as u64, "Transient failure, retrying.");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            _ => return (result, attempt),
        }
    }
}

/// The refusal of a target whose inventory row asks for less TLS than the deployment's floor.
pub fn below_tls_floor(target: &Target, opts: &ConnectOptions) -> Option<EngineError> {
    (!target.tls.at_least(opts.min_tls)).then(|| EngineError {
        kind: ErrorKind::Configuration,
        reason: format!(
            "the inventory asks for tls={}, below this deployment's minimum ({}): not connected",
            target.tls, opts.min_tls
        ),
        transient: false,
    })
}

/// A panic while reading or judging a server (data a driver or a rule did not expect: a defect of
/// ours) is this target's error row, not a failed delivery: a redelivery would panic the same way
/// and the job would end in the dead-letter queue with no row, the report short of a database.
async fn without_panics(
    collection: impl Future<Output = Result<Collected, EngineError>>,
) -> Result<Collected, EngineError> {
    use futures::FutureExt;
    std::panic::AssertUnwindSafe(collection).catch_unwind().await.unwrap_or_else(|panic| {
        let what = dbadmin_ports::panic_message(panic.as_ref());
        Err(EngineError {
            kind: ErrorKind::Query,
            reason: format!(
                "the collector failed on what this server returned (a defect of the tool, please report it): {what}"
            ),
            transient: false,
        })
    })
}

/// A query file's SQL without its `--` comment lines, for static checks of what actually runs.
pub fn without_comments(text: &str) -> String {
    text.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n")
}

/// Text cells of one row; `None` is SQL NULL.
pub type TextRow = Vec<Option<String>>;

/// Column `i` of a text row, or an empty string for NULL/missing.
pub fn cell(row: &TextRow, i: usize) -> &str {
    row.get(i).and_then(|c| c.as_deref()).unwrap_or("")
}

/// Column `i` of a text row, `None` for NULL/missing.
pub fn opt(row: &TextRow, i: usize) -> Option<&str> {
    row.get(i).and_then(|c| c.as_deref())
}

/// `Y`, `1`, `t`, `true` (any case) are true.
pub fn flag(row: &TextRow, i: usize) -> bool {
    matches!(cell(row, i).to_ascii_lowercase().as_str(), "y" | "1" | "t" | "true" | "yes")
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_are_told_apart() {
        let templates: Vec<&str> =
            super::queries().into_iter().filter(|(_, t)| super::is_template(t)).map(|(n, _)| n).collect();
        assert_eq!(
            templates,
            [
                "mysql/user_privs",
                "mysql/show_grants",
                "postgres/role_check",
                "postgres/catalog_objects",
                "logs/postgres",
                "sqlserver/db_principals",
                "sqlserver/db_role_members",
                "sqlserver/db_permissions"
            ],
            "the privilege columns and accounts (MySQL), the catalog objects checked (PostgreSQL) and the database name (SQL Server) are filled in at run time"
        );
        assert!(!super::is_template("SELECT '{' || name || '}' FROM t") && !super::is_template("a {} b"));
    }

    #[tokio::test]
    async fn a_panic_while_judging_a_server_is_an_error_row_not_a_failed_delivery() {
        // A rule that indexes a row the server did not send (an empty catalog answer).
        let judged = super::without_panics(async {
            let rows: Vec<super::TextRow> = Vec::new();
            Err(super::EngineError {
                kind: dbadmin_contracts::ErrorKind::Timeout,
                reason: super::cell(&rows[0], 0).into(),
                transient: true,
            })
        })
        .await;
        let e = judged.expect_err("the panic is an error");
        assert_eq!(e.kind, dbadmin_contracts::ErrorKind::Query);
        assert!(!e.transient, "a redelivery would panic the same way");
        assert!(e.reason.contains("index out of bounds"), "the panic's message is kept: {}", e.reason);
    }

    /// `queries()` names every file under collector/queries/ once, so `queries show` hides none
    /// (besides the CloudWatch Logs requests of the login evidence, written in collector/src/logins.rs).
    #[test]
    fn every_query_file_is_listed_once() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let mut on_disk = Vec::new();
        for engine in std::fs::read_dir(&root).unwrap() {
            let engine = engine.unwrap();
            for file in std::fs::read_dir(engine.path()).unwrap() {
                let path = file.unwrap().path();
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                let text = std::fs::read_to_string(&path).unwrap();
                on_disk.push((format!("{}/{name}", engine.file_name().to_string_lossy()), text));
            }
        }
        on_disk.sort();
        let mut listed: Vec<(String, String)> = super::queries()
            .into_iter()
            .filter(|(n, _)| !n.starts_with("logs/"))
            .map(|(n, t)| (n.to_owned(), t.to_owned()))
            .collect();
        listed.sort();
        assert_eq!(listed, on_disk);
    }
}

/// [`Session::batch`] on the real servers (scripts/test-servers.sh up): one round trip, every
/// answer in order, and a failure named by the query that failed, not the batch.
#[cfg(test)]
mod batches {
    use super::{mysql::MysqlDriver, postgres::PostgresDriver, ConnectOptions, Driver, Session};
    use dbadmin_contracts::{Engine, ErrorKind, Target, TlsMode};
    use dbadmin_ports::DbCredentials;

    fn server(var: &str, default: u16) -> Option<u16> {
        let port = std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(port);
        }
        let msg = format!("no server on 127.0.0.1:{port}; start it with scripts/test-servers.sh up");
        panic!("{msg}")
    }

    fn target(engine: Engine, port: u16) -> Target {
        Target {
            id: "t".into(),
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            engine,
            host: "127.0.0.1".into(),
            port,
            databases: vec![],
            secret: "s".into(),
            role_arn: None,
            tls: TlsMode::VerifyFull,
            tags: Default::default(),
            login_log: None,
        }
    }

    fn opts() -> ConnectOptions {
        let ca = std::env::var("DBADMIN_TEST_CA_FILE")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.state/tls/ca.pem"));
        ConnectOptions { ca_file: Some(ca), ..ConnectOptions::default() }
    }

    async fn check(mut session: Box<dyn Session>, broken: &str) {
        let ok = session.batch(&[("one", "SELECT 1"), ("words", "SELECT 'a' UNION ALL SELECT 'b'")]).await.unwrap();
        assert_eq!(ok, vec![vec![vec![Some("1".to_owned())]], vec![vec![Some("a".into())], vec![Some("b".into())]]]);
        let err = session
            .batch(&[("first", "SELECT 1"), ("second", broken), ("third", "SELECT 3")])
            .await
            .expect_err("the second query fails");
        assert_eq!(err.kind, ErrorKind::Query, "{}", err.reason);
        assert!(err.reason.starts_with("query second: "), "the failing query is named: {}", err.reason);
        // The session is still usable after a failed batch.
        assert_eq!(session.batch(&[("after", "SELECT 4")]).await.unwrap(), vec![vec![vec![Some("4".to_owned())]]]);
        session.close().await;
    }

    #[tokio::test]
    #[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
    async fn mysql_family_answers_a_batch_in_order_and_names_the_failing_query() {
        let creds = DbCredentials {
            username: "dbadmin_collector".into(),
            password: "collector-pw".into(),
            ..Default::default()
        };
        for (engine, var, default) in
            [(Engine::Mariadb, "DBADMIN_TEST_MARIADB_PORT", 13306), (Engine::Mysql, "DBADMIN_TEST_MYSQL_PORT", 13307)]
        {
            let Some(port) = server(var, default) else { continue };
            let session = MysqlDriver::connect(&target(engine, port), &creds, &opts()).await.unwrap();
            check(session, "SELECT no_such_column FROM mysql.db").await;
        }
    }

    #[tokio::test]
    #[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
    async fn postgres_answers_a_pipeline_in_order_and_names_the_failing_query() {
        let Some(port) = server("DBADMIN_TEST_PG_PORT", 15432) else { return };
        let creds = DbCredentials {
            username: "dbadmin_collector".into(),
            password: "collector-pw".into(),
            ..Default::default()
        };
        let session = PostgresDriver::connect(&target(Engine::Postgres, port), &creds, &opts()).await.unwrap();
        check(session, "SELECT no_such_column FROM pg_roles").await;
    }
}
