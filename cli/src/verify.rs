//! Offline verification of a downloaded report: every artifact against the manifest, the
//! manifest against its detached signature and a public key, and (given the report before it) the
//! chain between the two. Needs no AWS access.

use anyhow::Context;
use dbadmin_contracts::manifest::{Artifact, ChainLink, Manifest, ManifestSignature};
use dbadmin_contracts::{keys, sha256_hex};
use dbadmin_ports::signing;
use std::path::{Path, PathBuf};

/// One artifact's check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ArtifactCheck {
    pub name: String,
    pub ok: bool,
    pub problem: Option<String>,
}

/// The signature's check, and what it says about the signer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignatureCheck {
    pub ok: bool,
    pub problem: Option<String>,
    pub key_id: Option<String>,
    pub algorithm: Option<String>,
    pub signed_at: Option<String>,
    /// SHA-256 of the public key the signature was checked with.
    pub public_key_sha256: Option<String>,
    /// Where that public key came from.
    pub public_key_source: Option<String>,
}

/// The check of the link from this manifest to the one before it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainCheck {
    pub ok: bool,
    pub problem: Option<String>,
    pub previous: PathBuf,
}

/// What the signed manifest itself says about the run: facts once the signature holds (the
/// signature file's `key_id` and `signed_at` are not signed, so they are not among them).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignedFacts {
    /// Who requested the report (the queue's record of the sender, or the local user).
    pub requested_by: String,
    pub requested_at: String,
    pub finished_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    pub manifest: PathBuf,
    pub report_id: String,
    pub version: u32,
    pub sequence: u64,
    pub signed: SignedFacts,
    /// What the manifest names as the report before it in the chain.
    pub previous: Option<ChainLink>,
    pub artifacts: Vec<ArtifactCheck>,
    /// Set when the manifest lists no artifacts: nothing would have been checked.
    pub problem: Option<String>,
    pub signature: SignatureCheck,
    /// Present when the previous report was given.
    pub chain: Option<ChainCheck>,
    pub tls_warning: Option<String>,
    /// Targets whose login's secret names no database (the manifest's `unbound_secrets`).
    pub unbound_secrets: Vec<String>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problem.is_none()
            && self.artifacts.iter().all(|a| a.ok)
            && self.signature.ok
            && self.chain.as_ref().is_none_or(|c| c.ok)
    }
}

/// The public key to check signatures with, as DER, and where it came from.
#[derive(Debug, Clone)]
pub struct PublicKey {
    pub der: Vec<u8>,
    pub source: String,
}

impl PublicKey {
    /// Reads a PEM or DER public key file (what `key export` writes).
    pub fn from_file(path: &Path) -> anyhow::Result<PublicKey> {
        let bytes = std::fs::read(path).with_context(|| format!("reading the public key {}", path.display()))?;
        let der = signing::public_key_der(&bytes).with_context(|| format!("reading {}", path.display()))?;
        Ok(PublicKey { der, source: path.display().to_string() })
    }
}

/// The manifest file of `path` (a report folder or its `manifest.json`), its bytes and its folder.
fn read_manifest(path: &Path) -> anyhow::Result<(PathBuf, Vec<u8>, Manifest)> {
    let manifest_path = if path.is_dir() { path.join(keys::MANIFEST_NAME) } else { path.to_owned() };
    let bytes = std::fs::read(&manifest_path).with_context(|| format!("reading {}", manifest_path.display()))?;
    let manifest: Manifest =
        dbadmin_contracts::decode(&bytes).with_context(|| format!("reading {}", manifest_path.display()))?;
    Ok((manifest_path, bytes, manifest))
}

