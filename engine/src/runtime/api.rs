//! The evidence API rules see: read-only handle types with AWS-spelled properties.
//!
//! Conventions: absent strings read as `""`, absent numbers, booleans and timestamps as `()`.
//! Timestamps are RFC 3339 strings in UTC with milliseconds. Nested AWS structures that the
//! engine does not model read as Rhai maps and arrays. No setter is registered anywhere.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map};
use serde::Serialize;
use serde_json::Value;

use recorder::model;
use recorder::time::EpochSeconds;

use crate::evidence::{Evidence, LogLine, TaskRecord};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// `ev`, the argument of every rule's `check`.
#[derive(Debug, Clone)]
pub(crate) struct EvidenceHandle(pub Arc<Evidence>);

#[derive(Debug, Clone)]
pub(crate) struct TaskHandle {
    ev: Arc<Evidence>,
    index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct ContainerHandle {
    ev: Arc<Evidence>,
    task: usize,
    index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct TaskDefinitionHandle {
    ev: Arc<Evidence>,
    index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct ContainerDefinitionHandle {
    ev: Arc<Evidence>,
    definition: usize,
    index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct ServiceHandle {
    ev: Arc<Evidence>,
    index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct ServiceEventHandle {
    ev: Arc<Evidence>,
    service: usize,
    index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct LogLineHandle {
    ev: Arc<Evidence>,
    stream: usize,
    index: usize,
}

/// One piece of evidence: a path in the bundle and the value found there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    pub path: String,
    pub value: Value,
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// Index into `Evidence::tasks`, and the container the finding points at, if any.
    Task {
        task: usize,
        container: Option<String>,
    },
    /// Index into `Evidence::services`.
    Service(usize),
}

/// A finding as a rule builds it, before the engine stamps the rule id on it.
#[derive(Debug, Clone)]
pub struct ScriptFinding {
    pub subject: Subject,
    pub message: String,
    pub evidence: Vec<Fact>,
    pub hint: Option<String>,
    pub doc_url: Option<String>,
    /// Set by `.symptom()`: a consequence of another finding's root cause.
    pub symptom: bool,
    /// Set by `.caused_by(task)`: the task whose root cause this symptom follows from.
    pub caused_by: Option<usize>,
}

impl TaskHandle {
    fn record(&self) -> &TaskRecord {
        &self.ev.tasks[self.index]
    }
    fn task(&self) -> &model::Task {
        &self.record().task
    }
}

impl ContainerHandle {
    fn container(&self) -> &model::Container {
        &self.ev.tasks[self.task].task.containers[self.index]
    }
    fn path(&self) -> String {
        format!(
            "{}.containers[{}]",
            self.ev.tasks[self.task].loc.path(),
            self.index
        )
    }
    fn definition(&self) -> Option<ContainerDefinitionHandle> {
        let definition = self.ev.tasks[self.task].task_definition?;
        let name = self.container().name.as_deref()?;
        container_definition(&self.ev, definition, name)
    }
}

impl TaskDefinitionHandle {
    fn definition(&self) -> &model::TaskDefinition {
        &self.ev.task_definitions[self.index].definition
    }
}

impl ContainerDefinitionHandle {
    fn definition(&self) -> &model::ContainerDefinition {
        &self.ev.task_definitions[self.definition]
            .definition
            .container_definitions[self.index]
    }
    fn path(&self) -> String {
        format!(
            "{}.containerDefinitions[{}]",
            self.ev.task_definitions[self.definition].loc.path(),
            self.index
        )
    }
}

impl ServiceHandle {
    fn service(&self) -> &model::Service {
        &self.ev.services[self.index].value
    }
}

impl ServiceEventHandle {
    fn event(&self) -> &model::ServiceEvent {
        &self.ev.services[self.service].value.events[self.index]
    }
}

impl LogLineHandle {
    fn line(&self) -> &LogLine {
        &self.ev.log_streams[self.stream].lines[self.index]
    }
}

fn container_definition(
    ev: &Arc<Evidence>,
    definition: usize,
    name: &str,
) -> Option<ContainerDefinitionHandle> {
    let index = ev.task_definitions[definition]
        .definition
        .container_definitions
        .iter()
        .position(|c| c.name.as_deref() == Some(name))?;
    Some(ContainerDefinitionHandle {
        ev: Arc::clone(ev),
        definition,
        index,
    })
}

fn string(value: Option<&String>) -> Dynamic {
    value.map_or_else(|| Dynamic::from(""), |s| Dynamic::from(s.clone()))
}

fn int(value: Option<i64>) -> Dynamic {
    value.map_or(Dynamic::UNIT, Dynamic::from)
}

fn time(value: Option<EpochSeconds>) -> Dynamic {
    value.map_or(Dynamic::UNIT, |t| Dynamic::from(t.0.to_string()))
}

fn json<T: Serialize>(value: &T) -> Dynamic {
    rhai::serde::to_dynamic(value).unwrap_or(Dynamic::UNIT)
}

fn option<T: Clone + Send + Sync + 'static>(value: Option<T>) -> Dynamic {
    value.map_or(Dynamic::UNIT, Dynamic::from)
}

fn array<T: Clone + Send + Sync + 'static>(items: impl Iterator<Item = T>) -> Array {
    items.map(Dynamic::from).collect()
}

/// Cites `field` (a dotted path, `a.b[2].c`) of a serialisable record found at `base`.
fn cite<T: Serialize>(base: &str, record: &T, field: &str) -> RhaiResult<Fact> {
    let root = serde_json::to_value(record).unwrap_or(Value::Null);
    let mut value = &root;
    for segment in field.split('.') {
        let (name, indexes) = match segment.find('[') {
            Some(at) => (&segment[..at], &segment[at..]),
            None => (segment, ""),
        };
        if !name.is_empty() {
            value = value.get(name).unwrap_or(&Value::Null);
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            let index: usize = index
                .trim_end_matches(']')
                .parse()
                .map_err(|_| format!("invalid index in evidence path `{field}`"))?;
            value = value.get(index).unwrap_or(&Value::Null);
        }
    }
    Ok(Fact {
        path: format!("{base}.{field}"),
        value: value.clone(),
    })
}

fn task_handles(ev: &Arc<Evidence>, indexes: impl Iterator<Item = usize>) -> Array {
    array(indexes.map(|index| TaskHandle {
        ev: Arc::clone(ev),
        index,
    }))
}

fn log_lines(ev: &Arc<Evidence>, task_id: &str, container: Option<&str>) -> Array {
    let mut lines: Vec<LogLineHandle> = Vec::new();
    for (stream_index, stream) in ev.task_streams(task_id, container) {
        lines.extend((0..stream.lines.len()).map(|index| LogLineHandle {
            ev: Arc::clone(ev),
            stream: stream_index,
            index,
        }));
    }
    lines.sort_by_key(|handle| handle.line().timestamp);
    array(lines.into_iter())
}

fn grep(lines: Array, pattern: &str) -> RhaiResult<Array> {
    let regex = super::helpers::regex(pattern)?;
    Ok(lines
        .into_iter()
        .filter(|line| {
            line.clone()
                .try_cast::<LogLineHandle>()
                .is_some_and(|handle| regex.is_match(&handle.line().message))
        })
        .collect())
}

static PULL_ERROR: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"CannotPull\w*Error|(?:pull image manifest|ref pull|inspect image) has been retried",
    )
    .expect("valid")
});
static PULL_REF: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r#"failed to resolve (?:ref|reference) "?([^"\s]+?)"?:?\s|pull access denied for ([^,\s]+)|repository (\S+) not found"#)
        .expect("valid")
});

