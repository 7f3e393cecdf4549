//! The AWS deployment, tested as deployed: MiniStack runs our three Lambda binaries behind real
//! SQS event source mappings (scripts/aws-local.sh up). Requests are submitted exactly as the CLI
//! submits them (a message on the requests queue) and results are read back from S3 and DynamoDB.

use crate::support::{self, emf};

use dbadmin_aws::dynamo::DynamoRunStore;
use dbadmin_aws::Clients;
use dbadmin_contracts::{CollectionJob, Filters, ReportRequest, Versioned};
use dbadmin_ports::{CompletionCounter, FinalizeClaims, RunRecord, RunRecords};
use std::time::{Duration, Instant};

#[derive(serde::Deserialize)]
struct Outputs {
    bucket: String,
    table: String,
    requests_queue_url: String,
    collect_queue_url: String,
    inventory_uri: String,
    signing_key_arn: String,
}

struct Stack {
    o: Outputs,
    c: Clients,
    runs: DynamoRunStore,
}

/// The deployed stack; the test fails naming what is missing when it is not running.
async fn stack() -> Stack {
    let o: Outputs = serde_json::from_value(support::aws_outputs()).unwrap();
    // The tests submit and read back as the account's root; the functions run as their roles.
    let c = support::admin_clients().await;
    let runs = DynamoRunStore::new(c.dynamodb.clone(), &o.table);
    Stack { o, c, runs }
}

impl Stack {
    async fn submit(&self, filters: Filters) -> ReportRequest {
        let request = ReportRequest {
            schema_version: ReportRequest::SCHEMA_VERSION,
            report_id: ulid::Ulid::new().to_string(),
            requested_by: "arn:aws:iam::000000000000:user/e2e".into(),
            requested_at: dbadmin_contracts::now_rfc3339(),
            inventory: self.o.inventory_uri.clone(),
            filters,
            output_format: Default::default(),
            retry: None,
            discovery: None,
            baseline: None,
        };
        self.c
            .sqs
            .send_message()
            .queue_url(&self.o.requests_queue_url)
            .message_body(String::from_utf8(dbadmin_contracts::encode(&request)).unwrap())
            .send()
            .await
            .expect("submit the request");
        request
    }

