//! The report: plain data that the text, JSON and Markdown renderings are made from.
//!
//! The JSON form is a public contract (`docs/report-schema.md`), versioned by `schema_version`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::evidence::Evidence;
use crate::rule::Severity;
use crate::runtime::{Fact, RuleError};

pub const REPORT_SCHEMA: &str = "ecs-autopsy-report";
pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Why the task (or service) failed.
    RootCause,
    /// A consequence of the root cause.
    Symptom,
    /// Expected platform behaviour.
    Benign,
    /// Context, not a problem.
    Info,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::RootCause => "root cause",
            Verdict::Symptom => "symptom",
            Verdict::Benign => "benign",
            Verdict::Info => "info",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskVerdict {
    Diagnosed,
    Benign,
    /// No rule explains the stop: the raw facts are shown instead of a guess.
    Undiagnosed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Nothing wrong: no stopped task, or only benign stops.
    Ok,
    /// At least one problem diagnosed, or a stopped task nobody could explain.
    Problems,
}

/// One diagnosis by one rule about one task or service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub category: String,
    pub severity: Severity,
    pub verdict: Verdict,
    pub task_arn: Option<String>,
    pub service: Option<String>,
    pub container: Option<String>,
    pub message: String,
    pub evidence: Vec<Fact>,
    pub hint: Option<String>,
    pub doc_url: Option<String>,
    /// For a symptom: the rule id of the root cause it is a consequence of.
    pub symptom_of: Option<String>,
    /// For a symptom set by `.caused_by(task)`: that task's ARN (linking only, not in the JSON).
    #[serde(skip)]
    pub caused_by_task: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerSummary {
    pub name: String,
    pub exit_code: Option<i64>,
    pub reason: Option<String>,
}

/// One stopped task and its verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskSummary {
    pub task_arn: String,
    pub task_id: String,
    pub service: Option<String>,
    pub task_definition: Option<String>,
    pub stopped_at: Option<String>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub verdict: TaskVerdict,
    pub root_cause: Option<String>,
    pub containers: Vec<ContainerSummary>,
    /// The last log lines, for undiagnosed tasks only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub last_log_lines: Vec<String>,
    /// Lifecycle timestamps, service events naming the task and its log lines, in time order.
    pub timeline: Vec<crate::timeline::Entry>,
}

/// Tasks that stopped the same way: same service, task definition, verdict, root cause, stop
/// code, stop reason and container exits (ids, addresses and numbers aside).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repeat {
    pub service: Option<String>,
    pub verdict: TaskVerdict,
    pub root_cause: Option<String>,
    pub count: usize,
    pub first_stopped_at: Option<String>,
    pub last_stopped_at: Option<String>,
    /// In stop-time order; the first is the one the text report shows in full.
    pub task_ids: Vec<String>,
}

/// What changed in a failing task definition since its previous revision in the bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    pub task_definition: String,
    pub previous: String,
    pub changes: Vec<crate::diff::Change>,
}

/// How one service's stops split by kind of root cause.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceSummary {
    pub service: String,
    pub stopped_tasks: usize,
    pub application: usize,
    pub oom: usize,
    pub health_check: usize,
    pub startup_infrastructure: usize,
    pub benign: usize,
    /// Root causes from team rules outside the taxonomy.
    pub other: usize,
    pub undiagnosed: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingEvidence {
    pub service: String,
    pub operation: String,
    pub code: String,
    pub message: String,
    /// The IAM action that would let the recorder collect this evidence.
    pub iam_action: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleInfo {
    pub source: String,
    pub recorded_at: String,
    pub region: Option<String>,
    pub account: Option<String>,
    pub cluster: Option<String>,
    pub services: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub stopped_tasks: usize,
    pub diagnosed: usize,
    pub benign: usize,
    pub undiagnosed: usize,
    /// Root causes by rule id.
    pub root_causes: BTreeMap<String, usize>,
    /// Per service (tasks without a service under `(standalone)`), by kind of root cause.
    pub services: Vec<ServiceSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub schema_version: u32,
    pub tool_version: &'static str,
    pub status: Status,
    pub bundle: BundleInfo,
    pub summary: Summary,
    pub tasks: Vec<TaskSummary>,
    /// Groups of two or more tasks that stopped the same way.
    pub repeats: Vec<Repeat>,
    pub findings: Vec<Finding>,
    /// Revision diffs of the task definitions the stopped tasks ran.
    pub revisions: Vec<Revision>,
    pub missing_evidence: Vec<MissingEvidence>,
    pub rule_errors: Vec<RuleError>,
    /// Built-in rules replaced by team rules with the same id.
    pub replaced_rules: Vec<String>,
    /// Rules the configuration file disabled.
    pub disabled_rules: Vec<String>,
}

/// What the report says about the rule set itself, beside the findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleNotes {
    /// Built-in rules replaced by team rules: `id (by path)`.
    pub replaced: Vec<String>,
    /// Rule ids the configuration disabled.
    pub disabled: Vec<String>,
}

const LAST_LOG_LINES: usize = 5;

