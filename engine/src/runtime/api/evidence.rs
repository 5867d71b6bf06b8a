//! `Evidence`: `ev`, the argument of every rule's `check`.

use std::sync::Arc;

use rhai::{Array, Dynamic, Map};

use crate::model::Fact;
use crate::runtime::api::{
    EcsEventHandle, EvidenceHandle, FailureHandle, ServiceHandle, TaskDefinitionHandle, TaskHandle,
    array, json, option, string, task_handles,
};
use crate::runtime::registry::Api;

pub(super) fn register(api: &mut Api<'_>) {
    api
        .ty::<EvidenceHandle>("Evidence", "ev", "The evidence of one bundle: `ev`, the argument of every rule's `check(ev)`.")
        .get("region: string", "The Region the bundle was recorded in (`\"\"` when unknown).", |ev: &mut EvidenceHandle| {
            string(ev.0.manifest.region.as_ref())
        })
        .get("account: string", "The AWS account id, or `\"\"` (redacted bundles drop it).", |ev: &mut EvidenceHandle| {
            string(ev.0.manifest.account.as_ref())
        })
        .get("cluster: string", "The cluster the bundle was recorded from, as given to `record` (name or ARN).", |ev: &mut EvidenceHandle| {
            string(ev.0.manifest.cluster.as_ref())
        })
        .func("stopped_tasks()", "The stopped tasks selected for diagnosis (`--since`, `--max-tasks`), in the bundle's order.", |ev: &mut EvidenceHandle| {
            task_handles(&ev.0, ev.0.stopped_tasks().map(|(index, _)| index))
        })
        .func("tasks()", "Every task in the bundle, stopped or not.", |ev: &mut EvidenceHandle| {
            task_handles(&ev.0, 0..ev.0.tasks.len())
        })
        .func("task(arn) -> Task?", "The task with this ARN or id, or `()`.", |ev: &mut EvidenceHandle, arn: &str| {
            option(ev.0.task_index(arn).map(|index| TaskHandle {
                ev: Arc::clone(&ev.0),
                index,
            }))
        })
        .func("services()", "Every service in the bundle.", |ev: &mut EvidenceHandle| {
            array((0..ev.0.services.len()).map(|index| ServiceHandle {
                ev: Arc::clone(&ev.0),
                index,
            }))
        })
        .func("service(name) -> Service?", "The service with this name or ARN, or `()`.", |ev: &mut EvidenceHandle, name: &str| {
            option(ev.0.service_index(name).map(|index| ServiceHandle {
                ev: Arc::clone(&ev.0),
                index,
            }))
        })
        .func("task_definitions()", "Every task definition revision in the bundle.", |ev: &mut EvidenceHandle| {
            array(
                (0..ev.0.task_definitions.len()).map(|index| TaskDefinitionHandle {
                    ev: Arc::clone(&ev.0),
                    index,
                }),
            )
        })
        .func("task_definition(arn) -> TaskDefinition?", "The task definition with this ARN (or `family:revision`), or `()`.", |ev: &mut EvidenceHandle, arn: &str| {
            option(
                ev.0.task_definition_index(arn)
                    .map(|index| TaskDefinitionHandle {
                        ev: Arc::clone(&ev.0),
                        index,
                    }),
            )
        })
        .func("target_groups()", "The target groups from DescribeTargetGroups, as maps keyed as in AWS (`TargetGroupArn`,\n`HealthCheckPath`, `HealthCheckIntervalSeconds`, `UnhealthyThresholdCount`, …), each with a\n`path` for citing it.", |ev: &mut EvidenceHandle| {
            ev.0.target_groups
                .iter()
                .map(|group| located_map(&group.value, &group.loc))
                .collect::<Array>()
        })
        .func("target_health()", "The target health descriptions from DescribeTargetHealth, as maps keyed as in AWS\n(`Target`, `TargetHealth.State`, `TargetHealth.Reason`, `TargetHealth.Description`), each with\nits `TargetGroupArn` and a `path`.", |ev: &mut EvidenceHandle| {
            ev.0.target_health
                .iter()
                .flat_map(|set| {
                    set.targets.iter().map(|target| {
                        let mut map = located_map(&target.value, &target.loc)
                            .try_cast::<Map>()
                            .unwrap_or_default();
                        map.insert(
                            "TargetGroupArn".into(),
                            string(set.target_group_arn.as_ref()),
                        );
                        Dynamic::from_map(map)
                    })
                })
                .collect::<Array>()
        })
        .func("target_group_attribute(arn, key) -> Fact?", "A target group attribute from DescribeTargetGroupAttributes, as a `Fact` whose `value` is the\nstring AWS returns (`ev.target_group_attribute(arn, \"deregistration_delay.timeout_seconds\")`\n→ `\"300\"`), or `()` when the bundle does not hold it. `arn` is the target group's ARN.", |ev: &mut EvidenceHandle, arn: &str, key: &str| {
            let found = ev.0.target_group_attributes
                .iter()
                .filter(|set| set.target_group_arn.as_deref() == Some(arn))
                .flat_map(|set| set.attributes.iter())
                .find(|attribute| attribute.value.key.as_deref() == Some(key));
            match found {
                Some(attribute) => Dynamic::from(Fact {
                    path: format!("{}.Value", attribute.loc.path()),
                    value: attribute.value.value.clone().map_or(serde_json::Value::Null, serde_json::Value::String),
                    label: None,
                }),
                None => Dynamic::UNIT,
            }
        })
        .func("container_instances()", "The container instances from DescribeContainerInstances (EC2 launch type), as maps keyed as\nin AWS (`remainingResources`, `registeredResources`, `attributes`, …), each with a `path`.", |ev: &mut EvidenceHandle| {
            ev.0.container_instances
                .iter()
                .map(|instance| located_map(&instance.value, &instance.loc))
                .collect::<Array>()
        })
        .func("service_deployments()", "The service deployments from DescribeServiceDeployments, newest first, as maps keyed as in\nAWS (`status`, `statusReason`, `lifecycleStage`, `lifecycleHookDetails`, `rollback`,\n`deploymentCircuitBreaker`, `alarms`, `deploymentConfiguration`, `targetServiceRevision`,\n`sourceServiceRevisions`, …) with `path`, `service` (the name), `id` (the ARN's last segment)\nand `strategy` (`ROLLING` when unset). Cite a field with `fact(d.path + \".status\", ())`.", |ev: &mut EvidenceHandle| {
            deployment_maps(&ev.0, None)
        })
        .func("service_revisions()", "The service revisions from DescribeServiceRevisions, as maps keyed as in AWS\n(`serviceRevisionArn`, `taskDefinition`, `containerImages` with each container's pinned\n`imageDigest`, …), each with a `path`.", |ev: &mut EvidenceHandle| {
            ev.0.service_revisions
                .iter()
                .map(|revision| located_map(&revision.value, &revision.loc))
                .collect::<Array>()
        })
        .func("service_revision(arn) -> map?", "The service revision with this ARN, as `service_revisions()` gives it, or `()`.", |ev: &mut EvidenceHandle, arn: &str| {
            ev.0.service_revisions
                .iter()
                .find(|revision| revision.value.service_revision_arn.as_deref() == Some(arn))
                .map_or(Dynamic::UNIT, |revision| located_map(&revision.value, &revision.loc))
        })
        .func("protected_tasks()", "The scale-in protection of tasks from GetTaskProtection, as maps of `taskArn`,\n`protectionEnabled` and `expirationDate`, each with a `path`.", |ev: &mut EvidenceHandle| {
            ev.0.protected_tasks
                .iter()
                .map(|task| located_map(&task.value, &task.loc))
                .collect::<Array>()
        })
        .func("failures()", "The `failures[]` entries of every DescribeTasks and RunTask response in the bundle, in call\norder: what ECS could not place or describe (`Failure`).", |ev: &mut EvidenceHandle| {
            array((0..ev.0.failures.len()).map(|index| FailureHandle {
                ev: Arc::clone(&ev.0),
                index,
            }))
        })
        .func("ecs_events()", "The EventBridge events from ECS the bundle holds (an event file given to `replay`, the\nevent that made the Lambda record), in call order (`EcsEvent`).", |ev: &mut EvidenceHandle| {
            array((0..ev.0.ecs_events.len()).map(|index| EcsEventHandle {
                ev: Arc::clone(&ev.0),
                index,
            }))
        })
        .func("failed_calls()", "The AWS calls that failed while recording: maps of `service`, `operation`, `code`,\n`message` and `path`. A rule that needs a failed call's evidence can say so.", |ev: &mut EvidenceHandle| {
            ev.0.failed_calls
                .iter()
                .map(|failed| {
                    let mut map = Map::new();
                    map.insert("service".into(), failed.service.clone().into());
                    map.insert("operation".into(), failed.operation.clone().into());
                    map.insert("code".into(), failed.error.code.clone().into());
                    map.insert("message".into(), failed.error.message.clone().into());
                    map.insert(
                        "path".into(),
                        format!("calls[{}].error", failed.call).into(),
                    );
                    Dynamic::from_map(map)
                })
                .collect::<Array>()
        })
        .func("call_failed(service, operation)", "Whether the bundle records this call as failed, e.g. `ev.call_failed(\"logs\", \"GetLogEvents\")`.",
            |ev: &mut EvidenceHandle, service: &str, operation: &str| {
                ev.0.call_failed(service, operation).is_some()
            },
        )
        .func("has_call(service, operation)", "Whether the bundle holds a successful response of this call.",
            |ev: &mut EvidenceHandle, service: &str, operation: &str| {
                ev.0.has_call(service, operation)
            },
        );
}

