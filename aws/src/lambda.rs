//! What the three Lambda functions share: JSON logs and partial batch responses for SQS events.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::{FutureExt, StreamExt};
use std::future::Future;
use tracing::Instrument;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Logs as JSON when `AWS_LAMBDA_LOG_FORMAT=JSON` (the deployment sets it), text otherwise.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// An error and its causes on one line.
pub use dbadmin_ports::error_chain as chain;

/// How a record failed.
#[derive(Debug)]
pub enum RecordError {
    /// May succeed on another delivery (throttling, a timeout, a lost race): SQS delivers it again,
    /// and after `maxReceiveCount` moves it to the dead-letter queue.
    Retry(BoxError),
    /// Fails the same way on every delivery (an undecodable body, an invalid request): it goes to
    /// the dead-letter queue at once, with its reason, instead of being redelivered until then.
    Permanent(BoxError),
}

impl RecordError {
    pub fn retry(e: impl Into<BoxError>) -> Self {
        RecordError::Retry(e.into())
    }

    pub fn permanent(e: impl Into<BoxError>) -> Self {
        RecordError::Permanent(e.into())
    }

    /// `Retry` when `retryable`, else `Permanent`.
    pub fn classify(e: impl Into<BoxError>, retryable: bool) -> Self {
        if retryable {
            Self::retry(e)
        } else {
            Self::permanent(e)
        }
    }
}

/// Where a record that failed permanently goes: the function's own dead-letter queue.
#[async_trait::async_trait]
pub trait PoisonSink: Send + Sync {
    /// Sends the record's body with `reason`; the caller then acknowledges the record.
    async fn send(&self, record: &SqsMessage, reason: &str) -> Result<(), dbadmin_ports::PortError>;
}

/// The dead-letter queue of the queue a function consumes (`DBADMIN_DLQ_URL`).
pub struct SqsPoisonSink {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsPoisonSink {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsPoisonSink { client, queue_url: queue_url.into() }
    }

    /// The function's own dead-letter queue, when `DBADMIN_DLQ_URL` names one.
    pub fn from_settings(clients: &crate::Clients, settings: &crate::Settings) -> Option<Self> {
        settings.dlq_url.as_ref().map(|url| Self::new(clients.sqs.clone(), url))
    }
}

/// The message attribute that carries why a message was dead-lettered.
pub const REASON_ATTRIBUTE: &str = "dbadmin-error";

#[async_trait::async_trait]
impl PoisonSink for SqsPoisonSink {
    async fn send(&self, record: &SqsMessage, reason: &str) -> Result<(), dbadmin_ports::PortError> {
        let reason: String = reason.chars().take(1000).collect();
        let attribute = aws_sdk_sqs::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(reason)
            .build()
            .map_err(|e| dbadmin_ports::PortError::permanent("building the dead-letter reason", e))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(record.body.clone().unwrap_or_default())
            .message_attributes(REASON_ATTRIBUTE, attribute)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| crate::error::port_error("sqs:SendMessage (dead-letter queue)", e))
    }
}

