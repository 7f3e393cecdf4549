//! Database logins and where they come from.

use dbadmin_contracts::{host_key, CredentialBinding, Engine, Target};
use serde::Deserialize;
use std::fmt;

/// A database login. `Debug` never shows the password.
#[derive(Clone, Default, Deserialize)]
pub struct DbCredentials {
    pub username: String,
    pub password: String,
    /// What tied the secret to the target it is used for (set by the credential source).
    #[serde(skip)]
    pub binding: CredentialBinding,
}

impl fmt::Debug for DbCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbCredentials").field("username", &self.username).field("password", &"<redacted>").finish()
    }
}

impl DbCredentials {
    /// Reads the JSON shape AWS uses for database secrets (`{"username": …, "password": …}`; other keys ignored).
    /// The error never quotes the secret's content.
    pub fn from_secret_json(secret: &str, text: &str) -> Result<Self, CredentialError> {
        serde_json::from_str::<DbCredentials>(text).map_err(|e| CredentialError::Malformed {
            secret: secret.to_owned(),
            problem: if e.is_syntax() || e.is_eof() {
                "is not JSON".to_owned()
            } else {
                "lacks a string 'username' or 'password'".to_owned()
            },
        })
    }
}

/// Where a secret says its database is: the standard fields of an RDS-managed database secret
/// (`host`, `port`, `engine`, `dbInstanceIdentifier`). A secret that carries them is sent only to
/// a target that matches them, so whoever writes the inventory cannot point it at a listener of
/// their own. A secret with none of them goes where the inventory says (the inventory is then its
/// root of trust; docs/trust.md).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretBinding {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub engine: Option<String>,
    pub instance: Option<String>,
    /// `db-admin-report:hosts`: the addresses (`host` or `host:port`) a secret without RDS fields
    /// may be sent to, written by whoever owns the secret.
    pub hosts: Vec<String>,
}

/// The secret key holding an allow-list of addresses: a JSON array, or one string separated by `;`.
pub const HOSTS_KEY: &str = "db-admin-report:hosts";

