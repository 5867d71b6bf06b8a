//! The report's evidence beyond the stopped task: the memory of an OOM-killed task over its last
//! hours (Container Insights, through Logs Insights), the error patterns across a failing
//! service's log groups, and who stopped a task or deployed what a failing deployment rolled
//! out (CloudTrail). Each is built from what the bundle holds, and says plainly when its source
//! was off, denied, expired or not asked.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use recorder::time::Timestamp;
use serde::Serialize;

use crate::analysis::memory::{self, Sample, Shape};
use crate::analysis::pattern;
use crate::classify::exit::is_oom_kill;
use crate::evidence::insights::{Query, TrailRecord, field};
use crate::evidence::{Evidence, TaskRecord, task_id_of};

/// Logs Insights' price per GB scanned (us-east-1, and most Regions; check the CloudWatch pricing
/// page for yours).
const PRICE_PER_GB: f64 = 0.005;
/// Container Insights keeps performance events this long unless the log group says otherwise.
const DEFAULT_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;
/// Container Insights writes a minute's sample a few minutes later.
const FLUSH_DELAY_MS: i64 = 5 * 60 * 1000;
/// Error patterns shown per service.
const TOP_PATTERNS: usize = 5;
/// A task's last lines compared with the patterns.
const LAST_LINES: usize = 5;

/// The memory of an OOM-killed (or exit 137) task's container over its last hours.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryHistory {
    /// `leak`, `spike`, `too-small`, `sub-minute`, `unclear`, `too-few-samples`, or
    /// `unavailable` (the source was off, denied, expired or not flushed: `summary` says which).
    pub verdict: String,
    /// One sentence with the numbers, or why there are none.
    pub summary: String,
    /// The container the series is of (`null`: the task as a whole).
    pub container: Option<String>,
    pub limit_mb: Option<f64>,
    pub samples: usize,
    pub peak_mb: Option<f64>,
    /// For a leak: its rate.
    pub mb_per_hour: Option<f64>,
    /// For a spike: the log line closest before the peak.
    pub log_line: Option<String>,
    /// The query and where its rows are in the bundle.
    pub query: Option<String>,
    pub path: Option<String>,
    pub bytes_scanned: Option<f64>,
}

/// Who made a call, from CloudTrail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Caller {
    /// `StopTask`, `UpdateService`, `CreateService`, `RegisterTaskDefinition`.
    pub event: String,
    pub at: Option<String>,
    /// `userIdentity.arn` (pseudonymised in a redacted bundle), and its type.
    pub principal: Option<String>,
    pub identity_type: Option<String>,
    /// The tool, from the user agent (`AWS Console`, `AWS CLI (ecs.stop-task)`, `Terraform`, …).
    pub tool: Option<String>,
    pub user_agent: Option<String>,
    /// `sourceIPAddress`: an address, or the AWS service that called.
    pub source: Option<String>,
    /// StopTask's `reason`, when the caller gave one.
    pub reason: Option<String>,
    pub path: String,
}

impl Caller {
    fn of(record: &TrailRecord, path: String) -> Caller {
        Caller {
            event: record.event_name.clone(),
            at: record.at.map(|ms| Timestamp::from_millis(ms).to_string()),
            principal: record.principal.clone(),
            identity_type: record.identity_type.clone(),
            tool: record.tool(),
            user_agent: record.user_agent.clone(),
            source: record.source.clone(),
            reason: record.request_str("reason").map(str::to_owned),
            path,
        }
    }

    /// `arn:…/principal-1 (AssumedRole) with the AWS CLI (ecs.stop-task) from 203.0.113.5 at …`.
    pub fn describe(&self) -> String {
        let mut text = self
            .principal
            .clone()
            .unwrap_or_else(|| "an unnamed principal".to_owned());
        if let Some(kind) = &self.identity_type {
            let _ = write!(text, " ({kind})");
        }
        if let Some(tool) = &self.tool {
            let _ = write!(text, " with {tool}");
        }
        if let Some(source) = &self.source {
            let _ = write!(text, " from {source}");
        }
        if let Some(at) = &self.at {
            let _ = write!(text, " at {at}");
        }
        text
    }
}

