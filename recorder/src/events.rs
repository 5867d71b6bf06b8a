//! EventBridge events from ECS as an input: an `ECS Task State Change`, `ECS Deployment State
//! Change` or `ECS Service Action` event as EventBridge delivers it, an SQS message body holding
//! one, a Lambda SQS event (`Records[].body`) or the AWS CLI's `sqs receive-message` output
//! (`Messages[].Body`).
//!
//! Every event is kept whole in one `events EcsEvents` call (`{"events": [...]}`), which is
//! service-level evidence for deployment and service-action events. A task event's `detail`
//! is also the task as DescribeTasks would describe it (its timestamps are ISO strings where
//! DescribeTasks has epoch numbers, which the bundle reads alike), so it becomes a
//! `DescribeTasks` call: of several events for one task, the one with the highest
//! `detail.version` (a duplicate delivery has the same version).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::bundle::{Call, Operation};

/// `detail-type` of the events ECS sends that the tool reads.
pub const TASK_STATE_CHANGE: &str = "ECS Task State Change";
pub const DEPLOYMENT_STATE_CHANGE: &str = "ECS Deployment State Change";
pub const SERVICE_ACTION: &str = "ECS Service Action";

/// One event found in a document, and where it sits there (`""` for the whole document,
/// `Records[2].body` inside a Lambda SQS event).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub event: Value,
    pub at: String,
}

/// Whether a value is an EventBridge event envelope (`detail-type` and `detail`).
pub fn is_event(value: &Value) -> bool {
    value.get("detail-type").is_some_and(Value::is_string)
        && value.get("detail").is_some_and(Value::is_object)
}

/// The EventBridge events a JSON document holds, or `None` when it is not an event, a batch
/// of them or an SQS message holding one. `Some(Err)` says why a document shaped like a batch
/// holds no usable event.
pub fn find(value: &Value) -> Option<Result<Vec<Found>, String>> {
    let at_top = |event: &Value| Found {
        event: event.clone(),
        at: String::new(),
    };
    match value {
        _ if is_event(value) => Some(Ok(vec![at_top(value)])),
        // An SQS message body saved as the JSON string it is.
        Value::String(text) => {
            let inner: Value = serde_json::from_str(text).ok()?;
            is_event(&inner).then(|| Ok(vec![at_top(&inner)]))
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(is_event) => Some(Ok(items
            .iter()
            .enumerate()
            .map(|(i, event)| Found {
                event: event.clone(),
                at: format!("[{i}]"),
            })
            .collect())),
        Value::Object(object) => {
            // A Lambda SQS event, or `aws sqs receive-message` output.
            let (list, key, body) = if let Some(Value::Array(records)) = object.get("Records") {
                (records, "Records", "body")
            } else if let Some(Value::Array(messages)) = object.get("Messages") {
                (messages, "Messages", "Body")
            } else {
                return None;
            };
            if !list.iter().any(|m| m.get(body).is_some()) {
                return None;
            }
            let mut found = Vec::new();
            let mut problems = Vec::new();
            for (i, message) in list.iter().enumerate() {
                let at = format!("{key}[{i}].{body}");
                match message.get(body) {
                    Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                        Ok(event) if is_event(&event) => found.push(Found { event, at }),
                        Ok(_) => problems.push(format!("{at} is not an EventBridge event")),
                        Err(err) => problems.push(format!("{at} is not JSON ({err})")),
                    },
                    Some(event) if is_event(event) => found.push(Found {
                        event: event.clone(),
                        at,
                    }),
                    _ => problems.push(format!("{at} is missing or not an event")),
                }
            }
            // A message that cannot be read may have held the answer: the file is refused,
            // naming it, rather than diagnosed without it.
            Some(if found.is_empty() {
                Err(format!(
                    "an SQS batch with no EventBridge event in it: {}",
                    problems.join("; ")
                ))
            } else if !problems.is_empty() {
                Err(format!(
                    "an SQS batch with {} message(s) that are not EventBridge events: {}",
                    problems.len(),
                    problems.join("; ")
                ))
            } else {
                Ok(found)
            })
        }
        _ => None,
    }
}

/// The calls that hold these events: one `events EcsEvents` call with every distinct event
/// (by `id`), and one `ecs DescribeTasks` call per task that a task-state-change event
/// describes (its newest `detail.version`). The caller names their `source_file`.
pub fn to_calls(found: &[Found]) -> Result<Vec<Call>, String> {
    let mut seen_ids = std::collections::BTreeSet::new();
    let mut kept: Vec<&Found> = Vec::new();
    for item in found {
        let id = item.event.get("id").and_then(Value::as_str);
        if id.is_some_and(|id| !seen_ids.insert(id.to_owned())) {
            continue;
        }
        kept.push(item);
    }
    let mut calls = Vec::new();

    // Per task ARN, the newest description (the first of equal versions), in delivery order.
    let mut newest: BTreeMap<&str, (i64, usize)> = BTreeMap::new();
    for (index, item) in kept.iter().enumerate() {
        let Some(arn) = task_arn(item) else {
            continue;
        };
        let version = item.event["detail"]
            .get("version")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if newest.get(arn).is_none_or(|(old, _)| version > *old) {
            newest.insert(arn, (version, index));
        }
    }
    for (index, item) in kept.iter().enumerate() {
        if task_arn(item)
            .and_then(|arn| newest.get(arn))
            .map(|(_, i)| *i)
            != Some(index)
        {
            continue;
        }
        let response = serde_json::json!({ "tasks": [item.event["detail"].clone()] });
        let mut call = new_call(Operation::DescribeTasks, &response)?;
        call.source_root = Some(format!("tasks[0]={}detail", prefix(&item.at)));
        calls.push(call);
    }

    let events: Vec<Value> = kept.iter().map(|item| item.event.clone()).collect();
    let mut call = new_call(
        Operation::EcsEvents,
        &serde_json::json!({ "events": events }),
    )?;
    if let [only] = kept.as_slice() {
        call.source_root = Some(format!(
            "events[0]={}",
            prefix(&only.at).trim_end_matches('.')
        ));
    }
    calls.push(call);
    Ok(calls)
}

