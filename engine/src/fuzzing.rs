//! The bodies of the fuzz targets, shared by `engine/fuzz` (cargo fuzz, libFuzzer) and the fuzz
//! smoke test of the suite (`cargo xtask fuzz`'s `smoke` tests), so both run exactly the same
//! code.
//!
//! Each target takes arbitrary bytes. Bad input must give an error, never a panic; a target
//! panics only when one of the invariants listed on it does not hold, which is a bug.

use std::io::Write;
use std::sync::OnceLock;

use recorder::bundle::{Bundle, read_maybe_gzip};

use crate::evidence::Evidence;
use crate::rule::RuleSet;
use crate::runtime::Limits;

/// The decompressed size the targets accept: far above any seed, far below the fuzzer's memory
/// limit, so a gzip bomb is caught by the loader's own limit.
pub const MAX_BYTES: u64 = 8 << 20;

/// A fuzz target: arbitrary bytes in, whether they got past loading out.
pub type Target = fn(&[u8]) -> bool;

/// The fuzz targets by name, as `engine/fuzz/fuzz_targets/<name>.rs` calls them.
/// Each returns whether the input got past loading to the part the target is about, so that the
/// smoke test can check its mutations reach that far.
pub const TARGETS: [(&str, Target); 4] = [
    ("bundle_load", bundle_load),
    ("cli_import", cli_import),
    ("evidence", evidence),
    ("report", report),
];

