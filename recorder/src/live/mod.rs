//! Live collection: reads ECS, CloudWatch Logs and ELBv2 through the AWS SDK for Rust and
//! writes every response into a bundle, exactly as `bundle import` would have.
//!
//! Read-only by construction: every client carries `ReadOnlyGuard`, which refuses any
//! operation outside Describe*, List*, Get* and FilterLogEvents before it is sent.
//! A call that fails is recorded as an error and collection goes on.

mod capture;
mod elbv2;
pub mod insights;
pub mod pace;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
pub use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials as _;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::types::DesiredStatus;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use futures_util::future::join_all;
use serde_json::Value;
use tokio::sync::Semaphore;

pub use capture::{Capture, Captured, ReadOnlyGuard, is_read_only};

use crate::bundle::{Bundle, Call, CallError, Operation, Source};
use crate::selection::{Limits, MAX_STOPPED_TASKS, STOPPED_AFTER, is_stopped};
use crate::time::Timestamp;

/// How to reach AWS. Everything unset falls back to the AWS CLI's own configuration chain.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Attempts per call, including the first (standard retry mode: a throttled or failed
    /// call backs off on its own; the pacer keeps calls within each API's rate).
    pub max_attempts: u32,
    pub attempt_timeout: Duration,
    pub operation_timeout: Duration,
}

/// What to collect.
#[derive(Debug, Clone)]
pub struct Options {
    pub cluster: String,
    /// The services to diagnose. With neither services nor tasks, the whole cluster: every
    /// service (ListServices) and every standalone task.
    pub services: Vec<String>,
    /// For the whole cluster: only the services whose name matches this regular expression
    /// (and no standalone task).
    pub services_matching: Option<regex::Regex>,
    /// Standalone tasks (ARNs or ids), collected whether or not they belong to a service.
    pub tasks: Vec<String>,
    /// Ignore tasks that stopped before this time.
    pub stopped_after: Option<Timestamp>,
    /// Keep at most this many stopped tasks (the most recent).
    pub max_stopped_tasks: usize,
    /// Log lines fetched from the end of each container's stream.
    pub log_lines: i32,
    /// Calls in flight at once, per API.
    pub concurrency: usize,
    /// Request rates that differ from the documented quotas (`None`: not paced).
    pub rates: BTreeMap<Operation, Option<pace::Rate>>,
    /// Read short-lived tasks' log streams in batches with FilterLogEvents (else every stream
    /// alone with GetLogEvents).
    pub batch_logs: bool,
    /// Run the Logs Insights queries (memory of OOM-killed tasks, error patterns of failing
    /// services; billed by the data they scan) and the CloudTrail lookups (`insights`).
    pub queries: bool,
}

/// One finished call, for progress display and `-v` logging.
#[derive(Debug, Clone)]
pub struct CallEvent {
    pub operation: Operation,
    pub elapsed: Duration,
    pub error: Option<String>,
    /// Attempts of this call that AWS throttled.
    pub throttled: usize,
    /// `false` for the event sent when the call is about to start (the calls known so far),
    /// `true` when it has finished.
    pub finished: bool,
}

pub type CallObserver = Arc<dyn Fn(&CallEvent) + Send + Sync>;

/// Why live collection could not start.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(
        "sts AssumeRole {role} failed: {message} (the caller needs sts:AssumeRole on it, and the role's trust policy must name the caller)"
    )]
    AssumeRole { role: String, message: String },
    #[error(
        "no AWS region configured: pass --region, set AWS_REGION, or set `region` in the profile"
    )]
    NoRegion,
    #[error(
        "no AWS credentials: {0}; run `aws configure` (or `aws sso login --profile NAME`), pass --profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )]
    NoCredentials(String),
}

/// Loads AWS configuration the way the AWS CLI does: environment, profiles (SSO included),
/// container and instance credentials; `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`
/// are honoured.
pub async fn load_sdk_config(settings: &AwsSettings) -> Result<SdkConfig, LiveError> {
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;

    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(settings.attempt_timeout)
                .operation_timeout(settings.operation_timeout)
                .build(),
        );
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(LiveError::NoRegion);
    }
    let Some(provider) = sdk.credentials_provider() else {
        return Err(LiveError::NoCredentials(
            "no credentials provider is configured".to_owned(),
        ));
    };
    // Resolve once up front, so a missing or expired login is one clear line rather than an
    // error recorded for every call.
    if let Err(err) = provider.provide_credentials().await {
        // The chain explains itself over several lines; errors here are one line.
        let text = root_cause(&err)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        return Err(LiveError::NoCredentials(text));
    }
    Ok(sdk)
}

