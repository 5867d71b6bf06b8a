//! `bundle import`: builds a bundle from the JSON outputs of AWS CLI commands.
//!
//! Each file's operation is detected from its JSON shape. Output cut down with `--query` (a bare
//! task, a `tasks` array, a bare service or task definition) or copied from the console's JSON
//! view is put back into the response it came from (`{"tasks": [<the task>]}`), so the bundle
//! holds the responses a recording would; the call's `source_file` names the file. Files that
//! cannot be identified are returned as `Skipped` with the reason; nothing is dropped silently.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::bundle::{Bundle, Call, DEFAULT_MAX_BUNDLE_BYTES, FORMAT_NAME, Operation, Source};

/// The result of an import: the bundle and every input that did not make it in.
#[derive(Debug)]
pub struct Imported {
    pub bundle: Bundle,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
    /// The file looks like AWS data (a `.json` file, or text naming ECS, CloudWatch Logs or
    /// ELB fields): it may have held the answer, so a run that skipped it must not say
    /// "nothing wrong".
    pub relevant: bool,
}

/// Which file a call came from, as stored in `Call::source_file`.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    /// The name recorded in the bundle: the path relative to the directory given.
    pub display: String,
}

/// Imports files and directories (recursively, in sorted order).
///
/// `recorded_at` is the manifest's timestamp when given (`SOURCE_DATE_EPOCH`, a fixture's fixed
/// time); otherwise it is the latest time the outputs themselves hold (a stop, an event, a log
/// line), so importing the same files always gives the same bundle, and the same report.
pub fn import(paths: &[PathBuf], recorded_at: Option<String>) -> std::io::Result<Imported> {
    let mut inputs = Vec::new();
    for path in paths {
        collect_inputs(path, &mut inputs)?;
    }
    let mut bundle = Bundle::new(Source::Imported, String::new());
    let mut skipped = Vec::new();
    for input in inputs {
        match import_file(&input.path) {
            Ok(calls) => {
                for mut call in calls {
                    call.source_file = Some(input.display.clone());
                    bundle.calls.push(call);
                }
            }
            Err(reason) => skipped.push(Skipped {
                relevant: looks_like_aws_data(&input.path),
                path: input.path,
                reason,
            }),
        }
    }
    fill_manifest(&mut bundle);
    bundle.manifest.recorded_at = recorded_at.unwrap_or_else(|| {
        latest_time(&bundle)
            .unwrap_or(crate::time::Timestamp::from_millis(0))
            .to_string()
    });
    Ok(Imported { bundle, skipped })
}

/// Whether a file that could not be imported may still have held evidence: a JSON file, or a
/// text that names fields of ECS, CloudWatch Logs or ELBv2 output.
fn looks_like_aws_data(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".gz").unwrap_or(&name);
    if Path::new(stem)
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
    {
        return true;
    }
    let Ok(text) = std::fs::read(path) else {
        return false;
    };
    let text = String::from_utf8_lossy(&text[..text.len().min(1 << 20)]).into_owned();
    [
        "taskArn",
        "stoppedReason",
        "serviceArn",
        "taskDefinitionArn",
        "containerInstanceArn",
        "logStreamName",
        "TargetGroupArn",
        "arn:aws:ecs:",
    ]
    .iter()
    .any(|marker| text.contains(marker))
}

