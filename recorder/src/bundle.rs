//! Bundle format v1: a manifest and the ordered list of AWS API calls behind one diagnosis.
//!
//! The format is a public contract, documented in `docs/bundle-format.md`. A bundle is JSON,
//! optionally gzip-compressed (detected by the magic bytes, never by the file name). Responses
//! are stored exactly as AWS returns them; the typed views in `model` are derived at load time.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::model;

/// The `manifest.format` of every bundle.
pub const FORMAT_NAME: &str = "ecs-autopsy-bundle";
/// The version this build writes.
pub const FORMAT_VERSION: u32 = 1;
/// Every version this build reads. Old versions are never dropped from this list.
pub const SUPPORTED_VERSIONS: &[u32] = &[1];
/// The version of the tool, written into every manifest.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The largest bundle, after decompression, that `Bundle::read` accepts by default: 256 MiB,
/// about 17 times a 1,000-task bundle with 100 log lines a task.
pub const DEFAULT_MAX_BUNDLE_BYTES: u64 = 256 << 20;
/// The most calls a bundle may hold by default; `record` makes a few hundred.
pub const DEFAULT_MAX_CALLS: usize = 100_000;
/// How deeply a response may nest. AWS responses nest about ten deep; the limit keeps every
/// stored response within what serde_json reads back and writes out, including the parts the
/// typed views skip, so a bundle that loads can always be written again whole.
pub const MAX_RESPONSE_DEPTH: usize = 100;

/// Limits on what reading a bundle may cost, so that a hostile file cannot exhaust memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Size after decompression, in bytes.
    pub max_bytes: u64,
    /// Entries in `calls`.
    pub max_calls: usize,
}

impl Default for ReadLimits {
    fn default() -> ReadLimits {
        ReadLimits {
            max_bytes: DEFAULT_MAX_BUNDLE_BYTES,
            max_calls: DEFAULT_MAX_CALLS,
        }
    }
}

thread_local! {
    /// `ReadLimits::max_calls` of the parse running on this thread (serde has no other way in).
    static MAX_CALLS: std::cell::Cell<usize> = const { std::cell::Cell::new(DEFAULT_MAX_CALLS) };
}

/// Sets this thread's call limit for one parse, and puts the old one back when dropped.
struct CallLimit(usize);

impl CallLimit {
    fn set(max_calls: usize) -> CallLimit {
        CallLimit(MAX_CALLS.replace(max_calls))
    }
}

impl Drop for CallLimit {
    fn drop(&mut self) {
        MAX_CALLS.set(self.0);
    }
}

/// Deserializes `calls`, failing as soon as there are more than this thread's limit.
fn bounded_calls<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Bounded<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Bounded<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a sequence")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let max = MAX_CALLS.get();
            let mut calls = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(call) = seq.next_element()? {
                if calls.len() == max {
                    return Err(serde::de::Error::custom(format_args!(
                        "more than {max} calls (the limit is `limits.max_calls`)"
                    )));
                }
                calls.push(call);
            }
            Ok(calls)
        }
    }
    deserializer.deserialize_seq(Bounded(std::marker::PhantomData))
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bundle {
    pub manifest: Manifest,
    #[serde(deserialize_with = "bounded_calls")]
    pub calls: Vec<Call>,
}

/// What the bundle is and where it came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `ecs-autopsy-bundle`.
    pub format: String,
    /// The integer format version; see `SUPPORTED_VERSIONS`.
    pub format_version: u32,
    /// The ecs-autopsy version that wrote the bundle.
    pub tool_version: String,
    /// When the responses were collected (or imported), RFC 3339 in UTC.
    pub recorded_at: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub cluster: Option<String>,
    /// What was asked for: services, tasks and bounds.
    #[serde(default)]
    pub selection: Selection,
    /// How the bundle was made.
    pub source: Source,
    #[serde(default)]
    pub redaction: Redaction,
    /// The EventBridge event that made the event-driven recorder (the Lambda) record this
    /// bundle, as EventBridge delivered it (redacted like the responses). Absent otherwise.
    /// Optional and additive: format version 1 readers ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_event: Option<Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Selection {
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub tasks: Vec<String>,
    /// Other bounds (how far back, how many stopped tasks, log lines per stream).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Collected from the live AWS APIs by `ecs-autopsy record`.
    Recorded,
    /// Built from AWS CLI outputs by `ecs-autopsy bundle import`.
    Imported,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Recorded => "recorded",
            Source::Imported => "imported",
        }
    }
}

/// What redaction did: counts per kind, never the values.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Redaction {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub counts: BTreeMap<String, u64>,
}

/// One logical AWS API call: the request and either the response or the error.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Call {
    /// The AWS CLI's service name: `ecs`, `logs` or `elbv2`.
    pub service: String,
    /// The API operation, e.g. `DescribeTasks`.
    pub operation: String,
    /// The request parameters, in the API's own spelling.
    #[serde(default)]
    pub request: Value,
    /// The response exactly as AWS returned it (ECS and Logs) or as the AWS CLI prints it (ELBv2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Box<RawValue>>,
    /// The error, when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<CallError>,
    /// For imported calls: the file the response came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_file: Option<String>,
    /// For imported calls whose file held part of a response (output cut down with `--query`,
    /// or the console's JSON): where the file's top level sits in `response`, `tasks[0]` for a
    /// bare task, `tasks` for an array of them; `taskDefinition=[0]` when the file is a
    /// one-element array around the task definition (response prefix `=` file prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_root: Option<String>,
    /// The typed view of `response`, filled in by `Bundle::read` and `Call::new`.
    #[serde(skip)]
    pub parsed: Arc<Response>,
    /// For a bundle read for diagnosis only (`Bundle::read_for_diagnosis`, which does not keep
    /// `response`): the response's text without its whitespace, for every operation that
    /// evidence cites whole records of (all but log events), so that an evidence line can
    /// show any field exactly as the bundle holds it.
    #[serde(skip)]
    pub cited_text: Option<Box<str>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallError {
    pub code: String,
    pub message: String,
}

