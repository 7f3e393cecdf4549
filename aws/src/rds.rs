//! Discovery: the AWS Organization's accounts, and every RDS/Aurora database of an account ×
//! region, listed through a role assumed in that account (for the publisher, the target account's
//! read-only discovery role): `rds:DescribeDBInstances`, `rds:DescribeDBClusters`,
//! `rds:ListTagsForResource`.

use crate::credentials::AwsCredentials;
use crate::error::port_error;
use async_trait::async_trait;
use dbadmin_contracts::discovery::{engine_of, DatabaseKind, DiscoveredDatabase};
use dbadmin_ports::{DatabaseDiscovery, PortError};
use std::collections::BTreeMap;
use std::future::Future;

/// More pages than any account holds: a marker that never ends is an error, not a hang.
const MAX_PAGES: usize = 10_000;

/// Every item of a paginated listing: `fetch(marker)` gives one page and the next marker (`None`
/// or empty on the last page).
pub async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, PortError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), PortError>>,
{
    let mut out = Vec::new();
    let mut marker = None;
    for _ in 0..MAX_PAGES {
        let (items, next) = fetch(marker.take()).await?;
        out.extend(items);
        match next.filter(|m| !m.is_empty()) {
            Some(m) => marker = Some(m),
            None => return Ok(out),
        }
    }
    Err(PortError::permanent("paginating a listing", format!("more than {MAX_PAGES} pages")))
}

pub struct RdsDiscovery {
    sdk: aws_config::SdkConfig,
    roles: AwsCredentials,
    organizations: aws_sdk_organizations::Client,
}

impl RdsDiscovery {
    /// Lists through `role_name` (with `external_id`) in each account, or with the caller's own
    /// credentials when it is `None`.
    pub fn new(clients: &crate::Clients, role_name: Option<String>, external_id: Option<String>) -> Self {
        RdsDiscovery {
            sdk: clients.sdk.clone(),
            roles: AwsCredentials::new(clients, role_name, external_id),
            organizations: aws_sdk_organizations::Client::new(&clients.sdk),
        }
    }

    async fn rds(&self, account_id: &str, region: &str) -> Result<aws_sdk_rds::Client, PortError> {
        let mut config =
            aws_sdk_rds::config::Builder::from(&self.sdk).region(aws_sdk_rds::config::Region::new(region.to_owned()));
        if let Some(role) = self.roles.role_in(account_id, region) {
            let creds = self
                .roles
                .role_credentials(&role)
                .await
                .map_err(|e| PortError::permanent(format!("assuming {role}"), e))?;
            config = config.credentials_provider(creds);
        }
        Ok(aws_sdk_rds::Client::from_conf(config.build()))
    }
}

fn tags(list: &[aws_sdk_rds::types::Tag]) -> BTreeMap<String, String> {
    list.iter().filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned()))).collect()
}

