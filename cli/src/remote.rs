//! The AWS deployment behind [`crate::ops`]: its adapters, built from the CLI's settings and the
//! standard AWS credential chain (profile, environment, SSO, role; `AWS_ENDPOINT_URL` honoured),
//! plus the two things only AWS has: the caller's identity and `s3://` inventories.
//!
//! Without the `aws` feature (the local-only build) [`connect`] refuses and [`Remote`] cannot be
//! made, so the commands compile the same way in both builds.

use crate::ops::Deployment;

/// Where the deployment is. Each comes from a flag, a `DBADMIN_…` variable or the config file.
#[derive(Debug, Clone, Default)]
pub struct RemoteConfig {
    pub requests_queue_url: Option<String>,
    pub bucket: Option<String>,
    pub table: Option<String>,
    pub collect_queue_url: Option<String>,
    pub collect_dlq_url: Option<String>,
    pub finalize_queue_url: Option<String>,
    pub finalize_dlq_url: Option<String>,
    pub requests_dlq_url: Option<String>,
    pub signing_key_id: Option<String>,
}

#[cfg(feature = "aws")]
pub use with_aws::{connect, Remote};
#[cfg(not(feature = "aws"))]
pub use without_aws::{connect, Remote};

#[cfg(not(feature = "aws"))]
mod without_aws {
    use super::{Deployment, RemoteConfig};
    use dbadmin_contracts::baseline::Baseline;
    use dbadmin_contracts::Inventory;

    /// Never made in a build without AWS support.
    pub struct Remote {
        pub deployment: Deployment,
        never: std::convert::Infallible,
    }

    pub async fn connect(_: RemoteConfig) -> anyhow::Result<Remote> {
        anyhow::bail!(
            "this build has no AWS support (built without the `aws` feature); use --local, or build with default features"
        )
    }

    impl Remote {
        pub async fn identity(&self) -> anyhow::Result<String> {
            match self.never {}
        }

        pub async fn inventory(&self, _: &str) -> anyhow::Result<Inventory> {
            match self.never {}
        }

        pub async fn baseline(&self, _: &str) -> anyhow::Result<Baseline> {
            match self.never {}
        }

        pub async fn public_key(&self) -> anyhow::Result<(String, Vec<u8>)> {
            match self.never {}
        }

        pub fn discovery(&self) -> Box<dyn dbadmin_ports::DatabaseDiscovery> {
            match self.never {}
        }
    }
}

#[cfg(feature = "aws")]
mod with_aws {
    use super::{Deployment, RemoteConfig};
    use crate::ops::Queue;
    use anyhow::Context;
    use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
    use dbadmin_aws::dynamo::DynamoRunStore;
    use dbadmin_aws::s3::{S3Inventory, S3Store};
    use dbadmin_aws::sqs::{SqsDeadLetterQueue, SqsFinalizeQueue, SqsRequestQueue};
    use dbadmin_aws::Clients;
    use dbadmin_contracts::baseline::Baseline;
    use dbadmin_contracts::Inventory;
    use dbadmin_ports::DeadLetterQueue;
    use dbadmin_ports::InventorySource;
    use std::sync::Arc;
    use std::time::Duration;

    pub struct Remote {
        clients: Clients,
        signing_key_id: Option<String>,
        pub deployment: Deployment,
    }

    fn set(value: &Option<String>) -> Option<&str> {
        value.as_deref().filter(|v| !v.is_empty())
    }

