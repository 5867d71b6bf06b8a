//! The command line: every command, flag and help text, as clap parses them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use ecs_autopsy::duration::parse_duration;

pub(crate) const EXIT_HELP: &str = "\
Exit codes:
  0  nothing wrong found (no stopped tasks, or only benign stops)
  1  at least one problem diagnosed, or a stopped task no rule could explain
  2  error: bad flags or configuration, unreadable input, or a rule that failed to load";

/// For the commands that call AWS: what -v logs, then the exit codes.
pub(crate) const LIVE_HELP: &str = "\
Logging: -v logs each AWS call and its duration, -vv also every rule.

Exit codes:
  0  nothing wrong found (no stopped tasks, or only benign stops)
  1  at least one problem diagnosed, or a stopped task no rule could explain
  2  error: bad flags or configuration, unreadable input, or a rule that failed to load";

/// For `lint`: what -v logs, then the exit codes.
pub(crate) const LINT_HELP: &str = "\
Logging: -v logs each AWS call and its duration (with --cluster).

Exit codes:
  0  every configuration check passed
  1  at least one check found a problem
  2  error: bad flags or configuration, unreadable input, no configuration rule, or a rule that
     failed to load or to run (a check that did not run has not passed)";

/// For `history`: the exit codes.
pub(crate) const HISTORY_HELP: &str = "\
Exit codes:
  0  no stop in the window, or only benign stops
  1  at least one stop with a problem (a root cause, or one no rule could explain)
  2  error: bad flags, an unreadable prefix, or a stored object that could not be read (the
     summary is printed without it)";

/// For `record`: what -v logs.
pub(crate) const RECORD_HELP: &str = "Logging: -v logs each AWS call and its duration.";

#[derive(Parser)]
#[command(
    name = "ecs-autopsy",
    version,
    about = "Tells you why your Amazon ECS tasks stopped, with the evidence",
    after_help = EXIT_HELP,
    propagate_version = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
}