/// Bundle loading, plain and gzip.
///
/// - Loading never panics, and every error is one line.
/// - `read` and `read_for_diagnosis` agree: both load, with the same typed views, or both fail
///   with the same message.
/// - The same bytes gzip-compressed load the same way.
/// - A loaded bundle written out as canonical JSON loads again, to the same canonical JSON.
pub fn bundle_load(data: &[u8]) -> bool {
    let full = load(data, "fuzz.json");
    let fast = read_maybe_gzip(data, "fuzz.json", MAX_BYTES)
        .and_then(|bytes| Bundle::from_slice_for_diagnosis(&bytes, "fuzz.json"));
    match (&full, &fast) {
        (Ok(full), Ok(fast)) => {
            assert_eq!(full.calls.len(), fast.calls.len());
            for (a, b) in full.calls.iter().zip(&fast.calls) {
                assert_eq!(format!("{:?}", a.parsed), format!("{:?}", b.parsed));
            }
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!(
            "read and read_for_diagnosis disagree: {:?} / {:?}",
            a.as_ref().err().map(ToString::to_string),
            b.as_ref().err().map(ToString::to_string)
        ),
    }

    // Gzip inside gzip decodes to gzip bytes, which are not JSON: nothing to compare.
    if !data.starts_with(&[0x1f, 0x8b]) {
        match (&full, &load(&gzip(data), "fuzz.json")) {
            (Ok(a), Ok(b)) => assert_eq!(a.to_canonical_json(), b.to_canonical_json()),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!(
                "plain and gzip loads disagree: {:?} / {:?}",
                a.as_ref().err().map(ToString::to_string),
                b.as_ref().err().map(ToString::to_string)
            ),
        }
    }

    match full {
        Ok(bundle) => {
            let canonical = bundle.to_canonical_json();
            let again = Bundle::from_slice(&canonical, "canonical.json")
                .unwrap_or_else(|err| panic!("canonical JSON does not load again: {err}"));
            assert_eq!(canonical, again.to_canonical_json());
            true
        }
        Err(err) => {
            assert_one_line(&err.to_string());
            false
        }
    }
}

/// AWS CLI import: shape detection and the typed view of the detected operation.
///
/// - Import never panics, and every reason a file is skipped is one line.
/// - An imported call is the operation its shape says, and a bundle holding it loads again.
pub fn cli_import(data: &[u8]) -> bool {
    match recorder::import::import_reader(data, "fuzz.json") {
        Ok(calls) => {
            let value: serde_json::Value = read_maybe_gzip(data, "fuzz.json", MAX_BYTES)
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .expect("an imported file is JSON");
            if recorder::events::find(&value).is_some() {
                // An event file: its events, and a task per task event.
                assert!(
                    calls
                        .iter()
                        .any(|c| c.known_operation() == Some(recorder::Operation::EcsEvents)),
                    "an event file keeps its events"
                );
            } else {
                // A part of a response (a bare task definition, a `--query` result) is
                // detected once it is put back into its response.
                let value = recorder::import::wrap_partial_output(value).expect("reshaped");
                let detected = recorder::import::detect_operation(&value).expect("detected");
                assert_eq!(calls.len(), 1);
                assert_eq!(calls[0].known_operation(), Some(detected));
            }
            let mut bundle = Bundle::new(recorder::Source::Imported, "2026-01-01T00:00:00Z".into());
            bundle.calls.extend(calls);
            let canonical = bundle.to_canonical_json();
            if let Err(err) = Bundle::from_slice(&canonical, "imported.json") {
                panic!("an imported call does not load again: {err}");
            }
            true
        }
        Err(reason) => {
            assert_one_line(&reason);
            false
        }
    }
}

/// Evidence building, for every bundle that loads.
///
/// - Building and every look-up the rules use never panic, and every index they return is in
///   bounds.
pub fn evidence(data: &[u8]) -> bool {
    let Ok(bundle) = load(data, "fuzz.json") else {
        return false;
    };
    let evidence = Evidence::from_bundle(bundle);
    for (index, record) in evidence.stopped_tasks() {
        assert!(index < evidence.tasks.len());
        if let Some(arn) = record.task.task_arn.as_deref() {
            let found = evidence
                .task_index(arn)
                .expect("a task is found by its ARN");
            assert!(found < evidence.tasks.len());
            let id = crate::evidence::task_id_of(arn);
            let _ = evidence.task_logs(id, None);
        }
        for &event in evidence.task_event_indexes(index) {
            let events = record
                .service
                .map_or(0, |s| evidence.services[s].value.events.len());
            assert!(event < events, "event index {event} of {events}");
        }
        if let Some(arn) = record.task.task_definition_arn.as_deref()
            && let Some(definition) = evidence.task_definition_index(arn)
        {
            assert!(definition < evidence.task_definitions.len());
            let _ = evidence.previous_revision(definition);
        }
    }
    true
}

/// The whole diagnosis and report rendering, with the built-in rules, for every bundle that
/// loads.
///
/// - Rules and rendering never panic.
/// - No built-in rule fails on a bundle that loads: a rule error here is a rule bug.
/// - The JSON report is JSON.
pub fn report(data: &[u8]) -> bool {
    let Ok(bundle) = load(data, "fuzz.json") else {
        return false;
    };
    let evidence = Evidence::from_bundle(bundle);
    let report = crate::diagnose(&evidence, builtin());
    assert!(
        report.rule_errors.is_empty(),
        "a built-in rule failed: {:?}",
        report.rule_errors
    );
    let _ = report.render_text(false);
    let _ = report.render_text(true);
    let _ = report.render_markdown();
    let json = report.render_json();
    if let Err(err) = serde_json::from_str::<serde_json::Value>(&json) {
        panic!("the JSON report is not JSON: {err}");
    }
    true
}

/// Whether a file under `fixtures/` is a bundle the fuzzers start from: a case's
/// `bundle.json`, or a golden bundle (`fixtures/golden/*/NAME.json[.gz]`, not its reports).
pub fn is_seed_bundle(path: &std::path::Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let stem = name.strip_suffix(".gz").unwrap_or(name);
    let is_json = std::path::Path::new(stem)
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    let golden = path.components().any(|c| c.as_os_str() == "golden")
        && is_json
        && !name.contains(".report.");
    name == "bundle.json" || golden
}

fn load(data: &[u8], name: &str) -> Result<Bundle, recorder::LoadError> {
    read_maybe_gzip(data, name, MAX_BYTES).and_then(|bytes| Bundle::from_slice(&bytes, name))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

#[track_caller]
fn assert_one_line(message: &str) {
    assert!(!message.contains('\n'), "a multi-line error: {message:?}");
}

/// The built-in rules, compiled once per process.
fn builtin() -> &'static RuleSet {
    static BUILTIN: OnceLock<RuleSet> = OnceLock::new();
    BUILTIN.get_or_init(|| {
        let rules = RuleSet::builtin(Limits::standard());
        assert!(
            rules.errors.is_empty(),
            "built-in rules failed to load: {:?}",
            rules.errors
        );
        rules
    })
}
