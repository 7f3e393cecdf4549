//! What AWS says exists, and how it reconciles with the inventory a report was made from.
//!
//! The publisher lists every RDS/Aurora database in the accounts and regions in scope
//! ([`Discovery`], kept as `runs/{id}/discovery.json`); the reporter matches it with the population
//! ([`reconcile`]) and writes `reconciliation.csv`, hashed in the signed manifest. A database that
//! exists but is not in the inventory was not reviewed: a completeness finding.

use crate::inventory::{host_key, Engine, Filters, Target};
use crate::version::Versioned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Asked for in a report request: discover the databases in scope and reconcile them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryRequest {
    /// Add every ACTIVE account of the AWS Organization to the inventory's accounts.
    #[serde(default)]
    pub organization: bool,
    /// Regions to list; empty: the regions of the inventory's entries.
    #[serde(default)]
    pub regions: Vec<String>,
}

/// Whether a discovered database is an instance or an Aurora/Multi-AZ cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    Instance,
    Cluster,
}

/// One database AWS lists (a cluster's members are folded into the cluster).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveredDatabase {
    pub account_id: String,
    pub region: String,
    pub kind: DatabaseKind,
    /// `DBInstanceIdentifier` or `DBClusterIdentifier`.
    pub identifier: String,
    pub arn: String,
    /// The engine as RDS names it (`aurora-postgresql`, `sqlserver-se`, `oracle-ee` …).
    pub rds_engine: String,
    /// The engine this tool collects, or `None` when it is out of scope ([`engine_of`]).
    pub engine: Option<Engine>,
    /// The address to connect to: the instance endpoint, or the cluster (writer) endpoint.
    pub endpoint: Option<String>,
    pub port: Option<u16>,
    /// Other addresses of the same database: a cluster's reader endpoint and its members'
    /// instance endpoints.
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The logs RDS exports to CloudWatch Logs (`EnabledCloudwatchLogsExports`: `postgresql`,
    /// `audit`, …): a draft inventory names the login log from them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_exports: Vec<String>,
}

impl DiscoveredDatabase {
    /// The login log RDS exports for this database, as an inventory's `login_log` names it:
    /// PostgreSQL's `postgresql` log (the only one the collector believes; MariaDB's audit log
    /// writes names as clients send them).
    pub fn login_log(&self) -> Option<String> {
        let log = match self.engine? {
            Engine::Postgres => "postgresql",
            _ => return None,
        };
        let kind = match self.kind {
            DatabaseKind::Instance => "instance",
            DatabaseKind::Cluster => "cluster",
        };
        self.log_exports
            .iter()
            .any(|e| e == log)
            .then(|| format!("cloudwatch:/aws/rds/{kind}/{}/{log}", self.identifier))
    }
}

/// What listing one account × region found, or why it could not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeDiscovery {
    pub account_id: String,
    pub region: String,
    #[serde(default)]
    pub databases: Vec<DiscoveredDatabase>,
    /// Set when this account × region could not be listed: its inventory entries are unverified.
    #[serde(default)]
    pub error: Option<String>,
}

/// The accounts and regions a discovery covered, and how they were chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryScope {
    pub organization: bool,
    /// Set when the organization's accounts could not be listed (only the inventory's were).
    #[serde(default)]
    pub organization_error: Option<String>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

/// Everything one report's discovery found (`runs/{id}/discovery.json`, written once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    pub schema_version: u32,
    pub report_id: String,
    pub scope: DiscoveryScope,
    pub scopes: Vec<ScopeDiscovery>,
    /// RFC 3339, UTC.
    pub discovered_at: String,
}

impl Versioned for Discovery {
    const SCHEMA_VERSION: u32 = 1;
    const KIND: &'static str = "discovery";
}

/// The engine RDS's engine name maps to, or why it is out of scope.
pub fn engine_of(rds_engine: &str) -> Result<Engine, String> {
    match rds_engine {
        "mysql" | "aurora-mysql" | "aurora" => Ok(Engine::Mysql),
        "mariadb" => Ok(Engine::Mariadb),
        "postgres" | "aurora-postgresql" => Ok(Engine::Postgres),
        e if e.starts_with("sqlserver-") => Ok(Engine::Sqlserver),
        e if e.starts_with("oracle") || e.starts_with("custom-oracle") => Err("Oracle is not collected".into()),
        e if e.starts_with("db2") => Err("Db2 is not collected".into()),
        "neptune" => Err("Neptune (a graph database) is not collected".into()),
        "docdb" => Err("DocumentDB is not collected".into()),
        e => Err(format!("engine '{e}' is not collected")),
    }
}

