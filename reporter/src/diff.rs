//! Who gained, lost or changed admin access between two reports, keyed on account / region /
//! database / principal: the heart of a periodic access review. `db-admin-report diff` prints it;
//! `report.html` shows it against the report signed before.
//!
//! A target that is an error row in either report is *not comparable*: its principals are listed as
//! such, never as removed or added, because an unreadable database proves nothing about access.
//! Comparison works one database at a time ([`compare_target`]), so a report being rendered can be
//! compared as its databases arrive.

use crate::render::{Row, STATUS_ERROR};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A database in a report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct TargetKey {
    pub account_id: String,
    pub region: String,
    pub database_name: String,
    /// The report's `Database Type`: whether a principal's host is part of who it is.
    #[serde(skip)]
    pub database_type: String,
}

impl TargetKey {
    pub fn of(r: &Row) -> TargetKey {
        TargetKey {
            account_id: r.account_id.clone(),
            region: r.region.clone(),
            database_name: r.database_name.clone(),
            database_type: r.database_type.clone(),
        }
    }

    /// A principal's host as a baseline matches it: `Some` (empty: any host) on MySQL/MariaDB.
    pub fn host_of<'a>(&self, user_host: &'a str) -> Option<&'a str> {
        let has_hosts =
            self.database_type.parse::<dbadmin_contracts::Engine>().map_or(!user_host.is_empty(), |e| e.has_hosts());
        has_hosts.then_some(user_host)
    }
}

/// A principal on a database.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PrincipalKey {
    #[serde(flatten)]
    pub target: TargetKey,
    pub username: String,
    pub user_host: String,
}

/// What a principal holds in one report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Access {
    /// `ADMIN` when any finding is admin, else `ELEVATED`.
    pub level: String,
    /// `privilege (scope)`, sorted.
    pub privileges: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Added {
        #[serde(flatten)]
        key: PrincipalKey,
        after: Access,
        /// Against the approved-admin baseline (`APPROVED`, `UNAPPROVED`, `APPROVAL_EXPIRED`), when
        /// one was given or the later report was read against one.
        #[serde(skip_serializing_if = "Option::is_none")]
        review_status: Option<String>,
    },
    Removed {
        #[serde(flatten)]
        key: PrincipalKey,
        before: Access,
    },
    Changed {
        #[serde(flatten)]
        key: PrincipalKey,
        before: Access,
        after: Access,
    },
    /// The database is an error row in one of the reports (or missing from one): nothing can be said.
    NotComparable {
        #[serde(flatten)]
        target: TargetKey,
        reason: String,
    },
}

impl Change {
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Added { .. } => "added",
            Change::Removed { .. } => "removed",
            Change::Changed { .. } => "changed",
            Change::NotComparable { .. } => "not_comparable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub a: String,
    pub b: String,
    pub changes: Vec<Change>,
}

impl Diff {
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for c in &self.changes {
            *counts.entry(c.kind()).or_insert(0) += 1;
        }
        counts
    }
}

/// One database as a report has it: its collection status and each principal's access.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetSide {
    pub status: String,
    /// `(username, user host)` → access.
    pub principals: BTreeMap<(String, String), Access>,
    /// `(username, user host)` → the report's `Review Status`, where it has one.
    pub review: BTreeMap<(String, String), String>,
}

impl TargetSide {
    /// Adds one row of this database.
    pub fn add(&mut self, r: &Row) {
        self.status.clone_from(&r.collection_status);
        if r.username.is_empty() && r.permission_level.is_empty() {
            return; // a status row (NO_ADMINS, ERROR)
        }
        let who = (r.username.clone(), r.user_host.clone());
        if !r.review_status.is_empty() {
            self.review.insert(who.clone(), r.review_status.clone());
        }
        let access = self.principals.entry(who).or_default();
        if access.level != "ADMIN" {
            access.level.clone_from(&r.permission_level);
        }
        access.privileges.insert(if r.scope.is_empty() {
            r.privilege.clone()
        } else {
            format!("{} ({})", r.privilege, r.scope)
        });
    }
}

/// Every database of a report, by key.
pub fn sides<'a>(rows: impl IntoIterator<Item = &'a Row>) -> BTreeMap<TargetKey, TargetSide> {
    let mut sides: BTreeMap<TargetKey, TargetSide> = BTreeMap::new();
    for r in rows {
        if r.database_name.is_empty() {
            continue; // the one row of a report with no targets
        }
        sides.entry(TargetKey::of(r)).or_default().add(r);
    }
    sides
}

/// What changed on one database between report `a` (before) and `b` (after); `None` where the
/// database is not in that report.
pub fn compare_target(target: &TargetKey, a: Option<&TargetSide>, b: Option<&TargetSide>) -> Vec<Change> {
    let error = |s: &TargetSide| s.status == STATUS_ERROR;
    let reason = match (a, b) {
        (Some(sa), Some(sb)) if error(sa) && error(sb) => Some("not read in either report"),
        (Some(sa), _) if error(sa) => Some("not read in the first report"),
        (_, Some(sb)) if error(sb) => Some("not read in the second report"),
        (None, _) => Some("not in the first report's population"),
        (_, None) => Some("not in the second report's population"),
        _ => None,
    };
    if let Some(reason) = reason {
        return vec![Change::NotComparable { target: target.clone(), reason: reason.into() }];
    }
    let (a, b) = (a.expect("compared"), b.expect("compared"));
    let key = |(username, user_host): &(String, String)| PrincipalKey {
        target: target.clone(),
        username: username.clone(),
        user_host: user_host.clone(),
    };
    let mut changes = Vec::new();
    let who: BTreeSet<&(String, String)> = a.principals.keys().chain(b.principals.keys()).collect();
    for w in who {
        match (a.principals.get(w), b.principals.get(w)) {
            (None, Some(after)) => changes.push(Change::Added {
                key: key(w),
                after: after.clone(),
                review_status: b.review.get(w).cloned(),
            }),
            (Some(before), None) => changes.push(Change::Removed { key: key(w), before: before.clone() }),
            (Some(before), Some(after)) if before != after => {
                changes.push(Change::Changed { key: key(w), before: before.clone(), after: after.clone() })
            }
            _ => {}
        }
    }
    changes
}

/// Compares report `a` (before) with report `b` (after): databases that cannot be compared first,
/// then the principals' changes.
pub fn diff(a_label: &str, a: &[Row], b_label: &str, b: &[Row]) -> Diff {
    let (a, b) = (sides(a), sides(b));
    let targets: BTreeSet<&TargetKey> = a.keys().chain(b.keys()).collect();
    let (mut blind, mut changes): (Vec<Change>, Vec<Change>) = targets
        .into_iter()
        .flat_map(|t| compare_target(t, a.get(t), b.get(t)))
        .partition(|c| matches!(c, Change::NotComparable { .. }));
    changes.sort_by(|x, y| sort_key(x).cmp(&sort_key(y)));
    blind.append(&mut changes);
    Diff { a: a_label.into(), b: b_label.into(), changes: blind }
}

/// Principal changes sort by principal (then kind), as they always have.
fn sort_key(c: &Change) -> (&PrincipalKey, &'static str) {
    match c {
        Change::Added { key, .. } | Change::Removed { key, .. } | Change::Changed { key, .. } => (key, c.kind()),
        Change::NotComparable { .. } => unreachable!("partitioned out"),
    }
}