/// The latest time the outputs hold: task lifecycle times, service events and deployments,
/// task-definition registrations and log events.
fn latest_time(bundle: &Bundle) -> Option<crate::time::Timestamp> {
    use crate::bundle::Response;
    let mut times = Vec::new();
    for call in &bundle.calls {
        match call.parsed.as_ref() {
            Response::DescribeTasks(response) => {
                for task in &response.tasks {
                    times.extend(
                        [
                            task.created_at,
                            task.started_at,
                            task.stopping_at,
                            task.execution_stopped_at,
                            task.stopped_at,
                        ]
                        .into_iter()
                        .flatten()
                        .map(|t| t.0),
                    );
                }
            }
            Response::DescribeServices(response) => {
                for service in &response.services {
                    times.extend(
                        service
                            .events
                            .iter()
                            .filter_map(|e| e.created_at)
                            .map(|t| t.0),
                    );
                    times.extend(
                        service
                            .deployments
                            .iter()
                            .flat_map(|d| [d.created_at, d.updated_at])
                            .flatten()
                            .map(|t| t.0),
                    );
                }
            }
            Response::DescribeTaskDefinition(response) => {
                times.extend(
                    response
                        .task_definition
                        .as_ref()
                        .and_then(|d| d.registered_at)
                        .map(|t| t.0),
                );
            }
            Response::EcsEvents(response) => {
                times.extend(response.events.iter().filter_map(|e| e.time).map(|t| t.0));
            }
            Response::GetLogEvents(crate::model::GetLogEventsResponse { events, .. })
            | Response::FilterLogEvents(crate::model::FilterLogEventsResponse { events, .. }) => {
                times.extend(events.iter().filter_map(|e| e.timestamp).map(|t| t.0));
            }
            _ => {}
        }
    }
    times.into_iter().max()
}

/// Names the AWS operation whose AWS CLI output has this JSON shape.
pub fn detect_operation(value: &Value) -> Result<Operation, String> {
    let object = match value {
        Value::Object(object) => object,
        Value::Array(_) => {
            return Err(
                "top-level JSON is an array, not an AWS CLI response (was it filtered with --query?)"
                    .to_owned(),
            );
        }
        _ => return Err("top-level JSON is not an object".to_owned()),
    };
    let is_array = |key: &str| object.get(key).is_some_and(Value::is_array);
    let has = |key: &str| object.contains_key(key);

    if object
        .get("manifest")
        .and_then(|m| m.get("format"))
        .and_then(Value::as_str)
        == Some(FORMAT_NAME)
    {
        return Err(
            "this is already an ecs-autopsy bundle: pass it to `replay` directly".to_owned(),
        );
    }
    if is_array("tasks") {
        return Ok(Operation::DescribeTasks);
    }
    if is_array("services") {
        return Ok(Operation::DescribeServices);
    }
    if object.get("taskDefinition").is_some_and(Value::is_object) {
        return Ok(Operation::DescribeTaskDefinition);
    }
    if is_array("taskArns") {
        return Ok(Operation::ListTasks);
    }
    if is_array("serviceArns") {
        return Ok(Operation::ListServices);
    }
    if is_array("containerInstances") {
        return Ok(Operation::DescribeContainerInstances);
    }
    if let Some(deployments) = object.get("serviceDeployments").and_then(Value::as_array) {
        // `list-service-deployments` gives briefs (`targetServiceRevisionArn`);
        // `describe-service-deployments` whole deployments, with `failures`.
        let brief = deployments
            .iter()
            .any(|d| d.get("targetServiceRevisionArn").is_some());
        let whole = has("failures")
            || deployments.iter().any(|d| {
                [
                    "targetServiceRevision",
                    "sourceServiceRevisions",
                    "deploymentConfiguration",
                ]
                .iter()
                .any(|key| d.get(key).is_some())
            });
        return Ok(if whole && !brief {
            Operation::DescribeServiceDeployments
        } else {
            Operation::ListServiceDeployments
        });
    }
    if is_array("serviceRevisions") {
        return Ok(Operation::DescribeServiceRevisions);
    }
    if is_array("protectedTasks") {
        return Ok(Operation::GetTaskProtection);
    }
    if is_array("clusters") {
        return Ok(Operation::DescribeClusters);
    }
    // `aws logs get-query-results`: rows of `{field, value}` pairs, with the query's status.
    if is_array("results") && (has("status") || has("statistics")) {
        return Ok(Operation::GetQueryResults);
    }
    // `aws cloudtrail lookup-events`.
    if let Some(events) = object.get("Events").and_then(Value::as_array)
        && (events.is_empty()
            || events
                .iter()
                .any(|e| e.get("CloudTrailEvent").is_some() || e.get("EventName").is_some()))
    {
        return Ok(Operation::LookupEvents);
    }
    if is_array("events") {
        let events = object.get("events").and_then(Value::as_array);
        let any_event_has = |key: &str| {
            events.is_some_and(|events| events.iter().any(|event| event.get(key).is_some()))
        };
        if has("searchedLogStreams") || any_event_has("logStreamName") || any_event_has("eventId") {
            return Ok(Operation::FilterLogEvents);
        }
        if has("nextForwardToken") || has("nextBackwardToken") || any_event_has("ingestionTime") {
            return Ok(Operation::GetLogEvents);
        }
        return Err(
            "has `events` but neither log-event fields nor CloudWatch Logs tokens".to_owned(),
        );
    }
    if is_array("TargetGroups") {
        return Ok(Operation::DescribeTargetGroups);
    }
    if is_array("TargetHealthDescriptions") {
        return Ok(Operation::DescribeTargetHealth);
    }
    if object
        .get("Attributes")
        .and_then(Value::as_array)
        .is_some_and(|items| items.iter().all(|item| item.get("Key").is_some()))
    {
        return Ok(Operation::DescribeTargetGroupAttributes);
    }
    let mut keys: Vec<&str> = object.keys().map(String::as_str).take(8).collect();
    if object.len() > keys.len() {
        keys.push("…");
    }
    Err(format!(
        "not the output of a supported AWS CLI command (top-level keys: {})",
        if keys.is_empty() {
            "none".to_owned()
        } else {
            keys.join(", ")
        }
    ))
}

