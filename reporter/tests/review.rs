//! Review signals and review statuses, on results built the way the collectors build them.

use dbadmin_contracts::baseline::Baseline;
use dbadmin_contracts::result::{Collected, TargetRef};
use dbadmin_contracts::{
    AccountStatus, Engine, Finding, LastLogin, Level, Outcome, Principal, PrincipalKind, Target, TargetResult, TlsMode,
};
use dbadmin_reporter::render::target_rows;
use dbadmin_reporter::review::{self, signals};

fn target() -> Target {
    let orders = dbadmin_ports::fixtures::target("orders");
    Target { account_id: "111111111111".into(), engine: Engine::Mysql, port: 3306, ..orders }
}

fn finding(level: Level, path: &[&str]) -> Finding {
    Finding {
        level,
        privilege: path.last().unwrap().to_string(),
        scope: "server".into(),
        reason: "r".into(),
        path: path.iter().map(|s| s.to_string()).collect(),
        via_role: (path.len() > 2).then(|| path[path.len() - 2].to_string()),
        to_everyone: false,
    }
}

/// A MySQL-style principal `'name'@'%'` (a role has host '' and NOLOGIN).
fn principal(name: &str, role: bool, findings: Vec<Finding>) -> Principal {
    Principal {
        name: name.into(),
        host: Some(if role { "" } else { "%" }.into()),
        kind: if role { PrincipalKind::Role } else { PrincipalKind::User },
        level: findings.iter().map(|f| f.level).min().unwrap(),
        findings,
        status: AccountStatus { flags: if role { vec!["NOLOGIN".into()] } else { vec![] } },
        password_last_changed: None,
        password_set: None,
        last_login: LastLogin::NotRecorded,
        auth_plugin: None,
        vendor_managed: false,
        notes: vec![],
    }
}

fn result(principals: Vec<Principal>) -> TargetResult {
    TargetResult {
        schema_version: 1,
        report_id: "R".into(),
        target: TargetRef::from(&target()),
        collected_at: "2026-12-02T10:00:00Z".into(),
        attempts: 1,
        duration_ms: 1,
        credential_binding: None,
        outcome: Outcome::Collected(Collected {
            server_version: "8.4".into(),
            tls: TlsMode::VerifyFull,
            server_certificate_sha256: None,
            admin_definition_version: "v".into(),
            queries: vec![],
            principals_examined: 9,
            catalog_warnings: Vec::new(),
            principals,
            login_evidence: None,
            login_settings: None,
        }),
    }
}

fn alice_again() -> Principal {
    principal("alice", false, vec![finding(Level::Admin, &["'alice'@'%'", "SUPER"])])
}

fn bob_again() -> Principal {
    principal("bob", false, vec![finding(Level::Admin, &["'bob'@'%'", "SUPER"])])
}

#[test]
fn each_signal_fires_on_its_case_and_not_without_it() {
    // Two admins who log in: no signal.
    let alice = principal("alice", false, vec![finding(Level::Admin, &["'alice'@'%'", "SUPER"])]);
    let bob = principal("bob", false, vec![finding(Level::Admin, &["'bob'@'%'", "SUPER"])]);
    let s = signals(Some(&result(vec![alice.clone(), bob.clone()])));
    assert_eq!((s.admins, s.codes.clone()), (Some(2), vec![]), "{s:?}");

    // One admin, and a locked one beside it: still one who can log in.
    let mut locked = bob.clone();
    locked.status.flags = vec!["LOCKED".into()];
    let s = signals(Some(&result(vec![alice.clone(), locked])));
    assert_eq!((s.admins, s.codes.clone()), (Some(1), vec![review::SINGLE_ADMIN]), "{s:?}");
    assert!(s.details[0].contains("'alice'@'%' is the only admin"), "{:?}", s.details);

    // Only elevated principals and a vendor account: nobody of the customer's administers it.
    let mut rdsadmin = principal("rdsadmin", false, vec![finding(Level::Admin, &["'rdsadmin'@'%'", "SUPER"])]);
    rdsadmin.vendor_managed = true;
    let reader = principal("reader", false, vec![finding(Level::Elevated, &["'reader'@'%'", "PROCESS"])]);
    let s = signals(Some(&result(vec![rdsadmin, reader])));
    assert_eq!(s.codes, vec![review::ZERO_ADMINS, review::VENDOR_MANAGED_ADMIN], "{s:?}");
    assert_eq!(s.admins, Some(0));

    // A NOLOGIN admin role held by a login: named with its holder. A role nobody holds is not.
    let dba = principal("dba", true, vec![finding(Level::Admin, &["'dba'@''", "SUPER"])]);
    let idle = principal("idle", true, vec![finding(Level::Admin, &["'idle'@''", "SUPER"])]);
    let carol = principal("carol", false, vec![finding(Level::Admin, &["'carol'@'%'", "'dba'@''", "SUPER"])]);
    let s = signals(Some(&result(vec![alice.clone(), bob.clone(), dba, idle, carol])));
    assert_eq!(s.codes, vec![review::NOLOGIN_ADMIN_HELD], "{s:?}");
    assert!(s.details[0].contains("'dba'@'' (held by 'carol'@'%')"), "{:?}", s.details);
    assert!(!s.details[0].contains("idle"), "{:?}", s.details);
    assert_eq!(s.admins, Some(3), "roles are not people");

    // Admin that reaches principals through PUBLIC or a mandatory role.
    let mut via_public = finding(Level::Admin, &["'dave'@'%'", "'PUBLIC'@''", "UPDATE"]);
    via_public.to_everyone = true;
    let dave = principal("dave", false, vec![via_public]);
    let s = signals(Some(&result(vec![alice, bob, dave])));
    assert_eq!(s.codes, vec![review::ADMIN_VIA_PUBLIC], "{s:?}");
    assert!(s.details[0].contains("'dave'@'%'"), "{:?}", s.details);

    // Catalogs that are not the engine's own, or disagree with themselves: named, first.
    let mut tampered = result(vec![alice_again(), bob_again()]);
    if let Outcome::Collected(c) = &mut tampered.outcome {
        c.catalog_warnings = vec!["mysql.user is not MariaDB's stock view".into()];
    }
    let s = signals(Some(&tampered));
    assert_eq!(s.codes, vec![review::CATALOG_MISMATCH], "{s:?}");
    assert!(s.details[0].contains("mysql.user is not MariaDB's stock view"), "{:?}", s.details);

    // Not read: ERROR, and no count.
    let s = signals(None);
    assert_eq!((s.admins, s.codes), (None, vec![review::ERROR]));
}

