//! SQS adapters: the finalize queue, the requests queue and the dead-letter queues.

use crate::error::port_error;
use async_trait::async_trait;
use aws_sdk_sqs::types::{ChangeMessageVisibilityBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName};
use dbadmin_contracts::{FinalizeMessage, ReportRequest};
use dbadmin_ports::{DeadLetter, DeadLetterQueue, FinalizeQueue, PortError, RequestQueue};
use std::time::Duration;

pub struct SqsFinalizeQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsFinalizeQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsFinalizeQueue { client, queue_url: queue_url.into() }
    }
}

#[async_trait]
impl FinalizeQueue for SqsFinalizeQueue {
    async fn send_finalize(&self, message: &FinalizeMessage) -> Result<(), PortError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(String::from_utf8_lossy(&dbadmin_contracts::encode(message)).into_owned())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| port_error("SQS SendMessage (finalize)", e))
    }
}

/// The requests queue the publisher reads.
pub struct SqsRequestQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsRequestQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsRequestQueue { client, queue_url: queue_url.into() }
    }
}

#[async_trait]
impl RequestQueue for SqsRequestQueue {
    async fn submit(&self, request: &ReportRequest) -> Result<(), PortError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(String::from_utf8_lossy(&dbadmin_contracts::encode(request)).into_owned())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| port_error("sqs:SendMessage (report request)", e))
    }
}

/// A dead-letter queue and its source queue (where redriven messages go).
pub struct SqsDeadLetterQueue {
    client: aws_sdk_sqs::Client,
    dlq_url: String,
    source_url: Option<String>,
}

impl SqsDeadLetterQueue {
    /// `source_url`: the queue redriven messages go back to (`None`: redrive refuses).
    pub fn new(client: aws_sdk_sqs::Client, dlq_url: impl Into<String>, source_url: Option<String>) -> Self {
        SqsDeadLetterQueue { client, dlq_url: dlq_url.into(), source_url }
    }
}

fn batch_failures(operation: &str, failed: &[aws_sdk_sqs::types::BatchResultErrorEntry]) -> Result<(), PortError> {
    if failed.is_empty() {
        return Ok(());
    }
    let detail: Vec<String> = failed.iter().map(|f| format!("{}: {}", f.code(), f.message().unwrap_or(""))).collect();
    let error = format!("{} of the batch failed: {}", failed.len(), detail.join("; "));
    if failed.iter().any(|f| f.sender_fault()) {
        Err(PortError::permanent(operation, error))
    } else {
        Err(PortError::transient(operation, error))
    }
}

#[async_trait]
impl DeadLetterQueue for SqsDeadLetterQueue {
    async fn receive(&self, max: usize, hold: Duration) -> Result<Vec<DeadLetter>, PortError> {
        let mut seen: Vec<DeadLetter> = Vec::new();
        while seen.len() < max {
            let out = self
                .client
                .receive_message()
                .queue_url(&self.dlq_url)
                .max_number_of_messages(10.min(max - seen.len()) as i32)
                .visibility_timeout(hold.as_secs().max(1) as i32)
                .wait_time_seconds(1)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names(crate::lambda::REASON_ATTRIBUTE)
                .send()
                .await
                .map_err(|e| port_error("sqs:ReceiveMessage (dead-letter queue)", e))?;
            let messages = out.messages();
            if messages.is_empty() {
                break;
            }
            for m in messages {
                let message_id = m.message_id().unwrap_or_default().to_owned();
                if seen.iter().any(|s| s.message_id == message_id) {
                    continue;
                }
                let attr = |n: MessageSystemAttributeName| m.attributes().and_then(|a| a.get(&n)).cloned();
                seen.push(DeadLetter {
                    message_id,
                    body: m.body().unwrap_or_default().to_owned(),
                    receipt: m.receipt_handle().unwrap_or_default().to_owned(),
                    receive_count: attr(MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|c| c.parse().ok()),
                    sent_at: attr(MessageSystemAttributeName::SentTimestamp)
                        .and_then(|ms| ms.parse::<i64>().ok())
                        .and_then(|ms| time::OffsetDateTime::from_unix_timestamp(ms / 1000).ok())
                        .map(dbadmin_contracts::format_rfc3339),
                    reason: m
                        .message_attributes()
                        .and_then(|a| a.get(crate::lambda::REASON_ATTRIBUTE))
                        .and_then(|v| v.string_value())
                        .map(str::to_owned),
                });
            }
        }
        Ok(seen)
    }

    async fn release(&self, receipts: &[&str]) -> Result<(), PortError> {
        for chunk in receipts.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(*r)
                        .visibility_timeout(0)
                        .build()
                        .map_err(|e| PortError::permanent("building a visibility change", e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .change_message_visibility_batch()
                .queue_url(&self.dlq_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| port_error("sqs:ChangeMessageVisibilityBatch (dead-letter queue)", e))?;
            batch_failures("sqs:ChangeMessageVisibilityBatch (dead-letter queue)", out.failed())?;
        }
        Ok(())
    }

    async fn send_back(&self, body: &str) -> Result<(), PortError> {
        let Some(url) = &self.source_url else {
            return Err(PortError::permanent("redriving a message", "the source queue is not configured"));
        };
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| port_error("sqs:SendMessage (redrive)", e))
    }

    async fn delete(&self, receipt: &str) -> Result<(), PortError> {
        self.client
            .delete_message()
            .queue_url(&self.dlq_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| port_error("sqs:DeleteMessage (dead-letter queue)", e))
    }

    async fn start_move_task(&self) -> Result<String, PortError> {
        let attrs = self
            .client
            .get_queue_attributes()
            .queue_url(&self.dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| port_error("sqs:GetQueueAttributes (dead-letter queue ARN)", e))?;
        let arn = attrs
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn))
            .cloned()
            .ok_or_else(|| PortError::permanent("reading the dead-letter queue's ARN", "no QueueArn returned"))?;
        let out = self
            .client
            .start_message_move_task()
            .source_arn(arn)
            .send()
            .await
            .map_err(|e| port_error("sqs:StartMessageMoveTask", e))?;
        Ok(out.task_handle().unwrap_or_default().to_owned())
    }
}