#[derive(Args)]
pub(crate) struct GlobalArgs {
    /// Output format (html: one page with a drawn timeline, for diagnose and replay)
    #[arg(long, global = true, value_enum, default_value_t = Format::Text, help_heading = "Output")]
    pub(crate) format: Format,
    /// Extra rule directory (repeatable); a rule with a built-in's id replaces it
    #[arg(
        long = "rules",
        value_name = "DIR",
        global = true,
        help_heading = "Rules"
    )]
    pub(crate) rules: Vec<PathBuf>,
    /// Use this configuration file instead of searching for ecs-autopsy.toml
    #[arg(
        long,
        value_name = "FILE",
        global = true,
        conflicts_with = "no_config",
        help_heading = "Rules"
    )]
    pub(crate) config: Option<PathBuf>,
    /// Ignore every ecs-autopsy.toml (rule directories, disabled rules, overrides, limits)
    #[arg(long, global = true, help_heading = "Rules")]
    pub(crate) no_config: bool,
    /// When to colour the text output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Output")]
    pub(crate) color: ColorChoice,
    /// Treat rule runtime errors as errors (exit code 2)
    #[arg(long, global = true, help_heading = "Rules")]
    pub(crate) strict: bool,
    /// More logging on stderr (-v, -vv: more detail); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet", help_heading = "Logging")]
    pub(crate) verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true, help_heading = "Logging")]
    pub(crate) quiet: bool,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Diagnose stopped tasks from the live AWS APIs (read-only)
    #[command(after_help = LIVE_HELP)]
    Diagnose {
        #[command(flatten)]
        live: LiveArgs,
        #[command(flatten)]
        view: ViewArgs,
        /// Also save the bundle the diagnosis was made from (redacted unless --no-redact)
        #[arg(long, value_name = "FILE", help_heading = "Output")]
        save: Option<PathBuf>,
        /// Overwrite the --save file if it exists
        #[arg(long, help_heading = "Output")]
        force: bool,
    },
    /// Record every AWS response the diagnosis needs into a bundle, for `replay` anywhere
    #[command(after_help = RECORD_HELP)]
    Record {
        #[command(flatten)]
        live: LiveArgs,
        /// Where to write the bundle; gzip-compressed when the name ends in .gz, `-` for standard output
        #[arg(short, long, value_name = "FILE", help_heading = "Output")]
        output: PathBuf,
        /// Overwrite the output file if it exists
        #[arg(long, help_heading = "Output")]
        force: bool,
    },
    /// Diagnose a recorded bundle, a folder of AWS CLI outputs or an ECS event, offline
    #[command(after_help = EXIT_HELP)]
    Replay {
        /// A bundle file (.json or .json.gz), a directory of AWS CLI JSON outputs, an EventBridge
        /// event from ECS (or an SQS message or batch holding some), or s3://BUCKET/KEY of a
        /// bundle the event-driven recorder stored
        input: PathBuf,
        /// Only this service's stopped tasks (repeatable)
        #[arg(long = "service", value_name = "NAME", help_heading = "Input")]
        services: Vec<String>,
        /// Only tasks that stopped within this long before the bundle was recorded, e.g. 30m
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Input")]
        since: Option<std::time::Duration>,
        /// At most this many stopped tasks, the most recent
        #[arg(long, value_name = "N", help_heading = "Input")]
        max_tasks: Option<usize>,
        #[command(flatten)]
        view: ViewArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Summarise every incident the event-driven recorder stored: per service, stops and root causes
    ///
    /// Reads every bundle (and every stop kept as its event only) under an S3 prefix the
    /// recorder writes (s3://BUCKET/bundles/…, docs/fleet.md) or a local copy of one (any other
    /// bundle or event file below it too; not the recorder's markers), several at once,
    /// diagnoses each with the rules, and counts each stopped task once: per service, its
    /// stops, root causes with counts, first and last seen, and the trend over the window.
    #[command(after_help = HISTORY_HELP)]
    History {
        /// s3://BUCKET/PREFIX, or a directory holding a copy of one (aws s3 sync)
        source: String,
        /// Only stops within this long before now, e.g. 24h or 7d
        #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_duration, help_heading = "Input")]
        since: std::time::Duration,
        /// Only this service (repeatable)
        #[arg(long = "service", value_name = "NAME", help_heading = "Input")]
        services: Vec<String>,
        /// Bundles read at once
        #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256), help_heading = "Input")]
        concurrency: u16,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Check task definitions and services against the configuration rules, before a deploy
    ///
    /// Runs the rules that declare `checks` (a task definition, a service) with no stopped task
    /// needed, as `ecspresso verify` does before a deploy: on task definition files as kept in
    /// a repository (the `register-task-definition` input) or as `aws ecs
    /// describe-task-definition` prints them, with any describe-services and elbv2
    /// describe-target-group-attributes outputs beside them; on a folder of such files or a
    /// bundle; or on live services with --cluster and --service. No rule checks configuration
    /// until one is added with --rules (examples/team-rules has two).
    #[command(after_help = LINT_HELP)]
    Lint {
        /// Task definition files, AWS CLI outputs, a folder of them, or one bundle
        #[arg(
            value_name = "PATH",
            required_unless_present = "cluster",
            conflicts_with = "cluster",
            help_heading = "Input"
        )]
        paths: Vec<PathBuf>,
        /// Check live services of this cluster (read-only), with --service
        #[arg(long, requires = "services", help_heading = "Input")]
        cluster: Option<String>,
        /// A service to check, with its current task definition and target groups (repeatable)
        #[arg(
            long = "service",
            value_name = "NAME",
            requires = "cluster",
            help_heading = "Input"
        )]
        services: Vec<String>,
        #[command(flatten)]
        aws: AwsArgs,
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
    /// Generate shell completions or man pages
    #[command(subcommand)]
    Generate(GenerateCommand),
}

