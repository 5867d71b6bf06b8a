//! The `ecs-autopsy` binary: parses flags, loads rules and input, prints, picks the exit code.
//! Everything else lives in the `engine` and `recorder` libraries.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};

use engine::config::{self, Config};
use engine::evidence::Evidence;
use engine::report::RuleNotes;
use engine::rule::{self, RuleSet};
use engine::runtime;

const EXIT_HELP: &str = "\
Exit codes:
  0  nothing wrong found (no stopped tasks, or only benign stops)
  1  at least one problem diagnosed, or a stopped task no rule could explain
  2  error: bad flags or configuration, unreadable input, or a rule that failed to load";

#[derive(Parser)]
#[command(
    name = "ecs-autopsy",
    version,
    about = "Tells you why your Amazon ECS tasks stopped, with the evidence",
    after_help = EXIT_HELP,
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: GlobalArgs,
}

#[derive(Args)]
struct GlobalArgs {
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Extra rule directory (repeatable); a rule with a built-in's id replaces it
    #[arg(long = "rules", value_name = "DIR", global = true)]
    rules: Vec<PathBuf>,
    /// Use this configuration file instead of searching for ecs-autopsy.toml
    #[arg(long, value_name = "FILE", global = true, conflicts_with = "no_config")]
    config: Option<PathBuf>,
    /// Ignore every ecs-autopsy.toml (rule directories, disabled rules, overrides, limits)
    #[arg(long, global = true)]
    no_config: bool,
    /// When to colour the text output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Treat rule runtime errors as errors (exit code 2)
    #[arg(long, global = true)]
    strict: bool,
    /// More logging on stderr (-v: each AWS call and its duration, -vv: every rule); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Diagnose stopped tasks from the live AWS APIs (read-only)
    #[command(after_help = EXIT_HELP)]
    Diagnose {
        #[command(flatten)]
        live: LiveArgs,
        /// Also save the bundle the diagnosis was made from (redacted unless --no-redact)
        #[arg(long, value_name = "FILE")]
        save: Option<PathBuf>,
        /// Overwrite the --save file if it exists
        #[arg(long)]
        force: bool,
    },
    /// Record every AWS response the diagnosis needs into a bundle, for `replay` anywhere
    Record {
        #[command(flatten)]
        live: LiveArgs,
        /// Where to write the bundle; gzip-compressed when the name ends in .gz
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Overwrite the output file if it exists
        #[arg(long)]
        force: bool,
    },
    /// Diagnose a recorded bundle, or a folder of AWS CLI outputs, offline
    #[command(after_help = EXIT_HELP)]
    Replay {
        /// A bundle file (.json or .json.gz) or a directory of AWS CLI JSON outputs
        input: PathBuf,
    },
    /// Create and examine bundles
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// List, create, test, check and document rules
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Print a rule's documentation
    Explain {
        /// The rule id, e.g. app-missing-config
        rule: String,
    },
}

/// What to collect from AWS, and how to reach it.
#[derive(Args)]
struct LiveArgs {
    /// The ECS cluster (name or ARN)
    #[arg(long)]
    cluster: String,
    /// A service whose stopped tasks to diagnose (repeatable)
    #[arg(long = "service", value_name = "NAME")]
    services: Vec<String>,
    /// A task to diagnose, by ARN or id (repeatable); for standalone tasks without a service
    #[arg(long = "task", value_name = "ARN")]
    tasks: Vec<String>,
    /// Only tasks that stopped within this long, e.g. 30m or 2h (ECS keeps stopped tasks for about an hour)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    since: Option<std::time::Duration>,
    /// At most this many stopped tasks, the most recent
    #[arg(long, value_name = "N", default_value_t = 100)]
    max_tasks: usize,
    /// Log lines to read from the end of each container's log stream
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    log_lines: i32,
    /// AWS calls in flight at once
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Seconds one attempt of one AWS call may take
    #[arg(long, value_name = "SECONDS", default_value_t = 20)]
    call_timeout: u64,
    /// AWS profile (default: AWS_PROFILE, then the default profile)
    #[arg(long)]
    profile: Option<String>,
    /// AWS Region (default: AWS_REGION, then the profile's region)
    #[arg(long)]
    region: Option<String>,
    /// Send every AWS call to this endpoint; AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> also work
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Keep environment values, credentials found in text and the account id in the bundle
    #[arg(long)]
    no_redact: bool,
}

