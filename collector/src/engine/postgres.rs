//! PostgreSQL 12+ through `tokio-postgres`, TLS by rustls.

use super::{cell, flag, opt, tls, within, Classify, ConnectOptions, Driver, EngineError, Reader, Session, TextRow};
use crate::model::postgres::{
    runs_sql_from_arguments, Catalog, DefinerFunction, FunctionGrant, Membership, ParameterGrant, Role, Settings,
};
use crate::model::postgres_stock::{check_query, named_in, tampering, Named};
use async_trait::async_trait;
use dbadmin_contracts::{ErrorKind, LoginSettings, Target};
use dbadmin_ports::error_chain as chain;
use dbadmin_ports::DbCredentials;
use std::collections::BTreeMap;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, SimpleQueryMessage};

pub(crate) const SERVER: (&str, &str) = query_file!("postgres", "server");
pub(crate) const ROLES: (&str, &str) = query_file!("postgres", "roles");
pub(crate) const MEMBERSHIPS: (&str, &str) = query_file!("postgres", "memberships");
pub(crate) const DATABASES: (&str, &str) = query_file!("postgres", "databases");
pub(crate) const PARAMETER_ACL: (&str, &str) = query_file!("postgres", "parameter_acl");
pub(crate) const FUNCTIONS: (&str, &str) = query_file!("postgres", "functions");
pub(crate) const DEFINER_FUNCTIONS: (&str, &str) = query_file!("postgres", "definer_functions");
pub(crate) const ROLE_CHECK: (&str, &str) = query_file!("postgres", "role_check");
pub(crate) const ROLE_SOURCES: (&str, &str) = query_file!("postgres", "role_sources");
pub(crate) const CATALOG_OBJECTS: (&str, &str) = query_file!("postgres", "catalog_objects");

pub const ALL_QUERIES: [(&str, &str); 10] = [
    SERVER,
    ROLES,
    MEMBERSHIPS,
    DATABASES,
    PARAMETER_ACL,
    FUNCTIONS,
    DEFINER_FUNCTIONS,
    ROLE_CHECK,
    ROLE_SOURCES,
    CATALOG_OBJECTS,
];

/// `catalog_objects.sql` for the objects some queries run in one database name, itself included:
/// each database's catalog is checked for what is read there.
fn catalog_check(queries: &[(&str, &str)]) -> (Named, String) {
    let named = named_in(queries.iter().map(|(_, text)| *text).chain([CATALOG_OBJECTS.1]));
    let text = check_query(CATALOG_OBJECTS.1, &named);
    (named, text)
}

/// The session's search_path, fixed in the startup packet: it outranks a login-level
/// `ALTER ROLE … SET search_path`, so no object of the audited's can stand in for a catalog.
pub const PINNED_SEARCH_PATH: &str = "pg_catalog";

fn map_err(context: &str, e: tokio_postgres::Error) -> EngineError {
    let kind = match e.code() {
        Some(c) if *c == SqlState::INVALID_PASSWORD || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
            ErrorKind::AuthenticationFailed
        }
        Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => ErrorKind::InsufficientPrivilege,
        Some(c) if *c == SqlState::TOO_MANY_CONNECTIONS || *c == SqlState::CANNOT_CONNECT_NOW => ErrorKind::Unreachable,
        Some(_) => ErrorKind::Query,
        None => {
            let text = chain(&e).to_lowercase();
            if text.contains("certificate")
                || text.contains("tls")
                || text.contains("ssl")
                || text.contains("handshake")
            {
                ErrorKind::Tls
            } else if text.contains("timed out") || text.contains("timeout") {
                ErrorKind::Timeout
            } else {
                ErrorKind::Unreachable
            }
        }
    };
    EngineError::new(kind, format!("{context}: {}", chain(&e)))
}

/// What the server said of itself, once its version is known to be supported.
pub struct Server {
    pub version: String,
    /// `server_version_num`, e.g. 180001.
    pub version_num: u32,
    pub settings: Settings,
}

