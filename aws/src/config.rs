//! Settings from the environment, checked at cold start, and the SDK clients built once.

use std::time::Duration;

/// A missing or malformed setting, naming the environment variable.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

fn required(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        Ok(_) => Err(ConfigError { name, problem: "is empty".into() }),
        Err(_) => Err(ConfigError { name, problem: "is not set".into() }),
    }
}

fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn number<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError> {
    match optional(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| ConfigError { name, problem: format!("'{v}' is not a number") }),
    }
}

/// Every setting any function reads. Each function asks for the ones it needs with the
/// `require_*` helpers at cold start, so a missing one fails before the first message.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DBADMIN_BUCKET`: results, population snapshots and reports.
    pub bucket: String,
    /// `DBADMIN_TABLE`: run state and completion counts.
    pub table: String,
    /// `DBADMIN_KMS_KEY_ID`: SSE-KMS key for objects (bucket default encryption when unset).
    pub kms_key_id: Option<String>,
    /// `DBADMIN_COLLECT_TOPIC_ARN`: where the publisher fans jobs out.
    pub collect_topic_arn: Option<String>,
    /// `DBADMIN_FINALIZE_QUEUE_URL`: where the last collector asks for the report.
    pub finalize_queue_url: Option<String>,
    /// `DBADMIN_TARGET_ROLE_NAME`: the role assumed in each target account (`arn:aws:iam::{account}:role/{name}`);
    /// unset means "read secrets with this function's own role" (single-account set-ups and tests).
    pub target_role_name: Option<String>,
    /// `DBADMIN_EXTERNAL_ID`: the ExternalId the target roles require.
    pub external_id: Option<String>,
    /// `DBADMIN_TLS_CA_FILE`: extra CA certificates for database TLS (e.g. the RDS bundle shipped in the zip).
    pub tls_ca_file: Option<String>,
    /// `DBADMIN_MIN_TLS_MODE`: the weakest TLS mode the collector connects with (`verify-full`,
    /// `verify-ca`, `require`, `disable`); an inventory row asking for less becomes an error row.
    pub min_tls: dbadmin_contracts::TlsMode,
    /// `DBADMIN_REQUIRE_BOUND_SECRETS` (`true`): a secret that names no database is an error row.
    pub require_bound_secrets: bool,
    /// `DBADMIN_LOGIN_WINDOW_DAYS` (90): days of login evidence read, ending at collection.
    pub login_window_days: u32,
    /// `DBADMIN_CONNECT_TIMEOUT_SECS` / `DBADMIN_QUERY_TIMEOUT_SECS`.
    pub connect_timeout: Duration,
    pub query_timeout: Duration,
    /// `DBADMIN_BATCH_CONCURRENCY`: records of one SQS batch handled at once.
    pub batch_concurrency: usize,
    /// `DBADMIN_DLQ_URL`: the dead-letter queue of the queue this function consumes; a record that
    /// fails permanently goes there at once. Unset: it is redelivered until `maxReceiveCount`.
    pub dlq_url: Option<String>,
    /// `DBADMIN_MAX_RECEIVE_COUNT`: the consumed queue's `maxReceiveCount` (its redrive policy), so
    /// the last delivery of a job is known.
    pub max_receive_count: u32,
    /// `DBADMIN_DEADLINE_MARGIN_SECS`: time kept back from the invocation's deadline to store and
    /// count a result after the database work ends.
    pub deadline_margin: Duration,
    /// `DBADMIN_FINALIZE_LEASE_SECS`: how long a reporter's claim on a version holds (Terraform:
    /// twice the function time-out, below the finalize queue's visibility time-out of six times it).
    pub finalize_lease: Duration,
    /// `DBADMIN_SIGNING_KEY_ID`: the asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) the reporter
    /// signs manifests with.
    pub signing_key_id: Option<String>,
}

