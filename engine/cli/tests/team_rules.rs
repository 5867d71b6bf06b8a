//! Team rules through the real binary: the configuration file, `rules new|test|check|docs|
//! definitions`, the shipped examples, and every error path a team can hit.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{TempDir, check, isolated_binary, text};

fn root() -> PathBuf {
    common::workspace_root()
}

fn fixture(case: &str) -> PathBuf {
    root().join("fixtures").join(case).join("bundle.json")
}

/// Runs the binary in `cwd`, with an empty home (no user configuration). Nothing is written
/// into `cwd` by this helper: it may be the repository's own examples.
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    static HOMES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = HOMES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let home = TempDir::new("team", &format!("home-{n}"));
    isolated_binary(&home)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("binary runs")
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    std::fs::write(path, text).expect("write");
}

fn rule_source(id: &str, benign: bool, body: &str) -> String {
    format!(
        "//! ## What it means\n//! Test.\n//!\n//! ## Why it happens\n//! Test.\n//!\n//! ## Example evidence\n//! Test.\n//!\n//! ## How to fix\n//! Test.\n//!\n//! ## References\n//! Test.\n\nconst RULE = #{{ id: \"{id}\", title: \"Test rule {id}\", severity: \"warning\", category: \"{id}\", benign: {benign} }};\n\nfn check(ev) {{\n{body}\n}}\n"
    )
}

/// A rule that fires once per stopped task whose stopCode is `EssentialContainerExited`.
const FIRES_ON_EXITED: &str = "    let f = [];\n    for t in ev.stopped_tasks() { if t.stopCode == \"EssentialContainerExited\" { f.push(finding(t, \"an essential container exited\").evidence(t.path(\"stopCode\"))); } }\n    f";

fn findings(stdout: &str) -> Vec<serde_json::Value> {
    let report: serde_json::Value = serde_json::from_str(stdout).expect("JSON report");
    report["findings"].as_array().cloned().unwrap_or_default()
}

#[test]
fn the_shipped_team_rules_pass_their_own_tests() {
    let examples = root().join("examples/team-rules");
    let stdout = check(
        &run_in(&examples, &["rules", "check"]),
        0,
        &["checked 4 rule file(s): no errors"],
        &[],
    );
    assert!(!stdout.contains(".rhai:"), "{stdout}");
    // From the directory itself the configuration file names the rules; from elsewhere, the
    // directory argument does.
    check(
        &run_in(&examples, &["rules", "test"]),
        0,
        &["16 case(s)", "16 passed, 0 failed"],
        &[],
    );
    let elsewhere = TempDir::new("team", "elsewhere");
    check(
        &run_in(
            &elsewhere,
            &["rules", "test", &examples.display().to_string()],
        ),
        0,
        &["16 passed, 0 failed"],
        &[],
    );
}

