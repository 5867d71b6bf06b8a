//! The browser the HTML report is tested in: Debian's `chromium` package, installed by the
//! project (`apt-get`, as root or through `sudo -n`) when `/usr/bin/chromium` is missing.
//! Debian's stable package is what `apt-get` gives; its version is printed, not pinned (a
//! browser is a security update stream, and Debian keeps one version per release).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

/// The variable the HTML tests read to find the browser.
pub(crate) const CHROMIUM_ENV: &str = "ECS_AUTOPSY_CHROMIUM";

const DEBIAN_CHROMIUM: &str = "/usr/bin/chromium";

/// The browser's path: `ECS_AUTOPSY_CHROMIUM` when set, else Debian's, installed if missing.
pub(crate) fn install() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os(CHROMIUM_ENV) {
        let path = PathBuf::from(path);
        anyhow::ensure!(
            path.exists(),
            "{CHROMIUM_ENV}={} does not exist",
            path.display()
        );
        return Ok(path);
    }
    let path = PathBuf::from(DEBIAN_CHROMIUM);
    if !path.exists() {
        eprintln!("xtask: installing Debian's chromium for the HTML report tests");
        apt(&["update", "-qq"])?;
        apt(&[
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "chromium",
            "fonts-dejavu-core",
        ])?;
    }
    let version = Command::new(&path)
        .arg("--version")
        .output()
        .with_context(|| format!("{} --version", path.display()))?;
    eprintln!("xtask: {}", String::from_utf8_lossy(&version.stdout).trim());
    Ok(path)
}

fn apt(args: &[&str]) -> anyhow::Result<()> {
    let root = is_root();
    let mut command = if root {
        Command::new("apt-get")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", "apt-get"]);
        sudo
    };
    let status = command
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("apt-get")?;
    anyhow::ensure!(
        status.success(),
        "`apt-get {}` failed ({status}); install Debian's chromium (or set {CHROMIUM_ENV} to a Chromium) and run again",
        args.join(" ")
    );
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// The flags every headless run uses: no sandbox (CI runs as root), no GPU, and none of the
/// browser's own background connections (this machine's network is closed, and the report
/// must be seen to fetch nothing by itself).
pub(crate) fn headless_flags(profile: &Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]
    .iter()
    .map(|flag| (*flag).to_owned())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}
