//! A complete run, stored and counted, for tests that finalize it (the reporter's, the CLI's).
//! Test-only.

use crate::{ObjectStore, RunRecord, RunStore};
use dbadmin_contracts::message::Population;
use dbadmin_contracts::result::{Failure, TargetRef};
use dbadmin_contracts::{
    keys, Engine, ErrorKind, Filters, Outcome, Provenance, ReceivedRequest, ReportRequest, Target, TargetResult,
    TlsMode, Versioned,
};
pub const SENDER: &str = "AROAEXAMPLE:auditor-run";
pub const SENT_AT: &str = "2026-12-02T04:00:00Z";

pub fn target(id: &str) -> Target {
    Target {
        id: id.into(),
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
        engine: Engine::Postgres,
        host: format!("{id}.internal"),
        port: 5432,
        databases: vec![],
        secret: "s".into(),
        role_arn: None,
        tls: TlsMode::VerifyFull,
        tags: Default::default(),
        login_log: None,
    }
}

pub fn error_result(report_id: &str, target: &Target) -> TargetResult {
    TargetResult {
        schema_version: TargetResult::SCHEMA_VERSION,
        report_id: report_id.into(),
        target: TargetRef::from(target),
        collected_at: "2026-12-02T04:00:01Z".into(),
        attempts: 1,
        duration_ms: 5,
        credential_binding: None,
        outcome: Outcome::Failed(Failure { kind: ErrorKind::Unreachable, reason: "refused".into() }),
    }
}

pub async fn put(store: &dyn ObjectStore, key: &str, body: Vec<u8>) {
    let _ = store.put(key, body, "application/json").await.unwrap();
}

/// A complete run of `targets`, each counted in version 1 with the result bytes given.
pub async fn seed(store: &dyn ObjectStore, runs: &dyn RunStore, report_id: &str, targets: &[(Target, Vec<u8>)]) {
    let request = ReportRequest {
        schema_version: ReportRequest::SCHEMA_VERSION,
        report_id: report_id.into(),
        requested_by: "arn:aws:iam::123456789012:user/claimed".into(),
        requested_at: "2001-01-01T00:00:00Z".into(),
        inventory: "inventory.csv".into(),
        filters: Filters::default(),
        output_format: Default::default(),
        retry: None,
        discovery: None,
        baseline: None,
    };
    let received = ReceivedRequest {
        schema_version: ReceivedRequest::SCHEMA_VERSION,
        request,
        received: Provenance { sender: SENDER.into(), sent_at: SENT_AT.into(), message_id: "m1".into() },
    };
    let population = Population {
        schema_version: Population::SCHEMA_VERSION,
        report_id: report_id.into(),
        inventory_source: "inventory.csv".into(),
        inventory_sha256: "0".repeat(64),
        filters: Filters::default(),
        targets: targets.iter().map(|(t, _)| t.clone()).collect(),
        baseline: None,
    };
    put(store, &keys::request(report_id), dbadmin_contracts::encode(&received)).await;
    put(store, &keys::population(report_id), dbadmin_contracts::encode(&population)).await;
    for (t, bytes) in targets {
        put(store, &keys::result(report_id, 1, &t.id), bytes.clone()).await;
    }
    let run = RunRecord::new(report_id, SENDER, SENT_AT, targets.len() as u64);
    runs.create_run(&run).await.unwrap();
    for (t, _) in targets {
        runs.mark_complete(report_id, &t.id, 1, true).await.unwrap();
    }
}
