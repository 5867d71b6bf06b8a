//! `Task`: a task from DescribeTasks, with its logs, service, task definition and the facts
//! rules derive from them (the pull failure, the health-check budget, the ready line).

use std::sync::Arc;

use rhai::{Array, Dynamic, Map};
use serde_json::Value;

use crate::model::Fact;
use crate::runtime::api::startup;
use crate::runtime::api::{
    ContainerHandle, LogLineHandle, ServiceEventHandle, ServiceHandle, TaskDefinitionHandle,
    TaskHandle, array, cite, grep_logs, int, json, lines_where, log_lines, option, string,
    task_handles, time,
};
use crate::runtime::registry::Api;

/// Service events that name this task, oldest first.
fn task_events(t: &TaskHandle) -> Array {
    let Some(service) = t.record().service else {
        return Array::new();
    };
    // Every event containing `(task ID)` contains the id, so the index holds them all.
    let mut handles: Vec<ServiceEventHandle> =
        t.ev.task_event_indexes(t.index)
            .iter()
            .map(|&index| ServiceEventHandle {
                ev: Arc::clone(&t.ev),
                service,
                index,
            })
            .collect();
    handles.sort_by_key(|handle| handle.event().created_at);
    array(handles.into_iter())
}

/// A log line that says the application is up and serving.
pub(crate) static READY_LINE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)\bstarted\b.*\bin [0-9.]+ ?s(?:econds)?\b|listening on|\bserver (?:is )?(?:started|running|listening)|ready to accept connections|application startup complete|running on https?://|tomcat started on port",
    )
    .expect("valid")
});

/// The first log line of a task saying the app is up and serving.
fn ready_line(t: &TaskHandle) -> Option<LogLineHandle> {
    lines_where(&t.ev, &t.record().task_id, None, |line| {
        READY_LINE.is_match(&line.message)
    })
    .into_iter()
    .next()
}

