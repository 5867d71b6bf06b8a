//! A bundle mixing twenty-two different stops across two services (`fixtures/mixed/two-services`,
//! composed from single-mode fixtures by `xtask/scripts/compose_bundle.py`): one root cause per
//! task, the right symptoms, and repeated stops collapsed.

use engine::evidence::Evidence;
use engine::model::Verdict;
use engine::report::{Report, TaskVerdict};
use engine::rule::RuleSet;
use engine::runtime::Limits;
use recorder::Bundle;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn diagnose(path: &Path) -> Report {
    let rules = RuleSet::builtin(Limits::standard());
    assert!(rules.errors.is_empty(), "{:#?}", rules.errors);
    let bundle = Bundle::read(path).unwrap_or_else(|err| panic!("{err}"));
    engine::diagnose(&Evidence::from_bundle(bundle), &rules)
}

fn mixed() -> Report {
    diagnose(&root().join("fixtures/mixed/two-services/bundle.json"))
}

/// `(task id, service, root cause or "benign:<rule>")`, in the report's stop-time order.
const EXPECTED: &[(&str, &str, &str)] = &[
    (
        "3e4f5a6b7c8d4e9f0a1b2c3d4e5f6a7b",
        "web",
        "health-check-grace-too-short",
    ),
    (
        "4f5a6b7c8d9e4f0a1b2c3d4e5f6a7b8c",
        "web",
        "health-check-grace-too-short",
    ),
    (
        "5a6b7c8d9e0f4a1b2c3d4e5f6a7b8c9d",
        "web",
        "health-check-grace-too-short",
    ),
    (
        "b7c6d5e4f3a24b1c9d8e7f6a5b4c3d2e",
        "web",
        "oom-container-limit",
    ),
    ("c0ffee5a1b2c4d3e9f8a7b6c5d4e3f21", "web", "app-exited-zero"),
    (
        "5f1c2e7a0b9d4e8f9a1b2c3d4e5f6a7b",
        "web",
        "app-missing-config",
    ),
    (
        "ba5e521574f6b59f99c8f72cc3fb5eff",
        "web",
        "oom-container-limit",
    ),
    (
        "26fba7c021a14460b4bb7d4a49964d09",
        "web",
        "app-heap-exhausted",
    ),
    ("b3408eb7e4ca4f81972408887df08252", "web", "segfault"),
    (
        "da28a120d17545f8876da29d3ecc0e04",
        "web",
        "essential-sidecar-exited",
    ),
    (
        "38eb000ad8d141bf324f6738605041c2",
        "web",
        "oom-container-limit",
    ),
    (
        "27eced00e391f7b68d4f6b7781e65fdb",
        "worker",
        "image-not-found",
    ),
    (
        "77d92948fc0744f1a6d93a7bf97bdd22",
        "web",
        "entrypoint-not-found",
    ),
    (
        "e844da5ed3ef432bbceeca872b47f9b0",
        "web",
        "benign:graceful-stop",
    ),
    (
        "765065ad8ae9f670a5d784145c990a7d",
        "worker",
        "image-not-found",
    ),
    (
        "66dbabeb9385469cb94199ab28adf364",
        "web",
        "app-dependency-unreachable",
    ),
    (
        "a64e85ee0f5b12769d0f9d28c7d73dd8",
        "web",
        "oom-container-limit",
    ),
    (
        "8b615d4c2b02acfb5a3be5f08df5f00d",
        "worker",
        "image-not-found",
    ),
    (
        "8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b",
        "worker",
        "image-pull-auth-denied",
    ),
    (
        "b296ee1cf23e454aaad02c63bdc889f8",
        "worker",
        "execution-role-access-denied",
    ),
    (
        "2d67e43bceaa5379f001a249c56ed49f",
        "worker",
        "task-network-egress-blocked",
    ),
    (
        "f0abbba3cc6c4abfad2c69675513ed4c",
        "worker",
        "referenced-resource-not-found",
    ),
    (
        "eaf9633788cf78cd3db07faa6b7bf4ee",
        "worker",
        "task-network-egress-blocked",
    ),
    (
        "fd652f78856faa305c7202610a1b635c",
        "worker",
        "task-network-egress-blocked",
    ),
    (
        "0b0d18a627254e6bafdb992c68c12913",
        "worker",
        "log-config-error",
    ),
    (
        "5fe17c7ec0224079bce7c9745964cae0",
        "worker",
        "app-startup-crash",
    ),
    (
        "a40fbab46cae4b35b2ebb86e8ec3dae3",
        "worker",
        "exec-format-arch-mismatch",
    ),
    (
        "52f3b6b5eff34cb591e339ab03eeeebe",
        "worker",
        "benign:infrastructure-maintenance",
    ),
    (
        "4306f45b19a04e79a403d857848e54ea",
        "worker",
        "benign:spot-interruption",
    ),
    (
        "675efeef63634ee3f8f53230e40cf768",
        "worker",
        "container-health-check-failed",
    ),
    (
        "3fe1ffdefdfa22266f10fae1bb004ac1",
        "worker",
        "container-health-check-failed",
    ),
];

