//! End-to-end tests of the `ecs-autopsy` binary, run as a user would run it.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{TempDir, check, isolated_binary, text};

fn root() -> PathBuf {
    common::workspace_root()
}

fn fixture(case: &str) -> PathBuf {
    root().join("fixtures").join(case)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecs-autopsy"))
        .args(args)
        .env_remove("RUST_LOG")
        // Help is wrapped to the terminal's width, which a test must not depend on.
        .env_remove("COLUMNS")
        .env_remove("LINES")
        .env("NO_COLOR", "1")
        .env("SOURCE_DATE_EPOCH", "1795510800")
        .env("XDG_CONFIG_HOME", root().join("target/no-user-config"))
        .output()
        .expect("binary runs")
}

fn temp_dir(name: &str) -> TempDir {
    TempDir::new("cli", name)
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write test file");
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn replay_diagnoses_and_exits_1() {
    let bundle = fixture("app-missing-config/dropped-env-var/bundle.json");
    let output = run(&["replay", path_str(&bundle)]);
    check(
        &output,
        1,
        &[
            "root cause  app-missing-config",
            "DATABASE_URL",
            "removed in api:7",
        ],
        &[],
    );
    assert!(
        !text(&output.stdout).contains('\u{1b}'),
        "NO_COLOR must disable colour"
    );
}

#[test]
fn replay_is_byte_for_byte_repeatable_in_every_format() {
    let bundle = fixture("image-not-found/ecr-tag-missing/bundle.json");
    for format in ["text", "json", "markdown"] {
        let first = run(&["replay", "--format", format, path_str(&bundle)]);
        let second = run(&["replay", "--format", format, path_str(&bundle)]);
        assert_eq!(first.stdout, second.stdout, "{format}");
        assert_eq!(first.status.code(), Some(1));
    }
}

#[test]
fn json_report_has_the_documented_fields() {
    let bundle = fixture("image-pull-auth-denied/ecr-403-forbidden/bundle.json");
    let output = run(&["replay", "--format", "json", path_str(&bundle)]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(report["schema"], "ecs-autopsy-report");
    assert_eq!(report["schema_version"], 1);
    let finding = &report["findings"][0];
    for key in [
        "rule", "category", "verdict", "task_arn", "message", "evidence",
    ] {
        assert!(finding.get(key).is_some(), "finding lacks {key}: {finding}");
    }
    assert_eq!(finding["verdict"], "root-cause");
    assert_eq!(finding["rule"], "image-pull-auth-denied");
}

#[test]
fn markdown_report_is_pasteable() {
    let bundle = fixture("app-exited-zero/backgrounded-node-server/bundle.json");
    let output = run(&["replay", "--format", "markdown", path_str(&bundle)]);
    check(
        &output,
        1,
        &[
            "## ecs-autopsy report",
            "**Root cause: `app-exited-zero`**",
            "| evidence | value |",
        ],
        &[],
    );
}

#[test]
fn aws_cli_folder_is_diagnosed_directly_and_after_import() {
    let folder = fixture("app-missing-config/aws-cli-folder/aws-cli");
    let direct = run(&["replay", path_str(&folder)]);
    check(&direct, 1, &["app-missing-config", "API_KEY"], &[]);

    let dir = temp_dir("import");
    let junk = dir.join("inputs");
    std::fs::create_dir_all(&junk).expect("mkdir");
    for name in ["describe-tasks.json", "get-log-events.json"] {
        std::fs::copy(folder.join(name), junk.join(name)).expect("copy");
    }
    write(&junk.join("notes.txt"), b"ran these at 10:02\n");
    write(
        &junk.join("capacity-providers.json"),
        br#"{"capacityProviders": [], "failures": []}"#,
    );

    let out = dir.join("incident.json.gz");
    // `capacity-providers.json` is AWS output ecs-autopsy cannot use: the bundle is written, but the run
    // exits 2, since the file may have held evidence. `notes.txt` is no such file.
    let import = run(&["bundle", "import", path_str(&junk), "-o", path_str(&out)]);
    check(
        &import,
        2,
        &[],
        &[
            "skipped",
            "notes.txt: not JSON (line 1 column 1)",
            "capacity-providers.json: not the output of a supported AWS CLI command (top-level keys: capacityProviders, failures)",
            "wrote",
            "1 file(s) that may hold evidence could not be read",
        ],
    );
    let bytes = std::fs::read(&out).expect("bundle written");
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a .gz name gives a gzip file");

    // Same inputs, same SOURCE_DATE_EPOCH: byte-identical output.
    let again = dir.join("again.json.gz");
    run(&["bundle", "import", path_str(&junk), "-o", path_str(&again)]);
    assert_eq!(bytes, std::fs::read(&again).expect("written"));

    // Gzip is detected by content, not by name.
    let renamed = dir.join("incident.json");
    std::fs::copy(&out, &renamed).expect("copy");
    let replay = run(&["replay", path_str(&renamed)]);
    check(&replay, 1, &["API_KEY", "unbound variable"], &[]);
    assert_eq!(replay.stdout, run(&["replay", path_str(&out)]).stdout);

    // Refuses to overwrite without --force.
    let clobber = run(&["bundle", "import", path_str(&junk), "-o", path_str(&out)]);
    check(&clobber, 2, &[], &["already exists; pass --force"]);
    std::fs::remove_file(junk.join("capacity-providers.json")).expect("remove");
    let forced = run(&[
        "bundle",
        "import",
        "--force",
        path_str(&junk),
        "-o",
        path_str(&out),
    ]);
    check(&forced, 0, &[], &[]);
}

#[test]
fn import_of_nothing_recognisable_is_an_error() {
    let dir = temp_dir("nothing");
    write(&dir.join("a.txt"), b"hello");
    let out = dir.join("out.json");
    let output = run(&["bundle", "import", path_str(&dir), "-o", path_str(&out)]);
    check(
        &output,
        2,
        &[],
        &["no AWS CLI output recognised", "nothing written"],
    );
    assert!(!out.exists());
}

#[test]
fn inspect_lists_calls_tasks_and_errors() {
    let dir = temp_dir("inspect");
    let bundle = dir.join("bundle.json");
    let mut value: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture("app-missing-config/dropped-env-var/bundle.json")).expect("read"),
    )
    .expect("json");
    value["calls"].as_array_mut().expect("calls").push(serde_json::json!({
        "service": "logs", "operation": "FilterLogEvents", "request": {"logGroupName": "/ecs/api"},
        "error": {"code": "AccessDeniedException", "message": "User is not authorized to perform: logs:FilterLogEvents"}
    }));
    write(
        &bundle,
        serde_json::to_string(&value).expect("json").as_bytes(),
    );
    let output = run(&["bundle", "inspect", path_str(&bundle)]);
    check(
        &output,
        0,
        &[
            "bundle format v1",
            "cluster      prod",
            "DescribeTasks",
            "1 task",
            "5f1c2e7a0b9d4e8f9a1b2c3d4e5f6a7b",
            "errors (1)",
            "AccessDeniedException",
            "time range",
        ],
        &[],
    );
    let replay = run(&["replay", path_str(&bundle)]);
    check(
        &replay,
        1,
        &["missing evidence", "grant logs:FilterLogEvents"],
        &[],
    );
}