impl CallError {
    /// Whether AWS refused the call for lack of a permission, the only failure an IAM hint
    /// can help with (not throttling, a missing resource or the network).
    pub fn is_access_denied(&self) -> bool {
        is_access_denied(&self.code)
    }
}

/// Whether an AWS error code means a missing permission.
pub fn is_access_denied(code: &str) -> bool {
    [
        "AccessDenied",
        "UnauthorizedOperation",
        "NotAuthorized",
        "Unauthorized",
    ]
    .iter()
    .any(|word| code.contains(word))
}

/// The API operations whose responses the engine understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    DescribeTasks,
    DescribeServices,
    DescribeTaskDefinition,
    ListTasks,
    DescribeContainerInstances,
    GetLogEvents,
    FilterLogEvents,
    DescribeTargetGroups,
    DescribeTargetHealth,
    DescribeTargetGroupAttributes,
    ListServices,
    ListServiceDeployments,
    DescribeServiceDeployments,
    DescribeServiceRevisions,
    GetTaskProtection,
    /// With `include: ["SETTINGS"]`: whether Container Insights is on for the cluster.
    DescribeClusters,
    /// A CloudWatch Logs Insights query (Container Insights memory, error patterns).
    StartQuery,
    /// Its results: only the last poll of each query is kept.
    GetQueryResults,
    /// A query given up on after its polls ran out.
    StopQuery,
    /// CloudTrail: who stopped a task, deployed a service or registered a revision.
    LookupEvents,
    /// Not an API call: EventBridge events from ECS (`ECS Task State Change`, `ECS Deployment
    /// State Change`, `ECS Service Action`) as `{"events": [...]}`, from an event file, an SQS
    /// message or the Lambda's trigger. Service `events`.
    EcsEvents,
}

/// A typed response. `None` for failed calls and operations the engine does not read.
#[derive(Debug, Clone, Default)]
#[allow(clippy::large_enum_variant)] // Held behind an `Arc`, one per call.
pub enum Response {
    #[default]
    None,
    DescribeTasks(model::DescribeTasksResponse),
    DescribeServices(model::DescribeServicesResponse),
    DescribeTaskDefinition(model::DescribeTaskDefinitionResponse),
    ListTasks(model::ListTasksResponse),
    DescribeContainerInstances(model::DescribeContainerInstancesResponse),
    GetLogEvents(model::GetLogEventsResponse),
    FilterLogEvents(model::FilterLogEventsResponse),
    DescribeTargetGroups(model::DescribeTargetGroupsResponse),
    DescribeTargetHealth(model::DescribeTargetHealthResponse),
    DescribeTargetGroupAttributes(model::DescribeTargetGroupAttributesResponse),
    ListServices(model::ListServicesResponse),
    ListServiceDeployments(model::ListServiceDeploymentsResponse),
    DescribeServiceDeployments(model::DescribeServiceDeploymentsResponse),
    DescribeServiceRevisions(model::DescribeServiceRevisionsResponse),
    GetTaskProtection(model::GetTaskProtectionResponse),
    DescribeClusters(model::DescribeClustersResponse),
    GetQueryResults(model::GetQueryResultsResponse),
    LookupEvents(model::LookupEventsResponse),
    EcsEvents(model::EcsEventsResponse),
}

/// Why a bundle could not be loaded. Every message is one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: corrupt or truncated gzip data: {source}")]
    Gzip {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: bundle is larger than {limit} bytes after decompression (the limit is `limits.max_bundle_bytes`)"
    )]
    TooLarge { path: String, limit: u64 },
    #[error("{path}: invalid JSON at line {line} column {column}: {message}")]
    Json {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: not an ecs-autopsy bundle: {reason}")]
    NotABundle { path: String, reason: String },
    #[error(
        "{path}: unsupported bundle format version {found}; this ecs-autopsy ({tool}) reads version {supported}",
        tool = TOOL_VERSION,
        supported = supported_versions()
    )]
    UnsupportedVersion { path: String, found: String },
    #[error("{path}: invalid bundle at `{at}`: {message}")]
    Shape {
        path: String,
        at: String,
        message: String,
    },
    #[error("{path}: calls[{index}] ({service} {operation}): {message}")]
    Call {
        path: String,
        index: usize,
        service: String,
        operation: String,
        message: String,
    },
}

fn supported_versions() -> String {
    let versions: Vec<String> = SUPPORTED_VERSIONS.iter().map(u32::to_string).collect();
    versions.join(", ")
}

impl Operation {
    /// Every AWS API call a bundle may hold (`EcsEvents`, which is not one, is left out).
    pub const ALL: [Operation; 20] = [
        Operation::DescribeTasks,
        Operation::DescribeServices,
        Operation::DescribeTaskDefinition,
        Operation::ListTasks,
        Operation::DescribeContainerInstances,
        Operation::GetLogEvents,
        Operation::FilterLogEvents,
        Operation::DescribeTargetGroups,
        Operation::DescribeTargetHealth,
        Operation::DescribeTargetGroupAttributes,
        Operation::ListServices,
        Operation::ListServiceDeployments,
        Operation::DescribeServiceDeployments,
        Operation::DescribeServiceRevisions,
        Operation::GetTaskProtection,
        Operation::DescribeClusters,
        Operation::StartQuery,
        Operation::GetQueryResults,
        Operation::StopQuery,
        Operation::LookupEvents,
    ];