/// Handles every record of a batch independently, at most `concurrency` at once, and reports
/// only the failed ones, so one poisoned message never fails its neighbours; SQS redelivers the
/// failed ones and, after `maxReceiveCount`, moves them to the dead-letter queue. A record that
/// failed permanently goes to `poison` at once (and counts as failed only if that send fails).
pub async fn handle_batch<H, F>(
    event: SqsEvent,
    concurrency: usize,
    poison: Option<&dyn PoisonSink>,
    deadline: Option<tokio::time::Instant>,
    handler: &H,
) -> SqsBatchResponse
where
    H: Fn(SqsMessage, Option<tokio::time::Instant>) -> F,
    F: Future<Output = Result<(), RecordError>>,
{
    let failures: Vec<String> = futures::stream::iter(event.records)
        .map(|record| {
            let id = record.message_id.clone().unwrap_or_default();
            let span = tracing::info_span!("record", message_id = %id);
            async move {
                let kept = record.clone();
                // A panic (odd data a driver did not expect) fails this record only.
                let handled = std::panic::AssertUnwindSafe(handler(record, deadline)).catch_unwind().await;
                let handled = handled.unwrap_or_else(|panic| {
                    let what = dbadmin_ports::panic_message(panic.as_ref());
                    Err(RecordError::retry(format!("the handler panicked: {what}")))
                });
                match handled {
                    Ok(()) => None,
                    Err(RecordError::Permanent(e)) if poison.is_some() => {
                        let reason = chain(e.as_ref());
                        match poison.expect("checked").send(&kept, &reason).await {
                            Ok(()) => {
                                tracing::error!(message_id = %id, error = %reason, "Record failed permanently; moved to the dead-letter queue.");
                                crate::emf::Metrics::new(&crate::emf::function()).count(crate::emf::metric::DLQ_SENDS, 1).emit();
                                None
                            }
                            Err(send) => {
                                tracing::error!(message_id = %id, error = %reason, dlq_error = %chain(&send), "Record failed permanently and could not be dead-lettered; SQS will deliver it again.");
                                Some(id)
                            }
                        }
                    }
                    Err(RecordError::Permanent(e) | RecordError::Retry(e)) => {
                        tracing::error!(message_id = %id, error = %chain(e.as_ref()), "Record failed; SQS will deliver it again.");
                        Some(id)
                    }
                }
            }
            .instrument(span)
        })
        .buffer_unordered(concurrency.max(1))
        .filter_map(futures::future::ready)
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// Runs a function over SQS batches until the Lambda runtime stops it. The handler receives each
/// record and the invocation's deadline.
pub async fn run_sqs<H, F>(
    concurrency: usize,
    poison: Option<&dyn PoisonSink>,
    handler: H,
) -> Result<(), lambda_runtime::Error>
where
    H: Fn(SqsMessage, Option<tokio::time::Instant>) -> F + Send + Sync,
    F: Future<Output = Result<(), RecordError>> + Send,
{
    let handler = &handler;
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<SqsEvent>| async move {
        let deadline = Some(deadline(event.context.deadline, std::time::SystemTime::now()));
        Ok::<_, lambda_runtime::Error>(handle_batch(event.payload, concurrency, poison, deadline, handler).await)
    }))
    .await
}

/// The invocation's deadline (the runtime gives milliseconds since the epoch) as an instant.
pub fn deadline(epoch_ms: u64, now: std::time::SystemTime) -> tokio::time::Instant {
    let now_ms = now.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    tokio::time::Instant::now() + std::time::Duration::from_millis(epoch_ms.saturating_sub(now_ms))
}

/// Whether SQS will not deliver this record again: its receive count reached the queue's
/// `maxReceiveCount` (after this failure it moves to the dead-letter queue).
/// Whether the queue delivers this record for the first time (`ApproximateReceiveCount` is 1).
pub fn first_delivery(record: &SqsMessage) -> bool {
    record.attributes.get("ApproximateReceiveCount").is_some_and(|c| c == "1")
}

pub fn last_delivery(record: &SqsMessage, max_receive_count: u32) -> bool {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|c| c.parse::<u32>().ok())
        .is_some_and(|count| count >= max_receive_count)
}

/// Who sent a record and when, from the queue's own system attributes (`SenderId`,
/// `SentTimestamp`) and message id: what the body says about its sender is only a claim.
pub fn provenance(record: &SqsMessage) -> Result<dbadmin_contracts::Provenance, RecordError> {
    let attribute = |name: &str| {
        record
            .attributes
            .get(name)
            .cloned()
            .ok_or_else(|| RecordError::permanent(format!("the message has no {name} attribute")))
    };
    let sent_ms: i64 = attribute("SentTimestamp")?
        .parse()
        .map_err(|e| RecordError::permanent(format!("SentTimestamp is not a number: {e}")))?;
    let sent = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(sent_ms) * 1_000_000)
        .map_err(|e| RecordError::permanent(format!("SentTimestamp is out of range: {e}")))?;
    Ok(dbadmin_contracts::Provenance {
        sender: attribute("SenderId")?,
        sent_at: dbadmin_contracts::format_rfc3339(sent),
        message_id: record.message_id.clone().ok_or_else(|| RecordError::permanent("the message has no id"))?,
    })
}