/// Collects every response the diagnosis needs into a bundle. Never fails: failed calls are
/// recorded as errors in the bundle.
pub async fn collect(
    sdk: &SdkConfig,
    options: &Options,
    recorded_at: String,
    observer: Option<CallObserver>,
) -> Bundle {
    let (ecs, logs, elb, trail) = guarded_clients(sdk);
    let ctx = Ctx {
        ecs,
        logs,
        elb,
        trail,
        recorded_at: Timestamp::parse_iso(&recorded_at).map(|t| t.millis),
        pacer: pace::Pacer::new(&options.rates),
        slots: Slots::new(options.concurrency),
        calls: Mutex::new(Vec::new()),
        observer,
        deployments_after: deployments_after(&recorded_at),
    };
    let cluster = options.cluster.as_str();

    // Services, and the tasks they stopped (and still run, for context). For the whole
    // cluster, its services and its tasks are listed at once, not service by service.
    let whole_cluster = options.services.is_empty() && options.tasks.is_empty();
    let (names, mut arns) = if whole_cluster {
        let (listed, stopped, running) = tokio::join!(
            ctx.list_services(cluster),
            ctx.list_tasks(cluster, None, DesiredStatus::Stopped),
            ctx.list_tasks(cluster, None, DesiredStatus::Running),
        );
        let mut names: Vec<String> = listed
            .iter()
            .filter_map(|arn| arn.rsplit('/').next())
            .filter(|name| {
                options
                    .services_matching
                    .as_ref()
                    .is_none_or(|re| re.is_match(name))
            })
            .map(str::to_owned)
            .collect();
        names.sort();
        names.dedup();
        (
            names,
            stopped.into_iter().chain(running).collect::<Vec<_>>(),
        )
    } else {
        let listings = join_all(options.services.iter().flat_map(|service| {
            [DesiredStatus::Stopped, DesiredStatus::Running]
                .into_iter()
                .map(|status| ctx.list_tasks(cluster, Some(service), status))
        }))
        .await;
        (
            options.services.clone(),
            listings.into_iter().flatten().collect(),
        )
    };
    let (services, tasks) = {
        arns.extend(options.tasks.iter().cloned());
        dedup_keep_order(&mut arns);
        tokio::join!(
            ctx.describe_services(cluster, &names),
            ctx.describe_tasks(cluster, &arns)
        )
    };
    // A pattern narrows the cluster to the services it matches, on every replay too.
    let only = (whole_cluster && options.services_matching.is_some()).then(|| names.clone());

    // The stopped tasks the report will cover, as the evidence view will select them.
    let selected = select_stopped(&tasks, options, only.as_deref());

    // Task definitions: every revision involved and the previous revision of each family.
    let mut definitions: BTreeSet<String> = BTreeSet::new();
    for task in &tasks {
        definitions.extend(task.task_definition_arn().map(str::to_owned));
    }
    for service in &services {
        definitions.extend(service.task_definition().map(str::to_owned));
        for deployment in service.deployments() {
            definitions.extend(deployment.task_definition().map(str::to_owned));
        }
    }
    let mut with_previous = definitions.clone();
    for arn in &definitions {
        if let Some(previous) = previous_revision(arn) {
            with_previous.insert(previous);
        }
    }
    let container_instances: BTreeSet<String> = selected
        .iter()
        .filter_map(|task| task.container_instance_arn().map(str::to_owned))
        .collect();
    let target_groups: BTreeSet<String> = services
        .iter()
        .flat_map(|s| {
            s.load_balancers()
                .iter()
                .filter_map(|lb| lb.target_group_arn().map(str::to_owned))
        })
        .collect();

    // Each task definition is read once. A service's logs are read as soon as the definitions
    // its stopped tasks ran are in (their log configuration names the streams), while other
    // services' definitions and the previous revisions still load: the logs of the first
    // services overlap the task-definition reads of the last.
    let fetches: BTreeMap<String, _> = with_previous
        .iter()
        .map(|arn| {
            (
                arn.clone(),
                futures_util::FutureExt::shared(ctx.describe_task_definition(arn.clone())),
            )
        })
        .collect();
    let mut by_service: BTreeMap<&str, Vec<&aws_sdk_ecs::types::Task>> = BTreeMap::new();
    for task in &selected {
        by_service
            .entry(task.group().unwrap_or_default())
            .or_default()
            .push(task);
    }
    let logs = join_all(by_service.into_values().map(|tasks| {
        let ran: BTreeSet<&str> = tasks
            .iter()
            .filter_map(|task| task.task_definition_arn())
            .collect();
        let needed: Vec<_> = ran
            .iter()
            .filter_map(|arn| fetches.get(*arn).cloned())
            .collect();
        let ctx = &ctx;
        async move {
            let definitions: Vec<aws_sdk_ecs::types::TaskDefinition> =
                join_all(needed).await.into_iter().flatten().collect();
            ctx.read_logs(&tasks, &definitions, options).await;
        }
    }));
    tokio::join!(
        logs,
        join_all(fetches.values().cloned()),
        ctx.describe_container_instances(cluster, &container_instances),
        ctx.describe_target_groups(&target_groups),
        ctx.deployment_record(cluster, &services, &tasks),
        async {
            if options.queries {
                ctx.describe_cluster(cluster).await;
            }
        },
    );
    if options.queries {
        // The error search reads the log groups the task definitions name; those are in.
        let definitions: Vec<aws_sdk_ecs::types::TaskDefinition> =
            join_all(fetches.values().cloned())
                .await
                .into_iter()
                .flatten()
                .collect();
        tokio::join!(
            ctx.memory_history(cluster, &selected),
            ctx.error_patterns(&selected, &definitions),
            ctx.who(&selected, &services, &definitions),
        );
    }
    drop(fetches);

    let mut calls = ctx
        .calls
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    insights::keep_last_polls(&mut calls);
    sort_calls(&mut calls);
    let mut bundle = Bundle::new(Source::Recorded, recorded_at);
    bundle.manifest.region = sdk.region().map(|r| r.as_ref().to_owned());
    bundle.manifest.cluster = Some(options.cluster.clone());
    bundle.manifest.account = tasks
        .iter()
        .filter_map(|t| t.task_arn())
        .chain(services.iter().filter_map(|s| s.service_arn()))
        .find_map(|arn| crate::import::ArnParts::parse(arn).and_then(|p| p.account));
    bundle.manifest.selection.services = names;
    bundle.manifest.selection.tasks.clone_from(&options.tasks);
    bundle.manifest.selection.limits = selection_limits(options);
    if let Some(only) = only {
        bundle.manifest.selection.limits.insert(
            crate::selection::SERVICES_ONLY.to_owned(),
            Value::from(only),
        );
    }
    bundle.calls = calls;
    bundle
}

/// Collects what a configuration check reads, with no task needed: the services, the task
/// definitions they run or deploy, and their target groups with their attributes (the
/// deregistration delay). Never fails: failed calls are recorded as errors in the bundle.
pub async fn collect_configuration(
    sdk: &SdkConfig,
    cluster: &str,
    service_names: &[String],
    concurrency: usize,
    recorded_at: String,
    observer: Option<CallObserver>,
) -> Bundle {
    let (ecs, logs, elb, trail) = guarded_clients(sdk);
    let ctx = Ctx {
        ecs,
        logs,
        elb,
        trail,
        recorded_at: Timestamp::parse_iso(&recorded_at).map(|t| t.millis),
        pacer: pace::Pacer::new(&BTreeMap::new()),
        slots: Slots::new(concurrency),
        calls: Mutex::new(Vec::new()),
        observer,
        deployments_after: deployments_after(&recorded_at),
    };
    let services = ctx.describe_services(cluster, service_names).await;
    let mut definitions: BTreeSet<String> = BTreeSet::new();
    for service in &services {
        definitions.extend(service.task_definition().map(str::to_owned));
        for deployment in service.deployments() {
            definitions.extend(deployment.task_definition().map(str::to_owned));
        }
    }
    let target_groups: BTreeSet<String> = services
        .iter()
        .flat_map(|s| {
            s.load_balancers()
                .iter()
                .filter_map(|lb| lb.target_group_arn().map(str::to_owned))
        })
        .collect();
    tokio::join!(
        ctx.describe_task_definitions(&definitions),
        ctx.describe_target_groups(&target_groups),
    );
    let mut calls = ctx
        .calls
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    sort_calls(&mut calls);
    let mut bundle = Bundle::new(Source::Recorded, recorded_at);
    bundle.manifest.region = sdk.region().map(|r| r.as_ref().to_owned());
    bundle.manifest.cluster = Some(cluster.to_owned());
    bundle.manifest.account = services
        .iter()
        .filter_map(|s| s.service_arn())
        .find_map(|arn| crate::import::ArnParts::parse(arn).and_then(|p| p.account));
    bundle.manifest.selection.services = service_names.to_vec();
    bundle.calls = calls;
    bundle
}

