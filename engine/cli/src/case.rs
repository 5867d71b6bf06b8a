//! Fixture cases: `case.toml` beside a bundle, saying which rules must and must not fire.
//!
//! `expect` rules must fire (false-negative guard), `ok` rules must not (near misses), and
//! `todo` rules are known gaps: they should fire one day and must not fire yet. Any other rule
//! that fires fails the case.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use recorder::Bundle;

use engine::evidence::Evidence;
use engine::model::{Finding, Verdict};
use engine::report::{Report, TaskVerdict};
use engine::rule::RuleSet;

/// The file name of a case.
pub const CASE_FILE: &str = "case.toml";
/// The file name of a case's expected findings, written by `rules test --update`.
pub const EXPECTED_FILE: &str = "expected.txt";
/// A case's whole text report, as the built-in fixtures keep it (an insta snapshot: a `---`
/// header, then the report). Optional; compared when present, and updated by `--update`.
pub const REPORT_TEXT_SNAPSHOT: &str = "report.txt.snap";
/// A case's JSON report, likewise.
pub const REPORT_JSON_SNAPSHOT: &str = "report.json.snap";
/// The manifest time given to a case's `aws-cli/` folder when it is imported, so that the
/// same folder always gives the same bundle.
pub const IMPORTED_AT: &str = "2026-11-24T12:00:00.000Z";

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub description: String,
    /// The case's input, relative to the case folder, when it is not one of the default names.
    #[serde(default)]
    pub bundle: Option<PathBuf>,
    #[serde(default)]
    pub expect: Vec<String>,
    #[serde(default)]
    pub ok: Vec<String>,
    #[serde(default)]
    pub todo: Vec<String>,
    /// Where the incident comes from, for a real incident (`fixtures/real/`): a public URL.
    #[serde(default)]
    pub source: Option<String>,
    /// Which strings are copied exactly from the source.
    #[serde(default)]
    pub verbatim: Option<String>,
    /// What was filled in to make complete AWS CLI outputs.
    #[serde(default)]
    pub reconstructed: Option<String>,
    /// For a trap: the obvious reading, and why it is wrong.
    #[serde(default)]
    pub trap: Option<String>,
    /// The root cause every stopped task must get: a rule id, or `benign`. With no stopped task
    /// in the input, a service-level root cause by this rule. When set, rules not in `expect`
    /// may fire too (symptoms, context): the root causes pin the diagnosis.
    #[serde(default)]
    pub root_cause: Option<String>,
    /// Per task id, for incidents whose tasks stopped for different reasons; the others get
    /// `root_cause`.
    #[serde(default)]
    pub root_causes: BTreeMap<String, String>,
    /// Why the case does not pass yet, when it is a known gap: it may then miss, and it fails
    /// once it passes (remove the reason then).
    #[serde(default)]
    pub todo_reason: Option<String>,
    /// What the case teaches rule authors: wordings, traps, evidence that is missing.
    #[serde(default)]
    pub notes: Vec<String>,
    /// A configuration check: the input (task definition files, AWS CLI outputs) is linted
    /// as `ecs-autopsy lint` does, by the rules that declare `checks`, instead of diagnosed.
    #[serde(default)]
    pub lint: bool,
}

/// What `root_cause` names when the task stopped for no problem.
pub const BENIGN: &str = "benign";

