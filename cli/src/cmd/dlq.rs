//! `dlq list` and `dlq redrive`.

use super::Ctx;
use crate::args::DlqCommand;
use crate::print;
use db_admin_report::ops::Queue;
use db_admin_report::outcome::{DeadLetters, MoveTask, Verdict};
use std::time::Duration;

pub fn run(ctx: &Ctx, command: DlqCommand) -> anyhow::Result<Verdict> {
    ctx.remote(|remote| async move {
        match command {
            DlqCommand::List { queue, max } => {
                // Every configured DLQ by default; a named one must be configured.
                let queues: Vec<Queue> = match queue {
                    Some(q) => vec![q],
                    None => remote.deployment.dlqs.keys().copied().collect(),
                };
                print::show(&DeadLetters(remote.deployment.dlq_list(&queues, max).await?), ctx.output)
            }
            DlqCommand::Redrive { queue, move_task: true, .. } => {
                print::show(&MoveTask { task_handle: remote.deployment.dlq_move_task(queue).await? }, ctx.output)
            }
            DlqCommand::Redrive { queue, report, target, dry_run, visibility_timeout, max, move_task: false } => {
                let hold = Duration::from_secs(visibility_timeout);
                let r = remote
                    .deployment
                    .dlq_redrive(queue, report.as_deref(), target.as_deref(), dry_run, hold, max)
                    .await?;
                print::show(&r, ctx.output)
            }
        }
    })
}
