//! Each enum of the vocabulary (`string_forms!`) has one string form for people, parsers and serde.

use dbadmin_contracts::discovery::ReconciliationStatus;
use dbadmin_contracts::{Engine, ErrorKind, Level, PrincipalKind, TlsMode};

fn same_forms<T>(all: &[T])
where
    T: serde::Serialize + std::fmt::Display + std::str::FromStr + PartialEq + std::fmt::Debug + Copy,
{
    for v in all {
        let text = v.to_string();
        assert_eq!(serde_json::to_value(v).unwrap(), serde_json::Value::String(text.clone()), "{v:?}");
        assert_eq!(text.parse::<T>().ok(), Some(*v), "{text}");
    }
}

#[test]
fn an_enum_has_one_string_form_for_people_parsers_and_serde() {
    same_forms(Engine::ALL);
    same_forms(TlsMode::ALL);
    same_forms(ErrorKind::ALL);
    same_forms(Level::ALL);
    same_forms(PrincipalKind::ALL);
    same_forms(ReconciliationStatus::ALL);
    let e = "oracle".parse::<Engine>().unwrap_err();
    assert_eq!(e, "unknown engine 'oracle' (expected one of: sqlserver, mysql, mariadb, postgres)");
}
