//! `cargo xtask bench`: the three benchmarks of issue #6, written to `bench/RESULTS.md`.
//!
//! 1. Replay vs parse: criterion (`engine/benches/replay.rs`) over generated bundles of 1, 100
//!    and 1,000 stopped tasks, plus the whole process's peak memory on each.
//! 2. Live collection: against moto with a 200-task service, the API calls `record` makes
//!    against the fewest that give the same evidence, and `diagnose` against the seed article's
//!    checklist run as AWS CLI commands (`bench/cli-checklist.sh`).
//! 3. Start-up: a one-task `replay`, next to the AWS CLI's own start-up.
//!
//! Then sections 4 (`bench_aws_like`), 5 (`lambda`), 6 (`dist`) and 7 (`bench_html`).
//!
//! Whole-process timings are repeated runs after warm-up runs, reported as medians (and the
//! range); nothing here is a single run.

// Byte counts and ratios become floats only to be printed.
#![allow(clippy::cast_precision_loss)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context as _;
use serde_json::Value;

const SIZES: [u64; 3] = [1, 100, 1000];
const LIVE_TASKS: u64 = 200;
/// The ratio and memory targets of issue #6, at 1,000 tasks.
const REPLAY_OVER_PARSE: f64 = 2.0;
const MEMORY_OVER_BUNDLE: f64 = 3.0;
const LIVE_SPEEDUP: f64 = 10.0;

const USAGE: &str =
    "usage: cargo xtask bench [--no-live] [--aws-like-only] [--html-only] [--delay-ms MS]";

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let mut live = true;
    let mut aws_like_only = false;
    let mut html_only = false;
    let mut delay_ms = 40.0;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--no-live" => live = false,
            "--aws-like-only" => aws_like_only = true,
            "--html-only" => html_only = true,
            "--delay-ms" => {
                delay_ms = args
                    .next()
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .with_context(|| format!("--delay-ms takes milliseconds\n{USAGE}"))?;
            }
            _ => anyhow::bail!("unknown argument `{arg}`\n{USAGE}"),
        }
    }
    let work = root.join("target/bench");
    std::fs::create_dir_all(work.join("bundles"))?;
    let python = crate::moto::install_bench(root)?;

    crate::cargo(&["build", "--release", "-p", "ecs-autopsy"], &[])?;
    let binary = root.join("target/release/ecs-autopsy");
    let home = work.join("home");
    std::fs::create_dir_all(&home)?;
    let tool = Tool {
        binary: &binary,
        home: &home,
        python: &python,
    };

    if html_only {
        let mut section = String::new();
        crate::bench_html::render(
            &mut section,
            &crate::bench_html::run(root, &binary, &python, &work)?,
        );
        println!("{section}");
        return crate::write_results_section(root, &section);
    }
    if aws_like_only {
        let result = crate::bench_aws_like::run(root, &binary, &home, &python, &work, delay_ms)?;
        let mut section = String::new();
        crate::bench_aws_like::render(&mut section, &result);
        println!("{section}");
        crate::write_results_section(root, &section)?;
        return Ok(());
    }

    let mut bundles = Vec::new();
    for tasks in SIZES {
        let path = work.join(format!("bundles/tasks-{tasks}.json"));
        run_ok(
            Command::new(&python)
                .arg(root.join("xtask/scripts/bench_bundle.py"))
                .arg(tasks.to_string())
                .arg(&path),
        )?;
        bundles.push((tasks, path));
    }

    let replay = replay_vs_parse(root, &tool, &bundles)?;
    let startup = startup(&tool, &bundles[0].1)?;
    let (live, aws_like) = if live {
        (
            Some(live_collection(root, &tool, &work)?),
            Some(crate::bench_aws_like::run(
                root, &binary, &home, &python, &work, delay_ms,
            )?),
        )
    } else {
        (None, None)
    };

    let mut results = render(&machine(root), &replay, live.as_ref(), &startup);
    match &aws_like {
        Some(result) => crate::bench_aws_like::render(&mut results, result),
        None => results.push_str(
            "\n## 4. Live collection against AWS-like latency and quotas\n\nNot run (`--no-live`).\n",
        ),
    }
    let out = root.join("bench/RESULTS.md");
    std::fs::write(&out, &results)?;
    println!("{results}");
    eprintln!("xtask: wrote {}", out.display());
    // Section 5: the Lambda package, built with cargo-lambda; 6: the portable binary.
    crate::lambda::run(root, &[])?;
    crate::dist::run(root, &[])?;
    // Section 7: the HTML report at 1,000 tasks.
    let mut section = String::new();
    crate::bench_html::render(
        &mut section,
        &crate::bench_html::run(root, &binary, &python, &work)?,
    );
    println!("{section}");
    crate::write_results_section(root, &section)
}