fn collect_inputs(path: &Path, inputs: &mut Vec<Input>) -> std::io::Result<()> {
    let metadata = std::fs::metadata(path)
        .map_err(|err| std::io::Error::new(err.kind(), format!("{}: {err}", path.display())))?;
    if metadata.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files)?;
        files.sort();
        for file in files {
            let display = file
                .strip_prefix(path)
                .unwrap_or(&file)
                .to_string_lossy()
                .replace('\\', "/");
            inputs.push(Input {
                path: file,
                display,
            });
        }
    } else {
        let display = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        inputs.push(Input {
            path: path.to_path_buf(),
            display,
        });
    }
    Ok(())
}

/// Every regular file below `dir`, recursively, in no particular order (callers sort).
pub fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)
        .map_err(|err| std::io::Error::new(err.kind(), format!("{}: {err}", dir.display())))?
    {
        let entry = entry?;
        let path = entry.path();
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            walk(&path, files)?;
        } else if file_type.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

fn import_file(path: &Path) -> Result<Vec<Call>, String> {
    let file = std::fs::File::open(path).map_err(|err| format!("cannot read: {err}"))?;
    import_reader(file, &path.display().to_string())
}

/// One AWS CLI output (plain or gzip) as a call, or an EventBridge event file (or SQS batch)
/// as the calls that hold its events (`crate::events`), or why it is neither, on one line.
/// `name` is used in errors.
pub fn import_reader(reader: impl std::io::Read, name: &str) -> Result<Vec<Call>, String> {
    read_calls(reader, name).map_err(|reason| crate::bundle::one_line(&reason))
}

fn read_calls(reader: impl std::io::Read, name: &str) -> Result<Vec<Call>, String> {
    let bytes = crate::bundle::read_maybe_gzip(reader, name, DEFAULT_MAX_BUNDLE_BYTES)
        .map_err(|err| err.to_string())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|err| {
        format!(
            "not JSON (line {} column {}): {}",
            err.line(),
            err.column(),
            err.to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
        )
    })?;
    if let Some(found) = crate::events::find(&value) {
        return crate::events::to_calls(&found?);
    }
    let (value, root) = reshape(value)?;
    let operation = detect_operation(&value)?;
    let raw = serde_json::value::to_raw_value(&value).map_err(|err| err.to_string())?;
    let mut call = Call::new(operation, Value::Object(serde_json::Map::new()), raw)
        .map_err(|message| format!("looks like `{operation}` output but {message}"))?;
    call.source_root = root.map(str::to_owned);
    Ok(vec![call])
}