/// Who stopped a user-stopped task: found, or why not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoppedBy {
    pub caller: Option<Caller>,
    /// Why no caller is named (the lookup failed, found nothing, or was not made).
    pub note: Option<String>,
}

/// Error-like lines across a service's log groups, by pattern.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorPatterns {
    pub log_groups: Vec<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    /// The query, to run again in the console.
    pub query: String,
    /// `Complete`, or how far it got.
    pub status: Option<String>,
    /// Error-like lines counted, and whether the query's row limit cut them short (then the
    /// counts are of the newest lines).
    pub lines: usize,
    pub truncated: bool,
    pub bytes_scanned: Option<f64>,
    pub patterns: Vec<ErrorPattern>,
    pub path: Option<String>,
    /// Why there are no patterns, when the query failed or did not finish.
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorPattern {
    pub pattern: String,
    pub count: usize,
    pub first: Option<String>,
    pub last: Option<String>,
    /// `(hour, count)`, hours as `2026-11-24T09`.
    pub by_hour: Vec<(String, usize)>,
    /// The newest line of the pattern, as logged.
    pub example: String,
    /// The stopped tasks whose streams logged it, and those among them whose last lines did.
    pub tasks: Vec<String>,
    pub in_last_lines: Vec<String>,
}

/// `0.0123` GB and its price.
pub fn scanned(bytes: f64) -> String {
    let gb = bytes / 1e9;
    let size = if bytes >= 1e9 {
        format!("{gb:.2} GB")
    } else if bytes >= 1e6 {
        format!("{:.1} MB", bytes / 1e6)
    } else {
        format!("{:.0} KB", (bytes / 1e3).max(1.0))
    };
    let cost = gb * PRICE_PER_GB;
    if cost < 0.0001 {
        format!("{size}, under $0.0001 at ${PRICE_PER_GB}/GB")
    } else {
        format!("{size}, about ${cost:.4} at ${PRICE_PER_GB}/GB")
    }
}

/// A Logs Insights time: `2026-11-24 09:05:00.000` (`parse_iso` reads that form as UTC), or
/// epoch milliseconds.
fn parse_time(value: &str) -> Option<Timestamp> {
    Timestamp::parse_iso(value).or_else(|| value.parse::<i64>().ok().map(Timestamp::from_millis))
}

fn clock(ms: i64) -> String {
    let text = Timestamp::from_millis(ms).to_string();
    text.get(11..16).map_or(text.clone(), str::to_owned)
}

/// The container killed for memory (ECS's `OutOfMemoryError` reason, as `c.oom_killed` reads
/// it), else the first that exited 137.
fn oom_container(record: &TaskRecord) -> Option<&recorder::model::Container> {
    record
        .task
        .containers
        .iter()
        .find(|c| c.reason.as_deref().is_some_and(is_oom_kill))
        .or_else(|| {
            record
                .task
                .containers
                .iter()
                .find(|c| c.exit_code == Some(137))
        })
}

/// Whether the task was killed for memory: a container's or the task's own words say so, or
/// its root cause is the OOM failure mode. An exit code of 137 alone is any SIGKILL (one after
/// the stop timeout too), so it does not count: the recorder queries such tasks, the report
/// speaks of their memory only when the diagnosis is an OOM kill.
pub fn is_oom_killed(record: &TaskRecord, root_cause: Option<&str>) -> bool {
    record
        .task
        .containers
        .iter()
        .any(|c| c.reason.as_deref().is_some_and(is_oom_kill))
        || record
            .task
            .stopped_reason
            .as_deref()
            .is_some_and(is_oom_kill)
        || root_cause
            .is_some_and(|rule| crate::taxonomy::stop_kind(rule) == crate::taxonomy::StopKind::Oom)
}