impl Settings {
    pub fn from_env() -> Result<Settings, ConfigError> {
        Ok(Settings {
            bucket: required("DBADMIN_BUCKET")?,
            table: required("DBADMIN_TABLE")?,
            kms_key_id: optional("DBADMIN_KMS_KEY_ID"),
            collect_topic_arn: optional("DBADMIN_COLLECT_TOPIC_ARN"),
            finalize_queue_url: optional("DBADMIN_FINALIZE_QUEUE_URL"),
            target_role_name: optional("DBADMIN_TARGET_ROLE_NAME"),
            external_id: optional("DBADMIN_EXTERNAL_ID"),
            // A relative path is a file shipped in the function's zip.
            tls_ca_file: optional("DBADMIN_TLS_CA_FILE").map(|f| match std::env::var("LAMBDA_TASK_ROOT") {
                Ok(root) if !f.starts_with('/') => format!("{root}/{f}"),
                _ => f,
            }),
            min_tls: match optional("DBADMIN_MIN_TLS_MODE") {
                None => dbadmin_contracts::TlsMode::Disable,
                Some(v) => v.parse().map_err(|problem| ConfigError { name: "DBADMIN_MIN_TLS_MODE", problem })?,
            },
            require_bound_secrets: optional("DBADMIN_REQUIRE_BOUND_SECRETS").is_some_and(|v| v == "true"),
            login_window_days: match number("DBADMIN_LOGIN_WINDOW_DAYS", 90)? {
                0 => {
                    return Err(ConfigError {
                        name: "DBADMIN_LOGIN_WINDOW_DAYS",
                        problem: "0 days would make every admin dormant: at least 1".into(),
                    })
                }
                days => days,
            },
            connect_timeout: Duration::from_secs(number("DBADMIN_CONNECT_TIMEOUT_SECS", 10)?),
            query_timeout: Duration::from_secs(number("DBADMIN_QUERY_TIMEOUT_SECS", 30)?),
            batch_concurrency: number("DBADMIN_BATCH_CONCURRENCY", 10)?,
            dlq_url: optional("DBADMIN_DLQ_URL"),
            max_receive_count: number("DBADMIN_MAX_RECEIVE_COUNT", 3)?,
            deadline_margin: Duration::from_secs(number("DBADMIN_DEADLINE_MARGIN_SECS", 10)?),
            finalize_lease: Duration::from_secs(number("DBADMIN_FINALIZE_LEASE_SECS", 600)?),
            signing_key_id: optional("DBADMIN_SIGNING_KEY_ID"),
        })
    }

    pub fn require_collect_topic(&self) -> Result<&str, ConfigError> {
        self.collect_topic_arn
            .as_deref()
            .ok_or(ConfigError { name: "DBADMIN_COLLECT_TOPIC_ARN", problem: "is not set".into() })
    }

    pub fn require_signing_key(&self) -> Result<&str, ConfigError> {
        self.signing_key_id.as_deref().ok_or(ConfigError {
            name: "DBADMIN_SIGNING_KEY_ID",
            problem: "is not set (manifests are always signed)".into(),
        })
    }

    pub fn require_finalize_queue(&self) -> Result<&str, ConfigError> {
        self.finalize_queue_url
            .as_deref()
            .ok_or(ConfigError { name: "DBADMIN_FINALIZE_QUEUE_URL", problem: "is not set".into() })
    }
}

/// The SDK clients, built once per process (per Lambda container).
#[derive(Clone)]
pub struct Clients {
    pub sdk: aws_config::SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sts: aws_sdk_sts::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub kms: aws_sdk_kms::Client,
    pub ssm: aws_sdk_ssm::Client,
    /// Added to every client made from these (benchmarks count calls with one).
    pub interceptor: Option<aws_sdk_s3::config::SharedInterceptor>,
}

impl Clients {
    /// Loads the standard configuration chain (region, credentials, `AWS_ENDPOINT_URL`).
    pub async fn load() -> Clients {
        // Every call ends: a hung connection or a service that stops answering is an error the
        // caller retries, never a Lambda that waits out its own time-out.
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_attempt_timeout(Duration::from_secs(20))
            .operation_timeout(Duration::from_secs(60))
            .build();
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(timeouts).load().await;
        Clients::from_sdk(sdk)
    }

    pub fn from_sdk(sdk: aws_config::SdkConfig) -> Clients {
        Clients::build(sdk, None)
    }

    /// Clients that all run `interceptor` on every call (and hand it to the clients made later,
    /// such as a secret's region's Secrets Manager client).
    pub fn intercepted(sdk: aws_config::SdkConfig, interceptor: aws_sdk_s3::config::SharedInterceptor) -> Clients {
        Clients::build(sdk, Some(interceptor))
    }

    fn build(sdk: aws_config::SdkConfig, interceptor: Option<aws_sdk_s3::config::SharedInterceptor>) -> Clients {
        // Emulators serve buckets by path, not by virtual host.
        let path_style = sdk.endpoint_url().is_some();
        macro_rules! client {
            ($sdk_crate:ident $(, $setting:ident($value:expr))*) => {{
                let mut builder = $sdk_crate::config::Builder::from(&sdk) $(.$setting($value))*;
                if let Some(i) = &interceptor {
                    builder.push_interceptor(i.clone());
                }
                $sdk_crate::Client::from_conf(builder.build())
            }};
        }
        Clients {
            s3: client!(aws_sdk_s3, force_path_style(path_style)),
            sns: client!(aws_sdk_sns),
            sqs: client!(aws_sdk_sqs),
            dynamodb: client!(aws_sdk_dynamodb),
            sts: client!(aws_sdk_sts),
            secrets: client!(aws_sdk_secretsmanager),
            kms: client!(aws_sdk_kms),
            ssm: client!(aws_sdk_ssm),
            interceptor,
            sdk,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn missing_settings_name_the_variable() {
        let err = super::required("DBADMIN_SURELY_UNSET_FOR_TEST").unwrap_err();
        assert_eq!(err.to_string(), "environment variable DBADMIN_SURELY_UNSET_FOR_TEST: is not set");
    }
}
