//! `diagnose` and `record` over several accounts and Regions: one collection per scope (a
//! profile, or a role assumed in an account, in a Region), one bundle each, one merged report
//! naming account and Region. A scope that cannot be read is named with its error, and the
//! others go on; the run then exits 2, since that scope may have held the answer.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::args::{Format, GlobalArgs, LiveArgs, ViewArgs};
use crate::commands::diagnose::{Scope, build_report, collect, render, report_exit_code};
use crate::commands::{Setup, print_stdout, refuse_to_clobber};

/// What one scope gave: its bundle, or why it could not be read.
struct Collected {
    scope: Scope,
    bundle: Result<recorder::Bundle, String>,
}

/// Accounts and Regions collected at once; each paces its own APIs (quotas are per account
/// and Region).
const SCOPES_AT_ONCE: usize = 4;

fn collect_all(global: &GlobalArgs, live: &LiveArgs, scopes: &[Scope]) -> Vec<Collected> {
    let one = |scope: &Scope| {
        let bundle = collect(global, live, scope).map_err(|err| ecs_autopsy::error_line(&err));
        if let Err(error) = &bundle {
            global
                .messages()
                .error(format_args!("{}: {error}", scope.describe(None)));
        }
        Collected {
            scope: scope.clone(),
            bundle,
        }
    };
    let mut collected = Vec::with_capacity(scopes.len());
    for chunk in scopes.chunks(SCOPES_AT_ONCE) {
        std::thread::scope(|threads| {
            let running: Vec<_> = chunk
                .iter()
                .map(|scope| (scope, threads.spawn(|| one(scope))))
                .collect();
            for (scope, thread) in running {
                // A collection that panicked is reported like any other failure.
                collected.push(thread.join().unwrap_or_else(|_| Collected {
                    scope: scope.clone(),
                    bundle: Err("the collection stopped on an internal error".to_owned()),
                }));
            }
        });
    }
    collected
}

/// The file a scope's bundle goes to in `dir`: `123456789012-eu-west-1.json.gz`.
fn bundle_file(dir: &Path, collected: &Collected) -> PathBuf {
    let bundle = collected.bundle.as_ref().ok();
    let who = collected
        .scope
        .account
        .clone()
        .or_else(|| bundle.and_then(|b| b.manifest.account.clone()))
        .or_else(|| collected.scope.profile.clone())
        .unwrap_or_else(|| "default".to_owned());
    let region = collected
        .scope
        .region
        .clone()
        .or_else(|| bundle.and_then(|b| b.manifest.region.clone()))
        .unwrap_or_else(|| "default".to_owned());
    let safe = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    dir.join(format!("{}-{}.json.gz", safe(&who), safe(&region)))
}

fn output_dir(path: &Path, option: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !crate::commands::is_stdout(path),
        "{option} - writes one bundle; with several accounts or Regions, name a directory for one bundle each"
    );
    anyhow::ensure!(
        !path.is_file(),
        "{}: with several accounts or Regions, {option} names a directory for one bundle each, and this is a file",
        path.display()
    );
    std::fs::create_dir_all(path)
        .map_err(|err| anyhow::format_err!("{}: cannot create: {err}", path.display()))
}

fn save_all(
    global: &GlobalArgs,
    collected: &[Collected],
    dir: &Path,
    force: bool,
) -> anyhow::Result<()> {
    for one in collected {
        if let Ok(bundle) = &one.bundle {
            let path = bundle_file(dir, one);
            refuse_to_clobber(&path, force)?;
            crate::commands::write_bundle(bundle, &path)?;
            global.messages().note(format_args!(
                "{}: wrote {}",
                one.scope.describe(Some(bundle)),
                path.display()
            ));
        }
    }
    Ok(())
}

/// `record` over several scopes: `-o DIR`, one bundle per scope.
pub(crate) fn record(
    global: &GlobalArgs,
    live: &LiveArgs,
    scopes: &[Scope],
    output: &Path,
    force: bool,
) -> anyhow::Result<u8> {
    output_dir(output, "-o")?;
    let collected = collect_all(global, live, scopes);
    save_all(global, &collected, output, force)?;
    Ok(if collected.iter().any(|c| c.bundle.is_err()) {
        2
    } else {
        0
    })
}

