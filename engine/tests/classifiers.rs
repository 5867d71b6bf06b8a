//! The classifiers against tables of real strings: every line in `tests/classifier/*.json` was
//! pasted by someone in a public issue, Q&A thread, AWS page or the ECS agent's own tests, and
//! names its source: a URL, a file of a public repository (`aws/amazon-ecs-agent:path`), or,
//! for a few lines found in the public code index whose repository it does not name, that
//! index entry. A row says what the string is (a family, a class, an exit code's meaning);
//! the test checks the classifier reads it that way. A new wording is one more row.
//!
//! Rows with a `"known_gap"` reason are read wrong for a reason written down, as the
//! real-incident corpus does it. Rows marked `"generic"` are a driver's catch-all ("Unable to connect to the database",
//! libpq's `Is the server running on host`): the line says the dependency was unreachable, and
//! which way only the lines around it say, so `unreachable` is right for them. `"also"` names
//! a second reading the line supports (`no pg_hba.conf entry … SSL off` is a refusal the server
//! gives because the client did not use TLS). Rows marked `"line_level"` are near misses whose words do describe a failure (a retried
//! timeout the app survived, a DNS server logging its upstream): a classifier of one line
//! cannot know what came after, so the rules decide those from the task (did the app exit?).

use std::path::PathBuf;

use engine::classify::{dependency, exit, image::ImageRef, network, pull};
use serde_json::Value;

fn table(name: &str, key: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/classifier")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("table is readable");
    let value: Value = serde_json::from_str(&text).expect("table is JSON");
    let rows = value[key].as_array().expect("rows").clone();
    for row in &rows {
        assert!(
            row["source"].as_str().is_some_and(|s| !s.trim().is_empty()),
            "{name}: every row names its public source: {row}"
        );
    }
    rows
}

fn text<'a>(row: &'a Value, key: &str) -> &'a str {
    row[key].as_str().unwrap_or_default()
}

/// Reports every row the classifier reads wrong at once, not only the first.
fn assert_no_misses(name: &str, total: usize, misses: &[String]) {
    assert!(
        misses.is_empty(),
        "{name}: {} of {total} rows read wrong:\n{}",
        misses.len(),
        misses.join("\n")
    );
}

/// A row with a `known_gap` reason is one the classifier reads wrong for a reason written down:
/// it is skipped while it misses and reported once it passes, so the reason is removed.
fn known_gap(row: &Value, right: bool, misses: &mut Vec<String>) -> bool {
    if row["known_gap"].as_str().is_none() {
        return false;
    }
    if right {
        misses.push(format!(
            "  passes now, remove its known_gap: {}",
            text(row, "text")
        ));
    }
    true
}

#[test]
fn dependency_failures_are_read_in_every_runtime_s_words() {
    let rows = table("dependency", "lines");
    let mut misses = Vec::new();
    for row in &rows {
        let line = text(row, "line");
        let got = dependency::classify(line);
        let want = text(row, "family");
        let right = match (want, &got) {
            ("not-a-dependency-failure", None) => true,
            ("not-a-dependency-failure", Some(_)) => row["line_level"].as_bool() == Some(true),
            (family, Some(found)) => {
                found.failure.as_str() == family
                    || row["also"].as_str() == Some(found.failure.as_str())
                    || row["generic"].as_bool() == Some(true)
                        && found.failure == dependency::DependencyFailure::Unreachable
            }
            (_, None) => false,
        };
        if !right {
            misses.push(format!(
                "  want {want}, got {:?}: {line}  ({})",
                got.map(|d| d.failure.as_str()),
                text(row, "source")
            ));
        }
    }
    assert_no_misses("dependency", rows.len(), &misses);
}

#[test]
fn dependency_targets_are_the_host_the_line_names() {
    let rows = table("dependency", "lines");
    let mut misses = Vec::new();
    for row in &rows {
        // Login failures name a user, near misses are not failures, and some rows describe
        // the target in words ("AWS RDS postgres").
        let family = text(row, "family");
        let Some(want) = row["target"].as_str() else {
            continue;
        };
        if family == "auth"
            || family == "not-a-dependency-failure"
            || want.contains([' ', '('])
            || row["target_not_in_line"].as_bool() == Some(true)
        {
            continue;
        }
        let want = want.split_once("://").map_or(want, |(_, rest)| rest);
        let line = text(row, "line");
        // The table sometimes describes the target ("AWS RDS postgres"); only a host the line
        // itself writes can be read from it.
        let host = want.split(':').next().unwrap_or(want);
        if host.is_empty()
            || !line.contains(host)
            || !host.contains(['.', '-']) && !line.contains(want)
        {
            continue;
        }
        let got = dependency::target(line);
        // The table writes what a person reads as the target; the classifier may keep a port
        // the person left out, never another host.
        let right = got
            .as_deref()
            .is_some_and(|got| got == want || got.split(':').next() == want.split(':').next());
        if !right {
            misses.push(format!("  want {want}, got {got:?}: {line}"));
        }
    }
    assert_no_misses("dependency targets", rows.len(), &misses);
}

