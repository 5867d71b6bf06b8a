//! `history`: every incident the event-driven recorder stored, summarised per service.
//!
//! The source is an S3 prefix in the recorder's layout (`bundles/<account>/<region>/<cluster>/
//! <service>/<date>/<task-id>.json.gz`, `events/…/<task-id>.json` for stops kept as their event
//! only; docs/fleet.md) or a local copy of one. Objects are read `--concurrency` at a time;
//! each bundle is diagnosed with the rules that `replay` would run. A stopped task is counted
//! once however many bundles hold it (a bundle also holds its service's other recent stops,
//! for context): from the bundle its event triggered when there is one.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use futures_util::StreamExt as _;
use serde::Serialize;
use serde_json::Value;

use engine::evidence::Evidence;
use engine::report::TaskVerdict;
use recorder::live::store::Store;
use recorder::time::Timestamp;

use crate::args::{Format, GlobalArgs, StoreArgs};
use crate::commands::{Setup, print_stdout};

/// What `history` was asked for.
pub(crate) struct Query {
    pub(crate) source: String,
    pub(crate) since: Duration,
    pub(crate) services: Vec<String>,
    pub(crate) concurrency: usize,
}

/// The schema name and version of `history --format json`.
pub(crate) const SCHEMA: &str = "ecs-autopsy-history";
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// Where a stop happened.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub(crate) struct Place {
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) cluster: String,
    pub(crate) service: String,
}

/// How a stop is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Kind {
    /// A rule named its root cause.
    Problem,
    /// No rule could explain it.
    Undiagnosed,
    /// Expected: a scale-in, a user stop, a finished job.
    Benign,
    /// Only its event was kept (past the storm limit, or it could not be recorded).
    EventOnly,
}

#[derive(Debug, Clone)]
struct Stop {
    place: Place,
    task_id: String,
    time: Option<Timestamp>,
    cause: String,
    kind: Kind,
    /// From the bundle this stop's own event triggered.
    triggered: bool,
}

/// What one object gave.
struct Read {
    stops: Vec<Stop>,
    /// Service-level findings (a failed deployment): place and rule id.
    service_findings: Vec<(Place, String)>,
    is_bundle: bool,
}

/// A cause and how many stops it explains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CauseCount {
    pub(crate) cause: String,
    pub(crate) kind: Kind,
    pub(crate) count: usize,
}

/// One service's history.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ServiceHistory {
    #[serde(flatten)]
    pub(crate) place: Place,
    pub(crate) stops: usize,
    pub(crate) problem_stops: usize,
    pub(crate) first_seen: Option<String>,
    pub(crate) last_seen: Option<String>,
    /// `new`, `rising`, `falling` or `steady`: the last 24 hours against the window's daily
    /// average before them.
    pub(crate) trend: &'static str,
    pub(crate) causes: Vec<CauseCount>,
    /// Service-level findings (a failed deployment, a service that cannot place tasks).
    pub(crate) service_findings: Vec<CauseCount>,
}

/// An object that could not be read.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Unreadable {
    pub(crate) object: String,
    pub(crate) error: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct History {
    pub(crate) schema: &'static str,
    pub(crate) schema_version: u32,
    pub(crate) source: String,
    pub(crate) since: String,
    pub(crate) until: String,
    pub(crate) bundles: usize,
    pub(crate) events_only: usize,
    pub(crate) services: Vec<ServiceHistory>,
    pub(crate) unreadable: Vec<Unreadable>,
}

pub(crate) fn history(global: &GlobalArgs, query: &Query, store: &StoreArgs) -> anyhow::Result<u8> {
    let setup = Setup::load(global, &[])?;
    let now = Timestamp::from_millis(ecs_autopsy::input::now_millis());
    let since = Timestamp::from_millis(
        now.millis
            .saturating_sub(i64::try_from(query.since.as_millis()).unwrap_or(i64::MAX)),
    );
    let runtime = crate::commands::runtime()?;
    let (reads, unreadable) = runtime.block_on(read_all(&setup, query, store))?;
    let history = summarise(query, &reads, unreadable, since, now);
    let text = match global.format {
        // HTML is refused before any command but diagnose and replay runs.
        Format::Text | Format::Html => render_text(&history),
        Format::Markdown => render_markdown(&history),
        Format::Json => {
            let mut json = serde_json::to_string_pretty(&history)?;
            json.push('\n');
            json
        }
    };
    print_stdout(&text)?;
    for object in &history.unreadable {
        global
            .messages()
            .error(format_args!("{}: {}", object.object, object.error));
    }
    Ok(if history.unreadable.is_empty() {
        u8::from(history.services.iter().any(|s| s.problem_stops > 0))
    } else {
        2
    })
}