    /// The AWS CLI's service name.
    pub fn service(self) -> &'static str {
        match self {
            Operation::DescribeTasks
            | Operation::DescribeServices
            | Operation::DescribeTaskDefinition
            | Operation::ListTasks
            | Operation::ListServices
            | Operation::DescribeContainerInstances
            | Operation::ListServiceDeployments
            | Operation::DescribeServiceDeployments
            | Operation::DescribeServiceRevisions
            | Operation::GetTaskProtection
            | Operation::DescribeClusters => "ecs",
            Operation::GetLogEvents
            | Operation::FilterLogEvents
            | Operation::StartQuery
            | Operation::GetQueryResults
            | Operation::StopQuery => "logs",
            Operation::LookupEvents => "cloudtrail",
            Operation::DescribeTargetGroups
            | Operation::DescribeTargetHealth
            | Operation::DescribeTargetGroupAttributes => "elbv2",
            Operation::EcsEvents => "events",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Operation::DescribeTasks => "DescribeTasks",
            Operation::DescribeServices => "DescribeServices",
            Operation::DescribeTaskDefinition => "DescribeTaskDefinition",
            Operation::ListTasks => "ListTasks",
            Operation::DescribeContainerInstances => "DescribeContainerInstances",
            Operation::GetLogEvents => "GetLogEvents",
            Operation::FilterLogEvents => "FilterLogEvents",
            Operation::DescribeTargetGroups => "DescribeTargetGroups",
            Operation::DescribeTargetHealth => "DescribeTargetHealth",
            Operation::DescribeTargetGroupAttributes => "DescribeTargetGroupAttributes",
            Operation::ListServices => "ListServices",
            Operation::ListServiceDeployments => "ListServiceDeployments",
            Operation::DescribeServiceDeployments => "DescribeServiceDeployments",
            Operation::DescribeServiceRevisions => "DescribeServiceRevisions",
            Operation::GetTaskProtection => "GetTaskProtection",
            Operation::DescribeClusters => "DescribeClusters",
            Operation::StartQuery => "StartQuery",
            Operation::GetQueryResults => "GetQueryResults",
            Operation::StopQuery => "StopQuery",
            Operation::LookupEvents => "LookupEvents",
            Operation::EcsEvents => "EcsEvents",
        }
    }

    /// Whether the response is CloudWatch Logs events, whose lines evidence cites one
    /// `message` at a time (`events[i].message`).
    pub fn is_log_events(self) -> bool {
        matches!(self, Operation::GetLogEvents | Operation::FilterLogEvents)
    }

    /// The IAM action that allows this call, for "grant X to see this evidence" hints.
    pub fn iam_action(self) -> String {
        let prefix = match self.service() {
            "elbv2" => "elasticloadbalancing",
            other => other,
        };
        format!("{prefix}:{}", self.name())
    }

    pub fn lookup(service: &str, operation: &str) -> Option<Operation> {
        Operation::ALL
            .into_iter()
            .chain([Operation::EcsEvents])
            .find(|op| op.service() == service && op.name() == operation)
    }

    fn parse(self, raw: &RawValue) -> Result<Response, String> {
        fn typed<T: DeserializeOwned>(raw: &RawValue) -> Result<T, String> {
            // The plain parse is the fast path; only a response that fails it is parsed again,
            // tracking the path, to say where.
            if let Ok(value) = serde_json::from_str(raw.get()) {
                return Ok(value);
            }
            let mut de = serde_json::Deserializer::from_str(raw.get());
            serde_path_to_error::deserialize(&mut de).map_err(|err| {
                let at = err.path().to_string();
                // The position serde_json adds is relative to the response, not the file.
                let inner = without_position(&err.into_inner());
                if at == "." {
                    format!("response does not fit the operation: {inner}")
                } else {
                    format!("response does not fit the operation: `{at}`: {inner}")
                }
            })
        }
        Ok(match self {
            Operation::DescribeTasks => Response::DescribeTasks(typed(raw)?),
            Operation::DescribeServices => Response::DescribeServices(typed(raw)?),
            Operation::DescribeTaskDefinition => Response::DescribeTaskDefinition(typed(raw)?),
            Operation::ListTasks => Response::ListTasks(typed(raw)?),
            Operation::DescribeContainerInstances => {
                Response::DescribeContainerInstances(typed(raw)?)
            }
            Operation::GetLogEvents => Response::GetLogEvents(typed(raw)?),
            Operation::FilterLogEvents => Response::FilterLogEvents(typed(raw)?),
            Operation::DescribeTargetGroups => Response::DescribeTargetGroups(typed(raw)?),
            Operation::DescribeTargetHealth => Response::DescribeTargetHealth(typed(raw)?),
            Operation::DescribeTargetGroupAttributes => {
                Response::DescribeTargetGroupAttributes(typed(raw)?)
            }
            Operation::ListServices => Response::ListServices(typed(raw)?),
            Operation::ListServiceDeployments => Response::ListServiceDeployments(typed(raw)?),
            Operation::DescribeServiceDeployments => {
                Response::DescribeServiceDeployments(typed(raw)?)
            }
            Operation::DescribeServiceRevisions => Response::DescribeServiceRevisions(typed(raw)?),
            Operation::GetTaskProtection => Response::GetTaskProtection(typed(raw)?),
            Operation::DescribeClusters => Response::DescribeClusters(typed(raw)?),
            Operation::GetQueryResults => Response::GetQueryResults(typed(raw)?),
            Operation::LookupEvents => Response::LookupEvents(typed(raw)?),
            Operation::StartQuery | Operation::StopQuery => Response::None,
            Operation::EcsEvents => Response::EcsEvents(typed(raw)?),
        })
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.service(), self.name())
    }
}

