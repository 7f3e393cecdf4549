//! Run state and the exactly-once completion counter in one DynamoDB table.
//!
//! Items (partition key `pk`, sort key `sk`, both strings):
//! - `RUN#{report_id}` / `RUN`: the run record (`total`, `completed`, `generation` — the record's
//!   `version`, so named in the table since its first release —, `reported_version`,
//!   `claimed_version`, `claimed_at`, …);
//! - `RUN#{report_id}` / `DONE#{target_id}`: one marker per counted target;
//! - `RUN#{report_id}` / `ERR#{target_id}`: the last infrastructure failure of a target's job.
//!
//! Counting writes the marker (only if absent) and increments `completed` in one transaction, so
//! `completed` always equals the number of markers, however often a job is delivered.

use crate::error::{code, port_error};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use dbadmin_contracts::manifest::ChainLink;
use dbadmin_ports::{
    not_ready, plan_version, AttemptError, AttemptLog, Completion, CompletionCounter, Counted, FinalizeClaim,
    FinalizeClaims, ManifestChain, NewVersion, PortError, RunRecord, RunRecords, Seal, SealedManifest, FINALIZE_LEASE,
};
use std::collections::{BTreeMap, HashMap};

/// Transaction conflicts retried in place before a count fails into a redelivery.
const MAX_CONFLICT_RETRIES: u32 = 8;

/// Why a counting transaction was cancelled, from its cancellation reasons (marker put, count update).
#[derive(Debug, PartialEq, Eq)]
enum Cancelled {
    /// The marker exists: this target was counted by an earlier delivery.
    AlreadyCounted,
    /// The run record does not exist, or is at another version.
    NoRunAtVersion,
    /// Another transaction touched the same items at the same time.
    Conflict,
    Other,
}

fn cancellation(reasons: &[Option<String>]) -> Cancelled {
    let code = |i: usize| reasons.get(i).and_then(|c| c.as_deref());
    match (code(0), code(1)) {
        (Some("ConditionalCheckFailed"), _) => Cancelled::AlreadyCounted,
        (_, Some("ConditionalCheckFailed")) => Cancelled::NoRunAtVersion,
        _ if reasons.iter().any(|c| c.as_deref() == Some("TransactionConflict")) => Cancelled::Conflict,
        _ => Cancelled::Other,
    }
}

type TransactError = aws_sdk_dynamodb::error::SdkError<
    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
    aws_sdk_dynamodb::config::http::HttpResponse,
>;

/// The code of each item's cancellation reason, in the transaction's order (empty when the
/// transaction was not cancelled).
fn cancellation_codes(e: &TransactError) -> Vec<Option<String>> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(tc)) => {
            tc.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect()
        }
        _ => Vec::new(),
    }
}

/// Exponential back-off from 20 ms with full jitter, capped at 1 s.
fn conflict_backoff(attempt: u32) -> std::time::Duration {
    use std::hash::{BuildHasher, Hasher};
    let cap = (20u64 << attempt.min(6)).min(1000);
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    std::time::Duration::from_millis(1 + random % cap)
}

/// How long completion markers are kept (the run record itself is kept).
const MARKER_TTL_SECS: u64 = 90 * 24 * 3600;

/// Why [`DynamoRunStore::uncount`] stopped.
enum Uncount {
    /// The run was not where the first transaction required it.
    Refused,
    Failed(PortError),
}

pub struct DynamoRunStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    lease: std::time::Duration,
    /// Each run's total, once read (it never changes): counting then needs no read back.
    totals: std::sync::Mutex<std::collections::HashMap<String, u64>>,
}

/// What one counting transaction did.
enum Counting {
    Counted,
    Cancelled(Cancelled, Box<TransactError>),
}

