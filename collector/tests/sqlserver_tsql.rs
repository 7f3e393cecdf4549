//! SQL Server, as far as it can be checked without a server (none can run here):
//! - every T-SQL text the collector sends parses with a real T-SQL grammar (sqlparser's MsSql
//!   dialect);
//! - every catalog view, column and function it names exists, in every SQL Server version the text
//!   is sent to, in [`CATALOG`]: columns transcribed from Microsoft's documentation of each view (the
//!   page is named beside it), with the version that introduced each column where it is not 2005.
//!
//! What this cannot show: that the server answers as documented, or that a row means what the
//! model takes it to mean. Those rest on the recorded row shapes (sqlserver_rows.rs), the TDS double
//! (sqlserver_tds.rs) and the opt-in real-server test (sqlserver_real.rs).

use dbadmin_collector::engine;
use sqlparser::ast::{visit_expressions, visit_relations, Expr, Statement};
use sqlparser::dialect::MsSqlDialect;
use sqlparser::parser::Parser;
use std::collections::BTreeSet;
use std::ops::ControlFlow;

/// SQL Server major versions: 11 = 2012, 12 = 2014, 13 = 2016, 14 = 2017, 15 = 2019, 16 = 2022.
type Major = u32;

/// `(column, first major version with it)`.
type Columns = &'static [(&'static str, Major)];

/// `(view, columns, documentation page)`. 9 = SQL Server 2005.
const CATALOG: &[(&str, Columns, &str)] = &[
    (
        "sys.server_principals",
        &[
            ("name", 9),
            ("principal_id", 9),
            ("sid", 9),
            ("type", 9),
            ("type_desc", 9),
            ("is_disabled", 9),
            ("create_date", 9),
            ("modify_date", 9),
            ("default_database_name", 9),
            ("default_language_name", 9),
            ("credential_id", 9),
            ("owning_principal_id", 11),
            ("is_fixed_role", 11),
        ],
        "https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-server-principals-transact-sql",
    ),
    (
        "sys.sql_logins",
        // Inherits sys.server_principals' columns; adds these.
        &[
            ("name", 9),
            ("principal_id", 9),
            ("sid", 9),
            ("type", 9),
            ("is_disabled", 9),
            ("create_date", 9),
            ("modify_date", 9),
            ("is_policy_checked", 9),
            ("is_expiration_checked", 9),
            ("password_hash", 9),
        ],
        "https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-sql-logins-transact-sql",
    ),
    (
        "sys.server_permissions",
        &[
            ("class", 9),
            ("class_desc", 9),
            ("major_id", 9),
            ("minor_id", 9),
            ("grantee_principal_id", 9),
            ("grantor_principal_id", 9),
            ("type", 9),
            ("permission_name", 9),
            ("state", 9),
            ("state_desc", 9),
        ],
        "https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-server-permissions-transact-sql",
    ),
    (
        "sys.server_role_members",
        &[("role_principal_id", 9), ("member_principal_id", 9)],
        "https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-server-role-members-transact-sql",
    ),
    (
        "sys.databases",
        &[
            ("name", 9),
            ("database_id", 9),
            ("source_database_id", 9),
            ("owner_sid", 9),
            ("create_date", 9),
            ("compatibility_level", 9),
            ("state", 9),
            ("state_desc", 9),
            ("is_read_only", 9),
        ],
        "https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-databases-transact-sql",
    ),
    (
        "sys.database_principals",
        &[
            ("name", 9),
            ("principal_id", 9),
            ("type", 9),
            ("type_desc", 9),
            ("default_schema_name", 9),
            ("create_date", 9),
            ("modify_date", 9),
            ("owning_principal_id", 9),
            ("sid", 9),
            ("is_fixed_role", 9),
            ("authentication_type", 11),
            ("authentication_type_desc", 11),
            ("default_language_name", 11),
        ],
        "https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-database-principals-transact-sql",
    ),
    (
        "sys.database_role_members",
        &[("role_principal_id", 9), ("member_principal_id", 9)],
        "https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-database-role-members-transact-sql",
    ),
    (
        "sys.database_permissions",
        &[
            ("class", 9),
            ("class_desc", 9),
            ("major_id", 9),
            ("minor_id", 9),
            ("grantee_principal_id", 9),
            ("grantor_principal_id", 9),
            ("type", 9),
            ("permission_name", 9),
            ("state", 9),
            ("state_desc", 9),
        ],
        "https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-database-permissions-transact-sql",
    ),
    (
        "sys.dm_exec_sessions",
        &[
            ("session_id", 9),
            ("login_time", 9),
            ("host_name", 9),
            ("program_name", 9),
            ("login_name", 9),
            ("status", 9),
            ("is_user_process", 9),
            ("original_login_name", 9),
        ],
        "https://learn.microsoft.com/sql/relational-databases/system-dynamic-management-views/sys-dm-exec-sessions-transact-sql",
    ),
];

