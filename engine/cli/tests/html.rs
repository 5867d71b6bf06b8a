//! `--format html` in a real browser: headless Chromium (Debian's, which `cargo xtask test`
//! installs) opens the report from a file, with its network log on. The page must draw one
//! lane per stopped task, open a task's evidence, and fetch nothing.
//!
//! The screenshot is kept in `target/html-report/`; `ECS_AUTOPSY_BLESS_SCREENSHOT=1` also
//! copies it to `docs/images/html-report.png`, the picture the README shows.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{TempDir, check, text};

/// The incident of the README: 31 stopped tasks, two services, several causes.
const INCIDENT: &str = "fixtures/mixed/two-services/bundle.json";

fn root() -> PathBuf {
    common::workspace_root()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecs-autopsy"))
        .args(args)
        .current_dir(root())
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", root().join("target/no-user-config"))
        .output()
        .expect("binary runs")
}

/// The browser: `ECS_AUTOPSY_CHROMIUM` (set by `cargo xtask test`), else Debian's.
fn chromium() -> PathBuf {
    let path = std::env::var_os("ECS_AUTOPSY_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.exists(),
        "no Chromium at {}: run `cargo xtask chromium`, or the whole suite with `cargo xtask test`",
        path.display()
    );
    path
}

/// Runs headless Chromium on `page` with `extra` flags; returns stdout and the network log.
fn browse(dir: &Path, page: &Path, fragment: &str, extra: &[&str]) -> (String, String) {
    let profile = dir.join(format!("profile-{}", extra.len()));
    let net_log = dir.join(format!("net-{}.json", extra.len()));
    let url = format!("file://{}{fragment}", page.display());
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            // Scripts run to completion before the DOM or the picture is taken, however
            // slow the machine: virtual time waits for them, it does not race them.
            "--virtual-time-budget=10000",
            // Whatever asks for a host name gets none: nothing leaves the machine.
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .args(extra)
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        text(&output.stderr)
    );
    let log = std::fs::read_to_string(&net_log).unwrap_or_default();
    (text(&output.stdout), log)
}

/// The URLs the page itself asked for, from a Chromium network log: every request job whose
/// initiator is the page (`"null"` for a file:// page) rather than the browser's own
/// background services (`"not an origin"`), which no flag silences entirely and which
/// `--host-resolver-rules` keeps on this machine), except the page's own file:// URL.
fn fetched_urls(net_log: &str) -> Vec<String> {
    // Chromium leaves the log unterminated when it is still writing at exit.
    let log: serde_json::Value = serde_json::from_str(net_log)
        .or_else(|_| {
            serde_json::from_str(&format!("{}]}}", net_log.trim_end().trim_end_matches(',')))
        })
        .expect("Chromium's network log is JSON");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    assert!(start_job.is_number(), "the log names its event types");
    log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| event["type"] == start_job)
        .filter(|event| event["params"]["initiator"] != "not an origin")
        .filter_map(|event| event["params"]["url"].as_str())
        .filter(|url| !url.starts_with("file://"))
        .map(str::to_owned)
        .collect()
}

fn report_json() -> serde_json::Value {
    let output = run(&["--no-config", "--format", "json", "replay", INCIDENT]);
    serde_json::from_str(&check(&output, 1, &[], &[])).expect("JSON report")
}

fn write_page(dir: &Path) -> PathBuf {
    let output = run(&["--no-config", "--format", "html", "replay", INCIDENT]);
    let html = check(&output, 1, &["<!DOCTYPE html>"], &[]);
    let page = dir.join("report.html");
    std::fs::write(&page, &html).expect("write page");
    page
}