impl Report {
    /// Assembles the report: ranks each subject's findings and summarises every stopped task.
    pub fn build(
        evidence: &Evidence,
        mut findings: Vec<Finding>,
        rule_errors: Vec<RuleError>,
        notes: &RuleNotes,
    ) -> Report {
        rank(&mut findings);
        let order = |finding: &Finding| {
            let task = finding
                .task_arn
                .as_deref()
                .and_then(|arn| evidence.task_index(arn))
                .unwrap_or(usize::MAX);
            (
                task,
                finding.service.clone(),
                finding.verdict,
                finding.rule.clone(),
                finding.message.clone(),
            )
        };
        findings.sort_by_cached_key(order);

        let mut tasks = Vec::new();
        let mut root_causes = BTreeMap::new();
        for (task_index, record) in evidence.stopped_tasks() {
            let task = &record.task;
            let arn = task.task_arn.clone().unwrap_or_default();
            let mine: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.task_arn.as_deref() == Some(arn.as_str()))
                .collect();
            let root_cause = mine
                .iter()
                .find(|f| f.verdict == Verdict::RootCause)
                .map(|f| f.rule.clone());
            let verdict = if root_cause.is_some() {
                TaskVerdict::Diagnosed
            } else if mine.iter().any(|f| f.verdict == Verdict::Benign) {
                TaskVerdict::Benign
            } else {
                TaskVerdict::Undiagnosed
            };
            if let Some(rule) = &root_cause {
                *root_causes.entry(rule.clone()).or_insert(0) += 1;
            }
            let last_log_lines = if verdict == TaskVerdict::Undiagnosed {
                let lines: Vec<String> = evidence
                    .task_logs(&record.task_id, None)
                    .into_iter()
                    .map(|l| l.message.clone())
                    .collect();
                lines[lines.len().saturating_sub(LAST_LOG_LINES)..].to_vec()
            } else {
                Vec::new()
            };
            tasks.push(TaskSummary {
                task_arn: arn,
                task_id: record.task_id.clone(),
                service: task
                    .group
                    .as_deref()
                    .and_then(|g| g.strip_prefix("service:"))
                    .map(str::to_owned),
                task_definition: record
                    .task_definition
                    .map(|index| {
                        crate::evidence::revision_name(&evidence.task_definitions[index].definition)
                    })
                    .or_else(|| {
                        task.task_definition_arn
                            .as_deref()
                            .map(|arn| arn.rsplit('/').next().unwrap_or(arn).to_owned())
                    }),
                stopped_at: task.stopped_at.map(|t| t.0.to_string()),
                stop_code: task.stop_code.clone(),
                stopped_reason: task.stopped_reason.clone(),
                verdict,
                root_cause,
                containers: task
                    .containers
                    .iter()
                    .map(|c| ContainerSummary {
                        name: c.name.clone().unwrap_or_default(),
                        exit_code: c.exit_code,
                        reason: c.reason.clone(),
                    })
                    .collect(),
                last_log_lines,
                timeline: crate::timeline::build(evidence, task_index),
            });
        }
        link_symptoms(&mut findings, &tasks);
        let repeats = repeats(&tasks);
        let revisions = revisions(evidence);

        let missing_evidence = evidence
            .failed_calls
            .iter()
            .map(|failed| MissingEvidence {
                service: failed.service.clone(),
                operation: failed.operation.clone(),
                code: failed.error.code.clone(),
                message: failed.error.message.clone(),
                iam_action: recorder::Operation::lookup(&failed.service, &failed.operation)
                    .map_or_else(
                        || format!("{}:{}", failed.service, failed.operation),
                        recorder::Operation::iam_action,
                    ),
                path: format!("calls[{}].error", failed.call),
            })
            .collect();