#[derive(Subcommand)]
enum BundleCommand {
    /// Build a bundle from the JSON outputs of AWS CLI commands you already ran
    ///
    /// Recognised: ecs describe-tasks, describe-services, describe-task-definition, list-tasks,
    /// describe-container-instances; logs get-log-events, filter-log-events; elbv2
    /// describe-target-groups, describe-target-health. Each file's command is detected from
    /// its JSON shape; files that are not recognised are listed with the reason.
    Import {
        /// Files or directories (searched recursively)
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Where to write the bundle; gzip-compressed when the name ends in .gz
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Overwrite the output file if it exists
        #[arg(long)]
        force: bool,
    },
    /// Show what a bundle holds: calls, tasks, time range and errors
    Inspect {
        /// A bundle file or a directory of AWS CLI outputs
        input: PathBuf,
    },
    /// Check a bundle for credential-shaped values before you share it
    ///
    /// Lists every value redaction would replace: AWS keys, tokens, private keys, passwords in
    /// URLs and settings, environment values and secret log-driver options, each with where it
    /// is, its kind and its length, never the value. Exit 0 when clean, 1 when something was
    /// found, 2 when the file cannot be read.
    Scan {
        /// The bundle file (plain or gzip)
        input: PathBuf,
    },
    /// Rewrite a bundle of any older format version in the current one
    ///
    /// The content is kept; only what the format changed is converted, so the upgraded bundle
    /// diagnoses exactly as the original. A bundle already in the current version is written
    /// out unchanged in content (canonical JSON).
    Upgrade {
        /// The bundle to read (plain or gzip)
        input: PathBuf,
        /// Where to write the upgraded bundle; gzip-compressed when the name ends in .gz
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Overwrite the output file if it exists
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// List every rule that would run: built-in, configured and from --rules directories
    List,
    /// Create a rule skeleton and a fixture folder with a positive and a near-miss case to fill
    New {
        /// The rule id, in kebab-case (also its file name)
        id: String,
        /// Where to create it (default: the first configured rule directory, else the current one)
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Run the fixture cases (case.toml) under each DIR and compare the findings with expected.txt
    ///
    /// The rules are the built-ins, the configured and --rules directories, and the *.rhai files
    /// directly inside each DIR. Without DIR, the configured and --rules directories are tested.
    #[command(
        after_help = "Exit codes:\n  0  every case passed\n  1  a case failed\n  2  error: no cases, unreadable case, or a rule that failed to load"
    )]
    Test {
        /// Directories searched (recursively) for case folders
        dirs: Vec<PathBuf>,
        /// Record the current findings as each case's expected.txt, showing what changed
        #[arg(long)]
        update: bool,
    },
    /// Compile rules and validate their metadata, docs and function names, without running them
    ///
    /// Lists every error as FILE:LINE:COLUMN: MESSAGE. Without DIR, checks the configured and
    /// --rules directories, or the built-in rules when there are none.
    #[command(
        after_help = "Exit codes:\n  0  no errors\n  1  errors found\n  2  a directory could not be read"
    )]
    Check {
        /// Rule directories (the *.rhai files directly inside)
        dirs: Vec<PathBuf>,
    },
    /// Print every rule's documentation as one Markdown document, or one file per rule
    Docs {
        /// Write DIR/<rule>.md for each rule and DIR/README.md with the index
        #[arg(long, value_name = "DIR")]
        output: Option<PathBuf>,
    },
    /// Write Rhai definition files (*.d.rhai) so editors autocomplete the evidence API
    Definitions {
        /// The directory to write them to
        #[arg(long, value_name = "DIR", default_value = ".rhai-definitions")]
        output: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    init_logging(&cli.global);
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("ecs-autopsy: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<u8> {
    let global = &cli.global;
    match &cli.command {
        Command::Diagnose { live, save, force } => {
            diagnose_live(global, live, save.as_deref(), *force)
        }
        Command::Record {
            live,
            output,
            force,
        } => record(global, live, output, *force),
        Command::Replay { input } => replay(global, input),
        Command::Bundle(BundleCommand::Import {
            inputs,
            output,
            force,
        }) => import(global, inputs, output, *force),
        Command::Bundle(BundleCommand::Inspect { input }) => inspect(global, input),
        Command::Bundle(BundleCommand::Scan { input }) => scan(global, input),
        Command::Bundle(BundleCommand::Upgrade {
            input,
            output,
            force,
        }) => upgrade(global, input, output, *force),
        Command::Rules(RulesCommand::List) => list_rules(global),
        Command::Rules(RulesCommand::New { id, dir }) => new_rule(global, id, dir.as_deref()),
        Command::Rules(RulesCommand::Test { dirs, update }) => test_rules(global, dirs, *update),
        Command::Rules(RulesCommand::Check { dirs }) => check_rules(global, dirs),
        Command::Rules(RulesCommand::Docs { output }) => rules_docs(global, output.as_deref()),
        Command::Rules(RulesCommand::Definitions { output }) => rules_definitions(global, output),
        Command::Explain { rule } => explain(global, rule),
    }
}

/// The configuration, the engine built with its limits, and the rules that run.
struct Setup {
    config: Config,
    engine: rhai::Engine,
    rules: RuleSet,
}

impl Setup {
    /// Reads the configuration and loads the rules: the built-ins, the configured directories,
    /// `--rules` and `extra_dirs`. Rule errors are printed, not returned: the other rules run.
    fn load(global: &GlobalArgs, extra_dirs: &[PathBuf]) -> anyhow::Result<Setup> {
        let config = load_config(global)?;
        let engine = runtime::new_engine(&config.limits);
        let dirs: Vec<PathBuf> = rule_dirs(global, &config)
            .into_iter()
            .chain(extra_dirs.iter().cloned())
            .collect();
        let rules = rule::load_rule_set(&engine, &dirs, &config);
        for error in &rules.errors {
            eprintln!("ecs-autopsy: error: {error}");
        }
        Ok(Setup {
            config,
            engine,
            rules,
        })
    }

    fn notes(&self) -> RuleNotes {
        self.rules.notes()
    }
}

fn load_config(global: &GlobalArgs) -> anyhow::Result<Config> {
    let source = if global.no_config {
        config::Source::None
    } else if let Some(path) = &global.config {
        config::Source::File(path.clone())
    } else {
        config::Source::Discover {
            cwd: std::env::current_dir().context("cannot read the working directory")?,
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
fn rule_dirs(global: &GlobalArgs, config: &Config) -> Vec<PathBuf> {
    config
        .rule_dirs
        .iter()
        .chain(&global.rules)
        .cloned()
        .collect()
}

fn replay(global: &GlobalArgs, input: &std::path::Path) -> anyhow::Result<u8> {
    let setup = Setup::load(global, &[])?;
    let input = engine::input::load(input, setup.config.bundle)?;
    warn_skipped(global, &input.skipped);
    report_bundle(global, &setup, input.bundle)
}

fn diagnose_live(
    global: &GlobalArgs,
    live: &LiveArgs,
    save: Option<&std::path::Path>,
    force: bool,
) -> anyhow::Result<u8> {
    if let Some(path) = save {
        refuse_to_clobber(path, force)?;
    }
    let bundle = collect_live(global, live)?;
    if let Some(path) = save {
        bundle
            .write(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        if !global.quiet {
            eprintln!("ecs-autopsy: saved the bundle to {}", path.display());
        }
    }
    report_bundle(global, &Setup::load(global, &[])?, bundle)
}

fn record(
    global: &GlobalArgs,
    live: &LiveArgs,
    output: &std::path::Path,
    force: bool,
) -> anyhow::Result<u8> {
    refuse_to_clobber(output, force)?;
    let bundle = collect_live(global, live)?;
    bundle
        .write(output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    if !global.quiet {
        eprintln!(
            "ecs-autopsy: wrote {} with {} call(s); replay it with `ecs-autopsy replay {}`",
            output.display(),
            bundle.calls.len(),
            output.display()
        );
    }
    Ok(0)
}

fn refuse_to_clobber(path: &std::path::Path, force: bool) -> anyhow::Result<()> {
    if path.exists() && !force {
        return Err(anyhow::format_err!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        ));
    }
    Ok(())
}

/// Reads the live APIs into a bundle, redacted unless --no-redact, and warns about every
/// call that failed. Fails only when nothing at all could be read from ECS.
fn collect_live(global: &GlobalArgs, live: &LiveArgs) -> anyhow::Result<recorder::Bundle> {
    use recorder::live::{AwsSettings, CallEvent, Options};
    use std::sync::atomic::{AtomicUsize, Ordering};

    if live.services.is_empty() && live.tasks.is_empty() {
        return Err(anyhow::format_err!(
            "nothing to diagnose: pass --service NAME or --task ARN"
        ));
    }
    let settings = AwsSettings {
        profile: live.profile.clone(),
        region: live.region.clone(),
        endpoint_url: live.endpoint_url.clone(),
        max_attempts: 5,
        attempt_timeout: std::time::Duration::from_secs(live.call_timeout.max(1)),
        operation_timeout: std::time::Duration::from_secs(live.call_timeout.max(1) * 6),
    };
    let stopped_after = live.since.map(|since| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let millis = i64::try_from(now.saturating_sub(since).as_millis()).unwrap_or(i64::MAX);
        recorder::time::Timestamp::from_millis(millis)
    });
    let options = Options {
        cluster: live.cluster.clone(),
        services: live.services.clone(),
        tasks: live.tasks.clone(),
        stopped_after,
        max_stopped_tasks: live.max_tasks,
        log_lines: live.log_lines,
        concurrency: usize::from(live.concurrency),
    };
    let show_progress = !global.quiet && std::io::stderr().is_terminal();
    let done = Arc::new(AtomicUsize::new(0));
    let observer: Option<recorder::live::CallObserver> = show_progress.then(|| {
        let done = Arc::clone(&done);
        let observer: recorder::live::CallObserver = Arc::new(move |event: &CallEvent| {
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            eprint!(
                "\r\x1b[2Kecs-autopsy: {n} AWS call(s) done, last {} ({} ms)",
                event.operation,
                event.elapsed.as_millis()
            );
        });
        observer
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut bundle = runtime.block_on(async {
        let sdk = recorder::live::load_sdk_config(&settings).await?;
        let recorded_at = engine::input::recorded_at_now();
        anyhow::Ok(recorder::live::collect(&sdk, &options, recorded_at, observer).await)
    })?;
    if show_progress {
        eprint!("\r\x1b[2K");
    }

    if !global.quiet {
        for call in &bundle.calls {
            if let Some(error) = &call.error {
                let action = recorder::Operation::lookup(&call.service, &call.operation)
                    .map(|op| format!(" (needs {})", op.iam_action()))
                    .unwrap_or_default();
                eprintln!(
                    "ecs-autopsy: warning: {} {} failed: {}: {}{action}",
                    call.service, call.operation, error.code, error.message
                );
            }
        }
    }
    let ecs_read = bundle
        .calls
        .iter()
        .any(|call| call.service == "ecs" && call.error.is_none());
    if !ecs_read {
        let first = bundle.calls.iter().find_map(|call| {
            call.error.as_ref().map(|e| {
                format!(
                    "{} {}: {}: {}",
                    call.service, call.operation, e.code, e.message
                )
            })
        });
        return Err(anyhow::format_err!(
            "could not read anything from ECS in cluster {}{}",
            live.cluster,
            first.map(|f| format!(" ({f})")).unwrap_or_default()
        ));
    }
    if !live.no_redact {
        recorder::redact::redact(&mut bundle);
    }
    Ok(bundle)
}

/// `90s`, `15m`, `2h`, `1d`, or a bare number of seconds.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 30m or 2h"))?;
    let seconds = match unit {
        "" | "s" => value,
        "m" => value * 60,
        "h" => value * 3600,
        "d" => value * 86_400,
        _ => return Err(format!("`{text}`: use s, m, h or d, as in 30m or 2h")),
    };
    Ok(std::time::Duration::from_secs(seconds))
}

fn report_bundle(
    global: &GlobalArgs,
    setup: &Setup,
    bundle: recorder::Bundle,
) -> anyhow::Result<u8> {
    let evidence = Arc::new(Evidence::from_bundle_with(bundle, setup.config.evidence));
    if evidence.cut_lines > 0 && !global.quiet {
        eprintln!(
            "ecs-autopsy: warning: {} log line(s) longer than {} bytes were cut to that length (limits.max_log_line_bytes)",
            evidence.cut_lines, setup.config.evidence.max_log_line_bytes
        );
    }
    let report = engine::diagnose(
        &setup.engine,
        &evidence,
        &setup.rules.rules,
        &setup.config.limits,
        &setup.notes(),
    );
    let text = match global.format {
        Format::Text => report.render_text(use_color(global.color)),
        Format::Json => report.render_json(),
        Format::Markdown => report.render_markdown(),
    };
    print_stdout(&text)?;
    if !global.quiet {
        for error in &report.rule_errors {
            eprintln!(
                "ecs-autopsy: warning: rule {} failed ({}): {}",
                error.rule,
                error.location(),
                error.message
            );
        }
    }
    let rule_failed = global.strict && !report.rule_errors.is_empty();
    Ok(if !setup.rules.errors.is_empty() || rule_failed {
        2
    } else {
        u8::from(report.has_problems())
    })
}

fn import(
    global: &GlobalArgs,
    inputs: &[PathBuf],
    output: &std::path::Path,
    force: bool,
) -> anyhow::Result<u8> {
    refuse_to_clobber(output, force)?;
    let imported = engine::input::import(inputs)?;
    warn_skipped(global, &imported.skipped);
    if imported.bundle.calls.is_empty() {
        return Err(anyhow::format_err!(
            "no AWS CLI output recognised in the inputs ({} file(s) skipped); nothing written",
            imported.skipped.len()
        ));
    }
    imported
        .bundle
        .write(output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    if !global.quiet {
        eprintln!(
            "ecs-autopsy: wrote {} with {} call(s){}",
            output.display(),
            imported.bundle.calls.len(),
            if imported.skipped.is_empty() {
                String::new()
            } else {
                format!("; {} file(s) skipped", imported.skipped.len())
            }
        );
    }
    Ok(0)
}

fn inspect(global: &GlobalArgs, input: &std::path::Path) -> anyhow::Result<u8> {
    let config = load_config(global)?;
    let input = engine::input::load(input, config.bundle)?;
    warn_skipped(global, &input.skipped);
    let summary = engine::inspect::summarize(&input.bundle);
    let text = match global.format {
        Format::Json => summary.render_json(),
        Format::Text | Format::Markdown => summary.render_text(),
    };
    print_stdout(&text)?;
    Ok(0)
}

fn scan(global: &GlobalArgs, input: &std::path::Path) -> anyhow::Result<u8> {
    let config = load_config(global)?;
    let bundle = recorder::Bundle::read_with(input, config.bundle)?;
    let report = engine::scan::ScanReport::new(&input.display().to_string(), &bundle);
    let text = match global.format {
        Format::Json => report.render_json(),
        Format::Text | Format::Markdown => report.render_text(),
    };
    print_stdout(&text)?;
    Ok(u8::from(!report.clean))
}

fn upgrade(
    global: &GlobalArgs,
    input: &std::path::Path,
    output: &std::path::Path,
    force: bool,
) -> anyhow::Result<u8> {
    refuse_to_clobber(output, force)?;
    let config = load_config(global)?;
    let bundle = recorder::Bundle::read_with(input, config.bundle)?;
    let from = bundle.manifest.format_version;
    let bundle = recorder::bundle::upgrade(bundle);
    bundle
        .write(output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    if !global.quiet {
        let what = if from == bundle.manifest.format_version {
            format!("already format version {from}; written unchanged")
        } else {
            format!(
                "upgraded from format version {from} to {}",
                bundle.manifest.format_version
            )
        };
        eprintln!(
            "ecs-autopsy: {}: {what}, to {}",
            input.display(),
            output.display()
        );
    }
    Ok(0)
}

fn list_rules(global: &GlobalArgs) -> anyhow::Result<u8> {
    let setup = Setup::load(global, &[])?;
    let loaded = &setup.rules;
    let text = match global.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = loaded
                .rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.meta.id, "title": r.meta.title, "severity": r.meta.severity,
                        "category": r.meta.category, "benign": r.meta.benign, "origin": r.origin.to_string(),
                    })
                })
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&rows)?)
        }
        Format::Text | Format::Markdown => {
            let width = loaded
                .rules
                .iter()
                .map(|r| r.meta.id.len())
                .max()
                .unwrap_or(0);
            let mut out = String::new();
            for rule in &loaded.rules {
                let benign = if rule.meta.benign { " (benign)" } else { "" };
                let _ = writeln!(
                    out,
                    "{:<width$}  {:<7}  {}{benign}  [{}]",
                    rule.meta.id,
                    rule.meta.severity.to_string(),
                    rule.meta.title,
                    rule.origin
                );
            }
            if !loaded.disabled.is_empty() {
                let _ = writeln!(
                    out,
                    "\ndisabled by {}: {}",
                    setup.config.name(),
                    loaded.disabled.join(", ")
                );
            }
            out
        }
    };
    print_stdout(&text)?;
    Ok(if loaded.errors.is_empty() { 0 } else { 2 })
}

