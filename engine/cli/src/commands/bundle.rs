//! `bundle import`, `bundle inspect`, `bundle scan`, `bundle redact`, `bundle upgrade` and
//! `bundle fetch`.

use std::path::{Path, PathBuf};

use ecs_autopsy::scan::ScanReport;

use crate::args::{Format, GlobalArgs};
use crate::commands::diagnose::refuse_partial_answer;
use crate::commands::{load_config, print_stdout, refuse_to_clobber, shown, write_bundle};

pub(crate) fn import(
    global: &GlobalArgs,
    inputs: &[PathBuf],
    output: &Path,
    force: bool,
) -> anyhow::Result<u8> {
    refuse_to_clobber(output, force)?;
    let imported = ecs_autopsy::input::import(inputs)?;
    global.messages().skipped(&imported.skipped);
    if imported.bundle.calls.is_empty() {
        return Err(anyhow::format_err!(
            "no AWS CLI output recognised in the inputs ({} file(s) skipped); nothing written",
            imported.skipped.len()
        ));
    }
    write_bundle(&imported.bundle, output)?;
    global.messages().note(format_args!(
        "wrote {} with {} call(s){}",
        shown(output),
        imported.bundle.calls.len(),
        if imported.skipped.is_empty() {
            String::new()
        } else {
            format!("; {} file(s) skipped", imported.skipped.len())
        }
    ));
    if imported.skipped.iter().any(|skip| skip.relevant) {
        refuse_partial_answer(global, &imported.skipped);
        return Ok(2);
    }
    Ok(0)
}

pub(crate) fn inspect(global: &GlobalArgs, input: &Path) -> anyhow::Result<u8> {
    let config = load_config(global)?;
    let input = ecs_autopsy::input::load(input, config.bundle)?;
    global.messages().skipped(&input.skipped);
    let summary = ecs_autopsy::inspect::summarize(&input.bundle);
    let text = match global.format {
        Format::Json => summary.render_json(),
        // HTML is refused before any command but diagnose and replay runs.
        Format::Text | Format::Markdown | Format::Html => summary.render_text(),
    };
    print_stdout(&text)?;
    if input.skipped_evidence() {
        refuse_partial_answer(global, &input.skipped);
        return Ok(2);
    }
    Ok(0)
}

pub(crate) fn scan(global: &GlobalArgs, input: &Path) -> anyhow::Result<u8> {
    let config = load_config(global)?;
    // A bundle, or a folder of AWS CLI outputs (imported, then scanned).
    let loaded = ecs_autopsy::input::load_whole(input, config.bundle)?;
    global.messages().skipped(&loaded.skipped);
    let report = ScanReport::new(&input.display().to_string(), &loaded.bundle);
    let text = match global.format {
        Format::Json => report.render_json(),
        // HTML is refused before any command but diagnose and replay runs.
        Format::Text | Format::Markdown | Format::Html => report.render_text(),
    };
    print_stdout(&text)?;
    if loaded.skipped_evidence() {
        refuse_partial_answer(global, &loaded.skipped);
        return Ok(2);
    }
    Ok(u8::from(!report.clean))
}

/// `bundle redact`: the redaction `record` applies, to any bundle or folder of AWS CLI outputs.
pub(crate) fn redact(
    global: &GlobalArgs,
    input: &Path,
    output: &Path,
    force: bool,
) -> anyhow::Result<u8> {
    refuse_to_clobber(output, force)?;
    let config = load_config(global)?;
    let loaded = ecs_autopsy::input::load_whole(input, config.bundle)?;
    global.messages().skipped(&loaded.skipped);
    let skipped_evidence = loaded.skipped_evidence();
    let skipped = loaded.skipped;
    let mut bundle = loaded.bundle;
    let before: u64 = bundle.manifest.redaction.counts.values().sum();
    recorder::redact::redact(&mut bundle);
    let after: u64 = bundle.manifest.redaction.counts.values().sum();
    // The redactor and the scan share one list: what is left would be a redactor bug.
    let left = recorder::redact::scan(&bundle);
    write_bundle(&bundle, output)?;
    global.messages().note(format_args!(
        "redacted {} value(s) of {}, written to {}",
        after.saturating_sub(before),
        input.display(),
        shown(output)
    ));
    if !left.is_empty() {
        global.messages().error(format_args!(
            "{} credential-shaped value(s) are still in the output; run `ecs-autopsy bundle scan` on it",
            left.len()
        ));
        return Ok(2);
    }
    if skipped_evidence {
        refuse_partial_answer(global, &skipped);
        return Ok(2);
    }
    Ok(0)
}

pub(crate) fn upgrade(
    global: &GlobalArgs,
    input: &Path,
    output: &Path,
    force: bool,
) -> anyhow::Result<u8> {
    refuse_to_clobber(output, force)?;
    let config = load_config(global)?;
    let bundle = recorder::Bundle::read_with(input, config.bundle)?;
    let from = bundle.manifest.format_version;
    let bundle = recorder::bundle::upgrade(bundle);
    write_bundle(&bundle, output)?;
    let what = if from == bundle.manifest.format_version {
        format!("already format version {from}; written unchanged")
    } else {
        format!(
            "upgraded from format version {from} to {}",
            bundle.manifest.format_version
        )
    };
    global.messages().note(format_args!(
        "{}: {what}, to {}",
        input.display(),
        shown(output)
    ));
    Ok(0)
}

/// `bundle fetch`: an object the recorder stored, written as stored once it reads as a bundle.
pub(crate) fn fetch(
    global: &GlobalArgs,
    url: &str,
    output: &Path,
    force: bool,
    store: &crate::args::StoreArgs,
) -> anyhow::Result<u8> {
    let Some(parsed) = crate::commands::store::s3_url(url)? else {
        anyhow::bail!("{url}: not an S3 URL (s3://BUCKET/KEY)");
    };
    refuse_to_clobber(output, force)?;
    let config = load_config(global)?;
    let bytes = crate::commands::store::get(store, &parsed)?;
    // Never keep something this version could not replay under a bundle's name.
    let bundle = recorder::Bundle::from_stored_for_diagnosis(&bytes, url, config.bundle)?;
    if crate::commands::is_stdout(output) {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&bytes)?;
        stdout.flush()?;
    } else {
        std::fs::write(output, &bytes)
            .map_err(|err| anyhow::format_err!("cannot write {}: {err}", output.display()))?;
    }
    global.messages().note(format_args!(
        "fetched {url} ({} bytes, {} call(s)) to {}",
        bytes.len(),
        bundle.calls.len(),
        shown(output)
    ));
    Ok(0)
}
