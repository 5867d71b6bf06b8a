//! The AWS emulator for the live tests: moto, pinned in `recorder/tests/moto/requirements.txt`,
//! installed into a virtual environment under `target/` by the project itself.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The variable the live tests read to find the emulator's Python.
pub(crate) const PYTHON_ENV: &str = "ECS_AUTOPSY_MOTO_PYTHON";

/// Creates `target/moto-venv` and installs the pinned requirements, unless the same
/// requirements are already installed. Returns the venv's Python.
pub(crate) fn install(root: &Path) -> anyhow::Result<PathBuf> {
    install_venv(
        root,
        "target/moto-venv",
        &["recorder/tests/moto/requirements.txt"],
    )
}

/// The benchmarks' environment, `target/bench-venv`: moto plus the pinned AWS CLI that the
/// benchmarks compare against (`bench/requirements.txt`). Returns its Python; `aws` is beside it.
pub(crate) fn install_bench(root: &Path) -> anyhow::Result<PathBuf> {
    install_venv(
        root,
        "target/bench-venv",
        &[
            "recorder/tests/moto/requirements.txt",
            "bench/requirements.txt",
        ],
    )
}

/// The Lambda packaging tools, `target/lambda-venv`: cargo-lambda and Zig
/// (`recorder/lambda/requirements.txt`). Returns its Python; `cargo-lambda` is beside it.
pub(crate) fn install_lambda(root: &Path) -> anyhow::Result<PathBuf> {
    install_venv(
        root,
        "target/lambda-venv",
        &["recorder/lambda/requirements.txt"],
    )
}

/// The portable build's tools, `target/dist-venv`: cargo-zigbuild and Zig
/// (`.ci/dist-requirements.txt`). Returns its Python; `cargo-zigbuild` is beside it.
pub(crate) fn install_dist(root: &Path) -> anyhow::Result<PathBuf> {
    install_venv(root, "target/dist-venv", &[".ci/dist-requirements.txt"])
}

/// The linters of the GitHub workflows, the action and the Dockerfile, `target/ci-venv`
/// (`.ci/lint-requirements.txt`). Returns its Python; the linters are beside it.
pub(crate) fn install_ci_lint(root: &Path) -> anyhow::Result<PathBuf> {
    install_venv(root, "target/ci-venv", &[".ci/lint-requirements.txt"])
}

fn install_venv(root: &Path, dir: &str, requirement_files: &[&str]) -> anyhow::Result<PathBuf> {
    let mut wanted = String::new();
    for file in requirement_files {
        let path = root.join(file);
        wanted += &std::fs::read_to_string(&path)
            .map_err(|err| anyhow::format_err!("{}: {err}", path.display()))?;
    }
    let venv = root.join(dir);
    let python = venv.join("bin/python");
    let stamp = venv.join("installed-requirements.txt");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(python);
    }

    eprintln!(
        "xtask: installing {} into {}",
        requirement_files.join(" and "),
        venv.display()
    );
    let system_python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run(Command::new(&system_python)
        .args(["-m", "venv", "--clear"])
        .arg(&venv))?;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
        ])
        .args(requirement_files.iter().flat_map(|file| ["-r", file]))
        .current_dir(root))?;
    std::fs::write(&stamp, wanted)?;
    Ok(python)
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .map_err(|err| anyhow::format_err!("{command:?}: {err}"))?;
    if !status.success() {
        return Err(anyhow::format_err!("{command:?} failed ({status})"));
    }
    Ok(())
}