/// The accounts × regions a report's discovery lists: the population's accounts plus the
/// organization's (`org_accounts`), and the requested regions or else the population's.
pub fn scope(request: &DiscoveryRequest, targets: &[Target], org_accounts: &[String]) -> DiscoveryScope {
    let mut accounts: BTreeSet<String> = targets.iter().map(|t| t.account_id.clone()).collect();
    accounts.extend(org_accounts.iter().cloned());
    let regions: BTreeSet<String> = if request.regions.is_empty() {
        targets.iter().map(|t| t.region.clone()).collect()
    } else {
        request.regions.iter().cloned().collect()
    };
    DiscoveryScope {
        organization: request.organization,
        organization_error: None,
        accounts: accounts.into_iter().collect(),
        regions: regions.into_iter().collect(),
    }
}

/// How an inventory entry or a discovered database reconciles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReconciliationStatus {
    /// In the inventory and in AWS.
    InBoth,
    /// In AWS, not in the inventory: it exists and was not reviewed.
    NotInInventory,
    /// In the inventory, not found in AWS: stale, or self-managed (see the reason).
    NotFound,
    /// In AWS, but its engine is out of scope (the reason says which).
    Excluded,
    /// Its account × region could not be listed (the reason has the error).
    DiscoveryFailed,
    /// An inventory entry names a discovered database (its id, `arn` or `identifier` tag) but
    /// connects to an address that is not one of that database's: what it collected may be
    /// another server, so it proves nothing about the database it names.
    EndpointMismatch,
}

string_forms!(ReconciliationStatus, "reconciliation status", {
    InBoth => "IN_BOTH",
    NotInInventory => "NOT_IN_INVENTORY",
    NotFound => "NOT_FOUND",
    Excluded => "EXCLUDED",
    DiscoveryFailed => "DISCOVERY_FAILED",
    EndpointMismatch => "ENDPOINT_MISMATCH",
});

/// One line of `reconciliation.csv`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReconciliationRow {
    pub status: ReconciliationStatus,
    pub account_id: String,
    pub region: String,
    /// The inventory entry's id, when there is one.
    pub inventory_id: String,
    /// The RDS identifier, when AWS listed one.
    pub identifier: String,
    pub arn: String,
    pub engine: String,
    pub endpoint: String,
    pub reason: String,
}

/// The inventory tag that marks a self-managed database (on EC2 or elsewhere): RDS cannot list it.
pub const SELF_MANAGED_TAG: &str = "self_managed";

fn self_managed(t: &Target) -> bool {
    t.tags.get(SELF_MANAGED_TAG).is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1"))
}

/// How inventory entry `t` relates to discovered database `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    /// Another database, or another account.
    No,
    /// The entry connects to one of the database's addresses (and its port): what it collected is
    /// this database.
    Endpoint,
    /// The entry names the database (its `arn`/`identifier` tag, or its id in the same region) but
    /// connects elsewhere. The inventory's author chose both: a name proves nothing about the
    /// server that was read.
    NameOnly,
}

fn matches(t: &Target, d: &DiscoveredDatabase) -> Match {
    if t.account_id != d.account_id {
        return Match::No;
    }
    let host = host_key(&t.host);
    let same_host = d.endpoint.iter().chain(&d.aliases).any(|a| host_key(a) == host);
    if same_host && d.port.is_none_or(|p| p == t.port) {
        return Match::Endpoint;
    }
    let named = t.tags.get("arn").is_some_and(|arn| *arn == d.arn)
        || t.tags.get("identifier").is_some_and(|id| *id == d.identifier)
        || (t.region == d.region && t.id == d.identifier);
    if named {
        Match::NameOnly
    } else {
        Match::No
    }
}

/// Reconciles the population (the inventory entries the request selected) with what discovery
/// found. Discovered databases outside the request's filters are left out, so a report of one
/// account or engine reconciles only that. Sorted by status, account, region, names.
pub fn reconcile(targets: &[Target], filters: &Filters, discovery: &Discovery) -> Vec<ReconciliationRow> {
    let mut rows = Vec::new();
    let mut matched: BTreeSet<&str> = BTreeSet::new();
    for s in &discovery.scopes {
        if let Some(error) = &s.error {
            rows.push(ReconciliationRow {
                status: ReconciliationStatus::DiscoveryFailed,
                account_id: s.account_id.clone(),
                region: s.region.clone(),
                inventory_id: String::new(),
                identifier: String::new(),
                arn: String::new(),
                engine: String::new(),
                endpoint: String::new(),
                reason: format!("listing RDS failed: {error}"),
            });
        }
        for d in s.databases.iter().filter(|d| filters.admits(&d.account_id, &d.region, d.engine)) {
            rows.extend(discovered_rows(targets, d, &mut matched));
        }
    }
    let unmatched = targets.iter().filter(|t| !matched.contains(t.id.as_str()));
    rows.extend(unmatched.map(|t| not_found_row(t, discovery)));
    rows.sort();
    rows
}

