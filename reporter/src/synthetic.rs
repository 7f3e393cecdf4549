//! A synthetic estate for benchmarks (`cargo bench -p dbadmin-reporter`, `load-tests` render-bench):
//! `targets` databases with `principals` admins each, every tenth database an error row. And
//! [`finished_run`]: a complete run, stored and counted, for tests that finalize it.

use dbadmin_contracts::message::Population;
use dbadmin_contracts::result::{Collected, Failure, TargetRef};
use dbadmin_contracts::{
    AccountStatus, Engine, ErrorKind, Filters, Finding, LastLogin, Level, Outcome, Principal, PrincipalKind, Target,
    TargetResult, TlsMode,
};
use std::collections::BTreeMap;

pub fn estate(targets: usize, principals: usize) -> (Population, BTreeMap<String, TargetResult>) {
    let population = population(targets);
    let results =
        population.targets.iter().enumerate().map(|(i, t)| (t.id.clone(), result(t, i, principals))).collect();
    (population, results)
}

/// The estate's population alone.
pub fn population(targets: usize) -> Population {
    let engines = [Engine::Mysql, Engine::Mariadb, Engine::Postgres, Engine::Sqlserver];
    Population {
        schema_version: 1,
        report_id: "BENCH".into(),
        inventory_source: "bench.csv".into(),
        inventory_sha256: "0".repeat(64),
        filters: Filters::default(),
        targets: (0..targets)
            .map(|i| Target {
                id: format!("db-{i:06}"),
                account_id: format!("{:012}", 100_000_000_000u64 + (i % 50) as u64),
                region: ["eu-west-1", "us-east-1"][i % 2].into(),
                engine: engines[i % engines.len()],
                host: format!("db-{i:06}.internal"),
                port: 3306,
                databases: vec![],
                secret: "s".into(),
                role_arn: None,
                tls: TlsMode::VerifyFull,
                tags: Default::default(),
            })
            .collect(),
    }
}

/// The result of the estate's target number `i`.
pub fn result(t: &Target, i: usize, principals: usize) -> TargetResult {
    {
        {
            let outcome = if i % 10 == 9 {
                Outcome::Failed(Failure {
                    kind: ErrorKind::Timeout,
                    reason: format!("connecting to {} timed out", t.host),
                })
            } else {
                Outcome::Collected(Collected {
                    server_version: "8.0.36".into(),
                    tls: TlsMode::VerifyFull,
                    server_certificate_sha256: None,
                    admin_definition_version: "bench".into(),
                    queries: vec![],
                    principals_examined: principals as u32 * 3,
                    principals: (0..principals).map(|p| principal(p, i)).collect(),
                })
            };
            TargetResult {
                schema_version: 1,
                report_id: "BENCH".into(),
                target: TargetRef::from(t),
                collected_at: "2026-11-22T10:00:00Z".into(),
                attempts: 1,
                duration_ms: 40,
                outcome,
            }
        }
    }
}

fn principal(p: usize, target: usize) -> Principal {
    let level = if p % 3 == 0 { Level::Elevated } else { Level::Admin };
    let privilege = ["SUPER", "CREATE USER", "GRANT OPTION", "PROCESS"][(p + target) % 4];
    Principal {
        name: format!("user_{p:02}_{}", target % 7),
        host: Some("%".into()),
        kind: PrincipalKind::User,
        level,
        findings: vec![Finding {
            level,
            privilege: privilege.into(),
            scope: "server".into(),
            reason: format!("{privilege} lets the holder administer the server"),
            path: vec![format!("'user_{p:02}'@'%'"), "'dba'@'%'".into(), privilege.into()],
            via_role: Some("'dba'@'%'".into()),
        }],
        status: AccountStatus::default(),
        password_last_changed: Some("2026-01-02T03:04:05Z".into()),
        password_set: Some(true),
        last_login: LastLogin::NotRecorded,
        auth_plugin: None,
        vendor_managed: false,
        notes: vec![],
    }
}

/// A complete run for tests that finalize it.
pub mod finished_run {
    use dbadmin_contracts::message::Population;
    use dbadmin_contracts::result::{Failure, TargetRef};
    use dbadmin_contracts::{
        keys, Engine, ErrorKind, Filters, Outcome, Provenance, ReceivedRequest, ReportRequest, Target, TargetResult,
        TlsMode, Versioned,
    };
    use dbadmin_ports::{ObjectStore, RunRecord, RunStore};
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
}
