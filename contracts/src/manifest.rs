//! The manifest: what an auditor checks a report against.

use crate::message::Filters;
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
