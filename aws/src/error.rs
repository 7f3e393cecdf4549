//! SDK errors to port errors, keeping the cause and whether a retry may help.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use dbadmin_ports::PortError;

/// Service error codes worth retrying.
const TRANSIENT_CODES: [&str; 10] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "TooManyRequestsException",
    "InternalError",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
];

/// Whether an SDK error is worth retrying: time-outs, I/O and throttling or server-side failures.
pub fn is_transient<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(se) => {
            se.err().code().is_some_and(|c| TRANSIENT_CODES.contains(&c) || c.starts_with("SlowDown"))
        }
        _ => false,
    }
}

/// The service's error code, when it sent one.
pub fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    }
}

/// Converts an SDK error into a port error that names the operation.
pub fn port_error<E, R>(operation: impl Into<String>, err: SdkError<E, R>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let operation = operation.into();
    let transient = is_transient(&err);
    let source: Box<dyn std::error::Error + Send + Sync> = match &err {
        // A service error's own text is only "service error": say the service's code and message.
        SdkError::ServiceError(se) => Box::new(ServiceError {
            code: se.err().code().unwrap_or("error").to_owned(),
            message: se.err().message().unwrap_or("").to_owned(),
            inner: Box::new(err),
        }),
        _ => Box::new(err),
    };
    if transient {
        PortError::transient(operation, source)
    } else {
        PortError::permanent(operation, source)
    }
}

/// An AWS service's answer, shown as `Code: message`. The SDK error stays inside (for `Debug` and
/// downcasting) but is not a cause of its own: its text repeats the code with request ids.
#[derive(Debug)]
pub struct ServiceError {
    pub code: String,
    pub message: String,
    pub inner: Box<dyn std::error::Error + Send + Sync>,
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ServiceError {}
