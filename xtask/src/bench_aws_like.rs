//! `cargo xtask bench`, section 4: live collection against an emulator that behaves like AWS
//! seen from a laptop. `xtask/scripts/aws_like_proxy.py` sits between `ecs-autopsy record` and
//! moto: every request pays a round trip (40 ms unless `--delay-ms`), and each API is held to
//! its documented quota, answered over quota with AWS's own throttling errors.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::Value;

/// One staging, collected through the proxy.
pub(crate) struct Row {
    pub(crate) label: &'static str,
    /// Wall time of `record` for the whole cluster, per run.
    pub(crate) runs: Vec<f64>,
    /// Calls and throttles per API, in the last run.
    pub(crate) calls: BTreeMap<String, u64>,
    pub(crate) throttled: BTreeMap<String, u64>,
    /// Sequential round trips of the dependency chain in the last run's bundle, times the
    /// delay: the floor no client can beat.
    pub(crate) floor: f64,
    pub(crate) depth: u64,
    /// The time the quotas alone impose: for the busiest API, its calls beyond one burst at
    /// its sustained rate.
    pub(crate) quota_floor: f64,
    pub(crate) target: Option<f64>,
}

/// The AWS CLI checklist on the first staging, through the same proxy.
pub(crate) struct Checklist {
    pub(crate) seconds: f64,
}

pub(crate) struct AwsLike {
    pub(crate) delay_ms: f64,
    pub(crate) rows: Vec<Row>,
    pub(crate) checklist: Option<Checklist>,
}

const STAGINGS: [(&str, u64, u64, Option<f64>); 3] = [
    ("one service, 200 stopped tasks", 200, 1, None),
    ("4 services × 50 stopped tasks", 200, 4, Some(1.0)),
    ("50 services, 1,000 stopped tasks", 1000, 50, Some(3.0)),
];

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn first_line(child: &mut Child) -> anyhow::Result<Value> {
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    serde_json::from_str(&line).with_context(|| format!("said `{line}`"))
}