/// Lists the source and reads every object, `concurrency` at a time.
#[allow(clippy::single_match_else)] // Two sources, each with a body of its own.
async fn read_all(
    setup: &Setup,
    query: &Query,
    store: &StoreArgs,
) -> anyhow::Result<(Vec<Read>, Vec<Unreadable>)> {
    enum Source {
        S3(Store),
        Dir,
    }
    let (source, names): (Source, Vec<(String, String)>) =
        match crate::commands::store::s3_url(&query.source)? {
            Some(url) => {
                let sdk = crate::commands::store::sdk(store).await?;
                let reader = Store::reader(&sdk, &url.bucket);
                let objects = reader.list(&url.key).await?;
                let names = objects
                    .into_iter()
                    .filter(|o| is_stored(&o.key))
                    .map(|o| (format!("s3://{}/{}", url.bucket, o.key), o.key))
                    .collect();
                (Source::S3(reader), names)
            }
            None => {
                let root = PathBuf::from(&query.source);
                let mut files = Vec::new();
                recorder::import::walk(&root, &mut files)
                    .with_context(|| format!("{}: cannot read the directory", root.display()))?;
                files.sort();
                let names = files
                    .into_iter()
                    .filter(|path| is_stored(&path.to_string_lossy()))
                    .map(|path| {
                        let key = path
                            .strip_prefix(&root)
                            .unwrap_or(&path)
                            .to_string_lossy()
                            .replace('\\', "/");
                        (path.display().to_string(), key)
                    })
                    .collect();
                (Source::Dir, names)
            }
        };
    let source = &source;
    let results: Vec<Result<Read, Unreadable>> = futures_util::stream::iter(names)
        .map(|(name, key)| async move {
            let bytes = match source {
                Source::S3(reader) => reader.get(&key).await.map_err(|err| err.to_string()),
                Source::Dir => std::fs::read(&name).map_err(|err| err.to_string()),
            };
            let read = bytes.and_then(|bytes| read_object(setup, &name, &key, &bytes));
            read.map_err(|error| Unreadable {
                object: name,
                error: recorder::bundle::one_line(&error),
            })
        })
        .buffer_unordered(query.concurrency.max(1))
        .collect()
        .await;
    let mut reads = Vec::new();
    let mut unreadable = Vec::new();
    for result in results {
        match result {
            Ok(read) => reads.push(read),
            Err(error) => unreadable.push(error),
        }
    }
    unreadable.sort_by(|a, b| a.object.cmp(&b.object));
    Ok((reads, unreadable))
}

/// Whether a key may hold a stop: a JSON file (a bundle or a kept event), plain or gzip, that
/// is not one of the recorder's markers. Files outside the recorder's layout are read too
/// (a folder of bundles), so none that may hold a stop is left out unsaid.
fn is_stored(key: &str) -> bool {
    let key = key.replace('\\', "/");
    let marker = key.starts_with("markers/") || key.contains("/markers/");
    let name = key
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let stem = name.strip_suffix(".gz").unwrap_or(&name);
    !marker
        && Path::new(stem)
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
}

/// `bundles/<account>/<region>/<cluster>/<service>/<date>/<file>` → the place, if the key
/// follows the layout.
fn place_of_key(key: &str) -> Option<(bool, Place)> {
    let parts: Vec<&str> = key.split('/').collect();
    let start = parts
        .iter()
        .rposition(|p| *p == "bundles" || *p == "events")?;
    let rest = parts.get(start + 1..)?;
    if rest.len() != 6 {
        return None;
    }
    Some((
        parts[start] == "bundles",
        Place {
            account: rest[0].to_owned(),
            region: rest[1].to_owned(),
            cluster: rest[2].to_owned(),
            service: rest[3].to_owned(),
        },
    ))
}