#[test]
fn html_report_is_one_self_contained_file() {
    let output = run(&["--no-config", "--format", "html", "replay", INCIDENT]);
    let html = check(&output, 1, &[], &[]);
    // The page without its data (log lines may say anything, `<img src=…>` included).
    let (before, after) = html
        .split_once("id=\"autopsy-data\">")
        .expect("the data element");
    let after = after.split_once("</script>").map_or("", |(_, rest)| rest);
    let lower = format!("{before}{after}").to_ascii_lowercase();
    assert!(
        lower.contains("http-equiv=\"content-security-policy\"")
            && lower.contains("default-src 'none'"),
        "the page forbids every fetch itself"
    );
    for external in ["<link", " src=", "@import", "url("] {
        assert!(!lower.contains(external), "the page refers to {external}");
    }
    // The same bundle gives the same bytes.
    let again = run(&["--no-config", "--format", "html", "replay", INCIDENT]);
    assert_eq!(output.stdout, again.stdout, "byte for byte repeatable");
    // The summary of the text report opens it.
    let brief = run(&["--no-config", "replay", "--brief", INCIDENT]);
    let first = text(&brief.stdout);
    let first = first.lines().next().expect("a brief line");
    assert!(
        html.contains(
            &first
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        ),
        "{first}"
    );
    // Data strings never close the data's <script> element.
    let data = html
        .split("id=\"autopsy-data\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("the data element");
    let parsed: serde_json::Value = serde_json::from_str(data).expect("the data is JSON");
    assert_eq!(
        parsed["tasks"].as_array().map(Vec::len),
        report_json()["tasks"].as_array().map(Vec::len)
    );
}

#[test]
fn html_is_only_for_reports() {
    let output = run(&["--format", "html", "rules", "list"]);
    check(
        &output,
        2,
        &[],
        &["--format html is for diagnose and replay"],
    );
    let output = run(&["--format", "html", "replay", "--brief", INCIDENT]);
    check(
        &output,
        2,
        &[],
        &["--brief is for the text and Markdown reports"],
    );
}

#[test]
fn chromium_draws_one_lane_per_task_and_fetches_nothing() {
    let dir = TempDir::new("html", "lanes");
    let page = write_page(&dir);
    let report = report_json();
    let tasks: Vec<&str> = report["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|task| task["task_id"].as_str())
        .collect();
    assert!(tasks.len() > 20, "the incident has {} tasks", tasks.len());

    let (dom, net_log) = browse(&dir, &page, "", &["--dump-dom"]);
    assert!(
        dom.contains("data-rendered=\"true\""),
        "{}",
        &dom[..dom.len().min(2000)]
    );
    assert!(
        dom.contains(&format!("data-lanes=\"{}\"", tasks.len())),
        "one lane per task"
    );
    assert_eq!(dom.matches("class=\"lane\"").count(), tasks.len());
    for id in &tasks {
        assert_eq!(
            dom.matches(&format!("data-task-id=\"{id}\"")).count(),
            1,
            "one lane for task {id}"
        );
    }
    assert!(
        net_log.contains("\"constants\""),
        "Chromium wrote its network log"
    );
    assert_eq!(
        fetched_urls(&net_log),
        Vec::<String>::new(),
        "nothing fetched"
    );
}

#[test]
fn a_task_link_opens_its_evidence_and_log_lines() {
    let dir = TempDir::new("html", "detail");
    let page = write_page(&dir);
    let report = report_json();
    // A diagnosed task with evidence and log lines.
    let task = report["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|task| {
            task["verdict"] == "diagnosed"
                && task["timeline"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|e| e["kind"] == "log"))
        })
        .expect("a diagnosed task with log lines");
    let id = task["task_id"].as_str().expect("task id");
    let rule = task["root_cause"].as_str().expect("root cause");
    let finding = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == rule && f["task_arn"] == task["task_arn"])
        .expect("its finding");
    let path = finding["evidence"][0]["path"]
        .as_str()
        .expect("evidence path");
    let line = task["timeline"]
        .as_array()
        .and_then(|entries| entries.iter().rev().find(|e| e["kind"] == "log"))
        .and_then(|e| e["text"].as_str())
        .expect("a log line");

    let (dom, _) = browse(&dir, &page, &format!("#task={id}"), &["--dump-dom"]);
    let detail = dom.split("id=\"detail\"").nth(1).expect("a detail panel");
    for needle in [id, rule, path] {
        assert!(detail.contains(needle), "the detail panel shows {needle}");
    }
    let escaped = line
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    assert!(detail.contains(&escaped), "the detail panel shows {line}");
}

