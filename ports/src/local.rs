//! Embedded adapters: everything `generate --local` and the fast tests need, in one process, no AWS.

use crate::{
    plan_version, AttemptError, Completion, Counted, CredentialError, CredentialSource, DbCredentials, DeadLetter,
    DeadLetterQueue, FinalizeClaim, FinalizeQueue, InventorySource, JobQueue, NewVersion, ObjectStore, PortError,
    RequestQueue, RunRecord, RunStore, Seal, SealedManifest, SecretBinding, Stored, MAX_BATCH,
};
use async_trait::async_trait;
use dbadmin_contracts::manifest::ChainLink;
use dbadmin_contracts::{CollectionJob, FinalizeMessage, ReportRequest, Target};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
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

/// Objects as files under a directory, with the same key layout as the bucket.
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, PortError> {
        let safe = !key.is_empty()
            && !key.starts_with('/')
            && key.split('/').all(|part| !part.is_empty() && part != "." && part != "..");
        if !safe {
            return Err(PortError::permanent("resolve object key", format!("'{key}' is not a valid object key")));
        }
        Ok(self.root.join(key))
    }
}

fn io_error(operation: String, e: std::io::Error) -> PortError {
    PortError::permanent(operation, e)
}

#[async_trait]
impl ObjectStore for DirStore {
    async fn put(&self, key: &str, body: Vec<u8>, _content_type: &str) -> Result<Stored, PortError> {
        let path = self.path(key)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone());
        tokio::fs::create_dir_all(&dir).await.map_err(|e| io_error(format!("create {}", dir.display()), e))?;
        // Write beside the target, then hard-link it into place: the link fails if the name exists
        // (write once), and readers see no file or the whole one.
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("object"),
            ulid::Ulid::new()
        ));
        tokio::fs::write(&tmp, body).await.map_err(|e| io_error(format!("write {}", tmp.display()), e))?;
        let linked = tokio::fs::hard_link(&tmp, &path).await;
        let _ = tokio::fs::remove_file(&tmp).await;
        match linked {
            Ok(()) => Ok(Stored::Created),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Stored::Existed),
            Err(e) => Err(io_error(format!("link {}", path.display()), e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(format!("read {}", path.display()), e)),
        }
    }

    fn location(&self, key: &str) -> String {
        self.root.join(key).display().to_string()
    }

    /// Links the staged file into place: no copy, no read, and the link fails if the name exists.
    async fn put_file(&self, key: &str, staged: &Path, _content_type: &str) -> Result<Stored, PortError> {
        let path = self.path(key)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone());
        tokio::fs::create_dir_all(&dir).await.map_err(|e| io_error(format!("create {}", dir.display()), e))?;
        match tokio::fs::hard_link(staged, &path).await {
            Ok(()) => Ok(Stored::Created),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Stored::Existed),
            Err(e) => Err(io_error(format!("link {}", path.display()), e)),
        }
    }

    /// Inside the root, so a staged file links into place on the same file system.
    fn staging_dir(&self) -> PathBuf {
        self.root.join(".staging")
    }
}

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
impl RunStore for MemoryRunStore {
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

    async fn counted(&self, report_id: &str) -> Result<BTreeMap<String, Counted>, PortError> {
        Ok(self.with(|runs| runs.get(report_id).map(|s| s.done.clone()).unwrap_or_default()))
    }

