//! The CLI as its users run it: the built binary against the deployment on MiniStack
//! (scripts/aws-local.sh up) and the local databases, happy and unhappy paths.

use crate::support::{self, cli, Run};
use dbadmin_aws::dynamo::DynamoRunStore;
use dbadmin_aws::s3::S3Store;
use dbadmin_aws::Clients;
use dbadmin_contracts::message::Population;
use dbadmin_contracts::{keys, CollectionJob, Engine, Filters, Inventory, ReportRequest, Versioned};
use dbadmin_ports::{ObjectStore, RunRecord, RunRecords};
use std::time::{Duration, Instant};

struct Env {
    o: serde_json::Value,
    c: Clients,
}

impl Env {
    async fn new() -> Env {
        let o = support::aws_outputs();
        // Set-up and read-back as the account's root; the CLI runs as the operator.
        Env { o, c: support::admin_clients().await }
    }

    fn s(&self, key: &str) -> String {
        self.o[key].as_str().unwrap().to_owned()
    }

    fn run(&self, args: &[&str]) -> Run {
        cli(&self.o, args, &[])
    }

    fn store(&self) -> S3Store {
        S3Store::new(self.c.s3.clone(), self.s("bucket"), None)
    }

    fn runs(&self) -> DynamoRunStore {
        DynamoRunStore::new(self.c.dynamodb.clone(), self.s("table"))
    }

    async fn put_inventory(&self, name: &str, body: &str) -> String {
        let key = format!("inventory/{name}");
        // An inventory is not evidence: a plain (overwriting) put, by its one writer.
        let body = aws_sdk_s3::primitives::ByteStream::from(body.as_bytes().to_vec());
        support::writer_clients(&self.o, &self.c)
            .s3
            .put_object()
            .bucket(self.s("bucket"))
            .key(&key)
            .body(body)
            .send()
            .await
            .unwrap();
        format!("s3://{}/{key}", self.s("bucket"))
    }

