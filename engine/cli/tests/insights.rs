//! The evidence beyond the stopped task (issue #21), as a user replays it: an OOM-killed task's
//! memory verdict with its numbers, a failing service's error patterns tied to its stops, who
//! stopped a task, and each missing source named. The cases are `fixtures/*/` built by
//! `xtask/scripts/insights_fixtures.py`, which must still make them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn replay(case: &str, format: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ecs-autopsy"))
        .args(["--no-config", "--format", format, "replay"])
        .arg(root().join("fixtures").join(case).join("bundle.json"))
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn json(case: &str) -> Value {
    let (_, out) = replay(case, "json");
    serde_json::from_str(&out).expect("JSON report")
}

#[test]
fn each_memory_shape_gets_its_verdict_with_numbers() {
    let cases = [
        ("oom-container-limit/memory-leak", "leak", "MB an hour"),
        (
            "oom-container-limit/memory-spike",
            "spike",
            "rose to 508 MB",
        ),
        (
            "oom-container-limit/memory-too-small",
            "too-small",
            "from the first sample on",
        ),
    ];
    for (case, verdict, words) in cases {
        let report = json(case);
        let memory = &report["tasks"][0]["memory"];
        assert_eq!(memory["verdict"], verdict, "{case}: {memory}");
        assert_eq!(memory["samples"], 40, "{case}");
        assert_eq!(memory["limit_mb"], 512.0, "{case}");
        assert_eq!(memory["container"], "reports", "{case}");
        let summary = memory["summary"].as_str().unwrap_or_default();
        assert!(summary.contains(words), "{case}: {summary}");
        // The rows it was read from, where the bundle holds them.
        assert_eq!(memory["path"], "calls[7].response.results", "{case}");
        assert!(memory["bytes_scanned"].as_f64().is_some_and(|b| b > 0.0));
    }
    // The leak's rate: 9 MB a minute in the samples.
    let leak = json("oom-container-limit/memory-leak");
    let rate = leak["tasks"][0]["memory"]["mb_per_hour"]
        .as_f64()
        .unwrap_or_default();
    assert!((500.0..580.0).contains(&rate), "{rate}");
    // The spike names the log line before its peak.
    let spike = json("oom-container-limit/memory-spike");
    assert_eq!(
        spike["tasks"][0]["memory"]["log_line"],
        "GET /exports/2026-q4.csv 200 9450ms"
    );
}

#[test]
fn container_insights_off_says_how_to_turn_it_on() {
    let (code, text) = replay("oom-container-limit/container-insights-off", "text");
    assert_eq!(code, Some(1));
    assert!(
        text.contains("memory      unavailable: no memory history: cluster prod has no Container Insights log group (/aws/ecs/containerinsights/prod/performance); turn Container Insights on with `aws ecs update-cluster-settings --cluster prod --settings name=containerInsights,value=enhanced`"),
        "{text}"
    );
    // The diagnosis is the same as without the query.
    let report = json("oom-container-limit/container-insights-off");
    assert_eq!(report["tasks"][0]["root_cause"], "oom-container-limit");
    assert_eq!(report["missing_evidence"][0]["operation"], "StartQuery");
}