impl Call {
    /// A successful call. The response is validated against its operation.
    pub fn new(
        operation: Operation,
        request: Value,
        response: Box<RawValue>,
    ) -> Result<Call, String> {
        check_depth(&response)?;
        let parsed = operation.parse(&response)?;
        Ok(Call {
            service: operation.service().to_owned(),
            operation: operation.name().to_owned(),
            request,
            response: Some(response),
            error: None,
            source_file: None,
            source_root: None,
            parsed: Arc::new(parsed),
            cited_text: None,
        })
    }

    /// A failed call.
    pub fn failed(operation: Operation, request: Value, error: CallError) -> Call {
        Call {
            service: operation.service().to_owned(),
            operation: operation.name().to_owned(),
            request,
            response: None,
            error: Some(error),
            source_file: None,
            source_root: None,
            parsed: Arc::new(Response::None),
            cited_text: None,
        }
    }

    /// The known operation this call is, if the engine understands it.
    pub fn known_operation(&self) -> Option<Operation> {
        Operation::lookup(&self.service, &self.operation)
    }

    /// A request parameter as a string, e.g. `logStreamName`.
    pub fn request_str(&self, key: &str) -> Option<&str> {
        self.request.get(key).and_then(Value::as_str)
    }

    fn validate(&mut self) -> Result<(), String> {
        if let Some(parsed) = validate_call(
            &self.service,
            &self.operation,
            &self.request,
            self.response.as_deref(),
            self.error.is_some(),
        )? {
            self.parsed = Arc::new(parsed);
        }
        Ok(())
    }
}

/// The checks every call passes, and the typed view of its response when the operation is known.
fn validate_call(
    service: &str,
    operation: &str,
    request: &Value,
    response: Option<&RawValue>,
    failed: bool,
) -> Result<Option<Response>, String> {
    match (response, failed) {
        (Some(_), true) => return Err("has both `response` and `error`".to_owned()),
        (None, false) => return Err("has neither `response` nor `error`".to_owned()),
        _ => {}
    }
    if !(request.is_object() || request.is_null()) {
        return Err("`request` must be an object".to_owned());
    }
    if let Some(raw) = response {
        check_depth(raw)?;
    }
    match (Operation::lookup(service, operation), response) {
        (Some(op), Some(raw)) => op.parse(raw).map(Some),
        _ => Ok(None),
    }
}

/// The nesting limit every stored response keeps (`MAX_RESPONSE_DEPTH`).
fn check_depth(raw: &RawValue) -> Result<(), String> {
    if nests_deeper_than(raw.get(), MAX_RESPONSE_DEPTH) {
        Err(format!(
            "response is nested more than {MAX_RESPONSE_DEPTH} levels deep"
        ))
    } else {
        Ok(())
    }
}

/// Whether arrays and objects in a JSON text (valid JSON) nest more than `limit` deep.
/// Strings, where most of a response's bytes are, are skipped with `memchr`.
fn nests_deeper_than(json: &str, limit: usize) -> bool {
    let bytes = json.as_bytes();
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(offset) = memchr::memchr3(b'"', b'[', b'{', &bytes[at..]).map(|o| o + at) {
        // Closing brackets between here and the last stop.
        depth = depth.saturating_sub(
            bytes[at..offset]
                .iter()
                .filter(|&&b| b == b']' || b == b'}')
                .count(),
        );
        if bytes[offset] == b'"' {
            // To the closing quote: the next quote not escaped by an odd run of backslashes.
            let mut end = offset + 1;
            loop {
                match memchr::memchr2(b'"', b'\\', &bytes[end..]) {
                    Some(i) if bytes[end + i] == b'\\' => end += i + 2,
                    Some(i) => {
                        end += i + 1;
                        break;
                    }
                    None => return false,
                }
            }
            at = end.min(bytes.len());
        } else {
            depth += 1;
            if depth > limit {
                return true;
            }
            at = offset + 1;
        }
    }
    false
}

/// `json` (valid JSON) without the whitespace between its tokens; strings are kept as they are.
pub fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for ch in json.chars() {
        if in_string {
            out.push(ch);
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                in_string = false;
            }
        } else if ch == '"' {
            in_string = true;
            out.push(ch);
        } else if !matches!(ch, ' ' | '\n' | '\r' | '\t') {
            out.push(ch);
        }
    }
    out
}

/// A bundle whose responses are borrowed from the file's bytes (see `Bundle::read_for_diagnosis`).
/// Its fields and defaults mirror `Bundle` and `Call`.
#[derive(Deserialize)]
struct BorrowedBundle<'a> {
    manifest: Manifest,
    #[serde(borrow, deserialize_with = "bounded_calls")]
    calls: Vec<BorrowedCall<'a>>,
}

#[derive(Deserialize)]
struct BorrowedCall<'a> {
    service: String,
    operation: String,
    #[serde(default)]
    request: Value,
    #[serde(default, borrow)]
    response: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<CallError>,
    #[serde(default)]
    source_file: Option<String>,
    #[serde(default)]
    source_root: Option<String>,
}

