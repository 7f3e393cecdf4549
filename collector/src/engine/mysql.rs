//! MySQL 8+/9 and MariaDB 10.4+ through `mysql_async`.

use super::{cell, flag, opt, within, Classify, ConnectOptions, Driver, EngineError, Reader, Session, TextRow};
use crate::model::mysql::{
    routine_runs_sql, Account, Catalog, ColumnGrant, DbGrant, DefinerRoutine, DynamicGrant, Flavor, Ident, ProxyGrant,
    RoutineGrant, ServerSettings, TableGrant, MARIADB_PRIV_BITS, MARIADB_SPLIT_SUPER,
};
use async_trait::async_trait;
use dbadmin_contracts::{ErrorKind, Target, TlsMode};
use dbadmin_ports::{error_chain as chain, DbCredentials};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, SslOpts, Value};
use std::collections::{BTreeMap, BTreeSet};

pub(crate) const SERVER: (&str, &str) = query_file!("mysql", "server");
pub(crate) const SERVER_MYSQL8: (&str, &str) = query_file!("mysql", "server_mysql8");
pub(crate) const PRIV_COLUMNS: (&str, &str) = query_file!("mysql", "priv_columns");
pub(crate) const USER_PRIVS: (&str, &str) = query_file!("mysql", "user_privs");
pub(crate) const ACCOUNTS_MYSQL: (&str, &str) = query_file!("mysql", "accounts_mysql");
pub(crate) const ACCOUNTS_MARIADB: (&str, &str) = query_file!("mysql", "accounts_mariadb");
pub(crate) const DB_GRANTS: (&str, &str) = query_file!("mysql", "db_grants");
pub(crate) const TABLE_GRANTS: (&str, &str) = query_file!("mysql", "table_grants");
pub(crate) const COLUMN_GRANTS: (&str, &str) = query_file!("mysql", "column_grants");
pub(crate) const DYNAMIC_GRANTS: (&str, &str) = query_file!("mysql", "dynamic_grants");
pub(crate) const ROLE_EDGES_MYSQL: (&str, &str) = query_file!("mysql", "role_edges_mysql");
pub(crate) const DEFAULT_ROLES_MYSQL: (&str, &str) = query_file!("mysql", "default_roles_mysql");
pub(crate) const ROLE_EDGES_MARIADB: (&str, &str) = query_file!("mysql", "role_edges_mariadb");
pub(crate) const PROXIES: (&str, &str) = query_file!("mysql", "proxies");
pub(crate) const PROXY_SETTINGS: (&str, &str) = query_file!("mysql", "proxy_settings");
pub(crate) const PLUGINS: (&str, &str) = query_file!("mysql", "plugins");
pub(crate) const PROCS_GRANTS: (&str, &str) = query_file!("mysql", "procs_grants");
pub(crate) const DEFINER_ROUTINES_MYSQL: (&str, &str) = query_file!("mysql", "definer_routines_mysql");
pub(crate) const DEFINER_ROUTINES_MARIADB: (&str, &str) = query_file!("mysql", "definer_routines_mariadb");
pub(crate) const CATALOG_OBJECTS: (&str, &str) = query_file!("mysql", "catalog_objects");
pub(crate) const ENFORCED_PRIVILEGES: (&str, &str) = query_file!("mysql", "enforced_privileges");
pub(crate) const SHOW_GRANTS: (&str, &str) = query_file!("mysql", "show_grants");

/// Every query file, for static checks.
pub const ALL_QUERIES: [(&str, &str); 22] = [
    SERVER,
    SERVER_MYSQL8,
    PRIV_COLUMNS,
    USER_PRIVS,
    ACCOUNTS_MYSQL,
    ACCOUNTS_MARIADB,
    DB_GRANTS,
    TABLE_GRANTS,
    COLUMN_GRANTS,
    DYNAMIC_GRANTS,
    ROLE_EDGES_MYSQL,
    DEFAULT_ROLES_MYSQL,
    ROLE_EDGES_MARIADB,
    PROXIES,
    PROXY_SETTINGS,
    PLUGINS,
    PROCS_GRANTS,
    DEFINER_ROUTINES_MYSQL,
    DEFINER_ROUTINES_MARIADB,
    CATALOG_OBJECTS,
    ENFORCED_PRIVILEGES,
    SHOW_GRANTS,
];

fn map_err(context: &str, e: mysql_async::Error) -> EngineError {
    use mysql_async::{DriverError, Error, IoError};
    let kind = match &e {
        Error::Server(s) => match s.code {
            1045 | 1698 | 1130 | 1251 => ErrorKind::AuthenticationFailed,
            1044 | 1142 | 1143 | 1227 | 1370 => ErrorKind::InsufficientPrivilege,
            1040 | 1203 => ErrorKind::Unreachable,
            _ => ErrorKind::Query,
        },
        Error::Io(IoError::Tls(_)) => ErrorKind::Tls,
        Error::Io(IoError::Io(io)) => match io.kind() {
            std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
            std::io::ErrorKind::InvalidData => ErrorKind::Tls,
            _ => ErrorKind::Unreachable,
        },
        Error::Driver(DriverError::NoClientSslFlagFromServer) => ErrorKind::Tls,
        Error::Driver(DriverError::ConnectionClosed) => ErrorKind::Unreachable,
        Error::Driver(_) => ErrorKind::Query,
        Error::Other(_) => ErrorKind::Unreachable,
        _ => ErrorKind::Query,
    };
    EngineError::new(kind, format!("{context}: {}", chain(&e)))
}

fn ssl_opts(target: &Target, opts: &ConnectOptions) -> Option<SslOpts> {
    let with_ca = |ssl: SslOpts| match &opts.ca_file {
        Some(path) => ssl.with_root_certs(vec![path.clone().into()]),
        None => ssl,
    };
    match target.tls {
        TlsMode::Disable => None,
        TlsMode::VerifyFull => Some(with_ca(SslOpts::default())),
        TlsMode::VerifyCa => Some(with_ca(SslOpts::default()).with_danger_skip_domain_validation(true)),
        TlsMode::Require => {
            Some(SslOpts::default().with_danger_accept_invalid_certs(true).with_danger_skip_domain_validation(true))
        }
    }
}

/// What the server said of itself, once its version is known to be supported.
pub struct Server {
    pub version: String,
    /// The `*_priv` columns of `mysql.user` (read with the version, in the same round trip).
    pub priv_columns: Vec<String>,
    pub flavor: Flavor,
    pub lower_case_table_names: u32,
    pub default_password_lifetime: i64,
    /// When the catalog was read (password lifetimes are measured from it).
    pub now: time::OffsetDateTime,
    /// `CURRENT_USER()`: the collector's own account.
    pub current_user: Ident,
}