/// The cluster's name, from the task's ARN or the bundle.
fn cluster_of(evidence: &Evidence, record: &TaskRecord) -> String {
    record
        .task
        .cluster_arn
        .as_deref()
        .map(|arn| super::arn_tail(arn).to_owned())
        .or_else(|| evidence.manifest.cluster.clone())
        .unwrap_or_else(|| "CLUSTER".to_owned())
}

fn enable_command(cluster: &str) -> String {
    format!(
        "aws ecs update-cluster-settings --cluster {} --settings name=containerInsights,value=enhanced",
        super::shell_word(cluster)
    )
}

fn unavailable(summary: String, query: Option<&Query>) -> MemoryHistory {
    MemoryHistory {
        verdict: "unavailable".to_owned(),
        summary,
        container: None,
        limit_mb: None,
        samples: 0,
        peak_mb: None,
        mb_per_hour: None,
        log_line: None,
        query: query.map(|q| q.query_string.clone()),
        path: query.and_then(|q| q.row_path(None)),
        bytes_scanned: query.and_then(Query::bytes_scanned),
    }
}

/// Why a query gave no rows to read: denied (with the permissions to grant), failed, or not
/// finished (and stopped by the recorder); `None` when it completed.
fn query_trouble(query: &Query) -> Option<String> {
    let on = if query.log_groups.is_empty() {
        String::new()
    } else {
        format!(" on {}", query.log_groups.join(", "))
    };
    if let Some(error) = query.error.as_ref().or(query.results_error.as_ref()) {
        return Some(if error.is_access_denied() {
            format!(
                "the Logs Insights query was denied ({}); grant logs:StartQuery and logs:GetQueryResults{on}",
                error.code
            )
        } else {
            format!(
                "the Logs Insights query failed ({}: {})",
                error.code, error.message
            )
        });
    }
    match query.status() {
        Some("Complete") => None,
        status => Some(format!(
            "the Logs Insights query did not finish (status {}{})",
            status.unwrap_or("unknown"),
            if query.stopped {
                "; stopped after the recorder's last poll"
            } else {
                ""
            }
        )),
    }
}

/// The memory history of an OOM-killed task, when the recording looked for it.
pub fn memory_history(
    evidence: &Evidence,
    record: &TaskRecord,
    root_cause: Option<&str>,
) -> Option<MemoryHistory> {
    if !is_oom_killed(record, root_cause) {
        return None;
    }
    let insights = &evidence.insights;
    let query = insights
        .queries
        .iter()
        .rfind(|q| q.is_memory_of(&record.task_id));
    let cluster = cluster_of(evidence, record);
    let setting = insights.container_insights(&cluster);
    let Some(query) = query else {
        if !insights.was_collected() {
            return None;
        }
        return Some(match setting {
            Some(("disabled", path)) => unavailable(
                format!(
                    "no memory history: Container Insights is off for cluster {cluster} ({path}); turn it on with `{}` (only tasks started afterwards have a history)",
                    enable_command(&cluster)
                ),
                None,
            ),
            _ => unavailable(
                "no memory history: the bundle holds no Container Insights query of this task (the recording queries the 5 newest OOM-killed tasks with a stop time)".to_owned(),
                None,
            ),
        });
    };
    let missing_group = [&query.error, &query.results_error]
        .into_iter()
        .flatten()
        .any(|e| e.code.contains("ResourceNotFound"));
    if missing_group {
        let summary = format!(
            "no memory history: cluster {cluster} has no Container Insights log group ({}); turn Container Insights on with `{}`",
            query.log_groups.join(", "),
            enable_command(&cluster)
        );
        return Some(unavailable(summary, Some(query)));
    }
    if let Some(trouble) = query_trouble(query) {
        return Some(unavailable(
            format!("no memory history: {trouble}"),
            Some(query),
        ));
    }
    Some(series_history(
        evidence,
        record,
        query,
        setting.map(|(v, _)| v),
    ))
}

