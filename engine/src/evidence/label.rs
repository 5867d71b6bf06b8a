//! What a cited call is, in words a person can check without `bundle inspect`: the AWS CLI
//! file and the jq path in it for a folder replay (`describe-tasks.json: .tasks[0].stopCode`),
//! else the call's subject (`task 5f1c…: .stopCode`, `task definition api:6: .revision`,
//! `log stream ecs/api/5f1c…: .events[4].message`).

use crate::evidence::{Loc, View, revision_name};

/// `tasks[3].containers[0].exitCode` → (`tasks`, 3, `containers[0].exitCode`).
fn indexed(rest: &str) -> Option<(&str, usize, &str)> {
    let (name, tail) = rest.split_once('[')?;
    let (index, tail) = tail.split_once(']')?;
    let index = index.parse().ok()?;
    Some((name, index, tail.strip_prefix('.').unwrap_or(tail)))
}

fn at(loc: &Loc, call: usize, collection: &str, index: Option<usize>) -> bool {
    loc.call == call && loc.collection == collection && loc.index == index
}

/// The jq path in the file of a response path `rest`, given where the file's top level sits
/// in the response (`tasks[0]`; `taskDefinition=[0]`: response prefix, then file prefix).
fn in_file(rest: &str, root: Option<&str>) -> String {
    let Some(root) = root else {
        return format!(".{rest}");
    };
    let (response_prefix, file_prefix) = root.split_once('=').unwrap_or((root, ""));
    match rest.strip_prefix(response_prefix) {
        Some(tail) if tail.is_empty() || tail.starts_with(['.', '[']) => {
            let path = format!("{file_prefix}{tail}");
            if path.starts_with('.') {
                path
            } else {
                format!(".{path}")
            }
        }
        _ => format!(".{rest}"),
    }
}

impl View {
    /// The label of an evidence path, or `None` when it is not a path into a call's response.
    pub fn label(&self, path: &str) -> Option<String> {
        let (call, rest) = super::cited::split_call(path)?;
        if let Some((file, root)) = self.call_sources.get(call).and_then(Option::as_ref) {
            return Some(format!("{file}: {}", in_file(rest, root.as_deref())));
        }
        let operation = self
            .present_calls
            .get(call)
            .map_or("", |(_, op)| op.as_str());
        let subject = |what: String, tail: &str| {
            Some(if tail.is_empty() {
                what
            } else {
                format!("{what}: .{tail}")
            })
        };
        if let Some(tail) = rest.strip_prefix("taskDefinition")
            && let Some(record) = self.task_definitions.iter().find(|r| r.loc.call == call)
        {
            let tail = tail.strip_prefix('.').unwrap_or(tail);
            return subject(
                format!("task definition {}", revision_name(&record.definition)),
                tail,
            );
        }
        if let Some((collection, index, tail)) = indexed(rest) {
            let found = match collection {
                "tasks" => self
                    .tasks
                    .iter()
                    .find(|r| at(&r.loc, call, "tasks", Some(index)))
                    .map(|r| format!("task {}", r.task_id)),
                "services" => self
                    .services
                    .iter()
                    .find(|r| at(&r.loc, call, "services", Some(index)))
                    .and_then(|r| r.value.service_name.clone())
                    .map(|name| format!("service {name}")),
                "containerInstances" => self
                    .container_instances
                    .iter()
                    .find(|r| at(&r.loc, call, "containerInstances", Some(index)))
                    .and_then(|r| r.value.ec2_instance_id.clone())
                    .map(|id| format!("container instance {id}")),
                "TargetGroups" => self
                    .target_groups
                    .iter()
                    .find(|r| r.loc.call == call && r.loc.index == Some(index))
                    .and_then(|r| r.value.target_group_name.clone())
                    .map(|name| format!("target group {name}")),
                "events" if operation.ends_with("LogEvents") => self
                    .log_streams
                    .iter()
                    .find(|s| {
                        s.lines
                            .iter()
                            .any(|l| l.loc.call == call && l.loc.index == Some(index))
                    })
                    .and_then(|s| s.stream.clone())
                    .map(|stream| format!("log stream {stream}")),
                _ => None,
            };
            if let Some(what) = found {
                // Log lines keep their index, the only thing that tells them apart.
                return if collection == "events" {
                    subject(what, rest)
                } else {
                    subject(what, tail)
                };
            }
        }
        if operation == "DescribeTargetHealth"
            && let Some(set) = self
                .target_health
                .iter()
                .find(|set| set.targets.iter().any(|t| t.loc.call == call))
            && let Some(arn) = set.target_group_arn.as_deref()
        {
            let name = self
                .target_groups
                .iter()
                .find(|g| g.value.target_group_arn.as_deref() == Some(arn))
                .and_then(|g| g.value.target_group_name.clone())
                .unwrap_or_else(|| arn.rsplit(':').next().unwrap_or(arn).to_owned());
            return subject(format!("target health in {name}"), rest);
        }
        Some(if operation.is_empty() {
            format!("call {call}: .{rest}")
        } else {
            format!("{operation}: .{rest}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::in_file;

    #[test]
    fn paths_in_a_reshaped_file_start_where_the_file_starts() {
        assert_eq!(in_file("tasks[0].stopCode", None), ".tasks[0].stopCode");
        assert_eq!(in_file("tasks[0].stopCode", Some("tasks[0]")), ".stopCode");
        assert_eq!(in_file("tasks[3].stopCode", Some("tasks")), ".[3].stopCode");
        assert_eq!(
            in_file("taskDefinition.revision", Some("taskDefinition")),
            ".revision"
        );
        assert_eq!(
            in_file("taskDefinition.revision", Some("taskDefinition=[0]")),
            ".[0].revision"
        );
        assert_eq!(in_file("events[4].message", Some("events")), ".[4].message");
    }
}