fn folder(manifest_path: &Path) -> &Path {
    manifest_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Checks the detached signature beside `manifest_path` over `manifest_bytes`.
fn check_signature(manifest_path: &Path, manifest_bytes: &[u8], key: Option<&PublicKey>) -> SignatureCheck {
    let mut check = SignatureCheck {
        ok: false,
        problem: None,
        key_id: None,
        algorithm: None,
        signed_at: None,
        public_key_sha256: key.map(|k| sha256_hex(&k.der)),
        public_key_source: key.map(|k| k.source.clone()),
    };
    let sig_path = folder(manifest_path).join(keys::SIGNATURE_NAME);
    let signature = match std::fs::read(&sig_path) {
        Err(e) => {
            check.problem = Some(format!("{} cannot be read ({e}): the manifest is unsigned", sig_path.display()));
            return check;
        }
        Ok(bytes) => match dbadmin_contracts::decode::<ManifestSignature>(&bytes) {
            Err(e) => {
                check.problem = Some(format!("{} cannot be read: {e}", sig_path.display()));
                return check;
            }
            Ok(s) => s,
        },
    };
    check.key_id = Some(signature.key_id.clone());
    check.algorithm = Some(signature.algorithm.clone());
    check.signed_at = Some(signature.signed_at.clone());
    check.problem = (|| {
        if signature.algorithm != signing::ALGORITHM {
            return Some(format!("algorithm {} is not {}", signature.algorithm, signing::ALGORITHM));
        }
        let sha = sha256_hex(manifest_bytes);
        if signature.manifest_sha256 != sha {
            return Some(format!("it was made for a manifest with SHA-256 {}, not {sha}", signature.manifest_sha256));
        }
        let Some(key) = key else {
            return Some(
                "no public key to check it with: pass --public-key (get it with `db-admin-report key export`)".into(),
            );
        };
        if signature.public_key_sha256 != sha256_hex(&key.der) {
            return Some(format!(
                "it names the key with SHA-256 {} but the public key given ({}) is {}",
                signature.public_key_sha256,
                key.source,
                sha256_hex(&key.der)
            ));
        }
        let raw = match signing::decode_signature(&signature.signature) {
            Ok(raw) => raw,
            Err(e) => return Some(e.to_string()),
        };
        signing::verify(&key.der, manifest_bytes, &raw).err().map(|e| e.to_string())
    })();
    check.ok = check.problem.is_none();
    check
}

/// Checks that `manifest` names the report at `previous` as the one before it, and that the
/// previous manifest is itself intact and signed by the same key.
fn check_chain(manifest: &Manifest, previous: &Path, key: Option<&PublicKey>) -> anyhow::Result<ChainCheck> {
    let (prev_path, prev_bytes, prev) = read_manifest(previous)?;
    let prev_sig = std::fs::read(folder(&prev_path).join(keys::SIGNATURE_NAME)).unwrap_or_default();
    let problem = (|| {
        let Some(link) = &manifest.previous else {
            return Some("this manifest names no previous report (it starts the chain)".to_owned());
        };
        let prev_check = check_signature(&prev_path, &prev_bytes, key);
        if let Some(p) = prev_check.problem {
            return Some(format!("the previous report's signature does not hold: {p}"));
        }
        let mismatches: Vec<String> = [
            ("report", link.report_id.clone(), prev.report_id.clone()),
            ("version", link.version.to_string(), prev.version.to_string()),
            ("sequence", link.sequence.to_string(), prev.sequence.to_string()),
            ("manifest SHA-256", link.manifest_sha256.clone(), sha256_hex(&prev_bytes)),
            ("signature SHA-256", link.signature_sha256.clone(), sha256_hex(&prev_sig)),
        ]
        .into_iter()
        .filter(|(_, named, found)| named != found)
        .map(|(what, named, found)| format!("{what}: named {named}, found {found}"))
        .collect();
        if !mismatches.is_empty() {
            return Some(format!("the previous report is not the one this manifest names ({})", mismatches.join("; ")));
        }
        (manifest.sequence != link.sequence + 1)
            .then(|| format!("sequence {} does not follow {}", manifest.sequence, link.sequence))
    })();
    Ok(ChainCheck { ok: problem.is_none(), problem, previous: prev_path })
}

/// One artifact's problem, if any: read only when the signature holds and its name is a plain
/// file name beside the manifest.
fn check_artifact(dir: &Path, a: &Artifact, signature_ok: bool) -> Option<String> {
    let mut parts = Path::new(&a.name).components();
    let plain = matches!((parts.next(), parts.next()), (Some(std::path::Component::Normal(_)), None));
    if !plain {
        return Some("is not a plain file name beside the manifest: not read".into());
    }
    if !signature_ok {
        return Some("not read: the manifest's signature does not hold".into());
    }
    let path = dir.join(&a.name);
    // A regular file only: a link or a device named like an artifact is not followed.
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_file() => {}
        Ok(_) => return Some("is not a regular file: not read".into()),
        Err(e) => return Some(format!("cannot be read: {e}")),
    }
    match std::fs::read(&path) {
        Err(e) => Some(format!("cannot be read: {e}")),
        Ok(body) if body.len() as u64 != a.size => {
            Some(format!("size {} differs from the manifest's {}", body.len(), a.size))
        }
        Ok(body) => {
            let sha = sha256_hex(&body);
            (sha != a.sha256).then(|| format!("SHA-256 {sha} differs from the manifest's {}", a.sha256))
        }
    }
}

/// Checks every artifact a manifest names (present, same size, same SHA-256), the manifest's
/// signature with `key`, and the chain to `previous` when given. `path` is a report folder or its
/// `manifest.json`.
pub fn verify(path: &Path, key: Option<&PublicKey>, previous: Option<&Path>) -> anyhow::Result<Verification> {
    let (manifest_path, bytes, manifest) = read_manifest(path)?;
    let dir = folder(&manifest_path);
    // The manifest names the files to read: nothing is read before its signature holds, and only
    // plain file names beside it (a forged `../` or absolute name reads nothing).
    let signature = check_signature(&manifest_path, &bytes, key);
    let artifacts: Vec<ArtifactCheck> = manifest
        .artifacts
        .iter()
        .map(|a| {
            let problem = check_artifact(dir, a, signature.ok);
            ArtifactCheck { name: a.name.clone(), ok: problem.is_none(), problem }
        })
        .collect();
    let problem = artifacts.is_empty().then(|| "the manifest lists no artifacts: there is nothing to verify".into());
    let chain = previous.map(|p| check_chain(&manifest, p, key)).transpose()?;
    Ok(Verification {
        report_id: manifest.report_id,
        version: manifest.version,
        sequence: manifest.sequence,
        signed: SignedFacts {
            requested_by: manifest.requested_by,
            requested_at: manifest.requested_at,
            finished_at: manifest.finished_at,
        },
        previous: manifest.previous,
        manifest: manifest_path,
        artifacts,
        problem,
        signature,
        chain,
        tls_warning: manifest.tls_warning,
        unbound_secrets: manifest.unbound_secrets,
    })
}

