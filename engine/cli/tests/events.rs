//! EventBridge events from ECS as an input (`replay EVENT.json`): every event in
//! `fixtures/events/` (real events, sources in its SOURCES.md) gives the diagnosis that file
//! lists, through the real binary; every evidence label is the file and a jq path to exactly
//! the value shown; SQS message bodies, Lambda SQS batches and `aws sqs receive-message`
//! output give the same diagnosis as the events they hold.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::{TempDir, isolated_binary, text};
use serde_json::Value;

fn events_dir() -> PathBuf {
    common::workspace_root().join("fixtures/events")
}

fn replay(path: &std::path::Path, extra: &[&str]) -> Output {
    let home = TempDir::new("events", &path.display().to_string().replace('/', "_"));
    isolated_binary(&home)
        .args(["--no-config", "replay"])
        .arg(path)
        .args(extra)
        .output()
        .expect("the binary runs")
}

fn json_report(path: &std::path::Path) -> (Value, i32) {
    let output = replay(path, &["--format", "json"]);
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{}: {err}\n{}", path.display(), text(&output.stderr)));
    (report, output.status.code().unwrap_or(-1))
}

/// What a report says, in one line per task and per service-level result.
fn outcome(report: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    for task in report["tasks"].as_array().into_iter().flatten() {
        let verdict = task["verdict"].as_str().unwrap_or_default();
        // A benign stop has no root cause; its benign finding names what it was.
        let benign = report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["task_arn"] == task["task_arn"] && f["verdict"] == "benign");
        let cause = task["root_cause"]
            .as_str()
            .or_else(|| benign.and_then(|f| f["rule"].as_str()))
            .unwrap_or("-");
        lines.push(format!("task {verdict} {cause}"));
    }
    for finding in report["findings"].as_array().into_iter().flatten() {
        if finding["task_arn"].is_null() {
            lines.push(format!(
                "service {} {}",
                finding["verdict"].as_str().unwrap_or_default(),
                finding["rule"].as_str().unwrap_or_default()
            ));
        }
    }
    for event in report["unexplained_events"]
        .as_array()
        .into_iter()
        .flatten()
    {
        lines.push(format!(
            "unexplained {}",
            event["event_name"].as_str().unwrap_or_default()
        ));
    }
    lines
}

/// Each event and its diagnosis (SOURCES.md's "expected diagnosis" column), with the exit code.
const EXPECTED: &[(&str, &[&str], i32)] = &[
    (
        "deployment-failed-circuit-breaker-awsdocs.json",
        &["service root-cause deployment-circuit-breaker"],
        1,
    ),
    (
        "deployment-rollback-in-progress-awsdocs.json",
        &["service root-cause deployment-circuit-breaker"],
        1,
    ),
    (
        "service-placement-failure-ec2-cpu-awsdocs.json",
        &["service root-cause placement-insufficient-resources"],
        1,
    ),
    (
        "service-placement-failure-fargate-spot-awsdocs.json",
        &["service root-cause capacity-or-quota-limit"],
        1,
    ),
    (
        "service-task-start-impaired-awsdocs.json",
        &["unexplained SERVICE_TASK_START_IMPAIRED"],
        1,
    ),
    (
        "service-task-start-impaired-wellcome.json",
        &["unexplained SERVICE_TASK_START_IMPAIRED"],
        1,
    ),
    // The app exited 2 beside an envoy sidecar that exited 0: not `app-exited-zero`; only the
    // app's logs can say why.
    (
        "task-app-exit2-envoy-sidecar-fargate.json",
        &["task undiagnosed -"],
        1,
    ),
    (
        "task-elb-health-check-failed-fargate.json",
        &["task diagnosed elb-health-check-failed"],
        1,
    ),
    (
        "task-failed-to-start-no-detail-fargate.json",
        &["task undiagnosed -"],
        1,
    ),
    // A scale-in SIGKILL 43 s after the stop began: beyond graceful-stop's window, and not an
    // OOM kill (SOURCES.md's boundary case).
    (
        "task-scale-in-sigkill-137-fargate.json",
        &["task undiagnosed -"],
        1,
    ),
    (
        "task-spot-termination-notice-awsdocs.json",
        &["task benign spot-interruption"],
        0,
    ),
    (
        "task-standalone-exit1-fargate.json",
        &["task undiagnosed -"],
        1,
    ),
    (
        "task-standalone-exit255-fargate.json",
        &["task undiagnosed -"],
        1,
    ),
    (
        "task-user-stopped-ec2-exit0.json",
        &["task benign graceful-stop"],
        0,
    ),
];

