//! `discovery-bench [ACCOUNTS] [REGIONS]` (default 100 × 3): how long discovery takes on the
//! MiniStack deployment. Seeds one RDS instance in each account × region (MiniStack takes a
//! 12-digit access key as the account), then lists them all three times as the publisher does
//! (`dbadmin_publisher::list_databases`: one AssumeRole per account, DescribeDBInstances,
//! DescribeDBClusters and ListTagsForResource per account × region, 16 at once) and prints the
//! times. Needs `scripts/aws-local.sh up` and its `env`.

use anyhow::Context;
use dbadmin_aws::{rds::RdsDiscovery, Clients};
use dbadmin_contracts::discovery::DiscoveryRequest;
use std::time::Instant;

const REGIONS: [&str; 6] = ["eu-west-1", "us-east-1", "ap-southeast-2", "eu-central-1", "us-west-2", "ca-central-1"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let accounts = args.next().transpose().context("ACCOUNTS is a number")?.unwrap_or(100);
    let regions = args.next().transpose().context("REGIONS is a number")?.unwrap_or(3).min(REGIONS.len());
    let c = Clients::load().await;
    let account_ids: Vec<String> = (0..accounts).map(|i| format!("{:012}", 700_000_000_000u64 + i as u64)).collect();
    let regions: Vec<String> = REGIONS[..regions].iter().map(|r| (*r).to_owned()).collect();
    let seed = Instant::now();
    for account in &account_ids {
        for region in &regions {
            let creds = aws_sdk_rds::config::Credentials::new(account, "test", None, None, "bench");
            let rds = aws_sdk_rds::Client::from_conf(
                aws_sdk_rds::config::Builder::from(&c.sdk)
                    .region(aws_sdk_rds::config::Region::new(region.clone()))
                    .credentials_provider(creds)
                    .build(),
            );
            let made = rds
                .create_db_instance()
                .db_instance_identifier("bench-db")
                .engine("postgres")
                .db_instance_class("db.t3.micro")
                .master_username("admin")
                .master_user_password("password1234")
                .allocated_storage(20)
                .send()
                .await;
            if let Err(e) = made {
                anyhow::ensure!(format!("{e:?}").contains("AlreadyExists"), "seeding {account} {region}: {e:?}");
            }
        }
    }
    eprintln!("seeded {} instances in {:.1} s", accounts * regions.len(), seed.elapsed().as_secs_f64());
    let discovery = RdsDiscovery::new(&c, Some("db-admin-report-target".into()), None);
    let asked = DiscoveryRequest { organization: false, regions: regions.clone() };
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let (scope, scopes) = dbadmin_publisher::list_databases(&discovery, &asked, &[], &account_ids).await;
        let ms = t.elapsed().as_millis() as u64;
        let found: usize = scopes.iter().map(|s| s.databases.len()).sum();
        let failed = scopes.iter().filter(|s| s.error.is_some()).count();
        anyhow::ensure!(failed == 0 && found == accounts * regions.len(), "{found} found, {failed} failed");
        eprintln!(
            "listed {} accounts × {} regions: {found} databases in {ms} ms",
            scope.accounts.len(),
            scope.regions.len()
        );
        times.push(ms);
    }
    times.sort_unstable();
    println!(
        "{}",
        serde_json::json!({
            "accounts": accounts, "regions": regions.len(), "listings": accounts * regions.len(),
            "runs_ms": times, "median_ms": times[1],
        })
    );
    Ok(())
}