impl DynamoRunStore {
    /// Puts the target's marker and counts it in one transaction; contention on the run item is
    /// retried here, after a jittered pause, rather than failing the job into a redelivery.
    async fn count(
        &self,
        report_id: &str,
        target_id: &str,
        marker: &Put,
        count: &Update,
    ) -> Result<Counting, PortError> {
        let mut conflicts = 0u32;
        loop {
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(marker.clone()).build())
                .transact_items(TransactWriteItem::builder().update(count.clone()).build())
                .send()
                .await;
            let e = match result {
                Ok(_) => {
                    if conflicts > 0 {
                        tracing::info!(report_id, target_id, conflicts, "Counted after transaction conflicts.");
                    }
                    return Ok(Counting::Counted);
                }
                Err(e) => e,
            };
            match cancellation(&cancellation_codes(&e)) {
                Cancelled::Conflict if conflicts < MAX_CONFLICT_RETRIES => {
                    conflicts += 1;
                    tokio::time::sleep(conflict_backoff(conflicts)).await;
                }
                Cancelled::Conflict | Cancelled::Other => {
                    return Err(port_error("DynamoDB TransactWriteItems (count)", e))
                }
                reason => return Ok(Counting::Cancelled(reason, Box::new(e))),
            }
        }
    }

    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoRunStore { client, table: table.into(), lease: FINALIZE_LEASE, totals: Default::default() }
    }

    /// Finalize claims expire after `lease` (it must outlast the reporter's time-out and stay below
    /// the finalize queue's visibility time-out, so a redelivery finds it expired).
    pub fn with_lease(mut self, lease: std::time::Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Every run record, newest request first (a scan: the table holds one record per report).
    async fn scan_runs(&self) -> Result<Vec<RunRecord>, PortError> {
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("sk = :run")
            .expression_attribute_values(":run", s("RUN"))
            .into_paginator()
            .send();
        let mut runs = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| port_error("DynamoDB Scan (runs)", e))?;
            for item in page.items() {
                if let Some(id) = text(item, "pk").as_deref().and_then(|p| p.strip_prefix("RUN#")) {
                    runs.push(record(id, item));
                }
            }
        }
        runs.sort_by(|a, b| b.requested_at.cmp(&a.requested_at).then_with(|| b.report_id.cmp(&a.report_id)));
        Ok(runs)
    }

    /// Counted targets, each with how it was counted.
    async fn counted_markers(&self, report_id: &str) -> Result<BTreeMap<String, Counted>, PortError> {
        Ok(self
            .items(report_id, "DONE#")
            .await?
            .iter()
            .filter_map(|item| {
                let target = text(item, "sk")?.trim_start_matches("DONE#").to_owned();
                let failed = item.get("failed").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
                Some((target, Counted { failed, version: num(item, "version").max(1) as u32 }))
            })
            .collect())
    }

    /// Uncounts `targets` for version `next`, at most 49 per transaction (a transaction holds 100
    /// items: two per target plus the run record). With `from`, the first transaction also moves the
    /// run from `from` to `next`, and only if it is still there; every later one requires the run at
    /// `next`. Each transaction is whole, so a crash between two leaves a run at `next` with part of
    /// the targets still counted, which the next call for the same version finishes.
    async fn uncount(
        &self,
        report_id: &str,
        from: Option<u32>,
        next: u32,
        targets: &[&String],
        counted: &BTreeMap<String, Counted>,
    ) -> Result<(), Uncount> {
        let failed = |e| Uncount::Failed(e);
        for (i, chunk) in targets.chunks(49).enumerate() {
            let mut update = Update::builder()
                .table_name(&self.table)
                .key("pk", pk(report_id))
                .key("sk", s("RUN"))
                .expression_attribute_values(":k", n(chunk.len()))
                .expression_attribute_values(":kf", n(chunk.iter().filter(|t| counted[**t].failed).count()))
                .expression_attribute_values(":next", n(next));
            update = match from.filter(|_| i == 0) {
                Some(from) => update
                    .update_expression("SET generation = :next, completed = completed - :k, failed = failed - :kf")
                    .condition_expression("generation = :from AND reported_version >= :from AND completed >= #total")
                    .expression_attribute_names("#total", "total")
                    .expression_attribute_values(":from", n(from)),
                None => update
                    .update_expression("SET completed = completed - :k, failed = failed - :kf")
                    .condition_expression("generation = :next"),
            };
            let mut tx = self.client.transact_write_items().transact_items(
                TransactWriteItem::builder().update(update.build().map_err(build_err).map_err(failed)?).build(),
            );
            for target in chunk {
                let marker = Delete::builder()
                    .table_name(&self.table)
                    .key("pk", pk(report_id))
                    .key("sk", s(format!("DONE#{target}")))
                    .condition_expression("attribute_exists(pk)")
                    .build()
                    .map_err(build_err)
                    .map_err(failed)?;
                let error = Delete::builder()
                    .table_name(&self.table)
                    .key("pk", pk(report_id))
                    .key("sk", s(format!("ERR#{target}")))
                    .build()
                    .map_err(build_err)
                    .map_err(failed)?;
                tx = tx
                    .transact_items(TransactWriteItem::builder().delete(marker).build())
                    .transact_items(TransactWriteItem::builder().delete(error).build());
            }
            if let Err(e) = tx.send().await {
                if i == 0 && from.is_some() && code(&e) == Some("TransactionCanceledException") {
                    return Err(Uncount::Refused);
                }
                return Err(failed(port_error("DynamoDB TransactWriteItems (new version)", e)));
            }
        }
        Ok(())
    }

    /// Items of a run whose sort key starts with `prefix`.
    async fn items(&self, report_id: &str, prefix: &str) -> Result<Vec<HashMap<String, AttributeValue>>, PortError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", pk(report_id))
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| port_error("DynamoDB Query (run items)", e))?;
            out.extend(page.items().iter().cloned());
        }
        Ok(out)
    }

    /// The run's record item, read consistently.
    async fn run_item(&self, report_id: &str) -> Result<Option<HashMap<String, AttributeValue>>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", pk(report_id))
            .key("sk", s("RUN"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error("DynamoDB GetItem (run)", e))?;
        Ok(out.item)
    }

    /// An `UpdateItem` on a run's record item.
    fn update_run(
        &self,
        report_id: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client.update_item().table_name(&self.table).key("pk", pk(report_id)).key("sk", s("RUN"))
    }
}

