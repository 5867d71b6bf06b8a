//! `cargo xtask dist`: the portable Linux binary. Installs cargo-zigbuild and Zig from PyPI
//! (pinned in `.ci/dist-requirements.txt`) into `target/dist-venv`, builds `ecs-autopsy` with
//! the `dist` profile (release, thin LTO, optimised for size, stripped) for
//! `x86_64-unknown-linux-gnu.2.17`, so it runs on glibc 2.17 and newer (CentOS 7, Amazon Linux
//! 2, every Debian and Ubuntu still in use), and checks what it made: an x86-64 ELF, no glibc
//! symbol newer than 2.17, no OpenSSL, no symbol table, and the same report as the test
//! build on the shipped example bundle. Then runs the README's `cargo install --locked` both
//! ways, by path and by git URL (this clone's), and each installed binary. Writes section 6 of
//! bench/RESULTS.md.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;

const TARGET: &str = "x86_64-unknown-linux-gnu";
const GLIBC: (u32, u32) = (2, 17);
const EXAMPLE: &str = "fixtures/app-missing-config/dropped-env-var/bundle.json";

pub(crate) struct Built {
    pub(crate) binary: PathBuf,
    bytes: u64,
    seconds: f64,
    cold: bool,
    glibc: (u32, u32),
    needed: Vec<String>,
    release_bytes: Option<u64>,
    /// `cargo install` from the clone, by path and by git URL: (how, seconds).
    installs: Vec<(String, f64)>,
}

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    if let Some(arg) = args.first() {
        anyhow::bail!("unknown argument `{arg}`: `cargo xtask dist` takes none");
    }
    let built = build(root)?;
    let section = render(&built);
    println!("{section}");
    crate::write_results_section(root, &section)
}

/// Builds the portable binary and checks it.
pub(crate) fn build(root: &Path) -> anyhow::Result<Built> {
    let python = crate::moto::install_dist(root)?;
    let bin = python
        .parent()
        .context("the venv has a bin directory")?
        .to_path_buf();
    let out_dir = root.join(format!("target/{TARGET}/dist"));
    let cold = !out_dir.exists();
    let started = Instant::now();
    let target = format!("{TARGET}.{}.{}", GLIBC.0, GLIBC.1);
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args([
            "zigbuild",
            "--locked",
            "--profile",
            "dist",
            "-p",
            "ecs-autopsy",
            "--target",
            &target,
        ])
        .env("PATH", crate::path_with(&bin)?)
        .current_dir(root)
        .status()
        .context("cargo zigbuild")?;
    anyhow::ensure!(status.success(), "`cargo zigbuild` failed ({status})");
    let seconds = started.elapsed().as_secs_f64();
    let binary = out_dir.join("ecs-autopsy");
    let bytes = std::fs::read(&binary)
        .with_context(|| format!("{}: cargo zigbuild did not make it", binary.display()))?;

    // ELF, 64-bit, e_machine 0x3E (x86-64).
    anyhow::ensure!(
        bytes.starts_with(b"\x7fELF\x02") && bytes.get(18..20) == Some(&[0x3e, 0x00]),
        "{} is not an x86-64 ELF executable",
        binary.display()
    );
    let glibc = crate::lambda::newest_glibc(&bytes);
    anyhow::ensure!(
        glibc <= GLIBC,
        "{} needs glibc {}.{}, newer than {}.{}",
        binary.display(),
        glibc.0,
        glibc.1,
        GLIBC.0,
        GLIBC.1
    );
    let dynamic = readelf(&["-d"], &binary)?;
    let needed: Vec<String> = dynamic
        .lines()
        .filter(|line| line.contains("(NEEDED)"))
        .filter_map(|line| line.split('[').nth(1)?.split(']').next())
        .map(str::to_owned)
        .collect();
    anyhow::ensure!(
        !needed.is_empty()
            && needed
                .iter()
                .all(|lib| !lib.contains("ssl") && !lib.contains("crypto")),
        "{} links {needed:?}: OpenSSL must not be among them (rustls only)",
        binary.display()
    );
    let sections = readelf(&["-S", "-W"], &binary)?;
    anyhow::ensure!(
        !sections.contains(" .symtab "),
        "{} is not stripped (it has a .symtab section)",
        binary.display()
    );

    // It runs, and says what the test build says.
    let version = Command::new(&binary).arg("--version").output()?;
    anyhow::ensure!(
        String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")),
        "`{} --version` printed {:?}",
        binary.display(),
        String::from_utf8_lossy(&version.stdout)
    );
    let portable = replay(&binary, root)?;
    anyhow::ensure!(
        portable.0 == Some(1) && portable.1.contains("app-missing-config"),
        "the portable binary's replay of {EXAMPLE} exited {:?}:\n{}",
        portable.0,
        portable.1
    );
    let debug = root.join("target/debug/ecs-autopsy");
    if debug.exists() {
        let reference = replay(&debug, root)?;
        anyhow::ensure!(
            reference == portable,
            "the portable binary's report differs from target/debug/ecs-autopsy's"
        );
    }
    let release_bytes = std::fs::metadata(root.join("target/release/ecs-autopsy"))
        .ok()
        .map(|m| m.len());
    let url = format!("file://{}", root.display());
    let installs = vec![
        install(root, "path", &["--path", "engine/cli"])?,
        install(root, "git", &["--git", &url, "ecs-autopsy"])?,
    ];
    Ok(Built {
        binary,
        bytes: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
        seconds,
        cold,
        glibc,
        needed,
        release_bytes,
        installs,
    })
}