        let count = |v: TaskVerdict| tasks.iter().filter(|t| t.verdict == v).count();
        let summary = Summary {
            stopped_tasks: tasks.len(),
            diagnosed: count(TaskVerdict::Diagnosed),
            benign: count(TaskVerdict::Benign),
            undiagnosed: count(TaskVerdict::Undiagnosed),
            root_causes,
            services: service_summaries(&tasks),
        };
        let problem = summary.undiagnosed > 0
            || findings
                .iter()
                .any(|f| matches!(f.verdict, Verdict::RootCause | Verdict::Symptom));
        let manifest = &evidence.manifest;
        Report {
            schema: REPORT_SCHEMA,
            schema_version: REPORT_SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION"),
            status: if problem {
                Status::Problems
            } else {
                Status::Ok
            },
            bundle: BundleInfo {
                source: manifest.source.as_str().to_owned(),
                recorded_at: manifest.recorded_at.clone(),
                region: manifest.region.clone(),
                account: manifest.account.clone(),
                cluster: manifest.cluster.clone(),
                services: {
                    let mut names: Vec<String> = evidence
                        .services
                        .iter()
                        .filter_map(|s| s.value.service_name.clone())
                        .collect();
                    names.extend(manifest.selection.services.iter().cloned());
                    names.sort();
                    names.dedup();
                    names
                },
            },
            summary,
            tasks,
            repeats,
            findings,
            revisions,
            missing_evidence,
            rule_errors,
            replaced_rules: notes.replaced.clone(),
            disabled_rules: notes.disabled.clone(),
        }
    }

    /// `true` when the exit code should be 1.
    /// A copy for a terminal or a Markdown page: every string that comes from the bundle or a
    /// rule has its control characters escaped (`\n`, `\u{1b}`; tabs are kept), so that a
    /// hostile bundle can neither send escape sequences to the terminal nor start a line that
    /// looks like part of the report. The JSON report needs none of this: JSON escapes them.
    fn escaped(&self) -> Report {
        fn text(s: &mut String) {
            if let std::borrow::Cow::Owned(escaped) = recorder::bundle::escape_controls(s, true) {
                *s = escaped;
            }
        }
        fn opt(s: &mut Option<String>) {
            if let Some(s) = s {
                text(s);
            }
        }
        fn all(list: &mut [String]) {
            list.iter_mut().for_each(text);
        }
        let mut r = self.clone();
        let b = &mut r.bundle;
        [&mut b.source, &mut b.recorded_at]
            .into_iter()
            .for_each(text);
        [&mut b.region, &mut b.account, &mut b.cluster]
            .into_iter()
            .for_each(opt);
        all(&mut b.services);
        r.summary
            .services
            .iter_mut()
            .for_each(|s| text(&mut s.service));
        for task in &mut r.tasks {
            [&mut task.task_arn, &mut task.task_id]
                .into_iter()
                .for_each(text);
            [
                &mut task.service,
                &mut task.task_definition,
                &mut task.stopped_at,
                &mut task.stop_code,
                &mut task.stopped_reason,
                &mut task.root_cause,
            ]
            .into_iter()
            .for_each(opt);
            for container in &mut task.containers {
                text(&mut container.name);
                opt(&mut container.reason);
            }
            all(&mut task.last_log_lines);
            for entry in &mut task.timeline {
                opt(&mut entry.at);
                opt(&mut entry.container);
                text(&mut entry.text);
            }
        }
        for repeat in &mut r.repeats {
            [&mut repeat.service, &mut repeat.root_cause]
                .into_iter()
                .for_each(opt);
            [&mut repeat.first_stopped_at, &mut repeat.last_stopped_at]
                .into_iter()
                .for_each(opt);
            all(&mut repeat.task_ids);
        }
        for finding in &mut r.findings {
            [
                &mut finding.rule,
                &mut finding.category,
                &mut finding.message,
            ]
            .into_iter()
            .for_each(text);
            [
                &mut finding.task_arn,
                &mut finding.service,
                &mut finding.container,
                &mut finding.hint,
                &mut finding.doc_url,
                &mut finding.symptom_of,
                &mut finding.caused_by_task,
            ]
            .into_iter()
            .for_each(opt);
            finding
                .evidence
                .iter_mut()
                .for_each(|fact| text(&mut fact.path));
        }
        for revision in &mut r.revisions {
            [&mut revision.task_definition, &mut revision.previous]
                .into_iter()
                .for_each(text);
            for change in &mut revision.changes {
                [&mut change.field, &mut change.path]
                    .into_iter()
                    .for_each(text);
                opt(&mut change.container);
            }
        }
        for missing in &mut r.missing_evidence {
            [
                &mut missing.service,
                &mut missing.operation,
                &mut missing.code,
                &mut missing.message,
                &mut missing.iam_action,
                &mut missing.path,
            ]
            .into_iter()
            .for_each(text);
        }
        for error in &mut r.rule_errors {
            [&mut error.rule, &mut error.file, &mut error.message]
                .into_iter()
                .for_each(text);
            opt(&mut error.position);
        }
        all(&mut r.replaced_rules);
        all(&mut r.disabled_rules);
        r
    }

    pub fn has_problems(&self) -> bool {
        self.status == Status::Problems
    }

    pub fn render_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Gives each finding its verdict. Per subject (task or service), the finding first in the
/// taxonomy's precedence that is neither benign nor marked a symptom is the root cause; the
/// others are symptoms.
fn rank(findings: &mut [Finding]) {
    let mut subjects: BTreeMap<(Option<String>, Option<String>), Vec<usize>> = BTreeMap::new();
    for (index, finding) in findings.iter().enumerate() {
        let key = match &finding.task_arn {
            Some(arn) => (Some(arn.clone()), None),
            None => (None, finding.service.clone()),
        };
        subjects.entry(key).or_default().push(index);
    }
    for indexes in subjects.values() {
        let mut candidates: Vec<usize> = indexes
            .iter()
            .copied()
            .filter(|&i| {
                findings[i].verdict == Verdict::RootCause && findings[i].severity != Severity::Info
            })
            .collect();
        // Taxonomy precedence first (by category, so a team rule filed under a failure mode
        // ranks as that mode), then severity, then the rule id for a stable order.
        candidates.sort_by_cached_key(|&i| {
            (
                crate::taxonomy::precedence(&findings[i].category),
                findings[i].severity,
                findings[i].rule.clone(),
            )
        });
        for &index in indexes {
            if findings[index].verdict == Verdict::RootCause
                && findings[index].severity == Severity::Info
            {
                findings[index].verdict = Verdict::Info;
            }
        }
        for &index in candidates.iter().skip(1) {
            findings[index].verdict = Verdict::Symptom;
        }
    }
}

