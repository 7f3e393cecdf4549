//! The CLI's integration tests, in one test binary (each binary links the whole dependency tree,
//! and that dominates a test build on two cores). Each module is one concern:
//!
//! - `local_cli`: the built binary run as a user runs it, against the local test databases;
//! - `ops`: status, wait, retry and the dead-letter operations on the embedded adapters;
//! - `verify_chain`: `verify` of one report, of `--previous`, and of a folder of them (`--chain`);
//! - `local_build`: the local-only CLI links no AWS SDK;
//! - `deployed_pipeline` and `deployed_cli`: the deployment on MiniStack (scripts/aws-local.sh up), through the AWS
//!   adapters and through the binary. They share one deployment and run one at a time
//!   (.config/nextest.toml).

mod deployed_cli;
mod deployed_pipeline;
mod local_build;
mod local_cli;
mod ops;
mod support;
mod verify_chain;
