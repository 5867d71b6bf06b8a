//! Native helpers for what Rhai does slowly or clumsily: regexes, exit codes and time.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use regex::Regex;
use rhai::{Dynamic, Engine, EvalAltResult};

use recorder::time::Timestamp;

/// Compiled regexes are cached for the life of the process; rules reuse a handful of them.
static REGEX_CACHE: LazyLock<Mutex<HashMap<String, Arc<Regex>>>> = LazyLock::new(Mutex::default);
const REGEX_CACHE_ENTRIES: usize = 4096;
/// Bounds the size of one compiled regex so that a hostile pattern cannot exhaust memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Compiles (or fetches from the cache) a regex, as a Rhai error when it is invalid.
pub(crate) fn regex(pattern: &str) -> Result<Arc<Regex>, Box<EvalAltResult>> {
    let mut cache = REGEX_CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(regex) = cache.get(pattern) {
        return Ok(Arc::clone(regex));
    }
    let regex = regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|err| format!("invalid regex `{pattern}`: {err}"))?;
    if cache.len() >= REGEX_CACHE_ENTRIES {
        cache.clear();
    }
    let regex = Arc::new(regex);
    cache.insert(pattern.to_owned(), Arc::clone(&regex));
    Ok(regex)
}

/// The signal behind a container exit code (`128 + N`), if it is one.
pub(crate) fn exit_signal(code: i64) -> Option<i64> {
    (129..=128 + 64).contains(&code).then_some(code - 128)
}

/// The conventional name of a Linux signal number.
pub(crate) fn signal_name(signal: i64) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return None,
    })
}

/// `137 (SIGKILL)`, `1`, …
pub fn describe_exit(code: i64) -> String {
    match exit_signal(code).and_then(signal_name) {
        Some(name) => format!("{code} ({name})"),
        None => code.to_string(),
    }
}

fn parse_time(value: &Dynamic) -> Option<Timestamp> {
    let text = value.clone().into_immutable_string().ok()?;
    Timestamp::parse_iso(&text)
}

pub(crate) fn register(engine: &mut Engine) {
    engine
        .register_fn(
            "matches",
            |text: &str, pattern: &str| -> Result<bool, Box<EvalAltResult>> {
                Ok(regex(pattern)?.is_match(text))
            },
        )
        .register_fn("matches", |_: (), _: &str| false)
        .register_fn(
            "find",
            |text: &str, pattern: &str| -> Result<Dynamic, Box<EvalAltResult>> {
                // The first capture group when the pattern has one, else the whole match.
                let regex = regex(pattern)?;
                Ok(regex.captures(text).map_or(Dynamic::UNIT, |captures| {
                    let found = captures.get(1).or_else(|| captures.get(0));
                    found.map_or(Dynamic::UNIT, |m| Dynamic::from(m.as_str().to_owned()))
                }))
            },
        )
        .register_fn("find", |_: (), _: &str| Dynamic::UNIT)
        .register_fn("exit_signal", |code: i64| {
            exit_signal(code).map_or(Dynamic::UNIT, Dynamic::from)
        })
        .register_fn("exit_signal", |_: ()| Dynamic::UNIT)
        .register_fn("signal_name", |signal: i64| {
            signal_name(signal).map_or(Dynamic::UNIT, |name| Dynamic::from(name.to_owned()))
        })
        .register_fn("describe_exit", describe_exit)
        .register_fn("describe_exit", |_: ()| "no exit code".to_owned())
        .register_fn("seconds_between", |from: Dynamic, to: Dynamic| {
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
    fn exit_codes_decode_signals() {
        assert_eq!(describe_exit(137), "137 (SIGKILL)");
        assert_eq!(describe_exit(143), "143 (SIGTERM)");
        assert_eq!(describe_exit(139), "139 (SIGSEGV)");
        assert_eq!(describe_exit(1), "1");
        assert_eq!(describe_exit(128), "128");
        assert_eq!(exit_signal(255), None);
        assert_eq!(exit_signal(192), Some(64));
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
