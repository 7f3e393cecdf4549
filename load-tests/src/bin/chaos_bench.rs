//! `chaos-bench [N]` (default 1000): one report of N targets on the deployed MiniStack stack while
//! things go wrong, then the invariants of the design (docs/reliability.md) checked on what it wrote.
//!
//! - A bounded loop SIGKILLs a random collector process (MiniStack runs each Lambda as a host
//!   process; ours are found by their `AWS_LAMBDA_FUNCTION_NAME`) every 0.5–2 s, up to 30, and once
//!   every target is counted, the reporter, up to 10 times.
//! - Duplicate deliveries: copies of genuine jobs are sent to the collect queue while the report
//!   runs, and copies of the finalize message once it is complete.
//! - A few targets hang: they point at a listener of this process that accepts and never answers.
//!
//! When the chaos is over and nothing moves for a minute, the soak redrives the DLQs as an
//! operator would (a job SIGKILLed on every delivery reaches the DLQ without our code running), and
//! counts what it moved. It ends when the report is written (or after 45 minutes) and asserts: one report version, with
//! nothing abandoned; exactly N targets in it, each with its rows or one error row, none missing;
//! the run table's counts equal the report's; no DLQ message of the report names a target the
//! report does not account for. Writes `load-tests/results/chaos.json`.

use anyhow::{bail, ensure, Context};
use dbadmin_aws::{dynamo::DynamoRunStore, Clients};
use dbadmin_contracts::{CollectionJob, FinalizeMessage, Versioned};
use dbadmin_load_tests::{inventory_rows, output, submit, INVENTORY_HEADER};
use dbadmin_ports::RunRecords;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const HUNG: usize = 5;
/// Kills of collectors while targets are collected, and of reporters once all are counted.
const MAX_COLLECTOR_KILLS: usize = 30;
const MAX_REPORTER_KILLS: usize = 10;
const MAX_DUPLICATE_JOBS: usize = 300;
/// With no progress for this long after the chaos ends, the soak redrives the DLQs, as an operator
/// would: a job whose every delivery was SIGKILLed reached the DLQ without a word from our code.
const QUIET_BEFORE_REDRIVE: Duration = Duration::from_secs(60);
const DEADLINE: Duration = Duration::from_secs(45 * 60);

/// Our Lambda processes, by function: `(pid, function name)`.
fn lambda_processes() -> Vec<(i32, String)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return out };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse::<i32>().ok()) else { continue };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else { continue };
        let function = environ
            .split(|b| *b == 0)
            .filter_map(|kv| std::str::from_utf8(kv).ok())
            .find_map(|kv| kv.strip_prefix("AWS_LAMBDA_FUNCTION_NAME="))
            .map(str::to_owned);
        if let Some(f) = function.filter(|f| f.ends_with("-collector") || f.ends_with("-reporter")) {
            out.push((pid, f));
        }
    }
    out
}

/// A tiny deterministic generator (the soak needs variety, not cryptographic randomness).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// A listener that accepts every connection and never says a word.
async fn hung_listener() -> anyhow::Result<u16> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    Ok(port)
}

/// Moves every message of `dlq` back to `queue` (what `db-admin-report dlq redrive` does); how many.
async fn redrive(c: &Clients, dlq: &str, queue: &str) -> anyhow::Result<usize> {
    let mut moved = 0;
    loop {
        let out = c.sqs.receive_message().queue_url(dlq).max_number_of_messages(10).send().await?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(moved);
        }
        for m in messages {
            c.sqs.send_message().queue_url(queue).message_body(m.body.unwrap_or_default()).send().await?;
            c.sqs.delete_message().queue_url(dlq).receipt_handle(m.receipt_handle.unwrap_or_default()).send().await?;
            moved += 1;
        }
    }
}

/// Messages resting in a DLQ whose body names `report_id`, as their bodies (left in the queue).
async fn dlq_bodies(c: &Clients, url: &str, report_id: &str) -> anyhow::Result<Vec<String>> {
    let mut bodies = BTreeMap::new();
    for _ in 0..20 {
        let out =
            c.sqs.receive_message().queue_url(url).max_number_of_messages(10).visibility_timeout(0).send().await?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            if let (Some(id), Some(body)) = (m.message_id, m.body) {
                if body.contains(report_id) {
                    bodies.insert(id, body);
                }
            }
        }
    }
    Ok(bodies.into_values().collect())
}

