//! The `ecs-autopsy` binary: parses flags, runs one command, prints, picks the exit code.
//!
//! `args` is the command line, `commands` does each command's IO around the `engine` and
//! `recorder` libraries, and `messages` is everything said on stderr.

mod args;
mod commands;
mod messages;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{BundleCommand, Cli, Command, GenerateCommand, GlobalArgs, RulesCommand};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version are output, not errors.
        Err(err) if !err.use_stderr() => {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        // Like every other error: one line, with the program's prefix.
        Err(err) => {
            messages::Messages { quiet: false }.error(clap_error_line(&err));
            return ExitCode::from(2);
        }
    };
    init_logging(&cli.global);
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        // The reader went away (`| head`): what they read is all they wanted.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            cli.global.messages().error(ecs_autopsy::error_line(&err));
            ExitCode::from(2)
        }
    }
}

/// Runs the command; the exit code is 0 (nothing wrong), 1 (problems found) or, through an
/// error, 2.
fn run(cli: &Cli) -> anyhow::Result<u8> {
    let global = &cli.global;
    if global.format == args::Format::Html
        && !matches!(
            cli.command,
            Command::Diagnose { .. } | Command::Replay { .. }
        )
    {
        anyhow::bail!(
            "--format html is for diagnose and replay (a report with a timeline); use text, json or markdown here"
        );
    }
    match &cli.command {
        Command::Diagnose {
            live,
            view,
            save,
            force,
        } => commands::diagnose::live(global, live, *view, save.as_deref(), *force),
        Command::Record {
            live,
            output,
            force,
        } => commands::diagnose::record(global, live, output, *force),
        Command::Replay {
            input,
            services,
            since,
            max_tasks,
            view,
            store,
        } => commands::diagnose::replay(
            global,
            input,
            &commands::diagnose::Narrowing {
                services: services.clone(),
                since: *since,
                max_tasks: *max_tasks,
            },
            *view,
            store,
        ),
        Command::History {
            source,
            since,
            services,
            concurrency,
            store,
        } => commands::history::history(
            global,
            &commands::history::Query {
                source: source.clone(),
                since: *since,
                services: services.clone(),
                concurrency: usize::from(*concurrency),
            },
            store,
        ),
        Command::Lint {
            paths,
            cluster,
            services,
            aws,
        } => commands::lint::lint(
            global,
            &match cluster {
                Some(cluster) => commands::lint::Target::Live {
                    cluster,
                    services,
                    aws,
                },
                None => commands::lint::Target::Paths(paths),
            },
        ),
        Command::Bundle(command) => match command {
            BundleCommand::Import {
                inputs,
                output,
                force,
            } => commands::bundle::import(global, inputs, output, *force),
            BundleCommand::Inspect { input } => commands::bundle::inspect(global, input),
            BundleCommand::Scan { input } => commands::bundle::scan(global, input),
            BundleCommand::Redact {
                input,
                output,
                force,
            } => commands::bundle::redact(global, input, output, *force),
            BundleCommand::Upgrade {
                input,
                output,
                force,
            } => commands::bundle::upgrade(global, input, output, *force),
            BundleCommand::Fetch {
                url,
                output,
                force,
                store,
            } => commands::bundle::fetch(global, url, output, *force, store),
        },
        Command::Rules(command) => match command {
            RulesCommand::List => commands::rules::list(global),
            RulesCommand::New { id, dir, example } => {
                commands::rules::new(global, id, dir.as_deref(), *example)
            }
            RulesCommand::Test { dirs, update } => commands::rules::test(global, dirs, *update),
            RulesCommand::Check { dirs } => commands::rules::check(global, dirs),
            RulesCommand::Docs { output } => commands::rules::docs(global, output.as_deref()),
            RulesCommand::Definitions { output } => commands::rules::definitions(global, output),
        },
        Command::Explain { rule } => commands::rules::explain(global, rule),
        Command::Generate(command) => match command {
            GenerateCommand::Completions { shell } => commands::generate::completions(*shell),
            GenerateCommand::Man { dir } => commands::generate::man(dir),
        },
    }
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

/// clap's message on one line, without its own `error:` prefix, its usage block or its
/// "For more information" tail, which say a `--help` run would.
fn clap_error_line(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    let lines: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .filter(|line| !line.is_empty())
        .collect();
    let message = lines.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    format!("{message} (see --help)")
}
