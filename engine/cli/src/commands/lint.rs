//! `lint`: the configuration checks, on task definition files, AWS CLI outputs, a bundle or
//! live services, with no stopped task needed.

use std::path::PathBuf;

use engine::evidence::Evidence;

use crate::args::{AwsArgs, Format, GlobalArgs};
use crate::commands::diagnose::{ensure_ecs_read, warn_failed_calls, with_aws};
use crate::commands::{Setup, print_stdout, use_color};

/// What `lint` checks: files, or live services.
pub(crate) enum Target<'a> {
    Paths(&'a [PathBuf]),
    Live {
        cluster: &'a str,
        services: &'a [String],
        aws: &'a AwsArgs,
    },
}

pub(crate) fn lint(global: &GlobalArgs, target: &Target<'_>) -> anyhow::Result<u8> {
    let setup = Setup::load(global, &[])?;
    if !setup
        .rules
        .rules
        .iter()
        .any(|rule| rule.meta.checks_configuration())
    {
        anyhow::bail!(
            "no rule checks configuration: add rules whose RULE map has `checks: [\"task-definition\"]` or `checks: [\"service\"]` with --rules DIR or the configuration's [rules] dirs (examples/team-rules has two; see docs/writing-rules.md)"
        );
    }
    let (bundle, skipped) = match target {
        Target::Paths(paths) => load(global, paths, setup.config.bundle)?,
        Target::Live {
            cluster,
            services,
            aws,
        } => {
            let concurrency = usize::from(aws.concurrency);
            let scopes = aws.scopes()?;
            let [scope] = scopes.as_slice() else {
                anyhow::bail!(
                    "lint checks one account and Region at a time: give at most one --profile, --region and account"
                );
            };
            let mut bundle = with_aws(
                global,
                &aws.settings(scope),
                scope.role_arn.as_deref(),
                |sdk, recorded_at, observer| async move {
                    recorder::live::collect_configuration(
                        &sdk,
                        cluster,
                        services,
                        concurrency,
                        recorded_at,
                        observer,
                    )
                    .await
                },
            )?;
            warn_failed_calls(global, &bundle);
            ensure_ecs_read(&bundle, cluster)?;
            recorder::redact::redact(&mut bundle);
            (bundle, Vec::new())
        }
    };
    let evidence = Evidence::from_bundle_with(bundle, setup.config.evidence);
    if evidence.task_definitions.is_empty() && evidence.services.is_empty() {
        anyhow::bail!(
            "nothing to check: the input holds no task definition and no service (a task definition file has `family` and `containerDefinitions`)"
        );
    }
    let report = engine::lint(&evidence, &setup.rules);
    let text = match global.format {
        // HTML is refused before any command but diagnose and replay runs.
        Format::Text | Format::Html => report.render_text(use_color(global.color)),
        Format::Json => report.render_json(),
        Format::Markdown => report.render_markdown(),
    };
    print_stdout(&text)?;
    for error in report.rule_errors.iter().filter(|e| !e.is_load_error()) {
        global.messages().error(format_args!(
            "rule {} failed ({}): {}",
            error.rule,
            error.location(),
            error.message
        ));
    }
    if skipped.iter().any(|skip| skip.relevant) {
        crate::commands::diagnose::refuse_partial_answer(global, &skipped);
        return Ok(2);
    }
    Ok(match report.status {
        engine::report::Status::Error => 2,
        engine::report::Status::Problems => 1,
        engine::report::Status::Ok => 0,
    })
}

/// One bundle, one folder or one file as `replay` reads them; several paths are imported
/// together, so a task definition is checked with the service and target group outputs
/// beside it.
fn load(
    global: &GlobalArgs,
    paths: &[PathBuf],
    limits: recorder::bundle::ReadLimits,
) -> anyhow::Result<(recorder::Bundle, Vec<recorder::import::Skipped>)> {
    let (bundle, skipped) = if let [path] = paths {
        let input = ecs_autopsy::input::load(path, limits)?;
        (input.bundle, input.skipped)
    } else {
        let imported = ecs_autopsy::input::import(paths)?;
        (imported.bundle, imported.skipped)
    };
    global.messages().skipped(&skipped);
    Ok((bundle, skipped))
}