/// The catalog rows, as the query files return them.
#[derive(Debug, Default)]
pub struct Rows {
    pub roles: Vec<TextRow>,
    pub memberships: Vec<TextRow>,
    /// `(database, owner oid, is template)` rows of every database that accepts connections.
    pub databases: Vec<TextRow>,
    /// The databases whose ownership is reported (the inventory's list, templates aside).
    pub in_scope: Vec<String>,
    pub parameter_acl: Vec<TextRow>,
    /// `role_check.sql`: the server's `pg_has_role` answers, for the cross-check with the graph.
    pub role_check: Vec<TextRow>,
    /// `role_sources.sql`: every role again, from `pg_user` and `pg_group`.
    pub role_sources: Vec<TextRow>,
    /// Per database: the catalog objects its queries name, and `catalog_objects.sql`'s answer.
    pub catalog_objects: Vec<(String, Named, Vec<TextRow>)>,
    /// Per database: `functions.sql` and `definer_functions.sql` rows.
    pub functions: Vec<(String, Vec<TextRow>)>,
    pub definer_functions: Vec<(String, Vec<TextRow>)>,
    /// What could not be read, or disagreed with itself.
    pub warnings: Vec<String>,
}

/// PostgreSQL 12+ for [`super::collect_with`].
pub struct PostgresDriver;

struct PostgresSession(Client, Option<tls::PresentedCertificate>);

#[async_trait]
impl Session for PostgresSession {
    async fn query(&mut self, name: &str, text: &str) -> Result<Vec<TextRow>, EngineError> {
        let messages = self.0.simple_query(text).await.map_err(|e| map_err(&format!("query {name}"), e))?;
        Ok(text_rows(&messages))
    }

    async fn batch(&mut self, queries: &[(&str, &str)]) -> Result<Vec<Vec<TextRow>>, EngineError> {
        self.batch_each(queries).await.into_iter().collect()
    }

    /// Pipelined: every query is sent before the first answer is read (tokio-postgres sends a
    /// request when its future is first polled), so they cost one round trip; each keeps its error.
    async fn batch_each(&mut self, queries: &[(&str, &str)]) -> Vec<Result<Vec<TextRow>, EngineError>> {
        let client = &self.0;
        futures::future::join_all(queries.iter().map(|(name, text)| async move {
            let messages = client.simple_query(text).await.map_err(|e| map_err(&format!("query {name}"), e))?;
            Ok::<_, EngineError>(text_rows(&messages))
        }))
        .await
    }

    fn server_certificate_sha256(&self) -> Option<String> {
        self.1.as_ref().and_then(tls::PresentedCertificate::sha256)
    }

    /// Dropping the client ends the connection task.
    async fn close(self: Box<Self>) {}
}

fn text_rows(messages: &[SimpleQueryMessage]) -> Vec<TextRow> {
    messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect()),
            _ => None,
        })
        .collect()
}

impl Classify for Catalog {
    fn classify(&self) -> Vec<dbadmin_contracts::Principal> {
        Catalog::classify(self)
    }

    fn principals_examined(&self) -> u32 {
        self.roles.iter().filter(|r| !r.name.starts_with("pg_")).count() as u32
    }

    fn warnings(&self) -> Vec<String> {
        let mut out = self.warnings.clone();
        out.extend(self.membership_disagreements());
        out
    }
}

#[async_trait]
impl Driver for PostgresDriver {
    type Server = Server;
    type Rows = Rows;
    type Catalog = Catalog;

