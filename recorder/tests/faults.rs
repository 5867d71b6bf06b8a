//! The real collector and the real AWS SDK against canned HTTP responses, for the faults an
//! emulator cannot produce: throttling, server errors, AccessDenied, timeouts. The canned
//! responses come from a fixture bundle, so a whole incident can be "collected" offline.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use recorder::Bundle;
use recorder::live::{Options, collect};
use serde_json::Value;

/// `(operation, text the request body must contain, reply)`, served once, in order.
type Fault = (String, Option<String>, Reply);

#[derive(Debug, Clone)]
enum Reply {
    Answer(u16, String),
    Hang,
}

/// Serves a bundle's responses: by operation (from `x-amz-target`), choosing the recorded call
/// whose request values all appear in the request body. `faults` are served first, per
/// operation, in order.
#[derive(Debug, Clone)]
struct FixtureClient {
    calls: Arc<Vec<(String, Vec<String>, String)>>,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    requests: Arc<Mutex<BTreeMap<String, usize>>>,
}

fn string_leaves(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| string_leaves(v, out)),
        Value::Object(map) => map.values().for_each(|v| string_leaves(v, out)),
        _ => {}
    }
}

impl FixtureClient {
    fn from_bundle(bundle: &Bundle) -> FixtureClient {
        let calls = bundle
            .calls
            .iter()
            .filter_map(|call| {
                let response = call.response.as_ref()?.get().to_owned();
                let mut leaves = Vec::new();
                string_leaves(&call.request, &mut leaves);
                Some((call.operation.clone(), leaves, response))
            })
            .collect();
        FixtureClient {
            calls: Arc::new(calls),
            faults: Arc::default(),
            requests: Arc::default(),
        }
    }

    fn fault(self, operation: &str, replies: &[Reply]) -> FixtureClient {
        let mut faults = self.faults.lock().expect("lock");
        faults.extend(
            replies
                .iter()
                .map(|reply| (operation.to_owned(), None, reply.clone())),
        );
        drop(faults);
        self
    }

    /// Serves `reply` once, to the first `operation` request whose body contains `needle`.
    fn fault_when(self, operation: &str, needle: &str, reply: Reply) -> FixtureClient {
        let mut faults = self.faults.lock().expect("lock");
        faults.push_back((operation.to_owned(), Some(needle.to_owned()), reply));
        drop(faults);
        self
    }

    fn requests(&self, operation: &str) -> usize {
        self.requests
            .lock()
            .expect("lock")
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    fn reply(&self, operation: &str, body: &str) -> Reply {
        *self
            .requests
            .lock()
            .expect("lock")
            .entry(operation.to_owned())
            .or_default() += 1;
        let mut faults = self.faults.lock().expect("lock");
        let due = faults.iter().position(|(op, needle, _)| {
            op == operation && needle.as_deref().is_none_or(|needle| body.contains(needle))
        });
        if let Some((_, _, reply)) = due.and_then(|index| faults.remove(index)) {
            return reply;
        }
        drop(faults);
        // A leaf may hold quotes or line breaks (a Logs Insights query), escaped in the body.
        let mut body_leaves = Vec::new();
        if let Ok(value) = serde_json::from_str::<Value>(body) {
            string_leaves(&value, &mut body_leaves);
        }
        let found =
            self.calls
                .iter()
                .filter(|(op, _, _)| op == operation)
                .find(|(_, leaves, _)| {
                    leaves
                        .iter()
                        .all(|leaf| body.contains(leaf.as_str()) || body_leaves.contains(leaf))
                });
        match (found, operation) {
            (Some((_, _, response)), _) => Reply::Answer(200, response.clone()),
            (None, "ListTasks") => Reply::Answer(200, r#"{"taskArns": []}"#.to_owned()),
            // A bundle recorded before the deployment record was collected: no deployments.
            (None, "ListServiceDeployments") => {
                Reply::Answer(200, r#"{"serviceDeployments": []}"#.to_owned())
            }
            (None, _) => Reply::Answer(
                400,
                format!(
                    r#"{{"__type": "ClientException", "message": "no {operation} response for this request in the test fixture"}}"#
                ),
            ),
        }
    }
}

impl HttpConnector for FixtureClient {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = request
            .headers()
            .get("x-amz-target")
            .and_then(|target| target.rsplit('.').next())
            .unwrap_or_default()
            .to_owned();
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        match self.reply(&operation, &body) {
            Reply::Hang => HttpConnectorFuture::new(std::future::pending()),
            Reply::Answer(status, body) => {
                let status = StatusCode::try_from(status).expect("valid status");
                let mut response = HttpResponse::new(status, SdkBody::from(body));
                response
                    .headers_mut()
                    .insert("content-type", "application/x-amz-json-1.1");
                HttpConnectorFuture::ready(Ok(response))
            }
        }
    }
}

impl HttpClient for FixtureClient {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

fn fixture(case: &str) -> Bundle {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(case)
        .join("bundle.json");
    Bundle::read(&path).expect("fixture loads")
}

async fn sdk(client: &FixtureClient, max_attempts: u32) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "AKID", "SECRET", None, None, "test",
        ))
        .http_client(client.clone())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(max_attempts)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(20)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(300))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .load()
        .await
}

