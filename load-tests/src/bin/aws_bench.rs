//! `aws-bench N [N …]`: N databases through the deployed pipeline on MiniStack.
//!
//! Builds an inventory of N targets over the local test servers (many targets share a server),
//! submits it the way the CLI will, polls the run table for the stage boundaries, and reads each
//! function's own timings from its JSON log lines (`publish_ms`, per job `db_ms`/`total_ms`,
//! `finalize_ms`). Per-database overhead is `total_ms - db_ms` of each collector job: everything
//! the pipeline adds around the database work (secret, S3 reads and writes, the DynamoDB count).
//! Needs `scripts/aws-local.sh up` and the variables of `scripts/aws-local.sh env` and
//! `scripts/test-servers.sh env`.
//!
//! `aws-bench calls N`: the API calls a report of N databases makes, counted (not timed) by an SDK
//! interceptor ([`dbadmin_load_tests::calls`]). The publisher, collector and reporter handlers run
//! in this process on the adapters their Lambdas use, against MiniStack's services (the deployed
//! bucket and table; a topic and a finalize queue of their own, so the deployed functions do not
//! take the jobs); each job is a first delivery, as on a queue. What the Lambda service itself
//! calls (the event source mapping's SQS receives and deletes) is not in a handler: the cost
//! estimate in load-tests/README.md adds it from the batch size.

use anyhow::{bail, Context};
use dbadmin_aws::{dynamo::DynamoRunStore, Clients};
use dbadmin_load_tests::{inventory_rows, output, submit, INVENTORY_HEADER};
use dbadmin_ports::RunRecords;
use std::time::{Duration, Instant};

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

fn p95(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get((v.len() * 95 / 100).min(v.len().saturating_sub(1))).copied().unwrap_or(0)
}

/// The numeric `field` of every log line of `report_id` whose message is `message`.
fn log_field(log: &str, report_id: &str, message: &str, field: &str) -> Vec<u64> {
    log.lines()
        .filter(|l| l.contains(report_id) && l.contains(message))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["fields"][field].as_u64())
        .collect()
}