#[derive(Subcommand)]
pub(crate) enum GenerateCommand {
    /// Print the completion script for SHELL on standard output
    ///
    /// For example, for bash: `ecs-autopsy generate completions bash >
    /// ~/.local/share/bash-completion/completions/ecs-autopsy`; for zsh, into a directory of
    /// your $fpath as `_ecs-autopsy`; for fish, `~/.config/fish/completions/ecs-autopsy.fish`.
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write one man page per command into DIR (ecs-autopsy.1, ecs-autopsy-replay.1, …)
    ///
    /// For example `ecs-autopsy generate man ~/.local/share/man/man1`, then `man ecs-autopsy`.
    Man {
        /// The directory to write the pages to (created if missing)
        dir: PathBuf,
    },
}

/// How to reach S3 for an s3:// input (the default credentials and Region otherwise).
#[derive(Args, Clone, Default)]
pub(crate) struct StoreArgs {
    /// AWS profile for s3:// inputs (default: AWS_PROFILE, then the default profile)
    #[arg(long, value_name = "NAME", help_heading = "S3 input")]
    pub(crate) profile: Option<String>,
    /// AWS Region for s3:// inputs (default: AWS_REGION, then the profile's)
    #[arg(long, value_name = "REGION", help_heading = "S3 input")]
    pub(crate) region: Option<String>,
    /// Send S3 requests to this URL instead of AWS's (also AWS_ENDPOINT_URL)
    #[arg(long, value_name = "URL", help_heading = "S3 input")]
    pub(crate) endpoint_url: Option<String>,
}

/// How much of the report to show.
#[derive(Args, Clone, Copy, Default)]
pub(crate) struct ViewArgs {
    /// One line per cause and per unhealthy service, nothing else (text and Markdown)
    #[arg(long, help_heading = "Output")]
    pub(crate) brief: bool,
    /// Leave out each task's timeline (lifecycle, events and log lines)
    #[arg(long, help_heading = "Output")]
    pub(crate) no_timeline: bool,
}

/// A `--rate` setting: `GetLogEvents=10`, `GetLogEvents=10/20` or `GetLogEvents=off`.
fn parse_rate(
    text: &str,
) -> Result<(recorder::Operation, Option<recorder::live::pace::Rate>), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not API=N: e.g. GetLogEvents=10"))?;
    let operation = recorder::Operation::ALL
        .into_iter()
        .find(|op| op.name().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            let names: Vec<&str> = recorder::Operation::ALL
                .iter()
                .map(|op| op.name())
                .collect();
            format!("no API `{name}`; one of {}", names.join(", "))
        })?;
    if value.trim().eq_ignore_ascii_case("off") {
        return Ok((operation, None));
    }
    let (rate, burst) = value.split_once('/').unwrap_or((value, value));
    let number = |text: &str| -> Result<f64, String> {
        text.trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n > 0.0)
            .ok_or_else(|| format!("`{text}` is not a positive number of requests per second"))
    };
    Ok((
        operation,
        Some(recorder::live::pace::Rate {
            per_second: number(rate)?,
            burst: number(burst)?.max(1.0),
        }),
    ))
}

/// A `--services-matching` pattern.
fn parse_regex(text: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(text).map_err(|err| {
        // The regex crate's message spans lines, with a caret under the error.
        err.to_string()
            .lines()
            .last()
            .unwrap_or("invalid regular expression")
            .trim()
            .to_owned()
    })
}

