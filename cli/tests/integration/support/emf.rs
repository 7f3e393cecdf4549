//! A checker for CloudWatch Embedded Metric Format lines, written from the specification
//! (docs.aws.amazon.com, "Embedded metric format specification"), independent of the writer in
//! dbadmin-aws: MiniStack does not parse EMF, so the tests check the lines the functions printed.

use serde_json::Value;

const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Every way `line` breaks the specification (empty when it is a valid EMF event).
pub fn violations(line: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let Ok(Value::Object(root)) = serde_json::from_str::<Value>(line) else {
        return vec!["not a JSON object".into()];
    };
    let Some(Value::Object(aws)) = root.get("_aws") else {
        return vec!["no _aws object".into()];
    };
    if aws.get("Timestamp").is_none_or(|t| t.as_u64().is_none()) {
        bad.push("_aws.Timestamp is not a non-negative integer (milliseconds)".into());
    }
    let Some(Value::Array(directives)) = aws.get("CloudWatchMetrics") else {
        bad.push("_aws.CloudWatchMetrics is not an array".into());
        return bad;
    };
    if directives.is_empty() {
        bad.push("_aws.CloudWatchMetrics is empty".into());
    }
    for d in directives {
        let namespace = d["Namespace"].as_str().unwrap_or("");
        if namespace.is_empty() || namespace.len() > 255 {
            bad.push(format!("Namespace {:?} is not 1-255 characters", d["Namespace"]));
        }
        match d["Dimensions"].as_array() {
            None => bad.push("Dimensions is not an array".into()),
            Some(sets) => {
                for set in sets {
                    let Some(names) = set.as_array() else {
                        bad.push(format!("dimension set {set} is not an array"));
                        continue;
                    };
                    if names.len() > 30 {
                        bad.push(format!("a dimension set of {} names (at most 30)", names.len()));
                    }
                    for name in names {
                        let member = name.as_str().and_then(|n| root.get(n));
                        if !member.is_some_and(Value::is_string) {
                            bad.push(format!("dimension {name} has no string member at the root"));
                        }
                    }
                }
            }
        }
        match d["Metrics"].as_array() {
            None => bad.push("Metrics is not an array".into()),
            Some(metrics) => {
                if metrics.len() > 100 {
                    bad.push(format!("{} metrics in one directive (at most 100)", metrics.len()));
                }
                for m in metrics {
                    let name = m["Name"].as_str().unwrap_or("");
                    if name.is_empty() || name.len() > 1024 {
                        bad.push(format!("metric name {:?} is not 1-1024 characters", m["Name"]));
                    }
                    let value = root.get(name);
                    let numeric = match value {
                        Some(Value::Number(_)) => true,
                        Some(Value::Array(values)) => values.len() <= 100 && values.iter().all(Value::is_number),
                        _ => false,
                    };
                    if !numeric {
                        bad.push(format!("metric {name} has no numeric member at the root"));
                    }
                    if let Some(unit) = m.get("Unit") {
                        if !unit.as_str().is_some_and(|u| UNITS.contains(&u)) {
                            bad.push(format!("metric {name} has unit {unit}, not a CloudWatch unit"));
                        }
                    }
                    if let Some(resolution) = m.get("StorageResolution") {
                        if !matches!(resolution.as_u64(), Some(1 | 60)) {
                            bad.push(format!("metric {name} has storage resolution {resolution}"));
                        }
                    }
                }
            }
        }
    }
    bad
}

#[test]
fn the_checker_refuses_what_the_specification_refuses() {
    let good = r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"F":"x","M":1}"#;
    assert_eq!(violations(good), Vec::<String>::new());
    for bad in [
        "[]",
        r#"{"F":"x"}"#,
        r#"{"_aws":{"Timestamp":"now","CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[]}]},"F":"x"}"#,
        r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["G"]],"Metrics":[]}]},"F":"x"}"#,
        r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Name":"M"}]}]},"F":"x","M":"1"}"#,
        r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],"Metrics":[{"Name":"M","Unit":"Things"}]}]},"F":"x","M":1}"#,
        r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"","Dimensions":[["F"]],"Metrics":[]}]},"F":"x"}"#,
    ] {
        assert!(!violations(bad).is_empty(), "{bad}");
    }
}
