//! `rules list|new|test|check|docs|definitions` and `explain`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use ecs_autopsy::{case, config, rule_files, scaffold};
use engine::rule::{self, RuleSet};
use engine::runtime::{self, new_engine};

use crate::args::{Format, GlobalArgs};
use crate::commands::{Setup, load_config, print_stdout, rule_dirs};

pub(crate) fn list(global: &GlobalArgs) -> anyhow::Result<u8> {
    let setup = Setup::load(global, &[])?;
    let loaded = &setup.rules;
    let text = match global.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = loaded
                .rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.meta.id, "title": r.meta.title, "severity": r.meta.severity,
                        "category": r.meta.category, "benign": r.meta.benign, "origin": r.origin.to_string(),
                        "checks": r.meta.checks,
                    })
                })
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&rows)?)
        }
        // HTML is refused before any command but diagnose and replay runs.
        Format::Text | Format::Markdown | Format::Html => {
            let width = loaded
                .rules
                .iter()
                .map(|r| r.meta.id.len())
                .max()
                .unwrap_or(0);
            let mut out = String::new();
            for rule in &loaded.rules {
                let benign = if rule.meta.benign {
                    " (benign)"
                } else if rule.meta.checks_configuration() {
                    " (lint)"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "{:<width$}  {:<7}  {}{benign}  [{}]",
                    rule.meta.id,
                    rule.meta.severity.to_string(),
                    rule.meta.title,
                    rule.origin
                );
            }
            if !loaded.disabled.is_empty() {
                let _ = writeln!(
                    out,
                    "\ndisabled by {}: {}",
                    setup.config.name(),
                    loaded.disabled.join(", ")
                );
            }
            out
        }
    };
    print_stdout(&text)?;
    Ok(if loaded.errors.is_empty() { 0 } else { 2 })
}

pub(crate) fn new(
    global: &GlobalArgs,
    id: &str,
    dir: Option<&Path>,
    example: bool,
) -> anyhow::Result<u8> {
    let config = load_config(global)?;
    let dir = dir
        .map(Path::to_path_buf)
        .or_else(|| rule_dirs(global, &config).into_iter().next())
        .unwrap_or_else(|| PathBuf::from("."));
    let written = scaffold::new_rule(id, &dir, example)?;
    let messages = global.messages();
    for path in &written {
        messages.note(format_args!("created {}", path.display()));
    }
    let builtin = rule::builtin_rules(&new_engine(&config.limits))
        .0
        .iter()
        .any(|r| r.meta.id == id);
    if builtin {
        messages.note(format_args!(
            "note: a built-in rule is called `{id}`; yours replaces it wherever its directory is loaded"
        ));
    }
    if example {
        messages.note(format_args!(
            "next: write the rule, then run `ecs-autopsy rules test {}`",
            dir.display()
        ));
    } else {
        messages.note(format_args!(
            "next: put a bundle in each case folder, then run `ecs-autopsy rules test {}`",
            dir.display()
        ));
    }
    Ok(0)
}

