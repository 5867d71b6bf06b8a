//! See <https://github.com/matklad/cargo-xtask/>.
//!
//! This binary defines the development tasks of ecs-autopsy; `cargo xtask <task>` runs one.
//! It has few dependencies and no flags parser beyond matching the task name.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod bench_aws_like;
mod bench_html;
mod chromium;
mod dist;
mod docs;
mod fuzz;
#[cfg(test)]
mod fuzz_smoke;
mod lambda;
mod layers;
mod moto;
mod rule_copies;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  test      the whole test suite, as CI runs it: fmt check, clippy, tidy, every test, and the
            linters of the workflows, action.yml and Dockerfile (.ci/lint-ci)
  tidy      repository checks (rule files, fixtures, snapshots, generated docs)
  docs      regenerate docs/rules/*.md and the README rule table from rules/*.rhai
  bless     re-run the fixture test accepting new snapshots (review the diff before committing)
  moto      install the pinned AWS emulator (moto) into target/moto-venv for the live tests
  chromium  install Debian's chromium (apt-get) for the HTML report tests, if it is missing
  lambda    build the event-driven recorder's Lambda zip for x86_64 with cargo-lambda (pinned, from
            PyPI, into target/lambda-venv), check it and write section 5 of bench/RESULTS.md
  dist      build the portable Linux binary (x86_64, glibc 2.17+, stripped) with cargo-zigbuild
            (pinned, from PyPI, into target/dist-venv), check it, run `cargo install --locked` by
            path and by git URL, and write section 6 of bench/RESULTS.md
  bench     run the benchmarks and write bench/RESULTS.md (`--no-live` skips the emulator ones,
            `--aws-like-only` runs only the AWS-like one, `--delay-ms MS` its round trip,
            `--html-only` only the HTML report at 1,000 tasks);
            needs a release build, about 25 minutes (sections 5 and 6 build the Lambda zip and
            the portable binary too)
  fuzz      run the fuzz targets with libFuzzer, 10 minutes each by default (`--time SECONDS`,
            or name targets); needs the nightly toolchain, installs cargo-fuzz into target/tools";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("tidy") => tidy::run(&root()).map(|()| println!("tidy: ok")),
        Some("docs") => docs::write(&root()),
        Some("bless") => bless(),
        Some("bench") => bench::run(&root(), &args[1..]),
        Some("fuzz") => fuzz::run(&root(), &args[1..]),
        Some("lambda") => lambda::run(&root(), &args[1..]),
        Some("dist") => dist::run(&root(), &args[1..]),
        Some("moto") => moto::install(&root()).map(|python| println!("moto: {}", python.display())),
        Some("chromium") => {
            chromium::install().map(|path| println!("chromium: {}", path.display()))
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of `xtask/`).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// `PATH` with `dir` first.
pub(crate) fn path_with(dir: &Path) -> anyhow::Result<std::ffi::OsString> {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    Ok(std::env::join_paths(paths)?)
}

/// Writes `section` (which starts `## N. `) into bench/RESULTS.md in place of the section with
/// the same number, or in number order when there is none; the other sections are kept as the
/// last run of each wrote them.
pub(crate) fn write_results_section(root: &Path, section: &str) -> anyhow::Result<()> {
    let section = section.trim_start();
    let number =
        |text: &str| -> Option<u32> { text.strip_prefix("## ")?.split('.').next()?.parse().ok() };
    let wanted = number(section).ok_or_else(|| anyhow::format_err!("not a numbered section"))?;
    let out = root.join("bench/RESULTS.md");
    let existing = std::fs::read_to_string(&out).unwrap_or_default();
    let mut parts: Vec<String> = existing.split("\n## ").map(str::to_owned).collect();
    let head = if parts.is_empty() {
        String::new()
    } else {
        parts.remove(0)
    };
    let mut sections: Vec<(u32, String)> = parts
        .into_iter()
        .map(|part| format!("## {part}"))
        .filter_map(|part| number(&part).map(|n| (n, part.trim_end().to_owned())))
        .filter(|(n, _)| *n != wanted)
        .collect();
    sections.push((wanted, section.trim_end().to_owned()));
    sections.sort_by_key(|(n, _)| *n);
    let mut text = head.trim_end().to_owned();
    for (_, part) in sections {
        text.push_str("\n\n");
        text.push_str(&part);
    }
    text.push('\n');
    std::fs::write(&out, text)?;
    eprintln!("xtask: wrote section {wanted} of {}", out.display());
    Ok(())
}

fn cargo(args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("xtask: cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(root())
        .status()?;
    if !status.success() {
        return Err(anyhow::format_err!(
            "`cargo {}` failed ({status})",
            args.join(" ")
        ));
    }
    Ok(())
}

/// Everything CI checks, in the order that fails fastest.
fn test() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // A CI run starts from a clean checkout and never rebuilds: incremental
    // state would only cost disk (gigabytes for the test binaries).
    let mut env = Vec::new();
    if std::env::var_os("CI").is_some() {
        env.push(("CARGO_INCREMENTAL", "0"));
    }
    cargo(&["fmt", "--all", "--check"], &[])?;
    cargo(
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &env,
    )?;
    tidy::run(&root())?;
    let python = moto::install(&root())?;
    let python = python.to_string_lossy().into_owned();
    env.push((moto::PYTHON_ENV, python.as_str()));
    let browser = chromium::install()?;
    let browser = browser.to_string_lossy().into_owned();
    env.push((chromium::CHROMIUM_ENV, browser.as_str()));
    cargo(&["test", "--workspace", "--all-targets"], &env)?;
    lint_ci(&root())?;
    eprintln!("xtask: test suite passed in {:.0?}", started.elapsed());
    Ok(())
}

/// `.ci/lint-ci`: the workflows, action.yml and the Dockerfile through their linters (pinned,
/// from PyPI, into target/ci-venv), and the action's tests against the test build.
fn lint_ci(root: &Path) -> anyhow::Result<()> {
    let python = moto::install_ci_lint(root)?;
    let bin = python
        .parent()
        .ok_or_else(|| anyhow::format_err!("the venv has a bin directory"))?;
    eprintln!("xtask: .ci/lint-ci");
    let status = Command::new("bash")
        .arg(root.join(".ci/lint-ci"))
        .arg(bin)
        .env("ECS_AUTOPSY_BIN", root.join("target/debug/ecs-autopsy"))
        .current_dir(root)
        .status()?;
    anyhow::ensure!(status.success(), "`.ci/lint-ci` failed ({status})");
    Ok(())
}

fn bless() -> anyhow::Result<()> {
    cargo(
        &["test", "-p", "ecs-autopsy", "--test", "fixtures"],
        &[("INSTA_UPDATE", "always")],
    )?;
    eprintln!(
        "xtask: snapshots updated; review `git diff fixtures` line by line before committing"
    );
    Ok(())
}
