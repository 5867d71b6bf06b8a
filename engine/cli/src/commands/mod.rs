//! One module per group of commands: `diagnose` (diagnose, record, replay), `bundle`,
//! `history`, `lint`, `rules` and `generate`; `store` reads S3 for them. Each command reads what it needs, calls the libraries, prints its output and
//! returns the exit code; what they share is here.

#![allow(clippy::print_stdout)]

pub(crate) mod bundle;
pub(crate) mod diagnose;
pub(crate) mod generate;
pub(crate) mod history;
pub(crate) mod lint;
pub(crate) mod rules;
pub(crate) mod scopes;
pub(crate) mod store;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use ecs_autopsy::config::{self, Config};
use ecs_autopsy::rule_files;
use engine::rule::RuleSet;

use crate::args::{ColorChoice, GlobalArgs};

/// The configuration and the rules that run.
pub(crate) struct Setup {
    pub(crate) config: Config,
    pub(crate) rules: RuleSet,
}

impl Setup {
    /// Reads the configuration and loads the rules: the built-ins, the configured directories,
    /// `--rules` and `extra_dirs`. Rule errors are printed, not returned: the other rules run.
    pub(crate) fn load(global: &GlobalArgs, extra_dirs: &[PathBuf]) -> anyhow::Result<Setup> {
        let config = load_config(global)?;
        let dirs: Vec<PathBuf> = rule_dirs(global, &config)
            .into_iter()
            .chain(extra_dirs.iter().cloned())
            .collect();
        let rules = RuleSet::load(
            config.limits.clone(),
            &rule_files::read_dirs(&dirs),
            &config.rule_config(),
        );
        for error in &rules.errors {
            global.messages().error(error);
        }
        Ok(Setup { config, rules })
    }
}

/// The small async runtime a command's AWS calls run on (two worker threads).
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The configuration file that applies: `--config`, else the one discovered from the working
/// directory, else none (`--no-config`, or nothing found).
pub(crate) fn load_config(global: &GlobalArgs) -> anyhow::Result<Config> {
    let source = if global.no_config {
        config::Source::None
    } else if let Some(path) = &global.config {
        config::Source::File(path.clone())
    } else {
        config::Source::Discover {
            cwd: std::env::current_dir().context("cannot read the working directory")?,
            user_dir: config::user_config_dir(),
        }
    };
    let mut config = Config::load(&source)?;
    // Discovered paths are absolute; name them relative to where the user is, as they would.
    if let Ok(cwd) = std::env::current_dir() {
        for dir in &mut config.rule_dirs {
            if let Ok(relative) = dir.strip_prefix(&cwd) {
                *dir = if relative.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    relative.to_path_buf()
                };
            }
        }
    }
    if let Some(path) = &config.path {
        tracing::info!("configuration: {}", path.display());
    }
    Ok(config)
}

/// The configured rule directories, then `--rules`.
pub(crate) fn rule_dirs(global: &GlobalArgs, config: &Config) -> Vec<PathBuf> {
    config
        .rule_dirs
        .iter()
        .chain(&global.rules)
        .cloned()
        .collect()
}

/// Whether an output path means standard output (`-o -`).
pub(crate) fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Writes a bundle to `path`, gzip-compressed when it ends in `.gz`, or as plain JSON to
/// standard output when it is `-`.
pub(crate) fn write_bundle(bundle: &recorder::Bundle, path: &Path) -> anyhow::Result<()> {
    if is_stdout(path) {
        let json = bundle
            .canonical_json()
            .map_err(|err| anyhow::format_err!("cannot write the bundle: {err}"))?;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&json)?;
        stdout.flush()?;
        return Ok(());
    }
    bundle
        .write(path)
        .map_err(|err| anyhow::format_err!("cannot write {}: {err}", path.display()))
}

/// Where a bundle went, for a note on stderr.
pub(crate) fn shown(path: &Path) -> String {
    if is_stdout(path) {
        "standard output".to_owned()
    } else {
        path.display().to_string()
    }
}

pub(crate) fn refuse_to_clobber(path: &Path, force: bool) -> anyhow::Result<()> {
    if is_stdout(path) {
        return Ok(());
    }
    if path.exists() && !force {
        return Err(anyhow::format_err!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        ));
    }
    Ok(())
}

pub(crate) fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
            !no_color && !dumb && std::io::stdout().is_terminal()
        }
    }
}

pub(crate) fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}
