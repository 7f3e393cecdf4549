//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

pub fn port(var: &str, default: u16) -> u16 {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The rows of fixture principals, without timestamps: `database | principal | level | privilege | scope | path | status | collection`.
pub fn fixture_rows(bytes: &[u8]) -> Vec<String> {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let [db, user, host, level, privilege, scope, path, status, collection, kind] = [
        "Database Name",
        "Username",
        "User Host",
        "Permission Level",
        "Privilege",
        "Scope",
        "Grant Path",
        "User Status",
        "Collection Status",
        "Error Kind",
    ]
    .map(col);
    let mut rows: Vec<String> = reader
        .records()
        .map(Result::unwrap)
        .filter(|r| r[user].starts_with("fx_") || ["dbadmin_collector", "rds_superuser", ""].contains(&&r[user]))
        .map(|r| {
            let principal = if r[host].is_empty() { r[user].to_owned() } else { format!("{}@{}", &r[user], &r[host]) };
            let error = if &r[collection] == "ERROR" { format!(" ({})", &r[kind]) } else { String::new() };
            format!(
                "{} | {} | {} | {} | {} | {} | {} | {}{}",
                &r[db], principal, &r[level], &r[privilege], &r[scope], &r[path], &r[status], &r[collection], error
            )
        })
        .collect();
    rows.sort();
    rows
}

/// Asserts a report CSV's fixture rows equal cli/tests/golden/demo-fixture-rows.txt
/// (regenerate with `UPDATE_GOLDEN=1`, then review the diff).
pub fn assert_demo_golden(csv: &[u8]) {
    let actual = fixture_rows(csv).join("\n") + "\n";
    let golden = repo().join("cli/tests/golden/demo-fixture-rows.txt");
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::write(&golden, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap();
    assert!(expected == actual, "fixture rows differ from {}:\n{}", golden.display(), actual);
}