#[test]
fn the_configuration_adds_disables_and_overrides_rules() {
    let dir = TempDir::new("team", "config");
    write(
        &dir.join("team/essential-exit.rhai"),
        &rule_source("essential-exit", false, FIRES_ON_EXITED),
    );
    write(
        &dir.join("ecs-autopsy.toml"),
        "[rules]\ndirs = [\"team\"]\ndisable = [\"graceful-stop\"]\nseverity = { app-missing-config = \"warning\" }\n",
    );
    let nested = dir.join("some/where/deeper");
    std::fs::create_dir_all(&nested).expect("dir");
    let bundle = fixture("app-missing-config/dropped-env-var");
    let bundle = bundle.display().to_string();

    // Found upward from a nested directory.
    let stdout = check(
        &run_in(&nested, &["--format", "json", "replay", &bundle]),
        1,
        &["\"disabled_rules\": [\n    \"graceful-stop\"\n  ]"],
        &[],
    );
    let found = findings(&stdout);
    let rules: Vec<&str> = found.iter().filter_map(|f| f["rule"].as_str()).collect();
    assert!(rules.contains(&"essential-exit"), "{rules:?}");
    let missing_config = found
        .iter()
        .find(|f| f["rule"] == "app-missing-config")
        .expect("built-in still runs");
    assert_eq!(missing_config["severity"], "warning");
    check(
        &run_in(&nested, &["replay", &bundle]),
        1,
        &["note: rules disabled by the configuration: graceful-stop"],
        &[],
    );
    let list = check(&run_in(&nested, &["rules", "list"]), 0, &[], &[]);
    assert!(
        !list.contains("graceful-stop  ") && list.contains("disabled by"),
        "{list}"
    );

    // --no-config ignores it; --config FILE picks one explicitly.
    let stdout = check(
        &run_in(
            &nested,
            &["--no-config", "--format", "json", "replay", &bundle],
        ),
        1,
        &[],
        &[],
    );
    assert!(
        findings(&stdout)
            .iter()
            .all(|f| f["rule"] != "essential-exit")
    );
    let elsewhere = TempDir::new("team", "config-elsewhere");
    let config = dir.join("ecs-autopsy.toml").display().to_string();
    let stdout = check(
        &run_in(
            &elsewhere,
            &["--config", &config, "--format", "json", "replay", &bundle],
        ),
        1,
        &[],
        &[],
    );
    assert!(
        findings(&stdout)
            .iter()
            .any(|f| f["rule"] == "essential-exit")
    );

    // The user's configuration directory is the fallback.
    let user = TempDir::new("team", "user-config");
    write(
        &user.join("ecs-autopsy/ecs-autopsy.toml"),
        "[rules]\ndisable = [\"app-missing-config\"]\n",
    );
    let output = isolated_binary(&user)
        .env("XDG_CONFIG_HOME", &*user)
        .args(["--format", "json", "replay", &bundle])
        .current_dir(&*elsewhere)
        .output()
        .expect("runs");
    let stdout = check(&output, 1, &[], &[]);
    assert!(
        findings(&stdout)
            .iter()
            .all(|f| f["rule"] != "app-missing-config")
    );
}

#[test]
fn a_broken_configuration_is_one_line_naming_the_file() {
    let dir = TempDir::new("team", "bad-config");
    let bundle = fixture("app-missing-config/dropped-env-var")
        .display()
        .to_string();
    for (config, message) in [
        (
            "[rules]\ndirs = [\"team\"]\ndisabled = [\"x\"]\n",
            "ecs-autopsy.toml:3:1: unknown field `disabled`",
        ),
        ("[limits]\ntimeout = \"forever\"\n", "limits.timeout"),
        ("[rules\n", "ecs-autopsy.toml:1:"),
    ] {
        write(&dir.join("ecs-autopsy.toml"), config);
        let output = run_in(&dir, &["replay", &bundle]);
        check(&output, 2, &[], &[message]);
        assert_eq!(text_lines(&output.stderr), 1, "{}", text(&output.stderr));
    }

    // Unknown rule ids are errors (exit 2) with a suggestion, but the report is still printed.
    write(
        &dir.join("ecs-autopsy.toml"),
        "[rules]\ndisable = [\"graceful-stp\"]\nseverity = { no-such-rule = \"info\" }\n",
    );
    check(
        &run_in(&dir, &["replay", &bundle]),
        2,
        &["root cause  app-missing-config"],
        &[
            "rules.disable: no rule `graceful-stp`; did you mean `graceful-stop`?",
            "rules.severity: no rule `no-such-rule`",
        ],
    );
    // A missing rule directory is named too.
    write(
        &dir.join("ecs-autopsy.toml"),
        "[rules]\ndirs = [\"nowhere\"]\n",
    );
    check(
        &run_in(&dir, &["replay", &bundle]),
        2,
        &["root cause  app-missing-config"],
        &["nowhere: cannot read rule directory"],
    );
    // --config naming a file that does not exist.
    check(
        &run_in(&dir, &["--config", "missing.toml", "rules", "list"]),
        2,
        &[],
        &["missing.toml: cannot read"],
    );
}

