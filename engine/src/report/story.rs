//! The story a report opens with: each service's state (counts, deployments and how their
//! rollouts went) and the causes ranked by how often and how recently they stopped tasks.

use recorder::time::Timestamp;

use crate::evidence::View;
use crate::report::{Cause, DeploymentSummary, ServiceSummary, TaskSummary, TaskVerdict};

/// A cause whose last stop is this close to the recording time is still happening.
const RECENT_MILLIS: i64 = 5 * 60 * 1000;

/// Adds each service's counts and deployments to its summary, and a summary for every service
/// the bundle describes that lost no task.
pub(super) fn add_service_state(evidence: &View, services: &mut Vec<ServiceSummary>) {
    for record in &evidence.services {
        let service = &record.value;
        let Some(name) = service.service_name.as_deref() else {
            continue;
        };
        let index = services
            .iter()
            .position(|s| s.service == name)
            .unwrap_or_else(|| {
                services.push(ServiceSummary {
                    service: name.to_owned(),
                    ..ServiceSummary::default()
                });
                services.len() - 1
            });
        let summary = &mut services[index];
        summary.desired_count = service.desired_count;
        summary.running_count = service.running_count;
        summary.pending_count = service.pending_count;
        summary.deployments = service
            .deployments
            .iter()
            .map(|d| DeploymentSummary {
                id: d.id.clone(),
                status: d.status.clone(),
                task_definition: d.task_definition.as_deref().map(revision_of),
                rollout_state: d.rollout_state.clone(),
                rollout_state_reason: d.rollout_state_reason.clone(),
                desired_count: d.desired_count,
                running_count: d.running_count,
                failed_tasks: d.failed_tasks,
            })
            .collect();
        summary.steady_at = service
            .events
            .iter()
            .filter(|e| {
                e.message
                    .as_deref()
                    .is_some_and(|m| m.contains("has reached a steady state"))
            })
            .filter_map(|e| e.created_at.map(|t| t.0))
            .max()
            .map(|t| t.to_string());
    }
    services.sort_by(|a, b| a.service.cmp(&b.service));
}

/// `family:revision` of a task-definition ARN.
fn revision_of(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

/// The root causes of the stopped tasks (and `undiagnosed`), most stops first, then the most
/// recent last stop. A cause is still happening when its last stop is within five minutes of
/// the recording, or when a service it stopped has not reached a steady state since.
pub(super) fn causes(
    tasks: &[TaskSummary],
    services: &[ServiceSummary],
    recorded_at: Option<Timestamp>,
) -> Vec<Cause> {
    let mut causes: Vec<Cause> = Vec::new();
    for task in tasks {
        let rule = match (task.verdict, &task.root_cause) {
            (TaskVerdict::Diagnosed, Some(rule)) => rule.clone(),
            (TaskVerdict::Undiagnosed, _) => "undiagnosed".to_owned(),
            _ => continue,
        };
        let index = causes
            .iter()
            .position(|c| c.rule == rule)
            .unwrap_or_else(|| {
                causes.push(Cause {
                    rule,
                    count: 0,
                    services: Vec::new(),
                    first_stopped_at: None,
                    last_stopped_at: None,
                    still_happening: false,
                });
                causes.len() - 1
            });
        let cause = &mut causes[index];
        cause.count += 1;
        let service = task
            .service
            .clone()
            .unwrap_or_else(|| "(standalone)".to_owned());
        if !cause.services.contains(&service) {
            cause.services.push(service);
        }
        if let Some(at) = &task.stopped_at {
            if cause
                .first_stopped_at
                .as_ref()
                .is_none_or(|first| at < first)
            {
                cause.first_stopped_at = Some(at.clone());
            }
            if cause.last_stopped_at.as_ref().is_none_or(|last| at > last) {
                cause.last_stopped_at = Some(at.clone());
            }
        }
    }
    for cause in &mut causes {
        cause.services.sort();
        let last = cause
            .last_stopped_at
            .as_deref()
            .and_then(Timestamp::parse_iso);
        let recent = match (last, recorded_at) {
            (Some(last), Some(recorded)) => recorded.millis - last.millis <= RECENT_MILLIS,
            _ => false,
        };
        let unsteady = cause.services.iter().any(|name| {
            services.iter().any(|s| {
                s.service == *name
                    && !s.deployments.is_empty()
                    && match (&s.steady_at, &cause.last_stopped_at) {
                        (Some(steady), Some(last)) => steady < last,
                        (None, _) => true,
                        (Some(_), None) => false,
                    }
            })
        });
        cause.still_happening = recent || unsteady;
    }
    causes.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| b.last_stopped_at.cmp(&a.last_stopped_at))
            .then_with(|| a.rule.cmp(&b.rule))
    });
    causes
}
