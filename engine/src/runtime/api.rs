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

use super::reference::{Api, TypeDoc};
use crate::evidence::{Evidence, LogLine, TaskRecord};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// How handles hold the evidence: each run of a rule wraps the shared `Arc<Evidence>` in an
/// `Arc` of its own, so the handles it makes and drops count references on that run's own
/// counter. With one counter for every thread, rules on two cores spent a fifth of their time
/// passing it between caches.
pub(crate) type Ev = Arc<Arc<Evidence>>;

/// `ev`, the argument of every rule's `check`.
#[derive(Debug, Clone)]
pub(crate) struct EvidenceHandle(pub Ev);

#[derive(Debug, Clone)]
pub(crate) struct TaskHandle {
    ev: Ev,
    index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct ContainerHandle {
    ev: Ev,
    task: usize,
    index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct TaskDefinitionHandle {
    ev: Ev,
    index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct ContainerDefinitionHandle {
    ev: Ev,
    definition: usize,
    index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct ServiceHandle {
    ev: Ev,
    index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct ServiceEventHandle {
    ev: Ev,
    service: usize,
    index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct LogLineHandle {
    ev: Ev,
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
    ev: &Ev,
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
/// Only the first field is converted to JSON (`super::cite::field`), never the whole record.
fn cite<T: Serialize>(base: &str, record: &T, field: &str) -> RhaiResult<Fact> {
    let first = field.find(['.', '[']).unwrap_or(field.len());
    let root = if first == 0 {
        serde_json::to_value(record).unwrap_or(Value::Null)
    } else {
        super::cite::field(record, &field[..first]).unwrap_or(Value::Null)
    };
    let mut value = &root;
    for (position, segment) in field.split('.').enumerate() {
        let (name, indexes) = match segment.find('[') {
            Some(at) => (&segment[..at], &segment[at..]),
            None => (segment, ""),
        };
        // The first name was resolved when `root` was picked.
        if !name.is_empty() && position > 0 {
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

fn task_handles(ev: &Ev, indexes: impl Iterator<Item = usize>) -> Array {
    array(indexes.map(|index| TaskHandle {
        ev: Arc::clone(ev),
        index,
    }))
}

fn log_lines(ev: &Ev, task_id: &str, container: Option<&str>) -> Array {
    array(lines_where(ev, task_id, container, |_| true).into_iter())
}

/// The log lines of one task (optionally one container) that match `pattern`, oldest first.
/// Lines are matched where they lie; only the matches become handles (the same lines, in the
/// same order, as filtering `log_lines(..)`, at a fraction of the cost).
fn grep_logs(ev: &Ev, task_id: &str, container: Option<&str>, pattern: &str) -> RhaiResult<Array> {
    let regex = super::helpers::regex(pattern)?;
    Ok(array(
        lines_where(ev, task_id, container, |line| regex.is_match(&line.message)).into_iter(),
    ))
}

/// Handles to the log lines of one task (optionally one container) that `keep` accepts, oldest
/// first across its streams; lines without a timestamp keep their stream order, first.
fn lines_where(
    ev: &Ev,
    task_id: &str,
    container: Option<&str>,
    keep: impl Fn(&LogLine) -> bool,
) -> Vec<LogLineHandle> {
    let mut hits: Vec<LogLineHandle> = Vec::new();
    for (stream_index, stream) in ev.task_streams(task_id, container) {
        for (index, line) in stream.lines.iter().enumerate() {
            if keep(line) {
                hits.push(LogLineHandle {
                    ev: Arc::clone(ev),
                    stream: stream_index,
                    index,
                });
            }
        }
    }
    hits.sort_by_key(|handle| handle.line().timestamp);
    hits
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
    // Every event containing `(task ID)` contains the id, so the index holds them all.
    let mut handles: Vec<ServiceEventHandle> =
        t.ev.task_event_indexes(t.index)
            .iter()
            .map(|&index| ServiceEventHandle {
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
    lines_where(&t.ev, &t.record().task_id, None, |line| {
        READY_LINE.is_match(&line.message)
    })
    .into_iter()
    .next()
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

/// Registers the evidence API; returns the registered types' docs.
pub(crate) fn register(engine: &mut Engine) -> Vec<TypeDoc> {
    let mut api = Api::new(engine);
    register_evidence(&mut api);
    register_task(&mut api);
    register_container(&mut api);
    register_task_definition(&mut api);
    register_service(&mut api);
    register_log_line(&mut api);
    register_finding(&mut api);
    api.types
}

fn register_evidence(api: &mut Api<'_>) {
    api
        .ty::<EvidenceHandle>("Evidence", "ev", "The evidence of one bundle: `ev`, the argument of every rule's `check(ev)`.")
        .get("region: string", "The Region the bundle was recorded in (`\"\"` when unknown).", |ev: &mut EvidenceHandle| {
            string(ev.0.manifest.region.as_ref())
        })
        .get("account: string", "The AWS account id, or `\"\"` (redacted bundles drop it).", |ev: &mut EvidenceHandle| {
            string(ev.0.manifest.account.as_ref())
        })
        .get("cluster: string", "The cluster the bundle was recorded from, as given to `record` (name or ARN).", |ev: &mut EvidenceHandle| {
            string(ev.0.manifest.cluster.as_ref())
        })
        .func("stopped_tasks()", "The stopped tasks selected for diagnosis (`--since`, `--max-tasks`), in the bundle's order.", |ev: &mut EvidenceHandle| {
            task_handles(&ev.0, ev.0.stopped_tasks().map(|(index, _)| index))
        })
        .func("tasks()", "Every task in the bundle, stopped or not.", |ev: &mut EvidenceHandle| {
            task_handles(&ev.0, 0..ev.0.tasks.len())
        })
        .func("task(arn) -> Task?", "The task with this ARN or id, or `()`.", |ev: &mut EvidenceHandle, arn: &str| {
            option(ev.0.task_index(arn).map(|index| TaskHandle {
                ev: Arc::clone(&ev.0),
                index,
            }))
        })
        .func("services()", "Every service in the bundle.", |ev: &mut EvidenceHandle| {
            array((0..ev.0.services.len()).map(|index| ServiceHandle {
                ev: Arc::clone(&ev.0),
                index,
            }))
        })
        .func("service(name) -> Service?", "The service with this name or ARN, or `()`.", |ev: &mut EvidenceHandle, name: &str| {
            option(ev.0.service_index(name).map(|index| ServiceHandle {
                ev: Arc::clone(&ev.0),
                index,
            }))
        })
        .func("task_definitions()", "Every task definition revision in the bundle.", |ev: &mut EvidenceHandle| {
            array(
                (0..ev.0.task_definitions.len()).map(|index| TaskDefinitionHandle {
                    ev: Arc::clone(&ev.0),
                    index,
                }),
            )
        })
        .func("task_definition(arn) -> TaskDefinition?", "The task definition with this ARN (or `family:revision`), or `()`.", |ev: &mut EvidenceHandle, arn: &str| {
            option(
                ev.0.task_definition_index(arn)
                    .map(|index| TaskDefinitionHandle {
                        ev: Arc::clone(&ev.0),
                        index,
                    }),
            )
        })
        .func("target_groups()", "The target groups from DescribeTargetGroups, as maps keyed as in AWS (`TargetGroupArn`,\n`HealthCheckPath`, `HealthCheckIntervalSeconds`, `UnhealthyThresholdCount`, …), each with a\n`path` for citing it.", |ev: &mut EvidenceHandle| {
            ev.0.target_groups
                .iter()
                .map(|group| {
                    let mut map = json(&group.value).try_cast::<Map>().unwrap_or_default();
                    map.insert("path".into(), group.loc.path().into());
                    Dynamic::from_map(map)
                })
                .collect::<Array>()
        })
        .func("target_health()", "The target health descriptions from DescribeTargetHealth, as maps keyed as in AWS\n(`Target`, `TargetHealth.State`, `TargetHealth.Reason`, `TargetHealth.Description`), each with\nits `TargetGroupArn` and a `path`.", |ev: &mut EvidenceHandle| {
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
        .func("container_instances()", "The container instances from DescribeContainerInstances (EC2 launch type), as maps keyed as\nin AWS (`remainingResources`, `registeredResources`, `attributes`, …), each with a `path`.", |ev: &mut EvidenceHandle| {
            ev.0.container_instances
                .iter()
                .map(|instance| {
                    let mut map = json(&instance.value).try_cast::<Map>().unwrap_or_default();
                    map.insert("path".into(), instance.loc.path().into());
                    Dynamic::from_map(map)
                })
                .collect::<Array>()
        })
        .func("failed_calls()", "The AWS calls that failed while recording: maps of `service`, `operation`, `code`,\n`message` and `path`. A rule that needs a failed call's evidence can say so.", |ev: &mut EvidenceHandle| {
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
        .func("call_failed(service, operation)", "Whether the bundle records this call as failed, e.g. `ev.call_failed(\"logs\", \"GetLogEvents\")`.",
            |ev: &mut EvidenceHandle, service: &str, operation: &str| {
                ev.0.call_failed(service, operation).is_some()
            },
        )
        .func("has_call(service, operation)", "Whether the bundle holds a successful response of this call.",
            |ev: &mut EvidenceHandle, service: &str, operation: &str| {
                ev.0.has_call(service, operation)
            },
        );
}

fn register_task(api: &mut Api<'_>) {
    api.ty::<TaskHandle>("Task", "task", "A task from DescribeTasks (stopped or running), with its logs, service and task definition.");
    macro_rules! strings {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(api.get(concat!($name, ": string"), concat!("The task's `", $name, "` as DescribeTasks returns it, or `\"\"`."), |t: &mut TaskHandle| string(t.task().$field.as_ref()));)*
        };
    }
    macro_rules! times {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(api.get(concat!($name, ": timestamp?"), concat!("The task's `", $name, "` timestamp, or `()`."), |t: &mut TaskHandle| time(t.task().$field));)*
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
    api
        .get("taskId", "The task id: the last part of the task ARN.", |t: &mut TaskHandle| t.record().task_id.clone())
        .get("serviceName", "The service that started the task (from `group`), or `\"\"` for a standalone task.", |t: &mut TaskHandle| {
            t.task()
                .group
                .as_deref()
                .and_then(|g| g.strip_prefix("service:"))
                .unwrap_or_default()
                .to_owned()
        })
        .get("containers", "The task's containers.", |t: &mut TaskHandle| {
            array((0..t.task().containers.len()).map(|index| ContainerHandle {
                ev: Arc::clone(&t.ev),
                task: t.index,
                index,
            }))
        })
        .get("attachments: array", "The task's attachments (the ENI of awsvpc tasks: subnet, private IP), as in AWS.", |t: &mut TaskHandle| {
            json(&t.task().attachments)
        })
        .get("ephemeralStorage: map?", "The task's ephemeral storage (`sizeInGiB`), or `()`.", |t: &mut TaskHandle| {
            t.task()
                .ephemeral_storage
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .get("attributes", "The task's attributes as a map of name to value.", |t: &mut TaskHandle| {
            let mut map = Map::new();
            for attribute in &t.task().attributes {
                if let Some(name) = &attribute.name {
                    map.insert(name.as_str().into(), string(attribute.value.as_ref()));
                }
            }
            map
        })
        .func("path(field)", "Cites a field of the task (`\"stoppedReason\"`, `\"containers[0].exitCode\"`) as a `Fact`.", |t: &mut TaskHandle, field: &str| {
            cite(&t.record().loc.path(), t.task(), field)
        })
        .func("container(name) -> Container?", "The container with this name, or `()`.", |t: &mut TaskHandle, name: &str| {
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
        .func("task_definition() -> TaskDefinition?", "The task definition revision the task ran, or `()` when the bundle lacks it.", |t: &mut TaskHandle| {
            option(
                t.record()
                    .task_definition
                    .map(|index| TaskDefinitionHandle {
                        ev: Arc::clone(&t.ev),
                        index,
                    }),
            )
        })
        .func("service() -> Service?", "The task's service, or `()` for a standalone task or when the bundle lacks it.", |t: &mut TaskHandle| {
            option(t.record().service.map(|index| ServiceHandle {
                ev: Arc::clone(&t.ev),
                index,
            }))
        })
        .func("logs()", "Every log line of the task's containers, oldest first.", |t: &mut TaskHandle| {
            log_lines(&t.ev, &t.record().task_id, None)
        })
        .func("logs(container)", "The log lines of one container, oldest first.", |t: &mut TaskHandle, container: &str| {
            log_lines(&t.ev, &t.record().task_id, Some(container))
        })
        .func("grep_logs(pattern)", "The task's log lines matching a regular expression (Rust `regex` syntax), oldest first.\nMuch faster than a loop over `logs()`.", |t: &mut TaskHandle, pattern: &str| {
            grep_logs(&t.ev, &t.record().task_id, None, pattern)
        })
        .func("grep_logs(container, pattern)", "The log lines of one container matching a regular expression, oldest first.",
            |t: &mut TaskHandle, container: &str, pattern: &str| {
                grep_logs(&t.ev, &t.record().task_id, Some(container), pattern)
            },
        )
        .func("pull_failure() -> map?", "The task's image pull failure, or `()`: a map of `text` (the error, from a container's\n`reason`, else the task's `stoppedReason`), `image`, `container`, `kind` (`image-not-found`,\n`image-pull-auth-denied`, `rate-limited`, `network`, `disk-full` or `unknown`) and `fact` (the cited text).", |t: &mut TaskHandle| pull_failure(t))
        .func("events()", "The service events that name this task, oldest first.", |t: &mut TaskHandle| task_events(t))
        .func("neighbours()", "The other tasks of the same task definition revision, stopped or not: did identical\ntasks fare better?", |t: &mut TaskHandle| {
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
        .func("health_check() -> map?", "The health-check budget of a task behind a load balancer, or `()` when it has no service or\ntarget group. A map of `grace` (the service's grace period, seconds), `interval`,\n`threshold` and `timeout` (the target group's), `budget` (grace + interval × threshold),\n`lived` (seconds from `startedAt` to `stoppingAt`), `ready_line` and `ready_after` (the first\nlog line saying the app is up, and when, in seconds after start), `target_group`,\n`target_group_arn` and `facts` (the cited values).", |t: &mut TaskHandle| health_check(t))
        .func("ready_line() -> LogLine?", "The first log line saying the application is up and serving (`Listening on`, `Started … in`,\n`Uvicorn running`, …), or `()`.", |t: &mut TaskHandle| option(ready_line(t)))
        .func("is_stopped()", "Whether the task has stopped: `lastStatus` is `STOPPED`, or it is stopping (`desiredStatus`\n`STOPPED`) with a `stopCode`.", |t: &mut TaskHandle| {
            crate::evidence::is_stopped(t.task())
        })
        .func("to_string()", "`Task(<id>)`, for messages.", |t: &mut TaskHandle| {
            format!("Task({})", t.record().task_id)
        })
        .func("==(other)", "Whether two handles are the same task.", |a: &mut TaskHandle, b: TaskHandle| a.index == b.index);
}

fn register_container(api: &mut Api<'_>) {
    api.ty::<ContainerHandle>(
        "Container",
        "c",
        "A container of a task, as DescribeTasks reports it after the task ran.",
    );
    macro_rules! strings {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(api.get(concat!($name, ": string"), concat!("The container's `", $name, "` as DescribeTasks returns it, or `\"\"`."), |c: &mut ContainerHandle| string(c.container().$field.as_ref()));)*
        };
    }
    strings! {
        "containerArn" => container_arn, "name" => name, "image" => image, "imageDigest" => image_digest,
        "runtimeId" => runtime_id, "lastStatus" => last_status, "reason" => reason,
        "healthStatus" => health_status, "cpu" => cpu, "memory" => memory,
        "memoryReservation" => memory_reservation,
    }
    api.get(
        "exitCode: int?",
        "The container's exit code, or `()` when it never ran or ECS did not report one.",
        |c: &mut ContainerHandle| int(c.container().exit_code),
    )
    .get(
        "networkBindings: array",
        "The container's host port bindings (bridge and host network modes), as in AWS.",
        |c: &mut ContainerHandle| json(&c.container().network_bindings),
    )
    .get(
        "essential",
        "Whether the container is essential: its definition's `essential`, `true` when unset.",
        |c: &mut ContainerHandle| {
            // ECS treats a container as essential unless its definition says otherwise.
            c.definition()
                .is_none_or(|d| d.definition().essential.unwrap_or(true))
        },
    )
    .func(
        "path(field)",
        "Cites a field of the container (`\"exitCode\"`, `\"reason\"`) as a `Fact`.",
        |c: &mut ContainerHandle, field: &str| cite(&c.path(), c.container(), field),
    )
    .func(
        "task()",
        "The container's task.",
        |c: &mut ContainerHandle| TaskHandle {
            ev: Arc::clone(&c.ev),
            index: c.task,
        },
    )
    .func(
        "definition() -> ContainerDefinition?",
        "The container's definition in the task definition, or `()`.",
        |c: &mut ContainerHandle| option(c.definition()),
    )
    .func(
        "logs()",
        "The container's log lines, oldest first.",
        |c: &mut ContainerHandle| {
            let task_id = c.ev.tasks[c.task].task_id.clone();
            log_lines(&c.ev, &task_id, c.container().name.as_deref())
        },
    )
    .func(
        "grep_logs(pattern)",
        "The container's log lines matching a regular expression, oldest first.",
        |c: &mut ContainerHandle, pattern: &str| {
            let task_id = &c.ev.tasks[c.task].task_id;
            grep_logs(&c.ev, task_id, c.container().name.as_deref(), pattern)
        },
    )
    .func(
        "to_string()",
        "`Container(<name>)`.",
        |c: &mut ContainerHandle| {
            format!(
                "Container({})",
                c.container().name.clone().unwrap_or_default()
            )
        },
    );
}

fn register_task_definition(api: &mut Api<'_>) {
    api
        .ty::<TaskDefinitionHandle>("TaskDefinition", "td", "A task definition revision from DescribeTaskDefinition.")
        .get("taskDefinitionArn: string", "The task definition ARN.", |d: &mut TaskDefinitionHandle| {
            string(d.definition().task_definition_arn.as_ref())
        })
        .get("family: string", "The family name.", |d: &mut TaskDefinitionHandle| {
            string(d.definition().family.as_ref())
        })
        .get("revision: int?", "The revision number.", |d: &mut TaskDefinitionHandle| {
            int(d.definition().revision)
        })
        .get("status: string", "`ACTIVE` or `INACTIVE`.", |d: &mut TaskDefinitionHandle| {
            string(d.definition().status.as_ref())
        })
        .get("networkMode: string", "`awsvpc`, `bridge`, `host` or `none`; `\"\"` when unset.", |d: &mut TaskDefinitionHandle| {
            string(d.definition().network_mode.as_ref())
        })
        .get("cpu: string", "Task-level CPU units, as the string AWS returns (`\"1024\"`).", |d: &mut TaskDefinitionHandle| {
            string(d.definition().cpu.as_ref())
        })
        .get("memory: string", "Task-level memory in MiB, as the string AWS returns (`\"2048\"`).", |d: &mut TaskDefinitionHandle| {
            string(d.definition().memory.as_ref())
        })
        .get("taskRoleArn: string", "The task role ARN, or `\"\"`.", |d: &mut TaskDefinitionHandle| {
            string(d.definition().task_role_arn.as_ref())
        })
        .get("executionRoleArn: string", "The task execution role ARN, or `\"\"`.", |d: &mut TaskDefinitionHandle| {
            string(d.definition().execution_role_arn.as_ref())
        })
        .get("requiresCompatibilities: array", "The launch types it requires (`[\"FARGATE\"]`).", |d: &mut TaskDefinitionHandle| {
            json(&d.definition().requires_compatibilities)
        })
        .get("runtimePlatform: map?", "`cpuArchitecture` and `operatingSystemFamily`, or `()`.", |d: &mut TaskDefinitionHandle| {
            d.definition()
                .runtime_platform
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .get("volumes: array", "The volumes (EFS, bind mounts, Docker volumes), as in AWS.", |d: &mut TaskDefinitionHandle| {
            json(&d.definition().volumes)
        })
        .get("containerDefinitions", "The container definitions.", |d: &mut TaskDefinitionHandle| {
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
        .func("path(field)", "Cites a field of the task definition as a `Fact`.", |d: &mut TaskDefinitionHandle, field: &str| {
            cite(
                &d.ev.task_definitions[d.index].loc.path(),
                d.definition(),
                field,
            )
        })
        .func("container_definition(name) -> ContainerDefinition?", "The container definition with this name, or `()`.",
            |d: &mut TaskDefinitionHandle, name: &str| {
                option(container_definition(&d.ev, d.index, name))
            },
        )
        .func("changes()", "What changed since the previous revision of the family in the bundle (empty when there is\nnone): maps of `text` (\"image: app:1.4 → app:1.5\"), `field`, `container`, `before`,\n`after` and `fact`. Environment variables are compared by name only.", |d: &mut TaskDefinitionHandle| {
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
        .func("previous_revision() -> TaskDefinition?", "The previous revision of the same family in the bundle, or `()`.", |d: &mut TaskDefinitionHandle| {
            option(
                d.ev.previous_revision(d.index)
                    .map(|index| TaskDefinitionHandle {
                        ev: Arc::clone(&d.ev),
                        index,
                    }),
            )
        })
        .func("to_string()", "`family:revision`.", |d: &mut TaskDefinitionHandle| {
            crate::evidence::revision_name(d.definition())
        });

    api.ty::<ContainerDefinitionHandle>("ContainerDefinition", "def", "A container definition of a task definition. Environment variable values are never\nreadable: redaction removes them and rules see names only.");
    macro_rules! ints {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(api.get(concat!($name, ": int?"), concat!("The container definition's `", $name, "`, or `()` when unset."), |c: &mut ContainerDefinitionHandle| int(c.definition().$field));)*
        };
    }
    ints! {
        "cpu" => cpu, "memory" => memory, "memoryReservation" => memory_reservation,
        "startTimeout" => start_timeout, "stopTimeout" => stop_timeout,
    }
    api
        .get("name: string", "The container name.", |c: &mut ContainerDefinitionHandle| {
            string(c.definition().name.as_ref())
        })
        .get("image: string", "The image reference as written in the task definition.", |c: &mut ContainerDefinitionHandle| {
            string(c.definition().image.as_ref())
        })
        .get("user: string", "The `user` the container runs as, or `\"\"`.", |c: &mut ContainerDefinitionHandle| {
            string(c.definition().user.as_ref())
        })
        .get("essential", "Whether the container is essential (`true` when unset).", |c: &mut ContainerDefinitionHandle| {
            c.definition().essential.unwrap_or(true)
        })
        .get("command: array?", "The command array, or `()`.", |c: &mut ContainerDefinitionHandle| {
            c.definition().command.as_ref().map_or(Dynamic::UNIT, json)
        })
        .get("entryPoint: array?", "The entry point array, or `()`.", |c: &mut ContainerDefinitionHandle| {
            c.definition()
                .entry_point
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .get("secrets: array", "The secrets: maps of `name` and `valueFrom` (an ARN, never a value).", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().secrets)
        })
        .get("portMappings: array", "The port mappings, as in AWS.", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().port_mappings)
        })
        .get("environmentFiles: array", "The environment files (`value` is an S3 ARN, `type` is `s3`).", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().environment_files)
        })
        .get("mountPoints: array", "The mount points (`sourceVolume`, `containerPath`, `readOnly`).", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().mount_points)
        })
        .get("dependsOn: array", "The container dependencies (`containerName`, `condition`).", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().depends_on)
        })
        .get("healthCheck: map?", "The container health check (`command`, `interval`, `timeout`, `retries`, `startPeriod`), or `()`.", |c: &mut ContainerDefinitionHandle| {
            c.definition()
                .health_check
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .get("logConfiguration: map?", "The log configuration (`logDriver`, `options`), or `()`.", |c: &mut ContainerDefinitionHandle| {
            c.definition()
                .log_configuration
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .get("repositoryCredentials: map?", "The private registry credentials (`credentialsParameter`, an ARN), or `()`.",
            |c: &mut ContainerDefinitionHandle| {
                c.definition()
                    .repository_credentials
                    .as_ref()
                    .map_or(Dynamic::UNIT, json)
            },
        )
        .func("env_names()", "The names of the environment variables (never their values).", |c: &mut ContainerDefinitionHandle| {
            c.definition()
                .environment
                .iter()
                .filter_map(|kv| kv.name.clone())
                .map(Dynamic::from)
                .collect::<Array>()
        })
        .func("has_env(name)", "Whether an environment variable or a secret with this name is defined.",
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
        .func("env_path(name) -> Fact?", "Cites an environment variable or secret by name (never its value) as a `Fact`, or `()`.",
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
        .func("path(field)", "Cites a field of the container definition as a `Fact`. Fails for `environment`: use\n`env_path(name)`.", |c: &mut ContainerDefinitionHandle, field: &str| {
            if field == "environment" || field.starts_with("environment[") {
                return Err(
                    "cite environment variables with env_path(name): their values may be secrets"
                        .into(),
                );
            }
            cite(&c.path(), c.definition(), field)
        })
        .func("to_string()", "`ContainerDefinition(<name>)`.", |c: &mut ContainerDefinitionHandle| {
            format!(
                "ContainerDefinition({})",
                c.definition().name.clone().unwrap_or_default()
            )
        });
}

fn register_service(api: &mut Api<'_>) {
    api.ty::<ServiceHandle>(
        "Service",
        "service",
        "A service from DescribeServices, with its events and deployments.",
    );
    macro_rules! strings {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(api.get(concat!($name, ": string"), concat!("The service's `", $name, "` as DescribeServices returns it, or `\"\"`."), |s: &mut ServiceHandle| string(s.service().$field.as_ref()));)*
        };
    }
    macro_rules! ints {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(api.get(concat!($name, ": int?"), concat!("The service's `", $name, "`, or `()`."), |s: &mut ServiceHandle| int(s.service().$field));)*
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
    api
        .get("deploymentConfiguration: map?", "The deployment configuration (`deploymentCircuitBreaker`, `maximumPercent`,\n`minimumHealthyPercent`), or `()`.", |s: &mut ServiceHandle| {
            s.service()
                .deployment_configuration
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .get("deployments: array", "The deployments, newest first, as in AWS (`status`, `rolloutState`, `taskDefinition`,\n`failedTasks`, …).", |s: &mut ServiceHandle| {
            json(&s.service().deployments)
        })
        .get("loadBalancers: array", "The load balancers (`targetGroupArn`, `containerName`, `containerPort`).", |s: &mut ServiceHandle| {
            json(&s.service().load_balancers)
        })
        .get("networkConfiguration: map?", "The awsvpc configuration (subnets, security groups, public IP), or `()`.", |s: &mut ServiceHandle| {
            s.service()
                .network_configuration
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .get("events", "The service events, newest first as ECS returns them (at most 100).", |s: &mut ServiceHandle| {
            array(
                (0..s.service().events.len()).map(|index| ServiceEventHandle {
                    ev: Arc::clone(&s.ev),
                    service: s.index,
                    index,
                }),
            )
        })
        .func("events_matching(pattern)", "The events whose message matches a regular expression, however often ECS repeated them: a\nmap of `events` (in the service's order), `count`, `first` and `last` (times), `latest` (the\nnewest event) and `summary` (\"5 times between A and B (12m 00s)\", or \"once, at A\").", events_matching)
        .func("steady_after(time)", "Whether the service reached a steady state after this time: the trouble is over.", |s: &mut ServiceHandle, at: &str| {
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
        .func("steady_after(time)", "", |_: &mut ServiceHandle, (): ()| false)
        .func("task_definition() -> TaskDefinition?", "The service's current task definition, or `()` when the bundle lacks it.", |s: &mut ServiceHandle| {
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
        .func("path(field)", "Cites a field of the service as a `Fact`.", |s: &mut ServiceHandle, field: &str| {
            cite(&s.ev.services[s.index].loc.path(), s.service(), field)
        })
        .func("to_string()", "`Service(<name>)`.", |s: &mut ServiceHandle| {
            format!(
                "Service({})",
                s.service().service_name.clone().unwrap_or_default()
            )
        });

    api.ty::<ServiceEventHandle>(
        "ServiceEvent",
        "event",
        "One service event (`service.events`), newest first as ECS lists them.",
    )
    .get(
        "id: string",
        "The event id.",
        |e: &mut ServiceEventHandle| string(e.event().id.as_ref()),
    )
    .get(
        "message: string",
        "The event message, verbatim.",
        |e: &mut ServiceEventHandle| string(e.event().message.as_ref()),
    )
    .get(
        "createdAt: timestamp?",
        "When ECS logged the event.",
        |e: &mut ServiceEventHandle| time(e.event().created_at),
    )
    .func(
        "path()",
        "Cites the event's message as a `Fact`.",
        |e: &mut ServiceEventHandle| Fact {
            path: format!(
                "{}.events[{}].message",
                e.ev.services[e.service].loc.path(),
                e.index
            ),
            value: Value::String(e.event().message.clone().unwrap_or_default()),
        },
    );
}

fn register_log_line(api: &mut Api<'_>) {
    api.ty::<LogLineHandle>(
        "LogLine",
        "line",
        "One log event of a container, from CloudWatch Logs GetLogEvents.",
    )
    .get(
        "message",
        "The log line's text.",
        |l: &mut LogLineHandle| l.line().message.clone(),
    )
    .get(
        "timestamp: timestamp?",
        "When the line was logged, or `()`.",
        |l: &mut LogLineHandle| {
            l.line()
                .timestamp
                .map_or(Dynamic::UNIT, |t| Dynamic::from(t.to_string()))
        },
    )
    .get(
        "logGroupName: string",
        "The log group.",
        |l: &mut LogLineHandle| string(l.ev.log_streams[l.stream].group.as_ref()),
    )
    .get(
        "logStreamName: string",
        "The log stream.",
        |l: &mut LogLineHandle| string(l.ev.log_streams[l.stream].stream.as_ref()),
    )
    .get(
        "container: string",
        "The container that logged it (from the stream name), or `\"\"`.",
        |l: &mut LogLineHandle| string(l.ev.log_streams[l.stream].container.as_ref()),
    )
    .func(
        "path()",
        "Cites the line as a `Fact`.",
        |l: &mut LogLineHandle| Fact {
            path: format!("{}.message", l.line().loc.path()),
            value: Value::String(l.line().message.clone()),
        },
    )
    .func(
        "to_string()",
        "The line's text.",
        |l: &mut LogLineHandle| l.line().message.clone(),
    );
}

fn register_finding(api: &mut Api<'_>) {
    api
        .ty::<Fact>("Fact", "fact", "One piece of evidence: where it is in the bundle (`path`) and its value. Every\n`x.path(\"field\")` returns one; `fact(path, value)` makes one.")
        .get("path", "Where the value is in the bundle (`calls[2].response.tasks[0].stoppedReason`).", |f: &mut Fact| f.path.clone())
        .get("value: any", "The cited value.", |f: &mut Fact| json(&f.value))
        .func("fact(path, value)", "Makes a `Fact` from a path and a value, for evidence that no `path()` reaches.", |path: &str, value: Dynamic| -> RhaiResult<Fact> {
            let value: Value = rhai::serde::from_dynamic(&value)?;
            Ok(Fact {
                path: path.to_owned(),
                value,
            })
        });

    api
        .ty::<ScriptFinding>("Finding", "f", "What a rule returns: a subject (task, container or service), a message, evidence,\nan optional hint and doc link. Build it with `finding(…)`, then chain the methods below.")
        .func("finding(subject, message)", "A finding about a task. The message says what happened, naming the container and the key\nnumbers or strings.", |task: TaskHandle, message: &str| {
            new_finding(
                Subject::Task {
                    task: task.index,
                    container: None,
                },
                message,
            )
        })
        .func("finding(subject, message)", "A finding about a container of a task (the report names the container).", |container: ContainerHandle, message: &str| {
            let name = container.container().name.clone();
            new_finding(
                Subject::Task {
                    task: container.task,
                    container: name,
                },
                message,
            )
        })
        .func("finding(subject, message)", "A finding about a service, for service-level failures (placement, deployments).", |service: ServiceHandle, message: &str| {
            new_finding(Subject::Service(service.index), message)
        })
        .get("message", "The finding's message.", |f: &mut ScriptFinding| f.message.clone())
        .func("evidence(fact)", "Adds one `Fact` as evidence; returns the finding.", |f: &mut ScriptFinding, fact: Fact| {
            f.evidence.push(fact);
            f.clone()
        })
        .func("evidence(facts)", "Adds each `Fact` of an array as evidence, skipping `()` (a missing optional fact); returns\nthe finding.",
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
        .func("evidence(facts)", "", |f: &mut ScriptFinding, (): ()| f.clone())
        .func("hint(text)", "Sets the one actionable sentence the report prints under the finding.", |f: &mut ScriptFinding, text: &str| {
            f.hint = Some(text.to_owned());
            f.clone()
        })
        .func("doc(url)", "Sets a documentation link for the finding.", |f: &mut ScriptFinding, url: &str| {
            f.doc_url = Some(url.to_owned());
            f.clone()
        })
        .func("symptom()", "Marks the finding as a consequence of another finding's root cause (a 143 after a\nhealth-check kill). The report links it to the root cause.", |f: &mut ScriptFinding| {
            f.symptom = true;
            f.clone()
        })
        .func("caused_by(task)", "Marks the finding as a symptom of another task's root cause (a rollback caused by failed\ntasks).", |f: &mut ScriptFinding, task: TaskHandle| {
            // A symptom whose root cause is another task's (a rollback caused by failed tasks).
            f.symptom = true;
            f.caused_by = Some(task.index);
            f.clone()
        })
        .func("caused_by(task)", "", |f: &mut ScriptFinding, (): ()| f.clone());
}