/// How to reach AWS.
#[derive(Args)]
pub(crate) struct AwsArgs {
    /// AWS calls in flight at once, per API
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64), help_heading = "AWS access")]
    pub(crate) concurrency: u16,
    /// How long one attempt of one AWS call may take, e.g. 20s (a bare number is seconds)
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = parse_duration, help_heading = "AWS access")]
    pub(crate) call_timeout: std::time::Duration,
    /// AWS profile (default: AWS_PROFILE, then the default profile); several, comma-separated,
    /// diagnose each profile's account
    #[arg(
        long = "profile",
        value_name = "PROFILE",
        value_delimiter = ',',
        help_heading = "AWS access"
    )]
    pub(crate) profiles: Vec<String>,
    /// AWS Region (default: AWS_REGION, then the profile's region); several, comma-separated,
    /// diagnose each Region
    #[arg(
        long = "region",
        visible_alias = "regions",
        value_name = "REGION",
        value_delimiter = ',',
        help_heading = "AWS access"
    )]
    pub(crate) regions: Vec<String>,
    /// Assume this role in each of --accounts, e.g. 'arn:aws:iam::{account}:role/ecs-autopsy-reader'
    #[arg(
        long,
        value_name = "ARN",
        requires = "accounts",
        help_heading = "AWS access"
    )]
    pub(crate) role_arn_template: Option<String>,
    /// The accounts to diagnose through --role-arn-template (12-digit ids, comma-separated)
    #[arg(
        long,
        value_name = "ID,…",
        value_delimiter = ',',
        requires = "role_arn_template",
        help_heading = "AWS access"
    )]
    pub(crate) accounts: Vec<String>,
    /// Send every AWS call to this endpoint; AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> also work
    #[arg(long, value_name = "URL", help_heading = "AWS access")]
    pub(crate) endpoint_url: Option<String>,
}

/// What to collect from AWS, and how to reach it.
#[derive(Args)]
pub(crate) struct LiveArgs {
    /// The ECS cluster (name or ARN); alone, every service of it and its standalone tasks
    #[arg(long, help_heading = "Input")]
    pub(crate) cluster: String,
    /// A service whose stopped tasks to diagnose (repeatable)
    #[arg(long = "service", value_name = "NAME", help_heading = "Input")]
    pub(crate) services: Vec<String>,
    /// A task to diagnose, by ARN or id (repeatable); for standalone tasks without a service
    #[arg(long = "task", value_name = "ARN", help_heading = "Input")]
    pub(crate) tasks: Vec<String>,
    /// Pace an API differently from its documented quota, e.g. GetLogEvents=10 (per second),
    /// FilterLogEvents=5/10 (rate/burst) or DescribeTasks=off (repeatable)
    #[arg(long = "rate", value_name = "API=N[/BURST]", value_parser = parse_rate, help_heading = "AWS access")]
    pub(crate) rates: Vec<(recorder::Operation, Option<recorder::live::pace::Rate>)>,
    /// Read every log stream alone with GetLogEvents, never in batches with FilterLogEvents
    #[arg(long, help_heading = "AWS access")]
    pub(crate) logs_per_stream: bool,
    /// Skip the Logs Insights queries (memory of OOM-killed tasks, error patterns; billed by
    /// the data they scan) and the CloudTrail lookups (who stopped or deployed)
    #[arg(long, help_heading = "AWS access")]
    pub(crate) no_queries: bool,
    /// Of the whole cluster, only the services whose name matches this regular expression
    #[arg(long, value_name = "REGEX", value_parser = parse_regex, conflicts_with_all = ["services", "tasks"], help_heading = "Input")]
    pub(crate) services_matching: Option<regex::Regex>,
    /// Only tasks that stopped within this long, e.g. 30m or 2h (ECS keeps stopped tasks for about an hour)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Input")]
    pub(crate) since: Option<std::time::Duration>,
    /// At most this many stopped tasks, the most recent
    #[arg(long, value_name = "N", default_value_t = 100, help_heading = "Input")]
    pub(crate) max_tasks: usize,
    /// Log lines to read from the end of each container's log stream
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(i32).range(1..=10_000), help_heading = "Input")]
    pub(crate) log_lines: i32,
    #[command(flatten)]
    pub(crate) aws: AwsArgs,
    /// Keep environment values, credentials found in text and the account id in the bundle
    #[arg(long, help_heading = "Output")]
    pub(crate) no_redact: bool,
}

