//! Container exits: what an exit code means across runtimes, and the out-of-memory kill.
//!
//! An exit code is a convention of whoever wrote it: a shell (126 cannot execute, 127 command
//! not found), a runtime (an uncaught exception exits 1 in Node, Python, Ruby and Java; a Go
//! panic exits 2; the JVM's `-XX:+ExitOnOutOfMemoryError` exits 3; .NET aborts an unhandled
//! exception with SIGABRT, 134), or the kernel (`128 + N` for signal N: 137 SIGKILL, 139
//! SIGSEGV, 143 SIGTERM), and `exit(-1)` wraps to 255.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::{exit_signal, signal_name};

/// What an exit code says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitMeaning {
    /// The signal behind a code above 128.
    pub signal: Option<i64>,
    /// A short family name: `success`, `error`, `usage`, `config`, `runtime`, `not-executable`, `not-found`,
    /// `killed`, `crashed`, `aborted`, `terminated`, `signal`, `minus-one`.
    pub kind: &'static str,
    /// What it usually means, for a message.
    pub meaning: &'static str,
}

/// The meaning of exit code `code`.
pub fn meaning(code: i64) -> ExitMeaning {
    let signal = exit_signal(code);
    let (kind, meaning) = match code {
        0 => ("success", "the process finished without an error"),
        1 => (
            "error",
            "the process failed: an uncaught exception (Node, Python, Ruby, Java) or an explicit exit(1)",
        ),
        2 => (
            "usage",
            "a Go panic, or a shell or command-line usage error",
        ),
        3 => (
            "error",
            "an error exit; the JVM exits 3 with -XX:+ExitOnOutOfMemoryError",
        ),
        5 => (
            "error",
            "Node.js exits 5 on a fatal V8 error (its heap out of memory aborts with 134 instead)",
        ),
        78 => (
            "config",
            "EX_CONFIG: the program rejected its configuration at start-up (PHP-FPM, sysexits users)",
        ),
        125 => (
            "runtime",
            "the container runtime failed before the command ran (Docker's own error, not the app's)",
        ),
        126 => (
            "not-executable",
            "the command was found but could not be executed (permissions, or a binary for another architecture)",
        ),
        127 => ("not-found", "the command was not found in the image"),
        134 => (
            "aborted",
            "SIGABRT: the process aborted itself (Node.js out of heap, an unhandled .NET exception, a failed assertion)",
        ),
        137 => (
            "killed",
            "SIGKILL: killed from outside (the OOM killer, or ECS after the stop timeout)",
        ),
        139 => (
            "crashed",
            "SIGSEGV: the process crashed on an invalid memory access (usually native code)",
        ),
        143 => (
            "terminated",
            "SIGTERM: asked to stop (by ECS when the task was stopped) and exited",
        ),
        255 => (
            "minus-one",
            "exit(-1) or an out-of-range code (Envoy, Fluent Bit rejecting its configuration, some Go and C programs)",
        ),
        _ if signal.is_some() => ("signal", "killed by a signal"),
        _ => ("error", "the process exited with an error code"),
    };
    ExitMeaning {
        signal,
        kind,
        meaning,
    }
}

/// `137 (SIGKILL)`, `1`: an exit code for a message.
pub fn describe(code: i64) -> String {
    match exit_signal(code).and_then(signal_name) {
        Some(name) => format!("{code} ({name})"),
        None => code.to_string(),
    }
}

/// Whether a container reason says the kernel killed it for using more memory than its
/// limit: `OutOfMemoryError: Container killed due to memory usage`.
pub fn is_oom_kill(reason: &str) -> bool {
    static OOM: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^OutOfMemoryError\b|killed due to memory usage")
            .expect("built-in pattern is valid")
    });
    OOM.is_match(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_mean_what_runtimes_and_the_kernel_use_them_for() {
        assert_eq!(meaning(0).kind, "success");
        assert_eq!(meaning(1).kind, "error");
        assert_eq!(meaning(2).kind, "usage");
        assert_eq!(meaning(126).kind, "not-executable");
        assert_eq!(meaning(127).kind, "not-found");
        assert_eq!(meaning(134).signal, Some(6));
        assert_eq!(meaning(137).kind, "killed");
        assert_eq!(meaning(139).kind, "crashed");
        assert_eq!(meaning(143).kind, "terminated");
        assert_eq!(meaning(130).kind, "signal");
        assert_eq!(meaning(255).kind, "minus-one");
        assert_eq!(describe(137), "137 (SIGKILL)");
        assert!(is_oom_kill(
            "OutOfMemoryError: Container killed due to memory usage"
        ));
        assert!(!is_oom_kill("Essential container in task exited"));
    }
}