/// The catalog rows, as the query files return them.
#[derive(Debug, Default)]
pub struct Rows {
    /// MySQL's `server_mysql8` row (`@@partial_revokes`, `@@mandatory_roles`); none on MariaDB.
    pub mysql8_settings: Option<TextRow>,
    pub priv_columns: Vec<String>,
    pub user_privs: Vec<TextRow>,
    pub accounts: Vec<TextRow>,
    pub role_edges: Vec<TextRow>,
    pub default_roles: Vec<TextRow>,
    pub db_grants: Vec<TextRow>,
    pub table_grants: Vec<TextRow>,
    pub column_grants: Vec<TextRow>,
    pub dynamic_grants: Vec<TextRow>,
    pub proxies: Vec<TextRow>,
    pub proxy_settings: Vec<TextRow>,
    pub plugins: Vec<TextRow>,
    pub procs_grants: Vec<TextRow>,
    pub definer_routines: Vec<TextRow>,
    pub catalog_objects: Vec<TextRow>,
    pub enforced: Vec<TextRow>,
    /// `SHOW GRANTS` of every account and role in force, from the server's memory; `None` where it
    /// could not be shown.
    pub shown_grants: Vec<(Ident, Option<Vec<TextRow>>)>,
}

/// MySQL 8+/9 and MariaDB 10.4+ for [`super::collect_with`].
pub struct MysqlDriver;

/// The largest packet the driver accepts from the server: above every server's default, so a
/// catalog row is never refused.
const MAX_ALLOWED_PACKET: usize = 64 * 1024 * 1024;
/// The driver's idle limit (the server default); a collection's connection lives seconds.
const WAIT_TIMEOUT_SECS: usize = 28_800;

/// Timestamps come back in UTC. Sent with the first queries, not in a round trip of its own.
const SESSION_SETUP: &str = "SET time_zone = '+00:00'";

struct MysqlSession {
    conn: Conn,
    /// What [`super::tls_probe`] saw the same endpoint present.
    certificate: Option<String>,
    /// The session settings not sent yet.
    setup: Option<&'static str>,
}

#[async_trait]
impl Session for MysqlSession {
    async fn query(&mut self, name: &str, text: &str) -> Result<Vec<TextRow>, EngineError> {
        Ok(self.batch(&[(name, text)]).await?.pop().unwrap_or_default())
    }

    /// One multi-statement text, one round trip: the server answers with a result set per
    /// statement, in order, and stops at the first that fails (the one the error names).
    async fn batch(&mut self, queries: &[(&str, &str)]) -> Result<Vec<Vec<TextRow>>, EngineError> {
        let Some((first, _)) = queries.first() else { return Ok(Vec::new()) };
        // Each text on its own lines: a trailing comment cannot swallow the separator.
        let mut text: Vec<&str> = queries.iter().map(|(_, t)| t.trim_end().trim_end_matches(';')).collect();
        let setup = self.setup.take();
        if let Some(setup) = setup {
            text.insert(0, setup);
        }
        let mut result = self.conn.query_iter(text.join("\n;\n")).await.map_err(|e| match setup {
            Some(_) => map_err("setting the session's time zone to UTC", e),
            None => map_err(&format!("query {first}"), e),
        })?;
        if setup.is_some() {
            // Its answer is an OK packet: no rows.
            result.collect::<mysql_async::Row>().await.map_err(|e| map_err(&format!("query {first}"), e))?;
        }
        let mut out = Vec::with_capacity(queries.len());
        for (name, _) in queries {
            let rows: Vec<mysql_async::Row> =
                result.collect().await.map_err(|e| map_err(&format!("query {name}"), e))?;
            out.push(rows.iter().map(text_row).collect());
        }
        result.drop_result().await.map_err(|e| map_err("reading the end of the catalog queries", e))?;
        Ok(out)
    }

    fn server_certificate_sha256(&self) -> Option<String> {
        self.certificate.clone()
    }

    async fn close(self: Box<Self>) {
        let _ = self.conn.disconnect().await;
    }
}

impl Classify for Catalog {
    fn classify(&self) -> Vec<dbadmin_contracts::Principal> {
        Catalog::classify(self)
    }

    fn principals_examined(&self) -> u32 {
        self.accounts.len() as u32
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }
}

#[async_trait]
impl Driver for MysqlDriver {
    type Server = Server;
    type Rows = Rows;
    type Catalog = Catalog;

    async fn connect(
        target: &Target,
        creds: &DbCredentials,
        opts: &ConnectOptions,
    ) -> Result<Box<dyn Session>, EngineError> {
        let builder = OptsBuilder::default()
            .ip_or_hostname(target.host.clone())
            .tcp_port(target.port)
            .user(Some(creds.username.clone()))
            .pass(Some(creds.password.clone()))
            .prefer_socket(false)
            // Known limits, so the driver does not ask the server for them in a round trip of its own.
            .max_allowed_packet(Some(MAX_ALLOWED_PACKET))
            .wait_timeout(Some(WAIT_TIMEOUT_SECS))
            .stmt_cache_size(0)
            .ssl_opts(ssl_opts(target, opts));
        let endpoint = format!("{}:{}", target.host, target.port);
        let what = format!("connecting to {endpoint}");
        let connect =
            within(opts.connect_timeout, &what, async { Conn::new(builder).await.map_err(|e| map_err(&what, e)) });
        // The driver hides the certificate: a handshake of our own reads it, at the same time.
        let (conn, certificate) = tokio::join!(connect, super::tls_probe::mysql_certificate(target, opts));
        let conn = conn?;
        let certificate = match certificate {
            Ok(sha256) => sha256,
            Err(e) => {
                // The catalog connection verified the server as its mode says; only the fingerprint is missing.
                tracing::warn!(error = %e, "the server certificate could not be read; its column stays empty");
                None
            }
        };
        Ok(Box::new(MysqlSession { conn, certificate, setup: Some(SESSION_SETUP) }))
    }

    /// Two round trips: the version and the privilege columns, then every catalog query of the
    /// flavour (which the first answers choose and shape).
    async fn read(reader: &mut Reader<'_>, target: &Target) -> Result<(Server, Rows), EngineError> {
        let server = MysqlDriver::server(reader).await?;
        let mut rows = MysqlDriver::rows(reader, &server, target).await?;
        rows.shown_grants = MysqlDriver::shown_grants(reader, &server, &rows).await?;
        Ok((server, rows))
    }

    fn catalog(server: &Server, rows: Rows) -> Catalog {
        from_rows(server, rows)
    }

    fn describe(server: &Server) -> String {
        server.version.clone()
    }
}

impl MysqlDriver {
    /// One more round trip: `SHOW GRANTS` for every account in force (`USER_PRIVILEGES`) and every
    /// MariaDB role (not in that view), each statement on its own. Should one fail (an account
    /// dropped from memory in between), each is asked again alone, so one failure hides no other.
    async fn shown_grants(
        reader: &mut Reader<'_>,
        server: &Server,
        rows: &Rows,
    ) -> Result<Vec<(Ident, Option<Vec<TextRow>>)>, EngineError> {
        // MariaDB prints a user's password hash in its SHOW GRANTS answer (IDENTIFIED BY PASSWORD
        // '…', IDENTIFIED VIA … USING '…'), which the collector never reads: there only roles, which
        // have none, are asked.
        let asked: BTreeSet<Ident> = match server.flavor {
            Flavor::Mysql => rows.enforced.iter().filter_map(|r| parse_grantee(cell(r, 0))).collect(),
            Flavor::Mariadb => rows
                .accounts
                .iter()
                .filter(|r| flag(r, 2) && cell(r, 0) != "PUBLIC")
                .map(|r| (cell(r, 0).to_owned(), String::new()))
                .collect(),
        };
        let asked: Vec<Ident> = asked.into_iter().collect();
        let texts: Vec<String> = asked
            .iter()
            .map(|(user, host)| {
                let account = if server.flavor == Flavor::Mariadb && host.is_empty() {
                    quote_ident(user)
                } else {
                    format!("{}@{}", quote_ident(user), quote_ident(host))
                };
                SHOW_GRANTS.1.replace("{account}", &account)
            })
            .collect();
        let queries: Vec<(&str, &str)> = texts.iter().map(|t| (SHOW_GRANTS.0, t.as_str())).collect();
        if queries.is_empty() {
            return Ok(Vec::new());
        }
        let answers: Vec<Option<Vec<TextRow>>> = match reader.batch(&queries).await {
            Ok(all) => all.into_iter().map(Some).collect(),
            Err(_) => reader.batch_each(&queries).await?.into_iter().map(Result::ok).collect(),
        };
        Ok(asked.into_iter().zip(answers).collect())
    }

