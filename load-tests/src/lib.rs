//! What the benchmarks against the deployed pipeline share: an inventory over the local test
//! servers, submitting a request the way the CLI does, and the deployment's outputs.

pub mod calls;
pub mod proxy;

use anyhow::Context;
use dbadmin_aws::Clients;
use dbadmin_contracts::{Filters, ReportRequest, Versioned};

pub fn port(var: &str, default: u16) -> u16 {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub const INVENTORY_HEADER: &str =
    "id,account_id,region,engine,host,port,databases,secret,role_arn,tls,tags,login_log\n";

/// The log group every PostgreSQL row of the load tests names as its login log (`load-tests/run.sh`
/// fills it in each load-test account: 90 days of RDS-style lines).
pub const LOGIN_LOG_GROUP: &str = "/aws/rds/instance/bench-pg/postgresql";

/// Inventory rows for `n` targets named `{prefix}-00000…`, spread over the three demo servers
/// (many targets share a server) and three accounts.
pub fn inventory_rows(prefix: &str, n: usize) -> String {
    // Each secret lives in its demo target's region (examples/demo), where the collector reads it.
    let servers = [
        ("mariadb", port("DBADMIN_TEST_MARIADB_PORT", 13306), "demo/mariadb", "eu-west-1"),
        ("mysql", port("DBADMIN_TEST_MYSQL_PORT", 13307), "demo/mysql", "us-east-1"),
        ("postgres", port("DBADMIN_TEST_PG_PORT", 15432), "demo/postgres", "eu-west-1"),
    ];
    let mut out = String::new();
    for i in 0..n {
        let (engine, port, secret, region) = servers[i % servers.len()];
        // PostgreSQL rows read their logins from CloudWatch Logs, as an RDS database's would.
        let login_log = if engine == "postgres" {
            format!("identifier=bench-pg,cloudwatch:{LOGIN_LOG_GROUP}")
        } else {
            ",".to_owned()
        };
        out.push_str(&format!(
            "{prefix}-{i:05},{:012},{region},{engine},127.0.0.1,{port},,{secret},,verify-full,{login_log}\n",
            100_000_000_000u64 + (i % 3) as u64
        ));
    }
    out
}

/// The deployment's outputs (`scripts/aws-local.sh up` writes them).
pub fn outputs() -> anyhow::Result<serde_json::Value> {
    let path =
        std::env::var("DBADMIN_AWS_OUTPUTS").context("DBADMIN_AWS_OUTPUTS (eval \"$(scripts/aws-local.sh env)\")")?;
    Ok(serde_json::from_slice(&std::fs::read(&path).with_context(|| format!("reading {path}"))?)?)
}

/// A named output.
pub fn output<'a>(o: &'a serde_json::Value, name: &str) -> anyhow::Result<&'a str> {
    o[name].as_str().with_context(|| format!("outputs.{name}"))
}

/// S3 as the deployment's inventory writer (outputs `inventory_writer`), the one principal the
/// bucket policy lets write `inventory/*`; the given clients' S3 when the deployment names none.
pub fn writer_s3(c: &Clients, o: &serde_json::Value) -> aws_sdk_s3::Client {
    let w = &o["inventory_writer"];
    match (w["access_key_id"].as_str(), w["secret_access_key"].as_str()) {
        (Some(id), Some(secret)) => {
            let creds = aws_sdk_s3::config::Credentials::new(id, secret, None, None, "inventory-writer");
            let sdk =
                c.sdk.to_builder().credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(creds));
            Clients::from_sdk(sdk.build()).s3
        }
        _ => c.s3.clone(),
    }
}

/// Stores `inventory` as `inventory/{name}.csv` and sends a report request for it, as the CLI does.
pub async fn submit(
    c: &Clients,
    o: &serde_json::Value,
    name: &str,
    inventory: String,
) -> anyhow::Result<ReportRequest> {
    let bucket = output(o, "bucket")?;
    let key = format!("inventory/{name}.csv");
    writer_s3(c, o).put_object().bucket(bucket).key(&key).body(inventory.into_bytes().into()).send().await?;
    let request = ReportRequest {
        schema_version: ReportRequest::SCHEMA_VERSION,
        report_id: ulid::Ulid::new().to_string(),
        requested_by: name.into(),
        requested_at: dbadmin_contracts::now_rfc3339(),
        inventory: format!("s3://{bucket}/{key}"),
        filters: Filters::default(),
        output_format: Default::default(),
        retry: None,
        discovery: None,
        baseline: None,
    };
    c.sqs
        .send_message()
        .queue_url(output(o, "requests_queue_url")?)
        .message_body(String::from_utf8(dbadmin_contracts::encode(&request))?)
        .send()
        .await?;
    Ok(request)
}
