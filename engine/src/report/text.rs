//! The text rendering, for a terminal (`color` adds ANSI styles).

use std::fmt::Write as _;

use crate::model::{Finding, Verdict};
use crate::report::{
    Report, TaskVerdict, fact_value, header, summary_line, symptom_suffix, time_of_day,
    timeline_label,
};

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
            Verdict::Contributing | Verdict::Policy => anstyle::AnsiColor::Magenta,
        };
        self.paint(
            anstyle::Style::new().bold().fg_color(Some(color.into())),
            verdict.label(),
        )
    }
}

impl Report {
    /// The text report. Strings from the bundle and the rules are shown with their control
    /// characters escaped (see `escaped`).
    pub fn render_text(&self, color: bool) -> String {
        self.escaped().render_text_escaped(color)
    }

    fn render_text_escaped(&self, color: bool) -> String {
        let p = Palette { on: color };
        if let Some(checked) = &self.checked {
            return self.render_lint_text(checked, &p);
        }
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
        self.render_story_text(&mut out, &p);
        // Newest stop first; a repeat is shown in full at its newest task.
        for task in self.tasks.iter().rev() {
            let repeat = self.repeat_of(&task.task_id);
            if repeat.is_some_and(|r| r.task_ids.last() != Some(&task.task_id)) {
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
                    let exit = container
                        .exit_code
                        .map_or_else(|| "no exit code".to_owned(), crate::model::describe_exit);
                    let reason = container
                        .reason
                        .as_deref()
                        .map(|r| format!("  \"{r}\""))
                        .unwrap_or_default();
                    let _ = writeln!(out, "    container {}: {exit}{reason}", container.name);
                }
                for (i, closest) in task.closest_rules.iter().enumerate() {
                    let label = if i == 0 { "closest" } else { "" };
                    let _ = writeln!(out, "    {label:<8}  {}: {}", closest.rule, closest.reads);
                }
                for step in &task.next_steps {
                    let _ = writeln!(out, "    {:<8}  {}", "next", step.what);
                    if let Some(command) = &step.command {
                        let _ = writeln!(out, "    {:<8}  {command}", "");
                    }
                }
            }
            for finding in mine {
                render_finding_text(&mut out, finding, &p);
            }
            let beyond = [
                (
                    "memory",
                    task.memory
                        .as_ref()
                        .map(super::insights::MemoryHistory::lines),
                ),
                (
                    "stopped by",
                    task.stopped_by
                        .as_ref()
                        .map(super::insights::StoppedBy::lines),
                ),
            ];
            for (label, lines) in beyond {
                for (i, line) in lines.unwrap_or_default().iter().enumerate() {
                    let label = if i == 0 { label } else { "" };
                    let _ = writeln!(out, "  {label:<10}  {line}");
                }
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
        for service in &self.summary.services {
            let Some(table) = &service.error_patterns else {
                continue;
            };
            out.push('\n');
            let _ = writeln!(
                out,
                "{}",
                p.bold(&format!("error patterns of service {}", service.service))
            );
            let _ = writeln!(out, "  {}", table.header());
            if let Some(note) = &table.note {
                let _ = writeln!(out, "  {note}");
            }
            for pattern in &table.patterns {
                let _ = writeln!(out, "  {:>6}  {}", pattern.count, pattern.pattern);
                let _ = writeln!(out, "  {:>6}  {}", "", pattern.detail());
            }
            let _ = writeln!(
                out,
                "  query{}:",
                table
                    .path
                    .as_ref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default()
            );
            for line in table.query.lines() {
                let _ = writeln!(out, "    {line}");
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
        if !self.unexplained_events.is_empty() {
            out.push('\n');
            let _ = writeln!(out, "{}", p.bold("EventBridge events no rule explains"));
            for event in &self.unexplained_events {
                let _ = writeln!(out, "  {}", event.describe());
                let _ = writeln!(out, "    {}", event.next_step());
            }
        }
        self.render_missing_and_errors_text(&mut out, &p);
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
        out
    }

    /// The calls that failed while recording, and the rules that failed: both sections of the
    /// text report and of the lint report.
    fn render_missing_and_errors_text(&self, out: &mut String, p: &Palette) {
        if !self.missing_evidence.is_empty() {
            out.push('\n');
            let _ = writeln!(out, "{}", p.bold("missing evidence"));
            for missing in &self.missing_evidence {
                let grant = if recorder::bundle::is_access_denied(&missing.code) {
                    format!(" (grant {})", missing.iam_action)
                } else {
                    String::new()
                };
                let message = if missing.message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", missing.message)
                };
                let _ = writeln!(
                    out,
                    "  {} {} failed: {}{message}{grant}",
                    missing.service, missing.operation, missing.code
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
    }

    /// The report of `ecs-autopsy lint`: what was checked, then the findings of each task
    /// definition and service, then the rule errors.
    fn render_lint_text(&self, checked: &crate::report::Checked, p: &Palette) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}",
            p.dim(&format!(
                "ecs-autopsy {} · lint · {}",
                self.tool_version,
                crate::report::lint_scope(checked)
            ))
        );
        let mut subject: Option<String> = None;
        for finding in &self.findings {
            let this = crate::report::lint_subject(finding);
            if subject.as_ref() != Some(&this) {
                out.push('\n');
                let _ = writeln!(out, "{}", p.bold(&this));
                subject = Some(this);
            }
            render_finding_text(&mut out, finding, p);
        }
        self.render_missing_and_errors_text(&mut out, p);
        let _ = writeln!(out, "\n{}", crate::report::lint_summary(self, checked));
        out
    }

    /// The opening: what stopped, the top causes ranked, each service's state and deployments.
    fn render_story_text(&self, out: &mut String, p: &Palette) {
        out.push('\n');
        let _ = writeln!(out, "{}", p.bold(&summary_line(self)));
        self.render_causes_text(out);
        let (services, healthy) = self.listed_services();
        for service in services {
            let state = service
                .state()
                .map(|s| format!(" · {s}"))
                .unwrap_or_default();
            let deployments: Vec<String> = service
                .deployments
                .iter()
                .map(crate::report::DeploymentSummary::brief)
                .collect();
            let deployments = if deployments.is_empty() {
                String::new()
            } else {
                format!(" · deployments {}", deployments.join("; "))
            };
            let _ = writeln!(
                out,
                "  service {}: {}{state}{deployments}",
                service.service,
                service.describe()
            );
            if let Some(rollout) = &service.rollout {
                let _ = writeln!(out, "    rollout: {}", rollout.brief());
                for link in &rollout.links {
                    let _ = writeln!(out, "      see {link}");
                }
            }
            for caller in &service.changed_by {
                let _ = writeln!(
                    out,
                    "    {} by {} ({})",
                    caller.event,
                    caller.describe(),
                    caller.path
                );
            }
            let service_causes = self.service_root_causes(&service.service);
            if !service_causes.is_empty() {
                let _ = writeln!(
                    out,
                    "    service-level root cause: {} (below)",
                    service_causes.join(", ")
                );
            }
        }
        if healthy > 0 {
            let _ = writeln!(
                out,
                "  {healthy} other service(s) healthy: all desired tasks running, no failed stop, no deployment under way"
            );
        }
    }

    /// The causes, ranked, at most `TOP_CAUSES` of them; each task below names its own.
    fn render_causes_text(&self, out: &mut String) {
        const TOP_CAUSES: usize = 3;
        let day = self.bundle.recorded_at.get(..10).unwrap_or_default();
        let rows: Vec<[String; 4]> = self
            .summary
            .causes
            .iter()
            .take(TOP_CAUSES)
            .map(|c| {
                [
                    format!("{}×", c.count),
                    c.rule.clone(),
                    c.services.join(", "),
                    c.window(day),
                ]
            })
            .collect();
        let width = |column: usize| {
            rows.iter()
                .map(|r| r[column].chars().count())
                .max()
                .unwrap_or(0)
        };
        let (w0, w1, w2) = (width(0), width(1), width(2));
        for (index, [count, rule, services, window]) in rows.iter().enumerate() {
            let label = if index == 0 { "causes" } else { "" };
            let line =
                format!("  {label:<8}  {count:>w0$}  {rule:<w1$}  {services:<w2$}  {window}");
            let _ = writeln!(out, "{}", line.trim_end());
        }
        let more = self.summary.causes.len().saturating_sub(TOP_CAUSES);
        if more > 0 {
            let _ = writeln!(
                out,
                "            … {more} more cause{} (each task below names its own)",
                if more == 1 { "" } else { "s" }
            );
        }
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
            p.dim(fact.label.as_deref().unwrap_or(&fact.path)),
            fact_value(fact)
        );
    }
    if let Some(hint) = &finding.hint {
        let _ = writeln!(out, "    {:<8}  {hint}", "fix");
    }
    // Built-in rules' pages are a click away in Markdown and `explain RULE` prints them; a
    // team rule's own link is shown.
    if let Some(url) = finding
        .doc_url
        .as_deref()
        .filter(|url| !url.starts_with(crate::model::RULE_DOCS_URL))
    {
        let _ = writeln!(out, "    {:<8}  {url}", "docs");
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