    /// One round trip: the version and the privilege columns (which shape the next round trip's
    /// queries).
    async fn server(reader: &mut Reader<'_>) -> Result<Server, EngineError> {
        let [rows, columns]: [Vec<TextRow>; 2] =
            reader.batch(&[SERVER, PRIV_COLUMNS]).await?.try_into().expect("one result per query");
        let row = rows.first().ok_or_else(|| EngineError::new(ErrorKind::Query, "server variables returned no row"))?;
        let version = cell(row, 0).to_owned();
        let flavor = if version.to_ascii_lowercase().contains("mariadb") { Flavor::Mariadb } else { Flavor::Mysql };
        let (major, minor) = parse_version(&version).unwrap_or((0, 0));
        let supported = match flavor {
            Flavor::Mysql => major >= 8,
            Flavor::Mariadb => (major, minor) >= (10, 4),
        };
        if !supported {
            return Err(EngineError::new(
                ErrorKind::UnsupportedVersion,
                format!("server version {version} is not supported (MySQL 8.0+ or MariaDB 10.4+ required)"),
            ));
        }
        // MariaDB's mysql.user is a view an admin can redefine: its privileges are read from the
        // bits of mysql.global_priv, named as the view's columns.
        let priv_columns: Vec<String> = match flavor {
            Flavor::Mysql => columns.iter().map(|r| cell(r, 0).to_owned()).collect(),
            Flavor::Mariadb => MARIADB_PRIV_BITS.iter().map(|c| (*c).to_owned()).collect(),
        };
        if priv_columns.is_empty() {
            return Err(EngineError::new(
                ErrorKind::InsufficientPrivilege,
                "cannot see the columns of mysql.user: the login needs SELECT on the mysql schema",
            ));
        }
        Ok(Server {
            priv_columns,
            lower_case_table_names: cell(row, 2).parse().unwrap_or(0),
            default_password_lifetime: cell(row, 3).parse().unwrap_or(0),
            current_user: split_account(cell(row, 4)),
            version,
            flavor,
            now: time::OffsetDateTime::now_utc(),
        })
    }

    /// One round trip: every catalog query of the flavour, as one multi-statement text.
    async fn rows(reader: &mut Reader<'_>, server: &Server, _target: &Target) -> Result<Rows, EngineError> {
        let mut rows = Rows { priv_columns: server.priv_columns.clone(), ..Rows::default() };
        // Every identifier spliced into SQL is quoted, backticks doubled.
        let column_list = server.priv_columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
        let user_privs_text = USER_PRIVS.1.replace("{priv_columns}", &column_list);
        let user_privs = (USER_PRIVS.0, user_privs_text.as_str());
        let queries: Vec<(&str, &str)> = match server.flavor {
            Flavor::Mysql => vec![
                SERVER_MYSQL8,
                user_privs,
                ACCOUNTS_MYSQL,
                ROLE_EDGES_MYSQL,
                DEFAULT_ROLES_MYSQL,
                DYNAMIC_GRANTS,
                DEFINER_ROUTINES_MYSQL,
            ],
            // MariaDB: accounts and privileges from mysql.global_priv, never the mysql.user view.
            Flavor::Mariadb => vec![ACCOUNTS_MARIADB, ROLE_EDGES_MARIADB, DEFINER_ROUTINES_MARIADB],
        };
        let shared = [
            DB_GRANTS,
            TABLE_GRANTS,
            COLUMN_GRANTS,
            PROXIES,
            PROXY_SETTINGS,
            PLUGINS,
            PROCS_GRANTS,
            CATALOG_OBJECTS,
            ENFORCED_PRIVILEGES,
        ];
        let all: Vec<(&str, &str)> = queries.into_iter().chain(shared).collect();
        let mut answers = reader.batch(&all).await?.into_iter();
        let mut next = || answers.next().unwrap_or_default();
        if server.flavor == Flavor::Mysql {
            rows.mysql8_settings = next().into_iter().next();
            (rows.user_privs, rows.accounts, rows.role_edges, rows.default_roles) = (next(), next(), next(), next());
            (rows.dynamic_grants, rows.definer_routines) = (next(), next());
        } else {
            (rows.accounts, rows.role_edges, rows.definer_routines) = (next(), next(), next());
        }
        (rows.db_grants, rows.table_grants, rows.column_grants) = (next(), next(), next());
        (rows.proxies, rows.proxy_settings, rows.plugins, rows.procs_grants) = (next(), next(), next(), next());
        rows.catalog_objects = next();
        rows.enforced = next();
        Ok(rows)
    }
}

/// A MySQL identifier in backticks, any backtick in it doubled.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `user@host` (as `CURRENT_USER()` and routine definers are written; a MariaDB role has no host).
pub fn split_account(s: &str) -> Ident {
    match s.rsplit_once('@') {
        Some((u, h)) => (u.trim_matches('`').to_owned(), h.trim_matches('`').to_owned()),
        None => (s.to_owned(), String::new()),
    }
}

fn text_row(row: &mysql_async::Row) -> TextRow {
    (0..row.len())
        .map(|i| match row.as_ref(i) {
            None | Some(Value::NULL) => None,
            Some(Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            Some(Value::Int(v)) => Some(v.to_string()),
            Some(Value::UInt(v)) => Some(v.to_string()),
            Some(Value::Float(v)) => Some(v.to_string()),
            Some(Value::Double(v)) => Some(v.to_string()),
            Some(other) => Some(other.as_sql(true)),
        })
        .collect()
}

/// `(major, minor)` from a version string like `8.0.36`, `9.7.4-2` or `10.11.6-MariaDB-0+deb12u1`.
pub fn parse_version(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Parses `@@mandatory_roles`: `` `r1`@`%`,r2@localhost,r3 `` (host defaults to `%`).
pub fn parse_role_list(s: &str) -> Vec<Ident> {
    let mut out = Vec::new();
    let mut parts = Vec::new();
    let (mut cur, mut quote) = (String::new(), None);
    for c in s.chars() {
        match (c, quote) {
            ('`' | '\'' | '"', None) => quote = Some(c),
            (c2, Some(q)) if c2 == q => quote = None,
            (',', None) => parts.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(if c == '@' && quote.is_none() { '\u{0}' } else { c }),
        }
    }
    parts.push(cur);
    for p in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let (u, h) = p.split_once('\u{0}').unwrap_or((p, "%"));
        out.push((u.trim().to_owned(), h.trim().to_owned()));
    }
    out
}

/// `(user, host, user, host)` rows: grantee or account first, role second.
fn ident_pair(r: &TextRow) -> (Ident, Ident) {
    ((cell(r, 0).into(), cell(r, 1).into()), (cell(r, 2).into(), cell(r, 3).into()))
}

fn privs(row: &TextRow, from: usize, names: &[&str]) -> BTreeSet<String> {
    names.iter().enumerate().filter(|(i, _)| flag(row, from + i)).map(|(_, n)| (*n).to_owned()).collect()
}

/// `Select,Insert,Grant` (a `tables_priv.Table_priv` SET) as privilege names.
fn table_privs(set: &str) -> BTreeSet<String> {
    set.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| if p.eq_ignore_ascii_case("grant") { "GRANT OPTION".to_owned() } else { p.to_uppercase() })
        .collect()
}

