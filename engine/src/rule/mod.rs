//! Rule files: compiling once, and validating their metadata and docs.
//!
//! A rule is one Rhai file: `//!` doc comments, a `const RULE = #{…}` metadata map and a
//! `fn check(ev)` returning findings. Only `const` and `fn` items may appear at the top level.
//! The engine never reads a rule file: the built-in rules are embedded at build time, and the
//! CLI reads team rule files and hands over their text (`RuleSource`). `set` is the rule set a
//! diagnosis runs, `lint` what `rules check` reports and `docs` what `explain` prints.

mod docs;
mod lint;
mod set;

use std::fmt;
use std::path::{Path, PathBuf};

use rhai::{AST, Engine, Scope};
use serde::{Deserialize, Serialize};

pub use docs::{render_docs, render_docs_book, render_docs_index};
pub use lint::{CheckedRules, callable_names, check_builtin, check_sources, lint_rule};
pub use set::{RuleConfig, RuleDir, RuleSet, RuleSource};

use crate::model::Severity;
use crate::runtime::library::doc_comment;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The doc headings every rule has, in this order.
pub const DOC_HEADINGS: [&str; 5] = [
    "## What it means",
    "## Why it happens",
    "## Example evidence",
    "## How to fix",
    "## References",
];

/// The `RULE` map. Unknown keys are an error, so a typo cannot silently become a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// The failure-mode id; equals `id` for built-in rules.
    pub category: String,
    /// Expected platform behaviour: reported, never as a problem.
    pub benign: bool,
    #[serde(default)]
    pub since: Option<String>,
    /// What the rule's findings are: `cause` (the default: why a task stopped, ranked against
    /// the other causes), `contributing` (made a failure worse or likelier, never its root
    /// cause) or `policy` (a breach of a team's policy, whatever else happened).
    #[serde(default)]
    pub kind: RuleKind,
    /// The AWS API calls (IAM actions) whose evidence the rule reads.
    #[serde(default)]
    pub needs: Vec<String>,
    /// What configuration the rule checks, when it is a configuration check: `task-definition`,
    /// `service` or both. Such a rule runs under `ecs-autopsy lint`, with no stopped task
    /// needed, and not in a diagnosis; a rule without `checks` diagnoses stopped tasks.
    #[serde(default)]
    pub checks: Vec<Check>,
}

/// What a configuration rule checks (`RULE.checks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    TaskDefinition,
    Service,
}

impl RuleMeta {
    /// Whether the rule is a configuration check, run by `lint` rather than by a diagnosis.
    pub fn checks_configuration(&self) -> bool {
        !self.checks.is_empty()
    }
}

/// The `kind` of a rule's findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleKind {
    #[default]
    Cause,
    Contributing,
    Policy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleOrigin {
    /// Embedded in the binary from `rules/<file>`.
    Builtin(String),
    File(PathBuf),
}

impl RuleOrigin {
    /// The file name without `.rhai`: what the rule's id must be.
    pub fn stem(&self) -> Option<String> {
        let path = match self {
            RuleOrigin::Builtin(name) => Path::new(name),
            RuleOrigin::File(path) => path.as_path(),
        };
        path.file_stem().map(|s| s.to_string_lossy().into_owned())
    }
}

impl fmt::Display for RuleOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleOrigin::Builtin(name) => write!(f, "rules/{name}"),
            RuleOrigin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub meta: RuleMeta,
    /// The `//!` documentation, without the comment markers.
    pub docs: String,
    pub origin: RuleOrigin,
    pub ast: AST,
}

/// Why a rule file could not be loaded. Loading keeps going and reports every one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleLoadError {
    #[error("{file}:{line}:{column}: {message}")]
    At {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("duplicate rule id `{id}` in {first} and {second}")]
    DuplicateId {
        id: String,
        first: String,
        second: String,
    },
}

/// The rules embedded in the binary, compiled with `engine`.
/// How many built-in rules the binary carries.
pub fn builtin_count() -> usize {
    BUILTIN_RULES.len()
}

pub fn builtin_rules(engine: &Engine) -> (Vec<Rule>, Vec<RuleLoadError>) {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (name, source) in BUILTIN_RULES {
        match compile_rule(engine, RuleOrigin::Builtin((*name).to_owned()), source) {
            Ok(rule) => rules.push(rule),
            Err(mut rule_errors) => errors.append(&mut rule_errors),
        }
    }
    (rules, errors)
}

/// `; did you mean `x`?` for the closest of `candidates`, or nothing when none is close.
pub fn suggestion(id: &str, candidates: &[String]) -> String {
    candidates
        .iter()
        .map(|candidate| (edit_distance(candidate, id), candidate))
        .filter(|(distance, _)| *distance <= id.len().max(3) / 3)
        .min()
        .map(|(_, candidate)| format!("; did you mean `{candidate}`?"))
        .unwrap_or_default()
}

/// Levenshtein distance, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

