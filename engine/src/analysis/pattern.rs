//! A log line reduced to its pattern: times, ids, addresses and numbers masked, so that the same
//! error counts once across tasks, requests and minutes (`[2024/10/07 22:20:49] [error]
//! [plugins/out_datadog/datadog.c:184 errno=25] …` and the same line at 22:21:03 are one
//! pattern), and whether a line reads like an error at all.

use std::sync::LazyLock;

use regex::Regex;

/// Masks, applied in this order, each to what the earlier ones left.
static MASKS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // ISO 8601 / RFC 3339, and the space-separated form of logs and the AWS CLI.
        (
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?",
            "<time>",
        ),
        // 2024/10/07 22:20:49 (Fluent Bit, Go's log package), 07/Oct/2024:22:20:49 +0000 (nginx).
        (
            r"\d{4}/\d{2}/\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?",
            "<time>",
        ),
        (
            r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}(?: [+-]\d{4})?",
            "<time>",
        ),
        (r"\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b", "<time>"),
        // IPv4 addresses (a port after one is a number, below).
        (r"\b\d{1,3}(?:\.\d{1,3}){3}\b", "<ip>"),
        // UUIDs, then hexadecimal ids of 8 or more digits with at least one digit in them
        // (task ids, request ids, commit hashes), so that words like `deadbeef` stay.
        (
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
            "<id>",
        ),
        (r"\b[0-9a-f]*[0-9][0-9a-f]*\b", "<hexnum>"),
    ]
    .into_iter()
    .filter_map(|(pattern, mask)| Regex::new(pattern).ok().map(|re| (re, mask)))
    .collect()
});

static SPACE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\s+").ok());

static ERROR_LIKE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:\b(?:err|fatal|panic|panicked|critical|crit|traceback|failed|failure|refused|timed? ?out|killed|out of memory|oom|segmentation fault|sigsegv|unhandled|uncaught)\b|\w*(?:error|exception)s?\b)",
    )
    .ok()
});

/// The pattern of `line`: times as `<time>`, UUIDs and hex ids as `<id>`, IPv4 addresses as
/// `<ip>`, other numbers as `<n>` (digits inside a word, as in `utf8` or `x86_64`, stay), runs
/// of white space as one space, trimmed.
pub fn pattern(line: &str) -> String {
    let mut text = line.to_owned();
    for (re, mask) in MASKS.iter() {
        if *mask == "<hexnum>" {
            // A run of hex digits with a digit: an id when it is 8 or more long, a number when
            // it is all decimal digits, else (`3e`, `b2`) left alone.
            text = re
                .replace_all(&text, |caps: &regex::Captures<'_>| {
                    let found = &caps[0];
                    if found.len() >= 8 && found.bytes().any(|b| b.is_ascii_alphabetic()) {
                        "<id>".to_owned()
                    } else if found.bytes().all(|b| b.is_ascii_digit()) {
                        if found.len() >= 16 {
                            "<id>".to_owned()
                        } else {
                            "<n>".to_owned()
                        }
                    } else {
                        found.to_owned()
                    }
                })
                .into_owned();
        } else {
            text = re.replace_all(&text, *mask).into_owned();
        }
    }
    // Decimal fractions left after the integer masks: `<n>.<n>` is one number.
    text = text.replace("<n>.<n>", "<n>");
    match SPACE.as_ref() {
        Some(space) => space.replace_all(text.trim(), " ").into_owned(),
        None => text.trim().to_owned(),
    }
}

/// Whether `line` reads like an error: a word such as error, exception (or one ending in them,
/// `OutOfMemoryError`), fatal, panic, traceback, failed, refused, timeout or killed, in any case.
pub fn is_error_like(line: &str) -> bool {
    ERROR_LIKE.as_ref().is_some_and(|re| re.is_match(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real lines, from the sources of `fixtures/real/` (named in each test).
    #[test]
    fn the_same_error_at_other_times_is_one_pattern() {
        // aws/aws-for-fluent-bit#861 (fixtures/real/gh-aws-for-fluent-bit-861-…).
        let a = "[2024/10/07 22:20:49] [error] [plugins/out_datadog/datadog.c:184 errno=25] Inappropriate ioctl for device";
        let b = "[2024/10/07 22:21:03] [error] [plugins/out_datadog/datadog.c:184 errno=25] Inappropriate ioctl for device";
        assert_eq!(pattern(a), pattern(b));
        assert_eq!(
            pattern(a),
            "[<time>] [error] [plugins/out_datadog/datadog.c:<n> errno=<n>] Inappropriate ioctl for device"
        );
    }

    #[test]
    fn task_and_deployment_ids_are_masked() {
        // Service events of fixtures/real/gh-metr-inspect-action-748-… and a deployment.
        let a = "(service dev2-inspect-ai-api) (task 251cf35e2f2ed33ca06a583ed18b8076) failed container health checks.";
        let b = "(service dev2-inspect-ai-api) (task c72f70fec55c6ae76ccf83283d22fbaa) failed container health checks.";
        assert_eq!(pattern(a), pattern(b));
        assert_eq!(
            pattern(a),
            "(service dev2-inspect-ai-api) (task <id>) failed container health checks."
        );
        assert_eq!(
            pattern(
                "(service web) (deployment ecs-svc/1367127125817985880) deployment failed: tasks failed to start."
            ),
            "(service web) (deployment ecs-svc/<id>) deployment failed: tasks failed to start."
        );
    }

    #[test]
    fn addresses_ports_and_request_ids_are_masked_words_with_digits_stay() {
        assert_eq!(
            pattern(
                "ERROR: connect ECONNREFUSED 127.0.0.1:27017 MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017"
            ),
            "ERROR: connect ECONNREFUSED <ip>:<n> MongoServerSelectionError: connect ECONNREFUSED <ip>:<n>"
        );
        assert_eq!(
            pattern(
                "2026-11-24T09:20:17.200Z request 3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f took 9450ms on x86_64 utf8"
            ),
            "<time> request <id> took 9450ms on x86_64 utf8"
        );
        assert_eq!(pattern("  heap   used 512.5 MB  "), "heap used <n> MB");
        assert_eq!(
            pattern(
                "[2019-10-30 10:08:08.263][1][critical][assert] [source/common/upstream/health_checker_impl.cc:176] assert failure: !response_headers_."
            ),
            "[<time>][<n>][critical][assert] [source/common/upstream/health_checker_impl.cc:<n>] assert failure: !response_headers_."
        );
    }

    #[test]
    fn error_like_lines() {
        for line in [
            "[2024/10/07 22:20:49] [error] [src/flb_sds.c:109 errno=12] Cannot allocate memory",
            "ERROR: connect ECONNREFUSED 127.0.0.1:27017",
            "java.lang.OutOfMemoryError: Java heap space",
            "Traceback (most recent call last):",
            "panic: runtime error: invalid memory address or nil pointer dereference",
            "error Command failed with exit code 1.",
            "FATAL:  password authentication failed for user \"app\"",
        ] {
            assert!(is_error_like(line), "{line}");
        }
        for line in [
            "GET /exports/2026-q4.csv 200 9450ms",
            "Listening on port 8080",
            "errorHandler registered",
        ] {
            assert!(!is_error_like(line), "{line}");
        }
    }
}
