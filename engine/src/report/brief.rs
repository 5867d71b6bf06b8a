//! `--brief`: one line per cause and per unhealthy service, nothing else.

use std::fmt::Write as _;

use crate::model::Verdict;
use crate::report::markdown::md_text;
use crate::report::{Report, ServiceSummary, summary_line};

impl Report {
    /// Leaves out every task's timeline (`--no-timeline`).
    pub fn drop_timelines(&mut self) {
        for task in &mut self.tasks {
            task.timeline.clear();
        }
    }

    /// The brief text report: the causes, then the unhealthy services, a line each; the
    /// summary line alone when there is neither.
    pub fn render_brief_text(&self) -> String {
        let lines = self.escaped().brief_lines();
        let mut out = String::new();
        for line in &lines {
            let _ = writeln!(out, "{line}");
        }
        out
    }

    /// The brief Markdown report: the same lines as a list.
    pub fn render_brief_markdown(&self) -> String {
        let lines = self.escaped().brief_lines();
        let mut out = String::new();
        for line in &lines {
            let _ = writeln!(out, "- {}", md_text(line));
        }
        out
    }

    fn brief_lines(&self) -> Vec<String> {
        let day = self.bundle.recorded_at.get(..10).unwrap_or_default();
        let mut lines: Vec<String> = self
            .summary
            .causes
            .iter()
            .map(|c| {
                format!(
                    "{}× {} ({}) {}",
                    c.count,
                    c.rule,
                    c.services.join(", "),
                    c.window(day)
                )
                .trim_end()
                .to_owned()
            })
            .collect();
        for service in &self.summary.services {
            let service_causes = self.service_root_causes(&service.service);
            if !unhealthy(service) && service_causes.is_empty() {
                continue;
            }
            let mut line = format!("service {}", service.service);
            if let Some(state) = service.state() {
                let _ = write!(line, ": {state}");
            }
            let deployments: Vec<String> = service
                .deployments
                .iter()
                .filter(|d| d.rollout_state.as_deref() != Some("COMPLETED"))
                .map(crate::report::DeploymentSummary::brief)
                .collect();
            if !deployments.is_empty() {
                let _ = write!(line, " · deployments {}", deployments.join("; "));
            }
            if !service_causes.is_empty() {
                let _ = write!(
                    line,
                    " · service-level root cause {}",
                    service_causes.join(", ")
                );
            }
            lines.push(line);
        }
        if lines.is_empty() {
            lines.push(summary_line(self));
        }
        lines
    }

    /// The rule ids of the service-level root causes of `service`.
    pub(super) fn service_root_causes(&self, service: &str) -> Vec<&str> {
        let mut causes: Vec<&str> = self
            .findings
            .iter()
            .filter(|f| {
                f.task_arn.is_none()
                    && f.verdict == Verdict::RootCause
                    && f.service.as_deref() == Some(service)
            })
            .map(|f| f.rule.as_str())
            .collect();
        causes.dedup();
        causes
    }
}

/// A service is unhealthy when it runs fewer tasks than it wants, a rollout failed or is
/// failing tasks, or its stopped tasks have problems.
fn unhealthy(service: &ServiceSummary) -> bool {
    let short = matches!(
        (service.running_count, service.desired_count),
        (Some(running), Some(desired)) if running < desired
    );
    let failing_rollout = service.deployments.iter().any(|d| {
        d.rollout_state.as_deref() == Some("FAILED")
            || (d.rollout_state.as_deref() != Some("COMPLETED")
                && d.failed_tasks.is_some_and(|n| n > 0))
    });
    let problems = service.stopped_tasks > service.benign;
    short || failing_rollout || problems
}
