//! Native helpers for what Rhai does slowly or clumsily: regexes, exit codes and time.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use regex::Regex;
use rhai::{Dynamic, Engine, EvalAltResult};

use recorder::time::Timestamp;

use crate::classify::image::ImageRef;
use crate::model::{describe_exit, exit_signal, signal_name};
use crate::runtime::registry::Api;

/// Compiled regexes are cached for the life of the process; rules reuse a handful of them.
static REGEX_CACHE: LazyLock<RwLock<HashMap<String, Arc<Regex>>>> = LazyLock::new(RwLock::default);
const REGEX_CACHE_ENTRIES: usize = 4096;
/// Bounds the size of one compiled regex so that a hostile pattern cannot exhaust memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

thread_local! {
    /// Each thread's own copy of the regexes it used. Rules run on several threads, and one
    /// `Regex` used by two threads at once makes them queue for its match cache (see the regex
    /// crate's notes on performance); a clone shares the compiled program, not that cache.
    static LOCAL_REGEXES: std::cell::RefCell<HashMap<String, Arc<Regex>>> =
        std::cell::RefCell::default();
}

/// Compiles (or fetches from the cache) a regex, as a Rhai error when it is invalid.
pub(crate) fn regex(pattern: &str) -> Result<Arc<Regex>, Box<EvalAltResult>> {
    if let Some(regex) = LOCAL_REGEXES.with_borrow(|local| local.get(pattern).cloned()) {
        return Ok(regex);
    }
    let regex = Arc::new(Regex::clone(&*shared_regex(pattern)?));
    LOCAL_REGEXES.with_borrow_mut(|local| {
        if local.len() >= REGEX_CACHE_ENTRIES {
            local.clear();
        }
        local.insert(pattern.to_owned(), Arc::clone(&regex));
    });
    Ok(regex)
}

/// The process-wide cache: each pattern is compiled once, whichever thread asks first.
fn shared_regex(pattern: &str) -> Result<Arc<Regex>, Box<EvalAltResult>> {
    if let Some(regex) = REGEX_CACHE
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(pattern)
    {
        return Ok(Arc::clone(regex));
    }
    let started = std::time::Instant::now();
    let regex = regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|err| format!("invalid regex `{pattern}`: {err}"))?;
    tracing::trace!(pattern, elapsed = ?started.elapsed(), "regex compiled");
    let mut cache = REGEX_CACHE
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if cache.len() >= REGEX_CACHE_ENTRIES {
        cache.clear();
    }
    let regex = Arc::new(regex);
    cache.insert(pattern.to_owned(), Arc::clone(&regex));
    Ok(regex)
}

/// `dependency_failure(text)`: the classification of one log line as a map, or `()`.
pub(crate) fn dependency_failure(text: &str) -> Dynamic {
    match crate::classify::dependency::classify(text) {
        Some(found) => {
            let mut map = rhai::Map::new();
            map.insert("kind".into(), found.failure.as_str().into());
            map.insert(
                "target".into(),
                found.target.map_or(Dynamic::UNIT, Dynamic::from),
            );
            Dynamic::from_map(map)
        }
        None => Dynamic::UNIT,
    }
}

/// `4s`, `2m 05s`, `3h 12m`.
pub(crate) fn format_duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "?".to_owned();
    }
    let negative = seconds < 0.0;
    #[allow(clippy::cast_possible_truncation)]
    let total = seconds.abs().round() as i64;
    let text = if total < 60 {
        format!("{total}s")
    } else if total < 3600 {
        format!("{}m {:02}s", total / 60, total % 60)
    } else {
        format!("{}h {:02}m", total / 3600, (total % 3600) / 60)
    };
    if negative { format!("-{text}") } else { text }
}

fn parse_time(value: &Dynamic) -> Option<Timestamp> {
    let text = value.clone().into_immutable_string().ok()?;
    Timestamp::parse_iso(&text)
}

