//! The approved-admin baseline: who is expected to hold admin access where, approved by whom, under
//! which ticket, until when. A report read against it says, for every principal row, whether the
//! access was approved (`APPROVED`), never was (`UNAPPROVED`) or was but no longer is
//! (`APPROVAL_EXPIRED`).
//!
//! The file is a CSV with the columns `account_id, database, principal, approved_by, ticket,
//! expires` (headers are matched without regard to case, spaces or hyphens; `account` is accepted
//! for `account_id`). `database` is the inventory id of a database, or `*` for every database of
//! the account. `principal` is the report's `Username`; the optional `user_host` column is its
//! `User Host` (MySQL-style accounts), empty for engines without one. Without that column,
//! `principal` may be written `Username@User Host` (split at its last `@`, as host names hold
//! none): such a line approves only a MySQL-style account, never a role whose name merely holds
//! an `@` (a PostgreSQL role named `svc@%` is approved only by a line with a `user_host` column
//! left empty). `expires` is a date (`YYYY-MM-DD`, the last day the approval holds) or empty.

use crate::inventory::{AccountId, InventoryIssue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A baseline as the report's population carries it: where it came from, its bytes' SHA-256, and
/// every approval it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub source: String,
    pub sha256: String,
    pub approvals: Vec<Approval>,
}

/// One line of a baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub account_id: String,
    /// An inventory id, or `*` for every database of the account.
    pub database: String,
    /// The principal's name (the report's `Username`).
    pub principal: String,
    /// Its `User Host` for MySQL-style accounts; `None` for a principal without one. The two are
    /// matched as a pair: an approval never matches by a name that only looks like `name@host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_host: Option<String>,
    pub approved_by: String,
    #[serde(default)]
    pub ticket: String,
    /// The last day the approval holds (`YYYY-MM-DD`); `None`: it does not expire.
    #[serde(default)]
    pub expires: Option<String>,
}

/// What a baseline says about one principal on one database on the report's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStatus<'a> {
    Approved(&'a Approval),
    Expired(&'a Approval),
    Unapproved,
}

impl ReviewStatus<'_> {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReviewStatus::Approved(_) => "APPROVED",
            ReviewStatus::Expired(_) => "APPROVAL_EXPIRED",
            ReviewStatus::Unapproved => "UNAPPROVED",
        }
    }

    /// The approval the status rests on (the current one, or the latest that expired).
    pub fn approval(&self) -> Option<&Approval> {
        match self {
            ReviewStatus::Approved(a) | ReviewStatus::Expired(a) => Some(a),
            ReviewStatus::Unapproved => None,
        }
    }
}

/// Every problem found in a baseline. A report is never read against a baseline that has any.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BaselineError {
    pub issues: Vec<InventoryIssue>,
}

impl fmt::Display for BaselineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.issues.len();
        write!(f, "invalid baseline ({n} problem{})", if n == 1 { "" } else { "s" })?;
        for issue in &self.issues {
            write!(f, "\n  {issue}")?;
        }
        Ok(())
    }
}

const COLUMNS: [&str; 7] = ["account_id", "database", "principal", "user_host", "approved_by", "ticket", "expires"];
const REQUIRED: [&str; 4] = ["account_id", "database", "principal", "approved_by"];

/// `Approved By`, `approved-by`, `APPROVED_BY` → `approved_by`; `account` → `account_id`.
fn column_name(header: &str) -> String {
    let name: String =
        header.trim().chars().map(|c| if c == ' ' || c == '-' { '_' } else { c.to_ascii_lowercase() }).collect();
    if name == "account" {
        "account_id".to_owned()
    } else {
        name
    }
}

/// `name@host` → (`name`, `host`) at the last `@` (MySQL host names and patterns hold none);
/// a name without `@` has no host.
fn split_qualified(principal: String) -> (String, Option<String>) {
    match principal.rsplit_once('@') {
        Some((name, host)) => (name.to_owned(), Some(host.to_owned())),
        None => (principal, None),
    }
}

fn is_date(text: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, format).is_ok()
}

/// One issue of the baseline file `source`, at `line` (and `field`, when one is at fault).
fn issue(source: &str, line: u64, field: Option<&str>, message: String) -> InventoryIssue {
    InventoryIssue { file: source.to_owned(), line, field: field.map(str::to_owned), message }
}

/// The header's columns by canonical name, or every issue with them (unknown, twice, missing).
fn header_index(
    source: &str,
    text: &str,
    headers: &csv::StringRecord,
) -> Result<BTreeMap<String, usize>, Vec<InventoryIssue>> {
    let line = text.lines().position(|l| !l.trim().is_empty() && !l.starts_with('#')).map_or(1, |i| i as u64 + 1);
    let mut index = BTreeMap::new();
    let mut issues = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        let name = column_name(header);
        if !COLUMNS.contains(&name.as_str()) {
            issues.push(issue(
                source,
                line,
                Some(header),
                format!("unknown column (expected: {})", COLUMNS.join(", ")),
            ));
        } else if index.insert(name, i).is_some() {
            issues.push(issue(source, line, Some(header), "column appears twice".into()));
        }
    }
    for required in REQUIRED {
        if !index.contains_key(required) {
            issues.push(issue(source, line, Some(required), "required column is missing".into()));
        }
    }
    if issues.is_empty() {
        Ok(index)
    } else {
        Err(issues)
    }
}