/// Built-in functions the texts may call, with the first major version that has each
/// (https://learn.microsoft.com/sql/t-sql/functions/functions).
const FUNCTIONS: &[(&str, Major)] = &[
    ("DATEADD", 9),
    ("DATEDIFF", 9),
    ("GETDATE", 9),
    ("GETUTCDATE", 9),
    ("LOGINPROPERTY", 9),
    ("SERVERPROPERTY", 9),
    ("SUSER_SNAME", 9),
    ("STUFF", 9),
    ("MAX", 9),
    ("STRING_AGG", 14),
    // The xml type's value() method (https://learn.microsoft.com/sql/t-sql/xml/value-method-xml-data-type),
    // which the grammar reads as a function call.
    ("VALUE", 9),
];

/// Date parts, which the grammar reads as identifiers inside DATEADD/DATEDIFF.
const DATE_PARTS: &[&str] = &["minute"];

/// The SQL Server query files as the collector sends them (`{db}` filled in as it fills it), each
/// with the oldest major version it is sent to.
fn texts() -> Vec<(&'static str, String, Major)> {
    engine::queries()
        .into_iter()
        .filter(|(name, _)| name.starts_with("sqlserver/"))
        .map(|(name, text)| {
            // STRING_AGG needs 2017; the legacy text serves 2012–2016; everything else every version.
            let oldest = if name == "sqlserver/server_permissions" { 14 } else { 11 };
            (name, text.replace("{db}", "[master]"), oldest)
        })
        .collect()
}

fn parse(text: &str) -> Result<Vec<Statement>, String> {
    Parser::parse_sql(&MsSqlDialect {}, text).map_err(|e| e.to_string())
}

#[test]
fn every_sql_server_query_parses_as_t_sql() {
    let texts = texts();
    assert!(texts.len() >= 10, "{}", texts.len());
    let failures: Vec<String> =
        texts.iter().filter_map(|(name, text, _)| parse(text).err().map(|e| format!("{name}: {e}"))).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The grammar is strict enough to refuse what is not T-SQL.
    assert!(parse("SELECT name FROM sys.server_principals WHERE").is_err());
    assert!(parse("SELECT FROM FROM sys.databases").is_err());
}

/// The view a relation name means (`[master].sys.database_principals` → `sys.database_principals`).
fn view_of(name: &str) -> String {
    let parts: Vec<String> =
        name.split('.').map(|p| p.trim_matches(|c| c == '[' || c == ']').to_ascii_lowercase()).collect();
    parts[parts.len().saturating_sub(2)..].join(".")
}

#[test]
fn every_view_column_and_function_named_exists_in_each_version_it_is_sent_to() {
    let mut problems = Vec::new();
    let mut columns_checked = 0;
    for (name, text, oldest) in texts() {
        let statements = parse(&text).unwrap();
        let mut views = BTreeSet::new();
        let _ = visit_relations(&statements, |relation| {
            views.insert(view_of(&relation.to_string()));
            ControlFlow::<()>::Continue(())
        });
        for view in &views {
            if !CATALOG.iter().any(|(v, _, _)| v == view) {
                problems.push(format!("{name}: {view} is not a documented catalog view"));
            }
        }
        let known: Vec<(&str, Major)> = CATALOG
            .iter()
            .filter(|(v, _, _)| views.contains(*v))
            .flat_map(|(_, cols, _)| cols.iter().copied())
            .collect();
        let mut check_column = |column: &str| {
            let column = column.trim_matches(|c| c == '[' || c == ']').to_ascii_lowercase();
            if DATE_PARTS.contains(&column.as_str()) {
                return;
            }
            columns_checked += 1;
            match known.iter().filter(|(c, _)| *c == column).map(|(_, since)| *since).min() {
                None => problems.push(format!("{name}: no view it reads ({views:?}) has a column {column}")),
                Some(since) if since > oldest => problems.push(format!(
                    "{name}: {column} exists only from major version {since}; the text is sent to {oldest}+"
                )),
                Some(_) => {}
            }
        };
        let mut functions = Vec::new();
        let _ = visit_expressions(&statements, |expr| {
            match expr {
                Expr::Identifier(ident) => check_column(&ident.value),
                Expr::CompoundIdentifier(parts) => check_column(&parts.last().expect("a part").value),
                Expr::Function(f) => functions.push(f.name.to_string().to_ascii_uppercase()),
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
        for function in functions {
            match FUNCTIONS.iter().find(|(f, _)| *f == function) {
                None => problems.push(format!("{name}: {function} is not a documented built-in function")),
                Some((_, since)) if *since > oldest => problems
                    .push(format!("{name}: {function} exists only from major version {since}; sent to {oldest}+")),
                Some(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(columns_checked > 40, "the walk reaches the columns: {columns_checked}");
}

/// The check itself fails on a column, a view or a function the catalog does not have.
#[test]
fn the_catalog_check_catches_what_does_not_exist() {
    let statements = parse("SELECT STRING_AGG(x.no_such_column, ',') FROM sys.no_such_view x").unwrap();
    let mut views = Vec::new();
    let _ = visit_relations(&statements, |r| {
        views.push(view_of(&r.to_string()));
        ControlFlow::<()>::Continue(())
    });
    assert_eq!(views, ["sys.no_such_view"]);
    assert!(!CATALOG.iter().any(|(v, _, _)| *v == views[0]));
    assert_eq!(FUNCTIONS.iter().find(|(f, _)| *f == "STRING_AGG").map(|(_, s)| *s), Some(14), "2017+ only");
}
