//! Fault injection for tests: wrappers that make a port fail its next calls, as if the process had
//! died between two steps. Wrap any adapter (embedded or AWS) to prove the crash invariants. Each
//! wrapper implements only the port it fails; a handler's deps hold it in that port's slot and the
//! adapter itself in the others.

use crate::{
    Completion, CompletionCounter, Counted, FinalizeClaim, FinalizeClaims, FinalizeQueue, NewVersion, PortError,
};
use async_trait::async_trait;
use dbadmin_contracts::FinalizeMessage;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

fn take(remaining: &AtomicU32) -> bool {
    remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

/// A completion counter whose next `failures` calls of `mark_complete` fail before touching the
/// table: a collector that died after storing a result but before counting it.
pub struct FailCounting<'a> {
    pub inner: &'a dyn CompletionCounter,
    failures: AtomicU32,
}

impl<'a> FailCounting<'a> {
    pub fn new(inner: &'a dyn CompletionCounter, failures: u32) -> Self {
        FailCounting { inner, failures: AtomicU32::new(failures) }
    }
}

#[async_trait]
impl CompletionCounter for FailCounting<'_> {
    async fn mark_complete(&self, id: &str, target: &str, version: u32, failed: bool) -> Result<Completion, PortError> {
        if take(&self.failures) {
            return Err(PortError::transient("mark complete", "injected crash before counting"));
        }
        self.inner.mark_complete(id, target, version, failed).await
    }
    async fn counted(&self, id: &str) -> Result<BTreeMap<String, Counted>, PortError> {
        self.inner.counted(id).await
    }
    async fn begin_version(&self, id: &str, from: u32, targets: &[String]) -> Result<NewVersion, PortError> {
        self.inner.begin_version(id, from, targets).await
    }
}

/// Finalize claims whose next `failures` calls of `record_report` fail: a reporter that died after
/// writing a report but before recording it.
pub struct FailRecording<'a> {
    pub inner: &'a dyn FinalizeClaims,
    failures: AtomicU32,
}

impl<'a> FailRecording<'a> {
    pub fn new(inner: &'a dyn FinalizeClaims, failures: u32) -> Self {
        FailRecording { inner, failures: AtomicU32::new(failures) }
    }
}

#[async_trait]
impl FinalizeClaims for FailRecording<'_> {
    async fn record_report(&self, id: &str, version: u32, location: &str) -> Result<(), PortError> {
        if take(&self.failures) {
            return Err(PortError::transient("record report", "injected crash before recording the report"));
        }
        self.inner.record_report(id, version, location).await
    }
    async fn claim_finalize(&self, id: &str) -> Result<Option<FinalizeClaim>, PortError> {
        self.inner.claim_finalize(id).await
    }
    async fn awaiting_report(&self, id: &str) -> Result<bool, PortError> {
        self.inner.awaiting_report(id).await
    }
    async fn abandon_version(&self, id: &str, version: u32) -> Result<bool, PortError> {
        self.inner.abandon_version(id, version).await
    }
}

/// A finalize queue whose next `failures` sends fail, as if the process died after counting.
pub struct FailFinalizing<Q> {
    pub inner: Q,
    failures: AtomicU32,
}

impl<Q> FailFinalizing<Q> {
    pub fn new(inner: Q, failures: u32) -> Self {
        FailFinalizing { inner, failures: AtomicU32::new(failures) }
    }
}

#[async_trait]
impl<Q: FinalizeQueue> FinalizeQueue for FailFinalizing<Q> {
    async fn send_finalize(&self, m: &FinalizeMessage) -> Result<(), PortError> {
        if take(&self.failures) {
            return Err(PortError::transient("send finalize", "injected crash after counting"));
        }
        self.inner.send_finalize(m).await
    }
}
