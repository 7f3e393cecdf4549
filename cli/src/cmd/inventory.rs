//! `inventory validate`: a local file, or an `s3://` object or `ssm:` parameter(s) read through the
//! deployment's credentials.
//! `inventory discover`: a draft inventory of what AWS lists.

use super::Ctx;
use crate::print;
use anyhow::Context;
use dbadmin_contracts::{Inventory, InventoryError};

pub fn validate(ctx: &Ctx, file: &str) -> anyhow::Result<u8> {
    if !file.starts_with("s3://") && !file.starts_with("ssm:") {
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

pub fn discover(ctx: &Ctx, accounts: Vec<String>, regions: Vec<String>, organization: bool) -> anyhow::Result<u8> {
    if accounts.is_empty() && !organization {
        anyhow::bail!("name the accounts to list (--accounts) or add --organization");
    }
    ctx.remote(|remote| async move {
        let discovery = remote.discovery();
        let asked = dbadmin_contracts::discovery::DiscoveryRequest { organization, regions };
        let (scope, scopes) =
            dbadmin_publisher::list_databases(discovery.as_ref(), &asked, &[], &accounts).await;
        if let Some(e) = &scope.organization_error {
            eprintln!("WARNING: the organization's accounts could not be listed: {e}");
        }
        let failed = scopes.iter().filter(|s| s.error.is_some()).count();
        let found: usize = scopes.iter().map(|s| s.databases.len()).sum();
        print!("{}", dbadmin_contracts::discovery::draft_inventory(&scopes));
        eprintln!(
            "Listed {} account(s) × {} region(s): {found} database(s){}. Review the draft, fill the empty secrets, then `db-admin-report inventory validate`.",
            scope.accounts.len(),
            scope.regions.len(),
            if failed > 0 { format!(", {failed} listing(s) failed (see the # lines)") } else { String::new() }
        );
        Ok(if failed > 0 { db_admin_report::exit::PARTIAL } else { db_admin_report::exit::OK })
    })
}