/// The task a task-state-change event describes.
fn task_arn(item: &Found) -> Option<&str> {
    (item.event.get("detail-type").and_then(Value::as_str) == Some(TASK_STATE_CHANGE))
        .then(|| item.event["detail"].get("taskArn").and_then(Value::as_str))
        .flatten()
}

/// `Records[0].body` → `Records[0].body.`; the whole document → ``.
fn prefix(at: &str) -> String {
    if at.is_empty() {
        String::new()
    } else {
        format!("{at}.")
    }
}

fn new_call(operation: Operation, response: &Value) -> Result<Call, String> {
    let raw = serde_json::value::to_raw_value(response).map_err(|err| err.to_string())?;
    Call::new(operation, Value::Object(serde_json::Map::new()), raw)
        .map_err(|message| format!("holds an ECS event that does not fit `{operation}`: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task_event(id: &str, version: i64, reason: &str) -> Value {
        serde_json::json!({
            "version": "0",
            "id": id,
            "detail-type": TASK_STATE_CHANGE,
            "source": "aws.ecs",
            "account": "111122223333",
            "time": "2020-06-05T12:17:11Z",
            "region": "eu-west-1",
            "resources": ["arn:aws:ecs:eu-west-1:111122223333:task/Features/33a7f27282624543abd4a00c3e84d0ee"],
            "detail": {
                "taskArn": "arn:aws:ecs:eu-west-1:111122223333:task/Features/33a7f27282624543abd4a00c3e84d0ee",
                "lastStatus": "STOPPED",
                "stoppedReason": reason,
                "stoppedAt": "2020-06-05T12:17:11.696Z",
                "group": "service:Webapp",
                "version": version
            }
        })
    }

    #[test]
    fn a_bare_event_an_sqs_body_and_both_batch_shapes_are_found() {
        let event = task_event("a", 7, "Task stopped by user");
        assert_eq!(find(&event).and_then(Result::ok).map(|f| f.len()), Some(1));
        let body = Value::String(event.to_string());
        assert_eq!(find(&body).and_then(Result::ok).map(|f| f.len()), Some(1));
        let lambda = serde_json::json!({"Records": [{"body": event.to_string()}]});
        let found = find(&lambda).and_then(Result::ok).unwrap_or_default();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, "Records[0].body");
        // A message that is not an event refuses the batch, naming it: it may have held the
        // answer.
        let mixed = serde_json::json!({"Records": [{"body": event.to_string()}, {"body": "{}"}]});
        let refused = find(&mixed).and_then(Result::err).unwrap_or_default();
        assert!(
            refused.contains("Records[1].body is not an EventBridge event"),
            "{refused}"
        );
        let cli = serde_json::json!({"Messages": [{"Body": event.to_string()}]});
        assert_eq!(
            find(&cli).and_then(Result::ok).map(|f| f[0].at.clone()),
            Some("Messages[0].Body".to_owned())
        );
        assert!(find(&serde_json::json!({"tasks": []})).is_none());
        assert!(matches!(
            find(&serde_json::json!({"Records": [{"body": "not json"}]})),
            Some(Err(_))
        ));
    }

    #[test]
    fn the_newest_version_of_a_task_wins_and_duplicate_deliveries_are_dropped() {
        let found: Vec<Found> = [
            task_event("a", 7, "Essential container in task exited"),
            task_event("b", 9, "Task stopped by user"),
            task_event("b", 9, "Task stopped by user"),
            task_event("c", 8, "older"),
        ]
        .into_iter()
        .map(|event| Found {
            event,
            at: String::new(),
        })
        .collect();
        let calls = to_calls(&found).unwrap_or_default();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].operation, "DescribeTasks");
        let response = calls[0]
            .response
            .as_ref()
            .map(|r| r.get().to_owned())
            .unwrap_or_default();
        assert!(response.contains("Task stopped by user"), "{response}");
        assert_eq!(calls[0].source_root.as_deref(), Some("tasks[0]=detail"));
        assert_eq!(calls[1].operation, "EcsEvents");
        let events = calls[1]
            .response
            .as_ref()
            .map(|r| r.get().matches("\"id\"").count());
        assert_eq!(events, Some(3), "the second delivery of `b` is dropped");
    }
}
