//! Facts about how a task got started, or did not: the image pull failure, the start-up
//! network failure, the task's subnet and address, and the identical tasks that did start.
//! Native, because they read the evidence by structure and need its index; the judgements and
//! the wording of findings stay in the rules.

use std::sync::Arc;
use std::sync::LazyLock;

use regex::Regex;
use rhai::{Array, Dynamic, Map};
use serde_json::Value;

use recorder::model;

use crate::classify::image::ImageRef;
use crate::classify::network::{is_network_failure, network_cause, network_target_named};
use crate::classify::pull::{self, PullClass, PullContext, PullFailure};
use crate::evidence::TaskRecord;
use crate::model::Fact;
use crate::runtime::api::{TaskHandle, json, string};

static PULL_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"CannotPull\w*Error|(?:pull image manifest|ref pull|inspect image) has been retried|failed to normalize image reference|invalid reference format",
    )
    .expect("valid")
});
static PULL_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"failed to resolve (?:ref|reference) "?([^"\s]+?)"?:?\s|pull access denied for ([^,\s]+)|repository (\S+) not found"#)
        .expect("valid")
});

/// A task's image pull failure.
struct PullFact {
    /// The error: a container's `reason`, else the task's `stoppedReason`.
    text: String,
    /// Where `text` is in the bundle.
    path: String,
    /// The container whose pull failed, when one says so.
    container: Option<String>,
    /// The image it was pulling (from the container, the error text, or the only container).
    image: String,
    class: PullClass,
}

/// What the pull's classification may use besides the text: the task's account and whether
/// the container definition of `container` gives registry credentials.
fn pull_context<'a>(
    record: &'a TaskRecord,
    definition: Option<&model::TaskDefinition>,
    container: Option<&str>,
) -> PullContext<'a> {
    let task_account = record
        .task
        .task_arn
        .as_deref()
        .and_then(|arn| arn.split(':').nth(4))
        .filter(|account| !account.is_empty());
    let has_credentials = definition.is_some_and(|definition| {
        definition
            .container_definitions
            .iter()
            .filter(|c| container.is_none() || c.name.as_deref() == container)
            .any(|c| c.repository_credentials.is_some())
    });
    // The author wrote a digest into the image reference: the task definition's image, or
    // the image DescribeTasks reports (the definition's, as written) of a container.
    let digest_in_definition = definition.is_some_and(|definition| {
        definition
            .container_definitions
            .iter()
            .filter(|c| container.is_none() || c.name.as_deref() == container)
            .any(|c| c.image.as_deref().is_some_and(|i| i.contains("@sha256:")))
    }) || record
        .task
        .containers
        .iter()
        .filter(|c| container.is_none() || c.name.as_deref() == container)
        .any(|c| c.image.as_deref().is_some_and(|i| i.contains("@sha256:")));
    PullContext {
        task_account,
        has_credentials,
        digest_in_definition,
    }
}

