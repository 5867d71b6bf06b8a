//! The one data-driven test over every fixture case: `fixtures/<failure-mode>/<case>/`.
//!
//! A case holds `case.toml` and its input: `bundle.json`, `bundle.json.gz`, or an `aws-cli/`
//! folder of AWS CLI outputs. `expect` rules must fire, `ok` rules must not, `todo` rules are
//! known gaps; any other rule that fires fails the case (the same `case.toml` a team's
//! `ecs-autopsy rules test` reads). The text and JSON reports are snapshotted beside the case,
//! as `report.txt.snap` and `report.json.snap` (`cargo xtask bless` accepts changes, after
//! review), so that adding a rule touches only `rules/<id>.rhai` and `fixtures/<id>/`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ecs_autopsy::case::Case;
use engine::evidence::Evidence;
use engine::report::Report;
use engine::rule::RuleSet;
use engine::runtime::Limits;
use recorder::Bundle;

fn workspace_root() -> PathBuf {
    common::workspace_root()
}

fn load_case_input(dir: &Path) -> Bundle {
    let case = Case::read(&dir.join("case.toml")).unwrap_or_else(|err| panic!("{err}"));
    case.load_input(dir).unwrap_or_else(|err| panic!("{err:#}"))
}

/// The built-in rules, compiled once for every case.
fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        let rules = RuleSet::builtin(Limits::standard());
        assert!(
            rules.errors.is_empty(),
            "built-in rules failed to load: {:#?}",
            rules.errors
        );
        rules
    })
}

fn diagnose(bundle: Bundle) -> Report {
    engine::diagnose(&Evidence::from_bundle(bundle), rules())
}

#[test]
fn fixtures() {
    let root = workspace_root().join("fixtures");
    insta::glob!(&root, "*/*/case.toml", |case_path| {
        let dir = case_path.parent().expect("case dir");
        if dir.parent().is_some_and(|mode| mode.ends_with("real")) {
            return; // The real-incident corpus has its own test (real.rs), without snapshots.
        }
        let case = Case::read(case_path).unwrap_or_else(|err| panic!("{err}"));
        assert!(
            !case.description.trim().is_empty(),
            "{}: empty description",
            case_path.display()
        );

        let report = diagnose(load_case_input(dir));
        let again = diagnose(load_case_input(dir));
        assert_eq!(
            report,
            again,
            "{}: output differs between two runs",
            dir.display()
        );
        let failures = case.failures(&report);
        assert!(
            failures.is_empty(),
            "{}:\n  {}",
            dir.display(),
            failures.join("\n  ")
        );

        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(dir);
        settings.set_prepend_module_to_snapshot(false);
        settings.remove_snapshot_suffix();
        settings.bind(|| {
            insta::assert_snapshot!("report.txt", report.render_text(false));
            insta::assert_snapshot!("report.json", report.render_json());
        });
    });
}

/// Redaction never changes a diagnosis: for every fixture, the report on the redacted bundle
/// equals the report on the original with the same redaction applied to its text. And a
/// redacted bundle always scans clean (`bundle scan`).
#[test]
fn redaction_never_changes_the_diagnosis() {
    for dir in case_dirs() {
        let original = load_case_input(&dir);
        let mut redactor = recorder::redact::Redactor::for_bundle(&original);
        let mut redacted = original.clone();
        recorder::redact::redact(&mut redacted);
        // What `record` writes always passes the audit people run before sharing a bundle.
        let left = recorder::redact::scan(&redacted);
        assert!(
            left.is_empty(),
            "{}: redacted, yet scan finds {left:?}",
            dir.display()
        );
        let mut expected = serde_json::to_value(diagnose(original)).expect("report JSON");
        redactor.value(&mut expected);
        let mut actual = serde_json::to_value(diagnose(redacted)).expect("report JSON");
        // CloudTrail callers are pseudonymised by design (`principal-N`, `ip-N`): the report
        // names the pseudonyms; everything else about the call is the same.
        for caller in callers(&mut actual) {
            let principal = caller["principal"].as_str().unwrap_or_default();
            assert!(
                principal.is_empty() || principal.contains("principal-"),
                "{}: principal {principal} is not pseudonymised",
                dir.display()
            );
            let source = caller["source"].as_str().unwrap_or_default();
            assert!(
                source.parse::<std::net::IpAddr>().is_err(),
                "{}: source {source} is not pseudonymised",
                dir.display()
            );
        }
        for report in [&mut expected, &mut actual] {
            for caller in callers(report) {
                caller["principal"] = serde_json::Value::Null;
                caller["source"] = serde_json::Value::Null;
            }
        }
        assert_eq!(
            actual,
            expected,
            "{}: redaction changed the report",
            dir.display()
        );
    }
}