/// Puts output cut down with `--query`, or copied from the console's JSON view, back into the
/// response it came from: a bare task or an array of tasks into `{"tasks": […]}`, a bare service
/// or an array of them into `{"services": […]}`, a bare task definition into
/// `{"taskDefinition": …}`, a bare container instance, an array of task ARNs, an array of log
/// events. A whole response is returned as it is.
pub fn wrap_partial_output(value: Value) -> Result<Value, String> {
    reshape(value).map(|(value, _)| value)
}

/// `wrap_partial_output`, and where the file's top level now sits in the response (`tasks[0]`
/// for a bare task, `tasks` for an array of them), when it was put back.
fn reshape(value: Value) -> Result<(Value, Option<&'static str>), String> {
    fn is_task(v: &Value) -> bool {
        v.get("taskArn").is_some()
            && (v.get("containers").is_some() || v.get("lastStatus").is_some())
    }
    fn is_service(v: &Value) -> bool {
        v.get("serviceArn").is_some()
            || (v.get("serviceName").is_some()
                && ["deployments", "events", "desiredCount"]
                    .iter()
                    .any(|key| v.get(key).is_some()))
    }
    /// As DescribeTaskDefinition returns it, or as kept in a repository for
    /// `register-task-definition` (a family, no ARN yet).
    fn is_task_definition(v: &Value) -> bool {
        v.get("containerDefinitions").is_some_and(Value::is_array)
            && (v.get("taskDefinitionArn").is_some() || v.get("family").is_some())
    }
    fn is_container_instance(v: &Value) -> bool {
        v.get("containerInstanceArn").is_some() && v.get("ec2InstanceId").is_some()
    }
    fn is_log_event(v: &Value) -> bool {
        v.get("timestamp").is_some() && v.get("message").is_some()
    }
    let wrap =
        |key: &str, items: Value| Value::Object(std::iter::once((key.to_owned(), items)).collect());
    match value {
        Value::Object(ref object) if detect_operation(&value).is_ok() || object.is_empty() => {
            Ok((value, None))
        }
        Value::Object(_) if is_task(&value) => {
            Ok((wrap("tasks", Value::Array(vec![value])), Some("tasks[0]")))
        }
        Value::Object(_) if is_task_definition(&value) => {
            Ok((wrap("taskDefinition", value), Some("taskDefinition")))
        }
        Value::Object(_) if is_service(&value) => Ok((
            wrap("services", Value::Array(vec![value])),
            Some("services[0]"),
        )),
        Value::Object(_) if is_container_instance(&value) => Ok((
            wrap("containerInstances", Value::Array(vec![value])),
            Some("containerInstances[0]"),
        )),
        Value::Array(items) if !items.is_empty() => {
            let all = |test: fn(&Value) -> bool| items.iter().all(test);
            if all(is_task) {
                Ok((wrap("tasks", Value::Array(items)), Some("tasks")))
            } else if all(is_service) {
                Ok((wrap("services", Value::Array(items)), Some("services")))
            } else if all(is_container_instance) {
                Ok((
                    wrap("containerInstances", Value::Array(items)),
                    Some("containerInstances"),
                ))
            } else if all(is_log_event) {
                Ok((wrap("events", Value::Array(items)), Some("events")))
            } else if all(|v| {
                v.as_str()
                    .is_some_and(|arn| arn.starts_with("arn:") && arn.contains(":task/"))
            }) {
                Ok((wrap("taskArns", Value::Array(items)), Some("taskArns")))
            } else if items.len() > 1 && all(is_task_definition) {
                Err("holds several task definitions: save each `aws ecs describe-task-definition` output in a file of its own".to_owned())
            } else if let [only] = items.as_slice()
                && is_task_definition(only)
            {
                Ok((
                    wrap("taskDefinition", only.clone()),
                    Some("taskDefinition=[0]"),
                ))
            } else {
                Err("top-level JSON is an array of values that are not tasks, services, container instances, log events or task ARNs (was it filtered with --query?)".to_owned())
            }
        }
        other => Ok((other, None)),
    }
}