#[test]
fn one_root_cause_per_task() {
    let report = mixed();
    assert!(report.rule_errors.is_empty(), "{:#?}", report.rule_errors);
    let actual: Vec<(String, String, String)> = report
        .tasks
        .iter()
        .map(|task| {
            let findings: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.task_arn.as_deref() == Some(task.task_arn.as_str()))
                .collect();
            let roots: Vec<&str> = findings
                .iter()
                .filter(|f| f.verdict == Verdict::RootCause)
                .map(|f| f.rule.as_str())
                .collect();
            assert!(
                roots.len() <= 1,
                "{}: several root causes {roots:?}",
                task.task_id
            );
            let verdict = match task.verdict {
                TaskVerdict::Diagnosed => roots[0].to_owned(),
                TaskVerdict::Benign => {
                    let benign: Vec<&str> = findings
                        .iter()
                        .filter(|f| f.verdict == Verdict::Benign)
                        .map(|f| f.rule.as_str())
                        .collect();
                    assert_eq!(benign.len(), 1, "{}: {benign:?}", task.task_id);
                    format!("benign:{}", benign[0])
                }
                TaskVerdict::Undiagnosed => "undiagnosed".to_owned(),
            };
            (
                task.task_id.clone(),
                task.service.clone().unwrap_or_default(),
                verdict,
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = EXPECTED
        .iter()
        .map(|(id, service, verdict)| {
            (
                (*id).to_owned(),
                (*service).to_owned(),
                (*verdict).to_owned(),
            )
        })
        .collect();
    assert_eq!(actual, expected);
    let distinct: std::collections::BTreeSet<&str> =
        EXPECTED.iter().map(|(_, _, verdict)| *verdict).collect();
    assert!(
        distinct.len() >= 20,
        "only {} different stops",
        distinct.len()
    );
}

/// Mixing never changes a diagnosis: every task keeps the root cause its own fixture gives it.
#[test]
fn each_task_keeps_the_diagnosis_of_its_own_fixture() {
    let report = mixed();
    let spec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/mixed/two-services/compose.json"))
            .expect("compose.json"),
    )
    .expect("compose.json is JSON");
    let mixed_roots: BTreeMap<&str, Option<&String>> = report
        .tasks
        .iter()
        .map(|t| (t.task_id.as_str(), t.root_cause.as_ref()))
        .collect();
    let parts = spec["parts"].as_array().expect("parts");
    for part in parts {
        let fixture = part["fixture"].as_str().expect("fixture");
        let alone = diagnose(&root().join(fixture).join("bundle.json"));
        for task in &alone.tasks {
            assert_eq!(
                mixed_roots.get(task.task_id.as_str()).copied(),
                Some(task.root_cause.as_ref()),
                "{fixture}: task {} is diagnosed differently in the mixed bundle",
                task.task_id
            );
        }
    }
}

#[test]
fn consequences_are_symptoms_of_their_root_cause() {
    let report = mixed();
    let symptoms: Vec<(&str, Option<&str>, Option<&str>)> = report
        .findings
        .iter()
        .filter(|f| f.verdict == Verdict::Symptom)
        .map(|f| {
            (
                f.rule.as_str(),
                f.container.as_deref(),
                f.symptom_of.as_deref(),
            )
        })
        .collect();
    // The app's SIGTERM after its essential log router died.
    assert!(symptoms.contains(&(
        "essential-sidecar-exited",
        Some("orders"),
        Some("essential-sidecar-exited")
    )));
    // Exit 143 after each health-check kill.
    let health = symptoms
        .iter()
        .filter(|(rule, _, of)| *rule == "health-check-grace-too-short" && *of == Some(*rule))
        .count();
    assert_eq!(health, 3);
    // The circuit breaker's rollback follows from the new revision's pull failures, even though
    // the service also has a placement failure of its own.
    let breaker: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "deployment-circuit-breaker")
        .collect();
    assert_eq!(breaker.len(), 1);
    assert_eq!(breaker[0].verdict, Verdict::Symptom);
    assert_eq!(breaker[0].task_arn, None);
    assert_eq!(breaker[0].symptom_of.as_deref(), Some("image-not-found"));
    // The placement failure is the service's own root cause.
    let placement: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "placement-insufficient-resources")
        .map(|f| (f.verdict, f.service.as_deref()))
        .collect();
    assert_eq!(placement, [(Verdict::RootCause, Some("worker"))]);
}

