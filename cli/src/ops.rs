//! What the CLI does with a deployment — request and watch reports, read their state, download
//! them, inspect and redrive dead-letter queues, retry failed targets — over the ports only. The AWS
//! deployment ([`crate::remote`]) and the tests (the embedded adapters) plug in their adapters.

use crate::NotReady;
use anyhow::{anyhow, bail, Context};
use dbadmin_contracts::message::Population;
use dbadmin_contracts::{
    keys, CollectionJob, Filters, FinalizeMessage, Outcome, OutputFormat, ReportRequest, Retry, TargetResult, Versioned,
};
use dbadmin_ports::{
    AttemptError, DeadLetter, DeadLetterQueue, FinalizeQueue, ObjectStore, RequestQueue, RunRecord, RunStore,
};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The adapters of one deployment. A missing one is an error naming the setting that provides it.
#[derive(Default)]
pub struct Deployment {
    pub runs: Option<Arc<dyn RunStore>>,
    pub store: Option<Arc<dyn ObjectStore>>,
    pub requests: Option<Arc<dyn RequestQueue>>,
    /// The finalize queue (`finalize` sends a run's finalize message there again).
    pub finalize: Option<Arc<dyn FinalizeQueue>>,
    /// The dead-letter queue of each queue that has one configured.
    pub dlqs: BTreeMap<Queue, Arc<dyn DeadLetterQueue>>,
    /// How often `wait` reads the run.
    pub poll: Option<Duration>,
}

fn missing(setting: &str) -> anyhow::Error {
    anyhow!(
        "{setting} is not set: pass it as a flag, an environment variable or in the config file (terraform output cli_config lists the values)"
    )
}

/// The three queues, each with a dead-letter queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Queue {
    /// Report requests (read by the publisher).
    Requests,
    /// Collection jobs (read by the collector).
    Collect,
    /// Finalize messages (read by the reporter).
    Finalize,
}

impl Queue {
    pub const ALL: [Queue; 3] = [Queue::Requests, Queue::Collect, Queue::Finalize];

    /// The setting that names this queue's dead-letter queue.
    pub fn dlq_setting(self) -> &'static str {
        match self {
            Queue::Requests => "DBADMIN_REQUESTS_DLQ_URL",
            Queue::Collect => "DBADMIN_COLLECT_DLQ_URL",
            Queue::Finalize => "DBADMIN_FINALIZE_DLQ_URL",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Queue::Requests => "requests",
            Queue::Collect => "collect",
            Queue::Finalize => "finalize",
        }
    }

    /// The report (and target) a message of this queue is about, or why it is not one.
    fn describe(self, body: &str) -> Result<(String, Option<String>), String> {
        let bytes = body.as_bytes();
        match self {
            Queue::Collect => dbadmin_contracts::decode::<CollectionJob>(bytes)
                .map(|j| (j.report_id, Some(j.target_id)))
                .map_err(|e| format!("not a collection job: {e}")),
            Queue::Finalize => dbadmin_contracts::decode::<FinalizeMessage>(bytes)
                .map(|m| (m.report_id, None))
                .map_err(|e| format!("not a finalize message: {e}")),
            Queue::Requests => dbadmin_contracts::decode::<ReportRequest>(bytes)
                .map(|r| (r.report_id, None))
                .map_err(|e| format!("not a report request: {e}")),
        }
    }
}

/// How a run looks from outside.
pub fn state(run: &RunRecord) -> &'static str {
    if run.completed < run.total {
        if run.version > 1 {
            "retrying"
        } else {
            "running"
        }
    } else if run.reported_version < run.version {
        "finalizing"
    } else {
        "complete"
    }
}

/// Progress while waiting: `None` until the publisher has recorded the run.
pub trait WaitProgress {
    fn update(&self, run: Option<&RunRecord>);
}