fn pull_fact(record: &TaskRecord, definition: Option<&model::TaskDefinition>) -> Option<PullFact> {
    let from_container = record
        .task
        .containers
        .iter()
        .enumerate()
        .find(|(_, c)| c.reason.as_deref().is_some_and(|r| PULL_ERROR.is_match(r)));
    let from_task = record
        .task
        .stopped_reason
        .as_deref()
        .filter(|reason| PULL_ERROR.is_match(reason))
        .map(|reason| {
            (
                reason.to_owned(),
                format!("{}.stoppedReason", record.loc.path()),
            )
        });
    let (text, path, container) = if let Some((index, c)) = from_container {
        let text = c.reason.clone().unwrap_or_default();
        let image = ImageRef::parse(c.image.as_deref().unwrap_or_default());
        let context = pull_context(record, definition, c.name.as_deref());
        let kind = |text: &str| pull::classify(text, &image, context).failure;
        // A container reason is capped at 255 characters: when the cut left nothing to
        // classify, the task's stop reason may still hold the whole text.
        let unknown = kind(&text) == PullFailure::Unknown;
        let whole = from_task.filter(|(reason, _)| unknown && kind(reason) != PullFailure::Unknown);
        match whole {
            Some((reason, path)) => (reason, path, Some(c)),
            None => (
                text,
                format!("{}.containers[{index}].reason", record.loc.path()),
                Some(c),
            ),
        }
    } else {
        let (text, path) = from_task?;
        (text, path, None)
    };
    let from_text = PULL_REF.captures(&text).and_then(|captures| {
        (1..=3)
            .find_map(|group| captures.get(group))
            .map(|m| m.as_str().to_owned())
    });
    let image = container
        .and_then(|c| c.image.clone())
        .or(from_text)
        .or_else(|| match record.task.containers.as_slice() {
            [only] => only.image.clone(),
            _ => None,
        })
        .unwrap_or_default();
    let name = container.and_then(|c| c.name.clone());
    let context = pull_context(record, definition, name.as_deref());
    let class = pull::classify(&text, &ImageRef::parse(&image), context);
    Some(PullFact {
        text,
        path,
        container: name,
        image,
        class,
    })
}

/// `task.pull_failure()`: the task's image pull failure as a map, or `()`.
pub(super) fn pull_failure(task: &TaskHandle) -> Dynamic {
    let Some(pull) = pull_fact(task.record(), task.definition()) else {
        return Dynamic::UNIT;
    };
    let mut map = Map::new();
    map.insert("text".into(), pull.text.clone().into());
    map.insert("image".into(), pull.image.into());
    map.insert("kind".into(), pull.class.failure.as_str().into());
    map.insert("why".into(), pull.class.why.into());
    map.insert("container".into(), string(pull.container.as_ref()));
    map.insert(
        "fact".into(),
        Dynamic::from(Fact {
            path: pull.path,
            value: Value::String(pull.text),
            label: None,
        }),
    );
    Dynamic::from_map(map)
}

/// `task.network_failure()`: the task could not reach an endpoint it needs to start (a
/// container's `reason`, else the task's `stoppedReason`, naming a network error that no other
/// failure mode owns), as a map of `text`, `fact`, `container`, `target` and `cause`, or `()`.
/// Only tasks that failed before their containers ran.
pub(super) fn network_failure(task: &TaskHandle) -> Dynamic {
    let record = task.record();
    let never_started = record.task.started_at.is_none()
        || record.task.stop_code.as_deref() == Some("TaskFailedToStart");
    if !never_started {
        return Dynamic::UNIT;
    }
    let from_containers = record
        .task
        .containers
        .iter()
        .enumerate()
        .filter_map(|(index, c)| {
            let reason = c
                .reason
                .as_deref()
                .filter(|r| !r.is_empty() && c.exit_code.is_none())?;
            Some((
                reason,
                format!("{}.containers[{index}].reason", record.loc.path()),
                c.name.clone().unwrap_or_default(),
            ))
        });
    let from_task = record
        .task
        .stopped_reason
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|reason| {
            (
                reason,
                format!("{}.stoppedReason", record.loc.path()),
                String::new(),
            )
        });
    let Some((text, path, container)) = from_containers
        .chain(from_task)
        .find(|(text, _, _)| is_network_failure(text))
    else {
        return Dynamic::UNIT;
    };
    let mut map = Map::new();
    map.insert("text".into(), text.into());
    map.insert(
        "fact".into(),
        Dynamic::from(Fact {
            path,
            value: Value::String(text.to_owned()),
            label: None,
        }),
    );
    map.insert("container".into(), container.into());
    map.insert("target".into(), network_target(record, text).into());
    map.insert("cause".into(), network_cause(text).into());
    Dynamic::from_map(map)
}