impl Case {
    pub fn read(path: &Path) -> anyhow::Result<Case> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| anyhow::format_err!("{}: {err}", path.display()))?;
        toml::from_str(&text)
            .map_err(|err| anyhow::format_err!("{}", crate::config::toml_error(path, &text, &err)))
    }

    /// The input of the case in `dir`: `bundle` if set, else `bundle.json`, `bundle.json.gz`
    /// or an `aws-cli/` folder.
    pub fn input_path(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        if let Some(bundle) = &self.bundle {
            return Ok(dir.join(bundle));
        }
        ["bundle.json", "bundle.json.gz", "aws-cli"]
            .iter()
            .map(|name| dir.join(name))
            .find(|path| path.exists())
            .ok_or_else(|| {
                anyhow::format_err!(
                    "{}: no bundle: put the incident's bundle here as bundle.json or bundle.json.gz \
                     (`ecs-autopsy record … -o bundle.json.gz`), or name it with `bundle = \"…\"` in case.toml",
                    dir.display()
                )
            })
    }

    /// Reads the case's input; an `aws-cli/` folder, or a file that is not a bundle (a task
    /// definition, one AWS CLI output), is imported with a fixed time.
    pub fn load_input(&self, dir: &Path) -> anyhow::Result<Bundle> {
        let path = self.input_path(dir)?;
        let bundle = if path.is_dir() {
            None
        } else {
            match Bundle::read(&path) {
                Ok(bundle) => Some(bundle),
                Err(recorder::LoadError::NotABundle { .. }) => None,
                Err(err) => return Err(err.into()),
            }
        };
        if let Some(bundle) = bundle {
            return Ok(bundle);
        }
        {
            let imported = recorder::import::import(
                std::slice::from_ref(&path),
                Some(IMPORTED_AT.to_owned()),
            )?;
            if let Some(skipped) = imported.skipped.first() {
                return Err(anyhow::format_err!(
                    "{}: not an AWS CLI output: {}",
                    skipped.path.display(),
                    skipped.reason
                ));
            }
            Ok(imported.bundle)
        }
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
        if self.root_cause.is_none() {
            for rule in fired {
                let listed = self.expect.iter().chain(&self.todo).any(|r| r == rule);
                if !listed {
                    failures.push(format!("`{rule}` fired but is not in expect"));
                }
            }
        }
        // A rule that could not load is reported once for the whole run, not per case.
        for error in report.rule_errors.iter().filter(|e| !e.is_load_error()) {
            failures.push(format!("rule `{}` failed: {}", error.rule, error.message));
        }
        failures.extend(self.root_cause_failures(report));
        failures
    }

    /// Every stopped task whose root cause is not the one `root_cause` (or `root_causes`) names;
    /// with no stopped task, the missing service-level root cause. Empty without `root_cause`.
    pub fn root_cause_failures(&self, report: &Report) -> Vec<String> {
        let Some(expected) = &self.root_cause else {
            return Vec::new();
        };
        let mut failures = Vec::new();
        if report.tasks.is_empty() {
            let found: Vec<&str> = report
                .findings
                .iter()
                .filter(|f| f.task_arn.is_none() && f.verdict == Verdict::RootCause)
                .map(|f| f.rule.as_str())
                .collect();
            if !found.contains(&expected.as_str()) {
                failures.push(format!(
                    "no stopped task, and the service-level root cause is {found:?}, not `{expected}`"
                ));
            }
        }
        for task in &report.tasks {
            let expected = self.root_causes.get(&task.task_id).unwrap_or(expected);
            let actual = match task.verdict {
                TaskVerdict::Diagnosed => task.root_cause.clone().unwrap_or_default(),
                TaskVerdict::Benign => BENIGN.to_owned(),
                TaskVerdict::Undiagnosed => "undiagnosed".to_owned(),
            };
            if actual != *expected {
                failures.push(format!(
                    "task {}: root cause `{actual}`, expected `{expected}`",
                    task.task_id
                ));
            }
        }
        for id in self.root_causes.keys() {
            if !report.tasks.iter().any(|task| task.task_id == *id) {
                failures.push(format!("root_causes names task {id}, which did not stop"));
            }
        }
        failures
    }
}

/// What running one case gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseOutcome {
    /// Every way the case fails; empty when it passes.
    pub failures: Vec<String>,
    /// With `update`: what was written to `expected.txt`, as a diff.
    pub change: Option<String>,
    /// Whether `expected.txt` was written.
    pub updated: bool,
    /// For a known gap (`todo_reason`): the reason; then `failures` is empty and `gap` holds
    /// what is still wrong.
    pub known_gap: Option<String>,
    pub gap: Vec<String>,
}

/// Runs the case in `dir`: its `case.toml` expectations, the rules it names, and its findings
/// against `expected.txt`. With `update`, writes `expected.txt` when the findings differ.
///
/// A case with a `todo_reason` is a known gap: its failures are reported under `known_gap`
/// instead, and it fails only once it passes, so that the reason is removed.
pub fn run_case(dir: &Path, rules: &RuleSet, update: bool) -> CaseOutcome {
    let case = match Case::read(&dir.join(CASE_FILE)) {
        Ok(case) => case,
        Err(err) => {
            return CaseOutcome {
                failures: vec![crate::error_line(&err)],
                ..CaseOutcome::default()
            };
        }
    };
    let mut outcome = evaluate(dir, &case, rules, update);
    match &case.todo_reason {
        Some(reason) if !outcome.failures.is_empty() => {
            outcome.known_gap = Some(reason.clone());
            outcome.gap = std::mem::take(&mut outcome.failures);
        }
        Some(_) => outcome
            .failures
            .push("passes now: remove its todo_reason from case.toml".to_owned()),
        None => {}
    }
    outcome
}