    async fn list_runs(&self) -> Result<Vec<RunRecord>, PortError> {
        let mut runs: Vec<RunRecord> = self.with(|runs| runs.values().filter_map(|s| s.record.clone()).collect());
        runs.sort_by(|a, b| b.requested_at.cmp(&a.requested_at).then_with(|| b.report_id.cmp(&a.report_id)));
        Ok(runs)
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

/// Reads inventories from local files.
pub struct FileInventory;

#[async_trait]
impl InventorySource for FileInventory {
    async fn fetch(&self, source: &str) -> Result<dbadmin_contracts::InventoryDocument, PortError> {
        match tokio::fs::read(source).await {
            Ok(b) => Ok(dbadmin_contracts::InventoryDocument::Csv(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(PortError::NotFound { what: format!("file {source}") })
            }
            Err(e) => Err(PortError::permanent(format!("read inventory {source}"), e)),
        }
    }
}

/// Local logins: a secrets file (JSON object of secret name → `{"username","password"}`) and/or
/// environment variables `DBADMIN_SECRET_<NAME>` holding the same JSON, where `<NAME>` is the secret
/// name upper-cased with every other character than A-Z and 0-9 turned into `_`.
pub struct LocalCredentials {
    file: Option<(PathBuf, HashMap<String, serde_json::Value>)>,
}

/// Why a secrets file was refused.
#[derive(Debug, thiserror::Error)]
pub enum SecretsFileError {
    #[error("cannot read secrets file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("secrets file {path} is readable by group or others (mode {mode:o}); run: chmod 600 {path}")]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("secrets file {path} is not a JSON object of secret name to {{\"username\", \"password\"}}")]
    Malformed { path: PathBuf },
}

impl LocalCredentials {
    /// Environment variables only.
    pub fn from_env() -> Self {
        LocalCredentials { file: None }
    }

    /// A secrets file (refused if group or others can read it), with environment variables as fallback.
    pub fn from_file(path: &Path) -> Result<Self, SecretsFileError> {
        let meta =
            std::fs::metadata(path).map_err(|source| SecretsFileError::Read { path: path.to_owned(), source })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(SecretsFileError::TooOpen { path: path.to_owned(), mode });
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        let text =
            std::fs::read_to_string(path).map_err(|source| SecretsFileError::Read { path: path.to_owned(), source })?;
        let map = serde_json::from_str(&text).map_err(|_| SecretsFileError::Malformed { path: path.to_owned() })?;
        Ok(LocalCredentials { file: Some((path.to_owned(), map)) })
    }

    /// The environment variable consulted for a secret name.
    pub fn env_var_for(secret: &str) -> String {
        let name: String =
            secret.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
        format!("DBADMIN_SECRET_{name}")
    }
}

#[async_trait]
impl CredentialSource for LocalCredentials {
    async fn credentials(&self, target: &Target) -> Result<DbCredentials, CredentialError> {
        let secret = &target.secret;
        let bound = |text: &str| {
            let binding = SecretBinding::check(SecretBinding::from_secret_json(text).as_ref(), secret, target)?;
            Ok(DbCredentials { binding, ..DbCredentials::from_secret_json(secret, text)? })
        };
        if let Some((_, map)) = &self.file {
            if let Some(value) = map.get(secret) {
                return bound(&value.to_string());
            }
        }
        let var = Self::env_var_for(secret);
        match std::env::var(&var) {
            Ok(text) => bound(&text),
            Err(_) => Err(CredentialError::NotFound {
                secret: secret.clone(),
                hint: match &self.file {
                    Some((path, _)) => format!(" in {} nor in ${var}", path.display()),
                    None => format!(" (no secrets file given and ${var} is not set)"),
                },
            }),
        }
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
    async fn objects_are_written_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::new(dir.path());
        assert_eq!(store.put("a/b.json", b"first".to_vec(), "x").await.unwrap(), Stored::Created);
        assert_eq!(store.put("a/b.json", b"second".to_vec(), "x").await.unwrap(), Stored::Existed);
        assert_eq!(store.get("a/b.json").await.unwrap().unwrap(), b"first", "the first bytes stay");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("a")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
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

    #[tokio::test]
    async fn dir_store_refuses_escaping_keys_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::new(dir.path());
        let _ = store.put("runs/r/x.json", b"{}".to_vec(), "application/json").await.unwrap();
        assert_eq!(store.get("runs/r/x.json").await.unwrap().as_deref(), Some(&b"{}"[..]));
        assert_eq!(store.get("runs/r/none.json").await.unwrap(), None);
        for bad in ["../etc/passwd", "/abs", "a//b", "runs/./x"] {
            assert!(store.put(bad, vec![], "x").await.is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn secrets_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, r#"{"s": {"username": "u", "password": "p"}}"#).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = LocalCredentials::from_file(&path).err().expect("0644 must be refused");
        assert!(err.to_string().contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(LocalCredentials::from_file(&path).is_ok());
    }

    #[test]
    fn env_names_and_redacted_debug() {
        assert_eq!(LocalCredentials::env_var_for("prod/orders-db"), "DBADMIN_SECRET_PROD_ORDERS_DB");
        let c = DbCredentials::from_secret_json("s", r#"{"username":"u","password":"hunter2","host":"h"}"#).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        let err = DbCredentials::from_secret_json("s", r#"{"user":"u","pass":"hunter2"}"#).unwrap_err();
        assert!(!err.to_string().contains("hunter2") && err.to_string().contains("'s'"), "{err}");
    }
}
