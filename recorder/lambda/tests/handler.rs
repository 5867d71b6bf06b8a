//! The handler on the documented event shapes, with its side effects kept in memory: the
//! task, deployment and service-action events of `fixtures/events/` (real events, sources in
//! its SOURCES.md) wrapped as the event source mapping delivers them. The same handler against
//! moto, with the real SDK, is `engine/cli/tests/fleet.rs`.
//!
//! The in-memory `record` describes nothing (as when ECS has already forgotten the task): the
//! bundle holds what the event says, which is what the handler adds in that case.

use std::collections::BTreeMap;
use std::sync::Mutex;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

use ecs_autopsy_lambda::trigger::Trigger;
use ecs_autopsy_lambda::{Backend, Outcome, Settings, handle_batch};
use recorder::Bundle;
use recorder::live::store::Put;

#[derive(Default)]
struct Memory {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
    published: Mutex<Vec<(String, String)>>,
    /// Every `record` fails with this (an AssumeRole refused, say).
    refuse_record: Option<String>,
}

impl Memory {
    fn keys(&self) -> Vec<String> {
        self.objects
            .lock()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn published(&self) -> Vec<(String, String)> {
        self.published.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

impl Backend for Memory {
    async fn exists(&self, key: &str) -> Result<bool, String> {
        Ok(self
            .objects
            .lock()
            .map_err(|e| e.to_string())?
            .contains_key(key))
    }

    async fn put_if_absent(
        &self,
        key: &str,
        body: Vec<u8>,
        _content_type: &'static str,
    ) -> Result<Put, String> {
        let mut objects = self.objects.lock().map_err(|e| e.to_string())?;
        if objects.contains_key(key) {
            return Ok(Put::Exists);
        }
        objects.insert(key.to_owned(), body);
        Ok(Put::Created)
    }

    async fn record(&self, trigger: &Trigger) -> Result<Bundle, String> {
        if let Some(error) = &self.refuse_record {
            return Err(error.clone());
        }
        let mut bundle = Bundle::new(
            recorder::Source::Recorded,
            "2026-12-05T10:00:00.000Z".to_owned(),
        );
        bundle.manifest.region = Some(trigger.region.clone());
        Ok(bundle)
    }

    async fn publish(&self, subject: &str, message: &str) -> Result<(), String> {
        self.published
            .lock()
            .map_err(|e| e.to_string())?
            .push((subject.to_owned(), message.to_owned()));
        Ok(())
    }
}

fn settings() -> Settings {
    Settings {
        bucket: "hub".to_owned(),
        topic_arn: Some("arn:aws:sns:us-east-1:123456789012:reports".to_owned()),
        reader_role_arn_template: None,
        full_records_per_hour: 3,
        notify_window_minutes: 60,
    }
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../fixtures/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn message(id: &str, body: &str) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(id.to_owned());
    message.body = Some(body.to_owned());
    message
}

fn batch(bodies: &[(&str, String)]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = bodies.iter().map(|(id, body)| message(id, body)).collect();
    event
}

fn rules() -> engine::rule::RuleSet {
    engine::rule::RuleSet::builtin(engine::runtime::Limits::default())
}

/// Runs one batch as the runtime hands it over (`LambdaEvent`).
fn run(backend: &Memory, settings: &Settings, event: SqsEvent) -> ecs_autopsy_lambda::Handled {
    let invocation = LambdaEvent::new(event, Context::default());
    let rules = rules();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(handle_batch(settings, backend, &rules, invocation.payload))
}

fn key_of(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Recorded { key, .. }
        | Outcome::Duplicate { key }
        | Outcome::EventOnly { key, .. } => key,
        Outcome::Failed { .. } => "",
    }
}

#[test]
fn a_lambda_sqs_batch_of_a_task_a_deployment_and_a_service_action_event_is_recorded_at_its_keys() {
    let event: SqsEvent =
        serde_json::from_str(&fixture("sqs/lambda-batch.json")).expect("a Lambda SQS event");
    let backend = Memory::default();
    let handled = run(&backend, &settings(), event);
    assert!(
        handled.response.batch_item_failures.is_empty(),
        "{:?}",
        handled.outcomes
    );
    let keys: Vec<&str> = handled.outcomes.iter().map(key_of).collect();
    assert_eq!(
        keys,
        [
            "bundles/111111111111/eu-central-1/test/example-api-v1/2020-03-16/a6eaf0150a4248dAA1bcbd688121014e.json.gz",
            "bundles/111122223333/us-west-2/default/servicetest/2020-05-23/SERVICE_DEPLOYMENT_FAILED-ddca6449-b258-46c0-8653-e0e3aEXAMPLE.json.gz",
            "bundles/760097843905/eu-west-1/catalogue-2023-03-09/image_inferrer/2023-04-07/SERVICE_TASK_START_IMPAIRED-b2a64ade-0dfc-adcc-567d-7ffbd225a3c6.json.gz",
        ],
        "{:?}",
        handled.outcomes
    );
    // Each bundle keeps its event, and replays to the same diagnosis as the event alone.
    let objects = backend
        .objects
        .lock()
        .map(|o| o.clone())
        .unwrap_or_default();
    let stored = &objects[keys[1]];
    let bundle =
        Bundle::from_stored_for_diagnosis(stored, keys[1], recorder::bundle::ReadLimits::default())
            .expect("a bundle");
    let trigger = bundle
        .manifest
        .trigger_event
        .clone()
        .expect("the trigger event");
    assert_eq!(trigger["detail"]["eventName"], "SERVICE_DEPLOYMENT_FAILED");
    let report = engine::diagnose(&engine::evidence::Evidence::from_bundle(bundle), &rules());
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == "deployment-circuit-breaker")
    );
    // One report per (service, cause): the undiagnosed task, the failed deployment, the
    // service that cannot start tasks.
    let subjects: Vec<String> = backend.published().into_iter().map(|(s, _)| s).collect();
    assert_eq!(subjects.len(), 3, "{subjects:?}");
    assert!(
        subjects
            .iter()
            .any(|s| s == "ecs-autopsy: deployment-circuit-breaker in servicetest (default)"),
        "{subjects:?}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| s == "ecs-autopsy: undiagnosed in image_inferrer (catalogue-2023-03-09)"),
        "{subjects:?}"
    );
}

