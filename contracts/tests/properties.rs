//! Property tests: no input makes a parser or decoder panic, and every rejection says where.
//!
//! The suite runs a bounded number of cases (proptest's default, 256 per property). For a long run:
//! `PROPTEST_CASES=200000 cargo test --release -p dbadmin-contracts --test properties`.

use dbadmin_contracts::manifest::{Manifest, ManifestSignature};
use dbadmin_contracts::message::Population;
use dbadmin_contracts::{
    decode, encode, CollectionJob, FinalizeMessage, Inventory, ReceivedRequest, ReportRequest, TargetResult, Versioned,
};
use proptest::prelude::*;

const HEADER: &str = "id,account_id,region,engine,host,port,databases,secret,role_arn,tls,tags";

/// One valid inventory row, as its 11 fields.
fn valid_row() -> impl Strategy<Value = Vec<String>> {
    (
        "[a-z0-9][a-z0-9._-]{0,20}",
        "[0-9]{12}",
        prop::sample::select(vec!["eu-west-1", "us-east-1", "ap-southeast-2", "us-gov-west-1"]),
        prop::sample::select(vec!["mysql", "mariadb", "postgres", "sqlserver"]),
        "[a-z][a-z0-9.-]{0,30}",
        1u16..,
        prop::collection::vec("[a-z_][a-z0-9_]{0,10}", 0..3),
        "[a-z][a-z0-9/_+=.@-]{0,30}",
        prop::option::of("[a-z][a-z0-9_+=,.@-]{0,20}"),
        prop::sample::select(vec!["", "verify-full", "verify-ca", "require", "disable"]),
    )
        .prop_map(|(id, account, region, engine, host, port, dbs, secret, role, tls)| {
            let role = role.map(|r| format!("arn:aws:iam::{account}:role/{r}")).unwrap_or_default();
            vec![
                id,
                account,
                region.into(),
                engine.into(),
                host,
                port.to_string(),
                dbs.join(";"),
                secret,
                role,
                tls.into(),
                "team=data".into(),
            ]
        })
}

/// Rows with distinct ids (a duplicate id is an error of its own).
fn valid_rows() -> impl Strategy<Value = Vec<Vec<String>>> {
    prop::collection::vec(valid_row(), 1..25).prop_map(|mut rows| {
        for (i, row) in rows.iter_mut().enumerate() {
            row[0] = format!("{}-{i}", row[0]);
        }
        rows
    })
}

fn csv_text(rows: &[Vec<String>]) -> String {
    let mut text = format!("{HEADER}\n");
    for row in rows {
        text.push_str(&row.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(","));
        text.push('\n');
    }
    text
}

/// A value its column refuses, with the column's position.
fn invalid_value() -> impl Strategy<Value = (usize, String)> {
    prop_oneof![
        Just((0, String::new())),
        "[!#$%&*/]{1,5}".prop_map(|v| (0, format!("x{v}"))),
        "[0-9]{0,11}".prop_map(|v| (1, v)),
        "[0-9]{13,15}".prop_map(|v| (1, v)),
        "[A-Z ]{1,8}".prop_map(|v| (2, v)),
        prop::sample::select(vec!["oracle", "db2", "my sql", "mongo"]).prop_map(|v| (3, v.to_owned())),
        "[a-z]{1,5}[/@][a-z]{1,5}".prop_map(|v| (4, v)),
        prop::sample::select(vec!["0", "65536", "-1", "http", "3306.5"]).prop_map(|v| (5, v.to_owned())),
        Just((7, String::new())),
        "[a-z]{1,10}".prop_map(|v| (8, format!("arn:aws:s3:::{v}"))),
        prop::sample::select(vec!["verify", "on", "true", "prefer"]).prop_map(|v| (9, v.to_owned())),
        "[a-z]{1,5}".prop_map(|v| (10, format!("{v}=1;{v}=2"))),
    ]
}

fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,20}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every contract decoder on the same bytes; a panic fails the property.
fn decode_all(bytes: &[u8]) {
    let _ = decode::<ReportRequest>(bytes);
    let _ = decode::<ReceivedRequest>(bytes);
    let _ = decode::<CollectionJob>(bytes);
    let _ = decode::<FinalizeMessage>(bytes);
    let _ = decode::<Population>(bytes);
    let _ = decode::<TargetResult>(bytes);
    let _ = decode::<Manifest>(bytes);
    let _ = decode::<ManifestSignature>(bytes);
}

proptest! {
    /// Arbitrary bytes never panic the parser, and every problem it reports has a line and a message.
    #[test]
    fn any_bytes_are_parsed_or_refused_with_a_line(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Err(e) = Inventory::parse("fuzz.csv", &bytes) {
            prop_assert!(!e.issues.is_empty());
            for issue in &e.issues {
                prop_assert!(issue.line >= 1, "{}", issue);
                prop_assert!(!issue.message.is_empty(), "{}", issue);
                prop_assert_eq!(&issue.file, "fuzz.csv");
            }
        }
    }

    /// Text made of CSV's own punctuation after an inventory header (the inputs a CSV parser finds
    /// hardest) never panics either, and every problem carries its line.
    #[test]
    fn csv_shaped_text_is_parsed_or_refused_with_a_line(body in "[a-z0-9,;=\"# \t\r\n\u{feff}-]{0,600}") {
        let text = format!("{HEADER}\n{body}");
        if let Err(e) = Inventory::parse("shaped.csv", text.as_bytes()) {
            for issue in &e.issues {
                prop_assert!(issue.line >= 1, "{}", issue);
            }
        }
    }

    /// A valid inventory parses to one target per row, in order.
    #[test]
    fn valid_rows_parse(rows in valid_rows()) {
        let inventory = Inventory::parse("ok.csv", csv_text(&rows).as_bytes())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let ids: Vec<&str> = inventory.targets.iter().map(|t| t.id.as_str()).collect();
        let expected: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        prop_assert_eq!(ids, expected);
    }

    /// One bad field anywhere refuses the whole inventory, naming that field and its line.
    #[test]
    fn one_bad_field_is_named_with_its_line(
        rows in valid_rows(),
        pick in any::<prop::sample::Index>(),
        (column, value) in invalid_value(),
    ) {
        let mut rows = rows;
        let r = pick.index(rows.len());
        rows[r][column] = value;
        let err = Inventory::parse("bad.csv", csv_text(&rows).as_bytes());
        let field = HEADER.split(',').nth(column).unwrap();
        let line = r as u64 + 2;
        prop_assert!(err.is_err(), "line {} field {} was accepted", line, field);
        let err = err.unwrap_err();
        prop_assert!(
            err.issues.iter().any(|i| i.line == line && i.field.as_deref() == Some(field)),
            "expected line {} field {}: {}", line, field, err
        );
    }

    /// No byte string panics a decoder: each is read or refused with a typed error.
    #[test]
    fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    /// JSON objects with a plausible schema version reach the typed decoders (not only the JSON
    /// syntax check), and still never panic.
    #[test]
    fn versioned_json_never_panics(
        version in 0u64..4,
        fields in prop::collection::btree_map("[a-z_]{1,12}", any_json(), 0..8),
    ) {
        let mut object: serde_json::Map<String, serde_json::Value> = fields.into_iter().collect();
        object.insert("schema_version".into(), version.into());
        decode_all(&serde_json::to_vec(&object).unwrap());
    }

    /// A job survives encoding, whatever its strings hold.
    #[test]
    fn jobs_round_trip(report_id in ".*", target_id in ".*", version in any::<u32>()) {
        let job = CollectionJob { schema_version: CollectionJob::SCHEMA_VERSION, report_id, target_id, version };
        prop_assert_eq!(decode::<CollectionJob>(&encode(&job)).unwrap(), job);
    }
}