/// The chain head's key: one item for the deployment, beside the runs.
const CHAIN_PK: &str = "CHAIN";
const CHAIN_SK: &str = "HEAD";

fn sealed_names(version: u32) -> (String, String) {
    (format!("sealed_manifest_v{version}"), format!("sealed_signature_v{version}"))
}

fn bytes(item: &HashMap<String, AttributeValue>, name: &str) -> Option<Vec<u8>> {
    item.get(name).and_then(|v| v.as_b().ok()).map(|b| b.as_ref().to_vec())
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn pk(report_id: &str) -> AttributeValue {
    s(format!("RUN#{report_id}"))
}

fn num(item: &HashMap<String, AttributeValue>, name: &str) -> u64 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn build_err(e: impl std::error::Error + Send + Sync + 'static) -> PortError {
    PortError::permanent("build DynamoDB request", e)
}

fn record(report_id: &str, item: &HashMap<String, AttributeValue>) -> RunRecord {
    RunRecord {
        report_id: report_id.to_owned(),
        requested_by: text(item, "requested_by").unwrap_or_default(),
        requested_at: text(item, "requested_at").unwrap_or_default(),
        total: num(item, "total"),
        completed: num(item, "completed"),
        failed: num(item, "failed"),
        version: num(item, "generation").max(1) as u32,
        reported_version: num(item, "reported_version") as u32,
        report_location: text(item, "report_location"),
    }
}

#[async_trait]
impl RunRecords for DynamoRunStore {
    async fn create_run(&self, run: &RunRecord) -> Result<bool, PortError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", pk(&run.report_id))
            .item("sk", s("RUN"))
            .item("requested_by", s(&run.requested_by))
            .item("requested_at", s(&run.requested_at))
            .item("total", n(run.total))
            .item("completed", n(0))
            .item("failed", n(0))
            .item("generation", n(run.version.max(1)))
            .item("reported_version", n(0))
            .item("claimed_version", n(0))
            .item("claimed_at", n(0))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(port_error("DynamoDB PutItem (run)", e)),
        }
    }

    async fn get_run(&self, report_id: &str) -> Result<Option<RunRecord>, PortError> {
        Ok(self.run_item(report_id).await?.map(|item| record(report_id, &item)))
    }

    async fn list_runs(&self) -> Result<Vec<RunRecord>, PortError> {
        self.scan_runs().await
    }
}

