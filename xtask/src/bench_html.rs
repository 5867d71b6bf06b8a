//! Section 7 of `cargo xtask bench`: the HTML report at 1,000 stopped tasks. The generated
//! 1,000-task bundle (`xtask/scripts/bench_bundle.py`) is rendered with `--format html`; the
//! page's size, the time `replay --format html` takes, and the time the page's script takes to
//! draw the timeline in headless Chromium (the page's own `data-render-ms`, and the whole
//! browser run) are measured, and the page is checked to have drawn one lane per task.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;

use crate::bench::Stats;

const RUNS: usize = 5;

pub(crate) struct HtmlResult {
    tasks: u64,
    bundle_bytes: u64,
    page_bytes: u64,
    render: Stats,
    draw_ms: Stats,
    browser: Stats,
    lanes: usize,
}

pub(crate) fn run(
    root: &Path,
    binary: &Path,
    python: &Path,
    work: &Path,
) -> anyhow::Result<HtmlResult> {
    let tasks = 1000;
    let bundle = work.join(format!("bundles/tasks-{tasks}.json"));
    if !bundle.exists() {
        let status = Command::new(python)
            .arg(root.join("xtask/scripts/bench_bundle.py"))
            .arg(tasks.to_string())
            .arg(&bundle)
            .status()?;
        anyhow::ensure!(status.success(), "bench_bundle.py failed ({status})");
    }
    let page = work.join("report-1000.html");
    let mut renders = Vec::new();
    for run in 0..=RUNS {
        let started = Instant::now();
        let output = Command::new(binary)
            .args(["--no-config", "--format", "html", "replay"])
            .arg(&bundle)
            .env("HOME", work.join("home"))
            .env("XDG_CONFIG_HOME", work.join("home/no-config"))
            .output()
            .context("replay --format html")?;
        anyhow::ensure!(
            output.status.code() == Some(1),
            "replay --format html exited {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        // The first run warms the page cache.
        if run > 0 {
            renders.push(started.elapsed().as_secs_f64());
        }
        std::fs::write(&page, &output.stdout)?;
    }

    let chromium = crate::chromium::install()?;
    let mut draws = Vec::new();
    let mut browsers = Vec::new();
    let mut lanes = 0;
    for run in 0..=RUNS {
        let profile = work.join(format!("chromium-profile-{run}"));
        let _ = std::fs::remove_dir_all(&profile);
        let started = Instant::now();
        let output = Command::new(&chromium)
            .args(crate::chromium::headless_flags(&profile))
            .args(["--dump-dom", "--virtual-time-budget=30000"])
            .arg(format!("file://{}", page.display()))
            .output()
            .context("chromium")?;
        let elapsed = started.elapsed().as_secs_f64();
        let dom = String::from_utf8_lossy(&output.stdout);
        anyhow::ensure!(
            dom.contains("data-rendered=\"true\""),
            "the page did not draw its timeline: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        lanes = dom.matches("class=\"lane\"").count();
        let draw = attribute(&dom, "data-render-ms")
            .and_then(|ms| ms.parse::<f64>().ok())
            .context("the page's data-render-ms")?;
        if run > 0 {
            draws.push(draw / 1000.0);
            browsers.push(elapsed);
        }
    }
    anyhow::ensure!(lanes == 1000, "{lanes} lanes drawn for {tasks} tasks");
    Ok(HtmlResult {
        tasks,
        bundle_bytes: std::fs::metadata(&bundle)?.len(),
        page_bytes: std::fs::metadata(&page)?.len(),
        render: Stats::of(renders),
        draw_ms: Stats::of(draws),
        browser: Stats::of(browsers),
        lanes,
    })
}

/// The value of the first `name="…"` attribute in `dom`.
fn attribute<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let start = dom.find(&format!("{name}=\""))? + name.len() + 2;
    dom[start..].split('"').next()
}

pub(crate) fn render(out: &mut String, result: &HtmlResult) {
    #[allow(clippy::cast_precision_loss)]
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let _ = write!(
        out,
        "\n## 7. HTML report at 1,000 tasks\n\n\
         `replay --format html` of the generated {}-task bundle ({:.1} MiB), then the page opened \
         in headless Chromium (`--dump-dom`); medians of {RUNS} runs after one warm-up, with their \
         range. The page drew {} lanes.\n\n\
         | what | value |\n|---|---:|\n\
         | page size (one file: CSS, script and data inline) | {:.1} MiB |\n\
         | `replay --format html`, whole process | {} |\n\
         | drawing the timeline (the page's own `data-render-ms`) | {} |\n\
         | headless Chromium, start to DOM dump | {} |\n",
        result.tasks,
        mib(result.bundle_bytes),
        result.lanes,
        mib(result.page_bytes),
        crate::bench::range(&result.render),
        crate::bench::range(&result.draw_ms),
        crate::bench::range(&result.browser),
    );
}