struct Tool<'a> {
    binary: &'a Path,
    home: &'a Path,
    python: &'a Path,
}

impl Tool<'_> {
    /// The binary with no configuration, no AWS profile and nothing but what the caller adds.
    fn command(&self) -> Command {
        let mut command = self.isolated(self.binary);
        command.arg("--no-config");
        command
    }

    /// `program` with a home of its own: no AWS profile, credentials or instance metadata
    /// but what the caller adds. ecs-autopsy and the AWS CLI are both run this way.
    fn isolated(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env("HOME", self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("AWS_CONFIG_FILE", self.home.join("aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.home.join("aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_COLOR", "1");
        command
    }
}

/// `outer` (a measuring wrapper) followed by `command`'s program and arguments, with
/// `command`'s environment.
fn wrapping(mut outer: Command, command: &Command) -> Command {
    outer.arg(command.get_program()).args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => outer.env(key, value),
            None => outer.env_remove(key),
        };
    }
    outer
}

/// Median and range of repeated measurements.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stats {
    pub(crate) median: f64,
    pub(crate) low: f64,
    pub(crate) high: f64,
    runs: usize,
}

impl Stats {
    pub(crate) fn of(mut values: Vec<f64>) -> Stats {
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            f64::midpoint(values[n / 2 - 1], values[n / 2])
        };
        Stats {
            median,
            low: values[0],
            high: values[n - 1],
            runs: n,
        }
    }
}

/// Runs `command` `warmup` times unmeasured, then `runs` times, and gives the wall times in
/// seconds. Output is discarded; an exit status outside `ok` is an error.
fn time_runs(
    command: &mut Command,
    warmup: usize,
    runs: usize,
    ok: &[i32],
) -> anyhow::Result<Stats> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut times = Vec::with_capacity(runs);
    for run in 0..warmup + runs {
        let started = Instant::now();
        let status = command.status().with_context(|| format!("{command:?}"))?;
        let elapsed = started.elapsed();
        if !status.code().is_some_and(|code| ok.contains(&code)) {
            anyhow::bail!("{command:?} exited with {status}");
        }
        if run >= warmup {
            times.push(elapsed.as_secs_f64());
        }
    }
    Ok(Stats::of(times))
}

/// The peak resident memory of one run of `command`, in bytes, as the kernel counts it
/// (`getrusage` of the child, through Python's `resource` module).
fn peak_rss(python: &Path, command: &Command) -> anyhow::Result<u64> {
    const SCRIPT: &str = "import resource, subprocess, sys\n\
        subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let mut python = Command::new(python);
    python.arg("-c").arg(SCRIPT);
    let mut wrapper = wrapping(python, command);
    let output = wrapper.output().with_context(|| format!("{wrapper:?}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let kib: u64 = text
        .trim()
        .parse()
        .with_context(|| format!("peak memory of {command:?}: `{text}`"))?;
    Ok(kib * 1024)
}

/// The peak heap of one run, from valgrind's massif, when valgrind is installed.
fn peak_heap(command: &Command, work: &Path) -> Option<u64> {
    let out = work.join("massif.out");
    let mut valgrind = Command::new("valgrind");
    valgrind
        .arg("--tool=massif")
        .arg(format!("--massif-out-file={}", out.display()));
    let mut massif = wrapping(valgrind, command);
    massif
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    let text = std::fs::read_to_string(&out).ok()?;
    text.lines()
        .filter_map(|line| line.strip_prefix("mem_heap_B="))
        .filter_map(|bytes| bytes.parse::<u64>().ok())
        .max()
}

struct ReplayRow {
    /// `(rule, median seconds)`, slowest first: each rule alone, single-threaded.
    per_rule: Vec<(String, f64)>,
    tasks: u64,
    bundle_bytes: u64,
    log_lines: u64,
    /// criterion medians in seconds: parse, load, evidence, rules, render, replay.
    phases: BTreeMap<&'static str, f64>,
    process: Stats,
    peak_rss: u64,
    peak_heap: Option<u64>,
}

/// criterion's medians for `tasks-<N>-rule/<id>`, slowest first.
fn per_rule(root: &Path, tasks: u64) -> Vec<(String, f64)> {
    let dir = root.join(format!("target/criterion/tasks-{tasks}-rule"));
    let mut found: Vec<(String, f64)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let text = std::fs::read_to_string(entry.path().join("new/estimates.json")).ok()?;
            let value: Value = serde_json::from_str(&text).ok()?;
            let nanos = value["median"]["point_estimate"].as_f64()?;
            let name = entry.file_name().to_string_lossy().into_owned();
            (name != "report").then_some((name, nanos / 1e9))
        })
        .collect();
    found.sort_by(|a, b| b.1.total_cmp(&a.1));
    found
}