fn new_rule(global: &GlobalArgs, id: &str, dir: Option<&std::path::Path>) -> anyhow::Result<u8> {
    let config = load_config(global)?;
    let dir = dir
        .map(std::path::Path::to_path_buf)
        .or_else(|| rule_dirs(global, &config).into_iter().next())
        .unwrap_or_else(|| PathBuf::from("."));
    let written = engine::scaffold::new_rule(id, &dir)?;
    if !global.quiet {
        for path in &written {
            eprintln!("ecs-autopsy: created {}", path.display());
        }
        let builtin = rule::builtin_rules(&runtime::new_engine(&config.limits))
            .0
            .iter()
            .any(|r| r.meta.id == id);
        if builtin {
            eprintln!(
                "ecs-autopsy: note: a built-in rule is called `{id}`; yours replaces it wherever its directory is loaded"
            );
        }
        eprintln!(
            "ecs-autopsy: next: put a bundle in each case folder, then run `ecs-autopsy rules test {}`",
            dir.display()
        );
    }
    Ok(0)
}

fn test_rules(global: &GlobalArgs, dirs: &[PathBuf], update: bool) -> anyhow::Result<u8> {
    let setup = Setup::load(global, dirs)?;
    let roots = if dirs.is_empty() {
        rule_dirs(global, &setup.config)
    } else {
        dirs.to_vec()
    };
    if roots.is_empty() {
        return Err(anyhow::format_err!(
            "nothing to test: name a directory (`ecs-autopsy rules test team-rules`) or list rule directories in {}",
            config::FILE_NAME
        ));
    }
    let mut cases = Vec::new();
    for root in &roots {
        cases.extend(engine::case::find_cases(root)?);
    }
    cases.dedup();
    if cases.is_empty() {
        return Err(anyhow::format_err!(
            "no case folders (with {}) under {}",
            engine::case::CASE_FILE,
            roots
                .iter()
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    let mut out = String::new();
    let (mut passed, mut failed, mut updated) = (0, 0, 0);
    for dir in &cases {
        let outcome = engine::case::run_case(
            dir,
            &setup.engine,
            &setup.rules,
            &setup.config.limits,
            update,
        );
        updated += usize::from(outcome.updated);
        let status = if outcome.failures.is_empty() {
            passed += 1;
            "ok  "
        } else {
            failed += 1;
            "FAIL"
        };
        let _ = writeln!(out, "{status}  {}", dir.display());
        for failure in &outcome.failures {
            for line in failure.lines() {
                let _ = writeln!(out, "      {line}");
            }
        }
        if let Some(change) = &outcome.change {
            for line in change.lines() {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    let _ = write!(
        out,
        "\n{} case(s), {} rule(s): {passed} passed, {failed} failed",
        cases.len(),
        setup.rules.rules.len()
    );
    if update {
        let _ = write!(out, ", {updated} expected.txt written");
    }
    out.push('\n');
    print_stdout(&out)?;
    Ok(if setup.rules.errors.is_empty() {
        u8::from(failed > 0)
    } else {
        2
    })
}

fn check_rules(global: &GlobalArgs, dirs: &[PathBuf]) -> anyhow::Result<u8> {
    let config = load_config(global)?;
    let engine = runtime::new_engine(&config.limits);
    let dirs = if dirs.is_empty() {
        rule_dirs(global, &config)
    } else {
        dirs.to_vec()
    };
    let checked = rule::check_rules(&engine, &dirs);
    let mut out = String::new();
    for error in &checked.errors {
        let _ = writeln!(out, "{error}");
    }
    let _ = writeln!(
        out,
        "{}checked {} rule file(s): {}",
        if checked.errors.is_empty() { "" } else { "\n" },
        checked.files,
        match checked.errors.len() {
            0 => "no errors".to_owned(),
            1 => "1 error".to_owned(),
            n => format!("{n} errors"),
        }
    );
    print_stdout(&out)?;
    Ok(if checked.unreadable {
        2
    } else {
        u8::from(!checked.errors.is_empty())
    })
}

fn rules_docs(global: &GlobalArgs, output: Option<&std::path::Path>) -> anyhow::Result<u8> {
    let setup = Setup::load(global, &[])?;
    let rules = &setup.rules.rules;
    match output {
        None => print_stdout(&engine::rule::render_docs_book(rules))?,
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let mut files = vec![(
                dir.join("README.md"),
                engine::rule::render_docs_index(rules, ""),
            )];
            for rule in rules {
                files.push((
                    dir.join(format!("{}.md", rule.meta.id)),
                    engine::rule::render_docs(rule),
                ));
            }
            for (path, text) in &files {
                std::fs::write(path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            if !global.quiet {
                eprintln!(
                    "ecs-autopsy: wrote {} file(s) to {}",
                    files.len(),
                    dir.display()
                );
            }
        }
    }
    Ok(if setup.rules.errors.is_empty() { 0 } else { 2 })
}

fn rules_definitions(global: &GlobalArgs, output: &std::path::Path) -> anyhow::Result<u8> {
    let config = load_config(global)?;
    let engine = runtime::new_engine(&config.limits);
    let files = runtime::definition_files(&engine);
    std::fs::create_dir_all(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    for (name, text) in &files {
        let path = output.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !global.quiet {
        eprintln!(
            "ecs-autopsy: wrote {} definition file(s) to {}; point your editor's Rhai language server at it",
            files.len(),
            output.display()
        );
    }
    Ok(0)
}

fn explain(global: &GlobalArgs, id: &str) -> anyhow::Result<u8> {
    let setup = Setup::load(global, &[])?;
    let loaded = &setup.rules;
    let Some(rule) = loaded.rules.iter().find(|r| r.meta.id == id) else {
        let mut ids: Vec<&str> = loaded.rules.iter().map(|r| r.meta.id.as_str()).collect();
        ids.sort_by_key(|candidate| rule::edit_distance(candidate, id));
        return Err(anyhow::format_err!(
            "no rule `{id}`; did you mean {}? (`ecs-autopsy rules list` shows all)",
            ids.iter()
                .take(3)
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    print_stdout(&engine::rule::render_docs(rule))?;
    Ok(0)
}

fn warn_skipped(global: &GlobalArgs, skipped: &[recorder::import::Skipped]) {
    if global.quiet {
        return;
    }
    for skip in skipped {
        eprintln!(
            "ecs-autopsy: warning: skipped {}: {}",
            skip.path.display(),
            skip.reason
        );
    }
}

fn use_color(choice: ColorChoice) -> bool {
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

fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_logging(global: &GlobalArgs) {
    // Our own crates log at the chosen level; the AWS SDK only when it has an error to report
    // (its warnings about unused credential sources are noise here). RUST_LOG overrides.
    let ours = if global.quiet {
        "error"
    } else {
        match global.verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }
    };
    let default = format!("error,ecs_autopsy={ours},engine={ours},recorder={ours}");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}
