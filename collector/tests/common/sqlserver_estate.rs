//! A recorded SQL Server estate, as the query files' rows come back (every column cast to text):
//! one principal per rule of docs/admin-definition.md, an RDS master user, a Windows group, orphaned and
//! contained database users, and negative cases. Used by the row-mapping tests and served by the
//! TDS test double.
#![allow(dead_code)]

use dbadmin_collector::engine::sqlserver::{DatabaseRows, ServerRows};

fn row(cells: &[&str]) -> Vec<Option<String>> {
    cells.iter().map(|c| if *c == "NULL" { None } else { Some((*c).to_owned()) }).collect()
}

pub const VERSION: &str = "16.0.4135.4";

pub fn server_row() -> Vec<Option<String>> {
    row(&[VERSION, "Standard Edition (64-bit)", "2"])
}

/// id, name, type, is_disabled, is_fixed_role, created, modified, IsLocked, IsExpired, IsMustChange,
/// PasswordLastSetTime, is_policy_checked, is_expiration_checked.
fn login(id: &str, name: &str, kind: &str, flags: [&str; 4]) -> Vec<Option<String>> {
    let [disabled, locked, expired, must_change] = flags;
    let sql = kind == "S";
    row(&[
        id,
        name,
        kind,
        disabled,
        "0",
        "2020-01-02T03:04:05.100",
        "2024-05-06T07:08:09.200",
        if sql { locked } else { "NULL" },
        if sql { expired } else { "NULL" },
        if sql { must_change } else { "NULL" },
        if sql { "2025-02-03T04:05:06.300" } else { "NULL" },
        if sql {
            if name == "fx_locked" {
                "0"
            } else {
                "1"
            }
        } else {
            "NULL"
        },
        if sql { "0" } else { "NULL" },
    ])
}

fn fixed_role(id: &str, name: &str) -> Vec<Option<String>> {
    row(&[
        id,
        name,
        "R",
        "0",
        "1",
        "2003-04-08T09:10:35.000",
        "2003-04-08T09:10:35.000",
        "NULL",
        "NULL",
        "NULL",
        "NULL",
        "NULL",
        "NULL",
    ])
}

fn user_role(id: &str, name: &str) -> Vec<Option<String>> {
    row(&[
        id,
        name,
        "R",
        "0",
        "0",
        "2021-01-01T00:00:00.000",
        "2021-01-01T00:00:00.000",
        "NULL",
        "NULL",
        "NULL",
        "NULL",
        "NULL",
        "NULL",
    ])
}

const OK: [&str; 4] = ["0", "0", "0", "0"];

pub fn server_rows() -> ServerRows {
    ServerRows {
        logins: vec![
            login("1", "sa", "S", OK),
            user_role("2", "public"),
            fixed_role("3", "sysadmin"),
            fixed_role("4", "securityadmin"),
            fixed_role("5", "serveradmin"),
            fixed_role("6", "setupadmin"),
            fixed_role("7", "processadmin"),
            fixed_role("8", "diskadmin"),
            fixed_role("9", "dbcreator"),
            fixed_role("10", "bulkadmin"),
            fixed_role("11", "##MS_LoginManager##"),
            login("256", "##MS_PolicyEventProcessingLogin##", "C", OK),
            login("257", "NT SERVICE\\SQLWriter", "U", OK),
            login("260", "fx_secadmin", "S", OK),
            login("261", "fx_nested", "S", OK),
            login("262", "fx_control", "S", OK),
            login("263", "fx_loginmgr", "S", OK),
            login("264", "fx_login_admin_via_role", "S", OK),
            login("265", "fx_impersonate", "S", OK),
            login("266", "fx_viewstate", "S", OK),
            login("267", "fx_disabled", "S", ["1", "0", "0", "0"]),
            login("268", "fx_locked", "S", ["0", "1", "1", "1"]),
            login("269", "fx_denied", "S", OK),
            user_role("270", "fx_ops_role"),
            user_role("271", "fx_core_role"),
            user_role("272", "fx_login_admins"),
            login("273", "CORP\\DBAs", "G", OK),
            login("274", "rds_master", "S", OK),
            login("275", "rdsa", "S", OK),
            login("276", "fx_reader", "S", OK),
            login("277", "fx_app_owner", "S", OK),
            login("278", "fx_ddl", "S", OK),
            login("279", "fx_dbcontrol", "S", OK),
            login("280", "fx_dbnested", "S", OK),
            login("281", "fx_secadmin_db", "S", OK),
            login("282", "fx_access", "S", OK),
            login("283", "dbadmin_collector", "S", OK),
            login("284", "fx_agent_owner", "S", OK),
        ],
        // (role, member)
        role_members: [
            ("3", "1"),
            ("3", "257"),
            ("4", "260"),
            ("270", "261"),
            ("271", "270"),
            ("11", "263"),
            ("272", "264"),
            ("3", "267"),
            ("3", "268"),
            ("3", "269"),
            ("3", "273"),
            ("7", "274"),
            ("6", "274"),
            ("3", "275"),
        ]
        .iter()
        .map(|(r, m)| row(&[r, m]))
        .collect(),
        // grantee, state, class, major_id, permissions (STRING_AGG)
        permissions: vec![
            row(&["2", "G", "100", "0", "VIEW ANY DATABASE,CONNECT SQL"]),
            row(&["262", "G", "100", "0", "CONTROL SERVER,CONNECT SQL"]),
            row(&["272", "G", "100", "0", "ALTER ANY LOGIN"]),
            // User-defined server roles cannot join fixed roles; they nest among themselves.
            row(&["271", "G", "100", "0", "CONTROL SERVER"]),
            row(&["265", "G", "101", "1", "IMPERSONATE"]),
            row(&["266", "G", "100", "0", "VIEW SERVER STATE"]),
            row(&["269", "D", "100", "0", "CONNECT SQL"]),
            row(&[
                "274",
                "W",
                "100",
                "0",
                "ALTER ANY LOGIN,ALTER ANY SERVER ROLE,CREATE ANY DATABASE,VIEW SERVER STATE",
            ]),
            row(&["283", "G", "100", "0", "VIEW ANY DEFINITION,VIEW SERVER STATE"]),
        ],
        sessions: vec![row(&["sa", "2026-11-22T08:00:00.123"])],
    }
}

