//! Fault injection for tests: wrappers that make a port fail its next calls, as if the process had
//! died between two steps. Wrap any adapter (embedded or AWS) to prove the crash invariants.

use crate::{
    AttemptError, Completion, Counted, FinalizeClaim, FinalizeQueue, NewVersion, PortError, RunRecord, RunStore, Seal,
    SealedManifest,
};
use async_trait::async_trait;
use dbadmin_contracts::manifest::ChainLink;
use dbadmin_contracts::FinalizeMessage;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

fn take(remaining: &AtomicU32) -> bool {
    remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

/// A run store whose next `failures` calls of `mark_complete` fail before touching the table (and,
/// with [`FailCounting::fail_recording`], its next calls of `record_report`: a reporter that died
/// after writing a report but before recording it).
pub struct FailCounting<R> {
    pub inner: R,
    failures: AtomicU32,
    record_failures: AtomicU32,
}

impl<R> FailCounting<R> {
    pub fn new(inner: R, failures: u32) -> Self {
        FailCounting { inner, failures: AtomicU32::new(failures), record_failures: AtomicU32::new(0) }
    }

    pub fn fail_recording(self, failures: u32) -> Self {
        FailCounting { record_failures: AtomicU32::new(failures), ..self }
    }
}

#[async_trait]
impl<R: RunStore> RunStore for FailCounting<R> {
    async fn create_run(&self, r: &RunRecord) -> Result<bool, PortError> {
        self.inner.create_run(r).await
    }
    async fn get_run(&self, id: &str) -> Result<Option<RunRecord>, PortError> {
        self.inner.get_run(id).await
    }
    async fn mark_complete(&self, id: &str, target: &str, version: u32, failed: bool) -> Result<Completion, PortError> {
        if take(&self.failures) {
            return Err(PortError::transient("mark complete", "injected crash before counting"));
        }
        self.inner.mark_complete(id, target, version, failed).await
    }
    async fn claim_finalize(&self, id: &str) -> Result<Option<FinalizeClaim>, PortError> {
        self.inner.claim_finalize(id).await
    }
    async fn awaiting_report(&self, id: &str) -> Result<bool, PortError> {
        self.inner.awaiting_report(id).await
    }
    async fn record_report(&self, id: &str, version: u32, location: &str) -> Result<(), PortError> {
        if take(&self.record_failures) {
            return Err(PortError::transient("record report", "injected crash before recording the report"));
        }
        self.inner.record_report(id, version, location).await
    }
    async fn counted(&self, id: &str) -> Result<BTreeMap<String, Counted>, PortError> {
        self.inner.counted(id).await
    }
    async fn list_runs(&self) -> Result<Vec<RunRecord>, PortError> {
        self.inner.list_runs().await
    }
    async fn begin_version(&self, id: &str, from: u32, targets: &[String]) -> Result<NewVersion, PortError> {
        self.inner.begin_version(id, from, targets).await
    }
    async fn chain_head(&self) -> Result<Option<ChainLink>, PortError> {
        self.inner.chain_head().await
    }
    async fn seal(&self, previous: Option<u64>, link: &ChainLink, sealed: &SealedManifest) -> Result<Seal, PortError> {
        self.inner.seal(previous, link, sealed).await
    }
    async fn sealed(&self, id: &str, version: u32) -> Result<Option<SealedManifest>, PortError> {
        self.inner.sealed(id, version).await
    }
    async fn abandon_version(&self, id: &str, version: u32) -> Result<bool, PortError> {
        self.inner.abandon_version(id, version).await
    }
    async fn record_attempt_error(&self, id: &str, target: &str, error: &str) -> Result<(), PortError> {
        self.inner.record_attempt_error(id, target, error).await
    }
    async fn attempt_errors(&self, id: &str) -> Result<BTreeMap<String, AttemptError>, PortError> {
        self.inner.attempt_errors(id).await
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
