//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

pub mod emf;

use std::path::PathBuf;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

pub fn port(var: &str, default: u16) -> u16 {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The rows of fixture principals, without timestamps: `database | principal | level | privilege | scope | path | status | collection`.
pub fn fixture_rows(bytes: &[u8]) -> Vec<String> {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let [db, user, host, level, privilege, scope, path, status, collection, kind] = [
        "Database Name",
        "Username",
        "User Host",
        "Permission Level",
        "Privilege",
        "Scope",
        "Grant Path",
        "User Status",
        "Collection Status",
        "Error Kind",
    ]
    .map(col);
    let mut rows: Vec<String> = reader
        .records()
        .map(Result::unwrap)
        .filter(|r| r[user].starts_with("fx_") || ["dbadmin_collector", "rds_superuser", ""].contains(&&r[user]))
        .map(|r| {
            let principal = if r[host].is_empty() { r[user].to_owned() } else { format!("{}@{}", &r[user], &r[host]) };
            let error = if &r[collection] == "ERROR" { format!(" ({})", &r[kind]) } else { String::new() };
            format!(
                "{} | {} | {} | {} | {} | {} | {} | {}{}",
                &r[db], principal, &r[level], &r[privilege], &r[scope], &r[path], &r[status], &r[collection], error
            )
        })
        .collect();
    rows.sort();
    rows
}

/// Asserts a report CSV's fixture rows equal cli/tests/integration/golden/demo-fixture-rows.txt
/// (regenerate with `UPDATE_GOLDEN=1`, then review the diff).
pub fn assert_demo_golden(csv: &[u8]) {
    let actual = fixture_rows(csv).join("\n") + "\n";
    let golden = repo().join("cli/tests/integration/golden/demo-fixture-rows.txt");
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::write(&golden, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap();
    assert!(expected == actual, "fixture rows differ from {}:\n{}", golden.display(), actual);
}

/// The deployment's outputs (scripts/aws-local.sh up); the test fails naming what is missing.
pub fn aws_outputs() -> serde_json::Value {
    let path = std::env::var("DBADMIN_AWS_OUTPUTS").ok().filter(|p| std::path::Path::new(p).exists());
    let Some(path) = path.filter(|_| std::env::var("AWS_ENDPOINT_URL").is_ok()) else {
        panic!("the local AWS deployment is not up; run scripts/aws-local.sh up and export scripts/aws-local.sh env");
    };
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// What one run of the CLI binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

/// Runs the built `db-admin-report` against the deployment in `outputs`, configured through the
/// environment as a user would (no config file from the developer's home is read).
pub fn cli(outputs: &serde_json::Value, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
    let home = std::env::temp_dir().join("db-admin-report-cli-tests-home");
    std::fs::create_dir_all(&home).unwrap();
    let s = |k: &str| outputs[k].as_str().unwrap().to_owned();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_db-admin-report"));
    cmd.args(args)
        .env_remove("DBADMIN_CONFIG")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .env("DBADMIN_REQUESTS_QUEUE_URL", s("requests_queue_url"))
        .env("DBADMIN_BUCKET", s("bucket"))
        .env("DBADMIN_TABLE", s("table"))
        .env("DBADMIN_COLLECT_QUEUE_URL", s("collect_queue_url"))
        .env("DBADMIN_COLLECT_DLQ_URL", s("collect_dlq_url"))
        .env("DBADMIN_FINALIZE_QUEUE_URL", s("finalize_queue_url"))
        .env("DBADMIN_FINALIZE_DLQ_URL", s("finalize_dlq_url"))
        .env("DBADMIN_REQUESTS_DLQ_URL", s("requests_dlq_url"))
        .env("DBADMIN_SIGNING_KEY_ID", s("signing_key_arn"))
        .env("DBADMIN_WAIT_TIMEOUT", "150");
    // An empty value removes the variable.
    for (k, v) in extra_env {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    let out = cmd.output().expect("run db-admin-report");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A credential pair from `DBADMIN_AWS_{who}_ACCESS_KEY_ID` / `…_SECRET_ACCESS_KEY`
/// (scripts/aws-local.sh env), else `fallback`.
fn keys(who: &str, fallback: (&str, &str)) -> (String, String) {
    let var = |name: &str, default: &str| std::env::var(format!("DBADMIN_AWS_{who}_{name}")).unwrap_or(default.into());
    (var("ACCESS_KEY_ID", fallback.0), var("SECRET_ACCESS_KEY", fallback.1))
}

/// Clients acting as the emulated account's root (`DBADMIN_AWS_ADMIN_*`, MiniStack's root key
/// `test` by default), which IAM does not restrict: test set-up, and the tests that play a
/// function's part themselves. The CLI runs as the operator (the environment's credentials).
pub async fn admin_clients() -> dbadmin_aws::Clients {
    let (id, secret) = keys("ADMIN", ("test", "test"));
    signed_as(&dbadmin_aws::Clients::load().await, &id, &secret, "dbadmin-test-admin")
}

/// Clients acting as the deployment's inventory writer (`inventory_writer_arns`), the one principal
/// the bucket policy lets write `inventory/*`: inventories and baselines are put as it.
pub fn writer_clients(outputs: &serde_json::Value, clients: &dbadmin_aws::Clients) -> dbadmin_aws::Clients {
    let s = |k: &str| outputs["inventory_writer"][k].as_str().unwrap().to_owned();
    let (id, secret) = keys("INVENTORY_WRITER", (&s("access_key_id"), &s("secret_access_key")));
    signed_as(clients, &id, &secret, "dbadmin-test-inventory-writer")
}

/// Clients acting as the root of emulated `account` (MiniStack takes a 12-digit access key as the
/// account), e.g. a target account whose secrets a test reads without the deployed roles.
pub fn account_clients(clients: &dbadmin_aws::Clients, account: &str) -> dbadmin_aws::Clients {
    signed_as(clients, account, "test", "dbadmin-test-account")
}

/// `clients` with every request signed by the access key `id`/`secret`.
fn signed_as(clients: &dbadmin_aws::Clients, id: &str, secret: &str, name: &'static str) -> dbadmin_aws::Clients {
    let creds = aws_sdk_sts::config::Credentials::new(id, secret, None, None, name);
    let sdk = clients
        .sdk
        .to_builder()
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(creds))
        .build();
    dbadmin_aws::Clients::from_sdk(sdk)
}

/// Runs the CLI as the deployment's auditor (read-only policy, terraform/policies/auditor.json).
pub fn cli_as_auditor(outputs: &serde_json::Value, args: &[&str]) -> Run {
    let s = |k: &str| outputs["auditor"][k].as_str().unwrap().to_owned();
    let (id, secret) = keys("AUDITOR", (&s("access_key_id"), &s("secret_access_key")));
    cli(outputs, args, &[("AWS_ACCESS_KEY_ID", &id), ("AWS_SECRET_ACCESS_KEY", &secret), ("AWS_SESSION_TOKEN", "")])
}

/// Runs `code` with the emulator's Python (boto3) as the account's root, printing what it prints.
pub fn admin_python(outputs: &serde_json::Value, code: &str) -> String {
    let venv =
        std::env::var("DBADMIN_MINISTACK_VENV").expect("DBADMIN_MINISTACK_VENV (export scripts/aws-local.sh env)");
    let (id, secret) = keys("ADMIN", ("test", "test"));
    let out = std::process::Command::new(format!("{venv}/bin/python"))
        .args(["-c", code])
        .env("AWS_ENDPOINT_URL", outputs["endpoint"].as_str().unwrap())
        .env("AWS_ACCESS_KEY_ID", id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_DEFAULT_REGION", outputs["region"].as_str().unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The target-account roles (collector and discovery) in one more account of the deployment.
pub fn add_target_account(outputs: &serde_json::Value, account: &str) {
    let venv =
        std::env::var("DBADMIN_MINISTACK_VENV").expect("DBADMIN_MINISTACK_VENV (export scripts/aws-local.sh env)");
    let state = std::path::Path::new(&std::env::var("DBADMIN_AWS_OUTPUTS").unwrap()).parent().unwrap().to_owned();
    let out = std::process::Command::new(format!("{venv}/bin/python"))
        .arg(repo().join("scripts/aws_local_deploy.py"))
        .args(["--endpoint", outputs["endpoint"].as_str().unwrap(), "--state", state.to_str().unwrap()])
        .args(["--add-target-account", account])
        .output()
        .unwrap();
    assert!(out.status.success(), "adding account {account}: {}", String::from_utf8_lossy(&out.stderr));
}