/// Compiles one rule and validates its shape and metadata. Returns every problem found, each
/// with a line and column; a syntax error stops there, since nothing after it can be read.
pub fn compile_rule(
    engine: &Engine,
    origin: RuleOrigin,
    source: &str,
) -> Result<Rule, Vec<RuleLoadError>> {
    let file = origin.to_string();
    let ast = engine
        .compile(source)
        .map_err(|err| vec![at(&file, err.position(), compile_error(err.err_type()))])?;

    let mut errors = Vec::new();
    for statement in ast.statements() {
        let is_const = matches!(statement, rhai::Stmt::Var(_, flags, _) if flags.contains(rhai::ASTFlags::CONSTANT));
        if !is_const {
            errors.push(at(
                &file,
                statement.position(),
                "only `const` and `fn` items are allowed at the top level of a rule".to_owned(),
            ));
        }
    }
    if !ast
        .iter_functions()
        .any(|f| f.name == "check" && f.params.len() == 1)
    {
        errors.push(at(
            &file,
            rhai::Position::new(1, 1),
            "no `fn check(ev)`: every rule defines check(ev) returning an array of findings"
                .to_owned(),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let rule_at = ast
        .statements()
        .iter()
        .find_map(|statement| match statement {
            rhai::Stmt::Var(var, _, position) if var.0.name == "RULE" => Some(*position),
            _ => None,
        })
        .unwrap_or_else(|| rhai::Position::new(1, 1));
    let mut scope = Scope::new();
    if let Err(err) = engine.run_ast_with_scope(&mut scope, &ast) {
        return Err(vec![at(
            &file,
            err.position(),
            format!("evaluating the top level failed: {err}"),
        )]);
    }
    let Some(meta) = scope.get("RULE") else {
        return Err(vec![at(
            &file,
            rule_at,
            "no `const RULE = #{…}` metadata map".to_owned(),
        )]);
    };
    let meta: RuleMeta = rhai::serde::from_dynamic(meta).map_err(|err| {
        // Rhai reports serde errors as parse errors; only the serde message is useful here.
        let text = err.to_string();
        let text = text.strip_prefix("Syntax error: ").unwrap_or(&text);
        vec![at(
            &file,
            rule_at,
            format!("invalid `RULE` metadata: {text}"),
        )]
    })?;

    let mut problems = Vec::new();
    if !is_kebab_case(&meta.id) {
        problems.push(format!("rule id `{}` is not kebab-case", meta.id));
    }
    if !is_kebab_case(&meta.category) {
        problems.push(format!("category `{}` is not kebab-case", meta.category));
    }
    if meta.title.trim().is_empty() {
        problems.push("`title` is empty".to_owned());
    }
    if origin.stem().as_deref() != Some(meta.id.as_str()) {
        problems.push(format!(
            "rule id `{}` does not match the file name (expected {}.rhai)",
            meta.id, meta.id
        ));
    }
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|p| at(&file, rule_at, format!("invalid `RULE` metadata: {p}")))
            .collect());
    }

    Ok(Rule {
        meta,
        docs: doc_comment(source),
        origin,
        ast,
    })
}

/// A compile error for a rule author: Rhai's words, and for a library that does not exist the
/// ones that do.
fn compile_error(error: &rhai::ParseErrorType) -> String {
    match error {
        rhai::ParseErrorType::ModuleUndefined(name) => {
            let families: Vec<String> = crate::runtime::library::families()
                .into_iter()
                .map(str::to_owned)
                .collect();
            let near = suggestion(name, &families);
            if near.is_empty() {
                format!(
                    "unknown rule library `{name}`: the libraries are {}",
                    families.join(", ")
                )
            } else {
                format!("unknown rule library `{name}`{near}")
            }
        }
        other => other.to_string(),
    }
}

fn at(file: &str, position: rhai::Position, message: String) -> RuleLoadError {
    RuleLoadError::At {
        file: file.to_owned(),
        line: position.line().unwrap_or(1),
        column: position.position().unwrap_or(1),
        message,
    }
}

/// Checks that the docs have the five headings, in order, each with some text.
pub fn check_doc_headings(docs: &str) -> Result<(), String> {
    let found: Vec<&str> = docs
        .lines()
        .filter(|line| line.starts_with("## "))
        .collect();
    if found != DOC_HEADINGS {
        return Err(format!(
            "doc headings must be exactly {DOC_HEADINGS:?} in that order, found {found:?}"
        ));
    }
    for (index, heading) in DOC_HEADINGS.iter().enumerate() {
        let start = docs.find(heading).unwrap_or(0) + heading.len();
        let end = DOC_HEADINGS
            .get(index + 1)
            .and_then(|next| docs.find(next))
            .unwrap_or(docs.len());
        if docs[start..end].trim().is_empty() {
            return Err(format!("section `{heading}` is empty"));
        }
    }
    Ok(())
}

pub fn is_kebab_case(text: &str) -> bool {
    !text.is_empty()
        && text.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && text.starts_with(|c: char| c.is_ascii_lowercase())
}
