//! `cargo xtask lambda`: the event-driven recorder's deployment package. Installs cargo-lambda
//! and Zig from PyPI (pinned in `recorder/lambda/requirements.txt`) into `target/lambda-venv`,
//! runs `cargo lambda build --release --output-format zip` for x86_64, and checks what it made:
//! the zip, a `bootstrap` that is an x86-64 ELF, and the newest glibc symbol version it needs
//! (AL2023, the `provided.al2023` runtime, has glibc 2.34). Writes section 5 of
//! bench/RESULTS.md.
//!
//! arm64 needs the `aarch64-unknown-linux-gnu` standard library, which this machine's
//! toolchain does not have and cannot fetch; the build says so instead of failing silently.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;

/// The newest glibc `provided.al2023` offers.
const AL2023_GLIBC: (u32, u32) = (2, 34);

/// What one build made.
pub(crate) struct Built {
    pub(crate) zip: PathBuf,
    pub(crate) zip_bytes: u64,
    pub(crate) bootstrap_bytes: u64,
    pub(crate) seconds: f64,
    /// Whether the build started with nothing of an earlier one in `target/` (a cold build).
    pub(crate) cold: bool,
    pub(crate) glibc: (u32, u32),
}

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    if let Some(arg) = args.first() {
        anyhow::bail!("unknown argument `{arg}`: `cargo xtask lambda` takes none");
    }
    let built = build(root)?;
    let section = render(&built, &arm64_note());
    println!("{section}");
    crate::write_results_section(root, &section)?;
    Ok(())
}

/// Builds the x86_64 package and checks it.
pub(crate) fn build(root: &Path) -> anyhow::Result<Built> {
    let python = crate::moto::install_lambda(root)?;
    let bin = python
        .parent()
        .context("the venv has a bin directory")?
        .to_path_buf();
    let cold = !root
        .join("target/x86_64-unknown-linux-gnu/release")
        .exists();
    let started = Instant::now();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args([
            "lambda",
            "build",
            "--release",
            "--x86-64",
            "--output-format",
            "zip",
            "--package",
            "ecs-autopsy-lambda",
        ])
        .env("PATH", crate::path_with(&bin)?)
        .current_dir(root)
        .status()
        .context("cargo lambda")?;
    anyhow::ensure!(status.success(), "`cargo lambda build` failed ({status})");
    let seconds = started.elapsed().as_secs_f64();
    let dir = root.join("target/lambda/ecs-autopsy-lambda");
    let zip = dir.join("bootstrap.zip");
    let zip_bytes = std::fs::metadata(&zip)
        .with_context(|| format!("{}: cargo lambda did not make it", zip.display()))?
        .len();
    // What Lambda runs: the zip's `bootstrap`, read with the venv's Python (zipfile), which
    // also says whether it is executable.
    let script = "import sys, zipfile\n\
        z = zipfile.ZipFile(sys.argv[1])\n\
        names = z.namelist()\n\
        assert names == ['bootstrap'], names\n\
        mode = (z.getinfo('bootstrap').external_attr >> 16) & 0o777\n\
        assert mode & 0o111, oct(mode)\n\
        sys.stdout.buffer.write(z.read('bootstrap'))\n";
    let output = Command::new(&python)
        .args(["-c", script])
        .arg(&zip)
        .output()
        .context("python")?;
    anyhow::ensure!(
        output.status.success(),
        "{}: not a zip holding one executable `bootstrap`: {}",
        zip.display(),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let bootstrap = output.stdout;
    // ELF, 64-bit, e_machine 0x3E (x86-64).
    anyhow::ensure!(
        bootstrap.starts_with(b"\x7fELF\x02") && bootstrap.get(18..20) == Some(&[0x3e, 0x00]),
        "bootstrap is not an x86-64 ELF executable"
    );
    let glibc = newest_glibc(&bootstrap);
    anyhow::ensure!(
        glibc <= AL2023_GLIBC,
        "bootstrap needs glibc {}.{}, newer than provided.al2023's {}.{}",
        glibc.0,
        glibc.1,
        AL2023_GLIBC.0,
        AL2023_GLIBC.1
    );
    Ok(Built {
        zip,
        zip_bytes,
        bootstrap_bytes: u64::try_from(bootstrap.len()).unwrap_or(u64::MAX),
        seconds,
        cold,
        glibc,
    })
}

/// The newest `GLIBC_x.y` symbol version named in a binary.
pub(crate) fn newest_glibc(binary: &[u8]) -> (u32, u32) {
    let mut newest = (0, 0);
    let needle = b"GLIBC_";
    let mut at = 0;
    while let Some(found) = binary[at..].windows(needle.len()).position(|w| w == needle) {
        let start = at + found + needle.len();
        let digits: String = binary[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .map(|b| char::from(*b))
            .collect();
        let mut parts = digits.split('.').filter_map(|p| p.parse::<u32>().ok());
        if let (Some(major), Some(minor)) = (parts.next(), parts.next()) {
            newest = newest.max((major, minor));
        }
        at = start;
    }
    newest
}

/// Whether arm64 can be built here, in one sentence.
fn arm64_note() -> String {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "aarch64-unknown-linux-gnu")
    {
        "arm64: the aarch64 target is installed; `cargo lambda build --release --arm64 --output-format zip -p ecs-autopsy-lambda` builds it.".to_owned()
    } else {
        "arm64: not built here: this toolchain has no `aarch64-unknown-linux-gnu` standard library and cannot fetch one offline; `rustup target add aarch64-unknown-linux-gnu` then `cargo lambda build --release --arm64 …` builds it where it can.".to_owned()
    }
}

fn render(built: &Built, arm64: &str) -> String {
    #[allow(clippy::cast_precision_loss)]
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    format!(
        "## 5. Lambda package\n\n\
         `cargo xtask lambda` (cargo-lambda and Zig from PyPI, pinned): `cargo lambda build --release \
         --x86-64 --output-format zip -p ecs-autopsy-lambda`.\n\n\
         | what | value |\n|---|---:|\n\
         | build time of this run (release, {}) | {:.0} s |\n\
         | `{}` | {:.1} MiB |\n\
         | `bootstrap` (x86-64 ELF) | {:.1} MiB |\n\
         | newest glibc symbol it needs | {}.{} (provided.al2023 has {}.{}) |\n\n\
         {arm64}\n",
        if built.cold {
            "cold: nothing built before"
        } else {
            "incremental: target/ held an earlier build"
        },
        built.seconds,
        built
            .zip
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        mib(built.zip_bytes),
        mib(built.bootstrap_bytes),
        built.glibc.0,
        built.glibc.1,
        AL2023_GLIBC.0,
        AL2023_GLIBC.1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_glibc_version_is_found_among_the_symbol_versions() {
        let binary = b"\0GLIBC_2.2.5\0memcpy\0GLIBC_2.28\0GLIBC_2.17\0GLIBC_PRIVATE\0";
        assert_eq!(newest_glibc(binary), (2, 28));
        assert_eq!(newest_glibc(b"no versions"), (0, 0));
    }
}