fn text_lines(bytes: &[u8]) -> usize {
    text(bytes).lines().filter(|l| !l.trim().is_empty()).count()
}

#[test]
fn configured_limits_stop_a_runaway_rule_and_leave_the_others_alone() {
    let dir = TempDir::new("team", "limits");
    let bundle = fixture("app-missing-config/dropped-env-var")
        .display()
        .to_string();
    let baseline = check(
        &run_in(&dir, &["--format", "json", "replay", &bundle]),
        1,
        &[],
        &[],
    );
    write(
        &dir.join("team/spins.rhai"),
        &rule_source("spins", false, "    let n = 0;\n    loop { n += 1; }"),
    );
    write(
        &dir.join("team/sleeps.rhai"),
        &rule_source(
            "sleeps",
            false,
            "    let s = \"\";\n    for i in 0..100000000 { s = s; }\n    []",
        ),
    );
    write(
        &dir.join("ecs-autopsy.toml"),
        // A wall-clock limit no machine reaches before two hundred thousand operations, so the
        // operation budget is what stops both rules, however fast the machine.
        "[rules]\ndirs = [\"team\"]\n\n[limits]\nmax_operations = 200000\ntimeout = \"60s\"\n",
    );
    let output = run_in(&dir, &["--format", "json", "replay", &bundle]);
    let stdout = check(
        &output,
        1,
        &[],
        &["rule spins failed", "rule sleeps failed"],
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let errors = report["rule_errors"].as_array().expect("rule errors");
    assert_eq!(errors.len(), 2, "{errors:#?}");
    for error in errors {
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("operation budget")),
            "{error}"
        );
    }
    let baseline: serde_json::Value = serde_json::from_str(&baseline).expect("JSON");
    assert_eq!(
        report["findings"], baseline["findings"],
        "the other rules' findings changed"
    );

    // The wall-clock budget stops a rule the operation budget would let run for days. The
    // built-in rules but the one this bundle needs are disabled, and the limit is far above what
    // that one takes, so the clock stops the runaway only.
    let engine = engine::runtime::new_engine(&engine::runtime::Limits::standard());
    let others: Vec<String> = engine::rule::builtin_rules(&engine)
        .0
        .into_iter()
        .map(|r| r.meta.id)
        .filter(|id| id != "app-missing-config")
        .map(|id| format!("{id:?}"))
        .collect();
    write(
        &dir.join("ecs-autopsy.toml"),
        &format!(
            "[rules]\ndirs = [\"team\"]\ndisable = [{}]\n\n[limits]\nmax_operations = 1000000000000\ntimeout = \"2s\"\n",
            others.join(", ")
        ),
    );
    std::fs::remove_file(dir.join("team/sleeps.rhai")).expect("remove");
    check(
        &run_in(&dir, &["replay", &bundle]),
        1,
        &["root cause  app-missing-config"],
        &["rule spins failed", "wall-clock time limit exceeded"],
    );
}

#[test]
fn rules_new_scaffolds_once_and_refuses_bad_ids() {
    let dir = TempDir::new("team", "new");
    check(
        &run_in(&dir, &["rules", "new", "our-policy", "--dir", "team"]),
        0,
        &[],
        &[
            "created team/our-policy.rhai",
            "created team/fixtures/our-policy/positive/case.toml",
            "created team/fixtures/our-policy/ok-near-miss/case.toml",
        ],
    );
    check(
        &run_in(&dir, &["rules", "check", "team"]),
        0,
        &["no errors"],
        &[],
    );
    check(
        &run_in(&dir, &["rules", "new", "our-policy", "--dir", "team"]),
        2,
        &[],
        &["our-policy.rhai already exists; nothing written"],
    );
    check(
        &run_in(&dir, &["rules", "new", "Our_Policy", "--dir", "team"]),
        2,
        &[],
        &["`Our_Policy` is not a rule id"],
    );
    check(
        &run_in(
            &dir,
            &["rules", "new", "oom-container-limit", "--dir", "team"],
        ),
        0,
        &[],
        &["a built-in rule is called `oom-container-limit`"],
    );
    // Without --dir, the first configured rule directory.
    write(
        &dir.join("ecs-autopsy.toml"),
        "[rules]\ndirs = [\"configured\"]\n",
    );
    check(
        &run_in(&dir, &["rules", "new", "second"]),
        0,
        &[],
        &["created configured/second.rhai"],
    );
}

