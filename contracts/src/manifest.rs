//! The manifest: what an auditor checks a report against.

use crate::inventory::Filters;
use crate::version::Versioned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub report_id: String,
    pub version: u32,
    /// The version this one replaces, when the report was finalized again.
    pub supersedes: Option<u32>,
    pub requested_by: String,
    pub requested_at: String,
    pub finished_at: String,
    pub tool_version: String,
    pub parameters: Filters,
    pub inventory_source: String,
    pub inventory_sha256: String,
    pub population: u64,
    /// Targets per collection status (`OK`, `NO_ADMINS`, `ERROR`) and errors per kind (`ERROR:timeout`).
    pub status_counts: BTreeMap<String, u64>,
    pub admin_definition_version: String,
    /// Every distinct query text run (`engine/name` and SHA-256), sorted.
    pub queries: Vec<crate::QueryRecord>,
    pub artifacts: Vec<Artifact>,
    /// Who the request's body says sent it, where that differs from `requested_by` (the queue's
    /// record of the sender). Kept for the record, never trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by_claimed: Option<String>,
    /// How each target's connection was protected: targets per TLS mode (`verify-full`, …).
    #[serde(default)]
    pub tls_modes: BTreeMap<String, u64>,
    /// Set when any target was read over a connection that did not prove which server answered
    /// (`verify-ca`, `require`, `disable`): a sentence saying so, for the auditor and the CLI's summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_warning: Option<String>,
    /// The targets whose login's secret names no database (no RDS fields, no
    /// `db-admin-report:hosts`): the inventory alone decided where their passwords were sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unbound_secrets: Vec<String>,
    /// The login log read for each target whose inventory row names one: source, window, what it
    /// covers and the SHA-256 of what was read (or why it could not be).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub login_evidence: Vec<TargetLoginEvidence>,
    /// Versions given up before this one because an earlier, interrupted attempt left other bytes
    /// under their keys (never complete reports: they have no manifest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub abandoned: Vec<u32>,
    /// This manifest's place in the deployment's chain of reports: 1 for the first report ever
    /// signed by it, then one more for each.
    #[serde(default)]
    pub sequence: u64,
    /// The manifest signed just before this one (any report of the deployment): deleting or
    /// replacing a report breaks the chain at the next one.
    #[serde(default)]
    pub previous: Option<ChainLink>,
    /// When the request asked for discovery: what was listed and how it reconciled with the
    /// population (`reconciliation.csv` holds the rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciliation: Option<ReconciliationSummary>,
    /// When the report was read against an approved-admin baseline: which, and how many principal
    /// rows came out approved, unapproved or with an expired approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineSummary>,
}

/// One target's login evidence, in the signed manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetLoginEvidence {
    pub target: String,
    #[serde(flatten)]
    pub evidence: crate::LoginEvidence,
}

/// The baseline a report was read against, in the signed manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineSummary {
    pub source: String,
    pub sha256: String,
    pub approvals: u64,
    /// Principal rows per review status (`APPROVED`, `UNAPPROVED`, `APPROVAL_EXPIRED`).
    pub review_counts: BTreeMap<String, u64>,
}

/// The discovery's parameters and the reconciliation's counts, in the signed manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationSummary {
    pub scope: crate::discovery::DiscoveryScope,
    pub discovered_at: String,
    /// Rows per status (`IN_BOTH`, `NOT_IN_INVENTORY`, `NOT_FOUND`, `EXCLUDED`, `DISCOVERY_FAILED`,
    /// `ENDPOINT_MISMATCH`).
    pub counts: BTreeMap<String, usize>,
    /// Set when databases exist that the inventory does not list: the report is not complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
}

impl ReconciliationSummary {
    pub fn new(discovery: &crate::discovery::Discovery, rows: &[crate::discovery::ReconciliationRow]) -> Self {
        let counts = crate::discovery::counts(rows);
        let missing = counts.get("NOT_IN_INVENTORY").copied().unwrap_or(0);
        let failed = counts.get("DISCOVERY_FAILED").copied().unwrap_or(0);
        let mut finding = Vec::new();
        if missing > 0 {
            finding.push(format!(
                "{missing} database(s) exist in AWS but are not in the inventory: they were not reviewed (reconciliation.csv, NOT_IN_INVENTORY)"
            ));
        }
        if failed > 0 {
            finding.push(format!("{failed} reconciliation row(s) could not be checked (DISCOVERY_FAILED)"));
        }
        let elsewhere = counts.get("ENDPOINT_MISMATCH").copied().unwrap_or(0);
        if elsewhere > 0 {
            finding.push(format!(
                "{elsewhere} inventory entr(ies) name a database but connect to another address: what they collected \
                 is not evidence about it (reconciliation.csv, ENDPOINT_MISMATCH)"
            ));
        }
        if let Some(e) = &discovery.scope.organization_error {
            finding.push(format!(
                "the organization's accounts could not be listed, so only the inventory's accounts were checked: {e}"
            ));
        }
        ReconciliationSummary {
            scope: discovery.scope.clone(),
            discovered_at: discovery.discovered_at.clone(),
            counts,
            finding: (!finding.is_empty()).then(|| finding.join("; ")),
        }
    }

    /// Whether the population is known to be incomplete (or could not be checked).
    pub fn incomplete(&self) -> bool {
        self.finding.is_some()
    }
}

/// One report's place in the chain: what the next manifest names as its `previous`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    pub sequence: u64,
    pub report_id: String,
    pub version: u32,
    /// SHA-256 of that manifest's bytes (`manifest.json`).
    pub manifest_sha256: String,
    /// SHA-256 of its detached signature's bytes (`manifest.sig.json`).
    pub signature_sha256: String,
    /// Where that manifest is kept (a storage key).
    pub manifest_key: String,
}

/// The detached signature of a manifest, `manifest.sig.json` beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestSignature {
    pub schema_version: u32,
    /// SHA-256 of the exact `manifest.json` bytes signed.
    pub manifest_sha256: String,
    /// `ECDSA_SHA_256` over the manifest bytes, with a NIST P-256 key (KMS `ECC_NIST_P256`).
    pub algorithm: String,
    /// The signing key: a KMS key ARN, or `local:sha256:` and the public key's fingerprint.
    pub key_id: String,
    /// SHA-256 of the key's public key (DER SubjectPublicKeyInfo): what `key export` prints.
    pub public_key_sha256: String,
    pub signed_at: String,
    /// The ASN.1 DER signature, base64.
    pub signature: String,
}

impl Versioned for ManifestSignature {
    const SCHEMA_VERSION: u32 = 1;
    const KIND: &'static str = "manifest signature";
}

impl Versioned for Manifest {
    const SCHEMA_VERSION: u32 = 1;
    const KIND: &'static str = "manifest";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// File name within the report folder.
    pub name: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
}