fn series_history(
    evidence: &Evidence,
    record: &TaskRecord,
    query: &Query,
    setting: Option<&str>,
) -> MemoryHistory {
    let killed = oom_container(record).and_then(|c| c.name.clone());
    let stopped = record.task.stopped_at.map(|t| t.0.millis);
    let definition = record
        .task_definition
        .map(|index| &evidence.task_definitions[index].definition);
    let container_limit = killed.as_deref().and_then(|name| {
        definition?
            .container_definitions
            .iter()
            .find(|c| c.name.as_deref() == Some(name))
            .and_then(|c| c.memory)
    });
    let task_limit = definition
        .and_then(|d| d.memory.as_deref())
        .and_then(|m| m.trim().parse::<f64>().ok());
    // The killed container's own series when it has a hard limit; else the task's.
    let (container, kind) = match (&killed, container_limit) {
        (Some(name), Some(_)) => (Some(name.clone()), "Container"),
        _ => (None, "Task"),
    };
    let mut samples = Vec::new();
    let mut reserved: Option<f64> = None;
    for row in query.rows() {
        // Rows without `Type` (AWS's Knowledge Center query filters by container instead) are
        // the container's when they name it.
        let of_kind = field(row, "Type").map_or_else(
            || kind == "Container" && field(row, "ContainerName").is_some(),
            |t| t == kind,
        );
        if !of_kind {
            continue;
        }
        if kind == "Container" && field(row, "ContainerName") != container.as_deref() {
            continue;
        }
        if field(row, "TaskId").is_some_and(|id| id != record.task_id) {
            continue;
        }
        let time = ["minute", "period", "bin(1m)", "@timestamp"]
            .iter()
            .find_map(|name| field(row, name))
            .or_else(|| {
                row.iter()
                    .find(|f| f.field.as_deref().is_some_and(|n| n.starts_with("bin(")))
                    .and_then(|f| f.value.as_deref())
            })
            .and_then(parse_time);
        let used = [
            "memory_used_mb",
            "max(MemoryUtilized)",
            "MemoryUtilized",
            "mem",
        ]
        .iter()
        .find_map(|name| field(row, name))
        .and_then(|v| v.parse::<f64>().ok());
        if let Some(r) = [
            "memory_reserved_mb",
            "max(MemoryReserved)",
            "MemoryReserved",
        ]
        .iter()
        .find_map(|name| field(row, name))
        .and_then(|v| v.parse::<f64>().ok())
        {
            reserved = Some(reserved.map_or(r, |m: f64| m.max(r)));
        }
        if let (Some(time), Some(used)) = (time, used)
            && stopped.is_none_or(|stop| time.millis <= stop + 60_000)
        {
            samples.push(Sample {
                at_ms: time.millis,
                used_mb: used,
            });
        }
    }
    let limit = if kind == "Container" {
        container_limit
            .and_then(|l| u32::try_from(l).ok())
            .map(f64::from)
    } else {
        task_limit
    }
    .or(reserved);
    let mut history = MemoryHistory {
        verdict: String::new(),
        summary: String::new(),
        container: container.clone(),
        limit_mb: limit,
        samples: samples.len(),
        peak_mb: samples.iter().map(|s| s.used_mb).reduce(f64::max),
        mb_per_hour: None,
        log_line: None,
        query: Some(query.query_string.clone()),
        path: query.row_path(None),
        bytes_scanned: query.bytes_scanned(),
    };
    let whose = container.as_deref().map_or_else(
        || "the task's memory".to_owned(),
        |c| format!("the memory of container {c}"),
    );
    if samples.is_empty() {
        let recorded = Timestamp::parse_iso(&evidence.manifest.recorded_at).map(|t| t.millis);
        let since_stop = recorded.zip(stopped).map(|(r, s)| r - s);
        "unavailable".clone_into(&mut history.verdict);
        history.summary = match (since_stop, setting) {
            (Some(age), _) if age > DEFAULT_RETENTION_MS => format!(
                "no memory samples for this task: it stopped {} hours before the recording and Container Insights keeps its performance events for 1 day by default",
                age / 3_600_000
            ),
            (Some(age), _) if age < FLUSH_DELAY_MS => "no memory samples yet: Container Insights writes them a few minutes late and the task stopped less than 5 minutes before the recording; record again".to_owned(),
            (_, Some("disabled")) => format!(
                "no memory samples: Container Insights is off for the cluster; turn it on with `{}`",
                enable_command(&cluster_of(evidence, record))
            ),
            _ => "no memory samples for this task: it ran for less than a minute, or Container Insights was turned on after it started".to_owned(),
        };
        return history;
    }
    let Some(limit_mb) = limit else {
        "too-few-samples".clone_into(&mut history.verdict);
        history.summary = format!(
            "{whose}: {} samples but no limit to compare them with",
            samples.len()
        );
        return history;
    };
    let pct = |v: f64| (v / limit_mb * 100.0).round();
    match memory::shape(&samples, limit_mb) {
        Shape::Leak {
            mb_per_hour,
            from_mb,
            to_mb,
            ..
        } => {
            "leak".clone_into(&mut history.verdict);
            history.mb_per_hour = Some(mb_per_hour);
            history.summary = format!(
                "{whose} grew steadily (a straight line fits its {} samples) from about {from_mb:.0} MB to about {to_mb:.0} MB, {mb_per_hour:.0} MB an hour, until the {limit_mb:.0} MB limit: a leak or a cache without a bound; a bigger limit only delays the kill",
                samples.len()
            );
        }
        Shape::Spike {
            from_ms,
            peak_ms,
            before_mb,
            peak_mb,
        } => {
            "spike".clone_into(&mut history.verdict);
            let line = evidence
                .task_logs(&record.task_id, container.as_deref())
                .into_iter()
                .rfind(|l| {
                    l.timestamp
                        .is_some_and(|t| t.millis >= from_ms && t.millis <= peak_ms + 60_000)
                })
                .map(|l| l.message.clone());
            history.summary = format!(
                "{whose} held at about {before_mb:.0} MB, then rose to {peak_mb:.0} MB ({}% of the {limit_mb:.0} MB limit) between {} and {} UTC: one request or batch loaded too much at once",
                pct(peak_mb),
                clock(from_ms),
                clock(peak_ms)
            );
            history.log_line = line;
        }
        Shape::TooSmall {
            median_mb,
            of_limit,
        } => {
            "too-small".clone_into(&mut history.verdict);
            history.summary = format!(
                "{whose} sat at about {median_mb:.0} MB ({:.0}% of the {limit_mb:.0} MB limit) from the first sample on: the limit is too small for the workload",
                of_limit * 100.0
            );
        }
        Shape::SubMinute { peak_mb, of_limit } => {
            "sub-minute".clone_into(&mut history.verdict);
            history.summary = format!(
                "{whose} peaked at {peak_mb:.0} MB ({:.0}% of the {limit_mb:.0} MB limit) in the one-minute samples: it rose to the limit faster than a sample, so the kill came within a minute of a sudden allocation",
                of_limit * 100.0
            );
        }
        Shape::Unclear { peak_mb, of_limit } => {
            "unclear".clone_into(&mut history.verdict);
            history.summary = format!(
                "{whose} peaked at {peak_mb:.0} MB ({:.0}% of the {limit_mb:.0} MB limit); no steady growth, single rise or plateau stands out",
                of_limit * 100.0
            );
        }
        Shape::TooFewSamples { samples } => {
            "too-few-samples".clone_into(&mut history.verdict);
            history.summary = format!(
                "{whose}: only {samples} one-minute sample(s), too few to tell a leak from a spike"
            );
        }
    }
    history
}

