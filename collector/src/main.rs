//! The collector Lambda: collection jobs from the collect queue → a stored, counted result each.

use dbadmin_aws::{
    credentials::AwsCredentials, dynamo::DynamoRunStore, lambda, s3::S3Store, sqs::SqsFinalizeQueue, Clients, Settings,
};
use dbadmin_collector::{handle_job, ConnectOptions};
use dbadmin_contracts::CollectionJob;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let settings = Settings::from_env()?;
    let clients = Clients::load().await;
    let credentials = AwsCredentials::new(&clients, settings.target_role_name.clone(), settings.external_id.clone());
    let store = S3Store::new(clients.s3.clone(), &settings.bucket, settings.kms_key_id.clone());
    let runs = DynamoRunStore::new(clients.dynamodb.clone(), &settings.table);
    let finalize = SqsFinalizeQueue::new(clients.sqs.clone(), settings.require_finalize_queue()?);
    let connect = ConnectOptions {
        connect_timeout: settings.connect_timeout,
        query_timeout: settings.query_timeout,
        ca_file: settings.tls_ca_file.clone().map(Into::into),
        ..ConnectOptions::default()
    };
    let deps = dbadmin_collector::CollectorDeps {
        credentials: &credentials,
        store: &store,
        runs: &runs,
        finalize: &finalize,
        connect: &connect,
    };
    let deps = &deps;
    let poison = settings.dlq_url.as_ref().map(|url| lambda::SqsPoisonSink::new(clients.sqs.clone(), url));
    lambda::run_sqs(settings.batch_concurrency, poison.as_ref().map(|p| p as _), move |record| async move {
        // A body that is not a collection job is poison: it goes to the DLQ at once, with the reason.
        let job: CollectionJob = lambda::decode(&record)?;
        // Infrastructure failures (storing, counting, credentials that may come back) are worth another delivery.
        handle_job(&job, deps).await.map(|_| ()).map_err(lambda::RecordError::retry)
    })
    .await
}
