//! What one SQS message asks for: the EventBridge event it holds, and where the thing it is
//! about lives. Account, Region, cluster and task are taken from the ARNs, not the envelope:
//! bus-to-bus forwarding rewrites `account` and drops `resources`, and deployment events carry
//! no cluster or service field at all. Timestamps are read leniently (ISO strings in events,
//! epoch numbers where someone pasted DescribeTasks).

use serde_json::Value;

use recorder::events::{DEPLOYMENT_STATE_CHANGE, SERVICE_ACTION, TASK_STATE_CHANGE};
use recorder::import::ArnParts;
use recorder::time::Timestamp;

/// What the event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// An `ECS Task State Change` event of a stopped task.
    Task {
        arn: String,
        id: String,
        /// `detail.version`: duplicate deliveries have the same one.
        version: Option<i64>,
        /// `family:revision` of the task definition, for the storm limit.
        revision: String,
    },
    /// A deployment or service-action event.
    Service {
        detail_type: String,
        event_name: String,
        /// The event's `id`, or its deployment id, which names the stored files.
        name: String,
    },
}

/// One event and the place it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    /// The EventBridge event as delivered.
    pub event: Value,
    pub kind: Kind,
    pub account: String,
    pub region: String,
    /// `None` when nothing in the event names it (an old short service ARN and no
    /// `clusterArn`): the event is kept, but nothing can be recorded.
    pub cluster: Option<String>,
    pub service: Option<String>,
    /// When it happened: the task's `stoppedAt`, the deployment's `updatedAt`, the action's
    /// `createdAt`, else the envelope's `time`.
    pub time: Timestamp,
}

/// Why a message cannot be used. A message that fails this will never succeed, and goes to
/// the dead-letter queue after its retries.
pub type Invalid = String;

/// Reads an SQS message body: an EventBridge event from ECS.
pub fn parse(body: &str) -> Result<Trigger, Invalid> {
    let value: Value =
        serde_json::from_str(body).map_err(|err| format!("the message body is not JSON: {err}"))?;
    let event = match recorder::events::find(&value) {
        Some(Ok(mut found)) if found.len() == 1 => found.remove(0).event,
        Some(Ok(found)) => {
            return Err(format!(
                "the message holds {} events; the queue delivers one event per message",
                found.len()
            ));
        }
        Some(Err(reason)) => return Err(reason),
        None => return Err("the message body is not an EventBridge event".to_owned()),
    };
    from_event(event)
}

/// The trigger an EventBridge event describes.
pub fn from_event(event: Value) -> Result<Trigger, Invalid> {
    let typed: recorder::model::EcsEvent = serde_json::from_value(event.clone())
        .map_err(|err| format!("the event does not have the shape of an ECS event: {err}"))?;
    if let Some(source) = typed.source.as_deref()
        && source != "aws.ecs"
    {
        return Err(format!(
            "the event comes from `{source}`, not from ECS (`aws.ecs`)"
        ));
    }
    let detail = &typed.detail;

    // Where it lives: the ARNs first, the envelope only as a fallback.
    let parsed: Vec<ArnParts> = detail
        .task_arn
        .iter()
        .chain(&detail.cluster_arn)
        .chain(&typed.resources)
        .filter_map(|arn| ArnParts::parse(arn))
        .collect();
    let account = parsed
        .iter()
        .find_map(|p| p.account.clone())
        .or_else(|| typed.account.clone())
        .ok_or("the event names no account (no ARN with one, no `account`)")?;
    let region = parsed
        .iter()
        .find_map(|p| p.region.clone())
        .or_else(|| typed.region.clone())
        .ok_or("the event names no Region (no ARN with one, no `region`)")?;

    // Task times are not in the typed detail; they are read as leniently (ISO or epoch).
    let time_at = |pointer: &str| -> Option<Timestamp> {
        match event.pointer(pointer)? {
            Value::String(text) => Timestamp::parse_iso(text),
            Value::Number(number) => number.as_f64().and_then(Timestamp::from_epoch_seconds),
            _ => None,
        }
    };
    let event_time = typed.time.map(|t| t.0);
    let detail_type = typed.detail_type.clone().unwrap_or_default();

    let (kind, time) = match detail_type.as_str() {
        TASK_STATE_CHANGE => {
            let arn = detail
                .task_arn
                .clone()
                .ok_or("a task state change event with no `detail.taskArn`")?;
            let id = arn.rsplit('/').next().unwrap_or_default().to_owned();
            if id.is_empty() {
                return Err(format!("`detail.taskArn` `{arn}` names no task id"));
            }
            let revision = event
                .pointer("/detail/taskDefinitionArn")
                .and_then(Value::as_str)
                .and_then(|arn| arn.rsplit_once(":task-definition/"))
                .map_or_else(
                    || "unknown-revision".to_owned(),
                    |(_, name)| name.to_owned(),
                );
            let time = time_at("/detail/stoppedAt")
                .or_else(|| time_at("/detail/stoppingAt"))
                .or(event_time);
            (
                Kind::Task {
                    arn,
                    id,
                    version: detail.version,
                    revision,
                },
                time,
            )
        }
        DEPLOYMENT_STATE_CHANGE | SERVICE_ACTION => {
            let name = typed
                .id
                .clone()
                .or_else(|| detail.deployment_id.clone())
                .ok_or("the event has no `id`")?;
            let time = detail
                .updated_at
                .or(detail.created_at)
                .map(|t| t.0)
                .or(event_time);
            (
                Kind::Service {
                    detail_type: detail_type.clone(),
                    event_name: detail.event_name.clone().unwrap_or_default(),
                    name,
                },
                time,
            )
        }
        other => return Err(format!("the tool does not record `{other}` events")),
    };
    let time = time.ok_or("the event holds no time (no `time`, no task or deployment time)")?;
    let cluster = typed.cluster_name();
    let service = typed.service_name().map(str::to_owned);
    Ok(Trigger {
        event,
        kind,
        account,
        region,
        cluster,
        service,
        time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_event_from_the_docs_names_its_task_cluster_and_service() {
        let body = include_str!("../../../fixtures/events/task-user-stopped-ec2-exit0.json");
        let trigger = parse(body).expect("parses");
        assert_eq!(trigger.account, "0123456789");
        assert_eq!(trigger.region, "eu-west-1");
        assert_eq!(trigger.cluster.as_deref(), Some("Features"));
        assert_eq!(trigger.service.as_deref(), Some("Webapp"));
        assert_eq!(trigger.time.to_string(), "2020-06-05T12:17:11.696Z");
        assert_eq!(
            trigger.kind,
            Kind::Task {
                arn: "arn:aws:ecs:eu-west-1:0123456789:task/Features/33a7f27282624543abd4a00c3e84d0ee".to_owned(),
                id: "33a7f27282624543abd4a00c3e84d0ee".to_owned(),
                version: Some(7),
                revision: "webapp:15".to_owned(),
            }
        );
    }
}
