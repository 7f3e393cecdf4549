//! Run state in memory: every run port over one table-like map, with the DynamoDB table's invariants.

use crate::{
    plan_version, AttemptError, AttemptLog, Completion, CompletionCounter, Counted, FinalizeClaim, FinalizeClaims,
    ManifestChain, NewVersion, PortError, RunRecord, RunRecords, Seal, SealedManifest,
};
use async_trait::async_trait;
use dbadmin_contracts::manifest::ChainLink;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
struct RunState {
    record: Option<RunRecord>,
    /// Counted targets, and how.
    done: BTreeMap<String, Counted>,
    /// The version claimed and when.
    claim: Option<(u32, Instant)>,
    /// The sealed manifest and signature, by version.
    sealed: BTreeMap<u32, SealedManifest>,
    errors: BTreeMap<String, AttemptError>,
}

/// Run state in memory, keeping the same invariants as the DynamoDB table.
pub struct MemoryRunStore {
    runs: Mutex<HashMap<String, RunState>>,
    /// The chain's head: the last manifest sealed.
    head: Mutex<Option<ChainLink>>,
    lease: Duration,
}

impl Default for MemoryRunStore {
    fn default() -> Self {
        MemoryRunStore { runs: Mutex::default(), head: Mutex::default(), lease: crate::FINALIZE_LEASE }
    }
}