/// The image pull failure of a task: the error text (from a container's `reason`, else the
/// task's `stoppedReason`), where it was found, the image and how the failure reads.
fn pull_failure(task: &TaskHandle) -> Dynamic {
    let record = task.record();
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
                None,
            )
        });
    let (text, path, container) = match from_container {
        Some((index, c)) => {
            let text = c.reason.clone().unwrap_or_default();
            // A container reason is capped at 255 characters: when the cut left nothing to
            // classify, the task's stop reason may still hold the whole text.
            let unknown = super::helpers::classify_pull_failure(
                &text,
                &super::helpers::ImageRef::parse(c.image.as_deref().unwrap_or_default()),
            ) == super::helpers::PullFailure::Unknown;
            let whole = from_task.clone().filter(|(reason, _, _)| {
                unknown
                    && super::helpers::classify_pull_failure(
                        reason,
                        &super::helpers::ImageRef::parse(c.image.as_deref().unwrap_or_default()),
                    ) != super::helpers::PullFailure::Unknown
            });
            match whole {
                Some((reason, path, _)) => (reason, path, Some(c)),
                None => (
                    text,
                    format!("{}.containers[{index}].reason", record.loc.path()),
                    Some(c),
                ),
            }
        }
        None => match from_task {
            Some(found) => found,
            None => return Dynamic::UNIT,
        },
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
    let parsed = super::helpers::ImageRef::parse(&image);
    let kind = super::helpers::classify_pull_failure(&text, &parsed);
    let mut map = Map::new();
    map.insert("text".into(), text.clone().into());
    map.insert("image".into(), image.into());
    map.insert("kind".into(), kind.as_str().into());
    map.insert(
        "container".into(),
        string(container.and_then(|c| c.name.as_ref())),
    );
    map.insert(
        "fact".into(),
        Dynamic::from(Fact {
            path,
            value: Value::String(text),
        }),
    );
    Dynamic::from_map(map)
}

/// The service events whose message matches `pattern`, however often ECS repeated them: a map
/// of `events` (in the service's order), `count`, `first` and `last` (times), `latest` (the
/// newest event) and `summary` ("5 times between A and B (12m 00s)", or "once, at A").
fn events_matching(s: &mut ServiceHandle, pattern: &str) -> RhaiResult<Map> {
    let regex = super::helpers::regex(pattern)?;
    let events = &s.service().events;
    let mut hits = Array::new();
    let (mut first, mut last) = (None, None);
    let mut latest: Option<usize> = None;
    for (index, event) in events.iter().enumerate() {
        if !event.message.as_deref().is_some_and(|m| regex.is_match(m)) {
            continue;
        }
        hits.push(Dynamic::from(ServiceEventHandle {
            ev: Arc::clone(&s.ev),
            service: s.index,
            index,
        }));
        latest = latest.or(Some(index));
        if let Some(at) = event.created_at.map(|t| t.0) {
            first = Some(first.map_or(at, |f: recorder::time::Timestamp| f.min(at)));
            if last.is_none_or(|l| at > l) {
                last = Some(at);
                latest = Some(index);
            }
        }
    }
    let count = hits.len();
    let summary = match (count, first, last) {
        (1, _, Some(last)) => format!("once, at {last}"),
        (1, _, None) => "once".to_owned(),
        (n, Some(first), Some(last)) if first != last => format!(
            "{n} times between {first} and {last} ({})",
            super::helpers::format_duration(first.seconds_until(last))
        ),
        (n, _, _) => format!("{n} times"),
    };
    let mut map = Map::new();
    map.insert("events".into(), hits.into());
    #[allow(clippy::cast_possible_wrap)]
    map.insert("count".into(), (count as i64).into());
    let stamp = |t: Option<recorder::time::Timestamp>| {
        t.map_or(Dynamic::UNIT, |t| Dynamic::from(t.to_string()))
    };
    map.insert("first".into(), stamp(first));
    map.insert("last".into(), stamp(last));
    map.insert(
        "latest".into(),
        option(latest.map(|index| ServiceEventHandle {
            ev: Arc::clone(&s.ev),
            service: s.index,
            index,
        })),
    );
    map.insert("summary".into(), summary.into());
    Ok(map)
}