#[test]
fn a_second_delivery_of_the_same_event_version_is_a_duplicate() {
    let body = fixture("task-elb-health-check-failed-fargate.json");
    let backend = Memory::default();
    let first = run(&backend, &settings(), batch(&[("m1", body.clone())]));
    assert!(
        matches!(first.outcomes[0], Outcome::Recorded { .. }),
        "{:?}",
        first.outcomes
    );
    let objects = backend.keys();
    let second = run(&backend, &settings(), batch(&[("m2", body)]));
    assert!(
        matches!(second.outcomes[0], Outcome::Duplicate { .. }),
        "{:?}",
        second.outcomes
    );
    assert_eq!(backend.keys(), objects, "nothing written twice");
    assert_eq!(backend.published().len(), 1, "nothing sent twice");
}

#[test]
fn the_account_and_region_come_from_the_arns_when_the_envelope_lacks_them() {
    let mut event: Value =
        serde_json::from_str(&fixture("task-elb-health-check-failed-fargate.json")).expect("JSON");
    let object = event.as_object_mut().expect("an object");
    object.remove("account");
    object.remove("region");
    let handled = run(
        &Memory::default(),
        &settings(),
        batch(&[("m1", event.to_string())]),
    );
    assert!(
        key_of(&handled.outcomes[0]).starts_with("bundles/xxxxxxxxxxx/ap-northeast-2/"),
        "{:?}",
        handled.outcomes
    );

    // Nothing names an account: the message fails, and only that message.
    let mut bare: Value =
        serde_json::from_str(&fixture("task-standalone-exit1-fargate.json")).expect("JSON");
    bare.as_object_mut().expect("an object").remove("account");
    for pointer in [
        "/detail/taskArn",
        "/detail/clusterArn",
        "/detail/taskDefinitionArn",
        "/detail/containerInstanceArn",
    ] {
        if let Some(value) = bare.pointer_mut(pointer) {
            *value = Value::from("task-without-arn");
        }
    }
    bare["resources"] = Value::from(Vec::<String>::new());
    let handled = run(
        &Memory::default(),
        &settings(),
        batch(&[
            ("bad", bare.to_string()),
            ("good", fixture("task-user-stopped-ec2-exit0.json")),
        ]),
    );
    assert_eq!(handled.response.batch_item_failures.len(), 1);
    assert_eq!(
        handled.response.batch_item_failures[0].item_identifier,
        "bad"
    );
    assert!(
        matches!(&handled.outcomes[0], Outcome::Failed { error, .. } if error.contains("no account")),
        "{:?}",
        handled.outcomes
    );
    assert!(matches!(handled.outcomes[1], Outcome::Recorded { .. }));
}