/// Fills region, account, cluster and the selected services from the ARNs in the responses.
fn fill_manifest(bundle: &mut Bundle) {
    use crate::bundle::Response;
    let mut arns: Vec<&str> = Vec::new();
    let mut services: Vec<String> = Vec::new();
    for call in &bundle.calls {
        match call.parsed.as_ref() {
            Response::DescribeTasks(response) => {
                arns.extend(response.tasks.iter().filter_map(|t| t.task_arn.as_deref()));
            }
            Response::DescribeServices(response) => {
                for service in &response.services {
                    arns.extend(service.service_arn.as_deref());
                    if let Some(name) = &service.service_name {
                        services.push(name.clone());
                    }
                }
            }
            Response::ListTasks(response) => {
                arns.extend(response.task_arns.iter().map(String::as_str));
            }
            Response::DescribeServiceDeployments(response) => {
                for deployment in &response.service_deployments {
                    arns.extend(deployment.service_arn.as_deref());
                    if let Some(name) = deployment.service_name() {
                        services.push(name.to_owned());
                    }
                }
            }
            Response::EcsEvents(response) => {
                for event in &response.events {
                    arns.extend(event.resources.iter().map(String::as_str));
                    arns.extend(event.detail.task_arn.as_deref());
                    if let Some(name) = event.service_name() {
                        services.push(name.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    let parsed: Vec<ArnParts> = arns.iter().filter_map(|arn| ArnParts::parse(arn)).collect();
    let manifest = &mut bundle.manifest;
    manifest.region = parsed.iter().find_map(|p| p.region.clone());
    manifest.account = parsed.iter().find_map(|p| p.account.clone());
    manifest.cluster = parsed.iter().find_map(|p| p.cluster.clone());
    services.sort();
    services.dedup();
    manifest.selection.services = services;
}

/// The parts of an ECS ARN that name where a resource lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnParts {
    pub region: Option<String>,
    pub account: Option<String>,
    /// The cluster, for task and (new-format) service ARNs.
    pub cluster: Option<String>,
}

impl ArnParts {
    /// Parses `arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID` and `…:service/CLUSTER/NAME`.
    pub fn parse(arn: &str) -> Option<ArnParts> {
        let mut parts = arn.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let _partition = parts.next()?;
        let _service = parts.next()?;
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let region = non_empty(parts.next()?);
        let account = non_empty(parts.next()?);
        let resource = parts.next()?;
        let segments: Vec<&str> = resource.split('/').collect();
        let cluster = match segments.as_slice() {
            ["task" | "service" | "container-instance", cluster, _] => non_empty(cluster),
            _ => None,
        };
        Some(ArnParts {
            region,
            account,
            cluster,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_detect(json: &str, expect: Result<&str, &str>) {
        let value: Value = serde_json::from_str(json).expect("test JSON parses");
        let actual = detect_operation(&value).map(Operation::name);
        match (actual, expect) {
            (Ok(actual), Ok(expect)) => assert_eq!(actual, expect),
            (Err(actual), Err(expect)) => {
                assert!(
                    actual.contains(expect),
                    "{actual:?} does not contain {expect:?}"
                );
            }
            (actual, expect) => panic!("got {actual:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn detects_each_cli_output() {
        check_detect(r#"{"tasks": [], "failures": []}"#, Ok("DescribeTasks"));
        check_detect(
            r#"{"services": [], "failures": []}"#,
            Ok("DescribeServices"),
        );
        check_detect(
            r#"{"taskDefinition": {"family": "web"}}"#,
            Ok("DescribeTaskDefinition"),
        );
        check_detect(r#"{"taskArns": []}"#, Ok("ListTasks"));
        check_detect(
            r#"{"containerInstances": [], "failures": []}"#,
            Ok("DescribeContainerInstances"),
        );
        check_detect(
            r#"{"events": [{"timestamp": 1, "message": "x", "ingestionTime": 2}], "nextForwardToken": "f/1", "nextBackwardToken": "b/1"}"#,
            Ok("GetLogEvents"),
        );
        check_detect(
            r#"{"events": [{"logStreamName": "ecs/web/1", "timestamp": 1, "message": "x", "eventId": "1"}], "searchedLogStreams": []}"#,
            Ok("FilterLogEvents"),
        );
        check_detect(r#"{"TargetGroups": []}"#, Ok("DescribeTargetGroups"));
        check_detect(
            r#"{"Attributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "300"}]}"#,
            Ok("DescribeTargetGroupAttributes"),
        );
        check_detect(
            r#"{"TargetHealthDescriptions": []}"#,
            Ok("DescribeTargetHealth"),
        );
        check_detect(
            r#"{"serviceRevisions": [], "failures": []}"#,
            Ok("DescribeServiceRevisions"),
        );
        check_detect(
            r#"{"protectedTasks": [], "failures": []}"#,
            Ok("GetTaskProtection"),
        );
        check_detect(
            r#"{"serviceDeployments": []}"#,
            Ok("ListServiceDeployments"),
        );
        // The AWS CLI's own examples: `describe-clusters --include SETTINGS` (a runbook's output
        // of it), `get-query-results` (awscli/examples/logs/get-query-results.rst, its first row)
        // and `lookup-events` (awscli/examples/cloudtrail/lookup-events.rst, shortened).
        check_detect(
            r#"{"clusters": [{"clusterName": "acimtl-prod-api", "settings": [{"name": "containerInsights", "value": "enabled"}]}], "failures": []}"#,
            Ok("DescribeClusters"),
        );
        check_detect(
            r#"{"results": [[{"field": "@timestamp", "value": "2024-05-19 06:10:35.743"}, {"field": "@message", "value": "Test BENCHMARK 3"}, {"field": "@logStream", "value": "TestStream"}]], "statistics": {"recordsMatched": 3.0, "recordsScanned": 3.0, "bytesScanned": 141.0}, "status": "Complete"}"#,
            Ok("GetQueryResults"),
        );
        check_detect(
            r#"{"Events": [{"EventId": "654ccbc0-ba0d-486a-9076-dbf7274677a7", "Username": "my-session-name", "EventTime": "2021-11-18T09:41:02-08:00", "CloudTrailEvent": "{}", "EventName": "ConsoleLogin", "Resources": []}]}"#,
            Ok("LookupEvents"),
        );
        check_detect(
            r#"{"serviceDeployments": [], "failures": []}"#,
            Ok("DescribeServiceDeployments"),
        );
        // AWS's own examples of each (recorder/tests/data/service-deployments).
        for (file, operation) in [
            ("list-service-deployments", "ListServiceDeployments"),
            ("describe-service-deployments", "DescribeServiceDeployments"),
            ("describe-service-revisions", "DescribeServiceRevisions"),
            ("get-task-protection", "GetTaskProtection"),
        ] {
            let path = format!(
                "{}/tests/data/service-deployments/{file}.json",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read_to_string(&path).expect("example exists");
            check_detect(&text, Ok(operation));
        }
    }

    #[test]
    fn explains_what_it_cannot_identify() {
        check_detect(r#"[{"stoppedReason": "x"}]"#, Err("--query"));
        check_detect(r#""text""#, Err("not an object"));
        check_detect(
            r#"{"capacityProviders": []}"#,
            Err("top-level keys: capacityProviders"),
        );
        check_detect(
            r#"{"events": [{"message": "x"}]}"#,
            Err("neither log-event fields"),
        );
        check_detect(
            r#"{"manifest": {"format": "ecs-autopsy-bundle"}, "calls": []}"#,
            Err("already an ecs-autopsy bundle"),
        );
    }

    #[test]
    fn arn_parts() {
        let parts =
            ArnParts::parse("arn:aws:ecs:eu-west-1:123456789012:task/prod/0f3c9a").expect("parses");
        assert_eq!(parts.region.as_deref(), Some("eu-west-1"));
        assert_eq!(parts.account.as_deref(), Some("123456789012"));
        assert_eq!(parts.cluster.as_deref(), Some("prod"));
        let old =
            ArnParts::parse("arn:aws:ecs:eu-west-1:123456789012:service/api").expect("parses");
        assert_eq!(old.cluster, None);
        assert_eq!(ArnParts::parse("not-an-arn"), None);
    }
}