impl SecretBinding {
    /// The binding fields of a secret's JSON, or `None` when it has none. Never quotes the secret.
    pub fn from_secret_json(text: &str) -> Option<SecretBinding> {
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        let text_of = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned).filter(|s| !s.is_empty());
        let port = value.get("port").and_then(|p| match p {
            serde_json::Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        let hosts: Vec<&str> = match value.get(HOSTS_KEY) {
            Some(serde_json::Value::Array(items)) => items.iter().filter_map(|i| i.as_str()).collect(),
            Some(serde_json::Value::String(list)) => list.split(';').collect(),
            _ => Vec::new(),
        };
        let hosts = hosts.into_iter().map(str::trim).filter(|h| !h.is_empty()).map(str::to_owned).collect();
        let binding = SecretBinding {
            host: text_of("host"),
            port,
            engine: text_of("engine"),
            instance: text_of("dbInstanceIdentifier").or_else(|| text_of("dbClusterIdentifier")),
            hosts,
        };
        (binding != SecretBinding::default()).then_some(binding)
    }

    /// Does `target` match what the secret says of its database? `Err` names the first field that
    /// differs, with both values (host names and ports are not secret).
    pub fn admits(&self, target: &Target) -> Result<(), String> {
        if let Some(host) = &self.host {
            if host_key(host) != host_key(&target.host) {
                return Err(format!("the secret is for host {host}, the target is {}", target.host));
            }
        }
        if let Some(port) = self.port {
            if port != target.port {
                return Err(format!("the secret is for port {port}, the target's is {}", target.port));
            }
        }
        if let Some(engine) = self.engine.as_deref() {
            let e = engine.to_ascii_lowercase();
            let family = if e.contains("postgres") {
                Some(vec![Engine::Postgres])
            } else if e.contains("mysql") || e.contains("mariadb") || e == "aurora" {
                Some(vec![Engine::Mysql, Engine::Mariadb])
            } else if e.starts_with("sqlserver") {
                Some(vec![Engine::Sqlserver])
            } else {
                None
            };
            if family.is_some_and(|f| !f.contains(&target.engine)) {
                return Err(format!("the secret is for a {engine} database, the target is {}", target.engine));
            }
        }
        if let (None, Some(instance)) = (&self.host, &self.instance) {
            // Only an RDS endpoint of that identifier: a name the inventory chose (its id, or a
            // host of its own that merely starts with `prod.`) proves nothing.
            let host = host_key(&target.host);
            let rds = host.ends_with(".rds.amazonaws.com") || host.ends_with(".rds.amazonaws.com.cn");
            if !(rds && host.starts_with(&format!("{}.", host_key(instance)))) {
                return Err(format!(
                    "the secret is for RDS database {instance}, the target is {} at {}",
                    target.id, target.host
                ));
            }
        }
        Ok(())
    }

    /// Whether the allow-list, when there is one, names the target (`host` or `host:port`).
    fn allow_list_admits(&self, target: &Target) -> Result<(), String> {
        let host = host_key(&target.host);
        let named = self.hosts.iter().any(|entry| match entry.rsplit_once(':').map(|(h, p)| (h, p.parse::<u16>())) {
            Some((h, Ok(port))) => host_key(h) == host && port == target.port,
            _ => host_key(entry) == host,
        });
        if self.hosts.is_empty() || named {
            Ok(())
        } else {
            Err(format!(
                "the secret's {HOSTS_KEY} ({}) does not name {}:{}",
                self.hosts.join(";"),
                target.host,
                target.port
            ))
        }
    }

    /// Whether the secret names its database's address (its host). An identifier, an engine or a
    /// port narrows, but binds to no address: anyone can create an RDS database named `prod` in an
    /// account of their own, whose endpoint then starts with `prod.` too.
    fn names_a_database(&self) -> bool {
        self.host.is_some()
    }

    /// [`SecretBinding::admits`] and the allow-list as the error a credential source returns, or
    /// what tied the secret to the target when both hold.
    pub fn check(
        binding: Option<&SecretBinding>,
        secret: &str,
        target: &Target,
    ) -> Result<CredentialBinding, CredentialError> {
        let Some(b) = binding else { return Ok(CredentialBinding::Unbound) };
        let elsewhere = |why| CredentialError::BoundElsewhere { secret: secret.to_owned(), why };
        b.admits(target).map_err(elsewhere)?;
        b.allow_list_admits(target).map_err(elsewhere)?;
        Ok(match (b.names_a_database(), b.hosts.is_empty()) {
            (true, _) => CredentialBinding::RdsFields,
            (false, false) => CredentialBinding::AllowList,
            (false, true) => CredentialBinding::Unbound,
        })
    }
}

/// Why a login could not be had.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// No such secret: a configuration problem of this target, recorded as its error row.
    #[error("secret '{secret}' was not found{hint}")]
    NotFound { secret: String, hint: String },
    /// The secret exists but cannot be used as a login.
    #[error("secret '{secret}' {problem}")]
    Malformed { secret: String, problem: String },
    /// The secret names another database than the target: it is not sent there.
    #[error("secret '{secret}' belongs to another database ({why}): no connection was opened")]
    BoundElsewhere { secret: String, why: String },
    /// Access to the secret or the target's role was refused.
    #[error("access to secret '{secret}' was denied")]
    AccessDenied {
        secret: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The target account's role could not be assumed.
    #[error("assuming role {role} was refused")]
    RoleDenied {
        role: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The credential service failed in a way worth retrying.
    #[error("fetching secret '{secret}' failed transiently")]
    Transient {
        secret: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl CredentialError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, CredentialError::Transient { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(engine: Engine, host: &str, port: u16) -> Target {
        Target {
            id: "orders".into(),
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            engine,
            host: host.into(),
            port,
            databases: vec![],
            secret: "s".into(),
            role_arn: None,
            tls: dbadmin_contracts::TlsMode::VerifyFull,
            tags: Default::default(),
            login_log: None,
        }
    }

    #[test]
    fn a_secret_is_admitted_only_by_the_database_it_names() {
        let rds = r#"{"username":"u","password":"p","engine":"postgres","host":"orders.abc.eu-west-1.rds.amazonaws.com","port":5432,"dbInstanceIdentifier":"orders"}"#;
        let b = SecretBinding::from_secret_json(rds).expect("RDS fields");
        assert_eq!(b.admits(&target(Engine::Postgres, "Orders.abc.eu-west-1.rds.amazonaws.com.", 5432)), Ok(()));
        let other_host = b.admits(&target(Engine::Postgres, "evil.example.com", 5432)).unwrap_err();
        assert!(other_host.contains("evil.example.com"), "{other_host}");
        assert!(b.admits(&target(Engine::Postgres, "orders.abc.eu-west-1.rds.amazonaws.com", 6543)).is_err());
        assert!(b.admits(&target(Engine::Mysql, "orders.abc.eu-west-1.rds.amazonaws.com", 5432)).is_err());
        // A port written as a string, an engine name of the MySQL family, an identifier alone.
        let s =
            SecretBinding::from_secret_json(r#"{"engine":"aurora-mysql","port":"3306","dbClusterIdentifier":"c1"}"#)
                .unwrap();
        assert_eq!(s.admits(&target(Engine::Mariadb, "c1.cluster-xyz.eu-west-1.rds.amazonaws.com", 3306)), Ok(()));
        assert!(s.admits(&target(Engine::Mysql, "c2.cluster-xyz.eu-west-1.rds.amazonaws.com", 3306)).is_err());
        // No binding field: the inventory decides (and is the secret's root of trust).
        assert_eq!(SecretBinding::from_secret_json(r#"{"username":"u","password":"p"}"#), None);
        let err = SecretBinding::check(Some(&b), "prod/orders", &target(Engine::Postgres, "evil", 5432)).unwrap_err();
        assert!(matches!(err, CredentialError::BoundElsewhere { .. }) && !err.to_string().contains("\"p\""), "{err}");
    }

    #[test]
    fn an_allow_list_binds_a_secret_without_rds_fields_and_every_use_says_what_bound_it() {
        let check = |json: &str, host: &str, port: u16| {
            SecretBinding::check(
                SecretBinding::from_secret_json(json).as_ref(),
                "s",
                &target(Engine::Postgres, host, port),
            )
        };
        let listed = r#"{"username":"u","password":"p","db-admin-report:hosts":["db1.internal","10.0.0.5:6432"]}"#;
        assert_eq!(check(listed, "DB1.internal.", 5432).unwrap(), CredentialBinding::AllowList);
        assert_eq!(check(listed, "10.0.0.5", 6432).unwrap(), CredentialBinding::AllowList);
        let refused = check(listed, "10.0.0.5", 5432).unwrap_err().to_string();
        assert!(refused.contains("does not name 10.0.0.5:5432") && !refused.contains("\"p\""), "{refused}");
        assert!(check(r#"{"db-admin-report:hosts":"a.internal;b.internal"}"#, "b.internal", 1).is_ok());
        let rds = r#"{"host":"orders.x","port":5432,"db-admin-report:hosts":["orders.x"]}"#;
        assert_eq!(check(rds, "orders.x", 5432).unwrap(), CredentialBinding::RdsFields);
        assert_eq!(check(r#"{"username":"u","password":"p"}"#, "anywhere", 1).unwrap(), CredentialBinding::Unbound);
        // An engine or a port alone binds to no address: still refused elsewhere, but unbound.
        assert_eq!(
            check(r#"{"engine":"postgres","port":5432}"#, "anywhere", 5432).unwrap(),
            CredentialBinding::Unbound
        );
        assert!(check(r#"{"engine":"postgres","port":5432}"#, "anywhere", 6543).is_err());
        // An identifier admits only an RDS endpoint of it, never a look-alike host or an id, and
        // binds nothing (another account's `prod` has such an endpoint too).
        let id = r#"{"dbInstanceIdentifier":"prod"}"#;
        assert_eq!(check(id, "prod.abc.eu-west-1.rds.amazonaws.com", 5432).unwrap(), CredentialBinding::Unbound);
        assert!(check(id, "prod.evil.example", 5432).is_err());
        let mut named = target(Engine::Postgres, "10.9.9.9", 5432);
        named.id = "prod".into();
        assert!(SecretBinding::check(SecretBinding::from_secret_json(id).as_ref(), "s", &named).is_err());
    }
}
