//! The real-incident corpus, `fixtures/real/<slug>/`: public incidents nobody on this team
//! wrote (GitHub issues, Q&A threads, AWS pages), each an `aws-cli/` folder of the outputs its
//! reporter would have had and a `case.toml` naming its source, what is verbatim, what is
//! reconstructed, and the root cause every stopped task must get. This is the measure of
//! accuracy: a case fails unless it is right, or its `todo_reason` says why it is a known gap.
//! The README states the accuracy; this test keeps that sentence true.

mod common;

use std::path::PathBuf;

use ecs_autopsy::case::run_case;
use engine::rule::RuleSet;
use engine::runtime::Limits;

fn cases() -> Vec<PathBuf> {
    let root = common::workspace_root().join("fixtures/real");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures/real")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.join("case.toml").is_file())
        .collect();
    cases.sort();
    cases
}

#[test]
#[allow(clippy::print_stderr)]
fn real_incidents_get_their_root_cause() {
    let rules = RuleSet::builtin(Limits::standard());
    assert!(rules.errors.is_empty(), "{:?}", rules.errors);
    let cases = cases();
    let mut right = 0;
    let mut gaps = Vec::new();
    let mut problems = Vec::new();
    for dir in &cases {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The same runner as `ecs-autopsy rules test fixtures/real`.
        let outcome = run_case(dir, &rules, false);
        assert_eq!(
            outcome,
            run_case(dir, &rules, false),
            "{name}: two runs differ"
        );
        match (&outcome.known_gap, outcome.failures.is_empty()) {
            (None, true) => right += 1,
            (Some(reason), true) => gaps.push(format!("{name}: {reason}")),
            (_, false) => {
                let failures = outcome.failures.join("\n    ");
                problems.push(format!("{name}:\n    {failures}"));
            }
        }
    }
    // Shown with `--nocapture`: what is right, and every known gap with its reason.
    eprintln!(
        "{right} of {} real incidents diagnosed right; {} known gaps:\n  {}",
        cases.len(),
        gaps.len(),
        gaps.join("\n  ")
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The README states this accuracy, in this sentence.
    let readme =
        std::fs::read_to_string(common::workspace_root().join("README.md")).expect("README.md");
    let claim = accuracy_sentence(right, cases.len());
    assert!(
        readme.contains(&claim),
        "README.md should say, as it is now: {claim}"
    );
}

/// `it names the right root cause for 98 of the 114 real incidents in fixtures/real/ (86 %)`.
fn accuracy_sentence(right: usize, total: usize) -> String {
    let percent = (right * 100).checked_div(total).unwrap_or(0);
    format!(
        "it names the right root cause for {right} of the {total} real incidents in `fixtures/real/` ({percent} %)"
    )
}

/// `.tasks[0].containers[1].exitCode` in `value`, as jq reads it.
fn jq<'a>(value: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let mut here = value;
    let path = path.strip_prefix('.')?;
    if path.is_empty() {
        return Some(here);
    }
    for segment in path.split('.') {
        let (name, mut indexes) = segment.split_at(segment.find('[').unwrap_or(segment.len()));
        if !name.is_empty() {
            here = here.get(name)?;
        }
        while let Some(rest) = indexes.strip_prefix('[') {
            let (index, tail) = rest.split_once(']')?;
            here = here.get(index.parse::<usize>().ok()?)?;
            indexes = tail;
        }
    }
    Some(here)
}

#[test]
fn every_evidence_label_of_a_folder_replay_is_a_file_and_a_jq_path_to_the_value() {
    use engine::evidence::Evidence;
    let rules = RuleSet::builtin(Limits::standard());
    let mut checked = 0;
    for dir in cases() {
        let case = ecs_autopsy::case::Case::read(&dir.join("case.toml")).expect("case.toml");
        let bundle = case.load_input(&dir).expect("input");
        let report = engine::diagnose(&Evidence::from_bundle(bundle), &rules);
        for fact in report.findings.iter().flat_map(|f| &f.evidence) {
            let label = fact.label.as_deref().expect("every cited call has a label");
            let (file, path) = label.split_once(": ").expect("FILE: PATH");
            let text = std::fs::read_to_string(dir.join("aws-cli").join(file))
                .unwrap_or_else(|err| panic!("{}: {label}: {err}", dir.display()));
            let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            let found = jq(&json, path);
            // A path to nothing is shown as absent (null).
            let found = found.cloned().unwrap_or(serde_json::Value::Null);
            assert_eq!(found, fact.value, "{}: {label}", dir.display());
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked}");
}
