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
        let bodies: Vec<String> =
            jobs.iter().map(|job| String::from_utf8_lossy(&dbadmin_contracts::encode(job)).into_owned()).collect();
        let mut failed = Vec::new();
        // A batch may hold 10 messages but at most 256 KiB in all: large targets go in smaller calls.
        for range in by_size(&bodies.iter().map(|b| entry_size(b, &jobs[0])).collect::<Vec<_>>(), MAX_BATCH_BYTES) {
            let mut entries = Vec::with_capacity(range.len());
            for i in range {
                let job = &jobs[i];
                // report_id and target_id ride as attributes too, so a message in the DLQ explains itself.
                entries.push(
                    PublishBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message(&bodies[i])
                        .message_attributes("report_id", attribute(&job.report_id)?)
                        .message_attributes("target_id", attribute(&job.target_id)?)
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
            failed.extend(out.failed().iter().filter_map(|f| f.id().parse::<usize>().ok()));
        }
        Ok(failed)
    }
}

/// SNS's limit on one `PublishBatch` call: the messages and their attributes together.
const MAX_BATCH_BYTES: usize = 256 * 1024;

/// What one entry counts against the limit: its body and its attributes (names, types, values).
fn entry_size(body: &str, job: &CollectionJob) -> usize {
    body.len() + "report_idString".len() + job.report_id.len() + "target_idString".len() + job.target_id.len()
}

/// Consecutive ranges of entries, each within `limit` bytes in all (an entry larger than the limit
/// goes alone, and SNS refuses it by name).
fn by_size(sizes: &[usize], limit: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut total) = (0, 0);
    for (i, size) in sizes.iter().enumerate() {
        if i > start && total + size > limit {
            out.push(start..i);
            (start, total) = (i, 0);
        }
        total += size;
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::by_size;

    #[test]
    fn batches_split_by_total_size() {
        assert_eq!(by_size(&[100; 10], 1000), vec![0..10]);
        assert_eq!(by_size(&[100_000, 100_000, 100_000], 256 * 1024), vec![0..2, 2..3]);
        assert_eq!(by_size(&[300_000, 10, 10], 256 * 1024), vec![0..1, 1..3], "an oversized entry goes alone");
        assert!(by_size(&[], 10).is_empty());
    }
}
