//! Repository checks. `cargo xtask tidy` runs them, and so does `cargo test` (see the tests
//! at the bottom), so CI fails when any of them does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ecs_autopsy::case::Case;
use engine::rule::RuleOrigin;
use engine::runtime::{Limits, new_engine};
use engine::taxonomy::is_failure_mode;

/// Runs every check and reports all problems at once.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    let rule_ids = check_rules(root, &mut problems);
    check_fixtures(root, &rule_ids, &mut problems);
    check_snapshots(root, &mut problems);
    check_real_cases(root, &rule_ids, &mut problems);
    check_generated_docs(root, &mut problems);
    check_docs_examples(root, &mut problems);
    crate::layers::check(root, &mut problems);
    crate::rule_copies::check(root, &mut problems);
    if problems.is_empty() {
        return Ok(());
    }
    Err(anyhow::format_err!(
        "{} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    ))
}

/// Every built-in rule loads, is a failure mode, and has its doc headings.
fn check_rules(root: &Path, problems: &mut Vec<String>) -> BTreeSet<String> {
    let engine = new_engine(&Limits::standard());
    let mut ids = BTreeSet::new();
    let mut files: Vec<_> = std::fs::read_dir(root.join("rules"))
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for path in files {
        if path.is_dir() && path.ends_with("lib") {
            continue; // The rule libraries: `rule_copies` and the engine's own tests check them.
        }
        if path.extension().is_none_or(|ext| ext != "rhai") {
            problems.push(format!(
                "{}: rules/ holds only .rhai rule files",
                path.display()
            ));
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap_or_default();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match engine::rule::compile_rule(&engine, RuleOrigin::Builtin(name), &source) {
            Ok(rule) => {
                let meta = &rule.meta;
                if !is_failure_mode(&meta.id) {
                    problems.push(format!(
                        "rules/{}.rhai: `{}` is not a failure-mode id",
                        meta.id, meta.id
                    ));
                }
                if meta.category != meta.id {
                    problems.push(format!(
                        "rules/{}.rhai: a built-in rule's category equals its id",
                        meta.id
                    ));
                }
                if let Err(err) = engine::rule::check_doc_headings(&rule.docs) {
                    problems.push(format!("rules/{}.rhai: {err}", meta.id));
                }
                if meta.needs.is_empty() {
                    problems.push(format!(
                        "rules/{}.rhai: `needs` lists no AWS calls",
                        meta.id
                    ));
                }
                ids.insert(meta.id.clone());
            }
            Err(errors) => problems.extend(errors.iter().map(ToString::to_string)),
        }
    }
    ids
}

/// Positive cases every built-in rule needs (older and newer AWS wording, or two variants).
const MIN_POSITIVE_CASES: usize = 2;

/// Every failure mode has a rule; every case names known rules; every rule has at least two
/// positive cases and a near-miss case; no case keeps a `todo` for a rule that exists.
fn check_fixtures(root: &Path, rule_ids: &BTreeSet<String>, problems: &mut Vec<String>) {
    let mut positive: BTreeMap<&str, usize> = BTreeMap::new();
    let mut near_miss: BTreeMap<&str, usize> = BTreeMap::new();
    for (case_dir, name) in case_dirs(root) {
        let has_input = ["bundle.json", "bundle.json.gz", "aws-cli"]
            .iter()
            .any(|f| case_dir.join(f).exists());
        if !has_input {
            problems.push(format!(
                "{name}: no bundle.json, bundle.json.gz or aws-cli/"
            ));
        }
        let case = match Case::read(&case_dir.join("case.toml")) {
            Ok(case) => case,
            Err(err) => {
                problems.push(format!("{err:#}"));
                continue;
            }
        };
        if case.expect.is_empty() && case.ok.is_empty() {
            problems.push(format!(
                "{name}/case.toml: needs at least one `expect` or `ok` rule"
            ));
        }
        for id in case.expect.iter().chain(&case.ok) {
            if !rule_ids.contains(id) {
                problems.push(format!("{name}/case.toml: no rule `{id}`"));
            }
        }
        for id in &case.todo {
            if !is_failure_mode(id) {
                problems.push(format!(
                    "{name}/case.toml: todo `{id}` is not a failure-mode id"
                ));
            } else if rule_ids.contains(id) {
                problems.push(format!(
                    "{name}/case.toml: todo `{id}` has a rule: make it fire (`expect`) or say it must not (`ok`)"
                ));
            }
        }
        for id in &case.expect {
            if let Some(id) = rule_ids.get(id) {
                *positive.entry(id.as_str()).or_default() += 1;
            }
        }
        for id in &case.ok {
            if let Some(id) = rule_ids.get(id) {
                *near_miss.entry(id.as_str()).or_default() += 1;
            }
        }
    }
    for (id, _) in engine::taxonomy::FAILURE_MODES {
        if !rule_ids.contains(*id) {
            problems.push(format!("failure mode `{id}` has no rule (rules/{id}.rhai)"));
        }
    }
    for id in rule_ids {
        let positives = positive.get(id.as_str()).copied().unwrap_or(0);
        if positives < MIN_POSITIVE_CASES {
            problems.push(format!(
                "rule `{id}` has {positives} fixture case(s) that expect it; it needs {MIN_POSITIVE_CASES}"
            ));
        }
        if !near_miss.contains_key(id.as_str()) {
            problems.push(format!(
                "rule `{id}` has no near-miss case (listed in `ok`)"
            ));
        }
    }
}

/// Every real incident names its public source (once in the corpus), what is verbatim and what
/// is reconstructed, a root cause that is a failure mode or `benign`, and rules that exist; a
/// case that may miss says why.
fn check_real_cases(root: &Path, rule_ids: &BTreeSet<String>, problems: &mut Vec<String>) {
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    for case_dir in sorted_dirs(&root.join("fixtures/real")) {
        let name = case_dir
            .strip_prefix(root)
            .unwrap_or(&case_dir)
            .display()
            .to_string();
        if !case_dir.join("aws-cli").is_dir() {
            problems.push(format!("{name}: no aws-cli/ folder"));
        }
        let case = match Case::read(&case_dir.join("case.toml")) {
            Ok(case) => case,
            Err(err) => {
                problems.push(format!("{err:#}"));
                continue;
            }
        };
        let filled =
            |value: &Option<String>| value.as_deref().is_some_and(|v| !v.trim().is_empty());
        match &case.source {
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                if let Some(first) = sources.insert(url.clone(), name.clone()) {
                    problems.push(format!("{name}: same source as {first}: {url}"));
                }
            }
            _ => problems.push(format!(
                "{name}/case.toml: `source` must be the incident's public URL"
            )),
        }
        if !filled(&case.verbatim) || !filled(&case.reconstructed) {
            problems.push(format!(
                "{name}/case.toml: say what is `verbatim` and what is `reconstructed`"
            ));
        }
        let causes = case.root_cause.iter().chain(case.root_causes.values());
        for cause in causes {
            if cause != ecs_autopsy::case::BENIGN && !is_failure_mode(cause) {
                problems.push(format!(
                    "{name}/case.toml: root cause `{cause}` is neither a failure mode nor `benign`"
                ));
            }
        }
        if case.root_cause.is_none() {
            problems.push(format!("{name}/case.toml: no `root_cause`"));
        }
        for id in case.expect.iter().chain(&case.ok).chain(&case.todo) {
            if !rule_ids.contains(id) {
                problems.push(format!("{name}/case.toml: no rule `{id}`"));
            }
        }
        if !case.todo.is_empty() && !filled(&case.todo_reason) {
            problems.push(format!(
                "{name}/case.toml: a `todo` needs a written `todo_reason`"
            ));
        }
    }
}

/// Every case has its two report snapshots beside it, and there is no other snapshot: none
/// pending review, none left from a case that is gone.
fn check_snapshots(root: &Path, problems: &mut Vec<String>) {
    const SNAPSHOTS: [&str; 2] = ["report.txt.snap", "report.json.snap"];
    for (case_dir, name) in case_dirs(root) {
        let Ok(entries) = std::fs::read_dir(&case_dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.ends_with(".snap.new") || file.ends_with(".pending-snap") {
                problems.push(format!(
                    "{name}/{file}: pending snapshot; review it and run `cargo xtask bless`"
                ));
            } else if Path::new(&file)
                .extension()
                .is_some_and(|ext| ext == "snap")
                && !SNAPSHOTS.contains(&file.as_str())
            {
                problems.push(format!("{name}/{file}: not a report snapshot of this case"));
            }
        }
        if !case_dir.join("case.toml").exists() {
            continue;
        }
        for snapshot in SNAPSHOTS {
            if !case_dir.join(snapshot).exists() {
                problems.push(format!(
                    "{name}: no {snapshot}; run `cargo xtask bless` and review it"
                ));
            }
        }
    }
    if root.join("engine/tests/snapshots").exists() {
        problems.push(
            "engine/tests/snapshots: report snapshots live beside their fixtures now".to_owned(),
        );
    }
}

fn check_generated_docs(root: &Path, problems: &mut Vec<String>) {
    let files = match crate::docs::generated(root) {
        Ok(files) => files,
        Err(err) => {
            problems.push(format!("generated docs: {err}"));
            return;
        }
    };
    let expected: BTreeSet<_> = files.iter().map(|(path, _)| path.clone()).collect();
    for (path, text) in &files {
        if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
            problems.push(format!(
                "{} is out of date: run `cargo xtask docs` and commit",
                path.strip_prefix(root).unwrap_or(path).display()
            ));
        }
    }
    if let Ok(entries) = std::fs::read_dir(root.join("docs/rules")) {
        for entry in entries.filter_map(Result::ok) {
            if !expected.contains(&entry.path()) {
                problems.push(format!(
                    "{}: no rule generates this file; delete it",
                    entry.path().display()
                ));
            }
        }
    }
}

