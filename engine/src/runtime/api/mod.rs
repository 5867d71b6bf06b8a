//! The evidence API rules see: read-only handle types with AWS-spelled properties, one file
//! per type (`evidence`, `task`, `container`, `task_definition`, `service`, `log_line`) and
//! the findings rules build (`finding`).
//!
//! Conventions: absent strings read as `""`, absent numbers, booleans and timestamps as `()`.
//! Timestamps are RFC 3339 strings in UTC with milliseconds. Nested AWS structures that the
//! engine does not model read as Rhai maps and arrays. No setter is registered anywhere.

mod container;
mod ecs_event;
mod evidence;
mod failure;
mod finding;
mod log_line;
mod service;
mod startup;
mod task;
mod task_definition;

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, EvalAltResult};
use serde::Serialize;
use serde_json::Value;

use recorder::model;
use recorder::time::EpochSeconds;

use crate::evidence::{Evidence, Held, LogLine, TaskRecord};
use crate::model::{Fact, Subject};
use crate::runtime::registry::{Api, TypeDoc};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// How handles hold the evidence: each run of a rule wraps its own clone of the `Evidence`
/// handle (itself an `Arc` of the shared view) in an `Arc` of its own, so the handles it makes
/// and drops count references on that run's own counter. With one counter for every thread,
/// rules on two cores spent a fifth of their time passing it between caches.
pub(crate) type Ev = Arc<Evidence>;

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

/// One entry of a DescribeTasks or RunTask response's `failures[]`.
#[derive(Debug, Clone)]
pub(crate) struct FailureHandle {
    ev: Ev,
    index: usize,
}

/// One EventBridge event from ECS (`View::ecs_events`).
#[derive(Debug, Clone)]
pub(crate) struct EcsEventHandle {
    ev: Ev,
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
    /// Set by `.problem()`: a finding of a benign rule that is a problem after all (the
    /// platform acted because of the user's own configuration).
    pub problem: bool,
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
    /// The task definition the task ran, when the bundle holds it.
    fn definition(&self) -> Option<&model::TaskDefinition> {
        let index = self.record().task_definition?;
        Some(&self.ev.task_definitions[index].definition)
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

/// A `Fact` for `path` with what the bundle holds there (`null` where it holds nothing).
fn held_fact(ev: &Ev, path: &str) -> Fact {
    let value = match ev.held(path) {
        Held::Value(value) => value,
        Held::Absent | Held::Unknown => Value::Null,
    };
    Fact {
        path: path.to_owned(),
        value,
        label: None,
    }
}

/// Cites `field` (a dotted path, `a.b[2].c`) of a record found at `base`: the value is what the
/// bundle holds there (`View::held`). Only where the view cannot read the bundle's text is it
/// taken from the typed record, converting just the first field to JSON
/// (`crate::runtime::cite::field`), never the whole record.
fn cite<T: Serialize>(ev: &Ev, base: &str, record: &T, field: &str) -> RhaiResult<Fact> {
    let path = format!("{base}.{field}");
    match ev.held(&path) {
        Held::Value(value) => {
            return Ok(Fact {
                path,
                value,
                label: None,
            });
        }
        Held::Absent => {
            return Ok(Fact {
                path,
                value: Value::Null,
                label: None,
            });
        }
        Held::Unknown => {}
    }
    let first = field.find(['.', '[']).unwrap_or(field.len());
    let root = if first == 0 {
        serde_json::to_value(record).unwrap_or(Value::Null)
    } else {
        crate::runtime::cite::field(record, &field[..first]).unwrap_or(Value::Null)
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
        path,
        value: value.clone(),
        label: None,
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
    let regex = crate::runtime::helpers::regex(pattern)?;
    Ok(array(
        lines_where(ev, task_id, container, |line| regex.is_match(&line.message)).into_iter(),
    ))
}

/// The log lines of one task (optionally one container) that report a dependency failure.
fn dependency_lines(ev: &Ev, task_id: &str, container: Option<&str>) -> Array {
    array(
        lines_where(ev, task_id, container, |line| {
            crate::classify::dependency::classify(&line.message).is_some()
        })
        .into_iter(),
    )
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

/// Registers the evidence API; returns the registered types' docs.
pub(crate) fn register(engine: &mut Engine) -> Vec<TypeDoc> {
    let mut api = Api::new(engine);
    evidence::register(&mut api);
    task::register(&mut api);
    container::register(&mut api);
    task_definition::register(&mut api);
    failure::register(&mut api);
    ecs_event::register(&mut api);
    service::register(&mut api);
    log_line::register(&mut api);
    finding::register(&mut api);
    api.types
}