#[test]
fn rows_carry_signals_and_review_status_against_the_baseline() {
    let alice = principal("alice", false, vec![finding(Level::Admin, &["'alice'@'%'", "SUPER"])]);
    let bob = principal("bob", false, vec![finding(Level::Admin, &["'bob'@'%'", "SUPER"])]);
    let eve = principal("eve", false, vec![finding(Level::Elevated, &["'eve'@'%'", "PROCESS"])]);
    let result = result(vec![alice, bob, eve]);
    let baseline = Baseline::parse(
        "baseline.csv",
        b"account_id,database,principal,approved_by,ticket,expires\n\
          111111111111,orders,alice@%,Carol,SEC-1,\n\
          111111111111,*,bob@%,Carol,SEC-2,2026-12-01\n",
    )
    .unwrap();
    let rows = target_rows(&target(), Some(&result), "2026-12-02T10:00:00Z", Some(&baseline));
    let cells: Vec<(&str, &str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.username.as_str(),
                r.review_status.as_str(),
                r.approved_by.as_str(),
                r.approval_ticket.as_str(),
                r.database_admins.as_str(),
            )
        })
        .collect();
    assert_eq!(
        cells,
        [
            ("alice", "APPROVED", "Carol", "SEC-1", "2"),
            ("bob", "APPROVAL_EXPIRED", "Carol", "SEC-2", "2"),
            ("eve", "UNAPPROVED", "", "", "2"),
        ]
    );
    // Without a baseline the review columns stay empty; the signals do not depend on it.
    let rows = target_rows(&target(), Some(&result), "2026-12-02T10:00:00Z", None);
    assert!(rows.iter().all(|r| r.review_status.is_empty() && r.database_admins == "2"));
    // A status row gets no review status, even with a baseline.
    let rows = target_rows(&target(), None, "2026-12-02T10:00:00Z", Some(&baseline));
    assert_eq!((rows[0].review_status.as_str(), rows[0].review_signals.as_str()), ("", "ERROR"));
}

/// A dormant admin is one that can log in and did not in a log covering the whole window; a
/// database with no readable log says so. A role, or a log that starts inside the window, is not
/// dormant.
#[test]
fn dormant_admins_and_missing_login_evidence_are_signalled() {
    let mut dormant = principal("dormant", false, vec![finding(Level::Admin, &["'dormant'@'%'", "SUPER"])]);
    dormant.last_login = LastLogin::NeverInWindow;
    let mut recent = principal("recent", false, vec![finding(Level::Admin, &["'recent'@'%'", "SUPER"])]);
    recent.last_login = LastLogin::Logged("2026-12-01T00:00:00Z".into());
    let mut short = principal("short", false, vec![finding(Level::Admin, &["'short'@'%'", "SUPER"])]);
    short.last_login = LastLogin::NeverSince("2026-11-30T00:00:00Z".into());
    let mut role = principal("dba", true, vec![finding(Level::Admin, &["'dba'@''", "SUPER"])]);
    role.last_login = LastLogin::NeverInWindow;
    let mut r = result(vec![dormant, recent, short, role]);
    let evidence = |missing: Option<&str>| dbadmin_contracts::LoginEvidence {
        source: "file:/log".into(),
        window_days: 90,
        missing: missing.map(str::to_owned),
        ..Default::default()
    };
    if let Outcome::Collected(c) = &mut r.outcome {
        c.login_evidence = Some(Box::new(evidence(None)));
    }
    let s = signals(Some(&r));
    assert!(s.codes.contains(&review::DORMANT_ADMIN) && !s.codes.contains(&review::LOGIN_EVIDENCE_MISSING), "{s:?}");
    let detail = s.details.iter().find(|d| d.starts_with("admins that can log in but did not")).unwrap();
    assert!(detail.ends_with("'dormant'@'%'"), "only the dormant login: {detail}");
    if let Outcome::Collected(c) = &mut r.outcome {
        c.login_evidence = Some(Box::new(evidence(Some("the log is in PostgreSQL's stderr format"))));
        c.principals.retain(|p| p.name != "dormant");
    }
    let s = signals(Some(&r));
    assert!(!s.codes.contains(&review::DORMANT_ADMIN) && s.codes.contains(&review::LOGIN_EVIDENCE_MISSING), "{s:?}");
    assert!(s.details.iter().any(|d| d == "no login evidence: the log is in PostgreSQL's stderr format"), "{s:?}");
}