fn read_object(setup: &Setup, name: &str, key: &str, bytes: &[u8]) -> Result<Read, String> {
    let layout = place_of_key(key);
    if let Some((false, place)) = layout {
        return read_event(name, bytes, Some(place));
    }
    // Outside the layout, a file is a bundle, else a kept event; the bundle's error is the
    // one said when it is neither.
    let bundle = match recorder::Bundle::from_stored_for_diagnosis(bytes, name, setup.config.bundle)
    {
        Ok(bundle) => bundle,
        Err(err) if layout.is_none() => {
            return read_event(name, bytes, None).map_err(|_| err.to_string());
        }
        Err(err) => return Err(err.to_string()),
    };
    let manifest = bundle.manifest.clone();
    let trigger_task = manifest
        .trigger_event
        .as_ref()
        .and_then(|event| event.pointer("/detail/taskArn"))
        .and_then(Value::as_str)
        .and_then(|arn| arn.rsplit('/').next())
        .map(str::to_owned);
    let base = layout.map_or_else(
        || Place {
            account: manifest.account.clone().unwrap_or_else(|| "-".to_owned()),
            region: manifest.region.clone().unwrap_or_else(|| "-".to_owned()),
            cluster: manifest.cluster.clone().unwrap_or_else(|| "-".to_owned()),
            service: "-".to_owned(),
        },
        |(_, place)| place,
    );
    let evidence = Evidence::from_bundle_with(bundle, setup.config.evidence);
    let report = engine::diagnose(&evidence, &setup.rules);
    let stops = report
        .tasks
        .iter()
        .map(|task| {
            let (kind, cause) = match task.verdict {
                TaskVerdict::Diagnosed => (Kind::Problem, task.root_cause.clone()),
                TaskVerdict::Benign => (Kind::Benign, task.root_cause.clone()),
                TaskVerdict::Undiagnosed => (Kind::Undiagnosed, None),
            };
            Stop {
                place: Place {
                    service: task.service.clone().unwrap_or_else(|| "-".to_owned()),
                    ..base.clone()
                },
                task_id: task.task_id.clone(),
                time: task.stopped_at.as_deref().and_then(Timestamp::parse_iso),
                cause: cause.unwrap_or_else(|| "undiagnosed".to_owned()),
                kind,
                triggered: trigger_task.as_deref() == Some(task.task_id.as_str()),
            }
        })
        .collect();
    let mut service_findings: Vec<(Place, String)> = report
        .findings
        .iter()
        .filter(|f| f.task_arn.is_none() && f.task_definition.is_none())
        .filter_map(|f| {
            Some((
                Place {
                    service: f.service.clone()?,
                    ..base.clone()
                },
                f.rule.clone(),
            ))
        })
        .collect();
    service_findings.sort();
    service_findings.dedup();
    Ok(Read {
        stops,
        service_findings,
        is_bundle: true,
    })
}

/// A stop kept as its event only.
fn read_event(name: &str, bytes: &[u8], place: Option<Place>) -> Result<Read, String> {
    let bytes =
        recorder::bundle::read_maybe_gzip(bytes, name, recorder::bundle::DEFAULT_MAX_BUNDLE_BYTES)
            .map_err(|err| err.to_string())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|err| format!("not JSON: {err}"))?;
    if !recorder::events::is_event(&value) {
        return Err("not an EventBridge event".to_owned());
    }
    let event: recorder::model::EcsEvent =
        serde_json::from_value(value.clone()).map_err(|err| format!("not an ECS event: {err}"))?;
    let place = place.unwrap_or_else(|| Place {
        account: event.account.clone().unwrap_or_else(|| "-".to_owned()),
        region: event.region.clone().unwrap_or_else(|| "-".to_owned()),
        cluster: event.cluster_name().unwrap_or_else(|| "-".to_owned()),
        service: event.service_name().unwrap_or("-").to_owned(),
    });
    let time = value
        .pointer("/detail/stoppedAt")
        .and_then(Value::as_str)
        .and_then(Timestamp::parse_iso)
        .or(event.time.map(|t| t.0));
    let stops = match event.detail.task_arn.as_deref() {
        Some(arn) => vec![Stop {
            place,
            task_id: arn.rsplit('/').next().unwrap_or(arn).to_owned(),
            time,
            cause: "event only".to_owned(),
            kind: Kind::EventOnly,
            triggered: true,
        }],
        None => Vec::new(),
    };
    Ok(Read {
        stops,
        service_findings: Vec::new(),
        is_bundle: false,
    })
}

