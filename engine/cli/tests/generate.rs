//! `ecs-autopsy generate completions SHELL` and `generate man DIR`, run as a packager would.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Output};

use common::{TempDir, check, text};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecs-autopsy"))
        .args(args)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .output()
        .expect("binary runs")
}

/// The commands `--help` lists under "Commands:" for `args` (without `help`).
fn commands_in_help(args: &[&str]) -> Vec<String> {
    let mut args = args.to_vec();
    args.push("--help");
    let help = text(&run(&args).stdout);
    let section = help
        .split("Commands:\n")
        .nth(1)
        .expect("a Commands section");
    let names: Vec<String> = section
        .lines()
        .take_while(|line| line.starts_with("  "))
        .filter(|line| !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 2, "{help}");
    names
}

#[test]
fn completions_for_every_shell_know_every_command_and_flag() {
    let commands = commands_in_help(&[]);
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = run(&["generate", "completions", shell]);
        let script = check(&output, 0, &["ecs-autopsy"], &[]);
        assert!(
            output.stderr.is_empty(),
            "{shell}: {}",
            text(&output.stderr)
        );
        for command in &commands {
            assert!(script.contains(command.as_str()), "{shell} lacks {command}");
        }
        // Fish names long flags without their dashes (`-l format`).
        for flag in ["format", "no-timeline", "service"] {
            assert!(script.contains(flag), "{shell} lacks --{flag}");
        }
        // The possible values of an enum flag are completed too (PowerShell's and elvish's
        // scripts complete only names).
        if !matches!(shell, "powershell" | "elvish") {
            assert!(
                script.contains("markdown"),
                "{shell} lacks --format's values"
            );
        }
    }
}

#[test]
fn bash_completion_is_valid_bash_and_completes_commands() {
    let dir = TempDir::new("generate", "bash");
    let script = dir.join("ecs-autopsy.bash");
    let output = run(&["generate", "completions", "bash"]);
    std::fs::write(&script, &output.stdout).expect("write script");
    // Source it and ask for the completions of `ecs-autopsy re`, as bash would on Tab.
    let probe = format!(
        "source '{}'; COMP_WORDS=(ecs-autopsy re); COMP_CWORD=1; COMP_LINE='ecs-autopsy re'; \
         COMP_POINT=${{#COMP_LINE}}; spec=$(complete -p ecs-autopsy); fn=${{spec#*-F }}; \
         \"${{fn%% *}}\" ecs-autopsy re ecs-autopsy; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let completed = Command::new("bash")
        .args(["--noprofile", "--norc", "-c", &probe])
        .output()
        .expect("bash runs");
    let words: BTreeSet<String> = text(&completed.stdout).lines().map(str::to_owned).collect();
    assert!(completed.status.success(), "{}", text(&completed.stderr));
    assert_eq!(
        words,
        BTreeSet::from(["record".to_owned(), "replay".to_owned()]),
        "{}",
        text(&completed.stderr)
    );
}

#[test]
fn an_unknown_shell_is_refused_in_one_line() {
    let output = run(&["generate", "completions", "tcsh"]);
    check(&output, 2, &[], &["invalid value 'tcsh'"]);
    assert_eq!(text(&output.stderr).lines().count(), 1);
}

#[test]
fn man_pages_cover_every_command_and_the_main_page_names_them() {
    let dir = TempDir::new("generate", "man");
    let man = dir.join("man/man1");
    let output = run(&["generate", "man", man.to_str().expect("utf-8 path")]);
    let listed = check(&output, 0, &[], &[]);

    let mut expected = vec!["ecs-autopsy.1".to_owned()];
    let top = commands_in_help(&[]);
    for command in &top {
        expected.push(format!("ecs-autopsy-{command}.1"));
    }
    for parent in ["bundle", "rules", "generate"] {
        for command in commands_in_help(&[parent]) {
            expected.push(format!("ecs-autopsy-{parent}-{command}.1"));
        }
    }
    let written: BTreeSet<String> = std::fs::read_dir(&man)
        .expect("the directory was created")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        written,
        expected.iter().cloned().collect::<BTreeSet<_>>(),
        "one page per command"
    );
    // Standard output lists each page written, by path.
    assert_eq!(listed.lines().count(), expected.len(), "{listed}");
    for page in &expected {
        assert!(
            listed.contains(&man.join(page).display().to_string()),
            "{page} not listed"
        );
    }

    let top_page = std::fs::read_to_string(man.join("ecs-autopsy.1")).expect("main page");
    assert!(
        top_page.starts_with(".ie \\n(.g .ds Aq") || top_page.contains(".TH ecs-autopsy 1"),
        "{top_page}"
    );
    for command in &top {
        assert!(
            top_page.contains(&format!(
                "ecs\\-autopsy\\-{}(1)",
                command.replace('-', "\\-")
            )),
            "the main page names {command}"
        );
    }
    let replay = std::fs::read_to_string(man.join("ecs-autopsy-replay.1")).expect("replay page");
    assert!(replay.contains("\\-\\-no\\-timeline"), "{replay}");
    assert!(
        replay.contains("Exit codes"),
        "replay's page keeps the exit codes"
    );
}

#[test]
fn man_into_a_file_path_is_an_error_naming_it() {
    let dir = TempDir::new("generate", "man-file");
    let file = dir.join("not-a-dir");
    std::fs::write(&file, b"x").expect("write file");
    let output = run(&["generate", "man", file.to_str().expect("utf-8 path")]);
    check(&output, 2, &[], &["not-a-dir"]);
    assert_eq!(
        text(&output.stderr).lines().count(),
        1,
        "{}",
        text(&output.stderr)
    );
}