const PHASES: [&str; 6] = ["parse", "load", "evidence", "rules", "render", "replay"];

fn replay_vs_parse(
    root: &Path,
    tool: &Tool<'_>,
    bundles: &[(u64, PathBuf)],
) -> anyhow::Result<Vec<ReplayRow>> {
    let dir = bundles[0]
        .1
        .parent()
        .context("bundle folder")?
        .to_string_lossy()
        .into_owned();
    crate::cargo(
        &["bench", "-p", "engine", "--bench", "replay"],
        &[
            ("ECS_AUTOPSY_BENCH_BUNDLES", dir.as_str()),
            ("ECS_AUTOPSY_BENCH_PER_RULE", "1000"),
        ],
    )?;
    let mut rows = Vec::new();
    let per_rule = per_rule(root, 1000);
    for (tasks, path) in bundles {
        let mut phases = BTreeMap::new();
        for phase in PHASES {
            let estimates = root.join(format!(
                "target/criterion/tasks-{tasks}/{phase}/new/estimates.json"
            ));
            let text = std::fs::read_to_string(&estimates)
                .with_context(|| format!("{}", estimates.display()))?;
            let value: Value = serde_json::from_str(&text)?;
            let nanos = value["median"]["point_estimate"]
                .as_f64()
                .with_context(|| format!("{}: no median", estimates.display()))?;
            phases.insert(phase, nanos / 1e9);
        }
        let mut replay = tool.command();
        replay.arg("replay").arg(path).args(["--format", "json"]);
        eprintln!("xtask: timing `ecs-autopsy replay` on {tasks} task(s)");
        let process = time_runs(&mut replay, 2, 10, &[0, 1])?;
        let peak_rss = peak_rss(tool.python, &replay)?;
        let peak_heap = if *tasks == 1000 {
            eprintln!("xtask: measuring the peak heap under valgrind (a minute)");
            peak_heap(&replay, path.parent().context("bundle folder")?)
        } else {
            None
        };
        let bundle: Value = serde_json::from_slice(&std::fs::read(path)?)?;
        let log_lines = bundle["calls"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|call| call["operation"] == "GetLogEvents")
            .filter_map(|call| call["response"]["events"].as_array())
            .map(|events| events.len() as u64)
            .sum();
        rows.push(ReplayRow {
            per_rule: if *tasks == 1000 {
                per_rule.clone()
            } else {
                Vec::new()
            },
            tasks: *tasks,
            bundle_bytes: std::fs::metadata(path)?.len(),
            log_lines,
            phases,
            process,
            peak_rss,
            peak_heap,
        });
    }
    Ok(rows)
}

struct Startup {
    replay: Stats,
    cli_skeleton: Stats,
    baseline_rss: u64,
}