#[test]
fn a_user_stopped_task_names_who_stopped_it() {
    let report = json("graceful-stop/user-stop-who");
    let caller = &report["tasks"][0]["stopped_by"]["caller"];
    assert_eq!(
        caller["principal"],
        "arn:aws:sts::123456789012:assumed-role/release-pipeline/GitHubActions"
    );
    assert_eq!(caller["tool"], "AWS CLI (ecs.stop-task)");
    assert_eq!(caller["source"], "203.0.113.24");
    assert_eq!(caller["path"], "calls[6].response.Events[0]");
    // Another task's StopTask in the same minutes (the first event in time) is not it.
    assert!(!report.to_string().contains("jane@example.com"));
    // Recorded with redaction, the same call is named by its pseudonyms.
    let dir = std::env::temp_dir().join(format!("ecs-autopsy-insights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let redacted = dir.join("redacted.json");
    let status = Command::new(env!("CARGO_BIN_EXE_ecs-autopsy"))
        .args(["--no-config", "bundle", "redact"])
        .arg(root().join("fixtures/graceful-stop/user-stop-who/bundle.json"))
        .arg("-o")
        .arg(&redacted)
        .status()
        .expect("runs");
    assert!(status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_ecs-autopsy"))
        .args(["--no-config", "--format", "json", "replay"])
        .arg(&redacted)
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let caller = &report["tasks"][0]["stopped_by"]["caller"];
    let principal = caller["principal"].as_str().unwrap_or_default();
    assert!(
        principal.starts_with("arn:aws:sts::000000000001:assumed-role/principal-")
            && !principal.contains("release-pipeline"),
        "{principal}"
    );
    assert!(
        caller["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("ip-"))
    );
    assert_eq!(caller["tool"], "AWS CLI (ecs.stop-task)");
}

#[test]
fn an_intermittent_service_gets_its_top_error_patterns_tied_to_its_stops() {
    let report = json("app-dependency-unreachable/intermittent-error-patterns");
    let service = &report["summary"]["services"][0];
    let table = &service["error_patterns"];
    assert_eq!(table["log_groups"], serde_json::json!(["/ecs/orders-sync"]));
    assert_eq!(table["truncated"], false);
    assert!(
        table["query"]
            .as_str()
            .is_some_and(|q| q.starts_with("fields @timestamp"))
    );
    let top = &table["patterns"][0];
    assert_eq!(top["count"], 9);
    assert!(
        top["pattern"]
            .as_str()
            .is_some_and(|p| p.contains("port <n> failed: Connection timed out")),
        "{top}"
    );
    // Logged by all three stopped tasks, and in their last lines.
    assert_eq!(top["tasks"].as_array().map(Vec::len), Some(3));
    assert_eq!(top["in_last_lines"].as_array().map(Vec::len), Some(3));
    // Three hours of it, around each stop.
    assert_eq!(top["by_hour"].as_array().map(Vec::len), Some(3));
    // Lines of the running tasks alone are counted and tied to no stop.
    let closed = table["patterns"]
        .as_array()
        .and_then(|p| {
            p.iter().find(|p| {
                p["pattern"]
                    .as_str()
                    .is_some_and(|t| t.contains("closed the connection"))
            })
        })
        .expect("the running tasks' pattern");
    assert_eq!(closed["count"], 4);
    assert_eq!(closed["tasks"], serde_json::json!([]));
}

#[test]
fn the_fixture_script_still_makes_the_committed_cases() {
    let out = std::env::temp_dir().join(format!(
        "ecs-autopsy-insights-fixtures-{}",
        std::process::id()
    ));
    let status = Command::new("python3")
        .arg(root().join("xtask/scripts/insights_fixtures.py"))
        .arg(&out)
        .status()
        .expect("python3 runs");
    assert!(status.success());
    let cases = [
        "oom-container-limit/memory-leak",
        "oom-container-limit/memory-spike",
        "oom-container-limit/memory-too-small",
        "oom-container-limit/container-insights-off",
        "graceful-stop/user-stop-who",
        "app-dependency-unreachable/intermittent-error-patterns",
    ];
    for case in cases {
        for file in ["bundle.json", "case.toml"] {
            let made = std::fs::read_to_string(out.join(case).join(file)).expect("made");
            let committed = std::fs::read_to_string(root().join("fixtures").join(case).join(file))
                .expect("committed");
            assert!(
                made == committed,
                "fixtures/{case}/{file} is not what xtask/scripts/insights_fixtures.py makes: regenerate it"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// Writes one response of `case`'s bundle as the AWS CLI output file `name`.
fn cli_output(dir: &Path, case: &str, operation: &str, name: &str) {
    let bundle: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures").join(case).join("bundle.json"))
            .expect("bundle"),
    )
    .expect("JSON");
    let response = bundle["calls"]
        .as_array()
        .and_then(|calls| calls.iter().find(|c| c["operation"] == operation))
        .map(|c| c["response"].clone())
        .expect("the call");
    std::fs::write(dir.join(name), response.to_string()).expect("written");
}

/// AWS CLI outputs pasted into a ticket work too: `aws logs get-query-results` of the query
/// AWS's Knowledge Center gives for OOM kills (its aliases `period`, `mem`, `memreserved`, rows
/// newest first and no `Type`), and `aws cloudtrail lookup-events`.
#[test]
fn pasted_query_results_and_lookup_events_are_read_too() {
    let dir = std::env::temp_dir().join(format!("ecs-autopsy-insights-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let case = "oom-container-limit/exit-137";
    cli_output(&dir, case, "DescribeTasks", "describe-tasks.json");
    cli_output(
        &dir,
        case,
        "DescribeTaskDefinition",
        "describe-task-definition.json",
    );
    let rows: Vec<Value> = (0..40)
        .rev()
        .map(|i| {
            let minute = 2 + i;
            serde_json::json!([
                {"field": "period", "value": format!("2026-11-24 09:{minute:02}:00.000")},
                {"field": "TaskId", "value": "b7c6d5e4f3a24b1c9d8e7f6a5b4c3d2e"},
                {"field": "ContainerName", "value": "reports"},
                {"field": "mem", "value": format!("{}", 478 + (i % 3))},
                {"field": "memreserved", "value": "512"}
            ])
        })
        .collect();
    let results = serde_json::json!({
        "results": rows,
        "statistics": {"recordsMatched": 40.0, "recordsScanned": 360.0, "bytesScanned": 148_320.0},
        "status": "Complete"
    });
    std::fs::write(dir.join("get-query-results.json"), results.to_string()).expect("written");
    let out = Command::new(env!("CARGO_BIN_EXE_ecs-autopsy"))
        .args(["--no-config", "--format", "json", "replay"])
        .arg(&dir)
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let memory = &report["tasks"][0]["memory"];
    assert_eq!(memory["verdict"], "too-small", "{memory}");
    assert_eq!(memory["samples"], 40);

    let dir2 = dir.join("user-stop");
    std::fs::create_dir_all(&dir2).expect("dir");
    let case = "graceful-stop/user-stop-who";
    cli_output(&dir2, case, "DescribeTasks", "describe-tasks.json");
    cli_output(&dir2, case, "LookupEvents", "lookup-events.json");
    let out = Command::new(env!("CARGO_BIN_EXE_ecs-autopsy"))
        .args(["--no-config", "--format", "json", "replay"])
        .arg(&dir2)
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        report["tasks"][0]["stopped_by"]["caller"]["tool"], "AWS CLI (ecs.stop-task)",
        "{report}"
    );
}

/// Exit 137 alone is any SIGKILL: a container killed at the stop timeout has a memory query in
/// the bundle (the recorder asks for exit 137 too), but the report speaks of its memory only for
/// an OOM kill, so it says nothing about this one.
#[test]
fn a_sigkill_at_the_stop_timeout_gets_no_memory_verdict() {
    let rows: Vec<Value> = (0..10)
        .map(|i| {
            serde_json::json!([
                {"field": "minute", "value": format!("2026-11-24 09:{:02}:00.000", 10 + i)},
                {"field": "Type", "value": "Container"},
                {"field": "ContainerName", "value": "api"},
                {"field": "memory_used_mb", "value": "120"}
            ])
        })
        .collect();
    let report = replay_changed(
        "oom-container-limit/ok-sigkill-after-stop-timeout",
        |calls| {
            calls.push(serde_json::json!({
                "service": "logs", "operation": "StartQuery",
                "request": {"logGroupNames": ["/aws/ecs/containerinsights/prod/performance"],
                            "queryString": "filter TaskId = \"f9e8d7c6b5a44f3e2d1c0b9a8f7e6d5c\"",
                            "startTime": 1, "endTime": 2},
                "response": {"queryId": "q"}
            }));
            calls.push(serde_json::json!({
                "service": "logs", "operation": "GetQueryResults",
                "request": {"queryId": "q"},
                "response": {"results": rows, "status": "Complete"}
            }));
        },
    );
    let task = &report["tasks"][0];
    assert_eq!(task["root_cause"], Value::Null, "{task}");
    assert!(task.get("memory").is_none(), "{task}");
}

/// Replays `case` with its calls changed by `change`, as JSON.
fn replay_changed(case: &str, change: impl FnOnce(&mut Vec<Value>)) -> Value {
    let mut bundle: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures").join(case).join("bundle.json"))
            .expect("bundle"),
    )
    .expect("JSON");
    change(bundle["calls"].as_array_mut().expect("calls"));
    let dir = std::env::temp_dir().join(format!(
        "ecs-autopsy-insights-changed-{}-{}",
        std::process::id(),
        case.replace('/', "-")
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bundle.json");
    std::fs::write(&file, bundle.to_string()).expect("written");
    let out = Command::new(env!("CARGO_BIN_EXE_ecs-autopsy"))
        .args(["--no-config", "--format", "json", "replay"])
        .arg(&file)
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// A denied query names the permissions to grant; a query the recorder gave up on says so.
#[test]
fn a_denied_or_unfinished_query_says_why_there_is_no_history() {
    let report = replay_changed("oom-container-limit/memory-leak", |calls| {
        calls.retain(|c| c["operation"] != "GetQueryResults");
        for call in calls.iter_mut().filter(|c| c["operation"] == "StartQuery") {
            call.as_object_mut().map(|o| o.remove("response"));
            call["error"] = serde_json::json!({"code": "AccessDeniedException", "message": "User: arn:aws:sts::123456789012:assumed-role/oncall/jane is not authorized to perform: logs:StartQuery"});
        }
    });
    assert_eq!(
        report["tasks"][0]["memory"]["summary"],
        "no memory history: the Logs Insights query was denied (AccessDeniedException); grant logs:StartQuery and logs:GetQueryResults on /aws/ecs/containerinsights/prod/performance"
    );
    let report = replay_changed("oom-container-limit/memory-leak", |calls| {
        let mut query = String::new();
        for call in calls
            .iter_mut()
            .filter(|c| c["operation"] == "GetQueryResults")
        {
            call["response"]["status"] = "Running".into();
            query = call["request"]["queryId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
        }
        calls.push(
            serde_json::json!({"service": "logs", "operation": "StopQuery",
            "request": {"queryId": query}, "response": {"success": true}}),
        );
    });
    assert_eq!(
        report["tasks"][0]["memory"]["summary"],
        "no memory history: the Logs Insights query did not finish (status Running; stopped after the recorder's last poll)"
    );
}

/// A CloudTrail event whose record cannot be read may be the StopTask looked for: the report
/// says so and names it, rather than "no call".
#[test]
fn an_unreadable_cloudtrail_record_is_named_not_taken_for_no_call() {
    let report = replay_changed("graceful-stop/user-stop-who", |calls| {
        for call in calls
            .iter_mut()
            .filter(|c| c["operation"] == "LookupEvents")
        {
            call["response"]["Events"][0]["CloudTrailEvent"] = "{\"eventName\": \"StopT".into();
        }
    });
    let stopped_by = &report["tasks"][0]["stopped_by"];
    assert_eq!(stopped_by["caller"], Value::Null);
    assert_eq!(
        stopped_by["note"],
        "no readable StopTask call for this task: 1 CloudTrail event(s) could not be read (calls[6].response.Events[0]), and one may be it"
    );
}
