//! The Markdown rendering, to paste into a ticket. Text from the bundle can add neither links,
//! images nor tags, nor close a code block early.

use std::fmt::Write as _;

use crate::model::{Finding, Verdict};
use crate::report::{
    Report, ServiceSummary, TaskVerdict, fact_value, header, summary_line, symptom_suffix,
    time_of_day, timeline_label,
};

impl Report {
    /// The Markdown report, with control characters escaped as in `render_text`.
    pub fn render_markdown(&self) -> String {
        self.escaped().render_markdown_escaped()
    }

    /// The report of `ecs-autopsy lint`, for a pull request comment.
    fn render_lint_markdown(&self, checked: &crate::report::Checked) -> String {
        let mut out = format!(
            "## ecs-autopsy lint\n\n{}\n\n**{}**\n",
            md_text(&crate::report::lint_scope(checked)),
            md_text(&crate::report::lint_summary(self, checked))
        );
        let mut subject: Option<String> = None;
        for finding in &self.findings {
            let this = crate::report::lint_subject(finding);
            if subject.as_ref() != Some(&this) {
                let _ = writeln!(out, "\n### {}\n", md_text(&this));
                subject = Some(this);
            }
            render_finding_markdown(&mut out, finding);
        }
        if !self.rule_errors.is_empty() {
            out.push_str("\n### Rule errors\n\n");
            for error in &self.rule_errors {
                let _ = writeln!(
                    out,
                    "- `{}`: {}",
                    md_cell(&error.location()),
                    md_text(&error.message)
                );
            }
        }
        out
    }

    fn render_markdown_escaped(&self) -> String {
        if let Some(checked) = &self.checked {
            return self.render_lint_markdown(checked);
        }
        cap(&self.render_markdown_parts(), MARKDOWN_BUDGET)
    }

