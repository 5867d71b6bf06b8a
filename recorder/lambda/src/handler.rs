//! One SQS batch: each message is one EventBridge event from ECS, handled on its own, so a
//! bad message is reported as a batch item failure (and retried, then dead-lettered) while
//! the others complete.
//!
//! For each event: a second delivery finds its bundle (or kept event) already stored and is
//! counted as a duplicate; within the storm limit (the first N stops per service and
//! task-definition revision per hour, claimed with `If-None-Match` markers) the place is
//! recorded, the event attached, the bundle redacted and stored with `If-None-Match: *`; past
//! it, the event alone is stored. The stored bundle is diagnosed with the built-in rules, and
//! one report per (service, root cause) per window is published, claimed with a marker whose
//! key is made of ids, never of rendered text.

use std::collections::BTreeSet;
use std::future::Future;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde::Serialize;

use engine::evidence::Evidence;
use engine::model::Verdict;
use engine::rule::RuleSet;
use recorder::Bundle;
use recorder::live::store::Put;

use crate::keys;
use crate::trigger::{self, Kind, Trigger};

/// What the function is configured with (its environment, see `Settings::from_env`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `ECS_AUTOPSY_BUCKET`: where bundles, kept events and markers go.
    pub bucket: String,
    /// `ECS_AUTOPSY_TOPIC_ARN`: where reports go; none when empty.
    pub topic_arn: Option<String>,
    /// `ECS_AUTOPSY_READER_ROLE_ARN_TEMPLATE`: the role to assume in the event's account,
    /// `{account}` replaced; empty for single-account mode (the function's own role).
    pub reader_role_arn_template: Option<String>,
    /// `ECS_AUTOPSY_FULL_RECORDS_PER_HOUR` (default 3): full recordings per service and
    /// task-definition revision per hour.
    pub full_records_per_hour: u32,
    /// `ECS_AUTOPSY_NOTIFY_WINDOW_MINUTES` (default 60): one report per service and root
    /// cause per window.
    pub notify_window_minutes: u32,
}

impl Settings {
    /// Reads the settings through `get` (the process environment in the function).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let non_empty = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let number = |name: &str, default: u32| -> Result<u32, String> {
            non_empty(name).map_or(Ok(default), |text| {
                text.parse()
                    .map_err(|_| format!("{name} must be a whole number, not `{text}`"))
            })
        };
        Ok(Settings {
            bucket: non_empty("ECS_AUTOPSY_BUCKET")
                .ok_or("ECS_AUTOPSY_BUCKET is not set: the function needs a bucket to write to")?,
            topic_arn: non_empty("ECS_AUTOPSY_TOPIC_ARN"),
            reader_role_arn_template: non_empty("ECS_AUTOPSY_READER_ROLE_ARN_TEMPLATE"),
            full_records_per_hour: number("ECS_AUTOPSY_FULL_RECORDS_PER_HOUR", 3)?,
            notify_window_minutes: number("ECS_AUTOPSY_NOTIFY_WINDOW_MINUTES", 60)?.max(1),
        })
    }
}

/// The side effects, so the same handler runs against AWS (`crate::aws::Aws`) and, in unit
/// tests, against memory.
pub trait Backend: Sync {
    /// Whether an object is at `key`.
    fn exists(&self, key: &str) -> impl Future<Output = Result<bool, String>> + Send;
    /// Writes `body` at `key` unless an object is there.
    fn put_if_absent(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &'static str,
    ) -> impl Future<Output = Result<Put, String>> + Send;
    /// Records the place the trigger is about (not yet redacted).
    fn record(&self, trigger: &Trigger) -> impl Future<Output = Result<Bundle, String>> + Send;
    /// Publishes one report.
    fn publish(
        &self,
        subject: &str,
        message: &str,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// A bundle was recorded and stored at `key`; `notified` names the root causes reported,
    /// `already_notified` those whose report this window had already sent.
    Recorded {
        key: String,
        notified: Vec<String>,
        already_notified: Vec<String>,
    },
    /// The event was delivered before: its bundle or kept event is at `key`.
    Duplicate { key: String },
    /// Only the event was kept, at `key`: past the storm limit, or nothing could be recorded.
    EventOnly { key: String, why: String },
    /// The message failed (reported as a batch item failure).
    Failed { message_id: String, error: String },
}

/// A batch's result: the response for the event source mapping and each message's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Handled {
    #[serde(skip)]
    pub response: SqsBatchResponse,
    pub outcomes: Vec<Outcome>,
}