#[test]
fn an_old_short_service_arn_with_no_cluster_keeps_the_event_only() {
    let mut event: Value =
        serde_json::from_str(&fixture("deployment-failed-circuit-breaker-awsdocs.json"))
            .expect("JSON");
    event["resources"] = Value::from(vec![
        "arn:aws:ecs:us-west-2:111122223333:service/servicetest",
    ]);
    let backend = Memory::default();
    let handled = run(&backend, &settings(), batch(&[("m1", event.to_string())]));
    match &handled.outcomes[0] {
        Outcome::EventOnly { key, why } => {
            assert!(
                key.starts_with("events/111122223333/us-west-2/-/servicetest/2020-05-23/"),
                "{key}"
            );
            assert!(why.contains("no cluster"), "{why}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn iso_and_epoch_timestamps_give_the_same_key() {
    let iso = fixture("task-elb-health-check-failed-fargate.json");
    let mut epoch: Value = serde_json::from_str(&iso).expect("JSON");
    let stopped = recorder::time::Timestamp::parse_iso(
        epoch["detail"]["stoppedAt"].as_str().expect("stoppedAt"),
    )
    .expect("a time");
    #[allow(clippy::cast_precision_loss)]
    let seconds = stopped.millis as f64 / 1000.0;
    epoch["detail"]["stoppedAt"] = Value::from(seconds);
    let a = run(&Memory::default(), &settings(), batch(&[("m1", iso)]));
    let b = run(
        &Memory::default(),
        &settings(),
        batch(&[("m1", epoch.to_string())]),
    );
    assert_eq!(key_of(&a.outcomes[0]), key_of(&b.outcomes[0]));
}

#[test]
fn a_message_that_is_not_an_event_fails_alone() {
    let handled = run(
        &Memory::default(),
        &settings(),
        batch(&[
            ("not-json", "{".to_owned()),
            ("not-ecs", r#"{"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "detail": {}}"#.to_owned()),
            ("ok", fixture("task-user-stopped-ec2-exit0.json")),
        ]),
    );
    let failed: Vec<&str> = handled
        .response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["not-json", "not-ecs"]);
    assert!(matches!(handled.outcomes[2], Outcome::Recorded { .. }));
}

#[test]
fn a_recording_that_fails_keeps_the_event_and_fails_the_message_for_a_retry() {
    let backend = Memory {
        refuse_record: Some(
            "sts AssumeRole arn:aws:iam::0123456789:role/ecs-autopsy-reader failed: AccessDenied"
                .to_owned(),
        ),
        ..Memory::default()
    };
    let handled = run(
        &backend,
        &settings(),
        batch(&[("m1", fixture("task-user-stopped-ec2-exit0.json"))]),
    );
    assert_eq!(handled.response.batch_item_failures.len(), 1);
    let stored: Vec<String> = backend
        .keys()
        .into_iter()
        .filter(|k| !k.starts_with("markers/"))
        .collect();
    assert_eq!(
        stored,
        [
            "events/0123456789/eu-west-1/Features/Webapp/2020-06-05/33a7f27282624543abd4a00c3e84d0ee.unrecorded.json"
        ]
    );
    // The retry, once the role can be assumed, records it.
    let healed = Memory {
        objects: Mutex::new(
            backend
                .objects
                .lock()
                .map(|o| o.clone())
                .unwrap_or_default(),
        ),
        ..Memory::default()
    };
    let retry = run(
        &healed,
        &settings(),
        batch(&[("m1", fixture("task-user-stopped-ec2-exit0.json"))]),
    );
    assert!(
        matches!(retry.outcomes[0], Outcome::Recorded { .. }),
        "{:?}",
        retry.outcomes
    );
}

#[test]
fn a_storm_records_the_first_stops_per_service_and_revision_in_full_and_notifies_once() {
    let template: Value =
        serde_json::from_str(&fixture("task-elb-health-check-failed-fargate.json")).expect("JSON");
    let bodies: Vec<(String, String)> = (0..8)
        .map(|n| {
            let mut event = template.clone();
            let arn =
                format!("arn:aws:ecs:ap-northeast-2:xxxxxxxxxxx:task/sin-web_cluster-dev/{n:032x}");
            event["detail"]["taskArn"] = Value::from(arn.clone());
            event["resources"] = Value::from(vec![arn]);
            (format!("m{n}"), event.to_string())
        })
        .collect();
    let refs: Vec<(&str, String)> = bodies
        .iter()
        .map(|(id, body)| (id.as_str(), body.clone()))
        .collect();
    let backend = Memory::default();
    let handled = run(&backend, &settings(), batch(&refs));
    let recorded = handled
        .outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Recorded { .. }))
        .count();
    let kept = handled
        .outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::EventOnly { .. }))
        .count();
    assert_eq!((recorded, kept), (3, 5), "{:?}", handled.outcomes);
    let published = backend.published();
    assert_eq!(
        published.len(),
        1,
        "one report per service and cause in the window"
    );
    let (subject, body) = &published[0];
    assert_eq!(
        subject,
        "ecs-autopsy: elb-health-check-failed in sin-web_service-dev (sin-web_cluster-dev)"
    );
    assert!(subject.len() <= 100);
    assert!(body.contains("Bundle: s3://hub/bundles/xxxxxxxxxxx/ap-northeast-2/sin-web_cluster-dev/sin-web_service-dev/"), "{body}");
}