#[test]
fn malformed_bundles_get_one_clear_line_and_exit_2() {
    let dir = temp_dir("malformed");
    let good =
        std::fs::read(fixture("app-missing-config/dropped-env-var/bundle.json")).expect("read");

    let truncated = dir.join("truncated.json");
    write(&truncated, &good[..good.len() / 2]);
    let cut = dir.join("cut.json.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&good).expect("gzip");
    let gz = encoder.finish().expect("gzip");
    write(&cut, &gz[..gz.len() / 2]);
    let invalid = dir.join("invalid.json");
    write(&invalid, b"{\n  \"manifest\": {,\n}");
    let future = dir.join("future.json");
    write(
        &future,
        br#"{"manifest": {"format": "ecs-autopsy-bundle", "format_version": 7}, "calls": []}"#,
    );
    let other = dir.join("other.json");
    write(&other, br#"{"capacityProviders": []}"#);
    let misfit = dir.join("misfit.json");
    write(
        &misfit,
        br#"{"manifest": {"format": "ecs-autopsy-bundle", "format_version": 1, "tool_version": "0.1.0",
             "recorded_at": "2026-11-24T10:00:00.000Z", "source": "recorded"},
             "calls": [{"service": "ecs", "operation": "DescribeTasks", "request": {}, "response": {"tasks": [{"containers": "web"}]}}]}"#,
    );
    let missing = dir.join("does-not-exist.json");

    let cases: [(&Path, &str); 7] = [
        (
            &truncated,
            "unexpected end of data (is the file truncated?)",
        ),
        (&cut, "corrupt or truncated gzip data"),
        (&invalid, "invalid JSON at line 2 column 16"),
        (
            &future,
            "unsupported bundle format version 7; this ecs-autopsy (0.1.0) reads version 1",
        ),
        (
            &other,
            "neither an ecs-autopsy bundle (no `manifest` object at the top level) nor the output of an AWS CLI command ecs-autopsy reads (not the output of a supported AWS CLI command (top-level keys: capacityProviders))",
        ),
        (
            &misfit,
            "calls[0] (ecs DescribeTasks): response does not fit the operation: `tasks[0].containers`: invalid type: string \"web\", expected a sequence",
        ),
        (&missing, "No such file or directory"),
    ];
    for (path, message) in cases {
        let output = run(&["replay", path_str(path)]);
        check(&output, 2, &[], &[message, path_str(path)]);
        let stderr = text(&output.stderr);
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "one line for {}: {stderr}",
            path.display()
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

fn write_rule(dir: &Path, id: &str, benign: bool, body: &str) {
    let source = format!(
        "//! ## What it means\n//! Test.\n\nconst RULE = #{{ id: \"{id}\", title: \"Test rule\", severity: \"error\", category: \"{id}\", benign: {benign} }};\n\nfn check(ev) {{\n{body}\n}}\n"
    );
    write(&dir.join(format!("{id}.rhai")), source.as_bytes());
}

#[test]
fn broken_rules_are_reported_and_the_others_still_run() {
    let dir = temp_dir("rules");
    write(
        &dir.join("syntax-error.rhai"),
        b"const RULE = #{ id: \"syntax-error\" };\nfn check(ev) {\n    let x = ;\n}\n",
    );
    write(&dir.join("bad-meta.rhai"), b"const RULE = #{ id: \"bad-meta\", title: \"t\", severity: \"fatal\", category: \"bad-meta\", benign: false };\nfn check(ev) { [] }\n");
    write(&dir.join("typo-key.rhai"), b"const RULE = #{ id: \"typo-key\", titel: \"t\", severity: \"error\", category: \"typo-key\", benign: false };\nfn check(ev) { [] }\n");
    write(&dir.join("top-level.rhai"), b"const RULE = #{ id: \"top-level\", title: \"t\", severity: \"error\", category: \"top-level\", benign: false };\nprint(\"hi\");\nfn check(ev) { [] }\n");
    write_rule(&dir, "throws", false, "    throw \"boom\";");
    write_rule(&dir, "returns-garbage", false, "    [42]");

    let bundle = fixture("app-missing-config/dropped-env-var/bundle.json");
    let output = run(&["replay", "--rules", path_str(&dir), path_str(&bundle)]);
    let syntax = format!("{}:3:13:", dir.join("syntax-error.rhai").display());
    check(
        &output,
        2,
        &[
            "root cause  app-missing-config",
            "rule errors",
            "throws.rhai",
            "boom",
            "check() returned a i64 at index 0",
        ],
        &[
            &syntax,
            "bad-meta.rhai:1:1: invalid `RULE` metadata: unknown variant `fatal`",
            "typo-key.rhai:1:1: invalid `RULE` metadata: unknown field `titel`",
            "top-level.rhai:2:1: only `const` and `fn` items are allowed",
        ],
    );

    // Runtime errors alone do not change the exit code, unless --strict.
    let runtime_only = temp_dir("runtime-rules");
    write_rule(&runtime_only, "throws", false, "    throw \"boom\";");
    let output = run(&[
        "replay",
        "--rules",
        path_str(&runtime_only),
        path_str(&bundle),
    ]);
    check(
        &output,
        1,
        &["app-missing-config", "boom"],
        &["rule throws failed"],
    );
    let strict = run(&[
        "replay",
        "--strict",
        "--rules",
        path_str(&runtime_only),
        path_str(&bundle),
    ]);
    // Under --strict the failure is an error, and the report says it is incomplete.
    check(
        &strict,
        2,
        &["INCOMPLETE: 1 rule error(s)"],
        &["ecs-autopsy: error: rule throws failed"],
    );
    let stderr = String::from_utf8_lossy(&strict.stderr);
    assert!(!stderr.contains("warning"), "{stderr}");

    // A rule that does not load: the report says so in every format, never looks clean.
    let text =
        String::from_utf8_lossy(&output_of_broken(&dir, &bundle, "text").stdout).into_owned();
    assert!(text.contains("INCOMPLETE: 6 rule error(s)"), "{text}");
    let json = output_of_broken(&dir, &bundle, "json");
    assert_eq!(json.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(report["status"], "error");
    let errors = report["rule_errors"].as_array().expect("rule errors");
    for file in [
        "syntax-error.rhai",
        "bad-meta.rhai",
        "typo-key.rhai",
        "top-level.rhai",
    ] {
        assert!(
            errors
                .iter()
                .any(|e| e["file"].as_str().is_some_and(|f| f.ends_with(file))
                    && e["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with("could not load: "))),
            "{file} not in {errors:#?}"
        );
    }
    let markdown =
        String::from_utf8_lossy(&output_of_broken(&dir, &bundle, "markdown").stdout).into_owned();
    assert!(
        markdown.contains("INCOMPLETE") && markdown.contains("### Rule errors"),
        "{markdown}"
    );
}

fn output_of_broken(rules: &Path, bundle: &Path, format: &str) -> Output {
    run(&[
        "--format",
        format,
        "replay",
        "--rules",
        path_str(rules),
        path_str(bundle),
    ])
}

#[test]
fn benign_only_exits_0_and_team_rules_replace_builtins() {
    let dir = temp_dir("benign");
    write_rule(
        &dir,
        "graceful-stop",
        true,
        "    let f = [];\n    for t in ev.stopped_tasks() { if t.stopCode == \"ServiceSchedulerInitiated\" { f.push(finding(t, \"replaced by a deployment\").evidence(t.path(\"stoppedReason\"))); } }\n    f",
    );
    let bundle = fixture("app-exited-zero/ok-deployment-replaced/bundle.json");
    let output = run(&["replay", "--rules", path_str(&dir), path_str(&bundle)]);
    check(&output, 0, &["benign", "graceful-stop", "1 benign"], &[]);

    write_rule(&dir, "app-exited-zero", false, "    []");
    let replaced = run(&[
        "replay",
        "--rules",
        path_str(&dir),
        path_str(&fixture(
            "app-exited-zero/backgrounded-node-server/bundle.json",
        )),
    ]);
    check(
        &replaced,
        1,
        &[
            "note: replaced built-in rule app-exited-zero (by",
            "undiagnosed",
        ],
        &[],
    );
}

#[test]
fn rules_list_and_explain() {
    let list = run(&["rules", "list"]);
    check(
        &list,
        0,
        &[
            "app-exited-zero",
            "app-missing-config",
            "image-not-found",
            "image-pull-auth-denied",
        ],
        &[],
    );
    let explain = run(&["explain", "image-not-found"]);
    check(
        &explain,
        0,
        &[
            "# image-not-found:",
            "## What it means",
            "## How to fix",
            "## References",
        ],
        &[],
    );
    let unknown = run(&["explain", "image-not-fund"]);
    check(
        &unknown,
        2,
        &[],
        &["no rule `image-not-fund`; did you mean `image-not-found`"],
    );
}

#[test]
fn bad_flags_exit_2_and_help_documents_exit_codes() {
    // One line, with the same prefix as every other error.
    for (args, says) in [
        (
            &["replay"][..],
            "ecs-autopsy: error: the following required arguments were not provided: <INPUT> (see --help)\n",
        ),
        (
            &["replay", "--format", "yaml", "x"][..],
            "ecs-autopsy: error: invalid value 'yaml' for '--format <FORMAT>'",
        ),
        (
            &["replay", "--no-such-flag", "x"][..],
            "ecs-autopsy: error: unexpected argument '--no-such-flag' found",
        ),
    ] {
        let output = run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(stderr.starts_with(says), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
    // A name far from every rule gets no suggestion.
    let far = run(&["explain", "zzzzzzzz"]);
    assert_eq!(
        String::from_utf8_lossy(&far.stderr),
        "ecs-autopsy: error: no rule `zzzzzzzz` (`ecs-autopsy rules list` shows all)\n"
    );
    // Valid JSON of another shape names no parser internals.
    let dir = temp_dir("shapes");
    let file = dir.join("string.json");
    write(&file, b"\"x\"");
    let output = run(&["replay", path_str(&file)]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        stderr.contains("the top level is not an object with a `manifest` object")
            && !stderr.contains("Probe"),
        "{stderr}"
    );
    check(
        &run(&["--help"]),
        0,
        &["Exit codes:", "1  at least one problem diagnosed"],
        &[],
    );
}

/// The binary with no AWS configuration at all: no variables, no profile files, no instance
/// metadata. Nothing can be reached, so nothing is contacted.
fn run_without_aws(args: &[&str]) -> Output {
    let home = temp_dir("no-aws-home");
    isolated_binary(&home)
        .args(args)
        .output()
        .expect("binary runs")
}

#[test]
fn missing_region_or_credentials_is_one_clear_line() {
    let no_region = run_without_aws(&["diagnose", "--cluster", "prod", "--service", "api"]);
    check(
        &no_region,
        2,
        &[],
        &["no AWS region configured: pass --region, set AWS_REGION"],
    );
    assert_eq!(
        text(&no_region.stderr).lines().count(),
        1,
        "{}",
        text(&no_region.stderr)
    );

    let no_credentials = run_without_aws(&[
        "record",
        "--cluster",
        "prod",
        "--service",
        "api",
        "--region",
        "eu-west-1",
        "-o",
        "x.json",
    ]);
    check(
        &no_credentials,
        2,
        &[],
        &["no AWS credentials:", "run `aws configure`"],
    );
    assert_eq!(
        text(&no_credentials.stderr).lines().count(),
        1,
        "{}",
        text(&no_credentials.stderr)
    );

    // The whole cluster is a valid request: it fails here only for the missing region.
    let whole = run_without_aws(&["diagnose", "--cluster", "prod"]);
    check(&whole, 2, &[], &["no AWS region configured"]);

    // A bad pattern, or a pattern beside a named service, is one line before any AWS call.
    let bad = run_without_aws(&[
        "diagnose",
        "--cluster",
        "prod",
        "--services-matching",
        "(api",
    ]);
    check(&bad, 2, &[], &[]);
    let stderr = text(&bad.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "ecs-autopsy: error: invalid value '(api' for '--services-matching <REGEX>'"
        ),
        "{stderr}"
    );
    let both = run_without_aws(&[
        "diagnose",
        "--cluster",
        "prod",
        "--service",
        "api",
        "--services-matching",
        "api",
    ]);
    check(&both, 2, &[], &["cannot be used with"]);
    assert_eq!(
        text(&both.stderr).lines().count(),
        1,
        "{}",
        text(&both.stderr)
    );
}

#[test]
fn bundle_scan_lists_what_to_remove_and_exits_1() {
    let dir = temp_dir("scan");
    // An imported bundle is not redacted: its environment values and a key in a log line show.
    let mut bundle: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture("app-missing-config/dropped-env-var/bundle.json")).expect("read"),
    )
    .expect("JSON");
    let calls = bundle["calls"].as_array_mut().expect("calls");
    let logs = calls
        .iter_mut()
        .find(|c| c["operation"] == "GetLogEvents")
        .expect("logs");
    logs["response"]["events"][0]["message"] =
        serde_json::json!("using key AKIAIOSFODNN7EXAMPLE from the environment");
    bundle["manifest"]["redaction"]["enabled"] = serde_json::json!(false);
    let leaky = dir.join("leaky.json");
    write(&leaky, &serde_json::to_vec(&bundle).expect("JSON"));

    let output = run(&["bundle", "scan", path_str(&leaky)]);
    let stdout = check(
        &output,
        1,
        &[
            "value(s) that may be credentials; remove them before sharing the bundle (it was written without redaction",
            "aws-access-key",
            ".response.events[0].message  AKIA… (20 chars)",
            "env-value",
        ],
        &[],
    );
    assert!(!stdout.contains("IOSFODNN7EXAMPLE"), "{stdout}");

    let json = run(&["--format", "json", "bundle", "scan", path_str(&leaky)]);
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(report["schema"], 1);
    assert_eq!(report["clean"], false);
    assert_eq!(report["redacted"], false);
    assert!(
        report["exposures"]
            .as_array()
            .is_some_and(|e| e.iter().any(|x| x["kind"] == "aws-access-key"))
    );

    // After redaction (what `record` does) it is clean: exit 0.
    let golden = root().join("fixtures/golden/v1/recorded-health-check-loop.json.gz");
    check(
        &run(&["bundle", "scan", path_str(&golden)]),
        0,
        &["no credentials or secret settings found in 11 call(s)"],
        &[],
    );
    // A file that is not a bundle: exit 2, one line naming it.
    let broken = dir.join("broken.json");
    write(&broken, b"{\"manifest\": ");
    let output = run(&["bundle", "scan", path_str(&broken)]);
    check(&output, 2, &[], &["broken.json: invalid JSON"]);
    assert_eq!(text(&output.stderr).lines().count(), 1);
}

/// What people paste: one CLI output file given to `replay`, output cut down with `--query` (a
/// bare task, a `tasks` array, a bare service, a bare task definition), the console's JSON view,
/// and CLI v1 (epoch) or v2 (ISO) times. Each gives the diagnosis the full outputs give. Without
/// `SOURCE_DATE_EPOCH`, two replays of one folder are identical: the report holds no current
/// time. A file that looks like evidence but cannot be read makes the run exit 2.
#[test]
fn every_input_shape_people_paste_is_read() {
    let folder = fixture("app-missing-config/aws-cli-folder/aws-cli");
    let full = run(&["--format", "json", "replay", path_str(&folder)]);
    let full_report: serde_json::Value = serde_json::from_slice(&full.stdout).expect("JSON");
    let root_causes = |stdout: &[u8]| -> Vec<serde_json::Value> {
        let report: serde_json::Value = serde_json::from_slice(stdout).expect("JSON");
        report["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .map(|t| t["root_cause"].clone())
            .collect()
    };
    assert_eq!(
        root_causes(&full.stdout),
        [serde_json::json!("app-missing-config")]
    );

    let tasks: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("describe-tasks.json")).expect("read"))
            .expect("JSON");
    let logs = std::fs::read(folder.join("get-log-events.json")).expect("read");
    let dir = temp_dir("shapes");
    let shapes = [
        ("bare-task", tasks["tasks"][0].clone()),
        ("tasks-array", tasks["tasks"].clone()),
        ("cli-v1-times", with_epoch_times(tasks.clone())),
    ];
    for (name, value) in shapes {
        let case = dir.join(name);
        std::fs::create_dir_all(&case).expect("mkdir");
        write(
            &case.join("describe-tasks.json"),
            serde_json::to_string_pretty(&value)
                .expect("JSON")
                .as_bytes(),
        );
        write(&case.join("get-log-events.json"), &logs);
        let output = run(&["--format", "json", "replay", path_str(&case)]);
        check(&output, 1, &[], &[]);
        assert_eq!(
            root_causes(&output.stdout),
            root_causes(&full.stdout),
            "{name}"
        );
    }

    // One CLI output file, given directly: the task is there, its logs are not.
    let single = run(&["replay", path_str(&folder.join("describe-tasks.json"))]);
    check(&single, 1, &["undiagnosed"], &[]);

    // A bare service and a bare task definition are read as what they are.
    let service = dir.join("service.json");
    write(
        &service,
        br#"{"serviceName": "billing", "serviceArn": "arn:aws:ecs:eu-west-1:123456789012:service/prod/billing",
             "desiredCount": 2, "runningCount": 0, "events": [], "deployments": []}"#,
    );
    let inspect = run(&["--format", "json", "bundle", "inspect", path_str(&service)]);
    check(&inspect, 0, &["DescribeServices"], &[]);
    let definition = dir.join("task-definition.json");
    write(
        &definition,
        br#"{"taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/billing:4",
             "family": "billing", "revision": 4, "containerDefinitions": [{"name": "billing"}]}"#,
    );
    let inspect = run(&[
        "--format",
        "json",
        "bundle",
        "inspect",
        path_str(&definition),
    ]);
    check(&inspect, 0, &["DescribeTaskDefinition"], &[]);

    // No SOURCE_DATE_EPOCH: the manifest time is the latest time in the outputs, so two replays
    // of one folder are identical, and so is the full report of the original folder.
    let unpinned = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecs-autopsy"));
        command
            .args(["--format", "json", "replay", path_str(&folder)])
            .env_remove("SOURCE_DATE_EPOCH")
            .env("XDG_CONFIG_HOME", root().join("target/no-user-config"));
        command.output().expect("binary runs")
    };
    let (first, second) = (unpinned(), unpinned());
    assert_eq!(first.stdout, second.stdout);
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).expect("JSON");
    assert_eq!(report["tasks"], full_report["tasks"]);

    // A file that looks like evidence but cannot be read: the report is printed, and exit 2.
    let broken = dir.join("broken");
    std::fs::create_dir_all(&broken).expect("mkdir");
    std::fs::copy(
        folder.join("describe-tasks.json"),
        broken.join("describe-tasks.json"),
    )
    .expect("copy");
    write(
        &broken.join("describe-services.json"),
        b"{\"services\": [{\"serviceName\"",
    );
    let output = run(&["replay", path_str(&broken)]);
    check(
        &output,
        2,
        &["task e4d3c2b1a0f94e8d7c6b5a4f3e2d1c0b"],
        &[
            "skipped",
            "describe-services.json: not JSON",
            "1 file(s) that may hold evidence could not be read",
        ],
    );
}