#[tokio::main]
#[allow(
    clippy::too_many_lines,
    reason = "a benchmark's script, read top to bottom (deploy, inject faults, wait, check, write the results); not product code"
)]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).map(|a| a.parse()).transpose().context("N is a number")?.unwrap_or(1000);
    ensure!(n > HUNG, "N must exceed the {HUNG} hung targets");
    let o = dbadmin_load_tests::outputs()?;
    let c = Clients::load().await;
    let runs = DynamoRunStore::new(c.dynamodb.clone(), output(&o, "table")?);
    let hung_port = hung_listener().await?;
    let mut inventory = format!("{INVENTORY_HEADER}{}", inventory_rows("chaos", n - HUNG));
    for i in 0..HUNG {
        inventory.push_str(&format!(
            "chaos-hung-{i},100000000000,eu-west-1,mariadb,127.0.0.1,{hung_port},,demo/mariadb,,disable,,\n"
        ));
    }
    let ids: Vec<String> = inventory.lines().skip(1).map(|l| l.split(',').next().unwrap_or("").to_owned()).collect();

    let t0 = Instant::now();
    let request = submit(&c, &o, &format!("chaos-{n}"), inventory).await?;
    let id = request.report_id.clone();
    eprintln!("chaos: report {id}, {n} targets ({HUNG} hang)");
    let mut rng = Rng(t0.elapsed().as_nanos() as u64 | 1);
    let mut kills: BTreeMap<String, usize> = BTreeMap::new();
    let (mut duplicate_jobs, mut duplicate_finalizes) = (0usize, 0usize);
    let mut next_kill = Instant::now() + Duration::from_secs(3);
    let (mut redriven, mut last_progress, mut last_completed) = (0usize, Instant::now(), 0u64);
    let run = loop {
        if t0.elapsed() > DEADLINE {
            bail!("report {id} not written within {DEADLINE:?}");
        }
        let run = runs.get_run(&id).await?;
        if let Some(run) = run.as_ref().filter(|r| r.reported_version >= 1) {
            break run.clone();
        }
        if let Some(run) = &run {
            // Duplicates of genuine jobs (version 1), a few at a time.
            for _ in 0..3 {
                if duplicate_jobs >= MAX_DUPLICATE_JOBS {
                    break;
                }
                let job = CollectionJob {
                    schema_version: CollectionJob::SCHEMA_VERSION,
                    report_id: id.clone(),
                    target_id: ids[rng.below(ids.len())].clone(),
                    version: 1,
                };
                let body = String::from_utf8(dbadmin_contracts::encode(&job))?;
                c.sqs.send_message().queue_url(output(&o, "collect_queue_url")?).message_body(body).send().await?;
                duplicate_jobs += 1;
            }
            if run.completed >= run.total {
                let message =
                    FinalizeMessage { schema_version: FinalizeMessage::SCHEMA_VERSION, report_id: id.clone() };
                let body = String::from_utf8(dbadmin_contracts::encode(&message))?;
                c.sqs.send_message().queue_url(output(&o, "finalize_queue_url")?).message_body(body).send().await?;
                duplicate_finalizes += 1;
            }
        }
        let completed = run.as_ref().map_or(0, |r| r.completed);
        if completed != last_completed {
            (last_completed, last_progress) = (completed, Instant::now());
        }
        let killed = |suffix: &str| kills.iter().filter(|(f, _)| f.ends_with(suffix)).map(|(_, n)| n).sum::<usize>();
        let chaos_over = killed("-collector") >= MAX_COLLECTOR_KILLS;
        if chaos_over && last_progress.elapsed() > QUIET_BEFORE_REDRIVE {
            for (dlq, queue) in [("collect_dlq_url", "collect_queue_url"), ("finalize_dlq_url", "finalize_queue_url")] {
                redriven += redrive(&c, output(&o, dlq)?, output(&o, queue)?).await?;
            }
            eprintln!("chaos: no progress for {QUIET_BEFORE_REDRIVE:?}; redrove {redriven} DLQ messages so far");
            last_progress = Instant::now();
        }
        // Once every target is counted, the reporter is the one to kill (when it is running).
        let finalizing = run.as_ref().is_some_and(|r| r.completed >= r.total);
        let victim = if finalizing { "-reporter" } else { "-collector" };
        let budget = if finalizing { MAX_REPORTER_KILLS } else { MAX_COLLECTOR_KILLS };
        if Instant::now() >= next_kill && killed(victim) < budget {
            let mut processes = lambda_processes();
            processes.retain(|(_, f)| f.ends_with(victim));
            if !processes.is_empty() {
                let (pid, function) = &processes[rng.below(processes.len())];
                // SAFETY: kill(2) with a pid read from /proc; a pid that ended meanwhile gets ESRCH.
                if unsafe { libc::kill(*pid, libc::SIGKILL) } == 0 {
                    *kills.entry(function.clone()).or_default() += 1;
                }
                next_kill = Instant::now() + Duration::from_millis(500 + rng.below(1500) as u64);
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let wall = t0.elapsed();
    eprintln!("chaos: report written after {:.0} s; checking it", wall.as_secs_f64());

    // One report version, nothing abandoned.
    ensure!(
        run.version == 1 && run.reported_version == 1,
        "versions: run {} reported {}",
        run.version,
        run.reported_version
    );
    let csv_uri = run.report_location.clone().context("the run records no report location")?;
    let (bucket, csv_key) = csv_uri.trim_start_matches("s3://").split_once('/').context("an s3:// location")?;
    let get = |key: String| {
        let c = &c;
        async move {
            let out = c.s3.get_object().bucket(bucket).key(&key).send().await.with_context(|| key.clone())?;
            anyhow::Ok(out.body.collect().await?.into_bytes().to_vec())
        }
    };
    let folder = csv_key.rsplit_once('/').map(|(f, _)| f).unwrap_or("");
    let manifest: serde_json::Value = serde_json::from_slice(&get(format!("{folder}/manifest.json")).await?)?;
    let abandoned = manifest["abandoned"].as_array().map(Vec::len).unwrap_or(0);
    ensure!(abandoned == 0, "the manifest lists {abandoned} abandoned versions");
    let listed =
        c.s3.list_objects_v2()
            .bucket(bucket)
            .prefix(folder.rsplit_once('/').map(|(f, _)| f).unwrap_or(folder))
            .send()
            .await?;
    let versions: BTreeSet<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .filter(|k| k.contains(&id))
        .filter_map(|k| k.rsplit('/').nth(1).map(str::to_owned))
        .collect();
    ensure!(versions.len() == 1, "report folders of {id}: {versions:?}");

    // Exactly N outcomes; the counts agree.
    let csv = get(csv_key.to_owned()).await?;
    let mut reader = csv::ReaderBuilder::new().from_reader(csv.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&csv));
    let headers = reader.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name).with_context(|| format!("column {name}"));
    let (db, status, kind) = (col("Database Name")?, col("Collection Status")?, col("Error Kind")?);
    let (mut targets, mut errors, mut error_rows, mut missing) = (BTreeSet::new(), BTreeSet::new(), 0usize, 0usize);
    for record in reader.records() {
        let record = record?;
        targets.insert(record[db].to_owned());
        if &record[status] == "ERROR" {
            errors.insert(record[db].to_owned());
            error_rows += 1;
            missing += usize::from(&record[kind] == "missing_result");
        }
    }
    let expected: BTreeSet<String> = ids.iter().cloned().collect();
    ensure!(targets == expected, "{} targets in the report, {} expected", targets.len(), expected.len());
    ensure!(error_rows == errors.len(), "{error_rows} error rows for {} targets", errors.len());
    ensure!(missing == 0, "{missing} targets have no result");
    ensure!((0..HUNG).all(|i| errors.contains(&format!("chaos-hung-{i}"))), "every hung target is an error row");
    ensure!(run.completed == n as u64 && run.total == n as u64, "run counts {} of {}", run.completed, run.total);
    ensure!(run.failed == errors.len() as u64, "run failed {} but {} error targets", run.failed, errors.len());

    // Nothing in a DLQ the report does not account for.
    let mut dead = 0usize;
    for queue in ["collect_dlq_url", "finalize_dlq_url", "requests_dlq_url"] {
        for body in dlq_bodies(&c, output(&o, queue)?, &id).await? {
            dead += 1;
            // A job of a target the report has rows for, or a finalize of the written report.
            let job = dbadmin_contracts::decode::<CollectionJob>(body.as_bytes()).ok();
            let finalize = dbadmin_contracts::decode::<FinalizeMessage>(body.as_bytes()).ok();
            let accounted = job.is_some_and(|j| targets.contains(&j.target_id)) || finalize.is_some();
            ensure!(accounted, "{queue} holds a message the report does not account for: {body}");
        }
    }

    let result = serde_json::json!({
        "n": n,
        "hung_targets": HUNG,
        "report_id": id,
        "kills": kills,
        "kills_total": kills.values().sum::<usize>(),
        "duplicate_jobs_injected": duplicate_jobs,
        "duplicate_finalizes_injected": duplicate_finalizes,
        "dlq_messages_redriven_by_the_soak": redriven,
        "wall_s": (wall.as_secs_f64() * 10.0).round() / 10.0,
        "error_targets": errors.len(),
        "dlq_messages_of_the_report": dead,
        "checked": "one version, none abandoned; N targets each with rows or one error row; run counts = report; DLQ accounted",
    });
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}
