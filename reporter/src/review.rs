//! Review signals: what a reviewer should look at first on each database, worked out from what was
//! collected (never from names).
//!
//! | signal | when |
//! |---|---|
//! | `ERROR` | the database could not be read: nothing is known about its admins |
//! | `CATALOG_MISMATCH` | the catalogs were not all the engine's own, disagreed with themselves, or a part could not be read: the collector says which source said what |
//! | `ZERO_ADMINS` | no admin that can log in, vendor accounts aside: who administers it? |
//! | `SINGLE_ADMIN` | exactly one such admin: no separation of duties |
//! | `NOLOGIN_ADMIN_HELD` | an admin role that cannot log in itself is held by a principal that can |
//! | `VENDOR_MANAGED_ADMIN` | a cloud vendor's or the engine's own account holds admin |
//! | `ADMIN_VIA_PUBLIC` | admin reaches principals through `PUBLIC`, MySQL's mandatory roles or SQL Server's `public` |
//! | `DORMANT_ADMIN` | an admin that can log in has not, in a login log that covers the whole window |
//! | `LOGIN_EVIDENCE_MISSING` | no login log could be read for the database: its Last Login Dates are unknown, and why |
//!
//! Databases AWS lists that the inventory does not (`NOT_IN_INVENTORY`) have no rows in the report:
//! they are in `reconciliation.csv` and first in `report.html`.

use dbadmin_contracts::{Collected, Level, Outcome, Principal, TargetResult};
use std::collections::BTreeSet;

pub const ERROR: &str = "ERROR";
pub const CATALOG_MISMATCH: &str = "CATALOG_MISMATCH";
pub const ZERO_ADMINS: &str = "ZERO_ADMINS";
pub const SINGLE_ADMIN: &str = "SINGLE_ADMIN";
pub const NOLOGIN_ADMIN_HELD: &str = "NOLOGIN_ADMIN_HELD";
pub const VENDOR_MANAGED_ADMIN: &str = "VENDOR_MANAGED_ADMIN";
pub const ADMIN_VIA_PUBLIC: &str = "ADMIN_VIA_PUBLIC";
pub const DORMANT_ADMIN: &str = "DORMANT_ADMIN";
pub const LOGIN_EVIDENCE_MISSING: &str = "LOGIN_EVIDENCE_MISSING";

/// Account flags under which a principal cannot open a session (an expired password still lets a
/// MySQL account log in to change it, so `PASSWORD_EXPIRED` and `MUST_CHANGE` are not among them).
const CANNOT_LOG_IN: [&str; 7] =
    ["NOLOGIN", "LOCKED", "DISABLED", "CONNECT_DENIED", "ROLE", "VALID_UNTIL_PASSED", "CONNECTION_LIMIT_0"];

/// Can this principal open a session itself?
pub fn can_log_in(p: &Principal) -> bool {
    !p.status.flags.iter().any(|f| CANNOT_LOG_IN.contains(&f.as_str()))
}

/// One database's signals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signals {
    /// Admins that can log in, vendor accounts aside; `None` when the database was not read.
    pub admins: Option<usize>,
    /// The signal codes, in the order of the table above.
    pub codes: Vec<&'static str>,
    /// One sentence per signal naming the principals involved, for `report.html`.
    pub details: Vec<String>,
}

impl Signals {
    /// The `Review Signals` cell: codes separated by `; `.
    pub fn cell(&self) -> String {
        self.codes.join("; ")
    }
}

/// The signals of a target's result (`None`: no result was stored).
pub fn signals(result: Option<&TargetResult>) -> Signals {
    match result.map(|r| &r.outcome) {
        Some(Outcome::Collected(c)) => collected(c),
        _ => Signals {
            admins: None,
            codes: vec![ERROR],
            details: vec!["not read: nothing is known about its admins".into()],
        },
    }
}

fn names<'a>(principals: impl Iterator<Item = &'a Principal>) -> String {
    principals.map(Principal::display_name).collect::<Vec<_>>().join(", ")
}

fn collected(c: &Collected) -> Signals {
    let admin = |p: &&Principal| p.level == Level::Admin;
    let people: Vec<&Principal> =
        c.principals.iter().filter(admin).filter(|p| !p.vendor_managed && can_log_in(p)).collect();
    let mut s = Signals { admins: Some(people.len()), ..Signals::default() };
    if !c.catalog_warnings.is_empty() {
        s.codes.push(CATALOG_MISMATCH);
        s.details.push(format!("the catalogs cannot all be believed: {}", c.catalog_warnings.join("; ")));
    }
    match people.len() {
        0 => {
            s.codes.push(ZERO_ADMINS);
            s.details.push("no admin that can log in (vendor accounts aside): who administers this database?".into());
        }
        1 => {
            s.codes.push(SINGLE_ADMIN);
            s.details.push(format!(
                "{} is the only admin that can log in: no separation of duties",
                names(people.into_iter())
            ));
        }
        _ => {}
    }
    // Roles that cannot log in, and who holds each of them (appears further along a login's path).
    let held: Vec<(String, BTreeSet<String>)> = c
        .principals
        .iter()
        .filter(admin)
        .filter(|p| !can_log_in(p))
        .filter_map(|role| {
            let name = role.display_name();
            let holders: BTreeSet<String> = c
                .principals
                .iter()
                .filter(|q| can_log_in(q))
                .filter(|q| q.findings.iter().any(|f| f.path.iter().skip(1).any(|step| *step == name)))
                .map(Principal::display_name)
                .collect();
            (!holders.is_empty()).then_some((name, holders))
        })
        .collect();
    if !held.is_empty() {
        s.codes.push(NOLOGIN_ADMIN_HELD);
        let each: Vec<String> = held
            .iter()
            .map(|(role, holders)| {
                format!("{role} (held by {})", holders.iter().cloned().collect::<Vec<_>>().join(", "))
            })
            .collect();
        s.details.push(format!("admin roles that cannot log in, held by principals that can: {}", each.join("; ")));
    }
    let vendor: Vec<&Principal> = c.principals.iter().filter(admin).filter(|p| p.vendor_managed).collect();
    if !vendor.is_empty() {
        s.codes.push(VENDOR_MANAGED_ADMIN);
        s.details.push(format!("vendor-managed admins: {}", names(vendor.into_iter())));
    }
    let everyone: Vec<&Principal> =
        c.principals.iter().filter(|p| p.findings.iter().any(|f| f.level == Level::Admin && f.to_everyone)).collect();
    if !everyone.is_empty() {
        s.codes.push(ADMIN_VIA_PUBLIC);
        s.details.push(format!(
            "admin granted to every account (PUBLIC, mandatory roles or public) reaches: {}",
            names(everyone.into_iter())
        ));
    }
    let dormant: Vec<&Principal> = c
        .principals
        .iter()
        .filter(admin)
        .filter(|p| can_log_in(p) && p.last_login == dbadmin_contracts::LastLogin::NeverInWindow)
        .collect();
    let window = c.login_evidence.as_ref().map_or(0, |e| e.window_days);
    if !dormant.is_empty() {
        s.codes.push(DORMANT_ADMIN);
        s.details.push(format!(
            "admins that can log in but did not in {window} days (the whole window is in the log): {}",
            names(dormant.into_iter())
        ));
    }
    if let Some(why) = c.login_evidence.as_ref().and_then(|e| e.missing.as_ref()) {
        s.codes.push(LOGIN_EVIDENCE_MISSING);
        s.details.push(format!("no login evidence: {why}"));
    }
    s
}