/// The README's sample report is the fixture's snapshot, and the bundle-format example loads.
fn check_docs_examples(root: &Path, problems: &mut Vec<String>) {
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap_or_default();
    let command = "$ ecs-autopsy replay fixtures/app-missing-config/dropped-env-var/bundle.json\n";
    let snapshot = root.join("fixtures/app-missing-config/dropped-env-var/report.txt.snap");
    let snapshot = std::fs::read_to_string(snapshot).unwrap_or_default();
    let report = snapshot.splitn(3, "---\n").nth(2).unwrap_or_default();
    let shown = readme
        .find(command)
        .map(|at| &readme[at + command.len()..])
        .and_then(|rest| rest.find("```").map(|end| &rest[..end]));
    if report.is_empty() || shown.is_none_or(|shown| shown.trim_end() != report.trim_end()) {
        problems.push("README.md: the sample report differs from the dropped-env-var text snapshot; copy it again".to_owned());
    }

    let format = std::fs::read_to_string(root.join("docs/bundle-format.md")).unwrap_or_default();
    let example = format
        .split("## Example")
        .nth(1)
        .and_then(|rest| rest.split("```json\n").nth(1))
        .and_then(|rest| rest.split("\n```").next());
    match example {
        Some(json) => {
            if let Err(err) =
                recorder::Bundle::from_slice(json.as_bytes(), "docs/bundle-format.md example")
            {
                problems.push(err.to_string());
            }
        }
        None => {
            problems.push("docs/bundle-format.md: no JSON example under `## Example`".to_owned());
        }
    }
}

/// Every case folder, `fixtures/<failure-mode>/<case>/`, sorted, with its path from the root
/// for messages. `fixtures/golden/` holds frozen bundles of each format version, not cases,
/// `fixtures/events/` EventBridge events from ECS (engine/cli/tests/events.rs), and
/// `fixtures/real/` the real-incident corpus, checked by `check_real_cases`.
fn case_dirs(root: &Path) -> Vec<(std::path::PathBuf, String)> {
    sorted_dirs(&root.join("fixtures"))
        .into_iter()
        .filter(|d| !d.ends_with("golden") && !d.ends_with("real") && !d.ends_with("events"))
        .flat_map(|mode| sorted_dirs(&mode))
        .map(|case_dir| {
            let name = case_dir
                .strip_prefix(root)
                .unwrap_or(&case_dir)
                .display()
                .to_string();
            (case_dir, name)
        })
        .collect()
}

fn sorted_dirs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

#[cfg(test)]
mod tests {
    #[test]
    fn tidy() {
        if let Err(err) = super::run(&crate::root()) {
            panic!("{err}");
        }
    }
}