#[test]
fn rules_test_reports_every_way_a_case_can_fail() {
    let dir = TempDir::new("team", "test");
    let team = dir.join("team");
    write(
        &team.join("essential-exit.rhai"),
        &rule_source("essential-exit", false, FIRES_ON_EXITED),
    );
    let case = |name: &str, toml: &str, bundle: Option<&str>| {
        let case = team.join("fixtures").join(name);
        write(&case.join("case.toml"), toml);
        if let Some(bundle) = bundle {
            std::fs::copy(fixture(bundle), case.join("bundle.json")).expect("copy");
        }
    };
    case(
        "fires",
        "description = \"d\"\nexpect = [\"essential-exit\", \"app-missing-config\"]\n",
        Some("app-missing-config/dropped-env-var"),
    );
    check(
        &run_in(&dir, &["rules", "test", "--update", "team"]),
        0,
        &[
            "recorded expected.txt (- old, + new):",
            "+ essential-exit warning [",
            "1 passed, 0 failed, 1 case(s) updated",
        ],
        &[],
    );
    check(
        &run_in(&dir, &["rules", "test", "team"]),
        0,
        &["ok    team/fixtures/fires", "1 passed, 0 failed"],
        &[],
    );

    // A changed finding: a readable diff, exit 1; --update shows it and accepts it.
    let source = rule_source("essential-exit", false, FIRES_ON_EXITED).replace(
        "an essential container exited",
        "an essential container stopped",
    );
    write(&team.join("essential-exit.rhai"), &source);
    check(
        &run_in(&dir, &["rules", "test", "team"]),
        1,
        &[
            "FAIL  team/fixtures/fires",
            "findings differ from expected.txt (- expected, + actual):",
            "-   an essential container exited",
            "+   an essential container stopped",
            "0 passed, 1 failed",
        ],
        &[],
    );
    // The same as JSON, for scripts (the GitHub Action's annotations).
    let json: serde_json::Value = serde_json::from_str(&check(
        &run_in(&dir, &["--format", "json", "rules", "test", "team"]),
        1,
        &[],
        &[],
    ))
    .expect("rules test --format json is JSON");
    assert_eq!(json["schema"], "ecs-autopsy-rules-test");
    assert_eq!(json["schema_version"], 1);
    assert_eq!(
        (json["passed"].as_u64(), json["failed"].as_u64()),
        (Some(0), Some(1))
    );
    let tested = &json["cases"][0];
    assert_eq!(tested["dir"], "team/fixtures/fires");
    assert_eq!(tested["status"], "failed");
    let failure = tested["failures"][0].as_str().expect("a failure");
    assert!(
        failure.contains("findings differ from expected.txt")
            && failure.contains("+   an essential container stopped"),
        "{failure}"
    );
    check(
        &run_in(&dir, &["rules", "test", "--update", "team"]),
        0,
        &[
            "updated expected.txt (- old, + new):",
            "+   an essential container stopped",
        ],
        &[],
    );
    check(
        &run_in(&dir, &["rules", "test", "team"]),
        0,
        &["1 passed"],
        &[],
    );

    // Every other way a case can fail, each named, and the other cases still run.
    case(
        "near-miss-fires",
        "description = \"d\"\nexpect = [\"app-missing-config\"]\nok = [\"essential-exit\"]\n",
        Some("app-missing-config/dropped-env-var"),
    );
    case("no-bundle", "description = \"d\"\nexpect = []\n", None);
    case(
        "bad-toml",
        "description = \"d\"\nexpected = [\"x\"]\n",
        Some("app-missing-config/dropped-env-var"),
    );
    case(
        "typo-in-case",
        "description = \"d\"\nexpect = [\"essential-exit\", \"app-missing-config\"]\nok = [\"essential-exiit\"]\n",
        Some("app-missing-config/dropped-env-var"),
    );
    case(
        "bundle-elsewhere",
        &format!(
            "description = \"d\"\nbundle = {:?}\nexpect = [\"graceful-stop\"]\n",
            fixture("graceful-stop/scale-in-exit-zero")
                .display()
                .to_string()
        ),
        None,
    );
    write(
        &team.join("fixtures/bundle-elsewhere/expected.txt"),
        "# stale\n",
    );
    let stdout = check(
        &run_in(&dir, &["rules", "test", "team"]),
        1,
        &[
            "ok    team/fixtures/fires",
            "`essential-exit` must not fire (near miss)",
            "no-bundle: no bundle: put the incident's bundle here as bundle.json",
            "bad-toml/case.toml:2:1: unknown field `expected`",
            "case.toml names `essential-exiit`, which is not a loaded rule; did you mean `essential-exit`?",
            "FAIL  team/fixtures/bundle-elsewhere",
            "- # stale",
            &format!(
                "6 case(s), {} rule(s): 1 passed, 5 failed",
                builtin_rules() + 1
            ),
        ],
        &[],
    );
    assert!(
        !stdout.contains("near-miss-fires\n      no expected.txt yet;"),
        "the snapshot dump is held back while the expectations fail:\n{stdout}"
    );

    // No cases at all, or a rule that does not load: exit 2.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    check(
        &run_in(&dir, &["rules", "test", "empty"]),
        2,
        &[],
        &["no case folders (with case.toml) under empty"],
    );
    check(
        &run_in(&dir, &["rules", "test"]),
        2,
        &[],
        &["nothing to test: name a directory"],
    );
    write(&team.join("broken.rhai"), "fn check(ev) { [] ");
    check(
        &run_in(&dir, &["rules", "test", "team"]),
        2,
        &["ok    team/fixtures/fires"],
        &["broken.rhai:1:"],
    );
}

