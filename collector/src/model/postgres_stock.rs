//! Tamper evidence for PostgreSQL (docs/admin-definition.md, "Reading a server its own admins
//! control"): the catalog objects the collector reads must be the engine's own. A superuser can
//! replace a view or function in `pg_catalog` (with `allow_system_table_mods`) so that a listing
//! drops a role; these checks name every object that is not what PostgreSQL ships. Pure: the
//! rows come from `catalog_objects.sql`.

use std::collections::{BTreeMap, BTreeSet};

/// The owner of every object initdb creates: the bootstrap superuser is always oid 10 (on RDS it
/// is `rdsadmin`), whatever its name.
const BOOTSTRAP_SUPERUSER: u32 = 10;

/// `pg_get_viewdef` of the stock `pg_roles`, as PostgreSQL 15 and 18 print it with `search_path`
/// pinned to `pg_catalog` (the view's source has not changed since 9.5).
const PG_ROLES: &str = "SELECT pg_authid.rolname, pg_authid.rolsuper, pg_authid.rolinherit, \
    pg_authid.rolcreaterole, pg_authid.rolcreatedb, pg_authid.rolcanlogin, pg_authid.rolreplication, \
    pg_authid.rolconnlimit, '********'::text AS rolpassword, pg_authid.rolvaliduntil, \
    pg_authid.rolbypassrls, s.setconfig AS rolconfig, pg_authid.oid FROM (pg_authid LEFT JOIN \
    pg_db_role_setting s ON (((pg_authid.oid = s.setrole) AND (s.setdatabase = (0)::oid))));";
const PG_USER: &str = "SELECT pg_shadow.usename, pg_shadow.usesysid, pg_shadow.usecreatedb, \
    pg_shadow.usesuper, pg_shadow.userepl, pg_shadow.usebypassrls, '********'::text AS passwd, \
    pg_shadow.valuntil, pg_shadow.useconfig FROM pg_shadow;";
const PG_GROUP: &str = "SELECT pg_authid.rolname AS groname, pg_authid.oid AS grosysid, ARRAY( SELECT \
    pg_auth_members.member FROM pg_auth_members WHERE (pg_auth_members.roleid = pg_authid.oid)) AS \
    grolist FROM pg_authid WHERE (NOT pg_authid.rolcanlogin);";

/// Every `pg_catalog` relation a query file names: its kind (`r` table, `v` view) and, for a view,
/// its stock definition. A query that names a relation missing here fails the unit tests.
const PG_SHADOW: &str = "SELECT pg_authid.rolname AS usename, pg_authid.oid AS usesysid, pg_authid.rolcreatedb AS \
    usecreatedb, pg_authid.rolsuper AS usesuper, pg_authid.rolreplication AS userepl, pg_authid.rolbypassrls AS \
    usebypassrls, pg_authid.rolpassword AS passwd, pg_authid.rolvaliduntil AS valuntil, s.setconfig AS useconfig \
    FROM (pg_authid LEFT JOIN pg_db_role_setting s ON (((pg_authid.oid = s.setrole) AND (s.setdatabase = \
    (0)::oid)))) WHERE pg_authid.rolcanlogin;";

/// The relations the stock views read, checked wherever the views are: row security on
/// `pg_authid`, or a filtering view put in its place, would hide a role from all of them at once.
const UNDER_THE_VIEWS: &[(&str, &[&str])] = &[
    ("pg_roles", &["pg_authid", "pg_db_role_setting"]),
    ("pg_user", &["pg_shadow", "pg_authid", "pg_db_role_setting"]),
    ("pg_group", &["pg_authid", "pg_auth_members"]),
];

