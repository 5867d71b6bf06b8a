//! ecs-autopsy's engine: turns a bundle into a report by running every rule.
//!
//! Data flows one way: `recorder::Bundle` → `evidence::Evidence` → rules (`rule`, run by
//! `runtime`) → `report::Report` → text, JSON or Markdown. The engine takes values and returns
//! values: it reads no file, no environment variable and no clock, prints nothing, and never
//! talks to AWS. The `ecs-autopsy` binary (`engine/cli`) does all of that around it.
//!
//! The modules form a one-way graph, checked by `cargo xtask tidy`: `model` is a leaf of plain
//! data; `evidence` builds on the bundle; `runtime` on the evidence and `model`; `rule` on the
//! runtime; `report` on the evidence and `model`, never on the runtime or the rule loader.
//! `classify` (wording families) and `analysis` (memory series, log patterns) are leaves of
//! plain functions.

pub mod analysis;
pub mod classify;
pub mod diff;
pub mod evidence;
#[doc(hidden)]
pub mod fuzzing;
pub mod model;
pub mod report;
pub mod rule;
pub mod runtime;
pub mod taxonomy;
pub mod timeline;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::evidence::Evidence;
use crate::model::{Finding, RuleError, Subject, Verdict};
use crate::report::Report;
use crate::rule::{Rule, RuleSet};
use crate::runtime::ScriptFinding;

/// Runs every rule of the set over the evidence. Never fails: a rule that errors becomes a
/// rule error in the report and the other rules still run.
///
/// Configuration checks (rules with `checks`) do not run here: `lint` runs them.
pub fn diagnose(evidence: &Evidence, rules: &RuleSet) -> Report {
    let picked: Vec<&Rule> = rules
        .rules
        .iter()
        .filter(|rule| !rule.meta.checks_configuration())
        .collect();
    let (findings, rule_errors) = run_picked(evidence, rules, &picked);
    let mut report = Report::build(evidence, findings, rule_errors, &rules.notes());
    add_load_errors(&mut report, rules);
    report
}

/// Runs the configuration checks (rules with `checks`) over the task definitions and services
/// of the evidence, with no stopped task needed: what `ecs-autopsy lint` reports. A rule that
/// fails to load or to run makes the report's status `error`: a check that did not run has
/// not passed.
pub fn lint(evidence: &Evidence, rules: &RuleSet) -> Report {
    let picked: Vec<&Rule> = rules
        .rules
        .iter()
        .filter(|rule| rule.meta.checks_configuration())
        .collect();
    let (findings, rule_errors) = run_picked(evidence, rules, &picked);
    let checked = report::Checked {
        rules: picked.iter().map(|rule| rule.meta.id.clone()).collect(),
        task_definitions: evidence
            .task_definitions
            .iter()
            .map(|record| evidence::revision_name(&record.definition))
            .collect(),
        services: evidence
            .services
            .iter()
            .filter_map(|service| service.value.service_name.clone())
            .collect(),
    };
    let mut report = Report::build_lint(evidence, findings, rule_errors, &rules.notes(), checked);
    add_load_errors(&mut report, rules);
    report
}

fn run_picked(
    evidence: &Evidence,
    rules: &RuleSet,
    picked: &[&Rule],
) -> (Vec<Finding>, Vec<RuleError>) {
    let mut findings = Vec::new();
    let mut rule_errors = Vec::new();
    for (rule, outcome) in picked.iter().zip(run_rules(evidence, rules, picked)) {
        match outcome {
            Ok(script_findings) => {
                findings.extend(
                    script_findings
                        .into_iter()
                        .map(|f| to_finding(evidence, rule, f)),
                );
            }
            Err(error) => rule_errors.push(error),
        }
    }
    (findings, rule_errors)
}

/// The report says it is incomplete, in every format, rather than look clean.
fn add_load_errors(report: &mut Report, rules: &RuleSet) {
    if !rules.errors.is_empty() {
        let load_errors = rules.errors.iter().map(load_error);
        report.rule_errors.splice(0..0, load_errors);
        report.status = report::Status::Error;
    }
}

