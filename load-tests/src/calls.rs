//! Counts AWS API calls as the SDK makes them: an interceptor every client of a
//! [`dbadmin_aws::Clients::intercepted`] runs once per operation (retries are attempts of the same
//! call, and billed as one here), keyed by service and operation.

use aws_sdk_s3::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// `(service, operation)` → calls.
pub type Calls = BTreeMap<(String, String), u64>;

#[derive(Debug, Default, Clone)]
pub struct CallCounter(Arc<Mutex<Calls>>);

impl CallCounter {
    /// The interceptor to give [`dbadmin_aws::Clients::intercepted`].
    pub fn interceptor(&self) -> SharedInterceptor {
        SharedInterceptor::new(self.clone())
    }

    pub fn snapshot(&self) -> Calls {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    // Once per call, after the operation's configuration (which names it) is in the bag.
    fn read_before_serialization(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let (service, operation) = cfg.load::<Metadata>().map_or_else(
            || ("unknown".to_owned(), "unknown".to_owned()),
            |m| (m.service().to_owned(), m.name().to_owned()),
        );
        *self.0.lock().unwrap_or_else(|p| p.into_inner()).entry((service, operation)).or_default() += 1;
        Ok(())
    }
}

/// The calls made between two snapshots.
pub fn since(before: &Calls, after: &Calls) -> Calls {
    after.iter().map(|(k, n)| (k.clone(), n - before.get(k).copied().unwrap_or(0))).filter(|(_, n)| *n > 0).collect()
}

/// Whether AWS bills the call per request (STS is free; everything else this tool calls is billed).
pub fn billed(service: &str) -> bool {
    !service.eq_ignore_ascii_case("sts")
}
