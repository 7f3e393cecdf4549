//! The CLI's integration tests, in one test binary (each binary links the whole dependency tree,
//! and that dominates a test build on two cores). Each module is one concern:
//!
//! - `e2e`: the built binary run as a user runs it, against the local test databases;
//! - `ops`: status, wait, retry and the dead-letter operations on the embedded adapters;
//! - `verify_chain`: `verify` of one report, of `--previous`, and of a folder of them (`--chain`);
//! - `local_build`: the local-only CLI links no AWS SDK;
//! - `aws` and `cli_aws`: the deployment on MiniStack (scripts/aws-local.sh up), through the AWS
//!   adapters and through the binary. They share one deployment and run one at a time
//!   (.config/nextest.toml).

mod aws;
mod cli_aws;
mod e2e;
mod local_build;
mod ops;
mod support;
mod verify_chain;
