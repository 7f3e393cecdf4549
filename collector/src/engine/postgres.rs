//! PostgreSQL 12+ through `tokio-postgres`, TLS by rustls.

use super::{cell, flag, opt, tls, within, ConnectOptions, EngineError, QueryLog, TextRow};
use crate::model::postgres::{Catalog, Membership, Role};
use dbadmin_contracts::{result::ADMIN_DEFINITION_VERSION, Collected, ErrorKind, Target};
use dbadmin_ports::error_chain as chain;
use dbadmin_ports::DbCredentials;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, SimpleQueryMessage};

pub(crate) const SERVER: (&str, &str) = query_file!("postgres", "server");
pub(crate) const ROLES: (&str, &str) = query_file!("postgres", "roles");
pub(crate) const MEMBERSHIPS: (&str, &str) = query_file!("postgres", "memberships");
pub(crate) const MEMBERSHIPS_16: (&str, &str) = query_file!("postgres", "memberships_16");
pub(crate) const DATABASES: (&str, &str) = query_file!("postgres", "databases");

pub const ALL_QUERIES: [(&str, &str); 5] = [SERVER, ROLES, MEMBERSHIPS, MEMBERSHIPS_16, DATABASES];

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

async fn rows(
    client: &Client,
    log: &mut QueryLog,
    limit: std::time::Duration,
    (name, text): (&str, &str),
) -> Result<Vec<TextRow>, EngineError> {
    log.record(name, text);
    within(limit, &format!("query {name}"), async {
        let messages = client.simple_query(text).await.map_err(|e| map_err(&format!("query {name}"), e))?;
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect()),
                _ => None,
            })
            .collect())
    })
    .await
}

pub async fn collect(target: &Target, creds: &DbCredentials, opts: &ConnectOptions) -> Result<Collected, EngineError> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&target.host)
        .port(target.port)
        .user(&creds.username)
        .password(&creds.password)
        .dbname(target.databases.first().map(String::as_str).unwrap_or("postgres"))
        .application_name("db-admin-report")
        .connect_timeout(opts.connect_timeout);
    let endpoint = format!("{}:{}", target.host, target.port);
    let context = format!("connecting to {endpoint}");
    let client = match tls::client_config(target.tls, opts.ca_file.as_deref())? {
        None => {
            config.ssl_mode(tokio_postgres::config::SslMode::Disable);
            let (client, connection) = within(opts.connect_timeout, &context, async {
                config.connect(tokio_postgres::NoTls).await.map_err(|e| map_err(&context, e))
            })
            .await?;
            tokio::spawn(connection);
            client
        }
        Some(tls_config) => {
            config.ssl_mode(tokio_postgres::config::SslMode::Require);
            let connector = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config);
            let (client, connection) = within(opts.connect_timeout, &context, async {
                config.connect(connector).await.map_err(|e| map_err(&context, e))
            })
            .await?;
            tokio::spawn(connection);
            client
        }
    };

    let mut log = QueryLog::default();
    let limit = opts.query_timeout;
    let server = rows(&client, &mut log, limit, SERVER).await?;
    let version = server.first().map(|r| cell(r, 0).to_owned()).unwrap_or_default();
    let version_num: u32 = server.first().and_then(|r| cell(r, 1).parse().ok()).unwrap_or(0);
    if version_num < 120000 {
        return Err(EngineError::new(
            ErrorKind::UnsupportedVersion,
            format!("server version {version_num} is not supported (PostgreSQL 12+ required)"),
        ));
    }
    let oid = |r: &TextRow, i| cell(r, i).parse::<u32>().unwrap_or(0);
    let roles: Vec<Role> = rows(&client, &mut log, limit, ROLES)
        .await?
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
    let membership_query = if version_num >= 160000 { MEMBERSHIPS_16 } else { MEMBERSHIPS };
    let memberships = rows(&client, &mut log, limit, membership_query)
        .await?
        .iter()
        .map(|r| Membership {
            role: oid(r, 0),
            member: oid(r, 1),
            inherit_option: opt(r, 2).map(|_| flag(r, 2)),
            set_option: opt(r, 3).map(|_| flag(r, 3)),
            admin_option: flag(r, 4),
        })
        .collect();
    let database_owners = rows(&client, &mut log, limit, DATABASES)
        .await?
        .iter()
        .filter(|r| target.databases.is_empty() || target.databases.iter().any(|d| d == cell(r, 0)))
        .map(|r| (cell(r, 0).to_owned(), oid(r, 1)))
        .collect();
    let catalog = Catalog { server_version_num: version_num, roles, memberships, database_owners };
    let principals = catalog.classify();
    Ok(Collected {
        server_version: version,
        tls: target.tls,
        admin_definition_version: ADMIN_DEFINITION_VERSION.to_owned(),
        queries: log.queries,
        principals_examined: catalog.roles.iter().filter(|r| !r.name.starts_with("pg_")).count() as u32,
        principals,
    })
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