/// What a task was trying to reach when the network failed: the endpoint the error names, else
/// the registry of the image it was pulling.
fn network_target(record: &TaskRecord, text: &str) -> String {
    if let Some(named) = network_target_named(text) {
        return named.to_owned();
    }
    if let Some(pull) = pull_fact(record, None).filter(|pull| !pull.image.is_empty()) {
        let image = ImageRef::parse(&pull.image);
        return if image.is_ecr() {
            "Amazon ECR".to_owned()
        } else if image.is_docker_hub() {
            "Docker Hub".to_owned()
        } else {
            image.registry
        };
    }
    if text.to_lowercase().contains("docker.io") {
        return "Docker Hub".to_owned();
    }
    "the endpoints it needs (ECR, Secrets Manager, SSM, CloudWatch Logs)".to_owned()
}

/// The first `details` entry named `name` with a value, over a task's attachments: its value
/// and the path of that value.
fn attachment_detail<'t>(record: &'t TaskRecord, name: &str) -> Option<(&'t Value, String)> {
    for (i, attachment) in record.task.attachments.iter().enumerate() {
        let Some(details) = attachment.get("details").and_then(Value::as_array) else {
            continue;
        };
        for (j, detail) in details.iter().enumerate() {
            let value = detail.get("value").filter(|v| !v.is_null());
            if detail.get("name").and_then(Value::as_str) == Some(name)
                && let Some(value) = value
            {
                return Some((
                    value,
                    format!("{}.attachments[{i}].details[{j}].value", record.loc.path()),
                ));
            }
        }
    }
    None
}

/// `task.subnet()`: the subnet of the task's ENI as `#{ id, fact }`, or `()` (EC2 bridge or host
/// networking).
pub(super) fn subnet(task: &TaskHandle) -> Dynamic {
    match attachment_detail(task.record(), "subnetId") {
        Some((value, path)) => {
            let mut map = Map::new();
            map.insert("id".into(), json(value));
            map.insert(
                "fact".into(),
                Dynamic::from(Fact {
                    path,
                    value: value.clone(),
                    label: None,
                }),
            );
            Dynamic::from_map(map)
        }
        None => Dynamic::UNIT,
    }
}

/// `task.private_ip()`: the task's private IPv4 address (awsvpc), or `""`.
pub(super) fn private_ip(task: &TaskHandle) -> Dynamic {
    attachment_detail(task.record(), "privateIPv4Address")
        .map_or_else(|| Dynamic::from(""), |(value, _)| json(value))
}

/// `task.started_neighbours()`: the identical tasks (same task definition) that got past
/// start-up, so could reach the endpoints this one needed: started not more than an hour before
/// this task was created (a task started days ago proves nothing about the network now), in the
/// same subnet when both subnets are known. `#{ tasks, elsewhere }`: `elsewhere` holds those
/// that started in another subnet.
pub(super) fn started_neighbours(task: &TaskHandle) -> Map {
    let me = task.task();
    let my_arn = me.task_arn.as_deref().unwrap_or_default();
    let my_subnet = attachment_detail(task.record(), "subnetId").map(|(value, _)| value);
    let mut found = Array::new();
    let mut elsewhere = Array::new();
    let definition = me.task_definition_arn.as_deref().unwrap_or_default();
    for &other in task.ev.started_tasks_of(definition) {
        let record = &task.ev.tasks[other];
        let them: &model::Task = &record.task;
        if them.task_arn.as_deref().unwrap_or_default() == my_arn {
            continue;
        }
        let before = them
            .started_at
            .zip(me.created_at)
            .map(|(started, created)| started.0.seconds_until(created.0));
        if before.is_some_and(|seconds| seconds > 3600.0) {
            continue;
        }
        let handle = Dynamic::from(TaskHandle {
            ev: Arc::clone(&task.ev),
            index: other,
        });
        let their_subnet = attachment_detail(record, "subnetId").map(|(value, _)| value);
        match (my_subnet, their_subnet) {
            (Some(mine), Some(theirs)) if mine != theirs => elsewhere.push(handle),
            _ => found.push(handle),
        }
    }
    let mut map = Map::new();
    map.insert("tasks".into(), found.into());
    map.insert("elsewhere".into(), elsewhere.into());
    map
}
