//! One module per command family. Each function takes its parsed arguments, prints what the
//! command answered and returns its verdict; commands that need the deployment run through
//! [`Ctx::remote`].

pub mod dlq;
pub mod generate;
pub mod inventory;
pub mod reports;

use crate::args::{Deployment, Output};
use anyhow::Context;
use db_admin_report::remote::{self, Remote};
use std::future::Future;

/// What every command knows besides its own arguments.
pub struct Ctx {
    pub output: Output,
    pub verbose: bool,
    pub deployment: Deployment,
}

impl Ctx {
    /// Runs `f` with the AWS deployment (refused in a build without AWS support).
    pub fn remote<T, F, Fut>(&self, f: F) -> anyhow::Result<T>
    where
        F: FnOnce(Remote) -> Fut,
        Fut: Future<Output = anyhow::Result<T>>,
    {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
        runtime.block_on(async { f(remote::connect(self.deployment.config()).await?).await })
    }
}

/// `ID` or `ID@N` / `ID@vN`, as opposed to a path that exists.
pub fn is_report_id(s: &str) -> bool {
    !std::path::Path::new(s).exists()
        && s.split('@')
            .next()
            .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}
