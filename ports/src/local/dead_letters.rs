//! A dead-letter queue in memory, for the CLI's `dlq` commands in tests.

use crate::{DeadLetter, DeadLetterQueue, PortError};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A dead-letter queue in memory, with SQS's visibility rules (a received message is hidden until
/// released, deleted or its hold passes). What is sent back goes to [`MemoryDeadLetterQueue::returned`].
#[derive(Default)]
pub struct MemoryDeadLetterQueue {
    state: Mutex<DlqState>,
}

#[derive(Default)]
struct DlqState {
    next: u64,
    /// id → (body, receive count, hidden until, current receipt).
    messages: BTreeMap<String, (String, u32, Option<Instant>, Option<String>)>,
    returned: Vec<String>,
}

impl MemoryDeadLetterQueue {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut DlqState) -> R) -> R {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Puts a message into the queue, as SQS does after `maxReceiveCount` failed receives.
    pub fn push(&self, body: &str, receive_count: u32) -> String {
        self.with(|s| {
            s.next += 1;
            let id = format!("m{:04}", s.next);
            s.messages.insert(id.clone(), (body.to_owned(), receive_count, None, None));
            id
        })
    }

    /// Message bodies still in the queue.
    pub fn bodies(&self) -> Vec<String> {
        self.with(|s| s.messages.values().map(|m| m.0.clone()).collect())
    }

    /// Bodies sent back to the source queue, in order.
    pub fn returned(&self) -> Vec<String> {
        self.with(|s| s.returned.clone())
    }
}

#[async_trait]
impl DeadLetterQueue for MemoryDeadLetterQueue {
    async fn receive(&self, max: usize, hold: Duration) -> Result<Vec<DeadLetter>, PortError> {
        let now = Instant::now();
        Ok(self.with(|s| {
            let mut out = Vec::new();
            let next = &mut s.next;
            for (id, (body, count, hidden, receipt)) in s.messages.iter_mut() {
                if out.len() >= max || hidden.is_some_and(|until| until > now) {
                    continue;
                }
                *next += 1;
                *count += 1;
                *hidden = Some(now + hold);
                *receipt = Some(format!("{id}#{next}"));
                out.push(DeadLetter {
                    message_id: id.clone(),
                    body: body.clone(),
                    receipt: format!("{id}#{next}"),
                    receive_count: Some(*count),
                    sent_at: None,
                    reason: None,
                });
            }
            out
        }))
    }

    async fn release(&self, receipts: &[&str]) -> Result<(), PortError> {
        self.with(|s| {
            for r in receipts {
                let id = r.split('#').next().unwrap_or_default();
                match s.messages.get_mut(id) {
                    Some(m) if m.3.as_deref() == Some(*r) => m.2 = None,
                    _ => {
                        return Err(PortError::permanent("releasing a message", format!("receipt {r} is not current")))
                    }
                }
            }
            Ok(())
        })
    }

    async fn send_back(&self, body: &str) -> Result<(), PortError> {
        self.with(|s| s.returned.push(body.to_owned()));
        Ok(())
    }

    async fn delete(&self, receipt: &str) -> Result<(), PortError> {
        self.with(|s| {
            let id = receipt.split('#').next().unwrap_or_default().to_owned();
            match s.messages.get(&id) {
                Some(m) if m.3.as_deref() == Some(receipt) => {
                    s.messages.remove(&id);
                    Ok(())
                }
                _ => Err(PortError::permanent("deleting a message", format!("receipt {receipt} is not current"))),
            }
        })
    }

    async fn start_move_task(&self) -> Result<String, PortError> {
        Err(PortError::permanent("starting a message move task", "the in-memory queue has no move task"))
    }
}
