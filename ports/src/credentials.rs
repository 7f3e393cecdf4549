//! Database logins and where they come from.

use serde::Deserialize;
use std::fmt;

/// A database login. `Debug` never shows the password.
#[derive(Clone, Deserialize)]
pub struct DbCredentials {
    pub username: String,
    pub password: String,
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

/// Why a login could not be had.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// No such secret: a configuration problem of this target, recorded as its error row.
    #[error("secret '{secret}' was not found{hint}")]
    NotFound { secret: String, hint: String },
    /// The secret exists but cannot be used as a login.
    #[error("secret '{secret}' {problem}")]
    Malformed { secret: String, problem: String },
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
