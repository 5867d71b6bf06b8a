//! Rule files: loading, compiling once, and validating their metadata and docs.
//!
//! A rule is one Rhai file: `//!` doc comments, a `const RULE = #{…}` metadata map and a
//! `fn check(ev)` returning findings. Only `const` and `fn` items may appear at the top level.

use std::collections::BTreeSet;
use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rhai::{AST, Engine, Scope};
use serde::{Deserialize, Serialize};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The doc headings every rule has, in this order.
pub const DOC_HEADINGS: [&str; 5] = [
    "## What it means",
    "## Why it happens",
    "## Example evidence",
    "## How to fix",
    "## References",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

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
    /// The AWS API calls (IAM actions) whose evidence the rule reads.
    #[serde(default)]
    pub needs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleOrigin {
    /// Embedded in the binary from `rules/<file>`.
    Builtin(String),
    File(PathBuf),
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

/// The rules embedded in the binary.
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

/// Every `*.rhai` file directly inside `dir`, in file-name order.
pub fn rule_files(dir: &Path) -> Result<Vec<PathBuf>, RuleLoadError> {
    let entries = std::fs::read_dir(dir).map_err(|err| RuleLoadError::File {
        file: dir.display().to_string(),
        message: format!("cannot read rule directory: {err}"),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "rhai"))
        .collect();
    files.sort();
    Ok(files)
}

/// Loads every rule file directly inside `dir`, in file-name order.
pub fn load_dir(engine: &Engine, dir: &Path) -> (Vec<Rule>, Vec<RuleLoadError>) {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    let files = match rule_files(dir) {
        Ok(files) => files,
        Err(err) => return (rules, vec![err]),
    };
    for file in files {
        let source = match std::fs::read_to_string(&file) {
            Ok(source) => source,
            Err(err) => {
                errors.push(RuleLoadError::File {
                    file: file.display().to_string(),
                    message: format!("cannot read: {err}"),
                });
                continue;
            }
        };
        match compile_rule(engine, RuleOrigin::File(file), &source) {
            Ok(rule) => rules.push(rule),
            Err(mut rule_errors) => errors.append(&mut rule_errors),
        }
    }
    (rules, errors)
}

/// Adds `extra` rules to `rules`. A rule whose id is already present replaces the earlier
/// one; the replaced ids are returned so that the report can say so. Two extra rules with the
/// same id are an error.
pub fn merge_rules(rules: &mut Vec<Rule>, extra: Vec<Rule>) -> (Vec<String>, Vec<RuleLoadError>) {
    let mut replaced = Vec::new();
    let mut errors = Vec::new();
    let builtin_count = rules.len();
    for rule in extra {
        match rules.iter().position(|r| r.meta.id == rule.meta.id) {
            Some(index)
                if index < builtin_count
                    && matches!(rules[index].origin, RuleOrigin::Builtin(_)) =>
            {
                replaced.push(format!("{} (by {})", rule.meta.id, rule.origin));
                rules[index] = rule;
            }
            Some(index) => errors.push(RuleLoadError::DuplicateId {
                id: rule.meta.id.clone(),
                first: rules[index].origin.to_string(),
                second: rule.origin.to_string(),
            }),
            None => rules.push(rule),
        }
    }
    rules.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
    (replaced, errors)
}

/// The rules that run: the built-ins, then every rule directory, with the configuration's
/// disabled rules removed and its severity overrides applied.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Built-in rules replaced by team rules with the same id: `id (by path)`.
    pub replaced: Vec<String>,
    /// Rule ids the configuration disabled.
    pub disabled: Vec<String>,
    /// Every rule file, directory or configuration entry that could not be used.
    pub errors: Vec<RuleLoadError>,
}

impl RuleSet {
    /// What the report says about this rule set.
    pub fn notes(&self) -> crate::report::RuleNotes {
        crate::report::RuleNotes {
            replaced: self.replaced.clone(),
            disabled: self.disabled.clone(),
        }
    }
}

/// What `rules check` found.
#[derive(Debug, Clone, Default)]
pub struct CheckedRules {
    /// Rule files checked.
    pub files: usize,
    pub errors: Vec<RuleLoadError>,
    /// A directory could not be read.
    pub unreadable: bool,
}

/// Lints every rule file in `dirs` (the built-in rules when `dirs` is empty) without running
/// it, and reports ids used twice. Never stops at the first error.
pub fn check_rules(engine: &Engine, dirs: &[PathBuf]) -> CheckedRules {
    let known = callable_names(engine);
    let mut checked = CheckedRules::default();
    if dirs.is_empty() {
        for (name, source) in BUILTIN_RULES {
            checked.files += 1;
            checked.errors.extend(lint_rule(
                engine,
                &known,
                RuleOrigin::Builtin((*name).to_owned()),
                source,
            ));
        }
    }
    let mut ids: Vec<(String, PathBuf)> = Vec::new();
    for dir in dirs {
        let files = match rule_files(dir) {
            Ok(files) => files,
            Err(err) => {
                checked.unreadable = true;
                checked.errors.push(err);
                continue;
            }
        };
        for file in files {
            checked.files += 1;
            let source = match std::fs::read_to_string(&file) {
                Ok(source) => source,
                Err(err) => {
                    checked.errors.push(RuleLoadError::File {
                        file: file.display().to_string(),
                        message: format!("cannot read: {err}"),
                    });
                    continue;
                }
            };
            let errors = lint_rule(engine, &known, RuleOrigin::File(file.clone()), &source);
            if errors.is_empty()
                && let Some(stem) = file.file_stem()
            {
                let id = stem.to_string_lossy().into_owned();
                if let Some((_, first)) = ids.iter().find(|(seen, _)| *seen == id) {
                    checked.errors.push(RuleLoadError::DuplicateId {
                        id: id.clone(),
                        first: first.display().to_string(),
                        second: file.display().to_string(),
                    });
                }
                ids.push((id, file));
            }
            checked.errors.extend(errors);
        }
    }
    checked
}

/// Loads the built-in rules and the rules of `dirs` (each directory once, however often it is
/// named), then applies the configuration. Never stops at the first error.
pub fn load_rule_set(engine: &Engine, dirs: &[PathBuf], config: &crate::config::Config) -> RuleSet {
    let (mut rules, mut errors) = builtin_rules(engine);
    let mut seen = Vec::new();
    let mut extra = Vec::new();
    for dir in dirs {
        let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let (mut loaded, mut load_errors) = load_dir(engine, dir);
        extra.append(&mut loaded);
        errors.append(&mut load_errors);
    }
    let (replaced, mut merge_errors) = merge_rules(&mut rules, extra);
    errors.append(&mut merge_errors);

    let known: Vec<String> = rules.iter().map(|r| r.meta.id.clone()).collect();
    let unknown = |key: &str, id: &str| RuleLoadError::File {
        file: config.name(),
        message: format!("rules.{key}: no rule `{id}`{}", suggestion(id, &known)),
    };
    let mut disabled = Vec::new();
    for id in &config.disable {
        if known.contains(id) {
            disabled.push(id.clone());
        } else {
            errors.push(unknown("disable", id));
        }
    }
    rules.retain(|rule| !disabled.contains(&rule.meta.id));
    for (id, severity) in &config.severity {
        match rules.iter_mut().find(|rule| &rule.meta.id == id) {
            Some(rule) => rule.meta.severity = *severity,
            None if disabled.contains(id) => {}
            None => errors.push(unknown("severity", id)),
        }
    }
    RuleSet {
        rules,
        replaced,
        disabled,
        errors,
    }
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
        .map_err(|err| vec![at(&file, err.position(), err.err_type().to_string())])?;

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
    let stem = match &origin {
        RuleOrigin::Builtin(name) => Path::new(name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned()),
        RuleOrigin::File(path) => path.file_stem().map(|s| s.to_string_lossy().into_owned()),
    };
    if stem.as_deref() != Some(meta.id.as_str()) {
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

fn at(file: &str, position: rhai::Position, message: String) -> RuleLoadError {
    RuleLoadError::At {
        file: file.to_owned(),
        line: position.line().unwrap_or(1),
        column: position.position().unwrap_or(1),
        message,
    }
}

/// The names of every function a rule can call: the engine's (natives, getters, the standard
/// packages) and the language's own keyword functions. Built once per `rules check`.
pub fn callable_names(engine: &Engine) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = engine
        .gen_fn_signatures(true)
        .iter()
        .filter_map(|signature| signature.split('(').next())
        .map(str::to_owned)
        .collect();
    names.extend(
        [
            "print",
            "debug",
            "type_of",
            "eval",
            "Fn",
            "call",
            "curry",
            "is_shared",
            "is_def_var",
            "is_def_fn",
        ]
        .map(str::to_owned),
    );
    names
}

/// Everything `rules check` finds wrong with one rule file, without running it: load errors,
/// calls to functions that do not exist (`known` from [`callable_names`]) and the doc headings.
pub fn lint_rule(
    engine: &Engine,
    known: &BTreeSet<String>,
    origin: RuleOrigin,
    source: &str,
) -> Vec<RuleLoadError> {
    let file = origin.to_string();
    let Ok(ast) = engine.compile(source) else {
        return compile_rule(engine, origin, source)
            .err()
            .unwrap_or_default();
    };
    let mut errors = compile_rule(engine, origin, source)
        .err()
        .unwrap_or_default();

    let own: BTreeSet<&str> = ast.iter_functions().map(|f| f.name).collect();
    let mut unknown = Vec::new();
    ast.walk(&mut |path: &[rhai::ASTNode]| {
        // A call is an expression, or a statement of its own (`foo(x);`).
        let call = match path.last() {
            Some(
                rhai::ASTNode::Expr(
                    rhai::Expr::FnCall(call, position) | rhai::Expr::MethodCall(call, position),
                )
                | rhai::ASTNode::Stmt(rhai::Stmt::FnCall(call, position)),
            ) => Some((call, position)),
            _ => None,
        };
        if let Some((call, position)) = call {
            let name = call.name.as_str();
            let is_identifier = name.starts_with(|c: char| c.is_alphabetic() || c == '_');
            if is_identifier && !own.contains(name) && !known.contains(name) {
                unknown.push((*position, name.to_owned()));
            }
        }
        true
    });
    let candidates: Vec<String> = known
        .iter()
        .filter(|name| !name.contains('$'))
        .cloned()
        .chain(own.iter().map(|name| (*name).to_owned()))
        .collect();
    for (position, name) in unknown {
        errors.push(at(
            &file,
            position,
            format!(
                "unknown function `{name}`{}",
                suggestion(&name, &candidates)
            ),
        ));
    }

    if let Err(problem) = check_doc_headings(&doc_comment(source)) {
        errors.push(at(
            &file,
            rhai::Position::new(1, 1),
            format!("docs: {problem}"),
        ));
    }
    errors.sort_by_key(|error| match error {
        RuleLoadError::At { line, column, .. } => (*line, *column),
        _ => (usize::MAX, 0),
    });
    errors.dedup();
    errors
}

/// The leading `//!` comment block, without the markers.
pub fn doc_comment(source: &str) -> String {
    let mut lines = Vec::new();
    for line in source.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("//!") {
            lines.push(rest.strip_prefix(' ').unwrap_or(rest).trim_end().to_owned());
        } else if !(trimmed.is_empty() && lines.is_empty()) {
            break;
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
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

/// The text `explain` prints: title, metadata line and the rule's docs.
pub fn render_docs(rule: &Rule) -> String {
    let meta = &rule.meta;
    let mut out = format!("# {}: {}\n\n", meta.id, meta.title);
    let _ = write!(
        out,
        "severity: {} · category: {} · benign: {}{}\n\n",
        meta.severity,
        meta.category,
        if meta.benign { "yes" } else { "no" },
        if meta.needs.is_empty() {
            String::new()
        } else {
            format!(" · needs: {}", meta.needs.join(", "))
        }
    );
    out.push_str(&rule.docs);
    out
}

/// The rule table: id (linked to `<link_prefix><id>.md`), title and severity.
pub fn render_docs_index(rules: &[Rule], link_prefix: &str) -> String {
    let mut out = String::from("| rule | what it diagnoses | severity |\n|---|---|---|\n");
    for rule in rules {
        let link = format!("{link_prefix}{}.md", rule.meta.id);
        out.push_str(&table_row(rule, &link, None));
    }
    out
}

/// `| [`id`](link) | title (benign) | severity |`, and the source when given.
fn table_row(rule: &Rule, link: &str, source: Option<&RuleOrigin>) -> String {
    let benign = if rule.meta.benign { " (benign)" } else { "" };
    let source = source.map(|s| format!(" `{s}` |")).unwrap_or_default();
    format!(
        "| [`{id}`]({link}) | {title}{benign} | {severity} |{source}\n",
        id = rule.meta.id,
        title = rule.meta.title,
        severity = rule.meta.severity
    )
}

/// Every rule's docs in one Markdown document: a table of contents, then one section per
/// rule, its headings one level down.
pub fn render_docs_book(rules: &[Rule]) -> String {
    let mut out = String::from(
        "# Rules\n\n| rule | what it diagnoses | severity | source |\n|---|---|---|---|\n",
    );
    for rule in rules {
        let link = format!("#{}", rule.meta.id);
        out.push_str(&table_row(rule, &link, Some(&rule.origin)));
    }
    for rule in rules {
        let _ = write!(out, "\n<a id=\"{}\"></a>\n\n", rule.meta.id);
        let mut in_code = false;
        for line in render_docs(rule).lines() {
            if line.starts_with("```") {
                in_code = !in_code;
            }
            if !in_code && line.starts_with('#') {
                out.push('#');
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