fn parse_time(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// Maps the rows of the query files to the model's catalog. Pure: tested on recorded rows.
pub fn from_rows(server: &Server, rows: Rows) -> Catalog {
    let mut default_roles = Vec::new();
    let accounts = match server.flavor {
        Flavor::Mysql => {
            let mut accounts = global_privileges(&rows.priv_columns, &rows.user_privs);
            account_state_mysql(&mut accounts, &rows.accounts);
            default_roles.extend(rows.default_roles.iter().map(ident_pair));
            accounts
        }
        Flavor::Mariadb => {
            let mut accounts = BTreeMap::new();
            default_roles.extend(account_state_mariadb(&mut accounts, &rows.accounts));
            accounts
        }
    };
    let mut accounts = accounts;
    let mut dynamic_rows = rows.dynamic_grants.clone();
    let mut rows = rows;
    if server.flavor == Flavor::Mariadb {
        let roles = role_privileges_in_force(&accounts, &rows.shown_grants);
        rows.enforced.extend(roles);
    }
    let mut warnings = enforced_state(server.flavor, &mut accounts, &mut dynamic_rows, &rows.enforced);
    warnings.extend(enforced_role_grants(server.flavor, &mut accounts, &mut rows.role_edges, &rows.shown_grants));
    warnings.extend(routine_visibility(server, &rows));
    warnings.extend(catalog_objects(server.flavor, &rows.catalog_objects));
    let definer_routines = definer_routines(&rows.definer_routines);
    let settings = server_settings(&rows);
    Catalog {
        admin_option_edges: rows.role_edges.iter().filter(|r| flag(r, 4)).map(ident_pair).collect(),
        proxies: proxies(&rows.proxies),
        routine_grants: routine_grants(&rows.procs_grants),
        definer_routines,
        settings,
        warnings,
        flavor: server.flavor,
        priv_columns: rows.priv_columns.into_iter().collect(),
        accounts: accounts.into_values().collect(),
        db_grants: db_grants(&rows.db_grants),
        table_grants: table_grants(&rows.table_grants),
        column_grants: column_grants(&rows.column_grants),
        dynamic_grants: dynamic_grants(&dynamic_rows),
        role_edges: rows.role_edges.iter().map(ident_pair).collect(),
        default_roles,
        // MySQL 8+'s `@@mandatory_roles` and `@@partial_revokes` arrive with the catalog rows.
        mandatory_roles: rows.mysql8_settings.as_ref().map(|r| parse_role_list(cell(r, 1))).unwrap_or_default(),
        partial_revokes: rows.mysql8_settings.as_ref().is_some_and(|r| flag(r, 0)),
        lower_case_table_names: server.lower_case_table_names,
        default_password_lifetime: server.default_password_lifetime,
        now: server.now,
    }
}

/// `SQL SECURITY DEFINER` routines (definer_routines.sql).
fn definer_routines(rows: &[TextRow]) -> Vec<DefinerRoutine> {
    rows.iter()
        .map(|r| DefinerRoutine {
            db: cell(r, 0).into(),
            name: cell(r, 1).into(),
            kind: cell(r, 2).to_uppercase(),
            definer: split_account(cell(r, 3)),
            runs_sql_from_arguments: opt(r, 4).map(routine_runs_sql),
        })
        .collect()
}

/// The server variables that decide whether a proxy grant works, and the active plugins.
fn server_settings(rows: &Rows) -> ServerSettings {
    ServerSettings {
        variables: rows
            .proxy_settings
            .iter()
            .map(|r| (cell(r, 0).to_ascii_lowercase(), cell(r, 1).to_owned()))
            .collect(),
        active_plugins: rows
            .plugins
            .iter()
            .filter(|r| cell(r, 1).eq_ignore_ascii_case("active"))
            .map(|r| cell(r, 0).to_ascii_lowercase())
            .collect(),
    }
}

fn proxies(rows: &[TextRow]) -> Vec<ProxyGrant> {
    rows.iter()
        .map(|r| ProxyGrant {
            grantee: (cell(r, 0).into(), cell(r, 1).into()),
            proxied: (cell(r, 2).into(), cell(r, 3).into()),
        })
        .collect()
}

fn routine_grants(rows: &[TextRow]) -> Vec<RoutineGrant> {
    rows.iter()
        .map(|r| RoutineGrant {
            grantee: (cell(r, 0).into(), cell(r, 1).into()),
            db: cell(r, 2).into(),
            name: cell(r, 3).into(),
            kind: cell(r, 4).into(),
            execute: cell(r, 5).split(',').any(|p| p.trim().eq_ignore_ascii_case("execute")),
        })
        .collect()
}

fn db_grants(rows: &[TextRow]) -> Vec<DbGrant> {
    const DB_PRIVS: [&str; 9] =
        ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "GRANT OPTION", "EXECUTE"];
    rows.iter()
        .map(|r| DbGrant {
            user: cell(r, 0).into(),
            host: cell(r, 1).into(),
            db: cell(r, 2).into(),
            privs: privs(r, 3, &DB_PRIVS),
        })
        .collect()
}

fn table_grants(rows: &[TextRow]) -> Vec<TableGrant> {
    rows.iter()
        .map(|r| TableGrant {
            user: cell(r, 0).into(),
            host: cell(r, 1).into(),
            table: cell(r, 2).into(),
            privs: table_privs(cell(r, 3)),
        })
        .collect()
}

fn column_grants(rows: &[TextRow]) -> Vec<ColumnGrant> {
    rows.iter()
        .map(|r| ColumnGrant {
            user: cell(r, 0).into(),
            host: cell(r, 1).into(),
            table: cell(r, 2).into(),
            column: cell(r, 3).into(),
            privs: table_privs(cell(r, 4)),
        })
        .collect()
}

fn dynamic_grants(rows: &[TextRow]) -> Vec<DynamicGrant> {
    rows.iter()
        .map(|r| DynamicGrant {
            user: cell(r, 0).into(),
            host: cell(r, 1).into(),
            privilege: cell(r, 2).into(),
            with_grant_option: flag(r, 3),
        })
        .collect()
}