fn options(service: &str) -> Options {
    Options {
        cluster: "prod".to_owned(),
        services: vec![service.to_owned()],
        services_matching: None,
        tasks: Vec::new(),
        stopped_after: None,
        max_stopped_tasks: 100,
        log_lines: 200,
        concurrency: 8,
        rates: std::collections::BTreeMap::new(),
        // The fixtures hold one GetLogEvents read per stream; batching has its own test.
        batch_logs: false,
        // The Logs Insights and CloudTrail calls have their own tests.
        queries: false,
    }
}

/// Collects service `api` of cluster `prod` through `client`, the SDK retrying `max_attempts` times.
async fn collect_api(client: &FixtureClient, max_attempts: u32) -> Bundle {
    collect(
        &sdk(client, max_attempts).await,
        &options("api"),
        "t".to_owned(),
        None,
    )
    .await
}

fn calls_of<'a>(bundle: &'a Bundle, operation: &str) -> Vec<&'a recorder::Call> {
    bundle
        .calls
        .iter()
        .filter(|c| c.operation == operation)
        .collect()
}

#[tokio::test]
async fn collects_a_whole_incident_through_the_sdk() {
    let original = fixture("app-missing-config/dropped-env-var");
    let client = FixtureClient::from_bundle(&original);
    let bundle = collect(
        &sdk(&client, 3).await,
        &options("api"),
        "2026-11-24T10:00:00.000Z".to_owned(),
        None,
    )
    .await;

    let ops: Vec<(&str, bool)> = bundle
        .calls
        .iter()
        .map(|c| (c.operation.as_str(), c.error.is_none()))
        .collect();
    assert_eq!(
        ops,
        [
            ("DescribeTasks", true),
            ("DescribeServices", true),
            ("DescribeTaskDefinition", true),
            ("DescribeTaskDefinition", true),
            ("ListTasks", true),
            ("ListTasks", true),
            ("GetLogEvents", true),
            ("ListServiceDeployments", true),
        ]
    );
    // The request is what was sent, in the API's spelling.
    let logs = calls_of(&bundle, "GetLogEvents")[0];
    assert_eq!(
        logs.request["logStreamName"],
        "ecs/api/5f1c2e7a0b9d4e8f9a1b2c3d4e5f6a7b"
    );
    assert_eq!(logs.request["startFromHead"], false);
    assert_eq!(bundle.manifest.account.as_deref(), Some("123456789012"));
    assert_eq!(bundle.manifest.region.as_deref(), Some("eu-west-1"));
    // Same responses, same canonical bundle however the calls interleaved.
    let again = collect(
        &sdk(&client, 3).await,
        &options("api"),
        "2026-11-24T10:00:00.000Z".to_owned(),
        None,
    )
    .await;
    assert_eq!(bundle.to_canonical_json(), again.to_canonical_json());
}

#[tokio::test]
async fn throttling_then_success_records_one_successful_call() {
    let throttled = Reply::Answer(
        400,
        r#"{"__type": "ThrottlingException", "message": "Rate exceeded"}"#.to_owned(),
    );
    let client = FixtureClient::from_bundle(&fixture("app-missing-config/dropped-env-var"))
        .fault("DescribeServices", &[throttled.clone(), throttled]);
    // The progress line counts the throttled attempts.
    let seen: Arc<Mutex<Vec<(String, usize)>>> = Arc::default();
    let observer: recorder::live::CallObserver = {
        let seen = Arc::clone(&seen);
        Arc::new(move |event: &recorder::live::CallEvent| {
            if event.finished {
                seen.lock()
                    .expect("observer lock")
                    .push((event.operation.name().to_owned(), event.throttled));
            }
        })
    };
    let bundle = collect(
        &sdk(&client, 3).await,
        &options("api"),
        "t".to_owned(),
        Some(observer),
    )
    .await;
    assert_eq!(
        client.requests("DescribeServices"),
        3,
        "two throttled attempts, then success"
    );
    let retried_calls: Vec<(String, usize)> = seen
        .lock()
        .expect("observer lock")
        .iter()
        .filter(|(_, n)| *n > 0)
        .cloned()
        .collect();
    assert_eq!(retried_calls, [("DescribeServices".to_owned(), 2)]);
    let services = calls_of(&bundle, "DescribeServices");
    assert_eq!(
        services.len(),
        1,
        "one record per logical call, not per attempt"
    );
    assert!(services[0].error.is_none() && services[0].response.is_some());
}