#[async_trait]
impl CompletionCounter for DynamoRunStore {
    async fn mark_complete(
        &self,
        report_id: &str,
        target_id: &str,
        version: u32,
        failed: bool,
    ) -> Result<Completion, PortError> {
        let marker = Put::builder()
            .table_name(&self.table)
            .item("pk", pk(report_id))
            .item("sk", s(format!("DONE#{target_id}")))
            .item("at", n(now_secs()))
            .item("failed", AttributeValue::Bool(failed))
            .item("version", n(version))
            // Markers are transient: the table's TTL removes them after MARKER_TTL.
            .item("expires_at", n(now_secs() + MARKER_TTL_SECS))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_err)?;
        let count = |below: Option<u64>| {
            let condition = "attribute_exists(pk) AND generation = :version";
            let update = Update::builder()
                .table_name(&self.table)
                .key("pk", pk(report_id))
                .key("sk", s("RUN"))
                .update_expression("SET completed = completed + :one, failed = if_not_exists(failed, :zero) + :failed")
                .expression_attribute_values(":version", n(version))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":failed", n(u8::from(failed)));
            match below {
                Some(limit) => update
                    .condition_expression(format!("{condition} AND completed < :limit"))
                    .expression_attribute_values(":limit", n(limit)),
                None => update.condition_expression(condition),
            }
            .build()
            .map_err(build_err)
        };
        // The common path, one call: with the run's total known, count on the condition that this
        // is not the last target (the count stays below total - 1 before it). Success needs no
        // read back; any refusal (the last target, a redelivery, another version) takes the path below.
        let total = self.totals.lock().unwrap_or_else(|p| p.into_inner()).get(report_id).copied();
        if let Some(total) = total.filter(|t| *t >= 2) {
            if let Counting::Counted = self.count(report_id, target_id, &marker, &count(Some(total - 1))?).await? {
                return Ok(Completion { newly_counted: true, completed: None, total });
            }
        }
        let newly_counted = match self.count(report_id, target_id, &marker, &count(None)?).await? {
            Counting::Counted => true,
            Counting::Cancelled(Cancelled::AlreadyCounted, _) => false,
            Counting::Cancelled(Cancelled::NoRunAtVersion, _) => {
                return Err(match self.get_run(report_id).await? {
                    Some(run) => PortError::stale(report_id, target_id, version, run.version),
                    None => PortError::NotFound { what: format!("run {report_id}") },
                })
            }
            Counting::Cancelled(_, e) => return Err(port_error("DynamoDB TransactWriteItems (count)", *e)),
        };
        let run =
            self.get_run(report_id).await?.ok_or_else(|| PortError::NotFound { what: format!("run {report_id}") })?;
        self.totals.lock().unwrap_or_else(|p| p.into_inner()).insert(report_id.to_owned(), run.total);
        Ok(Completion { newly_counted, completed: Some(run.completed), total: run.total })
    }

    async fn counted(&self, report_id: &str) -> Result<BTreeMap<String, Counted>, PortError> {
        self.counted_markers(report_id).await
    }

    async fn begin_version(&self, report_id: &str, from: u32, targets: &[String]) -> Result<NewVersion, PortError> {
        let run =
            self.get_run(report_id).await?.ok_or_else(|| PortError::NotFound { what: format!("run {report_id}") })?;
        let counted = self.counted_markers(report_id).await?;
        if counted.len() as u64 != run.completed {
            // The markers expire (MARKER_TTL); without them a retry could not count exactly.
            return Ok(NewVersion::NotReady {
                reason: "the run's completion markers have expired; request a new report instead".into(),
            });
        }
        let next = from + 1;
        if run.version == next {
            // An earlier call started this version and may have died between its transactions:
            // uncount what it planned and did not reach (those of `targets` still counted before it).
            let rest: Vec<&String> =
                targets.iter().filter(|t| counted.get(*t).is_some_and(|c| c.version < next)).collect();
            if !rest.is_empty() {
                tracing::info!(report_id, version = next, targets = rest.len(), "Finishing an interrupted retry.");
                if let Err(Uncount::Failed(e)) = self.uncount(report_id, None, next, &rest, &counted).await {
                    return Err(e);
                }
            }
            return Ok(NewVersion::AlreadyStarted { version: next });
        }
        let reset = match plan_version(&run, from, targets, |t| counted.contains_key(t)) {
            Ok(reset) => reset,
            Err(answer) => return Ok(answer),
        };
        match self.uncount(report_id, Some(from), next, &reset, &counted).await {
            Ok(()) => Ok(NewVersion::Started { version: next, reset: reset.len() }),
            Err(Uncount::Refused) => {
                // Another retry won the race (or the run changed): report what it is now.
                let run = self
                    .get_run(report_id)
                    .await?
                    .ok_or_else(|| PortError::NotFound { what: format!("run {report_id}") })?;
                if run.version == next {
                    return Ok(NewVersion::AlreadyStarted { version: next });
                }
                let reason = not_ready(&run, from).unwrap_or_else(|| "the run changed meanwhile".into());
                Ok(NewVersion::NotReady { reason })
            }
            Err(Uncount::Failed(e)) => Err(e),
        }
    }
}

