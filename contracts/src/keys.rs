//! The storage key layout, shared by S3 and the local mirror.
//!
//! ```text
//! runs/{report_id}/request.json
//! runs/{report_id}/population.json
//! runs/{report_id}/retry-v{n}.json
//! runs/{report_id}/results/v{n}/{target_id}.json
//! reports/{yyyy}/{mm}/{dd}/{report_id}/v{n}/report.csv|report.json|manifest.json|manifest.sig.json
//! ```

/// Where the request that started a run is kept.
pub fn request(report_id: &str) -> String {
    format!("runs/{report_id}/request.json")
}

/// Where the request for version `version` (a retry) of a run is kept, for the audit trail.
pub fn retry_request(report_id: &str, version: u32) -> String {
    format!("runs/{report_id}/retry-v{version}.json")
}

/// What the report's discovery found (`Discovery`), written once by the publisher.
pub fn discovery(report_id: &str) -> String {
    format!("runs/{report_id}/discovery.json")
}

/// Where the population snapshot (every target in scope) is kept.
pub fn population(report_id: &str) -> String {
    format!("runs/{report_id}/population.json")
}

/// Where one target's result for report version `version` is kept. Each version a target is
/// collected for has its own key, so every result is written once and never replaced.
pub fn result(report_id: &str, version: u32, target_id: &str) -> String {
    format!("runs/{report_id}/results/v{version}/{target_id}.json")
}

/// Whether `target_id` would give its result the same file name as a run's own object
/// (`request.json`, `population.json`, `discovery.json`, `retry-v{n}.json`). The keys differ
/// (results live under `results/v{n}/`), but a bucket policy's `runs/*/population.json` matches
/// across `/`, so such a target's result would be refused as if it were the population. Nor may it
/// be named like a report's manifest (`manifest.json`): `verify --chain` over a local run's folder
/// takes every `manifest.json` for a report's.
pub fn is_reserved_target_id(target_id: &str) -> bool {
    // Case-blind: a local run's folder may be on a case-insensitive disk.
    let target_id = target_id.to_ascii_lowercase();
    let target_id = target_id.as_str();
    let file = format!("{target_id}.json");
    matches!(target_id, "request" | "population" | "discovery")
        || target_id.starts_with("retry-v")
        || file == MANIFEST_NAME
        || file == SIGNATURE_NAME
}

/// The folder holding version `version` of a report requested at `requested_at` (RFC 3339).
pub fn report_dir(report_id: &str, requested_at: &str, version: u32) -> String {
    let date = requested_at.get(..10).unwrap_or("0000-00-00");
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next().unwrap_or("0000"), parts.next().unwrap_or("00"), parts.next().unwrap_or("00"));
    format!("reports/{y}/{m}/{d}/{report_id}/v{version}")
}

pub const CSV_NAME: &str = "report.csv";
pub const JSON_NAME: &str = "report.json";
/// The report as reviewers read it (self-contained HTML).
pub const HTML_NAME: &str = "report.html";
/// Written when the request asked for discovery: every inventory entry and discovered database.
pub const RECONCILIATION_NAME: &str = "reconciliation.csv";
pub const MANIFEST_NAME: &str = "manifest.json";
pub const SIGNATURE_NAME: &str = "manifest.sig.json";

#[cfg(test)]
mod tests {
    #[test]
    fn run_object_names_are_reserved() {
        for id in ["request", "population", "discovery", "retry-v2"] {
            assert!(super::is_reserved_target_id(id), "{id}");
        }
        assert!(!super::is_reserved_target_id("population-eu") && !super::is_reserved_target_id("orders"));
    }

    #[test]
    fn report_dir_uses_request_date() {
        assert_eq!(super::report_dir("01J", "2026-11-22T07:44:10Z", 2), "reports/2026/11/22/01J/v2");
    }
}
