//! Offline verification of a downloaded report against its manifest.

use anyhow::Context;
use dbadmin_contracts::manifest::Manifest;
use std::path::{Path, PathBuf};

/// One artifact's check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ArtifactCheck {
    pub name: String,
    pub ok: bool,
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    pub manifest: PathBuf,
    pub report_id: String,
    pub version: u32,
    pub artifacts: Vec<ArtifactCheck>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.artifacts.iter().all(|a| a.ok)
    }
}

/// Checks every artifact a manifest names: present, same size, same SHA-256.
/// `path` is a report folder or its `manifest.json`.
pub fn verify(path: &Path) -> anyhow::Result<Verification> {
    let manifest_path = if path.is_dir() { path.join(dbadmin_contracts::keys::MANIFEST_NAME) } else { path.to_owned() };
    let bytes = std::fs::read(&manifest_path).with_context(|| format!("reading {}", manifest_path.display()))?;
    let manifest: Manifest =
        dbadmin_contracts::decode(&bytes).with_context(|| format!("reading {}", manifest_path.display()))?;
    let dir = manifest_path.parent().unwrap_or(Path::new("."));
    let artifacts = manifest
        .artifacts
        .iter()
        .map(|a| {
            let problem = match std::fs::read(dir.join(&a.name)) {
                Err(e) => Some(format!("cannot be read: {e}")),
                Ok(body) if body.len() as u64 != a.size => {
                    Some(format!("size {} differs from the manifest's {}", body.len(), a.size))
                }
                Ok(body) => {
                    let sha = dbadmin_contracts::sha256_hex(&body);
                    (sha != a.sha256).then(|| format!("SHA-256 {sha} differs from the manifest's {}", a.sha256))
                }
            };
            ArtifactCheck { name: a.name.clone(), ok: problem.is_none(), problem }
        })
        .collect();
    Ok(Verification { manifest: manifest_path, report_id: manifest.report_id, version: manifest.version, artifacts })
}