pub(crate) fn test(global: &GlobalArgs, dirs: &[PathBuf], update: bool) -> anyhow::Result<u8> {
    let setup = Setup::load(global, dirs)?;
    let roots = if dirs.is_empty() {
        rule_dirs(global, &setup.config)
    } else {
        dirs.to_vec()
    };
    if roots.is_empty() {
        return Err(anyhow::format_err!(
            "nothing to test: name a directory (`ecs-autopsy rules test team-rules`) or list rule directories in {}",
            config::FILE_NAME
        ));
    }
    let mut cases = Vec::new();
    for root in &roots {
        cases.extend(case::find_cases(root)?);
    }
    cases.dedup();
    if cases.is_empty() {
        return Err(anyhow::format_err!(
            "no case folders (with {}) under {}",
            case::CASE_FILE,
            roots
                .iter()
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    let mut out = String::new();
    let mut rows = Vec::new();
    let (mut passed, mut failed, mut gaps, mut updated) = (0, 0, 0, 0);
    for dir in &cases {
        let outcome = case::run_case(dir, &setup.rules, update);
        updated += usize::from(outcome.updated);
        let status = if !outcome.failures.is_empty() {
            failed += 1;
            "FAIL"
        } else if outcome.known_gap.is_some() {
            gaps += 1;
            "todo"
        } else {
            passed += 1;
            "ok  "
        };
        rows.push(serde_json::json!({
            "dir": dir.display().to_string(),
            "status": match status {
                "FAIL" => "failed",
                "todo" => "known-gap",
                _ => "passed",
            },
            "failures": outcome.failures,
            "known_gap": outcome.known_gap,
            "gap": outcome.gap,
            "updated": outcome.updated,
            "change": outcome.change,
        }));
        let _ = writeln!(out, "{status}  {}", dir.display());
        if let Some(reason) = &outcome.known_gap {
            let _ = writeln!(out, "      known gap: {reason}");
        }
        for failure in outcome.failures.iter().chain(&outcome.gap) {
            for line in failure.lines() {
                let _ = writeln!(out, "      {line}");
            }
        }
        if let Some(change) = &outcome.change {
            for line in change.lines() {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    let _ = write!(
        out,
        "\n{} case(s), {} rule(s): {passed} passed, {failed} failed",
        cases.len(),
        setup.rules.rules.len()
    );
    if gaps > 0 {
        let _ = write!(out, ", {gaps} known gap(s)");
    }
    if update {
        let _ = write!(out, ", {updated} case(s) updated");
    }
    out.push('\n');
    if global.format == Format::Json {
        let report = serde_json::json!({
            "schema": "ecs-autopsy-rules-test",
            "schema_version": 1,
            "tool_version": env!("CARGO_PKG_VERSION"),
            "rules": setup.rules.rules.len(),
            "rule_errors": setup.rules.errors.iter().map(load_error_json).collect::<Vec<_>>(),
            "cases": rows,
            "passed": passed,
            "failed": failed,
            "known_gaps": gaps,
            "updated": updated,
        });
        out = format!("{}\n", serde_json::to_string_pretty(&report)?);
    }
    print_stdout(&out)?;
    Ok(if setup.rules.errors.is_empty() {
        u8::from(failed > 0)
    } else {
        2
    })
}

pub(crate) fn check(global: &GlobalArgs, dirs: &[PathBuf]) -> anyhow::Result<u8> {
    let config = load_config(global)?;
    let engine = new_engine(&config.limits);
    let dirs = if dirs.is_empty() {
        rule_dirs(global, &config)
    } else {
        dirs.to_vec()
    };
    let checked = if dirs.is_empty() {
        rule::check_builtin(&engine)
    } else {
        let read: Vec<rule::RuleDir> = dirs.iter().map(|dir| rule_files::read_dir(dir)).collect();
        rule::check_sources(&engine, &read)
    };
    let mut out = String::new();
    if global.format == Format::Json {
        let report = serde_json::json!({
            "schema": "ecs-autopsy-rules-check",
            "schema_version": 1,
            "tool_version": env!("CARGO_PKG_VERSION"),
            "files": checked.files,
            "unreadable": checked.unreadable,
            "errors": checked.errors.iter().map(load_error_json).collect::<Vec<_>>(),
        });
        out = format!("{}\n", serde_json::to_string_pretty(&report)?);
    }
    for error in checked
        .errors
        .iter()
        .filter(|_| global.format != Format::Json)
    {
        let _ = writeln!(out, "{error}");
    }
    if global.format == Format::Json {
        print_stdout(&out)?;
        return Ok(if checked.unreadable {
            2
        } else {
            u8::from(!checked.errors.is_empty())
        });
    }
    let _ = writeln!(
        out,
        "{}checked {} rule file(s): {}",
        if checked.errors.is_empty() { "" } else { "\n" },
        checked.files,
        match checked.errors.len() {
            0 => "no errors".to_owned(),
            1 => "1 error".to_owned(),
            n => format!("{n} errors"),
        }
    );
    print_stdout(&out)?;
    Ok(if checked.unreadable {
        2
    } else {
        u8::from(!checked.errors.is_empty())
    })
}

pub(crate) fn docs(global: &GlobalArgs, output: Option<&Path>) -> anyhow::Result<u8> {
    let setup = Setup::load(global, &[])?;
    let rules = &setup.rules.rules;
    match output {
        None => print_stdout(&rule::render_docs_book(rules))?,
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let mut files = vec![(dir.join("README.md"), rule::render_docs_index(rules, ""))];
            for rule in rules {
                files.push((
                    dir.join(format!("{}.md", rule.meta.id)),
                    rule::render_docs(rule),
                ));
            }
            for (path, text) in &files {
                std::fs::write(path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            global.messages().note(format_args!(
                "wrote {} file(s) to {}",
                files.len(),
                dir.display()
            ));
        }
    }
    Ok(if setup.rules.errors.is_empty() { 0 } else { 2 })
}

pub(crate) fn definitions(global: &GlobalArgs, output: &Path) -> anyhow::Result<u8> {
    let config = load_config(global)?;
    let files = runtime::definition_files(&new_engine(&config.limits));
    std::fs::create_dir_all(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    for (name, text) in &files {
        let path = output.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    global.messages().note(format_args!(
        "wrote {} definition file(s) to {}; point your editor's Rhai language server at it",
        files.len(),
        output.display()
    ));
    Ok(0)
}

pub(crate) fn explain(global: &GlobalArgs, id: &str) -> anyhow::Result<u8> {
    let setup = Setup::load(global, &[])?;
    let loaded: &RuleSet = &setup.rules;
    let Some(rule) = loaded.rules.iter().find(|r| r.meta.id == id) else {
        // Only a close name is worth suggesting.
        let ids: Vec<String> = loaded.rules.iter().map(|r| r.meta.id.clone()).collect();
        return Err(anyhow::format_err!(
            "no rule `{id}`{} (`ecs-autopsy rules list` shows all)",
            rule::suggestion(id, &ids)
        ));
    };
    print_stdout(&rule::render_docs(rule))?;
    Ok(0)
}

/// A rule that could not be loaded, as `rules check --format json` and `rules test --format
/// json` give it: `file`, `line` and `column` when known, `message`, and `text`, the line the
/// text output prints.
fn load_error_json(error: &rule::RuleLoadError) -> serde_json::Value {
    let text = error.to_string();
    match error {
        rule::RuleLoadError::At {
            file,
            line,
            column,
            message,
        } => serde_json::json!({
            "file": file, "line": line, "column": column, "message": message, "text": text,
        }),
        rule::RuleLoadError::File { file, message } => serde_json::json!({
            "file": file, "line": null, "column": null, "message": message, "text": text,
        }),
        rule::RuleLoadError::DuplicateId { second, .. } => serde_json::json!({
            "file": second, "line": null, "column": null, "message": text, "text": text,
        }),
    }
}