/// A record as a map keyed as in AWS, with its `path` in the bundle.
fn located_map<T: serde::Serialize>(value: &T, loc: &crate::evidence::Loc) -> Dynamic {
    let mut map = json(value).try_cast::<Map>().unwrap_or_default();
    map.insert("path".into(), loc.path().into());
    Dynamic::from_map(map)
}

/// The service deployments (of one service, by name, when `service` is given), newest first,
/// as maps: AWS's keys, `path`, `service`, `id` and `strategy`.
pub(super) fn deployment_maps(ev: &crate::runtime::api::Ev, service: Option<&str>) -> Array {
    ev.service_deployments
        .iter()
        .filter(|d| service.is_none_or(|name| d.value.service_name() == Some(name)))
        .map(|d| {
            let mut map = located_map(&d.value, &d.loc)
                .try_cast::<Map>()
                .unwrap_or_default();
            map.insert(
                "service".into(),
                d.value.service_name().unwrap_or_default().into(),
            );
            let id = d
                .value
                .service_deployment_arn
                .as_deref()
                .and_then(|arn| arn.rsplit('/').next())
                .unwrap_or_default();
            map.insert("id".into(), id.into());
            map.insert("strategy".into(), d.value.strategy().into());
            Dynamic::from_map(map)
        })
        .collect()
}
