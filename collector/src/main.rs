//! The collector Lambda: collection jobs from the collect queue → a stored, counted result each.

use dbadmin_aws::emf::{metric, Metrics};
use dbadmin_aws::{
    credentials::AwsCredentials, dynamo::DynamoRunStore, lambda, s3::S3Store, sqs::SqsFinalizeQueue, Clients, Settings,
};
use dbadmin_collector::{handle_delivery, ConnectOptions, Delivery, JobReport};
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
        min_tls: settings.min_tls,
        require_bound_secrets: settings.require_bound_secrets,
        login_window_days: settings.login_window_days,
        ..ConnectOptions::default()
    };
    // Kept across invocations: the targets of the reports this instance has seen.
    let populations = dbadmin_collector::Populations::new();
    let deps = dbadmin_collector::CollectorDeps {
        populations: &populations,
        credentials: &credentials,
        store: &store,
        counter: &runs,
        attempts: &runs,
        finalize: &finalize,
        connect: &connect,
        login_logs: &credentials,
    };
    let deps = &deps;
    let poison = lambda::SqsPoisonSink::from_settings(&clients, &settings);
    let (margin, max_receive_count) = (settings.deadline_margin, settings.max_receive_count);
    lambda::run_sqs(settings.batch_concurrency, poison.as_ref().map(|p| p as _), move |record, deadline| async move {
        // A body that is not a collection job is poison: it goes to the DLQ at once, with the reason.
        let job: CollectionJob = lambda::decode(&record)?;
        // The database work ends `margin` before the invocation must, so the result is stored and counted.
        let delivery = Delivery {
            deadline: deadline.map(|d| d.checked_sub(margin).unwrap_or(d)),
            last: lambda::last_delivery(&record, max_receive_count),
            first: lambda::first_delivery(&record),
        };
        // Infrastructure failures (storing, counting, credentials that may come back) are worth another
        // delivery; a job naming no target of its report is poison and goes to the DLQ at once.
        handle_delivery(&job, deps, delivery).await.map(|report| metrics(&job, &report)).map_err(|e| {
            let retryable = e.is_retryable();
            lambda::RecordError::classify(e, retryable)
        })
    })
    .await
}

/// A newly counted database as metrics: counted by outcome (`ok` or the error kind) and engine,
/// with what its collection read when this delivery collected it.
fn metrics(job: &CollectionJob, report: &JobReport) {
    if !report.newly_counted {
        return;
    }
    let outcome = report.error.map_or_else(|| "ok".to_owned(), |kind| kind.to_string());
    let mut metrics = Metrics::new("collector")
        .dimension("Engine", report.engine.to_string())
        .dimension("Outcome", outcome)
        .property("report_id", &job.report_id)
        .count(if report.error.is_some() { metric::DATABASES_FAILED } else { metric::DATABASES_COLLECTED }, 1);
    if let Some(c) = report.collected {
        metrics = metrics
            .milliseconds(metric::COLLECTION_DURATION, c.duration_ms)
            .count(metric::PRINCIPALS_EXAMINED, c.principals_examined.into())
            .count(metric::ADMINS_FOUND, c.admins.into());
    }
    metrics.emit();
}