fn summarise(
    query: &Query,
    reads: &[Read],
    unreadable: Vec<Unreadable>,
    since: Timestamp,
    now: Timestamp,
) -> History {
    // Each task once: its own bundle's account of it first, then a recorded one over a kept
    // event.
    let mut by_task: HashMap<&str, &Stop> = HashMap::new();
    for stop in reads.iter().flat_map(|r| &r.stops) {
        let better = match by_task.get(stop.task_id.as_str()) {
            None => true,
            Some(old) => {
                (stop.triggered && !old.triggered)
                    || (old.kind == Kind::EventOnly && stop.kind != Kind::EventOnly)
            }
        };
        if better {
            by_task.insert(&stop.task_id, stop);
        }
    }
    let wanted =
        |place: &Place| query.services.is_empty() || query.services.contains(&place.service);
    let mut services: BTreeMap<Place, Vec<&Stop>> = BTreeMap::new();
    for stop in by_task.into_values() {
        if stop.time.is_some_and(|t| t < since) || !wanted(&stop.place) {
            continue;
        }
        services.entry(stop.place.clone()).or_default().push(stop);
    }
    let mut findings: BTreeMap<Place, BTreeMap<String, usize>> = BTreeMap::new();
    for (place, rule) in reads.iter().flat_map(|r| &r.service_findings) {
        if wanted(place) {
            *findings
                .entry(place.clone())
                .or_default()
                .entry(rule.clone())
                .or_insert(0) += 1;
            services.entry(place.clone()).or_default();
        }
    }
    let day = 86_400_000;
    let window_days = ((now.millis - since.millis) / day).max(1);
    let mut out: Vec<ServiceHistory> = services
        .into_iter()
        .map(|(place, stops)| {
            let mut counts: BTreeMap<(Kind, String), usize> = BTreeMap::new();
            for stop in &stops {
                *counts.entry((stop.kind, stop.cause.clone())).or_insert(0) += 1;
            }
            let mut causes: Vec<CauseCount> = counts
                .into_iter()
                .map(|((kind, cause), count)| CauseCount { cause, kind, count })
                .collect();
            causes.sort_by(|a, b| {
                a.kind
                    .cmp(&b.kind)
                    .then(b.count.cmp(&a.count))
                    .then(a.cause.cmp(&b.cause))
            });
            let times: Vec<Timestamp> = stops.iter().filter_map(|s| s.time).collect();
            let first = times.iter().min().copied();
            let last = times.iter().max().copied();
            let recent = times.iter().filter(|t| t.millis > now.millis - day).count();
            let earlier = times.len() - recent;
            #[allow(clippy::cast_precision_loss)]
            let earlier_daily = earlier as f64 / (window_days - 1).max(1) as f64;
            #[allow(clippy::cast_precision_loss)]
            let recent_f = recent as f64;
            let trend = match first {
                Some(first) if first.millis > now.millis - day => "new",
                _ if recent >= 2 && recent_f > 2.0 * earlier_daily => "rising",
                _ if recent_f < earlier_daily / 2.0 => "falling",
                _ => "steady",
            };
            let service_findings = findings
                .get(&place)
                .map(|rules| {
                    rules
                        .iter()
                        .map(|(rule, count)| CauseCount {
                            cause: rule.clone(),
                            kind: Kind::Problem,
                            count: *count,
                        })
                        .collect()
                })
                .unwrap_or_default();
            ServiceHistory {
                problem_stops: stops
                    .iter()
                    .filter(|s| {
                        matches!(s.kind, Kind::Problem | Kind::Undiagnosed | Kind::EventOnly)
                    })
                    .count(),
                stops: stops.len(),
                first_seen: first.map(|t| t.to_string()),
                last_seen: last.map(|t| t.to_string()),
                trend,
                causes,
                service_findings,
                place,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.problem_stops
            .cmp(&a.problem_stops)
            .then(b.service_findings.len().cmp(&a.service_findings.len()))
            .then(a.place.cmp(&b.place))
    });
    History {
        schema: SCHEMA,
        schema_version: SCHEMA_VERSION,
        source: query.source.clone(),
        since: since.to_string(),
        until: now.to_string(),
        bundles: reads.iter().filter(|r| r.is_bundle).count(),
        events_only: reads.iter().filter(|r| !r.is_bundle).count(),
        services: out,
        unreadable,
    }
}

fn cause_label(cause: &CauseCount) -> String {
    match cause.kind {
        Kind::Problem | Kind::Undiagnosed => cause.cause.clone(),
        Kind::Benign => format!("{} (benign)", cause.cause),
        Kind::EventOnly => "kept as event only (storm limit, or not recorded)".to_owned(),
    }
}

fn headline(history: &History) -> String {
    format!(
        "{} bundle(s) and {} kept event(s) read from {}; stops from {} to {}",
        history.bundles, history.events_only, history.source, history.since, history.until
    )
}

fn render_text(history: &History) -> String {
    use std::fmt::Write as _;
    let mut out = headline(history);
    out.push('\n');
    if history.services.is_empty() {
        out.push_str("\nNo stop in the window.\n");
    }
    for service in &history.services {
        let place = &service.place;
        let _ = writeln!(
            out,
            "\n{} · {} · {} · {}: {} stop(s), {} with a problem, {}",
            esc(&place.service),
            esc(&place.cluster),
            esc(&place.region),
            esc(&place.account),
            service.stops,
            service.problem_stops,
            service.trend
        );
        if let (Some(first), Some(last)) = (&service.first_seen, &service.last_seen) {
            let _ = writeln!(out, "  first {first}, last {last}");
        }
        for cause in &service.causes {
            let _ = writeln!(out, "  {:>5}  {}", cause.count, esc(&cause_label(cause)));
        }
        for finding in &service.service_findings {
            let _ = writeln!(
                out,
                "  {:>5}  {} (service)",
                finding.count,
                esc(&finding.cause)
            );
        }
    }
    if !history.unreadable.is_empty() {
        let _ = writeln!(
            out,
            "\n{} object(s) could not be read and are not counted (see the errors).",
            history.unreadable.len()
        );
    }
    out
}

fn render_markdown(history: &History) -> String {
    use std::fmt::Write as _;
    let mut out = format!("## ecs-autopsy history\n\n{}\n\n", headline(history));
    if history.services.is_empty() {
        out.push_str("No stop in the window.\n");
        return out;
    }
    out.push_str("| service | cluster | region | account | stops | with a problem | first seen | last seen | trend | causes |\n");
    out.push_str("|---|---|---|---|---:|---:|---|---|---|---|\n");
    for service in &history.services {
        let place = &service.place;
        let causes: Vec<String> = service
            .causes
            .iter()
            .map(|c| format!("{} × {}", c.count, cause_label(c)))
            .chain(
                service
                    .service_findings
                    .iter()
                    .map(|c| format!("{} × {} (service)", c.count, c.cause)),
            )
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            md(&place.service),
            md(&place.cluster),
            md(&place.region),
            md(&place.account),
            service.stops,
            service.problem_stops,
            service.first_seen.as_deref().unwrap_or("-"),
            service.last_seen.as_deref().unwrap_or("-"),
            service.trend,
            md(&causes.join("; "))
        );
    }
    if !history.unreadable.is_empty() {
        let _ = writeln!(
            out,
            "\n{} object(s) could not be read and are not counted.",
            history.unreadable.len()
        );
    }
    out
}

