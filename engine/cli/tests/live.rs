//! Live diagnosis against a real AWS API emulator (moto), through the real AWS SDK and the real
//! `ecs-autopsy` binary. Each test stages one incident with `recorder/tests/moto/harness.py`
//! (moto on 127.0.0.1, failure state seeded into its models) and checks that `diagnose` finds
//! the root cause and that `record` followed by `replay` gives the identical report.
//!
//! The emulator is installed by `cargo xtask moto` (and `cargo xtask test`), which pins it.

mod common;

use std::io::{BufRead, BufReader, Read as _};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use common::harness::{Harness, python};
use common::{TempDir, isolated_binary, text};

fn root() -> PathBuf {
    common::workspace_root()
}

#[derive(Debug, serde::Deserialize)]
struct Staged {
    endpoint: String,
    region: String,
    cluster: String,
    service: String,
    task_arns: Vec<String>,
    secrets: Vec<String>,
}

/// A running emulator with one staged incident; stopped when dropped.
struct Emulator {
    _harness: Harness,
    staged: Staged,
}

impl Emulator {
    fn start(scenario: &str) -> Emulator {
        Emulator::start_with(scenario, &[])
    }

    fn start_with(scenario: &str, options: &[&str]) -> Emulator {
        let (harness, staged) = Harness::start(scenario, options);
        Emulator {
            _harness: harness,
            staged,
        }
    }

    fn live_args(&self) -> Vec<String> {
        vec![
            "--cluster".to_owned(),
            self.staged.cluster.clone(),
            "--service".to_owned(),
            self.staged.service.clone(),
            "--region".to_owned(),
            self.staged.region.clone(),
            "--endpoint-url".to_owned(),
            self.staged.endpoint.clone(),
        ]
    }
}

/// Runs the binary with dummy credentials, no profile files and no instance metadata, so
/// nothing but the emulator is ever contacted.
fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let home = TempDir::new("live-home", &format!("{:?}", std::thread::current().id()));
    isolated_binary(&home)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .envs(envs.iter().copied())
        .output()
        .expect("the binary runs")
}

fn temp_dir(name: &str) -> TempDir {
    TempDir::new("live", name)
}