/// `mysql.user`'s `*_priv` columns set to `Y`, per account.
fn global_privileges(priv_columns: &[String], rows: &[TextRow]) -> BTreeMap<Ident, Account> {
    rows.iter()
        .map(|r| {
            let ident = (cell(r, 0).to_owned(), cell(r, 1).to_owned());
            let global_privs =
                priv_columns.iter().enumerate().filter(|(i, _)| flag(r, 2 + i)).map(|(_, c)| c.clone()).collect();
            (ident.clone(), Account { user: ident.0, host: ident.1, global_privs, ..Default::default() })
        })
        .collect()
}

/// MySQL 8+: locking, password state and partial revokes (accounts_mysql.sql).
fn account_state_mysql(accounts: &mut BTreeMap<Ident, Account>, rows: &[TextRow]) {
    for r in rows {
        let Some(a) = accounts.get_mut(&(cell(r, 0).to_owned(), cell(r, 1).to_owned())) else { continue };
        a.locked = flag(r, 2);
        a.password_expired_flag = flag(r, 3);
        a.password_last_changed = opt(r, 4).and_then(parse_time);
        a.password_lifetime_days = opt(r, 5).and_then(|v| v.parse().ok());
        a.plugin = opt(r, 6).map(str::to_owned);
        a.password_set = Some(flag(r, 7));
        a.restrictions = parse_restrictions(opt(r, 8));
    }
}

/// MariaDB 10.4+: roles, locking, password state and split privileges from `mysql.global_priv`
/// (accounts_mariadb.sql). Returns each account's default role.
fn account_state_mariadb(accounts: &mut BTreeMap<Ident, Account>, rows: &[TextRow]) -> Vec<(Ident, Ident)> {
    let mut default_roles = Vec::new();
    for r in rows {
        let ident = (cell(r, 0).to_owned(), cell(r, 1).to_owned());
        let access: Option<u64> = opt(r, 9).and_then(|a| a.parse().ok());
        let global_privs = MARIADB_PRIV_BITS
            .iter()
            .enumerate()
            .filter(|(bit, _)| access.is_some_and(|a| a & (1u64 << bit) != 0))
            .map(|(_, c)| (*c).to_owned())
            .collect();
        let a = accounts.entry(ident.clone()).or_insert_with(|| Account {
            user: ident.0.clone(),
            host: ident.1.clone(),
            global_privs,
            ..Default::default()
        });
        a.is_role = flag(r, 2);
        a.locked = flag(r, 3);
        // MariaDB: password_last_changed is a Unix time; 0 means "expired by ALTER USER … PASSWORD EXPIRE".
        let changed: Option<i64> = opt(r, 4).and_then(|v| v.parse().ok());
        a.password_expired_flag = changed == Some(0) && !a.is_role;
        a.password_last_changed =
            changed.filter(|t| *t > 0).and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok());
        // -1: the server default; 0: never.
        a.password_lifetime_days = opt(r, 5).and_then(|v| v.parse::<i64>().ok()).filter(|d| *d >= 0);
        a.plugin = opt(r, 6).map(str::to_owned);
        a.password_set = if a.is_role { None } else { Some(flag(r, 7)) };
        if let Some(role) = opt(r, 8).filter(|d| !d.is_empty()) {
            default_roles.push((ident.clone(), (role.to_owned(), String::new())));
        }
        a.extra_privs = split_super_privs(opt(r, 9));
    }
    default_roles
}

/// Global privileges compared between the grant tables and what the server enforces: those that
/// decide admin or elevated, by `mysql.user` column and by the name `USER_PRIVILEGES` gives them.
const ENFORCED_COMPARED: [(&str, &str); 14] = [
    ("Super_priv", "SUPER"),
    ("Create_user_priv", "CREATE USER"),
    ("Insert_priv", "INSERT"),
    ("Update_priv", "UPDATE"),
    ("Delete_priv", "DELETE"),
    ("Create_priv", "CREATE"),
    ("Drop_priv", "DROP"),
    ("Alter_priv", "ALTER"),
    ("File_priv", "FILE"),
    ("Process_priv", "PROCESS"),
    ("Shutdown_priv", "SHUTDOWN"),
    ("Reload_priv", "RELOAD"),
    ("Select_priv", "SELECT"),
    ("Execute_priv", "EXECUTE"),
];

/// Cross-checks the grant tables with the privileges in force (`USER_PRIVILEGES`, from the server's
/// memory). Where they differ, the report holds both: a privilege in force that the tables lost
/// (removed without `FLUSH PRIVILEGES`) is added to the account, noted, because the server still
/// grants it; one the tables gained is kept, noted pending (it takes effect at the next flush or
/// restart). Each difference is also a catalog warning naming both sources. MariaDB roles are not in
/// `USER_PRIVILEGES`: their rows in force come from `SHOW GRANTS` ([`role_privileges_in_force`]), and
/// a role is compared only when it was shown.
fn enforced_state(
    flavor: Flavor,
    accounts: &mut BTreeMap<Ident, Account>,
    dynamic: &mut Vec<TextRow>,
    enforced_rows: &[TextRow],
) -> Vec<String> {
    if enforced_rows.is_empty() {
        return vec!["information_schema.USER_PRIVILEGES returned nothing: the grant tables could not be checked against the privileges in force".to_owned()];
    }
    let mut enforced: BTreeMap<Ident, BTreeSet<String>> = BTreeMap::new();
    for r in enforced_rows {
        let Some(ident) = parse_grantee(cell(r, 0)) else { continue };
        let privileges = enforced.entry(ident).or_default();
        privileges.insert(cell(r, 1).to_ascii_uppercase());
        if flag(r, 2) {
            privileges.insert("GRANT OPTION".to_owned());
        }
    }
    let compared = |name: &str| {
        ENFORCED_COMPARED.iter().any(|(_, n)| *n == name)
            || name == "GRANT OPTION"
            || (flavor == Flavor::Mysql && crate::model::mysql::is_admin_dynamic(name))
    };
    let mut out = Vec::new();
    let stored_of = |a: &Account, dynamic: &[TextRow]| -> BTreeSet<String> {
        let mut s: BTreeSet<String> = ENFORCED_COMPARED
            .iter()
            .filter(|(col, _)| a.global_privs.contains(*col))
            .map(|(_, n)| (*n).to_owned())
            .collect();
        if a.global_privs.contains("Grant_priv") {
            s.insert("GRANT OPTION".to_owned());
        }
        s.extend(
            dynamic
                .iter()
                .filter(|r| cell(r, 0) == a.user && cell(r, 1) == a.host)
                .map(|r| cell(r, 2).to_ascii_uppercase())
                .filter(|p| flavor == Flavor::Mysql && crate::model::mysql::is_admin_dynamic(p)),
        );
        s
    };
    for (ident, account) in
        accounts.iter_mut().filter(|(i, a)| !(flavor == Flavor::Mariadb && a.is_role) || enforced.contains_key(*i))
    {
        let who = crate::model::mysql::display(ident);
        let stored = stored_of(account, dynamic);
        let Some(in_force) = enforced.get(ident) else {
            out.push(format!("{who} is in the grant tables but not among the accounts in force: reported as it will be after the next FLUSH PRIVILEGES or restart"));
            account.notes.push(
                "pending: in the grant tables, not yet in force (no FLUSH PRIVILEGES since it was written)".to_owned(),
            );
            continue;
        };
        let in_force: BTreeSet<String> = in_force.iter().filter(|p| compared(p)).cloned().collect();
        let pending: Vec<&String> = stored.difference(&in_force).collect();
        let lost: Vec<String> = in_force.difference(&stored).cloned().collect();
        if !pending.is_empty() {
            out.push(format!("{who}: the grant tables hold {pending:?}, which the server does not enforce yet (pending the next FLUSH PRIVILEGES or restart)"));
            account.notes.push(format!("pending: {pending:?} written to the grant tables, not yet in force"));
        }
        if !lost.is_empty() {
            out.push(format!("{who}: the server enforces {lost:?}, which the grant tables no longer hold (removed without FLUSH PRIVILEGES): in force until then, and reported"));
            account
                .notes
                .push(format!("in force but not in the grant tables: {lost:?} (removed without FLUSH PRIVILEGES)"));
            grant(account, dynamic, &lost);
        }
    }
    for (ident, in_force) in &enforced {
        if accounts.contains_key(ident) {
            continue;
        }
        let who = crate::model::mysql::display(ident);
        let privileges: Vec<String> = in_force.iter().filter(|p| compared(p)).cloned().collect();
        out.push(format!("{who} is in force on the server but not in the grant tables (removed without FLUSH PRIVILEGES): it can still log in, and is reported with the privileges in force"));
        let mut account = Account { user: ident.0.clone(), host: ident.1.clone(), ..Default::default() };
        account.notes.push("in force but not in the grant tables (removed without FLUSH PRIVILEGES): can still log in until the next flush or restart".to_owned());
        grant(&mut account, dynamic, &privileges);
        accounts.insert(ident.clone(), account);
    }
    out
}