/// The rows of one discovered database: its own (in both, not in the inventory, or excluded) and
/// one per entry that names it but connects elsewhere. The entries it accounts for join `matched`.
fn discovered_rows<'t>(
    targets: &'t [Target],
    d: &DiscoveredDatabase,
    matched: &mut BTreeSet<&'t str>,
) -> Vec<ReconciliationRow> {
    let (mut entries, mut elsewhere): (Vec<&Target>, Vec<&Target>) = (Vec::new(), Vec::new());
    for t in targets {
        match matches(t, d) {
            Match::Endpoint => entries.push(t),
            Match::NameOnly => elsewhere.push(t),
            Match::No => {}
        }
    }
    matched.extend(entries.iter().chain(&elsewhere).map(|t| t.id.as_str()));
    let mut rows: Vec<ReconciliationRow> = elsewhere.iter().map(|t| endpoint_mismatch(t, d)).collect();
    let (status, reason) = match (&d.engine, entries.is_empty()) {
        (None, _) => (ReconciliationStatus::Excluded, engine_of(&d.rds_engine).err().unwrap_or_default()),
        (Some(_), false) => (ReconciliationStatus::InBoth, String::new()),
        (Some(_), true) if !elsewhere.is_empty() => (
            ReconciliationStatus::NotInInventory,
            "the inventory names it but connects elsewhere (ENDPOINT_MISMATCH): it was not reviewed".into(),
        ),
        (Some(_), true) => (
            ReconciliationStatus::NotInInventory,
            "exists in AWS but is not in the inventory: it was not reviewed".into(),
        ),
    };
    rows.push(ReconciliationRow {
        status,
        account_id: d.account_id.clone(),
        region: d.region.clone(),
        inventory_id: entries.iter().map(|t| t.id.as_str()).collect::<Vec<_>>().join(";"),
        identifier: d.identifier.clone(),
        arn: d.arn.clone(),
        engine: d.rds_engine.clone(),
        endpoint: d.endpoint.clone().unwrap_or_default(),
        reason,
    });
    rows
}

/// The row of an inventory entry no discovered database accounts for, with why.
fn not_found_row(t: &Target, discovery: &Discovery) -> ReconciliationRow {
    let scopes = discovery.scopes.iter().filter(|s| s.account_id == t.account_id && s.region == t.region);
    let listed = scopes.clone().next().is_some();
    let (status, reason) = if let Some(error) = scopes.filter_map(|s| s.error.as_deref()).next_back() {
        (ReconciliationStatus::DiscoveryFailed, format!("its account and region could not be listed: {error}"))
    } else if self_managed(t) {
        (ReconciliationStatus::NotFound, "self-managed (tagged self_managed=true): RDS does not list it".into())
    } else if !listed {
        (ReconciliationStatus::NotFound, "its account and region were not in the discovery's scope".into())
    } else {
        (ReconciliationStatus::NotFound, "not found in AWS: a stale entry, or a database RDS does not manage".into())
    };
    ReconciliationRow {
        status,
        account_id: t.account_id.clone(),
        region: t.region.clone(),
        inventory_id: t.id.clone(),
        identifier: String::new(),
        arn: String::new(),
        engine: t.engine.to_string(),
        endpoint: format!("{}:{}", t.host, t.port),
        reason,
    }
}

/// The row of an entry that names `d` but connects to an address `d` does not have.
fn endpoint_mismatch(t: &Target, d: &DiscoveredDatabase) -> ReconciliationRow {
    ReconciliationRow {
        status: ReconciliationStatus::EndpointMismatch,
        account_id: t.account_id.clone(),
        region: t.region.clone(),
        inventory_id: t.id.clone(),
        identifier: d.identifier.clone(),
        arn: d.arn.clone(),
        engine: d.rds_engine.clone(),
        endpoint: format!("{}:{}", t.host, t.port),
        reason: format!(
            "names {} but connects to {}:{}, which is not one of its addresses ({} on port {}): what was \
             collected may be another server; address the database by its RDS endpoint",
            d.identifier,
            t.host,
            t.port,
            d.endpoint.iter().chain(&d.aliases).cloned().collect::<Vec<_>>().join(", "),
            d.port.map_or_else(|| "?".to_owned(), |p| p.to_string())
        ),
    }
}