    /// The bundle's region when it looks like one (`eu-west-1`): it goes into a host name.
    fn region(&self) -> Option<&str> {
        self.bundle.region.as_deref().filter(|region| {
            !region.is_empty()
                && region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
    }

    /// The AWS console page of a task, in the bundle's region.
    fn console_task(&self, arn: &str, id: &str) -> Option<String> {
        let region = self.region()?;
        let cluster = cluster_of(arn).or(self.bundle.cluster.as_deref())?;
        Some(format!(
            "https://{region}.console.aws.amazon.com/ecs/v2/clusters/{}/tasks/{}/configuration?region={region}",
            url_part(cluster),
            url_part(id)
        ))
    }

    /// The AWS console page of a service, in the bundle's region.
    fn console_service(&self, service: &str) -> Option<String> {
        let region = self.region()?;
        let cluster = self.bundle.cluster.as_deref()?;
        if service == "(standalone)" {
            return None;
        }
        Some(format!(
            "https://{region}.console.aws.amazon.com/ecs/v2/clusters/{}/services/{}/health?region={region}",
            url_part(cluster),
            url_part(service)
        ))
    }

    /// The CloudWatch console page of a log stream, in the bundle's region.
    fn console_log_stream(&self, group: &str, stream: &str) -> Option<String> {
        let region = self.region()?;
        // The console encodes each name twice and writes `%` as `$`.
        let twice = |name: &str| url_part(&url_part(name)).replace('%', "$");
        Some(format!(
            "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{}/log-events/{}",
            twice(group),
            twice(stream)
        ))
    }

    /// The report in its sections: the opening, one per task shown, and the closing ones.
    fn render_markdown_parts(&self) -> MarkdownParts {
        let mut out = String::new();
        let _ = writeln!(out, "## ecs-autopsy report\n");
        let _ = writeln!(out, "{}\n", md_text(&header(self)));
        let _ = writeln!(out, "**{}**\n", md_text(&summary_line(self)));
        let (services, healthy) = self.listed_services();
        if !services.is_empty() {
            let mut head = "| service | running | stopped |".to_owned();
            let mut rule = "|---|---|---|".to_owned();
            for (label, _) in ServiceSummary::default().counts() {
                let _ = write!(head, " {label} |");
                rule.push_str("---|");
            }
            let _ = writeln!(out, "{head}\n{rule}");
            for s in &services {
                let mut row = format!(
                    "| {} | {} | {} |",
                    self.console_service(&s.service).map_or_else(
                        || md_cell(&s.service),
                        |url| format!("[{}]({url})", md_text(&s.service))
                    ),
                    md_cell(&s.state().unwrap_or_default()),
                    s.stopped_tasks
                );
                for (_, n) in s.counts() {
                    let _ = write!(row, " {n} |");
                }
                let _ = writeln!(out, "{row}");
            }
            out.push('\n');
        }
        if healthy > 0 {
            let _ = writeln!(
                out,
                "{healthy} other service(s) healthy: all desired tasks running, no failed stop, no deployment under way.\n"
            );
        }
        let deployments: Vec<(&str, &crate::report::DeploymentSummary)> = services
            .iter()
            .flat_map(|s| s.deployments.iter().map(|d| (s.service.as_str(), d)))
            .collect();
        let rollouts: Vec<(&str, &crate::report::Rollout)> = services
            .iter()
            .filter_map(|s| Some((s.service.as_str(), s.rollout.as_ref()?)))
            .collect();
        if !deployments.is_empty() || !rollouts.is_empty() {
            let _ = writeln!(out, "Deployments:\n");
            for (service, deployment) in deployments {
                let _ = writeln!(
                    out,
                    "- `{}`: {}",
                    md_cell(service),
                    md_text(&deployment.describe())
                );
            }
            for (service, rollout) in rollouts {
                let _ = writeln!(
                    out,
                    "- `{}` rollout: {}",
                    md_cell(service),
                    md_text(&rollout.brief())
                );
                for link in &rollout.links {
                    let _ = writeln!(out, "  - see {}", md_text(link));
                }
            }
            out.push('\n');
        }
        for s in &services {
            for caller in &s.changed_by {
                let _ = writeln!(
                    out,
                    "- `{}`: {} by {} (`{}`)",
                    md_cell(&s.service),
                    md_text(&caller.event),
                    md_text(&caller.describe()),
                    md_cell(&caller.path)
                );
            }
            if !s.changed_by.is_empty() {
                out.push('\n');
            }
        }
        for s in &services {
            let Some(table) = &s.error_patterns else {
                continue;
            };
            let _ = writeln!(
                out,
                "Error patterns of `{}`: {}\n",
                md_cell(&s.service),
                md_text(&table.header())
            );
            if let Some(note) = &table.note {
                let _ = writeln!(out, "{}\n", md_text(note));
            }
            if !table.patterns.is_empty() {
                let _ = writeln!(
                    out,
                    "| lines | pattern | when, and which stopped tasks |\n|---|---|---|"
                );
                for pattern in &table.patterns {
                    let _ = writeln!(
                        out,
                        "| {} | `{}` | {} |",
                        pattern.count,
                        md_cell(&pattern.pattern),
                        md_text(&pattern.detail())
                    );
                }
                out.push('\n');
            }
            let fence = md_fence(table.query.lines());
            let _ = writeln!(out, "{fence}text\n{}\n{fence}\n", table.query);
        }
        if !self.summary.causes.is_empty() {
            let _ = writeln!(
                out,
                "| cause | stopped tasks | services | when |\n|---|---|---|---|"
            );
            for cause in &self.summary.causes {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    md_cell(&cause.rule),
                    cause.count,
                    md_cell(&cause.services.join(", ")),
                    md_cell(&cause.window(self.bundle.recorded_at.get(..10).unwrap_or_default()))
                );
            }
            out.push('\n');
        }
        let head = std::mem::take(&mut out);
        let mut tasks = Vec::new();
        // Newest stop first; a repeat is shown in full at its newest task.
        for task in self.tasks.iter().rev() {
            let repeat = self.repeat_of(&task.task_id);
            if repeat.is_some_and(|r| r.task_ids.last() != Some(&task.task_id)) {
                continue;
            }
            let console = self
                .console_task(&task.task_arn, &task.task_id)
                .map(|url| format!(" · [console]({url})"))
                .unwrap_or_default();
            let _ = writeln!(out, "### Task `{}`{console}\n", md_cell(&task.task_id));
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
                let exit = container
                    .exit_code
                    .map_or_else(|| "no exit code".to_owned(), crate::model::describe_exit);
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
            let logs: Vec<String> = task
                .log_streams
                .iter()
                .filter_map(|(group, stream)| {
                    let url = self.console_log_stream(group, stream)?;
                    Some(format!("[{}]({url})", md_text(stream)))
                })
                .collect();
            if !logs.is_empty() {
                let _ = writeln!(out, "Logs: {}\n", logs.join(", "));
            }
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
                if !task.closest_rules.is_empty() {
                    let _ = writeln!(out, "Closest rules, and what each would have needed:\n");
                    for closest in &task.closest_rules {
                        let _ = writeln!(out, "- `{}`: {}", closest.rule, closest.reads);
                    }
                    out.push('\n');
                }
                if !task.next_steps.is_empty() {
                    let _ = writeln!(out, "Next steps:\n");
                    for step in &task.next_steps {
                        let _ = writeln!(out, "- {}", md_text(&step.what));
                        if let Some(command) = &step.command {
                            let fence = md_fence([command.as_str()]);
                            let _ = writeln!(out, "\n  {fence}sh\n  {command}\n  {fence}");
                        }
                    }
                    out.push('\n');
                }
            }
            for finding in mine {
                render_finding_markdown(&mut out, finding);
            }
            let beyond = [
                (
                    "Memory",
                    task.memory
                        .as_ref()
                        .map(super::insights::MemoryHistory::lines),
                ),
                (
                    "Stopped by",
                    task.stopped_by
                        .as_ref()
                        .map(super::insights::StoppedBy::lines),
                ),
            ];
            for (label, lines) in beyond {
                let Some(lines) = lines.filter(|l| !l.is_empty()) else {
                    continue;
                };
                let _ = writeln!(out, "**{label}:** {}\n", md_text(&lines[0]));
                for line in &lines[1..] {
                    let _ = writeln!(out, "- {}", md_text(line));
                }
                if lines.len() > 1 {
                    out.push('\n');
                }
            }
            render_timeline_markdown(&mut out, &task.timeline);
            tasks.push(std::mem::take(&mut out));
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
        if !self.unexplained_events.is_empty() {
            let _ = writeln!(out, "### EventBridge events no rule explains\n");
            for event in &self.unexplained_events {
                let _ = writeln!(
                    out,
                    "- {}: {}",
                    md_cell(&event.describe()),
                    md_cell(&event.next_step())
                );
            }
            out.push('\n');
        }
        if !self.missing_evidence.is_empty() {
            let _ = writeln!(out, "### Missing evidence\n");
            for missing in &self.missing_evidence {
                let grant = if recorder::bundle::is_access_denied(&missing.code) {
                    format!(" (grant `{}`)", md_cell(&missing.iam_action))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "- `{} {}` failed with `{}`{}{grant}",
                    md_cell(&missing.service),
                    md_cell(&missing.operation),
                    md_cell(&missing.code),
                    if missing.message.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", md_text(&missing.message))
                    }
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
        MarkdownParts {
            head,
            tasks,
            tail: out,
        }
    }
}

fn render_finding_markdown(out: &mut String, finding: &Finding) {
    let verdict = match finding.verdict {
        Verdict::RootCause => "Root cause",
        Verdict::Symptom => "Symptom",
        Verdict::Benign => "Benign",
        Verdict::Info => "Info",
        Verdict::Contributing => "Contributing",
        Verdict::Policy => "Policy",
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
                md_cell(fact.label.as_deref().unwrap_or(&fact.path)),
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
pub fn md_text(text: &str) -> String {
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

/// GitHub refuses comments over 65,536 characters; the report stays under this.
const MARKDOWN_BUDGET: usize = 60_000;

/// The cluster name in a task ARN of the long format (`…:task/CLUSTER/ID`).
fn cluster_of(arn: &str) -> Option<&str> {
    let (_, path) = arn.split_once(":task/")?;
    let (cluster, _) = path.split_once('/')?;
    Some(cluster)
}

/// `text` percent-encoded for a URL path segment or query value.
pub(super) fn url_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// A Markdown report in the sections `cap` keeps or leaves out.
struct MarkdownParts {
    head: String,
    tasks: Vec<String>,
    tail: String,
}

/// The report within `budget` characters: the opening and the closing sections (revision
/// diffs, service-level findings, missing evidence, rule errors) are kept, and task sections
/// from the newest until the budget is spent, with a line saying how many were left out and
/// where the rest is. Past that, the report is cut at a line, outside any code block.
fn cap(parts: &MarkdownParts, budget: usize) -> String {
    let size = |text: &str| text.chars().count();
    let whole =
        size(&parts.head) + parts.tasks.iter().map(|t| size(t)).sum::<usize>() + size(&parts.tail);
    if whole <= budget {
        return format!("{}{}{}", parts.head, parts.tasks.concat(), parts.tail);
    }
    let note = |left: usize| {
        format!(
            "**{left} more task section(s) left out** to stay under GitHub's comment limit: `--format json` or the bundle has every task.\n\n"
        )
    };
    let reserve = size(&note(parts.tasks.len())) + size(&parts.tail);
    let mut out = parts.head.clone();
    let mut shown = 0;
    for task in &parts.tasks {
        if size(&out) + size(task) + reserve > budget {
            break;
        }
        out.push_str(task);
        shown += 1;
    }
    if shown < parts.tasks.len() {
        out.push_str(&note(parts.tasks.len() - shown));
    }
    out.push_str(&parts.tail);
    if size(&out) <= budget {
        return out;
    }
    // Even the opening and closing sections are too long: cut at a line, close any code block.
    let marker = "\n**Cut here** to stay under GitHub's comment limit: `--format json` or the bundle has everything.\n";
    let mut cut = String::new();
    let mut fence: Option<String> = None;
    for line in out.lines() {
        if size(&cut) + size(line) + 1 + size(marker) + 16 > budget {
            break;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            let ticks: String = trimmed.chars().take_while(|c| *c == '`').collect();
            match &fence {
                Some(open) if ticks.len() >= open.len() && trimmed.trim_end() == ticks => {
                    fence = None;
                }
                Some(_) => {}
                None => fence = Some(ticks),
            }
        }
        cut.push_str(line);
        cut.push('\n');
    }
    if let Some(open) = fence {
        cut.push_str(&open);
        cut.push('\n');
    }
    cut.push_str(marker);
    cut
}

#[cfg(test)]
mod tests {
    use super::{MarkdownParts, cap};

    #[test]
    fn a_report_over_budget_keeps_its_ends_and_never_leaves_a_code_block_open() {
        let parts = |head: &str, tasks: Vec<String>, tail: &str| MarkdownParts {
            head: head.to_owned(),
            tasks,
            tail: tail.to_owned(),
        };
        let head = "## report\n\n**summary**\n\n";
        // A log line that looks like a heading stays inside its task section.
        let task = |n: usize| {
            format!(
                "### Task `{n}`\n\n```text\n### not a heading\n{}\n```\n\n",
                "x".repeat(100)
            )
        };
        let tail = "### Service-level findings\n\nthe breaker\n";
        let report = parts(head, (0..20).map(task).collect(), tail);
        let capped = cap(&report, 1_000);
        assert!(capped.chars().count() <= 1_000, "{capped}");
        assert!(
            capped.starts_with(head) && capped.ends_with(tail),
            "{capped}"
        );
        assert!(capped.contains("### Task `0`"));
        assert!(capped.contains("more task section(s) left out"));
        assert_eq!(capped.matches("```").count() % 2, 0);
        // The opening alone over budget: cut at a line, the open block closed.
        let long = parts(
            &format!("## report\n\n```text\n{}```\n", "line\n".repeat(1_000)),
            Vec::new(),
            "",
        );
        let cut = cap(&long, 500);
        assert!(cut.chars().count() <= 500, "{}", cut.len());
        assert_eq!(cut.matches("```").count() % 2, 0, "{cut}");
        assert!(cut.ends_with("has everything.\n"));
        // Under budget: unchanged.
        let whole = format!("{head}{}{tail}", report.tasks.concat());
        assert_eq!(cap(&report, 100_000), whole);
    }
}