/// MariaDB roles' global privileges in force, as `USER_PRIVILEGES` rows (`'role'@''`, privilege,
/// grantable), read from their `SHOW GRANTS` lines `GRANT … ON *.* TO `role``: that view leaves roles
/// out. `ALL PRIVILEGES` stands for every privilege compared.
fn role_privileges_in_force(
    accounts: &BTreeMap<Ident, Account>,
    shown: &[(Ident, Option<Vec<TextRow>>)],
) -> Vec<TextRow> {
    let mut out = Vec::new();
    for (ident, lines) in shown {
        let (Some(lines), Some(account)) = (lines, accounts.get(ident)) else { continue };
        if !account.is_role {
            continue;
        }
        let grantee = format!("'{}'@''", ident.0.replace('\'', "''"));
        // A role's own row says USAGE when it holds nothing: it is in force all the same.
        out.push(vec![Some(grantee.clone()), Some("USAGE".to_owned()), Some("NO".to_owned())]);
        for line in lines.iter().filter_map(|r| parse_grant_line(cell(r, 0), Flavor::Mariadb)) {
            let Some((privileges, on)) = line.privileges.filter(|_| &line.grantee == ident) else { continue };
            if on != "*.*" {
                continue;
            }
            let grantable = if line.with_option { "YES" } else { "NO" };
            let names: Vec<String> = if privileges.trim() == "ALL PRIVILEGES" {
                ENFORCED_COMPARED.iter().map(|(_, n)| (*n).to_owned()).collect()
            } else {
                privileges.split(',').map(|p| p.trim().to_ascii_uppercase()).collect()
            };
            out.extend(names.into_iter().map(|n| vec![Some(grantee.clone()), Some(n), Some(grantable.to_owned())]));
        }
    }
    out
}

/// `'user'@'host'` as `USER_PRIVILEGES` writes a grantee (quotes inside doubled).
fn parse_grantee(grantee: &str) -> Option<Ident> {
    let (u, h) = grantee.strip_prefix('\'')?.strip_suffix('\'')?.rsplit_once("'@'")?;
    Some((u.replace("''", "'"), h.replace("''", "'")))
}

/// One `SHOW GRANTS` line: `` GRANT `r`@`%`,`s`@`%` TO `u`@`h` [WITH ADMIN OPTION] `` grants roles
/// (MariaDB writes a role without a host), `` GRANT SELECT, FILE ON *.* TO `u`@`h` [WITH GRANT
/// OPTION] `` privileges. MariaDB's answer for a role also holds the lines of the roles granted to
/// it, so each line says whom it is for.
#[derive(Debug, PartialEq, Eq)]
pub struct GrantLine {
    pub grantee: Ident,
    /// The roles granted, or empty for a privilege grant.
    pub roles: Vec<Ident>,
    /// `(privileges, on)` of a privilege grant, e.g. `("SELECT, FILE", "*.*")`.
    pub privileges: Option<(String, String)>,
    /// WITH ADMIN OPTION (roles) or WITH GRANT OPTION (privileges).
    pub with_option: bool,
}

/// Parses a `SHOW GRANTS` line; `None` for any line that is not a GRANT (`SET DEFAULT ROLE …`).
/// Quotes are honoured: a name may hold ` TO `, ` ON `, `,`, `@` or spaces.
pub fn parse_grant_line(line: &str, flavor: Flavor) -> Option<GrantLine> {
    // The line with every quoted byte masked, so keywords and separators are found outside names.
    let mut quote = None;
    let masked: Vec<u8> = line
        .bytes()
        .map(|b| match (b, quote) {
            (b'`' | b'\'' | b'"', None) => {
                quote = Some(b);
                b
            }
            (b, Some(q)) if b == q => {
                quote = None;
                b
            }
            (_, Some(_)) => b'x',
            (b, None) => b,
        })
        .collect();
    let masked = String::from_utf8_lossy(&masked).into_owned();
    let body = masked.strip_prefix("GRANT ")?;
    let to = "GRANT ".len() + body.find(" TO ")?;
    let after = to + " TO ".len();
    let grantee_end = masked[after..].find(' ').map_or(masked.len(), |i| after + i);
    let ident = |from: usize, to: usize| {
        let (piece, piece_masked) = (&line[from..to], &masked[from..to]);
        let unquote = |s: &str| {
            let s = s.trim();
            match s.chars().next() {
                Some(q @ ('`' | '\'' | '"')) if s.len() >= 2 && s.ends_with(q) => {
                    s[1..s.len() - 1].replace(&format!("{q}{q}"), &q.to_string())
                }
                _ => s.to_owned(),
            }
        };
        match piece_masked.find('@') {
            Some(at) => (unquote(&piece[..at]), unquote(&piece[at + 1..])),
            None => (unquote(piece), if flavor == Flavor::Mariadb { String::new() } else { "%".to_owned() }),
        }
    };
    let grantee = ident(after, grantee_end);
    let tail = &masked[grantee_end..];
    let granted = &masked["GRANT ".len()..to];
    if let Some(on) = granted.find(" ON ") {
        let at = "GRANT ".len();
        return Some(GrantLine {
            grantee,
            roles: Vec::new(),
            privileges: Some((line[at..at + on].trim().to_owned(), line[at + on + 4..to].trim().to_owned())),
            with_option: tail.contains("WITH GRANT OPTION"),
        });
    }
    let mut roles = Vec::new();
    let mut from = "GRANT ".len();
    for comma in granted.match_indices(',').map(|(i, _)| "GRANT ".len() + i).chain([to]) {
        roles.push(ident(from, comma));
        from = comma + 1;
    }
    Some(GrantLine { grantee, roles, privileges: None, with_option: tail.contains("WITH ADMIN OPTION") })
}