/// Rows per status, for the manifest and the summaries.
pub fn counts(rows: &[ReconciliationRow]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in rows {
        *out.entry(r.status.to_string()).or_default() += 1;
    }
    out
}

/// The tag whose value names the Secrets Manager secret a draft inventory row gets.
pub const SECRET_TAG: &str = "db-admin-report:secret";

/// A starting inventory from a discovery: one row per database this tool collects (its id from
/// the RDS identifier, addressed by its endpoint, the secret from the `db-admin-report:secret`
/// tag or left empty for validation to flag, `arn=` as a tag so reconciliation matches it), and a
/// comment line for every excluded database and every scope that could not be listed.
pub fn draft_inventory(scopes: &[ScopeDiscovery]) -> String {
    let mut out = String::from(
        "# Draft inventory from db-admin-report inventory discover: review every row, fill the empty secrets.\n",
    );
    out.push_str("id,account_id,region,engine,host,port,databases,secret,role_arn,tls,tags,login_log\n");
    let cell = |v: &str| {
        if v.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_owned()
        }
    };
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for s in scopes {
        if let Some(e) = &s.error {
            out.push_str(&format!("# {} {}: could not be listed: {}\n", s.account_id, s.region, e.replace('\n', " ")));
        }
        for d in &s.databases {
            let Some(engine) = d.engine else {
                let why = engine_of(&d.rds_engine).err().unwrap_or_default();
                out.push_str(&format!(
                    "# excluded: {} ({}, {} {}): {why}\n",
                    d.identifier, d.rds_engine, d.account_id, d.region
                ));
                continue;
            };
            // Ids name result files: letters, digits, '.', '_', '-'; unique across accounts.
            let mut id: String = d
                .identifier
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
                .collect();
            if !seen.insert(id.clone()) {
                id = format!("{id}-{}-{}", d.account_id, d.region);
                seen.insert(id.clone());
            }
            let row = [
                id,
                d.account_id.clone(),
                d.region.clone(),
                engine.to_string(),
                d.endpoint.clone().unwrap_or_default(),
                d.port.map(|p| p.to_string()).unwrap_or_default(),
                String::new(),
                d.tags.get(SECRET_TAG).cloned().unwrap_or_default(),
                String::new(),
                "verify-full".into(),
                format!("arn={}", d.arn),
                d.login_log().unwrap_or_default(),
            ];
            out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::TlsMode;

    fn target(id: &str, account: &str, region: &str, host: &str) -> Target {
        Target {
            id: id.into(),
            account_id: account.into(),
            region: region.into(),
            engine: Engine::Postgres,
            host: host.into(),
            port: 5432,
            databases: vec![],
            secret: "s".into(),
            role_arn: None,
            tls: TlsMode::VerifyFull,
            tags: Default::default(),
            login_log: None,
        }
    }

    fn db(id: &str, account: &str, region: &str, engine: &str, endpoint: &str) -> DiscoveredDatabase {
        DiscoveredDatabase {
            account_id: account.into(),
            region: region.into(),
            kind: DatabaseKind::Instance,
            identifier: id.into(),
            arn: format!("arn:aws:rds:{region}:{account}:db:{id}"),
            rds_engine: engine.into(),
            engine: engine_of(engine).ok(),
            endpoint: Some(endpoint.into()),
            port: Some(5432),
            aliases: vec![],
            tags: Default::default(),
            log_exports: vec![],
        }
    }

    /// Each row's status, inventory id and RDS identifier.
    fn statuses(rows: &[ReconciliationRow]) -> Vec<(String, &str, &str)> {
        rows.iter().map(|r| (r.status.to_string(), r.inventory_id.as_str(), r.identifier.as_str())).collect()
    }

    #[test]
    fn engines_map_or_are_excluded_with_a_reason() {
        assert_eq!(engine_of("aurora-mysql"), Ok(Engine::Mysql));
        assert_eq!(engine_of("aurora-postgresql"), Ok(Engine::Postgres));
        assert_eq!(engine_of("sqlserver-ee"), Ok(Engine::Sqlserver));
        assert_eq!(engine_of("mariadb"), Ok(Engine::Mariadb));
        assert!(engine_of("oracle-se2").unwrap_err().contains("Oracle"));
        assert!(engine_of("db2-ae").unwrap_err().contains("Db2"));
        assert!(engine_of("neptune").unwrap_err().contains("Neptune"));
        assert!(engine_of("docdb").unwrap_err().contains("DocumentDB"));
    }

    #[test]
    fn every_entry_and_every_database_gets_one_row() {
        let a = "111111111111";
        let mut cluster = db("orders", a, "eu-west-1", "aurora-postgresql", "orders.cluster-x.rds.amazonaws.com");
        cluster.kind = DatabaseKind::Cluster;
        cluster.aliases = vec!["orders-1.x.rds.amazonaws.com".into()];
        let mut selfm = target("ec2-db", a, "eu-west-1", "10.0.0.5");
        selfm.tags.insert(SELF_MANAGED_TAG.into(), "true".into());
        let targets = vec![
            // Addressed by a member's endpoint: the cluster is in the inventory.
            target("orders", a, "eu-west-1", "ORDERS-1.x.rds.amazonaws.com."),
            target("gone", a, "eu-west-1", "gone.x.rds.amazonaws.com"),
            selfm,
            target("far", "222222222222", "us-east-1", "far.x"),
        ];
        let discovery = Discovery {
            schema_version: 1,
            report_id: "R".into(),
            scope: DiscoveryScope::default(),
            scopes: vec![
                ScopeDiscovery {
                    account_id: a.into(),
                    region: "eu-west-1".into(),
                    databases: vec![
                        cluster,
                        db("shadow", a, "eu-west-1", "mysql", "shadow.x.rds.amazonaws.com"),
                        db("legacy", a, "eu-west-1", "oracle-ee", "legacy.x"),
                    ],
                    error: None,
                },
                ScopeDiscovery {
                    account_id: "222222222222".into(),
                    region: "us-east-1".into(),
                    databases: vec![],
                    error: Some("AccessDenied".into()),
                },
            ],
            discovered_at: "2026-12-02T00:00:00Z".into(),
        };
        let rows = reconcile(&targets, &Filters::default(), &discovery);
        let got = statuses(&rows);
        assert_eq!(
            got,
            vec![
                ("IN_BOTH".into(), "orders", "orders"),
                ("NOT_IN_INVENTORY".into(), "", "shadow"),
                ("NOT_FOUND".into(), "ec2-db", ""),
                ("NOT_FOUND".into(), "gone", ""),
                ("EXCLUDED".into(), "", "legacy"),
                ("DISCOVERY_FAILED".into(), "", ""),
                ("DISCOVERY_FAILED".into(), "far", ""),
            ]
        );
        assert!(rows[2].reason.contains("self-managed") && rows[3].reason.contains("stale"));
        assert!(rows[4].reason.contains("Oracle"));
        let counts = counts(&rows);
        assert_eq!((counts["IN_BOTH"], counts["NOT_IN_INVENTORY"], counts["DISCOVERY_FAILED"]), (1, 1, 2));

        // A report of MySQL only reconciles MySQL: the PostgreSQL cluster is left out, not "missing".
        let mysql = Filters { engines: vec![Engine::Mysql], ..Filters::default() };
        let rows = reconcile(&[], &mysql, &discovery);
        assert!(rows.iter().all(|r| r.identifier != "orders"));
        assert!(rows.iter().any(|r| r.identifier == "shadow" && r.status == ReconciliationStatus::NotInInventory));
    }

    #[test]
    fn an_entry_that_names_a_database_but_connects_elsewhere_does_not_reconcile_it() {
        let a = "111111111111";
        // Whoever writes the inventory names the production database by id and by tag, and points
        // the rows at a server of their own.
        let mut by_tag = target("copy", a, "eu-west-1", "10.9.9.9");
        by_tag.tags.insert("arn".into(), "arn:aws:rds:eu-west-1:111111111111:db:prod".into());
        let targets = vec![target("prod", a, "eu-west-1", "attacker.example.com"), by_tag];
        let mut prod = db("prod", a, "eu-west-1", "postgres", "prod.x.rds.amazonaws.com");
        prod.arn = "arn:aws:rds:eu-west-1:111111111111:db:prod".into();
        let discovery = Discovery {
            schema_version: 1,
            report_id: "R".into(),
            scope: DiscoveryScope::default(),
            scopes: vec![ScopeDiscovery {
                account_id: a.into(),
                region: "eu-west-1".into(),
                databases: vec![prod],
                error: None,
            }],
            discovered_at: "2026-12-02T00:00:00Z".into(),
        };
        let rows = reconcile(&targets, &Filters::default(), &discovery);
        let got = statuses(&rows);
        assert_eq!(
            got,
            vec![
                ("NOT_IN_INVENTORY".into(), "", "prod"),
                ("ENDPOINT_MISMATCH".into(), "copy", "prod"),
                ("ENDPOINT_MISMATCH".into(), "prod", "prod"),
            ]
        );
        assert!(rows[0].reason.contains("connects elsewhere"), "{}", rows[0].reason);
        // The right host on another port is another listener, not this database.
        let mut other_port = target("prod", a, "eu-west-1", "prod.x.rds.amazonaws.com");
        other_port.port = 6543;
        let rows = reconcile(&[other_port], &Filters::default(), &discovery);
        assert!(rows.iter().any(|r| r.status == ReconciliationStatus::EndpointMismatch), "{rows:?}");
        let rows = reconcile(&targets, &Filters::default(), &discovery);
        assert!(
            rows[2].reason.contains("attacker.example.com") && rows[2].reason.contains("prod.x.rds"),
            "{}",
            rows[2].reason
        );
    }

    #[test]
    fn a_draft_inventory_lists_what_is_collected_and_flags_the_rest() {
        let mut tagged = db("orders", "111111111111", "eu-west-1", "postgres", "orders.x.rds.amazonaws.com");
        tagged.tags.insert(SECRET_TAG.into(), "prod/orders".into());
        // RDS exports its PostgreSQL log: the draft names it as the login log.
        tagged.log_exports = vec!["upgrade".into(), "postgresql".into()];
        let scopes = vec![
            ScopeDiscovery {
                account_id: "111111111111".into(),
                region: "eu-west-1".into(),
                databases: vec![tagged, db("legacy", "111111111111", "eu-west-1", "oracle-ee", "l.x")],
                error: None,
            },
            ScopeDiscovery {
                account_id: "222222222222".into(),
                region: "eu-west-1".into(),
                databases: vec![db("orders", "222222222222", "eu-west-1", "mysql", "o2.x")],
                error: Some("AccessDenied".into()),
            },
        ];
        let draft = draft_inventory(&scopes);
        assert!(draft.contains("# excluded: legacy (oracle-ee"), "{draft}");
        assert!(draft.contains("# 222222222222 eu-west-1: could not be listed: AccessDenied"), "{draft}");
        // The secret-less row is refused by validation, naming the field; the rest is valid.
        let err = crate::Inventory::parse("draft.csv", draft.as_bytes()).unwrap_err();
        assert_eq!(err.issues.len(), 1, "{err}");
        assert_eq!(err.issues[0].field.as_deref(), Some("secret"));
        let fixed = draft.replace(
            ",,,,verify-full,arn=arn:aws:rds:eu-west-1:222222222222",
            ",,x,,verify-full,arn=arn:aws:rds:eu-west-1:222222222222",
        );
        let inventory = crate::Inventory::parse("draft.csv", fixed.as_bytes()).unwrap();
        let ids: Vec<&str> = inventory.targets.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, vec!["orders", "orders-222222222222-eu-west-1"]);
        assert_eq!(inventory.targets[0].secret, "prod/orders");
        assert_eq!(inventory.targets[0].tags["arn"], "arn:aws:rds:eu-west-1:111111111111:db:orders");
        assert_eq!(
            inventory.targets[0].login_log.as_deref(),
            Some("cloudwatch:/aws/rds/instance/orders/postgresql"),
            "{draft}"
        );
        assert_eq!(inventory.targets[1].login_log, None, "MySQL keeps no login log; none is exported");
    }

    #[test]
    fn the_scope_is_the_population_plus_the_organization() {
        let targets =
            vec![target("a", "111111111111", "eu-west-1", "h"), target("b", "222222222222", "us-east-1", "h")];
        let s = scope(&DiscoveryRequest::default(), &targets, &["333333333333".into()]);
        assert_eq!(s.accounts, vec!["111111111111", "222222222222", "333333333333"]);
        assert_eq!(s.regions, vec!["eu-west-1", "us-east-1"]);
        let only = DiscoveryRequest { organization: true, regions: vec!["ap-south-1".into()] };
        assert_eq!(scope(&only, &targets, &[]).regions, vec!["ap-south-1"]);
    }
}