pub(crate) const STOCK_RELATIONS: &[(&str, char, Option<&str>)] = &[
    ("pg_auth_members", 'r', None),
    ("pg_authid", 'r', None),
    ("pg_db_role_setting", 'r', None),
    ("pg_shadow", 'v', Some(PG_SHADOW)),
    ("pg_class", 'r', None),
    ("pg_database", 'r', None),
    ("pg_group", 'v', Some(PG_GROUP)),
    ("pg_init_privs", 'r', None),
    ("pg_language", 'r', None),
    ("pg_namespace", 'r', None),
    ("pg_parameter_acl", 'r', None),
    ("pg_proc", 'r', None),
    ("pg_roles", 'v', Some(PG_ROLES)),
    ("pg_user", 'v', Some(PG_USER)),
];

/// Every `pg_catalog` function a query file calls, and the built-in C functions (`prosrc`, language
/// `internal`) its overloads are: the same from PostgreSQL 12 to 18. An overload of the name that
/// is anything else (SQL, PL/pgSQL, C from a library, another built-in) is reported.
pub(crate) const STOCK_FUNCTIONS: &[(&str, &[&str])] = &[
    ("acldefault", &["acldefault_sql"]),
    ("aclexplode", &["aclexplode"]),
    ("current_database", &["current_database"]),
    ("current_setting", &["show_config_by_name", "show_config_by_name_missing_ok"]),
    ("isfinite", &["date_finite", "interval_finite", "timestamp_finite"]),
    ("now", &["now"]),
    ("pg_get_function_identity_arguments", &["pg_get_function_identity_arguments"]),
    ("pg_get_functiondef", &["pg_get_functiondef"]),
    (
        "pg_get_viewdef",
        &[
            "pg_get_viewdef",
            "pg_get_viewdef_ext",
            "pg_get_viewdef_wrap",
            "pg_get_viewdef_name",
            "pg_get_viewdef_name_ext",
        ],
    ),
    (
        "pg_has_role",
        &[
            "pg_has_role_name_name",
            "pg_has_role_name_id",
            "pg_has_role_name",
            "pg_has_role_id_name",
            "pg_has_role_id_id",
            "pg_has_role_id",
        ],
    ),
    ("pg_is_in_recovery", &["pg_is_in_recovery"]),
    ("string_agg", &["aggregate_dummy"]),
    (
        "to_char",
        &[
            "int8_to_char",
            "float8_to_char",
            "int4_to_char",
            "interval_to_char",
            "numeric_to_char",
            "float4_to_char",
            "timestamptz_to_char",
            "timestamp_to_char",
        ],
    ),
    ("to_jsonb", &["to_jsonb"]),
    ("version", &["pgsql_version"]),
];

/// The `pg_catalog` relations and functions some query texts name: `pg_catalog.x(` is a function,
/// `::pg_catalog.x` a type (not checked), any other `pg_catalog.x` a relation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Named {
    pub relations: BTreeSet<String>,
    pub functions: BTreeSet<String>,
}

pub fn named_in<'a>(texts: impl IntoIterator<Item = &'a str>) -> Named {
    let mut named = named_in_texts(texts);
    for (view, under) in UNDER_THE_VIEWS {
        if named.relations.contains(*view) {
            named.relations.extend(under.iter().map(|r| (*r).to_owned()));
        }
    }
    named
}

fn named_in_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Named {
    const PREFIX: &str = "pg_catalog.";
    let mut named = Named::default();
    for text in texts {
        for (at, _) in text.match_indices(PREFIX) {
            let rest = &text[at + PREFIX.len()..];
            let len = rest.bytes().take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_').count();
            let name = &rest[..len];
            if name.is_empty() || text[..at].ends_with("::") {
                continue;
            }
            if rest[len..].starts_with('(') {
                named.functions.insert(name.to_owned());
            } else {
                named.relations.insert(name.to_owned());
            }
        }
    }
    named
}

/// `catalog_objects.sql` for the names given (lowercase identifiers read from our own query texts).
pub fn check_query(template: &str, named: &Named) -> String {
    let list = |names: &BTreeSet<String>| format!("{{{}}}", names.iter().cloned().collect::<Vec<_>>().join(","));
    template.replace("{relations}", &list(&named.relations)).replace("{functions}", &list(&named.functions))
}

