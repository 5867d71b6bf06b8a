//! What `explain`, `rules docs` and `cargo xtask docs` print about rules.

use std::fmt::Write as _;

use crate::rule::{Rule, RuleOrigin};

/// The text `explain` prints: title, metadata line and the rule's docs.
pub fn render_docs(rule: &Rule) -> String {
    let meta = &rule.meta;
    let mut out = format!("# {}: {}\n\n", meta.id, meta.title);
    let _ = write!(
        out,
        "severity: {} · category: {} · benign: {}{}{}{}\n\n",
        meta.severity,
        meta.category,
        if meta.benign { "yes" } else { "no" },
        match meta.kind {
            super::RuleKind::Cause => "",
            super::RuleKind::Contributing => " · kind: contributing",
            super::RuleKind::Policy => " · kind: policy",
        },
        if meta.checks.is_empty() {
            String::new()
        } else {
            let checks: Vec<&str> = meta
                .checks
                .iter()
                .map(|check| match check {
                    super::Check::TaskDefinition => "task-definition",
                    super::Check::Service => "service",
                })
                .collect();
            format!(" · checks: {} (lint)", checks.join(", "))
        },
        if meta.needs.is_empty() {
            String::new()
        } else {
            format!(" · needs: {}", meta.needs.join(", "))
        }
    );
    out.push_str(&rule.docs);
    out
}

/// The rule table: id (linked to `<link_prefix><id>.md`), title and severity.
pub fn render_docs_index(rules: &[Rule], link_prefix: &str) -> String {
    let mut out = String::from("| rule | what it diagnoses | severity |\n|---|---|---|\n");
    for rule in rules {
        let link = format!("{link_prefix}{}.md", rule.meta.id);
        out.push_str(&table_row(rule, &link, None));
    }
    out
}

/// `| [`id`](link) | title (benign) | severity |`, and the source when given.
fn table_row(rule: &Rule, link: &str, source: Option<&RuleOrigin>) -> String {
    let benign = if rule.meta.benign { " (benign)" } else { "" };
    let source = source.map(|s| format!(" `{s}` |")).unwrap_or_default();
    format!(
        "| [`{id}`]({link}) | {title}{benign} | {severity} |{source}\n",
        id = rule.meta.id,
        title = rule.meta.title,
        severity = rule.meta.severity
    )
}

/// Every rule's docs in one Markdown document: a table of contents, then one section per
/// rule, its headings one level down.
pub fn render_docs_book(rules: &[Rule]) -> String {
    let mut out = String::from(
        "# Rules\n\n| rule | what it diagnoses | severity | source |\n|---|---|---|---|\n",
    );
    for rule in rules {
        let link = format!("#{}", rule.meta.id);
        out.push_str(&table_row(rule, &link, Some(&rule.origin)));
    }
    for rule in rules {
        let _ = write!(out, "\n<a id=\"{}\"></a>\n\n", rule.meta.id);
        let mut in_code = false;
        for line in render_docs(rule).lines() {
            if line.starts_with("```") {
                in_code = !in_code;
            }
            if !in_code && line.starts_with('#') {
                out.push('#');
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
