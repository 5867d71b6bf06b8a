//! What the `ecs-autopsy` binary does around the engine, as a library so that its tests and
//! `cargo xtask` share it: configuration discovery (`config`), reading inputs (`input`) and
//! rule files (`rule_files`), durations as people write them (`duration`), fixture cases
//! (`case`), the `rules new` scaffold, and the `bundle inspect` and `bundle scan` renderings.
//!
//! This is the side that touches files, the environment and the clock; the `engine` takes the
//! values read here and returns values.

pub mod case;
pub mod config;
pub mod duration;
pub mod input;
pub mod inspect;
pub mod rule_files;
pub mod scaffold;
pub mod scan;

/// The error and its causes on one line, each cause once: a message that already quotes its
/// source (`FILE: No such file or directory (os error 2)`) does not get it appended again.
pub fn error_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
