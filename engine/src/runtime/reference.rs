//! The evidence API's documentation lives where each function is registered: [`Api`] registers
//! a function together with its parameter names and doc text, so that `rules definitions`
//! (editor autocompletion) and `docs/rhai-api.md` ([`markdown`]) are generated from exactly
//! what the engine registers, and cannot drift from it.

use std::fmt::Write as _;

use rhai::{Engine, FuncRegistration, RhaiNativeFunc, Variant};
use serde_json::Value;

/// Registers functions with their docs. Methods name their first parameter after the type
/// registered last with [`Api::ty`].
pub(crate) struct Api<'e> {
    engine: &'e mut Engine,
    receiver: &'static str,
    /// The types registered so far: name, receiver name and docs.
    pub(crate) types: Vec<TypeDoc>,
}

/// A registered type's name, the name its methods give their receiver, and its docs.
#[derive(Debug, Clone)]
pub(crate) struct TypeDoc {
    pub(crate) name: String,
    pub(crate) receiver: &'static str,
    pub(crate) doc: String,
}

/// `/// line` comments, as Rhai's metadata wants them.
fn comment(doc: &str) -> String {
    doc.lines()
        .map(|line| {
            if line.is_empty() {
                "///".to_owned()
            } else {
                format!("/// {line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A Rust type name as rules see it: `string`, `int`, `array`, `Task`…
fn display_type(engine: &Engine, rust: &str) -> String {
    let bare = rust
        .trim()
        .trim_start_matches("&mut ")
        .trim_start_matches('&')
        .trim();
    // A fallible function returns its success type.
    if let Some(inner) = bare.strip_prefix("core::result::Result<") {
        let ok = inner.split(", ").next().unwrap_or(inner);
        return display_type(engine, ok);
    }
    match bare {
        "i64" => return "int".to_owned(),
        "f64" => return "float".to_owned(),
        "bool" => return "bool".to_owned(),
        "()" => return "()".to_owned(),
        _ => {}
    }
    let generic = bare.split('<').next().unwrap_or(bare);
    if generic.ends_with("BTreeMap") {
        return "map".to_owned();
    }
    if generic.ends_with("Vec") {
        return "array".to_owned();
    }
    let mapped = engine.map_type_name(bare);
    let last = mapped.rsplit("::").next().unwrap_or(mapped);
    match last {
        "Dynamic" => "any".to_owned(),
        "ImmutableString" | "String" | "str" => "string".to_owned(),
        other => other.to_owned(),
    }
}

impl<'e> Api<'e> {
    pub(crate) fn new(engine: &'e mut Engine) -> Api<'e> {
        Api {
            engine,
            receiver: "value",
            types: Vec::new(),
        }
    }

    /// Registers a handle type under `name`; `receiver` names it in method signatures.
    pub(crate) fn ty<T: Variant + Clone>(
        &mut self,
        name: &str,
        receiver: &'static str,
        doc: &str,
    ) -> &mut Self {
        self.engine.register_type_with_name::<T>(name);
        self.types.push(TypeDoc {
            name: name.to_owned(),
            receiver,
            doc: doc.to_owned(),
        });
        self.receiver = receiver;
        self
    }

    /// A property getter: `name` is the property, optionally with its type (`exitCode: int or
    /// ()`) where the Rust type does not say; `doc` is what it holds.
    pub(crate) fn get<A: 'static, const N: usize, const X: bool, R, const F: bool, FUNC>(
        &mut self,
        name: &str,
        doc: &str,
        func: FUNC,
    ) -> &mut Self
    where
        R: Variant + Clone,
        FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        let (name, returns) = name
            .split_once(':')
            .map_or((name, None), |(name, ty)| (name.trim(), Some(ty.trim())));
        self.register(FuncRegistration::new_getter(name), &[], returns, doc, func)
    }

    /// A function or method: `signature` is `name(param, …)`, naming the parameters after the
    /// receiver (for a method) or all of them, and optionally ` -> type` where the Rust type
    /// does not say.
    pub(crate) fn func<A: 'static, const N: usize, const X: bool, R, const F: bool, FUNC>(
        &mut self,
        signature: &str,
        doc: &str,
        func: FUNC,
    ) -> &mut Self
    where
        R: Variant + Clone,
        FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        let (signature, returns) = signature
            .split_once(" -> ")
            .map_or((signature, None), |(signature, ty)| (signature, Some(ty)));
        let (name, params) = signature
            .split_once('(')
            .map_or((signature, ""), |(name, rest)| {
                (name, rest.trim_end_matches(')'))
            });
        let names: Vec<&str> = params
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        self.register(
            FuncRegistration::new(name),
            &names,
            returns.map(str::trim),
            doc,
            func,
        )
    }

    /// Registers with the parameters' names and types, the return type (`returns` where the
    /// Rust type does not say it) and the docs.
    fn register<A: 'static, const N: usize, const X: bool, R, const F: bool, FUNC>(
        &mut self,
        registration: FuncRegistration,
        names: &[&str],
        returns: Option<&str>,
        doc: &str,
        func: FUNC,
    ) -> &mut Self
    where
        R: Variant + Clone,
        FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        let mut info = self.params_info::<A, N, X, R, F, FUNC>(names);
        if let (Some(returns), Some(last)) = (returns, info.last_mut()) {
            returns.clone_into(last);
        }
        registration
            .with_params_info(info)
            .with_comments([comment(doc)])
            .register_into_engine(self.engine, func);
        self
    }

    /// `name: type` for each parameter, then the return type.
    fn params_info<A: 'static, const N: usize, const X: bool, R, const F: bool, FUNC>(
        &self,
        names: &[&str],
    ) -> Vec<String>
    where
        R: Variant + Clone,
        FUNC: RhaiNativeFunc<A, N, X, R, F>,
    {
        let types = FUNC::param_names();
        let receiver = types.len() > names.len();
        let mut info: Vec<String> = types
            .iter()
            .enumerate()
            .map(|(index, rust)| {
                let name = if receiver {
                    if index == 0 {
                        self.receiver
                    } else {
                        names.get(index - 1).copied().unwrap_or("_")
                    }
                } else {
                    names.get(index).copied().unwrap_or("_")
                };
                format!("{name}: {}", display_type(self.engine, rust))
            })
            .collect();
        info.push(display_type(self.engine, FUNC::return_type_name()));
        info
    }
}

