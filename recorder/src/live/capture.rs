//! SDK interceptors: the read-only guard and the raw-response capture.

use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
    BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// Whether the collector may issue this operation: it only ever reads. Besides Describe*,
/// List* and Get*: FilterLogEvents, Logs Insights' StartQuery (a query reads; it is billed by
/// the data it scans) and StopQuery (which ends only a query the collector started), and
/// CloudTrail's LookupEvents.
pub fn is_read_only(operation: &str) -> bool {
    ["Describe", "List", "Get"]
        .iter()
        .any(|prefix| operation.starts_with(prefix))
        || matches!(
            operation,
            "FilterLogEvents" | "StartQuery" | "StopQuery" | "LookupEvents"
        )
}

/// Refuses, before anything is sent, every operation that is not read-only.
/// Registered on every client the collector builds, so a write cannot slip in by mistake.
#[derive(Debug, Clone, Default)]
pub struct ReadOnlyGuard;

impl Intercept for ReadOnlyGuard {
    fn name(&self) -> &'static str {
        "ecs-autopsy read-only guard"
    }

    // Not `read_before_execution`: for client-level interceptors that hook runs before the
    // operation's configuration (which names the operation) is in the bag. Serialization comes
    // after it and still before anything is sent.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else {
            return Err("ecs-autopsy is read-only: refusing an operation it cannot name".into());
        };
        if is_read_only(metadata.name()) {
            Ok(())
        } else {
            Err(format!(
                "ecs-autopsy is read-only: refusing to call {} {}",
                metadata.service(),
                metadata.name()
            )
            .into())
        }
    }
}

/// The raw bytes of one logical call's last attempt.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    pub status: u16,
    pub request_body: Option<Vec<u8>>,
    pub response_body: Vec<u8>,
    /// Attempts of this invocation that AWS throttled (and the SDK retried, or gave up on).
    pub throttled_attempts: usize,
}

/// Whether an attempt's response is a throttling error: `ThrottlingException` (JSON
/// protocols), `Throttling` (ELBv2's XML), or HTTP 429.
fn is_throttled(status: u16, body: &[u8]) -> bool {
    status == 429 || (status >= 400 && memchr::memmem::find(body, b"Throttling").is_some())
}

/// Captures the raw request and response bodies of one operation invocation.
///
/// `read_after_deserialization` runs once per attempt, and the body is fully read by then;
/// each attempt overwrites the previous one, so what remains is the attempt that counted.
#[derive(Debug, Clone, Default)]
pub struct Capture(Arc<Mutex<Option<Captured>>>);

#[derive(Debug, Clone)]
struct StashedRequestBody(Vec<u8>);

impl Storable for StashedRequestBody {
    type Storer = StoreReplace<Self>;
}

impl Capture {
    pub fn take(&self) -> Option<Captured> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl Intercept for Capture {
    fn name(&self) -> &'static str {
        "ecs-autopsy raw capture"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(bytes) = context.request().body().bytes() {
            cfg.interceptor_state()
                .store_put(StashedRequestBody(bytes.to_vec()));
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let status = response.status().as_u16();
        let response_body = response
            .body()
            .bytes()
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let before = slot.as_ref().map_or(0, |c| c.throttled_attempts);
        let throttled_attempts = before + usize::from(is_throttled(status, &response_body));
        *slot = Some(Captured {
            status,
            request_body: cfg.load::<StashedRequestBody>().map(|b| b.0.clone()),
            response_body,
            throttled_attempts,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list() {
        for allowed in [
            "DescribeTasks",
            "ListTasks",
            "GetLogEvents",
            "FilterLogEvents",
            "DescribeTargetHealth",
            "ListServiceDeployments",
            "DescribeServiceDeployments",
            "DescribeServiceRevisions",
            "GetTaskProtection",
        ] {
            assert!(is_read_only(allowed), "{allowed}");
        }
        for refused in [
            "StopTask",
            "UpdateService",
            "RunTask",
            "PutLogEvents",
            "DeleteService",
            "CreateCluster",
            "TagResource",
            "StopServiceDeployment",
            "ContinueServiceDeployment",
            "UpdateTaskProtection",
        ] {
            assert!(!is_read_only(refused), "{refused}");
        }
    }
}