#[test]
fn the_screenshot_shows_the_lanes_drawn() {
    let dir = TempDir::new("html", "screenshot");
    let page = write_page(&dir);
    let shot = dir.join("screenshot.png");
    let (_, net_log) = browse(
        &dir,
        &page,
        "",
        &[
            "--window-size=1400,1800",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    assert_eq!(
        fetched_urls(&net_log),
        Vec::<String>::new(),
        "nothing fetched"
    );

    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).expect("chromium wrote the screenshot"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    let channels = info.line_size / usize::try_from(info.width).expect("width");
    assert!(channels >= 3, "RGB(A) screenshot");

    // The colour of each cause, from the page's data.
    let html = std::fs::read_to_string(&page).expect("page");
    let data = html
        .split("id=\"autopsy-data\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("the data element");
    let data: serde_json::Value = serde_json::from_str(data).expect("data");
    let colours: Vec<[u8; 3]> = data["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .filter_map(|c| c["color"].as_str())
        .filter_map(|hex| {
            let hex = hex.strip_prefix('#')?;
            let byte = |at: usize| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok();
            Some([byte(0)?, byte(2)?, byte(4)?])
        })
        .collect();
    let lanes_with_phases = data["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter(|t| t["phases"].as_array().is_some_and(|p| !p.is_empty()))
        .count();

    // Rows of the picture holding a run of cause-coloured pixels at least 6 wide: each drawn
    // lane makes a band of such rows, and so does each legend swatch.
    let width = usize::try_from(info.width).expect("width");
    let coloured_row = |y: usize| {
        let row = &pixels[y * info.line_size..(y + 1) * info.line_size];
        let mut run = 0;
        for x in 0..width {
            let p = &row[x * channels..x * channels + 3];
            let hit = colours
                .iter()
                .any(|c| c.iter().zip(p).all(|(a, b)| a.abs_diff(*b) <= 6));
            run = if hit { run + 1 } else { 0 };
            if run >= 6 {
                return true;
            }
        }
        false
    };
    let height = usize::try_from(info.height).expect("height");
    let mut bands = 0;
    let mut inside = false;
    for y in 0..height {
        let hit = coloured_row(y);
        if hit && !inside {
            bands += 1;
        }
        inside = hit;
    }
    assert!(
        bands >= lanes_with_phases,
        "{bands} coloured bands in the screenshot, {lanes_with_phases} lanes with phases"
    );

    let kept = root().join("target/html-report");
    std::fs::create_dir_all(&kept).expect("target/html-report");
    std::fs::copy(&shot, kept.join("two-services.png")).expect("keep the screenshot");
    if std::env::var_os("ECS_AUTOPSY_BLESS_SCREENSHOT").is_some() {
        let docs = root().join("docs/images");
        std::fs::create_dir_all(&docs).expect("docs/images");
        std::fs::copy(&shot, docs.join("html-report.png")).expect("bless the screenshot");
    }
}

#[test]
fn text_from_the_bundle_never_becomes_markup_or_script() {
    let dir = TempDir::new("html", "hostile");
    // The shipped one-task incident, with a log line and a stopped reason that try to close
    // the data element, run a script and add an element.
    let hostile = "</script><script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">";
    let source = root().join("fixtures/app-missing-config/dropped-env-var/bundle.json");
    let mut bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(source).expect("fixture")).expect("JSON");
    let calls = bundle["calls"].as_array_mut().expect("calls");
    let logs = calls
        .iter_mut()
        .find(|c| c["operation"] == "GetLogEvents")
        .expect("a log call");
    let events = logs["response"]["events"].as_array_mut().expect("events");
    let last = events.last_mut().expect("an event");
    last["message"] = serde_json::Value::from(hostile);
    let tasks = calls
        .iter_mut()
        .find(|c| c["operation"] == "DescribeTasks")
        .expect("tasks");
    tasks["response"]["tasks"][0]["stoppedReason"] = serde_json::Value::from(hostile);
    let id = tasks["response"]["tasks"][0]["taskArn"]
        .as_str()
        .and_then(|arn| arn.rsplit('/').next())
        .expect("task id")
        .to_owned();
    let path = dir.join("hostile.json");
    std::fs::write(&path, serde_json::to_vec(&bundle).expect("JSON")).expect("write");

    let output = run(&[
        "--no-config",
        "--format",
        "html",
        "replay",
        path.to_str().expect("utf-8 path"),
    ]);
    let html = check(&output, 1, &[], &[]);
    assert!(!html.contains(hostile), "the raw text is never in the page");
    let page = dir.join("report.html");
    std::fs::write(&page, &html).expect("write page");

    let (dom, _) = browse(&dir, &page, &format!("#task={id}"), &["--dump-dom"]);
    assert!(
        dom.contains("data-rendered=\"true\""),
        "the timeline still draws"
    );
    assert!(
        !dom.contains("pwned</title>"),
        "no script of the bundle ran"
    );
    assert!(!dom.contains("<img"), "no element of the bundle was made");
    let shown = "&lt;/script&gt;&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;img";
    let detail = dom.split("id=\"detail\"").nth(1).expect("detail panel");
    assert!(
        detail.contains(shown),
        "the text is shown as text in the task panel"
    );
}