fn startup(tool: &Tool<'_>, one_task: &Path) -> anyhow::Result<Startup> {
    eprintln!("xtask: timing start-up");
    let mut replay = tool.command();
    replay.arg("replay").arg(one_task);
    let replay_stats = time_runs(&mut replay, 3, 30, &[0, 1])?;
    let baseline_rss = peak_rss(tool.python, &replay)?;
    let aws = tool.python.with_file_name("aws");
    let mut skeleton = tool.isolated(&aws);
    skeleton.args(["ecs", "describe-tasks", "--generate-cli-skeleton"]);
    let cli_skeleton = time_runs(&mut skeleton, 2, 10, &[0])?;
    Ok(Startup {
        replay: replay_stats,
        cli_skeleton,
        baseline_rss,
    })
}

struct Live {
    tasks: u64,
    made: BTreeMap<String, u64>,
    minimum: BTreeMap<String, u64>,
    diagnose: Stats,
    checklist: Stats,
    checklist_calls: u64,
}

/// The staged emulator; stopped when dropped (its stdin closes).
struct Emulator {
    child: std::process::Child,
    staged: Value,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn live_collection(root: &Path, tool: &Tool<'_>, work: &Path) -> anyhow::Result<Live> {
    eprintln!("xtask: staging {LIVE_TASKS} stopped tasks in moto");
    let mut child = Command::new(tool.python)
        .arg(root.join("recorder/tests/moto/harness.py"))
        .args(["fleet", "--tasks", &LIVE_TASKS.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the moto harness")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("harness stdout")?).read_line(&mut line)?;
    let staged: Value =
        serde_json::from_str(&line).with_context(|| format!("harness said `{line}`"))?;
    let emulator = Emulator { child, staged };
    let text = |key: &str| emulator.staged[key].as_str().unwrap_or_default().to_owned();
    let (endpoint, region, cluster, service) = (
        text("endpoint"),
        text("region"),
        text("cluster"),
        text("service"),
    );
    anyhow::ensure!(
        endpoint.starts_with("http://127.0.0.1:"),
        "the emulator is not on loopback: {endpoint}"
    );
    let tasks = LIVE_TASKS.to_string();
    let live_args = [
        "--cluster",
        &cluster,
        "--service",
        &service,
        "--region",
        &region,
        "--endpoint-url",
        &endpoint,
        "--max-tasks",
        &tasks,
    ];
    let with_credentials = |mut command: Command| {
        command
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
        command
    };

    let bundle_path = work.join("live-bundle.json");
    let mut record = with_credentials(tool.command());
    record
        .arg("record")
        .args(live_args)
        .arg("--output")
        .arg(&bundle_path)
        .arg("--force");
    time_runs(&mut record, 0, 1, &[0, 1])?;
    let bundle: Value = serde_json::from_slice(&std::fs::read(&bundle_path)?)?;
    let (made, minimum) = call_counts(&bundle);

    eprintln!("xtask: timing `ecs-autopsy diagnose`");
    let mut diagnose = with_credentials(tool.command());
    diagnose.arg("diagnose").args(live_args);
    let diagnose = time_runs(&mut diagnose, 1, 5, &[0, 1])?;

    eprintln!("xtask: timing the AWS CLI checklist (about a minute and a half a run)");
    let venv_bin = tool.python.parent().context("venv bin")?;
    let mut checklist = with_credentials(tool.isolated(Path::new("sh")));
    checklist
        .arg(root.join("bench/cli-checklist.sh"))
        .args([&cluster, &service])
        .env("PATH", crate::path_with(venv_bin)?)
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_DEFAULT_REGION", &region);
    let output = checklist.output()?;
    anyhow::ensure!(
        output.status.success(),
        "bench/cli-checklist.sh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let checklist_calls = String::from_utf8_lossy(&output.stderr)
        .lines()
        .find_map(|line| {
            line.strip_prefix("cli-checklist: ")?
                .strip_suffix(" aws calls")?
                .parse()
                .ok()
        })
        .context("bench/cli-checklist.sh did not count its calls")?;
    let checklist = time_runs(&mut checklist, 0, 3, &[0])?;
    drop(emulator);
    Ok(Live {
        tasks: LIVE_TASKS,
        made,
        minimum,
        diagnose,
        checklist,
        checklist_calls,
    })
}

/// API calls per operation in a recorded bundle, and the fewest that give the same evidence:
/// one call per 100 task ARNs listed (each status listed at least once) or described, per
/// 10 services, per task definition, per target group's health and attributes, one
/// DescribeTargetGroups, and
/// one GetLogEvents per stream read alone that has events (a stream that does not exist is no
/// evidence), one FilterLogEvents per 100 batched streams with events.
fn call_counts(bundle: &Value) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let calls = bundle["calls"].as_array().cloned().unwrap_or_default();
    let mut made = BTreeMap::new();
    for call in &calls {
        let operation = call["operation"].as_str().unwrap_or("?").to_owned();
        *made.entry(operation).or_insert(0) += 1;
    }
    let ok = |operation: &'static str| {
        calls
            .iter()
            .filter(move |call| call["operation"] == operation && call["response"].is_object())
    };
    let per = |count: usize, page: usize| count.div_ceil(page) as u64;
    let mut minimum = BTreeMap::new();
    // ARNs listed per status, and the page size the endpoint used: AWS gives 100 ARNs a page,
    // moto all of them in one.
    let mut listed: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for call in ok("ListTasks") {
        let status = call["request"]["desiredStatus"]
            .as_str()
            .unwrap_or("RUNNING")
            .to_owned();
        let arns = call["response"]["taskArns"].as_array().map_or(0, Vec::len);
        let entry = listed.entry(status).or_insert((0, 100));
        entry.0 += arns;
        entry.1 = entry.1.max(arns);
    }
    minimum.insert(
        "ListTasks".to_owned(),
        listed.values().map(|&(n, page)| per(n, page).max(1)).sum(),
    );
    let described: std::collections::BTreeSet<&str> = ok("DescribeTasks")
        .flat_map(|call| call["response"]["tasks"].as_array().into_iter().flatten())
        .filter_map(|task| task["taskArn"].as_str())
        .collect();
    minimum.insert("DescribeTasks".to_owned(), per(described.len(), 100));
    let services = ok("DescribeServices")
        .flat_map(|call| {
            call["response"]["services"]
                .as_array()
                .into_iter()
                .flatten()
        })
        .count();
    minimum.insert("DescribeServices".to_owned(), per(services, 10));
    // The deployment record: one listing per service, whatever it answers (moto fails it).
    minimum.insert("ListServiceDeployments".to_owned(), services as u64);
    minimum.insert(
        "DescribeTaskDefinition".to_owned(),
        ok("DescribeTaskDefinition").count() as u64,
    );
    minimum.insert(
        "DescribeTargetGroups".to_owned(),
        u64::from(ok("DescribeTargetGroups").count() > 0),
    );
    minimum.insert(
        "DescribeTargetHealth".to_owned(),
        ok("DescribeTargetHealth").count() as u64,
    );
    minimum.insert(
        "DescribeTargetGroupAttributes".to_owned(),
        ok("DescribeTargetGroupAttributes").count() as u64,
    );
    let containers = ok("DescribeContainerInstances")
        .flat_map(|call| {
            call["response"]["containerInstances"]
                .as_array()
                .into_iter()
                .flatten()
        })
        .count();
    minimum.insert(
        "DescribeContainerInstances".to_owned(),
        per(containers, 100),
    );
    let streams = ok("GetLogEvents")
        .filter(|call| {
            call["response"]["events"]
                .as_array()
                .is_some_and(|e| !e.is_empty())
        })
        .count();
    minimum.insert("GetLogEvents".to_owned(), streams as u64);
    // Streams read in batches: one FilterLogEvents per 100 streams with events, per log group.
    let mut batched: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for call in ok("FilterLogEvents") {
        let group = call["request"]["logGroupName"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for event in call["response"]["events"].as_array().into_iter().flatten() {
            if let Some(stream) = event["logStreamName"].as_str() {
                batched
                    .entry(group.clone())
                    .or_default()
                    .insert(stream.to_owned());
            }
        }
    }
    minimum.insert(
        "FilterLogEvents".to_owned(),
        batched.values().map(|s| per(s.len(), 100)).sum(),
    );
    minimum.retain(|operation, n| *n > 0 || made.contains_key(operation));
    (made, minimum)
}

fn machine(root: &Path) -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|line| {
            line.strip_prefix("model name")
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let memory = read("/proc/meminfo")
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|kib| kib.trim().trim_end_matches(" kB").parse::<u64>().ok())
        .map_or_else(
            || "unknown".to_owned(),
            |kib| format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0),
        );
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
    let rustc = Command::new("rustc")
        .arg("--version")
        .current_dir(root)
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores available, {memory} RAM, Linux {kernel}, {rustc}, release build")
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

pub(crate) fn ms(seconds: f64) -> String {
    if seconds >= 10.0 {
        format!("{seconds:.1} s")
    } else if seconds >= 0.01 {
        format!("{:.0} ms", seconds * 1e3)
    } else {
        format!("{:.2} ms", seconds * 1e3)
    }
}

pub(crate) fn range(stats: &Stats) -> String {
    format!(
        "{} ({}–{}, {} runs)",
        ms(stats.median),
        ms(stats.low),
        ms(stats.high),
        stats.runs
    )
}

pub(crate) fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**not met**" }
}

fn render(machine: &str, replay: &[ReplayRow], live: Option<&Live>, startup: &Startup) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmark results\n");
    let _ = writeln!(
        out,
        "Written by `cargo xtask bench` (see `xtask/src/bench.rs` for what each number is).\n"
    );
    let _ = writeln!(out, "Machine: {machine}.\n");