/// `diagnose` over several scopes: one merged report.
pub(crate) fn diagnose(
    global: &GlobalArgs,
    live: &LiveArgs,
    scopes: &[Scope],
    view: ViewArgs,
    save: Option<&Path>,
    force: bool,
) -> anyhow::Result<u8> {
    if global.format == Format::Html {
        anyhow::bail!(
            "--format html draws one account and Region; run diagnose once per --profile or --role-arn, or use text, json or markdown"
        );
    }
    if let Some(dir) = save {
        output_dir(dir, "--save")?;
    }
    let collected = collect_all(global, live, scopes);
    if let Some(dir) = save {
        save_all(global, &collected, dir, force)?;
    }
    let setup = Setup::load(global, &[])?;
    let mut code = 0;
    let mut results = Vec::new();
    for one in collected {
        match one.bundle {
            Ok(bundle) => {
                let name = one.scope.describe(Some(&bundle));
                // The account asked for; else the bundle's (a pseudonym when redacted).
                let account = one
                    .scope
                    .account
                    .clone()
                    .or_else(|| bundle.manifest.account.clone());
                let region = bundle.manifest.region.clone();
                let (report, evidence) = build_report(global, &setup, bundle, view);
                code = code.max(report_exit_code(global, &setup, &report));
                results.push((one.scope, name, account, region, Ok((report, evidence))));
            }
            Err(error) => {
                code = 2;
                let name = one.scope.describe(None);
                let (account, region) = (one.scope.account.clone(), one.scope.region.clone());
                results.push((one.scope, name, account, region, Err(error)));
            }
        }
    }
    let out = match global.format {
        Format::Json => {
            let scopes: Vec<serde_json::Value> = results
                .iter()
                .map(|(scope, _, account, region, report)| {
                    serde_json::json!({
                        "account": account,
                        "region": region,
                        "profile": scope.profile,
                        "role_arn": scope.role_arn,
                        "error": report.as_ref().err(),
                        "report": report.as_ref().ok().and_then(|(r, _)| serde_json::from_str::<serde_json::Value>(&r.render_json()).ok()),
                    })
                })
                .collect();
            let status = match code {
                0 => "ok",
                1 => "problems",
                _ => "error",
            };
            let set = serde_json::json!({
                "schema": "ecs-autopsy-report-set",
                "schema_version": 1,
                "tool_version": env!("CARGO_PKG_VERSION"),
                "status": status,
                "scopes": scopes,
            });
            format!("{}\n", serde_json::to_string_pretty(&set)?)
        }
        // HTML was refused above.
        Format::Text | Format::Markdown | Format::Html => {
            let markdown = global.format == Format::Markdown;
            let mut out = if markdown {
                format!("## ecs-autopsy: {} accounts and Regions\n\n", results.len())
            } else {
                format!(
                    "ecs-autopsy {} · cluster {} · {} accounts and Regions\n\n",
                    env!("CARGO_PKG_VERSION"),
                    live.cluster,
                    results.len()
                )
            };
            for (_, name, _, _, report) in &results {
                let headline = match report {
                    Ok((report, _)) => report.headline(),
                    Err(error) => format!("error: {error}"),
                };
                if markdown {
                    let _ = writeln!(out, "- **{name}**: {headline}");
                } else {
                    let _ = writeln!(out, "  {name}: {headline}");
                }
            }
            for (_, name, _, _, report) in &results {
                let Ok((report, evidence)) = report else {
                    continue;
                };
                if markdown {
                    let _ = write!(out, "\n---\n\n# {name}\n\n");
                } else {
                    let _ = write!(out, "\n━━ {name} ━━\n");
                }
                out.push_str(&render(global, &setup, report, evidence, view));
            }
            out
        }
    };
    print_stdout(&out)?;
    Ok(code)
}