/// The health-check budget of a task behind a load balancer: the service's grace period plus
/// the target group's `interval × unhealthy threshold` (the last check's timeout on top),
/// against how long the task lived and when its logs first said it was ready.
fn health_check(t: &TaskHandle) -> Dynamic {
    let record = t.record();
    let task = &record.task;
    let service = record.service.map(|index| &t.ev.services[index]);
    let from_reason = task.stopped_reason.as_deref().and_then(|reason| {
        let start = reason.find("(target-group ")? + "(target-group ".len();
        let rest = &reason[start..];
        let end = rest.find([')', ' ']).unwrap_or(rest.len());
        Some(rest[..end].to_owned())
    });
    let from_service = service.and_then(|s| {
        s.value
            .load_balancers
            .iter()
            .find_map(|lb| lb.get("targetGroupArn").and_then(Value::as_str))
            .map(str::to_owned)
    });
    // The reason's ARN may be cut short (reasons are capped at 255 characters): fall back to the
    // service's target group when it names none in the bundle.
    let find_group = |arn: &str| {
        t.ev.target_groups
            .iter()
            .find(|g| g.value.target_group_arn.as_deref() == Some(arn))
    };
    let (arn, group) = if let Some(group) = from_reason.as_deref().and_then(find_group) {
        (from_reason.clone(), Some(group))
    } else {
        let group = from_service.as_deref().and_then(find_group);
        let arn = group
            .and_then(|g| g.value.target_group_arn.clone())
            .or(from_reason)
            .or(from_service);
        (arn, group)
    };
    if service.is_none() && group.is_none() {
        return Dynamic::UNIT;
    }
    let mut facts = Array::new();
    let mut map = Map::new();
    let grace = service.and_then(|s| s.value.health_check_grace_period_seconds);
    if let Some(service) = service {
        facts.push(Dynamic::from(Fact {
            path: format!("{}.healthCheckGracePeriodSeconds", service.loc.path()),
            value: grace.map_or(Value::Null, Value::from),
            label: None,
        }));
    }
    let grace = grace.unwrap_or(0);
    map.insert("grace".into(), grace.into());
    map.insert("target_group_arn".into(), string(arn.as_ref()));
    let settings = group.map(|g| {
        (
            g.value.health_check_interval_seconds,
            g.value.unhealthy_threshold_count,
            g.value.health_check_timeout_seconds,
        )
    });
    let (interval, threshold, timeout) = settings.unwrap_or((None, None, None));
    if let Some(group) = group {
        for (field, value) in [
            ("HealthCheckIntervalSeconds", interval),
            ("UnhealthyThresholdCount", threshold),
            ("HealthCheckTimeoutSeconds", timeout),
        ] {
            if let Some(value) = value {
                facts.push(Dynamic::from(Fact {
                    path: format!("{}.{field}", group.loc.path()),
                    value: Value::from(value),
                    label: None,
                }));
            }
        }
        let mut fields = json(&group.value).try_cast::<Map>().unwrap_or_default();
        fields.insert("path".into(), group.loc.path().into());
        map.insert("target_group".into(), Dynamic::from_map(fields));
    } else {
        map.insert("target_group".into(), Dynamic::UNIT);
    }
    map.insert("interval".into(), int(interval));
    map.insert("threshold".into(), int(threshold));
    map.insert("timeout".into(), int(timeout));
    let budget = interval
        .zip(threshold)
        .map(|(interval, threshold)| grace + interval * threshold);
    map.insert("budget".into(), int(budget));
    let started = task.started_at;
    let ended = task.stopping_at.or(task.stopped_at);
    let lived = started
        .zip(ended)
        .map(|(from, to)| from.0.seconds_until(to.0));
    map.insert("lived".into(), lived.map_or(Dynamic::UNIT, Dynamic::from));
    let ready = ready_line(t);
    let ready_after = ready.as_ref().and_then(|line| {
        let at = line.line().timestamp?;
        Some(started?.0.seconds_until(at))
    });
    map.insert(
        "ready_after".into(),
        ready_after.map_or(Dynamic::UNIT, Dynamic::from),
    );
    map.insert("ready_line".into(), option(ready));
    map.insert("facts".into(), facts.into());
    Dynamic::from_map(map)
}