/// Service events that name this task, oldest first.
fn task_events(t: &TaskHandle) -> Array {
    let Some(service) = t.record().service else {
        return Array::new();
    };
    let needle = format!("(task {})", t.record().task_id);
    let events = &t.ev.services[service].value.events;
    let mut handles: Vec<ServiceEventHandle> = events
        .iter()
        .enumerate()
        .filter(|(_, event)| {
            event
                .message
                .as_deref()
                .is_some_and(|m| m.contains(&needle) || m.contains(&t.record().task_id))
        })
        .map(|(index, _)| ServiceEventHandle {
            ev: Arc::clone(&t.ev),
            service,
            index,
        })
        .collect();
    handles.sort_by_key(|handle| handle.event().created_at);
    array(handles.into_iter())
}

/// A log line that says the application is up and serving.
pub(crate) static READY_LINE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)\bstarted\b.*\bin [0-9.]+ ?s(?:econds)?\b|listening on|\bserver (?:is )?(?:started|running|listening)|ready to accept connections|application startup complete|running on https?://|tomcat started on port",
    )
    .expect("valid")
});

/// The first log line of a task saying the app is up and serving.
fn ready_line(t: &TaskHandle) -> Option<LogLineHandle> {
    log_lines(&t.ev, &t.record().task_id, None)
        .into_iter()
        .filter_map(Dynamic::try_cast::<LogLineHandle>)
        .find(|line| READY_LINE.is_match(&line.line().message))
}

/// The health-check budget of a task behind a load balancer: the service's grace period plus
/// the target group's `interval × unhealthy threshold` (the last check's timeout on top),
/// against how long the task lived and when its logs first said it was ready.
fn health_check(t: &TaskHandle) -> Dynamic {
    let record = t.record();
    let task = &record.task;
    let service = record.service.map(|index| &t.ev.services[index]);
    let from_reason = task.stopped_reason.as_deref().and_then(|reason| {
        let start = reason.find("(target-group ")? + "(target-group ".len();
        let rest = &reason[start..];
        let end = rest.find([')', ' ']).unwrap_or(rest.len());
        Some(rest[..end].to_owned())
    });
    let from_service = service.and_then(|s| {
        s.value
            .load_balancers
            .iter()
            .find_map(|lb| lb.get("targetGroupArn").and_then(Value::as_str))
            .map(str::to_owned)
    });
    // The reason's ARN may be cut short (reasons are capped at 255 characters): fall back to the
    // service's target group when it names none in the bundle.
    let find_group = |arn: &str| {
        t.ev.target_groups
            .iter()
            .find(|g| g.value.target_group_arn.as_deref() == Some(arn))
    };
    let (arn, group) = if let Some(group) = from_reason.as_deref().and_then(find_group) {
        (from_reason.clone(), Some(group))
    } else {
        let group = from_service.as_deref().and_then(find_group);
        let arn = group
            .and_then(|g| g.value.target_group_arn.clone())
            .or(from_reason)
            .or(from_service);
        (arn, group)
    };
    if service.is_none() && group.is_none() {
        return Dynamic::UNIT;
    }
    let mut facts = Array::new();
    let mut map = Map::new();
    let grace = service.and_then(|s| s.value.health_check_grace_period_seconds);
    if let Some(service) = service {
        facts.push(Dynamic::from(Fact {
            path: format!("{}.healthCheckGracePeriodSeconds", service.loc.path()),
            value: grace.map_or(Value::Null, Value::from),
        }));
    }
    let grace = grace.unwrap_or(0);
    map.insert("grace".into(), grace.into());
    map.insert("target_group_arn".into(), string(arn.as_ref()));
    let settings = group.map(|g| {
        (
            g.value.health_check_interval_seconds,
            g.value.unhealthy_threshold_count,
            g.value.health_check_timeout_seconds,
        )
    });
    let (interval, threshold, timeout) = settings.unwrap_or((None, None, None));
    if let Some(group) = group {
        for (field, value) in [
            ("HealthCheckIntervalSeconds", interval),
            ("UnhealthyThresholdCount", threshold),
            ("HealthCheckTimeoutSeconds", timeout),
        ] {
            if let Some(value) = value {
                facts.push(Dynamic::from(Fact {
                    path: format!("{}.{field}", group.loc.path()),
                    value: Value::from(value),
                }));
            }
        }
        let mut fields = json(&group.value).try_cast::<Map>().unwrap_or_default();
        fields.insert("path".into(), group.loc.path().into());
        map.insert("target_group".into(), Dynamic::from_map(fields));
    } else {
        map.insert("target_group".into(), Dynamic::UNIT);
    }
    map.insert("interval".into(), int(interval));
    map.insert("threshold".into(), int(threshold));
    map.insert("timeout".into(), int(timeout));
    let budget = interval
        .zip(threshold)
        .map(|(interval, threshold)| grace + interval * threshold);
    map.insert("budget".into(), int(budget));
    let started = task.started_at;
    let ended = task.stopping_at.or(task.stopped_at);
    let lived = started
        .zip(ended)
        .map(|(from, to)| from.0.seconds_until(to.0));
    map.insert("lived".into(), lived.map_or(Dynamic::UNIT, Dynamic::from));
    let ready = ready_line(t);
    let ready_after = ready.as_ref().and_then(|line| {
        let at = line.line().timestamp?;
        Some(started?.0.seconds_until(at))
    });
    map.insert(
        "ready_after".into(),
        ready_after.map_or(Dynamic::UNIT, Dynamic::from),
    );
    map.insert("ready_line".into(), option(ready));
    map.insert("facts".into(), facts.into());
    Dynamic::from_map(map)
}