/// Cross-checks the role grants in the tables (`role_edges`) with those the server holds in memory
/// (`SHOW GRANTS`), like [`enforced_state`] for privileges: a role grant in force that the tables
/// lost is added, noted; one the tables hold but the server does not yet is kept, noted pending.
/// Each difference is a catalog warning naming both sources.
fn enforced_role_grants(
    flavor: Flavor,
    accounts: &mut BTreeMap<Ident, Account>,
    role_edges: &mut Vec<TextRow>,
    shown: &[(Ident, Option<Vec<TextRow>>)],
) -> Vec<String> {
    let display = crate::model::mysql::display;
    let mut out = Vec::new();
    for (grantee, lines) in shown {
        let who = display(grantee);
        let Some(lines) = lines else {
            out.push(format!(
                "SHOW GRANTS FOR {who} failed: its role grants in force could not be compared with the tables"
            ));
            continue;
        };
        let in_force: BTreeMap<Ident, bool> = lines
            .iter()
            .filter_map(|r| parse_grant_line(cell(r, 0), flavor))
            .filter(|g| &g.grantee == grantee)
            .flat_map(|g| g.roles.into_iter().map(move |role| (role, g.with_option)))
            .collect();
        let stored: BTreeSet<Ident> = role_edges
            .iter()
            .filter(|r| cell(r, 0) == grantee.0 && cell(r, 1) == grantee.1)
            .map(|r| (cell(r, 2).to_owned(), cell(r, 3).to_owned()))
            .collect();
        let mut notes = Vec::new();
        for (role, admin) in in_force.iter().filter(|(role, _)| !stored.contains(*role)) {
            let role_name = display(role);
            out.push(format!("{who}: the server holds role {role_name} granted, which the grant tables no longer hold (removed without FLUSH PRIVILEGES): in force until then, and reported"));
            notes.push(format!(
                "in force but not in the grant tables: role {role_name} (removed without FLUSH PRIVILEGES)"
            ));
            let yes_no = if *admin { "Y" } else { "N" };
            role_edges.push(
                [&grantee.0, &grantee.1, &role.0, &role.1, yes_no].iter().map(|c| Some((*c).to_owned())).collect(),
            );
        }
        for role in stored.iter().filter(|role| !in_force.contains_key(*role)) {
            let role_name = display(role);
            out.push(format!("{who}: the grant tables grant role {role_name}, which the server does not enforce yet (pending the next FLUSH PRIVILEGES or restart)"));
            notes.push(format!("pending: role {role_name} written to the grant tables, not yet in force"));
        }
        if let Some(account) = accounts.get_mut(grantee) {
            account.notes.extend(notes);
        }
    }
    out
}

/// Gives `account` the named privileges (as `USER_PRIVILEGES` names them).
fn grant(account: &mut Account, dynamic: &mut Vec<TextRow>, privileges: &[String]) {
    for p in privileges {
        if let Some((col, _)) = ENFORCED_COMPARED.iter().find(|(_, n)| n == p) {
            account.global_privs.insert((*col).to_owned());
        } else if p == "GRANT OPTION" {
            account.global_privs.insert("Grant_priv".to_owned());
        } else {
            dynamic.push(vec![
                Some(account.user.clone()),
                Some(account.host.clone()),
                Some(p.clone()),
                Some("N".into()),
            ]);
        }
    }
}

/// Tamper evidence: every grant table read is a base table, and MariaDB's `mysql.user` is the stock
/// view over `mysql.global_priv` (no filter of its own). What is not the engine's own is named.
pub fn catalog_objects(flavor: Flavor, rows: &[TextRow]) -> Vec<String> {
    let mut out = Vec::new();
    for r in rows {
        let (table, kind) = (cell(r, 0).to_ascii_lowercase(), cell(r, 1));
        if flavor == Flavor::Mariadb && table == "user" {
            let definition = cell(r, 3).to_ascii_lowercase();
            let definer = cell(r, 2);
            if kind != "VIEW" {
                out.push(format!("mysql.user is a {kind}, not MariaDB's view over mysql.global_priv"));
            } else if definition.is_empty() {
                out.push(
                    "mysql.user's view definition could not be read (the collector's login needs SHOW VIEW on the mysql \
                     schema): whether it is MariaDB's own view is not verified"
                        .to_owned(),
                );
            } else if !definition.trim_end().ends_with("from `mysql`.`global_priv`")
                || definer != "mariadb.sys@localhost"
            {
                out.push(format!(
                    "mysql.user is not MariaDB's stock view (defined by {definer}, its definition ends \"…{}\"): an admin \
                     redefined it; the report reads mysql.global_priv, so its rows are not filtered by it",
                    tail(&definition, 80)
                ));
            }
        } else if kind != "BASE TABLE" {
            out.push(format!(
                "mysql.{table} is a {kind}, not the engine's base table: what it returns may be filtered, so the grants \
                 read from it are not the server's"
            ));
        }
    }
    out
}

fn tail(s: &str, n: usize) -> &str {
    let start = s.char_indices().rev().nth(n.saturating_sub(1)).map_or(0, |(i, _)| i);
    &s[start..]
}

/// MySQL keeps routines where only SHOW_ROUTINE (or global SELECT) shows them: say so when the
/// collector's own account holds neither (a routine it cannot see is not judged).
fn routine_visibility(server: &Server, rows: &Rows) -> Vec<String> {
    if server.flavor != Flavor::Mysql {
        return Vec::new();
    }
    let me = &server.current_user;
    let own = |r: &&TextRow| cell(r, 0) == me.0 && cell(r, 1) == me.1;
    let show_routine = rows.dynamic_grants.iter().filter(own).any(|r| cell(r, 2).eq_ignore_ascii_case("SHOW_ROUTINE"));
    let select_column = rows.priv_columns.iter().position(|c| c == "Select_priv");
    let global_select = select_column.is_some_and(|i| rows.user_privs.iter().filter(own).any(|r| flag(r, 2 + i)));
    if show_routine || global_select {
        return Vec::new();
    }
    vec![format!(
        "the collector's login {} holds neither SHOW_ROUTINE nor global SELECT: MySQL shows it no stored routine, so SQL SECURITY DEFINER routines were not judged",
        crate::model::mysql::display(me)
    )]
}

/// MariaDB 10.5+: the privileges split from SUPER, from `mysql.global_priv`'s `access` bit mask.
fn split_super_privs(access: Option<&str>) -> BTreeSet<String> {
    let Some(bits) = access.and_then(|a| a.parse::<u64>().ok()) else { return BTreeSet::new() };
    MARIADB_SPLIT_SUPER
        .iter()
        .filter(|(bit, ..)| bits & (1u64 << bit) != 0)
        .map(|(_, name, ..)| (*name).to_owned())
        .collect()
}

