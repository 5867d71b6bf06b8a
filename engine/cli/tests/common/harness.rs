//! The moto harness (`recorder/tests/moto/harness.py`) as a child process: started with a
//! scenario, its one JSON line read, stopped when dropped.

use std::io::{BufRead, BufReader, Read as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The emulator's Python: `ECS_AUTOPSY_MOTO_PYTHON` (set by `cargo xtask test`), else the venv
/// `cargo xtask moto` installs.
pub(crate) fn python() -> PathBuf {
    let python = std::env::var_os("ECS_AUTOPSY_MOTO_PYTHON").map_or_else(
        || super::workspace_root().join("target/moto-venv/bin/python"),
        PathBuf::from,
    );
    assert!(
        python.exists(),
        "the AWS emulator is not installed ({}): run `cargo xtask moto`, or the whole suite with `cargo xtask test`",
        python.display()
    );
    python
}

/// A running harness and what it announced.
pub(crate) struct Harness {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Harness {
    /// Stages `scenario` and returns the harness with its announced JSON, parsed; the
    /// endpoint is checked to be loopback.
    pub(crate) fn start<T: serde::de::DeserializeOwned>(
        scenario: &str,
        options: &[&str],
    ) -> (Harness, T) {
        let mut child = Command::new(python())
            .arg(super::workspace_root().join("recorder/tests/moto/harness.py"))
            .arg(scenario)
            .args(options)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the harness starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let line = receiver
            // Only a harness that hangs (one that fails exits, and ends the line) meets this.
            .recv_timeout(Duration::from_mins(10))
            .unwrap_or_default();
        if line.trim().is_empty() {
            let _ = child.kill();
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("the harness did not stage `{scenario}`:\n{stderr}");
        }
        let endpoint: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|err| panic!("{err}: {line}"));
        assert!(
            endpoint["endpoint"]
                .as_str()
                .is_some_and(|e| e.starts_with("http://127.0.0.1:")),
            "tests only ever target loopback: {line}"
        );
        let staged = serde_json::from_str(&line).unwrap_or_else(|err| panic!("{err}: {line}"));
        let stdin = child.stdin.take();
        (Harness { child, stdin }, staged)
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        drop(self.stdin.take());
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