/// Who stopped a user-stopped task (`stopCode` `UserInitiated`), when the recording looked.
pub fn stopped_by(evidence: &Evidence, record: &TaskRecord) -> Option<StoppedBy> {
    if record.task.stop_code.as_deref() != Some("UserInitiated") {
        return None;
    }
    let insights = &evidence.insights;
    let found = insights
        .trail_events
        .iter()
        .filter(|e| e.value.event_name == "StopTask" && e.value.error_code.is_none())
        .filter(|e| {
            e.value
                .request_str("task")
                .is_some_and(|t| task_id_of(t) == record.task_id)
        })
        .min_by_key(|e| {
            let stop = record
                .task
                .stopping_at
                .or(record.task.stopped_at)
                .map(|t| t.0.millis);
            e.value
                .at
                .zip(stop)
                .map_or(i64::MAX, |(a, s)| (a - s).abs())
        });
    if let Some(event) = found {
        return Some(StoppedBy {
            caller: Some(Caller::of(&event.value, event.loc.path())),
            note: None,
        });
    }
    let stop = record.task.stopped_at.map(|t| t.0.millis);
    let lookups: Vec<_> = insights
        .trail_lookups
        .iter()
        .filter(|l| l.event_name.as_deref() == Some("StopTask"))
        .collect();
    if lookups.is_empty() {
        return insights.was_collected().then(|| StoppedBy {
            caller: None,
            note: Some(
                "CloudTrail was not asked (the stop is older than its 90 days, or beyond the recording's lookups)".to_owned(),
            ),
        });
    }
    if let Some(error) = lookups.iter().find_map(|l| l.error.as_ref()) {
        return Some(StoppedBy {
            caller: None,
            note: Some(if error.is_access_denied() {
                format!(
                    "CloudTrail LookupEvents was denied ({}); grant cloudtrail:LookupEvents",
                    error.code
                )
            } else {
                format!(
                    "CloudTrail LookupEvents failed ({}: {})",
                    error.code, error.message
                )
            }),
        });
    }
    let covered = lookups.iter().any(|l| {
        // In whole seconds, as the lookup was made.
        let stop = stop
            .and_then(|s| u32::try_from(s / 1000).ok())
            .map(f64::from);
        match (l.start, l.end, stop) {
            (Some(a), Some(b), Some(s)) => a <= s && s <= b,
            _ => false,
        }
    });
    let recorded = Timestamp::parse_iso(&evidence.manifest.recorded_at).map(|t| t.millis);
    let soon = recorded
        .zip(stop)
        .is_some_and(|(r, s)| r - s < 15 * 60 * 1000);
    let unreadable = &evidence.insights.unreadable_trail_events;
    Some(StoppedBy {
        caller: None,
        note: Some(if !unreadable.is_empty() {
            // One of them may be the call: say so rather than "no call".
            format!(
                "no readable StopTask call for this task: {} CloudTrail event(s) could not be read ({}), and one may be it",
                unreadable.len(),
                unreadable.join(", ")
            )
        } else if covered && soon {
            "CloudTrail has no StopTask call for this task yet: it can take some minutes to show a call; record again later".to_owned()
        } else if covered {
            "CloudTrail has no StopTask call for this task around its stop: something stopped it without calling StopTask in this Region, or the call was made to another Region's endpoint".to_owned()
        } else {
            "CloudTrail was not asked about this task's stop time".to_owned()
        }),
    })
}