/// Colours for the terminal; all empty when colour is off.
struct Palette {
    on: bool,
}

impl Palette {
    fn paint(&self, style: anstyle::Style, text: &str) -> String {
        if self.on {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }
    fn bold(&self, text: &str) -> String {
        self.paint(anstyle::Style::new().bold(), text)
    }
    fn dim(&self, text: &str) -> String {
        self.paint(anstyle::Style::new().dimmed(), text)
    }
    /// The verdict label, padded to a fixed width before it is painted.
    fn verdict(&self, verdict: Verdict) -> String {
        let color = match verdict {
            Verdict::RootCause => anstyle::AnsiColor::Red,
            Verdict::Symptom => anstyle::AnsiColor::Yellow,
            Verdict::Benign => anstyle::AnsiColor::Green,
            Verdict::Info => anstyle::AnsiColor::Cyan,
        };
        self.paint(
            anstyle::Style::new().bold().fg_color(Some(color.into())),
            verdict.label(),
        )
    }
}

fn fact_value(fact: &Fact) -> String {
    match &fact.value {
        serde_json::Value::Null => "(absent)".to_owned(),
        other => other.to_string(),
    }
}

fn header(report: &Report) -> String {
    let bundle = &report.bundle;
    let mut parts = Vec::new();
    if let Some(cluster) = &bundle.cluster {
        parts.push(format!("cluster {cluster}"));
    }
    if !bundle.services.is_empty() {
        parts.push(format!("service {}", bundle.services.join(", ")));
    }
    if let Some(region) = &bundle.region {
        parts.push(region.clone());
    }
    parts.push(format!("{} {}", bundle.source, bundle.recorded_at));
    parts.join(" · ")
}

fn summary_line(report: &Report) -> String {
    let summary = &report.summary;
    if summary.stopped_tasks == 0 {
        return "no stopped tasks in the bundle".to_owned();
    }
    let mut parts = Vec::new();
    if summary.diagnosed > 0 {
        let causes: Vec<String> = summary
            .root_causes
            .iter()
            .map(|(rule, n)| format!("{rule} ×{n}"))
            .collect();
        parts.push(format!(
            "{} diagnosed ({})",
            summary.diagnosed,
            causes.join(", ")
        ));
    }
    if summary.benign > 0 {
        parts.push(format!("{} benign", summary.benign));
    }
    if summary.undiagnosed > 0 {
        parts.push(format!("{} undiagnosed", summary.undiagnosed));
    }
    format!(
        "{} stopped task{}: {}",
        summary.stopped_tasks,
        if summary.stopped_tasks == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

impl Report {
    /// The terminal rendering. `color` adds ANSI styles.
    /// The text report. Strings from the bundle and the rules are shown with their control
    /// characters escaped (see `escaped`).
    pub fn render_text(&self, color: bool) -> String {
        self.escaped().render_text_escaped(color)
    }

    fn render_text_escaped(&self, color: bool) -> String {
        let p = Palette { on: color };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}",
            p.dim(&format!(
                "ecs-autopsy {} · {}",
                self.tool_version,
                header(self)
            ))
        );
        for task in &self.tasks {
            let repeat = self.repeat_of(&task.task_id);
            if repeat.is_some_and(|r| r.task_ids[0] != task.task_id) {
                continue;
            }
            out.push('\n');
            let mut title = format!("task {}", task.task_id);
            let context: Vec<String> = [
                task.service.as_ref().map(|s| format!("service {s}")),
                task.task_definition.clone(),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !context.is_empty() {
                let _ = write!(title, " ({})", context.join(", "));
            }
            let _ = writeln!(out, "{}", p.bold(&title));
            let stopped = [
                task.stopped_at.clone(),
                task.stop_code.clone(),
                task.stopped_reason
                    .clone()
                    .filter(|r| !r.is_empty())
                    .map(|r| format!("\"{r}\"")),
            ];
            let stopped: Vec<String> = stopped.into_iter().flatten().collect();
            let _ = writeln!(out, "  stopped     {}", stopped.join("  "));
            if let Some(repeat) = repeat {
                let _ = writeln!(out, "  {:<10}  {}", "repeated", repeat.describe());
            }
            let mine: Vec<&Finding> = self
                .findings
                .iter()
                .filter(|f| f.task_arn.as_deref() == Some(task.task_arn.as_str()))
                .collect();
            if task.verdict == TaskVerdict::Undiagnosed {
                let _ = writeln!(
                    out,
                    "  {}  no rule explains this stop",
                    p.paint(
                        anstyle::Style::new()
                            .bold()
                            .fg_color(Some(anstyle::AnsiColor::Magenta.into())),
                        "undiagnosed"
                    )
                );
                for container in &task.containers {
                    let exit = container.exit_code.map_or_else(
                        || "no exit code".to_owned(),
                        crate::runtime::describe_exit_code,
                    );
                    let reason = container
                        .reason
                        .as_deref()
                        .map(|r| format!("  \"{r}\""))
                        .unwrap_or_default();
                    let _ = writeln!(out, "    container {}: {exit}{reason}", container.name);
                }
            }
            for finding in mine {
                render_finding_text(&mut out, finding, &p);
            }
            render_timeline_text(&mut out, &task.timeline, &p);
        }
        for revision in &self.revisions {
            out.push('\n');
            let _ = writeln!(
                out,
                "{}",
                p.bold(&format!(
                    "task definition {} (changed since {})",
                    revision.task_definition, revision.previous
                ))
            );
            for change in &revision.changes {
                let _ = writeln!(out, "  {}", change.describe());
            }
        }
        let service_findings: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.task_arn.is_none())
            .collect();
        if !service_findings.is_empty() {
            out.push('\n');
            let _ = writeln!(out, "{}", p.bold("service-level"));
            for finding in service_findings {
                render_finding_text(&mut out, finding, &p);
            }
        }
        if !self.missing_evidence.is_empty() {
            out.push('\n');
            let _ = writeln!(out, "{}", p.bold("missing evidence"));
            for missing in &self.missing_evidence {
                let _ = writeln!(
                    out,
                    "  {} {} failed: {}: {} (grant {})",
                    missing.service,
                    missing.operation,
                    missing.code,
                    missing.message,
                    missing.iam_action
                );
            }
        }
        if !self.rule_errors.is_empty() {
            out.push('\n');
            let _ = writeln!(out, "{}", p.bold("rule errors"));
            for error in &self.rule_errors {
                let _ = writeln!(out, "  {}: {}", error.location(), error.message);
            }
        }
        for replaced in &self.replaced_rules {
            let _ = writeln!(out, "\nnote: replaced built-in rule {replaced}");
        }
        if !self.disabled_rules.is_empty() {
            let _ = writeln!(
                out,
                "\nnote: rules disabled by the configuration: {}",
                self.disabled_rules.join(", ")
            );
        }
        out.push('\n');
        let _ = writeln!(out, "{}", p.bold(&summary_line(self)));
        for service in &self.summary.services {
            let _ = writeln!(out, "  service {}: {}", service.service, service.describe());
        }
        out
    }

    /// The group of identical stops `task_id` belongs to, if any.
    pub fn repeat_of(&self, task_id: &str) -> Option<&Repeat> {
        self.repeats
            .iter()
            .find(|r| r.task_ids.iter().any(|id| id == task_id))
    }

    /// A Markdown rendering to paste into a ticket.
    /// The Markdown report, with control characters escaped as in `render_text`.
    pub fn render_markdown(&self) -> String {
        self.escaped().render_markdown_escaped()
    }

    fn render_markdown_escaped(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "## ecs-autopsy report\n");
        let _ = writeln!(out, "{}\n", md_text(&header(self)));
        let _ = writeln!(out, "**{}**\n", md_text(&summary_line(self)));
        if !self.summary.services.is_empty() {
            let mut head = "| service | stopped |".to_owned();
            let mut rule = "|---|---|".to_owned();
            for (label, _) in ServiceSummary::default().counts() {
                let _ = write!(head, " {label} |");
                rule.push_str("---|");
            }
            let _ = writeln!(out, "{head}\n{rule}");
            for s in &self.summary.services {
                let mut row = format!("| {} | {} |", md_cell(&s.service), s.stopped_tasks);
                for (_, n) in s.counts() {
                    let _ = write!(row, " {n} |");
                }
                let _ = writeln!(out, "{row}");
            }
            out.push('\n');
        }
        for task in &self.tasks {
            let repeat = self.repeat_of(&task.task_id);
            if repeat.is_some_and(|r| r.task_ids[0] != task.task_id) {
                continue;
            }
            let _ = writeln!(out, "### Task `{}`\n", md_cell(&task.task_id));
            if let Some(repeat) = repeat {
                let _ = writeln!(out, "**Repeated:** {}\n", md_text(&repeat.describe()));
            }
            let _ = writeln!(out, "| field | value |\n|---|---|");
            let row = |out: &mut String, key: &str, value: Option<&String>| {
                if let Some(value) = value {
                    let _ = writeln!(out, "| {key} | `{}` |", md_cell(value));
                }
            };
            row(&mut out, "service", task.service.as_ref());
            row(&mut out, "task definition", task.task_definition.as_ref());
            row(&mut out, "stopped at", task.stopped_at.as_ref());
            row(&mut out, "stop code", task.stop_code.as_ref());
            row(&mut out, "stopped reason", task.stopped_reason.as_ref());
            for container in &task.containers {
                let exit = container.exit_code.map_or_else(
                    || "no exit code".to_owned(),
                    crate::runtime::describe_exit_code,
                );
                let reason = container
                    .reason
                    .as_deref()
                    .map(|r| format!(", {r}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "| container `{}` | {}{} |",
                    md_cell(&container.name),
                    md_text(&exit),
                    md_text(&reason)
                );
            }
            out.push('\n');
            let mine: Vec<&Finding> = self
                .findings
                .iter()
                .filter(|f| f.task_arn.as_deref() == Some(task.task_arn.as_str()))
                .collect();
            if task.verdict == TaskVerdict::Undiagnosed {
                let _ = writeln!(out, "**Undiagnosed:** no rule explains this stop.\n");
                if !task.last_log_lines.is_empty() {
                    let fence = md_fence(task.last_log_lines.iter().map(String::as_str));
                    let _ = writeln!(out, "Last log lines:\n\n{fence}text");
                    for line in &task.last_log_lines {
                        let _ = writeln!(out, "{line}");
                    }
                    let _ = writeln!(out, "{fence}\n");
                }
            }
            for finding in mine {
                render_finding_markdown(&mut out, finding);
            }
            render_timeline_markdown(&mut out, &task.timeline);
        }
        for revision in &self.revisions {
            let _ = writeln!(
                out,
                "### Task definition `{}` (changed since `{}`)\n",
                md_cell(&revision.task_definition),
                md_cell(&revision.previous)
            );
            for change in &revision.changes {
                let _ = writeln!(out, "- {}", md_text(&change.describe()));
            }
            out.push('\n');
        }
        let service_findings: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.task_arn.is_none())
            .collect();
        if !service_findings.is_empty() {
            let _ = writeln!(out, "### Service-level findings\n");
            for finding in service_findings {
                render_finding_markdown(&mut out, finding);
            }
        }
        if !self.missing_evidence.is_empty() {
            let _ = writeln!(out, "### Missing evidence\n");
            for missing in &self.missing_evidence {
                let _ = writeln!(
                    out,
                    "- `{} {}` failed with `{}`: {} (grant `{}`)",
                    md_cell(&missing.service),
                    md_cell(&missing.operation),
                    md_cell(&missing.code),
                    md_text(&missing.message),
                    md_cell(&missing.iam_action)
                );
            }
            out.push('\n');
        }
        if !self.rule_errors.is_empty() {
            let _ = writeln!(out, "### Rule errors\n");
            for error in &self.rule_errors {
                let _ = writeln!(
                    out,
                    "- `{}`: {}",
                    md_cell(&error.file),
                    md_text(&error.message)
                );
            }
            out.push('\n');
        }
        if !self.replaced_rules.is_empty() || !self.disabled_rules.is_empty() {
            let _ = writeln!(
                out,
                "### Rule set
"
            );
            for replaced in &self.replaced_rules {
                let _ = writeln!(out, "- Replaced built-in rule {}", md_text(replaced));
            }
            if !self.disabled_rules.is_empty() {
                let _ = writeln!(
                    out,
                    "- Disabled by the configuration: {}",
                    self.disabled_rules.join(", ")
                );
            }
            out.push('\n');
        }
        out
    }
}

