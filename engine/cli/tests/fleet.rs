//! The event-driven recorder end to end, offline: moto on 127.0.0.1 plays S3, SQS, SNS, STS,
//! EventBridge and the spoke account's ECS and CloudWatch Logs (harness scenario `hub`); the
//! test plays the event source mapping (`hub_tool.py receive`: every message of the hub queue
//! as a Lambda SQS event) and invokes the handler in-process, with the real AWS SDK, assuming
//! the reader role in the spoke account. Then the stored bundles are read back through the
//! real binary: `replay s3://…`, `bundle fetch`, `history`.
//!
//! What this cannot show (docs/fleet.md): EventBridge delivering across accounts with its
//! resource policies, IAM evaluation, StackSets, and the real Lambda runtime and its scaling.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output};

use aws_lambda_events::event::sqs::SqsEvent;
use common::harness::{Harness, python};
use common::{TempDir, isolated_binary, text};
use ecs_autopsy_lambda::aws::Aws;
use ecs_autopsy_lambda::{Outcome, Settings, handle_batch};
use serde_json::Value;

fn root() -> PathBuf {
    common::workspace_root()
}

#[derive(Debug, serde::Deserialize)]
struct HubInfo {
    account: String,
    bucket: String,
    topic_arn: String,
    queue_url: String,
    sink_url: String,
}

#[derive(Debug, serde::Deserialize)]
struct Staged {
    endpoint: String,
    region: String,
    hub: HubInfo,
}

/// moto with the hub scenario staged; stopped when dropped.
struct Hub {
    _harness: Harness,
    staged: Staged,
}

impl Hub {
    fn start() -> Hub {
        let (harness, staged) = Harness::start("hub", &[]);
        Hub {
            _harness: harness,
            staged,
        }
    }

