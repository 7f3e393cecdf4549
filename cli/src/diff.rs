//! `diff REPORT_A REPORT_B [--baseline FILE]`: the comparison ([`dbadmin_reporter::diff`]) as text
//! or CSV, with each added principal's review status against the approved-admin baseline.

use dbadmin_contracts::baseline::Baseline;
pub use dbadmin_reporter::diff::{diff, Access, Change, Diff, PrincipalKey};

/// Marks each added principal with its status in `baseline` on the day of report `b`
/// (`report_timestamp`); without a baseline the later report's own `Review Status` stays.
pub fn review(d: &mut Diff, baseline: &Baseline, report_timestamp: &str) {
    for c in &mut d.changes {
        if let Change::Added { key, review_status, .. } = c {
            let t = &key.target;
            let host = t.host_of(&key.user_host);
            let status = baseline.status(&t.account_id, &t.database_name, &key.username, host, report_timestamp);
            *review_status = Some(status.as_str().to_owned());
        }
    }
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
            Change::Added { key, after, review_status } => {
                let review = review_status.as_deref().map(|s| format!("  {s}")).unwrap_or_default();
                format!("+ {}  {} [{}]{review}", principal(key), after.level, privileges(after))
            }
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
            "Review Status",
        ];
        w.write_record(header).expect("write to memory");
        for c in &d.changes {
            let empty = Access::default();
            let review = match c {
                Change::Added { review_status: Some(s), .. } => s.as_str(),
                _ => "",
            };
            let (target, user, host, before, after, reason) = match c {
                Change::Added { key, after, .. } => {
                    (&key.target, &key.username[..], &key.user_host[..], &empty, after, "")
                }
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
                review,
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
    use dbadmin_reporter::render::Row;

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

    #[test]
    fn added_admins_are_marked_against_the_baseline() {
        let a = vec![row("db1", "alice", "ADMIN", "SUPER", "OK")];
        let b = vec![
            row("db1", "alice", "ADMIN", "SUPER", "OK"),
            row("db1", "bob", "ADMIN", "SUPER", "OK"),
            row("db1", "carol", "ADMIN", "SUPER", "OK"),
            row("db1", "dave", "ADMIN", "SUPER", "OK"),
        ];
        let baseline = Baseline::parse(
            "baseline.csv",
            b"account_id,database,principal,approved_by,ticket,expires\n\
              111111111111,db1,bob@%,Carol,SEC-9,\n111111111111,*,carol@%,Carol,SEC-1,2020-01-01\n",
        )
        .unwrap();
        let mut d = diff("A", &a, "B", &b);
        review(&mut d, &baseline, "2026-12-02T10:00:00Z");
        let text = to_text(&d);
        assert!(text.contains("+ 111111111111/eu-west-1/db1: bob@%  ADMIN [SUPER (server)]  APPROVED"), "{text}");
        assert!(text.contains("carol@%  ADMIN [SUPER (server)]  APPROVAL_EXPIRED"), "{text}");
        assert!(text.contains("dave@%  ADMIN [SUPER (server)]  UNAPPROVED"), "{text}");
        let csv = String::from_utf8(to_csv(&d)).unwrap();
        assert!(csv.contains(",UNAPPROVED\r\n"), "{csv}");
        // Without a baseline, the later report's own review status is kept.
        let mut b2 = b.clone();
        b2[3].review_status = "UNAPPROVED".into();
        let d = diff("A", &a, "B", &b2);
        assert!(to_text(&d).contains("dave@%  ADMIN [SUPER (server)]  UNAPPROVED"));
    }
}
