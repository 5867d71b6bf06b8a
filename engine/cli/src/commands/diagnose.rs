//! `diagnose` (live, read-only), `record` and `replay`: a bundle in, a report out.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;

use engine::evidence::Evidence;
use recorder::live::{AwsSettings, CallEvent, CallObserver, Options};

use crate::args::{Format, GlobalArgs, LiveArgs, ViewArgs};
use crate::commands::{Setup, print_stdout, refuse_to_clobber, use_color};

/// What `replay` narrows a bundle to, like `diagnose` does when it collects.
pub(crate) struct Narrowing {
    pub(crate) services: Vec<String>,
    /// Relative to the bundle's recording time.
    pub(crate) since: Option<std::time::Duration>,
    pub(crate) max_tasks: Option<usize>,
}

impl Narrowing {
    /// Narrows the bundle's selection (keeping any tighter bound it already has); the responses
    /// are untouched, so every evidence path still points into the file.
    fn apply(&self, bundle: &mut recorder::Bundle) -> anyhow::Result<()> {
        use recorder::selection::{MAX_STOPPED_TASKS, SERVICES_ONLY, STOPPED_AFTER};
        let limits = &mut bundle.manifest.selection.limits;
        if !self.services.is_empty() {
            limits.insert(SERVICES_ONLY.to_owned(), self.services.clone().into());
        }
        if let Some(max) = self.max_tasks {
            let tighter = limits
                .get(MAX_STOPPED_TASKS)
                .and_then(serde_json::Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
                .map_or(max, |old| old.min(max));
            limits.insert(MAX_STOPPED_TASKS.to_owned(), tighter.into());
        }
        if let Some(since) = self.since {
            let recorded = recorder::time::Timestamp::parse_iso(&bundle.manifest.recorded_at)
                .with_context(|| {
                    format!(
                        "--since needs the bundle's recording time, and `{}` is not one",
                        bundle.manifest.recorded_at
                    )
                })?;
            // An import of outputs that hold no time is dated at the epoch: nothing to count
            // back from.
            if recorded.millis == 0 {
                anyhow::bail!(
                    "--since counts back from the recording time, and these outputs hold no time: use --max-tasks instead"
                );
            }
            let millis = i64::try_from(since.as_millis()).unwrap_or(i64::MAX);
            let after =
                recorder::time::Timestamp::from_millis(recorded.millis.saturating_sub(millis));
            let tighter = limits
                .get(STOPPED_AFTER)
                .and_then(serde_json::Value::as_str)
                .and_then(recorder::time::Timestamp::parse_iso)
                .map_or(after, |old| old.max(after));
            limits.insert(STOPPED_AFTER.to_owned(), tighter.to_string().into());
        }
        Ok(())
    }
}

/// `replay`: a bundle file, a folder of AWS CLI outputs, an event file, or a bundle in S3.
pub(crate) fn replay(
    global: &GlobalArgs,
    input: &Path,
    narrowing: &Narrowing,
    view: ViewArgs,
    store: &crate::args::StoreArgs,
) -> anyhow::Result<u8> {
    view.check(global)?;
    let setup = Setup::load(global, &[])?;
    let mut input = match crate::commands::store::s3_url(&input.to_string_lossy())? {
        Some(url) => {
            let bytes = crate::commands::store::get(store, &url)?;
            let name = url.to_string();
            ecs_autopsy::input::Input {
                bundle: recorder::Bundle::from_stored_for_diagnosis(
                    &bytes,
                    &name,
                    setup.config.bundle,
                )?,
                skipped: Vec::new(),
            }
        }
        None => ecs_autopsy::input::load(input, setup.config.bundle)?,
    };
    global.messages().skipped(&input.skipped);
    let skipped_evidence = input.skipped_evidence();
    narrowing.apply(&mut input.bundle)?;
    let code = report(global, &setup, input.bundle, view)?;
    Ok(if skipped_evidence {
        refuse_partial_answer(global, &input.skipped);
        2
    } else {
        code
    })
}

/// Says why a run that skipped possible evidence exits 2 whatever it found.
pub(crate) fn refuse_partial_answer(global: &GlobalArgs, skipped: &[recorder::import::Skipped]) {
    let count = skipped.iter().filter(|skip| skip.relevant).count();
    global.messages().error(format_args!(
        "{count} file(s) that may hold evidence could not be read (see the warnings above), so this diagnosis may be missing its answer: fix or remove them"
    ));
}

/// `diagnose`: collect from the live APIs, optionally save the bundle, and report.
pub(crate) fn live(
    global: &GlobalArgs,
    live: &LiveArgs,
    view: ViewArgs,
    save: Option<&Path>,
    force: bool,
) -> anyhow::Result<u8> {
    view.check(global)?;
    if let Some(path) = save
        && crate::commands::is_stdout(path)
    {
        anyhow::bail!(
            "--save - would mix the bundle with the report on standard output: save it to a file, or use `ecs-autopsy record -o -`"
        );
    }
    let scopes = live.aws.scopes()?;
    if scopes.len() > 1 {
        return crate::commands::scopes::diagnose(global, live, &scopes, view, save, force);
    }
    if let Some(path) = save {
        refuse_to_clobber(path, force)?;
    }
    let bundle = collect(global, live, &scopes[0])?;
    if let Some(path) = save {
        crate::commands::write_bundle(&bundle, path)?;
        global
            .messages()
            .note(format_args!("saved the bundle to {}", path.display()));
    }
    report(global, &Setup::load(global, &[])?, bundle, view)
}

/// `record`: collect from the live APIs into a bundle file.
pub(crate) fn record(
    global: &GlobalArgs,
    live: &LiveArgs,
    output: &Path,
    force: bool,
) -> anyhow::Result<u8> {
    let scopes = live.aws.scopes()?;
    if scopes.len() > 1 {
        return crate::commands::scopes::record(global, live, &scopes, output, force);
    }
    refuse_to_clobber(output, force)?;
    let bundle = collect(global, live, &scopes[0])?;
    crate::commands::write_bundle(&bundle, output)?;
    global.messages().note(format_args!(
        "wrote {} with {} call(s); replay it with `ecs-autopsy replay {}`",
        crate::commands::shown(output),
        bundle.calls.len(),
        if crate::commands::is_stdout(output) {
            "FILE".to_owned()
        } else {
            output.display().to_string()
        }
    ));
    Ok(0)
}

/// Reads the live APIs into a bundle, redacted unless --no-redact, and warns about every
/// call that failed. Fails only when nothing at all could be read from ECS.
pub(crate) fn collect(
    global: &GlobalArgs,
    live: &LiveArgs,
    scope: &Scope,
) -> anyhow::Result<recorder::Bundle> {
    let settings = live.aws.settings(scope);
    let now = ecs_autopsy::input::now_millis();
    let stopped_after = live.since.map(|since| {
        let since = i64::try_from(since.as_millis()).unwrap_or(i64::MAX);
        recorder::time::Timestamp::from_millis(now.saturating_sub(since).max(0))
    });
    let options = Options {
        cluster: live.cluster.clone(),
        services: live.services.clone(),
        services_matching: live.services_matching.clone(),
        tasks: live.tasks.clone(),
        stopped_after,
        max_stopped_tasks: live.max_tasks,
        log_lines: live.log_lines,
        concurrency: usize::from(live.aws.concurrency),
        rates: live.rates.iter().copied().collect(),
        batch_logs: !live.logs_per_stream,
        queries: !live.no_queries,
    };
    let mut bundle = with_aws(
        global,
        &settings,
        scope.role_arn.as_deref(),
        |sdk, recorded_at, observer| async move {
            recorder::live::collect(&sdk, &options, recorded_at, observer).await
        },
    )?;
    warn_failed_calls(global, &bundle);
    ensure_ecs_read(&bundle, &live.cluster)?;
    if !live.no_redact {
        recorder::redact::redact(&mut bundle);
    }
    Ok(bundle)
}

/// One account and Region to read: a profile or the default credentials, a role to assume
/// with them, a Region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scope {
    pub(crate) profile: Option<String>,
    pub(crate) role_arn: Option<String>,
    /// The account of `role_arn`, when it names one.
    pub(crate) account: Option<String>,
    pub(crate) region: Option<String>,
}

