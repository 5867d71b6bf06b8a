//! The evidence view: a typed, read-only index over one bundle, built once and shared by
//! every rule.
//!
//! Records keep their AWS spelling and remember where they came from (`Loc`), so a finding
//! can cite the exact path in the bundle, e.g. `calls[2].response.tasks[0].stoppedReason`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use recorder::bundle::{Bundle, CallError, Manifest, Response};
use recorder::model;
use recorder::selection::Limits;
use recorder::time::Timestamp;

mod cited;
pub mod insights;
mod label;

pub use cited::Held;

/// Where a record sits in the bundle: `calls[call].response.<collection>[index]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    pub call: usize,
    pub collection: &'static str,
    pub index: Option<usize>,
}

impl Loc {
    pub fn path(&self) -> String {
        match self.index {
            Some(index) => format!("calls[{}].response.{}[{index}]", self.call, self.collection),
            None => format!("calls[{}].response.{}", self.call, self.collection),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Located<T> {
    pub loc: Loc,
    pub value: T,
}

/// A stopped or running task and the indexes that rules use to reach its context.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub loc: Loc,
    pub task: model::Task,
    /// The last segment of the task ARN.
    pub task_id: String,
    /// Index into `Evidence::task_definitions`.
    pub task_definition: Option<usize>,
    /// Index into `Evidence::services` (from `group: service:NAME`).
    pub service: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct TaskDefinitionRecord {
    pub loc: Loc,
    pub definition: model::TaskDefinition,
}

/// The log events of one stream (or of one imported file whose stream is unknown).
#[derive(Debug, Clone)]
pub struct LogStream {
    pub group: Option<String>,
    pub stream: Option<String>,
    pub source_file: Option<String>,
    /// The task this stream belongs to, when it could be attributed.
    pub task_id: Option<String>,
    /// The container this stream belongs to, when it could be attributed.
    pub container: Option<String>,
    pub lines: Vec<LogLine>,
}

#[derive(Debug, Clone)]
pub struct LogLine {
    pub loc: Loc,
    pub timestamp: Option<Timestamp>,
    pub message: String,
}

/// Per task, the events of its service whose message contains its task id, in event order.
/// One pass over each service's events with all its tasks' ids at once (Aho-Corasick), not one
/// pass per task: a bundle with many tasks and events stays linear.
fn task_events(evidence: &View) -> Vec<Vec<usize>> {
    let mut events = vec![Vec::new(); evidence.tasks.len()];
    let mut by_service: Vec<Vec<usize>> = vec![Vec::new(); evidence.services.len()];
    for (task, record) in evidence.tasks.iter().enumerate() {
        if let Some(service) = record.service
            && !record.task_id.is_empty()
        {
            by_service[service].push(task);
        }
    }
    for (located, tasks) in evidence.services.iter().zip(by_service) {
        // Tasks of this service by id; several tasks may share an id.
        let mut ids: Vec<&str> = Vec::new();
        let mut tasks_of: Vec<Vec<usize>> = Vec::new();
        let mut position: HashMap<&str, usize> = HashMap::new();
        for task in tasks {
            let record = &evidence.tasks[task];
            let slot = *position.entry(&record.task_id).or_insert_with(|| {
                ids.push(&record.task_id);
                tasks_of.push(Vec::new());
                ids.len() - 1
            });
            tasks_of[slot].push(task);
        }
        if ids.is_empty() {
            continue;
        }
        let Ok(matcher) = aho_corasick::AhoCorasick::new(&ids) else {
            continue;
        };
        let mut seen = vec![usize::MAX; ids.len()];
        for (index, event) in located.value.events.iter().enumerate() {
            let Some(message) = event.message.as_deref() else {
                continue;
            };
            for found in matcher.find_overlapping_iter(message) {
                let slot = found.pattern().as_usize();
                if seen[slot] == index {
                    continue;
                }
                seen[slot] = index;
                for &task in &tasks_of[slot] {
                    events[task].push(index);
                }
            }
        }
    }
    events
}

/// A call that failed, so the evidence it would have given is missing.
#[derive(Debug, Clone)]
pub struct FailedCall {
    pub call: usize,
    pub service: String,
    pub operation: String,
    pub error: CallError,
}

/// Gives imported DescribeTargetGroupAttributes output (which names no target group) to the
/// bundle's target group when there is exactly one, from DescribeTargetGroups or a service's
/// `loadBalancers`.
fn link_target_group_attributes(view: &mut View) {
    if view
        .target_group_attributes
        .iter()
        .all(|set| set.target_group_arn.is_some())
    {
        return;
    }
    let mut arns: Vec<&str> = view
        .target_groups
        .iter()
        .filter_map(|group| group.value.target_group_arn.as_deref())
        .chain(view.services.iter().flat_map(|service| {
            service
                .value
                .load_balancers
                .iter()
                .filter_map(|lb| lb.get("targetGroupArn").and_then(serde_json::Value::as_str))
        }))
        .collect();
    arns.sort_unstable();
    arns.dedup();
    if let [only] = arns.as_slice() {
        let only = (*only).to_owned();
        for set in &mut view.target_group_attributes {
            set.target_group_arn.get_or_insert_with(|| only.clone());
        }
    }
}

/// One DescribeTargetGroupAttributes response: the target group it is about (from the request;
/// for imported output, which names none, the bundle's only target group) and its attributes.
#[derive(Debug, Clone, Default)]
pub struct TargetGroupAttributeSet {
    pub target_group_arn: Option<String>,
    pub attributes: Vec<Located<model::TargetGroupAttribute>>,
}

#[derive(Debug, Clone, Default)]
pub struct TargetHealthSet {
    pub target_group_arn: Option<String>,
    pub targets: Vec<Located<model::TargetHealthDescription>>,
}

/// Limits on the evidence the rules see, so that a hostile bundle cannot blow up their work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvidenceLimits {
    /// Longer log lines are cut to this many bytes, with a marker, so that one doctored line
    /// cannot make every rule that scans logs scan megabytes.
    pub max_log_line_bytes: usize,
}

impl Default for EvidenceLimits {
    fn default() -> EvidenceLimits {
        EvidenceLimits {
            max_log_line_bytes: 1 << 20,
        }
    }
}

/// The evidence of one bundle, built once: a handle to the shared, immutable `View`, so that
/// cloning it (for every rule run, on every thread) copies a pointer, not the view.
#[derive(Debug, Clone)]
pub struct Evidence(Arc<View>);

impl std::ops::Deref for Evidence {
    type Target = View;
    fn deref(&self) -> &View {
        &self.0
    }
}

/// Everything the rules may look at, typed and indexed. Immutable once built.
#[derive(Debug)]
pub struct View {
    pub manifest: Manifest,
    /// Every described task, deduplicated by ARN (the last description wins), sorted by
    /// stop time and ARN so that output order is deterministic.
    pub tasks: Vec<TaskRecord>,
    pub services: Vec<Located<model::Service>>,
    pub task_definitions: Vec<TaskDefinitionRecord>,
    pub container_instances: Vec<Located<model::ContainerInstance>>,
    pub log_streams: Vec<LogStream>,
    pub target_groups: Vec<Located<model::TargetGroup>>,
    pub target_health: Vec<TargetHealthSet>,
    pub target_group_attributes: Vec<TargetGroupAttributeSet>,
    /// The `failures[]` of DescribeTasks and RunTask responses: what ECS could not describe or
    /// place (`RESOURCE:MEMORY`, `AGENT`, `MISSING`, …), in call order.
    pub failures: Vec<Located<model::Failure>>,
    /// The EventBridge events from ECS the bundle holds (`events EcsEvents`: an event file
    /// given to `replay`, or the event that made the Lambda record), in call order.
    pub ecs_events: Vec<Located<model::EcsEvent>>,
    /// The service deployments from DescribeServiceDeployments, newest first (`createdAt`),
    /// then in call order.
    pub service_deployments: Vec<Located<model::ServiceDeployment>>,
    /// The service revisions from DescribeServiceRevisions, in call order.
    pub service_revisions: Vec<Located<model::ServiceRevision>>,
    /// The `protectedTasks[]` of GetTaskProtection responses, in call order.
    pub protected_tasks: Vec<Located<model::ProtectedTask>>,
    /// Container Insights settings, Logs Insights queries and CloudTrail records.
    pub insights: insights::Insights,
    pub failed_calls: Vec<FailedCall>,
    /// `(service, operation)` of every call present in the bundle, failed or not.
    pub present_calls: Vec<(String, String)>,
    /// Per call, the AWS CLI file it was imported from, if any, and where the file's top
    /// level sits in the response when the import put a part back into its response.
    pub call_sources: Vec<Option<(String, Option<String>)>>,
    /// Log lines longer than `EvidenceLimits::max_log_line_bytes`, cut to that length.
    pub cut_lines: usize,
    /// Stopped tasks of the chosen services that the task limits (`--max-tasks`, `--since`)
    /// left out of the diagnosis.
    pub left_out: usize,
    /// Look-ups built once with the view, so that rules asking about one task do not scan all.
    index: Index,
    /// The text of every response but log events, to read cited values from (`View::held`).
    texts: cited::Texts,
    /// Call → the log streams holding its events, built the first time a log line is cited.
    log_calls: std::sync::OnceLock<HashMap<usize, Vec<usize>>>,
}

/// Where to find things by key. Built by `Index::build` after the view is complete.
#[derive(Debug, Clone, Default)]
struct Index {
    /// Task ARN and task id → the first task with it.
    tasks: HashMap<String, usize>,
    /// Task id → its log streams, in stream order.
    streams: HashMap<String, Vec<usize>>,
    /// Per task: the events of its service whose message contains its task id, in event order.
    events: Vec<Vec<usize>>,
    /// Task definition ARN → the first definition with it.
    definition_arns: HashMap<String, usize>,
    /// `family:revision` → the first definition with it.
    definition_names: HashMap<String, usize>,
    /// Service name and ARN → the first service with either.
    services: HashMap<String, usize>,
    /// Family → its definitions' `(revision, index)`, sorted.
    families: HashMap<String, Vec<(i64, usize)>>,
    /// Task definition ARN → the tasks of it that started (`startedAt` set), in task order.
    started: HashMap<String, Vec<usize>>,
}

impl Index {
    /// The look-ups by definition and service, which linking tasks needs before the rest.
    fn by_name(evidence: &View) -> Index {
        let mut index = Index::default();
        for (i, record) in evidence.task_definitions.iter().enumerate() {
            if let Some(arn) = &record.definition.task_definition_arn {
                index.definition_arns.entry(arn.clone()).or_insert(i);
            }
            if let Some(name) = family_revision(&record.definition) {
                index.definition_names.entry(name).or_insert(i);
            }
            if let (Some(family), Some(revision)) =
                (&record.definition.family, record.definition.revision)
            {
                index
                    .families
                    .entry(family.clone())
                    .or_default()
                    .push((revision, i));
            }
        }
        for revisions in index.families.values_mut() {
            revisions.sort_unstable();
        }
        for (i, service) in evidence.services.iter().enumerate() {
            for key in [&service.value.service_name, &service.value.service_arn]
                .into_iter()
                .flatten()
            {
                index.services.entry(key.clone()).or_insert(i);
            }
        }
        index
    }

    fn build(evidence: &View) -> Index {
        // In task order, so that a lookup by id or ARN gets the first task matching either, as
        // a scan would.
        let mut tasks = HashMap::new();
        for (index, record) in evidence.tasks.iter().enumerate() {
            if let Some(arn) = &record.task.task_arn {
                tasks.entry(arn.clone()).or_insert(index);
            }
            tasks.entry(record.task_id.clone()).or_insert(index);
        }
        let mut started: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, record) in evidence.tasks.iter().enumerate() {
            if let Some(arn) = &record.task.task_definition_arn
                && !arn.is_empty()
                && record.task.started_at.is_some()
            {
                started.entry(arn.clone()).or_default().push(index);
            }
        }
        let mut streams: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, stream) in evidence.log_streams.iter().enumerate() {
            if let Some(task_id) = &stream.task_id {
                streams.entry(task_id.clone()).or_default().push(index);
            }
        }
        Index {
            tasks,
            streams,
            started,
            events: task_events(evidence),
            ..Index::by_name(evidence)
        }
    }
}

