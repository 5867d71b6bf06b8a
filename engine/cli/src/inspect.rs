//! `bundle inspect`: what a bundle holds, without running any rule.

use std::fmt::Write as _;

use serde::Serialize;

use recorder::Bundle;
use recorder::bundle::Response;

use engine::evidence::{Evidence, is_stopped};

#[derive(Debug, Serialize)]
pub struct Inspection {
    pub format_version: u32,
    pub tool_version: String,
    pub source: String,
    pub recorded_at: String,
    pub region: Option<String>,
    pub account: Option<String>,
    pub cluster: Option<String>,
    pub services: Vec<String>,
    pub redaction: recorder::bundle::Redaction,
    pub calls: Vec<CallRow>,
    pub tasks: Vec<TaskRow>,
    pub log_streams: usize,
    pub log_lines: usize,
    /// Earliest and latest timestamp seen in tasks, service events and logs.
    pub time_range: Option<(String, String)>,
}

#[derive(Debug, Serialize)]
pub struct CallRow {
    pub index: usize,
    pub service: String,
    pub operation: String,
    /// `ok` or `error`.
    pub outcome: &'static str,
    /// Items in the response (tasks, events, …) or the error code and message.
    pub detail: String,
    pub source_file: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TaskRow {
    pub task_id: String,
    pub last_status: Option<String>,
    pub stopped: bool,
    pub stop_code: Option<String>,
    pub stopped_at: Option<String>,
    pub group: Option<String>,
}

pub fn summarize(bundle: &Bundle) -> Inspection {
    let calls = bundle
        .calls
        .iter()
        .enumerate()
        .map(|(index, call)| {
            let (outcome, detail) = match &call.error {
                Some(error) => ("error", format!("{}: {}", error.code, error.message)),
                None => ("ok", describe_response(&call.parsed)),
            };
            CallRow {
                index,
                service: call.service.clone(),
                operation: call.operation.clone(),
                outcome,
                detail,
                source_file: call.source_file.clone(),
            }
        })
        .collect();
    let evidence = Evidence::from_bundle(bundle.clone());
    let tasks: Vec<TaskRow> = evidence
        .tasks
        .iter()
        .map(|record| TaskRow {
            task_id: record.task_id.clone(),
            last_status: record.task.last_status.clone(),
            stopped: is_stopped(&record.task),
            stop_code: record.task.stop_code.clone(),
            stopped_at: record.task.stopped_at.map(|t| t.0.to_string()),
            group: record.task.group.clone(),
        })
        .collect();

    let mut times = Vec::new();
    for record in &evidence.tasks {
        let task = &record.task;
        times.extend(
            [task.created_at, task.started_at, task.stopped_at]
                .into_iter()
                .flatten()
                .map(|t| t.0),
        );
    }
    for service in &evidence.services {
        times.extend(
            service
                .value
                .events
                .iter()
                .filter_map(|e| e.created_at)
                .map(|t| t.0),
        );
    }
    for stream in &evidence.log_streams {
        times.extend(stream.lines.iter().filter_map(|l| l.timestamp));
    }
    let time_range = match (times.iter().min(), times.iter().max()) {
        (Some(first), Some(last)) => Some((first.to_string(), last.to_string())),
        _ => None,
    };
    let manifest = &bundle.manifest;
    Inspection {
        format_version: manifest.format_version,
        tool_version: manifest.tool_version.clone(),
        source: manifest.source.as_str().to_owned(),
        recorded_at: manifest.recorded_at.clone(),
        region: manifest.region.clone(),
        account: manifest.account.clone(),
        cluster: manifest.cluster.clone(),
        services: manifest.selection.services.clone(),
        redaction: manifest.redaction.clone(),
        calls,
        tasks,
        log_streams: evidence.log_streams.len(),
        log_lines: evidence.log_streams.iter().map(|s| s.lines.len()).sum(),
        time_range,
    }
}

fn describe_response(response: &Response) -> String {
    let (count, noun) = match response {
        Response::None => return "not interpreted".to_owned(),
        Response::DescribeTasks(r) => (r.tasks.len(), "task"),
        Response::DescribeServices(r) => (r.services.len(), "service"),
        Response::DescribeTaskDefinition(r) => {
            return r.task_definition.as_ref().map_or_else(
                || "no task definition".to_owned(),
                engine::evidence::revision_name,
            );
        }
        Response::ListTasks(r) => (r.task_arns.len(), "task ARN"),
        Response::DescribeContainerInstances(r) => {
            (r.container_instances.len(), "container instance")
        }
        Response::GetLogEvents(r) => (r.events.len(), "log event"),
        Response::FilterLogEvents(r) => (r.events.len(), "log event"),
        Response::DescribeTargetGroups(r) => (r.target_groups.len(), "target group"),
        Response::DescribeTargetHealth(r) => (r.target_health_descriptions.len(), "target"),
        Response::DescribeTargetGroupAttributes(r) => (r.attributes.len(), "attribute"),
        Response::ListServices(r) => (r.service_arns.len(), "service ARN"),
        Response::ListServiceDeployments(r) => {
            (r.service_deployments.len(), "service deployment ARN")
        }
        Response::DescribeServiceDeployments(r) => {
            (r.service_deployments.len(), "service deployment")
        }
        Response::DescribeServiceRevisions(r) => (r.service_revisions.len(), "service revision"),
        Response::GetTaskProtection(r) => (r.protected_tasks.len(), "task protection"),
        Response::DescribeClusters(r) => (r.clusters.len(), "cluster"),
        Response::GetQueryResults(r) => {
            return format!(
                "{} row{} ({})",
                r.results.len(),
                if r.results.len() == 1 { "" } else { "s" },
                r.status.as_deref().unwrap_or("no status")
            );
        }
        Response::LookupEvents(r) => (r.events.len(), "CloudTrail event"),
        Response::EcsEvents(r) => (r.events.len(), "EventBridge event"),
    };
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}

impl Inspection {
    pub fn render_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "bundle format v{} written by ecs-autopsy {} ({})",
            self.format_version, self.tool_version, self.source
        );
        let _ = writeln!(out, "recorded at  {}", self.recorded_at);
        let field = |name: &str, value: Option<&String>| {
            format!("{name:<12} {}\n", value.map_or("-", String::as_str))
        };
        out.push_str(&field("region", self.region.as_ref()));
        out.push_str(&field("account", self.account.as_ref()));
        out.push_str(&field("cluster", self.cluster.as_ref()));
        let _ = writeln!(
            out,
            "{:<12} {}",
            "services",
            if self.services.is_empty() {
                "-".to_owned()
            } else {
                self.services.join(", ")
            }
        );
        let redacted: Vec<String> = self
            .redaction
            .counts
            .iter()
            .map(|(kind, n)| format!("{kind} ×{n}"))
            .collect();
        let _ = writeln!(
            out,
            "{:<12} {}",
            "redaction",
            match (self.redaction.enabled, redacted.is_empty()) {
                (false, _) => "off".to_owned(),
                (true, true) => "on, nothing found".to_owned(),
                (true, false) => format!("on: {}", redacted.join(", ")),
            }
        );
        if let Some((first, last)) = &self.time_range {
            let _ = writeln!(out, "{:<12} {first} → {last}", "time range");
        }
        let _ = writeln!(out, "\ncalls ({})", self.calls.len());
        for call in &self.calls {
            let source = call
                .source_file
                .as_deref()
                .map(|f| format!("  [{f}]"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:>3}  {:<5} {:<27} {:<5} {}{source}",
                call.index, call.service, call.operation, call.outcome, call.detail
            );
        }
        let stopped = self.tasks.iter().filter(|t| t.stopped).count();
        let _ = writeln!(out, "\ntasks ({}, {stopped} stopped)", self.tasks.len());
        for task in &self.tasks {
            let _ = writeln!(
                out,
                "  {}  {:<8} {:<26} {}  {}",
                task.task_id,
                task.last_status.as_deref().unwrap_or("-"),
                task.stop_code.as_deref().unwrap_or("-"),
                task.stopped_at.as_deref().unwrap_or("-"),
                task.group.as_deref().unwrap_or("-"),
            );
        }
        let _ = writeln!(
            out,
            "\nlogs: {} line(s) in {} stream(s)",
            self.log_lines, self.log_streams
        );
        let errors: Vec<&CallRow> = self.calls.iter().filter(|c| c.outcome == "error").collect();
        if !errors.is_empty() {
            let _ = writeln!(out, "\nerrors ({})", errors.len());
            for call in errors {
                let _ = writeln!(
                    out,
                    "  calls[{}] {} {}: {}",
                    call.index, call.service, call.operation, call.detail
                );
            }
        }
        out
    }
}