/// `cargo install --locked ARGS` into `target/install-check/NAME` (sharing `target/` for the
/// dependencies), then the installed binary's `--version`. The README's install commands, run
/// against this clone: by path, and by git URL, which is what `--git https://github.com/…`
/// does with the published repository (it installs the committed HEAD).
fn install(root: &Path, name: &str, args: &[&str]) -> anyhow::Result<(String, f64)> {
    let dir = root.join("target/install-check").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let started = Instant::now();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args(["install", "--locked", "--quiet", "--root"])
        .arg(&dir)
        .arg("--target-dir")
        .arg(root.join("target"))
        .args(args)
        .current_dir(root)
        .status()
        .context("cargo install")?;
    anyhow::ensure!(
        status.success(),
        "`cargo install --locked {}` failed ({status})",
        args.join(" ")
    );
    let seconds = started.elapsed().as_secs_f64();
    let binary = dir.join("bin/ecs-autopsy");
    let version = Command::new(&binary)
        .arg("--version")
        .output()
        .with_context(|| binary.display().to_string())?;
    anyhow::ensure!(
        String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")),
        "{} --version printed {:?}",
        binary.display(),
        String::from_utf8_lossy(&version.stdout)
    );
    Ok((
        format!("cargo install --locked {}", args.join(" ")),
        seconds,
    ))
}

/// Exit code and stdout of a `--format json` replay of the example bundle.
fn replay(binary: &Path, root: &Path) -> anyhow::Result<(Option<i32>, String)> {
    let output = Command::new(binary)
        .args(["--no-config", "--format", "json", "replay", EXAMPLE])
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .current_dir(root)
        .output()
        .with_context(|| binary.display().to_string())?;
    Ok((
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    ))
}

fn readelf(args: &[&str], binary: &Path) -> anyhow::Result<String> {
    let output = Command::new("readelf")
        .args(args)
        .arg(binary)
        .output()
        .context("readelf (binutils)")?;
    anyhow::ensure!(
        output.status.success(),
        "readelf {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn install_rows(installs: &[(String, f64)]) -> String {
    let mut rows = String::new();
    for (how, seconds) in installs {
        let _ = writeln!(
            rows,
            "| `{how}` into `target/install-check/`, then `--version` | {seconds:.0} s |"
        );
    }
    rows
}

fn render(built: &Built) -> String {
    #[allow(clippy::cast_precision_loss)]
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let release = built.release_bytes.map_or_else(
        || "not built on this machine".to_owned(),
        |bytes| format!("{:.1} MiB", mib(bytes)),
    );
    format!(
        "## 6. Portable Linux binary\n\n\
         `cargo xtask dist` (cargo-zigbuild and Zig from PyPI, pinned): `cargo zigbuild --locked \
         --profile dist -p ecs-autopsy --target {TARGET}.{}.{}`. The `dist` profile is release with \
         thin LTO, `opt-level = \"s\"` and stripped symbols.\n\n\
         | what | value |\n|---|---:|\n\
         | build time of this run ({}) | {:.0} s |\n\
         | `{}` | {:.1} MiB |\n\
         | `target/release/ecs-autopsy` (plain `cargo build --release`, unstripped) | {release} |\n\
         | newest glibc symbol version it needs | {}.{} |\n\
         | shared libraries it needs | {} |\n\
         {}\n\
         Checked by the task: x86-64 ELF, no glibc symbol newer than {}.{}, no OpenSSL (rustls \
         with aws-lc-rs), no symbol table, `--version`, and a replay of `{EXAMPLE}` whose JSON \
         report is byte for byte the test build's.\n",
        GLIBC.0,
        GLIBC.1,
        if built.cold { "cold" } else { "warm" },
        built.seconds,
        built
            .binary
            .strip_prefix(crate::root())
            .unwrap_or(&built.binary)
            .display(),
        mib(built.bytes),
        built.glibc.0,
        built.glibc.1,
        built.needed.join(", "),
        install_rows(&built.installs),
        GLIBC.0,
        GLIBC.1,
    )
}