    /// Polls the run table until the report's version `version` is recorded, within `limit`.
    async fn wait_reported(&self, report_id: &str, version: u32, limit: Duration) -> RunRecord {
        let start = Instant::now();
        loop {
            if let Some(run) = self.runs.get_run(report_id).await.expect("read the run") {
                if run.reported_version >= version {
                    return run;
                }
            }
            assert!(start.elapsed() < limit, "report {report_id} v{version} not written within {limit:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn object(&self, uri: &str) -> Vec<u8> {
        let key = uri.strip_prefix(&format!("s3://{}/", self.o.bucket)).expect("a report in the bucket");
        let out = self.c.s3.get_object().bucket(&self.o.bucket).key(key).send().await.expect("get the object");
        out.body.collect().await.unwrap().into_bytes().to_vec()
    }

    /// Messages visible in a queue.
    async fn queue_depth(&self, url: &str) -> u64 {
        self.depth(url, &[aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages]).await
    }

    async fn depth(&self, url: &str, names: &[aws_sdk_sqs::types::QueueAttributeName]) -> u64 {
        let attrs = self
            .c
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .set_attribute_names(Some(names.to_vec()))
            .send()
            .await
            .unwrap();
        attrs.attributes().map(|a| a.values().filter_map(|v| v.parse::<u64>().ok()).sum()).unwrap_or(0)
    }
}

const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn deployed_pipeline_reports_the_fixture_admins_and_counts_duplicates_once() {
    let s = stack().await;
    let request = s.submit(Filters::default()).await;
    let run = s.wait_reported(&request.report_id, 1, LIMIT).await;
    assert_eq!((run.completed, run.total), (4, 4));
    let location = run.report_location.expect("the report's location is recorded");
    assert!(location.ends_with("/v1/report.csv"), "{location}");
    let csv = s.object(&location).await;
    support::assert_demo_golden(&csv);

    // The manifest names the CSV with its true SHA-256.
    let manifest: serde_json::Value =
        serde_json::from_slice(&s.object(&location.replace("report.csv", "manifest.json")).await).unwrap();
    let csv_entry = manifest["artifacts"].as_array().unwrap().iter().find(|a| a["name"] == "report.csv").unwrap();
    assert_eq!(csv_entry["sha256"], dbadmin_contracts::sha256_hex(&csv));
    assert_eq!(manifest["population"], 4);
    // The requester is SQS's record of the sender (MiniStack reports the account id), not the body.
    assert_eq!(manifest["requested_by"], "000000000000");
    assert_eq!(manifest["requested_by_claimed"], "arn:aws:iam::000000000000:user/e2e");

    // Signed with the deployment's KMS key: checked offline with its public key alone.
    use dbadmin_ports::signing::{self, Signer};
    let manifest_bytes = s.object(&location.replace("report.csv", "manifest.json")).await;
    let signature: dbadmin_contracts::manifest::ManifestSignature =
        dbadmin_contracts::decode(&s.object(&location.replace("report.csv", "manifest.sig.json")).await).unwrap();
    assert_eq!(signature.key_id, s.o.signing_key_arn);
    let public_key =
        dbadmin_aws::kms::KmsSigner::new(s.c.kms.clone(), &s.o.signing_key_arn).public_key_der().await.unwrap();
    let raw = signing::decode_signature(&signature.signature).unwrap();
    signing::verify(&public_key, &manifest_bytes, &raw).expect("the KMS signature verifies offline");

    // The same job delivered again (as SQS may): counted once, no second report version.
    let population: dbadmin_contracts::message::Population = dbadmin_contracts::decode(
        &s.object(&format!("s3://{}/{}", s.o.bucket, dbadmin_contracts::keys::population(&request.report_id))).await,
    )
    .unwrap();
    let job = CollectionJob {
        schema_version: CollectionJob::SCHEMA_VERSION,
        report_id: request.report_id.clone(),
        target_id: population.targets[0].id.clone(),
        version: 1,
    };
    s.c.sqs
        .send_message()
        .queue_url(&s.o.collect_queue_url)
        .message_body(String::from_utf8(dbadmin_contracts::encode(&job)).unwrap())
        .send()
        .await
        .unwrap();
    let start = Instant::now();
    while s.queue_depth(&s.o.collect_queue_url).await > 0 {
        assert!(start.elapsed() < LIMIT, "the duplicate job was never consumed");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Give the collector that took it the time to count it; the count must not move.
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(3) {
        let run = s.runs.get_run(&request.report_id).await.unwrap().unwrap();
        assert_eq!((run.completed, run.reported_version), (4, 1), "a duplicate must not count or re-finalize");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(s.runs.completed_targets(&request.report_id).await.unwrap().len(), 4);
}

/// A body that is not a job, and a job naming a target outside its report's population (a forged
/// one: whatever else it carries is ignored), are poison: the collector dead-letters each at once
/// with the reason, its batch neighbours complete, and nothing is stored or counted for the forgery.
/// (One test: `dlq list` is the only reader of the DLQ here, so receive counts stay exact.)
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn a_poison_message_rests_in_the_dlq_and_its_neighbours_complete() {
    let s = stack().await;
    let poison = format!("{{not a job {}", ulid::Ulid::new());
    s.c.sqs.send_message().queue_url(&s.o.collect_queue_url).message_body(&poison).send().await.unwrap();
    // Its batch neighbours: a whole report submitted at the same time.
    let request = s.submit(Filters { engines: vec![dbadmin_contracts::Engine::Postgres], ..Default::default() }).await;
    let run = s.wait_reported(&request.report_id, 1, LIMIT).await;
    assert_eq!((run.completed, run.total), (2, 2));
    let forged = serde_json::json!({
        "schema_version": CollectionJob::SCHEMA_VERSION, "report_id": request.report_id,
        "target_id": "forged-target", "version": 1,
        "target": {"host": "attacker.example", "port": 3306},
    });
    s.c.sqs.send_message().queue_url(&s.o.collect_queue_url).message_body(forged.to_string()).send().await.unwrap();
    // The collector dead-letters them at once, with the reason (a permanent failure is not redelivered
    // until maxReceiveCount); `dlq list` shows them without consuming them.
    let outputs = support::aws_outputs();
    let start = Instant::now();
    let (mut poison_seen, mut forged_seen) = (false, false);
    while !(poison_seen && forged_seen) {
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "poison {poison_seen}, forged {forged_seen}: not in the DLQ"
        );
        let list = support::cli(&outputs, &["dlq", "list", "--output", "json"], &[]);
        assert_eq!(list.code, 0, "{list:?}");
        let listed = list.json();
        let messages = listed.as_array().unwrap();
        if let Some(m) = messages.iter().find(|m| m["body_preview"] == poison.as_str()).filter(|_| !poison_seen) {
            assert!(m["last_error"].as_str().unwrap().contains("collection job is not valid JSON"), "{m}");
            assert!(m["report_id"].is_null());
            assert_eq!(m["receive_count"], 1, "sent to the DLQ on its first failure, not after maxReceiveCount: {m}");
            poison_seen = true;
        }
        if let Some(m) = messages.iter().find(|m| m["target_id"] == "forged-target") {
            assert!(m["last_error"].as_str().unwrap().contains("not in the population"), "{m}");
            forged_seen = true;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let key = dbadmin_contracts::keys::result(&request.report_id, 1, "forged-target");
    assert!(s.c.s3.head_object().bucket(&s.o.bucket).key(&key).send().await.is_err(), "nothing stored");
    assert!(!s.runs.counted(&request.report_id).await.unwrap().contains_key("forged-target"), "nothing counted");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn concurrent_reports_do_not_mix() {
    let s = stack().await;
    let a = s.submit(Filters { engines: vec![dbadmin_contracts::Engine::Mariadb], ..Default::default() }).await;
    let b = s.submit(Filters { accounts: vec!["444455556666".into()], ..Default::default() }).await;
    let (ra, rb) = tokio::join!(s.wait_reported(&a.report_id, 1, LIMIT), s.wait_reported(&b.report_id, 1, LIMIT));
    assert_eq!(ra.total, 1);
    assert_eq!(rb.total, 2);
    let csv_a = String::from_utf8(s.object(ra.report_location.as_deref().unwrap()).await).unwrap();
    let csv_b = String::from_utf8(s.object(rb.report_location.as_deref().unwrap()).await).unwrap();
    assert!(csv_a.contains("demo-mariadb") && !csv_a.contains("demo-postgres") && !csv_a.contains("demo-mysql"));
    assert!(csv_b.contains("demo-postgres") && csv_b.contains("demo-unreachable") && !csv_b.contains("demo-mariadb"));
    assert!(csv_b.contains(",ERROR,unreachable,"), "the unreachable database is an error row");
}

/// The crash invariants with the real adapters on the emulator (S3, DynamoDB, Secrets Manager):
/// a collector dies right after storing a result, another right after counting; redelivery still
/// counts each target once and ends in exactly one report, even when finalize is delivered twice.
/// Jobs and finalize messages go to in-process queues here so the deployed functions stay out of it.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
#[allow(clippy::too_many_lines, reason = "one scenario: each crash is injected into the state the step before left")]
async fn crashes_between_steps_still_end_in_exactly_one_report() {
    use dbadmin_aws::{credentials::AwsCredentials, s3::S3Inventory, s3::S3Store};
    use dbadmin_collector::{handle_job, CollectorDeps, CollectorError, ConnectOptions};
    use dbadmin_ports::faults::{FailCounting, FailFinalizing, FailRecording};
    use dbadmin_ports::local::ChannelQueue;
    use dbadmin_reporter::{handle_finalize, FinalizeOutcome, ReporterDeps};

    let s = stack().await;
    let store = S3Store::new(s.c.s3.clone(), &s.o.bucket, None);
    let (jobs, mut job_rx) = ChannelQueue::new();
    let (finalize, mut finalize_rx) = ChannelQueue::new();
    let request = ReportRequest {
        schema_version: ReportRequest::SCHEMA_VERSION,
        report_id: ulid::Ulid::new().to_string(),
        requested_by: "crash-test".into(),
        requested_at: dbadmin_contracts::now_rfc3339(),
        inventory: s.o.inventory_uri.clone(),
        filters: Filters { accounts: vec!["111122223333".into()], ..Default::default() },
        output_format: Default::default(),
        retry: None,
        discovery: None,
        baseline: None,
    };
    let publisher = dbadmin_publisher::PublisherDeps {
        inventory: &S3Inventory::new(s.c.s3.clone()),
        store: &store,
        runs: &s.runs,
        counter: &s.runs,
        jobs: &jobs,
        finalize: &finalize,
        discovery: None,
    };
    let received = dbadmin_contracts::Provenance {
        sender: "AROAEXAMPLE:crash-test".into(),
        sent_at: dbadmin_contracts::now_rfc3339(),
        message_id: ulid::Ulid::new().to_string(),
    };
    dbadmin_publisher::handle_request(&request, &received, &publisher).await.expect("publish");
    let (a, b) = (job_rx.recv().await.unwrap(), job_rx.recv().await.unwrap());

    // The logins live in the target account; the test reads them as its root (the deployed
    // collector reaches them through the target role).
    let credentials = AwsCredentials::new(&support::account_clients(&s.c, "111122223333"), None, None);
    let ca = std::env::var("DBADMIN_TEST_CA_FILE")
        .map(Into::into)
        .unwrap_or_else(|_| support::repo().join(".state/tls/ca.pem"));
    let connect = ConnectOptions { ca_file: Some(ca), ..ConnectOptions::default() };

    // Crash after storing A's result, before counting it.
    let dying = FailCounting::new(&s.runs, 1);
    let populations = dbadmin_collector::Populations::new();
    let deps = CollectorDeps {
        populations: &populations,
        credentials: &credentials,
        store: &store,
        counter: &dying,
        attempts: &s.runs,
        finalize: &finalize,
        connect: &connect,
        login_logs: &credentials,
    };
    assert!(matches!(handle_job(&a, &deps).await, Err(CollectorError::Count { .. })));
    let deps = CollectorDeps { counter: &s.runs, ..deps };
    let redelivered = handle_job(&a, &deps).await.expect("redelivery of A");
    assert!(redelivered.newly_counted && !redelivered.finalize_sent);

    // Crash after counting B, before asking for the report.
    let dying = FailFinalizing::new(ChannelQueue::new().0, 1);
    let deps_b = CollectorDeps { finalize: &dying, ..deps };
    assert!(matches!(handle_job(&b, &deps_b).await, Err(CollectorError::Finalize { .. })));
    let redelivered = handle_job(&b, &deps).await.expect("redelivery of B");
    assert!(!redelivered.newly_counted && redelivered.finalize_sent, "counted once; finalize requested on redelivery");

    // The reporter dies after writing and signing the report, before recording it; its claim runs
    // out and the redelivered message writes byte-identical objects (S3 refuses to replace them).
    let message = finalize_rx.recv().await.unwrap();
    let signer = dbadmin_aws::kms::KmsSigner::new(s.c.kms.clone(), &s.o.signing_key_arn);
    let expiring = DynamoRunStore::new(s.c.dynamodb.clone(), &s.o.table).with_lease(Duration::ZERO);
    let dies = FailRecording::new(&expiring, 1);
    let reporter = ReporterDeps { store: &store, claims: &dies, counter: &expiring, chain: &expiring, signer: &signer };
    assert!(handle_finalize(&message, &reporter).await.is_err(), "the injected crash before recording");
    let folder = dbadmin_contracts::keys::report_dir(&request.report_id, &received.sent_at, 1);
    let names = ["report.csv", "report.json", "manifest.json", "manifest.sig.json"];
    let mut before = Vec::new();
    for name in names {
        before.push(s.object(&format!("s3://{}/{folder}/{name}", s.o.bucket)).await);
    }
    // The table keeps claim times in whole seconds: the dead claim counts as expired from the next one.
    let start = Instant::now();
    let first = loop {
        match handle_finalize(&message, &reporter).await.expect("finalize") {
            FinalizeOutcome::Held if start.elapsed() < Duration::from_secs(5) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            other => break other,
        }
    };
    assert!(matches!(first, FinalizeOutcome::Written { version: 1, .. }), "{first:?}");
    for (name, bytes) in names.iter().zip(before) {
        assert_eq!(s.object(&format!("s3://{}/{folder}/{name}", s.o.bucket)).await, bytes, "{name} is unchanged");
    }
    // Finalize delivered again: one report.
    let reporter = ReporterDeps { store: &store, claims: &s.runs, counter: &s.runs, chain: &s.runs, signer: &signer };
    assert_eq!(handle_finalize(&message, &reporter).await.unwrap(), FinalizeOutcome::NotClaimed);
    let run = s.runs.get_run(&request.report_id).await.unwrap().unwrap();
    assert_eq!((run.completed, run.total, run.reported_version), (2, 2, 1));
    let csv = String::from_utf8(s.object(run.report_location.as_deref().unwrap()).await).unwrap();
    assert!(csv.contains("demo-mariadb") && csv.contains("demo-mysql") && !csv.contains(",ERROR,"));
}

/// The EMF lines of one report's events, as the functions printed them (MiniStack keeps the
/// functions' stdout in its log), once the publisher's and the reporter's have appeared and a line
/// per counted database has: each function's output reaches the log from its own process, in no fixed order, so a
/// collector's line may land after the reporter's. A line that never comes fails on the deadline.
async fn metric_lines(report_id: &str, databases: u64) -> Vec<serde_json::Value> {
    let outputs = std::env::var("DBADMIN_AWS_OUTPUTS").unwrap();
    let log = std::path::Path::new(&outputs).parent().and_then(|aws| aws.parent()).unwrap().join("ministack.log");
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(&log).unwrap();
        // A last line still being written is read on the next pass.
        let whole = text.rfind('\n').map_or("", |end| &text[..end]);
        let lines: Vec<serde_json::Value> = whole
            .lines()
            .filter(|l| l.contains("\"_aws\"") && l.contains(report_id))
            .map(|l| {
                let bad = emf::violations(l);
                assert!(bad.is_empty(), "{l}\nbreaks the EMF specification: {bad:?}");
                serde_json::from_str(l).unwrap()
            })
            .collect();
        let counted = |metric: &str| lines.iter().filter(|l| l[metric].is_number()).count() as u64;
        let finalized = counted("ReportsFinalized") > 0;
        let published = counted("ReportsRequested") > 0;
        if finalized && published && counted("DatabasesCollected") + counted("DatabasesFailed") >= databases {
            return lines;
        }
        assert!(
            start.elapsed() < LIMIT,
            "the functions printed no metrics for some of report {report_id}'s {databases} databases \
             (publisher's line: {published}, reporter's line: {finalized}): {lines:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every function reports what it did as CloudWatch EMF lines that follow the specification, in
/// namespace DbAdminReport with only low-cardinality dimensions, and the counts are the report's:
/// collected + failed databases = the run's count, failed = its error rows, one report finalized.
#[tokio::test]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn the_functions_metrics_are_valid_emf_and_add_up_to_the_report() {
    let s = stack().await;
    let request = s.submit(Filters::default()).await;
    let run = s.wait_reported(&request.report_id, 1, LIMIT).await;
    let lines = metric_lines(&request.report_id, run.completed).await;
    let sum = |metric: &str| lines.iter().filter_map(|l| l[metric].as_f64()).sum::<f64>() as u64;
    for line in &lines {
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "DbAdminReport");
        for dimension in directive["Dimensions"][0].as_array().unwrap() {
            let d = dimension.as_str().unwrap();
            assert!(["Function", "Engine", "Outcome"].contains(&d), "{d} is not a low-cardinality dimension");
        }
    }
    assert_eq!(sum("DatabasesCollected") + sum("DatabasesFailed"), run.completed);
    assert_eq!(sum("DatabasesFailed"), run.failed);
    assert_eq!((sum("JobsPublished"), sum("ReportsRequested")), (run.total, 1));
    assert_eq!(sum("ReportsFinalized"), 1);
    let failed = lines.iter().find(|l| l["DatabasesFailed"].is_number()).expect("the demo has an unreachable target");
    assert_eq!((failed["Engine"].as_str(), failed["Outcome"].as_str()), (Some("postgres"), Some("unreachable")));
    let collected: Vec<_> = lines.iter().filter(|l| l["DatabasesCollected"].is_number()).collect();
    assert!(collected.iter().all(|l| l["CollectionDuration"].as_f64().is_some_and(|ms| ms > 0.0)));
    assert!(collected.iter().all(|l| l["AdminsFound"].as_f64() <= l["PrincipalsExamined"].as_f64()));
    assert!(sum("AdminsFound") > 0);
    let csv = s.object(run.report_location.as_deref().unwrap()).await;
    let rows = csv.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() as u64 - 1;
    assert_eq!(sum("RowsWritten"), rows);
}

/// The optional schedule as MiniStack fires it: a one-time EventBridge Scheduler schedule sends the
/// fixed body Terraform's aws_scheduler_schedule writes (no report id) to the requests queue. The
/// publisher names the report from the queue's record, and the report is written with the schedule
/// as the claimed requester beside the sender SQS recorded.
#[tokio::test]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn a_scheduled_request_becomes_a_report() {
    use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target};
    let s = stack().await;
    let started_ms = ulid::Ulid::new().timestamp_ms();
    let name = format!("dbadmin-test-{}", ulid::Ulid::new());
    let claim = format!("schedule {name}");
    let body = serde_json::json!({
        "schema_version": 1, "report_id": "", "requested_by": claim, "requested_at": "",
        "inventory": s.o.inventory_uri, "filters": { "accounts": [], "regions": [], "engines": [] },
    });
    let queue_arn =
        s.c.sqs
            .get_queue_attributes()
            .queue_url(&s.o.requests_queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
            .clone();
    let at = time::OffsetDateTime::now_utc() + Duration::from_secs(1);
    let at = format!("at({})", &dbadmin_contracts::format_rfc3339(at).trim_end_matches('Z'));
    aws_sdk_scheduler::Client::new(&s.c.sdk)
        .create_schedule()
        .name(&name)
        .schedule_expression(at)
        .schedule_expression_timezone("UTC")
        .flexible_time_window(FlexibleTimeWindow::builder().mode(FlexibleTimeWindowMode::Off).build().unwrap())
        .target(
            Target::builder()
                .arn(queue_arn)
                .role_arn("arn:aws:iam::000000000000:role/db-admin-report-scheduler")
                .input(body.to_string())
                .build()
                .unwrap(),
        )
        .action_after_completion(ActionAfterCompletion::Delete)
        .send()
        .await
        .unwrap();

    // The run the schedule caused: made after the test started, its kept request claims the schedule.
    let start = Instant::now();
    let report_id = 'found: loop {
        assert!(start.elapsed() < LIMIT, "the schedule never caused a report request");
        for run in s.runs.list_runs().await.unwrap() {
            let made = ulid::Ulid::from_string(&run.report_id).map(|u| u.timestamp_ms()).unwrap_or(0);
            if made + 1000 < started_ms {
                continue;
            }
            // Other tests make runs of their own without a kept request.
            let key = dbadmin_contracts::keys::request(&run.report_id);
            let Ok(kept) = s.c.s3.get_object().bucket(&s.o.bucket).key(&key).send().await else { continue };
            let kept: dbadmin_contracts::ReceivedRequest =
                dbadmin_contracts::decode(&kept.body.collect().await.unwrap().into_bytes()).unwrap();
            if kept.request.requested_by == claim {
                break 'found run.report_id;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let run = s.wait_reported(&report_id, 1, LIMIT).await;
    assert_eq!((run.completed, run.total), (4, 4));
    let location = run.report_location.unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&s.object(&location.replace("report.csv", "manifest.json")).await).unwrap();
    assert_eq!(manifest["requested_by_claimed"], claim.as_str());
    assert_eq!(manifest["requested_by"], "000000000000", "the sender as SQS recorded it");
}

/// The run store contract (dbadmin_ports::contract), on the deployed DynamoDB table.
#[tokio::test]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn dynamo_run_store_keeps_the_contract() {
    let s = stack().await;
    dbadmin_ports::contract::run_store(&s.runs, &ulid::Ulid::new().to_string()).await;
}

/// Dies before sending every DynamoDB transaction after the first: a process killed between the
/// transactions of a retry too large for one.
#[derive(Debug, Default)]
struct DieAfterFirstTransaction(std::sync::atomic::AtomicUsize);

impl aws_sdk_dynamodb::config::Intercept for DieAfterFirstTransaction {
    fn name(&self) -> &'static str {
        "DieAfterFirstTransaction"
    }

    fn modify_before_transmit(
        &self,
        context: &mut aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let transaction =
            context.request().headers().get("x-amz-target").is_some_and(|t| t.ends_with(".TransactWriteItems"));
        if transaction && self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 1 {
            return Err("the process died between two transactions".into());
        }
        Ok(())
    }
}

/// A retry of 100 failed targets needs three DynamoDB transactions (49 targets each at most). When
/// the process dies after the first, the run is at version 2 with 51 failed targets still counted;
/// the redelivered retry finishes the job: every failed target is uncounted exactly once, the
/// good ones stay counted, and a third delivery changes nothing.
#[tokio::test]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn an_interrupted_retry_of_many_targets_is_finished_by_its_redelivery() {
    let s = stack().await;
    let id = ulid::Ulid::new().to_string();
    let run = RunRecord::new(id.clone(), "arn:aws:iam::000000000000:user/e2e", dbadmin_contracts::now_rfc3339(), 120);
    assert!(s.runs.create_run(&run).await.unwrap());
    for i in 0..120 {
        s.runs.mark_complete(&id, &format!("t{i:03}"), 1, i < 100).await.unwrap();
    }
    assert_eq!(s.runs.claim_finalize(&id).await.unwrap().map(|c| c.version), Some(1));
    s.runs.record_report(&id, 1, "s3://bucket/v1/report.csv").await.unwrap();
    let failed: Vec<String> = (0..100).map(|i| format!("t{i:03}")).collect();

    let dying = aws_sdk_dynamodb::config::Builder::from(&s.c.sdk).interceptor(DieAfterFirstTransaction::default());
    let dying = DynamoRunStore::new(aws_sdk_dynamodb::Client::from_conf(dying.build()), &s.o.table);
    let err = dying.begin_version(&id, 1, &failed).await.unwrap_err();
    let chain = dbadmin_ports::error_chain(&err);
    assert!(chain.contains("died between"), "{chain}");
    let run = s.runs.get_run(&id).await.unwrap().unwrap();
    assert_eq!((run.version, run.completed, run.failed), (2, 120 - 49, 100 - 49), "the first transaction only");

    for delivery in ["the redelivery", "a third delivery"] {
        assert_eq!(
            s.runs.begin_version(&id, 1, &failed).await.unwrap(),
            dbadmin_ports::NewVersion::AlreadyStarted { version: 2 },
            "{delivery}"
        );
        let run = s.runs.get_run(&id).await.unwrap().unwrap();
        assert_eq!((run.version, run.completed, run.failed), (2, 20, 0), "{delivery}");
        let counted = s.runs.counted(&id).await.unwrap();
        assert_eq!(
            counted.keys().cloned().collect::<Vec<_>>(),
            (100..120).map(|i| format!("t{i:03}")).collect::<Vec<_>>()
        );
    }
    // The failed targets now count in version 2, once each.
    for (i, target) in failed.iter().enumerate() {
        let done = s.runs.mark_complete(&id, target, 2, false).await.unwrap();
        assert_eq!(done.is_last(), i == 99, "{target}");
    }
}

/// Sixty collectors finishing at once, each delivered twice, on the deployed DynamoDB table: every
/// count succeeds (contention is retried in place, not failed into a redelivery) and the count is
/// exact. (MiniStack serialises transactions and never reports a TransactionConflict, so the retry
/// path itself is unit-tested in dbadmin-aws; this proves exactness under concurrency.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn concurrent_completions_count_exactly_once() {
    let s = stack().await;
    let id = ulid::Ulid::new().to_string();
    let run = RunRecord::new(id.clone(), "arn:aws:iam::000000000000:user/e2e", dbadmin_contracts::now_rfc3339(), 60);
    assert!(s.runs.create_run(&run).await.unwrap());
    let runs = &s.runs;
    let id = &id;
    let outcomes = futures::future::join_all(
        (0..120).map(|i| async move { runs.mark_complete(id, &format!("t{:02}", i % 60), 1, i % 7 == 0).await }),
    )
    .await;
    let newly = outcomes.iter().filter(|o| o.as_ref().expect("no count fails").newly_counted).count();
    assert_eq!(newly, 60, "each target is counted once");
    let record = s.runs.get_run(id).await.unwrap().unwrap();
    assert_eq!(record.completed, 60);
    assert_eq!(record.failed, s.runs.counted(id).await.unwrap().values().filter(|c| c.failed).count() as u64);
}

/// A PostgreSQL target in `region` whose login is the secret `secret`.
fn secret_target(id: &str, region: &str, secret: &str) -> dbadmin_contracts::Target {
    dbadmin_contracts::Target {
        id: id.into(),
        account_id: "123456789012".into(),
        region: region.into(),
        engine: dbadmin_contracts::Engine::Postgres,
        host: "127.0.0.1".into(),
        port: 5432,
        databases: vec![],
        secret: secret.into(),
        role_arn: None,
        tls: dbadmin_contracts::TlsMode::VerifyFull,
        tags: Default::default(),
        login_log: None,
    }
}

/// A target's secret lives in the target's region, not the collector's: the collector's credential
/// source reads it there (on the emulator, which keeps secrets per region).
#[tokio::test]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn secrets_are_read_in_the_target_region() {
    use dbadmin_ports::CredentialSource;
    let s = stack().await;
    let other =
        if s.c.sdk.region().map(|r| r.as_ref()) == Some("eu-central-1") { "ap-southeast-2" } else { "eu-central-1" };
    let name = format!("region-test/{}", ulid::Ulid::new());
    let regional = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(&s.c.sdk)
            .region(aws_sdk_secretsmanager::config::Region::new(other))
            .build(),
    );
    regional
        .create_secret()
        .name(&name)
        .secret_string(r#"{"username": "dbadmin_collector", "password": "collector-pw"}"#)
        .send()
        .await
        .expect("create the secret in the other region");
    let creds = dbadmin_aws::credentials::AwsCredentials::new(&s.c, None, None);
    let target = secret_target("far", other, &name);
    let login = creds.credentials(&target).await.expect("the secret is read in the target's region");
    assert_eq!(login.username, "dbadmin_collector");
    let home = dbadmin_contracts::Target { region: s.c.sdk.region().unwrap().to_string(), ..target };
    assert!(creds.credentials(&home).await.is_err(), "the same name in the collector's region does not exist");
    regional.delete_secret().secret_id(&name).force_delete_without_recovery(true).send().await.unwrap();
}

/// Counts Secrets Manager `GetSecretValue` requests as they leave the SDK.
#[derive(Debug, Default, Clone)]
struct SecretReads(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl aws_sdk_secretsmanager::config::Intercept for SecretReads {
    fn name(&self) -> &'static str {
        "SecretReads"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_secretsmanager::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_secretsmanager::config::RuntimeComponents,
        _: &mut aws_sdk_secretsmanager::config::ConfigBag,
    ) -> Result<(), aws_sdk_secretsmanager::error::BoxError> {
        if context.request().headers().get("x-amz-target").is_some_and(|t| t.ends_with(".GetSecretValue")) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    }
}

/// Jobs of one batch that share a secret read it once: the others wait for that read and use it.
#[tokio::test]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn concurrent_jobs_sharing_a_secret_read_it_once() {
    use dbadmin_ports::CredentialSource;
    let s = stack().await;
    let name = format!("shared-test/{}", ulid::Ulid::new());
    s.c.secrets
        .create_secret()
        .name(&name)
        .secret_string(r#"{"username": "dbadmin_collector", "password": "collector-pw"}"#)
        .send()
        .await
        .unwrap();
    let reads = SecretReads::default();
    let clients = dbadmin_aws::Clients::intercepted(
        s.c.sdk.clone(),
        aws_sdk_secretsmanager::config::SharedInterceptor::new(reads.clone()),
    );
    let creds = dbadmin_aws::credentials::AwsCredentials::new(&clients, None, None);
    let region = s.c.sdk.region().unwrap().to_string();
    let targets: Vec<_> = (0..10).map(|i| secret_target(&format!("t{i}"), &region, &name)).collect();
    let logins = futures::future::join_all(targets.iter().map(|t| creds.credentials(t))).await;
    assert!(logins.iter().all(|l| l.as_ref().is_ok_and(|l| l.username == "dbadmin_collector")), "{logins:?}");
    assert_eq!(reads.0.load(std::sync::atomic::Ordering::SeqCst), 1, "ten jobs, one read");
    s.c.secrets.delete_secret().secret_id(&name).force_delete_without_recovery(true).send().await.unwrap();
}

/// S3 keeps every object as first written: a second put of the key is refused (`If-None-Match: *`)
/// and the first bytes stay.
#[tokio::test]
#[ignore = "needs the emulated deployment: scripts/test-servers.sh up, then scripts/aws-local.sh up (scripts/test.sh runs both)"]
async fn s3_objects_are_written_once() {
    use dbadmin_ports::{ObjectStore, Stored};
    let s = stack().await;
    let store = dbadmin_aws::s3::S3Store::new(s.c.s3.clone(), &s.o.bucket, None);
    let key = format!("runs/{}/write-once.json", ulid::Ulid::new());
    assert_eq!(store.put(&key, b"first".to_vec(), "application/json").await.unwrap(), Stored::Created);
    assert_eq!(store.put(&key, b"second".to_vec(), "application/json").await.unwrap(), Stored::Existed);
    assert_eq!(store.get(&key).await.unwrap().unwrap(), b"first");
}
