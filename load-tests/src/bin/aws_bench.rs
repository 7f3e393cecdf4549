//! `aws-bench N [N …]`: N databases through the deployed pipeline on MiniStack.
//!
//! Builds an inventory of N targets over the local test servers (many targets share a server),
//! submits it the way the CLI will, polls the run table for the stage boundaries, and reads each
//! function's own timings from its JSON log lines (`publish_ms`, per job `db_ms`/`total_ms`,
//! `finalize_ms`). Per-database overhead is `total_ms - db_ms` of each collector job: everything
//! the pipeline adds around the database work (secret, S3 reads and writes, the DynamoDB count).
//! Needs `scripts/aws-local.sh up` and the variables of `scripts/aws-local.sh env` and
//! `scripts/test-servers.sh env`.

use anyhow::{bail, Context};
use dbadmin_aws::{dynamo::DynamoRunStore, Clients};
use dbadmin_load_tests::{inventory_rows, output, submit, INVENTORY_HEADER};
use dbadmin_ports::RunStore;
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
        "finalize_handler_ms": log_field(&log, id, "Report written.", "finalize_ms").first(),
        "end_to_end_ms": ms(reported),
        "databases_per_second": if to_last > 0 { n as f64 * 1000.0 / to_last as f64 } else { 0.0 },
        "collector_jobs_logged": db.len(),
        "db_ms_median": median(db),
        "job_total_ms_median": median(total),
        "overhead_ms_median": median(overhead.clone()),
        "overhead_ms_p95": p95(overhead),
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> =
        std::env::args().skip(1).map(|a| a.parse()).collect::<Result<_, _>>().context("arguments are target counts")?;
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
