//! Embeds every `rules/*.rhai` file into the binary as the built-in rule set.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let rules_dir = manifest_dir.join("..").join("rules");
    println!("cargo::rerun-if-changed={}", rules_dir.display());

    let mut files: Vec<PathBuf> = std::fs::read_dir(&rules_dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "rhai"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();

    let mut out = String::from("pub(crate) static BUILTIN_RULES: &[(&str, &str)] = &[\n");
    for file in files {
        let name = file
            .file_name()
            .expect("a file")
            .to_string_lossy()
            .into_owned();
        let absolute = file.canonicalize().expect("rule file exists");
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            absolute.display().to_string()
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    std::fs::write(out_dir.join("builtin_rules.rs"), out).expect("OUT_DIR is writable");
}
