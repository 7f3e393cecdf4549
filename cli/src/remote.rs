//! The commands that talk to the AWS deployment: request and watch reports, inspect and redrive the
//! dead-letter queue, download and retry. Every call goes through the standard AWS credential chain
//! (profile, environment, SSO, role) and honours `AWS_ENDPOINT_URL`.

use crate::NotReady;
use anyhow::{anyhow, bail, Context};
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{ChangeMessageVisibilityBatchRequestEntry, MessageSystemAttributeName};
use dbadmin_aws::dynamo::DynamoRunStore;
use dbadmin_aws::s3::{S3Inventory, S3Store};
use dbadmin_aws::Clients;
use dbadmin_contracts::message::Population;
use dbadmin_contracts::{keys, CollectionJob, Inventory, Outcome, ReportRequest, TargetResult, Versioned};
use dbadmin_ports::{AttemptError, InventorySource, ObjectStore, RunRecord, RunStore};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where the deployment is. Each comes from a flag, a `DBADMIN_…` variable or the config file.
#[derive(Debug, Clone, Default)]
pub struct RemoteConfig {
    pub requests_queue_url: Option<String>,
    pub bucket: Option<String>,
    pub table: Option<String>,
    pub collect_queue_url: Option<String>,
    pub collect_dlq_url: Option<String>,
}

pub struct Remote {
    cfg: RemoteConfig,
    clients: Clients,
}

/// An AWS error as one line: the operation, the service's code and message, or the transport's cause.
fn sdk_err<E, R>(operation: &str, e: SdkError<E, R>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &e {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("error");
            let message = se.err().message().unwrap_or("");
            anyhow!("{operation}: {code}: {message}")
        }
        _ => anyhow::Error::new(e).context(operation.to_owned()),
    }
}

fn need<'a>(value: &'a Option<String>, var: &str) -> anyhow::Result<&'a str> {
    value.as_deref().filter(|v| !v.is_empty()).ok_or_else(|| {
        anyhow!("{var} is not set: pass it as a flag, an environment variable or in the config file (terraform output cli_config lists the values)")
    })
}

/// How a run looks from outside.
pub fn state(run: &RunRecord) -> &'static str {
    if run.completed < run.total {
        if run.generation > 1 {
            "retrying"
        } else {
            "running"
        }
    } else if run.reported_version < run.generation {
        "finalizing"
    } else {
        "complete"
    }
}

/// Progress while waiting: `None` until the publisher has recorded the run.
pub trait WaitProgress {
    fn update(&self, run: Option<&RunRecord>);
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
    /// Messages of this report in the collection dead-letter queue (`None` when it is not configured).
    pub dlq_messages: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DlqMessage {
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
    body: String,
    #[serde(skip)]
    receipt: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Redrive {
    pub dry_run: bool,
    pub moved: Vec<DlqMessage>,
    /// Messages left in the DLQ: not matching the filters, or not collection jobs.
    pub left: usize,
}

impl Remote {
    pub async fn connect(cfg: RemoteConfig) -> Remote {
        Remote { cfg, clients: Clients::load().await }
    }

    fn store(&self) -> anyhow::Result<S3Store> {
        Ok(S3Store::new(self.clients.s3.clone(), need(&self.cfg.bucket, "DBADMIN_BUCKET")?, None))
    }

    fn runs(&self) -> anyhow::Result<DynamoRunStore> {
        Ok(DynamoRunStore::new(self.clients.dynamodb.clone(), need(&self.cfg.table, "DBADMIN_TABLE")?))
    }

    /// The caller's ARN, for the audit trail. Fails early on missing or expired credentials.
    pub async fn identity(&self) -> anyhow::Result<String> {
        let out = self
            .clients
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| sdk_err("resolving your AWS identity (sts:GetCallerIdentity)", e))?;
        out.arn().map(str::to_owned).context("sts:GetCallerIdentity returned no ARN")
    }

    /// Reads and validates an `s3://` inventory.
    pub async fn inventory(&self, uri: &str) -> anyhow::Result<Inventory> {
        let bytes =
            S3Inventory::new(self.clients.s3.clone()).fetch(uri).await.with_context(|| format!("reading {uri}"))?;
        Ok(Inventory::parse(uri, &bytes)?)
    }

    pub async fn submit(&self, request: &ReportRequest) -> anyhow::Result<()> {
        let url = need(&self.cfg.requests_queue_url, "DBADMIN_REQUESTS_QUEUE_URL")?;
        let body = String::from_utf8(dbadmin_contracts::encode(request)).context("encoding the request")?;
        self.clients
            .sqs
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| sdk_err("publishing the request (sqs:SendMessage)", e))?;
        Ok(())
    }