    async fn demo_inventory(&self) -> (String, Inventory) {
        let uri = self.s("inventory_uri");
        let key = uri.strip_prefix(&format!("s3://{}/", self.s("bucket"))).unwrap().to_owned();
        let bytes = self.store().get(&key).await.unwrap().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        (text, Inventory::parse(&uri, &bytes).unwrap())
    }
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn generate_waits_then_download_verify_list_status_and_diff() {
    let e = Env::new().await;
    let inventory = e.s("inventory_uri");
    let generate = e.run(&["generate", "--inventory", &inventory, "--output", "json"]);
    assert_eq!(generate.code, 3, "partial: the demo's unreachable database is an error row: {generate:?}");
    let out = generate.json();
    let id = out["report_id"].as_str().unwrap().to_owned();
    assert_eq!((out["version"].as_u64(), out["total"].as_u64(), out["failed"].as_u64()), (Some(1), Some(4), Some(1)));
    assert!(out["report"].as_str().unwrap().ends_with(&format!("{id}/v1/report.csv")), "{out}");
    assert!(out["tls_warning"].is_null(), "every demo database is read with verify-full: {out}");

    // The manifest records who asked, as STS knows them. An auditor (read-only policy) downloads it.
    let dir = tmp();
    let download = support::cli_as_auditor(&e.o, &["download", &id, "--out", dir.path().to_str().unwrap()]);
    assert_eq!(download.code, 0, "{download:?}");
    assert!(
        download.stdout.contains("ok       report.csv") && download.stdout.trim_end().ends_with(": ok"),
        "{download:?}"
    );
    let folder = dir.path().join(&id).join("v1");
    support::assert_demo_golden(&std::fs::read(folder.join("report.csv")).unwrap());
    // Run data is not the auditor's: `status` is refused, naming the action and the object (a
    // refused read is never taken for a missing object).
    let refused = support::cli_as_auditor(&e.o, &["status", &id]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("s3:GetObject s3://") && refused.stderr.contains("/population.json"),
        "{refused:?}"
    );
    assert!(refused.stderr.contains("AccessDenied"), "{refused:?}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    // Who asked is SQS's record of the sender (the emulator reports the account id); the CLI's
    // claim, the caller's ARN as STS knows it, is kept beside it.
    assert_eq!(manifest["requested_by"], "000000000000", "{manifest}");
    assert!(manifest["requested_by_claimed"].as_str().unwrap().starts_with("arn:aws:"), "{manifest}");

    // The auditor's check, offline: the exported public key verifies the signed manifest.
    let pem = dir.path().join("signing-key.pub.pem");
    let export = support::cli_as_auditor(&e.o, &["key", "export", "--out", pem.to_str().unwrap()]);
    assert_eq!(export.code, 0, "{export:?}");
    assert!(std::fs::read_to_string(&pem).unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    let verify = |e: &Env| e.run(&["verify", folder.to_str().unwrap(), "--public-key", pem.to_str().unwrap()]);
    let ok = verify(&e);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(ok.stdout.contains("ok       signature") && ok.stdout.contains(&e.s("signing_key_arn")), "{ok:?}");

    // One changed byte in an artifact, the manifest or the signature fails, naming what failed.
    for (name, failure) in [
        ("report.csv", "MISMATCH report.csv"),
        ("manifest.json", "FAILED   signature"),
        ("manifest.sig.json", "FAILED   signature"),
    ] {
        let path = folder.join(name);
        let original = std::fs::read(&path).unwrap();
        let mut bent = original.clone();
        let at = bent.iter().rposition(|b| b.is_ascii_hexdigit() || b.is_ascii_digit()).unwrap();
        bent[at] = if bent[at] == b'0' { b'1' } else { b'0' };
        std::fs::write(&path, &bent).unwrap();
        let tampered = verify(&e);
        assert_eq!(tampered.code, 1, "{name}: {tampered:?}");
        assert!(tampered.stdout.contains(failure), "{name}: {tampered:?}");
        std::fs::write(&path, original).unwrap();
    }
    assert_eq!(verify(&e).code, 0, "restored");

    let list = e.run(&["list", "--limit", "1000", "--output", "json"]);
    assert_eq!(list.code, 0, "{list:?}");
    let mine = list.json().as_array().unwrap().iter().find(|r| r["report_id"] == id.as_str()).cloned().expect("listed");
    assert_eq!(mine["state"], "complete");

    let status = e.run(&["status", &id, "--output", "json"]);
    assert_eq!(status.code, 3, "{status:?}");
    let s = status.json();
    assert_eq!(
        (s["state"].as_str(), s["completed"].as_u64(), s["failed"].as_u64()),
        (Some("complete"), Some(4), Some(1))
    );
    assert_eq!(s["failed_targets"][0]["target_id"], "demo-unreachable");
    assert_eq!(s["failed_targets"][0]["error_kind"], "unreachable");
    assert_eq!(s["missing"].as_array().unwrap().len(), 0);
    let text = e.run(&["status", &id]);
    assert!(text.stdout.contains("4 of 4 databases done, 1 with errors"), "{text:?}");

    // The same report against its own download (JSON): nothing changed, one database not comparable.
    let diff = e.run(&["diff", &id, folder.to_str().unwrap(), "--output", "json"]);
    assert_eq!(diff.code, 0, "{diff:?}");
    let d = diff.json();
    assert_eq!(d["counts"], serde_json::json!({"not_comparable": 1}), "{d}");
}

/// On AWS the baseline sits next to the inventory in S3; the publisher Lambda reads it into the
/// population and the signed manifest names it. A local path or an invalid baseline is refused
/// before anything is requested.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn a_baseline_in_s3_gives_every_admin_row_its_review_status() {
    let e = Env::new().await;
    let tag = ulid::Ulid::new();
    let text = "account_id,database,principal,approved_by,ticket,expires\n\
        111122223333,demo-mariadb,fx_all@localhost,Carol (CISO),SEC-101,\n\
        444455556666,*,postgres,Platform team,SEC-7,2020-01-31\n";
    let baseline = e.put_inventory(&format!("baseline-{tag}.csv"), text).await;
    let inventory = e.s("inventory_uri");

    let local_path = e.run(&["generate", "--inventory", &inventory, "--baseline", "baseline.csv"]);
    assert_eq!(local_path.code, 1, "{local_path:?}");
    assert!(local_path.stderr.contains("the baseline must be an s3://bucket/key URI"), "{local_path:?}");
    let bad = e.put_inventory(&format!("bad-baseline-{tag}.csv"), "account_id,database,principal\n1,a,b\n").await;
    let refused = e.run(&["generate", "--inventory", &inventory, "--baseline", &bad]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("field 'approved_by': required column is missing"), "{refused:?}");
    assert!(!refused.stderr.contains("Requested report"), "nothing may be requested: {refused:?}");

    let run = e.run(&["generate", "--inventory", &inventory, "--baseline", &baseline, "--output", "json"]);
    assert_eq!(run.code, 3, "the demo's unreachable database: {run:?}");
    let out = run.json();
    assert_eq!(out["baseline"]["source"], baseline.as_str(), "{out}");
    assert_eq!(out["baseline"]["sha256"], dbadmin_contracts::sha256_hex(text.as_bytes()), "{out}");

    let id = out["report_id"].as_str().unwrap();
    let dir = tmp();
    let download = e.run(&["download", id, "--out", dir.path().to_str().unwrap()]);
    assert_eq!(download.code, 0, "{download:?}");
    let csv = std::fs::read(dir.path().join(id).join("v1/report.csv")).unwrap();
    let rows = dbadmin_reporter::render::from_csv(&csv).unwrap();
    let fx_all = rows.iter().find(|r| r.username == "fx_all" && r.database_name == "demo-mariadb").unwrap();
    assert_eq!((fx_all.review_status.as_str(), fx_all.approval_ticket.as_str()), ("APPROVED", "SEC-101"));
    let postgres = rows.iter().find(|r| r.username == "postgres" && r.database_name == "demo-postgres").unwrap();
    assert_eq!(postgres.review_status, "APPROVAL_EXPIRED");
    // The manifest's counts are the report's principal rows per status.
    for status in ["APPROVED", "APPROVAL_EXPIRED", "UNAPPROVED"] {
        let rows = rows.iter().filter(|r| r.review_status == status).count() as u64;
        assert!(rows > 0, "{status}");
        assert_eq!(out["baseline"]["review_counts"][status], rows, "{status}: {out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn retry_recollects_failed_targets_into_the_next_version() {
    let e = Env::new().await;
    let tag = ulid::Ulid::new().to_string().to_lowercase();
    let secret = format!("db-admin-report/retry-{tag}");
    // One MariaDB database whose login secret does not exist yet: an error row. It is read with
    // tls=require (encrypted, server not verified), which the summary must say.
    let (text, _) = e.demo_inventory().await;
    let header = text.lines().find(|l| l.starts_with("id,")).unwrap();
    let row = text.lines().find(|l| l.starts_with("demo-mariadb,")).unwrap();
    let row = row
        .replacen("demo-mariadb,", &format!("retry-{tag},"), 1)
        .replace(",demo/mariadb,", &format!(",{secret},"))
        .replace(",verify-full", ",require");
    assert!(row.contains(",require"), "{row}");
    let uri = e.put_inventory(&format!("retry-{tag}.csv"), &format!("{header}\n{row}\n")).await;

    let first = e.run(&["generate", "--inventory", &uri, "--output", "json"]);
    assert_eq!(first.code, 3, "{first:?}");
    let warning = first.json()["tls_warning"].as_str().unwrap_or_default().to_owned();
    assert!(warning.contains("1 with tls=require"), "{first:?}");
    let id = first.json()["report_id"].as_str().unwrap().to_owned();
    let status = e.run(&["status", &id, "--output", "json"]).json();
    assert_eq!(status["failed_targets"][0]["error_kind"], "credentials", "{status}");

    // The target account's owner fixes the secret, then the operator retries only what failed.
    // A secret lives in its target's account and region (the row's: 111122223333, eu-west-1).
    let secrets = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(&e.c.sdk)
            .region(aws_sdk_secretsmanager::config::Region::new("eu-west-1"))
            .credentials_provider(account_root("111122223333"))
            .build(),
    );
    let value = secrets.get_secret_value().secret_id("demo/mariadb").send().await.unwrap();
    secrets.create_secret().name(&secret).secret_string(value.secret_string().unwrap()).send().await.unwrap();
    let retry = e.run(&["retry", &id, "--output", "json"]);
    assert_eq!(retry.code, 0, "{retry:?}");
    let out = retry.json();
    assert_eq!((out["version"].as_u64(), out["failed"].as_u64(), out["total"].as_u64()), (Some(2), Some(0), Some(1)));
    assert!(out["report"].as_str().unwrap().ends_with("/v2/report.csv"), "{out}");

    // Both versions stay; v2 names the one it supersedes; the retry is kept for the audit trail.
    let dir = tmp();
    for v in ["1", "2"] {
        let d = e.run(&["download", &id, "--version", v, "--out", dir.path().to_str().unwrap()]);
        assert_eq!(d.code, 0, "{d:?}");
    }
    let v2 = dir.path().join(&id).join("v2");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(v2.join("manifest.json")).unwrap()).unwrap();
    assert_eq!((manifest["version"].as_u64(), manifest["supersedes"].as_u64()), (Some(2), Some(1)));
    assert_eq!(manifest["status_counts"]["OK"], 1, "{manifest}");
    assert!(e.store().get(&keys::retry_request(&id, 2)).await.unwrap().is_some());
    let v1 = dir.path().join(&id).join("v1");
    let diff = e.run(&["diff", v1.to_str().unwrap(), v2.to_str().unwrap(), "--output", "json"]).json();
    assert_eq!(diff["counts"], serde_json::json!({"not_comparable": 1}), "v1 could not read it: {diff}");
    let csv_diff = e.run(&["diff", v1.to_str().unwrap(), v2.to_str().unwrap(), "--format", "csv"]);
    assert!(csv_diff.stdout.starts_with("Change,Account ID,"), "{csv_diff:?}");

    // Counts stay exact, and there is nothing left to retry.
    let run = e.runs().get_run(&id).await.unwrap().unwrap();
    assert_eq!((run.completed, run.total, run.failed, run.version, run.reported_version), (1, 1, 0, 2, 2));
    let again = e.run(&["retry", &id]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("Nothing to retry"), "{again:?}");
}

/// A job whose report has no population snapshot (not published by this system, or its run was
/// lost) lands in the DLQ at once with the reason, recording nothing on any run; once the run exists
/// (restored), the operator sees the target as missing, redrives the job, is interrupted between
/// send and delete, redrives again, and the report still counts the target exactly once.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
#[allow(
    clippy::too_many_lines,
    reason = "one operator's session, in order: each command acts on the state the one before left"
)]
async fn dlq_list_status_of_a_running_report_and_an_interrupted_redrive() {
    let e = Env::new().await;
    let id = ulid::Ulid::new().to_string();
    let (_, inventory) = e.demo_inventory().await;
    let target = inventory.targets.iter().find(|t| t.engine == Engine::Mariadb).unwrap().clone();
    let job = CollectionJob {
        schema_version: CollectionJob::SCHEMA_VERSION,
        report_id: id.clone(),
        target_id: target.id.clone(),
        version: 1,
    };
    e.c.sqs
        .send_message()
        .queue_url(e.s("collect_queue_url"))
        .message_body(String::from_utf8(dbadmin_contracts::encode(&job)).unwrap())
        .send()
        .await
        .unwrap();

    let start = Instant::now();
    let listed = loop {
        let list = e.run(&["dlq", "list", "--output", "json"]);
        assert_eq!(list.code, 0, "{list:?}");
        if let Some(m) = list.json().as_array().unwrap().iter().find(|m| m["report_id"] == id.as_str()) {
            break m.clone();
        }
        assert!(start.elapsed() < Duration::from_secs(200), "the job never reached the DLQ");
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert_eq!(listed["target_id"], target.id.as_str());
    assert!(listed["last_error"].as_str().unwrap().contains("has no population snapshot"), "{listed}");

    // The run appears (as if the table had been restored): one target, still running.
    let request = ReportRequest {
        schema_version: ReportRequest::SCHEMA_VERSION,
        report_id: id.clone(),
        requested_by: "arn:aws:iam::000000000000:user/e2e".into(),
        requested_at: dbadmin_contracts::now_rfc3339(),
        inventory: e.s("inventory_uri"),
        filters: Filters::default(),
        output_format: Default::default(),
        retry: None,
        discovery: None,
        baseline: None,
    };
    let population = Population {
        schema_version: Population::SCHEMA_VERSION,
        report_id: id.clone(),
        inventory_source: e.s("inventory_uri"),
        inventory_sha256: inventory.sha256.clone(),
        filters: Filters::default(),
        targets: vec![target.clone()],
        baseline: None,
    };
    let received = dbadmin_contracts::ReceivedRequest {
        schema_version: dbadmin_contracts::ReceivedRequest::SCHEMA_VERSION,
        request: request.clone(),
        received: dbadmin_contracts::Provenance {
            sender: "000000000000".into(),
            sent_at: request.requested_at.clone(),
            message_id: ulid::Ulid::new().to_string(),
        },
    };
    let store = e.store();
    let _ = store.put(&keys::request(&id), dbadmin_contracts::encode(&received), "application/json").await.unwrap();
    let _ =
        store.put(&keys::population(&id), dbadmin_contracts::encode(&population), "application/json").await.unwrap();
    let record = RunRecord::new(id.clone(), request.requested_by.clone(), request.requested_at.clone(), 1);
    assert!(e.runs().create_run(&record).await.unwrap());

    // Another test's `dlq list` may hold the message for a moment: look again until it is seen.
    let start = Instant::now();
    let s = loop {
        let status = e.run(&["status", &id, "--output", "json"]);
        assert_eq!(status.code, 4, "still running: {status:?}");
        let s = status.json();
        if s["dlq_messages"] == 1 {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "status never counted the DLQ message: {s}");
    };
    assert_eq!(s["state"], "running");
    assert_eq!(s["missing"][0]["target_id"], target.id.as_str());
    assert!(s["missing"][0]["last_error"].is_null(), "a job outside any population records nothing: {s}");
    let retry = e.run(&["retry", &id]);
    assert_eq!(retry.code, 4, "{retry:?}");
    assert!(retry.stderr.contains("is running (0 of 1 done)"), "{retry:?}");
    let download = e.run(&["download", &id, "--out", tmp().path().to_str().unwrap()]);
    assert_eq!(download.code, 4, "{download:?}");

    // Interrupted after sending, before deleting: the message is in both queues.
    let start = Instant::now();
    loop {
        let dry = e.run(&["dlq", "redrive", "--report", &id, "--dry-run", "--output", "json"]);
        if dry.json()["moved"].as_array().unwrap().len() == 1 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "the dry run never saw the message: {dry:?}");
    }
    let start = Instant::now();
    loop {
        let interrupted = cli(
            &e.o,
            &["dlq", "redrive", "--report", &id, "--visibility-timeout", "2"],
            &[("DBADMIN_FAULT", "redrive-after-send")],
        );
        if interrupted.code == 70 {
            break;
        }
        assert_eq!(interrupted.code, 0, "{interrupted:?}");
        // Other tests' `status` and `dlq list` hold DLQ messages for a moment while they read them.
        assert!(start.elapsed() < Duration::from_secs(60), "the redrive never saw the message: {interrupted:?}");
    }

    let start = Instant::now();
    let run = loop {
        let run = e.runs().get_run(&id).await.unwrap().unwrap();
        if run.reported_version >= 1 {
            break run;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "the redriven job never completed the report");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!((run.completed, run.total), (1, 1));

    // The message reappears in the DLQ; redriving it again delivers a harmless duplicate.
    let start = Instant::now();
    loop {
        let redrive = e.run(&["dlq", "redrive", "--report", &id, "--output", "json"]);
        assert_eq!(redrive.code, 0, "{redrive:?}");
        if redrive.json()["moved"].as_array().unwrap().len() == 1 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "the interrupted message never reappeared");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let list = e.run(&["dlq", "list", "--output", "json"]);
    assert!(!list.json().as_array().unwrap().iter().any(|m| m["report_id"] == id.as_str()), "{list:?}");
    // The duplicate is consumed and counted nowhere: watched for a few seconds, nothing moves.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        let run = e.runs().get_run(&id).await.unwrap().unwrap();
        assert_eq!((run.completed, run.reported_version), (1, 1), "a duplicate must not count or re-finalize");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
#[allow(clippy::too_many_lines, reason = "a table of unhappy paths against one deployment, each a few lines")]
async fn unhappy_paths_say_what_is_wrong_in_one_line() {
    let e = Env::new().await;
    // Unknown report id.
    let unknown = e.run(&["status", "01NOSUCHREPORT0000000000000"]);
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert!(unknown.stderr.starts_with("error: no report with id 01NOSUCHREPORT"), "{unknown:?}");
    assert_eq!(unknown.stderr.lines().count(), 1, "one line, no backtrace: {unknown:?}");

    // A malformed inventory: every problem with its line; nothing is requested.
    let tag = ulid::Ulid::new();
    let bad = e
        .put_inventory(
            &format!("bad-{tag}.csv"),
            "id,account_id,region,engine,host,port,secret\na,12,eu-west-1,mysql,h,3306,s\nb,111122223333,eu-west-1,oracle,h,1521,s\n",
        )
        .await;
    let validate = e.run(&["inventory", "validate", &bad]);
    assert_eq!(validate.code, 1, "{validate:?}");
    assert!(
        validate.stderr.contains(":2: field 'account_id'") && validate.stderr.contains(":3: field 'engine'"),
        "{validate:?}"
    );
    let generate = e.run(&["generate", "--inventory", &bad]);
    assert_eq!(generate.code, 1, "{generate:?}");
    assert!(generate.stderr.contains(":2: field 'account_id'"), "{generate:?}");
    assert!(!generate.stderr.contains("Requested report"), "nothing may be requested: {generate:?}");
    let good = e.run(&["inventory", "validate", &e.s("inventory_uri"), "--output", "json"]);
    assert_eq!(good.json()["targets"], 4, "{good:?}");

    // A missing setting names the variable.
    let unset = cli(&e.o, &["list"], &[("DBADMIN_TABLE", "")]);
    assert_eq!(unset.code, 1);
    assert!(unset.stderr.contains("DBADMIN_TABLE is not set"), "{unset:?}");

    // The config file fills in what the environment does not set, and flags win over both.
    let dir = tmp();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("DBADMIN_TABLE = \"{}\"\n", e.s("table"))).unwrap();
    let from_file = cli(&e.o, &["list", "--config", config.to_str().unwrap()], &[("DBADMIN_TABLE", "")]);
    assert_eq!(from_file.code, 0, "{from_file:?}");
    let env_wins =
        cli(&e.o, &["list"], &[("DBADMIN_CONFIG", config.to_str().unwrap()), ("DBADMIN_TABLE", "no-such-table")]);
    assert_eq!(env_wins.code, 1, "the environment wins over the file: {env_wins:?}");
    // The operator may scan the deployment's table only: another one is refused before it is looked up.
    assert!(env_wins.stderr.contains("AccessDenied") && env_wins.stderr.contains("dynamodb:Scan"), "{env_wins:?}");
    let flag = cli(
        &e.o,
        &["list", "--table", &e.s("table")],
        &[("DBADMIN_CONFIG", config.to_str().unwrap()), ("DBADMIN_TABLE", "no-such-table")],
    );
    assert_eq!(flag.code, 0, "the flag wins: {flag:?}");
    std::fs::write(&config, "bucket = \"x\"\n").unwrap();
    let typo = cli(&e.o, &["list", "--config", config.to_str().unwrap()], &[]);
    assert_eq!(typo.code, 1);
    assert!(typo.stderr.contains("unknown setting 'bucket'"), "{typo:?}");

    // Expired credentials: a session that has run out is refused with a hint, before anything is sent.
    support::admin_python(
        &e.o,
        r#"
import boto3, json
iam = boto3.client("iam")
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]}
try:
    iam.create_role(RoleName="db-admin-report-cli-test", AssumeRolePolicyDocument=json.dumps(trust))
except iam.exceptions.EntityAlreadyExistsException:
    pass
"#,
    );
    let session =
        e.c.sts
            .assume_role()
            .role_arn("arn:aws:iam::000000000000:role/db-admin-report-cli-test")
            .role_session_name("expiring")
            .duration_seconds(1)
            .send()
            .await
            .unwrap();
    let creds = session.credentials().unwrap().clone();
    let expiry = std::time::SystemTime::try_from(*creds.expiration()).unwrap();
    // Wait out the session's own expiry time (a deadline, not a race; the wire format drops the
    // fraction of a second, hence the extra second).
    while std::time::SystemTime::now() <= expiry + Duration::from_millis(1200) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let expired = cli(
        &e.o,
        &["generate", "--inventory", &e.s("inventory_uri")],
        &[
            ("AWS_ACCESS_KEY_ID", creds.access_key_id()),
            ("AWS_SECRET_ACCESS_KEY", creds.secret_access_key()),
            ("AWS_SESSION_TOKEN", creds.session_token()),
        ],
    );
    assert_eq!(expired.code, 1, "{expired:?}");
    assert!(expired.stderr.contains("ExpiredToken"), "{expired:?}");
    assert!(expired.stderr.contains("hint: your AWS credentials have expired"), "{expired:?}");

    // The move task is offered; where the service lacks it (MiniStack), the error says so.
    let task = e.run(&["dlq", "redrive", "--move-task"]);
    if task.code != 0 {
        assert!(task.stderr.contains("sqs:StartMessageMoveTask"), "{task:?}");
        assert_eq!(task.stderr.lines().count(), 1, "{task:?}");
    }

    // Completions are generated for the shells people use.
    let bash = e.run(&["completions", "bash"]);
    assert!(bash.code == 0 && bash.stdout.contains("db-admin-report"), "{bash:?}");
}

