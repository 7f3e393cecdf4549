//! Objects and inventories in S3.

use crate::error::{port_error, ServiceError};
use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ServerSideEncryption};
use dbadmin_contracts::InventoryDocument;
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
        // Never "absent": without s3:ListBucket on the key's prefix S3 answers 403 for a missing key
        // too, so the refusal says both.
        Err(e) if status(&e) == Some(403) => Err(denied(
            "s3:GetObject",
            bucket,
            key,
            " (S3 also answers 403 for a key that does not exist when s3:ListBucket is not granted on its prefix)",
            e,
        )),
        Err(e) => Err(port_error(format!("get s3://{bucket}/{key}"), e)),
    }
}

/// S3 refused `action` on `s3://bucket/key`: an AccessDenied naming the action and the object.
fn denied<E>(
    action: &str,
    bucket: &str,
    key: &str,
    note: &str,
    err: aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let said = err.as_service_error().and_then(|se| se.message()).map(|m| format!(": {m}")).unwrap_or_default();
    PortError::permanent(
        format!("{action} s3://{bucket}/{key}"),
        ServiceError {
            code: "AccessDenied".to_owned(),
            message: format!("access denied{note}{said}"),
            inner: Box::new(err),
        },
    )
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
            Err(e) if status(&e) == Some(403) => Err(denied("s3:PutObject", &self.bucket, key, "", e)),
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
/// Inventories on AWS: an `s3://bucket/key` CSV, an `ssm:/name` parameter holding the CSV, or
/// every parameter under `ssm:/path/` (trailing slash), one database each as a JSON object.
pub struct S3Inventory {
    client: aws_sdk_s3::Client,
    ssm: Option<aws_sdk_ssm::Client>,
}

impl S3Inventory {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        S3Inventory { client, ssm: None }
    }

    /// Also reads `ssm:` inventories from Parameter Store.
    pub fn with_ssm(self, ssm: aws_sdk_ssm::Client) -> Self {
        S3Inventory { ssm: Some(ssm), ..self }
    }

    async fn parameters(&self, ssm: &aws_sdk_ssm::Client, path: &str) -> Result<InventoryDocument, PortError> {
        if let Some(prefix) = path.strip_suffix('/').filter(|_| path.len() > 1) {
            let prefix = if prefix.is_empty() { "/" } else { prefix };
            let mut parameters = crate::rds::all_pages(|token| async move {
                let out = ssm
                    .get_parameters_by_path()
                    .path(prefix)
                    .recursive(true)
                    .with_decryption(true)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| crate::error::port_error("ssm:GetParametersByPath", e))?;
                let next = out.next_token().map(str::to_owned);
                let page: Vec<(String, String)> = out
                    .parameters
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| (p.name.unwrap_or_default(), p.value.unwrap_or_default()))
                    .collect();
                Ok((page, next))
            })
            .await?;
            parameters.sort();
            return Ok(InventoryDocument::Parameters(parameters));
        }
        let out = ssm.get_parameter().name(path).with_decryption(true).send().await.map_err(|e| {
            if crate::error::code(&e) == Some("ParameterNotFound") {
                PortError::NotFound { what: format!("inventory parameter {path}") }
            } else {
                crate::error::port_error("ssm:GetParameter", e)
            }
        })?;
        let value = out.parameter.and_then(|p| p.value).unwrap_or_default();
        Ok(InventoryDocument::Csv(value.into_bytes()))
    }
}

#[async_trait]
impl InventorySource for S3Inventory {
    async fn fetch(&self, source: &str) -> Result<InventoryDocument, PortError> {
        if let Some(path) = source.strip_prefix("ssm:") {
            let ssm = self.ssm.as_ref().ok_or_else(|| {
                PortError::permanent("read inventory", "this process reads no Parameter Store inventories")
            })?;
            if !path.starts_with('/') {
                return Err(PortError::permanent(
                    "read inventory",
                    format!("'{source}' is not ssm:/parameter/name (or ssm:/path/ for one parameter per database)"),
                ));
            }
            return self.parameters(ssm, path).await;
        }
        let (bucket, key) = parse_s3_uri(source).ok_or_else(|| {
            PortError::permanent("read inventory", format!("'{source}' is not an s3://bucket/key URI or an ssm: path"))
        })?;
        let bytes = get(&self.client, bucket, key)
            .await?
            .ok_or_else(|| PortError::NotFound { what: format!("object {source}") })?;
        Ok(InventoryDocument::Csv(bytes))
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Answers every request on a local port with one recorded S3 response (status and XML body).
    async fn recorded(status: &'static str, code: &'static str, message: &'static str) -> aws_sdk_s3::Client {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = vec![0u8; 16384];
                let _ = socket.read(&mut request).await;
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>\
                     <RequestId>4442587FB7D0A2F9</RequestId><HostId>x</HostId></Error>"
                );
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nx-amz-request-id: 4442587FB7D0A2F9\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new("AKID", "secret", None, None, "test"))
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Real S3 answers 403 AccessDenied (not 404) for a key that does not exist when the caller may
    /// not list its prefix; MiniStack answers 404 either way, so this is S3's recorded answer. It is
    /// never taken for "absent": the error names the action and the object.
    #[tokio::test]
    async fn a_403_for_a_missing_key_is_access_denied_never_absent() {
        let client = recorded("403 Forbidden", "AccessDenied", "Access Denied").await;
        let err = super::get(&client, "evidence", "runs/R/population.json").await.unwrap_err();
        let text = dbadmin_ports::error_chain(&err);
        assert!(text.contains("s3:GetObject s3://evidence/runs/R/population.json"), "{text}");
        assert!(text.contains("access denied") && text.contains("s3:ListBucket"), "{text}");
        let absent = recorded("404 Not Found", "NoSuchKey", "The specified key does not exist.").await;
        assert_eq!(super::get(&absent, "evidence", "runs/R/population.json").await.unwrap(), None);
    }

    #[test]
    fn s3_uris() {
        assert_eq!(super::parse_s3_uri("s3://b/k/x.csv"), Some(("b", "k/x.csv")));
        assert_eq!(super::parse_s3_uri("s3://b/"), None);
        assert_eq!(super::parse_s3_uri("/tmp/x"), None);
    }
}
