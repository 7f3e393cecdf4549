//! PostgreSQL 12+ through `tokio-postgres`, TLS by rustls.

use super::{cell, flag, opt, tls, within, Classify, ConnectOptions, Driver, EngineError, Reader, Session, TextRow};
use crate::model::postgres::{Catalog, Membership, Role};
use async_trait::async_trait;
use dbadmin_contracts::{ErrorKind, Target};
use dbadmin_ports::error_chain as chain;
use dbadmin_ports::DbCredentials;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, SimpleQueryMessage};

pub(crate) const SERVER: (&str, &str) = query_file!("postgres", "server");
pub(crate) const ROLES: (&str, &str) = query_file!("postgres", "roles");
pub(crate) const MEMBERSHIPS: (&str, &str) = query_file!("postgres", "memberships");
pub(crate) const DATABASES: (&str, &str) = query_file!("postgres", "databases");

pub const ALL_QUERIES: [(&str, &str); 4] = [SERVER, ROLES, MEMBERSHIPS, DATABASES];

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
}

/// The catalog rows, as the query files return them.
#[derive(Debug, Default)]
pub struct Rows {
    pub roles: Vec<TextRow>,
    pub memberships: Vec<TextRow>,
    /// `(database, owner oid)` rows, already narrowed to the databases in scope.
    pub databases: Vec<TextRow>,
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
    /// the version). An unsupported version is refused before any other answer is looked at.
    async fn read(reader: &mut Reader<'_>, target: &Target) -> Result<(Server, Rows), EngineError> {
        let [server, roles, memberships, databases]: [Result<Vec<TextRow>, EngineError>; 4] =
            reader.batch_each(&[SERVER, ROLES, MEMBERSHIPS, DATABASES]).await?.try_into().expect("one per query");
        let rows = server?;
        let version = rows.first().map(|r| cell(r, 0).to_owned()).unwrap_or_default();
        let version_num: u32 = rows.first().and_then(|r| cell(r, 1).parse().ok()).unwrap_or(0);
        if version_num < 120000 {
            return Err(EngineError::new(
                ErrorKind::UnsupportedVersion,
                format!("server version {version_num} is not supported (PostgreSQL 12+ required)"),
            ));
        }
        let rows = Rows {
            roles: roles?,
            memberships: memberships?,
            databases: databases?
                .into_iter()
                .filter(|r| target.databases.is_empty() || target.databases.iter().any(|d| d == cell(r, 0)))
                .collect(),
        };
        Ok((Server { version, version_num }, rows))
    }

    fn catalog(server: &Server, rows: Rows) -> Catalog {
        from_rows(server, rows)
    }

    fn describe(server: &Server) -> String {
        server.version.clone()
    }
}

/// Maps the rows of the query files to the model's catalog. Pure: tested on recorded rows.
pub fn from_rows(server: &Server, rows: Rows) -> Catalog {
    let oid = |r: &TextRow, i| cell(r, i).parse::<u32>().unwrap_or(0);
    let roles = rows
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
        })
        .collect();
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
    let database_owners = rows.databases.iter().map(|r| (cell(r, 0).to_owned(), oid(r, 1))).collect();
    Catalog { server_version_num: server.version_num, roles, memberships, database_owners }
}

#[cfg(test)]
mod tests {
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