impl MemoryRunStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store whose finalize claims expire after `lease` (for tests of a reporter dying mid-way).
    pub fn with_lease(lease: Duration) -> Self {
        MemoryRunStore { lease, ..Self::default() }
    }

    /// A store whose chain goes on from `head` (a local run continues the chain of the reports
    /// already in its output folder).
    pub fn continuing(self, head: Option<ChainLink>) -> Self {
        *self.head.lock().unwrap_or_else(|p| p.into_inner()) = head;
        self
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, RunState>) -> R) -> R {
        // A poisoned lock means a panic elsewhere already failed the run; the data is still consistent
        // because every mutation below completes before it can panic.
        let mut guard = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

fn no_run(report_id: &str) -> PortError {
    PortError::NotFound { what: format!("run {report_id}") }
}

#[async_trait]
impl RunRecords for MemoryRunStore {
    async fn create_run(&self, run: &RunRecord) -> Result<bool, PortError> {
        Ok(self.with(|runs| {
            let state = runs.entry(run.report_id.clone()).or_default();
            if state.record.is_some() {
                return false;
            }
            state.record = Some(run.clone());
            true
        }))
    }

    async fn get_run(&self, report_id: &str) -> Result<Option<RunRecord>, PortError> {
        Ok(self.with(|runs| runs.get(report_id).and_then(|s| s.record.clone())))
    }

    async fn list_runs(&self) -> Result<Vec<RunRecord>, PortError> {
        let mut runs: Vec<RunRecord> = self.with(|runs| runs.values().filter_map(|s| s.record.clone()).collect());
        runs.sort_by(|a, b| b.requested_at.cmp(&a.requested_at).then_with(|| b.report_id.cmp(&a.report_id)));
        Ok(runs)
    }
}

#[async_trait]
impl CompletionCounter for MemoryRunStore {
    async fn mark_complete(
        &self,
        report_id: &str,
        target_id: &str,
        version: u32,
        failed: bool,
    ) -> Result<Completion, PortError> {
        self.with(|runs| {
            let state = runs.get_mut(report_id).filter(|s| s.record.is_some()).ok_or_else(|| no_run(report_id))?;
            let record = state.record.as_mut().ok_or_else(|| no_run(report_id))?;
            if record.version != version {
                return Err(PortError::stale(report_id, target_id, version, record.version));
            }
            let newly_counted = !state.done.contains_key(target_id);
            if newly_counted {
                state.done.insert(target_id.to_owned(), Counted { failed, version });
            }
            record.completed = state.done.len() as u64;
            record.failed = state.done.values().filter(|c| c.failed).count() as u64;
            Ok(Completion { newly_counted, completed: Some(record.completed), total: record.total })
        })
    }

    async fn counted(&self, report_id: &str) -> Result<BTreeMap<String, Counted>, PortError> {
        Ok(self.with(|runs| runs.get(report_id).map(|s| s.done.clone()).unwrap_or_default()))
    }

    async fn begin_version(&self, report_id: &str, from: u32, targets: &[String]) -> Result<NewVersion, PortError> {
        self.with(|runs| {
            let state = runs.get_mut(report_id).filter(|s| s.record.is_some()).ok_or_else(|| no_run(report_id))?;
            let record = state.record.as_mut().ok_or_else(|| no_run(report_id))?;
            let reset = match plan_version(record, from, targets, |t| state.done.contains_key(t)) {
                Ok(reset) => reset,
                Err(answer) => return Ok(answer),
            };
            for t in &reset {
                state.done.remove(*t);
            }
            record.completed = state.done.len() as u64;
            record.failed = state.done.values().filter(|c| c.failed).count() as u64;
            record.version = from + 1;
            for t in targets {
                state.errors.remove(t);
            }
            Ok(NewVersion::Started { version: record.version, reset: reset.len() })
        })
    }
}

#[async_trait]
impl FinalizeClaims for MemoryRunStore {
    async fn claim_finalize(&self, report_id: &str) -> Result<Option<FinalizeClaim>, PortError> {
        self.with(|runs| {
            let state = runs.get_mut(report_id).ok_or_else(|| no_run(report_id))?;
            let record = state.record.as_ref().ok_or_else(|| no_run(report_id))?;
            let version = record.version;
            if record.completed < record.total || record.reported_version >= version {
                return Ok(None);
            }
            if let Some((claimed, at)) = state.claim {
                if claimed == version && at.elapsed() < self.lease {
                    return Ok(None);
                }
            }
            state.claim = Some((version, Instant::now()));
            Ok(Some(FinalizeClaim { version, supersedes: (version > 1).then(|| version - 1) }))
        })
    }

    async fn awaiting_report(&self, report_id: &str) -> Result<bool, PortError> {
        Ok(self.with(|runs| {
            runs.get(report_id)
                .and_then(|s| s.record.as_ref())
                .is_some_and(|r| r.completed >= r.total && r.reported_version < r.version)
        }))
    }

    async fn record_report(&self, report_id: &str, version: u32, location: &str) -> Result<(), PortError> {
        self.with(|runs| {
            let record = runs.get_mut(report_id).and_then(|s| s.record.as_mut()).ok_or_else(|| no_run(report_id))?;
            record.reported_version = record.reported_version.max(version);
            record.report_location = Some(location.to_owned());
            Ok(())
        })
    }

    async fn abandon_version(&self, report_id: &str, version: u32) -> Result<bool, PortError> {
        self.with(|runs| {
            let state = runs.get_mut(report_id).ok_or_else(|| no_run(report_id))?;
            let record = state.record.as_mut().ok_or_else(|| no_run(report_id))?;
            if record.version != version || record.reported_version >= version {
                return Ok(false);
            }
            record.version = version + 1;
            state.claim = Some((version + 1, Instant::now()));
            Ok(true)
        })
    }
}

#[async_trait]
impl ManifestChain for MemoryRunStore {
    async fn chain_head(&self) -> Result<Option<ChainLink>, PortError> {
        Ok(self.head.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    async fn seal(&self, previous: Option<u64>, link: &ChainLink, sealed: &SealedManifest) -> Result<Seal, PortError> {
        let report_id = &link.report_id;
        // Lock order: head, then runs (the only place both are held).
        let mut head = self.head.lock().unwrap_or_else(|p| p.into_inner());
        self.with(|runs| {
            let state = runs.get_mut(report_id).filter(|s| s.record.is_some()).ok_or_else(|| no_run(report_id))?;
            if let Some(earlier) = state.sealed.get(&link.version) {
                return Ok(Seal::AlreadySealed(earlier.clone()));
            }
            if head.as_ref().map(|h| h.sequence) != previous {
                return Ok(Seal::HeadMoved);
            }
            state.sealed.insert(link.version, sealed.clone());
            *head = Some(link.clone());
            Ok(Seal::Sealed)
        })
    }

    async fn sealed(&self, report_id: &str, version: u32) -> Result<Option<SealedManifest>, PortError> {
        Ok(self.with(|runs| runs.get(report_id).and_then(|s| s.sealed.get(&version).cloned())))
    }
}

#[async_trait]
impl AttemptLog for MemoryRunStore {
    async fn record_attempt_error(&self, report_id: &str, target_id: &str, error: &str) -> Result<(), PortError> {
        self.with(|runs| {
            let state = runs.get_mut(report_id).ok_or_else(|| no_run(report_id))?;
            let entry = state.errors.entry(target_id.to_owned()).or_insert_with(|| AttemptError {
                error: String::new(),
                at: String::new(),
                attempts: 0,
            });
            entry.error = error.to_owned();
            entry.at = dbadmin_contracts::now_rfc3339();
            entry.attempts += 1;
            Ok(())
        })
    }

    async fn attempt_errors(&self, report_id: &str) -> Result<BTreeMap<String, AttemptError>, PortError> {
        Ok(self.with(|runs| runs.get(report_id).map(|s| s.errors.clone()).unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finalize message that finds the claim refused must not be dropped while the version is
    /// unwritten, even when the holder's lease runs out between the two questions (on DynamoDB,
    /// claim times are whole seconds): it comes back later and takes the claim then.
    #[tokio::test]
    async fn a_complete_unwritten_version_is_held_whatever_its_lease() {
        let store = MemoryRunStore::with_lease(Duration::ZERO);
        store.create_run(&RunRecord::new("r", "t", "2026-01-01T00:00:00Z", 1)).await.unwrap();
        assert!(!store.awaiting_report("r").await.unwrap(), "an incomplete run is not held: nothing to finalize yet");
        store.mark_complete("r", "a", 1, false).await.unwrap();
        assert!(store.claim_finalize("r").await.unwrap().is_some());
        assert!(store.awaiting_report("r").await.unwrap(), "complete and unwritten: ask again later");
        store.record_report("r", 1, "v1").await.unwrap();
        assert!(!store.awaiting_report("r").await.unwrap(), "written: nothing to wait for");
    }

    #[tokio::test]
    async fn counting_is_exactly_once_and_finalize_is_claimed_once() {
        let store = MemoryRunStore::new();
        let run = RunRecord::new("r", "t", "2026-01-01T00:00:00Z", 2);
        assert!(store.create_run(&run).await.unwrap());
        assert!(!store.create_run(&run).await.unwrap(), "second create must be a no-op");
        assert_eq!(store.claim_finalize("r").await.unwrap(), None, "cannot finalize an incomplete run");
        let a = store.mark_complete("r", "a", 1, false).await.unwrap();
        let again = store.mark_complete("r", "a", 1, false).await.unwrap();
        assert!(a.newly_counted && !again.newly_counted);
        assert_eq!(again.completed, Some(1));
        let b = store.mark_complete("r", "b", 1, false).await.unwrap();
        assert!(b.is_last());
        let claim = store.claim_finalize("r").await.unwrap();
        assert_eq!(claim, Some(FinalizeClaim { version: 1, supersedes: None }));
        assert_eq!(store.claim_finalize("r").await.unwrap(), None, "a version is claimed once");
        store.record_report("r", 1, "/x").await.unwrap();
        assert_eq!(store.claim_finalize("r").await.unwrap(), None, "a reported run is not re-finalized by a duplicate");
        assert!(store.mark_complete("nope", "a", 1, false).await.is_err());
    }

    #[tokio::test]
    async fn a_stale_claim_is_granted_again() {
        let store = MemoryRunStore::with_lease(Duration::ZERO);
        let run = RunRecord::new("r", "t", "2026-01-01T00:00:00Z", 0);
        store.create_run(&run).await.unwrap();
        assert!(store.claim_finalize("r").await.unwrap().is_some());
        // The reporter died before recording; with the lease gone, a retry may write the same version.
        assert_eq!(store.claim_finalize("r").await.unwrap().map(|c| c.version), Some(1));
        store.record_report("r", 1, "/x").await.unwrap();
        assert_eq!(store.claim_finalize("r").await.unwrap(), None);
    }
}