/// Decodes a record's body as `T`; a record that is not one fails permanently.
pub fn decode<T: dbadmin_contracts::Versioned + serde::de::DeserializeOwned>(
    record: &SqsMessage,
) -> Result<T, RecordError> {
    let body = body(record).map_err(RecordError::Permanent)?;
    dbadmin_contracts::decode(body.as_bytes()).map_err(RecordError::permanent)
}

/// The body of a record, or an error that names the message.
pub fn body(record: &SqsMessage) -> Result<&str, BoxError> {
    record
        .body
        .as_deref()
        .ok_or_else(|| format!("message {} has no body", record.message_id.as_deref().unwrap_or("?")).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Sink {
        sent: Mutex<Vec<(String, String)>>,
        broken: bool,
    }

    #[async_trait::async_trait]
    impl PoisonSink for Sink {
        async fn send(&self, record: &SqsMessage, reason: &str) -> Result<(), dbadmin_ports::PortError> {
            if self.broken {
                return Err(dbadmin_ports::PortError::transient("sqs:SendMessage", "throttled"));
            }
            let id = record.message_id.clone().unwrap_or_default();
            self.sent.lock().unwrap().push((id, reason.to_owned()));
            Ok(())
        }
    }

    fn event() -> SqsEvent {
        let mut event = SqsEvent::default();
        for (id, body) in [("ok", "fine"), ("later", "transient"), ("poison", "permanent"), ("odd", "panic")] {
            let mut m = SqsMessage::default();
            m.message_id = Some(id.into());
            m.body = Some(body.into());
            event.records.push(m);
        }
        event
    }

    async fn handler(record: SqsMessage, _: Option<tokio::time::Instant>) -> Result<(), RecordError> {
        match record.body.as_deref() {
            Some("transient") => Err(RecordError::retry("throttled, try again")),
            Some("permanent") => Err(RecordError::permanent("not a collection job: missing field `report_id`")),
            Some("panic") => panic!("unexpected column type"),
            _ => Ok(()),
        }
    }

    fn failed(r: &SqsBatchResponse) -> Vec<&str> {
        let mut ids: Vec<&str> = r.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        ids.sort();
        ids
    }

    #[tokio::test]
    async fn permanent_failures_go_to_the_dead_letter_queue_at_once() {
        let sink = Sink::default();
        let response = handle_batch(event(), 3, Some(&sink), None, &handler).await;
        assert_eq!(failed(&response), vec!["later", "odd"], "the transient failure and the panic are redelivered");
        let sent = sink.sent.lock().unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, "poison");
        assert!(sent[0].1.contains("missing field `report_id`"), "the reason travels: {}", sent[0].1);
    }

    #[tokio::test]
    async fn without_a_dead_letter_queue_or_when_it_fails_the_record_is_redelivered() {
        let response = handle_batch(event(), 3, None, None, &handler).await;
        assert_eq!(failed(&response), vec!["later", "odd", "poison"]);
        let broken = Sink { broken: true, ..Sink::default() };
        let response = handle_batch(event(), 3, Some(&broken), None, &handler).await;
        assert_eq!(failed(&response), vec!["later", "odd", "poison"], "a message is never dropped");
    }

    #[test]
    fn the_runtime_deadline_and_the_last_delivery() {
        let now = std::time::SystemTime::now();
        let now_ms = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        let left = deadline(now_ms + 30_000, now) - tokio::time::Instant::now();
        assert!(left <= std::time::Duration::from_secs(30) && left > std::time::Duration::from_secs(29), "{left:?}");
        assert!(deadline(now_ms - 5_000, now) <= tokio::time::Instant::now(), "a past deadline is now");

        let mut record = SqsMessage::default();
        assert!(!last_delivery(&record, 3), "no count: not known to be the last");
        assert!(!first_delivery(&record), "no count: not known to be the first");
        record.attributes.insert("ApproximateReceiveCount".into(), "1".into());
        assert!(first_delivery(&record) && !last_delivery(&record, 3));
        record.attributes.insert("ApproximateReceiveCount".into(), "2".into());
        assert!(!last_delivery(&record, 3) && !first_delivery(&record));
        record.attributes.insert("ApproximateReceiveCount".into(), "3".into());
        assert!(last_delivery(&record, 3));
    }
}
