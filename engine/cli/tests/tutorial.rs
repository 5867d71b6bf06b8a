//! docs/writing-rules.md, run as a reader would follow it: every `$ ecs-autopsy …` and
//! `$ cp …` line of a `console` block runs in a scratch directory, every block with
//! `file=PATH` is written to PATH, and each command's output must contain the lines shown
//! under it, in order (`...` skips any number of lines). A command must exit 0 unless the line
//! says `# exits N`.

mod common;

use std::path::PathBuf;

use common::{TempDir, isolated_binary, text};

fn root() -> PathBuf {
    common::workspace_root()
}

enum Step {
    Run {
        line: usize,
        command: String,
        expected: Vec<String>,
    },
    Write {
        path: String,
        content: String,
    },
}

fn steps(markdown: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((_, line)) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let mut body = Vec::new();
        for (number, line) in lines.by_ref() {
            if line.starts_with("```") {
                break;
            }
            body.push((number + 1, line));
        }
        if let Some(path) = info
            .split_whitespace()
            .find_map(|w| w.strip_prefix("file="))
        {
            let mut content = body.iter().map(|(_, l)| *l).collect::<Vec<_>>().join("\n");
            content.push('\n');
            steps.push(Step::Write {
                path: path.to_owned(),
                content,
            });
        } else if info.trim() == "console" {
            for (number, line) in body {
                if let Some(command) = line.strip_prefix("$ ") {
                    steps.push(Step::Run {
                        line: number,
                        command: command.to_owned(),
                        expected: Vec::new(),
                    });
                } else if let Some(Step::Run { expected, .. }) = steps.last_mut() {
                    expected.push(line.to_owned());
                }
            }
        }
    }
    steps
}

#[track_caller]
fn assert_contains_in_order(output: &str, expected: &[String], context: &str) {
    let actual: Vec<&str> = output.lines().map(str::trim_end).collect();
    let mut at = 0;
    let mut anchored = true;
    for want in expected {
        let want = want.trim_end();
        if want == "..." {
            anchored = false;
            continue;
        }
        let found = if anchored {
            (actual.get(at) == Some(&want)).then_some(at)
        } else {
            actual[at..]
                .iter()
                .position(|line| *line == want)
                .map(|i| at + i)
        };
        let Some(index) = found else {
            panic!("{context}: expected line {want:?} not found in order in:\n{output}");
        };
        at = index + 1;
        anchored = true;
    }
}

#[test]
fn the_rule_writing_tutorial_works_as_written() {
    let markdown =
        std::fs::read_to_string(root().join("docs/writing-rules.md")).expect("tutorial exists");
    let work = TempDir::new("tutorial", "work");
    let home = TempDir::new("tutorial", "home");
    // The binary alone: no file of the repository is in the working directory.
    let steps = steps(&markdown);
    assert!(
        steps
            .iter()
            .filter(|s| matches!(s, Step::Run { .. }))
            .count()
            >= 10,
        "the tutorial's commands were not found"
    );
    for step in steps {
        match step {
            Step::Write { path, content } => {
                let path = work.join(&path);
                std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
                std::fs::write(&path, content).expect("write tutorial file");
            }
            Step::Run {
                line,
                command,
                expected,
            } => {
                let (command, comment) = command
                    .split_once("  #")
                    .map_or((command.as_str(), ""), |(c, rest)| (c, rest));
                let code: i32 = comment
                    .trim()
                    .strip_prefix("# exits ")
                    .or_else(|| comment.trim().strip_prefix("exits "))
                    .and_then(|n| n.trim().parse().ok())
                    .unwrap_or(0);
                let words: Vec<&str> = command.split_whitespace().collect();
                let context = format!("docs/writing-rules.md:{line}: `{command}`");
                match words.as_slice() {
                    ["cp", from, to] => {
                        let from = work.join(from);
                        let mut to = work.join(to);
                        if to.is_dir() {
                            to = to.join(from.file_name().expect("file name"));
                        }
                        std::fs::copy(&from, &to).unwrap_or_else(|err| panic!("{context}: {err}"));
                    }
                    ["ecs-autopsy", args @ ..] => {
                        let output = isolated_binary(&home)
                            .args(args)
                            .current_dir(&*work)
                            .output()
                            .expect("binary runs");
                        let all = format!("{}{}", text(&output.stderr), text(&output.stdout));
                        assert_eq!(
                            output.status.code(),
                            Some(code),
                            "{context}: exit code\n{all}"
                        );
                        assert_contains_in_order(&all, &expected, &context);
                    }
                    _ => panic!("{context}: the tutorial may only run ecs-autopsy and cp"),
                }
            }
        }
    }
}