const INTRO: &str = r#"# The evidence API

<!-- Generated by `cargo xtask docs` from the functions engine/src/runtime registers. Do not edit. -->

Every rule's `check(ev)` receives `ev`, the evidence of one bundle, and returns an array of
findings. Everything a rule can read is below; nothing else is reachable: no files, no
environment variables, no network, no clock.

Conventions:
- Properties are spelled as in the AWS API (`stoppedReason`, `exitCode`).
- A type written `T?` is a `T` or `()` (absent).
- An absent string reads as `""`; an absent number, boolean, timestamp or object as `()`.
- A timestamp is an RFC 3339 string in UTC with milliseconds (`2026-11-24T09:15:02.123Z`).
- Nested AWS structures that the engine does not model read as maps and arrays, keyed as in AWS.
- Helpers that take a string or a number also accept `()` and then return `()` or `false`, so
  `matches(c.reason, "…")` works when a container has no reason.
- `x.path("field")` cites a field as evidence: a `Fact` holding the field's place in the bundle
  and its value.
- Regular expressions use Rust `regex` syntax: no look-around; `(?i)` ignores case.

`ecs-autopsy rules definitions` writes the same API as Rhai definition files for editors;
docs/writing-rules.md is the tutorial.
"#;

/// `docs/rhai-api.md`: every type, property and function a rule can use, with its docs, from
/// the engine's own registration metadata.
pub fn markdown() -> String {
    let mut engine = Engine::new_raw();
    let type_docs = super::api::register(&mut engine);
    super::helpers::register(&mut engine);
    let metadata: Value = engine
        .gen_fn_metadata_to_json(false)
        .ok()
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or(Value::Null);
    let mut functions: Vec<&Value> = metadata["functions"]
        .as_array()
        .map(|all| all.iter().collect())
        .unwrap_or_default();
    // Rhai sorts by name and arity only; overloads need a stable order too.
    functions.sort_by_key(|f| {
        (
            f["name"].as_str().unwrap_or_default().to_owned(),
            f["numParams"].as_u64(),
            f["signature"].as_str().unwrap_or_default().to_owned(),
        )
    });

    let mut out = String::from(INTRO);

    let signature = |function: &Value, method: bool| -> String {
        let name = function["name"].as_str().unwrap_or_default();
        let params: Vec<String> = function["params"]
            .as_array()
            .map(|params| {
                params
                    .iter()
                    .map(|p| {
                        format!(
                            "{}: {}",
                            p["name"].as_str().unwrap_or("_"),
                            p["type"].as_str().unwrap_or("any")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let returns = function["returnType"]
            .as_str()
            .filter(|r| !r.is_empty())
            .unwrap_or("()");
        if method {
            let receiver = params
                .first()
                .and_then(|p| p.split(':').next())
                .unwrap_or("value");
            format!(
                "{receiver}.{name}({}) -> {returns}",
                params.get(1..).unwrap_or_default().join(", ")
            )
        } else {
            format!("{name}({}) -> {returns}", params.join(", "))
        }
    };
    let first_type = |function: &Value| -> String {
        function["params"][0]["type"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let doc_text = |function: &Value| -> String {
        function["docComments"]
            .as_array()
            .map(|comments| {
                comments
                    .iter()
                    .filter_map(Value::as_str)
                    .flat_map(str::lines)
                    .map(|line| {
                        line.trim_start_matches("///")
                            .strip_prefix(' ')
                            .unwrap_or(line.trim_start_matches("///"))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    };
    // Overloads taking `()` are conveniences for absent values (see the conventions).
    let documented = |function: &&Value| {
        function["name"]
            .as_str()
            .is_some_and(|name| name.starts_with(|c: char| c.is_alphabetic()))
            && !function["params"]
                .as_array()
                .is_some_and(|params| params.iter().any(|p| p["type"] == "()"))
    };

    // A method takes its type as the first parameter, named after the type's receiver.
    let method_of = |function: &Value, ty: &TypeDoc| {
        first_type(function) == ty.name && function["params"][0]["name"] == ty.receiver
    };
    for ty in &type_docs {
        let _ = write!(out, "\n## {}\n\n{}\n", ty.name, ty.doc);
        let members: Vec<&Value> = functions
            .iter()
            .copied()
            .filter(documented)
            .filter(|f| method_of(f, ty))
            .collect();
        let properties: Vec<&Value> = members
            .iter()
            .copied()
            .filter(|f| f["name"].as_str().is_some_and(|n| n.starts_with("get$")))
            .collect();
        if !properties.is_empty() {
            out.push_str("\n| property | type | |\n|---|---|---|\n");
            for property in properties {
                let name = property["name"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_start_matches("get$");
                let _ = writeln!(
                    out,
                    "| `{name}` | {} | {} |",
                    property["returnType"].as_str().unwrap_or("any"),
                    doc_text(property).replace('\n', " ").replace('|', "\\|")
                );
            }
        }
        for method in members
            .iter()
            .filter(|f| f["name"].as_str().is_some_and(|n| !n.starts_with("get$")))
        {
            let _ = write!(
                out,
                "\n#### `{}`\n\n{}\n",
                signature(method, true),
                doc_text(method)
            );
        }
    }

    out.push_str("\n## Functions\n");
    for function in functions
        .iter()
        .copied()
        .filter(documented)
        .filter(|f| !type_docs.iter().any(|ty| method_of(f, ty)))
    {
        let _ = write!(
            out,
            "\n#### `{}`\n\n{}\n",
            signature(function, false),
            doc_text(function)
        );
    }
    out
}

/// Functions registered without docs: must be empty (tested).
pub fn undocumented() -> Vec<String> {
    let mut engine = Engine::new_raw();
    super::api::register(&mut engine);
    super::helpers::register(&mut engine);
    let metadata: Value = engine
        .gen_fn_metadata_to_json(false)
        .ok()
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or(Value::Null);
    metadata["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| {
            let unit_overload = f["params"]
                .as_array()
                .is_some_and(|params| params.iter().any(|p| p["type"] == "()"));
            let name = f["name"].as_str().unwrap_or_default();
            // Operators and `to_string` (string interpolation) need no docs.
            let plumbing = name == "==" || name == "to_string";
            !unit_overload && !plumbing && f["docComments"].as_array().is_none_or(Vec::is_empty)
        })
        .map(|f| f["signature"].as_str().unwrap_or_default().to_owned())
        .collect()
}
