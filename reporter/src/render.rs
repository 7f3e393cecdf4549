//! Report rows and their CSV and JSON forms. Pure functions, golden-tested.

use dbadmin_contracts::message::Population;
use dbadmin_contracts::{Outcome, QueryRecord, TargetResult};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The collection status of a row's target.
pub const STATUS_OK: &str = "OK";
pub const STATUS_NO_ADMINS: &str = "NO_ADMINS";
pub const STATUS_ERROR: &str = "ERROR";

/// One line of the report: one finding of one principal, or one target's status row.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Row {
    pub account_id: String,
    pub region: String,
    pub database_name: String,
    pub database_type: String,
    pub endpoint: String,
    pub username: String,
    pub user_host: String,
    pub principal_type: String,
    pub role_name: String,
    pub permission_level: String,
    pub privilege: String,
    pub scope: String,
    pub admin_reason: String,
    pub grant_path: String,
    pub last_login_date: String,
    pub user_status: String,
    pub password_last_set: String,
    pub vendor_managed: String,
    pub notes: String,
    pub collection_status: String,
    pub error_kind: String,
    pub collected_at: String,
    pub report_timestamp: String,
}

/// CSV headers, in the order of [`Row`]'s fields. The customer's columns come first.
pub const HEADERS: [&str; 23] = [
    "Account ID",
    "Region",
    "Database Name",
    "Database Type",
    "Endpoint",
    "Username",
    "User Host",
    "Principal Type",
    "Role Name",
    "Permission Level",
    "Privilege",
    "Scope",
    "Admin Reason",
    "Grant Path",
    "Last Login Date",
    "User Status",
    "Password Last Set",
    "Vendor Managed",
    "Notes",
    "Collection Status",
    "Error Kind",
    "Collected At",
    "Report Timestamp",
];

impl Row {
    fn cells(&self) -> [&str; 23] {
        [
            &self.account_id,
            &self.region,
            &self.database_name,
            &self.database_type,
            &self.endpoint,
            &self.username,
            &self.user_host,
            &self.principal_type,
            &self.role_name,
            &self.permission_level,
            &self.privilege,
            &self.scope,
            &self.admin_reason,
            &self.grant_path,
            &self.last_login_date,
            &self.user_status,
            &self.password_last_set,
            &self.vendor_managed,
            &self.notes,
            &self.collection_status,
            &self.error_kind,
            &self.collected_at,
            &self.report_timestamp,
        ]
    }
}

