//! The finalize queue.

use crate::error::port_error;
use async_trait::async_trait;
use dbadmin_contracts::FinalizeMessage;
use dbadmin_ports::{FinalizeQueue, PortError};

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
