//! Database logins from a local secrets file or the environment.

use crate::{CredentialError, CredentialSource, DbCredentials, SecretBinding};
use async_trait::async_trait;
use dbadmin_contracts::Target;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Local logins: a secrets file (JSON object of secret name → `{"username","password"}`) and/or
/// environment variables `DBADMIN_SECRET_<NAME>` holding the same JSON, where `<NAME>` is the secret
/// name upper-cased with every other character than A-Z and 0-9 turned into `_`.
pub struct LocalCredentials {
    file: Option<(PathBuf, HashMap<String, serde_json::Value>)>,
}

/// Why a secrets file was refused.
#[derive(Debug, thiserror::Error)]
pub enum SecretsFileError {
    #[error("cannot read secrets file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("secrets file {path} is readable by group or others (mode {mode:o}); run: chmod 600 {path}")]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("secrets file {path} is not a JSON object of secret name to {{\"username\", \"password\"}}")]
    Malformed { path: PathBuf },
}

impl LocalCredentials {
    /// Environment variables only.
    pub fn from_env() -> Self {
        LocalCredentials { file: None }
    }

    /// A secrets file (refused if group or others can read it), with environment variables as fallback.
    pub fn from_file(path: &Path) -> Result<Self, SecretsFileError> {
        let meta =
            std::fs::metadata(path).map_err(|source| SecretsFileError::Read { path: path.to_owned(), source })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(SecretsFileError::TooOpen { path: path.to_owned(), mode });
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        let text =
            std::fs::read_to_string(path).map_err(|source| SecretsFileError::Read { path: path.to_owned(), source })?;
        let map = serde_json::from_str(&text).map_err(|_| SecretsFileError::Malformed { path: path.to_owned() })?;
        Ok(LocalCredentials { file: Some((path.to_owned(), map)) })
    }

    /// The environment variable consulted for a secret name.
    pub fn env_var_for(secret: &str) -> String {
        let name: String =
            secret.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
        format!("DBADMIN_SECRET_{name}")
    }
}

#[async_trait]
impl CredentialSource for LocalCredentials {
    async fn credentials(&self, target: &Target) -> Result<DbCredentials, CredentialError> {
        let secret = &target.secret;
        let bound = |text: &str| {
            let binding = SecretBinding::check(SecretBinding::from_secret_json(text).as_ref(), secret, target)?;
            Ok(DbCredentials { binding, ..DbCredentials::from_secret_json(secret, text)? })
        };
        if let Some((_, map)) = &self.file {
            if let Some(value) = map.get(secret) {
                return bound(&value.to_string());
            }
        }
        let var = Self::env_var_for(secret);
        match std::env::var(&var) {
            Ok(text) => bound(&text),
            Err(_) => Err(CredentialError::NotFound {
                secret: secret.clone(),
                hint: match &self.file {
                    Some((path, _)) => format!(" in {} nor in ${var}", path.display()),
                    None => format!(" (no secrets file given and ${var} is not set)"),
                },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, r#"{"s": {"username": "u", "password": "p"}}"#).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = LocalCredentials::from_file(&path).err().expect("0644 must be refused");
        assert!(err.to_string().contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(LocalCredentials::from_file(&path).is_ok());
    }

    #[test]
    fn env_names_and_redacted_debug() {
        assert_eq!(LocalCredentials::env_var_for("prod/orders-db"), "DBADMIN_SECRET_PROD_ORDERS_DB");
        let c = DbCredentials::from_secret_json("s", r#"{"username":"u","password":"hunter2","host":"h"}"#).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        let err = DbCredentials::from_secret_json("s", r#"{"user":"u","pass":"hunter2"}"#).unwrap_err();
        assert!(!err.to_string().contains("hunter2") && err.to_string().contains("'s'"), "{err}");
    }
}