fn render_finding_text(out: &mut String, finding: &Finding, p: &Palette) {
    let _ = writeln!(
        out,
        "  {:<10}  {}  {}{}",
        p.verdict(finding.verdict),
        p.bold(&finding.rule),
        finding.message,
        symptom_suffix(finding)
    );
    for (index, fact) in finding.evidence.iter().enumerate() {
        let label = if index == 0 { "evidence" } else { "" };
        let _ = writeln!(
            out,
            "    {label:<8}  {} = {}",
            p.dim(&fact.path),
            fact_value(fact)
        );
    }
    if let Some(hint) = &finding.hint {
        let _ = writeln!(out, "    {:<8}  {hint}", "fix");
    }
    if let Some(url) = &finding.doc_url {
        let _ = writeln!(out, "    {:<8}  {url}", "docs");
    }
}

fn render_finding_markdown(out: &mut String, finding: &Finding) {
    let verdict = match finding.verdict {
        Verdict::RootCause => "Root cause",
        Verdict::Symptom => "Symptom",
        Verdict::Benign => "Benign",
        Verdict::Info => "Info",
    };
    let _ = writeln!(
        out,
        "**{verdict}: `{}`** — {}{}\n",
        md_cell(&finding.rule),
        md_text(&finding.message),
        symptom_suffix(finding)
    );
    if !finding.evidence.is_empty() {
        let _ = writeln!(out, "| evidence | value |\n|---|---|");
        for fact in &finding.evidence {
            let _ = writeln!(
                out,
                "| `{}` | `{}` |",
                md_cell(&fact.path),
                md_cell(&fact_value(fact))
            );
        }
        out.push('\n');
    }
    if let Some(hint) = &finding.hint {
        let _ = writeln!(out, "**Fix:** {}\n", md_text(hint));
    }
    if let Some(url) = &finding.doc_url {
        let _ = writeln!(out, "See <{url}>.\n");
    }
}

