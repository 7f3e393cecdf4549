//! In-process queues: the same message types as SNS/SQS, carried by a channel.

use crate::{FinalizeQueue, JobQueue, PortError, RequestQueue, MAX_BATCH};
use async_trait::async_trait;
use dbadmin_contracts::{CollectionJob, FinalizeMessage, ReportRequest};
use tokio::sync::mpsc;

/// An in-process queue with the same message types as SNS/SQS.
pub struct ChannelQueue<T> {
    tx: mpsc::UnboundedSender<T>,
}

impl<T> ChannelQueue<T> {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<T>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (ChannelQueue { tx }, rx)
    }

    fn send(&self, item: T) -> Result<(), PortError> {
        self.tx.send(item).map_err(|_| PortError::permanent("in-process send", "the receiving side has shut down"))
    }
}

#[async_trait]
impl JobQueue for ChannelQueue<CollectionJob> {
    async fn publish_batch(&self, jobs: &[CollectionJob]) -> Result<Vec<usize>, PortError> {
        if jobs.len() > MAX_BATCH {
            return Err(PortError::permanent(
                "publish batch",
                format!("{} jobs exceed the batch limit of {MAX_BATCH}", jobs.len()),
            ));
        }
        for job in jobs {
            self.send(job.clone())?;
        }
        Ok(Vec::new())
    }
}

#[async_trait]
impl FinalizeQueue for ChannelQueue<FinalizeMessage> {
    async fn send_finalize(&self, message: &FinalizeMessage) -> Result<(), PortError> {
        self.send(message.clone())
    }
}

#[async_trait]
impl RequestQueue for ChannelQueue<ReportRequest> {
    async fn submit(&self, request: &ReportRequest) -> Result<(), PortError> {
        self.send(request.clone())
    }
}