fn new_finding(subject: Subject, message: &str) -> ScriptFinding {
    ScriptFinding {
        subject,
        message: message.to_owned(),
        evidence: Vec::new(),
        hint: None,
        doc_url: None,
        symptom: false,
        caused_by: None,
    }
}

pub(crate) fn register(engine: &mut Engine) {
    register_evidence(engine);
    register_task(engine);
    register_container(engine);
    register_task_definition(engine);
    register_service(engine);
    register_log_line(engine);
    register_finding(engine);
}

fn register_evidence(engine: &mut Engine) {
    engine
        .register_type_with_name::<EvidenceHandle>("Evidence")
        .register_get("region", |ev: &mut EvidenceHandle| {
            string(ev.0.manifest.region.as_ref())
        })
        .register_get("account", |ev: &mut EvidenceHandle| {
            string(ev.0.manifest.account.as_ref())
        })
        .register_get("cluster", |ev: &mut EvidenceHandle| {
            string(ev.0.manifest.cluster.as_ref())
        })
        .register_fn("stopped_tasks", |ev: &mut EvidenceHandle| {
            task_handles(&ev.0, ev.0.stopped_tasks().map(|(index, _)| index))
        })
        .register_fn("tasks", |ev: &mut EvidenceHandle| {
            task_handles(&ev.0, 0..ev.0.tasks.len())
        })
        .register_fn("task", |ev: &mut EvidenceHandle, arn: &str| {
            option(ev.0.task_index(arn).map(|index| TaskHandle {
                ev: Arc::clone(&ev.0),
                index,
            }))
        })
        .register_fn("services", |ev: &mut EvidenceHandle| {
            array((0..ev.0.services.len()).map(|index| ServiceHandle {
                ev: Arc::clone(&ev.0),
                index,
            }))
        })
        .register_fn("service", |ev: &mut EvidenceHandle, name: &str| {
            option(ev.0.service_index(name).map(|index| ServiceHandle {
                ev: Arc::clone(&ev.0),
                index,
            }))
        })
        .register_fn("task_definitions", |ev: &mut EvidenceHandle| {
            array(
                (0..ev.0.task_definitions.len()).map(|index| TaskDefinitionHandle {
                    ev: Arc::clone(&ev.0),
                    index,
                }),
            )
        })
        .register_fn("task_definition", |ev: &mut EvidenceHandle, arn: &str| {
            option(
                ev.0.task_definition_index(arn)
                    .map(|index| TaskDefinitionHandle {
                        ev: Arc::clone(&ev.0),
                        index,
                    }),
            )
        })
        .register_fn("target_groups", |ev: &mut EvidenceHandle| {
            ev.0.target_groups
                .iter()
                .map(|group| {
                    let mut map = json(&group.value).try_cast::<Map>().unwrap_or_default();
                    map.insert("path".into(), group.loc.path().into());
                    Dynamic::from_map(map)
                })
                .collect::<Array>()
        })
        .register_fn("target_health", |ev: &mut EvidenceHandle| {
            ev.0.target_health
                .iter()
                .flat_map(|set| {
                    set.targets.iter().map(|target| {
                        let mut map = json(&target.value).try_cast::<Map>().unwrap_or_default();
                        map.insert("path".into(), target.loc.path().into());
                        map.insert(
                            "TargetGroupArn".into(),
                            string(set.target_group_arn.as_ref()),
                        );
                        Dynamic::from_map(map)
                    })
                })
                .collect::<Array>()
        })
        .register_fn("container_instances", |ev: &mut EvidenceHandle| {
            ev.0.container_instances
                .iter()
                .map(|instance| {
                    let mut map = json(&instance.value).try_cast::<Map>().unwrap_or_default();
                    map.insert("path".into(), instance.loc.path().into());
                    Dynamic::from_map(map)
                })
                .collect::<Array>()
        })
        .register_fn("failed_calls", |ev: &mut EvidenceHandle| {
            ev.0.failed_calls
                .iter()
                .map(|failed| {
                    let mut map = Map::new();
                    map.insert("service".into(), failed.service.clone().into());
                    map.insert("operation".into(), failed.operation.clone().into());
                    map.insert("code".into(), failed.error.code.clone().into());
                    map.insert("message".into(), failed.error.message.clone().into());
                    map.insert(
                        "path".into(),
                        format!("calls[{}].error", failed.call).into(),
                    );
                    Dynamic::from_map(map)
                })
                .collect::<Array>()
        })
        .register_fn(
            "call_failed",
            |ev: &mut EvidenceHandle, service: &str, operation: &str| {
                ev.0.call_failed(service, operation).is_some()
            },
        )
        .register_fn(
            "has_call",
            |ev: &mut EvidenceHandle, service: &str, operation: &str| {
                ev.0.has_call(service, operation)
            },
        );
}

