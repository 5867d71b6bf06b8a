//! Rules that misbehave are stopped within their budget and never change other rules' output.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use engine::evidence::Evidence;
use engine::report::RuleNotes;
use engine::rule::{RuleOrigin, compile_rule};
use engine::runtime::{Limits, new_engine};
use recorder::Bundle;

fn evidence() -> Arc<Evidence> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/app-missing-config/dropped-env-var/bundle.json");
    Arc::new(Evidence::from_bundle(
        Bundle::read(&path).expect("fixture loads"),
    ))
}

fn small_limits() -> Limits {
    Limits {
        max_operations: 200_000,
        max_call_levels: 32,
        max_string_size: 10_000,
        max_array_size: 10_000,
        max_map_size: 1_000,
        max_duration: Duration::from_secs(5),
        max_findings: 100,
    }
}

/// Runs one rule, alone, under `limits`.
fn run_one(limits: &Limits, file: &str, source: &str) -> engine::report::Report {
    let engine = new_engine(limits);
    let rule = compile_rule(&engine, RuleOrigin::File(file.into()), source).expect("compiles");
    engine::diagnose(&engine, &evidence(), &[rule], limits, &RuleNotes::default())
}

fn hostile(id: &str, body: &str) -> String {
    format!(
        "const RULE = #{{ id: \"{id}\", title: \"t\", severity: \"error\", category: \"{id}\", benign: false }};\n{body}\n"
    )
}

#[test]
fn hostile_rules_are_stopped_and_others_are_unchanged() {
    let limits = small_limits();
    let engine = new_engine(&limits);
    let (builtin, errors) = engine::rule::builtin_rules(&engine);
    assert!(errors.is_empty(), "{errors:?}");
    let ev = evidence();
    let baseline = engine::diagnose(&engine, &ev, &builtin, &limits, &RuleNotes::default());

    let cases = [
        (
            "spins",
            "fn check(ev) { loop { } }",
            "exceeded its operation budget",
        ),
        (
            "recurses",
            "fn deep(n) { deep(n + 1) }\nfn check(ev) { deep(0) }",
            "exceeded the call depth limit",
        ),
        (
            "huge-string",
            "fn check(ev) { let s = \"x\"; loop { s += s; } }",
            "Length of string too large",
        ),
        (
            "huge-array",
            "fn check(ev) { let a = []; loop { a.push(1); } }",
            "Size of array/BLOB too large",
        ),
        (
            "many-findings",
            "fn check(ev) { let f = []; let t = ev.stopped_tasks()[0]; for i in 0..500 { f.push(finding(t, `${i}`)); } f }",
            "more than the limit of 100",
        ),
        (
            "not-an-array",
            "fn check(ev) { 42 }",
            "must return an array of findings, not i64",
        ),
        (
            "reads-files",
            "fn check(ev) { import \"os\" as os; [] }",
            "",
        ),
    ];
    let mut rules = builtin.clone();
    for (id, body, _) in &cases {
        match compile_rule(
            &engine,
            RuleOrigin::File(format!("{id}.rhai").into()),
            &hostile(id, body),
        ) {
            Ok(rule) => rules.push(rule),
            Err(errors) => {
                // `import` is rejected when the rule is loaded: rules cannot reach modules or files.
                assert_eq!(*id, "reads-files", "{errors:?}");
            }
        }
    }
    let report = engine::diagnose(&engine, &ev, &rules, &limits, &RuleNotes::default());
    for (id, _, message) in cases.iter().filter(|(id, _, _)| *id != "reads-files") {
        let error = report
            .rule_errors
            .iter()
            .find(|e| e.rule == *id)
            .unwrap_or_else(|| panic!("no rule error for {id}"));
        assert!(error.message.contains(message), "{id}: {}", error.message);
    }
    assert_eq!(
        report.findings, baseline.findings,
        "hostile rules changed other rules' findings"
    );
}

#[test]
fn wall_clock_limit_stops_slow_rules() {
    let limits = Limits {
        max_operations: 0,
        max_duration: Duration::from_millis(100),
        ..small_limits()
    };
    let report = run_one(
        &limits,
        "slow.rhai",
        &hostile("slow", "fn check(ev) { loop { } }"),
    );
    assert_eq!(report.rule_errors.len(), 1);
    assert!(
        report.rule_errors[0]
            .message
            .contains("wall-clock time limit exceeded"),
        "{:?}",
        report.rule_errors
    );
}

#[test]
fn rules_cannot_mutate_evidence() {
    let limits = small_limits();
    let report = run_one(
        &limits,
        "mutates.rhai",
        &hostile(
            "mutates",
            "fn check(ev) { let t = ev.stopped_tasks()[0]; t.stopCode = \"X\"; [] }",
        ),
    );
    assert_eq!(report.rule_errors.len(), 1, "{:?}", report.rule_errors);
    assert_eq!(
        report.tasks[0].stop_code.as_deref(),
        Some("EssentialContainerExited")
    );
}
