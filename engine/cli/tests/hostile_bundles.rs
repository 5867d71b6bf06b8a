//! Hostile bundles through the real binary: gzip bombs, huge log lines, a million tiny calls,
//! deep nesting, invalid UTF-8, duplicate keys, wrong types, and many of everything. Each gives
//! one clear error line naming the file (exit 2), or a diagnosis with what was cut marked;
//! never a panic. The limits are `[limits]` keys of `ecs-autopsy.toml` (docs/bundle-format.md).

mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{TempDir, check, isolated_binary, text};
use serde_json::{Value, json};

fn root() -> PathBuf {
    common::workspace_root()
}

/// A fixture with one stopped task whose app logged, as a `Value` to doctor.
fn fixture() -> Value {
    let path = root().join("fixtures/app-exited-zero/backgrounded-node-server/bundle.json");
    serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("JSON")
}

fn manifest() -> Value {
    fixture()["manifest"].clone()
}

/// Runs `replay` on `file` with the given configuration text (or none).
fn replay(dir: &TempDir, file: &Path, config: Option<&str>) -> Output {
    let mut command = isolated_binary(dir);
    command.arg("replay").arg(file);
    match config {
        Some(text) => {
            let path = dir.join("ecs-autopsy.toml");
            std::fs::write(&path, text).expect("config");
            command.arg("--config").arg(path);
        }
        None => {
            command.arg("--no-config");
        }
    }
    command.output().expect("binary runs")
}

/// Exit 2 with exactly one line on stderr: the error, naming the file.
#[track_caller]
fn assert_error(output: &Output, file: &Path, needle: &str) {
    check(output, 2, &[], &[needle]);
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("ecs-autopsy: error: {}: ", file.display())),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "no report on error");
}

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).expect("gzip");
    encoder.finish().expect("gzip")
}

#[test]
fn gzip_bombs_stop_at_the_size_limit() {
    let dir = TempDir::new("hostile", "bomb");
    // 64 MiB of spaces: 64 KiB compressed.
    let bomb = write(&dir, "bomb.json.gz", &gzip(&vec![b' '; 64 << 20]));
    let output = replay(&dir, &bomb, Some("[limits]\nmax_bundle_bytes = 1000000\n"));
    assert_error(
        &output,
        &bomb,
        "bundle is larger than 1000000 bytes after decompression (the limit is `limits.max_bundle_bytes`)",
    );
    // Gzip inside gzip is decompressed once, and what comes out is not JSON.
    let nested = write(&dir, "nested.json.gz", &gzip(&gzip(b"{}")));
    assert_error(&replay(&dir, &nested, None), &nested, "invalid JSON");
    // Truncated gzip.
    let whole = gzip(&serde_json::to_vec(&fixture()).expect("JSON"));
    let cut = write(&dir, "cut.json.gz", &whole[..whole.len() / 2]);
    assert_error(
        &replay(&dir, &cut, None),
        &cut,
        "corrupt or truncated gzip data",
    );
}

#[test]
fn huge_log_lines_are_cut_for_the_rules_and_marked() {
    let dir = TempDir::new("hostile", "long-line");
    let mut bundle = fixture();
    let call = bundle["calls"]
        .as_array_mut()
        .expect("calls")
        .iter_mut()
        .find(|c| c["operation"] == "GetLogEvents")
        .expect("a log call");
    let events = call["response"]["events"].as_array_mut().expect("events");
    let message = format!("{}é", "A".repeat(10 << 20));
    events.insert(
        0,
        json!({"timestamp": 1_795_600_000_000_i64, "message": message}),
    );
    let file = write(
        &dir,
        "long.json",
        &serde_json::to_vec(&bundle).expect("JSON"),
    );

    let plain = replay(&dir, &fixture_file(&dir), None);
    let stdout = check(
        &replay(&dir, &file, None),
        1,
        &["app-exited-zero"],
        &[
            "1 log line(s) longer than 1048576 bytes were cut to that length (limits.max_log_line_bytes)",
        ],
    );
    // The same diagnosis as without the line.
    assert_eq!(
        root_causes(&stdout),
        root_causes(&text(&plain.stdout)),
        "{stdout}"
    );
    // A lower limit, from the configuration, cuts more and says so in the line.
    let output = replay(&dir, &file, Some("[limits]\nmax_log_line_bytes = 1000\n"));
    check(&output, 1, &[], &["longer than 1000 bytes"]);
    let json = {
        let mut command = isolated_binary(&dir);
        command
            .args(["--format", "json", "--config"])
            .arg(dir.join("ecs-autopsy.toml"))
            .arg("replay")
            .arg(&file);
        command.output().expect("runs")
    };
    let report: Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    let lines = report.to_string();
    assert!(lines.len() < 1 << 20, "the report carries no 10 MB line");
}

