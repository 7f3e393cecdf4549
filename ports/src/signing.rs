//! Manifest signatures: ECDSA with NIST P-256 and SHA-256 (KMS `ECC_NIST_P256` /
//! `ECDSA_SHA_256`), through AWS-LC. The reporter signs with a [`Signer`] (KMS on AWS, a local key
//! file for `generate --local`); anybody verifies offline with the public key alone ([`verify`]).

use crate::PortError;
use async_trait::async_trait;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair};
use std::path::{Path, PathBuf};

/// The one algorithm manifests are signed with, named as KMS names it.
pub const ALGORITHM: &str = "ECDSA_SHA_256";

/// Signs manifests.
///
/// Contract: `sign` returns an ASN.1 DER ECDSA signature over SHA-256 of `message`, made with the
/// P-256 key whose DER SubjectPublicKeyInfo `public_key_der` returns, so [`verify`] accepts it.
#[async_trait]
pub trait Signer: Send + Sync {
    /// The key's name in the signature file: a KMS key ARN, or `local:sha256:` and the first 16
    /// hex digits of the public key's SHA-256 (a fingerprint, not a path of the machine that made it).
    fn key_id(&self) -> String;
    async fn public_key_der(&self) -> Result<Vec<u8>, PortError>;
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PortError>;
}

/// Why a signature or key was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("the public key is not a PEM or DER P-256 public key: {0}")]
    Key(String),
    #[error("the signature is not base64: {0}")]
    Encoding(String),
    #[error("the signature does not match the manifest and public key")]
    Mismatch,
}

/// Checks `signature` (ASN.1 DER) over `message` with a P-256 public key (DER SubjectPublicKeyInfo).
pub fn verify(public_key_der: &[u8], message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
    let point = spki_point(public_key_der)?;
    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, point)
        .verify(message, signature)
        .map_err(|_| SignatureError::Mismatch)
}

/// The uncompressed EC point inside a P-256 SubjectPublicKeyInfo, checked by AWS-LC's own parser.
fn spki_point(der: &[u8]) -> Result<Vec<u8>, SignatureError> {
    let key = signature::ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, der)
        .map_err(|e| SignatureError::Key(e.to_string()))?;
    Ok(key.as_ref().to_vec())
}

/// A local key's name: its public key's fingerprint.
pub fn local_key_id(public_key_der: &[u8]) -> String {
    let sha = dbadmin_contracts::sha256_hex(public_key_der);
    format!("local:sha256:{}", &sha[..16])
}

/// A public key in PEM (`-----BEGIN PUBLIC KEY-----`), as `key export` writes it.
pub fn public_key_pem(der: &[u8]) -> String {
    pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, der).expect("a DER key encodes as PEM")
}

/// A public key from PEM or DER bytes, as DER SubjectPublicKeyInfo; checked to be P-256.
pub fn public_key_der(bytes: &[u8]) -> Result<Vec<u8>, SignatureError> {
    let der = if bytes.starts_with(b"-----BEGIN") {
        let (label, der) = pem_rfc7468::decode_vec(bytes).map_err(|e| SignatureError::Key(e.to_string()))?;
        if label != "PUBLIC KEY" {
            return Err(SignatureError::Key(format!("the PEM holds a {label}, not a PUBLIC KEY")));
        }
        der
    } else {
        bytes.to_vec()
    };
    spki_point(&der)?;
    Ok(der)
}

pub fn encode_signature(signature: &[u8]) -> String {
    use base64ct::Encoding;
    base64ct::Base64::encode_string(signature)
}

pub fn decode_signature(text: &str) -> Result<Vec<u8>, SignatureError> {
    use base64ct::Encoding;
    base64ct::Base64::decode_vec(text).map_err(|e| SignatureError::Encoding(e.to_string()))
}

/// A P-256 key kept in a file (PKCS#8 PEM, mode 0600): what `generate --local` signs with.
pub struct LocalSigner {
    path: PathBuf,
    pair: EcdsaKeyPair,
}