    async fn connect(
        target: &Target,
        creds: &DbCredentials,
        opts: &ConnectOptions,
    ) -> Result<Box<dyn Session>, EngineError> {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&target.host)
            .port(target.port)
            .user(&creds.username)
            .password(&creds.password)
            .dbname(target.databases.first().map(String::as_str).unwrap_or("postgres"))
            .application_name("db-admin-report")
            .options(format!("-c search_path={PINNED_SEARCH_PATH}"))
            .connect_timeout(opts.connect_timeout);
        let context = format!("connecting to {}:{}", target.host, target.port);
        let (client, presented) = match tls::client_config(target.tls, opts.ca_file.as_deref())? {
            None => {
                config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                let (client, connection) = within(opts.connect_timeout, &context, async {
                    config.connect(tokio_postgres::NoTls).await.map_err(|e| map_err(&context, e))
                })
                .await?;
                tokio::spawn(connection);
                (client, None)
            }
            Some((tls_config, presented)) => {
                config.ssl_mode(tokio_postgres::config::SslMode::Require);
                let connector = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config);
                let (client, connection) = within(opts.connect_timeout, &context, async {
                    config.connect(connector).await.map_err(|e| map_err(&context, e))
                })
                .await?;
                tokio::spawn(connection);
                (client, Some(presented))
            }
        };
        Ok(Box::new(PostgresSession(client, presented)))
    }

    /// One round trip: the version and the three catalog queries, pipelined (no query depends on
    /// the version), an unsupported version refused before any other answer is looked at; then one
    /// more for the parameter and function grants of the database connected to, and one connection
    /// and round trip for each other database (functions live per database).
    async fn read(reader: &mut Reader<'_>, target: &Target) -> Result<(Server, Rows), EngineError> {
        const FIRST: [(&str, &str); 5] = [SERVER, ROLES, MEMBERSHIPS, DATABASES, ROLE_SOURCES];
        let [server, roles, memberships, databases, role_sources]: [Result<Vec<TextRow>, EngineError>; 5] =
            reader.batch_each(&FIRST).await?.try_into().expect("one per query");
        let rows = server?;
        let row = rows.first().cloned().unwrap_or_default();
        let version_num: u32 = cell(&row, 1).parse().unwrap_or(0);
        if version_num < 120000 {
            return Err(EngineError::new(
                ErrorKind::UnsupportedVersion,
                format!("server version {version_num} is not supported (PostgreSQL 12+ required)"),
            ));
        }
        let server = Server {
            version: cell(&row, 0).to_owned(),
            version_num,
            settings: Settings {
                archive_mode: cell(&row, 2).to_owned(),
                ssl: flag(&row, 3),
                in_recovery: flag(&row, 4),
                log_connections: cell(&row, 7).to_owned(),
                log_min_messages: cell(&row, 8).to_owned(),
                lc_messages: cell(&row, 9).to_owned(),
                logging_overridden: flag(&row, 10),
            },
        };
        let mut warnings = Vec::new();
        let search_path = cell(&row, 6);
        if search_path != PINNED_SEARCH_PATH {
            warnings.push(format!(
                "the session's search_path is {search_path:?}, not the {PINNED_SEARCH_PATH:?} the collector pinned at connect"
            ));
        }
        let connected_to = cell(&row, 5).to_owned();
        let databases = databases?;
        let in_scope = databases
            .iter()
            .filter(|r| !flag(r, 2))
            .map(|r| cell(r, 0).to_owned())
            .filter(|d| target.databases.is_empty() || target.databases.contains(d))
            .collect();
        let mut rows = Rows {
            roles: roles?,
            memberships: memberships?,
            role_sources: role_sources?,
            in_scope,
            warnings,
            ..Rows::default()
        };
        // The grants on objects: the parameters (15+, server-wide) and this database's functions.
        let set_privilege = if version_num >= 160000 { "SET" } else { "MEMBER" };
        let role_check = ROLE_CHECK.1.replace("{set_privilege}", set_privilege);
        let mut queries = vec![FUNCTIONS, DEFINER_FUNCTIONS, (ROLE_CHECK.0, role_check.as_str())];
        if version_num >= 150000 {
            queries.push(PARAMETER_ACL);
        }
        let (named, check) = catalog_check(&[&FIRST[..], &queries[..]].concat());
        queries.push((CATALOG_OBJECTS.0, check.as_str()));
        let mut answers = reader.batch(&queries).await?.into_iter();
        rows.functions.push((connected_to.clone(), answers.next().unwrap_or_default()));
        rows.definer_functions.push((connected_to.clone(), answers.next().unwrap_or_default()));
        rows.role_check = answers.next().unwrap_or_default();
        if version_num >= 150000 {
            rows.parameter_acl = answers.next().unwrap_or_default();
        }
        rows.catalog_objects.push((connected_to.clone(), named, answers.next().unwrap_or_default()));
        let others: Vec<String> =
            databases.iter().map(|r| cell(r, 0).to_owned()).filter(|d| *d != connected_to).collect();
        for (database, read) in Self::read_databases(reader, target, others).await {
            match read {
                Ok((functions, definer, (named, objects))) => {
                    rows.functions.push((database.clone(), functions));
                    rows.definer_functions.push((database.clone(), definer));
                    rows.catalog_objects.push((database, named, objects));
                }
                Err(e) => rows.warnings.push(format!(
                    "database {database} could not be read ({e}): its functions' grants are not in this result"
                )),
            }
        }
        rows.databases = databases;
        Ok((server, rows))
    }

    fn catalog(server: &Server, rows: Rows) -> Catalog {
        from_rows(server, rows)
    }

    fn describe(server: &Server) -> String {
        server.version.clone()
    }

    fn login_settings(server: &Server) -> Option<Box<LoginSettings>> {
        let settings = &server.settings;
        Some(Box::new(LoginSettings {
            log_connections: settings.log_connections.clone(),
            log_min_messages: settings.log_min_messages.clone(),
            lc_messages: settings.lc_messages.clone(),
            overridden: settings.logging_overridden,
        }))
    }
}