/// A second MiniStack with IAM enforcement on (`AUTH=true`), stopped when dropped.
struct EnforcingStack {
    child: std::process::Child,
    endpoint: String,
    _dir: tempfile::TempDir,
}

impl Drop for EnforcingStack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn enforcing_stack(venv: &str) -> EnforcingStack {
    let dir = tmp();
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(dir.path().join("ministack.log")).unwrap();
    let child = std::process::Command::new(format!("{venv}/bin/ministack"))
        .current_dir(dir.path())
        .env("GATEWAY_PORT", port.to_string())
        .env("BIND_HOST", "127.0.0.1")
        .env("AUTH", "true")
        .env("AWS_ENDPOINT_URL", &endpoint)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start MiniStack");
    let stack = EnforcingStack { child, endpoint, _dir: dir };
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(30), "MiniStack (AUTH=true) did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    stack
}

/// With IAM enforced, an identity without the CLI's policy gets a one-line AccessDenied naming the
/// action, and a hint pointing at the policy it needs.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn missing_permissions_are_named_with_a_hint() {
    let e = Env::new().await;
    let Ok(venv) = std::env::var("DBADMIN_MINISTACK_VENV") else {
        panic!("DBADMIN_MINISTACK_VENV is not set (export scripts/aws-local.sh env)");
    };
    let stack = enforcing_stack(&venv);
    // As the account's root: a bucket with an inventory, and a user with no policy at all.
    let setup = format!(
        r#"
import boto3, json, time
kw = dict(endpoint_url="{ep}", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
for _ in range(100):
    try:
        boto3.client("sts", **kw).get_caller_identity(); break
    except Exception:
        time.sleep(0.1)
s3 = boto3.client("s3", **kw)
s3.create_bucket(Bucket="evidence")
s3.put_object(Bucket="evidence", Key="inventory/x.csv", Body=b"id,account_id,region,engine,host,port,secret\na,111122223333,eu-west-1,mysql,h,3306,s\n")
iam = boto3.client("iam", **kw)
iam.create_user(UserName="no-policy")
key = iam.create_access_key(UserName="no-policy")["AccessKey"]
print(json.dumps([key["AccessKeyId"], key["SecretAccessKey"]]))
"#,
        ep = stack.endpoint
    );
    let out = std::process::Command::new(format!("{venv}/bin/python")).args(["-c", &setup]).output().unwrap();
    assert!(out.status.success(), "setup failed: {}", String::from_utf8_lossy(&out.stderr));
    let keys: (String, String) = serde_json::from_slice(&out.stdout).unwrap();
    let denied = cli(
        &e.o,
        &["inventory", "validate", "s3://evidence/inventory/x.csv"],
        &[
            ("AWS_ENDPOINT_URL", &stack.endpoint),
            ("AWS_ACCESS_KEY_ID", &keys.0),
            ("AWS_SECRET_ACCESS_KEY", &keys.1),
            ("AWS_SESSION_TOKEN", ""),
        ],
    );
    assert_eq!(denied.code, 1, "{denied:?}");
    assert!(denied.stderr.contains("AccessDenied"), "{denied:?}");
    assert!(denied.stderr.contains("hint: the AWS identity lacks a permission"), "{denied:?}");
    assert_eq!(denied.stderr.lines().count(), 2, "the error and its hint: {denied:?}");
    // The root of the same account reads it: the denial was IAM's, not a missing object.
    let allowed = cli(
        &e.o,
        &["inventory", "validate", "s3://evidence/inventory/x.csv"],
        &[("AWS_ENDPOINT_URL", &stack.endpoint)],
    );
    assert_eq!(allowed.code, 0, "{allowed:?}");
}