#[async_trait]
#[allow(deprecated)] // Account::status, read when State is absent
impl DatabaseDiscovery for RdsDiscovery {
    async fn organization_accounts(&self) -> Result<Vec<String>, PortError> {
        let accounts = all_pages(|token| async move {
            let out = self
                .organizations
                .list_accounts()
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| port_error("organizations:ListAccounts", e))?;
            let next = out.next_token().map(str::to_owned);
            Ok((out.accounts.unwrap_or_default(), next))
        })
        .await?;
        Ok(accounts
            .into_iter()
            // `State` replaces the deprecated `Status`; read whichever the service gives.
            .filter(|a| match (a.state(), a.status()) {
                (Some(state), _) => state.as_str() == "ACTIVE",
                (None, Some(status)) => status.as_str() == "ACTIVE",
                (None, None) => true,
            })
            .filter_map(|a| a.id)
            .collect())
    }

    async fn databases(&self, account_id: &str, region: &str) -> Result<Vec<DiscoveredDatabase>, PortError> {
        let rds = &self.rds(account_id, region).await?;
        let instances = all_pages(|marker| async move {
            let out = rds
                .describe_db_instances()
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| port_error("rds:DescribeDBInstances", e))?;
            let next = out.marker().map(str::to_owned);
            Ok((out.db_instances.unwrap_or_default(), next))
        })
        .await?;
        let clusters = all_pages(|marker| async move {
            let out = rds
                .describe_db_clusters()
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| port_error("rds:DescribeDBClusters", e))?;
            let next = out.marker().map(str::to_owned);
            Ok((out.db_clusters.unwrap_or_default(), next))
        })
        .await?;
        // A cluster is one database, addressed by its endpoint; its members' endpoints are aliases.
        let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut out = Vec::new();
        for i in instances {
            let endpoint = i.endpoint().and_then(|e| e.address()).map(str::to_owned);
            if let Some(cluster) = i.db_cluster_identifier().filter(|c| !c.is_empty()) {
                members.entry(cluster.to_owned()).or_default().extend(endpoint);
                continue;
            }
            let rds_engine = i.engine().unwrap_or_default().to_owned();
            out.push(DiscoveredDatabase {
                account_id: account_id.to_owned(),
                region: region.to_owned(),
                kind: DatabaseKind::Instance,
                identifier: i.db_instance_identifier().unwrap_or_default().to_owned(),
                arn: i.db_instance_arn().unwrap_or_default().to_owned(),
                engine: engine_of(&rds_engine).ok(),
                rds_engine,
                endpoint,
                port: i.endpoint().and_then(|e| e.port()).and_then(|p| u16::try_from(p).ok()),
                aliases: Vec::new(),
                tags: tags(i.tag_list()),
                log_exports: i.enabled_cloudwatch_logs_exports().to_vec(),
            });
        }
        for c in clusters {
            let rds_engine = c.engine().unwrap_or_default().to_owned();
            let identifier = c.db_cluster_identifier().unwrap_or_default().to_owned();
            let mut aliases: Vec<String> = c.reader_endpoint().map(str::to_owned).into_iter().collect();
            aliases.extend(members.remove(&identifier).unwrap_or_default());
            out.push(DiscoveredDatabase {
                account_id: account_id.to_owned(),
                region: region.to_owned(),
                kind: DatabaseKind::Cluster,
                identifier,
                arn: c.db_cluster_arn().unwrap_or_default().to_owned(),
                engine: engine_of(&rds_engine).ok(),
                rds_engine,
                endpoint: c.endpoint().map(str::to_owned),
                port: c.port().and_then(|p| u16::try_from(p).ok()),
                aliases,
                tags: tags(c.tag_list()),
                log_exports: c.enabled_cloudwatch_logs_exports().to_vec(),
            });
        }
        // Tags the listing did not carry (older API shapes, emulators) are asked for one by one.
        for d in out.iter_mut().filter(|d| d.tags.is_empty() && !d.arn.is_empty()) {
            let listed = rds
                .list_tags_for_resource()
                .resource_name(&d.arn)
                .send()
                .await
                .map_err(|e| port_error("rds:ListTagsForResource", e))?;
            d.tags = tags(listed.tag_list());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loop follows the marker to the last page (MiniStack serves one page only, so the
    /// second page is served here).
    #[tokio::test]
    async fn all_pages_follows_markers_to_the_end() {
        let pages: Vec<(Vec<u32>, Option<String>)> =
            vec![(vec![1, 2], Some("m1".into())), (vec![3], Some("m2".into())), (vec![], Some(String::new()))];
        let asked = std::sync::Mutex::new(Vec::new());
        let got = all_pages(|marker| {
            asked.lock().unwrap().push(marker.clone());
            let i = match marker.as_deref() {
                None => 0,
                Some("m1") => 1,
                Some(_) => 2,
            };
            let page = pages[i].clone();
            async move { Ok(page) }
        })
        .await
        .unwrap();
        assert_eq!(got, vec![1, 2, 3]);
        assert_eq!(*asked.lock().unwrap(), vec![None, Some("m1".into()), Some("m2".into())]);
    }

    #[tokio::test]
    async fn a_marker_that_never_ends_is_an_error() {
        let err = all_pages(|_| async { Ok::<_, PortError>((vec![0u8], Some("again".to_owned()))) }).await.unwrap_err();
        assert!(err.to_string().contains("paginating"), "{err}");
    }
}
