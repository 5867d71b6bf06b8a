//! `--format html`: one self-contained page (inline CSS, JavaScript and data; no network
//! request, so it opens from a ticket attachment offline). It holds the brief report, a
//! swimlane timeline drawn by `html/timeline.js` from the data built here, and the whole text
//! report. The contract between the data and the script is `docs/report-schema.md`, "The
//! HTML report".

use std::collections::BTreeMap;

use recorder::time::Timestamp;
use serde::Serialize;

use crate::evidence::{Evidence, TaskRecord};
use crate::report::story::revision_of;
use crate::report::{Report, TaskVerdict, arn_tail, fact_value};
use crate::timeline::EntryKind;

const TEMPLATE: &str = include_str!("html/template.html");
const CSS: &str = include_str!("html/timeline.css");
const SCRIPT: &str = include_str!("html/timeline.js");

/// The colours of problem causes, in the order causes are listed (most stopped tasks first);
/// benign stops are grey-green and undiagnosed ones dark grey, whatever their number.
const PALETTE: &[&str] = &[
    "#d62728", "#1f77b4", "#ff7f0e", "#9467bd", "#2ca02c", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#ff9896", "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5", "#c49c94", "#f7b6d2",
    "#dbdb8d", "#9edae5", "#393b79", "#637939",
];
const BENIGN: &str = "#9aa5b1";
const UNDIAGNOSED: &str = "#444444";

/// How far before the first and after the last task time markers are still drawn.
const MARKER_MARGIN_MS: i64 = 5 * 60 * 1000;

#[derive(Serialize)]
struct Data {
    title: String,
    start_ms: i64,
    end_ms: i64,
    causes: Vec<CauseData>,
    groups: Vec<GroupData>,
    tasks: Vec<TaskData>,
    markers: Vec<Marker>,
    /// Service events, deployments and target-health changes outside the drawn window.
    markers_left_out: usize,
}

#[derive(Serialize)]
struct CauseData {
    id: String,
    label: String,
    kind: &'static str,
    color: String,
    count: usize,
}

#[derive(Serialize)]
struct GroupData {
    service: Option<String>,
    revision: Option<String>,
    tasks: Vec<usize>,
}

#[derive(Serialize)]
struct TaskData {
    id: String,
    arn: String,
    service: Option<String>,
    revision: Option<String>,
    cause: usize,
    /// The root cause finding's message.
    message: Option<String>,
    last_status: Option<String>,
    stop_code: Option<String>,
    stopped_reason: Option<String>,
    phases: Vec<Phase>,
    stopped_ms: Option<i64>,
    containers: Vec<ContainerData>,
    evidence: Vec<EvidenceLine>,
    logs: Vec<LogLine>,
}

#[derive(Serialize)]
#[allow(clippy::struct_field_names)] // `phase` is the data contract's name
struct Phase {
    phase: &'static str,
    start_ms: i64,
    end_ms: i64,
}

#[derive(Serialize)]
struct ContainerData {
    name: String,
    exit_code: Option<i64>,
    reason: Option<String>,
}

#[derive(Serialize)]
struct EvidenceLine {
    label: String,
    path: String,
    value: String,
}

#[derive(Serialize)]
struct LogLine {
    at: Option<String>,
    container: Option<String>,
    text: String,
}

#[derive(Serialize)]
struct Marker {
    kind: &'static str,
    at_ms: i64,
    at: String,
    service: Option<String>,
    text: String,
}

impl Report {
    /// The HTML page of this report, made from `evidence` (the view the report was built
    /// from, for the lifecycle times and service events) and `titles` (rule id → title).
    pub fn render_html(&self, evidence: &Evidence, titles: &BTreeMap<String, String>) -> String {
        let data = self.html_data(evidence, titles);
        // `<` never appears raw inside the <script> element, so no string can close it.
        let json = serde_json::to_string(&data)
            .unwrap_or_else(|_| "null".to_owned())
            .replace('<', "\\u003c");
        let summary = self.render_brief_text();
        let full = self.render_text(false);
        fill(TEMPLATE, |name| match name {
            "TITLE" => Some(escape_html(&data.title)),
            "CSS" => Some(CSS.to_owned()),
            "SUMMARY" => Some(escape_html(&summary)),
            "REPORT" => Some(escape_html(&full)),
            "SCRIPT" => Some(SCRIPT.to_owned()),
            "DATA" => Some(json.clone()),
            _ => None,
        })
    }