pub(super) fn register(api: &mut Api<'_>) {
    api.ty::<TaskHandle>("Task", "task", "A task from DescribeTasks (stopped or running), with its logs, service and task definition.");
    macro_rules! strings {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(api.get(concat!($name, ": string"), concat!("The task's `", $name, "` as DescribeTasks returns it, or `\"\"`."), |t: &mut TaskHandle| string(t.task().$field.as_ref()));)*
        };
    }
    macro_rules! times {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(api.get(concat!($name, ": timestamp?"), concat!("The task's `", $name, "` timestamp, or `()`."), |t: &mut TaskHandle| time(t.task().$field));)*
        };
    }
    strings! {
        "taskArn" => task_arn, "clusterArn" => cluster_arn, "taskDefinitionArn" => task_definition_arn,
        "containerInstanceArn" => container_instance_arn, "group" => group, "startedBy" => started_by,
        "launchType" => launch_type, "capacityProviderName" => capacity_provider_name,
        "platformVersion" => platform_version, "platformFamily" => platform_family,
        "availabilityZone" => availability_zone, "connectivity" => connectivity,
        "lastStatus" => last_status, "desiredStatus" => desired_status, "healthStatus" => health_status,
        "stopCode" => stop_code, "stoppedReason" => stopped_reason, "cpu" => cpu, "memory" => memory,
    }
    times! {
        "createdAt" => created_at, "connectivityAt" => connectivity_at, "pullStartedAt" => pull_started_at,
        "pullStoppedAt" => pull_stopped_at, "startedAt" => started_at, "stoppingAt" => stopping_at,
        "executionStoppedAt" => execution_stopped_at, "stoppedAt" => stopped_at,
    }
    api
        .get("taskId", "The task id: the last part of the task ARN.", |t: &mut TaskHandle| t.record().task_id.clone())
        .get("serviceName", "The service that started the task (from `group`), or `\"\"` for a standalone task.", |t: &mut TaskHandle| {
            t.task()
                .group
                .as_deref()
                .and_then(|g| g.strip_prefix("service:"))
                .unwrap_or_default()
                .to_owned()
        })
        .get("containers", "The task's containers.", |t: &mut TaskHandle| {
            array((0..t.task().containers.len()).map(|index| ContainerHandle {
                ev: Arc::clone(&t.ev),
                task: t.index,
                index,
            }))
        })
        .get("attachments: array", "The task's attachments (the ENI of awsvpc tasks: subnet, private IP), as in AWS.", |t: &mut TaskHandle| {
            json(&t.task().attachments)
        })
        .get("ephemeralStorage: map?", "The task's ephemeral storage (`sizeInGiB`), or `()`.", |t: &mut TaskHandle| {
            t.task()
                .ephemeral_storage
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .get("attributes", "The task's attributes as a map of name to value.", |t: &mut TaskHandle| {
            let mut map = Map::new();
            for attribute in &t.task().attributes {
                if let Some(name) = &attribute.name {
                    map.insert(name.as_str().into(), string(attribute.value.as_ref()));
                }
            }
            map
        })
        .func("path(field)", "Cites a field of the task (`\"stoppedReason\"`, `\"containers[0].exitCode\"`) as a `Fact`.", |t: &mut TaskHandle, field: &str| {
            cite(&t.ev, &t.record().loc.path(), t.task(), field)
        })
        .func("container(name) -> Container?", "The container with this name, or `()`.", |t: &mut TaskHandle, name: &str| {
            option(
                t.task()
                    .containers
                    .iter()
                    .position(|c| c.name.as_deref() == Some(name))
                    .map(|index| ContainerHandle {
                        ev: Arc::clone(&t.ev),
                        task: t.index,
                        index,
                    }),
            )
        })
        .func("task_definition() -> TaskDefinition?", "The task definition revision the task ran, or `()` when the bundle lacks it.", |t: &mut TaskHandle| {
            option(
                t.record()
                    .task_definition
                    .map(|index| TaskDefinitionHandle {
                        ev: Arc::clone(&t.ev),
                        index,
                    }),
            )
        })
        .func("service() -> Service?", "The task's service, or `()` for a standalone task or when the bundle lacks it.", |t: &mut TaskHandle| {
            option(t.record().service.map(|index| ServiceHandle {
                ev: Arc::clone(&t.ev),
                index,
            }))
        })
        .func("logs()", "Every log line of the task's containers, oldest first.", |t: &mut TaskHandle| {
            log_lines(&t.ev, &t.record().task_id, None)
        })
        .func("logs(container)", "The log lines of one container, oldest first.", |t: &mut TaskHandle, container: &str| {
            log_lines(&t.ev, &t.record().task_id, Some(container))
        })
        .func("grep_logs(pattern)", "The task's log lines matching a regular expression (Rust `regex` syntax), oldest first.\nMuch faster than a loop over `logs()`.", |t: &mut TaskHandle, pattern: &str| {
            grep_logs(&t.ev, &t.record().task_id, None, pattern)
        })
        .func("grep_logs(container, pattern)", "The log lines of one container matching a regular expression, oldest first.",
            |t: &mut TaskHandle, container: &str, pattern: &str| {
                grep_logs(&t.ev, &t.record().task_id, Some(container), pattern)
            },
        )
        .func("pull_failure() -> map?", "The task's image pull failure, or `()`: a map of `text` (the error, from a container's\n`reason`, else the task's `stoppedReason`), `image`, `container`, `kind` (`image-not-found`,\n`image-pull-auth-denied`, `rate-limited`, `network`, `disk-full`, `platform-mismatch` or `unknown`), `why` (what gave the kind away, in a few words) and `fact` (the cited text).", |t: &mut TaskHandle| startup::pull_failure(t))
        .func("network_failure() -> map?", "The network failure that kept the task from starting, or `()`: only for a task that never\nstarted, when a container's `reason` (else the task's `stoppedReason`) names a network error\n(`i/o timeout`, `context deadline exceeded`, `no such host`, …, and the newer `connection issue\nbetween the task and …`) that no other failure mode owns (EFS, disk, throttling, permissions,\nmissing resources). A map of `text`, `fact` (the cited text), `container` (`\"\"` for the task's\nreason), `target` (`Amazon ECR`, `AWS Secrets Manager`, `Docker Hub`, a registry, …) and\n`cause` (a short name for the error).", |t: &mut TaskHandle| startup::network_failure(t))
        .func("subnet() -> map?", "The subnet of the task's network interface (awsvpc), as `#{ id, fact }`, or `()` for bridge\nand host networking.", |t: &mut TaskHandle| startup::subnet(t))
        .func("private_ip() -> any", "The task's private IPv4 address (awsvpc), or `\"\"`.", |t: &mut TaskHandle| startup::private_ip(t))
        .func("started_neighbours()", "Identical tasks (same task definition) that got past start-up, so could reach the endpoints\nthis one needed: started at most an hour before this task was created, in the same subnet\nwhen both are known. A map of `tasks` and `elsewhere` (those that started in another subnet).\nLooked up in an index, so it costs the same for one task as for a thousand.", |t: &mut TaskHandle| startup::started_neighbours(t))
        .func("stop_window() -> float?", "Seconds from `stoppingAt` to when the containers had stopped (`executionStoppedAt`, else\n`stoppedAt`), or `()`: how long the containers took to exit once ECS stopped the task.", |t: &mut TaskHandle| {
            let task = t.task();
            let from = task.stopping_at;
            from.zip(task.execution_stopped_at)
                .or_else(|| from.zip(task.stopped_at))
                .map_or(Dynamic::UNIT, |(from, to)| Dynamic::from(from.0.seconds_until(to.0)))
        })
        .func("events()", "The service events that name this task, oldest first.", |t: &mut TaskHandle| task_events(t))
        .func("neighbours()", "The other tasks of the same task definition revision, stopped or not: did identical\ntasks fare better?", |t: &mut TaskHandle| {
            // Other tasks of the same task definition: did identical tasks fare better?
            let me = t.task().task_definition_arn.clone();
            let index = t.index;
            task_handles(
                &t.ev,
                (0..t.ev.tasks.len()).filter(|&other| {
                    other != index
                        && me.is_some()
                        && t.ev.tasks[other].task.task_definition_arn == me
                }),
            )
        })
        .func("health_check() -> map?", "The health-check budget of a task behind a load balancer, or `()` when it has no service or\ntarget group. A map of `grace` (the service's grace period, seconds), `interval`,\n`threshold` and `timeout` (the target group's), `budget` (grace + interval × threshold),\n`lived` (seconds from `startedAt` to `stoppingAt`), `ready_line` and `ready_after` (the first\nlog line saying the app is up, and when, in seconds after start), `target_group`,\n`target_group_arn` and `facts` (the cited values).", |t: &mut TaskHandle| health_check(t))
        .func("ready_line() -> LogLine?", "The first log line saying the application is up and serving (`Listening on`, `Started … in`,\n`Uvicorn running`, …), or `()`.", |t: &mut TaskHandle| option(ready_line(t)))
        .func("is_stopped()", "Whether the task has stopped: `lastStatus` is `STOPPED`, or it is stopping (`desiredStatus`\n`STOPPED`) with a `stopCode`.", |t: &mut TaskHandle| {
            crate::evidence::is_stopped(t.task())
        })
        .func("to_string()", "`Task(<id>)`, for messages.", |t: &mut TaskHandle| {
            format!("Task({})", t.record().task_id)
        })
        .func("==(other)", "Whether two handles are the same task.", |a: &mut TaskHandle, b: TaskHandle| a.index == b.index);
}