impl Evidence {
    /// Builds the view. Takes the bundle by value: typed responses move into the view
    /// instead of being copied.
    pub fn from_bundle(bundle: Bundle) -> Evidence {
        Evidence::from_bundle_with(bundle, EvidenceLimits::default())
    }

    /// `from_bundle`, with limits on what the rules are given.
    pub fn from_bundle_with(bundle: Bundle, limits: EvidenceLimits) -> Evidence {
        let mut builder = Builder {
            limits,
            ..Builder::default()
        };
        let Bundle { manifest, calls } = bundle;
        for (index, mut call) in calls.into_iter().enumerate() {
            builder
                .present
                .push((call.service.clone(), call.operation.clone()));
            builder.sources.push(
                call.source_file
                    .clone()
                    .map(|file| (file, call.source_root.clone())),
            );
            let text = call
                .known_operation()
                .filter(|operation| !operation.is_log_events())
                .and_then(|_| {
                    (call.response.take().map(Box::<str>::from)).or(call.cited_text.take())
                });
            if let Some(operation) = call.known_operation() {
                builder.insights.add(
                    index,
                    operation,
                    &call.request,
                    text.as_deref(),
                    &call.parsed,
                    call.error.as_ref(),
                );
            }
            builder.texts.push(text);
            if let Some(error) = call.error.clone() {
                builder.failed.push(FailedCall {
                    call: index,
                    service: call.service.clone(),
                    operation: call.operation.clone(),
                    error,
                });
                continue;
            }
            let request = Request {
                log_group: call.request_str("logGroupName").map(str::to_owned),
                log_stream: call.request_str("logStreamName").map(str::to_owned),
                target_group_arn: call.request_str("TargetGroupArn").map(str::to_owned),
                source_file: call.source_file.clone(),
            };
            // Moves the typed response out when the bundle was the only owner; copies it otherwise.
            let parsed = Arc::try_unwrap(call.parsed).unwrap_or_else(|shared| (*shared).clone());
            builder.add(index, parsed, request);
        }
        Evidence(Arc::new(builder.finish(manifest)))
    }
}