    fn html_data(&self, evidence: &Evidence, titles: &BTreeMap<String, String>) -> Data {
        // Causes, most stopped tasks first; a task's cause is an index into them.
        let mut counts: BTreeMap<(u8, String), usize> = BTreeMap::new();
        for task in &self.tasks {
            *counts.entry(cause_key(task)).or_default() += 1;
        }
        let mut keys: Vec<((u8, String), usize)> = counts.into_iter().collect();
        keys.sort_by(|a, b| {
            a.0.0
                .cmp(&b.0.0)
                .then(b.1.cmp(&a.1))
                .then(a.0.1.cmp(&b.0.1))
        });
        let mut problem_colours = PALETTE.iter().cycle();
        let causes: Vec<CauseData> = keys
            .iter()
            .map(|((kind, id), count)| {
                let (kind, color) = match kind {
                    0 => (
                        "problem",
                        (*problem_colours.next().unwrap_or(&PALETTE[0])).to_owned(),
                    ),
                    1 => ("benign", BENIGN.to_owned()),
                    _ => ("undiagnosed", UNDIAGNOSED.to_owned()),
                };
                let label = if kind == "undiagnosed" {
                    "No rule explains this stop".to_owned()
                } else {
                    titles.get(id).cloned().unwrap_or_else(|| id.clone())
                };
                CauseData {
                    id: id.clone(),
                    label,
                    kind,
                    color,
                    count: *count,
                }
            })
            .collect();
        let cause_index: BTreeMap<(u8, String), usize> = keys
            .iter()
            .enumerate()
            .map(|(index, (key, _))| (key.clone(), index))
            .collect();

        let mut tasks = Vec::with_capacity(self.tasks.len());
        for summary in &self.tasks {
            let record = evidence
                .task_index(&summary.task_arn)
                .and_then(|index| evidence.tasks.get(index));
            tasks.push(self.task_data(summary, record, &cause_index));
        }

        // Lanes: by service (tasks of no service last), then revision, then start.
        let mut order: Vec<usize> = (0..tasks.len()).collect();
        order.sort_by_cached_key(|&index| {
            let t = &tasks[index];
            (
                t.service.is_none(),
                t.service.clone(),
                t.revision.as_deref().map(revision_key),
                first_ms(t),
                t.id.clone(),
            )
        });
        let mut groups: Vec<GroupData> = Vec::new();
        for index in order {
            let task = &tasks[index];
            match groups.last_mut() {
                Some(group) if group.service == task.service && group.revision == task.revision => {
                    group.tasks.push(index);
                }
                _ => groups.push(GroupData {
                    service: task.service.clone(),
                    revision: task.revision.clone(),
                    tasks: vec![index],
                }),
            }
        }

        // The window: every task time; markers within a margin of it.
        let times: Vec<i64> = tasks
            .iter()
            .flat_map(|t| {
                t.phases
                    .iter()
                    .flat_map(|p| [p.start_ms, p.end_ms])
                    .chain(t.stopped_ms)
            })
            .collect();
        let all_markers = markers(evidence);
        let (start_ms, end_ms, markers, markers_left_out) =
            if let (Some(&lo), Some(&hi)) = (times.iter().min(), times.iter().max()) {
                let (lo, hi) = (lo - MARKER_MARGIN_MS, hi + MARKER_MARGIN_MS);
                let total = all_markers.len();
                let kept: Vec<Marker> = all_markers
                    .into_iter()
                    .filter(|m| (lo..=hi).contains(&m.at_ms))
                    .collect();
                let lo = kept
                    .iter()
                    .map(|m| m.at_ms)
                    .chain(times.iter().copied())
                    .min();
                let hi = kept
                    .iter()
                    .map(|m| m.at_ms)
                    .chain(times.iter().copied())
                    .max();
                let left_out = total - kept.len();
                (lo.unwrap_or(0), hi.unwrap_or(0), kept, left_out)
            } else {
                let lo = all_markers.iter().map(|m| m.at_ms).min().unwrap_or(0);
                let hi = all_markers.iter().map(|m| m.at_ms).max().unwrap_or(0);
                (lo, hi, all_markers, 0)
            };

        Data {
            title: self.html_title(),
            start_ms,
            end_ms,
            causes,
            groups,
            tasks,
            markers,
            markers_left_out,
        }
    }

    fn html_title(&self) -> String {
        let place = self
            .bundle
            .cluster
            .as_deref()
            .map_or_else(String::new, |cluster| format!(" · cluster {cluster}"));
        format!(
            "ecs-autopsy{place} · {} stopped task{} · recorded {}",
            self.summary.stopped_tasks,
            if self.summary.stopped_tasks == 1 {
                ""
            } else {
                "s"
            },
            self.bundle.recorded_at
        )
    }