#[test]
fn rules_check_lists_every_error_with_file_line_and_column() {
    let dir = TempDir::new("team", "check");
    let team = dir.join("team");
    write(
        &team.join("good.rhai"),
        &rule_source(
            "good",
            false,
            "    ev.stopped_tasks().map(|t| finding(t, \"x\"))",
        ),
    );
    write(
        &team.join("typos.rhai"),
        &rule_source(
            "typos",
            false,
            "    let f = [];\n    for t in ev.stoped_tasks() { f.push(finding(t, t.stopedReason)); }\n    f.retain(|x| helth(x));\n    f",
        ),
    );
    write(
        &team.join("bad-meta.rhai"),
        "const RULE = #{ id: \"bad-meta\", title: \"t\", severity: \"fatal\", category: \"bad-meta\", benign: false };\nfn check(ev) { [] }\n",
    );
    write(
        &team.join("wrong-name.rhai"),
        &rule_source("other-name", false, "    []"),
    );
    write(
        &team.join("syntax.rhai"),
        &rule_source("syntax", false, "    let x = ;\n    []"),
    );
    write(
        &team.join("top-level.rhai"),
        &format!(
            "{}print(\"hi\");\nlet y = 1;\n",
            rule_source("top-level", false, "    []")
        ),
    );
    let stdout = check(
        &run_in(&dir, &["rules", "check", "team"]),
        1,
        &[
            "team/typos.rhai:20:17: unknown function `stoped_tasks`; did you mean `stopped_tasks`?",
            "team/typos.rhai:21:18: unknown function `helth`",
            "team/bad-meta.rhai:1:1: invalid `RULE` metadata: unknown variant `fatal`",
            "team/bad-meta.rhai:1:1: docs: doc headings must be exactly",
            "team/wrong-name.rhai:16:1: invalid `RULE` metadata: rule id `other-name` does not match the file name",
            "team/syntax.rhai:19:13:",
            "team/top-level.rhai:21:1: only `const` and `fn` items are allowed",
            "team/top-level.rhai:22:1: only `const` and `fn` items are allowed",
            "checked 6 rule file(s): 8 errors",
        ],
        &[],
    );
    assert!(!stdout.contains("good.rhai"), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&check(
        &run_in(&dir, &["--format", "json", "rules", "check", "team"]),
        1,
        &[],
        &[],
    ))
    .expect("rules check --format json is JSON");
    assert_eq!(json["schema"], "ecs-autopsy-rules-check");
    assert_eq!(json["files"], 6);
    let errors = json["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 8);
    let typo = errors
        .iter()
        .find(|e| e["file"] == "team/typos.rhai" && e["line"] == 20)
        .expect("the typo, with its position");
    assert_eq!(typo["column"], 17);
    assert_eq!(
        typo["message"],
        "unknown function `stoped_tasks`; did you mean `stopped_tasks`?"
    );
    assert_eq!(
        typo["text"],
        "team/typos.rhai:20:17: unknown function `stoped_tasks`; did you mean `stopped_tasks`?"
    );

    // The same id in two directories would clash when both are loaded.
    write(
        &dir.join("other/good.rhai"),
        &rule_source("good", false, "    []"),
    );
    check(
        &run_in(&dir, &["rules", "check", "team", "other"]),
        1,
        &["duplicate rule id `good` in team/good.rhai and other/good.rhai"],
        &[],
    );
    check(
        &run_in(&dir, &["rules", "check", "missing-dir"]),
        2,
        &["missing-dir: cannot read rule directory"],
        &[],
    );
    // With nothing configured, the built-in rules are checked.
    check(
        &run_in(&dir, &["rules", "check"]),
        0,
        &[&format!(
            "checked {} rule file(s): no errors",
            builtin_rules()
        )],
        &[],
    );
}

#[test]
fn rules_docs_and_definitions_include_team_rules() {
    let dir = TempDir::new("team", "docs");
    write(
        &dir.join("team/essential-exit.rhai"),
        &rule_source("essential-exit", false, FIRES_ON_EXITED),
    );
    check(
        &run_in(&dir, &["--rules", "team", "rules", "docs"]),
        0,
        &[
            "# Rules",
            "| [`essential-exit`](#essential-exit) | Test rule essential-exit | warning | `team/essential-exit.rhai` |",
            "<a id=\"essential-exit\"></a>",
            "## essential-exit: Test rule essential-exit",
            "### What it means",
            "## oom-container-limit:",
        ],
        &[],
    );
    check(
        &run_in(
            &dir,
            &["--rules", "team", "rules", "docs", "--output", "book"],
        ),
        0,
        &[],
        &[&format!("wrote {} file(s) to book", builtin_rules() + 2)],
    );
    let index = std::fs::read_to_string(dir.join("book/README.md")).expect("index");
    assert!(
        index.contains("[`essential-exit`](essential-exit.md)"),
        "{index}"
    );
    assert!(dir.join("book/essential-exit.md").is_file());

    check(
        &run_in(&dir, &["rules", "definitions", "--output", "defs"]),
        0,
        &[],
        &["wrote 9 definition file(s) to defs"],
    );
    // One file per rule library, with no closure in it.
    let health = std::fs::read_to_string(dir.join("defs/health.d.rhai")).expect("defs");
    assert!(health.starts_with("module health;"), "{health}");
    assert!(
        health.contains("fn slow_start(ev: ?, task: ?, hc: ?)"),
        "{health}"
    );
    assert!(!health.contains("anon$"), "{health}");
    let defs = std::fs::read_to_string(dir.join("defs/__static__.d.rhai")).expect("defs");
    for needle in [
        "fn grep_logs(task: Task, pattern: string) -> array;",
        "/// The task's log lines matching a regular expression",
        "fn get stoppedReason(task: Task) -> string;",
        "fn finding(subject: Container, message: string) -> Finding;",
    ] {
        assert!(defs.contains(needle), "definitions lack {needle:?}");
    }
}

#[test]
fn team_rules_call_the_rule_libraries_like_built_in_rules() {
    let dir = TempDir::new("team", "libraries");
    let bundle = fixture("essential-sidecar-exited/firelens-log-router-exited")
        .display()
        .to_string();
    write(
        &dir.join("team/names-the-app.rhai"),
        &rule_source(
            "names-the-app",
            false,
            "    let f = [];\n    for t in ev.stopped_tasks() {\n        let app = shutdown::app_container(t);\n        let sidecars = [];\n        for c in t.containers {\n            if shutdown::is_sidecar(c) { sidecars.push(`${c.name} (${shutdown::sidecar_kind(t, c)})`); }\n        }\n        f.push(finding(t, `app ${app.name}; sidecars: ${text::join(sidecars, \", \")}`));\n    }\n    f",
        ),
    );
    check(
        &run_in(&dir, &["rules", "check", "team"]),
        0,
        &["checked 1 rule file(s): no errors"],
        &[],
    );
    let stdout = check(
        &run_in(
            &dir,
            &["--rules", "team", "--format", "json", "replay", &bundle],
        ),
        1,
        &[],
        &[],
    );
    let messages: Vec<String> = findings(&stdout)
        .iter()
        .filter(|f| f["rule"] == "names-the-app")
        .filter_map(|f| f["message"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        messages,
        ["app orders; sidecars: log_router (FireLens log router)"]
    );
}

/// The built-in fixtures are cases like a team's: `rules test` runs them with the same
/// `case.toml` semantics, comparing their report snapshots instead of an `expected.txt`.
#[test]
fn rules_test_runs_the_built_in_fixtures_and_compares_report_snapshots() {
    let root = common::workspace_root();
    let stdout = check(&run_in(&root, &["rules", "test", "fixtures"]), 0, &[], &[]);
    assert!(
        stdout.contains("ok    fixtures/app-missing-config/dropped-env-var"),
        "{stdout}"
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");

    // A team case may keep the report snapshots too: a changed report fails the case with a
    // diff, and --update rewrites the report under the snapshot's header.
    let dir = TempDir::new("team", "report-snapshots");
    let case = dir.join("team/fixtures/dropped");
    std::fs::create_dir_all(&case).expect("dir");
    let fixture = root.join("fixtures/app-missing-config/dropped-env-var");
    for file in ["bundle.json", "case.toml", "report.txt.snap"] {
        std::fs::copy(fixture.join(file), case.join(file)).expect("copy");
    }
    let snapshot = case.join("report.txt.snap");
    let original = std::fs::read_to_string(&snapshot).expect("snapshot");
    std::fs::write(
        &snapshot,
        original.replace(
            "root cause  app-missing-config",
            "root cause  something-else",
        ),
    )
    .expect("write");
    let stdout = check(&run_in(&dir, &["rules", "test", "team"]), 1, &[], &[]);
    assert!(
        stdout.contains("the report differs from report.txt.snap (- expected, + actual)")
            && stdout.contains("-   root cause  something-else")
            && stdout.contains("+   root cause  app-missing-config"),
        "{stdout}"
    );
    check(
        &run_in(&dir, &["rules", "test", "--update", "team"]),
        0,
        &[
            "updated report.txt.snap (- old, + new)",
            "1 case(s) updated",
        ],
        &[],
    );
    assert_eq!(
        std::fs::read_to_string(&snapshot).expect("snapshot"),
        original
    );
}

/// How many rules ship built in; the counts in the CLI's summaries follow it.
fn builtin_rules() -> usize {
    engine::rule::RuleSet::builtin(engine::runtime::Limits::standard())
        .rules
        .len()
}

#[test]
fn contributing_and_policy_rules_are_reported_as_what_they_are() {
    let root = common::workspace_root();
    let examples = root.join("examples/team-rules");
    let json = |fixture: &str, text_too: bool| -> (serde_json::Value, String) {
        let bundle = examples.join("fixtures").join(fixture).join("bundle.json");
        let bundle = bundle.to_str().expect("path");
        let rules = examples.to_str().expect("path");
        let output = run_in(
            &root,
            &[
                "--no-config",
                "--rules",
                rules,
                "--format",
                "json",
                "replay",
                bundle,
            ],
        );
        assert_eq!(output.status.code(), Some(1));
        let report = serde_json::from_slice(&output.stdout).expect("JSON");
        let text = if text_too {
            let output = run_in(&root, &["--no-config", "--rules", rules, "replay", bundle]);
            String::from_utf8_lossy(&output.stdout).into_owned()
        } else {
            String::new()
        };
        (report, text)
    };
    let finding = |report: &serde_json::Value, rule: &str| -> serde_json::Value {
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["rule"] == rule)
            .cloned()
            .unwrap_or_else(|| panic!("{rule} did not fire"))
    };

    // A contributing rule beside a root cause: neither a competing root cause nor a symptom.
    let (report, text) = json(
        "java-max-ram-percentage/oom-killed-tool-options-without-flag",
        true,
    );
    let heap = finding(&report, "java-max-ram-percentage");
    assert_eq!(heap["verdict"], "contributing");
    assert_eq!(heap["contributes_to"], "oom-container-limit");
    assert!(heap["symptom_of"].is_null());
    assert_eq!(
        finding(&report, "oom-container-limit")["verdict"],
        "root-cause"
    );
    assert!(
        text.contains("  contributing  java-max-ram-percentage  ")
            && text.contains("(contributing to oom-container-limit)"),
        "{text}"
    );

    // A policy rule: a breach, whatever else happened (here a deliberate stop).
    let (report, _) = json("drain-stop-timeout/deployment-kill-default-timeout", false);
    let drain = finding(&report, "drain-stop-timeout");
    assert_eq!(drain["verdict"], "policy");
    assert!(drain.get("contributes_to").is_none());
    assert_eq!(report["status"], "problems");
}

/// A lint case naming a rule that diagnoses stopped tasks, or a diagnosis case naming a
/// configuration check, could never fail: `rules test` says so instead of passing it.
#[test]
fn a_case_naming_a_rule_that_never_runs_on_it_fails() {
    let dir = TempDir::new("team", "lint-case-kinds");
    let examples = root().join("examples/team-rules");
    let taskdef = examples.join("fixtures/mutable-image-tag/latest-and-untagged/taskdef.json");
    std::fs::create_dir_all(dir.join("cases/lint-names-a-task-rule")).expect("dir");
    std::fs::copy(
        &taskdef,
        dir.join("cases/lint-names-a-task-rule/taskdef.json"),
    )
    .expect("copy");
    write(
        &dir.join("cases/lint-names-a-task-rule/case.toml"),
        "description = \"x\"\nbundle = \"taskdef.json\"\nlint = true\nexpect = [\"mutable-image-tag\"]\nok = [\"oom-container-limit\"]\n",
    );
    let bundle = examples.join("fixtures/drain-stop-timeout/ok-no-load-balancer/bundle.json");
    std::fs::create_dir_all(dir.join("cases/diagnosis-names-a-lint-rule")).expect("dir");
    std::fs::copy(
        &bundle,
        dir.join("cases/diagnosis-names-a-lint-rule/bundle.json"),
    )
    .expect("copy");
    write(
        &dir.join("cases/diagnosis-names-a-lint-rule/case.toml"),
        "description = \"x\"\nroot_cause = \"graceful-stop\"\nok = [\"mutable-image-tag\"]\n",
    );
    let rules = examples.display().to_string();
    let cases = dir.join("cases").display().to_string();
    let out = run_in(
        &dir,
        &["--no-config", "--rules", &rules, "rules", "test", &cases],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("`oom-container-limit`, which diagnoses stopped tasks, but the case is a configuration check (lint = true)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("`mutable-image-tag`, a configuration check, which runs only in cases with `lint = true`"),
        "{stdout}"
    );
}