impl View {
    /// Tasks that stopped (or are being stopped by ECS), in report order.
    pub fn stopped_tasks(&self) -> impl Iterator<Item = (usize, &TaskRecord)> {
        self.tasks
            .iter()
            .enumerate()
            .filter(|(_, record)| is_stopped(&record.task))
    }

    pub fn task_index(&self, arn_or_id: &str) -> Option<usize> {
        self.index.tasks.get(arn_or_id).copied()
    }

    /// Indexes into the task's service's `events` of the events whose message contains the
    /// task id, in event order.
    pub fn task_event_indexes(&self, task: usize) -> &[usize] {
        self.index.events.get(task).map_or(&[], Vec::as_slice)
    }

    /// The tasks of a task definition (by ARN) that started, in task order.
    pub fn started_tasks_of(&self, task_definition_arn: &str) -> &[usize] {
        self.index
            .started
            .get(task_definition_arn)
            .map_or(&[], Vec::as_slice)
    }

    pub fn task_definition_index(&self, arn: &str) -> Option<usize> {
        // The first definition whose full ARN is `arn`, or whose `family:revision` is `arn` or
        // follows a `/` in it (as services and short references write it).
        let by_name = std::iter::once(arn)
            .chain(arn.match_indices('/').map(|(at, _)| &arn[at + 1..]))
            .filter_map(|name| self.index.definition_names.get(name).copied())
            .min();
        match (self.index.definition_arns.get(arn).copied(), by_name) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The highest revision of the same family below this one, if the bundle holds it.
    pub fn previous_revision(&self, definition_index: usize) -> Option<usize> {
        let current = &self.task_definitions.get(definition_index)?.definition;
        let family = current.family.as_deref()?;
        let revision = current.revision?;
        // The highest lower revision; of several definitions with it, the last, as a scan
        // keeping the maximum would give.
        let revisions = self.index.families.get(family)?;
        let below = revisions.partition_point(|&(r, _)| r < revision);
        below.checked_sub(1).map(|at| revisions[at].1)
    }

    pub fn service_index(&self, name_or_arn: &str) -> Option<usize> {
        self.index.services.get(name_or_arn).copied()
    }

    /// Log lines of one task, optionally of one container, in time order across its streams
    /// (the order rules see them in). Lines without a timestamp keep their stream order, first.
    pub fn task_logs<'a>(
        &'a self,
        task_id: &'a str,
        container: Option<&'a str>,
    ) -> Vec<&'a LogLine> {
        let mut lines: Vec<&LogLine> = self
            .task_streams(task_id, container)
            .flat_map(|(_, stream)| stream.lines.iter())
            .collect();
        lines.sort_by_key(|line| line.timestamp);
        lines
    }

    /// The log streams of one task, optionally of one container, with their index.
    pub fn task_streams<'a>(
        &'a self,
        task_id: &'a str,
        container: Option<&'a str>,
    ) -> impl Iterator<Item = (usize, &'a LogStream)> + 'a {
        self.index
            .streams
            .get(task_id)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&index| (index, &self.log_streams[index]))
            .filter(move |(_, stream)| {
                container.is_none_or(|name| stream.container.as_deref() == Some(name))
            })
    }

    /// What the bundle holds at an evidence path such as `calls[2].response.tasks[0].stoppedAt`:
    /// read from the response's own text, so timestamps, absent fields and fields no typed view
    /// models come out as the bundle has them. A log event's `message` is the line the rules
    /// saw (cut, with a marker saying so, past `EvidenceLimits::max_log_line_bytes`).
    pub fn held(&self, path: &str) -> Held {
        if let Some((call, rest)) = cited::split_call(path)
            && let Some(index) = rest
                .strip_prefix("events[")
                .and_then(|rest| rest.strip_suffix("].message"))
                .and_then(|index| index.parse::<usize>().ok())
        {
            let log_calls = self.log_calls.get_or_init(|| {
                let mut calls: HashMap<usize, Vec<usize>> = HashMap::new();
                for (s, stream) in self.log_streams.iter().enumerate() {
                    for line in &stream.lines {
                        let streams = calls.entry(line.loc.call).or_default();
                        if streams.last() != Some(&s) {
                            streams.push(s);
                        }
                    }
                }
                calls
            });
            let line = log_calls
                .get(&call)
                .into_iter()
                .flatten()
                .flat_map(|&stream| &self.log_streams[stream].lines)
                .find(|line| line.loc.call == call && line.loc.index == Some(index));
            if let Some(line) = line {
                return Held::Value(line.message.clone().into());
            }
        }
        self.texts.held(path)
    }

    pub fn call_failed(&self, service: &str, operation: &str) -> Option<&FailedCall> {
        self.failed_calls
            .iter()
            .find(|failed| failed.service == service && failed.operation == operation)
    }

    pub fn has_call(&self, service: &str, operation: &str) -> bool {
        self.present_calls
            .iter()
            .any(|(s, o)| s == service && o == operation)
    }
}

