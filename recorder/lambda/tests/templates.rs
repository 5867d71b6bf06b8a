//! The CloudFormation templates that deploy the recorder (`cloudformation/`) lint clean with
//! cfn-lint (pinned with moto in `recorder/tests/moto/requirements.txt`, installed by `cargo
//! xtask moto`), informational checks included, and the hub's StackSet carries the spoke
//! template word for word (`aws cloudformation package` does not inline a StackSet's template,
//! so the hub holds it as `TemplateBody`).

use std::path::PathBuf;
use std::process::Command;

fn python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var_os("ECS_AUTOPSY_MOTO_PYTHON")
        .map_or_else(|| root.join("target/moto-venv/bin/python"), PathBuf::from);
    assert!(
        python.exists(),
        "cfn-lint is not installed ({}): run `cargo xtask moto`, or the whole suite with `cargo xtask test`",
        python.display()
    );
    python
}

fn templates() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cloudformation")
}

#[test]
fn the_templates_lint_clean() {
    // The console script beside the venv's Python.
    let cfn_lint = python().with_file_name("cfn-lint");
    let output = Command::new(&cfn_lint)
        .args(["--include-checks", "I", "--"])
        .args(["hub.yaml", "spoke.yaml", "single-account.yaml"])
        .current_dir(templates())
        .output()
        .expect("cfn-lint runs");
    assert!(
        output.status.success() && output.stdout.is_empty(),
        "cfn-lint found problems:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_hub_stack_set_deploys_the_spoke_template_as_it_is() {
    let script = "from cfnlint.decode import decode\n\
        hub, problems = decode('hub.yaml')\n\
        assert not problems, problems\n\
        body = hub['Resources']['SpokeStackSet']['Properties']['TemplateBody']\n\
        print('same' if body == open('spoke.yaml', encoding='utf-8').read() else 'different')\n";
    let output = Command::new(python())
        .args(["-c", script])
        .current_dir(templates())
        .output()
        .expect("python runs");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "same",
        "hub.yaml's SpokeStackSet TemplateBody must be spoke.yaml word for word: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every call the recorder may make is allowed wherever a policy for it is written down: the
/// README's and docs/fleet.md's policies and the reader role of each template. A call missing
/// from one of them would fail as AccessDenied for everyone who copied it.
#[test]
fn every_call_the_recorder_makes_is_in_every_documented_policy() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let documents = [
        root.join("README.md"),
        root.join("docs/fleet.md"),
        templates().join("hub.yaml"),
        templates().join("spoke.yaml"),
        templates().join("single-account.yaml"),
    ];
    for document in documents {
        let text = std::fs::read_to_string(&document).expect("readable");
        for operation in recorder::Operation::ALL {
            let action = operation.iam_action();
            let allowed =
                text.contains(&format!("\"{action}\"")) || text.contains(&format!("- {action}\n"));
            assert!(allowed, "{} does not allow {action}", document.display());
        }
    }
}