fn fixture_file(dir: &TempDir) -> PathBuf {
    write(
        dir,
        "plain.json",
        &serde_json::to_vec(&fixture()).expect("JSON"),
    )
}

fn root_causes(report: &str) -> Vec<&str> {
    report
        .lines()
        .filter(|l| l.trim_start().starts_with("root cause"))
        .collect()
}

#[test]
fn a_million_tiny_calls_stop_at_the_call_limit() {
    let dir = TempDir::new("hostile", "million");
    let one =
        r#"{"service":"ecs","operation":"ListTasks","request":{},"response":{"taskArns":[]}}"#;
    let mut text_bundle = format!(r#"{{"manifest":{},"calls":["#, manifest());
    for i in 0..1_000_000 {
        if i > 0 {
            text_bundle.push(',');
        }
        text_bundle.push_str(one);
    }
    text_bundle.push_str("]}");
    let file = write(&dir, "million.json", text_bundle.as_bytes());
    assert_error(
        &replay(&dir, &file, None),
        &file,
        "invalid bundle at `calls`: more than 100000 calls (the limit is `limits.max_calls`)",
    );

    // The limit is configurable both ways.
    let mut small = format!(r#"{{"manifest":{},"calls":["#, manifest());
    for i in 0..11 {
        if i > 0 {
            small.push(',');
        }
        small.push_str(one);
    }
    small.push_str("]}");
    let file = write(&dir, "eleven.json", small.as_bytes());
    assert_error(
        &replay(&dir, &file, Some("[limits]\nmax_calls = 10\n")),
        &file,
        "more than 10 calls",
    );
    check(
        &replay(&dir, &file, Some("[limits]\nmax_calls = 11\n")),
        0,
        &["no stopped tasks in the bundle"],
        &[],
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let dir = TempDir::new("hostile", "deep");
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let wrap = |call: String| format!(r#"{{"manifest":{},"calls":[{call}]}}"#, manifest());

    let cases = [
        // A response the engine does not read is kept as text, and measured.
        (
            "unknown.json",
            r#"{"service":"ecs","operation":"DescribeCapacityProviders","request":{},"response":DEEP}"#,
            "calls[0] (ecs DescribeCapacityProviders): response is nested more than 100 levels deep",
        ),
        // So is one the engine reads, even in a field its typed view skips: a bundle that
        // loads can always be written back whole (`bundle upgrade` once wrote `null`).
        (
            "known.json",
            r#"{"service":"ecs","operation":"DescribeTasks","request":{},"response":{"tasks":[],"extra":DEEP}}"#,
            "calls[0] (ecs DescribeTasks): response is nested more than 100 levels deep",
        ),
        // A request hits serde_json's own limit.
        (
            "request.json",
            r#"{"service":"ecs","operation":"ListTasks","request":{"x":DEEP},"response":{"taskArns":[]}}"#,
            "recursion limit exceeded",
        ),
    ];
    for (name, call, expected) in cases {
        let text = wrap(call.replace("DEEP", &deep(100_000)));
        let file = write(&dir, name, text.as_bytes());
        assert_error(&replay(&dir, &file, None), &file, expected);
    }
    // Just under the limit loads, and is written back whole by `bundle upgrade`.
    let file = write(
        &dir,
        "ninety.json",
        wrap(format!(
            r#"{{"service":"ecs","operation":"DescribeCapacityProviders","request":{{}},"response":{}}}"#,
            deep(90)
        ))
        .as_bytes(),
    );
    check(&replay(&dir, &file, None), 0, &[], &[]);
    let upgraded = dir.join("ninety-upgraded.json");
    let output = isolated_binary(&dir)
        .args(["--no-config", "bundle", "upgrade"])
        .arg(&file)
        .arg("-o")
        .arg(&upgraded)
        .output()
        .expect("runs");
    check(&output, 0, &[], &[]);
    let kept: Value =
        serde_json::from_slice(&std::fs::read(&upgraded).expect("written")).expect("JSON");
    assert_eq!(
        kept["calls"][0]["response"].to_string(),
        deep(90),
        "the response is written back whole"
    );
}

#[test]
fn invalid_utf8_duplicate_keys_and_wrong_types_are_clear_errors() {
    let dir = TempDir::new("hostile", "shapes");
    let good = serde_json::to_string(&fixture()).expect("JSON");

    let at = good.find("\"message\"").expect("a message") + 12;
    let mut bytes = good.as_bytes().to_vec();
    bytes.splice(at..at, [0xff, 0xfe]);
    let file = write(&dir, "utf8.json", &bytes);
    assert_error(
        &replay(&dir, &file, None),
        &file,
        "invalid unicode code point",
    );

    let file = write(
        &dir,
        "dup-manifest.json",
        format!(
            r#"{{"manifest":{m},"manifest":{m},"calls":[]}}"#,
            m = manifest()
        )
        .as_bytes(),
    );
    assert_error(
        &replay(&dir, &file, None),
        &file,
        "duplicate field `manifest`",
    );
    let file = write(
        &dir,
        "dup-field.json",
        format!(
            r#"{{"manifest":{},"calls":[{{"service":"ecs","operation":"DescribeTasks","request":{{}},"response":{{"tasks":[],"tasks":[]}}}}]}}"#,
            manifest()
        )
        .as_bytes(),
    );
    assert_error(
        &replay(&dir, &file, None),
        &file,
        "calls[0] (ecs DescribeTasks): response does not fit the operation: duplicate field `tasks`",
    );

    let mut bundle = fixture();
    let calls = bundle["calls"].as_array_mut().expect("calls");
    let index = calls
        .iter()
        .position(|c| c["operation"] == "DescribeTasks")
        .expect("tasks");
    calls[index]["response"]["tasks"][0]["containers"] = json!("oops");
    let file = write(
        &dir,
        "types.json",
        &serde_json::to_vec(&bundle).expect("JSON"),
    );
    assert_error(
        &replay(&dir, &file, None),
        &file,
        &format!(
            "calls[{index}] (ecs DescribeTasks): response does not fit the operation: `tasks[0].containers`: invalid type: string \"oops\", expected a sequence"
        ),
    );
    bundle["manifest"]["format_version"] = json!("1");
    let file = write(
        &dir,
        "version.json",
        &serde_json::to_vec(&bundle).expect("JSON"),
    );
    assert_error(
        &replay(&dir, &file, None),
        &file,
        "unsupported bundle format version \"1\"",
    );
}

#[test]
fn many_tasks_definitions_and_events_are_diagnosed() {
    // 3,000 stopped tasks, each of its own task definition, and an event naming each: every
    // look-up is indexed, so this is as quick per task as a small bundle (the scaling is
    // measured by `cargo xtask bench`, not timed here).
    let dir = TempDir::new("hostile", "many");
    let n = 3_000;
    let mut tasks = Vec::new();
    let mut events = Vec::new();
    let mut calls = Vec::new();
    for i in 0..n {
        let id = format!("{i:032x}");
        tasks.push(json!({
            "taskArn": format!("arn:aws:ecs:eu-west-1:111122223333:task/prod/{id}"),
            "lastStatus": "STOPPED", "group": "service:web",
            "stopCode": "EssentialContainerExited",
            "stoppedReason": "Essential container in task exited",
            "stoppedAt": 1_795_533_954.0 + f64::from(i),
            "taskDefinitionArn": format!("arn:aws:ecs:eu-west-1:111122223333:task-definition/web{i}:1"),
            "containers": [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED"}],
        }));
        let mut message = String::new();
        let _ = write!(
            message,
            "(service web) has stopped 1 running tasks: (task {id})."
        );
        events.push(json!({"id": i.to_string(), "createdAt": 1_795_533_954.0 + f64::from(i), "message": message}));
    }
    calls.push(json!({"service": "ecs", "operation": "DescribeTasks", "request": {}, "response": {"tasks": tasks, "failures": []}}));
    calls.push(json!({"service": "ecs", "operation": "DescribeServices", "request": {}, "response": {"services": [
        {"serviceName": "web", "serviceArn": "arn:aws:ecs:eu-west-1:111122223333:service/prod/web", "events": events}], "failures": []}}));
    for i in 0..n {
        calls.push(json!({"service": "ecs", "operation": "DescribeTaskDefinition", "request": {}, "response": {"taskDefinition": {
            "taskDefinitionArn": format!("arn:aws:ecs:eu-west-1:111122223333:task-definition/web{i}:1"),
            "family": format!("web{i}"), "revision": 1,
            "containerDefinitions": [{"name": "app", "essential": true}]}}}));
    }
    let bundle = json!({"manifest": manifest(), "calls": calls});
    let file = write(
        &dir,
        "many.json",
        &serde_json::to_vec(&bundle).expect("JSON"),
    );
    let output = {
        let mut command = isolated_binary(&dir);
        command
            .args(["--no-config", "--format", "json", "replay"])
            .arg(&file);
        command.output().expect("runs")
    };
    check(&output, 1, &[], &[]);
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    assert_eq!(report["summary"]["stopped_tasks"], n);
    assert!(
        report["rule_errors"].as_array().is_some_and(Vec::is_empty),
        "{}",
        report["rule_errors"]
    );
}

#[test]
fn control_characters_never_reach_the_terminal() {
    // Escape sequences (clear screen, set the clipboard) and a newline that would start a fake
    // report line, in a stop reason and a log line.
    let dir = TempDir::new("hostile", "escapes");
    let mut bundle = fixture();
    let evil =
        "evil \u{1b}]52;c;ZWNobyBoaQ==\u{7} \u{1b}[2J\n  root cause  fake-rule  nothing to see\r";
    for call in bundle["calls"].as_array_mut().expect("calls") {
        if call["operation"] == "GetLogEvents" {
            let events = call["response"]["events"].as_array_mut().expect("events");
            let last = events.len() - 1;
            events[last]["message"] = json!(evil);
        }
        if call["operation"] == "DescribeTasks" {
            call["response"]["tasks"][0]["stoppedReason"] = json!(evil);
        }
    }
    let file = write(
        &dir,
        "escapes.json",
        &serde_json::to_vec(&bundle).expect("JSON"),
    );
    for format in ["text", "markdown"] {
        let mut command = isolated_binary(&dir);
        command
            .args(["--no-config", "--format", format, "replay"])
            .arg(&file);
        let output = command.output().expect("runs");
        let stdout = check(&output, 1, &["\\u{1b}]52;c;"], &[]);
        assert!(!stdout.contains('\u{1b}'), "{format}: {stdout:?}");
        assert!(!stdout.contains('\r'), "{format}");
        assert!(!stdout.contains('\u{7}'), "{format}");
        assert!(
            !stdout
                .lines()
                .any(|l| l.starts_with("  root cause  fake-rule")),
            "{format}: a bundle must not be able to add report lines:\n{stdout}"
        );
    }
    // The JSON report keeps the text exactly; JSON escapes it.
    let mut command = isolated_binary(&dir);
    command
        .args(["--no-config", "--format", "json", "replay"])
        .arg(&file);
    let report: Value =
        serde_json::from_slice(&command.output().expect("runs").stdout).expect("JSON");
    assert_eq!(report["tasks"][0]["stopped_reason"], json!(evil));
}

#[test]
fn markdown_from_a_bundle_cannot_add_links_images_tags_or_close_code_blocks() {
    let dir = TempDir::new("hostile", "markdown");
    let mut bundle = fixture();
    let injected = "``` ![x](http://tracker.example/p.png) <img src=x onerror=alert(1)> [click](http://evil.example/)";
    for call in bundle["calls"].as_array_mut().expect("calls") {
        if call["operation"] == "GetLogEvents" {
            let events = call["response"]["events"].as_array_mut().expect("events");
            let last = events.len() - 1;
            events[last]["message"] = json!(injected);
        }
        if call["operation"] == "DescribeTasks" {
            call["response"]["tasks"][0]["stoppedReason"] = json!(format!("x` | {injected}"));
        }
    }
    // A failed call's message is shown in running text (missing evidence), not in code.
    bundle["calls"].as_array_mut().expect("calls").push(json!({
        "service": "logs", "operation": "GetLogEvents", "request": {},
        "error": {"code": "AccessDeniedException", "message": injected},
    }));
    let file = write(&dir, "md.json", &serde_json::to_vec(&bundle).expect("JSON"));
    let mut command = isolated_binary(&dir);
    command
        .args(["--no-config", "--format", "markdown", "replay"])
        .arg(&file);
    let stdout = check(&command.output().expect("runs"), 1, &[], &[]);
    // Quoted in code spans and blocks, where nothing is live, or escaped everywhere else.
    let live = live_markdown(&stdout);
    // What a renderer acts on: the live text without the escaped characters.
    let mut acted_on = String::new();
    let mut chars = live.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            chars.next();
        } else {
            acted_on.push(c);
        }
    }
    for needle in ["<img", "[click"] {
        assert!(!acted_on.contains(needle), "{needle} is live in:\n{live}");
    }
    // The only live links are the report's own: the AWS console, URL-encoded.
    for (at, _) in acted_on.match_indices("](") {
        assert!(
            acted_on[at + 2..].starts_with("https://eu-west-1.console.aws.amazon.com/"),
            "a link the report did not make is live in:\n{live}"
        );
    }
    assert!(
        live.contains("\\[click\\]"),
        "the message still quotes it:\n{live}"
    );
    // The timeline's fence is longer than the backticks in the line, so the line stays inside.
    let fence_lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("```")).collect();
    assert!(
        fence_lines.iter().all(|l| l.starts_with("````")),
        "{fence_lines:?}"
    );
    assert_eq!(fence_lines.len() % 2, 0, "{fence_lines:?}");
}

/// The Markdown that a renderer would act on: every line outside fenced code blocks, with its
/// code spans removed. A fence closes only with a line of the same backticks it opened with.
fn live_markdown(markdown: &str) -> String {
    let mut live = String::new();
    let mut fence: Option<String> = None;
    for line in markdown.lines() {
        let ticks: String = line.chars().take_while(|&c| c == '`').collect();
        match &fence {
            Some(open) => {
                if ticks.len() >= 3 && line.trim_end() == open.as_str() {
                    fence = None;
                }
                continue;
            }
            None if ticks.len() >= 3 => {
                fence = Some(ticks);
                continue;
            }
            None => {}
        }
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                live.push_str(part);
            }
        }
        live.push('\n');
    }
    assert!(fence.is_none(), "a code block is never closed");
    live
}