impl LocalSigner {
    /// Loads the key at `path`, or makes one there first (returns whether it was made).
    pub fn load_or_create(path: &Path) -> Result<(LocalSigner, bool), PortError> {
        let fail = |what: &str, e: String| PortError::permanent(format!("{what} {}", path.display()), e);
        let created = match std::fs::read(path) {
            Ok(_) => false,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_ASN1_SIGNING)
                    .map_err(|e| fail("generate a signing key for", e.to_string()))?;
                let pkcs8 = pair.to_pkcs8v1().map_err(|e| fail("encode the signing key", e.to_string()))?;
                let pem = pem_rfc7468::encode_string("PRIVATE KEY", pem_rfc7468::LineEnding::LF, pkcs8.as_ref())
                    .map_err(|e| fail("encode the signing key", e.to_string()))?;
                // Another run may make one at the same moment: the first complete key wins, and is used.
                write_private(path, pem.as_bytes()).map_err(|e| fail("write the signing key to", e.to_string()))?
            }
            Err(e) => return Err(fail("read the signing key", e.to_string())),
        };
        let pem = std::fs::read(path).map_err(|e| fail("read the signing key", e.to_string()))?;
        let (label, der) = pem_rfc7468::decode_vec(&pem).map_err(|e| fail("read the signing key", e.to_string()))?;
        if label != "PRIVATE KEY" {
            return Err(fail("read the signing key", format!("the PEM holds a {label}, not a PRIVATE KEY")));
        }
        let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &der)
            .map_err(|e| fail("read the P-256 signing key", e.to_string()))?;
        Ok((LocalSigner { path: path.to_owned(), pair }, created))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The public key (DER SubjectPublicKeyInfo), without the async trait call.
    pub fn public_key_der_now(&self) -> Vec<u8> {
        self.spki()
    }

    fn spki(&self) -> Vec<u8> {
        self.pair.public_key().as_der().map(|d| d.as_ref().to_vec()).unwrap_or_default()
    }
}

/// Creates `path` readable by its owner only (0600), and its folder if needed, whole or not at all:
/// the bytes go to a file of this process's own first, which is then linked into place (a link
/// fails if the name exists). Returns false when another process put a key there first.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let staged = path.with_extension(format!("new-{}-{:?}", std::process::id(), std::thread::current().id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&staged).and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()));
    let linked = written.and_then(|()| std::fs::hard_link(&staged, path));
    let _ = std::fs::remove_file(&staged);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl Signer for LocalSigner {
    fn key_id(&self) -> String {
        local_key_id(&self.spki())
    }

    async fn public_key_der(&self) -> Result<Vec<u8>, PortError> {
        Ok(self.spki())
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PortError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let signature = self.pair.sign(&rng, message).map_err(|e| PortError::permanent("sign the manifest", e))?;
        Ok(signature.as_ref().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two first runs at once (two reports on a fresh machine) both get a key, and the same one:
    /// neither fails on the other's half-written file.
    #[test]
    fn runs_making_the_first_key_at_once_share_one() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("signing-key.pem");
            let keys: Vec<(Vec<u8>, bool)> = std::thread::scope(|s| {
                let runs: Vec<_> = (0..4)
                    .map(|_| {
                        s.spawn(|| {
                            let (signer, created) = LocalSigner::load_or_create(&path).expect("a key");
                            (signer.public_key_der_now(), created)
                        })
                    })
                    .collect();
                runs.into_iter().map(|r| r.join().unwrap()).collect()
            });
            assert!(keys.iter().all(|(k, _)| *k == keys[0].0), "one key for all");
            assert_eq!(keys.iter().filter(|(_, created)| *created).count(), 1, "made once");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no staged file left");
        }
    }

    #[tokio::test]
    async fn a_local_key_signs_what_its_public_key_verifies_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/signing-key.pem");
        let (signer, created) = LocalSigner::load_or_create(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let (again, created) = LocalSigner::load_or_create(&path).unwrap();
        assert!(!created);
        let der = signer.public_key_der().await.unwrap();
        assert_eq!(der, again.public_key_der().await.unwrap(), "the same key is loaded again");

        let pem = public_key_pem(&der);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(public_key_der(pem.as_bytes()).unwrap(), der);

        let sig = signer.sign(b"manifest bytes").await.unwrap();
        let sig = decode_signature(&encode_signature(&sig)).unwrap();
        verify(&der, b"manifest bytes", &sig).unwrap();
        assert!(matches!(verify(&der, b"manifest bytez", &sig), Err(SignatureError::Mismatch)));
        let mut bent = sig.clone();
        let last = bent.len() - 1;
        bent[last] ^= 1;
        assert!(verify(&der, b"manifest bytes", &bent).is_err());
        // Another key does not verify it.
        let (other, _) = LocalSigner::load_or_create(&dir.path().join("other.pem")).unwrap();
        let other = other.public_key_der().await.unwrap();
        assert!(matches!(verify(&other, b"manifest bytes", &sig), Err(SignatureError::Mismatch)));
        assert!(public_key_der(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").is_err());
    }
}