/// Inventories and baselines are roots of trust with one writer: a principal whose IAM policy
/// allows every S3 action on the bucket is refused `inventory/*` by the bucket policy (while it may
/// write elsewhere, so the refusal is the bucket's), and the deployment's inventory writer is not.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn only_the_inventory_writer_writes_inventories() {
    let e = Env::new().await;
    let code = format!(
        r#"
import boto3, json, os
iam = boto3.client("iam")
user = "broad-s3-{run}"
iam.create_user(UserName=user)
iam.put_user_policy(UserName=user, PolicyName="all-s3", PolicyDocument=json.dumps({{"Version": "2012-10-17", "Statement": [
    {{"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::{bucket}", "arn:aws:s3:::{bucket}/*"]}},
    {{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}}]}}))
key = iam.create_access_key(UserName=user)["AccessKey"]
s3 = boto3.client("s3", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
out = {{}}
for k in ("inventory/forged.csv", "scratch/anything.txt"):
    try:
        s3.put_object(Bucket="{bucket}", Key=k, Body=b"id")
        out[k] = "written"
    except Exception as e:
        out[k] = e.response["Error"]["Code"]
try:
    s3.delete_object(Bucket="{bucket}", Key="{inventory}")
    out["delete"] = "deleted"
except Exception as e:
    out["delete"] = e.response["Error"]["Code"]
print(json.dumps(out))
"#,
        bucket = e.s("bucket"),
        inventory = e.s("inventory_uri").rsplit_once(&format!("{}/", e.s("bucket"))).unwrap().1,
        // A user of its own per run: the deployment outlives one run of the tests.
        run = ulid::Ulid::new().to_string().to_lowercase(),
    );
    let out: serde_json::Value = serde_json::from_str(support::admin_python(&e.o, &code).trim()).unwrap();
    assert_eq!(out["inventory/forged.csv"], "AccessDenied", "{out}");
    assert_eq!(out["delete"], "AccessDenied", "{out}");
    assert_eq!(out["scratch/anything.txt"], "written", "IAM allowed it; the bucket policy refused inventory/: {out}");
    // The writer writes (put_inventory fails the test otherwise), and what it wrote is there.
    let body = "id,account_id,region,engine,host,port,secret\n";
    e.put_inventory("writer.csv", body).await;
    assert_eq!(e.store().get("inventory/writer.csv").await.unwrap().as_deref(), Some(body.as_bytes()));
}

