//! `dlq list` and `dlq redrive`.

use super::Ctx;
use crate::args::DlqCommand;
use crate::print;
use std::time::Duration;

pub fn run(ctx: &Ctx, command: DlqCommand) -> anyhow::Result<u8> {
    ctx.remote(|remote| async move {
        match command {
            DlqCommand::List { max } => print::dlq_messages(&remote.deployment.dlq_list(max).await?, ctx.output),
            DlqCommand::Redrive { move_task: true, .. } => {
                print::move_task(&remote.deployment.dlq_move_task().await?, ctx.output)
            }
            DlqCommand::Redrive { report, target, dry_run, visibility_timeout, max, move_task: false } => {
                let hold = Duration::from_secs(visibility_timeout);
                let r = remote.deployment.dlq_redrive(report.as_deref(), target.as_deref(), dry_run, hold, max).await?;
                print::redrive(&r, ctx.output)
            }
        }
    })
}