/// A task counts as stopped when ECS says so, or when it is on its way there with a stop code.
pub fn is_stopped(task: &model::Task) -> bool {
    recorder::selection::is_stopped(
        task.last_status.as_deref(),
        task.desired_status.as_deref(),
        task.stop_code.is_some(),
    )
}

/// The id at the end of a task ARN (`arn:…:task/cluster/ID` or the old `arn:…:task/ID`).
pub fn task_id_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// `family:revision`, as reports name a task definition (missing parts read as empty and 0).
/// `family:revision`, or the family alone for a task definition not registered yet (a file
/// in a repository, checked by `lint`).
pub fn revision_name(definition: &model::TaskDefinition) -> String {
    let family = definition.family.as_deref().unwrap_or_default();
    match definition.revision {
        Some(revision) => format!("{family}:{revision}"),
        None => family.to_owned(),
    }
}

fn family_revision(definition: &model::TaskDefinition) -> Option<String> {
    Some(format!(
        "{}:{}",
        definition.family.as_deref()?,
        definition.revision?
    ))
}

/// The request parameters the builder needs to place a response.
struct Request {
    log_group: Option<String>,
    log_stream: Option<String>,
    target_group_arn: Option<String>,
    source_file: Option<String>,
}

#[derive(Default)]
struct Builder {
    tasks: Vec<TaskRecord>,
    task_by_arn: HashMap<String, usize>,
    services: Vec<Located<model::Service>>,
    task_definitions: Vec<TaskDefinitionRecord>,
    definition_by_arn: HashMap<String, usize>,
    container_instances: Vec<Located<model::ContainerInstance>>,
    log_streams: Vec<LogStream>,
    stream_by_name: HashMap<(Option<String>, String), usize>,
    target_groups: Vec<Located<model::TargetGroup>>,
    target_health: Vec<TargetHealthSet>,
    target_group_attributes: Vec<TargetGroupAttributeSet>,
    failures: Vec<Located<model::Failure>>,
    ecs_events: Vec<Located<model::EcsEvent>>,
    service_deployments: Vec<Located<model::ServiceDeployment>>,
    service_revisions: Vec<Located<model::ServiceRevision>>,
    protected_tasks: Vec<Located<model::ProtectedTask>>,
    insights: insights::Insights,
    failed: Vec<FailedCall>,
    present: Vec<(String, String)>,
    sources: Vec<Option<(String, Option<String>)>>,
    limits: EvidenceLimits,
    cut_lines: usize,
    texts: cited::Texts,
}

impl Builder {
    fn log_line(&mut self, loc: Loc, event: model::LogEvent) -> LogLine {
        let mut message = event.message.unwrap_or_default();
        let max = self.limits.max_log_line_bytes;
        if message.len() > max {
            self.cut_lines += 1;
            let total = message.len();
            message.truncate(message.floor_char_boundary(max));
            let _ = write!(
                message,
                " … [line cut: {total} bytes, limits.max_log_line_bytes is {max}]"
            );
        }
        LogLine {
            loc,
            timestamp: event.timestamp.map(|t| t.0),
            message,
        }
    }