impl PostgresDriver {
    /// The function grants of the other databases, each on a connection of its own, a few at a time
    /// (each costs a connection and one round trip). In the order given.
    async fn read_databases(
        reader: &mut Reader<'_>,
        target: &Target,
        databases: Vec<String>,
    ) -> Vec<(String, Result<FunctionRows, EngineError>)> {
        use futures::StreamExt;
        const QUERIES: [(&str, &str); 2] = [FUNCTIONS, DEFINER_FUNCTIONS];
        let (named, check) = catalog_check(&QUERIES);
        let queries = [FUNCTIONS, DEFINER_FUNCTIONS, (CATALOG_OBJECTS.0, check.as_str())];
        let (what, limit) = reader.start(&queries);
        let (creds, opts) = (reader.creds, reader.opts);
        let reads = databases.iter().cloned().map(|database| {
            let there = Target { databases: vec![database.clone()], ..target.clone() };
            let what = format!("{what} in database {database}");
            let (named, queries) = (named.clone(), &queries);
            async move {
                let read = within(limit, &what, async {
                    let mut session = Self::connect(&there, creds, opts).await?;
                    let answers = session.batch(queries).await;
                    session.close().await;
                    let [functions, definer, objects]: [Vec<TextRow>; 3] = answers?.try_into().expect("one per query");
                    Ok((functions, definer, (named, objects)))
                })
                .await;
                (database, read)
            }
        });
        let mut out: Vec<_> = futures::stream::iter(reads).buffer_unordered(DATABASES_AT_ONCE).collect().await;
        out.sort_by_key(|(database, _)| databases.iter().position(|d| d == database));
        out
    }
}

/// One other database's `functions.sql`, `definer_functions.sql` and catalog check rows.
type FunctionRows = (Vec<TextRow>, Vec<TextRow>, (Named, Vec<TextRow>));

/// Databases of one server read at once (connections a collection opens beside its first).
const DATABASES_AT_ONCE: usize = 4;

/// A cell holding an oid (0 when it does not).
fn oid(r: &TextRow, i: usize) -> u32 {
    cell(r, i).parse::<u32>().unwrap_or(0)
}

/// Maps the rows of the query files to the model's catalog. Pure: tested on recorded rows.
pub fn from_rows(server: &Server, rows: Rows) -> Catalog {
    let mut warnings = rows.warnings.clone();
    for (database, named, objects) in &rows.catalog_objects {
        warnings.extend(tampering(database, named, objects));
    }
    let roles = roles_from_rows(&rows, &mut warnings);
    let memberships = rows
        .memberships
        .iter()
        .map(|r| Membership {
            role: oid(r, 0),
            member: oid(r, 1),
            inherit_option: opt(r, 2).map(|_| flag(r, 2)),
            set_option: opt(r, 3).map(|_| flag(r, 3)),
            admin_option: flag(r, 4),
        })
        .collect();
    let owner_of: BTreeMap<String, u32> = rows.databases.iter().map(|r| (cell(r, 0).to_owned(), oid(r, 1))).collect();
    let database_owners = rows.in_scope.iter().filter_map(|d| owner_of.get(d).map(|o| (d.clone(), *o))).collect();
    let (function_grants, definer_functions) = functions_from_rows(&rows);
    let parameter_grants = rows
        .parameter_acl
        .iter()
        .map(|r| ParameterGrant {
            parameter: cell(r, 0).to_owned(),
            grantee: oid(r, 1),
            privilege: cell(r, 2).to_owned(),
        })
        .collect();
    let server_reaches =
        rows.role_check.iter().filter(|r| flag(r, 2) || flag(r, 3)).map(|r| (oid(r, 0), oid(r, 1))).collect();
    let role_check_pairs = rows.role_check.iter().map(|r| (oid(r, 0), oid(r, 1))).collect();
    Catalog {
        server_version_num: server.version_num,
        server_reaches,
        role_check_pairs,
        roles,
        memberships,
        database_owners,
        owner_of,
        settings: server.settings.clone(),
        parameter_grants,
        function_grants,
        definer_functions,
        warnings,
    }
}

