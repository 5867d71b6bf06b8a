//! The plain data that crosses the engine's boundaries: what a finding is, how bad, about what,
//! and what went wrong with a rule. No Rhai here, and nothing that depends on another module of
//! the engine: the runtime, the rule loader and the report all build on it.
//!
//! These types are part of the public JSON report (`docs/report-schema.md`), so their field
//! names and serialised forms never change meaning.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How bad a finding is, as a rule declares it (`RULE.severity`) and the configuration may
/// override it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// What a finding means for its subject, once the findings are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Why the task (or service) failed.
    RootCause,
    /// A consequence of the root cause.
    Symptom,
    /// Made the failure worse or likelier without being its root cause (a rule of kind
    /// `contributing`).
    Contributing,
    /// A breach of a team's policy (a rule of kind `policy`), whatever else happened.
    Policy,
    /// Expected platform behaviour.
    Benign,
    /// Context, not a problem.
    Info,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::RootCause => "root cause",
            Verdict::Symptom => "symptom",
            Verdict::Benign => "benign",
            Verdict::Info => "info",
            Verdict::Contributing => "contributing",
            Verdict::Policy => "policy",
        }
    }
}

/// One piece of evidence: a path in the bundle and the value found there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    pub path: String,
    pub value: Value,
    /// What the cited call is, for a person: `task 5f1c…: .stopCode`, or in a folder replay
    /// `describe-tasks.json: .tasks[0].stopCode` (since 0.2.0; set by the report).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// What a finding is about, as indexes into the evidence view it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// Index into `Evidence::tasks`, and the container the finding points at, if any.
    Task {
        task: usize,
        container: Option<String>,
    },
    /// Index into `Evidence::services`.
    Service(usize),
    /// Index into `Evidence::failures`: what ECS could not place or describe.
    Failure(usize),
    /// Index into `Evidence::ecs_events`: an EventBridge event from ECS about a service.
    Event(usize),
    /// Index into `Evidence::task_definitions`, and the container definition the finding
    /// points at, if any: what a configuration check (`ecs-autopsy lint`) reports on.
    TaskDefinition {
        definition: usize,
        container: Option<String>,
    },
}

/// One diagnosis by one rule about one task or service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub category: String,
    pub severity: Severity,
    pub verdict: Verdict,
    pub task_arn: Option<String>,
    pub service: Option<String>,
    /// For a finding about a task definition (a configuration check): `family:revision`, or
    /// the family alone for one not registered yet (since 0.2.0; absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    pub container: Option<String>,
    pub message: String,
    pub evidence: Vec<Fact>,
    pub hint: Option<String>,
    pub doc_url: Option<String>,
    /// For a symptom: the rule id of the root cause it is a consequence of.
    pub symptom_of: Option<String>,
    /// For a contributing finding: the rule id of the root cause it contributed to, when the
    /// task (or service) has one (since 0.2.0; absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contributes_to: Option<String>,
    /// For a symptom set by `.caused_by(task)`: that task's ARN (linking only, not in the JSON).
    #[serde(skip)]
    pub caused_by_task: Option<String>,
}

/// A rule that failed while running. It never stops the other rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleError {
    pub rule: String,
    pub file: String,
    pub message: String,
    /// `line:column` in the rule file, when Rhai knows it.
    pub position: Option<String>,
}

impl RuleError {
    /// How the message of a rule that could not be loaded starts.
    pub const LOAD_PREFIX: &'static str = "could not load: ";

    /// Whether the rule failed to load (rather than failed while it ran).
    pub fn is_load_error(&self) -> bool {
        self.message.starts_with(Self::LOAD_PREFIX)
    }

    /// `file:line:column` where Rhai knows the position, else the file.
    pub fn location(&self) -> String {
        match &self.position {
            Some(position) => format!("{}:{position}", self.file),
            None => self.file.clone(),
        }
    }
}

/// What the report says about the rule set itself, beside the findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleNotes {
    /// Built-in rules replaced by team rules: `id (by path)`.
    pub replaced: Vec<String>,
    /// Rule ids the configuration disabled.
    pub disabled: Vec<String>,
}

/// The signal behind a container exit code (`128 + N`), if it is one.
pub fn exit_signal(code: i64) -> Option<i64> {
    (129..=128 + 64).contains(&code).then_some(code - 128)
}

/// The conventional name of a Linux signal number.
pub fn signal_name(signal: i64) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return None,
    })
}

/// A container exit code for a message: `137 (SIGKILL)`, `1`, …
pub fn describe_exit(code: i64) -> String {
    match exit_signal(code).and_then(signal_name) {
        Some(name) => format!("{code} ({name})"),
        None => code.to_string(),
    }
}

/// Where the built-in rules' documentation pages are; a rule's page is `<this><id>.md`.
pub const RULE_DOCS_URL: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/rules/");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_decode_signals() {
        assert_eq!(describe_exit(137), "137 (SIGKILL)");
        assert_eq!(describe_exit(143), "143 (SIGTERM)");
        assert_eq!(describe_exit(139), "139 (SIGSEGV)");
        assert_eq!(describe_exit(1), "1");
        assert_eq!(describe_exit(128), "128");
        assert_eq!(exit_signal(255), None);
        assert_eq!(exit_signal(192), Some(64));
    }
}