#[test]
fn every_event_gives_the_diagnosis_its_sources_list() {
    let mut files: Vec<String> = std::fs::read_dir(events_dir())
        .expect("fixtures/events")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().to_string_lossy().into_owned();
            std::path::Path::new(&name)
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
                .then_some(name)
        })
        .collect();
    files.sort();
    let listed: Vec<&str> = EXPECTED.iter().map(|(file, _, _)| *file).collect();
    assert_eq!(files, listed, "every event file has its expectation here");
    let mut wrong = Vec::new();
    for (file, expected, code) in EXPECTED {
        let (report, exit) = json_report(&events_dir().join(file));
        let got = outcome(&report);
        if got != *expected || exit != *code {
            wrong.push(format!(
                "{file}: {got:?} exit {exit}, expected {expected:?} exit {code}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `.a.b[2].c` in a JSON value.
fn jq<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = value;
    for part in path.trim_start_matches('.').split('.') {
        let (key, indexes) = part
            .split_once('[')
            .map_or((part, ""), |(k, rest)| (k, rest));
        if !key.is_empty() {
            current = current.get(key)?;
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            let index: usize = index.trim_end_matches(']').parse().ok()?;
            current = current.get(index)?;
        }
    }
    Some(current)
}

#[test]
fn every_evidence_label_is_the_event_file_and_a_jq_path_to_the_value() {
    let mut checked = 0;
    for (file, _, _) in EXPECTED {
        let path = events_dir().join(file);
        let event: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
        let (report, _) = json_report(&path);
        for finding in report["findings"].as_array().into_iter().flatten() {
            for fact in finding["evidence"].as_array().into_iter().flatten() {
                let label = fact["label"].as_str().unwrap_or_default();
                let (shown_file, jq_path) = label
                    .split_once(": ")
                    .unwrap_or_else(|| panic!("{file}: label `{label}`"));
                assert_eq!(shown_file, *file, "{label}");
                let held = jq(&event, jq_path)
                    .unwrap_or_else(|| panic!("{file}: `{jq_path}` is not in the file"));
                assert_eq!(held, &fact["value"], "{file}: {label}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "only {checked} facts checked");
}

#[test]
fn sqs_bodies_and_batches_give_the_diagnosis_of_the_events_they_hold() {
    let dir = TempDir::new("events", "sqs");
    // A message body saved as the JSON string it is.
    let event =
        std::fs::read_to_string(events_dir().join("task-elb-health-check-failed-fargate.json"))
            .expect("read");
    let compact: Value = serde_json::from_str(&event).expect("JSON");
    let body = dir.join("body.json");
    std::fs::write(&body, Value::String(compact.to_string()).to_string()).expect("write");
    let (report, exit) = json_report(&body);
    assert_eq!(outcome(&report), ["task diagnosed elb-health-check-failed"]);
    assert_eq!(exit, 1);

    // The Lambda's batch: a task event, a failed deployment and a start-impaired service.
    let (report, exit) = json_report(&events_dir().join("sqs/lambda-batch.json"));
    assert_eq!(
        outcome(&report),
        [
            "task undiagnosed -",
            "service root-cause deployment-circuit-breaker",
            "unexplained SERVICE_TASK_START_IMPAIRED"
        ]
    );
    assert_eq!(exit, 1);
    let (report, _) = json_report(&events_dir().join("sqs/receive-message.json"));
    assert_eq!(
        outcome(&report),
        [
            "task diagnosed elb-health-check-failed",
            "service root-cause deployment-circuit-breaker"
        ]
    );
}

#[test]
fn a_file_that_is_neither_a_bundle_nor_an_event_says_so_on_one_line() {
    let dir = TempDir::new("events", "bad");
    let path = dir.join("batch.json");
    std::fs::write(&path, r#"{"Records": [{"body": "not json"}]}"#).expect("write");
    let output = replay(&path, &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("batch.json") && stderr.contains("Records[0].body"),
        "{stderr}"
    );
}

#[test]
fn history_reads_a_local_copy_of_the_recorder_layout_and_names_what_it_cannot_read() {
    let dir = TempDir::new("events", "history");
    // The bundle's stopped task is of service `reports`; its key names the same service.
    let place = dir.join("bundles/111122223333/us-east-1/prod/reports/2026-12-05");
    std::fs::create_dir_all(&place).expect("mkdir");
    let oom = common::workspace_root().join("fixtures/oom-container-limit/exit-137/bundle.json");
    std::fs::copy(&oom, place.join("one.json")).expect("copy");
    let kept = dir.join("events/111122223333/us-east-1/prod/reports/2026-12-05");
    std::fs::create_dir_all(&kept).expect("mkdir");
    std::fs::copy(
        events_dir().join("task-elb-health-check-failed-fargate.json"),
        kept.join("7e12d648155541fbb8a922c39b586f82.json"),
    )
    .expect("copy");
    let home = TempDir::new("events", "history-home");
    let run = |extra: &[&str]| {
        isolated_binary(&home)
            .args(["--no-config", "history"])
            .arg(&*dir)
            .args(["--since", "36500d"])
            .args(extra)
            .output()
            .expect("the binary runs")
    };
    let output = run(&["--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        (json["bundles"].as_u64(), json["events_only"].as_u64()),
        (Some(1), Some(1))
    );
    let api = &json["services"][0];
    assert_eq!(api["service"], "reports");
    assert_eq!(api["stops"], 2);
    assert_eq!(api["causes"][0]["cause"], "oom-container-limit");
    assert_eq!(api["causes"][1]["kind"], "event-only");

    let markdown = run(&["--format", "markdown"]);
    assert!(
        text(&markdown.stdout).contains("| reports | prod | us-east-1 | 111122223333 | 2 | 2 |"),
        "{}",
        text(&markdown.stdout)
    );

    // A name from a key or a bundle cannot send escape sequences to the terminal.
    let hostile = dir.join("events/111122223333/us-east-1/prod/evil\u{1b}[2J/2026-12-05");
    std::fs::create_dir_all(&hostile).expect("mkdir");
    std::fs::copy(
        events_dir().join("task-standalone-exit1-fargate.json"),
        hostile.join("x.json"),
    )
    .expect("copy");
    let shown = run(&[]);
    assert!(!shown.stdout.contains(&0x1b), "{}", text(&shown.stdout));
    assert!(
        text(&shown.stdout).contains("evil\\u{1b}[2J"),
        "{}",
        text(&shown.stdout)
    );
    let shown = run(&["--format", "markdown"]);
    assert!(!shown.stdout.contains(&0x1b));

    // A broken object is named on one line, counted out, and the run exits 2.
    std::fs::write(place.join("broken.json.gz"), b"\x1f\x8b not gzip").expect("write");
    let output = run(&[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("broken.json.gz") && stderr.lines().count() == 1,
        "{stderr}"
    );
    assert!(
        text(&output.stdout).contains("reports · prod · us-east-1 · 111122223333: 2 stop(s)"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn history_reads_bundles_and_events_outside_the_recorder_layout_too() {
    let dir = TempDir::new("events", "history-loose");
    std::fs::copy(
        common::workspace_root().join("fixtures/oom-container-limit/exit-137/bundle.json"),
        dir.join("incident.json"),
    )
    .expect("copy");
    std::fs::copy(
        events_dir().join("task-elb-health-check-failed-fargate.json"),
        dir.join("event.json"),
    )
    .expect("copy");
    std::fs::write(dir.join("notes.txt"), "not JSON, not read").expect("write");
    let home = TempDir::new("events", "history-loose-home");
    let output = isolated_binary(&home)
        .args(["--no-config", "history"])
        .arg(&*dir)
        .args(["--since", "36500d", "--format", "json"])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        (json["bundles"].as_u64(), json["events_only"].as_u64()),
        (Some(1), Some(1))
    );
    let services: Vec<&str> = json["services"]
        .as_array()
        .expect("services")
        .iter()
        .filter_map(|s| s["service"].as_str())
        .collect();
    assert_eq!(services, ["reports", "sin-web_service-dev"]);
}
