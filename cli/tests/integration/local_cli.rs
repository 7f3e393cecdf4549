//! The `db-admin-report` binary, run as a user runs it.

use crate::support::{self, port, repo};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_db-admin-report"));
    c.env_remove("DBADMIN_SECRETS_FILE").env("NO_COLOR", "1");
    c
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn write_secrets(dir: &Path, mode: u32) -> PathBuf {
    let path = dir.join("secrets.json");
    std::fs::copy(repo().join("examples/demo/secrets.json"), &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

const HEADER: &str = "id,account_id,region,engine,host,port,databases,secret,role_arn,tls,tags\n";

fn servers_up() -> bool {
    let ports = [
        port("DBADMIN_TEST_MARIADB_PORT", 13306),
        port("DBADMIN_TEST_MYSQL_PORT", 13307),
        port("DBADMIN_TEST_PG_PORT", 15432),
    ];
    if ports.iter().all(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_ok()) {
        return true;
    }
    let msg = format!("test servers are not listening on {ports:?}; start them with scripts/test-servers.sh up");
    panic!("{msg}")
}

fn demo_inventory(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("examples/demo/inventory.csv"))
        .unwrap()
        .replace(",13306,", &format!(",{},", port("DBADMIN_TEST_MARIADB_PORT", 13306)))
        .replace(",13307,", &format!(",{},", port("DBADMIN_TEST_MYSQL_PORT", 13307)))
        .replace(",15432,", &format!(",{},", port("DBADMIN_TEST_PG_PORT", 15432)))
        .replace(",file:.state/postgres/data/log/postgresql.json", &format!(",file:{}", pg_login_log().display()));
    let path = dir.join("inventory.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// The PostgreSQL server's own login log (scripts/test-servers.sh env).
fn pg_login_log() -> PathBuf {
    std::env::var("DBADMIN_TEST_PG_LOGIN_LOG")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".state/postgres/data/log/postgresql.json"))
}

fn ca_file() -> PathBuf {
    std::env::var("DBADMIN_TEST_CA_FILE").map(PathBuf::from).unwrap_or_else(|_| repo().join(".state/tls/ca.pem"))
}

/// Runs `generate --local` over `inventory` with the demo secrets (mode `secrets_mode`), writing under `dir/out`.
fn generate_with(dir: &Path, inventory: &Path, secrets_mode: u32, extra: &[&str]) -> Output {
    let secrets = write_secrets(dir, secrets_mode);
    bin()
        .args(["generate", "--local", "--no-progress", "--connect-timeout", "5"])
        .arg("--inventory")
        .arg(inventory)
        .arg("--secrets-file")
        .arg(&secrets)
        .arg("--tls-ca-file")
        .arg(ca_file())
        .arg("--out")
        .arg(dir.join("out"))
        .args(extra)
        .output()
        .unwrap()
}

fn generate(dir: &Path, extra: &[&str]) -> Output {
    generate_with(dir, &demo_inventory(dir), 0o600, extra)
}

#[test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
fn generate_local_reports_exactly_the_fixture_admins() {
    if !servers_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = generate(dir.path(), &["--output", "json"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "one unreachable target makes a partial report; stderr: {}",
        text(&out.stderr)
    );
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["population"], 4);
    assert_eq!(outcome["errors"], 1);
    let csv = PathBuf::from(outcome["report"].as_str().unwrap());
    assert!(csv.ends_with("v1/report.csv"), "{}", csv.display());

    support::assert_demo_golden(&std::fs::read(&csv).unwrap());

    // The manifest checks out, and tampering is caught.
    let report_dir = csv.parent().unwrap();
    let ok = bin().arg("verify").arg(report_dir).output().unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stdout));
    assert!(text(&ok.stdout).ends_with(": ok\n"));
    let mut bytes = std::fs::read(&csv).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 1;
    std::fs::write(&csv, bytes).unwrap();
    let bad = bin().arg("verify").arg(report_dir).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stdout).contains("MISMATCH report.csv: SHA-256"), "{}", text(&bad.stdout));

    // No secret in anything written.
    for entry in walk(&dir.path().join("out")) {
        let content = std::fs::read_to_string(&entry).unwrap();
        assert!(!content.contains("collector-pw"), "{} holds a password", entry.display());
    }
}