/// `base` with the credentials of `role_arn`, assumed through STS (the same endpoint and
/// Region as `base`). The role is assumed once here, so that a role the caller may not assume
/// is one clear error before any other call; the SDK renews the credentials when they expire.
pub async fn assume_role(base: &SdkConfig, role_arn: &str) -> Result<SdkConfig, LiveError> {
    use aws_config::sts::AssumeRoleProvider;
    use aws_credential_types::provider::SharedCredentialsProvider;

    let provider = AssumeRoleProvider::builder(role_arn)
        .session_name("ecs-autopsy")
        .configure(base)
        .build()
        .await;
    if let Err(err) = provider.provide_credentials().await {
        return Err(LiveError::AssumeRole {
            role: role_arn.to_owned(),
            message: crate::bundle::one_line(&root_cause(&err)),
        });
    }
    Ok(base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build())
}

/// The only way the collector makes clients: each carries the read-only guard.
fn guarded_clients(
    sdk: &SdkConfig,
) -> (
    aws_sdk_ecs::Client,
    aws_sdk_cloudwatchlogs::Client,
    aws_sdk_elasticloadbalancingv2::Client,
    aws_sdk_cloudtrail::Client,
) {
    (
        aws_sdk_ecs::Client::from_conf(
            aws_sdk_ecs::config::Builder::from(sdk)
                .interceptor(ReadOnlyGuard)
                .build(),
        ),
        aws_sdk_cloudwatchlogs::Client::from_conf(
            aws_sdk_cloudwatchlogs::config::Builder::from(sdk)
                .interceptor(ReadOnlyGuard)
                .build(),
        ),
        aws_sdk_elasticloadbalancingv2::Client::from_conf(
            aws_sdk_elasticloadbalancingv2::config::Builder::from(sdk)
                .interceptor(ReadOnlyGuard)
                .build(),
        ),
        aws_sdk_cloudtrail::Client::from_conf(
            aws_sdk_cloudtrail::config::Builder::from(sdk)
                .interceptor(ReadOnlyGuard)
                .build(),
        ),
    )
}

/// The manifest's `selection.limits`, which the evidence view applies on every replay.
fn selection_limits(options: &Options) -> BTreeMap<String, Value> {
    let mut limits = BTreeMap::new();
    limits.insert(
        MAX_STOPPED_TASKS.to_owned(),
        Value::from(options.max_stopped_tasks),
    );
    limits.insert(
        crate::selection::LOG_LINES.to_owned(),
        Value::from(options.log_lines),
    );
    if let Some(after) = options.stopped_after {
        limits.insert(STOPPED_AFTER.to_owned(), Value::from(after.to_string()));
    }
    limits
}

/// Whether the service's recent events say that protected tasks keep it from scaling in: AWS's
/// documented `… was unable to scale in. Reason: The number of protected tasks are more than the
/// desired count of tasks`, and the form seen live, `… was unable to scale in due to (reason 2
/// tasks under protection)`.
fn scale_in_blocked(service: &aws_sdk_ecs::types::Service) -> bool {
    service.events().iter().take(20).any(|event| {
        event.message().is_some_and(|m| {
            m.contains("unable to scale in")
                && (m.contains("protected tasks") || m.contains("under protection"))
        })
    })
}

fn dedup_keep_order(items: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    items.retain(|item| seen.insert(item.clone()));
}

/// `…:task-definition/web:7` → `…:task-definition/web:6`.
fn previous_revision(arn: &str) -> Option<String> {
    let (head, revision) = arn.rsplit_once(':')?;
    let revision: u64 = revision.parse().ok()?;
    (revision > 1).then(|| format!("{head}:{}", revision - 1))
}

fn stopped_at(task: &aws_sdk_ecs::types::Task) -> Option<Timestamp> {
    task.stopped_at()
        .and_then(|t| t.to_millis().ok())
        .map(Timestamp::from_millis)
}

/// The stopped tasks within the limits, newest first: the same selection the evidence view
/// makes on replay.
fn select_stopped<'a>(
    tasks: &'a [aws_sdk_ecs::types::Task],
    options: &Options,
    only: Option<&[String]>,
) -> Vec<&'a aws_sdk_ecs::types::Task> {
    let limits = Limits {
        stopped_after: options.stopped_after,
        max_stopped_tasks: Some(options.max_stopped_tasks),
    };
    let wanted = |task: &aws_sdk_ecs::types::Task| {
        only.is_none_or(|only| crate::selection::in_services(task.group(), only))
    };
    let stopped = tasks.iter().filter(|t| {
        is_stopped(t.last_status(), t.desired_status(), t.stop_code().is_some()) && wanted(t)
    });
    let keep = limits.select(stopped.clone().map(|t| (stopped_at(t), t.task_arn())));
    keep.iter()
        .filter_map(|arn| stopped.clone().find(|t| t.task_arn() == *arn))
        .collect()
}

/// `(log group, stream)` for each container of each task that logs with awslogs.
/// When a task lived, in epoch milliseconds: from its creation (or start) to its stop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Window {
    start: Option<i64>,
    stop: Option<i64>,
}

impl Window {
    fn of(task: &aws_sdk_ecs::types::Task) -> Window {
        let millis = |t: Option<&aws_smithy_types::DateTime>| t.and_then(|t| t.to_millis().ok());
        Window {
            start: millis(task.created_at()).or_else(|| millis(task.started_at())),
            stop: millis(task.stopped_at()).or_else(|| millis(task.execution_stopped_at())),
        }
    }

    /// The smallest window holding both.
    fn union(self, other: Window) -> Window {
        let pick = |a: Option<i64>, b: Option<i64>, f: fn(i64, i64) -> i64| match (a, b) {
            (Some(a), Some(b)) => Some(f(a, b)),
            (a, b) => a.or(b),
        };
        Window {
            start: pick(self.start, other.start, i64::min),
            stop: pick(self.stop, other.stop, i64::max),
        }
    }

