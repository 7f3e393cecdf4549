//! Messages that travel between stages: request → jobs → finalize.

pub use crate::inventory::Filters;
use crate::inventory::Target;
use crate::version::Versioned;
use serde::{Deserialize, Serialize};

/// The artifact a requester wants pointed at; every report holds CSV, JSON and a manifest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    #[default]
    Csv,
    Json,
}

/// A request for one report, as published by the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRequest {
    pub schema_version: u32,
    /// A ULID whose time is when the request was made (checked against the queue's send time).
    pub report_id: String,
    /// Who the caller says they are (an IAM ARN, or `local:user@host` for a local run). A claim:
    /// the manifest's requester is what the queue recorded ([`Provenance`]).
    pub requested_by: String,
    /// When the caller says it asked. A claim, like `requested_by`.
    pub requested_at: String,
    /// Where the inventory is read from: a local path or an `s3://bucket/key` URI.
    pub inventory: String,
    #[serde(default)]
    pub filters: Filters,
    #[serde(default)]
    pub output_format: OutputFormat,
    /// Set on a retry: collect again, under the same report id, the targets that failed in this
    /// version, and write the next version of the report. Absent on a first request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
    /// Set to list what AWS says exists in the accounts and regions in scope and reconcile it with
    /// the inventory in the report's evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<crate::discovery::DiscoveryRequest>,
    /// The approved-admin baseline to read the report against: a local path or an `s3://` URI
    /// (next to the inventory). Every principal row then gets a review status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
}

/// Who sent a request and when, as the queue recorded it: SQS's `SenderId` and `SentTimestamp`
/// system attributes (the caller's own user for a local run). These, never the body's claims, are
/// the evidence of who asked and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The principal that sent the message (an IAM user or role id, `AROA…:session`).
    pub sender: String,
    /// When the queue accepted it (RFC 3339, UTC).
    pub sent_at: String,
    /// The queue's id of the message: a redelivery has the same one, a new request another.
    pub message_id: String,
}

/// A request as the publisher received it, kept at `runs/{id}/request.json` (and
/// `retry-v{n}.json`): the body, and what the queue says about who sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedRequest {
    pub schema_version: u32,
    pub request: ReportRequest,
    pub received: Provenance,
}

impl Versioned for ReceivedRequest {
    const SCHEMA_VERSION: u32 = 1;
    const KIND: &'static str = "received report request";
}

/// A retry of a finished report's failed targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retry {
    /// The report version whose failed targets are collected again. (Requests of 0.1 named it
    /// `generation`.)
    #[serde(alias = "generation")]
    pub version: u32,
}

impl Versioned for ReportRequest {
    const SCHEMA_VERSION: u32 = 1;
    const KIND: &'static str = "report request";
}

/// One database to collect, one message per target.
///
/// A job *names* its target; it never carries one. The collector looks the target up in the
/// population snapshot the publisher wrote for the report, so a message sent by anyone else can
/// neither point a login at another host nor add a target to a report. (Schema 1 carried the whole
/// target and is refused.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionJob {
    pub schema_version: u32,
    pub report_id: String,
    pub target_id: String,
    /// The report version the job collects for: a job of a version the run has moved past is stale
    /// and is dropped, so a late redelivery cannot take the place of a retry's fresh collection.
    pub version: u32,
}

impl Versioned for CollectionJob {
    const SCHEMA_VERSION: u32 = 2;
    const KIND: &'static str = "collection job";
}

/// Sent once the completion count reaches the population: time to write the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalizeMessage {
    pub schema_version: u32,
    pub report_id: String,
}

impl Versioned for FinalizeMessage {
    const SCHEMA_VERSION: u32 = 1;
    const KIND: &'static str = "finalize message";
}

/// The population snapshot: exactly the targets a report must account for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Population {
    pub schema_version: u32,
    pub report_id: String,
    pub inventory_source: String,
    pub inventory_sha256: String,
    pub filters: Filters,
    pub targets: Vec<Target>,
    /// The approved-admin baseline the request named, as read when the population was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::baseline::Baseline>,
}

impl Versioned for Population {
    const SCHEMA_VERSION: u32 = 1;
    const KIND: &'static str = "population snapshot";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode, encode, DecodeError};

    #[test]
    fn unknown_versions_are_rejected_before_reading() {
        let err = decode::<FinalizeMessage>(br#"{"schema_version": 9, "report_id": 3}"#).unwrap_err();
        assert!(matches!(err, DecodeError::UnsupportedVersion { found: 9, expected: 1, .. }), "{err}");
        let err = decode::<FinalizeMessage>(br#"{"report_id": "x"}"#).unwrap_err();
        assert!(matches!(err, DecodeError::MissingVersion { .. }), "{err}");
        let ok = FinalizeMessage { schema_version: 1, report_id: "r".into() };
        assert_eq!(decode::<FinalizeMessage>(&encode(&ok)).unwrap(), ok);
    }
}
