//! The report: plain data that the text, JSON and Markdown renderings are made from.
//!
//! The JSON form is a public contract (`docs/report-schema.md`), versioned by `schema_version`.
//! `Report::build` assembles it from the evidence and the ranked findings (`rank`); `text`,
//! `markdown` and `json` render it, and `html` with the evidence view beside it. The report
//! depends on the evidence view and on the plain data of `model`, never on the Rhai runtime
//! or the rule loader.

mod brief;
mod escape;
mod html;
pub mod insights;
mod json;
mod markdown;
mod rank;
mod story;
mod text;

pub use markdown::md_text;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use recorder::time::Timestamp;
use serde::Serialize;

use crate::evidence::Evidence;
use crate::model::{Fact, Finding, RuleError, RuleNotes, Verdict};
use crate::report::rank::{link_symptoms, rank, repeats, revisions, service_summaries};

pub const REPORT_SCHEMA: &str = "ecs-autopsy-report";
pub const REPORT_SCHEMA_VERSION: u32 = 1;

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
    /// A rule failed to load (or, with `--strict`, to run): the findings may be incomplete,
    /// and `rule_errors` says which (since 0.2.0).
    Error,
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
    /// The task's log streams, `(group, stream)`, for console links (not in the JSON).
    #[serde(skip)]
    pub log_streams: Vec<(String, String)>,
    /// For undiagnosed tasks only: the failure modes whose rules read stops like this one, and
    /// what each would have needed (since 0.2.0).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub closest_rules: Vec<ClosestRule>,
    /// For undiagnosed tasks only: what the input lacks that could explain the stop, each with
    /// the AWS CLI command that fetches it, and diagnosed tasks that stopped the same way
    /// (since 0.2.0).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub next_steps: Vec<NextStep>,
    /// For an OOM-killed task, its memory over its last hours from Container Insights, with a
    /// verdict, or why there is none (since 0.2.0; only when the recording looked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<insights::MemoryHistory>,
    /// For a user-stopped task, who stopped it, from CloudTrail, or why it is not known (since
    /// 0.2.0; only when the recording looked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<insights::StoppedBy>,
}

/// A rule that reads stops like an undiagnosed task's, and what it would have needed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClosestRule {
    pub rule: String,
    pub reads: String,
}

/// What to look at next for an undiagnosed task: evidence its input lacks and how to get it,
/// or a task that stopped the same way and was diagnosed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextStep {
    /// What is missing or worth comparing, in words.
    pub what: String,
    /// The command that fetches it (an AWS CLI call, or `ecs-autopsy rules new` when nothing
    /// is missing and no rule knows the failure), or null when there is none.
    pub command: Option<String>,
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
    /// In stop-time order; the text report shows the last (the newest) in full.
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
    /// The service's counts, when the bundle describes it (since 0.2.0).
    pub desired_count: Option<i64>,
    pub running_count: Option<i64>,
    pub pending_count: Option<i64>,
    /// Its deployments, newest first as ECS lists them (since 0.2.0).
    pub deployments: Vec<DeploymentSummary>,
    /// When it last reached a steady state, per its events (since 0.2.0).
    pub steady_at: Option<String>,
    /// How its latest service deployment went, from DescribeServiceDeployments (since 0.2.0;
    /// absent when the bundle holds no deployment record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    /// Error-like lines across its log groups by pattern, from a Logs Insights query (since
    /// 0.2.0; only when the bundle holds one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_patterns: Option<insights::ErrorPatterns>,
    /// Who changed it for its failing deployment, from CloudTrail: UpdateService,
    /// CreateService, and the RegisterTaskDefinition of the revision rolled out (since 0.2.0;
    /// only when the bundle holds some).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_by: Vec<insights::Caller>,
}

/// The story of a service's latest deployment: the strategy, the revision it rolled out, the
/// one it rolled back to, and why it ended as it did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rollout {
    /// The service deployment's ARN.
    pub deployment: String,
    /// `ROLLING`, `BLUE_GREEN`, `LINEAR`, `CANARY` (`ROLLING` when unset).
    pub strategy: String,
    /// `SUCCESSFUL`, `IN_PROGRESS`, `ROLLBACK_SUCCESSFUL`, `STOPPED`, ….
    pub status: String,
    pub status_reason: Option<String>,
    /// The service revision rolled out, and its task definition (`family:revision`) when the
    /// bundle holds the revision.
    pub target_revision: Option<String>,
    pub target_task_definition: Option<String>,
    /// The revision it rolled back to, and its task definition, when it rolled back.
    pub rolled_back_to: Option<String>,
    pub rolled_back_to_task_definition: Option<String>,
    /// Why it failed or rolled back: `alarm`, `lifecycle-hook`, `circuit-breaker` or `manual`;
    /// absent when it did not (or the record does not say).
    pub cause: Option<String>,
    /// The cause in a sentence, naming the alarm or the hook.
    pub detail: Option<String>,
    /// The alarms that went off, the failed hooks' targets, and where to look: the alarm in
    /// the CloudWatch console, the hook function's log group.
    pub alarms: Vec<String>,
    pub hooks: Vec<String>,
    pub links: Vec<String>,
    /// Where the deployment is in the bundle.
    pub path: String,
}