/// The approval one row gives, or every issue with its fields.
fn approval_of(
    source: &str,
    index: &BTreeMap<String, usize>,
    record: &csv::StringRecord,
) -> Result<Approval, Vec<InventoryIssue>> {
    let line = record.position().map_or(0, |p| p.line());
    let get = |column: &str| index.get(column).and_then(|i| record.get(*i)).unwrap_or("").to_owned();
    let (principal, user_host) = if index.contains_key("user_host") {
        (get("principal"), Some(get("user_host")).filter(|h| !h.is_empty()))
    } else {
        split_qualified(get("principal"))
    };
    let approval = Approval {
        account_id: get("account_id"),
        database: get("database"),
        principal,
        user_host,
        approved_by: get("approved_by"),
        ticket: get("ticket"),
        expires: Some(get("expires")).filter(|e| !e.is_empty()),
    };
    let mut issues = Vec::new();
    for (field, value) in [
        ("account_id", &approval.account_id),
        ("database", &approval.database),
        ("principal", &approval.principal),
        ("approved_by", &approval.approved_by),
    ] {
        if value.is_empty() {
            issues.push(issue(source, line, Some(field), "must not be empty".into()));
        } else if value.chars().any(char::is_control) {
            issues.push(issue(source, line, Some(field), "holds a control character".into()));
        }
    }
    if let (false, Err(message)) = (approval.account_id.is_empty(), AccountId::parse(&approval.account_id)) {
        issues.push(issue(source, line, Some("account_id"), message));
    }
    if let Some(expires) = &approval.expires {
        if !is_date(expires) {
            issues.push(issue(source, line, Some("expires"), format!("'{expires}' is not a date (YYYY-MM-DD)")));
        }
    }
    if issues.is_empty() {
        Ok(approval)
    } else {
        Err(issues)
    }
}