async fn bench(c: &Clients, o: &serde_json::Value, n: usize, log_path: &str) -> anyhow::Result<serde_json::Value> {
    let runs = DynamoRunStore::new(c.dynamodb.clone(), output(o, "table")?);
    let t0 = Instant::now();
    let request =
        submit(c, o, &format!("bench-{n}"), format!("{INVENTORY_HEADER}{}", inventory_rows("bench", n))).await?;
    let (mut created, mut done, mut reported) = (None, None, None);
    let limit = Duration::from_secs(1800);
    while reported.is_none() {
        if t0.elapsed() > limit {
            bail!("report for N={n} not written within {limit:?}");
        }
        if let Some(run) = runs.get_run(&request.report_id).await? {
            created.get_or_insert(t0.elapsed());
            if run.completed >= run.total && done.is_none() {
                done = Some(t0.elapsed());
            }
            if run.reported_version >= 1 {
                reported = Some(t0.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The last log lines may trail the table by a moment.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let log = std::fs::read_to_string(log_path).with_context(|| format!("reading {log_path}"))?;
    let id = &request.report_id;
    let db = log_field(&log, id, "Job done.", "db_ms");
    let total = log_field(&log, id, "Job done.", "total_ms");
    let overhead: Vec<u64> = total.iter().zip(&db).map(|(t, d)| t.saturating_sub(*d)).collect();
    let ms = |d: Option<Duration>| d.map_or(0, |d| d.as_millis() as u64);
    let to_last = ms(done);
    Ok(serde_json::json!({
        "n": n,
        "report_id": id,
        "request_to_run_recorded_ms": ms(created),
        "publish_handler_ms": log_field(&log, id, "Published collection jobs.", "publish_ms").first(),
        "request_to_last_result_ms": to_last,
        "last_result_to_report_ms": ms(reported) - to_last,
        "finalize_handler_ms": log_field(&log, id, "Report written and signed.", "finalize_ms").first(),
        "end_to_end_ms": ms(reported),
        "databases_per_second": if to_last > 0 { n as f64 * 1000.0 / to_last as f64 } else { 0.0 },
        "collector_jobs_logged": db.len(),
        "db_ms_median": median(db),
        "job_total_ms_median": median(total),
        "overhead_ms_median": median(overhead.clone()),
        "overhead_ms_p95": p95(overhead),
    }))
}

/// Calls per `(service, operation)`, as JSON rows with the count per database.
fn call_rows(calls: &dbadmin_load_tests::calls::Calls, n: usize) -> Vec<serde_json::Value> {
    calls
        .iter()
        .map(|((service, operation), count)| {
            serde_json::json!({
                "service": service, "operation": operation, "calls": count,
                "per_database": *count as f64 / n as f64,
                "billed": dbadmin_load_tests::calls::billed(service),
            })
        })
        .collect()
}

#[allow(
    clippy::too_many_lines,
    reason = "a benchmark's script, read top to bottom (set up, run, count, write the results); not product code"
)]
async fn calls(o: &serde_json::Value, n: usize) -> anyhow::Result<serde_json::Value> {
    use dbadmin_aws::{credentials::AwsCredentials, dynamo::DynamoRunStore, kms::KmsSigner};
    use dbadmin_aws::{s3::S3Inventory, s3::S3Store, sns::SnsJobQueue, sqs::SqsFinalizeQueue};
    use dbadmin_load_tests::calls::{since, CallCounter};
    use futures::StreamExt;
    let plain = Clients::load().await;
    let counter = CallCounter::default();
    let c = Clients::intercepted(plain.sdk.clone(), counter.interceptor());
    // A topic with no subscriber and a queue no function reads: the jobs and the finalize message
    // stay in this process.
    let tag = ulid::Ulid::new().to_string().to_lowercase();
    let topic = plain.sns.create_topic().name(format!("bench-calls-{tag}")).send().await?;
    let topic = topic.topic_arn().context("topic arn")?.to_owned();
    let queue = plain.sqs.create_queue().queue_name(format!("bench-calls-{tag}")).send().await?;
    let queue = queue.queue_url().context("queue url")?.to_owned();

    let bucket = output(o, "bucket")?;
    let key = format!("inventory/bench-calls-{n}.csv");
    let inventory = format!("{INVENTORY_HEADER}{}", inventory_rows("calls", n));
    dbadmin_load_tests::writer_s3(&c, o)
        .put_object()
        .bucket(bucket)
        .key(&key)
        .body(inventory.into_bytes().into())
        .send()
        .await?;
    let store = S3Store::new(c.s3.clone(), bucket, Some(output(o, "kms_key_arn")?.to_owned()));
    let runs = DynamoRunStore::new(c.dynamodb.clone(), output(o, "table")?);
    let finalize = SqsFinalizeQueue::new(c.sqs.clone(), &queue);
    let request = dbadmin_contracts::ReportRequest {
        schema_version: <dbadmin_contracts::ReportRequest as dbadmin_contracts::Versioned>::SCHEMA_VERSION,
        report_id: ulid::Ulid::new().to_string(),
        requested_by: "aws-bench calls".into(),
        requested_at: dbadmin_contracts::now_rfc3339(),
        inventory: format!("s3://{bucket}/{key}"),
        filters: Default::default(),
        output_format: Default::default(),
        retry: None,
        discovery: None,
        baseline: None,
    };
    let received = dbadmin_contracts::Provenance {
        sender: "aws-bench".into(),
        sent_at: dbadmin_contracts::now_rfc3339(),
        message_id: ulid::Ulid::new().to_string(),
    };

    let start = counter.snapshot();
    let inventory_source = S3Inventory::new(c.s3.clone());
    let jobs = SnsJobQueue::new(c.sns.clone(), &topic);
    let publisher = dbadmin_publisher::PublisherDeps {
        inventory: &inventory_source,
        store: &store,
        runs: &runs,
        counter: &runs,
        jobs: &jobs,
        finalize: &finalize,
        discovery: None,
    };
    let published = dbadmin_publisher::handle_request(&request, &received, &publisher).await?;
    let after_publish = counter.snapshot();

    // As the deployed collector reads them: each secret in its target's account, through a target
    // role (the call counts include the AssumeRole calls). The deployed role trusts only the deployed
    // collector; run.sh gives this process a copy of it (DBADMIN_BENCH_TARGET_ROLE_SUFFIX).
    let suffix = std::env::var("DBADMIN_BENCH_TARGET_ROLE_SUFFIX").unwrap_or_default();
    let credentials = AwsCredentials::new(
        &c,
        Some(format!("{}{suffix}", output(o, "target_role_name")?)),
        Some(output(o, "external_id")?.to_owned()),
    );
    let connect = dbadmin_collector::ConnectOptions {
        ca_file: std::env::var("DBADMIN_TEST_CA_FILE").ok().map(Into::into),
        ..Default::default()
    };
    let populations = dbadmin_collector::Populations::new();
    let collector = dbadmin_collector::CollectorDeps {
        populations: &populations,
        credentials: &credentials,
        store: &store,
        counter: &runs,
        attempts: &runs,
        finalize: &finalize,
        connect: &connect,
        login_logs: &credentials,
    };
    let first = dbadmin_collector::Delivery { first: true, ..Default::default() };
    let collector = &collector;
    let failures = futures::stream::iter(0..n)
        .map(|i| {
            let job = dbadmin_contracts::CollectionJob {
                schema_version: <dbadmin_contracts::CollectionJob as dbadmin_contracts::Versioned>::SCHEMA_VERSION,
                report_id: request.report_id.clone(),
                target_id: format!("calls-{i:05}"),
                version: 1,
            };
            async move { dbadmin_collector::handle_delivery(&job, collector, first).await }
        })
        .buffer_unordered(16)
        .filter_map(|r| {
            futures::future::ready(match r {
                Ok(j) => j.error.map(|kind| format!("error kind {kind:?}")),
                Err(e) => Some(format!("{e:#}")),
            })
        })
        .collect::<Vec<String>>()
        .await;
    if let Some(first) = failures.first() {
        bail!("{} of {n} collections failed (the count would not be the common path), e.g. {first}", failures.len());
    }
    let after_collect = counter.snapshot();

    let signer = KmsSigner::new(c.kms.clone(), output(o, "signing_key_arn")?);
    let reporter =
        dbadmin_reporter::ReporterDeps { store: &store, claims: &runs, counter: &runs, chain: &runs, signer: &signer };
    let message = dbadmin_contracts::FinalizeMessage {
        schema_version: <dbadmin_contracts::FinalizeMessage as dbadmin_contracts::Versioned>::SCHEMA_VERSION,
        report_id: request.report_id.clone(),
    };
    let written = dbadmin_reporter::handle_finalize(&message, &reporter).await?;
    if !matches!(written, dbadmin_reporter::FinalizeOutcome::Written { .. }) {
        bail!("the report was not written: {written:?}");
    }
    let after_finalize = counter.snapshot();
    let _ = plain.sns.delete_topic().topic_arn(&topic).send().await;
    let _ = plain.sqs.delete_queue().queue_url(&queue).send().await;

    let collect = since(&after_publish, &after_collect);
    let per_db_billed: f64 = collect
        .iter()
        .filter(|((service, _), _)| dbadmin_load_tests::calls::billed(service))
        .map(|(_, c)| *c as f64)
        .sum::<f64>()
        / n as f64;
    Ok(serde_json::json!({
        "n": n,
        "report_id": request.report_id,
        "published": published.published,
        "publish": call_rows(&since(&start, &after_publish), n),
        "collect": call_rows(&collect, n),
        "finalize": call_rows(&since(&after_collect, &after_finalize), n),
        "billed_calls_per_database_in_collect": per_db_billed,
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("calls") {
        let outputs = dbadmin_load_tests::outputs()?;
        let mut all = Vec::new();
        for n in args.split_off(1) {
            let r = calls(&outputs, n.parse().context("calls N: N is a target count")?).await?;
            eprintln!("{}", serde_json::to_string(&r)?);
            all.push(r);
        }
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(());
    }
    let sizes: Vec<usize> =
        args.iter().map(|a| a.parse()).collect::<Result<_, _>>().context("arguments are target counts")?;
    if sizes.is_empty() {
        bail!("usage: aws-bench N [N …]");
    }
    let outputs = dbadmin_load_tests::outputs()?;
    let state = std::env::var("DBADMIN_STATE_DIR").unwrap_or_else(|_| ".state".into());
    let log_path = format!("{state}/ministack.log");
    let clients = Clients::load().await;
    let mut all = Vec::new();
    for n in sizes {
        let r = bench(&clients, &outputs, n, &log_path).await?;
        eprintln!("{}", serde_json::to_string(&r)?);
        all.push(r);
    }
    println!("{}", serde_json::to_string_pretty(&all)?);
    Ok(())
}