impl Rollout {
    /// `BLUE_GREEN deployment of api:8 ROLLBACK_SUCCESSFUL, rolled back to api:7: alarm api-5xx went off`.
    pub fn brief(&self) -> String {
        // A task definition when the bundle holds the revision, else the revision's id.
        let name = |definition: Option<&String>, revision: Option<&String>| {
            definition
                .cloned()
                .or_else(|| revision.map(|arn| format!("service revision {}", arn_tail(arn))))
        };
        let target = name(
            self.target_task_definition.as_ref(),
            self.target_revision.as_ref(),
        )
        .unwrap_or_else(|| "a new revision".to_owned());
        let mut text = format!("{} deployment of {target} {}", self.strategy, self.status);
        if let Some(back) = name(
            self.rolled_back_to_task_definition.as_ref(),
            self.rolled_back_to.as_ref(),
        ) {
            let _ = write!(text, ", rolled back to {back}");
        }
        if let Some(detail) = &self.detail {
            let _ = write!(text, ": {detail}");
        }
        text
    }
}

/// One deployment of a service, as its rollout stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeploymentSummary {
    pub id: Option<String>,
    /// `PRIMARY`, `ACTIVE` or `INACTIVE`.
    pub status: Option<String>,
    /// `family:revision`.
    pub task_definition: Option<String>,
    /// `IN_PROGRESS`, `COMPLETED` or `FAILED`.
    pub rollout_state: Option<String>,
    pub rollout_state_reason: Option<String>,
    pub desired_count: Option<i64>,
    pub running_count: Option<i64>,
    pub failed_tasks: Option<i64>,
}

/// A root cause across the stopped tasks (or `undiagnosed`), for the report's opening.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cause {
    pub rule: String,
    /// Stopped tasks it explains.
    pub count: usize,
    /// The services they belong to (`(standalone)` for tasks of no service).
    pub services: Vec<String>,
    pub first_stopped_at: Option<String>,
    pub last_stopped_at: Option<String>,
    /// The last stop is within five minutes of the recording, or a service it stopped has not
    /// reached a steady state since.
    pub still_happening: bool,
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
    /// The causes, most stops first, then the most recent (since 0.2.0).
    pub causes: Vec<Cause>,
    /// Stopped tasks in the bundle that the task limits (`--max-tasks`, `--since`) left out of
    /// this report (since 0.2.0).
    pub left_out: usize,
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
    /// What a configuration check (`ecs-autopsy lint`) covered; only in its reports (since
    /// 0.2.0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked: Option<Checked>,
    /// EventBridge warnings and errors from ECS about a service (an event file, or the event
    /// that made the Lambda record) that no finding explains; only when there are some (since
    /// 0.2.0).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unexplained_events: Vec<UnexplainedEvent>,
}

/// A service-level EventBridge event from ECS with `eventType` `WARN` or `ERROR`
/// (`SERVICE_TASK_START_IMPAIRED`, …) about a service no finding is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnexplainedEvent {
    pub service: Option<String>,
    pub cluster: Option<String>,
    pub detail_type: String,
    pub event_name: String,
    pub event_type: String,
    pub time: Option<String>,
    /// Where the event is in the bundle.
    pub path: String,
}

impl UnexplainedEvent {
    /// `service web (cluster prod): ECS Service Action SERVICE_TASK_START_IMPAIRED (WARN) at …`.
    pub fn describe(&self) -> String {
        let place = match (&self.service, &self.cluster) {
            (Some(service), Some(cluster)) => format!("service {service} (cluster {cluster}): "),
            (Some(service), None) => format!("service {service}: "),
            _ => String::new(),
        };
        let when = self
            .time
            .as_ref()
            .map(|time| format!(" at {time}"))
            .unwrap_or_default();
        format!(
            "{place}{} {} ({}){when}",
            self.detail_type, self.event_name, self.event_type
        )
    }