impl Scope {
    /// `account 111122223333 · eu-west-1`, `profile prod · eu-west-1`, as the report names it.
    pub(crate) fn describe(&self, bundle: Option<&recorder::Bundle>) -> String {
        let account = self
            .account
            .clone()
            .or_else(|| bundle.and_then(|b| b.manifest.account.clone()));
        let who = match (&account, &self.profile) {
            (Some(account), Some(profile)) => format!("account {account} (profile {profile})"),
            (Some(account), None) => format!("account {account}"),
            (None, Some(profile)) => format!("profile {profile}"),
            (None, None) => "default credentials".to_owned(),
        };
        let region = self
            .region
            .clone()
            .or_else(|| bundle.and_then(|b| b.manifest.region.clone()))
            .unwrap_or_else(|| "default Region".to_owned());
        format!("{who} · {region}")
    }
}

impl crate::args::AwsArgs {
    /// The SDK settings these flags ask for, in one scope.
    pub(crate) fn settings(&self, scope: &Scope) -> AwsSettings {
        let call_timeout = self.call_timeout.max(std::time::Duration::from_secs(1));
        AwsSettings {
            profile: scope.profile.clone(),
            region: scope.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            max_attempts: 5,
            attempt_timeout: call_timeout,
            operation_timeout: call_timeout * 6,
        }
    }

