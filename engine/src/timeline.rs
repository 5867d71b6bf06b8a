//! A stopped task's life in one list: its lifecycle timestamps, the service events that name
//! it and the log lines of that window, in time order.

use serde::Serialize;

use recorder::time::Timestamp;

use crate::evidence::Evidence;

/// Log lines kept at the start and at the end of a task's window; the middle is elided.
const FIRST_LOG_LINES: usize = 3;
const LAST_LOG_LINES: usize = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// A lifecycle timestamp of the task (`createdAt`, `pullStartedAt`, …).
    Task,
    /// A service event that names the task.
    Event,
    /// A log line of one of the task's containers.
    Log,
    /// Log lines left out of the middle of the window.
    Elided,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// RFC 3339 UTC; null for lines without a timestamp and for the elision marker.
    pub at: Option<String>,
    pub kind: EntryKind,
    /// The container a log line came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    pub text: String,
}

/// The timeline of the task at `index` in `evidence.tasks`.
pub fn build(evidence: &Evidence, index: usize) -> Vec<Entry> {
    let record = &evidence.tasks[index];
    let task = &record.task;
    let mut entries: Vec<(Option<Timestamp>, Entry)> = Vec::new();
    let lifecycle = [
        (task.created_at, "created"),
        (task.pull_started_at, "image pull started"),
        (task.pull_stopped_at, "image pull stopped"),
        (task.started_at, "started (RUNNING)"),
        (task.stopping_at, "stopping"),
        (task.execution_stopped_at, "execution stopped"),
        (task.stopped_at, "stopped"),
    ];
    for (at, label) in lifecycle {
        if let Some(at) = at {
            entries.push((
                Some(at.0),
                Entry {
                    at: Some(at.0.to_string()),
                    kind: EntryKind::Task,
                    container: None,
                    text: label.to_owned(),
                },
            ));
        }
    }

    if let Some(service) = record.service {
        let needle = format!("(task {})", record.task_id);
        for &event in evidence.task_event_indexes(index) {
            let event = &evidence.services[service].value.events[event];
            let Some(message) = event.message.as_deref() else {
                continue;
            };
            if message.contains(&needle) {
                let at = event.created_at.map(|t| t.0);
                entries.push((
                    at,
                    Entry {
                        at: at.map(|t| t.to_string()),
                        kind: EntryKind::Event,
                        container: None,
                        text: message.to_owned(),
                    },
                ));
            }
        }
    }

    // Log lines of the task's window: from creation to a minute after it stopped.
    let from = task.created_at.map(|t| t.0);
    let until = task
        .stopped_at
        .map(|t| Timestamp::from_millis(t.0.millis + 60_000));
    // Lines are picked by reference first; only the ones kept are copied into entries.
    let mut window: Vec<(Option<Timestamp>, &crate::evidence::LogStream, &str)> = Vec::new();
    for (_, stream) in evidence.task_streams(&record.task_id, None) {
        for line in &stream.lines {
            let inside = line.timestamp.is_none_or(|at| {
                from.is_none_or(|from| at >= from) && until.is_none_or(|until| at <= until)
            });
            if inside {
                window.push((line.timestamp, stream, &line.message));
            }
        }
    }
    window.sort_by_key(|(at, _, _)| *at);
    let log_entry =
        |(at, stream, message): &(Option<Timestamp>, &crate::evidence::LogStream, &str)| {
            (
                *at,
                Entry {
                    at: at.map(|t| t.to_string()),
                    kind: EntryKind::Log,
                    container: stream.container.clone(),
                    text: (*message).to_owned(),
                },
            )
        };
    let mut logs: Vec<(Option<Timestamp>, Entry)>;
    // Eliding a single line would save nothing.
    if window.len() > FIRST_LOG_LINES + LAST_LOG_LINES + 1 {
        let elided = window.len() - FIRST_LOG_LINES - LAST_LOG_LINES;
        logs = window[..FIRST_LOG_LINES].iter().map(log_entry).collect();
        // The marker sorts just after the last line kept from the start.
        let at = logs.last().and_then(|(at, _)| *at);
        logs.push((
            at,
            Entry {
                at: None,
                kind: EntryKind::Elided,
                container: None,
                text: format!("… {elided} more log lines"),
            },
        ));
        logs.extend(
            window[window.len() - LAST_LOG_LINES..]
                .iter()
                .map(log_entry),
        );
    } else {
        logs = window.iter().map(log_entry).collect();
    }
    entries.extend(logs);
    // Stable: equal times keep lifecycle, then events, then logs, each in its own order.
    entries.sort_by_key(|(at, entry)| (*at, entry.kind == EntryKind::Elided));
    entries.into_iter().map(|(_, entry)| entry).collect()
}