fn register_task(engine: &mut Engine) {
    engine.register_type_with_name::<TaskHandle>("Task");
    macro_rules! strings {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(engine.register_get($name, |t: &mut TaskHandle| string(t.task().$field.as_ref()));)*
        };
    }
    macro_rules! times {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(engine.register_get($name, |t: &mut TaskHandle| time(t.task().$field));)*
        };
    }
    strings! {
        "taskArn" => task_arn, "clusterArn" => cluster_arn, "taskDefinitionArn" => task_definition_arn,
        "containerInstanceArn" => container_instance_arn, "group" => group, "startedBy" => started_by,
        "launchType" => launch_type, "capacityProviderName" => capacity_provider_name,
        "platformVersion" => platform_version, "platformFamily" => platform_family,
        "availabilityZone" => availability_zone, "connectivity" => connectivity,
        "lastStatus" => last_status, "desiredStatus" => desired_status, "healthStatus" => health_status,
        "stopCode" => stop_code, "stoppedReason" => stopped_reason, "cpu" => cpu, "memory" => memory,
    }
    times! {
        "createdAt" => created_at, "connectivityAt" => connectivity_at, "pullStartedAt" => pull_started_at,
        "pullStoppedAt" => pull_stopped_at, "startedAt" => started_at, "stoppingAt" => stopping_at,
        "executionStoppedAt" => execution_stopped_at, "stoppedAt" => stopped_at,
    }
    engine
        .register_get("taskId", |t: &mut TaskHandle| t.record().task_id.clone())
        .register_get("serviceName", |t: &mut TaskHandle| {
            t.task()
                .group
                .as_deref()
                .and_then(|g| g.strip_prefix("service:"))
                .unwrap_or_default()
                .to_owned()
        })
        .register_get("containers", |t: &mut TaskHandle| {
            array((0..t.task().containers.len()).map(|index| ContainerHandle {
                ev: Arc::clone(&t.ev),
                task: t.index,
                index,
            }))
        })
        .register_get("attachments", |t: &mut TaskHandle| {
            json(&t.task().attachments)
        })
        .register_get("ephemeralStorage", |t: &mut TaskHandle| {
            t.task()
                .ephemeral_storage
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .register_get("attributes", |t: &mut TaskHandle| {
            let mut map = Map::new();
            for attribute in &t.task().attributes {
                if let Some(name) = &attribute.name {
                    map.insert(name.as_str().into(), string(attribute.value.as_ref()));
                }
            }
            map
        })
        .register_fn("path", |t: &mut TaskHandle, field: &str| {
            cite(&t.record().loc.path(), t.task(), field)
        })
        .register_fn("container", |t: &mut TaskHandle, name: &str| {
            option(
                t.task()
                    .containers
                    .iter()
                    .position(|c| c.name.as_deref() == Some(name))
                    .map(|index| ContainerHandle {
                        ev: Arc::clone(&t.ev),
                        task: t.index,
                        index,
                    }),
            )
        })
        .register_fn("task_definition", |t: &mut TaskHandle| {
            option(
                t.record()
                    .task_definition
                    .map(|index| TaskDefinitionHandle {
                        ev: Arc::clone(&t.ev),
                        index,
                    }),
            )
        })
        .register_fn("service", |t: &mut TaskHandle| {
            option(t.record().service.map(|index| ServiceHandle {
                ev: Arc::clone(&t.ev),
                index,
            }))
        })
        .register_fn("logs", |t: &mut TaskHandle| {
            log_lines(&t.ev, &t.record().task_id, None)
        })
        .register_fn("logs", |t: &mut TaskHandle, container: &str| {
            log_lines(&t.ev, &t.record().task_id, Some(container))
        })
        .register_fn("grep_logs", |t: &mut TaskHandle, pattern: &str| {
            grep(log_lines(&t.ev, &t.record().task_id, None), pattern)
        })
        .register_fn(
            "grep_logs",
            |t: &mut TaskHandle, container: &str, pattern: &str| {
                grep(
                    log_lines(&t.ev, &t.record().task_id, Some(container)),
                    pattern,
                )
            },
        )
        .register_fn("pull_failure", |t: &mut TaskHandle| pull_failure(t))
        .register_fn("events", |t: &mut TaskHandle| task_events(t))
        .register_fn("neighbours", |t: &mut TaskHandle| {
            // Other tasks of the same task definition: did identical tasks fare better?
            let me = t.task().task_definition_arn.clone();
            let index = t.index;
            task_handles(
                &t.ev,
                (0..t.ev.tasks.len()).filter(|&other| {
                    other != index
                        && me.is_some()
                        && t.ev.tasks[other].task.task_definition_arn == me
                }),
            )
        })
        .register_fn("health_check", |t: &mut TaskHandle| health_check(t))
        .register_fn("ready_line", |t: &mut TaskHandle| option(ready_line(t)))
        .register_fn("is_stopped", |t: &mut TaskHandle| {
            crate::evidence::is_stopped(t.task())
        })
        .register_fn("to_string", |t: &mut TaskHandle| {
            format!("Task({})", t.record().task_id)
        })
        .register_fn("==", |a: &mut TaskHandle, b: TaskHandle| a.index == b.index);
}

fn register_container(engine: &mut Engine) {
    engine.register_type_with_name::<ContainerHandle>("Container");
    macro_rules! strings {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(engine.register_get($name, |c: &mut ContainerHandle| string(c.container().$field.as_ref()));)*
        };
    }
    strings! {
        "containerArn" => container_arn, "name" => name, "image" => image, "imageDigest" => image_digest,
        "runtimeId" => runtime_id, "lastStatus" => last_status, "reason" => reason,
        "healthStatus" => health_status, "cpu" => cpu, "memory" => memory,
        "memoryReservation" => memory_reservation,
    }
    engine
        .register_get("exitCode", |c: &mut ContainerHandle| {
            int(c.container().exit_code)
        })
        .register_get("networkBindings", |c: &mut ContainerHandle| {
            json(&c.container().network_bindings)
        })
        .register_get("essential", |c: &mut ContainerHandle| {
            // ECS treats a container as essential unless its definition says otherwise.
            c.definition()
                .is_none_or(|d| d.definition().essential.unwrap_or(true))
        })
        .register_fn("path", |c: &mut ContainerHandle, field: &str| {
            cite(&c.path(), c.container(), field)
        })
        .register_fn("task", |c: &mut ContainerHandle| TaskHandle {
            ev: Arc::clone(&c.ev),
            index: c.task,
        })
        .register_fn("definition", |c: &mut ContainerHandle| {
            option(c.definition())
        })
        .register_fn("logs", |c: &mut ContainerHandle| {
            let task_id = c.ev.tasks[c.task].task_id.clone();
            log_lines(&c.ev, &task_id, c.container().name.as_deref())
        })
        .register_fn("grep_logs", |c: &mut ContainerHandle, pattern: &str| {
            let task_id = c.ev.tasks[c.task].task_id.clone();
            grep(
                log_lines(&c.ev, &task_id, c.container().name.as_deref()),
                pattern,
            )
        })
        .register_fn("to_string", |c: &mut ContainerHandle| {
            format!(
                "Container({})",
                c.container().name.clone().unwrap_or_default()
            )
        });
}