fn evaluate(dir: &Path, case: &Case, rules: &RuleSet, update: bool) -> CaseOutcome {
    let failed = |message: String| CaseOutcome {
        failures: vec![message],
        ..CaseOutcome::default()
    };
    let bundle = match case.load_input(dir) {
        Ok(bundle) => bundle,
        Err(err) => return failed(crate::error_line(&err)),
    };
    let evidence = Evidence::from_bundle(bundle);
    let report = if case.lint {
        engine::lint(&evidence, rules)
    } else {
        engine::diagnose(&evidence, rules)
    };
    let mut failures = case.failures(&report);
    let loaded: Vec<String> = rules.rules.iter().map(|r| r.meta.id.clone()).collect();
    for id in case.expect.iter().chain(&case.ok).chain(&case.todo) {
        if !loaded.contains(id) && !rules.disabled.contains(id) {
            failures.push(format!(
                "case.toml names `{id}`, which is not a loaded rule{}",
                engine::rule::suggestion(id, &loaded)
            ));
        }
        // A rule of the other kind never runs on this case: its expectation could not fail.
        let Some(rule) = rules.rules.iter().find(|rule| &rule.meta.id == id) else {
            continue;
        };
        match (case.lint, rule.meta.checks_configuration()) {
            (true, false) => failures.push(format!(
                "case.toml names `{id}`, which diagnoses stopped tasks, but the case is a configuration check (lint = true), where it does not run"
            )),
            (false, true) => failures.push(format!(
                "case.toml names `{id}`, a configuration check, which runs only in cases with `lint = true`"
            )),
            _ => {}
        }
    }
    // The report snapshots are optional; a case that has one needs no expected.txt.
    let mut changes = Vec::new();
    let mut updated = false;
    let mut snapshots = 0;
    for (file, actual) in [
        (REPORT_TEXT_SNAPSHOT, report.render_text(false)),
        (REPORT_JSON_SNAPSHOT, report.render_json()),
    ] {
        let path = dir.join(file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        snapshots += 1;
        let text = text.replace("\r\n", "\n");
        let (header, expected) = split_snapshot(&text);
        if expected.trim_end_matches('\n') == actual.trim_end_matches('\n') {
            continue;
        }
        let diff = diff(expected, &actual);
        if update {
            match std::fs::write(&path, format!("{header}{actual}")) {
                Ok(()) => {
                    updated = true;
                    changes.push(format!("updated {file} (- old, + new):\n{diff}"));
                }
                Err(err) => failures.push(format!("{}: cannot write: {err}", path.display())),
            }
        } else {
            failures.push(format!(
                "the report differs from {file} (- expected, + actual):\n{diff}"
            ));
        }
    }

    let actual = findings_snapshot(&report);
    let expected_path = dir.join(EXPECTED_FILE);
    let expected = std::fs::read_to_string(&expected_path)
        .ok()
        .map(|text| text.replace("\r\n", "\n"));
    // Root causes are an expectation of their own: such a case needs no findings file.
    let pinned = snapshots > 0 || case.root_cause.is_some();
    if expected.as_deref() == Some(actual.as_str()) || (expected.is_none() && pinned) {
        return CaseOutcome {
            failures,
            change: (!changes.is_empty()).then(|| changes.join("\n")),
            updated,
            ..CaseOutcome::default()
        };
    }
    let diff = diff(expected.as_deref().unwrap_or(""), &actual);
    if update {
        match std::fs::write(&expected_path, &actual) {
            Ok(()) => {
                updated = true;
                changes.push(format!(
                    "{} {EXPECTED_FILE} (- old, + new):\n{diff}",
                    if expected.is_some() {
                        "updated"
                    } else {
                        "recorded"
                    }
                ));
            }
            Err(err) => {
                failures.push(format!("{}: cannot write: {err}", expected_path.display()));
            }
        }
        return CaseOutcome {
            failures,
            change: (!changes.is_empty()).then(|| changes.join("\n")),
            updated,
            ..CaseOutcome::default()
        };
    }
    // While the expectations fail, the whole snapshot would only repeat them.
    let expectations_hold = failures.is_empty();
    failures.push(match (expected, expectations_hold) {
        (None, false) => format!("no {EXPECTED_FILE} yet"),
        (None, true) => format!(
            "no {EXPECTED_FILE} yet; `ecs-autopsy rules test --update` records these findings:\n{diff}"
        ),
        (Some(_), _) => {
            format!("findings differ from {EXPECTED_FILE} (- expected, + actual):\n{diff}")
        }
    });
    CaseOutcome {
        failures,
        ..CaseOutcome::default()
    }
}

/// A snapshot file's header (insta's `---` … `---` block, or none) and its body.
fn split_snapshot(text: &str) -> (&str, &str) {
    if let Some(rest) = text.strip_prefix("---\n")
        && let Some(end) = rest.find("\n---\n")
    {
        let split = "---\n".len() + end + "\n---\n".len();
        return (&text[..split], &text[split..]);
    }
    ("", text)
}

/// Every folder under `root` (or `root` itself) that holds a `case.toml`, sorted. Hidden
/// folders, `target/` and symbolic links to folders (which could loop) are skipped.
pub fn find_cases(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut cases = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|err| anyhow::format_err!("{}: cannot read: {err}", dir.display()))?;
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && !name.starts_with('.') && name != "target" {
                pending.push(path);
            } else if name == CASE_FILE {
                cases.push(dir.clone());
            }
        }
    }
    cases.sort();
    Ok(cases)
}

