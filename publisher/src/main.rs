//! The publisher Lambda: report requests from the requests queue → one collection job per database.

use dbadmin_aws::emf::{metric, Metrics};
use dbadmin_aws::lambda::{self, RecordError};
use dbadmin_aws::{
    dynamo::DynamoRunStore, rds::RdsDiscovery, s3, sns::SnsJobQueue, sqs::SqsFinalizeQueue, Clients, Settings,
};
use dbadmin_contracts::ReportRequest;
use dbadmin_publisher::{handle_request, PublisherDeps};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let settings = Settings::from_env()?;
    let clients = Clients::load().await;
    let store = s3::S3Store::new(clients.s3.clone(), &settings.bucket, settings.kms_key_id.clone());
    let inventory = s3::S3Inventory::new(clients.s3.clone()).with_ssm(clients.ssm.clone());
    let runs = DynamoRunStore::new(clients.dynamodb.clone(), &settings.table);
    let jobs = SnsJobQueue::new(clients.sns.clone(), settings.require_collect_topic()?);
    let finalize = SqsFinalizeQueue::new(clients.sqs.clone(), settings.require_finalize_queue()?);
    let discovery = RdsDiscovery::new(&clients, settings.target_role_name.clone(), settings.external_id.clone());
    let deps = PublisherDeps {
        inventory: &inventory,
        store: &store,
        runs: &runs,
        counter: &runs,
        jobs: &jobs,
        finalize: &finalize,
        discovery: Some(&discovery),
    };
    let deps = &deps;
    let poison = lambda::SqsPoisonSink::from_settings(&clients, &settings);
    lambda::run_sqs(1, poison.as_ref().map(|p| p as _), move |record, _deadline| async move {
        let request: ReportRequest = lambda::decode(&record)?;
        // Who asked and when, as SQS recorded it, not as the body claims.
        let received = lambda::provenance(&record)?;
        handle_request(&request, &received, deps)
            .await
            .map(|report| {
                Metrics::new("publisher")
                    .property("report_id", &report.report_id)
                    .count(metric::JOBS_PUBLISHED, report.published as u64)
                    .count(metric::REPORTS_REQUESTED, u64::from(report.new_run))
                    .emit();
            })
            .map_err(|e| {
                let retryable = e.is_retryable();
                RecordError::classify(e, retryable)
            })
    })
    .await
}