    /// What to do about it: record the service, whose stopped tasks say why.
    pub fn next_step(&self) -> String {
        match (&self.service, &self.cluster) {
            (Some(service), Some(cluster)) => format!(
                "no rule explains it from the event alone; diagnose the service's stopped tasks: ecs-autopsy diagnose --cluster {cluster} --service {service}"
            ),
            _ => "no rule explains it from the event alone; diagnose the service's stopped tasks with ecs-autopsy diagnose".to_owned(),
        }
    }
}

/// The service-level warnings and errors no finding is about.
fn unexplained_events(evidence: &Evidence, findings: &[Finding]) -> Vec<UnexplainedEvent> {
    evidence
        .ecs_events
        .iter()
        .filter(|located| {
            let event = &located.value;
            let level = event.detail.event_type.as_deref().unwrap_or_default();
            let service_level =
                event.detail_type.as_deref() != Some(recorder::events::TASK_STATE_CHANGE);
            let service = event.service_name();
            service_level
                && matches!(level, "WARN" | "ERROR")
                && !findings
                    .iter()
                    .any(|f| f.service.is_some() && f.service.as_deref() == service)
        })
        .map(|located| {
            let event = &located.value;
            UnexplainedEvent {
                service: event.service_name().map(str::to_owned),
                cluster: event.cluster_name(),
                detail_type: event.detail_type.clone().unwrap_or_default(),
                event_name: event.detail.event_name.clone().unwrap_or_default(),
                event_type: event.detail.event_type.clone().unwrap_or_default(),
                time: event
                    .detail
                    .created_at
                    .or(event.detail.updated_at)
                    .or(event.time)
                    .map(|t| t.0.to_string()),
                path: located.loc.path(),
            }
        })
        .collect()
}

/// What `ecs-autopsy lint` checked: the configuration rules it ran, and the task definitions
/// and services it ran them on.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Checked {
    pub rules: Vec<String>,
    pub task_definitions: Vec<String>,
    pub services: Vec<String>,
}

const LAST_LOG_LINES: usize = 5;

/// The calls that failed while recording, so the evidence they would have given is missing.
fn missing_evidence(evidence: &Evidence) -> Vec<MissingEvidence> {
    evidence
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
        .collect()
}