impl BorrowedBundle<'_> {
    /// The bundle with typed views only, or `None` when anything is wrong with it.
    fn into_typed(self) -> Option<Bundle> {
        if !self.manifest.is_supported() {
            return None;
        }
        let mut calls = Vec::with_capacity(self.calls.len());
        for call in self.calls {
            let parsed = validate_call(
                &call.service,
                &call.operation,
                &call.request,
                call.response,
                call.error.is_some(),
            )
            .ok()?;
            let cited_text = Operation::lookup(&call.service, &call.operation)
                .filter(|operation| !operation.is_log_events())
                .and(call.response)
                .map(|raw| minify(raw.get()).into_boxed_str());
            calls.push(Call {
                service: call.service,
                operation: call.operation,
                request: call.request,
                response: None,
                error: call.error,
                source_file: call.source_file,
                source_root: call.source_root,
                parsed: Arc::new(parsed.unwrap_or_default()),
                cited_text,
            });
        }
        Some(Bundle {
            manifest: self.manifest,
            calls,
        })
    }
}

impl Manifest {
    /// Whether this is a bundle of a version this build reads: the fast loading paths take only
    /// those, and leave every other case to the careful path and its errors.
    fn is_supported(&self) -> bool {
        self.format == FORMAT_NAME && SUPPORTED_VERSIONS.contains(&self.format_version)
    }
}

impl Bundle {
    /// An empty bundle with a fresh manifest.
    pub fn new(source: Source, recorded_at: String) -> Bundle {
        Bundle {
            manifest: Manifest {
                format: FORMAT_NAME.to_owned(),
                format_version: FORMAT_VERSION,
                tool_version: TOOL_VERSION.to_owned(),
                recorded_at,
                region: None,
                account: None,
                cluster: None,
                selection: Selection::default(),
                source,
                redaction: Redaction::default(),
                trigger_event: None,
            },
            calls: Vec::new(),
        }
    }

    /// Reads a bundle file, plain or gzip-compressed, within the default `ReadLimits`.
    pub fn read(path: &Path) -> Result<Bundle, LoadError> {
        Bundle::read_with(path, ReadLimits::default())
    }

    pub fn read_with(path: &Path, limits: ReadLimits) -> Result<Bundle, LoadError> {
        let name = path.display().to_string();
        let bytes = read_file(path, &name, limits.max_bytes)?;
        let _limit = CallLimit::set(limits.max_calls);
        Bundle::from_slice(&bytes, &name)
    }

    /// Reads a bundle to diagnose it, and nothing else: each response's typed view is built
    /// straight from the file's bytes and its text is not kept (`Call::response` is `None`;
    /// only the non-log responses keep their text without whitespace, in `Call::cited_text`), so
    /// memory peaks near the file's size plus the typed views rather than twice the file.
    /// Such a bundle cannot be written back. A bundle that fails to load gives exactly the
    /// error `Bundle::read` gives.
    pub fn read_for_diagnosis(path: &Path, limits: ReadLimits) -> Result<Bundle, LoadError> {
        let name = path.display().to_string();
        let bytes = read_file(path, &name, limits.max_bytes)?;
        let _limit = CallLimit::set(limits.max_calls);
        Bundle::from_slice_for_diagnosis(&bytes, &name)
    }

    /// `read_for_diagnosis` on stored bytes, plain or gzip (an object read from S3); `name`
    /// (its `s3://` URL) is used in errors.
    pub fn from_stored_for_diagnosis(
        bytes: &[u8],
        name: &str,
        limits: ReadLimits,
    ) -> Result<Bundle, LoadError> {
        let bytes = read_maybe_gzip(bytes, name, limits.max_bytes)?;
        let _limit = CallLimit::set(limits.max_calls);
        Bundle::from_slice_for_diagnosis(&bytes, name)
    }

    /// `read_for_diagnosis` on bytes already read (and decompressed).
    pub fn from_slice_for_diagnosis(bytes: &[u8], name: &str) -> Result<Bundle, LoadError> {
        let typed = serde_json::from_slice::<BorrowedBundle<'_>>(bytes)
            .ok()
            .and_then(BorrowedBundle::into_typed);
        match typed {
            Some(bundle) => Ok(bundle),
            None => Bundle::from_slice(bytes, name),
        }
    }

    /// Parses bundle bytes (already decompressed). `name` is used in error messages.
    pub fn from_slice(bytes: &[u8], name: &str) -> Result<Bundle, LoadError> {
        // The fast path: parse the whole bundle in one go, then check its format and version.
        // Anything that fails goes the careful way below, which gives the same errors as ever.
        if let Ok(mut bundle) = serde_json::from_slice::<Bundle>(bytes)
            && bundle.manifest.is_supported()
            && bundle.validate_calls(name).is_ok()
        {
            return Ok(bundle);
        }
        Bundle::from_slice_carefully(bytes, name)
    }

