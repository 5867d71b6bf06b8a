//! `generate completions SHELL` and `generate man DIR`: both made from the clap definition in
//! `args.rs`, so they always describe the flags this binary has.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::CommandFactory as _;

use crate::args::Cli;

/// Prints the completion script for `shell`.
pub(crate) fn completions(shell: clap_complete::Shell) -> anyhow::Result<u8> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "ecs-autopsy", &mut script);
    let script = String::from_utf8(script).context("the completion script is not UTF-8")?;
    super::print_stdout(&script)?;
    Ok(0)
}

/// Writes `ecs-autopsy.1` and one page per command (`ecs-autopsy-rules-test.1`, …) into `dir`,
/// and prints the path of each.
pub(crate) fn man(dir: &Path) -> anyhow::Result<u8> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut written = Vec::new();
    write_pages(command, dir, &mut written)
        .with_context(|| format!("{}: cannot write the man pages", dir.display()))?;
    written.sort();
    let mut out = String::new();
    for page in written {
        out += &page.display().to_string();
        out.push('\n');
    }
    super::print_stdout(&out)?;
    Ok(0)
}

/// The page of `command`, then of each of its commands, as `clap_mangen::generate_to` does,
/// keeping the paths.
fn write_pages(
    command: clap::Command,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub.clone(), dir, written)?;
    }
    written.push(clap_mangen::Man::new(command).generate_to(dir)?);
    Ok(())
}