/// Deployed as declared: the same deployment onto its own MiniStack (AUTH=true), its collector's
/// role without the `Results` statement (s3:PutObject on runs/*/results/*). The collector reads the
/// databases but cannot store what it read: the report does not complete, and what the operator
/// sees of the stuck jobs names the refused action.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn a_role_without_one_statement_fails_the_deployed_run_naming_the_action() {
    // The main deployment's Lambda binaries are deployed again.
    support::aws_outputs();
    let Ok(venv) = std::env::var("DBADMIN_MINISTACK_VENV") else {
        panic!("DBADMIN_MINISTACK_VENV is not set (export scripts/aws-local.sh env)");
    };
    let stack = enforcing_stack(&venv);
    let state = tmp();
    let outputs = std::path::PathBuf::from(std::env::var("DBADMIN_AWS_OUTPUTS").unwrap());
    let ca = std::env::var("DBADMIN_TEST_CA_FILE")
        .unwrap_or_else(|_| support::repo().join(".state/tls/ca.pem").display().to_string());
    let ports = format!(
        "{},{},{}",
        support::port("DBADMIN_TEST_MARIADB_PORT", 13306),
        support::port("DBADMIN_TEST_MYSQL_PORT", 13307),
        support::port("DBADMIN_TEST_PG_PORT", 15432)
    );
    let repo = support::repo();
    let deploy = std::process::Command::new(format!("{venv}/bin/python"))
        .arg(repo.join("scripts/aws_local_deploy.py"))
        .args(["--endpoint", &stack.endpoint, "--state", state.path().to_str().unwrap()])
        .args(["--binaries", outputs.parent().unwrap().join("bin").to_str().unwrap(), "--ca-file", &ca])
        .args(["--inventory", repo.join("examples/demo/inventory.csv").to_str().unwrap()])
        .args(["--secrets", repo.join("examples/demo/secrets.json").to_str().unwrap(), "--ports", &ports])
        .args(["--without", "collector:Results"])
        .output()
        .unwrap();
    assert!(deploy.status.success(), "deploy: {}", String::from_utf8_lossy(&deploy.stderr));
    let o: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.path().join("outputs.json")).unwrap()).unwrap();
    let operator = |k: &str| o["operator"][k].as_str().unwrap().to_owned();
    let (id_key, secret_key) = (operator("access_key_id"), operator("secret_access_key"));
    let as_operator = [
        ("AWS_ENDPOINT_URL", stack.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", id_key.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret_key.as_str()),
        ("AWS_SESSION_TOKEN", ""),
    ];
    let inventory = o["inventory_uri"].as_str().unwrap();
    let submitted = cli(&o, &["generate", "--inventory", inventory, "--no-wait", "--output", "json"], &as_operator);
    assert_eq!(submitted.code, 0, "{submitted:?}");
    let id = submitted.json()["report_id"].as_str().unwrap().to_owned();

    // Every target is read but none is stored: each one's recorded failure is the refusal.
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < Duration::from_secs(150), "the refused action was never named");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let status = cli(&o, &["status", &id, "--output", "json"], &as_operator);
        if status.code == 1 && status.stderr.contains("no report with id") {
            continue; // The publisher has not recorded the run yet.
        }
        assert_eq!(status.code, 4, "the report cannot complete: {status:?}");
        let s = status.json();
        let errors: Vec<&str> =
            s["missing"].as_array().unwrap().iter().filter_map(|t| t["last_error"]["error"].as_str()).collect();
        if errors.len() == 4 {
            for error in errors {
                assert!(error.contains("s3:PutObject s3://") && error.contains("/results/v1/"), "{error}");
                assert!(error.contains("AccessDenied"), "{error}");
            }
            break;
        }
    }
}

