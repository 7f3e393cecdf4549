//! Schema versioning for everything serialized between stages.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// A type that is serialized with a `schema_version` field.
pub trait Versioned: Serialize + DeserializeOwned {
    /// The version this build writes and accepts.
    const SCHEMA_VERSION: u32;
    /// A short name used in error messages (`collection job`, `target result`, …).
    const KIND: &'static str;
}

/// Why a serialized contract could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{kind} is not valid JSON")]
    Json {
        kind: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{kind} has no schema_version field")]
    MissingVersion { kind: &'static str },
    #[error("{kind} has schema_version {found}, this build understands only {expected}")]
    UnsupportedVersion { kind: &'static str, found: u64, expected: u32 },
}

#[derive(Deserialize)]
struct VersionProbe {
    schema_version: Option<u64>,
}

/// Reads a versioned contract, rejecting unknown versions before reading any other field.
pub fn decode<T: Versioned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let probe: VersionProbe =
        serde_json::from_slice(bytes).map_err(|source| DecodeError::Json { kind: T::KIND, source })?;
    match probe.schema_version {
        None => Err(DecodeError::MissingVersion { kind: T::KIND }),
        Some(v) if v != u64::from(T::SCHEMA_VERSION) => {
            Err(DecodeError::UnsupportedVersion { kind: T::KIND, found: v, expected: T::SCHEMA_VERSION })
        }
        Some(_) => serde_json::from_slice(bytes).map_err(|source| DecodeError::Json { kind: T::KIND, source }),
    }
}

/// Serializes a versioned contract. Serializing our own plain data types cannot fail.
pub fn encode<T: Versioned>(value: &T) -> Vec<u8> {
    // serde_json only fails on maps with non-string keys or failing Serialize impls; ours have neither.
    serde_json::to_vec(value).expect("contract types always serialize")
}
