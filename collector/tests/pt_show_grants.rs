//! An independent cross-check of the MySQL/MariaDB admin definition: Percona's `pt-show-grants`
//! (Debian's `percona-toolkit`) prints every account's grants as the server states them; a small
//! classifier here, written from docs/admin-definition.md and not sharing code with the collector, says which
//! of those grants are admin-class. For every fixture server:
//! - every admin-class grant pt-show-grants shows is an admin finding of ours, held directly;
//! - every finding of ours held directly is backed by a grant it shows;
//! - every finding of ours reached through a role starts at a role it shows granted to the account
//!   (or one every account receives: `@@mandatory_roles`, MariaDB `PUBLIC`).
//!
//! A disagreement fails with both sides printed (password hashes masked).
//! pt-show-grants 3.2 does not list MariaDB roles (host '') or PUBLIC, nor a MySQL role that is
//! granted to nobody but named in `@@mandatory_roles` (it takes locked accounts for roles and lists
//! roles from `role_edges`); those principals are checked by mysql_family.rs only, and this test
//! asserts that nothing else goes unchecked.

mod common;

use common::*;
use dbadmin_contracts::{Collected, Engine, Level, Principal};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Admin by themselves on `*.*` (docs/admin-definition.md, MySQL and MariaDB).
const GLOBAL_ADMIN: &[&str] = &[
    "SUPER",
    "CREATE USER",
    "ALL PRIVILEGES",
    "SET USER",
    "CONNECTION ADMIN",
    "ROLE_ADMIN",
    "SYSTEM_VARIABLES_ADMIN",
    "SET_USER_ID",
    "SET_ANY_DEFINER",
    "AUDIT_ADMIN",
    "AUTHENTICATION_POLICY_ADMIN",
    "ENCRYPTION_KEY_ADMIN",
    "PERSIST_RO_VARIABLES_ADMIN",
    "FIREWALL_ADMIN",
];
/// Writes: admin on `*.*` (unless partially revoked on mysql) and on the mysql schema or its tables.
const WRITES: &[&str] = &["INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "ALL PRIVILEGES"];

#[derive(Debug, Clone)]
struct Grant {
    privileges: Vec<String>,
    /// `*.*`, `db.*` or `db.table`, without quotes; `None` for a role grant.
    object: Option<String>,
    with_grant_option: bool,
    line: String,
}

#[derive(Debug, Default)]
struct Account {
    grants: Vec<Grant>,
    /// Roles granted to the account.
    roles: BTreeSet<String>,
    /// Privileges revoked on the mysql schema (MySQL partial revokes).
    revoked_on_mysql: BTreeSet<String>,
}

fn unquote(s: &str) -> String {
    s.replace(['`', '\''], "")
}

/// Splits on commas outside parentheses: `SELECT (`a`, `b`), INSERT` → two privileges.
fn split_privileges(list: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0);
    for c in list.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        if depth == 0 && c != ')' {
            cur.push(c);
        }
    }
    out.push(cur);
    out.into_iter().map(|p| p.trim().to_uppercase()).filter(|p| !p.is_empty()).collect()
}

/// `'user'@'host'` from pt-show-grants' section header or a grantee.
fn ident(s: &str) -> String {
    let s = s.trim().trim_end_matches(';');
    let s = s.split(" IDENTIFIED").next().unwrap_or(s);
    let s = s.split(" WITH GRANT OPTION").next().unwrap_or(s);
    let (user, host) = s.split_once('@').unwrap_or((s, "%"));
    format!("'{}'@'{}'", unquote(user), unquote(host))
}

