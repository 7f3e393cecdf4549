//! Golden tests of the report's CSV and JSON forms, and of finalization over the embedded adapters.
//! Regenerate the golden files with `UPDATE_GOLDEN=1 cargo test -p dbadmin-reporter` and review the diff.

use dbadmin_contracts::message::Population;
use dbadmin_contracts::result::{Collected, Failure, TargetRef};
use dbadmin_contracts::{
    AccountStatus, Engine, ErrorKind, Filters, Finding, LastLogin, Level, Outcome, Principal, PrincipalKind,
    QueryRecord, Target, TargetResult, TlsMode,
};
use dbadmin_reporter::render;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn target(id: &str, account: &str, engine: Engine) -> Target {
    Target {
        id: id.into(),
        account_id: account.into(),
        region: "eu-west-1".into(),
        engine,
        host: format!("{id}.internal"),
        port: 3306,
        databases: vec![],
        secret: "s".into(),
        role_arn: None,
        tls: TlsMode::VerifyFull,
        tags: Default::default(),
        login_log: None,
    }
}

fn finding(level: Level, privilege: &str, path: &[&str], via: Option<&str>) -> Finding {
    Finding {
        level,
        privilege: privilege.into(),
        scope: "server".into(),
        reason: format!("{privilege} reason"),
        path: path.iter().map(|s| s.to_string()).collect(),
        via_role: via.map(str::to_owned),
        to_everyone: false,
    }
}

fn principal(name: &str, host: Option<&str>, findings: Vec<Finding>) -> Principal {
    Principal {
        name: name.into(),
        host: host.map(str::to_owned),
        kind: PrincipalKind::User,
        level: findings.iter().map(|f| f.level).min().unwrap(),
        findings,
        status: AccountStatus::default(),
        password_last_changed: Some("2026-01-02T03:04:05Z".into()),
        password_set: Some(true),
        last_login: LastLogin::NotRecorded,
        auth_plugin: None,
        vendor_managed: false,
        notes: vec!["created 2020-01-01T00:00:00Z".into()],
    }
}

fn result(t: &Target, outcome: Outcome) -> TargetResult {
    TargetResult {
        schema_version: 1,
        report_id: "R".into(),
        target: TargetRef::from(t),
        collected_at: "2026-11-22T10:00:00Z".into(),
        attempts: 1,
        duration_ms: 12,
        credential_binding: None,
        outcome,
    }
}

/// A collected result holding `principals`.
fn collected(principals: Vec<Principal>) -> Outcome {
    Outcome::Collected(Collected {
        server_version: "x".into(),
        tls: TlsMode::VerifyFull,
        server_certificate_sha256: Some("5d1c".repeat(16)),
        admin_definition_version: "v".into(),
        queries: vec![QueryRecord { name: "mysql/q".into(), sha256: "ab".into() }],
        principals_examined: 7,
        catalog_warnings: Vec::new(),
        principals,
        login_evidence: None,
        login_settings: None,
    })
}

/// The MySQL database's principals: an elevated one, an admin through a role with a formula for a
/// name and two privileges, and an admin whose name starts with `-`.
fn mysql_principals() -> Vec<Principal> {
    vec![
        principal("zed", Some("%"), vec![finding(Level::Elevated, "PROCESS", &["'zed'@'%'", "PROCESS"], None)]),
        principal(
            "=HYPERLINK(\"http://x\")",
            Some("%"),
            vec![
                finding(
                    Level::Admin,
                    "SUPER",
                    &["'=HYPERLINK(\"http://x\")'@'%'", "'dba'@'%'", "SUPER"],
                    Some("'dba'@'%'"),
                ),
                finding(Level::Admin, "CREATE USER", &["x", "CREATE USER"], None),
            ],
        ),
        principal(
            "-alice",
            Some("10.0.0.%"),
            vec![finding(Level::Admin, "SUPER", &["'-alice'@'10.0.0.%'", "SUPER"], None)],
        ),
    ]
}

fn fixture() -> (Population, BTreeMap<String, TargetResult>) {
    let b = target("b-mysql", "222222222222", Engine::Mysql);
    let a = target("a-pg", "111111111111", Engine::Postgres);
    let down = target("c-down", "111111111111", Engine::Mariadb);
    let quiet = target("d-quiet", "111111111111", Engine::Postgres);
    let lost = target("e-lost", "111111111111", Engine::Mysql);
    let mut results = BTreeMap::new();
    results.insert(b.id.clone(), result(&b, collected(mysql_principals())));
    results.insert(
        a.id.clone(),
        result(
            &a,
            collected(vec![principal(
                "postgres",
                None,
                vec![finding(Level::Admin, "SUPERUSER", &["postgres", "SUPERUSER"], None)],
            )]),
        ),
    );
    // The PostgreSQL database's login log covers the window: postgres never logged in (a dormant
    // admin). The MySQL one has none: its Login Evidence says why, and its rows say not recorded.
    if let Some(Outcome::Collected(c)) = results.get_mut(&a.id).map(|r| &mut r.outcome) {
        c.principals[0].last_login = LastLogin::NeverInWindow;
        c.login_evidence = Some(Box::new(dbadmin_contracts::LoginEvidence {
            source: "file:/var/log/postgresql/postgresql.json".into(),
            window_days: 90,
            covers_from: Some("2026-08-01T00:00:00Z".into()),
            covers_to: Some("2026-11-22T09:59:00Z".into()),
            logins: 12,
            unattributed: 0,
            sha256: "ab".repeat(32),
            missing: None,
        }));
    }
    if let Some(Outcome::Collected(c)) = results.get_mut(&b.id).map(|r| &mut r.outcome) {
        c.login_evidence = Some(Box::new(dbadmin_contracts::LoginEvidence::missing(
            "",
            90,
            "Oracle MySQL's community server keeps no login log",
        )));
    }
    results.insert(
        down.id.clone(),
        result(
            &down,
            Outcome::Failed(Failure {
                kind: ErrorKind::Timeout,
                reason: "connecting to c-down.internal:3306 took longer than 10s".into(),
            }),
        ),
    );
    results.insert(quiet.id.clone(), result(&quiet, collected(vec![])));
    let population = Population {
        schema_version: 1,
        report_id: "R".into(),
        inventory_source: "inv.csv".into(),
        inventory_sha256: "00".into(),
        filters: Filters::default(),
        targets: vec![b, a, down, quiet, lost],
        baseline: None,
    };
    (population, results)
}

