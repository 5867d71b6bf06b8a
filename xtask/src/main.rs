//! See <https://github.com/matklad/cargo-xtask/>.
//!
//! This binary defines the development tasks of ecs-autopsy; `cargo xtask <task>` runs one.
//! It has few dependencies and no flags parser beyond matching the task name.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod bench_aws_like;
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
  test    the whole test suite, as CI runs it: fmt check, clippy, tidy and every test
  tidy    repository checks (rule files, fixtures, snapshots, generated docs)
  docs    regenerate docs/rules/*.md and the README rule table from rules/*.rhai
  bless   re-run the fixture test accepting new snapshots (review the diff before committing)
  moto    install the pinned AWS emulator (moto) into target/moto-venv for the live tests
  lambda  build the event-driven recorder's Lambda zip for x86_64 with cargo-lambda (pinned, from
          PyPI, into target/lambda-venv), check it and write section 5 of bench/RESULTS.md
  bench   run the benchmarks and write bench/RESULTS.md (`--no-live` skips the emulator ones,
          `--aws-like-only` runs only the AWS-like one, `--delay-ms MS` its round trip);
          needs a release build, about 15 minutes
  fuzz    run the fuzz targets with libFuzzer, 10 minutes each by default (`--time SECONDS`,
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
        Some("moto") => moto::install(&root()).map(|python| println!("moto: {}", python.display())),
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
    cargo(&["test", "--workspace", "--all-targets"], &env)?;
    eprintln!("xtask: test suite passed in {:.0?}", started.elapsed());
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