    /// Parses step by step so that each error is the most telling one: first only the manifest's
    /// format and version, so that a bundle from a future version gets a clear "unsupported
    /// version" error rather than a shape error; then the shape, with the path of the problem;
    /// then each call.
    fn from_slice_carefully(bytes: &[u8], name: &str) -> Result<Bundle, LoadError> {
        #[derive(Deserialize)]
        struct Probe {
            manifest: Option<ProbeManifest>,
        }
        #[derive(Deserialize)]
        struct ProbeManifest {
            format: Option<Value>,
            format_version: Option<Value>,
        }
        let probe: Probe = match serde_json::from_slice(bytes) {
            Ok(probe) => probe,
            // Valid JSON of another shape (an array, a string): not a bundle, and nothing in
            // the message should name this parser's internals.
            Err(err) if err.is_data() && !starts_an_object(bytes) => {
                return Err(LoadError::NotABundle {
                    path: name.to_owned(),
                    reason: "the top level is not an object with a `manifest` object".to_owned(),
                });
            }
            Err(err) if err.is_data() && err.to_string().contains("ProbeManifest") => {
                return Err(LoadError::NotABundle {
                    path: name.to_owned(),
                    reason: "`manifest` is not an object".to_owned(),
                });
            }
            Err(err) => return Err(json_error(name, &err)),
        };
        let Some(manifest) = probe.manifest else {
            return Err(LoadError::NotABundle {
                path: name.to_owned(),
                reason: "no `manifest` object at the top level".to_owned(),
            });
        };
        if manifest.format.as_ref().and_then(Value::as_str) != Some(FORMAT_NAME) {
            return Err(LoadError::NotABundle {
                path: name.to_owned(),
                reason: format!("`manifest.format` is not \"{FORMAT_NAME}\""),
            });
        }
        let version = manifest.format_version.unwrap_or(Value::Null);
        let supported = version
            .as_u64()
            .is_some_and(|v| SUPPORTED_VERSIONS.iter().any(|&s| u64::from(s) == v));
        if !supported {
            return Err(LoadError::UnsupportedVersion {
                path: name.to_owned(),
                found: version.to_string(),
            });
        }

        let mut de = serde_json::Deserializer::from_slice(bytes);
        let mut bundle: Bundle =
            serde_path_to_error::deserialize(&mut de).map_err(|err| LoadError::Shape {
                path: name.to_owned(),
                at: err.path().to_string(),
                message: without_position(&err.into_inner()),
            })?;
        bundle.validate_calls(name)?;
        Ok(bundle)
    }

    /// Validates every call and fills in its typed view.
    fn validate_calls(&mut self, name: &str) -> Result<(), LoadError> {
        for (index, call) in self.calls.iter_mut().enumerate() {
            call.validate().map_err(|message| LoadError::Call {
                path: name.to_owned(),
                index,
                service: one_line(&call.service),
                operation: one_line(&call.operation),
                message: one_line(&message),
            })?;
        }
        Ok(())
    }

    /// The canonical JSON text: sorted keys, two-space indent, trailing newline.
    /// The same content always gives the same bytes.
    pub fn to_canonical_json(&self) -> Vec<u8> {
        self.canonical_json().unwrap_or_default()
    }

    /// `to_canonical_json`, or why it cannot be made. A bundle that loaded always can be: its
    /// responses nest at most `MAX_RESPONSE_DEPTH` deep.
    pub fn canonical_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        // Going through `Value` sorts every object's keys, responses included.
        let value = serde_json::to_value(self)?;
        let mut out = serde_json::to_vec_pretty(&value)?;
        out.push(b'\n');
        Ok(out)
    }

    /// Writes the bundle; gzip-compressed when the file name ends in `.gz`.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        // Never an empty or `null` file in place of the bundle.
        let json = self
            .canonical_json()
            .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidData, err))?;
        let bytes = if path.extension().is_some_and(|ext| ext == "gz") {
            gzip(&json)?
        } else {
            json
        };
        std::fs::write(path, bytes)
    }

    /// Calls of one known operation, with their index in `calls`.
    pub fn calls_of(&self, operation: Operation) -> impl Iterator<Item = (usize, &Call)> {
        self.calls
            .iter()
            .enumerate()
            .filter(move |(_, call)| call.known_operation() == Some(operation))
    }
}

/// Brings a bundle read from any supported version up to `FORMAT_VERSION`.
///
/// Version 1 is the only version so far, so there is nothing to convert yet. When version 2
/// comes, the loader reads a version-1 file into the version-2 shape (defaults for what is
/// new), this function sets what the conversion needs, and the golden version-1 bundles
/// (`fixtures/golden/v1/`) must diagnose exactly as before, upgraded or not; see
/// `docs/bundle-format.md`.
pub fn upgrade(mut bundle: Bundle) -> Bundle {
    bundle.manifest.format_version = FORMAT_VERSION;
    bundle
}

/// `bytes` gzip-compressed as bundles are written: the header carries no name and a zero
/// mtime, so the output is reproducible.
pub fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// Reads a file, gunzipping it when it starts with the gzip magic bytes.
fn read_file(path: &Path, name: &str, max_bytes: u64) -> Result<Vec<u8>, LoadError> {
    let file = std::fs::File::open(path).map_err(|source| LoadError::Io {
        path: name.to_owned(),
        source,
    })?;
    // A plain file is read into a buffer of its size, not one grown by doubling (up to twice
    // the file in memory); a gzip file's size says little, so that one grows.
    let size = file.metadata().map_or(0, |meta| meta.len()).min(max_bytes);
    read_maybe_gzip_sized(file, name, max_bytes, usize::try_from(size).unwrap_or(0))
}

/// Reads all of `reader`, gunzipping when the data starts with the gzip magic bytes.
pub fn read_maybe_gzip(
    reader: impl Read,
    name: &str,
    max_bytes: u64,
) -> Result<Vec<u8>, LoadError> {
    read_maybe_gzip_sized(reader, name, max_bytes, 0)
}

