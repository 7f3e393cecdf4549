//! Login logs in CloudWatch Logs, where RDS exports a database's log (`/aws/rds/instance/ID/
//! postgresql`, `…/audit`): read in the target account through its role, like its secrets.

use crate::credentials::AwsCredentials;
use crate::error::code;
use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::config::Region;
use dbadmin_contracts::Target;
use dbadmin_ports::logs::{LogError, LogRead, LoginLogs, MAX_LOGIN_EVENTS};

#[async_trait]
impl LoginLogs for AwsCredentials {
    async fn read(
        &self,
        target: &Target,
        group: &str,
        phrases: &[&str],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<LogRead, LogError> {
        let mut config =
            aws_sdk_cloudwatchlogs::config::Builder::from(self.sdk()).region(Region::new(target.region.clone()));
        if let Some(role) = self.role_for(target) {
            let creds = self.role_credentials(&role).await.map_err(|e| LogError(e.to_string()))?;
            config = config.credentials_provider(creds);
        }
        if let Some(i) = self.interceptor() {
            config.push_interceptor(i);
        }
        let client = aws_sdk_cloudwatchlogs::Client::from_conf(config.build());
        let failed = |e: &dyn std::fmt::Display, c: Option<&str>| {
            LogError(match c {
                Some("AccessDeniedException") => {
                    format!("reading log group {group} was refused (logs:FilterLogEvents in the target role)")
                }
                Some("ResourceNotFoundException") => {
                    format!("log group {group} does not exist: is the database's log exported to CloudWatch Logs?")
                }
                _ => format!("reading log group {group} failed: {e}"),
            })
        };
        let mut read = LogRead::default();
        // The oldest event: what the group covers (its retention may be shorter than the window).
        let oldest = client.filter_log_events().log_group_name(group).start_time(0).limit(1).send().await;
        let oldest = oldest.map_err(|e| failed(&dbadmin_ports::error_chain(&e), code(&e)))?;
        read.oldest = oldest.events().first().and_then(|e| e.timestamp());
        for (i, phrase) in phrases.iter().enumerate() {
            // An event holding an earlier phrase too was read by that phrase's pass.
            let earlier = &phrases[..i];
            let mut token: Option<String> = None;
            loop {
                let mut req = client
                    .filter_log_events()
                    .log_group_name(group)
                    .start_time(start_ms)
                    .end_time(end_ms)
                    .filter_pattern(format!("\"{phrase}\""));
                if let Some(t) = token.take() {
                    req = req.next_token(t);
                }
                let page = req.send().await;
                let page = page.map_err(|e| failed(&dbadmin_ports::error_chain(&e), code(&e)))?;
                read.events.extend(
                    page.events()
                        .iter()
                        .filter_map(|e| Some((e.timestamp()?, e.message()?.to_owned())))
                        .filter(|(_, m)| m.contains(phrase) && !earlier.iter().any(|e| m.contains(e))),
                );
                if read.events.len() > MAX_LOGIN_EVENTS {
                    return Err(LogError(format!(
                        "log group {group} holds more than {MAX_LOGIN_EVENTS} events of interest in the window: not read"
                    )));
                }
                match page.next_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                    _ => break,
                }
            }
        }
        read.events.sort_by_key(|(at, _)| *at);
        Ok(read)
    }
}