/// Who changed a service with a failing deployment: its UpdateService or CreateService, and the
/// RegisterTaskDefinition of the revision it rolled out.
pub fn changed_by(evidence: &Evidence, service: &str) -> Vec<Caller> {
    let Some(located) = evidence
        .service_index(service)
        .map(|index| &evidence.services[index])
    else {
        return Vec::new();
    };
    let failing = located.value.deployments.iter().find(|d| {
        d.rollout_state.as_deref() == Some("FAILED") || d.failed_tasks.is_some_and(|n| n > 0)
    });
    let Some(deployment) = failing else {
        return Vec::new();
    };
    let revision = deployment.task_definition.as_deref();
    let mut callers: Vec<Caller> = evidence
        .insights
        .trail_events
        .iter()
        .filter(|e| e.value.error_code.is_none())
        .filter(|e| {
            let r = &e.value;
            match r.event_name.as_str() {
                "UpdateService" => r.request_str("service").map(super::arn_tail) == Some(service),
                "CreateService" => r.request_str("serviceName") == Some(service),
                "RegisterTaskDefinition" => {
                    revision.is_some()
                        && r.response
                            .pointer("/taskDefinition/taskDefinitionArn")
                            .and_then(serde_json::Value::as_str)
                            == revision
                }
                _ => false,
            }
        })
        .map(|e| Caller::of(&e.value, e.loc.path()))
        .collect();
    callers.sort_by(|a, b| a.at.cmp(&b.at).then(a.event.cmp(&b.event)));
    callers
}