/// The same output with every ECS time as AWS CLI v1 prints it: epoch seconds.
fn with_epoch_times(mut value: serde_json::Value) -> serde_json::Value {
    fn visit(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, item) in map.iter_mut() {
                    if key.ends_with("At")
                        && let Some(text) = item.as_str()
                        && let Some(seconds) = epoch_seconds(text)
                    {
                        *item = serde_json::json!(seconds);
                    } else {
                        visit(item);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(visit),
            _ => {}
        }
    }
    visit(&mut value);
    value
}

/// `2026-11-24T09:20:18.200000+00:00` as epoch seconds (this fixture's times are all UTC).
fn epoch_seconds(text: &str) -> Option<f64> {
    let (date, time) = text.split_once('T')?;
    let mut date_parts = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (
        date_parts.next()??,
        date_parts.next()??,
        date_parts.next()??,
    );
    let time = time.trim_end_matches("+00:00").trim_end_matches('Z');
    let mut time_parts = time.split(':');
    let hours = time_parts.next()?.parse::<i64>().ok()?;
    let minutes = time_parts.next()?.parse::<i64>().ok()?;
    let seconds: f64 = time_parts.next()?.parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    #[allow(clippy::cast_precision_loss)]
    Some((days * 86_400 + hours * 3600 + minutes * 60) as f64 + seconds)
}