#[test]
fn repeated_stops_are_collapsed() {
    let report = mixed();
    let repeats: Vec<(Option<&str>, Option<&str>, usize)> = report
        .repeats
        .iter()
        .map(|r| (r.service.as_deref(), r.root_cause.as_deref(), r.count))
        .collect();
    assert_eq!(
        repeats,
        [
            (Some("web"), Some("health-check-grace-too-short"), 3),
            (Some("web"), Some("oom-container-limit"), 4),
            (Some("worker"), Some("image-not-found"), 3),
            (Some("worker"), Some("task-network-egress-blocked"), 3),
            (Some("worker"), Some("container-health-check-failed"), 2),
        ]
    );
    let oom = &report.repeats[1];
    assert_eq!(
        oom.first_stopped_at.as_deref(),
        Some("2026-11-24T11:06:30.000Z")
    );
    assert_eq!(
        oom.last_stopped_at.as_deref(),
        Some("2026-11-24T11:27:30.000Z")
    );

    // The text shows the newest task of a group in full and lists the others.
    let text = report.render_text(false);
    assert!(text.contains(
        "repeated    4 tasks stopped the same way between 2026-11-24T11:06:30.000Z and 2026-11-24T11:27:30.000Z: b7c6d5e4f3a24b1c9d8e7f6a5b4c3d2e, ba5e521574f6b59f99c8f72cc3fb5eff, 38eb000ad8d141bf324f6738605041c2, a64e85ee0f5b12769d0f9d28c7d73dd8"
    ), "{text}");
    assert!(text.contains("task a64e85ee0f5b12769d0f9d28c7d73dd8 "));
    assert!(!text.contains("task ba5e521574f6b59f99c8f72cc3fb5eff "));
    assert!(!text.contains("task b7c6d5e4f3a24b1c9d8e7f6a5b4c3d2e "));
    let markdown = report.render_markdown();
    assert!(markdown.contains("**Repeated:** 4 tasks stopped the same way"));
    assert!(markdown.contains("### Task `a64e85ee0f5b12769d0f9d28c7d73dd8`"));
    assert!(!markdown.contains("### Task `ba5e521574f6b59f99c8f72cc3fb5eff`"));
    // JSON still lists every task.
    assert_eq!(report.tasks.len(), EXPECTED.len());
}

