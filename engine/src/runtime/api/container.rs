//! `Container`: a container of a task, as DescribeTasks reports it after the task ran.

use std::sync::Arc;

use crate::runtime::api::{
    ContainerHandle, TaskHandle, cite, dependency_lines, grep_logs, int, json, log_lines, option,
    string,
};
use crate::runtime::registry::Api;

pub(super) fn register(api: &mut Api<'_>) {
    api.ty::<ContainerHandle>(
        "Container",
        "c",
        "A container of a task, as DescribeTasks reports it after the task ran.",
    );
    macro_rules! strings {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(api.get(concat!($name, ": string"), concat!("The container's `", $name, "` as DescribeTasks returns it, or `\"\"`."), |c: &mut ContainerHandle| string(c.container().$field.as_ref()));)*
        };
    }
    strings! {
        "containerArn" => container_arn, "name" => name, "image" => image, "imageDigest" => image_digest,
        "runtimeId" => runtime_id, "lastStatus" => last_status, "reason" => reason,
        "healthStatus" => health_status, "cpu" => cpu, "memory" => memory,
        "memoryReservation" => memory_reservation,
    }
    api.get(
        "exitCode: int?",
        "The container's exit code, or `()` when it never ran or ECS did not report one.",
        |c: &mut ContainerHandle| int(c.container().exit_code),
    )
    .get(
        "networkBindings: array",
        "The container's host port bindings (bridge and host network modes), as in AWS.",
        |c: &mut ContainerHandle| json(&c.container().network_bindings),
    )
    .get(
        "essential",
        "Whether the container is essential: its definition's `essential`, `true` when unset.",
        |c: &mut ContainerHandle| {
            // ECS treats a container as essential unless its definition says otherwise.
            c.definition()
                .is_none_or(|d| d.definition().essential.unwrap_or(true))
        },
    )
    .get(
        "oom_killed",
        "Whether the kernel killed the container for using more memory than its limit: its\n`reason` is `OutOfMemoryError: Container killed due to memory usage` (ECS's words for a\ncontainer- or task-level memory limit).",
        |c: &mut ContainerHandle| {
            c.container()
                .reason
                .as_deref()
                .is_some_and(crate::classify::exit::is_oom_kill)
        },
    )
    .get(
        "stop_timeout: int",
        "Seconds ECS waits after SIGTERM before it sends SIGKILL: the definition's `stopTimeout`,\nelse ECS's default of 30.",
        |c: &mut ContainerHandle| {
            c.definition()
                .and_then(|d| d.definition().stop_timeout)
                .unwrap_or(30)
        },
    )
    .func(
        "path(field)",
        "Cites a field of the container (`\"exitCode\"`, `\"reason\"`) as a `Fact`.",
        |c: &mut ContainerHandle, field: &str| cite(&c.ev, &c.path(), c.container(), field),
    )
    .func(
        "task()",
        "The container's task.",
        |c: &mut ContainerHandle| TaskHandle {
            ev: Arc::clone(&c.ev),
            index: c.task,
        },
    )
    .func(
        "definition() -> ContainerDefinition?",
        "The container's definition in the task definition, or `()`.",
        |c: &mut ContainerHandle| option(c.definition()),
    )
    .func(
        "logs()",
        "The container's log lines, oldest first.",
        |c: &mut ContainerHandle| {
            let task_id = c.ev.tasks[c.task].task_id.clone();
            log_lines(&c.ev, &task_id, c.container().name.as_deref())
        },
    )
    .func(
        "grep_logs(pattern)",
        "The container's log lines matching a regular expression, oldest first.",
        |c: &mut ContainerHandle, pattern: &str| {
            let task_id = &c.ev.tasks[c.task].task_id;
            grep_logs(&c.ev, task_id, c.container().name.as_deref(), pattern)
        },
    )
    .func(
        "dependency_failures()",
        "The container's log lines that report a failure to resolve, reach, secure or log in to a\ndependency (`dependency_failure(line.message)` is not `()`), oldest first.",
        |c: &mut ContainerHandle| {
            let task_id = &c.ev.tasks[c.task].task_id;
            dependency_lines(&c.ev, task_id, c.container().name.as_deref())
        },
    )
    .func(
        "to_string()",
        "`Container(<name>)`.",
        |c: &mut ContainerHandle| {
            format!(
                "Container({})",
                c.container().name.clone().unwrap_or_default()
            )
        },
    );
}