impl BundleInfo {
    fn of(evidence: &Evidence) -> BundleInfo {
        let manifest = &evidence.manifest;
        BundleInfo {
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
                match recorder::selection::services_only(&manifest.selection.limits) {
                    // Narrowed (`replay --service`): the services the report covers.
                    Some(only) => names.retain(|n| only.contains(n)),
                    None => names.extend(manifest.selection.services.iter().cloned()),
                }
                names.sort();
                names.dedup();
                names
            },
        }
    }
}

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
            let memory = insights::memory_history(evidence, record, root_cause.as_deref());
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
                            .map(|arn| arn_tail(arn).to_owned())
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
                log_streams: evidence
                    .task_streams(&record.task_id, None)
                    .filter_map(|(_, stream)| Some((stream.group.clone()?, stream.stream.clone()?)))
                    .collect(),
                closest_rules: if verdict == TaskVerdict::Undiagnosed {
                    let exits: Vec<i64> =
                        task.containers.iter().filter_map(|c| c.exit_code).collect();
                    crate::taxonomy::closest(
                        task.stop_code.as_deref(),
                        task.stopped_reason.as_deref(),
                        &exits,
                    )
                    .into_iter()
                    .map(|(rule, reads)| ClosestRule {
                        rule: rule.to_owned(),
                        reads: reads.to_owned(),
                    })
                    .collect()
                } else {
                    Vec::new()
                },
                next_steps: if verdict == TaskVerdict::Undiagnosed {
                    next_steps(evidence, record)
                } else {
                    Vec::new()
                },
                memory,
                stopped_by: insights::stopped_by(evidence, record),
            });
        }
        same_stop_diagnosed(&mut tasks);
        link_symptoms(&mut findings, &tasks);
        let repeats = repeats(&tasks);
        let revisions = revisions(evidence);

        let missing_evidence = missing_evidence(evidence);

        let count = |v: TaskVerdict| tasks.iter().filter(|t| t.verdict == v).count();
        let mut services = service_summaries(&tasks);
        story::add_service_state(evidence, &mut services);
        for summary in &mut services {
            let stopped: Vec<&crate::evidence::TaskRecord> = evidence
                .stopped_tasks()
                .map(|(_, record)| record)
                .filter(|record| {
                    record
                        .task
                        .group
                        .as_deref()
                        .and_then(|g| g.strip_prefix("service:"))
                        == Some(summary.service.as_str())
                })
                .collect();
            if !stopped.is_empty() {
                summary.error_patterns = insights::error_patterns(evidence, &stopped);
            }
            summary.changed_by = insights::changed_by(evidence, &summary.service);
        }
        let causes = story::causes(
            &tasks,
            &services,
            Timestamp::parse_iso(&evidence.manifest.recorded_at),
        );
        let summary = Summary {
            stopped_tasks: tasks.len(),
            diagnosed: count(TaskVerdict::Diagnosed),
            benign: count(TaskVerdict::Benign),
            undiagnosed: count(TaskVerdict::Undiagnosed),
            root_causes,
            services,
            causes,
            left_out: evidence.left_out,
        };
        let unexplained_events = unexplained_events(evidence, &findings);
        let problem = summary.undiagnosed > 0
            || !unexplained_events.is_empty()
            || findings.iter().any(|f| {
                matches!(
                    f.verdict,
                    Verdict::RootCause | Verdict::Symptom | Verdict::Contributing | Verdict::Policy
                )
            });
        Report {
            schema: REPORT_SCHEMA,
            schema_version: REPORT_SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION"),
            status: if problem {
                Status::Problems
            } else {
                Status::Ok
            },
            bundle: BundleInfo::of(evidence),
            summary,
            tasks,
            repeats,
            findings,
            revisions,
            missing_evidence,
            rule_errors,
            replaced_rules: notes.replaced.clone(),
            disabled_rules: notes.disabled.clone(),
            checked: None,
            unexplained_events,
        }
    }

    /// The report of a configuration check (`ecs-autopsy lint`): findings about task
    /// definitions and services, no stopped task. A rule that failed to run makes it an
    /// error: the check it makes did not happen.
    pub fn build_lint(
        evidence: &Evidence,
        mut findings: Vec<Finding>,
        rule_errors: Vec<RuleError>,
        notes: &RuleNotes,
        checked: Checked,
    ) -> Report {
        findings.sort_by_cached_key(|finding| {
            (
                finding.task_definition.clone(),
                finding.service.clone(),
                finding.container.clone(),
                finding.rule.clone(),
                finding.message.clone(),
            )
        });
        let status = if !rule_errors.is_empty() {
            Status::Error
        } else if findings.iter().any(|f| f.verdict != Verdict::Benign) {
            Status::Problems
        } else {
            Status::Ok
        };
        Report {
            schema: REPORT_SCHEMA,
            schema_version: REPORT_SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION"),
            status,
            bundle: BundleInfo::of(evidence),
            summary: Summary {
                stopped_tasks: 0,
                diagnosed: 0,
                benign: 0,
                undiagnosed: 0,
                root_causes: BTreeMap::new(),
                services: Vec::new(),
                causes: Vec::new(),
                left_out: 0,
            },
            tasks: Vec::new(),
            repeats: Vec::new(),
            findings,
            revisions: Vec::new(),
            missing_evidence: missing_evidence(evidence),
            rule_errors,
            replaced_rules: notes.replaced.clone(),
            disabled_rules: notes.disabled.clone(),
            checked: Some(checked),
            unexplained_events: Vec::new(),
        }
    }

    /// `true` when the exit code should be 1.
    pub fn has_problems(&self) -> bool {
        self.status == Status::Problems
    }

    /// The group of identical stops `task_id` belongs to, if any.
    pub fn repeat_of(&self, task_id: &str) -> Option<&Repeat> {
        self.repeats
            .iter()
            .find(|r| r.task_ids.iter().any(|id| id == task_id))
    }
}