/// Text from a bundle or a key for the terminal: control characters escaped, as the report
/// escapes them, so a hostile name cannot send escape sequences.
fn esc(text: &str) -> String {
    recorder::bundle::escape_controls(text, false).into_owned()
}

/// Text from a bundle or a key for a Markdown table cell, as the Markdown report writes it.
fn md(text: &str) -> String {
    engine::report::md_text(&esc(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_the_recorder_layout_name_their_place() {
        let (bundle, place) =
            place_of_key("bundles/111122223333/eu-west-1/prod/web/2026-12-04/abc.json.gz")
                .unwrap_or_default();
        assert!(bundle);
        assert_eq!(place.service, "web");
        assert_eq!(place.cluster, "prod");
        assert!(place_of_key("team/events/1/r/c/s/2026-12-04/x.json").is_some_and(|(b, _)| !b));
        assert!(place_of_key("bundles/short/x.json.gz").is_none());
        assert!(is_stored("bundles/1/r/c/s/d/x.json.gz"));
        assert!(!is_stored("markers/storm/1/r/c/s/web:1/2026-12-04T10/0"));
    }

    fn stop(service: &str, task: &str, at: &str, cause: &str, kind: Kind, triggered: bool) -> Stop {
        Stop {
            place: Place {
                account: "1".into(),
                region: "r".into(),
                cluster: "c".into(),
                service: service.into(),
            },
            task_id: task.into(),
            time: Timestamp::parse_iso(at),
            cause: cause.into(),
            kind,
            triggered,
        }
    }

    #[test]
    fn each_task_counts_once_and_trends_compare_the_last_day_with_the_window() {
        let now = Timestamp::parse_iso("2026-12-08T00:00:00Z").unwrap_or(Timestamp::from_millis(0));
        let since = Timestamp::from_millis(now.millis - 7 * 86_400_000);
        let reads = vec![
            Read {
                stops: vec![
                    stop(
                        "web",
                        "a",
                        "2026-12-07T10:00:00Z",
                        "oom-container-limit",
                        Kind::Problem,
                        true,
                    ),
                    // Context in a's bundle: counted from its own bundle below.
                    stop(
                        "web",
                        "b",
                        "2026-12-07T11:00:00Z",
                        "undiagnosed",
                        Kind::Undiagnosed,
                        false,
                    ),
                ],
                service_findings: vec![],
                is_bundle: true,
            },
            Read {
                stops: vec![stop(
                    "web",
                    "b",
                    "2026-12-07T11:00:00Z",
                    "oom-container-limit",
                    Kind::Problem,
                    true,
                )],
                service_findings: vec![],
                is_bundle: true,
            },
            Read {
                stops: vec![stop(
                    "web",
                    "c",
                    "2026-12-07T12:00:00Z",
                    "event only",
                    Kind::EventOnly,
                    true,
                )],
                service_findings: vec![],
                is_bundle: false,
            },
            Read {
                stops: vec![
                    stop(
                        "worker",
                        "d",
                        "2026-12-02T10:00:00Z",
                        "graceful-stop",
                        Kind::Benign,
                        true,
                    ),
                    stop(
                        "worker",
                        "e",
                        "2026-11-20T10:00:00Z",
                        "app-startup-crash",
                        Kind::Problem,
                        true,
                    ),
                ],
                service_findings: vec![],
                is_bundle: true,
            },
        ];
        let query = Query {
            source: "s3://hub/bundles/".into(),
            since: Duration::from_hours(7 * 24),
            services: vec![],
            concurrency: 4,
        };
        let history = summarise(&query, &reads, vec![], since, now);
        assert_eq!(history.bundles, 3);
        assert_eq!(history.events_only, 1);
        let web = &history.services[0];
        assert_eq!(web.place.service, "web");
        assert_eq!((web.stops, web.problem_stops), (3, 3));
        assert_eq!(
            web.causes[0],
            CauseCount {
                cause: "oom-container-limit".into(),
                kind: Kind::Problem,
                count: 2
            }
        );
        assert_eq!(web.causes[1].kind, Kind::EventOnly);
        assert_eq!(web.trend, "new");
        let worker = &history.services[1];
        assert_eq!(worker.stops, 1, "the stop before the window is left out");
        assert_eq!(worker.trend, "falling");
        assert_eq!(worker.causes[0].kind, Kind::Benign);
    }
}