fn read_maybe_gzip_sized(
    reader: impl Read,
    name: &str,
    max_bytes: u64,
    plain_size: usize,
) -> Result<Vec<u8>, LoadError> {
    let mut reader = std::io::BufReader::new(reader);
    let mut head = [0u8; 2];
    let mut filled = 0;
    while filled < head.len() {
        let n = reader
            .read(&mut head[filled..])
            .map_err(|source| LoadError::Io {
                path: name.to_owned(),
                source,
            })?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    let chained = std::io::Cursor::new(head[..filled].to_vec()).chain(reader);
    let mut out = Vec::new();
    if filled == 2 && head == GZIP_MAGIC {
        let decoder = flate2::read::MultiGzDecoder::new(chained);
        decoder
            .take(max_bytes.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|source| LoadError::Gzip {
                path: name.to_owned(),
                source,
            })?;
    } else {
        // One byte more than the size, so that reading to the end needs no second buffer.
        out.reserve_exact(plain_size.saturating_add(1));
        chained
            .take(max_bytes.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|source| LoadError::Io {
                path: name.to_owned(),
                source,
            })?;
    }
    if out.len() as u64 > max_bytes {
        return Err(LoadError::TooLarge {
            path: name.to_owned(),
            limit: max_bytes,
        });
    }
    Ok(out)
}

/// serde_json's message without the " at line L column C" it appends.
fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    one_line(match text.rfind(" at line ") {
        Some(cut) => &text[..cut],
        None => &text,
    })
}

/// `text` with control characters escaped (`\n`, `\u{1b}`), so that a message quoting a key or
/// value from a hostile file is still one line, and cannot move the terminal's cursor.
pub fn one_line(text: &str) -> String {
    escape_controls(text, false).into_owned()
}

