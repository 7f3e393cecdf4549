//! AWS adapters for the ports, and the Lambda wiring shared by the three functions.
//!
//! | port | adapter |
//! |---|---|
//! | `JobQueue` | [`sns::SnsJobQueue`]: `PublishBatch` to the collect topic (raw delivery to the collect queue) |
//! | `FinalizeQueue` | [`sqs::SqsFinalizeQueue`]: `SendMessage` to the finalize queue |
//! | `ObjectStore`, `InventorySource` | [`s3::S3Store`], [`s3::S3Inventory`] (SSE-KMS when a key is configured) |
//! | `RunRecords`, `CompletionCounter`, `FinalizeClaims`, `ManifestChain`, `AttemptLog` (the `RunStore`) | [`dynamo::DynamoRunStore`]: conditional writes and transactions on one table |
//! | `CredentialSource` | [`credentials::AwsCredentials`]: STS `AssumeRole` into the target account, then Secrets Manager |
//!
//! Clients are built once per process from the standard AWS configuration chain, so
//! `AWS_ENDPOINT_URL` points every SDK at an emulator; S3 then uses path-style addressing.

pub mod config;
pub mod credentials;
pub mod dynamo;
pub mod emf;
pub mod error;
pub mod kms;
pub mod lambda;
pub mod logs;
pub mod rds;
pub mod s3;
pub mod sns;
pub mod sqs;

pub use config::{Clients, Settings};