fn golden(name: &str, actual: &[u8]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::write(&path, actual).unwrap();
    }
    let expected =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert!(expected == actual, "{name} differs from the golden file:\n{}", String::from_utf8_lossy(actual));
}

#[test]
fn csv_matches_golden_and_is_safe_for_spreadsheets() {
    let (population, results) = fixture();
    let rows = render::rows(&population, &results, "2026-11-22T09:59:00Z");
    let csv = render::to_csv(&rows);
    golden("report.csv", &csv);

    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let mut reader = csv::Reader::from_reader(&csv[3..]);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(reader.headers().unwrap().len(), render::HEADERS.len());
    // Every target appears: 4 finding rows, one NO_ADMINS, one ERROR, one missing result.
    assert_eq!(records.len(), 1 + 4 + 1 + 1 + 1);
    for r in &records {
        for cell in r.iter() {
            assert!(!matches!(cell.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r')), "unsafe cell {cell:?}");
        }
    }
    // Sorted by account, database, principal.
    let keys: Vec<(String, String)> = records.iter().map(|r| (r[0].to_owned(), r[2].to_owned())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let col = |name: &str| render::HEADERS.iter().position(|h| *h == name).unwrap();
    let (status, kind) = (col("Collection Status"), col("Error Kind"));
    let statuses: Vec<&str> = records.iter().map(|r| &r[status]).collect();
    assert!(statuses.contains(&"ERROR") && statuses.contains(&"NO_ADMINS"));
    assert!(records.iter().any(|r| &r[kind] == "missing_result"), "a missing result is an explicit error row");
}

#[test]
fn json_carries_the_same_rows() {
    let (population, results) = fixture();
    let rows = render::rows(&population, &results, "2026-11-22T09:59:00Z");
    let json = render::to_json("R", 1, "2026-11-22T09:59:00Z", &rows);
    golden("report.json", &json);
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), rows.len());
    assert_eq!(v["schema_version"], render::JSON_SCHEMA_VERSION);
    assert_eq!(v["columns"][5], "Username");
    assert_eq!(v["rows"][0][0], "111111111111");
    assert!(v["rows"].as_array().unwrap().iter().any(|r| r[5] == "=HYPERLINK(\"http://x\")"), "JSON keeps raw values");
}

#[test]
fn status_counts_and_empty_reports_say_why() {
    let (population, results) = fixture();
    let counts = render::status_counts(&population, &results);
    assert_eq!(counts["OK"], 2);
    assert_eq!(counts["ERROR"], 2);
    assert_eq!(counts["ERROR:timeout"], 1);
    assert_eq!(counts["NO_ADMINS"], 1);

    let empty = Population {
        filters: Filters { accounts: vec!["999999999999".into()], ..Default::default() },
        targets: vec![],
        ..population
    };
    let rows = render::rows(&empty, &BTreeMap::new(), "t");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].collection_status, "NO_TARGETS");
    assert!(rows[0].admin_reason.contains("accounts=999999999999"), "{}", rows[0].admin_reason);
}

#[test]
fn rows_read_back_from_csv_and_json_unchanged() {
    let (population, results) = fixture();
    let rows = render::rows(&population, &results, "2026-11-22T09:59:00Z");
    let mut tricky = rows[0].clone();
    tricky.username = "=HYPERLINK(\"x\")".into();
    tricky.notes = "'quoted already".into();
    let rows = [rows, vec![tricky]].concat();
    let neutralised: Vec<render::Row> = render::from_csv(&render::to_csv(&rows)).unwrap();
    assert_eq!(neutralised.len(), rows.len());
    assert_eq!(neutralised.last().unwrap().username, "'=HYPERLINK(\"x\")", "cells read back as written");
    assert_eq!(neutralised[0], rows[0]);
    let json = render::to_json("r", 1, "t", &rows);
    assert_eq!(render::from_json(&json).unwrap(), rows);
    let older = String::from_utf8(json).unwrap().replacen("\"schema_version\":2", "\"schema_version\":1", 1);
    assert!(render::from_json(older.as_bytes()).unwrap_err().to_string().contains("schema_version 1 is not supported"));
}