/// Every role: `pg_roles`' rows, then those only the second count lists (each with a warning).
fn roles_from_rows(rows: &Rows, warnings: &mut Vec<String>) -> Vec<Role> {
    let mut roles: Vec<Role> = rows
        .roles
        .iter()
        .map(|r| Role {
            oid: oid(r, 0),
            name: cell(r, 1).to_owned(),
            superuser: flag(r, 2),
            createrole: flag(r, 3),
            createdb: flag(r, 4),
            canlogin: flag(r, 5),
            replication: flag(r, 6),
            bypassrls: flag(r, 7),
            connlimit: cell(r, 8).parse().unwrap_or(-1),
            valid_until: opt(r, 9).map(str::to_owned),
            valid_until_passed: flag(r, 10),
            ..Role::default()
        })
        .collect();
    let hidden = roles_pg_roles_dropped(&roles, &rows.role_sources);
    for role in &hidden {
        warnings.push(format!(
            "role {} (oid {}) is in {} but not in pg_roles: pg_roles does not list every role, so this result \
             reports it from {}",
            role.name,
            role.oid,
            role.source.unwrap_or_default(),
            role.source.unwrap_or_default()
        ));
    }
    roles.extend(hidden);
    roles
}

/// Every database's `EXECUTE` grants (`functions.sql`) and `SECURITY DEFINER` functions.
fn functions_from_rows(rows: &Rows) -> (Vec<FunctionGrant>, Vec<DefinerFunction>) {
    let grantees =
        |r: &TextRow, i| -> Vec<u32> { cell(r, i).split(',').filter_map(|g| g.trim().parse().ok()).collect() };
    let function = |r: &TextRow| format!("{}.{}({})", cell(r, 1), cell(r, 2), cell(r, 3));
    let function_grants = rows
        .functions
        .iter()
        .flat_map(|(db, rs)| rs.iter().map(move |r| (db, r)))
        .map(|(db, r)| FunctionGrant { database: db.clone(), function: function(r), grantee: oid(r, 4) })
        .collect();
    let definer_functions = rows
        .definer_functions
        .iter()
        .flat_map(|(db, rs)| rs.iter().map(move |r| (db, r)))
        .map(|(db, r)| {
            let language = cell(r, 5).to_owned();
            DefinerFunction {
                database: db.clone(),
                function: function(r),
                owner: oid(r, 4),
                runs_sql_from_arguments: runs_sql_from_arguments(&language, flag(r, 6), cell(r, 7)),
                language,
                executors: grantees(r, 8),
                schema_usage: grantees(r, 9),
            }
        })
        .collect();
    (function_grants, definer_functions)
}

/// The roles `pg_user` or `pg_group` list that `pg_roles` does not (role_sources.sql): a second
/// count over the same pg_authid, through views of their own. Each is reported with what that view
/// shows (`pg_user` has a login role's attributes except CREATEROLE; `pg_group` none).
fn roles_pg_roles_dropped(roles: &[Role], sources: &[TextRow]) -> Vec<Role> {
    let listed: std::collections::BTreeSet<u32> = roles.iter().map(|r| r.oid).collect();
    let mut out: Vec<Role> = Vec::new();
    for r in sources {
        let oid = cell(r, 0).parse::<u32>().unwrap_or(0);
        if listed.contains(&oid) || out.iter().any(|o| o.oid == oid) {
            continue;
        }
        let login = flag(r, 6);
        out.push(Role {
            oid,
            name: cell(r, 1).to_owned(),
            superuser: flag(r, 2),
            createdb: flag(r, 3),
            replication: flag(r, 4),
            bypassrls: flag(r, 5),
            canlogin: login,
            connlimit: -1,
            source: Some(if login { "pg_user" } else { "pg_group" }),
            ..Role::default()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::model::postgres_stock::{named_in, STOCK_FUNCTIONS, STOCK_RELATIONS};

    #[test]
    fn every_catalog_object_a_query_names_has_a_stock_description() {
        let named = named_in(super::ALL_QUERIES.iter().map(|(_, t)| *t));
        for r in &named.relations {
            assert!(STOCK_RELATIONS.iter().any(|(n, ..)| n == r), "pg_catalog.{r} needs a stock description");
        }
        for f in &named.functions {
            assert!(STOCK_FUNCTIONS.iter().any(|(n, _)| n == f), "pg_catalog.{f}() needs its built-in symbols");
        }
    }

    #[test]
    fn no_query_reads_pg_authid() {
        for (name, text) in super::ALL_QUERIES {
            let lower = text.to_lowercase();
            assert!(
                !lower.contains("from pg_authid") && !lower.contains("rolpassword,"),
                "{name} must not read password hashes"
            );
        }
    }
}
