//! Where the recorder writes, in S3. Every key is a function of the event alone (never of the
//! clock or of rendered text), so a second delivery of the same event finds the same key:
//!
//! - `bundles/<account>/<region>/<cluster>/<service>/<yyyy-mm-dd>/<task-id>.json.gz`: a task's
//!   bundle (`<eventName>-<event-id>.json.gz` for a deployment or service-action event);
//! - `events/<account>/<region>/<cluster>/<service>/<yyyy-mm-dd>/<task-id>.json`: a stop kept
//!   as its event only, past the storm limit or when nothing names its cluster;
//!   `<task-id>.unrecorded.json` when its recording failed (the message is retried);
//! - `markers/storm/<account>/<region>/<cluster>/<service>/<revision>/<yyyy-mm-ddThh>/<n>`: the
//!   n-th full recording of that service and revision in that hour;
//! - `markers/notify/<account>/<region>/<cluster>/<service>/<rule>/<window-start>`: the report
//!   sent for that service and root cause in that window.
//!
//! Standalone tasks (no service) go under the service name `-`; a cluster nothing names under
//! `-` too.

use recorder::time::Timestamp;

use crate::trigger::{Kind, Trigger};

/// A key segment: `/` and characters S3 keys should avoid become `_`.
fn segment(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.:=+@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "-".to_owned()
    } else {
        cleaned
    }
}

fn place(trigger: &Trigger) -> String {
    format!(
        "{}/{}/{}/{}",
        segment(&trigger.account),
        segment(&trigger.region),
        segment(trigger.cluster.as_deref().unwrap_or("-")),
        segment(trigger.service.as_deref().unwrap_or("-"))
    )
}

fn date(time: Timestamp) -> String {
    time.to_string().chars().take(10).collect()
}

/// What names a trigger's files: the task id, or `<eventName>-<id>`.
pub fn name(trigger: &Trigger) -> String {
    match &trigger.kind {
        Kind::Task { id, .. } => segment(id),
        Kind::Service {
            event_name, name, ..
        } => segment(&format!(
            "{}-{name}",
            if event_name.is_empty() {
                "event"
            } else {
                event_name
            }
        )),
    }
}

pub fn bundle(trigger: &Trigger) -> String {
    format!(
        "bundles/{}/{}/{}.json.gz",
        place(trigger),
        date(trigger.time),
        name(trigger)
    )
}

pub fn event(trigger: &Trigger) -> String {
    format!(
        "events/{}/{}/{}.json",
        place(trigger),
        date(trigger.time),
        name(trigger)
    )
}

/// Where the event of a stop whose recording failed is kept until a retry records it.
pub fn unrecorded_event(trigger: &Trigger) -> String {
    format!(
        "events/{}/{}/{}.unrecorded.json",
        place(trigger),
        date(trigger.time),
        name(trigger)
    )
}

/// The n-th storm slot of the trigger's service and revision in its hour.
pub fn storm_slot(trigger: &Trigger, slot: u32) -> String {
    let revision = match &trigger.kind {
        Kind::Task { revision, .. } => revision.as_str(),
        Kind::Service { .. } => "service-events",
    };
    let hour: String = trigger.time.to_string().chars().take(13).collect();
    format!(
        "markers/storm/{}/{}/{}/{slot}",
        place(trigger),
        segment(revision),
        hour
    )
}

/// The notification marker of a root cause (a rule id) in the window holding the trigger.
pub fn notification(trigger: &Trigger, rule: &str, window_minutes: u32) -> String {
    let window_millis = i64::from(window_minutes.max(1)) * 60_000;
    let start =
        Timestamp::from_millis(trigger.time.millis.div_euclid(window_millis) * window_millis);
    format!(
        "markers/notify/{}/{}/{}",
        place(trigger),
        segment(rule),
        start
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(service: Option<&str>, at: &str) -> Trigger {
        Trigger {
            event: serde_json::Value::Null,
            kind: Kind::Task {
                arn: "arn:aws:ecs:eu-west-1:111122223333:task/prod/abc123".to_owned(),
                id: "abc123".to_owned(),
                version: Some(3),
                revision: "web:42".to_owned(),
            },
            account: "111122223333".to_owned(),
            region: "eu-west-1".to_owned(),
            cluster: Some("prod".to_owned()),
            service: service.map(str::to_owned),
            time: Timestamp::parse_iso(at).expect("a time"),
        }
    }

    #[test]
    fn keys_follow_the_documented_layout() {
        let t = trigger(Some("web"), "2026-12-04T10:17:11.696Z");
        assert_eq!(
            bundle(&t),
            "bundles/111122223333/eu-west-1/prod/web/2026-12-04/abc123.json.gz"
        );
        assert_eq!(
            event(&t),
            "events/111122223333/eu-west-1/prod/web/2026-12-04/abc123.json"
        );
        assert_eq!(
            storm_slot(&t, 2),
            "markers/storm/111122223333/eu-west-1/prod/web/web:42/2026-12-04T10/2"
        );
        assert_eq!(
            notification(&t, "oom-container-limit", 60),
            "markers/notify/111122223333/eu-west-1/prod/web/oom-container-limit/2026-12-04T10:00:00.000Z"
        );
        let standalone = trigger(None, "2026-12-04T10:17:11Z");
        assert_eq!(
            bundle(&standalone),
            "bundles/111122223333/eu-west-1/prod/-/2026-12-04/abc123.json.gz"
        );
    }

    #[test]
    fn two_stops_in_one_window_share_a_notification_key_and_the_next_window_does_not() {
        let a = trigger(Some("web"), "2026-12-04T10:01:00Z");
        let b = trigger(Some("web"), "2026-12-04T10:59:59Z");
        let c = trigger(Some("web"), "2026-12-04T11:00:00Z");
        assert_eq!(notification(&a, "r", 60), notification(&b, "r", 60));
        assert_ne!(notification(&b, "r", 60), notification(&c, "r", 60));
    }

    #[test]
    fn names_cannot_escape_their_segment() {
        assert_eq!(segment("../x/y"), ".._x_y");
        assert_eq!(segment(""), "-");
        assert_eq!(segment(".."), "-");
    }
}