#[tokio::test]
async fn server_errors_are_retried() {
    let broken = Reply::Answer(
        500,
        r#"{"__type": "ServerException", "message": "Service unavailable"}"#.to_owned(),
    );
    let client = FixtureClient::from_bundle(&fixture("app-missing-config/dropped-env-var"))
        .fault("DescribeTasks", &[broken]);
    let bundle = collect_api(&client, 3).await;
    assert_eq!(client.requests("DescribeTasks"), 2);
    assert!(calls_of(&bundle, "DescribeTasks")[0].error.is_none());
}

#[tokio::test]
async fn throttling_that_never_ends_is_recorded_as_an_error() {
    let throttled = Reply::Answer(
        400,
        r#"{"__type": "ThrottlingException", "message": "Rate exceeded"}"#.to_owned(),
    );
    let client = FixtureClient::from_bundle(&fixture("app-missing-config/dropped-env-var")).fault(
        "DescribeServices",
        &[throttled.clone(), throttled.clone(), throttled],
    );
    let bundle = collect_api(&client, 3).await;
    let services = calls_of(&bundle, "DescribeServices");
    let error = services[0].error.as_ref().expect("recorded as an error");
    assert_eq!(
        (error.code.as_str(), error.message.as_str()),
        ("ThrottlingException", "Rate exceeded")
    );
    // Everything else was still collected.
    assert!(calls_of(&bundle, "DescribeTasks")[0].error.is_none());
}

#[tokio::test]
async fn access_denied_on_logs_is_recorded_and_the_rest_collected() {
    let denied = Reply::Answer(
        400,
        r#"{"__type": "AccessDeniedException", "message": "User: arn:aws:sts::123456789012:assumed-role/oncall/jane is not authorized to perform: logs:GetLogEvents"}"#.to_owned(),
    );
    let client = FixtureClient::from_bundle(&fixture("app-missing-config/dropped-env-var"))
        .fault("GetLogEvents", &[denied]);
    let bundle = collect_api(&client, 3).await;
    assert_eq!(
        client.requests("GetLogEvents"),
        1,
        "AccessDenied is not retried"
    );
    let logs = calls_of(&bundle, "GetLogEvents");
    let error = logs[0].error.as_ref().expect("recorded as an error");
    assert_eq!(error.code, "AccessDeniedException");
    assert_eq!(logs[0].request["logGroupName"], "/ecs/api");
    assert_eq!(calls_of(&bundle, "DescribeTaskDefinition").len(), 2);
}

/// With the clock paused, tokio moves time forward only when every task waits on a timer, so
/// the time measured is the timeouts' and back-offs', not the machine's speed.
#[tokio::test(start_paused = true)]
async fn a_call_that_hangs_times_out_without_stalling_the_others() {
    let client = FixtureClient::from_bundle(&fixture("app-missing-config/dropped-env-var"))
        .fault("GetLogEvents", &[Reply::Hang, Reply::Hang]);
    let started = tokio::time::Instant::now();
    let bundle = collect_api(&client, 2).await;
    let error = calls_of(&bundle, "GetLogEvents")[0]
        .error
        .clone()
        .expect("timed out");
    assert_eq!(error.code, "TimeoutError");
    assert_eq!(
        client.requests("GetLogEvents"),
        2,
        "one retry after the first attempt timed out"
    );
    // Two attempts of 300 ms and a back-off of at most 20 ms: the others did not wait for it.
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?} of virtual time",
        started.elapsed()
    );
    assert!(calls_of(&bundle, "DescribeTasks")[0].error.is_none());
}