/// The root of `account` (MiniStack takes a 12-digit access key as the account).
fn account_root(account: &str) -> aws_sdk_rds::config::Credentials {
    aws_sdk_rds::config::Credentials::new(account, "test", None, None, "test-account")
}

/// An RDS client acting in `account` and `region`.
fn rds_in(e: &Env, account: &str, region: &str) -> aws_sdk_rds::Client {
    aws_sdk_rds::Client::from_conf(
        aws_sdk_rds::config::Builder::from(&e.c.sdk)
            .region(aws_sdk_rds::config::Region::new(region.to_owned()))
            .credentials_provider(account_root(account))
            .build(),
    )
}

/// Creates an instance (in `cluster` when given) unless it exists from an earlier run.
async fn instance(rds: &aws_sdk_rds::Client, id: &str, engine: &str, cluster: Option<&str>, port: Option<u16>) {
    let made = rds
        .create_db_instance()
        .db_instance_identifier(id)
        .engine(engine)
        .db_instance_class("db.t3.micro")
        .set_db_cluster_identifier(cluster.map(str::to_owned))
        .set_port(port.map(i32::from))
        .master_username("admin")
        .master_user_password("password1234")
        .allocated_storage(20)
        .send()
        .await;
    if let Err(e) = made {
        let text = format!("{:?}", e);
        assert!(text.contains("AlreadyExists"), "creating {id}: {text}");
    }
}

