//! `LogLine`: one log event of a container, from CloudWatch Logs.

use rhai::Dynamic;
use serde_json::Value;

use crate::model::Fact;
use crate::runtime::api::{LogLineHandle, string};
use crate::runtime::registry::Api;

pub(super) fn register(api: &mut Api<'_>) {
    api.ty::<LogLineHandle>(
        "LogLine",
        "line",
        "One log event of a container, from CloudWatch Logs GetLogEvents.",
    )
    .get(
        "message",
        "The log line's text.",
        |l: &mut LogLineHandle| l.line().message.clone(),
    )
    .get(
        "timestamp: timestamp?",
        "When the line was logged, or `()`.",
        |l: &mut LogLineHandle| {
            l.line()
                .timestamp
                .map_or(Dynamic::UNIT, |t| Dynamic::from(t.to_string()))
        },
    )
    .get(
        "logGroupName: string",
        "The log group.",
        |l: &mut LogLineHandle| string(l.ev.log_streams[l.stream].group.as_ref()),
    )
    .get(
        "logStreamName: string",
        "The log stream.",
        |l: &mut LogLineHandle| string(l.ev.log_streams[l.stream].stream.as_ref()),
    )
    .get(
        "container: string",
        "The container that logged it (from the stream name), or `\"\"`.",
        |l: &mut LogLineHandle| string(l.ev.log_streams[l.stream].container.as_ref()),
    )
    .func(
        "path()",
        "Cites the line as a `Fact`.",
        |l: &mut LogLineHandle| Fact {
            path: format!("{}.message", l.line().loc.path()),
            value: Value::String(l.line().message.clone()), label: None, },
    )
    .func(
        "dependency_failure() -> map?",
        "`dependency_failure(line.message)`: `#{ kind, target }` when the line reports a failure to\nreach a dependency, else `()`.",
        |l: &mut LogLineHandle| crate::runtime::helpers::dependency_failure(&l.line().message),
    )
    .func(
        "to_string()",
        "The line's text.",
        |l: &mut LogLineHandle| l.line().message.clone(),
    );
}
