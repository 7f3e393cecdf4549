//! `diff REPORT_A REPORT_B`: who gained, lost or changed admin access between two reports, keyed on
//! account / region / database / principal. The heart of a periodic access review.
//!
//! A target that is an error row in either report is *not comparable*: its principals are listed as
//! such, never as removed or added, because an unreadable database proves nothing about access.

use dbadmin_reporter::render::{Row, STATUS_ERROR};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A database in a report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct TargetKey {
    pub account_id: String,
    pub region: String,
    pub database_name: String,
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

struct Side {
    /// Collection status per database.
    targets: BTreeMap<TargetKey, String>,
    principals: BTreeMap<PrincipalKey, Access>,
}

fn side(rows: &[Row]) -> Side {
    let mut targets = BTreeMap::new();
    let mut principals: BTreeMap<PrincipalKey, Access> = BTreeMap::new();
    for r in rows {
        let target = TargetKey {
            account_id: r.account_id.clone(),
            region: r.region.clone(),
            database_name: r.database_name.clone(),
        };
        targets.insert(target.clone(), r.collection_status.clone());
        if r.username.is_empty() && r.permission_level.is_empty() {
            continue; // a status row (NO_ADMINS, ERROR)
        }
        let key = PrincipalKey { target, username: r.username.clone(), user_host: r.user_host.clone() };
        let access = principals.entry(key).or_default();
        if access.level != "ADMIN" {
            access.level = r.permission_level.clone();
        }
        access.privileges.insert(if r.scope.is_empty() {
            r.privilege.clone()
        } else {
            format!("{} ({})", r.privilege, r.scope)
        });
    }
    Side { targets, principals }
}

/// Compares report `a` (before) with report `b` (after).
pub fn diff(a_label: &str, a: &[Row], b_label: &str, b: &[Row]) -> Diff {
    let (a, b) = (side(a), side(b));
    let mut changes = Vec::new();
    let mut blind = BTreeSet::new();
    for target in a.targets.keys().chain(b.targets.keys()).collect::<BTreeSet<_>>() {
        let reason = match (a.targets.get(target), b.targets.get(target)) {
            (Some(sa), Some(sb)) if sa == STATUS_ERROR && sb == STATUS_ERROR => Some("not read in either report"),
            (Some(sa), _) if sa == STATUS_ERROR => Some("not read in the first report"),
            (_, Some(sb)) if sb == STATUS_ERROR => Some("not read in the second report"),
            (None, _) => Some("not in the first report's population"),
            (_, None) => Some("not in the second report's population"),
            _ => None,
        };
        if let Some(reason) = reason {
            blind.insert(target.clone());
            changes.push(Change::NotComparable { target: target.clone(), reason: reason.into() });
        }
    }
    let keys: BTreeSet<&PrincipalKey> = a.principals.keys().chain(b.principals.keys()).collect();
    for key in keys.into_iter().filter(|k| !blind.contains(&k.target)) {
        match (a.principals.get(key), b.principals.get(key)) {
            (None, Some(after)) => changes.push(Change::Added { key: key.clone(), after: after.clone() }),
            (Some(before), None) => changes.push(Change::Removed { key: key.clone(), before: before.clone() }),
            (Some(before), Some(after)) if before != after => {
                changes.push(Change::Changed { key: key.clone(), before: before.clone(), after: after.clone() })
            }
            _ => {}
        }
    }
    Diff { a: a_label.into(), b: b_label.into(), changes }
}

fn principal(k: &PrincipalKey) -> String {
    let user = if k.user_host.is_empty() { k.username.clone() } else { format!("{}@{}", k.username, k.user_host) };
    format!("{}/{}/{}: {user}", k.target.account_id, k.target.region, k.target.database_name)
}

fn privileges(a: &Access) -> String {
    a.privileges.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// For people: one line per change, grouped by kind.
pub fn to_text(d: &Diff) -> String {
    let mut out = format!("Comparing {} (before) with {} (after)\n", d.a, d.b);
    for c in &d.changes {
        let line = match c {
            Change::Added { key, after } => format!("+ {}  {} [{}]", principal(key), after.level, privileges(after)),
            Change::Removed { key, before } => {
                format!("- {}  {} [{}]", principal(key), before.level, privileges(before))
            }
            Change::Changed { key, before, after } => {
                let gained: Vec<&String> = after.privileges.difference(&before.privileges).collect();
                let lost: Vec<&String> = before.privileges.difference(&after.privileges).collect();
                let mut parts = Vec::new();
                if before.level != after.level {
                    parts.push(format!("{} → {}", before.level, after.level));
                }
                if !gained.is_empty() {
                    parts.push(format!("gained {}", gained.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")));
                }
                if !lost.is_empty() {
                    parts.push(format!("lost {}", lost.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")));
                }
                format!("~ {}  {}", principal(key), parts.join("; "))
            }
            Change::NotComparable { target, reason } => {
                format!("? {}/{}/{}: {reason}", target.account_id, target.region, target.database_name)
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    let counts = d.counts();
    let n = |k| counts.get(k).copied().unwrap_or(0);
    out.push_str(&format!(
        "{} added, {} removed, {} changed, {} databases not comparable\n",
        n("added"),
        n("removed"),
        n("changed"),
        n("not_comparable")
    ));
    out
}

/// For spreadsheets: one row per change, cells neutralised like the report's.
pub fn to_csv(d: &Diff) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(&mut out);
        let header = [
            "Change",
            "Account ID",
            "Region",
            "Database Name",
            "Username",
            "User Host",
            "Level Before",
            "Level After",
            "Privileges Before",
            "Privileges After",
            "Reason",
        ];
        w.write_record(header).expect("write to memory");
        for c in &d.changes {
            let empty = Access::default();
            let (target, user, host, before, after, reason) = match c {
                Change::Added { key, after } => (&key.target, &key.username[..], &key.user_host[..], &empty, after, ""),
                Change::Removed { key, before } => {
                    (&key.target, &key.username[..], &key.user_host[..], before, &empty, "")
                }
                Change::Changed { key, before, after } => {
                    (&key.target, &key.username[..], &key.user_host[..], before, after, "")
                }
                Change::NotComparable { target, reason } => (target, "", "", &empty, &empty, &reason[..]),
            };
            let record = [
                c.kind(),
                &target.account_id,
                &target.region,
                &target.database_name,
                user,
                host,
                &before.level,
                &after.level,
                &privileges(before),
                &privileges(after),
                reason,
            ];
            w.write_record(record.iter().map(|cell| dbadmin_reporter::render::neutralise(cell).into_owned()))
                .expect("write to memory");
        }
        w.flush().expect("flush to memory");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(db: &str, user: &str, level: &str, privilege: &str, status: &str) -> Row {
        Row {
            account_id: "111111111111".into(),
            region: "eu-west-1".into(),
            database_name: db.into(),
            username: user.into(),
            user_host: if user.is_empty() { String::new() } else { "%".into() },
            permission_level: level.into(),
            privilege: privilege.into(),
            scope: if privilege.is_empty() { String::new() } else { "server".into() },
            collection_status: status.into(),
            ..Row::default()
        }
    }

    #[test]
    fn added_removed_changed_and_unreadable_databases() {
        let a = vec![
            row("db1", "alice", "ADMIN", "SUPER", "OK"),
            row("db1", "bob", "ELEVATED", "PROCESS", "OK"),
            row("db1", "carol", "ADMIN", "ALL", "OK"),
            row("db2", "dave", "ADMIN", "SUPERUSER", "OK"),
            row("db3", "", "", "", "NO_ADMINS"),
        ];
        let b = vec![
            row("db1", "alice", "ADMIN", "SUPER", "OK"),
            row("db1", "bob", "ADMIN", "CREATE USER", "OK"),
            row("db1", "bob", "ELEVATED", "PROCESS", "OK"),
            row("db1", "=evil", "ADMIN", "ALL", "OK"),
            row("db2", "", "", "", "ERROR"),
            row("db3", "", "", "", "NO_ADMINS"),
        ];
        let d = diff("A", &a, "B", &b);
        let kinds: Vec<(&str, String)> = d
            .changes
            .iter()
            .map(|c| {
                let who = match c {
                    Change::Added { key, .. } | Change::Removed { key, .. } | Change::Changed { key, .. } => {
                        key.username.clone()
                    }
                    Change::NotComparable { target, .. } => target.database_name.clone(),
                };
                (c.kind(), who)
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("not_comparable", "db2".to_string()),
                ("added", "=evil".into()),
                ("changed", "bob".into()),
                ("removed", "carol".into()),
            ],
            "dave is on an unreadable database: not reported as removed"
        );
        let text = to_text(&d);
        assert!(
            text.contains("~ 111111111111/eu-west-1/db1: bob@%  ELEVATED → ADMIN; gained CREATE USER (server)"),
            "{text}"
        );
        assert!(text.contains("1 added, 1 removed, 1 changed, 1 databases not comparable"), "{text}");
        let csv = String::from_utf8(to_csv(&d)).unwrap();
        assert!(csv.contains("added,111111111111,eu-west-1,db1,'=evil,%,,ADMIN,,ALL (server),"), "{csv}");
        assert!(diff("A", &a, "A", &a).changes.is_empty());
    }
}
