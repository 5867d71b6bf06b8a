//! Ranking: one root cause per task (the taxonomy's precedence), symptoms linked to the root
//! cause they follow from, tasks that stopped the same way, revision diffs and the per-service
//! split.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::evidence::Evidence;
use crate::model::{Finding, Severity, Verdict};
use crate::report::{Repeat, Revision, ServiceSummary, TaskSummary, TaskVerdict};

/// Gives each finding its verdict. Per subject (task or service), the finding first in the
/// taxonomy's precedence that is neither benign nor marked a symptom is the root cause; the
/// others are symptoms.
pub(super) fn rank(findings: &mut [Finding]) {
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

/// Points every symptom at its root cause: the root cause of the task the rule named with
/// `.caused_by(task)`, else of the same task, else of the same service; a service-level symptom with no service-level root cause (a circuit-breaker
/// rollback) points at the most common root cause among that service's stopped tasks.
pub(super) fn link_symptoms(findings: &mut [Finding], tasks: &[TaskSummary]) {
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
        if finding.verdict == Verdict::Contributing {
            finding.contributes_to = match (&finding.task_arn, &finding.service) {
                (Some(arn), _) => task_root.get(arn).cloned(),
                (None, Some(service)) => service_root.get(service).cloned(),
                (None, None) => None,
            };
            continue;
        }
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
pub(super) fn repeats(tasks: &[TaskSummary]) -> Vec<Repeat> {
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
pub(super) fn revisions(evidence: &Evidence) -> Vec<Revision> {
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
            &evidence.task_definitions[previous].loc.path(),
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
pub(super) fn service_summaries(tasks: &[TaskSummary]) -> Vec<ServiceSummary> {
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