/// id, name, type, login name, contained.
fn user(id: &str, name: &str, kind: &str, login: &str) -> Vec<Option<String>> {
    row(&[id, name, kind, login, if login == "CONTAINED" { "1" } else { "0" }])
}

fn db_fixed_roles() -> Vec<Vec<Option<String>>> {
    vec![
        user("0", "public", "R", "NULL"),
        user("16384", "db_owner", "R", "NULL"),
        user("16385", "db_accessadmin", "R", "NULL"),
        user("16386", "db_securityadmin", "R", "NULL"),
        user("16387", "db_ddladmin", "R", "NULL"),
        user("16390", "db_datareader", "R", "NULL"),
    ]
}

/// `sys.databases.database_id` as a server numbers them: system databases 1–4, then user databases.
pub fn database_id(name: &str) -> i64 {
    match name {
        "master" => 1,
        "tempdb" => 2,
        "model" => 3,
        "msdb" => 4,
        "sales" => 5,
        _ => 6,
    }
}

pub fn database_rows() -> Vec<DatabaseRows> {
    let mut sales_principals = db_fixed_roles();
    sales_principals.extend([
        user("1", "dbo", "S", "fx_app_owner"),
        user("2", "guest", "S", "NULL"),
        user("5", "fx_reader", "S", "fx_reader"),
        user("6", "rds_master", "S", "rds_master"),
        user("7", "fx_ddl", "S", "fx_ddl"),
        user("8", "fx_dbcontrol", "S", "fx_dbcontrol"),
        user("9", "fx_dbnested", "S", "fx_dbnested"),
        user("10", "app_admins", "R", "NULL"),
        user("11", "old_contractor", "S", "NULL"),
    ]);
    let mut hr_principals = db_fixed_roles();
    hr_principals.extend([
        user("1", "dbo", "S", "sa"),
        user("5", "fx_secadmin_db", "S", "fx_secadmin_db"),
        user("6", "fx_access", "S", "fx_access"),
        user("7", "hr_app", "S", "CONTAINED"),
    ]);
    // The contained user carries no login: blank the login column but keep the contained flag.
    for r in hr_principals.iter_mut().filter(|r| r[1].as_deref() == Some("hr_app")) {
        r[3] = None;
    }
    let pairs = |p: &[(&str, &str)]| p.iter().map(|(r, m)| row(&[r, m])).collect();
    vec![
        DatabaseRows {
            name: "sales".into(),
            owner: Some("fx_app_owner".into()),
            principals: sales_principals,
            role_members: pairs(&[
                ("16390", "5"),
                ("16384", "6"),
                ("16387", "7"),
                ("10", "9"),
                ("16384", "10"),
                ("16384", "11"),
            ]),
            permissions: vec![row(&["8", "G", "CONTROL"]), row(&["5", "G", "CONNECT"])],
        },
        // msdb: db_owner there runs SQL Agent jobs as the agent's service account.
        DatabaseRows {
            name: "msdb".into(),
            owner: Some("sa".into()),
            principals: {
                let mut p = db_fixed_roles();
                p.extend([user("1", "dbo", "S", "sa"), user("5", "fx_agent_owner", "S", "fx_agent_owner")]);
                p
            },
            role_members: pairs(&[("16384", "5")]),
            permissions: vec![],
        },
        DatabaseRows {
            name: "hr".into(),
            owner: Some("sa".into()),
            principals: hr_principals,
            role_members: pairs(&[("16386", "5"), ("16385", "6"), ("16384", "7")]),
            permissions: vec![],
        },
    ]
}
