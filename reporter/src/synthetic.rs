//! A synthetic estate for benchmarks (`cargo bench -p dbadmin-reporter`, `load-tests` render-bench):
//! `targets` databases with `principals` admins each, every tenth database an error row.

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
                login_log: None,
            })
            .collect(),
        baseline: None,
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
                    catalog_warnings: Vec::new(),
                    principals: (0..principals).map(|p| principal(p, i)).collect(),
                    login_evidence: None,
                    login_settings: None,
                })
            };
            TargetResult {
                schema_version: 1,
                report_id: "BENCH".into(),
                target: TargetRef::from(t),
                collected_at: "2026-11-22T10:00:00Z".into(),
                attempts: 1,
                duration_ms: 40,
                credential_binding: None,
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
            to_everyone: false,
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
