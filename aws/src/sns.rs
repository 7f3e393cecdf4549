//! Collection jobs fanned out through SNS `PublishBatch`.

use crate::error::port_error;
use async_trait::async_trait;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use dbadmin_contracts::CollectionJob;
use dbadmin_ports::{JobQueue, PortError, MAX_BATCH};

pub struct SnsJobQueue {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsJobQueue {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        SnsJobQueue { client, topic_arn: topic_arn.into() }
    }
}

fn attribute(value: &str) -> Result<MessageAttributeValue, PortError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| PortError::permanent("build message attribute", e))
}

#[async_trait]
impl JobQueue for SnsJobQueue {
    async fn publish_batch(&self, jobs: &[CollectionJob]) -> Result<Vec<usize>, PortError> {
        if jobs.len() > MAX_BATCH {
            return Err(PortError::permanent(
                "publish batch",
                format!("{} jobs exceed the batch limit of {MAX_BATCH}", jobs.len()),
            ));
        }
        let mut entries = Vec::with_capacity(jobs.len());
        for (i, job) in jobs.iter().enumerate() {
            // report_id and target_id ride as attributes too, so a message in the DLQ explains itself.
            entries.push(
                PublishBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message(String::from_utf8_lossy(&dbadmin_contracts::encode(job)).into_owned())
                    .message_attributes("report_id", attribute(&job.report_id)?)
                    .message_attributes("target_id", attribute(&job.target.id)?)
                    .build()
                    .map_err(|e| PortError::permanent("build publish entry", e))?,
            );
        }
        let out = self
            .client
            .publish_batch()
            .topic_arn(&self.topic_arn)
            .set_publish_batch_request_entries(Some(entries))
            .send()
            .await
            .map_err(|e| port_error("SNS PublishBatch", e))?;
        // PublishBatch answers 200 even when entries failed: every failed entry is retried by the caller.
        Ok(out.failed().iter().filter_map(|f| f.id().parse::<usize>().ok()).collect())
    }
}