#[async_trait]
impl FinalizeClaims for DynamoRunStore {
    async fn claim_finalize(&self, report_id: &str) -> Result<Option<FinalizeClaim>, PortError> {
        let Some(run) = self.get_run(report_id).await? else {
            return Err(PortError::NotFound { what: format!("run {report_id}") });
        };
        let version = run.version;
        if run.completed < run.total || run.reported_version >= version {
            return Ok(None);
        }
        let now = now_secs();
        let result = self
            .update_run(report_id)
            .update_expression("SET claimed_version = :v, claimed_at = :now")
            .condition_expression(
                "completed >= #total AND reported_version < :v AND (claimed_version < :v OR claimed_at < :stale)",
            )
            .expression_attribute_names("#total", "total")
            .expression_attribute_values(":v", n(version))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":stale", n(now.saturating_sub(self.lease.as_secs())))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Some(FinalizeClaim { version, supersedes: (version > 1).then(|| version - 1) })),
            Err(e) if code(&e) == Some("ConditionalCheckFailedException") => Ok(None),
            Err(e) => Err(port_error("DynamoDB UpdateItem (claim)", e)),
        }
    }

    async fn awaiting_report(&self, report_id: &str) -> Result<bool, PortError> {
        Ok(self.get_run(report_id).await?.is_some_and(|r| r.completed >= r.total && r.reported_version < r.version))
    }

    async fn record_report(&self, report_id: &str, version: u32, location: &str) -> Result<(), PortError> {
        let result = self
            .update_run(report_id)
            .update_expression("SET reported_version = :v, report_location = :loc")
            .condition_expression("attribute_exists(pk) AND reported_version < :v")
            .expression_attribute_values(":v", n(version))
            .expression_attribute_values(":loc", s(location))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Recorded already by an earlier attempt of the same version: nothing to do.
            Err(e) if code(&e) == Some("ConditionalCheckFailedException") => Ok(()),
            Err(e) => Err(port_error("DynamoDB UpdateItem (record report)", e)),
        }
    }

    async fn abandon_version(&self, report_id: &str, version: u32) -> Result<bool, PortError> {
        let result = self
            .update_run(report_id)
            .update_expression("SET generation = :next, claimed_version = :next, claimed_at = :now")
            .condition_expression("generation = :v AND reported_version < :v")
            .expression_attribute_values(":v", n(version))
            .expression_attribute_values(":next", n(version + 1))
            .expression_attribute_values(":now", n(now_secs()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(port_error("DynamoDB UpdateItem (abandon version)", e)),
        }
    }
}