/// The lines of one error pattern, as they are counted.
#[derive(Default)]
struct PatternLines {
    count: usize,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    example: Option<(Option<Timestamp>, String)>,
    by_hour: BTreeMap<String, usize>,
    tasks: std::collections::BTreeSet<String>,
}

/// The error patterns of a service's log groups, when the recording searched them.
pub fn error_patterns(evidence: &Evidence, stopped: &[&TaskRecord]) -> Option<ErrorPatterns> {
    let groups: std::collections::BTreeSet<&str> = stopped
        .iter()
        .flat_map(|record| {
            evidence
                .task_streams(&record.task_id, None)
                .filter_map(|(_, s)| s.group.as_deref())
        })
        .chain(stopped.iter().filter_map(|record| {
            let definition = &evidence.task_definitions[record.task_definition?].definition;
            definition.container_definitions.iter().find_map(|c| {
                let config = c.log_configuration.as_ref()?;
                config.options.get("awslogs-group").map(String::as_str)
            })
        }))
        .collect();
    let query = evidence.insights.queries.iter().rfind(|q| {
        !q.is_performance() && q.log_groups.iter().any(|g| groups.contains(g.as_str()))
    })?;
    let time = |seconds: Option<i64>| seconds.map(|s| Timestamp::from_millis(s * 1000).to_string());
    let mut table = ErrorPatterns {
        log_groups: query.log_groups.clone(),
        start: time(query.start),
        end: time(query.end),
        query: query.query_string.clone(),
        status: query.status().map(str::to_owned),
        lines: 0,
        truncated: false,
        bytes_scanned: query.bytes_scanned(),
        patterns: Vec::new(),
        path: query.row_path(None),
        note: None,
    };
    if let Some(trouble) = query_trouble(query) {
        table.note = Some(trouble);
        return Some(table);
    }
    let limit = query
        .query_string
        .rsplit("limit")
        .next()
        .and_then(|n| n.trim().parse::<usize>().ok());
    table.truncated = limit.is_some_and(|limit| query.rows().len() >= limit);
    let last_lines: Vec<(String, Vec<String>)> = stopped
        .iter()
        .map(|record| {
            let lines = evidence.task_logs(&record.task_id, None);
            let tail = lines[lines.len().saturating_sub(LAST_LINES)..]
                .iter()
                .map(|l| pattern::pattern(&l.message))
                .collect();
            (record.task_id.clone(), tail)
        })
        .collect();
    let mut groups: BTreeMap<String, PatternLines> = BTreeMap::new();
    for row in query.rows() {
        let Some(message) = field(row, "@message") else {
            continue;
        };
        if !pattern::is_error_like(message) {
            continue;
        }
        table.lines += 1;
        let at = field(row, "@timestamp").and_then(parse_time);
        let group = groups.entry(pattern::pattern(message)).or_default();
        group.count += 1;
        group.first = group.first.min(at).or(at);
        group.last = group.last.max(at);
        if group.example.as_ref().is_none_or(|(seen, _)| at > *seen) {
            group.example = Some((at, message.trim_end().to_owned()));
        }
        if let Some(at) = at {
            let hour = at.to_string().get(..13).unwrap_or_default().to_owned();
            *group.by_hour.entry(hour).or_insert(0) += 1;
        }
        if let Some(stream) = field(row, "@logStream") {
            let id = task_id_of(stream);
            if stopped.iter().any(|r| r.task_id == id) {
                group.tasks.insert(id.to_owned());
            }
        }
    }
    let mut ranked: Vec<(String, PatternLines)> = groups.into_iter().collect();
    ranked.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(&b.0)));
    table.patterns = ranked
        .into_iter()
        .take(TOP_PATTERNS)
        .map(|(text, group)| ErrorPattern {
            in_last_lines: last_lines
                .iter()
                .filter(|(_, tail)| tail.contains(&text))
                .map(|(id, _)| id.clone())
                .collect(),
            pattern: text,
            count: group.count,
            first: group.first.map(|t| t.to_string()),
            last: group.last.map(|t| t.to_string()),
            by_hour: group.by_hour.into_iter().collect(),
            example: group.example.map(|(_, m)| m).unwrap_or_default(),
            tasks: group.tasks.into_iter().collect(),
        })
        .collect();
    Some(table)
}