    /// Known at both ends and at most `SHORT_LIVED_MS` long.
    fn is_short(self) -> bool {
        matches!((self.start, self.stop), (Some(start), Some(stop)) if stop >= start && stop - start <= SHORT_LIVED_MS)
    }
}

/// Tasks that lived at most this long have their log streams read in batches, whole, with
/// FilterLogEvents; longer-lived tasks' streams are read from the end with GetLogEvents.
const SHORT_LIVED_MS: i64 = 15 * 60 * 1000;
/// Stream names one FilterLogEvents call may name (the API's limit).
const STREAMS_PER_FILTER: usize = 100;
/// Pages of one FilterLogEvents batch before it gives up and reads each stream's tail instead.
const MAX_FILTER_PAGES: usize = 20;

/// `(log group, stream)` for each container of each task that logs with awslogs, and the
/// window of the task (or tasks) it belongs to.
fn log_streams(
    tasks: &[&aws_sdk_ecs::types::Task],
    definitions: &[aws_sdk_ecs::types::TaskDefinition],
) -> BTreeMap<(String, String), Window> {
    let mut streams: BTreeMap<(String, String), Window> = BTreeMap::new();
    for task in tasks {
        let Some(arn) = task.task_definition_arn() else {
            continue;
        };
        let Some(definition) = definitions
            .iter()
            .find(|d| d.task_definition_arn() == Some(arn))
        else {
            continue;
        };
        let task_id = task
            .task_arn()
            .and_then(|a| a.rsplit('/').next())
            .unwrap_or_default();
        for container in definition.container_definitions() {
            let Some(config) = container.log_configuration() else {
                continue;
            };
            if config.log_driver().as_str() != "awslogs" {
                continue;
            }
            // A container the runtime never created (an image that did not pull, a task that
            // failed to start) has no log stream: asking for it is a wasted call and a
            // misleading "missing evidence".
            let described = task
                .containers()
                .iter()
                .find(|c| c.name() == container.name());
            if described.is_some_and(|c| c.runtime_id().is_none() && c.exit_code().is_none()) {
                continue;
            }
            let options = config.options();
            let (Some(group), Some(name)) = (
                options.and_then(|o| o.get("awslogs-group")),
                container.name(),
            ) else {
                continue;
            };
            // With a prefix the stream is PREFIX/CONTAINER/TASK_ID; without one (EC2 only) it is
            // the container's runtime id.
            let stream = match options.and_then(|o| o.get("awslogs-stream-prefix")) {
                Some(prefix) => Some(format!("{prefix}/{name}/{task_id}")),
                None => task
                    .containers()
                    .iter()
                    .find(|c| c.name() == Some(name))
                    .and_then(|c| c.runtime_id().map(str::to_owned)),
            };
            if let Some(stream) = stream {
                let window = Window::of(task);
                streams
                    .entry((group.clone(), stream))
                    .and_modify(|w| *w = w.union(window))
                    .or_insert(window);
            }
        }
    }
    streams
}

/// One FilterLogEvents batch: a log group, its stream names, the window that covers them.
type LogBatch = (String, Vec<String>, Window);

/// The log reads: batches of short-lived tasks' streams for FilterLogEvents (one log group,
/// at most `STREAMS_PER_FILTER` names, the window that covers them), and the other streams,
/// read alone from the end.
fn plan_log_reads(
    streams: &BTreeMap<(String, String), Window>,
    in_batches: bool,
) -> (Vec<LogBatch>, Vec<(String, String)>) {
    let mut batches = Vec::new();
    let mut alone = Vec::new();
    let mut by_group: BTreeMap<&str, Vec<(&str, Window)>> = BTreeMap::new();
    for ((group, stream), window) in streams {
        if in_batches && window.is_short() {
            by_group.entry(group).or_default().push((stream, *window));
        } else {
            alone.push((group.clone(), stream.clone()));
        }
    }
    for (group, mut members) in by_group {
        // Streams of tasks that lived at the same time share a batch, so its window stays short.
        members.sort_by_key(|(stream, window)| (window.start, *stream));
        for chunk in members.chunks(STREAMS_PER_FILTER) {
            let window = chunk
                .iter()
                .map(|(_, w)| *w)
                .reduce(Window::union)
                .unwrap_or_default();
            batches.push((
                group.to_owned(),
                chunk.iter().map(|(s, _)| (*s).to_owned()).collect(),
                window,
            ));
        }
    }
    (batches, alone)
}

/// Calls in a fixed order whatever order they finished in: by operation, then request.
fn sort_calls(calls: &mut [Call]) {
    calls.sort_by_cached_key(|call| {
        let rank = call
            .known_operation()
            .and_then(|op| Operation::ALL.iter().position(|o| *o == op))
            .unwrap_or(usize::MAX);
        (rank, call.request.to_string())
    });
}

/// Pages a listing reads at most unless it says otherwise, so that a listing that never ends
/// cannot hang the collector.
const MAX_PAGES: usize = 100;