    /// `hub_tool.py ENDPOINT ARGS…`, its JSON output.
    fn tool(&self, args: &[&str]) -> Value {
        let output = Command::new(python())
            .arg(root().join("recorder/tests/moto/hub_tool.py"))
            .arg(&self.staged.endpoint)
            .args(args)
            .output()
            .expect("hub_tool runs");
        assert!(
            output.status.success(),
            "hub_tool {args:?}: {}",
            text(&output.stderr)
        );
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|err| panic!("hub_tool {args:?}: {err}"))
    }

    /// Every message waiting in the hub queue, as the event source mapping would hand them over.
    fn receive(&self) -> SqsEvent {
        serde_json::from_value(self.tool(&["receive", &self.staged.hub.queue_url]))
            .expect("a Lambda SQS event")
    }

    fn keys(&self) -> Vec<String> {
        serde_json::from_value(self.tool(&["keys", &self.staged.hub.bucket])).expect("keys")
    }

    /// Every report the topic delivered to the sink queue: (subject, message).
    fn reports(&self) -> Vec<(String, String)> {
        self.tool(&["sink", &self.staged.hub.sink_url])
            .as_array()
            .expect("an array")
            .iter()
            .map(|n| {
                (
                    n["subject"].as_str().unwrap_or_default().to_owned(),
                    n["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    fn settings(&self, full_records_per_hour: u32) -> Settings {
        Settings {
            bucket: self.staged.hub.bucket.clone(),
            topic_arn: Some(self.staged.hub.topic_arn.clone()),
            reader_role_arn_template: Some(
                "arn:aws:iam::{account}:role/ecs-autopsy-reader".to_owned(),
            ),
            full_records_per_hour,
            notify_window_minutes: 60,
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime")
    }

    /// The function's AWS side: static test credentials, moto's endpoint.
    async fn backend(&self, settings: &Settings) -> Aws {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(self.staged.region.clone()))
            .endpoint_url(&self.staged.endpoint)
            .credentials_provider(aws_credential_types::Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "fleet-test",
            ))
            .load()
            .await;
        Aws::new(sdk, settings)
    }

    /// The binary, with S3 pointed at moto and dummy credentials.
    fn run(&self, args: &[&str]) -> Output {
        let home = TempDir::new("fleet-home", &format!("{:?}", std::thread::current().id()));
        isolated_binary(&home)
            .arg("--no-config")
            .args(args)
            .args([
                "--endpoint-url",
                &self.staged.endpoint,
                "--region",
                &self.staged.region,
            ])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()
            .expect("the binary runs")
    }
}

fn rules() -> engine::rule::RuleSet {
    engine::rule::RuleSet::builtin(engine::runtime::Limits::default())
}

#[test]
fn stopped_task_events_become_stored_bundles_and_one_report_per_service_and_cause() {
    let hub = Hub::start();
    let batch = hub.receive();
    assert_eq!(
        batch.records.len(),
        3,
        "EventBridge delivered the three stops to the hub queue"
    );
    let settings = hub.settings(3);
    let rules = rules();
    let runtime = Hub::runtime();
    let backend = runtime.block_on(hub.backend(&settings));

    let first = runtime.block_on(handle_batch(&settings, &backend, &rules, batch.clone()));
    assert!(
        first.response.batch_item_failures.is_empty(),
        "{:?}",
        first.outcomes
    );
    let mut bundle_keys = Vec::new();
    for outcome in &first.outcomes {
        let Outcome::Recorded { key, notified, .. } = outcome else {
            panic!("every stop is recorded: {outcome:?}");
        };
        let prefix = format!(
            "bundles/{}/{}/prod/",
            hub.staged.hub.account, hub.staged.region
        );
        assert!(
            key.starts_with(&prefix) && key.ends_with(".json.gz"),
            "{key}"
        );
        assert_eq!(notified.len(), 1, "{outcome:?}");
        bundle_keys.push(key.clone());
    }
    let keys = hub.keys();
    for key in &bundle_keys {
        assert!(keys.contains(key), "{key} is in the bucket: {keys:?}");
    }

    // A second delivery of the same events writes nothing and sends nothing.
    let second = runtime.block_on(handle_batch(&settings, &backend, &rules, batch));
    assert!(second.response.batch_item_failures.is_empty());
    for outcome in &second.outcomes {
        assert!(matches!(outcome, Outcome::Duplicate { .. }), "{outcome:?}");
    }
    assert_eq!(hub.keys(), keys, "nothing new in the bucket");

    // Exactly one report per (service, cause), each the short report `replay --brief` gives of
    // its bundle; the full report of the downloaded bundle names the same root cause.
    let reports = hub.reports();
    let subjects: BTreeSet<&str> = reports.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        subjects,
        BTreeSet::from([
            "ecs-autopsy: app-exited-zero in web (prod)",
            "ecs-autopsy: app-missing-config in billing (prod)",
            "ecs-autopsy: oom-container-limit in api (prod)",
        ]),
        "{reports:#?}"
    );
    assert_eq!(reports.len(), 3);
    for (subject, message) in &reports {
        let url = message
            .lines()
            .find_map(|line| line.strip_prefix("Bundle: "))
            .unwrap_or_else(|| panic!("{subject}: no bundle URL in {message}"));
        let replay = hub.run(&["replay", url, "--brief"]);
        assert_eq!(replay.status.code(), Some(1), "{}", text(&replay.stderr));
        let report = text(&replay.stdout);
        assert!(!report.is_empty());
        assert_eq!(
            message.strip_suffix(&format!(
                "\nBundle: {url}\nReplay: ecs-autopsy replay {url}\n"
            )),
            Some(report.as_str()),
            "{subject}: the Lambda's report is `replay --brief`'s, byte for byte"
        );
        // The bundle keeps the event that triggered it, redacted like the rest.
        let dir = TempDir::new("fleet", subject);
        let file = dir.join("bundle.json.gz");
        let fetched = hub.run(&["bundle", "fetch", url, "-o", &file.to_string_lossy()]);
        assert_eq!(fetched.status.code(), Some(0), "{}", text(&fetched.stderr));
        // Offline, the downloaded bundle gives the same full report as the stored one.
        let online = hub.run(&["replay", url]);
        let offline = hub.run(&["replay", &file.to_string_lossy()]);
        assert_eq!(text(&offline.stdout), text(&online.stdout), "{subject}");
        assert!(
            text(&online.stdout).contains(subject.split(' ').nth(1).unwrap_or("?")),
            "{subject}"
        );
        let bundle = recorder::Bundle::read(&file).expect("the fetched bundle loads");
        let event = bundle
            .manifest
            .trigger_event
            .expect("the trigger event is kept");
        assert_eq!(event["detail-type"], "ECS Task State Change");
        assert!(bundle.manifest.redaction.enabled);
        assert!(
            !event.to_string().contains(&hub.staged.hub.account),
            "the account id is pseudonymised in the event too"
        );
    }

    // The history of what was stored.
    let history = hub.run(&[
        "history",
        &format!("s3://{}/bundles/", hub.staged.hub.bucket),
        "--format",
        "json",
    ]);
    assert_eq!(history.status.code(), Some(1), "{}", text(&history.stderr));
    let json: Value = serde_json::from_slice(&history.stdout).expect("JSON");
    assert_eq!(json["schema"], "ecs-autopsy-history");
    assert_eq!(json["bundles"], 3);
    let causes: BTreeMap<String, String> = json["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| {
            (
                s["service"].as_str().unwrap_or_default().to_owned(),
                s["causes"][0]["cause"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(causes["api"], "oom-container-limit");
    assert_eq!(causes["web"], "app-exited-zero");
    assert_eq!(causes["billing"], "app-missing-config");
    let only_web = hub.run(&[
        "history",
        &format!("s3://{}/", hub.staged.hub.bucket),
        "--service",
        "web",
    ]);
    let only_web = text(&only_web.stdout);
    assert!(
        only_web.contains("web · prod · us-east-1") && !only_web.contains("api ·"),
        "{only_web}"
    );
}

/// A crash loop's storm: 1,000 stopped-task events for 50 services within a minute, delivered
/// through the queue in batches of ten, five batches at a time (the event source mapping's
/// concurrency). The storm's services are not staged in ECS (their recordings say so); what
/// is tested is the storm limit, the idempotency and the notifications.
#[test]
fn an_event_storm_loses_nothing_writes_no_duplicate_and_notifies_once_per_service_and_cause() {
    let hub = Hub::start();
    let real = hub.receive();
    let template: Value = real
        .records
        .iter()
        .filter_map(|r| serde_json::from_str::<Value>(r.body.as_deref()?).ok())
        .find(|event| event["detail"]["group"] == "service:api")
        .expect("the OOM-killed task's event");

    let dir = TempDir::new("fleet", "storm");
    let mut bodies = String::new();
    let base = recorder::time::Timestamp::parse_iso(
        template["detail"]["stoppedAt"].as_str().expect("stoppedAt"),
    )
    .expect("a time");
    for n in 0..1000_i64 {
        let service = format!("storm-{:02}", n % 50 + 1);
        let mut event = template.clone();
        let task_arn = format!(
            "arn:aws:ecs:us-east-1:{}:task/prod/{:032x}",
            hub.staged.hub.account,
            0xabc0_0000 + n
        );
        let stopped = recorder::time::Timestamp::from_millis(base.millis + n * 55).to_string();
        event["id"] = Value::from(format!("storm-{n}"));
        event["resources"] = Value::from(vec![task_arn.clone()]);
        let detail = &mut event["detail"];
        detail["taskArn"] = Value::from(task_arn);
        detail["group"] = Value::from(format!("service:{service}"));
        detail["taskDefinitionArn"] = Value::from(format!(
            "arn:aws:ecs:us-east-1:{}:task-definition/{service}:7",
            hub.staged.hub.account
        ));
        detail["stoppedAt"] = Value::from(stopped);
        bodies += &event.to_string();
        bodies.push('\n');
    }
    let file = dir.join("storm.txt");
    std::fs::write(&file, bodies).expect("write");
    assert_eq!(
        hub.tool(&["send", &hub.staged.hub.queue_url, &file.to_string_lossy()])["sent"],
        1000
    );
    let storm = hub.receive();
    assert_eq!(storm.records.len(), 1000, "the queue holds the whole storm");

    let settings = hub.settings(3);
    let rules = rules();
    let runtime = Hub::runtime();
    let backend = runtime.block_on(hub.backend(&settings));
    let deliver = |event: &SqsEvent| -> Vec<Outcome> {
        let batches: Vec<SqsEvent> = event
            .records
            .chunks(10)
            .map(|chunk| {
                let mut batch = SqsEvent::default();
                batch.records = chunk.to_vec();
                batch
            })
            .collect();
        let mut outcomes = Vec::new();
        for wave in batches.chunks(5) {
            let handled = runtime
                .block_on(futures_util::future::join_all(wave.iter().map(|batch| {
                    handle_batch(&settings, &backend, &rules, batch.clone())
                })));
            for one in handled {
                assert!(
                    one.response.batch_item_failures.is_empty(),
                    "{:?}",
                    one.outcomes
                );
                outcomes.extend(one.outcomes);
            }
        }
        outcomes
    };

    let outcomes = deliver(&storm);
    let recorded = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Recorded { .. }))
        .count();
    let kept = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::EventOnly { .. }))
        .count();
    assert_eq!(
        recorded + kept,
        1000,
        "every stop is stored once, in full or as its event"
    );
    assert_eq!(
        recorded, 150,
        "three full recordings per service and revision in the hour"
    );

    let keys = hub.keys();
    let stored: Vec<&String> = keys
        .iter()
        .filter(|k| k.starts_with("bundles/") || k.starts_with("events/"))
        .collect();
    assert_eq!(stored.len(), 1000, "one object per stop, none twice");
    let mut per_service: BTreeMap<&str, usize> = BTreeMap::new();
    for key in keys.iter().filter(|k| k.starts_with("bundles/")) {
        *per_service
            .entry(key.split('/').nth(4).unwrap_or_default())
            .or_insert(0) += 1;
    }
    assert_eq!(per_service.len(), 50);
    assert!(per_service.values().all(|n| *n == 3), "{per_service:?}");

    let reports = hub.reports();
    let mut per_subject: BTreeMap<&str, usize> = BTreeMap::new();
    for (subject, _) in &reports {
        *per_subject.entry(subject.as_str()).or_insert(0) += 1;
    }
    assert!(
        per_subject.values().all(|n| *n == 1),
        "at most one report per service and cause: {per_subject:?}"
    );
    assert_eq!(per_subject.len(), 50, "{per_subject:?}");

    // The whole storm delivered again: all duplicates, nothing written, nothing sent.
    let again = deliver(&storm);
    assert!(again.iter().all(|o| matches!(o, Outcome::Duplicate { .. })));
    assert_eq!(hub.keys(), keys);
    assert!(hub.reports().is_empty());
}
