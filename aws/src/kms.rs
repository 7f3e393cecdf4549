//! Manifest signatures with an asymmetric KMS key (`ECC_NIST_P256`, `ECDSA_SHA_256`).

use crate::error::port_error;
use async_trait::async_trait;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use dbadmin_ports::signing::Signer;
use dbadmin_ports::PortError;
use sha2::{Digest, Sha256};

/// Signs with a KMS key: the manifest's SHA-256 digest is sent (`MessageType=DIGEST`), never the
/// manifest, so any size signs and the signature verifies as ECDSA-SHA256 over the manifest bytes.
pub struct KmsSigner {
    client: aws_sdk_kms::Client,
    key_id: String,
    /// The public key, read once per process (a Lambda signs many manifests with one key).
    public_key: tokio::sync::OnceCell<Vec<u8>>,
}

impl KmsSigner {
    pub fn new(client: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        KmsSigner { client, key_id: key_id.into(), public_key: tokio::sync::OnceCell::new() }
    }

    async fn fetch_public_key(&self) -> Result<Vec<u8>, PortError> {
        let out = self
            .client
            .get_public_key()
            .key_id(&self.key_id)
            .send()
            .await
            .map_err(|e| port_error(format!("KMS GetPublicKey ({})", self.key_id), e))?;
        out.public_key.map(Blob::into_inner).ok_or_else(|| {
            PortError::permanent("KMS GetPublicKey", format!("key {} returned no public key", self.key_id))
        })
    }
}

#[async_trait]
impl Signer for KmsSigner {
    fn key_id(&self) -> String {
        self.key_id.clone()
    }

    async fn public_key_der(&self) -> Result<Vec<u8>, PortError> {
        self.public_key.get_or_try_init(|| self.fetch_public_key()).await.cloned()
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PortError> {
        let digest = Sha256::digest(message);
        let out = self
            .client
            .sign()
            .key_id(&self.key_id)
            .message(Blob::new(digest.to_vec()))
            .message_type(MessageType::Digest)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(|e| port_error(format!("KMS Sign ({})", self.key_id), e))?;
        out.signature
            .map(Blob::into_inner)
            .ok_or_else(|| PortError::permanent("KMS Sign", format!("key {} returned no signature", self.key_id)))
    }
}
