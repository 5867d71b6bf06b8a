//! ecs-autopsy's engine: turns a bundle into findings by running every rule.
//!
//! Data flows one way: `recorder::Bundle` → `evidence::Evidence` → rules (`runtime`) →
//! `report::Report` → text, JSON or Markdown. Nothing here talks to AWS.

pub mod case;
pub mod config;
pub mod diff;
pub mod evidence;
pub mod input;
pub mod inspect;
pub mod report;
pub mod rule;
pub mod runtime;
pub mod scaffold;
pub mod taxonomy;
pub mod timeline;

use std::sync::Arc;

use rhai::Engine;

use crate::evidence::Evidence;
use crate::report::{Finding, Report, RuleNotes, Verdict};
use crate::rule::Rule;
use crate::runtime::{Limits, Subject};

/// Runs every rule over the evidence. Never fails: a rule that errors becomes a rule error
/// in the report and the other rules still run.
pub fn diagnose(
    engine: &Engine,
    evidence: &Arc<Evidence>,
    rules: &[Rule],
    limits: &Limits,
    notes: &RuleNotes,
) -> Report {
    let mut findings = Vec::new();
    let mut rule_errors = Vec::new();
    for rule in rules {
        let started = std::time::Instant::now();
        match runtime::run_check(engine, rule, evidence, limits) {
            Ok(script_findings) => {
                tracing::debug!(rule = %rule.meta.id, findings = script_findings.len(), elapsed = ?started.elapsed(), "rule ran");
                findings.extend(
                    script_findings
                        .into_iter()
                        .map(|f| to_finding(evidence, rule, f)),
                );
            }
            Err(error) => {
                tracing::debug!(rule = %rule.meta.id, error = %error.message, "rule failed");
                rule_errors.push(error);
            }
        }
    }
    Report::build(evidence, findings, rule_errors, notes)
}

fn to_finding(evidence: &Evidence, rule: &Rule, finding: runtime::ScriptFinding) -> Finding {
    let (task_arn, service, container) = match finding.subject {
        Subject::Task { task, container } => {
            let record = &evidence.tasks[task];
            let service = record
                .task
                .group
                .as_deref()
                .and_then(|g| g.strip_prefix("service:"))
                .map(str::to_owned);
            (record.task.task_arn.clone(), service, container)
        }
        Subject::Service(index) => (
            None,
            evidence.services[index].value.service_name.clone(),
            None,
        ),
    };
    let verdict = if rule.meta.benign {
        Verdict::Benign
    } else if finding.symptom {
        Verdict::Symptom
    } else {
        Verdict::RootCause
    };
    Finding {
        rule: rule.meta.id.clone(),
        category: rule.meta.category.clone(),
        severity: rule.meta.severity,
        verdict,
        task_arn,
        service,
        container,
        message: finding.message,
        evidence: finding.evidence,
        hint: finding.hint,
        doc_url: finding.doc_url,
        symptom_of: None,
        caused_by_task: finding
            .caused_by
            .and_then(|index| evidence.tasks.get(index))
            .and_then(|record| record.task.task_arn.clone()),
    }
}
