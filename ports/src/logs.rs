//! A database's login log as its cloud keeps it (CloudWatch Logs on AWS): the evidence of the Last
//! Login Date when the inventory names `cloudwatch:GROUP`.

use async_trait::async_trait;
use dbadmin_contracts::Target;

/// At most this many events are read for one database and window: more is an error, so one busy
/// log cannot hold a collection past its deadline (the step's time limit bounds the rest).
pub const MAX_LOGIN_EVENTS: usize = 200_000;

/// What was read of one log group.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LogRead {
    /// `(time in Unix milliseconds, message)` of each event holding one of the phrases, oldest first.
    pub events: Vec<(i64, String)>,
    /// The time of the group's oldest event: what it covers.
    pub oldest: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LogError(pub String);

#[async_trait]
pub trait LoginLogs: Send + Sync {
    /// The events of log group `group` in `target`'s account (through its role) and region, from
    /// `start_ms` to `end_ms`, whose message holds one of `phrases` (one filter each), and the
    /// group's oldest event. Fails
    /// naming the group: refused, missing, or more than [`MAX_LOGIN_EVENTS`].
    async fn read(
        &self,
        target: &Target,
        group: &str,
        phrases: &[&str],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<LogRead, LogError>;
}

/// Where no cloud keeps the logs (local runs): a `cloudwatch:` source is said to be unread.
pub struct NoCloudLogs;

#[async_trait]
impl LoginLogs for NoCloudLogs {
    async fn read(&self, _: &Target, group: &str, _: &[&str], _: i64, _: i64) -> Result<LogRead, LogError> {
        Err(LogError(format!("log group {group} is read by the deployed collector; a local run reads file: logs only")))
    }
}
