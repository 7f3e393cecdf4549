//! Property tests for the CSV: whatever a principal or database is called, no cell of the report
//! can start a spreadsheet formula, and the neutralised text still holds the whole original.
//!
//! Long run: `PROPTEST_CASES=200000 cargo test --release -p dbadmin-reporter --test neutralise_properties`.

use dbadmin_reporter::render::{neutralise, to_csv, Row, HEADERS};
use proptest::prelude::*;

/// Characters a spreadsheet reads as the start of a formula (OWASP's list, plus tab and CR).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Names as hostile as a server allows: formula starts, quotes, separators, line ends, markup.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof!["[=+@\t\r-][ -~]{0,30}", "[\"',;\r\n<>=+@ -]{0,12}[a-z]{0,5}", ".{0,40}",]
}

proptest! {
    #[test]
    fn neutralise_keeps_the_text_and_never_starts_a_formula(cell in hostile()) {
        let out = neutralise(&cell);
        prop_assert!(!out.starts_with(FORMULA_STARTS), "{:?} -> {:?}", cell, out);
        prop_assert!(out == cell || out == format!("'{cell}"), "{:?} -> {:?}", cell, out);
    }

    /// A whole report row of hostile names: read back by a CSV reader, every cell is the original
    /// (less the one added quote mark) and none starts a formula.
    #[test]
    fn csv_rows_of_hostile_names_read_back_safe(names in prop::collection::vec(hostile(), 4)) {
        let row = Row {
            database_name: names[0].clone(),
            username: names[1].clone(),
            role_name: names[2].clone(),
            grant_path: names[3].clone(),
            ..Row::default()
        };
        let csv = to_csv(std::slice::from_ref(&row));
        let text = std::str::from_utf8(&csv).unwrap().trim_start_matches('\u{feff}');
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        prop_assert_eq!(reader.headers().unwrap().len(), HEADERS.len());
        let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(records.len(), 1);
        for cell in records[0].iter() {
            prop_assert!(!cell.starts_with(FORMULA_STARTS), "{:?}", cell);
        }
        let read = |header: &str| records[0].get(HEADERS.iter().position(|h| *h == header).unwrap()).unwrap().to_owned();
        for (header, original) in [("Database Name", &names[0]), ("Username", &names[1]), ("Role Name", &names[2]), ("Grant Path", &names[3])] {
            let cell = read(header);
            prop_assert!(cell == *original || cell == format!("'{original}"), "{}: {:?} -> {:?}", header, original, cell);
        }
    }
}