/// A fact's value as the bundle holds it; an ECS timestamp held as epoch seconds (the API's
/// and the AWS CLI v1's form) is followed by the time it means, in UTC.
/// The last part of an ARN: `api:7` of a task definition's, a task's or a deployment's id; the
/// text itself when it has no `/`.
fn arn_tail(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn fact_value(fact: &Fact) -> String {
    match &fact.value {
        serde_json::Value::Null => "(absent)".to_owned(),
        serde_json::Value::Number(number) if is_ecs_time_field(&fact.path) => {
            match number.as_f64().and_then(Timestamp::from_epoch_seconds) {
                Some(time) => format!("{number} ({time})"),
                None => number.to_string(),
            }
        }
        other => other.to_string(),
    }
}

/// `…startedAt`, `…stoppingAt`, `…createdAt`: the ECS and ELBv2 fields that hold a time.
fn is_ecs_time_field(path: &str) -> bool {
    let field = path.rsplit('.').next().unwrap_or(path);
    field.len() > 2 && field.ends_with("At") && field.starts_with(|c: char| c.is_ascii_lowercase())
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
    // An import of outputs that hold no time at all is dated at the epoch, to stay the same
    // from one run to the next; that date means nothing to a reader.
    if bundle.recorded_at.starts_with("1970-01-01T00:00:00") {
        parts.push(format!("{} (the outputs hold no time)", bundle.source));
    } else {
        parts.push(format!("{} {}", bundle.source, bundle.recorded_at));
    }
    parts.join(" · ")
}

/// What a lint covered: `2 task definitions (web:7, worker), 1 service (web) · 2 rules`.
fn lint_scope(checked: &Checked) -> String {
    let list = |items: &[String], one: &str, many: &str| {
        let noun = if items.len() == 1 { one } else { many };
        if items.is_empty() {
            format!("0 {many}")
        } else {
            format!("{} {noun} ({})", items.len(), items.join(", "))
        }
    };
    format!(
        "{}, {} · {} rule(s): {}",
        list(
            &checked.task_definitions,
            "task definition",
            "task definitions"
        ),
        list(&checked.services, "service", "services"),
        checked.rules.len(),
        if checked.rules.is_empty() {
            "none".to_owned()
        } else {
            checked.rules.join(", ")
        }
    )
}

/// What a lint finding is about: `task definition web:7, container "web"` or `service web`.
fn lint_subject(finding: &Finding) -> String {
    let mut subject = match (&finding.task_definition, &finding.service) {
        (Some(definition), _) => format!("task definition {definition}"),
        (None, Some(service)) => format!("service {service}"),
        (None, None) => "configuration".to_owned(),
    };
    if let Some(container) = &finding.container {
        let _ = write!(subject, ", container \"{container}\"");
    }
    subject
}

/// The last line of a lint: how many problems, or that every check passed.
fn lint_summary(report: &Report, checked: &Checked) -> String {
    let problems = report
        .findings
        .iter()
        .filter(|f| f.verdict != Verdict::Benign)
        .count();
    let mut line = if problems == 0 {
        format!("no problems: {} rule(s) found nothing", checked.rules.len())
    } else {
        let count = |of: fn(&Finding) -> Option<&String>| {
            report
                .findings
                .iter()
                .filter_map(of)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        };
        let mut parts = Vec::new();
        for (n, noun) in [
            (count(|f| f.task_definition.as_ref()), "task definition(s)"),
            (
                count(|f| f.service.as_ref().filter(|_| f.task_definition.is_none())),
                "service(s)",
            ),
        ] {
            if n > 0 {
                parts.push(format!("{n} {noun}"));
            }
        }
        format!("{problems} problem(s) in {}", parts.join(" and "))
    };
    if report.status == Status::Error {
        let _ = write!(
            line,
            " · INCOMPLETE: {} rule error(s), listed above; a check that did not run has not passed",
            report.rule_errors.len()
        );
    }
    line
}

impl Report {
    /// The report's summary line: `31 stopped tasks: 28 diagnosed (18 causes), 3 benign`.
    pub fn headline(&self) -> String {
        summary_line(self)
    }

    /// The services the opening lists: all of them up to `SERVICES_LISTED`, else those with a
    /// problem; and how many healthy ones it left out.
    pub fn listed_services(&self) -> (Vec<&ServiceSummary>, usize) {
        let all = &self.summary.services;
        if all.len() <= SERVICES_LISTED {
            return (all.iter().collect(), 0);
        }
        let listed: Vec<&ServiceSummary> = all.iter().filter(|s| !s.is_healthy()).collect();
        let healthy = all.len() - listed.len();
        (listed, healthy)
    }
}

fn summary_line(report: &Report) -> String {
    let line = summary_counts(report);
    if report.status == Status::Error {
        let n = report.rule_errors.len();
        format!("{line} · INCOMPLETE: {n} rule error(s), listed below; the findings may be missing")
    } else {
        line
    }
}

fn summary_counts(report: &Report) -> String {
    let summary = &report.summary;
    if summary.stopped_tasks == 0 {
        let mut causes: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.task_arn.is_none() && f.verdict == Verdict::RootCause)
            .map(|f| f.rule.as_str())
            .collect();
        causes.dedup();
        return if causes.is_empty() && !report.unexplained_events.is_empty() {
            format!(
                "no stopped tasks in the bundle; {} EventBridge warning(s) no rule explains",
                report.unexplained_events.len()
            )
        } else if causes.is_empty() {
            "no stopped tasks in the bundle".to_owned()
        } else {
            format!(
                "no stopped tasks in the bundle; service-level: {}",
                causes.join(", ")
            )
        };
    }
    let mut parts = Vec::new();
    if summary.diagnosed > 0 {
        // One cause fits on the line; several are ranked below it.
        match summary.root_causes.iter().next() {
            Some((rule, _)) if summary.root_causes.len() == 1 => {
                parts.push(format!("{} diagnosed ({rule})", summary.diagnosed));
            }
            _ => parts.push(format!(
                "{} diagnosed ({} causes)",
                summary.diagnosed,
                summary.root_causes.len()
            )),
        }
    }
    if summary.benign > 0 {
        parts.push(format!("{} benign", summary.benign));
    }
    if summary.undiagnosed > 0 {
        parts.push(format!("{} undiagnosed", summary.undiagnosed));
    }
    let of = if summary.left_out > 0 {
        format!(
            "{} of {} stopped tasks (the most recent; raise --max-tasks or widen --since for the other {})",
            summary.stopped_tasks,
            summary.stopped_tasks + summary.left_out,
            summary.left_out
        )
    } else {
        format!(
            "{} stopped task{}",
            summary.stopped_tasks,
            if summary.stopped_tasks == 1 { "" } else { "s" }
        )
    };
    format!("{of}: {}", parts.join(", "))
}