/// Handles one SQS batch, its messages concurrently.
pub async fn handle_batch(
    settings: &Settings,
    backend: &impl Backend,
    rules: &RuleSet,
    batch: SqsEvent,
) -> Handled {
    let work = batch.records.into_iter().map(|message| async move {
        let id = message.message_id.clone().unwrap_or_default();
        let result = match message.body.as_deref() {
            Some(body) => handle_body(settings, backend, rules, body).await,
            None => Err("the message has no body".to_owned()),
        };
        (id, result)
    });
    let results = futures_util::future::join_all(work).await;
    let mut response = SqsBatchResponse::default();
    let mut outcomes = Vec::new();
    for (id, result) in results {
        match result {
            Ok(outcome) => outcomes.push(outcome),
            Err(error) => {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier.clone_from(&id);
                response.batch_item_failures.push(failure);
                outcomes.push(Outcome::Failed {
                    message_id: id,
                    error,
                });
            }
        }
    }
    Handled { response, outcomes }
}

/// Handles one message body.
pub async fn handle_body(
    settings: &Settings,
    backend: &impl Backend,
    rules: &RuleSet,
    body: &str,
) -> Result<Outcome, String> {
    let trigger = trigger::parse(body)?;
    let bundle_key = keys::bundle(&trigger);
    let event_key = keys::event(&trigger);
    if backend.exists(&bundle_key).await? {
        return Ok(Outcome::Duplicate { key: bundle_key });
    }
    if backend.exists(&event_key).await? {
        return Ok(Outcome::Duplicate { key: event_key });
    }
    if trigger.cluster.is_none() {
        return keep_event(
            backend,
            &trigger,
            "the event names no cluster (an old short service ARN and no clusterArn)",
        )
        .await;
    }
    if !claim_storm_slot(settings, backend, &trigger).await? {
        return keep_event(
            backend,
            &trigger,
            &format!(
                "storm: {} stops of this service and revision were already recorded in full this hour",
                settings.full_records_per_hour
            ),
        )
        .await;
    }
    let mut bundle = match backend.record(&trigger).await {
        Ok(bundle) => bundle,
        Err(error) => {
            // Keep the event so nothing is lost (beside the event key, so that the retry
            // still records), and fail the message so it is retried (and dead-lettered if it
            // keeps failing).
            keep_event_at(backend, &trigger, &keys::unrecorded_event(&trigger), &error).await?;
            return Err(error);
        }
    };
    attach_trigger(&mut bundle, &trigger)?;
    recorder::redact::redact(&mut bundle);
    let json = bundle
        .canonical_json()
        .map_err(|err| format!("cannot write the bundle: {err}"))?;
    let gzipped = recorder::bundle::gzip(&json)
        .map_err(|err| format!("cannot compress the bundle: {err}"))?;
    if backend
        .put_if_absent(&bundle_key, gzipped, "application/gzip")
        .await?
        == Put::Exists
    {
        return Ok(Outcome::Duplicate { key: bundle_key });
    }

    // The short report of the bundle as stored: what `ecs-autopsy replay --brief` of it
    // prints (one line per cause and per unhealthy service); the bundle has the rest.
    let stored =
        Bundle::from_slice_for_diagnosis(&json, &bundle_key).map_err(|err| err.to_string())?;
    let mut report = engine::diagnose(&Evidence::from_bundle(stored), rules);
    report.drop_timelines();
    let text = report.render_brief_text();
    let mut notified = Vec::new();
    let mut already_notified = Vec::new();
    if let Some(_topic) = &settings.topic_arn {
        for (service, cause) in causes(&report, &trigger) {
            let marker = keys::notification(&trigger, &cause, settings.notify_window_minutes);
            if backend
                .put_if_absent(&marker, bundle_key.clone().into_bytes(), "text/plain")
                .await?
                == Put::Exists
            {
                already_notified.push(cause);
                continue;
            }
            let subject = format!(
                "ecs-autopsy: {cause} in {service} ({})",
                trigger.cluster.as_deref().unwrap_or("-")
            );
            let message = format!(
                "{text}\nBundle: s3://{bucket}/{bundle_key}\nReplay: ecs-autopsy replay s3://{bucket}/{bundle_key}\n",
                bucket = settings.bucket
            );
            backend.publish(&subject, &message).await?;
            notified.push(cause);
        }
    }
    Ok(Outcome::Recorded {
        key: bundle_key,
        notified,
        already_notified,
    })
}