/// The demo's Last Login Date is read from the PostgreSQL server's own log (jsonlog): fx_super
/// logged in (scripts/test-servers.sh), fx_createrole never did since the log starts; MySQL and
/// MariaDB say why they have no evidence.
#[test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
fn the_demo_report_dates_logins_from_the_servers_own_log() {
    if !servers_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = generate(dir.path(), &["--output", "json"]);
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let csv = PathBuf::from(outcome["report"].as_str().unwrap());
    let rows = dbadmin_reporter::render::from_csv(&std::fs::read(&csv).unwrap()).unwrap();
    let row = |db: &str, user: &str| {
        rows.iter()
            .find(|r| r.database_name == db && r.username == user)
            .unwrap_or_else(|| panic!("{db} {user} is in the report"))
    };
    let logged = row("demo-postgres", "fx_super");
    assert!(
        dbadmin_contracts::parse_rfc3339(&logged.last_login_date).is_some(),
        "fx_super's login is dated: {:?}",
        logged.last_login_date
    );
    assert!(logged.login_evidence.starts_with("file:/"), "{}", logged.login_evidence);
    let never = &row("demo-postgres", "fx_createrole").last_login_date;
    assert!(never.starts_with("NEVER SINCE ") || never == "NEVER IN WINDOW", "{never}");
    let any = |db: &str| &rows.iter().find(|r| r.database_name == db).unwrap().login_evidence;
    let mysql = any("demo-mysql");
    assert!(mysql.starts_with("NONE: Oracle MySQL's community server keeps no login log"), "{mysql}");
    let mariadb = any("demo-mariadb");
    assert!(mariadb.starts_with("NONE: MariaDB's login log"), "{mariadb}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(csv.with_file_name("manifest.json")).unwrap()).unwrap();
    let evidence = manifest["login_evidence"].as_array().unwrap();
    let pg = evidence.iter().find(|e| e["target"] == "demo-postgres").unwrap_or_else(|| panic!("{evidence:?}"));
    assert!(pg["logins"].as_u64().unwrap() > 0 && pg["sha256"].as_str().unwrap().len() == 64, "{pg}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `--require-bound-secrets`: the demo's logins name no database, so none is sent anywhere.
#[test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
fn a_deployment_that_requires_bound_secrets_sends_no_unbound_password() {
    if !servers_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = generate(dir.path(), &["--require-bound-secrets", "--engines", "postgres", "--output", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let csv = PathBuf::from(outcome["report"].as_str().unwrap());
    let rows = dbadmin_reporter::render::from_csv(&std::fs::read(&csv).unwrap()).unwrap();
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(r.error_kind, "credential_host_mismatch", "{r:?}");
        assert!(r.admin_reason.contains("names no database"), "{}", r.admin_reason);
    }
}

#[test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
fn filters_narrow_the_population() {
    if !servers_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = generate(dir.path(), &["--engines", "postgres", "--regions", "eu-west-1", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["population"], 1);
}

#[test]
fn malformed_inventory_names_file_line_and_field_and_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.csv");
    std::fs::write(
        &inv,
        format!(
            "{HEADER}ok,123456789012,eu-west-1,mysql,h,3306,,s,,,\nbad,123456789012,eu-west-1,mysql,h,99999,,s,,,\n"
        ),
    )
    .unwrap();
    let out = generate_with(dir.path(), &inv, 0o600, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("inv.csv:3: field 'port': '99999' is not a port number"), "{err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace"), "{err}");
    assert!(!dir.path().join("out/runs").exists(), "nothing may be published from an invalid inventory");

    let v = bin().args(["inventory", "validate"]).arg(&inv).output().unwrap();
    assert_eq!(v.status.code(), Some(1));
    assert!(text(&v.stderr).contains("inv.csv:3: field 'port'"));
}

/// `generate --help` lists the command's own options first; the deployment's settings and the
/// global options follow, each under a heading of its own.
#[test]
fn generate_help_lists_its_own_options_first() {
    let out = bin().args(["generate", "--help"]).output().unwrap();
    let help = text(&out.stdout);
    let at = |needle: &str| help.find(needle).unwrap_or_else(|| panic!("{needle} is not in:\n{help}"));
    let deployment = at("\nDeployment (AWS");
    for own in ["--local", "--inventory <", "--baseline <", "--secrets-file <"] {
        assert!(at(own) < deployment, "{own} comes before the deployment's settings:\n{help}");
    }
    for setting in ["--bucket <", "--requests-queue-url <", "--table <"] {
        assert!(at(setting) > deployment, "{setting} is under the deployment's heading:\n{help}");
    }
    assert!(at("\nGlobal options") < at("--verbose"), "{help}");
}

#[test]
fn unknown_flag_values_are_usage_errors() {
    let out = bin().args(["generate", "--local", "--inventory", "x.csv", "--engines", "oracle"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown engine 'oracle'"), "{}", text(&out.stderr));
    let out = bin().args(["generate", "--local", "--inventory", "x.csv", "--output-format", "xml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_secrets_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.csv");
    std::fs::write(&inv, format!("{HEADER}a,123456789012,eu-west-1,mysql,127.0.0.1,1,,demo/mysql,,,\n")).unwrap();
    let out = generate_with(dir.path(), &inv, 0o644, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("chmod 600"), "{}", text(&out.stderr));
}

#[test]
fn a_missing_secret_becomes_an_error_row_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.csv");
    std::fs::write(&inv, format!("{HEADER}nosecret,123456789012,eu-west-1,mysql,127.0.0.1,1,,prod/not-there,,,\n"))
        .unwrap();
    let out = generate_with(dir.path(), &inv, 0o600, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let csv = std::fs::read_to_string(text(&out.stdout).trim()).unwrap();
    let row = csv.lines().nth(1).unwrap();
    assert!(row.contains("secret 'prod/not-there' was not found") && row.contains(",ERROR,credentials,"), "{row}");
}

#[test]
fn the_aws_engine_is_not_claimed() {
    let out = bin().args(["generate", "--inventory", "x.csv"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--local"), "{}", text(&out.stderr));
}

/// `queries show` prints every query text with the SHA-256 a manifest records, and says whether a
/// report's queries are this build's texts.
#[test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
fn queries_show_prints_the_sql_and_checks_a_manifest() {
    let out = bin().args(["queries", "show", "--engine", "postgres", "--output", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let queries = shown["queries"].as_array().unwrap();
    assert!(queries.len() >= 4 && queries.iter().all(|q| q["name"].as_str().unwrap().starts_with("postgres/")));
    for q in queries {
        let sha = dbadmin_contracts::sha256_hex(q["text"].as_str().unwrap().as_bytes());
        assert_eq!(q["sha256"], sha.as_str());
    }
    if !servers_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let report = generate(dir.path(), &["--output", "json"]);
    let outcome: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let manifest = PathBuf::from(outcome["manifest"].as_str().unwrap());
    let same = bin().args(["queries", "show"]).arg("--manifest").arg(&manifest).output().unwrap();
    assert_eq!(same.status.code(), Some(0), "{}", text(&same.stderr));
    assert!(text(&same.stderr).contains("postgres/roles sha256:") && !text(&same.stderr).contains("NOT"));
    // A manifest naming other SQL (another build's) is pointed out.
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    m["queries"][0]["sha256"] = serde_json::json!("0".repeat(64));
    let other = dir.path().join("other-manifest.json");
    std::fs::write(&other, serde_json::to_vec(&m).unwrap()).unwrap();
    let differs = bin().args(["queries", "show"]).arg("--manifest").arg(&other).output().unwrap();
    assert_eq!(differs.status.code(), Some(3));
    assert!(text(&differs.stderr).contains("NOT this build's text"), "{}", text(&differs.stderr));
}

/// `reperform` collects one target of a signed local report again and finds the same access; a
/// report whose rows for the target differ from what the server holds now shows each difference,
/// and a report that does not verify is refused before anything is collected.
#[test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
fn reperform_finds_the_same_access_or_lists_what_changed() {
    if !servers_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let report = generate(dir.path(), &["--output", "json"]);
    let outcome: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let folder = PathBuf::from(outcome["manifest"].as_str().unwrap()).parent().unwrap().to_owned();
    let reperform = |folder: &Path, target: &str| {
        bin()
            .arg("reperform")
            .arg(folder)
            .arg(target)
            .arg("--inventory")
            .arg(dir.path().join("inventory.csv"))
            .arg("--secrets-file")
            .arg(dir.path().join("secrets.json"))
            .arg("--tls-ca-file")
            .arg(ca_file())
            .args(["--output", "json"])
            .output()
            .unwrap()
    };
    for target in ["demo-mariadb", "demo-postgres"] {
        let same = reperform(&folder, target);
        assert_eq!(same.status.code(), Some(0), "{target}: {}{}", text(&same.stdout), text(&same.stderr));
        let r: serde_json::Value = serde_json::from_slice(&same.stdout).unwrap();
        assert_eq!(r["identical"], true, "{r}");
        assert!(r["queries_checked"].as_u64().unwrap() >= 3, "{r}");
    }

    // A report whose MariaDB rows lack one admin: the re-performance finds it held now.
    let copy = dir.path().join("altered");
    std::fs::create_dir_all(&copy).unwrap();
    for f in ["manifest.json", "report.json"] {
        std::fs::copy(folder.join(f), copy.join(f)).unwrap();
    }
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(copy.join("report.json")).unwrap()).unwrap();
    let columns: Vec<String> = serde_json::from_value(json["columns"].clone()).unwrap();
    let (db, user) = (
        columns.iter().position(|c| c == "Database Name").unwrap(),
        columns.iter().position(|c| c == "Username").unwrap(),
    );
    let rows = json["rows"].as_array_mut().unwrap();
    let dropped =
        rows.iter().position(|r| r[db] == "demo-mariadb" && r[user] == "fx_super").expect("fx_super is an admin");
    rows.remove(dropped);
    std::fs::write(copy.join("report.json"), serde_json::to_vec(&json).unwrap()).unwrap();
    let inventory =
        dbadmin_contracts::Inventory::parse("inv", &std::fs::read(dir.path().join("inventory.csv")).unwrap()).unwrap();
    let credentials = dbadmin_ports::local::LocalCredentials::from_file(&dir.path().join("secrets.json")).unwrap();
    let connect = dbadmin_collector::ConnectOptions { ca_file: Some(ca_file()), ..Default::default() };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let changed = runtime
        .block_on(db_admin_report::reperform::reperform(&copy, "demo-mariadb", &inventory, &credentials, &connect))
        .unwrap();
    assert!(!changed.identical() && changed.only_in_report.is_empty(), "{changed:?}");
    assert!(changed.only_now.iter().all(|r| r[0] == "fx_super"), "{changed:?}");

    // The altered folder does not verify: the command refuses it.
    std::fs::copy(folder.join("manifest.sig.json"), copy.join("manifest.sig.json")).unwrap();
    std::fs::copy(folder.join("report.csv"), copy.join("report.csv")).unwrap();
    let refused = reperform(&copy, "demo-mariadb");
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    assert!(text(&refused.stderr).contains("does not verify"), "{}", text(&refused.stderr));
}

/// The review step on the demo servers: a second report read against a baseline gives each admin
/// row its review status, names the baseline in the signed manifest, flags review signals, and
/// its report.html compares it with the first report; `diff --baseline` marks added admins.
#[test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
fn a_report_read_against_a_baseline_and_compared_with_the_one_before() {
    if !servers_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let first = generate(dir.path(), &["--output", "json"]);
    let first: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let baseline = dir.path().join("baseline.csv");
    let baseline_text = "Account,Database,Principal,Approved By,Ticket,Expires\n\
        111122223333,demo-mariadb,fx_all@localhost,Carol (CISO),SEC-101,\n\
        111122223333,demo-mariadb,fx_dual@localhost,Carol (CISO),SEC-102,2020-06-30\n\
        444455556666,*,postgres,Platform team,SEC-7,\n";
    std::fs::write(&baseline, baseline_text).unwrap();

    // A baseline with a mistake is refused with its line and field, and nothing is written.
    let bad = dir.path().join("bad-baseline.csv");
    std::fs::write(&bad, "account_id,database,principal,approved_by,expires\n111122223333,demo-mysql,root@%,X,soon\n")
        .unwrap();
    let before = walk(&dir.path().join("out")).len();
    let refused = generate(dir.path(), &["--baseline", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("bad-baseline.csv:2: field 'expires': 'soon' is not a date"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(walk(&dir.path().join("out")).len(), before, "nothing written for a refused baseline");

    let second = generate(dir.path(), &["--output", "json", "--baseline", baseline.to_str().unwrap()]);
    assert_eq!(second.status.code(), Some(3), "{}", text(&second.stderr));
    let second: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    let csv = PathBuf::from(second["report"].as_str().unwrap());
    let rows = dbadmin_reporter::render::from_csv(&std::fs::read(&csv).unwrap()).unwrap();
    let review = |db: &str, user: &str, host: &str| {
        let r = rows
            .iter()
            .find(|r| r.database_name == db && r.username == user && r.user_host == host)
            .unwrap_or_else(|| panic!("{db} {user}@{host} is in the report"));
        (r.review_status.as_str(), r.approved_by.as_str(), r.approval_ticket.as_str())
    };
    assert_eq!(review("demo-mariadb", "fx_all", "localhost"), ("APPROVED", "Carol (CISO)", "SEC-101"));
    assert_eq!(review("demo-mariadb", "fx_dual", "localhost"), ("APPROVAL_EXPIRED", "Carol (CISO)", "SEC-102"));
    assert_eq!(review("demo-mariadb", "fx_locked", "%"), ("UNAPPROVED", "", ""));
    assert_eq!(review("demo-postgres", "postgres", ""), ("APPROVED", "Platform team", "SEC-7"));
    let unreachable = rows.iter().find(|r| r.database_name == "demo-unreachable").unwrap();
    assert_eq!((unreachable.review_status.as_str(), unreachable.review_signals.as_str()), ("", "ERROR"));
    // MariaDB's fx_column_role cannot log in, and fx_column_via_role (who can) holds it.
    let mariadb = rows.iter().find(|r| r.database_name == "demo-mariadb").unwrap();
    assert!(mariadb.review_signals.contains("NOLOGIN_ADMIN_HELD"), "{}", mariadb.review_signals);
    assert!(mariadb.database_admins.parse::<u32>().unwrap() > 1, "{}", mariadb.database_admins);

    // The signed manifest names the baseline and counts the statuses.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(csv.with_file_name("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["baseline"]["sha256"], dbadmin_contracts::sha256_hex(baseline_text.as_bytes()));
    assert_eq!(manifest["baseline"]["approvals"], 3);
    let unapproved = rows.iter().filter(|r| r.review_status == "UNAPPROVED").count() as u64;
    assert_eq!(manifest["baseline"]["review_counts"]["UNAPPROVED"], unapproved, "{}", manifest["baseline"]);
    // The demo's logins name no database (no RDS fields, no allow-list): the manifest lists every
    // target whose password went where the inventory alone said, and verify repeats it.
    let unbound: Vec<&str> =
        manifest["unbound_secrets"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(unbound.contains(&"demo-mariadb") && unbound.contains(&"demo-postgres"), "{unbound:?}");
    let ok = bin().arg("verify").arg(csv.parent().unwrap()).output().unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stdout));
    assert!(text(&ok.stdout).contains("used a secret that names no database"), "{}", text(&ok.stdout));

    // report.html compares with the first report: the same servers, so nothing changed.
    let html = std::fs::read_to_string(csv.with_file_name("report.html")).unwrap();
    let first_id = first["report_id"].as_str().unwrap();
    assert!(
        html.contains(&format!("Compared with report {first_id} v1, the report signed before this one: 0 admin(s) added, 0 removed, 0 changed")),
        "{}",
        &html[..html.len().min(4000)]
    );
    assert!(html.contains("principal(s) not approved in the baseline"));

    // diff: an earlier report without fx_all and fx_locked shows them added, marked against the baseline.
    let earlier = dir.path().join("earlier.csv");
    let first_csv = std::fs::read_to_string(first["report"].as_str().unwrap()).unwrap();
    let kept: Vec<&str> =
        first_csv.split("\r\n").filter(|l| !l.contains(",fx_all,localhost,") && !l.contains(",fx_locked,%,")).collect();
    std::fs::write(&earlier, kept.join("\r\n")).unwrap();
    let d = bin().arg("diff").arg(&earlier).arg(&csv).arg("--baseline").arg(&baseline).output().unwrap();
    let out = text(&d.stdout);
    assert!(out.contains("111122223333/eu-west-1/demo-mariadb: fx_all@localhost  ADMIN"), "{out}");
    assert!(out.lines().any(|l| l.contains("fx_all@localhost") && l.ends_with("  APPROVED")), "{out}");
    assert!(out.lines().any(|l| l.contains("fx_locked@%") && l.ends_with("  UNAPPROVED")), "{out}");
}
