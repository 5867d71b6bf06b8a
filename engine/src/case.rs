//! Fixture cases: `case.toml` beside a bundle, saying which rules must and must not fire.
//!
//! `expect` rules must fire (false-negative guard), `ok` rules must not (near misses), and
//! `todo` rules are known gaps: they should fire one day and must not fire yet. Any other rule
//! that fires fails the case.

use std::collections::BTreeSet;
use std::path::Path;

use crate::report::Report;

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub description: String,
    #[serde(default)]
    pub expect: Vec<String>,
    #[serde(default)]
    pub ok: Vec<String>,
    #[serde(default)]
    pub todo: Vec<String>,
}

impl Case {
    pub fn read(path: &Path) -> anyhow::Result<Case> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| anyhow::format_err!("{}: {err}", path.display()))?;
        toml::from_str(&text).map_err(|err| anyhow::format_err!("{}: {err}", path.display()))
    }

    /// Every way the report breaks the case; empty when it passes.
    pub fn failures(&self, report: &Report) -> Vec<String> {
        let fired: BTreeSet<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
        let mut failures = Vec::new();
        for rule in &self.expect {
            if !fired.contains(rule.as_str()) {
                failures.push(format!("expected `{rule}` to fire; fired: {fired:?}"));
            }
        }
        for rule in &self.ok {
            if fired.contains(rule.as_str()) {
                failures.push(format!("`{rule}` must not fire (near miss)"));
            }
        }
        for rule in &self.todo {
            if fired.contains(rule.as_str()) {
                failures.push(format!(
                    "`{rule}` is listed in todo but now fires: move it to expect"
                ));
            }
        }
        for rule in fired {
            let listed = self.expect.iter().chain(&self.todo).any(|r| r == rule);
            if !listed {
                failures.push(format!("`{rule}` fired but is not in expect"));
            }
        }
        for error in &report.rule_errors {
            failures.push(format!("rule `{}` failed: {}", error.rule, error.message));
        }
        failures
    }
}