impl MemoryHistory {
    /// The lines the text and Markdown reports show: the verdict, the log line at a spike,
    /// and where the numbers come from.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!("{}: {}", self.verdict, self.summary)];
        if let Some(line) = &self.log_line {
            lines.push(format!("last log line before the peak: \"{line}\""));
        }
        if let Some(path) = &self.path {
            let cost = self
                .bytes_scanned
                .map(|b| format!(", scanned {}", scanned(b)))
                .unwrap_or_default();
            lines.push(format!(
                "Container Insights through Logs Insights{cost}: {path}"
            ));
        }
        lines
    }
}

impl StoppedBy {
    pub fn lines(&self) -> Vec<String> {
        match (&self.caller, &self.note) {
            (Some(caller), _) => {
                let mut lines = vec![caller.describe()];
                let reason = caller
                    .reason
                    .as_ref()
                    .map(|r| format!("reason \"{r}\"; "))
                    .unwrap_or_default();
                lines.push(format!("{reason}CloudTrail StopTask: {}", caller.path));
                lines
            }
            (None, Some(note)) => vec![format!("unknown: {note}")],
            (None, None) => Vec::new(),
        }
    }
}

impl ErrorPatterns {
    /// `/ecs/web, 2026-…Z to 2026-…Z: 37 error-like lines; scanned …`.
    pub fn header(&self) -> String {
        let window = match (&self.start, &self.end) {
            (Some(start), Some(end)) => format!(", {start} to {end}"),
            _ => String::new(),
        };
        let lines = if self.note.is_some() {
            String::new()
        } else if self.truncated {
            format!(
                ": {} error-like lines among the query's newest rows (its limit cut the rest)",
                self.lines
            )
        } else {
            format!(": {} error-like lines", self.lines)
        };
        let cost = self
            .bytes_scanned
            .map(|b| format!("; scanned {}", scanned(b)))
            .unwrap_or_default();
        format!("{}{window}{lines}{cost}", self.log_groups.join(", "))
    }
}

impl ErrorPattern {
    /// `09:00 ×12 · 10:00 ×9 · stopped tasks a1b2… (in the last lines of a1b2…)`.
    pub fn detail(&self) -> String {
        let mut parts: Vec<String> = self
            .by_hour
            .iter()
            .map(|(hour, n)| format!("{}:00 ×{n}", hour.get(11..13).unwrap_or(hour)))
            .collect();
        if !self.tasks.is_empty() {
            let short = |ids: &[String]| {
                ids.iter()
                    .map(|id| id.get(..12).unwrap_or(id).to_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut tasks = format!("stopped tasks {}", short(&self.tasks));
            if !self.in_last_lines.is_empty() {
                let _ = write!(
                    tasks,
                    " (in the last lines of {})",
                    short(&self.in_last_lines)
                );
            }
            parts.push(tasks);
        }
        parts.join(" · ")
    }
}