/// Every item of a paginated listing: `page(token)` gives a page's items and the next token.
/// At most `max_pages` pages; a page that fails ends the listing (the failure is recorded), and
/// so does a missing or empty next token.
async fn all_pages<T, F, Fut>(max_pages: usize, mut page: F) -> Vec<T>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Option<(Vec<T>, Option<String>)>>,
{
    let mut items = Vec::new();
    let mut token = None;
    for _ in 0..max_pages {
        let Some((batch, next)) = page(token.take()).await else {
            break;
        };
        items.extend(batch);
        token = next.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    items
}

/// The calls in flight at once, per API.
struct Slots(BTreeMap<Operation, Semaphore>);

impl Slots {
    fn new(per_api: usize) -> Slots {
        Slots(
            Operation::ALL
                .into_iter()
                .map(|operation| (operation, Semaphore::new(per_api.max(1))))
                .collect(),
        )
    }

    fn of(&self, operation: Operation) -> &Semaphore {
        // Every operation has its semaphore (`Operation::ALL`).
        &self.0[&operation]
    }
}

/// Pages of ListServiceDeployments read per service, 100 deployments each.
const DEPLOYMENT_PAGES: usize = 5;
/// Deployments described per service: the newest.
const DEPLOYMENTS_KEPT: usize = 20;
/// How far before the recording deployments are listed.
const DEPLOYMENT_WINDOW_MILLIS: i64 = 7 * 24 * 60 * 60 * 1000;

/// The start of the deployment window, from the recording time.
fn deployments_after(recorded_at: &str) -> Option<i64> {
    crate::time::Timestamp::parse_iso(recorded_at).map(|t| t.millis - DEPLOYMENT_WINDOW_MILLIS)
}

struct Ctx {
    ecs: aws_sdk_ecs::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    trail: aws_sdk_cloudtrail::Client,
    /// The recording time, epoch milliseconds (CloudTrail's 90 days count back from it).
    recorded_at: Option<i64>,
    pacer: pace::Pacer,
    slots: Slots,
    calls: Mutex<Vec<Call>>,
    observer: Option<CallObserver>,
    /// Epoch milliseconds: deployments created before this are not listed (a week before the
    /// recording; None when the recording time does not parse, and then all are).
    deployments_after: Option<i64>,
}

impl Ctx {
    /// Runs one call under the concurrency bound and records it, response or error.
    /// `request` is the request as recorded (None: the captured JSON request body);
    /// `to_json` maps the typed output for services whose wire format is not JSON.
    async fn call<T, E, Fut>(
        &self,
        operation: Operation,
        request: Option<Value>,
        to_json: Option<fn(&T) -> Value>,
        send: impl FnOnce(Capture) -> Fut,
    ) -> Option<T>
    where
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.call_result(operation, request, to_json, send)
            .await
            .ok()
    }

    /// `call`, saying why there is no output when there is none.
    async fn call_result<T, E, Fut>(
        &self,
        operation: Operation,
        request: Option<Value>,
        to_json: Option<fn(&T) -> Value>,
        send: impl FnOnce(Capture) -> Fut,
    ) -> Result<T, Option<CallError>>
    where
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        // A slot of this API, then its API's token, then the request: the request leaves when
        // its token is spent (a call that waited for a slot after its token would leave in a
        // bunch with others and be throttled), and a call waiting for its API's pace holds up
        // no other API.
        if let Some(observer) = &self.observer {
            observer(&CallEvent {
                operation,
                elapsed: Duration::ZERO,
                error: None,
                throttled: 0,
                finished: false,
            });
        }
        let _permit = self.slots.of(operation).acquire().await.map_err(|_| None)?;
        self.pacer.acquire(operation).await;
        let started = Instant::now();
        let capture = Capture::default();
        let result = send(capture.clone()).await;
        let captured = capture.take();
        let request = request
            .or_else(|| {
                let body = captured.as_ref()?.request_body.as_ref()?;
                serde_json::from_slice(body).ok()
            })
            .unwrap_or_else(|| Value::Object(serde_json::Map::new()));

        let (call, output, error) = match result {
            Ok(output) => {
                let response = match to_json {
                    Some(to_json) => serde_json::value::to_raw_value(&to_json(&output)).ok(),
                    None => captured.as_ref().and_then(|c| {
                        serde_json::from_slice::<Box<serde_json::value::RawValue>>(&c.response_body)
                            .ok()
                    }),
                };
                match response.map(|raw| Call::new(operation, request.clone(), raw)) {
                    Some(Ok(call)) => (call, Some(output), None),
                    Some(Err(message)) => {
                        let error = CallError {
                            code: "InvalidResponse".to_owned(),
                            message,
                        };
                        (
                            Call::failed(operation, request, error.clone()),
                            Some(output),
                            Some(error),
                        )
                    }
                    None => {
                        let error = CallError {
                            code: "ResponseNotCaptured".to_owned(),
                            message: "the response body could not be read as JSON".to_owned(),
                        };
                        (
                            Call::failed(operation, request, error.clone()),
                            Some(output),
                            Some(error),
                        )
                    }
                }
            }
            Err(err) => {
                let error = call_error(&err);
                (
                    Call::failed(operation, request, error.clone()),
                    None,
                    Some(error),
                )
            }
        };
        let elapsed = started.elapsed();
        let throttled = captured.as_ref().map_or(0, |c| c.throttled_attempts);
        tracing::info!(
            target: "recorder::aws",
            "{operation} {}ms{}{}",
            elapsed.as_millis(),
            if throttled > 0 { format!(" ({throttled} attempt(s) throttled)") } else { String::new() },
            error.as_ref().map(|e| format!(" failed: {}", e.code)).unwrap_or_default()
        );
        if let Some(observer) = &self.observer {
            observer(&CallEvent {
                operation,
                elapsed,
                error: error.as_ref().map(|e| format!("{}: {}", e.code, e.message)),
                throttled,
                finished: true,
            });
        }
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(call);
        output.ok_or(error)
    }

    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> Vec<aws_sdk_ecs::types::Service> {
        let outputs = join_all(names.chunks(10).map(|chunk| {
            self.call(Operation::DescribeServices, None, None, |capture| {
                self.ecs
                    .describe_services()
                    .cluster(cluster)
                    .set_services(Some(chunk.to_vec()))
                    .customize()
                    .interceptor(capture)
                    .send()
            })
        }))
        .await;
        outputs
            .into_iter()
            .flatten()
            .flat_map(|out| out.services.unwrap_or_default())
            .collect()
    }

    /// Every service ARN of the cluster, all pages.
    async fn list_services(&self, cluster: &str) -> Vec<String> {
        all_pages(MAX_PAGES, |token| async move {
            self.call(Operation::ListServices, None, None, |capture| {
                self.ecs
                    .list_services()
                    .cluster(cluster)
                    .max_results(100)
                    .set_next_token(token)
                    .customize()
                    .interceptor(capture)
                    .send()
            })
            .await
            .map(|page| (page.service_arns.unwrap_or_default(), page.next_token))
        })
        .await
    }

    /// The tasks of one service, or of the whole cluster, with this desired status; all pages.
    async fn list_tasks(
        &self,
        cluster: &str,
        service: Option<&str>,
        status: DesiredStatus,
    ) -> Vec<String> {
        all_pages(MAX_PAGES, |token| {
            let status = status.clone();
            async move {
                self.call(Operation::ListTasks, None, None, |capture| {
                    self.ecs
                        .list_tasks()
                        .cluster(cluster)
                        .set_service_name(service.map(str::to_owned))
                        .desired_status(status)
                        .max_results(100)
                        .set_next_token(token)
                        .customize()
                        .interceptor(capture)
                        .send()
                })
                .await
                .map(|page| (page.task_arns.unwrap_or_default(), page.next_token))
            }
        })
        .await
    }

    async fn describe_tasks(
        &self,
        cluster: &str,
        arns: &[String],
    ) -> Vec<aws_sdk_ecs::types::Task> {
        let outputs = join_all(arns.chunks(100).map(|chunk| {
            self.call(Operation::DescribeTasks, None, None, |capture| {
                self.ecs
                    .describe_tasks()
                    .cluster(cluster)
                    .set_tasks(Some(chunk.to_vec()))
                    .customize()
                    .interceptor(capture)
                    .send()
            })
        }))
        .await;
        outputs
            .into_iter()
            .flatten()
            .flat_map(|out| out.tasks.unwrap_or_default())
            .collect()
    }

    async fn describe_task_definitions(
        &self,
        arns: &BTreeSet<String>,
    ) -> Vec<aws_sdk_ecs::types::TaskDefinition> {
        join_all(
            arns.iter()
                .map(|arn| self.describe_task_definition(arn.clone())),
        )
        .await
        .into_iter()
        .flatten()
        .collect()
    }

    /// One task definition, or `None` when the call failed (it is recorded either way).
    async fn describe_task_definition(
        &self,
        arn: String,
    ) -> Option<aws_sdk_ecs::types::TaskDefinition> {
        self.call(Operation::DescribeTaskDefinition, None, None, |capture| {
            self.ecs
                .describe_task_definition()
                .task_definition(&arn)
                .customize()
                .interceptor(capture)
                .send()
        })
        .await
        .and_then(|out| out.task_definition)
    }

    /// The logs of some stopped tasks: short-lived tasks' streams in batches, whole; the
    /// others' tails, stream by stream. A batch that could not be read whole (no permission
    /// for FilterLogEvents, too many pages) is read stream by stream instead.
    async fn read_logs(
        &self,
        tasks: &[&aws_sdk_ecs::types::Task],
        definitions: &[aws_sdk_ecs::types::TaskDefinition],
        options: &Options,
    ) {
        let streams = log_streams(tasks, definitions);
        let (batches, alone) = plan_log_reads(&streams, options.batch_logs);
        let (unread, ()) = tokio::join!(
            join_all(
                batches
                    .iter()
                    .map(|(group, names, window)| self.filter_log_events(group, names, *window)),
            ),
            async {
                join_all(
                    alone.iter().map(|(group, stream)| {
                        self.get_log_events(group, stream, options.log_lines)
                    }),
                )
                .await;
            },
        );
        join_all(
            batches
                .iter()
                .zip(unread)
                .filter(|(_, complete)| !complete)
                .flat_map(|((group, names, _), _)| names.iter().map(move |name| (group, name)))
                .map(|(group, stream)| self.get_log_events(group, stream, options.log_lines)),
        )
        .await;
    }

    async fn describe_container_instances(&self, cluster: &str, arns: &BTreeSet<String>) {
        let arns: Vec<String> = arns.iter().cloned().collect();
        join_all(arns.chunks(100).map(|chunk| {
            self.call(
                Operation::DescribeContainerInstances,
                None,
                None,
                |capture| {
                    self.ecs
                        .describe_container_instances()
                        .cluster(cluster)
                        .set_container_instances(Some(chunk.to_vec()))
                        .include(
                            aws_sdk_ecs::types::ContainerInstanceField::ContainerInstanceHealth,
                        )
                        .customize()
                        .interceptor(capture)
                        .send()
                },
            )
        }))
        .await;
    }

    /// The deployment record of each service (ListServiceDeployments, then
    /// DescribeServiceDeployments: status, rollback, hooks, alarms, circuit breaker), the
    /// revisions of each service's latest deployment (DescribeServiceRevisions: the image
    /// digests ECS pinned), and, for a service whose events say protected tasks block its scale-in,
    /// the protection of its running tasks (GetTaskProtection).
    async fn deployment_record(
        &self,
        cluster: &str,
        services: &[aws_sdk_ecs::types::Service],
        tasks: &[aws_sdk_ecs::types::Task],
    ) {
        let named: Vec<&str> = services.iter().filter_map(|s| s.service_name()).collect();
        let (briefs, ()) = tokio::join!(
            join_all(
                named
                    .iter()
                    .map(|name| self.list_service_deployments(cluster, name))
            ),
            async {
                join_all(
                    services
                        .iter()
                        .filter(|s| scale_in_blocked(s))
                        .map(|service| {
                            let group =
                                format!("service:{}", service.service_name().unwrap_or_default());
                            let running: Vec<String> = tasks
                                .iter()
                                .filter(|t| t.group() == Some(group.as_str()))
                                .filter(|t| t.last_status() != Some("STOPPED"))
                                .filter_map(|t| t.task_arn().map(str::to_owned))
                                .collect();
                            self.get_task_protection(cluster, running)
                        }),
                )
                .await;
            }
        );
        let arns: Vec<String> = briefs
            .into_iter()
            .flatten()
            .filter_map(|brief| brief.service_deployment_arn)
            .collect();
        let deployments: Vec<aws_sdk_ecs::types::ServiceDeployment> =
            join_all(arns.chunks(20).map(|chunk| {
                self.call(
                    Operation::DescribeServiceDeployments,
                    None,
                    None,
                    |capture| {
                        self.ecs
                            .describe_service_deployments()
                            .set_service_deployment_arns(Some(chunk.to_vec()))
                            .customize()
                            .interceptor(capture)
                            .send()
                    },
                )
            }))
            .await
            .into_iter()
            .flatten()
            .flat_map(|out| out.service_deployments.unwrap_or_default())
            .collect();
        // Per service, the latest deployment's revisions: the one it rolled out, those it
        // replaced, and the one it rolled back to.
        let mut latest: BTreeMap<&str, &aws_sdk_ecs::types::ServiceDeployment> = BTreeMap::new();
        for deployment in &deployments {
            let Some(service) = deployment.service_arn() else {
                continue;
            };
            let newer = latest
                .get(service)
                .is_none_or(|seen| deployment.created_at() > seen.created_at());
            if newer {
                latest.insert(service, deployment);
            }
        }
        let mut revisions: BTreeSet<String> = BTreeSet::new();
        for deployment in latest.values() {
            revisions.extend(
                deployment
                    .target_service_revision()
                    .and_then(|r| r.arn())
                    .into_iter()
                    .chain(
                        deployment
                            .source_service_revisions()
                            .iter()
                            .filter_map(|r| r.arn()),
                    )
                    .chain(deployment.rollback().and_then(|r| r.service_revision_arn()))
                    .map(str::to_owned),
            );
        }
        let revisions: Vec<String> = revisions.into_iter().collect();
        join_all(revisions.chunks(20).map(|chunk| {
            self.call(Operation::DescribeServiceRevisions, None, None, |capture| {
                self.ecs
                    .describe_service_revisions()
                    .set_service_revision_arns(Some(chunk.to_vec()))
                    .customize()
                    .interceptor(capture)
                    .send()
            })
        }))
        .await;
    }

    /// The service's most recent deployments: every page of those created in the week before
    /// the recording (at most `DEPLOYMENT_PAGES` pages of 100), newest first by `createdAt`
    /// (the API documents no order), the `DEPLOYMENTS_KEPT` newest kept.
    async fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
    ) -> Vec<aws_sdk_ecs::types::ServiceDeploymentBrief> {
        let created_at = self.deployments_after.map(|after| {
            aws_sdk_ecs::types::CreatedAt::builder()
                .after(aws_smithy_types::DateTime::from_millis(after))
                .build()
        });
        let mut briefs = all_pages(DEPLOYMENT_PAGES, |token| {
            let created_at = created_at.clone();
            async move {
                self.call(Operation::ListServiceDeployments, None, None, |capture| {
                    self.ecs
                        .list_service_deployments()
                        .cluster(cluster)
                        .service(service)
                        .set_created_at(created_at)
                        .max_results(100)
                        .set_next_token(token)
                        .customize()
                        .interceptor(capture)
                        .send()
                })
                .await
                .map(|page| {
                    (
                        page.service_deployments.unwrap_or_default(),
                        page.next_token,
                    )
                })
            }
        })
        .await;
        let created = |b: &aws_sdk_ecs::types::ServiceDeploymentBrief| {
            b.created_at().and_then(|t| t.to_millis().ok())
        };
        briefs.sort_by_key(|b| std::cmp::Reverse(created(b)));
        briefs.truncate(DEPLOYMENTS_KEPT);
        briefs
    }

    /// The scale-in protection of these tasks, 10 per request (the API's limit).
    async fn get_task_protection(&self, cluster: &str, arns: Vec<String>) {
        join_all(arns.chunks(10).map(|chunk| {
            self.call(Operation::GetTaskProtection, None, None, |capture| {
                self.ecs
                    .get_task_protection()
                    .cluster(cluster)
                    .set_tasks(Some(chunk.to_vec()))
                    .customize()
                    .interceptor(capture)
                    .send()
            })
        }))
        .await;
    }

    async fn describe_target_groups(&self, arns: &BTreeSet<String>) {
        if arns.is_empty() {
            return;
        }
        let arns: Vec<String> = arns.iter().cloned().collect();
        // The three reads need only the ARNs the services name: they go at once.
        let groups = join_all(arns.chunks(20).map(|chunk| {
            let request = serde_json::json!({ "TargetGroupArns": chunk });
            self.call(
                Operation::DescribeTargetGroups,
                Some(request),
                Some(elbv2::target_groups_json),
                |capture| {
                    self.elb
                        .describe_target_groups()
                        .set_target_group_arns(Some(chunk.to_vec()))
                        .customize()
                        .interceptor(capture)
                        .send()
                },
            )
        }));
        let health = join_all(arns.iter().map(|arn| {
            let request = serde_json::json!({ "TargetGroupArn": arn });
            self.call(
                Operation::DescribeTargetHealth,
                Some(request),
                Some(elbv2::target_health_json),
                move |capture| {
                    self.elb
                        .describe_target_health()
                        .target_group_arn(arn)
                        .customize()
                        .interceptor(capture)
                        .send()
                },
            )
        }));
        tokio::join!(groups, health, self.describe_target_group_attributes(&arns));
    }

    /// Each target group's attributes: the deregistration delay, slow start, stickiness.
    async fn describe_target_group_attributes(&self, arns: &[String]) {
        join_all(arns.iter().map(|arn| {
            let request = serde_json::json!({ "TargetGroupArn": arn });
            self.call(
                Operation::DescribeTargetGroupAttributes,
                Some(request),
                Some(elbv2::target_group_attributes_json),
                move |capture| {
                    self.elb
                        .describe_target_group_attributes()
                        .target_group_arn(arn)
                        .customize()
                        .interceptor(capture)
                        .send()
                },
            )
        }))
        .await;
    }

    /// Reads the named streams of one log group within `window` (a minute of margin at each
    /// end), following every page. Returns `false` when the batch should be read stream by
    /// stream instead: the caller may not call FilterLogEvents, or it has more pages than
    /// `MAX_FILTER_PAGES` (the calls made stay in the bundle). Any other failure (a missing
    /// log group, the network) would fail the same way stream by stream: it is recorded once.
    async fn filter_log_events(&self, group: &str, names: &[String], window: Window) -> bool {
        let margin = 60_000;
        let mut token: Option<String> = None;
        for _ in 0..MAX_FILTER_PAGES {
            let page = self
                .call_result(Operation::FilterLogEvents, None, None, |capture| {
                    self.logs
                        .filter_log_events()
                        .log_group_name(group)
                        .set_log_stream_names(Some(names.to_vec()))
                        .set_start_time(window.start.map(|t| t - margin))
                        .set_end_time(window.stop.map(|t| t + margin))
                        .set_next_token(token.clone())
                        .customize()
                        .interceptor(capture)
                        .send()
                })
                .await;
            let page = match page {
                Ok(page) => page,
                // Without the permission, GetLogEvents may still be allowed; a missing log
                // group or a network failure would fail the same way stream by stream.
                Err(error) => return !error.is_some_and(|e| e.is_access_denied()),
            };
            token = page.next_token;
            if token.is_none() {
                return true;
            }
        }
        false
    }

    async fn get_log_events(&self, group: &str, stream: &str, limit: i32) {
        self.call(Operation::GetLogEvents, None, None, |capture| {
            self.logs
                .get_log_events()
                .log_group_name(group)
                .log_stream_name(stream)
                .start_from_head(false)
                .limit(limit)
                .customize()
                .interceptor(capture)
                .send()
        })
        .await;
    }
}

