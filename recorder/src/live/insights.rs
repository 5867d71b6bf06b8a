//! Evidence beyond the stopped task: the cluster's Container Insights setting, Logs Insights
//! queries (the memory of OOM-killed tasks over their last hours; error-like lines across a
//! failing service's log groups) and CloudTrail's record of who stopped a task, deployed a
//! service or registered the revision it rolled out.
//!
//! Every call here is optional: a failure is recorded like any other and the rest goes on.
//! Each query is bounded in time range (`MEMORY_HISTORY_MS`, `PATTERN_WINDOW_MS`), in rows
//! (`QUERY_LIMIT`) and in how long it is waited for (`poll_delay`, `MAX_POLLS`); a query still
//! running after its last poll is stopped, and its last poll is what the bundle keeps.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use futures_util::future::join_all;
use serde_json::Value;

use super::{Ctx, Window, all_pages, stopped_at};
use crate::bundle::{Call, Operation};

/// OOM-killed tasks whose memory is queried, the most recent first.
pub const MEMORY_QUERIES: usize = 5;
/// How far back from the kill a task's memory is read (a longer-lived task is read for its
/// last six hours: enough to tell a leak's rate).
pub const MEMORY_HISTORY_MS: i64 = 6 * 60 * 60 * 1000;
/// Services whose log groups are searched for error patterns, those with the most failed
/// stops first.
pub const PATTERN_QUERIES: usize = 5;
/// A service's failed stops before the pattern search is worth a query.
pub const PATTERN_MIN_STOPS: usize = 2;
/// The pattern search starts this long before the first failed stop…
const PATTERN_LEAD_MS: i64 = 60 * 60 * 1000;
/// …and covers at most this long, ending at the last one.
pub const PATTERN_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// Rows a query returns at most (one GetQueryResults page).
pub const QUERY_LIMIT: i32 = 10_000;
/// Polls of GetQueryResults before a query is given up (about 80 seconds, `poll_delay`).
const MAX_POLLS: u32 = 20;
/// CloudTrail lookups per recording, and pages of 50 events each.
const TRAIL_LOOKUPS: usize = 8;
const TRAIL_PAGES: usize = 3;
/// CloudTrail keeps management events this long.
const TRAIL_DAYS_MS: i64 = 90 * 24 * 60 * 60 * 1000;

/// The Container Insights performance log group of a cluster.
pub fn performance_group(cluster: &str) -> String {
    let name = cluster.rsplit('/').next().unwrap_or(cluster);
    format!("/aws/ecs/containerinsights/{name}/performance")
}

/// The Logs Insights query for one task's memory, one row a minute per container and for the
/// task as a whole, in MB. After the query AWS's Knowledge Center gives for OOM kills
/// (repost.aws/knowledge-center/ecs-resolve-outofmemory-errors).
pub fn memory_query(task_id: &str) -> String {
    format!(
        "filter TaskId = \"{task_id}\" and (Type = \"Container\" or Type = \"Task\")\n\
         | stats max(MemoryUtilized) as memory_used_mb, max(MemoryReserved) as memory_reserved_mb by bin(1m) as minute, Type, ContainerName\n\
         | sort minute asc\n\
         | limit {QUERY_LIMIT}"
    )
}

/// The Logs Insights query for error-like lines: a superset of what the report counts as an
/// error (the engine's `is_error_like`), newest first.
pub fn pattern_query() -> String {
    format!(
        "fields @timestamp, @logStream, @message\n\
         | filter @message like /(?i)(err|fatal|panic|crit|traceback|fail|refused|timed? ?out|killed|out of memory|oom|segmentation fault|sigsegv|unhandled|uncaught|exception)/\n\
         | sort @timestamp desc\n\
         | limit {QUERY_LIMIT}"
    )
}

/// How long to wait before poll `n` (from 0): half a second more each time, at most five.
fn poll_delay(n: u32) -> std::time::Duration {
    std::time::Duration::from_millis(u64::from((n + 1).min(10)) * 500)
}

