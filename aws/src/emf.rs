//! Metrics as CloudWatch Embedded Metric Format log lines: CloudWatch Logs turns each line into
//! metric data points, so the functions need no PutMetricData call (and no extra permission).
//!
//! One line per event, printed to stdout on a line of its own. Dimensions stay low-cardinality
//! (function, engine, outcome); ids such as the report id travel as plain properties, searchable
//! in the logs but never a metric dimension.

use serde_json::{json, Map, Value};

/// Where every metric of the project lives.
pub const NAMESPACE: &str = "DbAdminReport";

/// Every metric the functions emit. terraform/ shows each on the dashboard (a policy test checks).
pub mod metric {
    pub const DATABASES_COLLECTED: &str = "DatabasesCollected";
    pub const DATABASES_FAILED: &str = "DatabasesFailed";
    pub const COLLECTION_DURATION: &str = "CollectionDuration";
    pub const PRINCIPALS_EXAMINED: &str = "PrincipalsExamined";
    pub const ADMINS_FOUND: &str = "AdminsFound";
    pub const JOBS_PUBLISHED: &str = "JobsPublished";
    pub const REPORTS_REQUESTED: &str = "ReportsRequested";
    pub const REPORTS_FINALIZED: &str = "ReportsFinalized";
    pub const ROWS_WRITTEN: &str = "RowsWritten";
    pub const FINALIZE_LATENCY: &str = "FinalizeLatency";
    pub const DLQ_SENDS: &str = "DlqSends";
}

/// This function's short name (`collector` of `db-admin-report-collector`), from the Lambda runtime.
pub fn function() -> String {
    let name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    name.rsplit('-').next().filter(|s| !s.is_empty()).unwrap_or("unknown").to_owned()
}

/// The units the metrics use (a subset of CloudWatch's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// The metrics of one event, with their dimensions and log-only properties.
#[derive(Debug, Clone)]
pub struct Metrics {
    dimensions: Vec<(&'static str, String)>,
    values: Vec<(&'static str, f64, Unit)>,
    properties: Vec<(&'static str, String)>,
}

impl Metrics {
    /// Metrics of `function` (`publisher`, `collector`, `reporter`): its first dimension.
    pub fn new(function: &str) -> Metrics {
        Metrics { dimensions: vec![("Function", function.to_owned())], values: Vec::new(), properties: Vec::new() }
    }

    /// Adds a dimension. Keep values to a small fixed set (an engine, an outcome).
    pub fn dimension(mut self, name: &'static str, value: impl Into<String>) -> Metrics {
        self.dimensions.push((name, value.into()));
        self
    }

    /// Adds a log-only property (not a dimension): a report id, say.
    pub fn property(mut self, name: &'static str, value: impl Into<String>) -> Metrics {
        self.properties.push((name, value.into()));
        self
    }

    pub fn count(mut self, name: &'static str, value: u64) -> Metrics {
        self.values.push((name, value as f64, Unit::Count));
        self
    }

    pub fn milliseconds(mut self, name: &'static str, value: u64) -> Metrics {
        self.values.push((name, value as f64, Unit::Milliseconds));
        self
    }

    /// The EMF line at `timestamp_ms` (milliseconds since the epoch).
    pub fn line(&self, timestamp_ms: u64) -> String {
        let mut root = Map::new();
        for (name, value) in &self.properties {
            root.insert((*name).to_owned(), Value::from(value.as_str()));
        }
        for (name, value) in &self.dimensions {
            root.insert((*name).to_owned(), Value::from(value.as_str()));
        }
        for (name, value, _) in &self.values {
            root.insert((*name).to_owned(), json!(value));
        }
        let dimensions: Vec<&str> = self.dimensions.iter().map(|(n, _)| *n).collect();
        let metrics: Vec<Value> =
            self.values.iter().map(|(name, _, unit)| json!({ "Name": name, "Unit": unit.as_str() })).collect();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{ "Namespace": NAMESPACE, "Dimensions": [dimensions], "Metrics": metrics }],
            }),
        );
        Value::Object(root).to_string()
    }

    /// Prints the line to stdout, where the Lambda runtime hands it to CloudWatch Logs.
    pub fn emit(&self) {
        if self.values.is_empty() {
            return;
        }
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        println!("{}", self.line(now as u64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_declares_its_dimensions_and_metrics_at_the_root() {
        let line = Metrics::new("collector")
            .dimension("Engine", "mysql")
            .dimension("Outcome", "ok")
            .property("report_id", "01ABC")
            .count("DatabasesCollected", 1)
            .milliseconds("CollectionDuration", 42)
            .line(1_700_000_000_000);
        let v: Value = serde_json::from_str(&line).unwrap();
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["Function", "Engine", "Outcome"]]));
        assert_eq!(
            directive["Metrics"],
            json!([{"Name": "DatabasesCollected", "Unit": "Count"}, {"Name": "CollectionDuration", "Unit": "Milliseconds"}])
        );
        assert_eq!(
            (v["Function"].as_str(), v["Engine"].as_str(), v["Outcome"].as_str()),
            (Some("collector"), Some("mysql"), Some("ok"))
        );
        assert_eq!((v["DatabasesCollected"].as_f64(), v["CollectionDuration"].as_f64()), (Some(1.0), Some(42.0)));
        assert_eq!(v["report_id"], "01ABC", "a property, not a dimension");
        assert!(!line.contains('\n'));
    }
}
