//! The reporter Lambda: finalize messages → the report's next version in S3.

use dbadmin_aws::{dynamo::DynamoRunStore, lambda, s3::S3Store, Clients, Settings};
use dbadmin_contracts::FinalizeMessage;
use dbadmin_reporter::{handle_finalize, ReporterDeps};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let settings = Settings::from_env()?;
    let clients = Clients::load().await;
    let store = S3Store::new(clients.s3.clone(), &settings.bucket, settings.kms_key_id.clone());
    let runs = DynamoRunStore::new(clients.dynamodb.clone(), &settings.table);
    let deps = ReporterDeps { store: &store, runs: &runs };
    let deps = &deps;
    lambda::run_sqs(1, move |record| async move {
        let message: FinalizeMessage = dbadmin_contracts::decode(lambda::body(&record)?.as_bytes())?;
        handle_finalize(&message, deps).await?;
        Ok(())
    })
    .await
}
