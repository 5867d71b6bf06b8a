//! `Service` and `ServiceEvent`: a service from DescribeServices, its events and deployments.

use std::sync::Arc;

use rhai::{Array, Dynamic, Map};
use serde_json::Value;

use crate::model::Fact;
use crate::runtime::api::{
    RhaiResult, ServiceEventHandle, ServiceHandle, TaskDefinitionHandle, array, cite, int, json,
    option, string, time,
};
use crate::runtime::registry::Api;

/// The service events whose message matches `pattern`, however often ECS repeated them: a map
/// of `events` (in the service's order), `count`, `first` and `last` (times), `latest` (the
/// newest event) and `summary` ("5 times between A and B (12m 00s)", or "once, at A").
fn events_matching(s: &mut ServiceHandle, pattern: &str) -> RhaiResult<Map> {
    let regex = crate::runtime::helpers::regex(pattern)?;
    let events = &s.service().events;
    let mut hits = Array::new();
    let (mut first, mut last) = (None, None);
    let mut latest: Option<usize> = None;
    for (index, event) in events.iter().enumerate() {
        if !event.message.as_deref().is_some_and(|m| regex.is_match(m)) {
            continue;
        }
        hits.push(Dynamic::from(ServiceEventHandle {
            ev: Arc::clone(&s.ev),
            service: s.index,
            index,
        }));
        latest = latest.or(Some(index));
        if let Some(at) = event.created_at.map(|t| t.0) {
            first = Some(first.map_or(at, |f: recorder::time::Timestamp| f.min(at)));
            if last.is_none_or(|l| at > l) {
                last = Some(at);
                latest = Some(index);
            }
        }
    }
    let count = hits.len();
    let summary = match (count, first, last) {
        (1, _, Some(last)) => format!("once, at {last}"),
        (1, _, None) => "once".to_owned(),
        (n, Some(first), Some(last)) if first != last => format!(
            "{n} times between {first} and {last} ({})",
            crate::runtime::helpers::format_duration(first.seconds_until(last))
        ),
        (n, _, _) => format!("{n} times"),
    };
    let mut map = Map::new();
    map.insert("events".into(), hits.into());
    #[allow(clippy::cast_possible_wrap)]
    map.insert("count".into(), (count as i64).into());
    let stamp = |t: Option<recorder::time::Timestamp>| {
        t.map_or(Dynamic::UNIT, |t| Dynamic::from(t.to_string()))
    };
    map.insert("first".into(), stamp(first));
    map.insert("last".into(), stamp(last));
    map.insert(
        "latest".into(),
        option(latest.map(|index| ServiceEventHandle {
            ev: Arc::clone(&s.ev),
            service: s.index,
            index,
        })),
    );
    map.insert("summary".into(), summary.into());
    Ok(map)
}