#[test]
fn settings_come_from_the_documented_environment_variables() {
    let env: BTreeMap<&str, &str> = BTreeMap::from([
        ("ECS_AUTOPSY_BUCKET", "hub"),
        ("ECS_AUTOPSY_TOPIC_ARN", ""),
        (
            "ECS_AUTOPSY_READER_ROLE_ARN_TEMPLATE",
            "arn:aws:iam::{account}:role/ecs-autopsy-reader",
        ),
        ("ECS_AUTOPSY_FULL_RECORDS_PER_HOUR", "5"),
    ]);
    let settings =
        Settings::from_env(|name| env.get(name).map(|v| (*v).to_owned())).expect("valid");
    assert_eq!(settings.topic_arn, None, "empty means no notifications");
    assert_eq!(settings.full_records_per_hour, 5);
    assert_eq!(settings.notify_window_minutes, 60);
    assert!(Settings::from_env(|_| None).is_err_and(|e| e.contains("ECS_AUTOPSY_BUCKET")));
    let bad = Settings::from_env(|name| match name {
        "ECS_AUTOPSY_BUCKET" => Some("hub".to_owned()),
        "ECS_AUTOPSY_FULL_RECORDS_PER_HOUR" => Some("many".to_owned()),
        _ => None,
    });
    assert!(bad.is_err_and(|e| e.contains("ECS_AUTOPSY_FULL_RECORDS_PER_HOUR")));
}
