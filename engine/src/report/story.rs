//! The story a report opens with: each service's state (counts, deployments and how their
//! rollouts went) and the causes ranked by how often and how recently they stopped tasks.

use recorder::time::Timestamp;

use crate::evidence::View;
use crate::report::{Cause, DeploymentSummary, Rollout, ServiceSummary, TaskSummary, TaskVerdict};

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
    for summary in services.iter_mut() {
        summary.rollout = rollout(evidence, &summary.service);
    }
    services.sort_by(|a, b| a.service.cmp(&b.service));
}

/// The story of the service's latest deployment in the bundle's deployment record.
fn rollout(evidence: &View, service: &str) -> Option<Rollout> {
    // Newest first: the view sorts them so.
    let located = evidence
        .service_deployments
        .iter()
        .find(|d| d.value.service_name() == Some(service))?;
    let deployment = &located.value;
    let task_definition_of = |revision: Option<&str>| {
        let revision = revision?;
        evidence
            .service_revisions
            .iter()
            .find(|r| r.value.service_revision_arn.as_deref() == Some(revision))
            .and_then(|r| r.value.task_definition.as_deref())
            .map(revision_of)
    };
    let target = deployment
        .target_service_revision
        .as_ref()
        .and_then(|r| r.arn.clone());
    let status = deployment.status.clone().unwrap_or_default();
    let rolled_back = status.starts_with("ROLLBACK") || deployment.rollback.is_some();
    let back = rolled_back
        .then(|| {
            deployment
                .rollback
                .as_ref()
                .and_then(|r| r.service_revision_arn.clone())
                .or_else(|| {
                    deployment
                        .source_service_revisions
                        .first()
                        .and_then(|r| r.arn.clone())
                })
        })
        .flatten();
    // The console opens the alarm in the bundle's Region; without one, in the user's default.
    let region = evidence
        .manifest
        .region
        .as_deref()
        .map(|region| format!("?region={}", super::markdown::url_part(region)))
        .unwrap_or_default();
    let triggered: Vec<String> = deployment
        .alarms
        .as_ref()
        .map(|a| a.triggered_alarm_names.clone())
        .unwrap_or_default();
    let failed_hooks: Vec<&recorder::model::LifecycleHookDetail> = deployment
        .lifecycle_hook_details
        .iter()
        .filter(|h| matches!(h.status.as_deref(), Some("FAILED" | "TIMED_OUT")))
        .collect();
    let breaker = deployment
        .deployment_circuit_breaker
        .as_ref()
        .filter(|b| b.status.as_deref() == Some("TRIGGERED"));
    let failed = rolled_back || matches!(status.as_str(), "STOPPED" | "STOP_REQUESTED");
    let (cause, detail) = if !failed {
        (None, None)
    } else if !triggered.is_empty() {
        (
            Some("alarm"),
            Some(format!(
                "CloudWatch alarm {} went off",
                triggered.join(", ")
            )),
        )
    } else if let Some(hook) = failed_hooks.first() {
        let at = deployment
            .lifecycle_stage
            .as_deref()
            .map(|stage| format!(" at {stage}"))
            .unwrap_or_default();
        let which = match (hook.target_arn.as_deref(), hook.target_type.as_deref()) {
            (Some(target), _) => format!("lifecycle hook {target}"),
            (None, Some(kind)) => format!(
                "{kind} lifecycle hook {}",
                hook.hook_id.as_deref().unwrap_or_default()
            ),
            (None, None) => format!(
                "lifecycle hook {}",
                hook.hook_id.as_deref().unwrap_or_default()
            ),
        };
        (
            Some("lifecycle-hook"),
            Some(format!(
                "{} {}{at}",
                which.trim_end(),
                hook.status.as_deref().unwrap_or_default()
            )),
        )
    } else if let Some(breaker) = breaker {
        let counts = match (breaker.failure_count, breaker.threshold) {
            (Some(failures), Some(threshold)) => {
                format!(" after {failures} failed tasks (threshold {threshold})")
            }
            _ => String::new(),
        };
        (
            Some("circuit-breaker"),
            Some(format!("the circuit breaker tripped{counts}")),
        )
    } else if matches!(
        status.as_str(),
        "STOPPED" | "STOP_REQUESTED" | "ROLLBACK_REQUESTED"
    ) || deployment.stopped_at.is_some()
    {
        (
            Some("manual"),
            Some("it was stopped or rolled back by request (StopServiceDeployment)".to_owned()),
        )
    } else {
        (
            None,
            deployment
                .rollback
                .as_ref()
                .and_then(|r| r.reason.clone())
                .or_else(|| deployment.status_reason.clone()),
        )
    };
    let mut links: Vec<String> = triggered
        .iter()
        .map(|alarm| {
            format!(
                "https://console.aws.amazon.com/cloudwatch/home{region}#alarmsV2:alarm/{}",
                super::markdown::url_part(alarm)
            )
        })
        .collect();
    links.extend(
        failed_hooks
            .iter()
            .filter_map(|hook| hook_log_group(hook.target_arn.as_deref()?)),
    );
    Some(Rollout {
        deployment: deployment
            .service_deployment_arn
            .clone()
            .unwrap_or_default(),
        strategy: deployment.strategy().to_owned(),
        status,
        status_reason: deployment.status_reason.clone(),
        target_task_definition: task_definition_of(target.as_deref()),
        target_revision: target,
        rolled_back_to_task_definition: task_definition_of(back.as_deref()),
        rolled_back_to: back,
        cause: cause.map(str::to_owned),
        detail,
        alarms: triggered,
        hooks: failed_hooks
            .iter()
            .filter_map(|h| h.target_arn.clone())
            .collect(),
        links,
        path: located.loc.path(),
    })
}

/// A Lambda hook's log group: `/aws/lambda/<function>` (its default; a function can log
/// elsewhere). Only for a Lambda ARN.
fn hook_log_group(target: &str) -> Option<String> {
    let function = target.split(":function:").nth(1)?;
    let name = function.split(':').next().filter(|n| !n.is_empty())?;
    Some(format!("log group /aws/lambda/{name}"))
}

/// `family:revision` of a task-definition ARN.
pub(super) fn revision_of(arn: &str) -> String {
    super::arn_tail(arn).to_owned()
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