impl WaitProgress for () {
    fn update(&self, _: Option<&RunRecord>) {}
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum WaitOutcome {
    Done(RunRecord),
    TimedOut(Option<RunRecord>),
}

#[derive(Debug, Clone, Serialize)]
pub struct FailedTarget {
    pub target_id: String,
    pub error_kind: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MissingTarget {
    pub target_id: String,
    /// The last infrastructure failure of its job, if any.
    pub last_error: Option<AttemptError>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub report_id: String,
    pub state: &'static str,
    pub requested_by: String,
    pub requested_at: String,
    pub version: u32,
    pub reported_version: u32,
    pub total: u64,
    pub completed: u64,
    pub failed: u64,
    pub report_location: Option<String>,
    pub missing: Vec<MissingTarget>,
    pub failed_targets: Vec<FailedTarget>,
    /// Messages of this report in the dead-letter queues (`None` when none is configured).
    pub dlq_messages: Option<usize>,
    /// The same, per configured queue (requests, collect, finalize).
    pub dlq_by_queue: BTreeMap<Queue, usize>,
    /// The newest written version's reconciliation with AWS, when the report asked for discovery.
    pub reconciliation: Option<dbadmin_contracts::manifest::ReconciliationSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DlqMessage {
    /// The queue whose dead-letter queue holds it.
    pub queue: Queue,
    pub message_id: String,
    pub report_id: Option<String>,
    pub target_id: Option<String>,
    pub receive_count: Option<u32>,
    pub sent_at: Option<String>,
    /// The last recorded failure of the job, or why the body is not a collection job.
    pub last_error: Option<String>,
    /// The start of a body that is not a collection job, to tell what it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_preview: Option<String>,
    #[serde(skip)]
    letter: DeadLetter,
}

#[derive(Debug, Clone, Serialize)]
pub struct Redrive {
    pub dry_run: bool,
    pub moved: Vec<DlqMessage>,
    /// Messages left in the DLQ: not matching the filters, or not collection jobs.
    pub left: usize,
}

/// What `retry` asks for.
#[derive(Debug, Clone)]
pub enum RetryPlan {
    /// Every target of the newest version was read.
    Nothing(RunRecord),
    /// Collect the failed targets again into `version`.
    Request { request: ReportRequest, version: u32, failed: u64 },
}

impl Deployment {
    pub fn runs(&self) -> anyhow::Result<&dyn RunStore> {
        self.runs.as_deref().ok_or_else(|| missing("DBADMIN_TABLE"))
    }

    pub fn store(&self) -> anyhow::Result<&dyn ObjectStore> {
        self.store.as_deref().ok_or_else(|| missing("DBADMIN_BUCKET"))
    }

    fn requests(&self) -> anyhow::Result<&dyn RequestQueue> {
        self.requests.as_deref().ok_or_else(|| missing("DBADMIN_REQUESTS_QUEUE_URL"))
    }

    fn dlq(&self, queue: Queue) -> anyhow::Result<&dyn DeadLetterQueue> {
        self.dlqs.get(&queue).map(|d| d.as_ref()).ok_or_else(|| missing(queue.dlq_setting()))
    }

    /// Sends a run's finalize message again: for a run whose count is complete and whose current
    /// version is not written (its finalize message was lost, or rests in the finalize DLQ).
    pub async fn finalize(&self, report_id: &str) -> anyhow::Result<RunRecord> {
        let run = self.run(report_id).await?;
        if run.completed < run.total {
            bail!(NotReady(format!(
                "report {report_id} is still running ({} of {} done): it finalizes by itself when the count is complete",
                run.completed, run.total
            )));
        }
        if run.reported_version >= run.version {
            bail!("report {report_id} v{} is already written: nothing to finalize (use retry to collect failed targets again)", run.reported_version);
        }
        let finalize = self.finalize.as_deref().ok_or_else(|| missing("DBADMIN_FINALIZE_QUEUE_URL"))?;
        let message =
            FinalizeMessage { schema_version: FinalizeMessage::SCHEMA_VERSION, report_id: report_id.to_owned() };
        finalize.send_finalize(&message).await.context("sending the finalize message")?;
        Ok(run)
    }

    pub async fn submit(&self, request: &ReportRequest) -> anyhow::Result<()> {
        self.requests()?.submit(request).await.context("publishing the request")
    }

    /// The run, or an error naming the unknown id.
    pub async fn run(&self, report_id: &str) -> anyhow::Result<RunRecord> {
        self.runs()?
            .get_run(report_id)
            .await
            .context("reading the run table")?
            .ok_or_else(|| anyhow!("no report with id {report_id} (see `db-admin-report list`)"))
    }

    pub async fn list(&self) -> anyhow::Result<Vec<RunRecord>> {
        self.runs()?.list_runs().await.context("listing runs")
    }

    /// Polls the run until `version` is written or `timeout` passes.
    pub async fn wait(
        &self,
        report_id: &str,
        version: u32,
        timeout: Duration,
        progress: &dyn WaitProgress,
    ) -> anyhow::Result<WaitOutcome> {
        let runs = self.runs()?;
        let started = Instant::now();
        let mut last = None;
        loop {
            let run = runs.get_run(report_id).await.context("reading the run table")?;
            progress.update(run.as_ref());
            match run {
                Some(run) if run.reported_version >= version => return Ok(WaitOutcome::Done(run)),
                Some(run) => last = Some(run),
                None => {}
            }
            if started.elapsed() >= timeout {
                return Ok(WaitOutcome::TimedOut(last));
            }
            tokio::time::sleep(self.poll.unwrap_or(Duration::from_millis(500))).await;
        }
    }

    pub async fn status(&self, report_id: &str) -> anyhow::Result<Status> {
        let run = self.run(report_id).await?;
        let runs = self.runs()?;
        let store = self.store()?;
        let population: Population = read(store, &keys::population(report_id)).await?;
        let counted = runs.counted(report_id).await.context("reading completion markers")?;
        let errors = runs.attempt_errors(report_id).await.context("reading job failures")?;
        let missing = population
            .targets
            .iter()
            .filter(|t| !counted.contains_key(&t.id))
            .map(|t| MissingTarget { target_id: t.id.clone(), last_error: errors.get(&t.id).cloned() })
            .collect();
        // The failed targets' results, read a few at a time, in target order.
        let failed: Vec<TargetResult> = futures::stream::iter(counted.iter().filter(|(_, c)| c.failed))
            .map(|(target_id, c)| async move {
                read::<TargetResult>(store, &keys::result(report_id, c.version, target_id)).await
            })
            .buffered(16)
            .try_collect()
            .await?;
        let failed_targets = failed
            .into_iter()
            .filter_map(|r| match r.outcome {
                Outcome::Failed(f) => {
                    Some(FailedTarget { target_id: r.target.id, error_kind: f.kind.to_string(), reason: f.reason })
                }
                Outcome::Collected(_) => None,
            })
            .collect();
        let queues: Vec<Queue> = self.dlqs.keys().copied().collect();
        let mut dlq_by_queue: BTreeMap<Queue, usize> = queues.iter().map(|q| (*q, 0)).collect();
        for m in self.dlq_peek(&queues, 1000, Duration::from_secs(5)).await? {
            if m.report_id.as_deref() == Some(report_id) {
                *dlq_by_queue.entry(m.queue).or_default() += 1;
            }
        }
        let dlq_messages = (!queues.is_empty()).then(|| dlq_by_queue.values().sum());
        let reconciliation = if run.reported_version > 0 {
            self.manifest(report_id, Some(run.reported_version)).await.ok().and_then(|(.., m)| m.reconciliation)
        } else {
            None
        };
        Ok(Status {
            report_id: run.report_id.clone(),
            state: state(&run),
            requested_by: run.requested_by.clone(),
            requested_at: run.requested_at.clone(),
            version: run.version,
            reported_version: run.reported_version,
            total: run.total,
            completed: run.completed,
            failed: run.failed,
            report_location: run.report_location.clone(),
            missing,
            failed_targets,
            dlq_messages,
            dlq_by_queue,
            reconciliation,
        })
    }

    /// Downloads a version's artifacts into `out` and returns the folder. The caller verifies it.
    pub async fn download(&self, report_id: &str, version: Option<u32>, out: &Path) -> anyhow::Result<PathBuf> {
        let store = self.store()?;
        let (version, dir, manifest_bytes, manifest) = self.manifest(report_id, version).await?;
        let folder = out.join(report_id).join(format!("v{version}"));
        std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
        for artifact in &manifest.artifacts {
            if artifact.name.contains('/') || artifact.name.starts_with('.') {
                bail!("the manifest names an artifact outside its folder: {}", artifact.name);
            }
            let body = fetch(store, &format!("{dir}/{}", artifact.name)).await?;
            write(&folder.join(&artifact.name), &body)?;
        }
        write(&folder.join(keys::MANIFEST_NAME), &manifest_bytes)?;
        // The detached signature, when there is one (`verify` says so when there is not).
        let signature_key = format!("{dir}/{}", keys::SIGNATURE_NAME);
        if let Some(signature) =
            store.get(&signature_key).await.with_context(|| format!("reading {}", store.location(&signature_key)))?
        {
            write(&folder.join(keys::SIGNATURE_NAME), &signature)?;
        }
        Ok(folder)
    }

    /// The report rows of a version, for `diff`.
    pub async fn rows(
        &self,
        report_id: &str,
        version: Option<u32>,
    ) -> anyhow::Result<(String, Vec<dbadmin_reporter::render::Row>)> {
        let (version, dir) = self.version_dir(report_id, version).await?;
        let key = format!("{dir}/{}", keys::JSON_NAME);
        let store = self.store()?;
        let bytes = fetch(store, &key).await?;
        let rows =
            dbadmin_reporter::render::from_json(&bytes).with_context(|| format!("reading {}", store.location(&key)))?;
        Ok((format!("{report_id} v{version}"), rows))
    }

    /// A written version (the newest when `version` is `None`) and its folder's key.
    /// A written version's manifest (the newest without `version`): the version, its folder, the
    /// manifest's bytes and what they say.
    pub async fn manifest(
        &self,
        report_id: &str,
        version: Option<u32>,
    ) -> anyhow::Result<(u32, String, Vec<u8>, dbadmin_contracts::manifest::Manifest)> {
        let (version, dir) = self.version_dir(report_id, version).await?;
        let store = self.store()?;
        let key = format!("{dir}/{}", keys::MANIFEST_NAME);
        let bytes = fetch(store, &key).await?;
        let manifest =
            dbadmin_contracts::decode(&bytes).with_context(|| format!("reading {}", store.location(&key)))?;
        Ok((version, dir, bytes, manifest))
    }

    async fn version_dir(&self, report_id: &str, version: Option<u32>) -> anyhow::Result<(u32, String)> {
        let run = self.run(report_id).await?;
        let version = version.unwrap_or(run.reported_version);
        if version == 0 {
            bail!(NotReady(format!("report {report_id} has no version written yet ({})", state(&run))));
        }
        if version > run.reported_version {
            bail!("report {report_id} has no version {version} (newest: {})", run.reported_version);
        }
        Ok((version, keys::report_dir(report_id, &run.requested_at, version)))
    }

    /// What `retry` would request, as `requested_by`; refused (not ready) while the report runs.
    pub async fn plan_retry(&self, report_id: &str, requested_by: String) -> anyhow::Result<RetryPlan> {
        let run = self.run(report_id).await?;
        if state(&run) != "complete" {
            bail!(NotReady(format!(
                "report {report_id} is {} ({} of {} done); retry it once it is complete",
                state(&run),
                run.completed,
                run.total
            )));
        }
        if run.failed == 0 {
            return Ok(RetryPlan::Nothing(run));
        }
        let request = ReportRequest {
            schema_version: ReportRequest::SCHEMA_VERSION,
            report_id: report_id.to_owned(),
            requested_by,
            requested_at: dbadmin_contracts::now_rfc3339(),
            inventory: format!("retry of {report_id} v{}", run.reported_version),
            filters: Filters::default(),
            output_format: OutputFormat::default(),
            retry: Some(Retry { version: run.reported_version }),
            discovery: None,
            baseline: None,
        };
        Ok(RetryPlan::Request { request, version: run.reported_version + 1, failed: run.failed })
    }

    /// Receives up to `max` messages of `queue`'s DLQ, hiding them for `hold`, each with its job's
    /// last error.
    async fn dlq_receive(&self, queue: Queue, max: usize, hold: Duration) -> anyhow::Result<Vec<DlqMessage>> {
        let letters = self
            .dlq(queue)?
            .receive(max, hold)
            .await
            .with_context(|| format!("reading the {} dead-letter queue", queue.as_str()))?;
        let mut errors: HashMap<String, BTreeMap<String, AttemptError>> = HashMap::new();
        let mut out = Vec::with_capacity(letters.len());
        for letter in letters {
            let mut msg = DlqMessage {
                queue,
                message_id: letter.message_id.clone(),
                report_id: None,
                target_id: None,
                receive_count: letter.receive_count,
                sent_at: letter.sent_at.clone(),
                last_error: None,
                body_preview: None,
                letter,
            };
            let reason = msg.letter.reason.clone();
            match queue.describe(&msg.letter.body) {
                Ok((report_id, target_id)) => {
                    if !errors.contains_key(&report_id) {
                        let recorded = match &target_id {
                            Some(_) => self.runs()?.attempt_errors(&report_id).await.context("reading job failures")?,
                            None => BTreeMap::new(),
                        };
                        errors.insert(report_id.clone(), recorded);
                    }
                    let recorded = target_id.as_ref().and_then(|t| errors[&report_id].get(t)).map(|e| e.error.clone());
                    msg.last_error = reason.or(recorded);
                    msg.report_id = Some(report_id);
                    msg.target_id = target_id;
                }
                Err(not) => {
                    msg.last_error = Some(reason.unwrap_or(not));
                    msg.body_preview = Some(msg.letter.body.chars().take(120).collect());
                }
            }
            out.push(msg);
        }
        Ok(out)
    }

    async fn dlq_release(&self, queue: Queue, messages: &[&DlqMessage]) -> anyhow::Result<()> {
        let receipts: Vec<&str> = messages.iter().map(|m| m.letter.receipt.as_str()).collect();
        self.dlq(queue)?.release(&receipts).await.context("releasing dead-letter messages")
    }

    /// Every message (up to `max` per queue) of the DLQs of `queues`, left where they are.
    pub async fn dlq_list(&self, queues: &[Queue], max: usize) -> anyhow::Result<Vec<DlqMessage>> {
        self.dlq_peek(queues, max, Duration::from_secs(30)).await
    }

    /// [`Self::dlq_list`], each message held out of sight for `hold` at most while the queue is read
    /// (released as soon as it is): `status` holds briefly, so it never hides a message from an
    /// operator's redrive for long.
    async fn dlq_peek(&self, queues: &[Queue], max: usize, hold: Duration) -> anyhow::Result<Vec<DlqMessage>> {
        let mut all = Vec::new();
        for queue in queues {
            let messages = self.dlq_receive(*queue, max, hold).await?;
            self.dlq_release(*queue, &messages.iter().collect::<Vec<_>>()).await?;
            all.extend(messages);
        }
        Ok(all)
    }

    /// Moves matching collection jobs back to the collection queue: send, then delete. An
    /// interruption between the two leaves the message in both queues (it reappears in the DLQ after
    /// `hold`); the job then runs twice, which the exactly-once count makes harmless.
    pub async fn dlq_redrive(
        &self,
        queue: Queue,
        report: Option<&str>,
        target: Option<&str>,
        dry_run: bool,
        hold: Duration,
        max: usize,
    ) -> anyhow::Result<Redrive> {
        let dlq = self.dlq(queue)?;
        let messages = self.dlq_receive(queue, max, hold).await?;
        let (matching, rest): (Vec<&DlqMessage>, Vec<&DlqMessage>) = messages.iter().partition(|m| {
            m.report_id.is_some()
                && report.is_none_or(|r| m.report_id.as_deref() == Some(r))
                && target.is_none_or(|t| m.target_id.as_deref() == Some(t))
        });
        if dry_run {
            self.dlq_release(queue, &messages.iter().collect::<Vec<_>>()).await?;
            return Ok(Redrive { dry_run, moved: matching.into_iter().cloned().collect(), left: rest.len() });
        }
        self.dlq_release(queue, &rest).await?;
        let mut moved = Vec::new();
        for m in matching {
            dlq.send_back(&m.letter.body)
                .await
                .with_context(|| format!("sending a message back to the {} queue", queue.as_str()))?;
            crate::fault::point("redrive-after-send");
            dlq.delete(&m.letter.receipt).await.context("removing a redriven message from the dead-letter queue")?;
            moved.push(m.clone());
        }
        Ok(Redrive { dry_run, moved, left: rest.len() })
    }

    /// Starts the queue service's own move of a whole DLQ back to its source; returns the task handle.
    pub async fn dlq_move_task(&self, queue: Queue) -> anyhow::Result<String> {
        self.dlq(queue)?.start_move_task().await.context("starting a message move task")
    }
}

/// An object that must exist.
async fn fetch(store: &dyn ObjectStore, key: &str) -> anyhow::Result<Vec<u8>> {
    store.get(key).await?.ok_or_else(|| anyhow!("{} is missing", store.location(key)))
}

async fn read<T: Versioned + serde::de::DeserializeOwned>(store: &dyn ObjectStore, key: &str) -> anyhow::Result<T> {
    let bytes = fetch(store, key).await?;
    dbadmin_contracts::decode(&bytes).with_context(|| format!("reading {}", store.location(key)))
}

fn write(path: &Path, body: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, body).with_context(|| format!("writing {}", path.display()))
}
