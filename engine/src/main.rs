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

use engine::evidence::Evidence;
use engine::rule::{self, Rule};
use engine::runtime::{self, Limits};

const EXIT_HELP: &str = "\
Exit codes:
  0  nothing wrong found (no stopped tasks, or only benign stops)
  1  at least one problem diagnosed, or a stopped task no rule could explain
  2  error: bad flags, unreadable input, or a rule that failed to load";

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
    /// When to colour the text output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Treat rule runtime errors as errors (exit code 2)
    #[arg(long, global = true)]
    strict: bool,
    /// More logging on stderr (-v: progress, -vv: every rule); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Diagnose a recorded bundle, or a folder of AWS CLI outputs, offline
    #[command(after_help = EXIT_HELP)]
    Replay {
        /// A bundle file (.json or .json.gz) or a directory of AWS CLI JSON outputs
        input: PathBuf,
    },
    /// Create and examine bundles
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// List the rules that would run
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Print a rule's documentation
    Explain {
        /// The rule id, e.g. app-missing-config
        rule: String,
    },
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
}

#[derive(Subcommand)]
enum RulesCommand {
    /// List every rule: built-in and from --rules directories
    List,
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
        Command::Replay { input } => replay(global, input),
        Command::Bundle(BundleCommand::Import {
            inputs,
            output,
            force,
        }) => import(global, inputs, output, *force),
        Command::Bundle(BundleCommand::Inspect { input }) => inspect(global, input),
        Command::Rules(RulesCommand::List) => list_rules(global),
        Command::Explain { rule } => explain(global, rule),
    }
}

struct LoadedRules {
    rules: Vec<Rule>,
    replaced: Vec<String>,
    had_errors: bool,
}

fn load_rules(engine: &rhai::Engine, global: &GlobalArgs) -> LoadedRules {
    let (mut rules, mut errors) = rule::builtin_rules(engine);
    let mut extra = Vec::new();
    for dir in &global.rules {
        let (mut loaded, mut load_errors) = rule::load_dir(engine, dir);
        extra.append(&mut loaded);
        errors.append(&mut load_errors);
    }
    let (replaced, mut merge_errors) = rule::merge_rules(&mut rules, extra);
    errors.append(&mut merge_errors);
    for error in &errors {
        eprintln!("ecs-autopsy: error: rule not loaded: {error}");
    }
    LoadedRules {
        rules,
        replaced,
        had_errors: !errors.is_empty(),
    }
}

fn replay(global: &GlobalArgs, input: &std::path::Path) -> anyhow::Result<u8> {
    let limits = Limits::standard();
    let engine = runtime::new_engine(&limits);
    let loaded = load_rules(&engine, global);
    let input = engine::input::load(input)?;
    warn_skipped(global, &input.skipped);
    let evidence = Arc::new(Evidence::from_bundle(input.bundle));
    let report = engine::diagnose(&engine, &evidence, &loaded.rules, &limits, loaded.replaced);
    let text = match global.format {
        Format::Text => report.render_text(use_color(global.color)),
        Format::Json => report.render_json(),
        Format::Markdown => report.render_markdown(),
    };
    print_stdout(&text)?;
    if !global.quiet {
        for error in &report.rule_errors {
            let position = error
                .position
                .as_deref()
                .map(|p| format!(":{p}"))
                .unwrap_or_default();
            eprintln!(
                "ecs-autopsy: warning: rule {} failed ({}{position}): {}",
                error.rule, error.file, error.message
            );
        }
    }
    let rule_failed = global.strict && !report.rule_errors.is_empty();
    Ok(if loaded.had_errors || rule_failed {
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
    if output.exists() && !force {
        return Err(anyhow::format_err!(
            "{} already exists; pass --force to overwrite it",
            output.display()
        ));
    }
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
    let input = engine::input::load(input)?;
    warn_skipped(global, &input.skipped);
    let summary = engine::inspect::summarize(&input.bundle);
    let text = match global.format {
        Format::Json => summary.render_json(),
        Format::Text | Format::Markdown => summary.render_text(),
    };
    print_stdout(&text)?;
    Ok(0)
}

fn list_rules(global: &GlobalArgs) -> anyhow::Result<u8> {
    let engine = runtime::new_engine(&Limits::standard());
    let loaded = load_rules(&engine, global);
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
            out
        }
    };
    print_stdout(&text)?;
    Ok(if loaded.had_errors { 2 } else { 0 })
}

fn explain(global: &GlobalArgs, id: &str) -> anyhow::Result<u8> {
    let engine = runtime::new_engine(&Limits::standard());
    let loaded = load_rules(&engine, global);
    let Some(rule) = loaded.rules.iter().find(|r| r.meta.id == id) else {
        let mut ids: Vec<&str> = loaded.rules.iter().map(|r| r.meta.id.as_str()).collect();
        ids.sort_by_key(|candidate| strsim_distance(candidate, id));
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

/// A small edit distance for "did you mean" suggestions.
fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
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
    let default = if global.quiet {
        "error"
    } else {
        match global.verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}