/// `text` with its control characters escaped (`\n`, `\u{1b}`), tabs too unless `keep_tabs`;
/// borrowed when there is nothing to escape. Shared by error messages (`one_line`) and the
/// text and Markdown reports, which keep tabs for stack traces.
pub fn escape_controls(text: &str, keep_tabs: bool) -> std::borrow::Cow<'_, str> {
    let escape = |c: char| c.is_control() && !(keep_tabs && c == '\t');
    if !text.chars().any(escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether the JSON text's top level is an object.
fn starts_an_object(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    text.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

fn json_error(name: &str, err: &serde_json::Error) -> LoadError {
    let message = if err.is_eof() {
        "unexpected end of data (is the file truncated?)".to_owned()
    } else {
        without_position(err)
    };
    LoadError::Json {
        path: name.to_owned(),
        line: err.line(),
        column: err.column(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"manifest": {"format": "ecs-autopsy-bundle", "format_version": 1, "tool_version": "0.1.0",
        "recorded_at": "2026-11-24T10:00:00.000Z", "source": "imported"}, "calls": CALLS}"#;

    fn load(calls: &str) -> Result<Bundle, LoadError> {
        Bundle::from_slice(MINIMAL.replace("CALLS", calls).as_bytes(), "test.json")
    }

    /// Writes `calls` into a bundle file of its own and reads it as `replay` does.
    fn load_for_diagnosis(calls: &str) -> (Result<Bundle, LoadError>, String) {
        static FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // A directory per call: tests run in parallel, and one that removed a shared directory
        // could pull it from under another between its creation and the write.
        let dir =
            std::env::temp_dir().join(format!("ecs-autopsy-bundle-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("bundle.json");
        std::fs::write(&path, MINIMAL.replace("CALLS", calls)).expect("write");
        let loaded = Bundle::read_for_diagnosis(&path, ReadLimits::default());
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_dir(&dir);
        (loaded, path.display().to_string())
    }

    #[track_caller]
    fn check_error(calls: &str, expect: &str) {
        let err = load(calls).expect_err("must not load");
        assert_eq!(err.to_string(), expect);
        // Reading for diagnosis takes another path through the parser, with the same errors.
        let (loaded, path) = load_for_diagnosis(calls);
        let err = loaded.expect_err("must not load for diagnosis either");
        assert_eq!(err.to_string().replace(&path, "test.json"), expect);
    }

    #[test]
    fn minify_drops_whitespace_outside_strings_only() {
        let json = "{ \"a\" : [ 1 , 2 ],\n\t\"b\": \"x y \\\" z\" }";
        assert_eq!(minify(json), "{\"a\":[1,2],\"b\":\"x y \\\" z\"}");
        let parsed: Value = serde_json::from_str(&minify(json)).unwrap_or_default();
        assert_eq!(
            parsed,
            serde_json::from_str::<Value>(json).unwrap_or_default()
        );
    }

    #[test]
    fn a_bundle_read_for_diagnosis_keeps_the_text_of_non_log_responses() {
        let json = br#"{"manifest": {"format": "ecs-autopsy-bundle", "format_version": 1, "tool_version": "0", "recorded_at": "2026-11-24T10:00:00Z", "source": "recorded"},
          "calls": [
            {"service": "ecs", "operation": "DescribeTasks", "request": {}, "response": {"tasks": [ {"taskArn": "a"} ]}},
            {"service": "logs", "operation": "GetLogEvents", "request": {}, "response": {"events": [{"timestamp": 1700000000000, "message": "x"}]}}
          ]}"#;
        let bundle = Bundle::from_slice_for_diagnosis(json, "b.json").expect("loads");
        assert_eq!(
            bundle.calls[0].cited_text.as_deref(),
            Some(r#"{"tasks":[{"taskArn":"a"}]}"#)
        );
        assert_eq!(bundle.calls[1].cited_text, None);
        assert!(bundle.calls.iter().all(|call| call.response.is_none()));
    }

    #[test]
    fn reading_for_diagnosis_keeps_the_typed_views_only() {
        let calls = r#"[{"service": "logs", "operation": "GetLogEvents", "request": {"logStreamName": "ecs/app/1"},
            "response": {"events": [{"timestamp": 1700000000000, "message": "Listening on :8080"}]}},
            {"service": "ecs", "operation": "DescribeTasks", "request": {}, "error": {"code": "AccessDeniedException", "message": "no"}},
            {"service": "ecs", "operation": "SomethingNew", "request": {}, "response": {"x": 1}}]"#;
        let full = load(calls).expect("loads");
        let (typed, _) = load_for_diagnosis(calls);
        let typed = typed.expect("loads for diagnosis");
        assert_eq!(typed.calls.len(), full.calls.len());
        for (typed, full) in typed.calls.iter().zip(&full.calls) {
            assert!(typed.response.is_none());
            assert_eq!(typed.error, full.error);
            assert_eq!(typed.request, full.request);
            assert_eq!(format!("{:?}", typed.parsed), format!("{:?}", full.parsed));
        }
        assert!(matches!(*typed.calls[0].parsed, Response::GetLogEvents(_)));
    }

    #[test]
    fn call_errors_name_the_call() {
        check_error(
            r#"[{"service": "ecs", "operation": "DescribeTasks", "request": {}}]"#,
            "test.json: calls[0] (ecs DescribeTasks): has neither `response` nor `error`",
        );
        check_error(
            r#"[{"service": "logs", "operation": "GetLogEvents", "request": {}, "response": {"events": []}, "error": {"code": "X", "message": "y"}}]"#,
            "test.json: calls[0] (logs GetLogEvents): has both `response` and `error`",
        );
        check_error(
            r#"[{"service": "logs", "operation": "GetLogEvents", "request": {}, "response": {"events": [{"timestamp": "soon"}]}}]"#,
            "test.json: calls[0] (logs GetLogEvents): response does not fit the operation: `events[0].timestamp`: `soon` is not an ISO-8601 timestamp",
        );
        check_error(
            r#"[{"service": "ecs", "operation": "DescribeTasks", "request": [], "response": {}}]"#,
            "test.json: calls[0] (ecs DescribeTasks): `request` must be an object",
        );
        check_error(
            r#"{"not": "a list"}"#,
            "test.json: invalid bundle at `calls`: invalid type: map, expected a sequence",
        );
    }

    #[test]
    fn unknown_operations_are_kept_untouched() {
        let bundle = load(r#"[{"service": "ecs", "operation": "DescribeCapacityProviders", "request": {}, "response": {"capacityProviders": 7}}]"#)
            .expect("loads");
        assert!(matches!(*bundle.calls[0].parsed, Response::None));
        let text = String::from_utf8(bundle.to_canonical_json()).expect("utf-8");
        assert!(text.contains(r#""capacityProviders": 7"#), "{text}");
    }

    #[test]
    fn canonical_json_is_stable_and_round_trips() {
        let bundle = load(
            r#"[{"service": "ecs", "operation": "DescribeTasks", "request": {"tasks": ["b", "a"], "cluster": "c"},
                 "response": {"tasks": [{"taskArn": "arn:aws:ecs:eu-west-1:1:task/c/1", "createdAt": 1795533954.96, "lastStatus": "STOPPED"}], "failures": []}}]"#,
        )
        .expect("loads");
        let first = bundle.to_canonical_json();
        let reloaded = Bundle::from_slice(&first, "again").expect("reloads");
        assert_eq!(first, reloaded.to_canonical_json());
        let text = String::from_utf8(first).expect("utf-8");
        // Keys sorted, numbers untouched, request order kept.
        assert!(text.find("\"cluster\"") < text.find("\"tasks\""), "{text}");
        assert!(text.contains("1795533954.96"), "{text}");
        assert!(
            text.contains(r#""b","#) || text.contains("\"b\",\n"),
            "{text}"
        );
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn errors_quoting_the_file_stay_on_one_line() {
        check_error(
            r#"[{"service": "ecs\n", "operation": "DescribeTasks", "request": {}}]"#,
            "test.json: calls[0] (ecs\\n DescribeTasks): has neither `response` nor `error`",
        );
        let text = MINIMAL
            .replace("\"imported\"", "\"imp\\norted\"")
            .replace("CALLS", "[]");
        let err = Bundle::from_slice(text.as_bytes(), "test.json").expect_err("bad source");
        assert!(!err.to_string().contains('\n'), "{err}");
        assert!(err.to_string().contains("imp\\norted"), "{err}");
    }

    #[test]
    fn nesting_is_measured_outside_strings_only() {
        assert!(!nests_deeper_than("[]", 1));
        assert!(nests_deeper_than("[[]]", 1));
        assert!(!nests_deeper_than(r#"{"a": "[[[[", "b": [1]}"#, 2));
        assert!(nests_deeper_than(r#"{"a": "\\\"[[", "b": [[1]]}"#, 2));
        assert!(!nests_deeper_than(r#"[{"a": "x\\"}, {"b": []}]"#, 3));
        assert!(nests_deeper_than(r#"[{"a": "x\\"}, {"b": [[]]}]"#, 3));
        assert!(!nests_deeper_than("[[1], [2], [3], [4]]", 2));
    }

    #[test]
    fn no_limit_is_too_large() {
        for data in [&b"{}"[..], &[0x1f, 0x8b, 0, 0][..]] {
            // Either reads or fails cleanly; never overflows the limit arithmetic.
            let _ = read_maybe_gzip(data, "any", u64::MAX);
        }
        assert_eq!(
            read_maybe_gzip(&b"{}"[..], "any", u64::MAX).expect("reads"),
            b"{}"
        );
    }

    #[test]
    fn gzip_limit_stops_bombs() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b' '; 1 << 20]).expect("gzip");
        let gz = encoder.finish().expect("gzip");
        let err = read_maybe_gzip(gz.as_slice(), "bomb.json.gz", 1000).expect_err("too large");
        assert_eq!(
            err.to_string(),
            "bomb.json.gz: bundle is larger than 1000 bytes after decompression (the limit is `limits.max_bundle_bytes`)"
        );
    }
}