/// One report met on a chain walk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainEntry {
    pub sequence: u64,
    pub report_id: String,
    pub version: u32,
    pub manifest: PathBuf,
}

/// Every report of a folder, in chain order, and what breaks the chain between them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainWalk {
    pub reports: Vec<ChainEntry>,
    /// Unsigned or altered reports, gaps, links that name another report, and forks (two signed
    /// reports in one place of the chain: a chain head rolled back or a second signer).
    pub problems: Vec<String>,
}

impl ChainWalk {
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && !self.reports.is_empty()
    }
}

/// Every `manifest.json` under `root` (as `download` lays reports out), recursively.
fn manifests_under(root: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(root).with_context(|| format!("reading {}", root.display()))? {
        let entry = entry?;
        // Links are not followed: a loop or a folder elsewhere is not part of the reports given.
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            manifests_under(&path, out)?;
        } else if kind.is_file() && path.file_name().is_some_and(|n| n == keys::MANIFEST_NAME) {
            out.push(path);
        }
    }
    Ok(())
}

/// Walks the chain of every report under `root`: each signature checked with `key`, then from the
/// lowest sequence to the highest each report must name the one just before it (by the SHA-256
/// of its manifest). The lowest may name a report that is not in the folder (the walk starts
/// there); any other missing link is a gap, and two reports at one place are a fork.
pub fn walk_chain(root: &Path, key: Option<&PublicKey>) -> anyhow::Result<ChainWalk> {
    let mut paths = Vec::new();
    manifests_under(root, &mut paths)?;
    let mut problems = Vec::new();
    // sequence → (manifest SHA-256, manifest)
    let mut signed: Vec<(u64, String, PathBuf, Manifest)> = Vec::new();
    for path in paths {
        let (path, bytes, manifest) = read_manifest(&path)?;
        let signature = check_signature(&path, &bytes, key);
        if let Some(p) = signature.problem {
            problems.push(format!("{}: not part of the chain, its signature does not hold: {p}", path.display()));
            continue;
        }
        // Each report's files too: a signed chain of altered reports is not ok.
        for a in &manifest.artifacts {
            if let Some(p) = check_artifact(folder(&path), a, true) {
                problems.push(format!("{}: {} {p}", folder(&path).display(), a.name));
            }
        }
        signed.push((manifest.sequence, sha256_hex(&bytes), path, manifest));
    }
    signed.sort_by(|a, b| (a.0, &a.2).cmp(&(b.0, &b.2)));
    for pair in signed.windows(2) {
        if pair[0].0 == pair[1].0 {
            problems.push(format!(
                "fork: #{} is claimed by both {} and {}",
                pair[0].0,
                pair[0].2.display(),
                pair[1].2.display()
            ));
        }
    }
    let by_sha: std::collections::BTreeMap<&str, u64> = signed.iter().map(|(n, sha, ..)| (sha.as_str(), *n)).collect();
    let mut named: std::collections::BTreeMap<&str, &Path> = std::collections::BTreeMap::new();
    let lowest = signed.first().map(|s| s.0);
    for (sequence, _, path, manifest) in &signed {
        let Some(link) = &manifest.previous else {
            if *sequence != 1 {
                problems.push(format!("{}: #{sequence} names no report before it", path.display()));
            }
            continue;
        };
        if let Some(other) = named.insert(&link.manifest_sha256, path) {
            problems.push(format!(
                "fork: {} and {} both name #{} ({} v{}) as the report before them",
                other.display(),
                path.display(),
                link.sequence,
                link.report_id,
                link.version
            ));
        }
        match by_sha.get(link.manifest_sha256.as_str()) {
            Some(n) if *n + 1 == *sequence => {}
            Some(n) => problems.push(format!("{}: #{sequence} names #{n} as the report before it", path.display())),
            None if Some(*sequence) == lowest => {}
            None => problems.push(format!(
                "gap: #{sequence} ({}) names #{} ({} v{}), which is not in {}",
                path.display(),
                link.sequence,
                link.report_id,
                link.version,
                root.display()
            )),
        }
    }
    let reports = signed
        .into_iter()
        .map(|(sequence, _, manifest_path, m)| ChainEntry {
            sequence,
            report_id: m.report_id,
            version: m.version,
            manifest: manifest_path,
        })
        .collect();
    Ok(ChainWalk { reports, problems })
}