#[derive(Subcommand)]
pub(crate) enum BundleCommand {
    /// Build a bundle from the JSON outputs of AWS CLI commands you already ran
    ///
    /// Recognised: ecs describe-tasks, describe-services, describe-task-definition, list-tasks,
    /// describe-container-instances; logs get-log-events, filter-log-events; elbv2
    /// describe-target-groups, describe-target-health, describe-target-group-attributes; and
    /// task definition files as kept in a repository. Each file's command is detected from its
    /// JSON shape; files that are not recognised are listed with the reason.
    Import {
        /// Files or directories (searched recursively)
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Where to write the bundle; gzip-compressed when the name ends in .gz, `-` for standard output
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
        /// A bundle file (plain or gzip) or a directory of AWS CLI outputs
        input: PathBuf,
    },
    /// Redact a bundle or a folder of AWS CLI outputs before you share it
    ///
    /// Applies the redaction `record` applies (environment values, repository credentials,
    /// secret log-driver options and proxy settings replaced; credential-shaped text removed
    /// from log lines, reasons and events; the account id pseudonymised), to any bundle,
    /// imported ones included. Names are kept, so the diagnosis is the same.
    Redact {
        /// A bundle file (plain or gzip) or a directory of AWS CLI outputs
        input: PathBuf,
        /// Where to write the redacted bundle; gzip-compressed when the name ends in .gz, `-` for standard output
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Overwrite the output file if it exists
        #[arg(long)]
        force: bool,
    },
    /// Download a bundle the event-driven recorder stored in S3
    ///
    /// Writes the object as stored (gzip stays gzip), after checking that it is a bundle this
    /// version reads.
    Fetch {
        /// s3://BUCKET/KEY
        url: String,
        /// Where to write it, `-` for standard output
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Overwrite the output file if it exists
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Rewrite a bundle of any older format version in the current one
    ///
    /// The content is kept; only what the format changed is converted, so the upgraded bundle
    /// diagnoses exactly as the original. A bundle already in the current version is written
    /// out unchanged in content (canonical JSON).
    Upgrade {
        /// The bundle to read (plain or gzip)
        input: PathBuf,
        /// Where to write the upgraded bundle; gzip-compressed when the name ends in .gz, `-` for standard output
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Overwrite the output file if it exists
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum RulesCommand {
    /// List every rule that would run: built-in, configured and from --rules directories
    List,
    /// Create a rule skeleton and a fixture folder with a positive and a near-miss case to fill
    New {
        /// The rule id, in kebab-case (also its file name)
        id: String,
        /// Where to create it (default: the first configured rule directory, else the current one)
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Also put the tutorial's two incident bundles in the cases (docs/writing-rules.md)
        #[arg(long)]
        example: bool,
    },
    /// Run the fixture cases (case.toml) under each DIR and compare the findings with expected.txt
    ///
    /// A case may also keep its whole report, as report.txt.snap and report.json.snap (the form
    /// the built-in fixtures use); these are compared too, and then expected.txt is optional.
    ///
    /// The rules are the built-ins, the configured and --rules directories, and the *.rhai files
    /// directly inside each DIR. Without DIR, the configured and --rules directories are tested.
    #[command(
        after_help = "Exit codes:\n  0  every case passed\n  1  a case failed\n  2  error: no cases, unreadable case, or a rule that failed to load"
    )]
    Test {
        /// Directories searched (recursively) for case folders
        dirs: Vec<PathBuf>,
        /// Record the current findings as each case's expected.txt (and its report snapshots, if
        /// it keeps them), showing what changed
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
pub(crate) enum Format {
    Text,
    Json,
    Markdown,
    // One self-contained page with a drawn timeline (diagnose and replay). No doc comment:
    // one would turn every --help into the long form.
    Html,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl GlobalArgs {
    /// Where this run's warnings and notes go.
    pub(crate) fn messages(&self) -> crate::messages::Messages {
        crate::messages::Messages { quiet: self.quiet }
    }
}
