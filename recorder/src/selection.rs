//! Which stopped tasks a diagnosis covers. The recorder uses this to decide whose logs and
//! definitions to fetch, and the evidence view to decide which tasks to report, so a replay
//! always covers exactly the tasks the live collection prepared.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::time::Timestamp;

/// `manifest.selection.limits` key: stopped tasks that stopped earlier are ignored.
pub const STOPPED_AFTER: &str = "stopped_after";
/// `manifest.selection.limits` key: only this many stopped tasks, the most recent.
pub const MAX_STOPPED_TASKS: &str = "max_stopped_tasks";

/// `manifest.selection.limits` key: only the stopped tasks of these services (an array of
/// names), and only these services, are diagnosed. `replay --service` sets it in memory.
pub const SERVICES_ONLY: &str = "services_only";
/// The `manifest.selection.limits` key of the log lines read from the end of each stream: a
/// stream read whole (FilterLogEvents) shows the same last lines.
pub const LOG_LINES: &str = "log_lines";

/// The services `manifest.selection.limits` narrows a diagnosis to, when it does.
pub fn services_only(limits: &BTreeMap<String, Value>) -> Option<Vec<String>> {
    let names = limits.get(SERVICES_ONLY)?.as_array()?;
    Some(
        names
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
    )
}

/// Whether a task's `group` (`service:NAME`) names one of `only`: the narrowing the collector
/// and the evidence view must make alike.
pub fn in_services(group: Option<&str>, only: &[String]) -> bool {
    group
        .and_then(|g| g.strip_prefix("service:"))
        .is_some_and(|name| only.iter().any(|o| o == name))
}

/// A task counts as stopped when ECS says so, or when it is on its way there with a stop code.
pub fn is_stopped(
    last_status: Option<&str>,
    desired_status: Option<&str>,
    has_stop_code: bool,
) -> bool {
    last_status == Some("STOPPED") || (desired_status == Some("STOPPED") && has_stop_code)
}

/// The bounds of a selection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub stopped_after: Option<Timestamp>,
    pub max_stopped_tasks: Option<usize>,
}

impl Limits {
    /// Reads the bounds from `manifest.selection.limits`.
    pub fn from_manifest(limits: &BTreeMap<String, Value>) -> Limits {
        Limits {
            stopped_after: limits
                .get(STOPPED_AFTER)
                .and_then(Value::as_str)
                .and_then(Timestamp::parse_iso),
            max_stopped_tasks: limits
                .get(MAX_STOPPED_TASKS)
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok()),
        }
    }

    /// The stopped tasks to keep, given as `(stopped_at, arn)`: those that stopped after
    /// `stopped_after` (or whose stop time is unknown), at most `max_stopped_tasks` of them,
    /// newest first, ties broken by ARN.
    pub fn select<'a>(
        &self,
        stopped: impl IntoIterator<Item = (Option<Timestamp>, Option<&'a str>)>,
    ) -> Vec<Option<&'a str>> {
        let mut kept: Vec<(Option<Timestamp>, Option<&str>)> = stopped
            .into_iter()
            .filter(|(at, _)| match (self.stopped_after, at) {
                (Some(after), Some(at)) => *at >= after,
                _ => true,
            })
            .collect();
        kept.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        if let Some(max) = self.max_stopped_tasks {
            kept.truncate(max);
        }
        kept.into_iter().map(|(_, arn)| arn).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_within_the_window() {
        let at = |s: i64| Some(Timestamp::from_millis(s * 1000));
        let tasks = [
            (at(1), Some("old")),
            (at(3), Some("new")),
            (at(2), Some("mid")),
            (None, Some("unknown")),
        ];
        let all = Limits::default();
        assert_eq!(
            all.select(tasks),
            [Some("new"), Some("mid"), Some("old"), Some("unknown")]
        );
        let window = Limits {
            stopped_after: at(2),
            max_stopped_tasks: None,
        };
        assert_eq!(
            window.select(tasks),
            [Some("new"), Some("mid"), Some("unknown")]
        );
        let two = Limits {
            stopped_after: None,
            max_stopped_tasks: Some(2),
        };
        assert_eq!(two.select(tasks), [Some("new"), Some("mid")]);
    }
}
