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
    let people = admins_that_log_in(c);
    let found = [
        catalog_mismatch(c),
        admin_count(&people),
        nologin_admin_held(c),
        vendor_managed_admin(c),
        admin_via_public(c),
        dormant_admin(c),
        login_evidence_missing(c),
    ];
    let (codes, details) = found.into_iter().flatten().unzip();
    Signals { admins: Some(people.len()), codes, details }
}

/// A signal's code and its sentence, when it is raised.
type Signal = Option<(&'static str, String)>;

fn is_admin(p: &&Principal) -> bool {
    p.level == Level::Admin
}

/// The admins that can log in, vendor accounts aside: the people who administer the database.
fn admins_that_log_in(c: &Collected) -> Vec<&Principal> {
    c.principals.iter().filter(is_admin).filter(|p| !p.vendor_managed && can_log_in(p)).collect()
}

fn catalog_mismatch(c: &Collected) -> Signal {
    (!c.catalog_warnings.is_empty())
        .then(|| (CATALOG_MISMATCH, format!("the catalogs cannot all be believed: {}", c.catalog_warnings.join("; "))))
}

/// `ZERO_ADMINS` or `SINGLE_ADMIN`, from the admins that can log in.
fn admin_count(people: &[&Principal]) -> Signal {
    match people {
        [] => Some((
            ZERO_ADMINS,
            "no admin that can log in (vendor accounts aside): who administers this database?".into(),
        )),
        [one] => Some((
            SINGLE_ADMIN,
            format!("{} is the only admin that can log in: no separation of duties", one.display_name()),
        )),
        _ => None,
    }
}

/// Admin roles that cannot log in, each with the principals that can and hold it (the role appears
/// further along a login's grant path).
fn nologin_admin_held(c: &Collected) -> Signal {
    let held: Vec<(String, BTreeSet<String>)> = c
        .principals
        .iter()
        .filter(is_admin)
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
    if held.is_empty() {
        return None;
    }
    let each: Vec<String> = held
        .iter()
        .map(|(role, holders)| format!("{role} (held by {})", holders.iter().cloned().collect::<Vec<_>>().join(", ")))
        .collect();
    Some((
        NOLOGIN_ADMIN_HELD,
        format!("admin roles that cannot log in, held by principals that can: {}", each.join("; ")),
    ))
}

/// `code`, with `sentence` and the principals it is about, when `about` holds for any.
fn naming(c: &Collected, code: &'static str, sentence: &str, about: impl Fn(&Principal) -> bool) -> Signal {
    let named: Vec<&Principal> = c.principals.iter().filter(|p| about(p)).collect();
    (!named.is_empty()).then(|| (code, format!("{sentence}: {}", names(named.into_iter()))))
}

fn vendor_managed_admin(c: &Collected) -> Signal {
    naming(c, VENDOR_MANAGED_ADMIN, "vendor-managed admins", |p| p.level == Level::Admin && p.vendor_managed)
}

fn admin_via_public(c: &Collected) -> Signal {
    let sentence = "admin granted to every account (PUBLIC, mandatory roles or public) reaches";
    naming(c, ADMIN_VIA_PUBLIC, sentence, |p| p.findings.iter().any(|f| f.level == Level::Admin && f.to_everyone))
}

fn dormant_admin(c: &Collected) -> Signal {
    let window = c.login_evidence.as_ref().map_or(0, |e| e.window_days);
    let sentence = format!("admins that can log in but did not in {window} days (the whole window is in the log)");
    naming(c, DORMANT_ADMIN, &sentence, |p| {
        p.level == Level::Admin && can_log_in(p) && p.last_login == dbadmin_contracts::LastLogin::NeverInWindow
    })
}

fn login_evidence_missing(c: &Collected) -> Signal {
    let why = c.login_evidence.as_ref().and_then(|e| e.missing.as_ref())?;
    Some((LOGIN_EVIDENCE_MISSING, format!("no login evidence: {why}")))
}