#[test]
fn undiagnosed_tasks_say_what_to_fetch_which_rules_came_closest_and_which_task_stopped_the_same_way()
 {
    // Three tasks of one revision crash-looped; only the last kept its log lines.
    let case =
        fixture("real/gh-valheim-ecs-fargate-cdk-25-supervisord-setuptools-crash-loop/aws-cli");
    let output = run(&["--no-config", "replay", "--format", "json", path_str(&case)]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let tasks = report["tasks"].as_array().expect("tasks");
    let diagnosed = tasks
        .iter()
        .find(|t| t["verdict"] == "diagnosed")
        .expect("one task is diagnosed");
    assert!(diagnosed.get("next_steps").is_none(), "{diagnosed}");
    let undiagnosed: Vec<&serde_json::Value> = tasks
        .iter()
        .filter(|t| t["verdict"] == "undiagnosed")
        .collect();
    assert_eq!(undiagnosed.len(), 2);
    for task in undiagnosed {
        let id = task["task_id"].as_str().expect("task id");
        // Exit 1: the rules that read a crashing app's log lines came closest.
        assert_eq!(
            task["closest_rules"][0]["rule"], "app-startup-crash",
            "{task}"
        );
        let steps = task["next_steps"].as_array().expect("next steps");
        let sibling = steps[0]["what"].as_str().expect("what");
        assert!(
            sibling.contains(diagnosed["task_id"].as_str().expect("id"))
                && sibling.contains("app-startup-crash"),
            "{sibling}"
        );
        assert!(steps[0]["command"].is_null());
        // The stream awslogs wrote: prefix/container/task id, in the group the definition names.
        assert_eq!(
            steps[1]["command"].as_str().expect("command"),
            format!(
                "aws logs get-log-events --log-group-name ValheimServerAwsCdkStack-valheimTaskDefinitionvalheimContainerLogGroup --log-stream-name valheim/valheimContainer/{id} --start-from-head --region us-east-1"
            )
        );
    }
    let text = run(&["--no-config", "replay", path_str(&case)]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("    next      no log lines of container \"valheimContainer\" in the input\n              aws logs get-log-events "),
        "{text}"
    );

    // Without the task definition, the step is to fetch it.
    let dir = temp_dir("next-steps");
    let cli = dir.join("aws-cli");
    std::fs::create_dir_all(&cli).expect("dir");
    for entry in std::fs::read_dir(&case).expect("case") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name.starts_with("task-definition") && !name.starts_with("describe-task-definition") {
            std::fs::copy(&path, cli.join(&name)).expect("copy");
        }
    }
    let output = run(&["--no-config", "replay", "--format", "json", path_str(&cli)]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let commands: Vec<&str> = report["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["next_steps"].as_array())
        .flatten()
        .filter_map(|s| s["command"].as_str())
        .collect();
    assert!(
        commands.iter().any(|c| c.starts_with(
            "aws ecs describe-task-definition --task-definition arn:aws:ecs:us-east-1:"
        )),
        "{commands:?}"
    );
}

/// The 31-task example with every stopped task copied six more times, a little earlier and
/// under another id: over 200 stopped tasks of the same two services.
fn scaled_mixed_bundle(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(fixture("mixed/two-services/bundle.json")).expect("bundle");
    let mut bundle: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let calls = bundle["calls"].as_array_mut().expect("calls");
    for call in calls.iter_mut() {
        if call["operation"] != "DescribeTasks" {
            continue;
        }
        let tasks = call["response"]["tasks"].as_array_mut().expect("tasks");
        let originals: Vec<serde_json::Value> = tasks
            .iter()
            .filter(|t| t["lastStatus"] == "STOPPED")
            .cloned()
            .collect();
        for copy in 1..=6 {
            for original in &originals {
                let mut task = original.clone();
                let arn = task["taskArn"].as_str().expect("arn").to_owned();
                task["taskArn"] = format!("{arn}{copy:02}").into();
                if let Some(at) = task["stoppedAt"].as_f64() {
                    task["stoppedAt"] = (at - f64::from(copy) * 60.0).into();
                }
                tasks.push(task);
            }
        }
    }
    let path = dir.join("scaled.json");
    write(&path, bundle.to_string().as_bytes());
    path
}

#[test]
fn the_first_ten_lines_tell_the_story_and_the_newest_stop_comes_first() {
    let dir = temp_dir("story");
    let scaled = scaled_mixed_bundle(&dir);
    let mixed = fixture("mixed/two-services/bundle.json");
    for bundle in [mixed, scaled] {
        let output = run(&["--no-config", "replay", path_str(&bundle)]);
        assert_eq!(output.status.code(), Some(1));
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let head: Vec<&str> = text.lines().take(10).collect();
        let json = run(&[
            "--no-config",
            "--format",
            "json",
            "replay",
            path_str(&bundle),
        ]);
        let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
        let stopped = report["summary"]["stopped_tasks"].as_u64().expect("count");
        assert!(stopped >= 31, "{stopped}");
        // What stopped, the failing services with their deployments, and the top cause.
        assert!(
            head[2].starts_with(&format!("{stopped} stopped tasks: ")),
            "{head:#?}"
        );
        for service in ["web", "worker"] {
            assert!(
                head.iter()
                    .any(|l| l.starts_with(&format!("  service {service}: "))),
                "{head:#?}"
            );
        }
        assert!(
            head.iter()
                .any(|l| l.contains("FAILED, 3 failed tasks: ECS deployment circuit breaker")),
            "{head:#?}"
        );
        let top = &report["summary"]["causes"][0];
        let top_line = format!(
            "  causes    {}×  {} ",
            top["count"],
            top["rule"].as_str().expect("rule")
        );
        assert!(
            head[3].starts_with(&top_line),
            "{top_line} not in {head:#?}"
        );
        // The first task block is the newest stop.
        let newest = report["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .max_by(|a, b| a["stopped_at"].as_str().cmp(&b["stopped_at"].as_str()))
            .expect("a task");
        let first_block = text
            .lines()
            .find(|l| l.starts_with("task "))
            .expect("a task block");
        assert!(
            first_block.starts_with(&format!(
                "task {} ",
                newest["task_id"].as_str().expect("id")
            )),
            "{first_block}"
        );
    }
}

#[test]
fn brief_no_timeline_and_replay_narrowing_work_through_the_binary() {
    let bundle = fixture("mixed/two-services/bundle.json");
    let bundle = path_str(&bundle);

    // --brief: a line per cause, then a line per unhealthy service, nothing else.
    let brief = run(&["--no-config", "replay", "--brief", bundle]);
    assert_eq!(brief.status.code(), Some(1));
    let brief = String::from_utf8_lossy(&brief.stdout).into_owned();
    let lines: Vec<&str> = brief.lines().collect();
    assert_eq!(lines.len(), 18 + 2, "{brief}");
    assert!(
        lines[0].starts_with("4× oom-container-limit (web) "),
        "{brief}"
    );
    assert!(
        lines[19].starts_with("service worker: 2/2 running · deployments ")
            && lines[19]
                .contains("worker:239 FAILED, 3 failed tasks: ECS deployment circuit breaker"),
        "{brief}"
    );
    assert!(
        !brief.contains("evidence") && !brief.contains("timeline"),
        "{brief}"
    );
    let markdown = run(&[
        "--no-config",
        "--format",
        "markdown",
        "replay",
        "--brief",
        bundle,
    ]);
    let markdown = String::from_utf8_lossy(&markdown.stdout).into_owned();
    assert_eq!(markdown.lines().count(), 20, "{markdown}");
    assert!(markdown.lines().all(|l| l.starts_with("- ")), "{markdown}");
    // JSON is for scripts: --brief does not apply, and says so.
    let json = run(&[
        "--no-config",
        "--format",
        "json",
        "replay",
        "--brief",
        bundle,
    ]);
    assert_eq!(json.status.code(), Some(2));
    assert!(json.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&json.stderr)
            .contains("--brief is for the text and Markdown reports")
    );

    // --no-timeline: the tasks without their timelines, in every format.
    let full = run(&["--no-config", "replay", bundle]);
    assert!(String::from_utf8_lossy(&full.stdout).contains("  timeline    "));
    let short = run(&["--no-config", "replay", "--no-timeline", bundle]);
    let short = String::from_utf8_lossy(&short.stdout).into_owned();
    assert!(
        !short.contains("  timeline    ") && short.contains("root cause"),
        "{short}"
    );
    let json = run(&[
        "--no-config",
        "--format",
        "json",
        "replay",
        "--no-timeline",
        bundle,
    ]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert!(
        report["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .all(|t| t["timeline"].as_array().is_some_and(Vec::is_empty))
    );

    // --service, --max-tasks and --since narrow the diagnosis like diagnose does when it
    // collects; --since counts back from the bundle's recording time.
    let narrowed = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["--no-config", "--format", "json", "replay"];
        all.extend_from_slice(args);
        all.push(bundle);
        let output = run(&all);
        assert!(matches!(output.status.code(), Some(0 | 1)), "{args:?}");
        serde_json::from_slice(&output.stdout).expect("JSON")
    };
    let web = narrowed(&["--service", "web"]);
    assert_eq!(web["summary"]["stopped_tasks"], 15);
    assert_eq!(web["bundle"]["services"], serde_json::json!(["web"]));
    assert!(
        web["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .all(|t| t["service"] == "web")
    );
    assert_eq!(
        web["summary"]["services"]
            .as_array()
            .expect("services")
            .len(),
        1,
        "{}",
        web["summary"]["services"]
    );
    let newest = narrowed(&["--service", "web", "--max-tasks", "3"]);
    let ids: Vec<&str> = newest["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["stopped_at"].as_str())
        .collect();
    assert_eq!(ids.len(), 3);
    let web_times: Vec<&str> = web["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["stopped_at"].as_str())
        .collect();
    assert_eq!(
        ids,
        web_times[web_times.len() - 3..],
        "the three most recent"
    );
    // The bundle was recorded at 12:00; within 30m are the stops from 11:30 on.
    let recent = narrowed(&["--since", "30m"]);
    let times: Vec<&str> = recent["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["stopped_at"].as_str())
        .collect();
    assert!(!times.is_empty());
    assert!(
        times.iter().all(|t| *t >= "2026-11-24T11:30:00.000Z"),
        "{times:?}"
    );
    assert!(
        recent["summary"]["stopped_tasks"].as_u64() < Some(31),
        "fewer than all 31"
    );
}

#[test]
fn markdown_fits_a_github_comment_and_links_to_the_console_and_the_rule_docs() {
    let dir = temp_dir("markdown-cap");
    let scaled = scaled_mixed_bundle(&dir);
    for bundle in [fixture("mixed/two-services/bundle.json"), scaled.clone()] {
        let output = run(&[
            "--no-config",
            "--format",
            "markdown",
            "replay",
            path_str(&bundle),
        ]);
        let markdown = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(markdown.chars().count() < 65_536, "{}", markdown.len());
        // The story is always there, and the closing sections.
        assert!(markdown.contains("| cause | stopped tasks | services | when |"));
        assert!(markdown.contains("### Service-level findings"));
        // Console links in the bundle's region: services, tasks, log streams.
        assert!(markdown.contains(
            "[web](https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/web/health?region=eu-west-1)"
        ));
        assert!(markdown.contains(
            "· [console](https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/"
        ));
        assert!(markdown.contains(
            "#logsV2:log-groups/log-group/$252Fecs$252Freports/log-events/ecs$252Freports$252F"
        ));
    }
    let output = run(&[
        "--no-config",
        "--format",
        "markdown",
        "replay",
        path_str(&scaled),
    ]);
    let markdown = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        markdown.contains("more task section(s) left out** to stay under GitHub's comment limit: `--format json` or the bundle has every task."),
        "{markdown}"
    );
    // JSON: the rule's documentation for built-in rules, and no console links.
    let output = run(&[
        "--no-config",
        "--format",
        "json",
        "replay",
        path_str(&scaled),
    ]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(!text.contains("console.aws.amazon.com"));
    let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    for finding in report["findings"].as_array().expect("findings") {
        assert_eq!(
            finding["doc_url"],
            format!(
                "https://github.com/ecs-autopsy/ecs-autopsy/blob/main/docs/rules/{}.md",
                finding["rule"].as_str().expect("rule")
            )
        );
        assert!(
            root()
                .join(format!(
                    "docs/rules/{}.md",
                    finding["rule"].as_str().expect("rule")
                ))
                .is_file()
        );
    }
}

#[test]
fn help_is_grouped_under_headings_and_offline_commands_do_not_describe_aws_logging() {
    for (name, args) in [
        ("help", &["--help"][..]),
        ("help-replay", &["replay", "--help"][..]),
        ("help-diagnose", &["diagnose", "--help"][..]),
        ("help-record", &["record", "--help"][..]),
        ("help-lint", &["lint", "--help"][..]),
    ] {
        let output = run(args);
        assert_eq!(output.status.code(), Some(0), "{name}");
        let help = String::from_utf8_lossy(&output.stdout).into_owned();
        if name == "help-replay" {
            assert!(!help.contains("AWS call"), "{help}");
            for heading in ["Input:", "Output:", "Rules:", "Logging:"] {
                assert!(
                    help.contains(&format!("\n{heading}\n")),
                    "{heading} in {help}"
                );
            }
        }
        if name == "help-diagnose" {
            for heading in ["Input:", "AWS access:", "Output:", "Rules:", "Logging:"] {
                assert!(
                    help.contains(&format!("\n{heading}\n")),
                    "{heading} in {help}"
                );
            }
            assert!(help.contains("-v logs each AWS call and its duration"));
        }
        insta::assert_snapshot!(name, help);
    }
}

#[test]
fn bundle_redact_and_scan_work_on_imports_and_dash_writes_to_stdout() {
    let dir = temp_dir("redact");
    let folder = fixture("real/gh-dify-self-hosted-48-plugin-daemon-empty-s3-endpoint-137/aws-cli");
    let folder = path_str(&folder);

    // scan reads a folder of AWS CLI outputs, and points at redact, never at re-recording.
    let scan = run(&["--no-config", "bundle", "scan", folder]);
    assert_eq!(scan.status.code(), Some(1));
    let text = String::from_utf8_lossy(&scan.stdout).into_owned();
    assert!(
        text.contains("bundle redact") && !text.contains("record it again"),
        "{text}"
    );

    // redact: the same redactor as record; the output scans clean and diagnoses the same.
    let redacted = dir.join("redacted.json.gz");
    let output = run(&[
        "--no-config",
        "bundle",
        "redact",
        folder,
        "-o",
        path_str(&redacted),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("redacted "));
    let clean = run(&["--no-config", "bundle", "scan", path_str(&redacted)]);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    let causes = |input: &str| -> serde_json::Value {
        let output = run(&["--no-config", "--format", "json", "replay", input]);
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        report["summary"]["causes"].clone()
    };
    assert_eq!(causes(folder), causes(path_str(&redacted)));
    // It refuses to overwrite without --force.
    let again = run(&[
        "--no-config",
        "bundle",
        "redact",
        folder,
        "-o",
        path_str(&redacted),
    ]);
    assert_eq!(again.status.code(), Some(2));

    // -o - writes the bundle to standard output, for import, redact and upgrade.
    for args in [
        vec!["--no-config", "bundle", "import", folder, "-o", "-"],
        vec!["--no-config", "bundle", "redact", folder, "-o", "-"],
        vec![
            "--no-config",
            "bundle",
            "upgrade",
            path_str(&redacted),
            "-o",
            "-",
        ],
    ] {
        let output = run(&args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        let bundle: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a bundle");
        assert_eq!(
            bundle["manifest"]["format"], "ecs-autopsy-bundle",
            "{args:?}"
        );
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("standard output"),
            "{args:?}"
        );
    }
    // diagnose --save - would mix the bundle with the report: refused before any AWS call.
    let save = run(&[
        "--no-config",
        "diagnose",
        "--cluster",
        "prod",
        "--save",
        "-",
    ]);
    assert_eq!(save.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&save.stderr)
            .contains("--save - would mix the bundle with the report")
    );
}

#[test]
fn only_a_missing_permission_gets_an_iam_hint() {
    let dir = temp_dir("iam-hint");
    let text = std::fs::read_to_string(fixture("app-missing-config/dropped-env-var/bundle.json"))
        .expect("bundle");
    let mut bundle: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let calls = bundle["calls"].as_array_mut().expect("calls");
    for (operation, code) in [
        ("DescribeTargetGroups", "ThrottlingException"),
        ("DescribeTargetHealth", "RequestTimeout"),
        ("DescribeContainerInstances", "AccessDeniedException"),
    ] {
        let service = if operation.starts_with("DescribeTarget") {
            "elbv2"
        } else {
            "ecs"
        };
        calls.push(serde_json::json!({
            "service": service, "operation": operation, "request": {},
            "error": {"code": code, "message": "it failed"},
        }));
    }
    let path = dir.join("bundle.json");
    write(&path, bundle.to_string().as_bytes());
    for format in ["text", "markdown"] {
        let output = run(&["--no-config", "--format", format, "replay", path_str(&path)]);
        let report = String::from_utf8_lossy(&output.stdout).into_owned();
        let line = |code: &str| -> String {
            report
                .lines()
                .find(|l| l.contains(code))
                .unwrap_or_else(|| panic!("{code} not in {report}"))
                .to_owned()
        };
        assert!(!line("ThrottlingException").contains("grant"), "{report}");
        assert!(!line("RequestTimeout").contains("grant"), "{report}");
        assert!(
            line("AccessDeniedException").contains("ecs:DescribeContainerInstances"),
            "{report}"
        );
    }
}

fn team_rules() -> PathBuf {
    root().join("examples/team-rules")
}

fn lint_fixture(rule: &str, case: &str) -> PathBuf {
    team_rules().join("fixtures").join(rule).join(case)
}

/// `lint` on a task definition as kept in a repository (no ARN, no revision): each mutable
/// image is a policy finding about its container, labelled with the file and its jq path;
/// exit 1. The same file in JSON names the task definition and what was checked.
#[test]
fn lint_a_task_definition_file() {
    let file = lint_fixture("mutable-image-tag", "latest-and-untagged").join("taskdef.json");
    let rules = team_rules();
    let out = run(&[
        "--no-config",
        "--rules",
        path_str(&rules),
        "lint",
        path_str(&file),
    ]);
    let stdout = check(
        &out,
        1,
        &[
            "lint · 1 task definition (checkout), 0 services",
            "task definition checkout, container \"checkout\"",
            "policy      mutable-image-tag  Container \"checkout\" runs image",
            "evidence  taskdef.json: .containerDefinitions[0].image = \"111122223333.dkr.ecr.eu-west-1.amazonaws.com/checkout:latest\"",
            "task definition checkout, container \"metrics\"",
            "3 problem(s) in 1 task definition(s)",
        ],
        &[],
    );
    assert!(
        !stdout.contains("\"envoy\""),
        "a pinned image passes:\n{stdout}"
    );

    let out = run(&[
        "--no-config",
        "--rules",
        path_str(&rules),
        "--format",
        "json",
        "lint",
        path_str(&file),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["status"], "problems");
    assert_eq!(report["tasks"], serde_json::json!([]));
    assert_eq!(
        report["checked"]["rules"],
        serde_json::json!([
            "mutable-image-tag",
            "stop-timeout-below-deregistration-delay"
        ])
    );
    let findings = report["findings"].as_array().expect("findings");
    let containers: Vec<&str> = findings
        .iter()
        .map(|f| f["container"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(containers, ["checkout", "log-router", "metrics"]);
    for finding in findings {
        assert_eq!(finding["task_definition"], "checkout");
        assert_eq!(finding["verdict"], "policy");
    }

    // Markdown, for a pull request comment.
    let out = run(&[
        "--no-config",
        "--rules",
        path_str(&rules),
        "--format",
        "markdown",
        "lint",
        path_str(&file),
    ]);
    check(
        &out,
        1,
        &[
            "## ecs-autopsy lint",
            "### task definition checkout, container \"log-router\"",
            "**Policy: `mutable-image-tag`**",
        ],
        &[],
    );
}

/// Several files are checked together: the next revision of a task definition, the service it
/// will update and the target group's attributes, saved from the AWS CLI. A folder of the same
/// files gives the same answer, and a check that passes exits 0.
#[test]
fn lint_checks_a_task_definition_against_its_service_and_target_group() {
    let rules = team_rules();
    let dir = lint_fixture(
        "stop-timeout-below-deregistration-delay",
        "fargate-default-timeout",
    )
    .join("aws-cli");
    let files: Vec<PathBuf> = [
        "taskdef.json",
        "describe-services.json",
        "describe-target-group-attributes.json",
    ]
    .iter()
    .map(|name| dir.join(name))
    .collect();
    let mut args = vec!["--no-config", "--rules", path_str(&rules), "lint"];
    args.extend(files.iter().map(|f| path_str(f)));
    let from_files = check(
        &run(&args),
        1,
        &[
            "1 task definition (web), 1 service (web)",
            "stop-timeout-below-deregistration-delay  Container \"web\" serves target group web-tg of service web, which drains for 300 s, but has no stopTimeout (the 30 s default)",
            "taskdef.json: .containerDefinitions[0].stopTimeout = (absent)",
            "describe-target-group-attributes.json: .Attributes[1].Value = \"300\"",
            "stopTimeout cannot exceed 120 s on Fargate",
        ],
        &[],
    );
    let from_folder = check(
        &run(&[
            "--no-config",
            "--rules",
            path_str(&rules),
            "lint",
            path_str(&dir),
        ]),
        1,
        &[],
        &[],
    );
    assert_eq!(from_files, from_folder);

    let passing = lint_fixture(
        "stop-timeout-below-deregistration-delay",
        "ok-timeout-covers-delay",
    )
    .join("aws-cli");
    check(
        &run(&[
            "--no-config",
            "--rules",
            path_str(&rules),
            "lint",
            path_str(&passing),
        ]),
        0,
        &["no problems: 2 rule(s) found nothing"],
        &[],
    );
}

/// What `lint` refuses: no configuration rule to run, nothing to check, a file it cannot read
/// beside the others, a configuration rule that fails to run, and --cluster without --service.
#[test]
fn lint_errors_exit_2_with_one_line_each() {
    let file = lint_fixture("mutable-image-tag", "latest-and-untagged").join("taskdef.json");
    check(
        &run(&["--no-config", "lint", path_str(&file)]),
        2,
        &[],
        &["ecs-autopsy: error: no rule checks configuration: add rules whose RULE map has `checks"],
    );

    let rules = team_rules();
    let dir = temp_dir("lint-errors");
    let tasks_only = dir.join("describe-tasks.json");
    write(&tasks_only, br#"{"tasks": [], "failures": []}"#);
    check(
        &run(&[
            "--no-config",
            "--rules",
            path_str(&rules),
            "lint",
            path_str(&tasks_only),
        ]),
        2,
        &[],
        &["nothing to check: the input holds no task definition and no service"],
    );

    let broken = dir.join("services.json");
    write(&broken, b"{\"services\": [");
    let out = run(&[
        "--no-config",
        "--rules",
        path_str(&rules),
        "lint",
        path_str(&file),
        path_str(&broken),
    ]);
    check(
        &out,
        2,
        &["3 problem(s)"],
        &["services.json", "may hold evidence could not be read"],
    );

    let rule_dir = dir.join("rules");
    std::fs::create_dir_all(&rule_dir).expect("mkdir");
    write(
        &rule_dir.join("always-fails.rhai"),
        br#"//! ## What it means
//! Fails.
//!
//! ## Why it happens
//! - Always.
//!
//! ## Example evidence
//! ```text
//! none
//! ```
//!
//! ## How to fix
//! Nothing.
//!
//! ## References
//! - <https://example.com/>

const RULE = #{
    id: "always-fails",
    title: "Fails",
    severity: "warning",
    category: "always-fails",
    benign: false,
    checks: ["task-definition"],
};

fn check(ev) {
    let n = ev.task_definitions()[99];
    []
}
"#,
    );
    let out = run(&[
        "--no-config",
        "--rules",
        path_str(&rule_dir),
        "--format",
        "json",
        "lint",
        path_str(&file),
    ]);
    check(
        &out,
        2,
        &["\"status\": \"error\""],
        &["ecs-autopsy: error: rule always-fails failed"],
    );

    check(
        &run(&["lint", "--cluster", "prod"]),
        2,
        &[],
        &["ecs-autopsy: error:", "--service"],
    );

    // An OS error is said once, not once per layer that passed it on.
    let missing = dir.join("missing.json");
    let out = run(&[
        "--no-config",
        "--rules",
        path_str(&rules),
        "lint",
        path_str(&missing),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
}

/// When the task limits leave stopped tasks out, the report says how many it covers of how
/// many, and how to see the rest; the JSON counts them.
#[test]
fn a_report_that_leaves_tasks_out_says_so() {
    let bundle = fixture("mixed/two-services/bundle.json");
    let out = run(&[
        "--no-config",
        "replay",
        "--max-tasks",
        "5",
        path_str(&bundle),
    ]);
    check(
        &out,
        1,
        &[
            "5 of 31 stopped tasks (the most recent; raise --max-tasks or widen --since for the other 26): ",
        ],
        &[],
    );
    let out = run(&[
        "--no-config",
        "--format",
        "json",
        "replay",
        "--max-tasks",
        "5",
        path_str(&bundle),
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["summary"]["stopped_tasks"], 5);
    assert_eq!(report["summary"]["left_out"], 26);
    let all = run(&[
        "--no-config",
        "--format",
        "json",
        "replay",
        path_str(&bundle),
    ]);
    let all: serde_json::Value = serde_json::from_slice(&all.stdout).expect("JSON");
    assert_eq!(all["summary"]["left_out"], 0);
}