/// The CloudTrail callers a report names: who stopped each task, who changed each service.
fn callers(report: &mut serde_json::Value) -> Vec<&mut serde_json::Value> {
    let mut found = Vec::new();
    let serde_json::Value::Object(top) = report else {
        return found;
    };
    for (key, value) in top.iter_mut() {
        match (key.as_str(), value) {
            ("tasks", serde_json::Value::Array(tasks)) => {
                for task in tasks {
                    if let Some(caller) = task.pointer_mut("/stopped_by/caller")
                        && caller.is_object()
                    {
                        found.push(caller);
                    }
                }
            }
            ("summary", summary) => {
                if let Some(serde_json::Value::Array(services)) = summary.get_mut("services") {
                    for service in services {
                        if let Some(serde_json::Value::Array(changed)) =
                            service.get_mut("changed_by")
                        {
                            found.extend(changed.iter_mut());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// Every case folder, sorted.
fn case_dirs() -> Vec<PathBuf> {
    let root = workspace_root().join("fixtures");
    let mut cases: Vec<PathBuf> = Vec::new();
    for mode in std::fs::read_dir(&root).expect("fixtures") {
        let mode = mode.expect("entry").path();
        if mode.ends_with("golden") || mode.ends_with("events") {
            continue; // Frozen bundles (golden.rs) and EventBridge events (events.rs), not cases.
        }
        for case in std::fs::read_dir(mode).expect("cases") {
            cases.push(case.expect("entry").path());
        }
    }
    cases.sort();
    assert!(cases.len() > 10);
    cases
}

/// Two rules that split one kind of stop between them: over every fixture, exactly one of them
/// fires on each such stop (with its finding and the symptoms it adds).
#[track_caller]
fn check_split(is_such_a_stop: &dyn Fn(&serde_json::Value) -> bool, rules: [&str; 2]) -> usize {
    let mut stops = 0;
    for dir in case_dirs() {
        let report = serde_json::to_value(diagnose(load_case_input(&dir))).expect("report JSON");
        for task in report["tasks"].as_array().expect("tasks") {
            if !is_such_a_stop(task) {
                continue;
            }
            stops += 1;
            let fired: std::collections::BTreeSet<&str> = report["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .filter(|f| f["task_arn"] == task["task_arn"])
                .filter_map(|f| f["rule"].as_str())
                .filter(|rule| rules.contains(rule))
                .collect();
            assert_eq!(
                fired.len(),
                1,
                "{}: on task {}, {fired:?} of {rules:?} fired, not exactly one",
                dir.display(),
                task["task_id"]
            );
        }
    }
    stops
}

/// `elb-health-check-failed` and `health-check-grace-too-short` agree through one function,
/// `health::slow_start`: every stop by an ELB health check is one of them, never both.
#[test]
fn the_elb_health_check_rules_split_every_elb_stop() {
    let stops = check_split(
        &|task| {
            task["stopped_reason"]
                .as_str()
                .is_some_and(|reason| reason.to_lowercase().contains("failed elb health checks"))
        },
        ["elb-health-check-failed", "health-check-grace-too-short"],
    );
    assert!(
        stops >= 10,
        "only {stops} ELB health-check stops in the fixtures"
    );
}

/// `task-network-egress-blocked` and `transient-platform-error` agree through one function,
/// `network::startup_failure`: every start-up network failure (here: a task that never started
/// with a timeout word in its reasons) is one of them, never both.
#[test]
fn the_network_rules_split_every_start_up_network_failure() {
    let stops = check_split(
        &|task| {
            let never_started = task["containers"]
                .as_array()
                .is_some_and(|cs| cs.iter().all(|c| c["exit_code"].is_null()));
            let reasons = std::iter::once(&task["stopped_reason"])
                .chain(
                    task["containers"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| &c["reason"]),
                )
                .filter_map(serde_json::Value::as_str)
                .collect::<Vec<_>>()
                .join(" ");
            never_started
                && (reasons.contains("i/o timeout")
                    || reasons.contains("context deadline exceeded")
                    || reasons.contains("connection issue between the task and"))
                && !reasons.contains("EFS")
                && !reasons.contains("mount.nfs")
        },
        ["task-network-egress-blocked", "transient-platform-error"],
    );
    assert!(
        stops >= 4,
        "only {stops} start-up network failures in the fixtures"
    );
}

/// Every evidence line is true: over every fixture and real incident, each fact's value is
/// exactly what the bundle holds at the fact's path, or the path leads nowhere and the fact says
/// the field is absent.
#[test]
fn every_evidence_value_is_what_the_bundle_holds_at_its_path() {
    let mut checked = 0;
    let mut false_facts = Vec::new();
    for dir in case_dirs() {
        let bundle = load_case_input(&dir);
        let json: serde_json::Value =
            serde_json::from_slice(&bundle.to_canonical_json()).expect("bundle JSON");
        let report = diagnose(bundle);
        for finding in &report.findings {
            for fact in &finding.evidence {
                checked += 1;
                let held = resolve(&json, &fact.path);
                let true_fact = match held {
                    Some(value) => *value == fact.value,
                    None => fact.value.is_null(),
                };
                if !true_fact {
                    false_facts.push(format!(
                        "{} ({}): {} = {} but the bundle holds {}",
                        dir.display(),
                        finding.rule,
                        fact.path,
                        fact.value,
                        held.map_or_else(|| "nothing".to_owned(), ToString::to_string)
                    ));
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} facts");
    assert!(
        false_facts.is_empty(),
        "{} false evidence lines:\n{}",
        false_facts.len(),
        false_facts.join("\n")
    );
}

/// The value at `calls[2].response.tasks[0].stoppedReason`, or `None` when the path leads
/// nowhere.
fn resolve<'v>(json: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    let mut value = json;
    for segment in path.split('.') {
        let (name, indexes) = segment
            .find('[')
            .map_or((segment, ""), |at| segment.split_at(at));
        if !name.is_empty() {
            value = value.get(name)?;
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            value = value.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(value)
}
