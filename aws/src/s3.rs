//! Objects and inventories in S3.

use crate::error::port_error;
use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ServerSideEncryption};
use dbadmin_ports::{InventorySource, ObjectStore, PortError, Stored};

/// The results/reports bucket.
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    kms_key_id: Option<String>,
}

impl S3Store {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, kms_key_id: Option<String>) -> Self {
        S3Store { client, bucket: bucket.into(), kms_key_id }
    }
}

async fn get(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, PortError> {
    match client.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let bytes =
                out.body.collect().await.map_err(|e| PortError::transient(format!("read s3://{bucket}/{key}"), e))?;
            Ok(Some(bytes.into_bytes().to_vec()))
        }
        Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => Ok(None),
        Err(e) => Err(port_error(format!("get s3://{bucket}/{key}"), e)),
    }
}

fn status<E>(e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<Stored, PortError> {
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            // Write once: S3 refuses the put (412) when an object has the key.
            .if_none_match("*")
            .content_type(content_type)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .body(ByteStream::from(body));
        if let Some(kms) = &self.kms_key_id {
            req = req.server_side_encryption(ServerSideEncryption::AwsKms).ssekms_key_id(kms);
        }
        match req.send().await {
            Ok(_) => Ok(Stored::Created),
            // 412: an object has the key.
            Err(e) if status(&e) == Some(412) => Ok(Stored::Existed),
            // 409: a concurrent conditional put of the same key is in flight; asking again settles it.
            Err(e) if status(&e) == Some(409) => {
                Err(PortError::transient(format!("put s3://{}/{key}", self.bucket), e))
            }
            Err(e) => Err(port_error(format!("put s3://{}/{key}", self.bucket), e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        get(&self.client, &self.bucket, key).await
    }

    fn location(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// Splits `s3://bucket/key`.
pub fn parse_s3_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// Inventories named by `s3://bucket/key`.
pub struct S3Inventory {
    client: aws_sdk_s3::Client,
}

impl S3Inventory {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        S3Inventory { client }
    }
}

#[async_trait]
impl InventorySource for S3Inventory {
    async fn fetch(&self, source: &str) -> Result<Vec<u8>, PortError> {
        let (bucket, key) = parse_s3_uri(source).ok_or_else(|| {
            PortError::permanent("read inventory", format!("'{source}' is not an s3://bucket/key URI"))
        })?;
        get(&self.client, bucket, key).await?.ok_or_else(|| PortError::NotFound { what: format!("inventory {source}") })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn s3_uris() {
        assert_eq!(super::parse_s3_uri("s3://b/k/x.csv"), Some(("b", "k/x.csv")));
        assert_eq!(super::parse_s3_uri("s3://b/"), None);
        assert_eq!(super::parse_s3_uri("/tmp/x"), None);
    }
}