    fn add(&mut self, call: usize, parsed: Response, request: Request) {
        let Request {
            log_group: request_group,
            log_stream: request_stream,
            target_group_arn,
            source_file,
        } = request;
        let loc = |collection: &'static str, index: usize| Loc {
            call,
            collection,
            index: Some(index),
        };
        match parsed {
            Response::DescribeTasks(response) => {
                for (index, failure) in response.failures.into_iter().enumerate() {
                    self.failures.push(Located {
                        loc: loc("failures", index),
                        value: failure,
                    });
                }
                for (index, task) in response.tasks.into_iter().enumerate() {
                    let arn = task.task_arn.clone().unwrap_or_default();
                    let record = TaskRecord {
                        loc: loc("tasks", index),
                        task_id: task_id_of(&arn).to_owned(),
                        task,
                        task_definition: None,
                        service: None,
                    };
                    match self.task_by_arn.get(&arn) {
                        Some(&existing) if !arn.is_empty() => self.tasks[existing] = record,
                        _ => {
                            self.task_by_arn.insert(arn, self.tasks.len());
                            self.tasks.push(record);
                        }
                    }
                }
            }
            Response::DescribeServices(response) => {
                for (index, service) in response.services.into_iter().enumerate() {
                    let key = service
                        .service_arn
                        .clone()
                        .or_else(|| service.service_name.clone());
                    let located = Located {
                        loc: loc("services", index),
                        value: service,
                    };
                    let existing = self.services.iter().position(|s| {
                        key.is_some()
                            && (s
                                .value
                                .service_arn
                                .clone()
                                .or_else(|| s.value.service_name.clone()))
                                == key
                    });
                    match existing {
                        Some(existing) => self.services[existing] = located,
                        None => self.services.push(located),
                    }
                }
            }
            Response::DescribeTaskDefinition(response) => {
                if let Some(definition) = response.task_definition {
                    let record = TaskDefinitionRecord {
                        loc: Loc {
                            call,
                            collection: "taskDefinition",
                            index: None,
                        },
                        definition,
                    };
                    let arn = record.definition.task_definition_arn.clone();
                    if let Some(&existing) =
                        arn.as_ref().and_then(|arn| self.definition_by_arn.get(arn))
                    {
                        self.task_definitions[existing] = record;
                    } else {
                        if let Some(arn) = arn {
                            self.definition_by_arn
                                .insert(arn, self.task_definitions.len());
                        }
                        self.task_definitions.push(record);
                    }
                }
            }
            Response::DescribeContainerInstances(response) => {
                for (index, instance) in response.container_instances.into_iter().enumerate() {
                    self.container_instances.push(Located {
                        loc: loc("containerInstances", index),
                        value: instance,
                    });
                }
            }
            Response::GetLogEvents(response) => {
                let key_name = request_stream
                    .clone()
                    .or_else(|| source_file.clone())
                    .unwrap_or_else(|| format!("calls[{call}]"));
                let stream = self.stream(request_group, key_name, request_stream, source_file);
                for (index, event) in response.events.into_iter().enumerate() {
                    let line = self.log_line(loc("events", index), event);
                    self.log_streams[stream].lines.push(line);
                }
            }
            Response::FilterLogEvents(response) => {
                for (index, event) in response.events.into_iter().enumerate() {
                    let name = event
                        .log_stream_name
                        .clone()
                        .or_else(|| source_file.clone())
                        .unwrap_or_else(|| format!("calls[{call}]"));
                    let stream_name = event.log_stream_name.clone();
                    let stream = self.stream(
                        request_group.clone(),
                        name,
                        stream_name,
                        source_file.clone(),
                    );
                    let line = self.log_line(loc("events", index), event);
                    self.log_streams[stream].lines.push(line);
                }
            }
            Response::DescribeTargetGroups(response) => {
                for (index, group) in response.target_groups.into_iter().enumerate() {
                    self.target_groups.push(Located {
                        loc: loc("TargetGroups", index),
                        value: group,
                    });
                }
            }
            Response::DescribeTargetHealth(response) => {
                let targets = response
                    .target_health_descriptions
                    .into_iter()
                    .enumerate()
                    .map(|(index, value)| Located {
                        loc: loc("TargetHealthDescriptions", index),
                        value,
                    })
                    .collect();
                self.target_health.push(TargetHealthSet {
                    target_group_arn,
                    targets,
                });
            }
            Response::DescribeTargetGroupAttributes(response) => {
                let attributes = response
                    .attributes
                    .into_iter()
                    .enumerate()
                    .map(|(index, value)| Located {
                        loc: loc("Attributes", index),
                        value,
                    })
                    .collect();
                self.target_group_attributes.push(TargetGroupAttributeSet {
                    target_group_arn,
                    attributes,
                });
            }
            Response::EcsEvents(response) => {
                for (index, event) in response.events.into_iter().enumerate() {
                    self.ecs_events.push(Located {
                        loc: loc("events", index),
                        value: event,
                    });
                }
            }
            Response::DescribeServiceDeployments(response) => {
                for (index, deployment) in response.service_deployments.into_iter().enumerate() {
                    self.service_deployments.push(Located {
                        loc: loc("serviceDeployments", index),
                        value: deployment,
                    });
                }
            }
            Response::DescribeServiceRevisions(response) => {
                for (index, revision) in response.service_revisions.into_iter().enumerate() {
                    self.service_revisions.push(Located {
                        loc: loc("serviceRevisions", index),
                        value: revision,
                    });
                }
            }
            Response::GetTaskProtection(response) => {
                for (index, task) in response.protected_tasks.into_iter().enumerate() {
                    self.protected_tasks.push(Located {
                        loc: loc("protectedTasks", index),
                        value: task,
                    });
                }
            }
            // Read by `insights::Insights::add`, which needs each call's request too.
            Response::ListTasks(_)
            | Response::ListServices(_)
            | Response::ListServiceDeployments(_)
            | Response::DescribeClusters(_)
            | Response::GetQueryResults(_)
            | Response::LookupEvents(_)
            | Response::None => {}
        }
    }

    fn stream(
        &mut self,
        group: Option<String>,
        key_name: String,
        stream: Option<String>,
        source_file: Option<String>,
    ) -> usize {
        let key = (group.clone(), key_name);
        if let Some(&index) = self.stream_by_name.get(&key) {
            return index;
        }
        let index = self.log_streams.len();
        self.log_streams.push(LogStream {
            group,
            stream,
            source_file,
            task_id: None,
            container: None,
            lines: Vec::new(),
        });
        self.stream_by_name.insert(key, index);
        index
    }

    fn finish(mut self, manifest: Manifest) -> View {
        // A service narrowing first, so that a task limit counts the chosen services' tasks.
        if let Some(only) = recorder::selection::services_only(&manifest.selection.limits) {
            self.tasks.retain(|record| {
                !is_stopped(&record.task)
                    || recorder::selection::in_services(record.task.group.as_deref(), &only)
            });
            self.services.retain(|service| {
                service
                    .value
                    .service_name
                    .as_deref()
                    .is_some_and(|name| only.iter().any(|o| o == name))
            });
            self.service_deployments.retain(|deployment| {
                deployment
                    .value
                    .service_name()
                    .is_some_and(|name| only.iter().any(|o| o == name))
            });
        }
        let left_out = apply_selection_limits(&mut self.tasks, &manifest);
        // Stable order: stopped tasks by stop time, then ARN; running tasks after them.
        self.tasks.sort_by(|a, b| {
            let key = |r: &TaskRecord| {
                (
                    !is_stopped(&r.task),
                    r.task.stopped_at.map(|t| t.0),
                    r.task.task_arn.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        let mut evidence = View {
            manifest,
            tasks: self.tasks,
            services: self.services,
            task_definitions: self.task_definitions,
            container_instances: self.container_instances,
            log_streams: self.log_streams,
            target_groups: self.target_groups,
            target_health: self.target_health,
            target_group_attributes: self.target_group_attributes,
            failures: self.failures,
            ecs_events: self.ecs_events,
            service_deployments: {
                let mut deployments = self.service_deployments;
                // Newest first, as ListServiceDeployments gives them; stable for equal times.
                deployments.sort_by_key(|d| std::cmp::Reverse(d.value.created_at));
                deployments
            },
            service_revisions: self.service_revisions,
            protected_tasks: self.protected_tasks,
            insights: self.insights,
            failed_calls: self.failed,
            present_calls: self.present,
            call_sources: self.sources,
            cut_lines: self.cut_lines,
            left_out,
            index: Index::default(),
            texts: self.texts,
            log_calls: std::sync::OnceLock::new(),
        };
        evidence.index = Index::by_name(&evidence);
        link_target_group_attributes(&mut evidence);
        link_tasks(&mut evidence);
        attribute_logs(&mut evidence);
        let keep = evidence
            .manifest
            .selection
            .limits
            .get(recorder::selection::LOG_LINES)
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| usize::try_from(n).ok());
        for stream in &mut evidence.log_streams {
            stream.lines.sort_by_key(|line| line.timestamp);
            // A stream read whole shows the lines a tail read would have: the last ones.
            if let Some(keep) = keep
                && stream.lines.len() > keep
            {
                stream.lines.drain(..stream.lines.len() - keep);
            }
        }
        evidence.index = Index::build(&evidence);
        evidence
    }
}

/// Applies `manifest.selection.limits`, the selection the recorder made when it collected.
/// Keeps the stopped tasks the limits select; returns how many it left out.
fn apply_selection_limits(tasks: &mut Vec<TaskRecord>, manifest: &Manifest) -> usize {
    let limits = Limits::from_manifest(&manifest.selection.limits);
    if limits == Limits::default() {
        return 0;
    }
    let stopped = tasks
        .iter()
        .filter(|record| is_stopped(&record.task))
        .map(|record| {
            (
                record.task.stopped_at.map(|t| t.0),
                record.task.task_arn.as_deref(),
            )
        });
    let keep: std::collections::BTreeSet<Option<String>> = limits
        .select(stopped)
        .into_iter()
        .map(|arn| arn.map(str::to_owned))
        .collect();
    let before = tasks.len();
    tasks.retain(|record| !is_stopped(&record.task) || keep.contains(&record.task.task_arn));
    before - tasks.len()
}

fn link_tasks(evidence: &mut View) {
    let definition_of: Vec<Option<usize>> = evidence
        .tasks
        .iter()
        .map(|record| {
            record
                .task
                .task_definition_arn
                .as_deref()
                .and_then(|arn| evidence.task_definition_index(arn))
        })
        .collect();
    let service_of: Vec<Option<usize>> = evidence
        .tasks
        .iter()
        .map(|record| {
            let name = record.task.group.as_deref()?.strip_prefix("service:")?;
            evidence.service_index(name)
        })
        .collect();
    for ((record, definition), service) in
        evidence.tasks.iter_mut().zip(definition_of).zip(service_of)
    {
        record.task_definition = definition;
        record.service = service;
    }
}

/// Gives each log stream its task and container.
///
/// awslogs names streams `PREFIX/CONTAINER/TASK_ID`. Imported `get-log-events` outputs carry
/// no stream name, so the file name is searched for a task id (and container name); when the
/// bundle holds a single stopped task, an otherwise unattributed stream is given to it.
fn attribute_logs(evidence: &mut View) {
    let task_ids: Vec<(String, Vec<String>)> = evidence
        .tasks
        .iter()
        .map(|record| {
            let containers = record
                .task
                .containers
                .iter()
                .filter_map(|c| c.name.clone())
                .collect();
            (record.task_id.clone(), containers)
        })
        .collect();
    let stopped: Vec<usize> = evidence.stopped_tasks().map(|(index, _)| index).collect();
    let known: BTreeMap<&str, &Vec<String>> = task_ids
        .iter()
        .filter(|(id, _)| !id.is_empty())
        .map(|(id, containers)| (id.as_str(), containers))
        .collect();

    // The awslogs group each (task id, container) writes to, when its task definition is known.
    let mut groups: BTreeMap<(String, String), String> = BTreeMap::new();
    for record in &evidence.tasks {
        let Some(definition) = record.task_definition else {
            continue;
        };
        for container in &evidence.task_definitions[definition]
            .definition
            .container_definitions
        {
            let group = container
                .log_configuration
                .as_ref()
                .filter(|config| config.log_driver.as_deref() == Some("awslogs"))
                .and_then(|config| config.options.get("awslogs-group"));
            if let (Some(name), Some(group)) = (&container.name, group) {
                groups.insert((record.task_id.clone(), name.clone()), group.clone());
            }
        }
    }

    for stream in &mut evidence.log_streams {
        if let Some(name) = &stream.stream {
            let segments: Vec<&str> = name.split('/').collect();
            if segments.len() >= 3 {
                let task_id = segments[segments.len() - 1].to_owned();
                let container = segments[segments.len() - 2].to_owned();
                // A stream from another log group than the task definition names is not this
                // container's, whatever its name says.
                let expected_group = groups.get(&(task_id.clone(), container.clone()));
                let wrong_group = matches!((expected_group, &stream.group), (Some(expected), Some(actual)) if expected != actual);
                if !wrong_group {
                    stream.task_id = Some(task_id);
                    stream.container = Some(container);
                }
                continue;
            }
        }
        let haystack = stream
            .stream
            .clone()
            .or_else(|| stream.source_file.clone())
            .unwrap_or_default();
        let by_name = known
            .iter()
            .find(|(id, _)| id.len() >= 8 && haystack.contains(*id))
            .map(|(id, containers)| ((*id).to_owned(), (*containers).clone()));
        let attributed = by_name.or_else(|| match stopped.as_slice() {
            [only] => Some(task_ids[*only].clone()),
            _ => None,
        });
        if let Some((task_id, containers)) = attributed {
            stream.container = match containers.as_slice() {
                [only] => Some(only.clone()),
                many => many
                    .iter()
                    .filter(|name| haystack.contains(name.as_str()))
                    .max_by_key(|name| name.len())
                    .cloned(),
            };
            stream.task_id = Some(task_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(calls: &str) -> Bundle {
        let text = format!(
            r#"{{"manifest": {{"format": "ecs-autopsy-bundle", "format_version": 1, "tool_version": "0.1.0",
                "recorded_at": "2026-11-24T10:00:00.000Z", "source": "recorded"}}, "calls": {calls}}}"#
        );
        Bundle::from_slice(text.as_bytes(), "test").expect("test bundle loads")
    }

    /// The indexed look-ups give what the scans they replaced gave: events by substring (ids
    /// that are prefixes of each other, an id twice in one event, another service's events),
    /// definitions by ARN or `family:revision`, and the highest lower revision (the last of
    /// equals).
    #[test]
    fn indexed_look_ups_match_the_scans_they_replaced() {
        let evidence = Evidence::from_bundle(bundle(
            r#"[
            {"service": "ecs", "operation": "DescribeTasks", "request": {}, "response": {"tasks": [
                {"taskArn": "arn:aws:ecs:r:1:task/c/ab12", "lastStatus": "STOPPED", "group": "service:web", "stoppedAt": 1,
                 "taskDefinitionArn": "arn:aws:ecs:r:1:task-definition/web:3"},
                {"taskArn": "arn:aws:ecs:r:1:task/c/ab1234", "lastStatus": "STOPPED", "group": "service:web", "stoppedAt": 2,
                 "taskDefinitionArn": "web:2"},
                {"taskArn": "arn:aws:ecs:r:1:task/c/ff99", "lastStatus": "STOPPED", "group": "service:jobs", "stoppedAt": 3}]}},
            {"service": "ecs", "operation": "DescribeServices", "request": {}, "response": {"services": [
                {"serviceName": "web", "events": [
                    {"message": "(service web) has stopped 1 running tasks: (task ab1234)."},
                    {"message": "(task ab12) and again (task ab12)"},
                    {"message": "(task ff99) belongs to jobs"}]},
                {"serviceName": "jobs", "serviceArn": "arn:aws:ecs:r:1:service/c/jobs", "events": [
                    {"message": "(task ff99) stopped"}]}]}},
            {"service": "ecs", "operation": "DescribeTaskDefinition", "request": {}, "response": {"taskDefinition": {
                "taskDefinitionArn": "arn:aws:ecs:r:1:task-definition/web:2", "family": "web", "revision": 2}}},
            {"service": "ecs", "operation": "DescribeTaskDefinition", "request": {}, "response": {"taskDefinition": {
                "taskDefinitionArn": "arn:aws:ecs:r:1:task-definition/web:3", "family": "web", "revision": 3}}},
            {"service": "ecs", "operation": "DescribeTaskDefinition", "request": {}, "response": {"taskDefinition": {
                "taskDefinitionArn": "arn:aws:ecs:r:1:task-definition/web-copy:2", "family": "web", "revision": 2}}}]"#,
        ));
        for (index, record) in evidence.tasks.iter().enumerate() {
            let scanned: Vec<usize> = record.service.map_or_else(Vec::new, |service| {
                evidence.services[service]
                    .value
                    .events
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| {
                        e.message
                            .as_deref()
                            .is_some_and(|m| m.contains(&record.task_id))
                    })
                    .map(|(i, _)| i)
                    .collect()
            });
            assert_eq!(
                evidence.task_event_indexes(index),
                scanned.as_slice(),
                "{}",
                record.task_id
            );
        }
        let web = evidence.service_index("web").expect("web");
        let ab12 = evidence.task_index("ab12").expect("ab12");
        // "ab12" is in the first two events (as a prefix of ab1234, and twice), not the third's
        // other service.
        assert_eq!(evidence.task_event_indexes(ab12), [0, 1]);
        assert_eq!(evidence.tasks[ab12].service, Some(web));
        assert_eq!(
            evidence.service_index("arn:aws:ecs:r:1:service/c/jobs"),
            evidence.service_index("jobs")
        );
        assert_eq!(
            evidence.task_definition_index("arn:aws:ecs:r:1:task-definition/web:3"),
            Some(1)
        );
        assert_eq!(evidence.task_definition_index("web:2"), Some(0));
        assert_eq!(evidence.task_definition_index("anything/web:2"), Some(0));
        assert_eq!(evidence.task_definition_index("web:9"), None);
        // Two definitions of revision 2: the scan kept the last.
        assert_eq!(evidence.previous_revision(1), Some(2));
        assert_eq!(evidence.previous_revision(0), None);
    }

    const TASK_AND_DEFINITION: &str = r#"
        {"service": "ecs", "operation": "DescribeTasks", "request": {}, "response": {"tasks": [
            {"taskArn": "arn:aws:ecs:eu-west-1:1:task/prod/abc123def456", "lastStatus": "STOPPED",
             "taskDefinitionArn": "arn:aws:ecs:eu-west-1:1:task-definition/api:7",
             "containers": [{"name": "api"}, {"name": "envoy"}]}]}},
        {"service": "ecs", "operation": "DescribeTaskDefinition", "request": {}, "response": {"taskDefinition": {
            "taskDefinitionArn": "arn:aws:ecs:eu-west-1:1:task-definition/api:7", "family": "api", "revision": 7,
            "containerDefinitions": [{"name": "api", "logConfiguration": {"logDriver": "awslogs",
                "options": {"awslogs-group": "/ecs/api", "awslogs-stream-prefix": "ecs"}}}]}}}"#;

    #[test]
    fn selection_limits_keep_the_newest_stopped_tasks() {
        let tasks = r#"[{"service": "ecs", "operation": "DescribeTasks", "request": {}, "response": {"tasks": [
            {"taskArn": "arn:aws:ecs:eu-west-1:1:task/prod/old", "lastStatus": "STOPPED", "stoppedAt": 1000},
            {"taskArn": "arn:aws:ecs:eu-west-1:1:task/prod/mid", "lastStatus": "STOPPED", "stoppedAt": 2000},
            {"taskArn": "arn:aws:ecs:eu-west-1:1:task/prod/new", "lastStatus": "STOPPED", "stoppedAt": 3000},
            {"taskArn": "arn:aws:ecs:eu-west-1:1:task/prod/run", "lastStatus": "RUNNING"}]}}]"#;
        let ids = |limits: serde_json::Value| {
            let mut bundle = bundle(tasks);
            bundle.manifest.selection.limits = serde_json::from_value(limits).expect("limits");
            let evidence = Evidence::from_bundle(bundle);
            evidence
                .tasks
                .iter()
                .map(|t| t.task_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(serde_json::json!({})), ["old", "mid", "new", "run"]);
        assert_eq!(
            ids(serde_json::json!({"max_stopped_tasks": 2})),
            ["mid", "new", "run"]
        );
        assert_eq!(
            ids(serde_json::json!({"stopped_after": "1970-01-01T00:25:00Z"})),
            ["mid", "new", "run"]
        );
        assert_eq!(
            ids(
                serde_json::json!({"stopped_after": "1970-01-01T00:25:00Z", "max_stopped_tasks": 1})
            ),
            ["new", "run"]
        );
    }

    #[track_caller]
    fn check_attribution(log_call: &str, expect: Option<(&str, Option<&str>)>) {
        let evidence =
            Evidence::from_bundle(bundle(&format!("[{TASK_AND_DEFINITION}, {log_call}]")));
        let stream = &evidence.log_streams[0];
        let actual = stream
            .task_id
            .as_deref()
            .map(|task| (task, stream.container.as_deref()));
        assert_eq!(actual, expect);
    }

    #[test]
    fn logs_are_matched_by_awslogs_convention() {
        check_attribution(
            r#"{"service": "logs", "operation": "GetLogEvents", "request": {"logGroupName": "/ecs/api", "logStreamName": "ecs/api/abc123def456"}, "response": {"events": []}}"#,
            Some(("abc123def456", Some("api"))),
        );
        // Same stream name in another group: not this container's.
        check_attribution(
            r#"{"service": "logs", "operation": "GetLogEvents", "request": {"logGroupName": "/ecs/other", "logStreamName": "ecs/api/abc123def456"}, "response": {"events": []}}"#,
            None,
        );
        // Imported output with the task id and container in the file name.
        check_attribution(
            r#"{"service": "logs", "operation": "GetLogEvents", "request": {}, "source_file": "logs-envoy-abc123def456.json", "response": {"events": []}}"#,
            Some(("abc123def456", Some("envoy"))),
        );
        // A single stopped task takes an otherwise unattributed stream; the container stays
        // unknown because the task has two.
        check_attribution(
            r#"{"service": "logs", "operation": "GetLogEvents", "request": {}, "source_file": "get-log-events.json", "response": {"events": []}}"#,
            Some(("abc123def456", None)),
        );
    }
}
