//! `inventory validate`: a local file, or an `s3://` object read through the deployment's credentials.

use super::Ctx;
use crate::print;
use anyhow::Context;
use dbadmin_contracts::{Inventory, InventoryError};

pub fn validate(ctx: &Ctx, file: &str) -> anyhow::Result<u8> {
    if !file.starts_with("s3://") {
        let bytes = std::fs::read(file).with_context(|| format!("reading {file}"))?;
        return print::inventory(file, Inventory::parse(file, &bytes), ctx.output);
    }
    ctx.remote(|remote| async move {
        match remote.inventory(file).await {
            Ok(inv) => print::inventory(file, Ok(inv), ctx.output),
            Err(e) => match e.downcast::<InventoryError>() {
                Ok(invalid) => print::inventory(file, Err(invalid), ctx.output),
                Err(e) => Err(e),
            },
        }
    })
}
