//! Helpers shared by the integration tests that run the `ecs-autopsy` binary.

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) mod harness;

/// The workspace root, where `fixtures/`, `rules/`, `examples/` and `docs/` are.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A scratch directory, removed when the test ends.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    /// A fresh, empty directory named after the test binary's process and `name`.
    pub(crate) fn new(prefix: &str, name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "ecs-autopsy-{prefix}-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary, cut off from the developer's AWS configuration: no `AWS_*` variables, no
/// profile files (`home` holds none), no instance metadata. Only what a test adds is there.
pub(crate) fn isolated_binary(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecs-autopsy"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("no-user-config"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG");
    command
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the exit code and that stdout and stderr contain each needle, and that nothing
/// panicked; returns stdout.
#[track_caller]
pub(crate) fn check(
    output: &Output,
    code: i32,
    stdout_has: &[&str],
    stderr_has: &[&str],
) -> String {
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for needle in stdout_has {
        assert!(
            stdout.contains(needle),
            "stdout lacks {needle:?}:\n{stdout}"
        );
    }
    for needle in stderr_has {
        assert!(
            stderr.contains(needle),
            "stderr lacks {needle:?}:\n{stderr}"
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    stdout
}