    fn task_data(
        &self,
        summary: &crate::report::TaskSummary,
        record: Option<&TaskRecord>,
        cause_index: &BTreeMap<(u8, String), usize>,
    ) -> TaskData {
        let key = cause_key(summary);
        let finding = summary.root_cause.as_deref().and_then(|rule| {
            self.findings.iter().find(|f| {
                f.rule == rule && f.task_arn.as_deref() == Some(summary.task_arn.as_str())
            })
        });
        let evidence = finding
            .map(|f| {
                f.evidence
                    .iter()
                    .map(|fact| EvidenceLine {
                        label: fact.label.clone().unwrap_or_else(|| fact.path.clone()),
                        path: fact.path.clone(),
                        value: fact_value(fact),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let logs = summary
            .timeline
            .iter()
            .filter(|entry| matches!(entry.kind, EntryKind::Log | EntryKind::Elided))
            .map(|entry| LogLine {
                at: entry.at.clone(),
                container: entry.container.clone(),
                text: entry.text.clone(),
            })
            .collect();
        let task = record.map(|r| &r.task);
        TaskData {
            id: summary.task_id.clone(),
            arn: summary.task_arn.clone(),
            service: summary.service.clone(),
            // Already `family:revision` in the report.
            revision: summary.task_definition.clone(),
            cause: cause_index.get(&key).copied().unwrap_or_default(),
            message: finding.map(|f| f.message.clone()),
            last_status: task.and_then(|t| t.last_status.clone()),
            stop_code: summary.stop_code.clone(),
            stopped_reason: summary.stopped_reason.clone(),
            phases: task.map(phases).unwrap_or_default(),
            stopped_ms: task
                .and_then(|t| t.stopped_at)
                .map(|at| at.0.millis)
                .or_else(|| {
                    summary
                        .stopped_at
                        .as_deref()
                        .and_then(Timestamp::parse_iso)
                        .map(|at| at.millis)
                }),
            containers: summary
                .containers
                .iter()
                .map(|c| ContainerData {
                    name: c.name.clone(),
                    exit_code: c.exit_code,
                    reason: c.reason.clone(),
                })
                .collect(),
            evidence,
            logs,
        }
    }
}

/// (0 problem, 1 benign, 2 undiagnosed; the rule id or "undiagnosed").
fn cause_key(task: &crate::report::TaskSummary) -> (u8, String) {
    match (task.verdict, &task.root_cause) {
        (TaskVerdict::Diagnosed, Some(rule)) => (0, rule.clone()),
        (TaskVerdict::Benign, Some(rule)) => (1, rule.clone()),
        _ => (2, "undiagnosed".to_owned()),
    }
}

fn first_ms(task: &TaskData) -> Option<i64> {
    task.phases.first().map(|p| p.start_ms).or(task.stopped_ms)
}

/// `web:9` before `web:12`: the family, then the revision as a number.
fn revision_key(revision: &str) -> (String, Option<u64>, String) {
    match revision.rsplit_once(':') {
        Some((family, number)) => (family.to_owned(), number.parse().ok(), number.to_owned()),
        None => (revision.to_owned(), None, String::new()),
    }
}

/// The lifecycle phases of a task, from its timestamps: provisioning (created until the pull,
/// the start or the stop began), pull (pull started until it stopped, or until the task stopped
/// when it never did), running (started until stopping), stopping (until stopped). Phases whose
/// times are missing are left out, never guessed.
fn phases(task: &recorder::model::Task) -> Vec<Phase> {
    let ms = |at: Option<recorder::time::EpochSeconds>| at.map(|at| at.0.millis);
    let created = ms(task.created_at);
    let pull_started = ms(task.pull_started_at);
    let pull_stopped = ms(task.pull_stopped_at);
    let started = ms(task.started_at);
    let stopping = ms(task.stopping_at);
    let stopped = ms(task.stopped_at).or(ms(task.execution_stopped_at));
    let mut out = Vec::new();
    let mut push = |phase, start: Option<i64>, end: Option<i64>| {
        if let (Some(start), Some(end)) = (start, end) {
            out.push(Phase {
                phase,
                start_ms: start,
                end_ms: end.max(start),
            });
        }
    };
    push(
        "provisioning",
        created,
        pull_started.or(started).or(stopping).or(stopped),
    );
    push(
        "pull",
        pull_started,
        pull_stopped.or(started).or(stopping).or(stopped),
    );
    push("running", started, stopping.or(stopped));
    push("stopping", stopping, stopped);
    out
}

/// Service events (those about target groups as target-health changes) and deployments, in
/// time order.
fn markers(evidence: &Evidence) -> Vec<Marker> {
    let mut out = Vec::new();
    let mut with_record: Vec<String> = Vec::new();
    for located in &evidence.service_deployments {
        let deployment = &located.value;
        let service = deployment.service_name().map(str::to_owned);
        if let Some(service) = &service {
            with_record.push(service.clone());
        }
        let id = deployment
            .service_deployment_arn
            .as_deref()
            .map_or("", arn_tail);
        let status = deployment.status.as_deref().unwrap_or("?");
        let target = deployment
            .target_service_revision
            .as_ref()
            .and_then(|r| r.arn.as_deref())
            .map(|arn| format!(" to revision {}", arn_tail(arn)))
            .unwrap_or_default();
        for (at, what) in [
            (deployment.created_at, "created"),
            (deployment.finished_at, "finished"),
            (deployment.stopped_at, "stopped"),
        ] {
            if let Some(at) = at {
                out.push(marker(
                    "deployment",
                    at.0,
                    service.clone(),
                    format!("deployment {id}{target} {what} ({status})"),
                ));
            }
        }
    }
    for located in &evidence.services {
        let service = &located.value;
        let name = service.service_name.clone();
        for event in &service.events {
            let (Some(at), Some(message)) = (event.created_at, &event.message) else {
                continue;
            };
            let kind = if is_target_health(message) {
                "target-health"
            } else {
                "event"
            };
            out.push(marker(kind, at.0, name.clone(), message.clone()));
        }
        // The service's own deployments, when the deployment record does not list them.
        if name.as_ref().is_some_and(|n| with_record.contains(n)) {
            continue;
        }
        for deployment in &service.deployments {
            let Some(at) = deployment.created_at else {
                continue;
            };
            let revision = deployment
                .task_definition
                .as_deref()
                .map(|td| format!(" of {}", revision_of(td)))
                .unwrap_or_default();
            out.push(marker(
                "deployment",
                at.0,
                name.clone(),
                format!(
                    "deployment {}{revision} created ({}, rollout {})",
                    deployment.id.as_deref().unwrap_or("?"),
                    deployment.status.as_deref().unwrap_or("?"),
                    deployment.rollout_state.as_deref().unwrap_or("?")
                ),
            ));
        }
    }
    out.sort_by(|a, b| a.at_ms.cmp(&b.at_ms).then_with(|| a.text.cmp(&b.text)));
    out
}

fn marker(kind: &'static str, at: Timestamp, service: Option<String>, text: String) -> Marker {
    Marker {
        kind,
        at_ms: at.millis,
        at: at.to_string(),
        service,
        text,
    }
}

/// Service events about target health: registering, deregistering, or a target found
/// unhealthy.
fn is_target_health(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("target-group")
        || lower.contains("target group")
        || lower.contains("registered")
        || lower.contains("unhealthy")
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `template` with every `{{NAME}}` replaced by `value(NAME)`, in one pass: a value is never
/// searched for placeholders itself. Unknown names are kept as they are.
fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        if let Some((v, close)) = after.find("}}").and_then(|close| {
            let name = &after[..close];
            value(name).map(|v| (v, close))
        }) {
            out.push_str(&v);
            rest = &after[close + 2..];
        } else {
            out.push_str("{{");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_once_and_never_inside_values() {
        let filled = fill("a {{X}} b {{Y}} c {{Z}}", |name| match name {
            "X" => Some("{{Y}}".to_owned()),
            "Y" => Some("y".to_owned()),
            _ => None,
        });
        assert_eq!(filled, "a {{Y}} b y c {{Z}}");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn phases_follow_the_timestamps_and_never_run_backwards() {
        let task: recorder::model::Task = serde_json::from_value(serde_json::json!({
            "createdAt": 100.0, "pullStartedAt": 101.0, "pullStoppedAt": 103.0,
            "startedAt": 104.0, "stoppingAt": 110.0, "stoppedAt": 109.0
        }))
        .expect("task");
        let got: Vec<(&str, i64, i64)> = phases(&task)
            .iter()
            .map(|p| (p.phase, p.start_ms, p.end_ms))
            .collect();
        assert_eq!(
            got,
            [
                ("provisioning", 100_000, 101_000),
                ("pull", 101_000, 103_000),
                ("running", 104_000, 110_000),
                ("stopping", 110_000, 110_000),
            ]
        );
        // A task that never started: provisioning until it began to stop.
        let task: recorder::model::Task = serde_json::from_value(serde_json::json!({
            "createdAt": 100.0, "stoppingAt": 130.0, "stoppedAt": 131.0
        }))
        .expect("task");
        let names: Vec<&str> = phases(&task).iter().map(|p| p.phase).collect();
        assert_eq!(names, ["provisioning", "stopping"]);
    }
}