/// ` (symptom of RULE)` when a symptom's root cause is another rule's finding.
fn symptom_suffix(finding: &Finding) -> String {
    match &finding.symptom_of {
        Some(root) if *root != finding.rule => format!(" (symptom of {root})"),
        _ => String::new(),
    }
}

/// `10:02:03.456` from an RFC 3339 UTC timestamp (the date is in the task's `stopped` line).
fn time_of_day(at: &str) -> &str {
    at.split_once('T')
        .map_or(at, |(_, time)| time.trim_end_matches('Z'))
}

fn timeline_label(entry: &crate::timeline::Entry) -> String {
    use crate::timeline::EntryKind;
    match entry.kind {
        EntryKind::Task | EntryKind::Elided => entry.text.clone(),
        EntryKind::Event => format!("event  {}", entry.text),
        EntryKind::Log => format!(
            "log {}  {}",
            entry.container.as_deref().unwrap_or("?"),
            entry.text
        ),
    }
}

fn render_timeline_text(out: &mut String, timeline: &[crate::timeline::Entry], p: &Palette) {
    for (index, entry) in timeline.iter().enumerate() {
        let label = if index == 0 { "timeline" } else { "" };
        let at = entry.at.as_deref().map_or("", time_of_day);
        let line = format!(
            "  {label:<10}  {}  {}",
            p.dim(&format!("{at:<12}")),
            timeline_label(entry)
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn render_timeline_markdown(out: &mut String, timeline: &[crate::timeline::Entry]) {
    if timeline.is_empty() {
        return;
    }
    let lines: Vec<String> = timeline
        .iter()
        .map(|entry| {
            let at = entry.at.as_deref().map_or("", time_of_day);
            format!("{at:<12}  {}", timeline_label(entry))
                .trim_end()
                .to_owned()
        })
        .collect();
    let fence = md_fence(lines.iter().map(String::as_str));
    let _ = writeln!(out, "<details><summary>Timeline</summary>\n\n{fence}text");
    for line in &lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "{fence}\n\n</details>\n");
}

impl Repeat {
    /// `14 tasks stopped the same way between 10:02:03 and 10:41:10: id, id, …`
    pub fn describe(&self) -> String {
        let window = match (&self.first_stopped_at, &self.last_stopped_at) {
            (Some(first), Some(last)) => format!(" between {first} and {last}"),
            _ => String::new(),
        };
        format!(
            "{} tasks stopped the same way{window}: {}",
            self.count,
            self.task_ids.join(", ")
        )
    }
}

/// Keeps a value on one table row.
/// Text for a Markdown code span or table cell: no `|` to end the cell, no newline, no backtick
/// to end the span.
fn md_cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('\n', " ")
        .replace('`', "'")
}

/// Text for running Markdown (messages, hints): the characters that make links, images and
/// HTML tags backslash-escaped, then `md_cell`, so that a log line quoted in a message cannot become
/// a link, an image or a tag in the ticket the report is pasted into.
fn md_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '[' | ']' | '<' | '>') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    md_cell(&escaped)
}