/// Builds every row: each target of the population contributes its findings, one `NO_ADMINS` row,
/// or one `ERROR` row (also when its result is missing). Sorted by account, database, principal.
pub fn rows(population: &Population, results: &BTreeMap<String, TargetResult>, report_timestamp: &str) -> Vec<Row> {
    let mut out = Vec::new();
    if population.targets.is_empty() {
        out.push(empty_report_row(population, report_timestamp));
    }
    for target in &population.targets {
        let base = Row {
            account_id: target.account_id.clone(),
            region: target.region.clone(),
            database_name: target.id.clone(),
            database_type: target.engine.to_string(),
            endpoint: format!("{}:{}", target.host, target.port),
            username: String::new(),
            user_host: String::new(),
            principal_type: String::new(),
            role_name: String::new(),
            permission_level: String::new(),
            privilege: String::new(),
            scope: String::new(),
            admin_reason: String::new(),
            grant_path: String::new(),
            last_login_date: String::new(),
            user_status: String::new(),
            password_last_set: String::new(),
            vendor_managed: String::new(),
            notes: String::new(),
            collection_status: String::new(),
            error_kind: String::new(),
            collected_at: String::new(),
            report_timestamp: report_timestamp.to_owned(),
        };
        let Some(result) = results.get(&target.id) else {
            out.push(Row {
                collection_status: STATUS_ERROR.into(),
                error_kind: dbadmin_contracts::ErrorKind::MissingResult.to_string(),
                admin_reason: "no result was stored for this target before the report was written".into(),
                ..base
            });
            continue;
        };
        let base = Row { collected_at: result.collected_at.clone(), ..base };
        match &result.outcome {
            Outcome::Failed(f) => out.push(Row {
                collection_status: STATUS_ERROR.into(),
                error_kind: f.kind.to_string(),
                admin_reason: f.reason.clone(),
                ..base
            }),
            Outcome::Collected(c) if c.principals.is_empty() => out.push(Row {
                collection_status: STATUS_NO_ADMINS.into(),
                admin_reason: format!(
                    "no principal holds admin or elevated privileges ({} examined)",
                    c.principals_examined
                ),
                ..base
            }),
            Outcome::Collected(c) => {
                for p in &c.principals {
                    for f in &p.findings {
                        out.push(Row {
                            username: p.name.clone(),
                            user_host: p.host.clone().unwrap_or_default(),
                            principal_type: p.kind.as_str().into(),
                            role_name: f.via_role.clone().unwrap_or_default(),
                            permission_level: f.level.as_str().into(),
                            privilege: f.privilege.clone(),
                            scope: f.scope.clone(),
                            admin_reason: f.reason.clone(),
                            grant_path: f.path.join(" → "),
                            last_login_date: p.last_login.display(),
                            user_status: p.status.summary(),
                            password_last_set: p.password_last_changed.clone().unwrap_or_else(|| "NOT RECORDED".into()),
                            vendor_managed: if p.vendor_managed { "yes" } else { "no" }.into(),
                            notes: p.notes.join("; "),
                            collection_status: STATUS_OK.into(),
                            ..base.clone()
                        });
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| {
        (
            &a.account_id,
            &a.database_name,
            &a.username,
            &a.user_host,
            &a.permission_level,
            &a.privilege,
            &a.scope,
            &a.grant_path,
        )
            .cmp(&(
                &b.account_id,
                &b.database_name,
                &b.username,
                &b.user_host,
                &b.permission_level,
                &b.privilege,
                &b.scope,
                &b.grant_path,
            ))
    });
    out
}

/// The one row of a report whose population is empty, saying why.
fn empty_report_row(population: &Population, report_timestamp: &str) -> Row {
    let f = &population.filters;
    let list = |v: &[String]| if v.is_empty() { "any".to_owned() } else { v.join(";") };
    let engines: Vec<String> = f.engines.iter().map(ToString::to_string).collect();
    Row {
        collection_status: "NO_TARGETS".into(),
        admin_reason: format!(
            "no database in inventory {} matches accounts={}, regions={}, engines={}",
            population.inventory_source,
            list(&f.accounts),
            list(&f.regions),
            list(&engines)
        ),
        report_timestamp: report_timestamp.to_owned(),
        ..Row::default()
    }
}

/// Makes a cell safe to open in a spreadsheet: one that could start a formula gets a leading `'`.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// UTF-8 with a BOM, CRLF line ends, every cell neutralised against formula injection.
pub fn to_csv(rows: &[Row]) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(&mut out);
        // Writing to a Vec cannot fail.
        w.write_record(HEADERS).expect("write to memory");
        for row in rows {
            w.write_record(row.cells().iter().map(|c| neutralise(c).into_owned())).expect("write to memory");
        }
        w.flush().expect("flush to memory");
    }
    out
}

/// Reads rows back from a report CSV. Cells stay as written: neutralisation cannot be undone
/// (a name may itself start with `'`), so compare CSVs with CSVs and JSON with JSON.
pub fn from_csv(bytes: &[u8]) -> Result<Vec<Row>, csv::Error> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers()?.clone();
    let index: Vec<Option<usize>> = HEADERS.iter().map(|h| headers.iter().position(|c| c == *h)).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let cell = |i: usize| index[i].and_then(|p| record.get(p)).unwrap_or("").to_owned();
        rows.push(Row {
            account_id: cell(0),
            region: cell(1),
            database_name: cell(2),
            database_type: cell(3),
            endpoint: cell(4),
            username: cell(5),
            user_host: cell(6),
            principal_type: cell(7),
            role_name: cell(8),
            permission_level: cell(9),
            privilege: cell(10),
            scope: cell(11),
            admin_reason: cell(12),
            grant_path: cell(13),
            last_login_date: cell(14),
            user_status: cell(15),
            password_last_set: cell(16),
            vendor_managed: cell(17),
            notes: cell(18),
            collection_status: cell(19),
            error_kind: cell(20),
            collected_at: cell(21),
            report_timestamp: cell(22),
        });
    }
    Ok(rows)
}

/// Reads rows from a report JSON ([`to_json`]).
pub fn from_json(bytes: &[u8]) -> Result<Vec<Row>, serde_json::Error> {
    #[derive(Deserialize)]
    struct Rows {
        rows: Vec<Row>,
    }
    serde_json::from_slice::<Rows>(bytes).map(|r| r.rows)
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    report_id: &'a str,
    version: u32,
    report_timestamp: &'a str,
    columns: [&'a str; 23],
    rows: &'a [Row],
}

/// The same rows for machines (values as collected, no spreadsheet neutralisation).
pub fn to_json(report_id: &str, version: u32, report_timestamp: &str, rows: &[Row]) -> Vec<u8> {
    let report = JsonReport { schema_version: 1, report_id, version, report_timestamp, columns: HEADERS, rows };
    serde_json::to_vec_pretty(&report).expect("report rows serialize")
}

/// Targets per status (`OK`, `NO_ADMINS`, `ERROR`) and errors per kind (`ERROR:timeout`).
pub fn status_counts(population: &Population, results: &BTreeMap<String, TargetResult>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for t in &population.targets {
        let keys: Vec<String> = match results.get(&t.id).map(|r| &r.outcome) {
            None => vec![STATUS_ERROR.into(), "ERROR:missing_result".into()],
            Some(Outcome::Failed(f)) => vec![STATUS_ERROR.into(), format!("ERROR:{}", f.kind)],
            Some(Outcome::Collected(c)) if c.principals.is_empty() => vec![STATUS_NO_ADMINS.into()],
            Some(Outcome::Collected(_)) => vec![STATUS_OK.into()],
        };
        for k in keys {
            *counts.entry(k).or_insert(0) += 1;
        }
    }
    counts
}

/// Every distinct query text run across the results.
pub fn queries(results: &BTreeMap<String, TargetResult>) -> Vec<QueryRecord> {
    let set: BTreeSet<(String, String)> = results
        .values()
        .filter_map(|r| match &r.outcome {
            Outcome::Collected(c) => Some(c.queries.iter().map(|q| (q.name.clone(), q.sha256.clone()))),
            Outcome::Failed(_) => None,
        })
        .flatten()
        .collect();
    set.into_iter().map(|(name, sha256)| QueryRecord { name, sha256 }).collect()
}
