//! SQL Server 2012+ and RDS for SQL Server through `tiberius`.
//!
//! What is verified here: this module's connect/login/query/decode/error-mapping path against a
//! TDS-speaking test double (collector/tests/sqlserver_tds.rs), and the row mapping and
//! classification on recorded row shapes. What is not: the T-SQL against a real server, which
//! only the opt-in test with `MSSQL_TEST_URL` exercises.

use super::{cell, flag, opt, within, Classify, ConnectOptions, Driver, EngineError, Reader, Session, TextRow};
use crate::model::sqlserver::{Catalog, Database, DbPrincipal, ServerPermission, ServerPrincipal};
use async_trait::async_trait;
use dbadmin_contracts::{ErrorKind, Target, TlsMode};
use dbadmin_ports::DbCredentials;
use tiberius::{AuthMethod, Client, ColumnData, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

pub const SERVER: (&str, &str) = query_file!("sqlserver", "server");
pub const LOGINS: (&str, &str) = query_file!("sqlserver", "logins");
pub const SERVER_ROLE_MEMBERS: (&str, &str) = query_file!("sqlserver", "server_role_members");
pub const SERVER_PERMISSIONS: (&str, &str) = query_file!("sqlserver", "server_permissions");
pub const SERVER_PERMISSIONS_LEGACY: (&str, &str) = query_file!("sqlserver", "server_permissions_legacy");
pub const SESSIONS: (&str, &str) = query_file!("sqlserver", "sessions");
pub const DATABASES: (&str, &str) = query_file!("sqlserver", "databases");
pub const DB_PRINCIPALS: (&str, &str) = query_file!("sqlserver", "db_principals");
pub const DB_ROLE_MEMBERS: (&str, &str) = query_file!("sqlserver", "db_role_members");
pub const DB_PERMISSIONS: (&str, &str) = query_file!("sqlserver", "db_permissions");

pub const ALL_QUERIES: [(&str, &str); 10] = [
    SERVER,
    LOGINS,
    SERVER_ROLE_MEMBERS,
    SERVER_PERMISSIONS,
    SERVER_PERMISSIONS_LEGACY,
    SESSIONS,
    DATABASES,
    DB_PRINCIPALS,
    DB_ROLE_MEMBERS,
    DB_PERMISSIONS,
];

/// SQL Server 2017 (14) brought `STRING_AGG`.
const STRING_AGG_SINCE: u32 = 14;
/// SQL Server 2012 (11): `authentication_type` and contained users.
const OLDEST_SUPPORTED: u32 = 11;

fn map_err(context: &str, e: tiberius::error::Error) -> EngineError {
    use tiberius::error::Error;
    let kind = match &e {
        Error::Server(t) => match t.code() {
            18456 | 18470 | 18486 | 18487 | 18488 => ErrorKind::AuthenticationFailed,
            229 | 230 | 297 | 300 | 916 | 4060 => ErrorKind::InsufficientPrivilege,
            _ => ErrorKind::Query,
        },
        Error::Io { kind, .. } => match kind {
            std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Unreachable,
        },
        Error::Tls(_) => ErrorKind::Tls,
        Error::Protocol(m) if m.to_lowercase().contains("encrypt") => ErrorKind::Tls,
        Error::Routing { .. } => ErrorKind::Configuration,
        _ => ErrorKind::Query,
    };
    EngineError::new(kind, format!("{context}: {e}"))
}

/// Bracket-quotes a database name as `QUOTENAME` does.
pub fn quote_name(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// `2024-01-02T03:04:05.123` (UTC from the queries) → `2024-01-02T03:04:05Z`.
fn utc(s: Option<&str>) -> Option<String> {
    let s = s?.trim();
    if s.len() < 19 {
        return None;
    }
    Some(format!("{}Z", &s[..19]))
}

fn int(row: &TextRow, i: usize) -> i32 {
    cell(row, i).trim().parse().unwrap_or(-1)
}

fn kind(row: &TextRow, i: usize) -> char {
    cell(row, i).trim().chars().next().unwrap_or('?')
}

/// The major version from `ProductVersion` (`16.0.4135.4` → 16).
pub fn major_version(product_version: &str) -> Option<u32> {
    product_version.split('.').next()?.trim().parse().ok()
}

/// What the server-level queries returned, before mapping.
#[derive(Debug, Clone, Default)]
pub struct ServerRows {
    pub logins: Vec<TextRow>,
    pub role_members: Vec<TextRow>,
    pub permissions: Vec<TextRow>,
    pub sessions: Vec<TextRow>,
}

/// What one database's queries returned.
#[derive(Debug, Clone, Default)]
pub struct DatabaseRows {
    pub name: String,
    pub owner: Option<String>,
    pub principals: Vec<TextRow>,
    pub role_members: Vec<TextRow>,
    pub permissions: Vec<TextRow>,
}

fn pairs(rows: &[TextRow]) -> Vec<(i32, i32)> {
    rows.iter().map(|r| (int(r, 0), int(r, 1))).collect()
}

/// Maps the rows of the query files to the model's catalog. Pure, so it is tested on recorded rows.
/// `sys.databases.database_id` of the system databases.
const MASTER: i64 = 1;
const TEMPDB: i64 = 2;
const MODEL: i64 = 3;
const MSDB: i64 = 4;

/// Which databases are read: master and msdb always (db_owner there is a path to sysadmin), never
/// tempdb or model, and the user databases the inventory names (all when it names none).
pub fn in_scope(name: &str, database_id: i64, wanted: &[String]) -> bool {
    match database_id {
        TEMPDB | MODEL => false,
        MASTER | MSDB => true,
        _ => wanted.is_empty() || wanted.iter().any(|w| w == name),
    }
}

pub fn catalog_from_rows(major_version: u32, server: &ServerRows, databases: &[DatabaseRows]) -> Catalog {
    let principals = server
        .logins
        .iter()
        .map(|r| ServerPrincipal {
            id: int(r, 0),
            name: cell(r, 1).to_owned(),
            kind: kind(r, 2),
            disabled: flag(r, 3),
            fixed_role: flag(r, 4),
            created: utc(opt(r, 5)),
            modified: utc(opt(r, 6)),
            locked: flag(r, 7),
            expired: flag(r, 8),
            must_change: flag(r, 9),
            password_last_set: utc(opt(r, 10)),
            policy_checked: opt(r, 11).map(|_| flag(r, 11)),
            expiration_checked: opt(r, 12).map(|_| flag(r, 12)),
        })
        .collect();
    let permissions = server
        .permissions
        .iter()
        .map(|r| ServerPermission {
            grantee: int(r, 0),
            state: kind(r, 1),
            class: cell(r, 2).trim().parse().unwrap_or(0),
            major_id: int(r, 3),
            permissions: cell(r, 4).split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect(),
        })
        .collect();
    let sessions = server.sessions.iter().filter_map(|r| Some((cell(r, 0).to_owned(), utc(opt(r, 1))?))).collect();
    let databases = databases
        .iter()
        .map(|d| Database {
            name: d.name.clone(),
            owner_login: d.owner.clone(),
            principals: d
                .principals
                .iter()
                .map(|r| DbPrincipal {
                    id: int(r, 0),
                    name: cell(r, 1).to_owned(),
                    kind: kind(r, 2),
                    login: opt(r, 3).map(str::to_owned),
                    contained: flag(r, 4),
                })
                .collect(),
            role_members: pairs(&d.role_members),
            permissions: d.permissions.iter().map(|r| (int(r, 0), kind(r, 1), cell(r, 2).to_owned())).collect(),
        })
        .collect();
    Catalog { major_version, principals, role_members: pairs(&server.role_members), permissions, sessions, databases }
}

type Conn = Client<Compat<TcpStream>>;

fn text_cell(c: ColumnData<'_>) -> Option<String> {
    match c {
        ColumnData::String(s) => s.map(|s| s.into_owned()),
        ColumnData::U8(v) => v.map(|v| v.to_string()),
        ColumnData::I16(v) => v.map(|v| v.to_string()),
        ColumnData::I32(v) => v.map(|v| v.to_string()),
        ColumnData::I64(v) => v.map(|v| v.to_string()),
        ColumnData::Bit(v) => v.map(|v| if v { "1".to_owned() } else { "0".to_owned() }),
        other => Some(format!("{other:?}")),
    }
}

fn config(target: &Target, creds: &DbCredentials, opts: &ConnectOptions) -> Result<Config, EngineError> {
    let mut config = Config::new();
    config.host(&target.host);
    config.port(target.port);
    config.authentication(AuthMethod::sql_server(&creds.username, &creds.password));
    config.application_name("db-admin-report");
    match target.tls {
        TlsMode::Disable => config.encryption(EncryptionLevel::NotSupported),
        TlsMode::Require => {
            config.encryption(EncryptionLevel::Required);
            config.trust_cert();
        }
        TlsMode::VerifyFull => {
            config.encryption(EncryptionLevel::Required);
            if let Some(ca) = &opts.ca_file {
                config.trust_cert_ca(ca.display().to_string());
            }
        }
        TlsMode::VerifyCa => {
            return Err(EngineError::new(
                ErrorKind::Configuration,
                "TLS mode verify-ca is not available for SQL Server; use verify-full (with --tls-ca-file) or require",
            ))
        }
    }
    Ok(config)
}

/// What the server said of itself, once its version is known to be supported.
pub struct Server {
    pub version: String,
    pub edition: String,
    pub major: u32,
}

/// Every catalog row: the server's, then each database's in scope.
#[derive(Debug, Default)]
pub struct Rows {
    pub server: ServerRows,
    pub databases: Vec<DatabaseRows>,
}

/// SQL Server 2012+ for [`super::collect_with`].
pub struct SqlServerDriver;

struct SqlServerSession(Conn);

#[async_trait]
impl Session for SqlServerSession {
    async fn query(&mut self, name: &str, text: &str) -> Result<Vec<TextRow>, EngineError> {
        let context = format!("query {name}");
        let stream = self.0.simple_query(text).await.map_err(|e| map_err(&context, e))?;
        let rows = stream.into_first_result().await.map_err(|e| map_err(&context, e))?;
        Ok(rows.into_iter().map(|r| r.into_iter().map(text_cell).collect()).collect())
    }

    /// One T-SQL batch, one round trip: a result set per statement, in order (every query here is
    /// a SELECT, which always sends its columns, rows or not). The driver reports a statement's
    /// error only at the end of the batch, without saying which statement failed: then the queries
    /// run again one at a time, so the error row names the one that fails.
    async fn batch(&mut self, queries: &[(&str, &str)]) -> Result<Vec<Vec<TextRow>>, EngineError> {
        let Some((first, _)) = queries.first() else { return Ok(Vec::new()) };
        match self.batch_once(queries).await {
            Ok(rows) => Ok(rows),
            Err(batched) => {
                for (name, text) in queries {
                    self.query(name, text).await?;
                }
                Err(EngineError { reason: format!("queries {first}, …: {}", batched.reason), ..batched })
            }
        }
    }

    async fn close(self: Box<Self>) {
        let _ = self.0.close().await;
    }
}

impl SqlServerSession {
    async fn batch_once(&mut self, queries: &[(&str, &str)]) -> Result<Vec<Vec<TextRow>>, EngineError> {
        use futures::TryStreamExt;
        let context = "a batch of catalog queries";
        let text: Vec<&str> = queries.iter().map(|(_, t)| t.trim_end().trim_end_matches(';')).collect();
        let mut stream = self.0.simple_query(text.join("\n;\n")).await.map_err(|e| map_err(context, e))?;
        let mut out: Vec<Vec<TextRow>> = Vec::with_capacity(queries.len());
        while let Some(item) = stream.try_next().await.map_err(|e| map_err(context, e))? {
            match item {
                tiberius::QueryItem::Metadata(_) => out.push(Vec::new()),
                tiberius::QueryItem::Row(row) => match out.last_mut() {
                    Some(rows) => rows.push(row.into_iter().map(text_cell).collect()),
                    None => {
                        return Err(EngineError::new(
                            ErrorKind::Query,
                            format!("{context}: a row came before its columns"),
                        ))
                    }
                },
            }
        }
        if out.len() != queries.len() {
            return Err(EngineError::new(
                ErrorKind::Query,
                format!("{context}: {} queries returned {} result sets", queries.len(), out.len()),
            ));
        }
        Ok(out)
    }
}

impl Classify for Catalog {
    fn classify(&self) -> Vec<dbadmin_contracts::Principal> {
        Catalog::classify(self)
    }

    fn principals_examined(&self) -> u32 {
        self.principals.len() as u32
    }
}

#[async_trait]
impl Driver for SqlServerDriver {
    type Server = Server;
    type Rows = Rows;
    type Catalog = Catalog;

    async fn connect(
        target: &Target,
        creds: &DbCredentials,
        opts: &ConnectOptions,
    ) -> Result<Box<dyn Session>, EngineError> {
        let config = config(target, creds, opts)?;
        let context = format!("connecting to {}:{}", target.host, target.port);
        let client = within(opts.connect_timeout, &context, async {
            let tcp = TcpStream::connect((target.host.as_str(), target.port)).await.map_err(|e| {
                let kind =
                    if e.kind() == std::io::ErrorKind::TimedOut { ErrorKind::Timeout } else { ErrorKind::Unreachable };
                EngineError::new(kind, format!("{context}: {e}"))
            })?;
            // Batched small writes would stall the TDS exchange.
            let _ = tcp.set_nodelay(true);
            Client::connect(config, tcp.compat_write()).await.map_err(|e| map_err(&context, e))
        })
        .await?;
        Ok(Box::new(SqlServerSession(client)))
    }

    /// The version, the server-level views, then each database's views, one query at a time (not
    /// batched: there is no real SQL Server here to test a batch against).
    async fn read(reader: &mut Reader<'_>, target: &Target) -> Result<(Server, Rows), EngineError> {
        let server = SqlServerDriver::server(reader).await?;
        let rows = SqlServerDriver::rows(reader, &server, target).await?;
        Ok((server, rows))
    }

    fn catalog(server: &Server, rows: Rows) -> Catalog {
        catalog_from_rows(server.major, &rows.server, &rows.databases)
    }

    fn describe(server: &Server) -> String {
        format!("SQL Server {} ({})", server.version, server.edition)
    }
}

impl SqlServerDriver {
    async fn server(reader: &mut Reader<'_>) -> Result<Server, EngineError> {
        let rows = reader.rows(SERVER).await?;
        let version = rows.first().map(|r| cell(r, 0).to_owned()).unwrap_or_default();
        let major = major_version(&version).unwrap_or(0);
        if major < OLDEST_SUPPORTED {
            return Err(EngineError::new(
                ErrorKind::UnsupportedVersion,
                format!("server version {version} is not supported (SQL Server 2012 or later required)"),
            ));
        }
        let edition = rows.first().map(|r| cell(r, 1).to_owned()).unwrap_or_default();
        Ok(Server { version, edition, major })
    }

    /// Two batches: the server-level views with the list of databases, then the three views of
    /// every database in scope.
    async fn rows(reader: &mut Reader<'_>, server: &Server, target: &Target) -> Result<Rows, EngineError> {
        let permissions = if server.major >= STRING_AGG_SINCE { SERVER_PERMISSIONS } else { SERVER_PERMISSIONS_LEGACY };
        let [logins, role_members, permissions, sessions, listed]: [Vec<TextRow>; 5] = reader
            .batch(&[LOGINS, SERVER_ROLE_MEMBERS, permissions, SESSIONS, DATABASES])
            .await?
            .try_into()
            .expect("one result per query");
        let server_rows = ServerRows { logins, role_members, permissions, sessions };
        let in_scope: Vec<&TextRow> = listed
            .iter()
            .filter(|r| in_scope(cell(r, 0), cell(r, 2).parse().unwrap_or(i64::MAX), &target.databases))
            .collect();
        let texts: Vec<(&str, String)> = in_scope
            .iter()
            .flat_map(|r| {
                let quoted = quote_name(cell(r, 0));
                [DB_PRINCIPALS, DB_ROLE_MEMBERS, DB_PERMISSIONS]
                    .map(|(query, text)| (query, text.replace("{db}", &quoted)))
            })
            .collect();
        let queries: Vec<(&str, &str)> = texts.iter().map(|(q, t)| (*q, t.as_str())).collect();
        let mut answers = if queries.is_empty() { Vec::new() } else { reader.batch(&queries).await? }.into_iter();
        let mut databases = Vec::new();
        for r in in_scope {
            let mut next = || answers.next().expect("three results per database");
            databases.push(DatabaseRows {
                owner: opt(r, 1).map(str::to_owned),
                principals: next(),
                role_members: next(),
                permissions: next(),
                name: cell(r, 0).to_owned(),
            });
        }
        if let Some(wanted) = target.databases.iter().find(|w| !databases.iter().any(|d| &d.name == *w)) {
            return Err(EngineError::new(
                ErrorKind::Configuration,
                format!(
                    "database {wanted} is not an online database on {}:{} (tempdb and model are never read)",
                    target.host, target.port
                ),
            ));
        }
        Ok(Rows { server: server_rows, databases })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_dates_and_versions() {
        assert_eq!(quote_name("sales]db"), "[sales]]db]");
        assert_eq!(utc(Some("2024-01-02T03:04:05.123")), Some("2024-01-02T03:04:05Z".into()));
        assert_eq!(utc(Some("")), None);
        assert_eq!(major_version("16.0.4135.4"), Some(16));
        assert_eq!(major_version("13.0.5026.0"), Some(13));
    }

    #[test]
    fn no_query_reads_a_password_hash() {
        for (name, text) in ALL_QUERIES {
            let lower = crate::engine::without_comments(text).to_lowercase();
            assert!(!lower.contains("password_hash"), "{name} must not read password hashes");
            assert!(!lower.contains("select *"), "{name} must name its columns");
        }
    }

    #[test]
    fn string_agg_only_in_the_2017_query() {
        let new = crate::engine::without_comments(SERVER_PERMISSIONS.1);
        let legacy = crate::engine::without_comments(SERVER_PERMISSIONS_LEGACY.1);
        assert!(new.contains("STRING_AGG"));
        assert!(!legacy.contains("STRING_AGG") && legacy.contains("FOR XML PATH"));
    }
}