/// A fence for a code block holding `lines`: longer than any run of backticks in them, so no
/// line can close the block early.
fn md_fence<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let longest = lines
        .into_iter()
        .flat_map(|line| line.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Points every symptom at its root cause: the root cause of the task the rule named with
/// `.caused_by(task)`, else of the same task, else of the same service; a service-level symptom with no service-level root cause (a circuit-breaker
/// rollback) points at the most common root cause among that service's stopped tasks.
fn link_symptoms(findings: &mut [Finding], tasks: &[TaskSummary]) {
    let mut task_root: BTreeMap<String, String> = BTreeMap::new();
    let mut service_root: BTreeMap<String, String> = BTreeMap::new();
    for finding in findings.iter() {
        if finding.verdict != Verdict::RootCause {
            continue;
        }
        match (&finding.task_arn, &finding.service) {
            (Some(arn), _) => {
                task_root.insert(arn.clone(), finding.rule.clone());
            }
            (None, Some(service)) => {
                service_root
                    .entry(service.clone())
                    .or_insert_with(|| finding.rule.clone());
            }
            (None, None) => {}
        }
    }
    let mut by_service: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for task in tasks {
        if let (Some(service), Some(rule)) = (&task.service, &task.root_cause) {
            *by_service
                .entry(service.as_str())
                .or_default()
                .entry(rule.as_str())
                .or_default() += 1;
        }
    }
    for finding in findings.iter_mut() {
        if finding.verdict != Verdict::Symptom {
            continue;
        }
        if let Some(arn) = &finding.caused_by_task
            && let Some(root) = task_root.get(arn)
        {
            finding.symptom_of = Some(root.clone());
            continue;
        }
        finding.symptom_of = match (&finding.task_arn, &finding.service) {
            (Some(arn), _) => task_root.get(arn).cloned(),
            (None, Some(service)) => service_root.get(service).cloned().or_else(|| {
                by_service.get(service.as_str()).and_then(|counts| {
                    counts
                        .iter()
                        .max_by_key(|(rule, n)| {
                            (**n, std::cmp::Reverse(crate::taxonomy::precedence(rule)))
                        })
                        .map(|(rule, _)| (*rule).to_owned())
                })
            }),
            (None, None) => None,
        };
    }
}

static VOLATILE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"[0-9a-f]{8,}(?:-[0-9a-f]{4,})*|\b\d+(?:\.\d+)*\b").expect("valid")
});

