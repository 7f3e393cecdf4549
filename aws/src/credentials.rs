//! Database logins on AWS: assume the target account's role, then read the secret.
//!
//! Role credentials are cached per role until five minutes before they expire; secret values are
//! cached for [`SECRET_TTL`] so a batch of databases behind one secret costs one call.

use crate::error::{code, is_transient};
use async_trait::async_trait;
use aws_sdk_secretsmanager::config::Credentials;
use dbadmin_contracts::Target;
use dbadmin_ports::{CredentialError, CredentialSource, DbCredentials, SecretBinding};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

pub const SECRET_TTL: Duration = Duration::from_secs(300);
const ROLE_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// `(role, region, secret name)`: a secret as one target reaches it.
type SecretKey = (Option<String>, String, String);
/// The login read for each secret, and when.
type SecretCache = HashMap<SecretKey, (DbCredentials, Option<SecretBinding>, Instant)>;

pub struct AwsCredentials {
    sdk: aws_config::SdkConfig,
    interceptor: Option<aws_sdk_secretsmanager::config::SharedInterceptor>,
    sts: aws_sdk_sts::Client,
    role_name: Option<String>,
    external_id: Option<String>,
    /// Assumed roles' credentials and when they expire.
    roles: Mutex<HashMap<String, (Credentials, SystemTime)>>,
    secrets: Mutex<SecretCache>,
    /// One read of a secret at a time: jobs of a batch that share a secret wait for the first
    /// one's read instead of each calling Secrets Manager.
    reading: Mutex<HashMap<SecretKey, Arc<tokio::sync::Mutex<()>>>>,
}

impl AwsCredentials {
    pub(crate) fn sdk(&self) -> &aws_config::SdkConfig {
        &self.sdk
    }

    pub(crate) fn interceptor(&self) -> Option<aws_sdk_secretsmanager::config::SharedInterceptor> {
        self.interceptor.clone()
    }

    pub fn new(clients: &crate::Clients, role_name: Option<String>, external_id: Option<String>) -> Self {
        AwsCredentials {
            sdk: clients.sdk.clone(),
            interceptor: clients.interceptor.clone(),
            sts: clients.sts.clone(),
            role_name,
            external_id,
            roles: Mutex::default(),
            secrets: Mutex::default(),
            reading: Mutex::default(),
        }
    }

    /// The role to assume for a target: its own override, else the deployment's role name in its account.
    pub fn role_for(&self, target: &Target) -> Option<String> {
        target.role_arn.clone().or_else(|| self.role_in(&target.account_id, &target.region))
    }

    /// The deployment's role in `account_id` (its partition read off `region`), if one is configured.
    pub fn role_in(&self, account_id: &str, region: &str) -> Option<String> {
        let partition = if region.starts_with("us-gov-") {
            "aws-us-gov"
        } else if region.starts_with("cn-") {
            "aws-cn"
        } else {
            "aws"
        };
        self.role_name.as_ref().map(|name| format!("arn:{partition}:iam::{account_id}:role/{name}"))
    }

    /// A Secrets Manager client in the target's region (a secret lives in one region), with the
    /// target account's role when there is one, else this function's own.
    async fn secrets_client(
        &self,
        role: Option<&str>,
        region: &str,
    ) -> Result<aws_sdk_secretsmanager::Client, CredentialError> {
        let mut config = aws_sdk_secretsmanager::config::Builder::from(&self.sdk)
            .region(aws_sdk_secretsmanager::config::Region::new(region.to_owned()));
        if let Some(role) = role {
            config = config.credentials_provider(self.role_credentials(role).await?);
        }
        if let Some(i) = &self.interceptor {
            config.push_interceptor(i.clone());
        }
        Ok(aws_sdk_secretsmanager::Client::from_conf(config.build()))
    }

    pub(crate) async fn role_credentials(&self, role: &str) -> Result<Credentials, CredentialError> {
        if let Some((creds, expires)) = self.roles.lock().unwrap_or_else(|p| p.into_inner()).get(role) {
            if SystemTime::now() + ROLE_REFRESH_MARGIN < *expires {
                return Ok(creds.clone());
            }
        }
        let mut req = self.sts.assume_role().role_arn(role).role_session_name("db-admin-report-collector");
        if let Some(id) = &self.external_id {
            req = req.external_id(id);
        }
        let out = req.send().await.map_err(|e| {
            if is_transient(&e) {
                CredentialError::Transient { secret: format!("(role {role})"), source: Box::new(e) }
            } else {
                CredentialError::RoleDenied { role: role.to_owned(), source: Some(Box::new(e)) }
            }
        })?;
        let c = out.credentials().ok_or_else(|| CredentialError::RoleDenied { role: role.to_owned(), source: None })?;
        let expires =
            SystemTime::try_from(*c.expiration()).unwrap_or_else(|_| SystemTime::now() + Duration::from_secs(900));
        let creds = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            Some(expires),
            "sts-assume-role",
        );
        self.roles.lock().unwrap_or_else(|p| p.into_inner()).insert(role.to_owned(), (creds.clone(), expires));
        Ok(creds)
    }
}

#[async_trait]
impl CredentialSource for AwsCredentials {
    async fn credentials(&self, target: &Target) -> Result<DbCredentials, CredentialError> {
        let role = self.role_for(target);
        let key = (role.clone(), target.region.clone(), target.secret.clone());
        let cached = || {
            self.secrets
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
                .filter(|(_, _, at)| at.elapsed() < SECRET_TTL)
                .map(|(creds, binding, _)| (creds.clone(), binding.clone()))
        };
        // A secret is checked against every target it is used for, cached or not: a shared secret
        // read for one target is never sent to another database.
        let bound = |(creds, binding): (DbCredentials, Option<SecretBinding>)| {
            SecretBinding::check(binding.as_ref(), &target.secret, target)
                .map(|binding| DbCredentials { binding, ..creds })
        };
        if let Some(read) = cached() {
            return bound(read);
        }
        let gate = self.reading.lock().unwrap_or_else(|p| p.into_inner()).entry(key.clone()).or_default().clone();
        let _reading = gate.lock().await;
        if let Some(read) = cached() {
            return bound(read); // read by the job this one waited for
        }
        let client = self.secrets_client(role.as_deref(), &target.region).await?;
        let secret = &target.secret;
        let out = client.get_secret_value().secret_id(secret).send().await.map_err(|e| match code(&e) {
            Some("ResourceNotFoundException") => {
                CredentialError::NotFound { secret: secret.clone(), hint: String::new() }
            }
            Some("AccessDeniedException") | Some("AccessDenied") => {
                CredentialError::AccessDenied { secret: secret.clone(), source: Some(Box::new(e)) }
            }
            _ if is_transient(&e) => CredentialError::Transient { secret: secret.clone(), source: Box::new(e) },
            _ => CredentialError::AccessDenied { secret: secret.clone(), source: Some(Box::new(e)) },
        })?;
        let text = out.secret_string().ok_or_else(|| CredentialError::Malformed {
            secret: secret.clone(),
            problem: "holds no string value".into(),
        })?;
        let creds = DbCredentials::from_secret_json(secret, text)?;
        let binding = SecretBinding::from_secret_json(text);
        self.secrets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, (creds.clone(), binding.clone(), Instant::now()));
        bound((creds, binding))
    }
}