#[async_trait]
impl ManifestChain for DynamoRunStore {
    async fn chain_head(&self) -> Result<Option<ChainLink>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(CHAIN_PK))
            .key("sk", s(CHAIN_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error("DynamoDB GetItem (chain head)", e))?;
        Ok(out.item.map(|item| ChainLink {
            sequence: num(&item, "sequence"),
            report_id: text(&item, "report_id").unwrap_or_default(),
            version: num(&item, "version") as u32,
            manifest_sha256: text(&item, "manifest_sha256").unwrap_or_default(),
            signature_sha256: text(&item, "signature_sha256").unwrap_or_default(),
            manifest_key: text(&item, "manifest_key").unwrap_or_default(),
        }))
    }

    async fn seal(&self, previous: Option<u64>, link: &ChainLink, sealed: &SealedManifest) -> Result<Seal, PortError> {
        let (report_id, version) = (&link.report_id, link.version);
        let mut head = Update::builder()
            .table_name(&self.table)
            .key("pk", s(CHAIN_PK))
            .key("sk", s(CHAIN_SK))
            .update_expression(
                "SET #seq = :seq, report_id = :r, version = :v, manifest_sha256 = :m, signature_sha256 = :s, manifest_key = :k",
            )
            .expression_attribute_names("#seq", "sequence")
            .expression_attribute_values(":seq", n(link.sequence))
            .expression_attribute_values(":r", s(&link.report_id))
            .expression_attribute_values(":v", n(link.version))
            .expression_attribute_values(":m", s(&link.manifest_sha256))
            .expression_attribute_values(":s", s(&link.signature_sha256))
            .expression_attribute_values(":k", s(&link.manifest_key));
        head = match previous {
            None => head.condition_expression("attribute_not_exists(pk)"),
            Some(prev) => head.condition_expression("#seq = :prev").expression_attribute_values(":prev", n(prev)),
        };
        let (m_name, s_name) = sealed_names(version);
        let keep = Update::builder()
            .table_name(&self.table)
            .key("pk", pk(report_id))
            .key("sk", s("RUN"))
            .update_expression("SET #m = :m, #s = :s")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(#m)")
            .expression_attribute_names("#m", &m_name)
            .expression_attribute_names("#s", &s_name)
            .expression_attribute_values(":m", AttributeValue::B(sealed.manifest.clone().into()))
            .expression_attribute_values(":s", AttributeValue::B(sealed.signature.clone().into()))
            .build()
            .map_err(build_err)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(head.build().map_err(build_err)?).build())
            .transact_items(TransactWriteItem::builder().update(keep).build())
            .send()
            .await;
        let Err(e) = result else { return Ok(Seal::Sealed) };
        let codes = cancellation_codes(&e);
        let code = |i: usize| codes.get(i).and_then(|c| c.as_deref());
        if code(1) == Some("ConditionalCheckFailed") {
            return match self.sealed(report_id, version).await? {
                Some(earlier) => Ok(Seal::AlreadySealed(earlier)),
                None => Err(PortError::NotFound { what: format!("run {report_id}") }),
            };
        }
        if matches!(code(0), Some("ConditionalCheckFailed" | "TransactionConflict"))
            || code(1) == Some("TransactionConflict")
        {
            return Ok(Seal::HeadMoved);
        }
        Err(port_error("DynamoDB TransactWriteItems (seal)", e))
    }

    async fn sealed(&self, report_id: &str, version: u32) -> Result<Option<SealedManifest>, PortError> {
        let Some(item) = self.run_item(report_id).await? else { return Ok(None) };
        let (m_name, s_name) = sealed_names(version);
        Ok(bytes(&item, &m_name)
            .zip(bytes(&item, &s_name))
            .map(|(manifest, signature)| SealedManifest { manifest, signature }))
    }
}

#[async_trait]
impl AttemptLog for DynamoRunStore {
    async fn record_attempt_error(&self, report_id: &str, target_id: &str, error: &str) -> Result<(), PortError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk(report_id))
            .key("sk", s(format!("ERR#{target_id}")))
            .update_expression("SET #error = :e, #at = :at, expires_at = :exp ADD attempts :one")
            .expression_attribute_names("#error", "error")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":e", s(error))
            .expression_attribute_values(":at", s(dbadmin_contracts::now_rfc3339()))
            .expression_attribute_values(":exp", n(now_secs() + MARKER_TTL_SECS))
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(|e| port_error("DynamoDB UpdateItem (attempt error)", e))?;
        Ok(())
    }

    async fn attempt_errors(&self, report_id: &str) -> Result<BTreeMap<String, AttemptError>, PortError> {
        Ok(self
            .items(report_id, "ERR#")
            .await?
            .iter()
            .filter_map(|item| {
                let target = text(item, "sk")?.trim_start_matches("ERR#").to_owned();
                let error = AttemptError {
                    error: text(item, "error").unwrap_or_default(),
                    at: text(item, "at").unwrap_or_default(),
                    attempts: num(item, "attempts") as u32,
                };
                Some((target, error))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_cancellations_are_told_apart() {
        let r = |codes: &[&str]| codes.iter().map(|c| Some((*c).to_owned())).collect::<Vec<_>>();
        assert_eq!(cancellation(&r(&["ConditionalCheckFailed", "None"])), Cancelled::AlreadyCounted);
        assert_eq!(cancellation(&r(&["None", "ConditionalCheckFailed"])), Cancelled::NoRunAtVersion);
        assert_eq!(cancellation(&r(&["None", "TransactionConflict"])), Cancelled::Conflict);
        assert_eq!(cancellation(&r(&["TransactionConflict", "None"])), Cancelled::Conflict);
        assert_eq!(cancellation(&r(&["ValidationError", "None"])), Cancelled::Other);
        assert_eq!(cancellation(&[]), Cancelled::Other);
        for attempt in 1..=MAX_CONFLICT_RETRIES {
            let pause = conflict_backoff(attempt);
            assert!(pause >= std::time::Duration::from_millis(1) && pause <= std::time::Duration::from_secs(1));
        }
    }
}