    /// Every profile (or role in every account) × every Region asked for; one scope when
    /// none of them is repeated.
    pub(crate) fn scopes(&self) -> anyhow::Result<Vec<Scope>> {
        let profiles: Vec<Option<String>> = if self.profiles.is_empty() {
            vec![None]
        } else {
            self.profiles.iter().cloned().map(Some).collect()
        };
        let regions: Vec<Option<String>> = if self.regions.is_empty() {
            vec![None]
        } else {
            self.regions.iter().cloned().map(Some).collect()
        };
        let roles: Vec<(Option<String>, Option<String>)> = match &self.role_arn_template {
            None => vec![(None, None)],
            Some(template) => {
                anyhow::ensure!(
                    template.contains("{account}"),
                    "--role-arn-template must contain {{account}}, e.g. 'arn:aws:iam::{{account}}:role/ecs-autopsy-reader'"
                );
                let mut roles = Vec::new();
                for account in &self.accounts {
                    let account = account.trim();
                    anyhow::ensure!(
                        account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()),
                        "--accounts: `{account}` is not a 12-digit AWS account id"
                    );
                    roles.push((
                        Some(template.replace("{account}", account)),
                        Some(account.to_owned()),
                    ));
                }
                roles
            }
        };
        let mut scopes = Vec::new();
        for profile in &profiles {
            for (role_arn, account) in &roles {
                for region in &regions {
                    let scope = Scope {
                        profile: profile.clone(),
                        role_arn: role_arn.clone(),
                        account: account.clone(),
                        region: region.clone(),
                    };
                    if !scopes.contains(&scope) {
                        scopes.push(scope);
                    }
                }
            }
        }
        Ok(scopes)
    }
}

/// Loads the AWS configuration and runs `collect` on a small runtime, with a progress line
/// on a terminal.
pub(crate) fn with_aws<F, Fut>(
    global: &GlobalArgs,
    settings: &AwsSettings,
    role_arn: Option<&str>,
    collect: F,
) -> anyhow::Result<recorder::Bundle>
where
    F: FnOnce(recorder::live::SdkConfig, String, Option<CallObserver>) -> Fut,
    Fut: std::future::Future<Output = recorder::Bundle>,
{
    let show_progress = !global.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let known = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let throttled = Arc::new(AtomicUsize::new(0));
    let observer: Option<CallObserver> = show_progress.then(|| {
        let known = Arc::clone(&known);
        let done = Arc::clone(&done);
        let throttled = Arc::clone(&throttled);
        let observer: CallObserver = Arc::new(move |event: &CallEvent| {
            if !event.finished {
                known.fetch_add(1, Ordering::Relaxed);
                return;
            }
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            let of = known.load(Ordering::Relaxed).max(n);
            let t = throttled.fetch_add(event.throttled, Ordering::Relaxed) + event.throttled;
            let retried = if t > 0 {
                format!(", {t} throttled and retried")
            } else {
                String::new()
            };
            progress(&format!(
                "\r\x1b[2Kecs-autopsy: {n}/{of} AWS call(s) done{retried}, last {} ({} ms)",
                event.operation,
                event.elapsed.as_millis()
            ));
        });
        observer
    });
    let runtime = crate::commands::runtime()?;
    let bundle = runtime.block_on(async {
        let mut sdk = recorder::live::load_sdk_config(settings).await?;
        if let Some(role_arn) = role_arn {
            sdk = recorder::live::assume_role(&sdk, role_arn).await?;
        }
        let recorded_at = ecs_autopsy::input::recorded_at_now();
        anyhow::Ok(collect(sdk, recorded_at, observer).await)
    })?;
    if show_progress {
        progress("\r\x1b[2K");
    }
    Ok(bundle)
}

/// A warning for every call that failed; an IAM hint only where a permission was missing.
pub(crate) fn warn_failed_calls(global: &GlobalArgs, bundle: &recorder::Bundle) {
    for call in &bundle.calls {
        if let Some(error) = &call.error {
            // An IAM hint only where a permission was missing, never for the network or
            // throttling.
            let action = recorder::Operation::lookup(&call.service, &call.operation)
                .filter(|_| error.is_access_denied())
                .map(|op| format!(" (needs {})", op.iam_action()))
                .unwrap_or_default();
            global.messages().warning(format_args!(
                "{} {} failed: {}: {}{action}",
                call.service, call.operation, error.code, error.message
            ));
        }
    }
}