fn register_task_definition(engine: &mut Engine) {
    engine
        .register_type_with_name::<TaskDefinitionHandle>("TaskDefinition")
        .register_get("taskDefinitionArn", |d: &mut TaskDefinitionHandle| {
            string(d.definition().task_definition_arn.as_ref())
        })
        .register_get("family", |d: &mut TaskDefinitionHandle| {
            string(d.definition().family.as_ref())
        })
        .register_get("revision", |d: &mut TaskDefinitionHandle| {
            int(d.definition().revision)
        })
        .register_get("status", |d: &mut TaskDefinitionHandle| {
            string(d.definition().status.as_ref())
        })
        .register_get("networkMode", |d: &mut TaskDefinitionHandle| {
            string(d.definition().network_mode.as_ref())
        })
        .register_get("cpu", |d: &mut TaskDefinitionHandle| {
            string(d.definition().cpu.as_ref())
        })
        .register_get("memory", |d: &mut TaskDefinitionHandle| {
            string(d.definition().memory.as_ref())
        })
        .register_get("taskRoleArn", |d: &mut TaskDefinitionHandle| {
            string(d.definition().task_role_arn.as_ref())
        })
        .register_get("executionRoleArn", |d: &mut TaskDefinitionHandle| {
            string(d.definition().execution_role_arn.as_ref())
        })
        .register_get("requiresCompatibilities", |d: &mut TaskDefinitionHandle| {
            json(&d.definition().requires_compatibilities)
        })
        .register_get("runtimePlatform", |d: &mut TaskDefinitionHandle| {
            d.definition()
                .runtime_platform
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .register_get("volumes", |d: &mut TaskDefinitionHandle| {
            json(&d.definition().volumes)
        })
        .register_get("containerDefinitions", |d: &mut TaskDefinitionHandle| {
            array(
                (0..d.definition().container_definitions.len()).map(|index| {
                    ContainerDefinitionHandle {
                        ev: Arc::clone(&d.ev),
                        definition: d.index,
                        index,
                    }
                }),
            )
        })
        .register_fn("path", |d: &mut TaskDefinitionHandle, field: &str| {
            cite(
                &d.ev.task_definitions[d.index].loc.path(),
                d.definition(),
                field,
            )
        })
        .register_fn(
            "container_definition",
            |d: &mut TaskDefinitionHandle, name: &str| {
                option(container_definition(&d.ev, d.index, name))
            },
        )
        .register_fn("changes", |d: &mut TaskDefinitionHandle| {
            let Some(previous) = d.ev.previous_revision(d.index) else {
                return Array::new();
            };
            let before = &d.ev.task_definitions[previous].definition;
            let path = d.ev.task_definitions[d.index].loc.path();
            crate::diff::changes(before, d.definition(), &path)
                .into_iter()
                .map(|change| {
                    let mut map = Map::new();
                    map.insert("text".into(), change.describe().into());
                    map.insert("field".into(), change.field.clone().into());
                    map.insert("container".into(), string(change.container.as_ref()));
                    map.insert("before".into(), json(&change.before));
                    map.insert("after".into(), json(&change.after));
                    map.insert(
                        "fact".into(),
                        Dynamic::from(Fact {
                            path: change.path.clone(),
                            value: Value::String(change.describe()),
                        }),
                    );
                    Dynamic::from_map(map)
                })
                .collect::<Array>()
        })
        .register_fn("previous_revision", |d: &mut TaskDefinitionHandle| {
            option(
                d.ev.previous_revision(d.index)
                    .map(|index| TaskDefinitionHandle {
                        ev: Arc::clone(&d.ev),
                        index,
                    }),
            )
        })
        .register_fn("to_string", |d: &mut TaskDefinitionHandle| {
            crate::evidence::revision_name(d.definition())
        });

    engine.register_type_with_name::<ContainerDefinitionHandle>("ContainerDefinition");
    macro_rules! ints {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(engine.register_get($name, |c: &mut ContainerDefinitionHandle| int(c.definition().$field));)*
        };
    }
    ints! {
        "cpu" => cpu, "memory" => memory, "memoryReservation" => memory_reservation,
        "startTimeout" => start_timeout, "stopTimeout" => stop_timeout,
    }
    engine
        .register_get("name", |c: &mut ContainerDefinitionHandle| {
            string(c.definition().name.as_ref())
        })
        .register_get("image", |c: &mut ContainerDefinitionHandle| {
            string(c.definition().image.as_ref())
        })
        .register_get("user", |c: &mut ContainerDefinitionHandle| {
            string(c.definition().user.as_ref())
        })
        .register_get("essential", |c: &mut ContainerDefinitionHandle| {
            c.definition().essential.unwrap_or(true)
        })
        .register_get("command", |c: &mut ContainerDefinitionHandle| {
            c.definition().command.as_ref().map_or(Dynamic::UNIT, json)
        })
        .register_get("entryPoint", |c: &mut ContainerDefinitionHandle| {
            c.definition()
                .entry_point
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .register_get("secrets", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().secrets)
        })
        .register_get("portMappings", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().port_mappings)
        })
        .register_get("environmentFiles", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().environment_files)
        })
        .register_get("mountPoints", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().mount_points)
        })
        .register_get("dependsOn", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().depends_on)
        })
        .register_get("healthCheck", |c: &mut ContainerDefinitionHandle| {
            c.definition()
                .health_check
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .register_get("logConfiguration", |c: &mut ContainerDefinitionHandle| {
            c.definition()
                .log_configuration
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .register_get(
            "repositoryCredentials",
            |c: &mut ContainerDefinitionHandle| {
                c.definition()
                    .repository_credentials
                    .as_ref()
                    .map_or(Dynamic::UNIT, json)
            },
        )
        .register_fn("env_names", |c: &mut ContainerDefinitionHandle| {
            c.definition()
                .environment
                .iter()
                .filter_map(|kv| kv.name.clone())
                .map(Dynamic::from)
                .collect::<Array>()
        })
        .register_fn(
            "has_env",
            |c: &mut ContainerDefinitionHandle, name: &str| {
                let definition = c.definition();
                definition
                    .environment
                    .iter()
                    .any(|kv| kv.name.as_deref() == Some(name))
                    || definition
                        .secrets
                        .iter()
                        .any(|s| s.name.as_deref() == Some(name))
            },
        )
        .register_fn(
            "env_path",
            |c: &mut ContainerDefinitionHandle, name: &str| {
                // Cites the variable's name only: values may be secrets.
                let definition = c.definition();
                if let Some(index) = definition
                    .environment
                    .iter()
                    .position(|kv| kv.name.as_deref() == Some(name))
                {
                    return option(Some(Fact {
                        path: format!("{}.environment[{index}].name", c.path()),
                        value: Value::String(name.to_owned()),
                    }));
                }
                let secret = definition
                    .secrets
                    .iter()
                    .position(|s| s.name.as_deref() == Some(name));
                option(secret.map(|index| Fact {
                    path: format!("{}.secrets[{index}].name", c.path()),
                    value: Value::String(name.to_owned()),
                }))
            },
        )
        .register_fn("path", |c: &mut ContainerDefinitionHandle, field: &str| {
            if field == "environment" || field.starts_with("environment[") {
                return Err(
                    "cite environment variables with env_path(name): their values may be secrets"
                        .into(),
                );
            }
            cite(&c.path(), c.definition(), field)
        })
        .register_fn("to_string", |c: &mut ContainerDefinitionHandle| {
            format!(
                "ContainerDefinition({})",
                c.definition().name.clone().unwrap_or_default()
            )
        });
}

fn register_service(engine: &mut Engine) {
    engine.register_type_with_name::<ServiceHandle>("Service");
    macro_rules! strings {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(engine.register_get($name, |s: &mut ServiceHandle| string(s.service().$field.as_ref()));)*
        };
    }
    macro_rules! ints {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(engine.register_get($name, |s: &mut ServiceHandle| int(s.service().$field));)*
        };
    }
    strings! {
        "serviceArn" => service_arn, "serviceName" => service_name, "clusterArn" => cluster_arn,
        "status" => status, "launchType" => launch_type, "taskDefinition" => task_definition,
        "schedulingStrategy" => scheduling_strategy,
    }
    ints! {
        "desiredCount" => desired_count, "runningCount" => running_count, "pendingCount" => pending_count,
        "healthCheckGracePeriodSeconds" => health_check_grace_period_seconds,
    }
    engine
        .register_get("deploymentConfiguration", |s: &mut ServiceHandle| {
            s.service()
                .deployment_configuration
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .register_get("deployments", |s: &mut ServiceHandle| {
            json(&s.service().deployments)
        })
        .register_get("loadBalancers", |s: &mut ServiceHandle| {
            json(&s.service().load_balancers)
        })
        .register_get("networkConfiguration", |s: &mut ServiceHandle| {
            s.service()
                .network_configuration
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .register_get("events", |s: &mut ServiceHandle| {
            array(
                (0..s.service().events.len()).map(|index| ServiceEventHandle {
                    ev: Arc::clone(&s.ev),
                    service: s.index,
                    index,
                }),
            )
        })
        .register_fn("events_matching", events_matching)
        .register_fn("steady_after", |s: &mut ServiceHandle, at: &str| {
            // Whether the service reached a steady state after `at`: the trouble is over.
            let Some(at) = recorder::time::Timestamp::parse_iso(at) else {
                return false;
            };
            s.service().events.iter().any(|event| {
                event.created_at.is_some_and(|t| t.0 > at)
                    && event
                        .message
                        .as_deref()
                        .is_some_and(|m| m.contains("has reached a steady state"))
            })
        })
        .register_fn("steady_after", |_: &mut ServiceHandle, (): ()| false)
        .register_fn("task_definition", |s: &mut ServiceHandle| {
            // The service's current task definition, when the bundle holds it.
            let arn = s.service().task_definition.clone().unwrap_or_default();
            option(
                s.ev.task_definition_index(&arn)
                    .map(|index| TaskDefinitionHandle {
                        ev: Arc::clone(&s.ev),
                        index,
                    }),
            )
        })
        .register_fn("path", |s: &mut ServiceHandle, field: &str| {
            cite(&s.ev.services[s.index].loc.path(), s.service(), field)
        })
        .register_fn("to_string", |s: &mut ServiceHandle| {
            format!(
                "Service({})",
                s.service().service_name.clone().unwrap_or_default()
            )
        });

    engine
        .register_type_with_name::<ServiceEventHandle>("ServiceEvent")
        .register_get("id", |e: &mut ServiceEventHandle| {
            string(e.event().id.as_ref())
        })
        .register_get("message", |e: &mut ServiceEventHandle| {
            string(e.event().message.as_ref())
        })
        .register_get("createdAt", |e: &mut ServiceEventHandle| {
            time(e.event().created_at)
        })
        .register_fn("path", |e: &mut ServiceEventHandle| Fact {
            path: format!(
                "{}.events[{}].message",
                e.ev.services[e.service].loc.path(),
                e.index
            ),
            value: Value::String(e.event().message.clone().unwrap_or_default()),
        });
}

fn register_log_line(engine: &mut Engine) {
    engine
        .register_type_with_name::<LogLineHandle>("LogLine")
        .register_get("message", |l: &mut LogLineHandle| l.line().message.clone())
        .register_get("timestamp", |l: &mut LogLineHandle| {
            l.line()
                .timestamp
                .map_or(Dynamic::UNIT, |t| Dynamic::from(t.to_string()))
        })
        .register_get("logGroupName", |l: &mut LogLineHandle| {
            string(l.ev.log_streams[l.stream].group.as_ref())
        })
        .register_get("logStreamName", |l: &mut LogLineHandle| {
            string(l.ev.log_streams[l.stream].stream.as_ref())
        })
        .register_get("container", |l: &mut LogLineHandle| {
            string(l.ev.log_streams[l.stream].container.as_ref())
        })
        .register_fn("path", |l: &mut LogLineHandle| Fact {
            path: format!("{}.message", l.line().loc.path()),
            value: Value::String(l.line().message.clone()),
        })
        .register_fn("to_string", |l: &mut LogLineHandle| {
            l.line().message.clone()
        });
}

fn register_finding(engine: &mut Engine) {
    engine
        .register_type_with_name::<Fact>("Fact")
        .register_get("path", |f: &mut Fact| f.path.clone())
        .register_get("value", |f: &mut Fact| json(&f.value))
        .register_fn("fact", |path: &str, value: Dynamic| -> RhaiResult<Fact> {
            let value: Value = rhai::serde::from_dynamic(&value)?;
            Ok(Fact {
                path: path.to_owned(),
                value,
            })
        });

    engine
        .register_type_with_name::<ScriptFinding>("Finding")
        .register_fn("finding", |task: TaskHandle, message: &str| {
            new_finding(
                Subject::Task {
                    task: task.index,
                    container: None,
                },
                message,
            )
        })
        .register_fn("finding", |container: ContainerHandle, message: &str| {
            let name = container.container().name.clone();
            new_finding(
                Subject::Task {
                    task: container.task,
                    container: name,
                },
                message,
            )
        })
        .register_fn("finding", |service: ServiceHandle, message: &str| {
            new_finding(Subject::Service(service.index), message)
        })
        .register_get("message", |f: &mut ScriptFinding| f.message.clone())
        .register_fn("evidence", |f: &mut ScriptFinding, fact: Fact| {
            f.evidence.push(fact);
            f.clone()
        })
        .register_fn(
            "evidence",
            |f: &mut ScriptFinding, facts: Array| -> RhaiResult<ScriptFinding> {
                for fact in facts {
                    // A missing optional fact (`()`) is skipped; anything else must be a Fact.
                    if fact.is_unit() {
                        continue;
                    }
                    let type_name = fact.type_name();
                    let fact = fact
                        .try_cast::<Fact>()
                        .ok_or_else(|| format!("evidence() takes Facts, not {type_name}"))?;
                    f.evidence.push(fact);
                }
                Ok(f.clone())
            },
        )
        .register_fn("evidence", |f: &mut ScriptFinding, (): ()| f.clone())
        .register_fn("hint", |f: &mut ScriptFinding, text: &str| {
            f.hint = Some(text.to_owned());
            f.clone()
        })
        .register_fn("doc", |f: &mut ScriptFinding, url: &str| {
            f.doc_url = Some(url.to_owned());
            f.clone()
        })
        .register_fn("symptom", |f: &mut ScriptFinding| {
            f.symptom = true;
            f.clone()
        })
        .register_fn("caused_by", |f: &mut ScriptFinding, task: TaskHandle| {
            // A symptom whose root cause is another task's (a rollback caused by failed tasks).
            f.symptom = true;
            f.caused_by = Some(task.index);
            f.clone()
        })
        .register_fn("caused_by", |f: &mut ScriptFinding, (): ()| f.clone());
}