    /// The run, or an error naming the unknown id.
    pub async fn run(&self, report_id: &str) -> anyhow::Result<RunRecord> {
        self.runs()?
            .get_run(report_id)
            .await
            .context("reading the run table")?
            .ok_or_else(|| anyhow!("no report with id {report_id} (see `db-admin-report list`)"))
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
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    pub async fn status(&self, report_id: &str) -> anyhow::Result<Status> {
        let run = self.run(report_id).await?;
        let runs = self.runs()?;
        let store = self.store()?;
        let population: Population = read(&store, &keys::population(report_id)).await?;
        let counted = runs.counted(report_id).await.context("reading completion markers")?;
        let errors = runs.attempt_errors(report_id).await.context("reading job failures")?;
        let missing = population
            .targets
            .iter()
            .filter(|t| !counted.contains_key(&t.id))
            .map(|t| MissingTarget { target_id: t.id.clone(), last_error: errors.get(&t.id).cloned() })
            .collect();
        // The failed targets' results, read a few at a time, in target order.
        let store = &store;
        let failed: Vec<TargetResult> = futures::stream::iter(counted.iter().filter(|(_, failed)| **failed))
            .map(|(target_id, _)| async move { read::<TargetResult>(store, &keys::result(report_id, target_id)).await })
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
        let dlq_messages = match &self.cfg.collect_dlq_url {
            Some(_) => {
                Some(self.dlq_list(1000).await?.iter().filter(|m| m.report_id.as_deref() == Some(report_id)).count())
            }
            None => None,
        };
        Ok(Status {
            report_id: run.report_id.clone(),
            state: state(&run),
            requested_by: run.requested_by.clone(),
            requested_at: run.requested_at.clone(),
            version: run.generation,
            reported_version: run.reported_version,
            total: run.total,
            completed: run.completed,
            failed: run.failed,
            report_location: run.report_location.clone(),
            missing,
            failed_targets,
            dlq_messages,
        })
    }

    pub async fn list(&self) -> anyhow::Result<Vec<RunRecord>> {
        self.runs()?.list_runs().await.context("listing runs")
    }

    /// Downloads a version's artifacts into `out` and returns the folder. The caller verifies it.
    pub async fn download(&self, report_id: &str, version: Option<u32>, out: &Path) -> anyhow::Result<PathBuf> {
        let (version, dir) = self.version_dir(report_id, version).await?;
        let store = self.store()?;
        let manifest_key = format!("{dir}/{}", keys::MANIFEST_NAME);
        let manifest_bytes = fetch(&store, &manifest_key).await?;
        let manifest: dbadmin_contracts::manifest::Manifest = dbadmin_contracts::decode(&manifest_bytes)
            .with_context(|| format!("reading {}", store.location(&manifest_key)))?;
        let folder = out.join(report_id).join(format!("v{version}"));
        std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
        for artifact in &manifest.artifacts {
            if artifact.name.contains('/') || artifact.name.starts_with('.') {
                bail!("the manifest names an artifact outside its folder: {}", artifact.name);
            }
            let key = format!("{dir}/{}", artifact.name);
            let body = fetch(&store, &key).await?;
            write(&folder.join(&artifact.name), &body)?;
        }
        write(&folder.join(keys::MANIFEST_NAME), &manifest_bytes)?;
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
        let bytes = fetch(&store, &key).await?;
        let rows =
            dbadmin_reporter::render::from_json(&bytes).with_context(|| format!("reading {}", store.location(&key)))?;
        Ok((format!("{report_id} v{version}"), rows))
    }

    /// A written version (the newest when `version` is `None`) and its folder's key.
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

    fn dlq_url(&self) -> anyhow::Result<&str> {
        need(&self.cfg.collect_dlq_url, "DBADMIN_COLLECT_DLQ_URL")
    }

    /// Receives up to `max` DLQ messages, hiding them for `hold`.
    async fn dlq_receive(&self, max: usize, hold: Duration) -> anyhow::Result<Vec<DlqMessage>> {
        let url = self.dlq_url()?;
        let runs = self.runs()?;
        let mut seen: Vec<DlqMessage> = Vec::new();
        let mut reports: HashMap<String, BTreeMap<String, AttemptError>> = HashMap::new();
        while seen.len() < max {
            let out = self
                .clients
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10.min(max - seen.len()) as i32)
                .visibility_timeout(hold.as_secs().max(1) as i32)
                .wait_time_seconds(1)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .map_err(|e| sdk_err("reading the dead-letter queue (sqs:ReceiveMessage)", e))?;
            let messages = out.messages();
            if messages.is_empty() {
                break;
            }
            for m in messages {
                let id = m.message_id().unwrap_or_default().to_owned();
                if seen.iter().any(|s| s.message_id == id) {
                    continue;
                }
                let body = m.body().unwrap_or_default().to_owned();
                let attrs = m.attributes();
                let attr = |n: MessageSystemAttributeName| attrs.and_then(|a| a.get(&n)).cloned();
                let sent_at = attr(MessageSystemAttributeName::SentTimestamp)
                    .and_then(|ms| ms.parse::<i64>().ok())
                    .and_then(|ms| time::OffsetDateTime::from_unix_timestamp(ms / 1000).ok())
                    .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok());
                let mut msg = DlqMessage {
                    message_id: id,
                    report_id: None,
                    target_id: None,
                    receive_count: attr(MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|c| c.parse().ok()),
                    sent_at,
                    last_error: None,
                    body_preview: None,
                    body: body.clone(),
                    receipt: m.receipt_handle().unwrap_or_default().to_owned(),
                };
                match dbadmin_contracts::decode::<CollectionJob>(body.as_bytes()) {
                    Ok(job) => {
                        if !reports.contains_key(&job.report_id) {
                            let errors = runs.attempt_errors(&job.report_id).await.context("reading job failures")?;
                            reports.insert(job.report_id.clone(), errors);
                        }
                        msg.last_error = reports[&job.report_id].get(&job.target.id).map(|e| e.error.clone());
                        msg.report_id = Some(job.report_id);
                        msg.target_id = Some(job.target.id);
                    }
                    Err(e) => {
                        msg.last_error = Some(format!("not a collection job: {e}"));
                        msg.body_preview = Some(body.chars().take(120).collect());
                    }
                }
                seen.push(msg);
            }
        }
        Ok(seen)
    }

    /// Makes messages visible again at once.
    async fn dlq_release(&self, messages: &[&DlqMessage]) -> anyhow::Result<()> {
        let url = self.dlq_url()?;
        for chunk in messages.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&m.receipt)
                        .visibility_timeout(0)
                        .build()
                        .context("building a visibility change")
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            self.clients
                .sqs
                .change_message_visibility_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_err("releasing dead-letter messages (sqs:ChangeMessageVisibilityBatch)", e))?;
        }
        Ok(())
    }

    /// Every DLQ message (up to `max`), left in the queue.
    pub async fn dlq_list(&self, max: usize) -> anyhow::Result<Vec<DlqMessage>> {
        let messages = self.dlq_receive(max, Duration::from_secs(30)).await?;
        self.dlq_release(&messages.iter().collect::<Vec<_>>()).await?;
        Ok(messages)
    }

    /// Moves matching collection jobs back to the collection queue: send, then delete. An
    /// interruption between the two leaves the message in both queues (it reappears in the DLQ after
    /// `hold`); the job then runs twice, which the exactly-once count makes harmless.
    pub async fn dlq_redrive(
        &self,
        report: Option<&str>,
        target: Option<&str>,
        dry_run: bool,
        hold: Duration,
        max: usize,
    ) -> anyhow::Result<Redrive> {
        let queue = need(&self.cfg.collect_queue_url, "DBADMIN_COLLECT_QUEUE_URL")?;
        let dlq = self.dlq_url()?;
        let messages = self.dlq_receive(max, hold).await?;
        let (matching, rest): (Vec<&DlqMessage>, Vec<&DlqMessage>) = messages.iter().partition(|m| {
            m.report_id.is_some()
                && report.is_none_or(|r| m.report_id.as_deref() == Some(r))
                && target.is_none_or(|t| m.target_id.as_deref() == Some(t))
        });
        if dry_run {
            self.dlq_release(&messages.iter().collect::<Vec<_>>()).await?;
            return Ok(Redrive { dry_run, moved: matching.into_iter().cloned().collect(), left: rest.len() });
        }
        self.dlq_release(&rest).await?;
        let mut moved = Vec::new();
        for m in matching {
            self.clients
                .sqs
                .send_message()
                .queue_url(queue)
                .message_body(&m.body)
                .send()
                .await
                .map_err(|e| sdk_err("sending a job back (sqs:SendMessage)", e))?;
            crate::fault::point("redrive-after-send");
            self.clients
                .sqs
                .delete_message()
                .queue_url(dlq)
                .receipt_handle(&m.receipt)
                .send()
                .await
                .map_err(|e| sdk_err("removing a redriven message from the DLQ (sqs:DeleteMessage)", e))?;
            moved.push(m.clone());
        }
        Ok(Redrive { dry_run, moved, left: rest.len() })
    }

    /// Starts SQS's own move task for the whole DLQ (back to its source queue). Returns the task handle.
    pub async fn dlq_move_task(&self) -> anyhow::Result<String> {
        let dlq = self.dlq_url()?;
        let attrs = self
            .clients
            .sqs
            .get_queue_attributes()
            .queue_url(dlq)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| sdk_err("reading the DLQ's ARN (sqs:GetQueueAttributes)", e))?;
        let arn = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .cloned()
            .context("the DLQ has no ARN")?;
        let out = self
            .clients
            .sqs
            .start_message_move_task()
            .source_arn(arn)
            .send()
            .await
            .map_err(|e| sdk_err("starting a message move task (sqs:StartMessageMoveTask)", e))?;
        Ok(out.task_handle().unwrap_or_default().to_owned())
    }
}

/// An object that must exist.
async fn fetch(store: &S3Store, key: &str) -> anyhow::Result<Vec<u8>> {
    store.get(key).await?.ok_or_else(|| anyhow!("{} is missing", store.location(key)))
}

async fn read<T: Versioned + serde::de::DeserializeOwned>(store: &S3Store, key: &str) -> anyhow::Result<T> {
    let bytes = fetch(store, key).await?;
    dbadmin_contracts::decode(&bytes).with_context(|| format!("reading {}", store.location(key)))
}

fn write(path: &Path, body: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, body).with_context(|| format!("writing {}", path.display()))
}