/// The innermost error's message: "Connection refused (os error 111)" rather than five layers
/// of wrapping.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// The error as the bundle records it: the AWS error code when there is one, else the kind of
/// failure (timeout, connection, unreadable response).
fn call_error<E>(err: &SdkError<E, HttpResponse>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let source = root_cause(err);
    let (code, message) = match err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            (
                inner.code().unwrap_or("UnknownError").to_owned(),
                inner
                    .message()
                    .map_or_else(|| source.clone(), str::to_owned),
            )
        }
        SdkError::TimeoutError(_) => ("TimeoutError".to_owned(), source),
        SdkError::DispatchFailure(_) => ("DispatchFailure".to_owned(), source),
        SdkError::ResponseError(_) => ("ResponseError".to_owned(), source),
        SdkError::ConstructionFailure(_) => ("ConstructionFailure".to_owned(), source),
        _ => ("UnknownError".to_owned(), source),
    };
    CallError { code, message }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    /// Answers every request with an empty JSON object and counts requests.
    #[derive(Debug, Clone, Default)]
    struct Counting(Arc<AtomicUsize>);

    impl HttpConnector for Counting {
        fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
            self.0.fetch_add(1, Ordering::SeqCst);
            let status = StatusCode::try_from(200u16).expect("valid status");
            HttpConnectorFuture::ready(Ok(HttpResponse::new(status, SdkBody::from("{}"))))
        }
    }

    impl HttpClient for Counting {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(self.clone())
        }
    }

    #[test]
    fn no_log_stream_is_asked_for_a_container_that_never_ran() {
        use aws_sdk_ecs::types::{
            Container, ContainerDefinition, LogConfiguration, LogDriver, Task, TaskDefinition,
        };
        let logging = LogConfiguration::builder()
            .log_driver(LogDriver::Awslogs)
            .options("awslogs-group", "/ecs/api")
            .options("awslogs-stream-prefix", "ecs")
            .build()
            .expect("log configuration");
        let definition = TaskDefinition::builder()
            .task_definition_arn("arn:aws:ecs:us-east-1:123456789012:task-definition/api:1")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("app")
                    .log_configuration(logging.clone())
                    .build(),
            )
            .container_definitions(
                ContainerDefinition::builder()
                    .name("sidecar")
                    .log_configuration(logging)
                    .build(),
            )
            .build();
        let task = |id: &str, app: Container| {
            Task::builder()
                .task_arn(format!("arn:aws:ecs:us-east-1:123456789012:task/prod/{id}"))
                .task_definition_arn("arn:aws:ecs:us-east-1:123456789012:task-definition/api:1")
                .containers(app)
                .build()
        };
        // The image did not pull: no runtime id, no exit code.
        let never_ran = task("aaa", Container::builder().name("app").build());
        let ran = task("bbb", Container::builder().name("app").exit_code(1).build());
        let streams = log_streams(&[&never_ran, &ran], &[definition]);
        let names: Vec<&str> = streams.keys().map(|(_, stream)| stream.as_str()).collect();
        // A container the task does not describe (the sidecar) is still asked for.
        assert_eq!(names, ["ecs/app/bbb", "ecs/sidecar/aaa", "ecs/sidecar/bbb"]);
    }

    #[tokio::test]
    async fn clients_refuse_writes_before_sending_anything() {
        let counting = Counting::default();
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "AKID", "SECRET", None, None, "test",
            ))
            .http_client(counting.clone())
            .load()
            .await;
        let (ecs, logs, _elb, trail) = guarded_clients(&sdk);

        let stop = ecs.stop_task().cluster("prod").task("t").send().await;
        let err = format!("{:?}", stop.expect_err("StopTask must be refused"));
        assert!(
            err.contains("ecs-autopsy is read-only: refusing to call ECS StopTask"),
            "{err}"
        );
        let update = ecs
            .update_service()
            .cluster("prod")
            .service("api")
            .desired_count(0)
            .send()
            .await;
        assert!(update.is_err());
        let put = logs
            .put_retention_policy()
            .log_group_name("/ecs/api")
            .retention_in_days(1)
            .send()
            .await;
        assert!(put.is_err());
        let delete = logs
            .delete_query_definition()
            .query_definition_id("q")
            .send()
            .await;
        assert!(delete.is_err());
        let trail_write = trail.stop_logging().name("org").send().await;
        let err = format!(
            "{:?}",
            trail_write.expect_err("StopLogging must be refused")
        );
        assert!(err.contains("refusing to call"), "{err}");
        assert_eq!(
            counting.0.load(Ordering::SeqCst),
            0,
            "a refused call must not reach the network"
        );

        // Reads go through.
        ecs.list_tasks()
            .cluster("prod")
            .send()
            .await
            .expect("ListTasks is allowed");
        assert_eq!(counting.0.load(Ordering::SeqCst), 1);
        // A Logs Insights query (it reads; StopQuery stops only the collector's own) and a
        // CloudTrail lookup.
        logs.start_query()
            .log_group_name("/ecs/api")
            .start_time(0)
            .end_time(1)
            .query_string("fields @message")
            .send()
            .await
            .expect("StartQuery is allowed");
        logs.stop_query()
            .query_id("q")
            .send()
            .await
            .expect("StopQuery is allowed");
        trail
            .lookup_events()
            .send()
            .await
            .expect("LookupEvents is allowed");
        assert_eq!(counting.0.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn a_scale_in_blocked_by_protection_is_read_in_both_wordings() {
        let service = |message: &str| {
            aws_sdk_ecs::types::Service::builder()
                .events(
                    aws_sdk_ecs::types::ServiceEvent::builder()
                        .message(message)
                        .build(),
                )
                .build()
        };
        // AWS's documentation (service-event-messages-list).
        assert!(scale_in_blocked(&service(
            "(service api) was unable to reach steady state because task set (ecs-svc/1234567890123456789) was unable to scale in. Reason: The number of protected tasks are more than the desired count of tasks"
        )));
        // aws-containers/ecs-task-protection-examples (a console capture, verbatim).
        assert!(scale_in_blocked(&service(
            "(service task-protection-test-queue-consumer-Service-tjlfn1NmI0yU, taskSet ecs-svc/6163164058718610164) was unable to scale in due to (reason 1 tasks under protection)"
        )));
        assert!(!scale_in_blocked(&service(
            "(service api) has reached a steady state."
        )));
    }

    #[test]
    fn previous_revisions() {
        assert_eq!(
            previous_revision("arn:aws:ecs:eu-west-1:1:task-definition/api:7").as_deref(),
            Some("arn:aws:ecs:eu-west-1:1:task-definition/api:6")
        );
        assert_eq!(
            previous_revision("arn:aws:ecs:eu-west-1:1:task-definition/api:1"),
            None
        );
        assert_eq!(previous_revision("api"), None);
    }
}