fn stats(endpoint: &str) -> anyhow::Result<Value> {
    let address = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.write_all(
        format!("GET /__proxy/stats HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .context("no body in the proxy's stats")?;
    Ok(serde_json::from_str(body)?)
}

fn counts(value: &Value) -> BTreeMap<String, u64> {
    value
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

fn minus(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

/// The proxy's default quota of an API: (rate per second, burst).
fn quota(api: &str) -> (f64, f64) {
    match api {
        "GetLogEvents" => (25.0, 25.0),
        "FilterLogEvents" => (5.0, 5.0),
        "DescribeTargetGroups" | "DescribeTargetHealth" | "DescribeTargetGroupAttributes" => {
            (10.0, 10.0)
        }
        _ => (20.0, 50.0),
    }
}

/// The longest any one API must take under its quota: its calls beyond one burst, at its rate.
fn quota_floor(calls: &BTreeMap<String, u64>) -> f64 {
    calls
        .iter()
        .map(|(api, n)| {
            let (rate, burst) = quota(api);
            (f64::from(u32::try_from(*n).unwrap_or(u32::MAX)) - burst).max(0.0) / rate
        })
        .fold(0.0, f64::max)
}

/// The sequential round trips a bundle's calls needed: the listing's pages, one describe, one
/// task-definition read, and the log reads' pages.
fn depth(bundle: &Value) -> u64 {
    let calls = bundle["calls"].as_array().cloned().unwrap_or_default();
    let mut listing: BTreeMap<String, u64> = BTreeMap::new();
    let mut filters: BTreeMap<String, u64> = BTreeMap::new();
    let mut tails = false;
    for call in &calls {
        match call["operation"].as_str() {
            Some("ListTasks" | "ListServices") => {
                let key = format!(
                    "{}{}",
                    call["operation"],
                    call["request"]["desiredStatus"].as_str().unwrap_or("")
                );
                *listing.entry(key).or_insert(0) += 1;
            }
            Some("FilterLogEvents") => {
                let key = call["request"]["logStreamNames"].to_string();
                *filters.entry(key).or_insert(0) += 1;
            }
            Some("GetLogEvents") => tails = true,
            _ => {}
        }
    }
    let logs = filters
        .values()
        .copied()
        .max()
        .unwrap_or(0)
        .max(u64::from(tails));
    listing.values().copied().max().unwrap_or(1) + 2 + logs
}

pub(crate) fn run(
    root: &Path,
    binary: &Path,
    home: &Path,
    python: &Path,
    work: &Path,
    delay_ms: f64,
) -> anyhow::Result<AwsLike> {
    let mut rows = Vec::new();
    let mut checklist = None;
    for (index, (label, tasks, services, target)) in STAGINGS.into_iter().enumerate() {
        eprintln!("xtask: AWS-like: staging {label}");
        let mut harness = Command::new(python);
        harness
            .arg(root.join("recorder/tests/moto/harness.py"))
            .args(["fleet", "--tasks", &tasks.to_string()])
            .args(["--services", &services.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut harness = Guard(harness.spawn().context("starting the moto harness")?);
        let staged = first_line(&mut harness.0)?;
        let text = |key: &str| staged[key].as_str().unwrap_or_default().to_owned();
        let upstream = text("endpoint");
        anyhow::ensure!(
            upstream.starts_with("http://127.0.0.1:"),
            "the emulator is not on loopback: {upstream}"
        );
        let mut proxy = Command::new(python);
        proxy
            .arg(root.join("xtask/scripts/aws_like_proxy.py"))
            .args(["--upstream", &upstream, "--delay-ms", &delay_ms.to_string()])
            .arg("--no-service-deployments")
            .arg("--no-cloudtrail")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut proxy = Guard(proxy.spawn().context("starting the proxy")?);
        let endpoint = first_line(&mut proxy.0)?["endpoint"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let bundle_path = work.join(format!("aws-like-{index}.json"));
        let mut record = Command::new(binary);
        record
            .env_clear()
            .env("HOME", home)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .args(["--no-config", "--quiet", "record", "--force", "-o"])
            .arg(&bundle_path)
            .args(["--cluster", &text("cluster"), "--region", &text("region")])
            .args([
                "--endpoint-url",
                &endpoint,
                "--max-tasks",
                &tasks.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut runs = Vec::new();
        let mut calls = BTreeMap::new();
        let mut throttled = BTreeMap::new();
        for run in 0..4 {
            // Each run starts with full buckets, as a run after a quiet minute would.
            std::thread::sleep(Duration::from_secs(3));
            let before = stats(&endpoint)?;
            let started = Instant::now();
            let status = record.status()?;
            let elapsed = started.elapsed().as_secs_f64();
            anyhow::ensure!(
                status.success(),
                "record through the proxy failed: {status}"
            );
            let after = stats(&endpoint)?;
            if run > 0 {
                runs.push(elapsed);
            }
            calls = minus(&counts(&after["calls"]), &counts(&before["calls"]));
            throttled = minus(&counts(&after["throttled"]), &counts(&before["throttled"]));
        }
        let bundle: Value = serde_json::from_slice(&std::fs::read(&bundle_path)?)?;
        let depth = depth(&bundle);
        if index == 0 {
            eprintln!("xtask: AWS-like: the AWS CLI checklist through the proxy");
            let venv_bin = python.parent().context("venv bin")?;
            std::thread::sleep(Duration::from_secs(3));
            let started = Instant::now();
            let output = Command::new("sh")
                .arg(root.join("bench/cli-checklist.sh"))
                .args([&text("cluster"), &text("service")])
                .env("PATH", crate::path_with(venv_bin)?)
                .env("HOME", home)
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .env("AWS_ENDPOINT_URL", &endpoint)
                .env("AWS_DEFAULT_REGION", text("region"))
                .output()?;
            anyhow::ensure!(
                output.status.success(),
                "bench/cli-checklist.sh failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            checklist = Some(Checklist {
                seconds: started.elapsed().as_secs_f64(),
            });
        }
        let quota_floor = quota_floor(&calls);
        rows.push(Row {
            label,
            runs,
            calls,
            throttled,
            floor: f64::from(u32::try_from(depth).unwrap_or(u32::MAX)) * delay_ms / 1000.0,
            depth,
            quota_floor,
            target,
        });
    }
    Ok(AwsLike {
        delay_ms,
        rows,
        checklist,
    })
}

pub(crate) fn render(out: &mut String, result: &AwsLike) {
    let _ = writeln!(
        out,
        "\n## 4. Live collection against AWS-like latency and quotas\n"
    );
    let _ = writeln!(
        out,
        "`record --cluster C` (the whole cluster) through `xtask/scripts/aws_like_proxy.py` in front of moto: {} ms per request, ECS describe/list 20/s with a burst of 50, CloudWatch Logs GetLogEvents 25/s and FilterLogEvents 5/s, ELBv2 10/s, over-quota requests answered with AWS's `ThrottlingException` (JSON) or `Throttling` (XML); `ListServiceDeployments`, which moto does not implement, answered by the proxy with the empty list AWS gives a service without service deployments (one round trip, as AWS charges, instead of moto's HTTP 500 and the SDK's retries). Stagings by `harness.py fleet --tasks N --services S`; three runs after a warm-up, each after 3 s of quiet. The round-trip floor is the dependency chain's sequential round trips (listing pages, describe, task definitions, log pages) times the delay; the quota floor is what the busiest API's quota alone imposes (its calls beyond one burst at its sustained rate): no client that reads the same evidence can beat the larger of the two.\n",
        result.delay_ms
    );
    let _ = writeln!(
        out,
        "| staging | wall time (median, range) | floor: round trips | floor: quotas | calls | throttled | target |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---|");
    for row in &result.rows {
        let stats = crate::bench::Stats::of(row.runs.clone());
        let calls: u64 = row.calls.values().sum();
        let throttled: u64 = row.throttled.values().sum();
        let target = match row.target {
            Some(target) => format!(
                "≤ {target} s, 0 throttled: {}",
                crate::bench::verdict(stats.median <= target && throttled == 0)
            ),
            None => "—".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} ({} round trips) | {} | {calls} | {throttled} | {target} |",
            row.label,
            crate::bench::range(&stats),
            crate::bench::ms(row.floor),
            row.depth,
            if row.quota_floor > 0.0 {
                crate::bench::ms(row.quota_floor)
            } else {
                "none (within one burst)".to_owned()
            }
        );
    }
    if let Some(checklist) = &result.checklist {
        let _ = writeln!(
            out,
            "| the AWS CLI checklist, one service of 200 tasks | {} (one run) | | | | | |",
            crate::bench::ms(checklist.seconds)
        );
    }
    for row in &result.rows {
        let stats = crate::bench::Stats::of(row.runs.clone());
        let Some(target) = row.target.filter(|target| stats.median > *target) else {
            continue;
        };
        // Which API's quota sets the floor, and whether the target is below it.
        let busiest = row.calls.iter().max_by(|a, b| {
            let cost = |(api, n): (&String, &u64)| {
                let (rate, burst) = quota(api);
                (f64::from(u32::try_from(*n).unwrap_or(u32::MAX)) - burst).max(0.0) / rate
            };
            cost(*a).total_cmp(&cost(*b))
        });
        if let Some((api, n)) = busiest
            && row.quota_floor > target
        {
            let (rate, burst) = quota(api);
            let _ = writeln!(
                out,
                "\n{}: the target ({target} s) is below what the quotas allow for this evidence: {api} needs {n} calls at {rate} a second after a burst of {burst}, {} by itself, whatever the client does. Collection paces each API 10 % under its quota.",
                row.label,
                crate::bench::ms(row.quota_floor)
            );
        } else {
            let _ = writeln!(
                out,
                "\n{}: the target ({target} s) is not met, and the floors above are lower: the gap is the client's.",
                row.label
            );
        }
    }
    for row in &result.rows {
        let apis: Vec<String> = row
            .calls
            .iter()
            .map(|(api, n)| {
                let throttled = row.throttled.get(api).copied().unwrap_or(0);
                if throttled > 0 {
                    format!("{api} {n} ({throttled} throttled)")
                } else {
                    format!("{api} {n}")
                }
            })
            .collect();
        let _ = writeln!(out, "\n{}: {}.", row.label, apis.join(", "));
    }
}
