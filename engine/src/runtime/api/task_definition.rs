//! `TaskDefinition` and `ContainerDefinition`: a revision from DescribeTaskDefinition and
//! its container definitions.

use std::sync::Arc;

use rhai::{Array, Dynamic, Map};
use serde_json::Value;

use crate::model::Fact;
use crate::runtime::api::{
    ContainerDefinitionHandle, TaskDefinitionHandle, array, cite, container_definition, held_fact,
    int, json, option, string,
};
use crate::runtime::registry::Api;

pub(super) fn register(api: &mut Api<'_>) {
    api
        .ty::<TaskDefinitionHandle>("TaskDefinition", "td", "A task definition revision from DescribeTaskDefinition.")
        .get("taskDefinitionArn: string", "The task definition ARN.", |d: &mut TaskDefinitionHandle| {
            string(d.definition().task_definition_arn.as_ref())
        })
        .get("family: string", "The family name.", |d: &mut TaskDefinitionHandle| {
            string(d.definition().family.as_ref())
        })
        .get("revision: int?", "The revision number.", |d: &mut TaskDefinitionHandle| {
            int(d.definition().revision)
        })
        .get("status: string", "`ACTIVE` or `INACTIVE`.", |d: &mut TaskDefinitionHandle| {
            string(d.definition().status.as_ref())
        })
        .get("networkMode: string", "`awsvpc`, `bridge`, `host` or `none`; `\"\"` when unset.", |d: &mut TaskDefinitionHandle| {
            string(d.definition().network_mode.as_ref())
        })
        .get("cpu: string", "Task-level CPU units, as the string AWS returns (`\"1024\"`).", |d: &mut TaskDefinitionHandle| {
            string(d.definition().cpu.as_ref())
        })
        .get("memory: string", "Task-level memory in MiB, as the string AWS returns (`\"2048\"`).", |d: &mut TaskDefinitionHandle| {
            string(d.definition().memory.as_ref())
        })
        .get("taskRoleArn: string", "The task role ARN, or `\"\"`.", |d: &mut TaskDefinitionHandle| {
            string(d.definition().task_role_arn.as_ref())
        })
        .get("executionRoleArn: string", "The task execution role ARN, or `\"\"`.", |d: &mut TaskDefinitionHandle| {
            string(d.definition().execution_role_arn.as_ref())
        })
        .get("requiresCompatibilities: array", "The launch types it requires (`[\"FARGATE\"]`).", |d: &mut TaskDefinitionHandle| {
            json(&d.definition().requires_compatibilities)
        })
        .get("runtimePlatform: map?", "`cpuArchitecture` and `operatingSystemFamily`, or `()`.", |d: &mut TaskDefinitionHandle| {
            d.definition()
                .runtime_platform
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .get("volumes: array", "The volumes (EFS, bind mounts, Docker volumes), as in AWS.", |d: &mut TaskDefinitionHandle| {
            json(&d.definition().volumes)
        })
        .get("containerDefinitions", "The container definitions.", |d: &mut TaskDefinitionHandle| {
            array(
                (0..d.definition().container_definitions.len()).map(|index| {
                    ContainerDefinitionHandle {
                        ev: Arc::clone(&d.ev),
                        definition: d.index,
                        index,
                    }
                }),
            )
        })
        .func("path(field)", "Cites a field of the task definition as a `Fact`.", |d: &mut TaskDefinitionHandle, field: &str| {
            cite(
                &d.ev,
                &d.ev.task_definitions[d.index].loc.path(),
                d.definition(),
                field,
            )
        })
        .func("container_definition(name) -> ContainerDefinition?", "The container definition with this name, or `()`.",
            |d: &mut TaskDefinitionHandle, name: &str| {
                option(container_definition(&d.ev, d.index, name))
            },
        )
        .func("changes()", "What changed since the previous revision of the family in the bundle (empty when there is\nnone): maps of `text` (\"image: app:1.4 → app:1.5\"), `field`, `container`, `before`,\n`after`, `facts` (the field in the older and the newer revision; for environment variables\nthe name of each one involved) and `fact` (the last of them). Environment variables are\ncompared by name only.", |d: &mut TaskDefinitionHandle| {
            let Some(previous) = d.ev.previous_revision(d.index) else {
                return Array::new();
            };
            let before = &d.ev.task_definitions[previous].definition;
            let before_path = d.ev.task_definitions[previous].loc.path();
            let path = d.ev.task_definitions[d.index].loc.path();
            crate::diff::changes(before, d.definition(), &before_path, &path)
                .into_iter()
                .map(|change| {
                    let mut map = Map::new();
                    map.insert("text".into(), change.describe().into());
                    map.insert("field".into(), change.field.clone().into());
                    map.insert("container".into(), string(change.container.as_ref()));
                    map.insert("before".into(), json(&change.before));
                    map.insert("after".into(), json(&change.after));
                    let facts: Array = change
                        .cited
                        .iter()
                        .map(|path| Dynamic::from(held_fact(&d.ev, path)))
                        .collect();
                    map.insert("fact".into(), facts.last().cloned().unwrap_or(Dynamic::UNIT));
                    map.insert("facts".into(), facts.into());
                    Dynamic::from_map(map)
                })
                .collect::<Array>()
        })
        .func("previous_revision() -> TaskDefinition?", "The previous revision of the same family in the bundle, or `()`.", |d: &mut TaskDefinitionHandle| {
            option(
                d.ev.previous_revision(d.index)
                    .map(|index| TaskDefinitionHandle {
                        ev: Arc::clone(&d.ev),
                        index,
                    }),
            )
        })
        .func("to_string()", "`family:revision`.", |d: &mut TaskDefinitionHandle| {
            crate::evidence::revision_name(d.definition())
        });

    api.ty::<ContainerDefinitionHandle>("ContainerDefinition", "def", "A container definition of a task definition. Environment variable values are never\nreadable: redaction removes them and rules see names only.");
    macro_rules! ints {
        ($($name:literal => $field:ident),* $(,)?) => {
            $(api.get(concat!($name, ": int?"), concat!("The container definition's `", $name, "`, or `()` when unset."), |c: &mut ContainerDefinitionHandle| int(c.definition().$field));)*
        };
    }
    ints! {
        "cpu" => cpu, "memory" => memory, "memoryReservation" => memory_reservation,
        "startTimeout" => start_timeout, "stopTimeout" => stop_timeout,
    }
    api
        .get("name: string", "The container name.", |c: &mut ContainerDefinitionHandle| {
            string(c.definition().name.as_ref())
        })
        .get("image: string", "The image reference as written in the task definition.", |c: &mut ContainerDefinitionHandle| {
            string(c.definition().image.as_ref())
        })
        .get("user: string", "The `user` the container runs as, or `\"\"`.", |c: &mut ContainerDefinitionHandle| {
            string(c.definition().user.as_ref())
        })
        .get("essential", "Whether the container is essential (`true` when unset).", |c: &mut ContainerDefinitionHandle| {
            c.definition().essential.unwrap_or(true)
        })
        .get("command: array?", "The command array, or `()`.", |c: &mut ContainerDefinitionHandle| {
            c.definition().command.as_ref().map_or(Dynamic::UNIT, json)
        })
        .get("entryPoint: array?", "The entry point array, or `()`.", |c: &mut ContainerDefinitionHandle| {
            c.definition()
                .entry_point
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .get("secrets: array", "The secrets: maps of `name` and `valueFrom` (an ARN, never a value).", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().secrets)
        })
        .get("portMappings: array", "The port mappings, as in AWS.", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().port_mappings)
        })
        .get("environmentFiles: array", "The environment files (`value` is an S3 ARN, `type` is `s3`).", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().environment_files)
        })
        .get("mountPoints: array", "The mount points (`sourceVolume`, `containerPath`, `readOnly`).", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().mount_points)
        })
        .get("dependsOn: array", "The container dependencies (`containerName`, `condition`).", |c: &mut ContainerDefinitionHandle| {
            json(&c.definition().depends_on)
        })
        .get("healthCheck: map?", "The container health check (`command`, `interval`, `timeout`, `retries`, `startPeriod`), or `()`.", |c: &mut ContainerDefinitionHandle| {
            c.definition()
                .health_check
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .get("logConfiguration: map?", "The log configuration (`logDriver`, `options`), or `()`.", |c: &mut ContainerDefinitionHandle| {
            c.definition()
                .log_configuration
                .as_ref()
                .map_or(Dynamic::UNIT, json)
        })
        .get("repositoryCredentials: map?", "The private registry credentials (`credentialsParameter`, an ARN), or `()`.",
            |c: &mut ContainerDefinitionHandle| {
                c.definition()
                    .repository_credentials
                    .as_ref()
                    .map_or(Dynamic::UNIT, json)
            },
        )
        .func("mapped_ports()", "The ports the container maps, container ports and then host ports (0 left out), each once,\nin the order of `portMappings`.", |c: &mut ContainerDefinitionHandle| {
            let mut ports: Vec<i64> = Vec::new();
            for mapping in &c.definition().port_mappings {
                let container = mapping.get("containerPort").and_then(Value::as_i64);
                let host = mapping
                    .get("hostPort")
                    .and_then(Value::as_i64)
                    .filter(|&port| port != 0);
                for port in [container, host].into_iter().flatten() {
                    if !ports.contains(&port) {
                        ports.push(port);
                    }
                }
            }
            ports.into_iter().map(Dynamic::from).collect::<Array>()
        })
        .func("env_names()", "The names of the environment variables (never their values).", |c: &mut ContainerDefinitionHandle| {
            c.definition()
                .environment
                .iter()
                .filter_map(|kv| kv.name.clone())
                .map(Dynamic::from)
                .collect::<Array>()
        })
        .func("has_env(name)", "Whether an environment variable or a secret with this name is defined.",
            |c: &mut ContainerDefinitionHandle, name: &str| {
                let definition = c.definition();
                definition
                    .environment
                    .iter()
                    .any(|kv| kv.name.as_deref() == Some(name))
                    || definition
                        .secrets
                        .iter()
                        .any(|s| s.name.as_deref() == Some(name))
            },
        )
        .func("env_path(name) -> Fact?", "Cites an environment variable or secret by name (never its value) as a `Fact`, or `()`.",
            |c: &mut ContainerDefinitionHandle, name: &str| {
                // Cites the variable's name only: values may be secrets.
                let definition = c.definition();
                if let Some(index) = definition
                    .environment
                    .iter()
                    .position(|kv| kv.name.as_deref() == Some(name))
                {
                    return option(Some(Fact {
                        path: format!("{}.environment[{index}].name", c.path()),
                        value: Value::String(name.to_owned()), label: None, }));
                }
                let secret = definition
                    .secrets
                    .iter()
                    .position(|s| s.name.as_deref() == Some(name));
                option(secret.map(|index| Fact {
                    path: format!("{}.secrets[{index}].name", c.path()),
                    value: Value::String(name.to_owned()), label: None, }))
            },
        )
        .func("path(field)", "Cites a field of the container definition as a `Fact`. Fails for `environment`: use\n`env_path(name)`.", |c: &mut ContainerDefinitionHandle, field: &str| {
            if field == "environment" || field.starts_with("environment[") {
                return Err(
                    "cite environment variables with env_path(name): their values may be secrets"
                        .into(),
                );
            }
            cite(&c.ev, &c.path(), c.definition(), field)
        })
        .func("to_string()", "`ContainerDefinition(<name>)`.", |c: &mut ContainerDefinitionHandle| {
            format!(
                "ContainerDefinition({})",
                c.definition().name.clone().unwrap_or_default()
            )
        });
}