/// The image a pull error names, for rows that do not give it: the task's container image in
/// real use.
fn image_named(text: &str) -> String {
    let patterns = [
        r#"(?:ref|reference|image) "([^"]+)""#,
        r"failed to resolve ref ([^\s:]+(?::[^\s:@]+)?(?:@sha256:[0-9a-f*]+)?)",
        r"pull access denied for ([^,\s]+)",
        r"manifest for (\S+) not found",
        r"repository (\S+) not found",
    ];
    patterns
        .iter()
        .find_map(|p| {
            regex::Regex::new(p)
                .ok()?
                .captures(text)?
                .get(1)
                .map(|m| m.as_str().to_owned())
        })
        .unwrap_or_default()
}

#[test]
fn pull_errors_are_read_in_every_era_s_words() {
    let rows = table("pull", "entries");
    let mut misses = Vec::new();
    for row in &rows {
        let message = text(row, "text");
        let image = row["image"]
            .as_str()
            .map_or_else(|| image_named(message), str::to_owned);
        let context = pull::PullContext {
            task_account: row["task_account"].as_str(),
            has_credentials: row["has_credentials"].as_bool() == Some(true),
            // As the evidence view does: an image that names a digest was pinned by its author.
            digest_in_definition: row["digest_in_definition"].as_bool() == Some(true)
                || row["image"]
                    .as_str()
                    .is_some_and(|i| i.contains("@sha256:")),
        };
        let got = pull::classify(message, &ImageRef::parse(&image), context);
        let want = match text(row, "class") {
            "not-found" | "invalid-reference" => pull::PullFailure::NotFound,
            "digest-deleted" => pull::PullFailure::DigestDeleted,
            "auth-denied" => pull::PullFailure::AuthDenied,
            "network" => pull::PullFailure::Network,
            "rate-limited" => pull::PullFailure::RateLimited,
            "disk-full" => pull::PullFailure::DiskFull,
            "platform-mismatch" => pull::PullFailure::PlatformMismatch,
            other => panic!("pull: unknown class {other}"),
        };
        if known_gap(row, got.failure == want, &mut misses) {
            continue;
        }
        if got.failure != want {
            misses.push(format!(
                "  want {want:?}, got {:?} ({}) for image {image:?}: {message}  ({})",
                got.failure,
                got.why,
                text(row, "source")
            ));
        }
    }
    assert_no_misses("pull", rows.len(), &misses);
}

#[test]
fn start_up_network_failures_are_told_from_failures_other_modes_own() {
    let rows = table("network", "entries");
    let mut misses = Vec::new();
    for row in &rows {
        let message = text(row, "text");
        let want = text(row, "class") == "network";
        let got = network::is_network_failure(message);
        if known_gap(row, got == want, &mut misses) {
            continue;
        }
        if got != want {
            misses.push(format!(
                "  want network={want}: {message}  ({})",
                text(row, "source")
            ));
        }
    }
    assert_no_misses("network", rows.len(), &misses);
}

#[test]
fn exit_codes_people_ask_about_have_a_specific_meaning() {
    let rows = table("exit", "entries");
    let generic = exit::meaning(42).meaning;
    let mut misses = Vec::new();
    for row in &rows {
        let Some(code) = row["code"].as_i64() else {
            continue;
        };
        let meaning = exit::meaning(code);
        if meaning.meaning == generic {
            misses.push(format!(
                "  {code} ({}) has only the generic meaning; the row says: {}",
                text(row, "runtime"),
                text(row, "meaning")
            ));
        }
        // A word the row's meaning and ours must share, where the row gives one.
        if let Some(word) = row["meaning_mentions"].as_str()
            && !meaning.meaning.contains(word)
        {
            misses.push(format!(
                "  {code}: {:?} should mention {word:?} ({})",
                meaning.meaning,
                text(row, "runtime")
            ));
        }
    }
    assert_no_misses("exit", rows.len(), &misses);
}