#[test]
fn per_service_split() {
    let report = mixed();
    let split: Vec<(&str, usize, Vec<usize>)> = report
        .summary
        .services
        .iter()
        .map(|s| {
            let counts = s.counts().iter().map(|(_, n)| *n).collect();
            (s.service.as_str(), s.stopped_tasks, counts)
        })
        .collect();
    // application, OOM, health checks, start-up/infrastructure, benign, other, undiagnosed
    assert_eq!(
        split,
        [
            ("web", 15, vec![7, 4, 3, 0, 1, 0, 0]),
            ("worker", 16, vec![2, 0, 2, 10, 2, 0, 0]),
        ]
    );
    assert!(report.render_markdown().contains(
        "| service | running | stopped | application | OOM | health checks | start-up/infrastructure | benign | other | undiagnosed |\n|---|---|---|---|---|---|---|---|---|---|\n| [web](https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/web/health?region=eu-west-1) | 1/2 running, 1 pending | 15 | 7 | 4 | 3 | 0 | 1 | 0 | 0 |\n"
    ));
    let text = report.render_text(false);
    assert!(
        text.contains(
            "  service web: 15 stopped: 7 application, 4 OOM, 3 health checks, 1 benign · 1/2 running, 1 pending · deployments web:130 IN_PROGRESS, 3 failed tasks\n"
        )
    );
}

/// The example looks like one real cluster recorded once: each service runs one task-definition
/// family, every task stopped within the hour before the recording, and with redaction on the
/// account is a pseudonym everywhere. The bundle is what `compose_bundle.py` makes of
/// `compose.json`, byte for byte.
#[test]
fn the_example_is_a_believable_recording() {
    let path = root().join("fixtures/mixed/two-services/bundle.json");
    let bundle = Bundle::read(&path).unwrap_or_else(|err| panic!("{err}"));
    let recorded =
        recorder::time::Timestamp::parse_iso(&bundle.manifest.recorded_at).expect("recording time");
    assert!(bundle.manifest.redaction.enabled);
    assert_eq!(bundle.manifest.account.as_deref(), Some("000000000001"));
    let text = std::fs::read_to_string(&path).expect("bundle text");
    let accounts: std::collections::BTreeSet<&str> = text
        .match_indices("arn:aws:")
        .filter_map(|(at, _)| text[at..].split(':').nth(4))
        .filter(|account| !account.is_empty())
        .collect();
    assert_eq!(
        accounts.into_iter().collect::<Vec<_>>(),
        ["000000000001"],
        "every ARN names the pseudonymised account"
    );

    let evidence = Evidence::from_bundle(bundle);
    let mut stops = 0;
    for (_, record) in evidence.stopped_tasks() {
        let service = record
            .task
            .group
            .as_deref()
            .and_then(|g| g.strip_prefix("service:"))
            .expect("every task belongs to a service");
        let definition = record
            .task_definition
            .map(|index| &evidence.task_definitions[index].definition)
            .expect("every task's definition is in the bundle");
        assert_eq!(definition.family.as_deref(), Some(service));
        let stopped = record.task.stopped_at.expect("stopped").0;
        let before = recorded.millis - stopped.millis;
        assert!(
            (0..=3_600_000).contains(&before),
            "task {} stopped {} s before the recording",
            record.task_id,
            before / 1000
        );
        stops += 1;
    }
    assert_eq!(stops, EXPECTED.len());
    for service in &evidence.services {
        let name = service.value.service_name.as_deref().expect("name");
        let current = service.value.task_definition.as_deref().expect("current");
        assert!(
            current.contains(&format!("task-definition/{name}:")),
            "{current}"
        );
    }

    let out = std::env::temp_dir().join(format!("ecs-autopsy-mixed-{}.json", std::process::id()));
    let status = std::process::Command::new("python3")
        .arg(root().join("xtask/scripts/compose_bundle.py"))
        .arg(root().join("fixtures/mixed/two-services/compose.json"))
        .arg(&out)
        .status()
        .expect("python3 runs");
    assert!(status.success());
    let composed = std::fs::read_to_string(&out).expect("composed");
    let _ = std::fs::remove_file(&out);
    assert!(
        composed == text,
        "fixtures/mixed/two-services/bundle.json is not what compose_bundle.py makes of compose.json: regenerate it"
    );
}