/// The findings of a report as `rules test` compares them: one block per finding, in report
/// order, with its evidence and hint, then any rule errors. Stable across runs.
pub fn findings_snapshot(report: &Report) -> String {
    let mut out = String::from(
        "# Expected findings of this case. `ecs-autopsy rules test --update` rewrites this file.\n",
    );
    if report.findings.is_empty()
        && report
            .rule_errors
            .iter()
            .all(engine::model::RuleError::is_load_error)
    {
        out.push_str("(no findings)\n");
    }
    for finding in &report.findings {
        out.push('\n');
        let _ = writeln!(
            out,
            "{} {} [{}{}] {}",
            finding.rule,
            finding.severity,
            finding.verdict.label(),
            match (&finding.symptom_of, &finding.contributes_to) {
                (Some(cause), _) => format!(" of {cause}"),
                (None, Some(cause)) => format!(" to {cause}"),
                (None, None) => String::new(),
            },
            subject(finding)
        );
        let _ = writeln!(out, "  {}", finding.message);
        for fact in &finding.evidence {
            let _ = writeln!(out, "  evidence: {} = {}", fact.path, fact.value);
        }
        if let Some(hint) = &finding.hint {
            let _ = writeln!(out, "  hint: {hint}");
        }
    }
    for error in report.rule_errors.iter().filter(|e| !e.is_load_error()) {
        let _ = writeln!(
            out,
            "\nrule error {} ({}): {}",
            error.rule,
            error.location(),
            error.message
        );
    }
    out
}

fn subject(finding: &Finding) -> String {
    let mut text = match (
        &finding.task_arn,
        &finding.service,
        &finding.task_definition,
    ) {
        (Some(arn), _, _) => format!("task {}", arn.rsplit('/').next().unwrap_or(arn)),
        (None, _, Some(definition)) => format!("task definition {definition}"),
        (None, Some(service), None) => format!("service {service}"),
        (None, None, None) => "bundle".to_owned(),
    };
    if let Some(container) = &finding.container {
        let _ = write!(text, " container {container}");
    }
    text
}

/// A line diff of `expected` against `actual`: `-` lines only expected, `+` lines only actual,
/// with two lines of context around each change. Empty when they are equal.
pub fn diff(expected: &str, actual: &str) -> String {
    let diff = similar::TextDiff::from_lines(expected, actual);
    let mut out = String::new();
    for group in diff.grouped_ops(2) {
        if !out.is_empty() {
            out.push_str("  ...\n");
        }
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                    similar::ChangeTag::Equal => ' ',
                };
                let _ = writeln!(out, "{sign} {}", change.value().trim_end_matches('\n'));
            }
        }
    }
    out
}