/// One row of `catalog_objects.sql`: `(what, name, kind, owner, flag, secdef/rules, text)`.
type Row = Vec<Option<String>>;

/// A view's definition as compared: whitespace collapsed and the table qualifiers PostgreSQL 16+
/// leaves out of a one-table view dropped, so the same view reads the same on 12 to 18.
fn normalize(definition: &str) -> String {
    definition.split_whitespace().collect::<Vec<_>>().join(" ").replace("pg_shadow.", "").replace("pg_authid.", "")
}

/// What in `rows` (this database's `catalog_objects.sql` answer for `named`) is not PostgreSQL's
/// own, one sentence each, naming the object and what differs. Empty when all is stock.
pub fn tampering(database: &str, named: &Named, rows: &[Row]) -> Vec<String> {
    let cell = |r: &Row, i: usize| r.get(i).cloned().flatten().unwrap_or_default();
    let truthy = |r: &Row, i: usize| matches!(cell(r, i).as_str(), "t" | "true" | "1");
    let mut out = Vec::new();
    let mut seen_relations = BTreeSet::new();
    let mut overloads: BTreeMap<String, usize> = BTreeMap::new();
    let at = format!("in database {database}");
    for r in rows {
        let (what, name, kind, owner) = (cell(r, 0), cell(r, 1), cell(r, 2), cell(r, 3));
        let object = format!("pg_catalog.{name}");
        let owner_ok = owner.parse::<u32>().ok() == Some(BOOTSTRAP_SUPERUSER);
        if what == "relation" {
            seen_relations.insert(name.clone());
            let Some((_, stock_kind, stock_definition)) = STOCK_RELATIONS.iter().find(|(n, ..)| *n == name) else {
                out.push(format!("{object} {at} is read but has no stock description in the collector"));
                continue;
            };
            if kind != stock_kind.to_string() {
                out.push(format!("{object} {at} is of kind {kind:?}, not PostgreSQL's {stock_kind:?}"));
            }
            if !owner_ok {
                out.push(format!("{object} {at} is owned by oid {owner}, not the bootstrap superuser"));
            }
            if truthy(r, 4) {
                out.push(format!(
                    "{object} {at} has row-level security or options set (security_invoker…): a policy can hide rows"
                ));
            }
            if kind == "r" && truthy(r, 5) {
                out.push(format!("{object} {at} has rules: a rule can rewrite what a read returns"));
            }
            if let (Some(stock), Some(found)) = (stock_definition, r.get(6).cloned().flatten()) {
                if normalize(stock) != normalize(&found) {
                    out.push(format!(
                        "{object} {at} is not PostgreSQL's stock view; its definition reads: {}",
                        found.split_whitespace().collect::<Vec<_>>().join(" ")
                    ));
                }
            }
        } else {
            *overloads.entry(name.clone()).or_default() += 1;
            let symbols = STOCK_FUNCTIONS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s).unwrap_or_default();
            let source = cell(r, 6);
            if truthy(r, 4) {
                out.push(format!("{object} {at} has an overload that is not a built-in (language oid not internal)"));
            } else if !symbols.contains(&source.as_str()) {
                out.push(format!("{object} {at} has an overload that runs the built-in {source:?}, not its own"));
            }
            if !owner_ok {
                out.push(format!("{object} {at} has an overload owned by oid {owner}, not the bootstrap superuser"));
            }
            if truthy(r, 5) {
                out.push(format!("{object} {at} has an overload marked SECURITY DEFINER"));
            }
        }
    }
    for missing in named.relations.iter().filter(|n| !seen_relations.contains(*n)) {
        out.push(format!("pg_catalog.{missing} {at} is missing from the catalog"));
    }
    for missing in named.functions.iter().filter(|n| !overloads.contains_key(*n)) {
        out.push(format!("pg_catalog.{missing}() {at} is missing from the catalog"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Row {
        cells.iter().map(|c| if *c == "NULL" { None } else { Some((*c).to_owned()) }).collect()
    }

    #[test]
    fn names_are_read_from_the_query_texts() {
        let named = named_in([
            "SELECT x::pg_catalog.int8, pg_catalog.pg_has_role(a, b, 'SET') FROM pg_catalog.pg_roles r",
            "SELECT pg_catalog.now() FROM pg_catalog.pg_roles JOIN pg_catalog.pg_auth_members ON true",
        ]);
        let relations: Vec<&String> = named.relations.iter().collect();
        assert_eq!(relations, ["pg_auth_members", "pg_authid", "pg_db_role_setting", "pg_roles"], "and under the view");
        assert_eq!(named.functions.iter().collect::<Vec<_>>(), ["now", "pg_has_role"]);
    }

    #[test]
    fn a_stock_catalog_passes_and_each_kind_of_tampering_is_named() {
        let named = named_in(["SELECT pg_catalog.version() FROM pg_catalog.pg_roles, pg_catalog.pg_proc"]);
        let stock = vec![
            row(&["relation", "pg_roles", "v", "10", "f", "t", PG_ROLES]),
            row(&["relation", "pg_authid", "r", "10", "f", "f", "NULL"]),
            row(&["relation", "pg_db_role_setting", "r", "10", "f", "f", "NULL"]),
            row(&["relation", "pg_proc", "r", "10", "f", "f", "NULL"]),
            row(&["function", "version", "f", "10", "f", "f", "pgsql_version"]),
        ];
        assert_eq!(tampering("db", &named, &stock), Vec::<String>::new());
        // PostgreSQL 16+ prints a one-table view without qualifiers.
        let newer = row(&["relation", "pg_user", "v", "10", "f", "t", &PG_USER.replace("pg_shadow.", "")]);
        assert!(tampering("db", &named_in_texts(["FROM pg_catalog.pg_user"]), &[newer]).is_empty());

        let hiding = PG_ROLES.trim_end_matches(';').to_owned() + " WHERE (pg_authid.rolname <> 'ghost'::name);";
        let cases: Vec<(Row, &str)> = vec![
            (row(&["relation", "pg_roles", "v", "10", "f", "t", &hiding]), "not PostgreSQL's stock view"),
            (row(&["relation", "pg_roles", "r", "10", "f", "f", "NULL"]), "of kind \"r\""),
            (row(&["relation", "pg_proc", "r", "16384", "f", "f", "NULL"]), "owned by oid 16384"),
            (row(&["relation", "pg_proc", "r", "10", "t", "f", "NULL"]), "row-level security"),
            (row(&["relation", "pg_authid", "r", "10", "t", "f", "NULL"]), "row-level security"),
            (row(&["relation", "pg_proc", "r", "10", "f", "t", "NULL"]), "has rules"),
            (row(&["function", "version", "f", "10", "t", "f", "SELECT 'x'"]), "not a built-in"),
            (row(&["function", "version", "f", "10", "f", "f", "current_database"]), "runs the built-in"),
            (row(&["function", "version", "f", "10", "f", "t", "pgsql_version"]), "SECURITY DEFINER"),
        ];
        for (tampered, says) in cases {
            let mut rows: Vec<Row> = stock.iter().filter(|r| r[1] != tampered[1]).cloned().collect();
            rows.push(tampered.clone());
            let found = tampering("db", &named, &rows);
            assert!(found.iter().any(|w| w.contains(says) && w.contains("in database db")), "{tampered:?}: {found:?}");
        }
        let found = tampering("db", &named, &stock[1..]);
        assert!(found.iter().any(|w| w.contains("pg_catalog.pg_roles in database db is missing")), "{found:?}");
    }
}