    /// The deployment's adapters, built from the settings that are set.
    pub async fn connect(cfg: RemoteConfig) -> anyhow::Result<Remote> {
        let clients = Clients::load().await;
        let deployment = Deployment {
            runs: set(&cfg.table).map(|t| Arc::new(DynamoRunStore::new(clients.dynamodb.clone(), t)) as _),
            store: set(&cfg.bucket).map(|b| Arc::new(S3Store::new(clients.s3.clone(), b, None)) as _),
            requests: set(&cfg.requests_queue_url).map(|u| Arc::new(SqsRequestQueue::new(clients.sqs.clone(), u)) as _),
            finalize: set(&cfg.finalize_queue_url)
                .map(|u| Arc::new(SqsFinalizeQueue::new(clients.sqs.clone(), u)) as _),
            dlqs: [
                (Queue::Requests, &cfg.requests_dlq_url, &cfg.requests_queue_url),
                (Queue::Collect, &cfg.collect_dlq_url, &cfg.collect_queue_url),
                (Queue::Finalize, &cfg.finalize_dlq_url, &cfg.finalize_queue_url),
            ]
            .into_iter()
            .filter_map(|(queue, dlq, source)| {
                let source = set(source).map(str::to_owned);
                let dlq: Arc<dyn DeadLetterQueue> =
                    Arc::new(SqsDeadLetterQueue::new(clients.sqs.clone(), set(dlq)?, source));
                Some((queue, dlq))
            })
            .collect(),
            poll: Some(Duration::from_millis(500)),
        };
        Ok(Remote { signing_key_id: set(&cfg.signing_key_id).map(str::to_owned), clients, deployment })
    }

    impl Remote {
        /// The caller's ARN, for the audit trail. Fails early on missing or expired credentials.
        pub async fn identity(&self) -> anyhow::Result<String> {
            let out = self.clients.sts.get_caller_identity().send().await.map_err(|e| match &e {
                // The SDK's own text for a service error is only "service error": name the code.
                SdkError::ServiceError(se) => anyhow::anyhow!(
                    "resolving your AWS identity (sts:GetCallerIdentity): {}: {}",
                    se.err().code().unwrap_or("error"),
                    se.err().message().unwrap_or("")
                ),
                _ => anyhow::Error::new(e).context("resolving your AWS identity (sts:GetCallerIdentity)"),
            })?;
            out.arn().map(str::to_owned).context("sts:GetCallerIdentity returned no ARN")
        }

        /// Lists databases as the deployment's publisher does: through the target role named by
        /// `DBADMIN_TARGET_ROLE_NAME` (with `DBADMIN_EXTERNAL_ID`) in each account, or with this
        /// process's own credentials when no role is set.
        pub fn discovery(&self) -> Box<dyn dbadmin_ports::DatabaseDiscovery> {
            let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
            Box::new(dbadmin_aws::rds::RdsDiscovery::new(
                &self.clients,
                var("DBADMIN_TARGET_ROLE_NAME"),
                var("DBADMIN_EXTERNAL_ID"),
            ))
        }

        /// The deployment's signing key id and its public key (DER), from KMS.
        pub async fn public_key(&self) -> anyhow::Result<(String, Vec<u8>)> {
            use dbadmin_ports::signing::Signer;
            let key_id = self.signing_key_id.clone().context(
                "no signing key configured: set DBADMIN_SIGNING_KEY_ID (Terraform output signing_key_arn) or --signing-key-id",
            )?;
            let signer = dbadmin_aws::kms::KmsSigner::new(self.clients.kms.clone(), &key_id);
            let der = signer.public_key_der().await.with_context(|| format!("reading the public key of {key_id}"))?;
            Ok((key_id, der))
        }

        /// Reads and validates an `s3://` or `ssm:` inventory.
        pub async fn inventory(&self, uri: &str) -> anyhow::Result<Inventory> {
            let source = S3Inventory::new(self.clients.s3.clone()).with_ssm(self.clients.ssm.clone());
            let document = source.fetch(uri).await.with_context(|| format!("reading {uri}"))?;
            Ok(Inventory::read(uri, &document)?)
        }

        /// Reads and validates an `s3://` approved-admin baseline, as the publisher will.
        pub async fn baseline(&self, uri: &str) -> anyhow::Result<Baseline> {
            let source = S3Inventory::new(self.clients.s3.clone());
            match source.fetch(uri).await.with_context(|| format!("reading {uri}"))? {
                dbadmin_contracts::InventoryDocument::Csv(bytes) => Ok(Baseline::parse(uri, &bytes)?),
                dbadmin_contracts::InventoryDocument::Parameters(_) => anyhow::bail!("{uri} is not a CSV object"),
            }
        }
    }
}