/// Whether a task was killed for memory, or with the exit code the kernel's OOM killer leaves.
fn oom_killed(task: &aws_sdk_ecs::types::Task) -> bool {
    let says_oom = |text: Option<&str>| {
        text.is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            t.contains("outofmemory") || t.contains("out of memory")
        })
    };
    says_oom(task.stopped_reason())
        || task
            .containers()
            .iter()
            .any(|c| says_oom(c.reason()) || c.exit_code() == Some(137))
}

/// Whether a task stopped failing: an essential container exited non-zero, or health checks
/// or the load balancer stopped it.
fn failed(task: &aws_sdk_ecs::types::Task) -> bool {
    let reason = task
        .stopped_reason()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let exited = task
        .stop_code()
        .is_some_and(|c| c.as_str() == "EssentialContainerExited")
        && task
            .containers()
            .iter()
            .any(|c| c.exit_code().is_some_and(|code| code != 0));
    exited || reason.contains("health check") || oom_killed(task)
}

fn task_id(task: &aws_sdk_ecs::types::Task) -> Option<&str> {
    task.task_arn()
        .and_then(|arn| arn.rsplit('/').next())
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// Drops every GetQueryResults poll but the last of each query, so that the bundle holds each
/// query's final answer once.
pub fn keep_last_polls(calls: &mut Vec<Call>) {
    let query_of = |call: &Call| {
        (call.known_operation() == Some(Operation::GetQueryResults))
            .then(|| {
                call.request
                    .get("queryId")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .flatten()
    };
    let mut last: BTreeMap<String, usize> = BTreeMap::new();
    for (index, call) in calls.iter().enumerate() {
        if let Some(query) = query_of(call) {
            last.insert(query, index);
        }
    }
    let mut index = 0;
    calls.retain(|call| {
        let keep = query_of(call).is_none_or(|query| last.get(&query) == Some(&index));
        index += 1;
        keep
    });
}

impl Ctx {
    /// Whether Container Insights is on for the cluster (`include: ["SETTINGS"]`).
    pub(super) async fn describe_cluster(&self, cluster: &str) {
        self.call(Operation::DescribeClusters, None, None, |capture| {
            self.ecs
                .describe_clusters()
                .clusters(cluster)
                .include(aws_sdk_ecs::types::ClusterField::Settings)
                .customize()
                .interceptor(capture)
                .send()
        })
        .await;
    }

    /// Runs one Logs Insights query to the end, or stops it after `MAX_POLLS` polls. Times are
    /// epoch milliseconds; the API takes seconds (the start rounded down, the end up).
    async fn query(&self, groups: &[String], window: (i64, i64), query: String) {
        let (start, end) = window;
        let started = self
            .call(Operation::StartQuery, None, None, |capture| {
                self.logs
                    .start_query()
                    .set_log_group_names(Some(groups.to_vec()))
                    .start_time(start.div_euclid(1000))
                    .end_time((end + 999).div_euclid(1000))
                    .query_string(query)
                    .limit(QUERY_LIMIT)
                    .customize()
                    .interceptor(capture)
                    .send()
            })
            .await;
        let Some(id) = started.and_then(|out| out.query_id) else {
            return;
        };
        for n in 0..MAX_POLLS {
            if n > 0 {
                tokio::time::sleep(poll_delay(n)).await;
            }
            let poll = self
                .call(Operation::GetQueryResults, None, None, |capture| {
                    self.logs
                        .get_query_results()
                        .query_id(&id)
                        .customize()
                        .interceptor(capture)
                        .send()
                })
                .await;
            let Some(poll) = poll else { return };
            let running = poll.status.as_ref().is_none_or(|status| {
                matches!(
                    status,
                    aws_sdk_cloudwatchlogs::types::QueryStatus::Scheduled
                        | aws_sdk_cloudwatchlogs::types::QueryStatus::Running
                )
            });
            if !running {
                return;
            }
        }
        self.call(Operation::StopQuery, None, None, |capture| {
            self.logs
                .stop_query()
                .query_id(&id)
                .customize()
                .interceptor(capture)
                .send()
        })
        .await;
    }

    /// The memory of the most recent OOM-killed tasks, each over its last hours.
    pub(super) async fn memory_history(
        &self,
        cluster: &str,
        selected: &[&aws_sdk_ecs::types::Task],
    ) {
        let group = performance_group(cluster);
        let killed = selected
            .iter()
            .filter(|task| oom_killed(task))
            .filter_map(|task| {
                let window = Window::of(task);
                let stop = window.stop?;
                let start = window
                    .start
                    .unwrap_or(stop - MEMORY_HISTORY_MS)
                    .max(stop - MEMORY_HISTORY_MS);
                // A minute before (the first sample) and two after (the last one is flushed
                // after the kill).
                Some((task_id(task)?, (start - 60_000, stop + 120_000)))
            })
            .take(MEMORY_QUERIES);
        join_all(killed.map(|(id, window)| {
            self.query(std::slice::from_ref(&group), window, memory_query(id))
        }))
        .await;
    }

    /// For each service with `PATTERN_MIN_STOPS` or more failed stops, its log groups searched
    /// for error-like lines from an hour before the first of them to the last.
    pub(super) async fn error_patterns(
        &self,
        selected: &[&aws_sdk_ecs::types::Task],
        definitions: &[aws_sdk_ecs::types::TaskDefinition],
    ) {
        let mut by_service: BTreeMap<&str, Vec<&aws_sdk_ecs::types::Task>> = BTreeMap::new();
        for task in selected.iter().filter(|task| failed(task)) {
            if let Some(group) = task.group().filter(|g| g.starts_with("service:")) {
                by_service.entry(group).or_default().push(task);
            }
        }
        let mut services: Vec<(&str, Vec<&aws_sdk_ecs::types::Task>)> = by_service
            .into_iter()
            .filter(|(_, tasks)| tasks.len() >= PATTERN_MIN_STOPS)
            .collect();
        services.sort_by_key(|(name, tasks)| (std::cmp::Reverse(tasks.len()), *name));
        let queries = services
            .into_iter()
            .take(PATTERN_QUERIES)
            .filter_map(|(_, tasks)| {
                let groups: BTreeSet<String> = super::log_streams(&tasks, definitions)
                    .into_keys()
                    .map(|(group, _)| group)
                    .collect();
                let stops: Vec<i64> = tasks
                    .iter()
                    .filter_map(|t| stopped_at(t).map(|t| t.millis))
                    .collect();
                let last = *stops.iter().max()?;
                let first = *stops.iter().min()?;
                let start = (first - PATTERN_LEAD_MS).max(last - PATTERN_WINDOW_MS);
                let groups: Vec<String> = groups.into_iter().take(50).collect();
                (!groups.is_empty()).then_some((groups, (start, last + 60_000)))
            })
            .collect::<Vec<_>>();
        join_all(
            queries
                .iter()
                .map(|(groups, window)| self.query(groups, *window, pattern_query())),
        )
        .await;
    }

    /// CloudTrail: `StopTask` around each user-stopped task's stop, and for each service with
    /// a failing deployment, `UpdateService` and `CreateService` around its start and
    /// `RegisterTaskDefinition` around its revision's registration. At most `TRAIL_LOOKUPS`
    /// lookups, none older than CloudTrail's 90 days.
    pub(super) async fn who(
        &self,
        selected: &[&aws_sdk_ecs::types::Task],
        services: &[aws_sdk_ecs::types::Service],
        definitions: &[aws_sdk_ecs::types::TaskDefinition],
    ) {
        let millis = |t: Option<&aws_smithy_types::DateTime>| t.and_then(|t| t.to_millis().ok());
        let mut lookups: Vec<(&'static str, (i64, i64))> = Vec::new();
        let minute = 60_000;
        for task in selected {
            if task
                .stop_code()
                .is_some_and(|c| c.as_str() == "UserInitiated")
            {
                let Some(stop) = millis(task.stopped_at()) else {
                    continue;
                };
                let stopping = millis(task.stopping_at()).unwrap_or(stop);
                lookups.push(("StopTask", (stopping - 10 * minute, stop + 5 * minute)));
            }
        }
        for service in services {
            let failing = service.deployments().iter().find(|d| {
                d.rollout_state().is_some_and(|s| s.as_str() == "FAILED") || d.failed_tasks() > 0
            });
            let Some(deployment) = failing else { continue };
            if let Some(created) = millis(deployment.created_at()) {
                lookups.push((
                    "UpdateService",
                    (created - 2 * minute, created + 2 * minute),
                ));
                if millis(service.created_at()).is_some_and(|c| (c - created).abs() <= 2 * minute) {
                    lookups.push((
                        "CreateService",
                        (created - 2 * minute, created + 2 * minute),
                    ));
                }
            }
            let registered = definitions
                .iter()
                .find(|d| d.task_definition_arn() == deployment.task_definition())
                .and_then(|d| millis(d.registered_at()));
            if let Some(registered) = registered {
                lookups.push((
                    "RegisterTaskDefinition",
                    (registered - 2 * minute, registered + 2 * minute),
                ));
            }
        }
        let lookups = merge_windows(lookups);
        let oldest = self.recorded_at.map_or(i64::MIN, |now| now - TRAIL_DAYS_MS);
        join_all(
            lookups
                .into_iter()
                .filter(|(_, (_, end))| *end > oldest)
                .take(TRAIL_LOOKUPS)
                .map(|(name, (start, end))| self.lookup_events(name, start.max(oldest), end)),
        )
        .await;
    }

    async fn lookup_events(&self, name: &'static str, start: i64, end: i64) {
        let attribute = LookupAttribute::builder()
            .attribute_key(LookupAttributeKey::EventName)
            .attribute_value(name)
            .build();
        let Ok(attribute) = attribute else { return };
        all_pages(TRAIL_PAGES, |token| {
            let attribute = attribute.clone();
            async move {
                self.call(Operation::LookupEvents, None, None, |capture| {
                    self.trail
                        .lookup_events()
                        .lookup_attributes(attribute)
                        .start_time(aws_smithy_types::DateTime::from_millis(start))
                        .end_time(aws_smithy_types::DateTime::from_millis(end))
                        .max_results(50)
                        .set_next_token(token)
                        .customize()
                        .interceptor(capture)
                        .send()
                })
                .await
                .map(|page| (page.events.unwrap_or_default(), page.next_token))
            }
        })
        .await;
    }
}

/// One lookup per event name and run of overlapping windows, in order.
fn merge_windows(mut lookups: Vec<(&'static str, (i64, i64))>) -> Vec<(&'static str, (i64, i64))> {
    lookups.sort_unstable();
    let mut merged: Vec<(&'static str, (i64, i64))> = Vec::new();
    for (name, (start, end)) in lookups {
        match merged.last_mut() {
            Some((last, (_, last_end))) if *last == name && start <= *last_end => {
                *last_end = (*last_end).max(end);
            }
            _ => merged.push((name, (start, end))),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn overlapping_windows_of_one_event_are_one_lookup() {
        let merged = merge_windows(vec![
            ("StopTask", (10, 20)),
            ("UpdateService", (15, 30)),
            ("StopTask", (18, 40)),
            ("StopTask", (50, 60)),
        ]);
        assert_eq!(
            merged,
            vec![
                ("StopTask", (10, 40)),
                ("StopTask", (50, 60)),
                ("UpdateService", (15, 30)),
            ]
        );
    }

    #[test]
    fn polls_wait_longer_each_time_up_to_five_seconds() {
        let total: u128 = (1..MAX_POLLS).map(|n| poll_delay(n).as_millis()).sum();
        assert_eq!(poll_delay(1).as_millis(), 1000);
        assert_eq!(poll_delay(30).as_millis(), 5000);
        assert!((60_000..=90_000).contains(&total), "{total}");
    }

    #[test]
    fn only_the_last_poll_of_each_query_is_kept() {
        let poll = |id: &str, status: &str| {
            let raw = serde_json::value::to_raw_value(&json!({"status": status, "results": []}))
                .expect("json");
            Call::new(Operation::GetQueryResults, json!({"queryId": id}), raw).expect("call")
        };
        let mut calls = vec![
            poll("a", "Running"),
            poll("b", "Running"),
            poll("a", "Complete"),
            poll("b", "Running"),
        ];
        keep_last_polls(&mut calls);
        let kept: Vec<String> = calls
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c.request["queryId"],
                    c.response
                        .as_ref()
                        .map(|r| r.get().to_owned())
                        .unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(
            kept,
            vec![
                r#""a" {"results":[],"status":"Complete"}"#,
                r#""b" {"results":[],"status":"Running"}"#
            ]
        );
    }
}