/// ` (symptom of RULE)` when a symptom's root cause is another rule's finding.
fn symptom_suffix(finding: &Finding) -> String {
    match (&finding.symptom_of, &finding.contributes_to) {
        (Some(root), _) if *root != finding.rule => format!(" (symptom of {root})"),
        (_, Some(root)) if *root != finding.rule => format!(" (contributing to {root})"),
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

impl DeploymentSummary {
    /// `api:7 FAILED, 3 failed tasks: ECS deployment circuit breaker: tasks failed to start.`,
    /// for a service's line.
    pub fn brief(&self) -> String {
        let mut text = self
            .task_definition
            .clone()
            .or_else(|| self.id.clone())
            .unwrap_or_else(|| "deployment".to_owned());
        if let Some(state) = &self.rollout_state {
            let _ = write!(text, " {state}");
        }
        self.push_outcome(&mut text);
        text
    }

    /// `, 3 failed tasks: <the reason, when it tells a story>`.
    fn push_outcome(&self, text: &mut String) {
        if let Some(failed) = self.failed_tasks.filter(|&n| n > 0) {
            let _ = write!(
                text,
                ", {failed} failed task{}",
                if failed == 1 { "" } else { "s" }
            );
        }
        if let Some(reason) = self.telling_reason() {
            let _ = write!(text, ": {reason}");
        }
    }

    /// The rollout reason when it tells a story (a circuit breaker, a rollback, a failure);
    /// otherwise it says only "in progress" or "completed".
    fn telling_reason(&self) -> Option<&str> {
        let reason = self.rollout_state_reason.as_deref()?;
        (self.rollout_state.as_deref() == Some("FAILED")
            || [
                "circuit breaker",
                "rolling back",
                "rolled back",
                "roll back",
            ]
            .iter()
            .any(|word| reason.contains(word)))
        .then_some(reason)
    }

    /// `ecs-svc/1 (api:7) PRIMARY, rollout FAILED, 0/2 running, 5 failed tasks: <reason>`.
    pub fn describe(&self) -> String {
        let mut text = self.id.clone().unwrap_or_else(|| "deployment".to_owned());
        if let Some(definition) = &self.task_definition {
            let _ = write!(text, " ({definition})");
        }
        if let Some(status) = &self.status {
            let _ = write!(text, " {status}");
        }
        if let Some(state) = &self.rollout_state {
            let _ = write!(text, ", rollout {state}");
        }
        if let Some(running) = self.running_count {
            match self.desired_count {
                Some(desired) => {
                    let _ = write!(text, ", {running}/{desired} running");
                }
                None => {
                    let _ = write!(text, ", {running} running");
                }
            }
        }
        self.push_outcome(&mut text);
        text
    }
}

impl Cause {
    /// `05:01:02 → 05:55:10, still happening`, with the date of a stop on another day than
    /// `day` (the recording's, `2026-11-24`).
    pub fn window(&self, day: &str) -> String {
        let at = |time: &str| {
            let (date, clock) = time.split_once('T').unwrap_or((time, ""));
            let clock = clock.get(..8).unwrap_or(clock);
            if date == day || clock.is_empty() {
                clock.to_owned()
            } else {
                format!("{date} {clock}")
            }
        };
        let mut text = match (&self.first_stopped_at, &self.last_stopped_at) {
            (Some(first), Some(last)) if first == last => at(first),
            (Some(first), Some(last)) => format!("{} → {}", at(first), at(last)),
            _ => String::new(),
        };
        if self.still_happening {
            if !text.is_empty() {
                text.push_str(", ");
            }
            text.push_str("still happening");
        }
        text
    }
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

/// Beyond this many services, the opening lists only those with a problem and counts the rest.
pub const SERVICES_LISTED: usize = 5;

impl ServiceSummary {
    /// Nothing wrong to say: no stop but benign ones, every desired task running, none
    /// pending, and no deployment rolling out or failed.
    pub fn is_healthy(&self) -> bool {
        let only_benign = self.stopped_tasks == self.benign;
        let running = match (self.running_count, self.desired_count) {
            (Some(running), Some(desired)) => running >= desired,
            _ => true,
        };
        let settled = self
            .deployments
            .iter()
            .all(|d| !matches!(d.rollout_state.as_deref(), Some("IN_PROGRESS" | "FAILED")));
        // A deployment that failed or rolled back is news even when every task runs again.
        let rolled_out = self.rollout.as_ref().is_none_or(|r| r.cause.is_none());
        only_benign && running && self.pending_count.unwrap_or(0) == 0 && settled && rolled_out
    }

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

    /// `2/3 running, 1 pending`, when the bundle describes the service.
    pub fn state(&self) -> Option<String> {
        let running = self.running_count?;
        let mut text = match self.desired_count {
            Some(desired) => format!("{running}/{desired} running"),
            None => format!("{running} running"),
        };
        if let Some(pending) = self.pending_count.filter(|&n| n > 0) {
            let _ = write!(text, ", {pending} pending");
        }
        Some(text)
    }

    /// `12 stopped: 8 application, 3 OOM, 1 undiagnosed` (zero counts left out).
    fn describe(&self) -> String {
        if self.stopped_tasks == 0 {
            return "no stopped tasks".to_owned();
        }
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

/// What an undiagnosed task's input lacks that the rules read: its task definition, its
/// containers' log lines, its service's events. Each comes with the AWS CLI command that
/// fetches it; with nothing missing, no rule knows the failure yet.
fn next_steps(
    evidence: &crate::evidence::View,
    record: &crate::evidence::TaskRecord,
) -> Vec<NextStep> {
    let task = &record.task;
    let region = evidence.manifest.region.as_deref();
    let region_flag = |region: Option<&str>| {
        region.map_or_else(String::new, |r| format!(" --region {}", shell_word(r)))
    };
    let mut steps = Vec::new();
    match record.task_definition {
        None => {
            if let Some(arn) = task.task_definition_arn.as_deref() {
                steps.push(NextStep {
                    what: format!(
                        "task definition {} is not in the input: its containers' settings and log configuration are unknown",
                        arn_tail(arn)
                    ),
                    command: Some(format!(
                        "aws ecs describe-task-definition --task-definition {}{}",
                        shell_word(arn),
                        region_flag(region)
                    )),
                });
            }
        }
        Some(index) => {
            // The containers that failed, when some did: the others' logs rarely say why.
            let failed = task
                .containers
                .iter()
                .any(|c| c.exit_code.is_some_and(|code| code != 0));
            for definition in &evidence.task_definitions[index]
                .definition
                .container_definitions
            {
                let Some(name) = definition.name.as_deref() else {
                    continue;
                };
                let ran = task.containers.iter().any(|c| {
                    c.name.as_deref() == Some(name)
                        && c.exit_code.is_some_and(|code| !failed || code != 0)
                });
                if !ran || !evidence.task_logs(&record.task_id, Some(name)).is_empty() {
                    continue;
                }
                steps.push(log_step(
                    name,
                    &record.task_id,
                    definition.log_configuration.as_ref(),
                    region,
                ));
            }
        }
    }
    if let Some(service) = task
        .group
        .as_deref()
        .and_then(|g| g.strip_prefix("service:"))
        && record.service.is_none()
    {
        let cluster = task
            .cluster_arn
            .as_deref()
            .or(evidence.manifest.cluster.as_deref())
            .map(|c| format!(" --cluster {}", shell_word(c)))
            .unwrap_or_default();
        steps.push(NextStep {
            what: format!(
                "service {service} is not in the input: its events and deployments are unknown"
            ),
            command: Some(format!(
                "aws ecs describe-services{cluster} --services {}{}",
                shell_word(service),
                region_flag(region)
            )),
        });
    }
    if steps.is_empty() {
        steps.push(NextStep {
            what: "nothing the rules read is missing: no rule knows this failure yet".to_owned(),
            command: Some("ecs-autopsy rules new <failure-mode-id>".to_owned()),
        });
    }
    steps
}

/// How to get the log lines of container `name` of task `task_id`, which the input lacks.
fn log_step(
    name: &str,
    task_id: &str,
    config: Option<&recorder::model::LogConfiguration>,
    region: Option<&str>,
) -> NextStep {
    let Some(config) = config else {
        return NextStep {
            what: format!("container \"{name}\" has no log configuration: its output was not kept"),
            command: None,
        };
    };
    let driver = config.log_driver.as_deref().unwrap_or("unknown");
    if driver != "awslogs" {
        return NextStep {
            what: format!(
                "container \"{name}\" logs through the {driver} driver, which the input does not hold: look where that driver sends its lines"
            ),
            command: None,
        };
    }
    let region = config
        .options
        .get("awslogs-region")
        .map(String::as_str)
        .or(region)
        .map_or_else(String::new, |r| format!(" --region {}", shell_word(r)));
    let missing = format!("no log lines of container \"{name}\" in the input");
    let command = match (
        config.options.get("awslogs-group"),
        config.options.get("awslogs-stream-prefix"),
    ) {
        (Some(group), Some(prefix)) => Some(format!(
            "aws logs get-log-events --log-group-name {} --log-stream-name {} --start-from-head{region}",
            shell_word(group),
            shell_word(&format!("{prefix}/{name}/{task_id}"))
        )),
        // Without a prefix, awslogs names the stream after the Docker container id, which
        // describe-tasks does not give: list the group's latest streams.
        (Some(group), None) => Some(format!(
            "aws logs describe-log-streams --log-group-name {} --order-by LastEventTime --descending --max-items 5{region}",
            shell_word(group)
        )),
        (None, _) => None,
    };
    NextStep {
        what: missing,
        command,
    }
}

/// `word` as one shell word: as it is when it has no special characters, else single-quoted.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:@=,+-".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Points each undiagnosed task at a diagnosed one of the same task definition whose containers
/// exited the same way (the same names and exit codes): the usual case is a crash loop where
/// only one task's log lines were kept.
fn same_stop_diagnosed(tasks: &mut [TaskSummary]) {
    /// Each container's name and exit code.
    type Exits = Vec<(String, Option<i64>)>;
    /// A diagnosed task: its task definition, exits, root cause and id.
    struct Diagnosed {
        definition: Option<String>,
        exits: Exits,
        rule: String,
        id: String,
    }
    let exits = |task: &TaskSummary| -> Exits {
        task.containers
            .iter()
            .map(|c| (c.name.clone(), c.exit_code))
            .collect()
    };
    let diagnosed: Vec<Diagnosed> = tasks
        .iter()
        .filter_map(|task| {
            Some(Diagnosed {
                definition: task.task_definition.clone(),
                exits: exits(task),
                rule: task.root_cause.clone()?,
                id: task.task_id.clone(),
            })
        })
        .collect();
    for task in tasks.iter_mut() {
        if task.verdict != TaskVerdict::Undiagnosed || task.task_definition.is_none() {
            continue;
        }
        let mine = exits(task);
        if mine.iter().all(|(_, code)| code.is_none()) {
            continue;
        }
        if let Some(Diagnosed { rule, id, .. }) = diagnosed
            .iter()
            .find(|d| d.definition == task.task_definition && d.exits == mine)
        {
            task.next_steps.insert(
                0,
                NextStep {
                    what: format!(
                        "task {id} of the same task definition, whose containers exited the same way, stopped for {rule}: likely the same cause, which this task's input cannot show"
                    ),
                    command: None,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn commands_quote_what_a_shell_would_split_or_expand() {
        assert_eq!(shell_word("/ecs/api"), "/ecs/api");
        assert_eq!(
            shell_word("arn:aws:ecs:us-east-1:123456789012:task-definition/api:7"),
            "arn:aws:ecs:us-east-1:123456789012:task-definition/api:7"
        );
        assert_eq!(shell_word("my group"), "'my group'");
        assert_eq!(shell_word("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