pub(crate) fn register(engine: &mut Engine) {
    Api::new(engine)
        // Rhai's core package has `sleep`, which blocks the thread where no budget can stop it.
        // These take its place: the engine's own functions come before any package's.
        .func("sleep(seconds)", "Always fails: a rule cannot sleep (it would block a thread that no budget can stop).",
            |_: rhai::FLOAT| -> Result<(), Box<EvalAltResult>> {
                Err("sleep() is not available to rules".into())
            },
        )
        .func("sleep(seconds)", "Always fails: a rule cannot sleep (it would block a thread that no budget can stop).",
            |_: rhai::INT| -> Result<(), Box<EvalAltResult>> {
                Err("sleep() is not available to rules".into())
            },
        )
        .func("matches(text, pattern)", "Whether `text` matches a regular expression (Rust `regex` syntax; `(?i)` for any case).",
            |text: &str, pattern: &str| -> Result<bool, Box<EvalAltResult>> {
                Ok(regex(pattern)?.is_match(text))
            },
        )
        .func("matches(text, pattern)", "", |(): (), _: &str| false)
        .func("find(text, pattern) -> string?", "The first capture group of a regular expression in `text` (the whole match when it has no\ngroup), or `()`.",
            |text: &str, pattern: &str| -> Result<Dynamic, Box<EvalAltResult>> {
                // The first capture group when the pattern has one, else the whole match.
                let regex = regex(pattern)?;
                Ok(regex.captures(text).map_or(Dynamic::UNIT, |captures| {
                    let found = captures.get(1).or_else(|| captures.get(0));
                    found.map_or(Dynamic::UNIT, |m| Dynamic::from(m.as_str().to_owned()))
                }))
            },
        )
        .func("find(text, pattern)", "", |(): (), _: &str| Dynamic::UNIT)
        .func("exit_signal(code) -> int?", "The signal number behind an exit code above 128 (`137` → `9`), or `()`.", |code: i64| {
            exit_signal(code).map_or(Dynamic::UNIT, Dynamic::from)
        })
        .func("exit_signal(code)", "", |(): ()| Dynamic::UNIT)
        .func("signal_name(signal) -> string?", "The signal's name (`9` → `\"SIGKILL\"`), or `()`.", |signal: i64| {
            signal_name(signal).map_or(Dynamic::UNIT, |name| Dynamic::from(name.to_owned()))
        })
        .func("describe_exit(code)", "An exit code for a message: `\"137 (SIGKILL)\"`, `\"1\"`.", describe_exit)
        .func("describe_exit(code)", "", |(): ()| "no exit code".to_owned())
        .func("parse_image(reference)", "An image reference taken apart: a map of `registry`, `repository`, `tag`, `digest` (`()` when\nabsent), and `docker_hub`, `official` and `ecr` (booleans).", |reference: &str| {
            let image = ImageRef::parse(reference);
            let mut map = rhai::Map::new();
            let text = |value: Option<String>| value.map_or(Dynamic::UNIT, Dynamic::from);
            map.insert("registry".into(), image.registry.clone().into());
            map.insert("repository".into(), image.repository.clone().into());
            map.insert("tag".into(), text(image.tag.clone()));
            map.insert("digest".into(), text(image.digest.clone()));
            map.insert("docker_hub".into(), image.is_docker_hub().into());
            map.insert("official".into(), image.is_official().into());
            map.insert("ecr".into(), image.is_ecr().into());
            map
        })
        .func("dependency_failure(text) -> map?", "What a log line says went wrong between the app and a dependency, across runtimes and\ndrivers: `#{ kind, target }`, where `kind` is `dns`, `refused`, `timeout`, `tls`, `auth` or\n`unreachable` and `target` the host (and port) it names or `()`; or `()` for any other line.", dependency_failure)
        .func("dependency_failure(text)", "", |(): ()| Dynamic::UNIT)
        .func("exit_meaning(code) -> map?", "What an exit code usually means across runtimes and the kernel: `#{ kind, meaning, signal }`,\nwhere `kind` is `success`, `error`, `usage` (a Go panic exits 2), `config` (78, EX_CONFIG), `runtime` (125, the container runtime failed), `not-executable` (126),\n`not-found` (127), `aborted` (134), `killed` (137), `crashed` (139), `terminated` (143),\n`minus-one` (255) or `signal`; or `()` without a code.", |code: i64| {
            let meaning = crate::classify::exit::meaning(code);
            let mut map = rhai::Map::new();
            map.insert("kind".into(), meaning.kind.into());
            map.insert("meaning".into(), meaning.meaning.into());
            map.insert("signal".into(), meaning.signal.map_or(Dynamic::UNIT, Dynamic::from));
            Dynamic::from_map(map)
        })
        .func("exit_meaning(code)", "", |(): ()| Dynamic::UNIT)
        .func("format_duration(seconds)", "Seconds as a duration for messages: `\"45s\"`, `\"12m 00s\"`, `\"1h 02m\"`.", format_duration)
        .func("format_duration(seconds)", "Seconds as a duration for messages: `\"45s\"`, `\"12m 00s\"`, `\"1h 02m\"`.", |seconds: i64| {
            #[allow(clippy::cast_precision_loss)]
            format_duration(seconds as f64)
        })
        .func("format_duration(seconds)", "", |(): ()| "an unknown time".to_owned())
        .func("seconds_between(from, to) -> float?", "Seconds from one timestamp to another (negative when `to` is earlier), or `()` when either\nis absent.", |from: Dynamic, to: Dynamic| {
            match (parse_time(&from), parse_time(&to)) {
                (Some(from), Some(to)) => Dynamic::from(from.seconds_until(to)),
                _ => Dynamic::UNIT,
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(format_duration(3.2), "3s");
        assert_eq!(format_duration(125.0), "2m 05s");
        assert_eq!(format_duration(10_790.0), "2h 59m");
        assert_eq!(format_duration(f64::NAN), "?");
    }

    #[test]
    fn invalid_regex_is_an_error() {
        let err = regex("(unclosed").expect_err("invalid");
        assert!(
            err.to_string().contains("invalid regex `(unclosed`"),
            "{err}"
        );
    }
}
