//! The contracts between db-admin-report's stages.
//!
//! Every type that crosses a queue, lands in storage or reaches an auditor lives
//! here, so the publisher, collector, reporter and CLI can never disagree about
//! a shape. Messages and results carry a `schema_version`; [`decode`] refuses a
//! version it does not know instead of half-reading it.

#[macro_use]
mod forms;
pub mod baseline;
pub mod discovery;
pub mod inventory;
pub mod keys;
pub mod manifest;
pub mod message;
pub mod result;
pub mod version;

pub use inventory::{
    host_key, AccountId, Engine, Filters, Inventory, InventoryDocument, InventoryError, Target, TlsMode,
};
pub use message::{CollectionJob, FinalizeMessage, OutputFormat, Provenance, ReceivedRequest, ReportRequest, Retry};
pub use result::{
    AccountStatus, Collected, CredentialBinding, ErrorKind, Failure, Finding, LastLogin, Level, LoginEvidence,
    LoginSettings, Outcome, Principal, PrincipalKind, QueryRecord, TargetResult,
};
pub use version::{decode, encode, DecodeError, Versioned};

use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The current time in UTC, RFC 3339 with second precision (`2026-11-22T07:44:10Z`).
pub fn now_rfc3339() -> String {
    format_rfc3339(time::OffsetDateTime::now_utc())
}

/// Parses an RFC 3339 timestamp.
pub fn parse_rfc3339(text: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// Formats a timestamp in UTC, RFC 3339 with second precision.
pub fn format_rfc3339(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The version of this tool, recorded in every manifest.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
