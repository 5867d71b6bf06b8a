//! `EcsEvent`: an EventBridge event from ECS the bundle holds (`ECS Deployment State Change`,
//! `ECS Service Action`, `ECS Task State Change`), from an event file given to `replay` or the
//! event that made the Lambda record. Deployment and service-action events are service-level
//! evidence even when the bundle has no DescribeServices response.

use crate::runtime::api::{EcsEventHandle, cite, string, time};
use crate::runtime::registry::Api;

impl EcsEventHandle {
    fn event(&self) -> &recorder::model::EcsEvent {
        &self.ev.ecs_events[self.index].value
    }
}

pub(super) fn register(api: &mut Api<'_>) {
    api.ty::<EcsEventHandle>(
        "EcsEvent",
        "event",
        "An EventBridge event from ECS (`ev.ecs_events()`): its envelope and the `detail` fields of\ndeployment and service-action events. A finding can be about one (`finding(event, message)`,\nreported under the event's service).",
    )
    .get(
        "detail_type: string",
        "`ECS Task State Change`, `ECS Deployment State Change`, `ECS Service Action`, ….",
        |e: &mut EcsEventHandle| string(e.event().detail_type.as_ref()),
    )
    .get(
        "event_name: string",
        "`detail.eventName`: `SERVICE_DEPLOYMENT_FAILED`, `SERVICE_TASK_START_IMPAIRED`,\n`SERVICE_TASK_PLACEMENT_FAILURE`, …, or `\"\"` (task events have none).",
        |e: &mut EcsEventHandle| string(e.event().detail.event_name.as_ref()),
    )
    .get(
        "event_type: string",
        "`detail.eventType`: `INFO`, `WARN` or `ERROR`, or `\"\"`.",
        |e: &mut EcsEventHandle| string(e.event().detail.event_type.as_ref()),
    )
    .get(
        "reason: string",
        "`detail.reason`: a deployment's failure reason (`ECS deployment circuit breaker: …`) or a\nplacement failure's (`RESOURCE:FARGATE`), or `\"\"`.",
        |e: &mut EcsEventHandle| string(e.event().detail.reason.as_ref()),
    )
    .get(
        "deployment_id: string",
        "`detail.deploymentId` of a deployment event (`ecs-svc/…`), or `\"\"`.",
        |e: &mut EcsEventHandle| string(e.event().detail.deployment_id.as_ref()),
    )
    .get(
        "time: timestamp",
        "When EventBridge saw the event (the envelope's `time`), or `()`.",
        |e: &mut EcsEventHandle| time(e.event().time),
    )
    .get(
        "service: string",
        "The service's name: `detail.serviceName`/`detail.service`, a task's `group`, else the\nservice ARN in `resources` (deployment events carry nothing else), or `\"\"`.",
        |e: &mut EcsEventHandle| e.event().service_name().unwrap_or_default().to_owned(),
    )
    .get(
        "cluster: string",
        "The cluster's name, from `detail.clusterArn`, the task ARN or a service ARN, or `\"\"`.",
        |e: &mut EcsEventHandle| e.event().cluster_name().unwrap_or_default(),
    )
    .func(
        "path(field)",
        "Cites a field of the event as a `Fact`: `detail.reason`, `detail.eventName`, `time`, ….",
        |e: &mut EcsEventHandle, field: &str| {
            let located = &e.ev.ecs_events[e.index];
            cite(&e.ev, &located.loc.path(), &located.value, field)
        },
    )
    .func("to_string()", "`EcsEvent(<detail-type> <eventName> <service>)`.", |e: &mut EcsEventHandle| {
        let event = e.event();
        format!(
            "EcsEvent({} {} {})",
            event.detail_type.as_deref().unwrap_or_default(),
            event.detail.event_name.as_deref().unwrap_or_default(),
            event.service_name().unwrap_or_default()
        )
    });
}