impl Baseline {
    /// Parses and validates a baseline CSV; `source` names it in every error.
    pub fn parse(source: &str, bytes: &[u8]) -> Result<Baseline, BaselineError> {
        let fail = |issues| Err(BaselineError { issues });
        let Ok(text) = std::str::from_utf8(bytes) else {
            return fail(vec![issue(source, 1, None, "not valid UTF-8".into())]);
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(text.as_bytes());
        let index = match reader.headers() {
            Ok(headers) => header_index(source, text, headers).map_err(|issues| BaselineError { issues })?,
            Err(e) => return fail(vec![issue(source, 1, None, format!("cannot read the header: {e}"))]),
        };
        let mut approvals = Vec::new();
        let mut issues = Vec::new();
        for record in reader.records() {
            match record {
                Ok(record) => match approval_of(source, &index, &record) {
                    Ok(approval) => approvals.push(approval),
                    Err(more) => issues.extend(more),
                },
                Err(e) => issues.push(issue(
                    source,
                    e.position().map_or(0, |p| p.line()),
                    None,
                    "malformed CSV row (a quote left open, or another number of cells than the header)".into(),
                )),
            }
        }
        if !issues.is_empty() {
            return fail(issues);
        }
        Ok(Baseline { source: source.to_owned(), sha256: crate::sha256_hex(bytes), approvals })
    }

    /// The status of `username` on `database` of `account_id`, on the day of `report_timestamp`
    /// (RFC 3339; an approval holds through its `expires` day). `host` is `Some` for a MySQL-style
    /// account (its host, which may be empty: any host) and `None` for a principal without one.
    /// Of several matching approvals, a current one wins, else the latest expired.
    pub fn status(
        &self,
        account_id: &str,
        database: &str,
        username: &str,
        host: Option<&str>,
        report_timestamp: &str,
    ) -> ReviewStatus<'_> {
        let day = report_timestamp.get(..10).unwrap_or(report_timestamp);
        let mut expired: Option<&Approval> = None;
        for a in self.approvals.iter().filter(|a| {
            a.account_id == account_id
                && (a.database == database || a.database == "*")
                && a.principal == username
                && a.user_host.as_deref() == host
        }) {
            match &a.expires {
                Some(e) if e.as_str() < day => {
                    if expired.is_none_or(|x| x.expires < a.expires) {
                        expired = Some(a);
                    }
                }
                _ => return ReviewStatus::Approved(a),
            }
        }
        expired.map_or(ReviewStatus::Unapproved, ReviewStatus::Expired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\u{feff}Account,Database,Principal,Approved By,Ticket,Expires\n\
        # comments are skipped\n\
        111111111111,db-a,alice,Carol CISO,SEC-1,\n\
        111111111111,db-a,app@%,Carol CISO,SEC-2,2026-12-01\n\
        111111111111,*,rdsadmin,Platform,SEC-3,2027-01-31\n";

    #[test]
    fn statuses_follow_the_report_day() {
        let b = Baseline::parse("baseline.csv", GOOD.as_bytes()).unwrap();
        assert_eq!(b.approvals.len(), 3);
        assert_eq!(b.sha256, crate::sha256_hex(GOOD.as_bytes()));
        let day = "2026-12-01T23:59:59Z";
        let s = b.status("111111111111", "db-a", "alice", None, day);
        assert_eq!((s.as_str(), s.approval().unwrap().ticket.as_str()), ("APPROVED", "SEC-1"));
        // Through its expiry day, then expired.
        assert_eq!(b.status("111111111111", "db-a", "app", Some("%"), day).as_str(), "APPROVED");
        assert_eq!(
            b.status("111111111111", "db-a", "app", Some("%"), "2026-12-02T00:00:00Z").as_str(),
            "APPROVAL_EXPIRED"
        );
        // A MySQL account is approved by its qualified name only.
        assert_eq!(b.status("111111111111", "db-a", "app", Some("localhost"), day).as_str(), "UNAPPROVED");
        assert_eq!(b.status("111111111111", "db-a", "alice", Some("%"), day).as_str(), "UNAPPROVED");
        // The pair is matched, not a string that looks like it: a role whose name holds `@` (a
        // PostgreSQL role named `app@%`, no host) is not the MySQL account 'app'@'%'.
        assert_eq!(b.status("111111111111", "db-a", "app@%", None, day).as_str(), "UNAPPROVED");
        assert_eq!(b.status("111111111111", "db-a", "app@", Some("%"), day).as_str(), "UNAPPROVED");
        // A MySQL account with an empty host (any host) is not a principal without one.
        assert_eq!(b.status("111111111111", "db-z", "rdsadmin", Some(""), day).as_str(), "UNAPPROVED");
        // `*` covers every database of that account, and of no other.
        assert_eq!(b.status("111111111111", "db-z", "rdsadmin", None, day).as_str(), "APPROVED");
        assert_eq!(b.status("222222222222", "db-z", "rdsadmin", None, day).as_str(), "UNAPPROVED");
    }

    #[test]
    fn a_user_host_column_names_the_pair_exactly() {
        let csv = "Account,Database,Principal,User Host,Approved By\n\
            111111111111,db-pg,svc@%,,Carol\n\
            111111111111,db-my,svc,10.0.0.%,Carol\n";
        let b = Baseline::parse("b.csv", csv.as_bytes()).unwrap();
        let day = "2026-06-01T00:00:00Z";
        // A PostgreSQL role whose name holds `@`: approved by name, with no host.
        assert_eq!(b.status("111111111111", "db-pg", "svc@%", None, day).as_str(), "APPROVED");
        assert_eq!(b.status("111111111111", "db-pg", "svc", Some("%"), day).as_str(), "UNAPPROVED");
        assert_eq!(b.status("111111111111", "db-my", "svc", Some("10.0.0.%"), day).as_str(), "APPROVED");
        assert_eq!(b.status("111111111111", "db-my", "svc", Some("%"), day).as_str(), "UNAPPROVED");
        assert_eq!(b.status("111111111111", "db-my", "svc@10.0.0.%", None, day).as_str(), "UNAPPROVED");
    }

    #[test]
    fn a_current_approval_outranks_an_expired_one() {
        let csv = "account_id,database,principal,approved_by,ticket,expires\n\
            111111111111,db-a,bob,X,OLD,2025-01-01\n111111111111,db-a,bob,Y,NEW,\n";
        let b = Baseline::parse("b.csv", csv.as_bytes()).unwrap();
        let s = b.status("111111111111", "db-a", "bob", None, "2026-06-01T00:00:00Z");
        assert_eq!((s.as_str(), s.approval().unwrap().ticket.as_str()), ("APPROVED", "NEW"));
    }

    #[test]
    fn every_problem_is_named_with_its_line_and_field() {
        let csv = "account_id,database,principal,approved_by,expires,colour\n";
        let err = Baseline::parse("b.csv", csv.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("b.csv:1: field 'colour': unknown column"), "{err}");
        let csv = "account_id,database,principal,approved_by,expires\n\
            111111111111,db-a,alice,,\n12,db-a,bob,X,31/12/2026\n";
        let err = Baseline::parse("b.csv", csv.as_bytes()).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.issues.len(), 3, "{text}");
        assert!(text.contains("b.csv:2: field 'approved_by': must not be empty"), "{text}");
        assert!(text.contains("b.csv:3: field 'account_id': '12' is not a 12-digit AWS account id"), "{text}");
        assert!(text.contains("b.csv:3: field 'expires': '31/12/2026' is not a date (YYYY-MM-DD)"), "{text}");
        let err = Baseline::parse("b.csv", b"account_id,database\n").unwrap_err().to_string();
        assert!(err.contains("field 'principal': required column is missing"), "{err}");
    }
}