/// What makes two stops "the same way".
fn stop_signature(task: &TaskSummary) -> String {
    let normalize = |text: &str| VOLATILE.replace_all(text, "#").into_owned();
    let mut key = format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{}",
        task.service,
        task.task_definition,
        task.verdict,
        task.root_cause,
        task.stop_code,
        normalize(task.stopped_reason.as_deref().unwrap_or_default())
    );
    for container in &task.containers {
        let _ = write!(
            key,
            "|{}:{:?}:{}",
            container.name,
            container.exit_code,
            normalize(container.reason.as_deref().unwrap_or_default())
        );
    }
    key
}

/// Groups of at least two tasks that stopped the same way, in order of their first task.
fn repeats(tasks: &[TaskSummary]) -> Vec<Repeat> {
    let mut groups: Vec<(String, Vec<&TaskSummary>)> = Vec::new();
    for task in tasks {
        let signature = stop_signature(task);
        match groups.iter_mut().find(|(key, _)| *key == signature) {
            Some((_, members)) => members.push(task),
            None => groups.push((signature, vec![task])),
        }
    }
    groups
        .into_iter()
        .filter(|(_, members)| members.len() > 1)
        .map(|(_, members)| {
            let times = members.iter().filter_map(|t| t.stopped_at.clone());
            Repeat {
                service: members[0].service.clone(),
                verdict: members[0].verdict,
                root_cause: members[0].root_cause.clone(),
                count: members.len(),
                first_stopped_at: times.clone().min(),
                last_stopped_at: times.max(),
                task_ids: members.iter().map(|t| t.task_id.clone()).collect(),
            }
        })
        .collect()
}

/// Revision diffs for every task definition a stopped task ran, when its predecessor is in
/// the bundle and something changed.
fn revisions(evidence: &Evidence) -> Vec<Revision> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (_, record) in evidence.stopped_tasks() {
        let Some(index) = record.task_definition else {
            continue;
        };
        if !seen.insert(index) {
            continue;
        }
        let Some(previous) = evidence.previous_revision(index) else {
            continue;
        };
        let name =
            |i: usize| crate::evidence::revision_name(&evidence.task_definitions[i].definition);
        let changes = crate::diff::changes(
            &evidence.task_definitions[previous].definition,
            &evidence.task_definitions[index].definition,
            &evidence.task_definitions[index].loc.path(),
        );
        if !changes.is_empty() {
            out.push(Revision {
                task_definition: name(index),
                previous: name(previous),
                changes,
            });
        }
    }
    out
}

/// Per service, how its stops split by kind of root cause.
fn service_summaries(tasks: &[TaskSummary]) -> Vec<ServiceSummary> {
    use crate::taxonomy::StopKind;
    let mut by_service: BTreeMap<String, ServiceSummary> = BTreeMap::new();
    for task in tasks {
        let name = task
            .service
            .clone()
            .unwrap_or_else(|| "(standalone)".to_owned());
        let summary = by_service
            .entry(name.clone())
            .or_insert_with(|| ServiceSummary {
                service: name,
                ..ServiceSummary::default()
            });
        summary.stopped_tasks += 1;
        match (&task.verdict, &task.root_cause) {
            (TaskVerdict::Undiagnosed, _) => summary.undiagnosed += 1,
            (TaskVerdict::Benign, _) => summary.benign += 1,
            (TaskVerdict::Diagnosed, Some(rule)) => match crate::taxonomy::stop_kind(rule) {
                StopKind::Application => summary.application += 1,
                StopKind::Oom => summary.oom += 1,
                StopKind::HealthCheck => summary.health_check += 1,
                StopKind::StartupInfrastructure => summary.startup_infrastructure += 1,
                StopKind::Benign => summary.benign += 1,
                StopKind::Other => summary.other += 1,
            },
            (TaskVerdict::Diagnosed, None) => summary.other += 1,
        }
    }
    by_service.into_values().collect()
}

impl ServiceSummary {
    /// The split as `(label, count)`, in report order.
    pub fn counts(&self) -> [(&'static str, usize); 7] {
        [
            ("application", self.application),
            ("OOM", self.oom),
            ("health checks", self.health_check),
            ("start-up/infrastructure", self.startup_infrastructure),
            ("benign", self.benign),
            ("other", self.other),
            ("undiagnosed", self.undiagnosed),
        ]
    }

    /// `12 stopped: 8 application, 3 OOM, 1 undiagnosed` (zero counts left out).
    fn describe(&self) -> String {
        let parts: Vec<String> = self
            .counts()
            .into_iter()
            .map(|(label, n)| (n, label))
            .filter(|(n, _)| *n > 0)
            .map(|(n, label)| format!("{n} {label}"))
            .collect();
        format!("{} stopped: {}", self.stopped_tasks, parts.join(", "))
    }
}