/// Fails when no ECS call succeeded: there is nothing to diagnose or check, and the first
/// failure says why. DescribeClusters does not count: it answers for a cluster that does not
/// exist too (with a `MISSING` failure), and it is only the Container Insights setting.
pub(crate) fn ensure_ecs_read(bundle: &recorder::Bundle, cluster: &str) -> anyhow::Result<()> {
    if bundle.calls.iter().any(|call| {
        call.service == "ecs" && call.operation != "DescribeClusters" && call.error.is_none()
    }) {
        return Ok(());
    }
    let first = bundle.calls.iter().find_map(|call| {
        call.error.as_ref().map(|e| {
            format!(
                "{} {}: {}: {}",
                call.service, call.operation, e.code, e.message
            )
        })
    });
    Err(anyhow::format_err!(
        "could not read anything from ECS in cluster {cluster}{}",
        first.map(|f| format!(" ({f})")).unwrap_or_default()
    ))
}

/// The progress line: stderr, only on a terminal, rewritten in place.
#[allow(clippy::print_stderr)]
fn progress(text: &str) {
    eprint!("{text}");
}

/// Diagnoses a bundle and prints the report; the exit code says whether problems were found.
fn report(
    global: &GlobalArgs,
    setup: &Setup,
    bundle: recorder::Bundle,
    view: ViewArgs,
) -> anyhow::Result<u8> {
    let (report, evidence) = build_report(global, setup, bundle, view);
    print_stdout(&render(global, setup, &report, &evidence, view))?;
    Ok(report_exit_code(global, setup, &report))
}

/// The diagnosis of one bundle, as `view` asks for it, and the evidence view it was made
/// from; warns about cut log lines.
pub(crate) fn build_report(
    global: &GlobalArgs,
    setup: &Setup,
    bundle: recorder::Bundle,
    view: ViewArgs,
) -> (engine::report::Report, Evidence) {
    let evidence = Evidence::from_bundle_with(bundle, setup.config.evidence);
    if evidence.cut_lines > 0 {
        global.messages().warning(format_args!(
            "{} log line(s) longer than {} bytes were cut to that length (limits.max_log_line_bytes)",
            evidence.cut_lines, setup.config.evidence.max_log_line_bytes
        ));
    }
    let mut report = engine::diagnose(&evidence, &setup.rules);
    if global.strict && !report.rule_errors.is_empty() {
        report.status = engine::report::Status::Error;
    }
    if view.no_timeline || view.brief {
        report.drop_timelines();
    }
    (report, evidence)
}

/// The report in the format asked for.
pub(crate) fn render(
    global: &GlobalArgs,
    setup: &Setup,
    report: &engine::report::Report,
    evidence: &Evidence,
    view: ViewArgs,
) -> String {
    match (global.format, view.brief) {
        (Format::Html, _) => {
            let titles = setup
                .rules
                .rules
                .iter()
                .map(|rule| (rule.meta.id.clone(), rule.meta.title.clone()))
                .collect();
            report.render_html(evidence, &titles)
        }
        (Format::Text, false) => report.render_text(use_color(global.color)),
        (Format::Text, true) => report.render_brief_text(),
        (Format::Json, _) => report.render_json(),
        (Format::Markdown, false) => report.render_markdown(),
        (Format::Markdown, true) => report.render_brief_markdown(),
    }
}

/// Says which rules failed, and gives the exit code of one report.
pub(crate) fn report_exit_code(
    global: &GlobalArgs,
    setup: &Setup,
    report: &engine::report::Report,
) -> u8 {
    for error in report.rule_errors.iter().filter(|e| !e.is_load_error()) {
        // Under --strict a rule that fails to run is an error, and says so.
        let line = format_args!(
            "rule {} failed ({}): {}",
            error.rule,
            error.location(),
            error.message
        );
        if global.strict {
            global.messages().error(line);
        } else {
            global.messages().warning(line);
        }
    }
    let rule_failed = global.strict && !report.rule_errors.is_empty();
    if !setup.rules.errors.is_empty() || rule_failed {
        2
    } else {
        u8::from(report.has_problems())
    }
}

impl ViewArgs {
    /// `--brief` shortens the reports people read; JSON is for scripts and stays whole.
    fn check(self, global: &GlobalArgs) -> anyhow::Result<()> {
        if self.brief && global.format == Format::Json {
            anyhow::bail!(
                "--brief is for the text and Markdown reports; the JSON report always has every field"
            );
        }
        if self.brief && global.format == Format::Html {
            anyhow::bail!(
                "--brief is for the text and Markdown reports; the HTML report opens with the brief one"
            );
        }
        Ok(())
    }
}