/// A rule that could not be loaded, as the report lists it.
fn load_error(error: &rule::RuleLoadError) -> RuleError {
    let stem = |file: &str| {
        std::path::Path::new(file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    match error {
        rule::RuleLoadError::At {
            file,
            line,
            column,
            message,
        } => RuleError {
            rule: stem(file),
            file: file.clone(),
            message: format!("{}{message}", RuleError::LOAD_PREFIX),
            position: Some(format!("{line}:{column}")),
        },
        rule::RuleLoadError::File { file, message } => RuleError {
            rule: stem(file),
            file: file.clone(),
            message: format!("{}{message}", RuleError::LOAD_PREFIX),
            position: None,
        },
        rule::RuleLoadError::DuplicateId { id, first, second } => RuleError {
            rule: id.clone(),
            file: second.clone(),
            message: format!(
                "{}duplicate rule id `{id}` (also in {first})",
                RuleError::LOAD_PREFIX
            ),
            position: None,
        },
    }
}

type Outcome = Result<Vec<ScriptFinding>, RuleError>;

/// Runs every rule, spread over the machine's cores (rules are independent and only read the
/// shared evidence). The outcomes come back in rule order, so the report does not depend on
/// which thread ran what.
fn run_rules(evidence: &Evidence, set: &RuleSet, rules: &[&Rule]) -> Vec<Outcome> {
    let run = |rule: &Rule| {
        let started = std::time::Instant::now();
        let outcome =
            runtime::run_check(set.engine(), &rule.ast, evidence, set.limits()).map_err(|error| {
                RuleError {
                    rule: rule.meta.id.clone(),
                    // An error raised in a rule library is located there; its message says
                    // where the rule called it.
                    file: error.library.unwrap_or_else(|| rule.origin.to_string()),
                    message: error.message,
                    position: error.position,
                }
            });
        match &outcome {
            Ok(found) => {
                tracing::debug!(rule = %rule.meta.id, findings = found.len(), elapsed = ?started.elapsed(), "rule ran");
            }
            Err(error) => {
                tracing::debug!(rule = %rule.meta.id, error = %error.message, "rule failed");
            }
        }
        outcome
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(rules.len());
    if threads <= 1 {
        return rules.iter().map(|rule| run(rule)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut outcomes: Vec<Option<Outcome>> = rules.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(rule) = rules.get(index) else {
                            break;
                        };
                        done.push((index, run(rule)));
                    }
                    done
                })
            })
            .collect();
        for worker in workers {
            // A worker that panicked leaves its rules without an outcome; they are reported below.
            for (index, outcome) in worker.join().unwrap_or_default() {
                outcomes[index] = Some(outcome);
            }
        }
    });
    outcomes
        .into_iter()
        .zip(rules)
        .map(|(outcome, rule)| {
            outcome.unwrap_or_else(|| {
                Err(RuleError {
                    rule: rule.meta.id.clone(),
                    file: rule.origin.to_string(),
                    message: "the rule was not run: an internal error stopped its thread"
                        .to_owned(),
                    position: None,
                })
            })
        })
        .collect()
}

/// The fact with the value the bundle holds at its path, whatever the rule put in it: an
/// evidence line is always true. A path into the bundle where nothing is becomes `null`
/// (shown as absent); a path the view cannot read keeps the rule's value. The label says what
/// the cited call is, for a person.
fn held(evidence: &Evidence, fact: model::Fact) -> model::Fact {
    let value = match evidence.held(&fact.path) {
        evidence::Held::Value(value) => value,
        evidence::Held::Absent => serde_json::Value::Null,
        evidence::Held::Unknown => fact.value,
    };
    model::Fact {
        label: evidence.label(&fact.path),
        path: fact.path,
        value,
    }
}

/// The facts with the values the bundle holds, each path once (the first time it is cited).
fn true_facts(evidence: &Evidence, facts: Vec<model::Fact>) -> Vec<model::Fact> {
    let mut seen = std::collections::HashSet::new();
    facts
        .into_iter()
        .filter(|fact| seen.insert(fact.path.clone()))
        .map(|fact| held(evidence, fact))
        .collect()
}

/// The documentation page of a built-in rule, in the repository; `None` for team rules.
fn builtin_doc_url(rule: &Rule) -> Option<String> {
    match &rule.origin {
        rule::RuleOrigin::Builtin(_) => {
            Some(format!("{}{}.md", model::RULE_DOCS_URL, rule.meta.id))
        }
        rule::RuleOrigin::File(_) => None,
    }
}

fn to_finding(evidence: &Evidence, rule: &Rule, finding: ScriptFinding) -> Finding {
    let mut task_definition = None;
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
        Subject::Failure(_) => (None, None, None),
        Subject::Event(index) => (
            None,
            evidence.ecs_events[index]
                .value
                .service_name()
                .map(str::to_owned),
            None,
        ),
        Subject::TaskDefinition {
            definition,
            container,
        } => {
            task_definition = Some(evidence::revision_name(
                &evidence.task_definitions[definition].definition,
            ));
            (None, None, container)
        }
    };
    let benign = rule.meta.benign && !finding.problem;
    let verdict = if benign {
        Verdict::Benign
    } else if rule.meta.kind == rule::RuleKind::Policy {
        Verdict::Policy
    } else if rule.meta.kind == rule::RuleKind::Contributing {
        Verdict::Contributing
    } else if finding.symptom {
        Verdict::Symptom
    } else {
        Verdict::RootCause
    };
    Finding {
        rule: rule.meta.id.clone(),
        category: rule.meta.category.clone(),
        severity: if rule.meta.benign && !benign {
            model::Severity::Error
        } else {
            rule.meta.severity
        },
        verdict,
        task_arn,
        service,
        task_definition,
        container,
        message: finding.message,
        evidence: true_facts(evidence, finding.evidence),
        hint: finding.hint,
        doc_url: finding.doc_url.or_else(|| builtin_doc_url(rule)),
        symptom_of: None,
        contributes_to: None,
        caused_by_task: finding
            .caused_by
            .and_then(|index| evidence.tasks.get(index))
            .and_then(|record| record.task.task_arn.clone()),
    }
}
