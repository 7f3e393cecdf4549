//! What the three Lambda functions share: JSON logs and partial batch responses for SQS events.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::StreamExt;
use std::future::Future;
use tracing::Instrument;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Logs as JSON when `AWS_LAMBDA_LOG_FORMAT=JSON` (the deployment sets it), text otherwise.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// An error and its causes on one line.
pub use dbadmin_ports::error_chain as chain;

/// Handles every record of a batch independently, at most `concurrency` at once, and reports
/// only the failed ones, so one poisoned message never fails its neighbours; SQS redelivers the
/// failed ones and, after `maxReceiveCount`, moves them to the dead-letter queue.
pub async fn handle_batch<H, F>(event: SqsEvent, concurrency: usize, handler: &H) -> SqsBatchResponse
where
    H: Fn(SqsMessage) -> F,
    F: Future<Output = Result<(), BoxError>>,
{
    let failures: Vec<String> = futures::stream::iter(event.records)
        .map(|record| {
            let id = record.message_id.clone().unwrap_or_default();
            let span = tracing::info_span!("record", message_id = %id);
            async move {
                match handler(record).await {
                    Ok(()) => None,
                    Err(e) => {
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

/// Runs a function over SQS batches until the Lambda runtime stops it.
pub async fn run_sqs<H, F>(concurrency: usize, handler: H) -> Result<(), lambda_runtime::Error>
where
    H: Fn(SqsMessage) -> F + Send + Sync,
    F: Future<Output = Result<(), BoxError>> + Send,
{
    let handler = &handler;
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(handle_batch(event.payload, concurrency, handler).await)
    }))
    .await
}

/// The body of a record, or an error that names the message.
pub fn body(record: &SqsMessage) -> Result<&str, BoxError> {
    record
        .body
        .as_deref()
        .ok_or_else(|| format!("message {} has no body", record.message_id.as_deref().unwrap_or("?")).into())
}