pub(super) fn register(api: &mut Api<'_>) {
    api.ty::<ServiceHandle>(
        "Service",
        "service",
        "A service from DescribeServices, with its events and deployments.",
    );
    macro_rules! strings {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(api.get(concat!($name, ": string"), concat!("The service's `", $name, "` as DescribeServices returns it, or `\"\"`."), |s: &mut ServiceHandle| string(s.service().$field.as_ref()));)*
        };
    }
    macro_rules! ints {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(api.get(concat!($name, ": int?"), concat!("The service's `", $name, "`, or `()`."), |s: &mut ServiceHandle| int(s.service().$field));)*
        };
    }
    strings! {
        "serviceArn" => service_arn, "serviceName" => service_name, "clusterArn" => cluster_arn,
        "status" => status, "launchType" => launch_type, "taskDefinition" => task_definition,
        "schedulingStrategy" => scheduling_strategy,
    }
    ints! {
        "desiredCount" => desired_count, "runningCount" => running_count, "pendingCount" => pending_count,
        "healthCheckGracePeriodSeconds" => health_check_grace_period_seconds,
    }
    api
        .get("deploymentConfiguration: map?", "The deployment configuration (`deploymentCircuitBreaker`, `maximumPercent`,\n`minimumHealthyPercent`), or `()`.", |s: &mut ServiceHandle| {
            s.service()
                .deployment_configuration
                .as_ref()
                .map_or(Dynamic::UNIT, deployment_configuration)
        })
        .get("deployments: array", "The deployments, newest first, as in AWS (`status`, `rolloutState`, `taskDefinition`,\n`failedTasks`, …).", |s: &mut ServiceHandle| {
            json(&s.service().deployments)
        })
        .get("loadBalancers: array", "The load balancers (`targetGroupArn`, `containerName`, `containerPort`).", |s: &mut ServiceHandle| {
            json(&s.service().load_balancers)
        })
        .get("networkConfiguration: map?", "The awsvpc configuration (subnets, security groups, public IP), or `()`.", |s: &mut ServiceHandle| {
            s.service()
                .network_configuration
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .get("events", "The service events, newest first as ECS returns them (at most 100).", |s: &mut ServiceHandle| {
            array(
                (0..s.service().events.len()).map(|index| ServiceEventHandle {
                    ev: Arc::clone(&s.ev),
                    service: s.index,
                    index,
                }),
            )
        })
        .func("events_matching(pattern)", "The events whose message matches a regular expression, however often ECS repeated them: a\nmap of `events` (in the service's order), `count`, `first` and `last` (times), `latest` (the\nnewest event) and `summary` (\"5 times between A and B (12m 00s)\", or \"once, at A\").", events_matching)
        .func("steady_after(time)", "Whether the service reached a steady state after this time: the trouble is over.", |s: &mut ServiceHandle, at: &str| {
            // Whether the service reached a steady state after `at`: the trouble is over.
            let Some(at) = recorder::time::Timestamp::parse_iso(at) else {
                return false;
            };
            s.service().events.iter().any(|event| {
                event.created_at.is_some_and(|t| t.0 > at)
                    && event
                        .message
                        .as_deref()
                        .is_some_and(|m| m.contains("has reached a steady state"))
            })
        })
        .func("steady_after(time)", "", |_: &mut ServiceHandle, (): ()| false)
        .func("service_deployments()", "This service's deployments from DescribeServiceDeployments, newest first, as\n`ev.service_deployments()` gives them (empty when the bundle holds none).", |s: &mut ServiceHandle| {
            let name = s.service().service_name.clone().unwrap_or_default();
            crate::runtime::api::evidence::deployment_maps(&s.ev, Some(&name))
        })
        .func("task_definition() -> TaskDefinition?", "The service's current task definition, or `()` when the bundle lacks it.", |s: &mut ServiceHandle| {
            // The service's current task definition, when the bundle holds it.
            let arn = s.service().task_definition.clone().unwrap_or_default();
            option(
                s.ev.task_definition_index(&arn)
                    .map(|index| TaskDefinitionHandle {
                        ev: Arc::clone(&s.ev),
                        index,
                    }),
            )
        })
        .func("path(field)", "Cites a field of the service as a `Fact`.", |s: &mut ServiceHandle, field: &str| {
            cite(&s.ev, &s.ev.services[s.index].loc.path(), s.service(), field)
        })
        .func("to_string()", "`Service(<name>)`.", |s: &mut ServiceHandle| {
            format!(
                "Service({})",
                s.service().service_name.clone().unwrap_or_default()
            )
        });

    api.ty::<ServiceEventHandle>(
        "ServiceEvent",
        "event",
        "One service event (`service.events`), newest first as ECS lists them.",
    )
    .get(
        "id: string",
        "The event id.",
        |e: &mut ServiceEventHandle| string(e.event().id.as_ref()),
    )
    .get(
        "message: string",
        "The event message, verbatim.",
        |e: &mut ServiceEventHandle| string(e.event().message.as_ref()),
    )
    .get(
        "createdAt: timestamp?",
        "When ECS logged the event.",
        |e: &mut ServiceEventHandle| time(e.event().created_at),
    )
    .func(
        "path()",
        "Cites the event's message as a `Fact`.",
        |e: &mut ServiceEventHandle| Fact {
            path: format!(
                "{}.events[{}].message",
                e.ev.services[e.service].loc.path(),
                e.index
            ),
            value: Value::String(e.event().message.clone().unwrap_or_default()),
            label: None,
        },
    );
}

/// The deployment configuration as rules read it: a map only when the bundle holds an object,
/// and its percentages only when they are integers, so that a rule's arithmetic on them cannot
/// fail on a malformed bundle (a missing key reads as `()`). Evidence paths still cite the
/// bundle's own values.
fn deployment_configuration(value: &Value) -> Dynamic {
    let Value::Object(fields) = value else {
        return Dynamic::UNIT;
    };
    let mut map = Map::new();
    for (key, field) in fields {
        let typed = match key.as_str() {
            "maximumPercent" | "minimumHealthyPercent" => field.as_i64().map(Dynamic::from),
            "deploymentCircuitBreaker" | "alarms" => field.is_object().then(|| json(field)),
            _ => Some(json(field)),
        };
        if let Some(typed) = typed {
            map.insert(key.as_str().into(), typed);
        }
    }
    Dynamic::from_map(map)
}