/// `[{"Database": "mysql", "Privileges": ["INSERT", …]}, …]` → schema → privileges.
fn parse_restrictions(json: Option<&str>) -> BTreeMap<String, BTreeSet<String>> {
    #[derive(serde::Deserialize)]
    struct R {
        #[serde(rename = "Database")]
        database: String,
        #[serde(rename = "Privileges", default)]
        privileges: Vec<String>,
    }
    let Some(json) = json.filter(|j| !j.is_empty() && *j != "null") else { return BTreeMap::new() };
    let parsed: Vec<R> = serde_json::from_str(json).unwrap_or_default();
    parsed.into_iter().map(|r| (r.database, r.privileges.into_iter().map(|p| p.to_uppercase()).collect())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions_role_lists_and_restrictions() {
        assert_eq!(parse_version("10.11.6-MariaDB-0+deb12u1"), Some((10, 11)));
        assert_eq!(parse_version("9.7.4-2"), Some((9, 7)));
        assert_eq!(
            parse_role_list("`r1`@`%`, r2@localhost,r3,`a,b`@`h`"),
            vec![
                ("r1".to_owned(), "%".to_owned()),
                ("r2".to_owned(), "localhost".to_owned()),
                ("r3".to_owned(), "%".to_owned()),
                ("a,b".to_owned(), "h".to_owned())
            ]
        );
        let r = parse_restrictions(Some(r#"[{"Database": "mysql", "Privileges": ["INSERT", "update"]}]"#));
        assert!(r["mysql"].contains("UPDATE"));
        assert_eq!(table_privs("Select,Grant"), BTreeSet::from(["SELECT".to_owned(), "GRANT OPTION".to_owned()]));
        // Bits read off MariaDB 10.11 after GRANT SET USER, CONNECTION ADMIN, READ_ONLY ADMIN.
        assert_eq!(
            split_super_privs(Some("13958643712")),
            BTreeSet::from(["SET USER".to_owned(), "CONNECTION ADMIN".to_owned(), "READ_ONLY ADMIN".to_owned()])
        );
        assert!(split_super_privs(Some("1")).is_empty());
    }

    /// A grant-table edit not yet flushed is reported as what it will be, marked pending.
    #[test]
    fn an_unflushed_grant_is_pending_and_a_removed_one_still_in_force() {
        let row = |g: &str, p: &str| vec![Some(g.to_owned()), Some(p.to_owned()), Some("NO".to_owned())];
        let mut accounts = BTreeMap::new();
        let mut a = Account { user: "ops".into(), host: "%".into(), ..Default::default() };
        a.global_privs.insert("Super_priv".into());
        accounts.insert(("ops".to_owned(), "%".to_owned()), a);
        let enforced = vec![row("'ops'@'%'", "USAGE"), row("'gone'@'%'", "CREATE USER")];
        let mut dynamic = Vec::new();
        let w = enforced_state(Flavor::Mysql, &mut accounts, &mut dynamic, &enforced);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("does not enforce yet") && w[0].contains("SUPER"), "{}", w[0]);
        assert!(accounts[&("ops".to_owned(), "%".to_owned())].notes[0].starts_with("pending"));
        let gone = &accounts[&("gone".to_owned(), "%".to_owned())];
        assert!(gone.global_privs.contains("Create_user_priv"), "reported with the privileges in force");
        assert!(w[1].contains("in force on the server but not in the grant tables"), "{}", w[1]);
    }

    #[test]
    fn no_query_selects_a_password_hash() {
        for (name, text) in ALL_QUERIES {
            let lower = crate::engine::without_comments(text).to_lowercase();
            for forbidden in ["`password`", " password,", "select *", ".*"] {
                assert!(!lower.contains(forbidden), "{name} must not select {forbidden}");
            }
            // Columns that hold hashes may only appear inside server-side tests that return no hash.
            for (column, allowed_before) in [
                ("authentication_string", &["length(", "json_value(g.priv, '$."][..]),
                ("user_attributes", &["json_extract("][..]),
            ] {
                for (i, _) in lower.match_indices(column) {
                    let before = &lower[..i];
                    assert!(
                        allowed_before.iter().any(|a| before.ends_with(a)),
                        "{name} uses {column} outside a narrowing expression"
                    );
                }
            }
        }
    }

    #[test]
    fn show_grants_lines_are_parsed_quotes_honoured() {
        use super::{parse_grant_line, GrantLine};
        let id = |u: &str, h: &str| (u.to_owned(), h.to_owned());
        let roles = |grantee, roles, with_option| GrantLine { grantee, roles, privileges: None, with_option };
        assert_eq!(
            parse_grant_line("GRANT `r1`@`%`,`r2`@`localhost` TO `u`@`%`", Flavor::Mysql),
            Some(roles(id("u", "%"), vec![id("r1", "%"), id("r2", "localhost")], false))
        );
        assert_eq!(
            parse_grant_line("GRANT `dba` TO `lead` WITH ADMIN OPTION", Flavor::Mariadb),
            Some(roles(id("lead", ""), vec![id("dba", "")], true))
        );
        assert_eq!(
            parse_grant_line("GRANT `a``b, TO c` TO `u x`@`%`", Flavor::Mariadb),
            Some(roles(id("u x", "%"), vec![id("a`b, TO c", "")], false))
        );
        // A role named like a privilege grant is still a role.
        assert_eq!(
            parse_grant_line("GRANT `x ON y`@`%` TO `u`@`%`", Flavor::Mysql),
            Some(roles(id("u", "%"), vec![id("x ON y", "%")], false))
        );
        assert_eq!(
            parse_grant_line("GRANT SUPER, CREATE USER ON *.* TO `dba` WITH GRANT OPTION", Flavor::Mariadb),
            Some(GrantLine {
                grantee: id("dba", ""),
                roles: vec![],
                privileges: Some(("SUPER, CREATE USER".into(), "*.*".into())),
                with_option: true
            })
        );
        assert_eq!(parse_grant_line("SET DEFAULT ROLE `dba` FOR `u`@`%`", Flavor::Mariadb), None);
    }

    #[test]
    fn role_grants_in_force_and_in_the_tables_are_compared_both_ways() {
        let row = |cells: &[&str]| cells.iter().map(|c| Some((*c).to_owned())).collect::<TextRow>();
        let member = ("m".to_owned(), "%".to_owned());
        let mut accounts =
            BTreeMap::from([(member.clone(), Account { user: "m".into(), host: "%".into(), ..Default::default() })]);
        let mut edges = vec![row(&["m", "%", "pending_role", "", "N"])];
        let shown = vec![
            (member.clone(), Some(vec![row(&["GRANT USAGE ON *.* TO `m`@`%`"]), row(&["GRANT `dba` TO `m`@`%`"])])),
            (("gone".to_owned(), "%".to_owned()), None),
        ];
        let w = super::enforced_role_grants(Flavor::Mariadb, &mut accounts, &mut edges, &shown);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].contains("role 'dba'@'' granted") && w[0].contains("removed without FLUSH PRIVILEGES"), "{w:?}");
        assert!(w[1].contains("'pending_role'@''") && w[1].contains("pending"), "{w:?}");
        assert!(w[2].starts_with("SHOW GRANTS FOR 'gone'@'%' failed"), "{w:?}");
        assert!(edges.contains(&row(&["m", "%", "dba", "", "N"])), "the grant in force is reported: {edges:?}");
        let notes = &accounts[&member].notes;
        assert!(
            notes.iter().any(|n| n.starts_with("in force but not in the grant tables: role 'dba'@''")),
            "{notes:?}"
        );
        assert!(notes.iter().any(|n| n.starts_with("pending: role 'pending_role'@''")), "{notes:?}");
    }
}
