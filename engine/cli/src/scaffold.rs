//! `rules new`: a rule skeleton and its fixture folder, ready to fill in.

use std::path::{Path, PathBuf};

use crate::case::CASE_FILE;

/// The tutorial's two incident bundles (`docs/writing-rules.md`), embedded so that it works
/// with the binary alone: an OOM-killed JVM that picked up `JAVA_TOOL_OPTIONS` without
/// `-XX:MaxRAMPercentage`, and one whose JVM has the flag.
const EXAMPLE_POSITIVE: &[u8] = include_bytes!(
    "../../../examples/team-rules/fixtures/java-max-ram-percentage/oom-killed-tool-options-without-flag/bundle.json"
);
const EXAMPLE_NEAR_MISS: &[u8] = include_bytes!(
    "../../../examples/team-rules/fixtures/java-max-ram-percentage/ok-max-ram-percentage-set/bundle.json"
);

/// Creates `<dir>/<id>.rhai` and `<dir>/fixtures/<id>/{positive,ok-near-miss}/case.toml`, and
/// with `example` the tutorial's bundle in each case. Refuses to overwrite anything; returns
/// the files written.
pub fn new_rule(id: &str, dir: &Path, example: bool) -> anyhow::Result<Vec<PathBuf>> {
    if !engine::rule::is_kebab_case(id) {
        return Err(anyhow::format_err!(
            "`{id}` is not a rule id: use kebab-case, like `java-max-ram-percentage`"
        ));
    }
    let rule_path = dir.join(format!("{id}.rhai"));
    let cases = dir.join("fixtures").join(id);
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
        (rule_path, rule_source(id).into_bytes()),
        (
            cases.join("positive").join(CASE_FILE),
            positive_case(id).into_bytes(),
        ),
        (
            cases.join("ok-near-miss").join(CASE_FILE),
            near_miss_case(id).into_bytes(),
        ),
    ];
    if example {
        files.push((
            cases.join("positive").join("bundle.json"),
            EXAMPLE_POSITIVE.to_vec(),
        ));
        files.push((
            cases.join("ok-near-miss").join("bundle.json"),
            EXAMPLE_NEAR_MISS.to_vec(),
        ));
    }
    if let Some((existing, _)) = files.iter().find(|(path, _)| path.exists()) {
        return Err(anyhow::format_err!(
            "{} already exists; nothing written",
            existing.display()
        ));
    }
    let mut written = Vec::new();
    for (path, text) in files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|err| anyhow::format_err!("{}: cannot create: {err}", parent.display()))?;
        }
        std::fs::write(&path, text)
            .map_err(|err| anyhow::format_err!("{}: cannot write: {err}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

fn rule_source(id: &str) -> String {
    format!(
        r#"//! ## What it means
//! TODO: what the finding tells the on-call engineer, in two or three sentences.
//!
//! ## Why it happens
//! - TODO: the usual causes.
//!
//! ## Example evidence
//! ```text
//! tasks[0].containers[0].exitCode = 137
//! ```
//!
//! ## How to fix
//! TODO: the fix, as concrete as your team's runbook.
//!
//! ## References
//! - TODO: your runbook or the AWS documentation page.

const RULE = #{{
    id: "{id}",
    title: "TODO: one line, what this rule diagnoses",
    severity: "warning",
    category: "{id}",
    benign: false,
    since: "0.1.0",
    needs: ["ecs:DescribeTasks"],
}};

/// Returns one finding per problem found. `ecs-autopsy rules definitions` writes the evidence
/// API for your editor; docs/rhai-api.md in the ecs-autopsy repository describes it.
fn check(ev) {{
    let findings = [];
    for task in ev.stopped_tasks() {{
        for c in task.containers {{
            // TODO: replace this condition with what your rule looks for.
            if c.exitCode == 137 && false {{
                findings.push(
                    finding(c, `Container "${{c.name}}" TODO: what happened`)
                        .evidence([c.path("exitCode")])
                        .hint("TODO: one actionable sentence")
                );
            }}
        }}
    }}
    findings
}}
"#
    )
}

fn positive_case(id: &str) -> String {
    format!(
        r#"# A bundle where `{id}` must fire. Put the incident's bundle next to this file as
# bundle.json or bundle.json.gz (`ecs-autopsy record … -o bundle.json.gz`), or point to it
# with bundle = "path/to/bundle.json.gz". Then run `ecs-autopsy rules test`.
description = "TODO: one sentence, what happened in this incident"
# Every rule that fires must be listed here, built-in rules included.
expect = ["{id}"]
# Rules that must not fire.
ok = []
"#
    )
}

fn near_miss_case(id: &str) -> String {
    format!(
        r#"# A near miss: a bundle that looks like the problem but is not, where `{id}` must stay silent.
# Put its bundle next to this file as bundle.json or bundle.json.gz.
description = "TODO: one sentence, why this is not a `{id}` problem"
# The rules that do fire on this bundle, if any.
expect = []
ok = ["{id}"]
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_skeleton_compiles_and_passes_its_own_checks() {
        let engine = engine::runtime::new_engine(&engine::runtime::Limits::standard());
        let known = engine::rule::callable_names(&engine);
        let errors = engine::rule::lint_rule(
            &engine,
            &known,
            engine::rule::RuleOrigin::File(PathBuf::from("team/my-rule.rhai")),
            &rule_source("my-rule"),
        );
        assert!(errors.is_empty(), "{errors:#?}");
        for text in [positive_case("my-rule"), near_miss_case("my-rule")] {
            let case: crate::case::Case = toml::from_str(&text).expect("case.toml parses");
            assert!(
                case.expect.contains(&"my-rule".to_owned())
                    || case.ok.contains(&"my-rule".to_owned())
            );
        }
    }

    #[test]
    fn refuses_bad_ids_and_never_overwrites() {
        let dir = std::env::temp_dir().join(format!("ecs-autopsy-scaffold-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(new_rule("My_Rule", &dir, false).is_err());
        let written = new_rule("my-rule", &dir, false).expect("first time");
        assert_eq!(written.len(), 3);
        let err = new_rule("my-rule", &dir, false)
            .expect_err("second time")
            .to_string();
        assert!(err.contains("my-rule.rhai already exists"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