fn parse(output: &str) -> BTreeMap<String, Account> {
    let mut accounts: BTreeMap<String, Account> = BTreeMap::new();
    let mut current = None;
    for line in output.lines() {
        if let Some(header) = line.strip_prefix("-- Grants for ") {
            current = Some(ident(header));
            accounts.entry(ident(header)).or_default();
            continue;
        }
        let Some(name) = current.clone() else { continue };
        let account = accounts.entry(name).or_default();
        if let Some(rest) = line.strip_prefix("REVOKE ") {
            let (privs, object) = rest.split_once(" ON ").expect("REVOKE … ON …");
            if unquote(object.split(" FROM ").next().unwrap_or("")).trim() == "mysql.*" {
                account.revoked_on_mysql.extend(split_privileges(privs));
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("GRANT ") else { continue };
        let with_grant_option = rest.contains("WITH GRANT OPTION");
        match rest.split_once(" ON ") {
            Some((privs, tail)) if !privs.contains(" TO ") => {
                let object = tail.split(" TO ").next().unwrap_or("").trim();
                account.grants.push(Grant {
                    privileges: split_privileges(privs),
                    object: Some(unquote(object)),
                    with_grant_option,
                    line: mask(line),
                });
            }
            _ => {
                let (roles, _) = rest.split_once(" TO ").expect("GRANT role TO account");
                // MariaDB roles have no host part.
                account.roles.extend(roles.split(',').map(|r| {
                    if r.contains('@') {
                        ident(r.trim())
                    } else {
                        format!("'{}'@''", unquote(r.trim()))
                    }
                }));
            }
        }
    }
    accounts
}

/// The line without the password hash pt-show-grants prints for MariaDB accounts.
fn mask(line: &str) -> String {
    match line.find("IDENTIFIED BY PASSWORD") {
        Some(i) => format!("{}IDENTIFIED BY PASSWORD '…'", &line[..i]),
        None => line.to_owned(),
    }
}

/// LIKE as the server matches schema names in grants: `%`, `_`, `\` escapes.
fn like(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('%', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('_', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some(('\\', rest)) if !rest.is_empty() => n.first() == Some(&rest[0]) && go(&rest[1..], &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    go(&p, &n)
}

struct Server {
    name: &'static str,
    port: u16,
    engine: Engine,
    /// Schema names in grants are patterns (false on MySQL with partial_revokes ON).
    patterns: bool,
    /// Roles every account receives.
    implicit: &'static [&'static str],
    /// Accounts an admin hid from what pt-show-grants reads (the tamper fixtures: a filtered
    /// mysql.user view, rows deleted without FLUSH PRIVILEGES; a role whose grant was deleted so is
    /// no longer known as one to the tables).
    hidden: &'static [&'static str],
}

/// The admin-class privileges among an account's grants, by name.
fn admin_class(server: &Server, account: &Account) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for g in &account.grants {
        let Some(object) = &g.object else { continue };
        let (schema, _table) = object.split_once('.').unwrap_or((object, ""));
        let on_mysql = if server.patterns {
            like(schema, "mysql")
        } else {
            schema.replace("\\_", "_").replace("\\%", "%") == "mysql"
        };
        for p in &g.privileges {
            let global = object == "*.*";
            let admin = (global && GLOBAL_ADMIN.contains(&p.as_str()))
                || (global && WRITES.contains(&p.as_str()) && !account.revoked_on_mysql.contains(p))
                || (on_mysql && WRITES.contains(&p.as_str()));
            if admin {
                out.insert(p.clone());
            }
        }
        if g.with_grant_option && (object == "*.*" || on_mysql) {
            out.insert("GRANT OPTION".to_owned());
        }
    }
    out
}

/// Does pt-show-grants show a grant of `privilege` to the account?
fn shown(account: &Account, privilege: &str) -> bool {
    let all_like = |g: &Grant| {
        g.object.as_deref() == Some("*.*")
            && (g.privileges.iter().any(|p| p == "ALL PRIVILEGES")
                || ["SUPER", "CREATE USER", "INSERT", "UPDATE", "DELETE"]
                    .iter()
                    .all(|p| g.privileges.iter().any(|q| q == p)))
    };
    // `EXECUTE ON PROCEDURE db.name` (a definer routine): EXECUTE on the routine, its schema or `*.*`.
    let execute_on = |g: &Grant, routine: &str| {
        let object = g.object.as_deref().unwrap_or("");
        let schema = routine.rsplit(' ').next().unwrap_or("").split('.').next().unwrap_or("");
        g.privileges.iter().any(|q| q == "EXECUTE")
            && (object == "*.*" || object == format!("{schema}.*") || object == routine)
    };
    account.grants.iter().any(|g| match privilege {
        "ALL PRIVILEGES" => all_like(g),
        "GRANT OPTION" => g.with_grant_option,
        p if p.starts_with("EXECUTE ON ") => execute_on(g, &p["EXECUTE ON ".len()..]),
        p if p.starts_with("PROXY ON ") => g.privileges.iter().any(|q| q == "PROXY"),
        p => g.privileges.iter().any(|q| q == p),
    })
}

fn direct(p: &Principal) -> impl Iterator<Item = &dbadmin_contracts::Finding> {
    p.findings.iter().filter(|f| f.via_role.is_none())
}

fn disagreements(server: &Server, ours: &Collected, theirs: &BTreeMap<String, Account>) -> Vec<String> {
    let mut out = Vec::new();
    for p in &ours.principals {
        let name = p.display_name();
        let Some(account) = theirs.get(&name) else { continue };
        let ours_all = direct(p).any(|f| f.privilege == "ALL PRIVILEGES");
        for privilege in admin_class(server, account) {
            let found = direct(p).any(|f| f.level == Level::Admin && f.privilege == privilege);
            if !found && !ours_all {
                out.push(format!(
                    "{name}: pt-show-grants shows admin-class {privilege}, the report has no admin finding for it"
                ));
            }
        }
        for f in direct(p) {
            if !shown(account, &f.privilege) {
                out.push(format!(
                    "{name}: the report's {} ({}) is backed by no grant pt-show-grants shows",
                    f.privilege, f.scope
                ));
            }
        }
        for f in p.findings.iter().filter(|f| f.via_role.is_some()) {
            let first = &f.path[1];
            if !account.roles.contains(first) && !server.implicit.contains(&first.as_str()) {
                out.push(format!(
                    "{name}: the report reaches {} through {first}, which pt-show-grants does not show granted",
                    f.privilege
                ));
            }
        }
    }
    // Accounts with admin-class grants that the report leaves out entirely.
    for (name, account) in theirs {
        let admin = admin_class(server, account);
        if !admin.is_empty() && !ours.principals.iter().any(|p| p.display_name() == *name) {
            out.push(format!(
                "{name}: pt-show-grants shows admin-class {admin:?}, the report does not list the account"
            ));
        }
    }
    out
}

fn pt_show_grants(port: u16) -> String {
    let out = Command::new("pt-show-grants")
        .args(["--user", "dbadmin_collector", "--password", "collector-pw", "--host", "127.0.0.1"])
        .args(["--port", &port.to_string()])
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => panic!("pt-show-grants on {port} failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("pt-show-grants cannot run ({e}); scripts/test-servers.sh up installs percona-toolkit"),
    }
}

#[tokio::test]
#[ignore = "needs the test servers: scripts/test-servers.sh up (scripts/test.sh runs it)"]
async fn pt_show_grants_agrees_with_the_report() {
    let servers = [
        Server {
            name: "MariaDB",
            port: port("DBADMIN_TEST_MARIADB_PORT", 13306),
            engine: Engine::Mariadb,
            patterns: true,
            implicit: &[],
            hidden: &[],
        },
        Server {
            name: "Oracle MySQL",
            port: port("DBADMIN_TEST_MYSQL_PORT", 13307),
            engine: Engine::Mysql,
            patterns: false,
            implicit: &[],
            hidden: &[],
        },
        Server {
            name: "Oracle MySQL (mandatory roles)",
            port: port("DBADMIN_TEST_MYSQL_MANDATORY_PORT", 13308),
            engine: Engine::Mysql,
            patterns: true,
            implicit: &["'fx_mandatory_role'@'%'"],
            hidden: &["'fx_unflushed_ghost'@'%'", "'fx_unflushed_role'@'%'"],
        },
        Server {
            name: "MariaDB 11",
            port: port("DBADMIN_TEST_MARIADB_NEW_PORT", 13309),
            engine: Engine::Mariadb,
            patterns: true,
            implicit: &["'PUBLIC'@''"],
            hidden: &["'fx_hidden'@'%'"],
        },
    ];
    let mut checked = 0;
    for server in &servers {
        require_server(server.name, server.port);
        let output = pt_show_grants(server.port);
        let theirs = parse(&output);
        let ours = collect(server.engine, server.port).await;
        let unchecked: Vec<&Principal> =
            ours.principals.iter().filter(|p| !theirs.contains_key(&p.display_name())).collect();
        for p in &unchecked {
            assert!(
                p.host.as_deref() == Some("")
                    || server.implicit.contains(&p.display_name().as_str())
                    || server.hidden.contains(&p.display_name().as_str()),
                "{}: {} is not in pt-show-grants' output, and is neither a MariaDB role, a mandatory role nor hidden",
                server.name,
                p.display_name()
            );
        }
        let problems = disagreements(server, &ours, &theirs);
        assert!(
            problems.is_empty(),
            "{}: the report and pt-show-grants disagree:\n{}\n\npt-show-grants:\n{}\n\nreport: {:#?}",
            server.name,
            problems.join("\n"),
            output.lines().map(mask).collect::<Vec<_>>().join("\n"),
            ours.principals
                .iter()
                .map(|p| (p.display_name(), direct(p).map(|f| f.privilege.clone()).collect::<Vec<_>>()))
                .collect::<Vec<_>>()
        );
        assert!(theirs.len() > 5, "{}: pt-show-grants listed only {} accounts", server.name, theirs.len());
        checked += theirs.len();
    }
    eprintln!("pt-show-grants cross-check: {checked} accounts compared");
}

#[test]
fn the_cross_check_parser_reads_pt_show_grants_lines() {
    let out = "-- Grants for 'u'@'%'\n\
               GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*ABC';\n\
               GRANT SELECT (`Host`, `User`), UPDATE (`Priv`) ON `mysql`.`global_priv` TO `u`@`%`;\n\
               GRANT `r1`@`%`,`r2`@`%` TO `u`@`%`;\n\
               GRANT INSERT ON *.* TO `u`@`%` WITH GRANT OPTION;\n\
               REVOKE INSERT ON `mysql`.* FROM `u`@`%`;\n";
    let a = &parse(out)["'u'@'%'"];
    assert_eq!(a.grants[1].privileges, vec!["SELECT", "UPDATE"]);
    assert_eq!(a.grants[1].object.as_deref(), Some("mysql.global_priv"));
    assert!(a.roles.contains("'r1'@'%'") && a.roles.contains("'r2'@'%'"));
    assert!(!a.grants[0].line.contains("ABC"), "hashes are masked");
    let server = Server { name: "t", port: 0, engine: Engine::Mysql, patterns: true, implicit: &[], hidden: &[] };
    let admin = admin_class(&server, a);
    assert_eq!(admin, BTreeSet::from(["UPDATE".to_owned(), "GRANT OPTION".to_owned()]), "INSERT is revoked on mysql");
    assert!(like("m%", "mysql") && !like("my\\_ql", "mysql"));
}