#[tokio::test]
async fn stopped_tasks_are_listed_across_pages() {
    let original = fixture("app-missing-config/dropped-env-var");
    let listed = "arn:aws:ecs:eu-west-1:123456789012:task/prod/5f1c2e7a0b9d4e8f9a1b2c3d4e5f6a7b";
    let second = "arn:aws:ecs:eu-west-1:123456789012:task/prod/0000000000000000000000000000beef";
    let client = FixtureClient::from_bundle(&original)
        .fault_when(
            "ListTasks",
            "STOPPED",
            Reply::Answer(
                200,
                format!(r#"{{"taskArns": ["{listed}"], "nextToken": "page-2"}}"#),
            ),
        )
        .fault_when(
            "ListTasks",
            "page-2",
            Reply::Answer(200, format!(r#"{{"taskArns": ["{second}"]}}"#)),
        );
    let bundle = collect_api(&client, 3).await;
    let listings = calls_of(&bundle, "ListTasks");
    assert_eq!(
        listings.len(),
        3,
        "two pages of stopped tasks and one of running tasks"
    );
    assert!(listings.iter().any(|c| c.request["nextToken"] == "page-2"));
    let described = &calls_of(&bundle, "DescribeTasks")[0].request["tasks"];
    assert_eq!(
        described,
        &serde_json::json!([listed, second]),
        "both pages are described"
    );
}

/// A role without `logs:FilterLogEvents` still gets the logs: the batch is denied, recorded as
/// such, and each stream is read alone with GetLogEvents.
#[tokio::test]
async fn a_denied_batch_read_falls_back_to_one_read_per_stream() {
    let denied = Reply::Answer(
        400,
        r#"{"__type": "AccessDeniedException", "message": "User: arn:aws:sts::123456789012:assumed-role/reader/x is not authorized to perform: logs:FilterLogEvents"}"#
            .to_owned(),
    );
    let client = FixtureClient::from_bundle(&fixture("app-missing-config/dropped-env-var"))
        .fault("FilterLogEvents", &[denied]);
    let mut batched = options("api");
    batched.batch_logs = true;
    let bundle = collect(&sdk(&client, 3).await, &batched, "t".to_owned(), None).await;
    let filters = calls_of(&bundle, "FilterLogEvents");
    assert_eq!(filters.len(), 1);
    assert_eq!(
        filters[0].error.as_ref().map(|e| e.code.as_str()),
        Some("AccessDeniedException")
    );
    let tails = calls_of(&bundle, "GetLogEvents");
    assert_eq!(tails.len(), 1);
    assert!(tails[0].error.is_none());
}

/// An AWS-authored response from `recorder/tests/data/service-deployments/`.
fn aws_example(name: &str) -> Box<serde_json::value::RawValue> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/service-deployments")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("example exists");
    serde_json::value::RawValue::from_string(text).expect("example is JSON")
}

const DEPLOYMENT: &str = "arn:aws:ecs:us-east-1:123456789012:service-deployment/example-cluster/example-service/ejGvqq2ilnbKT9qj0vLJe";
const REVISION: &str = "arn:aws:ecs:us-east-1:123456789012:service-revision/example-cluster/example-service/1485800978477494678";

/// The incident of `app-missing-config/dropped-env-var`, with the deployment record AWS's
/// own examples show: one deployment, its target revision.
fn with_deployment_record() -> Bundle {
    let mut bundle = fixture("app-missing-config/dropped-env-var");
    let call = |operation, request: Value, name| {
        recorder::Call::new(operation, request, aws_example(name)).expect("example fits")
    };
    bundle.calls.extend([
        call(
            recorder::Operation::ListServiceDeployments,
            serde_json::json!({"cluster": "prod", "service": "api"}),
            "list-service-deployments",
        ),
        call(
            recorder::Operation::DescribeServiceDeployments,
            serde_json::json!({"serviceDeploymentArns": [DEPLOYMENT]}),
            "describe-service-deployments",
        ),
        call(
            recorder::Operation::DescribeServiceRevisions,
            serde_json::json!({"serviceRevisionArns": [REVISION]}),
            "describe-service-revisions",
        ),
    ]);
    bundle
}

/// ListServiceDeployments documents no order: every page of the week before the recording is
/// read, and the newest deployments (by `createdAt`) are the ones described, newest first.
#[tokio::test]
async fn every_page_of_the_recent_deployments_is_read_and_the_newest_described() {
    let older = "arn:aws:ecs:us-east-1:123456789012:service-deployment/example-cluster/example-service/older";
    let newer = "arn:aws:ecs:us-east-1:123456789012:service-deployment/example-cluster/example-service/newer";
    let brief = |arn: &str, created: f64| {
        serde_json::json!({
            "serviceDeploymentArn": arn,
            "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/example-cluster/example-service",
            "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/example-cluster",
            "createdAt": created,
            "status": "SUCCESSFUL"
        })
    };
    let raw =
        |value: Value| serde_json::value::RawValue::from_string(value.to_string()).expect("JSON");
    let mut bundle = fixture("app-missing-config/dropped-env-var");
    // The second page first: the fixture client answers with the first recorded call whose
    // request strings the request holds, and only the second page's request has the token.
    bundle.calls.extend([
        recorder::Call::new(
            recorder::Operation::ListServiceDeployments,
            serde_json::json!({"cluster": "prod", "service": "api", "nextToken": "page-2"}),
            raw(serde_json::json!({"serviceDeployments": [brief(newer, 1_795_500_000.0)]})),
        )
        .expect("call"),
        recorder::Call::new(
            recorder::Operation::ListServiceDeployments,
            serde_json::json!({"cluster": "prod", "service": "api"}),
            raw(serde_json::json!({
                "serviceDeployments": [brief(older, 1_795_000_000.0)],
                "nextToken": "page-2"
            })),
        )
        .expect("call"),
    ]);
    let client = FixtureClient::from_bundle(&bundle);
    let recorded = collect(
        &sdk(&client, 3).await,
        &options("api"),
        "2026-11-24T10:00:00.000Z".to_owned(),
        None,
    )
    .await;

    let listed = calls_of(&recorded, "ListServiceDeployments");
    assert_eq!(listed.len(), 2, "both pages");
    assert!(listed.iter().all(|call| call.error.is_none()));
    let mut tokens: Vec<Option<&str>> = listed
        .iter()
        .map(|call| call.request.get("nextToken").and_then(Value::as_str))
        .collect();
    tokens.sort_unstable();
    assert_eq!(tokens, [None, Some("page-2")]);
    // Only the week before the recording (2026-11-24T10:00:00Z), on every page.
    for call in &listed {
        let after = call.request["createdAt"]["after"]
            .as_f64()
            .expect("createdAt.after, epoch seconds");
        assert!(
            (after - (1_795_514_400.0 - 7.0 * 86_400.0)).abs() < 1e-3,
            "{after}"
        );
        assert_eq!(call.request["maxResults"], 100);
    }
    // Both described in one call, the newest first, whatever order the pages gave.
    let described = calls_of(&recorded, "DescribeServiceDeployments");
    assert_eq!(described.len(), 1);
    assert_eq!(
        described[0].request["serviceDeploymentArns"],
        serde_json::json!([newer, older])
    );
}

#[tokio::test]
async fn the_deployment_record_is_collected_through_the_sdk() {
    let client = FixtureClient::from_bundle(&with_deployment_record());
    let bundle = collect_api(&client, 3).await;

    let listed = calls_of(&bundle, "ListServiceDeployments");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].error.is_none(), "{:?}", listed[0].error);
    assert_eq!(listed[0].request["cluster"], "prod");
    assert_eq!(listed[0].request["service"], "api");
    // Every listed deployment is described, and the latest one's revisions too.
    let described = calls_of(&bundle, "DescribeServiceDeployments");
    assert_eq!(described.len(), 1);
    assert_eq!(
        described[0].request["serviceDeploymentArns"],
        serde_json::json!([DEPLOYMENT])
    );
    let recorder::bundle::Response::DescribeServiceDeployments(response) =
        described[0].parsed.as_ref()
    else {
        panic!("typed as DescribeServiceDeployments");
    };
    let deployment = &response.service_deployments[0];
    assert_eq!(deployment.status.as_deref(), Some("SUCCESSFUL"));
    assert_eq!(deployment.service_name(), Some("example-service"));
    assert_eq!(
        deployment
            .deployment_circuit_breaker
            .as_ref()
            .and_then(|b| b.threshold),
        Some(3)
    );
    let revisions = calls_of(&bundle, "DescribeServiceRevisions");
    assert_eq!(revisions.len(), 1);
    assert_eq!(
        revisions[0].request["serviceRevisionArns"],
        serde_json::json!([REVISION])
    );
    let recorder::bundle::Response::DescribeServiceRevisions(response) =
        revisions[0].parsed.as_ref()
    else {
        panic!("typed as DescribeServiceRevisions");
    };
    let images = &response.service_revisions[0].container_images;
    assert_eq!(images[1].container_name.as_deref(), Some("web"));
    assert!(
        images[1]
            .image_digest
            .as_deref()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    // No event says protected tasks block a scale-in: no protection is asked for.
    assert!(calls_of(&bundle, "GetTaskProtection").is_empty());
}

#[tokio::test]
async fn a_denied_deployment_record_is_recorded_and_the_rest_collected() {
    let denied = Reply::Answer(
        400,
        r#"{"__type": "AccessDeniedException", "message": "User: arn:aws:sts::123456789012:assumed-role/oncall/jane is not authorized to perform: ecs:ListServiceDeployments"}"#.to_owned(),
    );
    let client = FixtureClient::from_bundle(&with_deployment_record())
        .fault("ListServiceDeployments", &[denied]);
    let bundle = collect_api(&client, 3).await;
    let listed = calls_of(&bundle, "ListServiceDeployments");
    let error = listed[0].error.as_ref().expect("recorded as an error");
    assert_eq!(error.code, "AccessDeniedException");
    assert!(calls_of(&bundle, "DescribeServiceDeployments").is_empty());
    assert_eq!(calls_of(&bundle, "DescribeTaskDefinition").len(), 2);
    assert_eq!(calls_of(&bundle, "GetLogEvents").len(), 1);
}

#[tokio::test]
async fn protected_tasks_are_read_when_events_say_they_block_a_scale_in() {
    let mut bundle = with_deployment_record();
    let running = "arn:aws:ecs:eu-west-1:123456789012:task/prod/0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    let stopped = "arn:aws:ecs:eu-west-1:123456789012:task/prod/5f1c2e7a0b9d4e8f9a1b2c3d4e5f6a7b";
    let mut calls = Vec::new();
    for call in &bundle.calls {
        let mut response: Value =
            serde_json::from_str(call.response.as_ref().expect("response").get()).expect("json");
        let mut request = call.request.clone();
        match call.operation.as_str() {
            // The event as AWS's documentation gives it (service-event-messages-list).
            "DescribeServices" => {
                response["services"][0]["events"]
                    .as_array_mut()
                    .expect("events")
                    .insert(0, serde_json::json!({
                        "id": "b2d8e2f4-0000-4000-8000-000000000001",
                        "createdAt": 1_794_646_800.0,
                        "message": "(service api) was unable to reach steady state because task set (ecs-svc/1234567890123456789) was unable to scale in. Reason: The number of protected tasks are more than the desired count of tasks"
                    }));
            }
            "DescribeTasks" => {
                let mut task = response["tasks"][0].clone();
                task["taskArn"] = Value::from(running);
                task["lastStatus"] = Value::from("RUNNING");
                task["desiredStatus"] = Value::from("RUNNING");
                for key in [
                    "stopCode",
                    "stoppedReason",
                    "stoppedAt",
                    "stoppingAt",
                    "executionStoppedAt",
                ] {
                    task.as_object_mut().expect("task").remove(key);
                }
                response["tasks"].as_array_mut().expect("tasks").push(task);
                request["tasks"] = serde_json::json!([stopped, running]);
            }
            _ => {}
        }
        calls.push(
            recorder::Call::new(
                call.known_operation().expect("known"),
                request,
                serde_json::value::to_raw_value(&response).expect("raw"),
            )
            .expect("fits"),
        );
    }
    calls.push(
        recorder::Call::new(
            recorder::Operation::ListTasks,
            serde_json::json!({"cluster": "prod", "desiredStatus": "RUNNING", "serviceName": "api"}),
            serde_json::value::to_raw_value(&serde_json::json!({"taskArns": [running]}))
                .expect("raw"),
        )
        .expect("fits"),
    );
    calls.push(
        recorder::Call::new(
            recorder::Operation::GetTaskProtection,
            serde_json::json!({"cluster": "prod", "tasks": [running]}),
            aws_example("get-task-protection"),
        )
        .expect("fits"),
    );
    bundle.calls = calls;
    let client = FixtureClient::from_bundle(&bundle);
    let collected = collect_api(&client, 3).await;
    let protection = calls_of(&collected, "GetTaskProtection");
    assert_eq!(protection.len(), 1, "one request for the one running task");
    assert!(protection[0].error.is_none(), "{:?}", protection[0].error);
    assert_eq!(protection[0].request["tasks"], serde_json::json!([running]));
    assert_eq!(protection[0].request["cluster"], "prod");
}

#[tokio::test]
async fn container_instances_are_described_with_their_health() {
    let client = FixtureClient::from_bundle(&fixture("host-disk-full/ec2-getimageblob-no-space"));
    let bundle = collect(
        &sdk(&client, 3).await,
        &options("reports"),
        "t".to_owned(),
        None,
    )
    .await;
    let described = calls_of(&bundle, "DescribeContainerInstances");
    assert_eq!(described.len(), 1);
    assert!(described[0].error.is_none(), "{:?}", described[0].error);
    assert_eq!(
        described[0].request["include"],
        serde_json::json!(["CONTAINER_INSTANCE_HEALTH"])
    );
}

/// The recording's options for one service with the Logs Insights queries and CloudTrail
/// lookups on.
fn with_queries(service: &str) -> Options {
    Options {
        queries: true,
        ..options(service)
    }
}

/// Collects `service` of cluster `prod` through `client` with the queries and lookups on, at the
/// fixtures' recording time.
async fn collect_with_queries(client: &FixtureClient, service: &str) -> Bundle {
    collect(
        &sdk(client, 3).await,
        &with_queries(service),
        "2026-11-24T10:00:00.000Z".to_owned(),
        None,
    )
    .await
}

/// The calls of these operations are as the fixture holds them, request and response: what the
/// recorder sends is exactly what the fixture was built with.
#[track_caller]
fn same_as_fixture(bundle: &Bundle, recorded: &Bundle, operations: &[&str]) {
    for operation in operations {
        assert_eq!(
            exchanges(bundle, operation),
            exchanges(recorded, operation),
            "{operation} as the fixture holds it"
        );
    }
}

/// The calls of `operation` in `bundle`, each as its request and response JSON.
fn exchanges(bundle: &Bundle, operation: &str) -> Vec<(Value, Option<Value>)> {
    calls_of(bundle, operation)
        .into_iter()
        .map(|call| {
            let response = call
                .response
                .as_ref()
                .and_then(|raw| serde_json::from_str(raw.get()).ok());
            (call.request.clone(), response)
        })
        .collect()
}

/// An OOM-killed task: the cluster's Container Insights setting, then one Logs Insights query
/// of its memory over its lifetime (a minute before, two after), polled to the end. What the
/// recorder sends is exactly what the fixture holds, so the fixture's report is what a live
/// recording of the same answers gives.
#[tokio::test]
async fn an_oom_killed_task_memory_is_queried_through_logs_insights() {
    let recorded = fixture("oom-container-limit/memory-leak");
    let client = FixtureClient::from_bundle(&recorded);
    let bundle = collect_with_queries(&client, "reports").await;
    same_as_fixture(
        &bundle,
        &recorded,
        &[
            "DescribeClusters",
            "StartQuery",
            "GetQueryResults",
            "LookupEvents",
        ],
    );
    let (start, _) = &exchanges(&bundle, "StartQuery")[0];
    assert_eq!(
        start["logGroupNames"][0],
        "/aws/ecs/containerinsights/prod/performance"
    );
    // Seconds, not milliseconds: the task was created at 1795510900 and stopped at 1795513317.
    assert_eq!(start["startTime"], 1_795_510_840);
    assert_eq!(start["endTime"], 1_795_513_437);
    assert!(
        start["queryString"]
            .as_str()
            .is_some_and(|q| q.contains(r#"TaskId = "b7c6d5e4f3a24b1c9d8e7f6a5b4c3d2e""#)),
        "{start}"
    );
    let (clusters, _) = &exchanges(&bundle, "DescribeClusters")[0];
    assert_eq!(clusters["include"], serde_json::json!(["SETTINGS"]));
    assert_eq!(client.requests("StopQuery"), 0);
    // The deployment has failed tasks: who updated the service, and who registered its
    // revision, two minutes either side of each.
    let lookups: Vec<Value> = exchanges(&bundle, "LookupEvents")
        .into_iter()
        .map(|(request, _)| request)
        .collect();
    let names: Vec<&Value> = lookups
        .iter()
        .map(|r| &r["LookupAttributes"][0]["AttributeValue"])
        .collect();
    assert_eq!(names, ["RegisterTaskDefinition", "UpdateService"]);
    // The deployment was created at 1795510200.
    assert_eq!(lookups[1]["StartTime"], 1_795_510_080);
    assert_eq!(lookups[1]["EndTime"], 1_795_510_320);
    let failed: Vec<String> = bundle
        .calls
        .iter()
        .filter(|c| c.error.is_some() && c.operation != "DescribeTaskDefinition")
        .map(|c| format!("{} {}", c.operation, c.request))
        .collect();
    // (The previous revision, reports:8, is not in the fixture.)
    assert!(failed.is_empty(), "no call failed: {failed:?}");
}

/// A query still running is polled again after a growing wait, and only its last poll is kept;
/// one that never finishes is stopped after the last poll. The clock is paused: the waits are
/// virtual time.
#[tokio::test(start_paused = true)]
async fn queries_are_polled_with_a_bound_and_only_the_last_poll_kept() {
    let recorded = fixture("oom-container-limit/memory-spike");
    let running = Reply::Answer(
        200,
        r#"{"results": [], "statistics": {"bytesScanned": 1.0}, "status": "Running"}"#.to_owned(),
    );
    let client = FixtureClient::from_bundle(&recorded)
        .fault("GetQueryResults", &[running.clone(), running.clone()]);
    let started = tokio::time::Instant::now();
    let bundle = collect_with_queries(&client, "reports").await;
    assert_eq!(client.requests("GetQueryResults"), 3);
    let polls = exchanges(&bundle, "GetQueryResults");
    assert_eq!(polls.len(), 1, "only the last poll is kept");
    assert_eq!(
        polls[0].1.as_ref().map(|r| r["status"].clone()),
        Some("Complete".into())
    );
    assert!(
        started.elapsed() >= Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );

    // Never finishing: 20 polls, then StopQuery, and the last poll (Running) is what is kept.
    let client = FixtureClient::from_bundle(&recorded)
        .fault("GetQueryResults", &vec![running; 20])
        .fault(
            "StopQuery",
            &[Reply::Answer(200, r#"{"success": true}"#.to_owned())],
        );
    let bundle = collect_with_queries(&client, "reports").await;
    assert_eq!(client.requests("GetQueryResults"), 20);
    assert_eq!(client.requests("StopQuery"), 1);
    let polls = exchanges(&bundle, "GetQueryResults");
    assert_eq!(polls.len(), 1);
    assert_eq!(
        polls[0].1.as_ref().map(|r| r["status"].clone()),
        Some("Running".into())
    );
    let stop = exchanges(&bundle, "StopQuery");
    assert_eq!(stop[0].0["queryId"], polls[0].0["queryId"]);
}

/// A user-stopped task: CloudTrail's StopTask events from ten minutes before it was stopping
/// to five after it stopped, one lookup by event name.
#[tokio::test]
async fn who_stopped_a_task_is_looked_up_in_cloudtrail() {
    let recorded = fixture("graceful-stop/user-stop-who");
    let client = FixtureClient::from_bundle(&recorded);
    let bundle = collect_with_queries(&client, "billing-sync").await;
    same_as_fixture(&bundle, &recorded, &["LookupEvents"]);
    let (lookup, _) = &exchanges(&bundle, "LookupEvents")[0];
    assert_eq!(
        lookup["LookupAttributes"],
        serde_json::json!([{"AttributeKey": "EventName", "AttributeValue": "StopTask"}])
    );
    // stoppingAt 1795512667, stoppedAt 1795512669 (seconds, as the SDK sends them).
    assert_eq!(lookup["StartTime"].as_f64(), Some(1_795_512_067.0));
    assert_eq!(lookup["EndTime"].as_f64(), Some(1_795_512_969.0));
    // No Container Insights query: nothing was killed for memory, and one failed stop is not
    // a pattern.
    assert_eq!(client.requests("StartQuery"), 0);
}

/// A service whose tasks keep failing: one Logs Insights search of its log group for error-like
/// lines, from an hour before the first failed stop to a minute after the last.
#[tokio::test]
async fn a_service_that_keeps_failing_has_its_log_group_searched() {
    let recorded = fixture("app-dependency-unreachable/intermittent-error-patterns");
    let client = FixtureClient::from_bundle(&recorded);
    let bundle = collect_with_queries(&client, "orders-sync").await;
    same_as_fixture(&bundle, &recorded, &["StartQuery", "GetQueryResults"]);
    let (start, _) = &exchanges(&bundle, "StartQuery")[0];
    assert_eq!(
        start["logGroupNames"],
        serde_json::json!(["/ecs/orders-sync"])
    );
    assert_eq!(start["limit"], 10_000);
}

/// Every new source is optional: denied, each is recorded as denied and the rest is collected.
#[tokio::test]
async fn denied_queries_and_lookups_are_recorded_and_the_rest_collected() {
    let denied = |action: &str| {
        Reply::Answer(
            400,
            format!(
                r#"{{"__type": "AccessDeniedException", "message": "User: arn:aws:sts::123456789012:assumed-role/oncall/jane is not authorized to perform: {action}"}}"#
            ),
        )
    };
    let client = FixtureClient::from_bundle(&fixture("oom-container-limit/memory-leak"))
        .fault("StartQuery", &[denied("logs:StartQuery")])
        .fault("LookupEvents", &[denied("cloudtrail:LookupEvents")])
        .fault("DescribeClusters", &[denied("ecs:DescribeClusters")]);
    let bundle = collect_with_queries(&client, "reports").await;
    for operation in ["StartQuery", "LookupEvents", "DescribeClusters"] {
        let calls = calls_of(&bundle, operation);
        assert!(
            calls
                .iter()
                .any(|c| c.error.as_ref().map(|e| e.code.as_str()) == Some("AccessDeniedException")),
            "{operation} recorded as denied"
        );
    }
    assert_eq!(client.requests("GetQueryResults"), 0);
    assert_eq!(calls_of(&bundle, "GetLogEvents").len(), 1);
    assert!(calls_of(&bundle, "DescribeTasks")[0].error.is_none());
}