/// Diagnoses live, then records and replays, in every format; returns the text report.
#[track_caller]
fn check_incident(scenario: &str, root_cause: &str, text_has: &[&str]) -> String {
    let emulator = Emulator::start(scenario);
    let args = emulator.live_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let dir = temp_dir(scenario);
    let bundle = dir.join("incident.json.gz");

    let mut record = vec!["record", "-o", bundle.to_str().expect("utf-8")];
    record.extend(&args);
    let recorded = run(&record, &[]);
    assert_eq!(
        recorded.status.code(),
        Some(0),
        "record: {}",
        text(&recorded.stderr)
    );
    let scanned = run(&["bundle", "scan", bundle.to_str().expect("utf-8")], &[]);
    assert_eq!(
        scanned.status.code(),
        Some(0),
        "a recorded bundle scans clean: {}",
        text(&scanned.stdout)
    );

    let mut text_report = String::new();
    for format in ["text", "json", "markdown"] {
        let saved = dir.join(&format!("saved-{format}.json"));
        let mut diagnose = vec![
            "diagnose",
            "--format",
            format,
            "--save",
            saved.to_str().expect("utf-8"),
        ];
        diagnose.extend(&args);
        let live = run(&diagnose, &[]);
        assert_eq!(
            live.status.code(),
            Some(1),
            "{scenario} {format}: {}\n{}",
            text(&live.stdout),
            text(&live.stderr)
        );
        // The bundle a diagnosis was made from replays to the same bytes.
        let same = run(
            &["replay", "--format", format, saved.to_str().expect("utf-8")],
            &[],
        );
        assert_eq!(same.status.code(), Some(1));
        assert_eq!(
            text(&live.stdout),
            text(&same.stdout),
            "{scenario}: diagnose and replay of its saved bundle differ ({format})"
        );
        // An independent recording of the same incident gives the same report, but for the time
        // it was recorded.
        let replayed = run(
            &[
                "replay",
                "--format",
                format,
                bundle.to_str().expect("utf-8"),
            ],
            &[],
        );
        assert_eq!(replayed.status.code(), Some(1));
        // The bundle records when it was made; everything else must match byte for byte.
        let strip = |out: &[u8]| {
            text(out)
                .lines()
                .filter(|line| {
                    !line.contains("recorded_at")
                        && !line.contains("recorded 20")
                        && !line.contains(" · recorded ")
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            strip(&live.stdout),
            strip(&replayed.stdout),
            "{scenario}: live and replay differ ({format})"
        );
        if format == "text" {
            text_report = text(&live.stdout);
        }
        if format == "json" {
            let report: serde_json::Value =
                serde_json::from_slice(&live.stdout).expect("JSON report");
            let causes: Vec<&str> = report["tasks"]
                .as_array()
                .expect("tasks")
                .iter()
                .map(|t| t["root_cause"].as_str().unwrap_or("none"))
                .collect();
            assert!(!causes.is_empty(), "{scenario}: no stopped task found");
            assert!(
                causes.iter().all(|c| *c == root_cause),
                "{scenario}: root causes {causes:?}, expected {root_cause}"
            );
            assert_eq!(causes.len(), emulator.staged.task_arns.len());
        }
    }
    for needle in text_has {
        assert!(
            text_report.contains(needle),
            "{scenario}: report lacks {needle:?}:\n{text_report}"
        );
    }
    text_report
}

#[test]
fn oom_kill() {
    check_incident(
        "oom",
        "oom-container-limit",
        &["OOM killer", "512 MiB", "137 (SIGKILL)"],
    );
}

#[test]
fn exit_zero_from_a_backgrounded_entrypoint() {
    check_incident(
        "exit-zero",
        "app-exited-zero",
        &["runs the server in the background"],
    );
}

#[test]
fn missing_env_var_dropped_by_the_new_revision() {
    check_incident(
        "missing-env",
        "app-missing-config",
        &["DATABASE_URL", "removed in billing:2", "billing:1 sets it"],
    );
}

#[test]
fn image_pull_denied() {
    check_incident(
        "pull-denied",
        "image-pull-auth-denied",
        &["no repositoryCredentials"],
    );
}

#[test]
fn health_check_kill_loop() {
    check_incident(
        "health-check-loop",
        "health-check-grace-too-short",
        &["still starting", "grace period 0s"],
    );
}

#[test]
fn endpoint_from_the_environment_and_partial_permissions() {
    let emulator = Emulator::start("missing-env");
    let endpoint = emulator.staged.endpoint.clone();
    // Per-service endpoint variables win over the global one, as in the AWS CLI: the global
    // one points at a closed loopback port.
    let envs = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_ENDPOINT_URL_ECS", endpoint.as_str()),
        ("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
    ];
    let out = run(
        &["diagnose", "--cluster", "prod", "--service", "billing"],
        &envs,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("DATABASE_URL"));

    // Logs unreachable: the diagnosis still runs, names the missing evidence and the permission.
    let envs = [
        ("AWS_ENDPOINT_URL_ECS", endpoint.as_str()),
        ("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://127.0.0.1:9"),
        ("AWS_REGION", "us-east-1"),
    ];
    let out = run(
        &[
            "diagnose",
            "--call-timeout",
            "1",
            "--cluster",
            "prod",
            "--service",
            "billing",
        ],
        &envs,
    );
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    // The short-lived task's stream is read in a batch (FilterLogEvents); a network failure
    // is not retried stream by stream.
    assert!(stderr.contains("logs FilterLogEvents failed"), "{stderr}");
    assert!(!stderr.contains("logs GetLogEvents failed"), "{stderr}");
    // Nothing listens at the logs endpoint: a network failure (a timeout or a refused
    // connection, depending on the machine), which no IAM grant would fix.
    assert!(
        stdout.contains("missing evidence")
            && stdout.contains("logs FilterLogEvents failed: ")
            && !stdout.contains("grant logs:"),
        "{stdout}"
    );
    assert!(!stderr.contains("needs logs:"), "{stderr}");
    assert!(
        stdout.contains("undiagnosed"),
        "without logs the missing variable cannot be named: {stdout}"
    );
}

#[test]
fn no_secret_reaches_a_bundle_or_a_report() {
    let emulator = Emulator::start("secrets");
    assert!(!emulator.staged.secrets.is_empty());
    let args = emulator.live_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let dir = temp_dir("secrets");

    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, redact) in [("redacted.json", true), ("plain.json", false)] {
        let path = dir.join(name);
        let mut record = vec!["record", "-o", path.to_str().expect("utf-8")];
        record.extend(&args);
        if !redact {
            record.push("--no-redact");
        }
        let out = run(&record, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let bytes = std::fs::read(&path).expect("bundle written");
        // The audit before sharing: clean when redacted; without redaction it lists at least
        // as many values as were staged, and shows none of them.
        let scanned = run(&["bundle", "scan", path.to_str().expect("utf-8")], &[]);
        let report = text(&scanned.stdout);
        if redact {
            assert_eq!(scanned.status.code(), Some(0), "{report}");
        } else {
            assert_eq!(scanned.status.code(), Some(1), "{report}");
            assert!(
                report.lines().count() > emulator.staged.secrets.len(),
                "{report}"
            );
            for secret in &emulator.staged.secrets {
                assert!(!report.contains(secret.as_str()), "{report}");
            }
        }
        if redact {
            outputs.push((format!("bundle {name}"), bytes));
        } else {
            // The secrets really were collected: without redaction every one of them is there.
            let plain = text(&bytes);
            for secret in &emulator.staged.secrets {
                assert!(
                    plain.contains(secret.as_str()),
                    "the staged secret {secret:?} was never collected"
                );
            }
        }
    }
    for format in ["text", "json", "markdown"] {
        let mut diagnose = vec!["diagnose", "--format", format];
        diagnose.extend(&args);
        let out = run(&diagnose, &[]);
        outputs.push((format!("diagnose --format {format}"), out.stdout));
        let replayed = run(
            &[
                "replay",
                "--format",
                format,
                dir.join("redacted.json").to_str().expect("utf-8"),
            ],
            &[],
        );
        outputs.push((format!("replay --format {format}"), replayed.stdout));
    }
    for (what, bytes) in &outputs {
        let haystack = text(bytes);
        for secret in &emulator.staged.secrets {
            assert!(
                !haystack.contains(secret.as_str()),
                "{what} contains the secret {secret:?}"
            );
        }
        assert!(
            !haystack.contains("123456789012"),
            "{what} contains the account id"
        );
    }
    let report = text(
        &outputs
            .iter()
            .find(|(w, _)| w == "diagnose --format text")
            .expect("text report")
            .1,
    );
    assert!(
        report.contains("app-missing-config") && report.contains("DATABASE_URL"),
        "redaction changed the diagnosis:\n{report}"
    );
}

fn json_report(args: &[&str]) -> serde_json::Value {
    let out = run(args, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

#[test]
fn standalone_task_by_arn() {
    let emulator = Emulator::start("oom");
    let arn = emulator.staged.task_arns[0].clone();
    let endpoint = emulator.staged.endpoint.clone();
    let dir = temp_dir("standalone");
    let bundle = dir.join("task.json");
    let args = [
        "--cluster",
        "prod",
        "--task",
        arn.as_str(),
        "--region",
        "us-east-1",
        "--endpoint-url",
        endpoint.as_str(),
    ];
    let mut record = vec!["record", "-o", bundle.to_str().expect("utf-8")];
    record.extend(args);
    assert_eq!(run(&record, &[]).status.code(), Some(0));
    let inspect = text(&run(&["bundle", "inspect", bundle.to_str().expect("utf-8")], &[]).stdout);
    assert!(
        !inspect.contains("ListTasks") && !inspect.contains("DescribeServices"),
        "{inspect}"
    );
    assert!(
        inspect.contains("DescribeTasks") && inspect.contains("GetLogEvents"),
        "{inspect}"
    );

    let mut diagnose = vec!["diagnose", "--format", "json"];
    diagnose.extend(args);
    let report = json_report(&diagnose);
    assert_eq!(report["tasks"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["tasks"][0]["root_cause"], "oom-container-limit");
}

#[test]
fn max_tasks_keeps_the_most_recent_stops() {
    let emulator = Emulator::start("health-check-loop");
    let args = emulator.live_args();
    let mut all = vec!["diagnose", "--format", "json"];
    all.extend(args.iter().map(String::as_str));
    let everything = json_report(&all);
    let tasks = everything["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 3);
    let newest = tasks
        .iter()
        .max_by_key(|t| t["stopped_at"].as_str().unwrap_or_default().to_owned())
        .expect("a task");

    let mut limited = all.clone();
    limited.extend(["--max-tasks", "1"]);
    let one = json_report(&limited);
    assert_eq!(one["tasks"].as_array().map(Vec::len), Some(1));
    assert_eq!(one["tasks"][0]["task_arn"], newest["task_arn"]);
}

/// `lint --cluster --service` reads the service, its task definition and its target group's
/// attributes through the SDK (moto's default deregistration delay is 300 s), with no stopped
/// task needed, and the example policy rule compares them.
#[test]
fn lint_a_live_service_against_its_target_group() {
    let emulator = Emulator::start("health-check-loop");
    let live = emulator.live_args();
    let rules = root().join("examples/team-rules");
    let mut args = vec![
        "--no-config",
        "--rules",
        rules.to_str().expect("utf-8"),
        "--format",
        "json",
        "lint",
    ];
    args.extend(live.iter().map(String::as_str));
    let out = run(&args, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["status"], "problems");
    assert_eq!(report["checked"]["services"], serde_json::json!(["web"]));
    assert_eq!(
        report["checked"]["task_definitions"],
        serde_json::json!(["web:5"])
    );
    let findings = report["findings"].as_array().expect("findings");
    let finding = findings
        .iter()
        .find(|f| f["rule"] == "stop-timeout-below-deregistration-delay")
        .unwrap_or_else(|| panic!("the drain policy fires: {findings:?}"));
    assert_eq!(finding["task_definition"], "web:5");
    assert_eq!(finding["container"], "web");
    let delay = finding["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .find(|fact| {
            fact["path"]
                .as_str()
                .is_some_and(|p| p.contains(".response.Attributes["))
        })
        .expect("the deregistration delay is cited");
    assert_eq!(delay["value"], "300", "{delay}");
    // The image is pinned (web:5.0.2): the other policy stays quiet.
    assert!(
        findings.iter().all(|f| f["rule"] != "mutable-image-tag"),
        "{findings:?}"
    );
}

/// `diagnose --cluster C` with no service covers every service of the cluster (ListServices,
/// one cluster-wide ListTasks per status), lists the services with a problem and counts the
/// healthy ones; `--services-matching` narrows it, on replay too.
#[test]
fn diagnose_a_whole_cluster_without_naming_a_service() {
    let emulator = Emulator::start("cluster");
    let staged = &emulator.staged;
    let base = [
        "--no-config",
        "diagnose",
        "--cluster",
        staged.cluster.as_str(),
        "--region",
        staged.region.as_str(),
        "--endpoint-url",
        staged.endpoint.as_str(),
    ];
    let report = json_report(&[&base[..], &["--format", "json"]].concat());
    assert_eq!(
        report["bundle"]["services"],
        serde_json::json!(["api", "billing", "idle-1", "idle-2", "idle-3", "web"])
    );
    let roots: std::collections::BTreeMap<String, String> = report["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| {
            (
                t["service"].as_str().unwrap_or_default().to_owned(),
                t["root_cause"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        roots,
        [
            ("api", "oom-container-limit"),
            ("billing", "app-missing-config"),
            ("web", "app-exited-zero"),
        ]
        .into_iter()
        .map(|(s, r)| (s.to_owned(), r.to_owned()))
        .collect()
    );

    let text_out = run(&base, &[]);
    let text = String::from_utf8_lossy(&text_out.stdout).into_owned();
    assert_eq!(
        text_out.status.code(),
        Some(1),
        "{}",
        self::text(&text_out.stderr)
    );
    let head: Vec<&str> = text.lines().take(12).collect();
    let head = head.join("\n");
    for service in ["api", "billing", "web"] {
        assert!(head.contains(&format!("  service {service}: ")), "{head}");
    }
    assert!(!head.contains("service idle-1:"), "{head}");
    assert!(head.contains("  3 other service(s) healthy"), "{head}");

    // A pattern narrows the cluster, and the bundle keeps the narrowing for its replays.
    let dir = temp_dir("cluster");
    let bundle = dir.join("cluster.json");
    let mut record = vec![
        "--no-config",
        "record",
        "-o",
        bundle.to_str().expect("utf-8"),
    ];
    record.extend_from_slice(&base[2..]);
    record.extend(["--services-matching", "^(api|web)$"]);
    let recorded = run(&record, &[]);
    assert_eq!(
        recorded.status.code(),
        Some(0),
        "{}",
        self::text(&recorded.stderr)
    );
    let replayed = json_report(&[
        "--no-config",
        "--format",
        "json",
        "replay",
        bundle.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        replayed["bundle"]["services"],
        serde_json::json!(["api", "web"])
    );
    assert_eq!(replayed["summary"]["stopped_tasks"], 2);
}

/// The AWS-like proxy (`xtask/scripts/aws_like_proxy.py`) in front of an emulator: AWS's
/// per-API quotas, answered with AWS's throttling errors; stopped with its stdin.
struct Proxy {
    child: Child,
    endpoint: String,
}

impl Proxy {
    fn start(upstream: &str, options: &[&str]) -> Proxy {
        let mut child = Command::new(python())
            .arg(root().join("xtask/scripts/aws_like_proxy.py"))
            .args(["--upstream", upstream])
            .args(options)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the proxy starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the proxy says where it listens");
        let value: serde_json::Value = serde_json::from_str(&line).expect("one JSON line");
        let endpoint = value["endpoint"].as_str().expect("endpoint").to_owned();
        assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
        Proxy { child, endpoint }
    }

    /// Calls and throttles per API so far.
    fn stats(&self) -> serde_json::Value {
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect to the proxy");
        std::io::Write::write_all(
            &mut stream,
            format!("GET /__proxy/stats HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .expect("ask for the stats");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read the stats");
        let body = response.split("\r\n\r\n").nth(1).expect("a body");
        serde_json::from_str(body).expect("JSON stats")
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reading short-lived tasks' log streams in batches (FilterLogEvents) gives the same evidence
/// as reading every stream alone: the same report for every task, from far fewer calls.
#[test]
fn batched_log_reads_give_the_same_evidence_as_one_read_per_stream() {
    let emulator = Emulator::start_with("fleet", &["--tasks", "40"]);
    let live = emulator.live_args();
    let live: Vec<&str> = live.iter().map(String::as_str).collect();
    let dir = temp_dir("batched-logs");
    let mut reports = Vec::new();
    // Without the Logs Insights queries, whose evidence cites call paths that differ too.
    for (name, extra) in [
        ("batched", &["--no-queries"][..]),
        ("alone", &["--logs-per-stream", "--no-queries"][..]),
    ] {
        let bundle = dir.join(&format!("{name}.json"));
        let mut args = vec![
            "--no-config",
            "record",
            "-o",
            bundle.to_str().expect("utf-8"),
        ];
        args.extend(&live);
        args.extend(extra);
        let out = run(&args, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let saved: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&bundle).expect("bundle")).expect("JSON");
        let count = |operation: &str| {
            saved["calls"]
                .as_array()
                .expect("calls")
                .iter()
                .filter(|c| c["operation"] == operation)
                .count()
        };
        if name == "batched" {
            assert!(count("FilterLogEvents") >= 1, "no FilterLogEvents call");
            assert_eq!(count("GetLogEvents"), 0, "every fleet task is short-lived");
        } else {
            assert_eq!(count("FilterLogEvents"), 0);
            assert!(count("GetLogEvents") >= 30, "{}", count("GetLogEvents"));
        }
        let report = json_report(&[
            "--no-config",
            "--format",
            "json",
            "replay",
            bundle.to_str().expect("utf-8"),
        ]);
        reports.push(report);
    }
    // Paths into the bundle differ (other calls); what each task shows must not.
    let tasks = |report: &serde_json::Value| report["tasks"].clone();
    assert_eq!(tasks(&reports[0]), tasks(&reports[1]));
    let messages = |report: &serde_json::Value| -> Vec<String> {
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| format!("{} {}", f["rule"], f["message"]))
            .collect()
    };
    assert_eq!(messages(&reports[0]), messages(&reports[1]));
}

/// Through a proxy that enforces AWS's per-API quotas (and answers with AWS's throttling
/// errors), the pacing keeps a run with one GetLogEvents call per stream under every quota:
/// not one request is throttled. A slower machine only sends more slowly.
#[test]
fn pacing_keeps_every_api_under_its_quota() {
    let emulator = Emulator::start_with("fleet", &["--tasks", "60"]);
    // moto lacks CloudTrail: the proxy answers LookupEvents as AWS does when nothing matches,
    // so its 2/s quota is what is tested, not moto's server errors and the SDK's retries.
    let proxy = Proxy::start(
        &emulator.staged.endpoint,
        &["--delay-ms", "0", "--no-cloudtrail"],
    );
    let staged = &emulator.staged;
    let dir = temp_dir("pacing");
    let bundle = dir.join("paced.json");
    let out = run(
        &[
            "--no-config",
            "record",
            "-o",
            bundle.to_str().expect("utf-8"),
            "--cluster",
            &staged.cluster,
            "--service",
            &staged.service,
            "--region",
            &staged.region,
            "--endpoint-url",
            &proxy.endpoint,
            "--logs-per-stream",
            "--concurrency",
            "16",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stats = proxy.stats();
    assert!(
        stats["calls"]["GetLogEvents"].as_u64().unwrap_or(0) > 25,
        "more GetLogEvents calls than one burst allows: {stats}"
    );
    assert_eq!(stats["throttled"], serde_json::json!({}), "{stats}");
}

/// Several accounts in one run: the reader role is assumed in each account (moto keeps each
/// account's resources apart), one merged report names account and Region, one bundle per
/// account is saved, and an account whose role cannot be assumed is named with the error while
/// the others are diagnosed; the run exits 2, since that account may have held the answer.
#[test]
fn many_accounts_in_one_run_and_one_that_denies_access() {
    let emulator = Emulator::start("accounts");
    let proxy = Proxy::start(
        &emulator.staged.endpoint,
        &["--delay-ms", "0", "--deny-assume-role", "333333333333"],
    );
    let staged = &emulator.staged;
    let dir = temp_dir("accounts");
    let saved = dir.join("bundles");
    let base = [
        "--no-config",
        "diagnose",
        "--cluster",
        staged.cluster.as_str(),
        "--region",
        staged.region.as_str(),
        "--endpoint-url",
        proxy.endpoint.as_str(),
        "--role-arn-template",
        "arn:aws:iam::{account}:role/ecs-autopsy-reader",
        "--accounts",
        "123456789012,222222222222,333333333333",
    ];
    let mut json_args = base.to_vec();
    json_args.extend(["--format", "json", "--save", saved.to_str().expect("utf-8")]);
    let out = run(&json_args, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("account 333333333333 · us-east-1: sts AssumeRole arn:aws:iam::333333333333:role/ecs-autopsy-reader failed: ")
            && stderr.contains("AccessDenied"),
        "{stderr}"
    );
    let set: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report set");
    assert_eq!(set["schema"], "ecs-autopsy-report-set");
    assert_eq!(set["status"], "error");
    let scopes = set["scopes"].as_array().expect("scopes");
    let summary: Vec<(String, String)> = scopes
        .iter()
        .map(|scope| {
            let roots: Vec<&str> = scope["report"]["tasks"]
                .as_array()
                .map(|tasks| {
                    tasks
                        .iter()
                        .filter_map(|t| t["root_cause"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            (
                scope["account"].as_str().unwrap_or_default().to_owned(),
                if scope["error"].is_null() {
                    roots.join(",")
                } else {
                    "error".to_owned()
                },
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("123456789012".to_owned(), "oom-container-limit".to_owned()),
            ("222222222222".to_owned(), "app-exited-zero".to_owned()),
            ("333333333333".to_owned(), "error".to_owned()),
        ]
    );
    for file in [
        "123456789012-us-east-1.json.gz",
        "222222222222-us-east-1.json.gz",
    ] {
        let replayed = run(
            &[
                "--no-config",
                "replay",
                saved.join(file).to_str().expect("utf-8"),
            ],
            &[],
        );
        assert_eq!(replayed.status.code(), Some(1), "{file}");
    }
    assert!(!saved.join("333333333333-us-east-1.json.gz").exists());

    // The text report opens with one line per account and Region.
    let out = run(&base, &[]);
    let report = text(&out.stdout);
    let head: Vec<&str> = report.lines().take(5).collect();
    assert!(head[0].contains("3 accounts and Regions"), "{report}");
    assert!(
        head[2].starts_with(
            "  account 123456789012 · us-east-1: 1 stopped task: 1 diagnosed (oom-container-limit)"
        ),
        "{report}"
    );
    assert!(
        head[4].starts_with("  account 333333333333 · us-east-1: error: sts AssumeRole"),
        "{report}"
    );
}

/// Several Regions in one run: each is read on its own; a Region where the cluster does not
/// exist is named with what ECS answered, and the run exits 2 after the merged report.
#[test]
fn several_regions_in_one_run() {
    let emulator = Emulator::start("oom");
    let staged = &emulator.staged;
    let dir = temp_dir("regions");
    let saved = dir.join("bundles");
    let region_list = format!("{},eu-west-1", staged.region);
    let out = run(
        &[
            "--no-config",
            "--format",
            "json",
            "diagnose",
            "--cluster",
            &staged.cluster,
            "--region",
            &region_list,
            "--endpoint-url",
            &staged.endpoint,
            "--save",
            saved.to_str().expect("utf-8"),
        ],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let set: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report set");
    let scopes = set["scopes"].as_array().expect("scopes");
    assert_eq!(scopes.len(), 2);
    assert_eq!(scopes[0]["region"], staged.region.as_str());
    assert_eq!(
        scopes[0]["report"]["tasks"][0]["root_cause"],
        "oom-container-limit"
    );
    assert_eq!(scopes[1]["region"], "eu-west-1");
    assert!(scopes[1]["report"].is_null());
    let error = scopes[1]["error"].as_str().expect("an error");
    assert!(
        error.contains("could not read anything from ECS in cluster prod"),
        "{error}"
    );
    assert!(
        stderr.contains("· eu-west-1: could not read anything from ECS"),
        "{stderr}"
    );
    let files: Vec<String> = std::fs::read_dir(&saved)
        .expect("saved bundles")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].ends_with(&format!("-{}.json.gz", staged.region)),
        "{files:?}"
    );
}

/// The Logs Insights query of an OOM-killed task's memory goes to the emulator through the real
/// SDK: its request is the recorder's (the performance log group, seconds, the task's id), and
/// the emulator's answer (no such log group: Container Insights was never on) becomes a note on
/// the task that says how to turn it on, with the diagnosis otherwise unchanged.
#[test]
fn an_oom_killed_task_memory_query_reaches_the_emulator_and_degrades_to_a_note() {
    let emulator = Emulator::start("oom");
    let args = emulator.live_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let dir = temp_dir("oom-queries");
    let saved = dir.join("saved.json");
    let mut diagnose = vec![
        "--no-config",
        "--format",
        "json",
        "diagnose",
        "--save",
        saved.to_str().expect("utf-8"),
    ];
    diagnose.extend(&args);
    let out = run(&diagnose, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("logs StartQuery failed: ResourceNotFoundException"),
        "the missing log group is named once: {stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let task = &report["tasks"][0];
    assert_eq!(task["root_cause"], "oom-container-limit");
    assert_eq!(task["memory"]["verdict"], "unavailable");
    let summary = task["memory"]["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("no Container Insights log group")
            && summary.contains("update-cluster-settings --cluster prod"),
        "{summary}"
    );
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&saved).expect("saved")).expect("JSON");
    let calls = bundle["calls"].as_array().expect("calls");
    let start = calls
        .iter()
        .find(|c| c["operation"] == "StartQuery")
        .expect("a StartQuery call");
    let request = &start["request"];
    assert_eq!(
        request["logGroupNames"],
        serde_json::json!(["/aws/ecs/containerinsights/prod/performance"])
    );
    let task_id = task["task_id"].as_str().unwrap_or_default();
    assert!(
        request["queryString"]
            .as_str()
            .is_some_and(|q| q.contains(&format!("TaskId = \"{task_id}\""))),
        "{request}"
    );
    // Seconds since the epoch, not milliseconds.
    let start_time = request["startTime"].as_i64().unwrap_or_default();
    assert!(
        (1_700_000_000..4_000_000_000).contains(&start_time),
        "{start_time}"
    );
    let clusters = calls
        .iter()
        .find(|c| c["operation"] == "DescribeClusters")
        .expect("DescribeClusters");
    assert_eq!(
        clusters["request"]["include"],
        serde_json::json!(["SETTINGS"])
    );
}
