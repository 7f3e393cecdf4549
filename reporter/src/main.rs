//! The reporter Lambda: finalize messages → the report's next version in S3.

use dbadmin_aws::emf::{metric, Metrics};
use dbadmin_aws::lambda::{self, RecordError};
use dbadmin_aws::{dynamo::DynamoRunStore, kms::KmsSigner, s3::S3Store, Clients, Settings};
use dbadmin_contracts::FinalizeMessage;
use dbadmin_reporter::{handle_finalize, FinalizeOutcome, ReporterDeps};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let settings = Settings::from_env()?;
    let clients = Clients::load().await;
    let store = S3Store::new(clients.s3.clone(), &settings.bucket, settings.kms_key_id.clone());
    let runs = DynamoRunStore::new(clients.dynamodb.clone(), &settings.table).with_lease(settings.finalize_lease);
    let signer = KmsSigner::new(clients.kms.clone(), settings.require_signing_key()?);
    let deps = ReporterDeps { store: &store, claims: &runs, counter: &runs, chain: &runs, signer: &signer };
    let deps = &deps;
    let poison = lambda::SqsPoisonSink::from_settings(&clients, &settings);
    lambda::run_sqs(1, poison.as_ref().map(|p| p as _), move |record, _deadline| async move {
        let message: FinalizeMessage = lambda::decode(&record)?;
        match handle_finalize(&message, deps).await {
            // Returned to the queue, not deleted: if the holder dies, this delivery finishes the report.
            Ok(FinalizeOutcome::Held) => Err(RecordError::retry("another reporter holds the claim on this version")),
            Ok(FinalizeOutcome::Written { rows, requested_at, .. }) => {
                let latency =
                    time::OffsetDateTime::parse(&requested_at, &time::format_description::well_known::Rfc3339)
                        .map(|at| (time::OffsetDateTime::now_utc() - at).whole_milliseconds().max(0) as u64);
                let mut metrics = Metrics::new("reporter")
                    .property("report_id", &message.report_id)
                    .count(metric::REPORTS_FINALIZED, 1)
                    .count(metric::ROWS_WRITTEN, rows as u64);
                if let Ok(ms) = latency {
                    metrics = metrics.milliseconds(metric::FINALIZE_LATENCY, ms);
                }
                metrics.emit();
                Ok(())
            }
            Ok(FinalizeOutcome::NotClaimed) => Ok(()),
            Err(e) => {
                let retryable = e.is_retryable();
                Err(RecordError::classify(e, retryable))
            }
        }
    })
    .await
}