/// Completeness (issue 13): the deployed publisher lists every RDS database in the inventory's
/// two accounts and two regions through the target role and the reporter reconciles it with the
/// inventory in the signed evidence. One database is not in the inventory (a finding: exit 3), one
/// inventory entry has no database (NOT_FOUND), an Oracle instance is EXCLUDED, and a cluster is one
/// database however many members it has. `inventory discover` drafts an inventory of the same.
#[tokio::test]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
#[allow(
    clippy::too_many_lines,
    reason = "one estate built in RDS, then every reconciliation status checked against it"
)]
async fn discovery_reconciles_the_inventory_with_what_aws_lists() {
    let e = Env::new().await;
    let (a, b) = ("111122223333", "444455556666");
    // The demo inventory: demo-mariadb (a, eu-west-1), demo-mysql (a, us-east-1),
    // demo-postgres (b, eu-west-1), demo-unreachable (b, us-east-1). An entry is a discovered
    // database by its address, host and port: MiniStack's RDS gives every database the host
    // `localhost`, so the databases listen on the inventory's ports and the inventory below names
    // them `localhost` (the test servers' certificates name it too).
    let (_, demo) = e.demo_inventory().await;
    let port = |id: &str| demo.targets.iter().find(|t| t.id == id).map(|t| t.port);
    instance(&rds_in(&e, a, "eu-west-1"), "demo-mariadb", "mariadb", None, port("demo-mariadb")).await;
    let a_east = rds_in(&e, a, "us-east-1");
    let cluster = a_east
        .create_db_cluster()
        .db_cluster_identifier("demo-mysql")
        .set_port(port("demo-mysql").map(i32::from))
        .engine("aurora-mysql")
        .master_username("admin")
        .master_user_password("password1234")
        .send()
        .await;
    if let Err(err) = cluster {
        assert!(format!("{err:?}").contains("AlreadyExists"), "{err:?}");
    }
    instance(&a_east, "demo-mysql-1", "aurora-mysql", Some("demo-mysql"), None).await;
    instance(&a_east, "demo-mysql-2", "aurora-mysql", Some("demo-mysql"), None).await;
    let b_west = rds_in(&e, b, "eu-west-1");
    instance(&b_west, "demo-postgres", "postgres", None, port("demo-postgres")).await;
    instance(&b_west, "shadow-db", "postgres", None, None).await;
    instance(&b_west, "legacy-ora", "oracle-ee", None, None).await;

    let rows: String = demo
        .targets
        .iter()
        .map(|t| {
            let host = if t.id == "demo-unreachable" { t.host.as_str() } else { "localhost" };
            format!(
                "{},{},{},{},{},{},,{},,{},\n",
                t.id, t.account_id, t.region, t.engine, host, t.port, t.secret, t.tls
            )
        })
        .collect();
    let estate = format!("id,account_id,region,engine,host,port,databases,secret,role_arn,tls,tags\n{rows}");
    let key = "inventory/discovered-estate.csv";
    let _written_or_same = e.store().put(key, estate.clone().into_bytes(), "text/csv").await.unwrap();
    let inventory = format!("s3://{}/{key}", e.s("bucket"));
    let run = e.run(&["generate", "--inventory", &inventory, "--discover", "--output", "json"]);
    assert_eq!(run.code, 3, "a database missing from the inventory makes the report partial: {run:?}");
    let out = run.json();
    let counts = &out["reconciliation"]["counts"];
    assert_eq!(
        (&counts["IN_BOTH"], &counts["NOT_IN_INVENTORY"], &counts["NOT_FOUND"], &counts["EXCLUDED"]),
        (&serde_json::json!(3), &serde_json::json!(1), &serde_json::json!(1), &serde_json::json!(1)),
        "{out}"
    );
    assert!(counts.get("DISCOVERY_FAILED").is_none(), "{out}");
    assert!(out["reconciliation"]["finding"].as_str().unwrap().contains("1 database(s) exist in AWS"), "{out}");
    assert_eq!(out["reconciliation"]["scope"]["accounts"], serde_json::json!([a, b]));
    assert_eq!(out["reconciliation"]["scope"]["regions"], serde_json::json!(["eu-west-1", "us-east-1"]));

    // status shows the same from the manifest.
    let id = out["report_id"].as_str().unwrap().to_owned();
    let status = e.run(&["status", &id, "--output", "json"]);
    assert_eq!(status.code, 3, "{status:?}");
    assert_eq!(status.json()["reconciliation"]["counts"], *counts);

    // The rows are an artifact of the signed manifest; download verifies every artifact's digest.
    let dir = tmp();
    let download = e.run(&["download", &id, "--out", dir.path().to_str().unwrap()]);
    assert_eq!(download.code, 0, "{download:?}");
    let folder = dir.path().join(&id).join("v1");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["artifacts"].as_array().unwrap().iter().any(|a| a["name"] == "reconciliation.csv"), "{manifest}");
    assert_eq!(manifest["reconciliation"]["counts"], *counts);
    let csv = std::fs::read_to_string(folder.join("reconciliation.csv")).unwrap();
    let line = |needle: &str| {
        csv.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle} in {csv}")).to_owned()
    };
    assert!(line("shadow-db").starts_with("NOT_IN_INVENTORY,444455556666,eu-west-1,,shadow-db,"), "{csv}");
    assert!(line("demo-unreachable").starts_with("NOT_FOUND,444455556666,us-east-1,demo-unreachable,"), "{csv}");
    assert!(line("legacy-ora").starts_with("EXCLUDED,") && line("legacy-ora").contains("Oracle"), "{csv}");
    assert!(line(",demo-mysql,").starts_with("IN_BOTH,111122223333,us-east-1,demo-mysql,demo-mysql,"), "{csv}");
    assert!(!csv.contains("demo-mysql-1"), "a cluster's members are the cluster: {csv}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["reconciliation"].as_array().unwrap().len(), 6, "report.json carries the rows too");

    // The same from a bastion: `generate --local --discover` lists AWS from this process (through
    // the discovery role, which trusts the operator) and reconciles the local inventory the same way.
    let role = e.s("discovery_role_name");
    let external_id = e.s("external_id");
    let local_dir = tmp();
    let secrets = local_dir.path().join("secrets.json");
    std::fs::copy(support::repo().join("examples/demo/secrets.json"), &secrets).unwrap();
    std::fs::set_permissions(&secrets, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let inventory_file = local_dir.path().join("inventory.csv");
    std::fs::write(&inventory_file, &estate).unwrap();
    let ca = std::env::var("DBADMIN_TEST_CA_FILE")
        .unwrap_or_else(|_| support::repo().join(".state/tls/ca.pem").display().to_string());
    let local = cli(
        &e.o,
        &[
            "generate",
            "--local",
            "--discover",
            "--output",
            "json",
            "--inventory",
            inventory_file.to_str().unwrap(),
            "--secrets-file",
            secrets.to_str().unwrap(),
            "--tls-ca-file",
            &ca,
            "--connect-timeout",
            "3",
            "--out",
            local_dir.path().join("out").to_str().unwrap(),
        ],
        &[("DBADMIN_TARGET_ROLE_NAME", role.as_str()), ("DBADMIN_EXTERNAL_ID", external_id.as_str())],
    );
    assert_eq!(local.code, 3, "{local:?}");
    assert_eq!(local.json()["reconciliation"]["counts"], *counts, "{local:?}");

    // With --organization, the organization's accounts are listed too: a database in an account
    // the inventory never names is found.
    let orgs = aws_sdk_organizations::Client::new(&e.c.sdk);
    let made =
        orgs.create_account().email("dbadmin-test@example.com").account_name("dbadmin-test").send().await.unwrap();
    let extra = made.create_account_status().and_then(|s| s.account_id()).expect("an account id").to_owned();
    // The new account runs the target-account module: its discovery role trusts the publisher.
    support::add_target_account(&e.o, &extra);
    instance(&rds_in(&e, &extra, "eu-west-1"), "unlisted-db", "mysql", None, None).await;
    let org = e.run(&["generate", "--inventory", &inventory, "--discover", "--organization", "--output", "json"]);
    assert_eq!(org.code, 3, "{org:?}");
    let reconciled = &org.json()["reconciliation"];
    assert!(reconciled["scope"]["accounts"].as_array().unwrap().iter().any(|a| *a == extra.as_str()), "{reconciled}");
    assert!(reconciled["scope"]["organization"].as_bool().unwrap());
    assert!(reconciled["counts"]["NOT_IN_INVENTORY"].as_u64().unwrap() >= 2, "shadow-db and unlisted-db: {reconciled}");

    // A draft inventory of the same estate: every collected engine, the Oracle one as a comment.
    let draft = cli(
        &e.o,
        &["inventory", "discover", "--accounts", &format!("{a},{b}"), "--regions", "eu-west-1,us-east-1"],
        &[("DBADMIN_TARGET_ROLE_NAME", role.as_str()), ("DBADMIN_EXTERNAL_ID", external_id.as_str())],
    );
    assert_eq!(draft.code, 0, "{draft:?}");
    for id in ["demo-mariadb", "demo-mysql", "demo-postgres", "shadow-db"] {
        assert!(draft.stdout.lines().any(|l| l.starts_with(&format!("{id},"))), "{id} in {}", draft.stdout);
    }
    assert!(draft.stdout.contains("# excluded: legacy-ora (oracle-ee"), "{}", draft.stdout);
    let parsed = Inventory::parse("draft.csv", draft.stdout.as_bytes()).unwrap_err();
    assert!(
        parsed.issues.iter().all(|i| i.field.as_deref() == Some("secret")),
        "only the secrets are left to fill: {parsed}"
    );
}

/// Parameter Store inventories: `ssm:/name` holds the CSV (a SecureString here), `ssm:/path/` holds
/// one database per parameter as a JSON object. Both validate through the CLI with errors that
/// name the parameter and field, and a report of the per-database parameters runs end to end
/// through the deployed publisher.
#[tokio::test]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn inventories_are_read_from_parameter_store() {
    use aws_sdk_ssm::types::ParameterType;
    let e = Env::new().await;
    let ssm = &e.c.ssm;
    let tag = ulid::Ulid::new().to_string().to_lowercase();
    let (_, demo) = e.demo_inventory().await;
    // Under the path the publisher and the operator may read (Terraform's inventory_parameter_path).
    let root = format!("{}/test-{tag}", e.s("inventory_parameter_path"));
    let csv_name = format!("{root}/inventory.csv");
    let csv = format!(
        "id,account_id,region,engine,host,port,databases,secret,role_arn,tls,tags\n{}",
        demo.targets
            .iter()
            .map(|t| format!(
                "{},{},{},{},{},{},,{},,{},\n",
                t.id, t.account_id, t.region, t.engine, t.host, t.port, t.secret, t.tls
            ))
            .collect::<String>()
    );
    ssm.put_parameter().name(&csv_name).value(&csv).r#type(ParameterType::SecureString).send().await.unwrap();
    let one = e.run(&["inventory", "validate", &format!("ssm:{csv_name}"), "--output", "json"]);
    assert_eq!((one.code, &one.json()["targets"]), (0, &serde_json::json!(4)), "{one:?}");

    // One parameter per database, under a path (nested, to prove the listing is recursive).
    let path = format!("{root}/databases");
    for t in &demo.targets {
        let value = serde_json::json!({
            "id": t.id, "account_id": t.account_id, "region": t.region, "engine": t.engine.to_string(),
            "host": t.host, "port": t.port, "secret": t.secret, "tls": t.tls.to_string(),
        });
        let name = format!("{path}/{}/{}", t.account_id, t.id);
        ssm.put_parameter().name(name).value(value.to_string()).r#type(ParameterType::String).send().await.unwrap();
    }
    let uri = format!("ssm:{path}/");
    let generate = e.run(&["generate", "--inventory", &uri, "--output", "json"]);
    assert_eq!(generate.code, 3, "the demo's unreachable database is an error row: {generate:?}");
    let out = generate.json();
    assert_eq!((out["total"].as_u64(), out["failed"].as_u64()), (Some(4), Some(1)), "{out}");

    // A bad parameter is named with its field, and nothing is requested.
    ssm.put_parameter()
        .name(format!("{path}/broken"))
        .value(r#"{"id": "broken", "account_id": "12345", "port": 5432}"#)
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap();
    let refused = e.run(&["generate", "--inventory", &uri]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains(&format!("{path}/broken: field 'account_id'")), "{refused:?}");
    assert!(
        refused.stderr.contains(&format!("{path}/broken: field 'engine': required field is missing")),
        "{refused:?}"
    );
    assert!(!refused.stderr.contains("Requested report"), "{refused:?}");
}

/// Last Login Date on the deployed stack: the PostgreSQL demo database's log as RDS exports it to
/// CloudWatch Logs with `log_destination = csvlog`, in its target account's group
/// `/aws/rds/instance/demo-pg/postgresql`. The deployed collector reads it through the target role
/// (terraform/policies/target-login-logs.json): fx_super logged in two days ago (and mallory RAISEd
/// LOG the words of fx_createrole's login); the log reaches back 100 days, so fx_createrole is
/// NEVER IN WINDOW and the database is DORMANT_ADMIN.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
#[allow(
    clippy::too_many_lines,
    reason = "one deployed scenario: log events put, a report run, then its evidence checked"
)]
async fn last_logins_are_read_from_cloudwatch_logs_in_the_target_account() {
    let e = Env::new().await;
    let (_, demo) = e.demo_inventory().await;
    let pg = demo.targets.iter().find(|t| t.engine == Engine::Postgres).unwrap().clone();
    let now = time::OffsetDateTime::now_utc();
    let stamp = |t: time::OffsetDateTime| {
        let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        format!("{}.000 UTC", t.format(&f).unwrap())
    };
    let csv = |t: time::OffsetDateTime, user: &str, message: &str| {
        format!(
            "{},\"{user}\",\"postgres\",42,\"10.0.0.5:40000\",abc,2,\"authentication\",{},3/1,0,LOG,00000,\"{message}\",,,,,,,,,\"\",\"client backend\",,0",
            stamp(t),
            stamp(t)
        )
    };
    let (old, recent) = (now - time::Duration::days(100), now - time::Duration::days(2));
    let events = serde_json::json!([
        [old.unix_timestamp() * 1000, csv(old, "", "checkpoint starting: time")],
        [
            recent.unix_timestamp() * 1000,
            csv(recent, "fx_super", "connection authorized: user=fx_super database=postgres")
        ],
        [
            recent.unix_timestamp() * 1000,
            csv(recent, "mallory", "connection authorized: user=fx_createrole database=postgres")
        ],
    ]);
    // A database (identifier and log group) of its own per run: the deployment outlives one run.
    let db = format!("demo-pg-{}", ulid::Ulid::new().to_string().to_lowercase());
    let code = format!(
        r#"
import boto3, json
logs = boto3.client("logs", region_name="{region}", aws_access_key_id="{account}", aws_secret_access_key="test")
group = "/aws/rds/instance/{db}/postgresql"
try:
    logs.create_log_group(logGroupName=group)
except logs.exceptions.ResourceAlreadyExistsException:
    pass
stream = "{db}." + str({now_ms})
logs.create_log_stream(logGroupName=group, logStreamName=stream)
logs.put_log_events(logGroupName=group, logStreamName=stream,
    logEvents=[{{"timestamp": t, "message": m}} for t, m in json.loads(r'''{events}''')])
print("ok")
"#,
        region = pg.region,
        account = pg.account_id,
        now_ms = now.unix_timestamp() * 1000,
        events = events,
        db = db,
    );
    assert_eq!(support::admin_python(&e.o, &code).trim(), "ok");
    let row = format!(
        "id,account_id,region,engine,host,port,databases,secret,role_arn,tls,tags,login_log\n\
         demo-pg,{},{},postgres,{},{},,{},,{},identifier={db},cloudwatch:/aws/rds/instance/{db}/postgresql\n",
        pg.account_id, pg.region, pg.host, pg.port, pg.secret, pg.tls
    );
    let inventory = e.put_inventory("login-logs.csv", &row).await;
    let run = e.run(&["generate", "--inventory", &inventory, "--output", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let id = run.json()["report_id"].as_str().unwrap().to_owned();
    let dir = tmp();
    let download = support::cli_as_auditor(&e.o, &["download", &id, "--out", dir.path().to_str().unwrap()]);
    assert_eq!(download.code, 0, "{download:?}");
    let folder = dir.path().join(&id).join("v1");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    let evidence = &manifest["login_evidence"][0];
    assert_eq!(evidence["target"], "demo-pg", "{manifest}");
    assert_eq!(evidence["source"], format!("cloudwatch:/aws/rds/instance/{db}/postgresql"), "{manifest}");
    assert_eq!(evidence["window_days"], 90);
    assert_eq!(evidence["logins"], 2, "fx_super's, and mallory's own line: {manifest}");
    assert_eq!(evidence["sha256"].as_str().map(str::len), Some(64), "{manifest}");
    let csv = std::fs::read_to_string(folder.join("report.csv")).unwrap();
    let rows = |user: &str| -> Vec<&str> { csv.lines().filter(|l| l.contains(&format!(",{user},,USER,"))).collect() };
    let logged = stamp(recent).replace(".000 UTC", "Z").replace(' ', "T");
    assert!(rows("fx_super").iter().all(|l| l.contains(&logged)), "fx_super {logged}: {csv}");
    assert!(
        !rows("fx_createrole").is_empty() && rows("fx_createrole").iter().all(|l| l.contains(",NEVER IN WINDOW,")),
        "{csv}"
    );
    assert!(
        csv.contains(&format!("cloudwatch:/aws/rds/instance/{db}/postgresql ")) && csv.contains("DORMANT_ADMIN"),
        "{csv}"
    );
}