/// The root causes to report for a trigger, with the service they are about: for a stopped
/// task, its own root cause (the bundle's other stops, recorded for context, are reported
/// by their own events); for a deployment or service event, the root causes of the findings
/// about its service. `undiagnosed` when that part of the report is a problem no rule explains.
pub fn causes(report: &engine::report::Report, trigger: &Trigger) -> Vec<(String, String)> {
    use engine::report::TaskVerdict;
    let service = trigger.service.clone().unwrap_or_else(|| "-".to_owned());
    let mut causes = BTreeSet::new();
    match &trigger.kind {
        Kind::Task { id, .. } => {
            // Task ARNs in the report are redacted (the account pseudonymised): match the id.
            if let Some(task) = report.tasks.iter().find(|t| t.task_id == *id) {
                match task.verdict {
                    TaskVerdict::Diagnosed => {
                        causes.insert((
                            service,
                            task.root_cause
                                .clone()
                                .unwrap_or_else(|| "undiagnosed".to_owned()),
                        ));
                    }
                    TaskVerdict::Undiagnosed => {
                        causes.insert((service, "undiagnosed".to_owned()));
                    }
                    TaskVerdict::Benign => {}
                }
            }
        }
        Kind::Service { .. } => {
            for finding in &report.findings {
                if finding.verdict == Verdict::RootCause
                    && finding.task_arn.is_none()
                    && finding.service.as_deref() == Some(service.as_str())
                {
                    causes.insert((service.clone(), finding.rule.clone()));
                }
            }
            let unexplained = report
                .unexplained_events
                .iter()
                .any(|e| e.service.as_deref() == Some(service.as_str()));
            if causes.is_empty() && unexplained {
                causes.insert((service, "undiagnosed".to_owned()));
            }
        }
    }
    causes.into_iter().collect()
}

/// Takes one of the trigger's service-and-revision storm slots for its hour; `false` when
/// all are taken.
async fn claim_storm_slot(
    settings: &Settings,
    backend: &impl Backend,
    trigger: &Trigger,
) -> Result<bool, String> {
    let name = keys::name(trigger);
    for slot in 0..settings.full_records_per_hour {
        let key = keys::storm_slot(trigger, slot);
        if backend
            .put_if_absent(&key, name.clone().into_bytes(), "text/plain")
            .await?
            == Put::Created
        {
            return Ok(true);
        }
    }
    Ok(false)
}

async fn keep_event(
    backend: &impl Backend,
    trigger: &Trigger,
    why: &str,
) -> Result<Outcome, String> {
    keep_event_at(backend, trigger, &keys::event(trigger), why).await
}

async fn keep_event_at(
    backend: &impl Backend,
    trigger: &Trigger,
    key: &str,
    why: &str,
) -> Result<Outcome, String> {
    let key = key.to_owned();
    // The same redaction a bundle gets: an event can carry environment overrides.
    let mut holder = Bundle::new(recorder::Source::Recorded, String::new());
    holder.manifest.trigger_event = Some(trigger.event.clone());
    recorder::redact::redact(&mut holder);
    let event = holder.manifest.trigger_event.unwrap_or_default();
    let body = serde_json::to_vec_pretty(&event).map_err(|err| err.to_string())?;
    Ok(
        match backend
            .put_if_absent(&key, body, "application/json")
            .await?
        {
            Put::Created => Outcome::EventOnly {
                key,
                why: why.to_owned(),
            },
            Put::Exists => Outcome::Duplicate { key },
        },
    )
}

/// Puts the trigger into the bundle: `manifest.trigger_event`, the event as an `EcsEvents`
/// call, and, when the recording did not describe the task (ECS had forgotten it), the task
/// as the event describes it.
pub fn attach_trigger(bundle: &mut Bundle, trigger: &Trigger) -> Result<(), String> {
    bundle.manifest.trigger_event = Some(trigger.event.clone());
    let found = [recorder::events::Found {
        event: trigger.event.clone(),
        at: String::new(),
    }];
    let described = |arn: &str| {
        bundle
            .calls_of(recorder::Operation::DescribeTasks)
            .any(|(_, call)| match call.parsed.as_ref() {
                recorder::bundle::Response::DescribeTasks(response) => response
                    .tasks
                    .iter()
                    .any(|t| t.task_arn.as_deref() == Some(arn)),
                _ => false,
            })
    };
    let keep_task = match &trigger.kind {
        Kind::Task { arn, .. } => !described(arn),
        Kind::Service { .. } => false,
    };
    for mut call in recorder::events::to_calls(&found)? {
        let is_task = call.known_operation() == Some(recorder::Operation::DescribeTasks);
        if is_task && !keep_task {
            continue;
        }
        call.source_file = Some("trigger event".to_owned());
        bundle.calls.push(call);
    }
    if bundle.manifest.cluster.is_none() {
        bundle.manifest.cluster.clone_from(&trigger.cluster);
    }
    Ok(())
}