    let _ = writeln!(out, "## 1. Replay vs parse\n");
    let _ = writeln!(
        out,
        "Generated bundles (`xtask/scripts/bench_bundle.py`): stopped tasks of 22 failure modes, 100 log lines for every task that ran, 100 events per service. In-process medians from criterion: *parse* reads the file and parses it into a `serde_json::Value`; *replay* is load + evidence + all {} built-in rules + the text report, rules already compiled. The process column is `ecs-autopsy replay --format json`, whole process, rule compilation included.\n",
        engine::rule::builtin_count()
    );
    let _ = writeln!(
        out,
        "| stopped tasks | bundle | log lines | parse | load | evidence | rules + report | render | **replay** | replay / parse | process (median, range) | peak RSS | peak heap |"
    );
    let _ = writeln!(
        out,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"
    );
    for row in replay {
        let phase = |name: &str| row.phases.get(name).copied().unwrap_or(f64::NAN);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | **{}** | {:.2} | {} | {} | {} |",
            row.tasks,
            mib(row.bundle_bytes),
            row.log_lines,
            ms(phase("parse")),
            ms(phase("load")),
            ms(phase("evidence")),
            ms(phase("rules")),
            ms(phase("render")),
            ms(phase("replay")),
            phase("replay") / phase("parse"),
            range(&row.process),
            mib(row.peak_rss),
            row.peak_heap.map_or_else(|| "–".to_owned(), mib),
        );
    }
    if let Some(big) = replay.iter().find(|row| row.tasks == 1000) {
        let ratio = big.phases["replay"] / big.phases["parse"];
        let size = big.bundle_bytes as f64;
        let rss = big.peak_rss as f64 / size;
        let growth = big.peak_rss.saturating_sub(startup.baseline_rss) as f64 / size;
        let _ = writeln!(out, "\nTargets at 1,000 tasks:\n");
        let _ = writeln!(
            out,
            "- replay / parse ≤ {REPLAY_OVER_PARSE}: **{ratio:.2}**, {}.",
            verdict(ratio <= REPLAY_OVER_PARSE)
        );
        match big.peak_heap {
            Some(heap) => {
                let heap = heap as f64 / size;
                let _ = writeln!(
                    out,
                    "- peak memory ≤ {MEMORY_OVER_BUNDLE}× the bundle ({}): peak heap **{heap:.2}×**, {}; peak RSS of the whole process {rss:.2}×, of which {} is what a one-task replay already takes (code, compiled rules); above that the process grows by {growth:.2}× the bundle.",
                    mib(big.bundle_bytes),
                    verdict(heap <= MEMORY_OVER_BUNDLE),
                    mib(startup.baseline_rss)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "- peak memory ≤ {MEMORY_OVER_BUNDLE}× the bundle ({}): peak RSS **{rss:.2}×** ({} of it is a one-task replay's; growth {growth:.2}×), {}; valgrind was not found, so the heap was not measured.",
                    mib(big.bundle_bytes),
                    mib(startup.baseline_rss),
                    verdict(rss <= MEMORY_OVER_BUNDLE)
                );
            }
        }
    }

    if let Some(big) = replay.iter().find(|row| !row.per_rule.is_empty()) {
        let total: f64 = big.per_rule.iter().map(|(_, seconds)| seconds).sum();
        let _ = writeln!(
            out,
            "\nWhere the rule time goes at {} tasks: each rule alone, single-threaded, {} in all (the rules share two cores in `replay`). The slowest ten:\n",
            big.tasks,
            ms(total)
        );
        let _ = writeln!(out, "| rule | median |");
        let _ = writeln!(out, "|---|---:|");
        for (rule, seconds) in big.per_rule.iter().take(10) {
            let _ = writeln!(out, "| `{rule}` | {} |", ms(*seconds));
        }
    }

    let _ = writeln!(out, "\n## 2. Live collection\n");
    match live {
        Some(live) => {
            let _ = writeln!(
                out,
                "moto (pinned in `recorder/tests/moto/requirements.txt`) on 127.0.0.1, staged by `recorder/tests/moto/harness.py fleet --tasks {}`: one service, {} stopped tasks of five failure modes, 18–21 log lines each, one target group. `diagnose --max-tasks {}` against `bench/cli-checklist.sh`, the seed article's checklist as AWS CLI commands (CLI pinned in `bench/requirements.txt`), on the same emulator. moto does not implement `ListServiceDeployments`: it answers HTTP 500, which the SDK retries with back-off, and those retries are most of `diagnose`'s time here (AWS answers the call in one round trip; section 4 measures collection that way).\n",
                live.tasks, live.tasks, live.tasks
            );
            let _ = writeln!(
                out,
                "| operation | calls made by `record` | fewest for the same evidence |"
            );
            let _ = writeln!(out, "|---|---:|---:|");
            let mut operations: Vec<&String> =
                live.made.keys().chain(live.minimum.keys()).collect();
            operations.sort();
            operations.dedup();
            for operation in operations {
                let _ = writeln!(
                    out,
                    "| {operation} | {} | {} |",
                    live.made.get(operation).copied().unwrap_or(0),
                    live.minimum.get(operation).copied().unwrap_or(0)
                );
            }
            let made: u64 = live.made.values().sum();
            let minimum: u64 = live.minimum.values().sum();
            let _ = writeln!(out, "| **total** | **{made}** | **{minimum}** |\n");
            let speedup = live.checklist.median / live.diagnose.median;
            let _ = writeln!(out, "| run | wall time (median, range) | AWS calls |");
            let _ = writeln!(out, "|---|---|---:|");
            let _ = writeln!(
                out,
                "| `ecs-autopsy diagnose` | {} | {made} |",
                range(&live.diagnose)
            );
            let _ = writeln!(
                out,
                "| AWS CLI checklist | {} | {} |",
                range(&live.checklist),
                live.checklist_calls
            );
            let _ = writeln!(
                out,
                "\nTarget: diagnose ≥ {LIVE_SPEEDUP}× faster than the CLI sequence: **{speedup:.0}×**, {}.",
                verdict(speedup >= LIVE_SPEEDUP)
            );
        }
        None => {
            let _ = writeln!(out, "Not run (`--no-live`).");
        }
    }

    let _ = writeln!(out, "\n## 3. Start-up\n");
    let _ = writeln!(out, "| command | wall time (median, range) |");
    let _ = writeln!(out, "|---|---|");
    let _ = writeln!(
        out,
        "| `ecs-autopsy replay` of a one-task bundle (compiles all {} rules) | {} |",
        engine::rule::builtin_count(),
        range(&startup.replay)
    );
    let _ = writeln!(
        out,
        "| `aws ecs describe-tasks --generate-cli-skeleton` (the AWS CLI's own start-up) | {} |",
        range(&startup.cli_skeleton)
    );
    out
}

/// Runs a command, failing with its output when it fails.
fn run_ok(command: &mut Command) -> anyhow::Result<()> {
    let output = command.output().with_context(|| format!("{command:?}"))?;
    anyhow::ensure!(
        output.status.success(),
        "{command:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}
