//! `inventory validate`: a local file, or an `s3://` object or `ssm:` parameter(s) read through the
//! deployment's credentials.
//! `inventory discover`: a draft inventory of what AWS lists.

use super::Ctx;
use crate::print::{self, Text};
use anyhow::Context;
use db_admin_report::outcome::{Discovered, InventoryCheck, Outcome, Verdict};
use dbadmin_contracts::{Inventory, InventoryError};

pub fn validate(ctx: &Ctx, file: &str) -> anyhow::Result<Verdict> {
    if !file.starts_with("s3://") && !file.starts_with("ssm:") {
        let bytes = std::fs::read(file).with_context(|| format!("reading {file}"))?;
        return print::show(&InventoryCheck::new(file, Inventory::parse(file, &bytes)), ctx.output);
    }
    ctx.remote(|remote| async move {
        let parsed = match remote.inventory(file).await {
            Ok(inv) => Ok(inv),
            Err(e) => Err(e.downcast::<InventoryError>()?),
        };
        print::show(&InventoryCheck::new(file, parsed), ctx.output)
    })
}

pub fn discover(ctx: &Ctx, accounts: Vec<String>, regions: Vec<String>, organization: bool) -> anyhow::Result<Verdict> {
    if accounts.is_empty() && !organization {
        anyhow::bail!("name the accounts to list (--accounts) or add --organization");
    }
    ctx.remote(|remote| async move {
        let discovery = remote.discovery();
        let asked = dbadmin_contracts::discovery::DiscoveryRequest { organization, regions };
        let (scope, scopes) = dbadmin_publisher::list_databases(discovery.as_ref(), &asked, &[], &accounts).await;
        let discovered = Discovered {
            accounts: scope.accounts.len(),
            regions: scope.regions.len(),
            databases: scopes.iter().map(|s| s.databases.len()).sum(),
            failed_listings: scopes.iter().filter(|s| s.error.is_some()).count(),
            organization_error: scope.organization_error,
            draft: dbadmin_contracts::discovery::draft_inventory(&scopes),
        };
        // The draft is an inventory, CSV whatever --output says: it is written to a file.
        discovered.text();
        Ok(discovered.verdict())
    })
}
