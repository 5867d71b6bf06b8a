//! `bundle scan`: the redaction audit a person runs before attaching a bundle to a ticket.
//!
//! What counts as credential-shaped is `recorder::redact`'s own list, so a bundle that
//! `record` wrote with redaction on always scans clean, and one recorded with `--no-redact`
//! lists every value redaction would have replaced. The JSON output is versioned with
//! `SCAN_SCHEMA` and documented in `docs/bundle-format.md`.

use std::fmt::Write as _;

use recorder::Bundle;
use recorder::redact::Exposure;
use serde::Serialize;

/// The version of `bundle scan --format json`. Fields are only ever added.
pub const SCAN_SCHEMA: u32 = 1;

#[derive(Debug, Serialize)]
pub struct ScanReport {
    pub schema: u32,
    pub file: String,
    /// No credential-shaped value found.
    pub clean: bool,
    /// `manifest.redaction.enabled`: whether the bundle says it was redacted when written.
    pub redacted: bool,
    pub calls: usize,
    pub exposures: Vec<Exposure>,
}

impl ScanReport {
    pub fn new(file: &str, bundle: &Bundle) -> ScanReport {
        let exposures = recorder::redact::scan(bundle);
        ScanReport {
            schema: SCAN_SCHEMA,
            file: file.to_owned(),
            clean: exposures.is_empty(),
            redacted: bundle.manifest.redaction.enabled,
            calls: bundle.calls.len(),
            exposures,
        }
    }

    pub fn render_text(&self) -> String {
        let mut out = String::new();
        if self.clean {
            let _ = writeln!(
                out,
                "{}: no credentials or secret settings found in {} call(s) and the manifest",
                self.file, self.calls
            );
            return out;
        }
        let _ = writeln!(
            out,
            "{}: {} value(s) that may be credentials; remove them before sharing the bundle{}",
            self.file,
            self.exposures.len(),
            if self.redacted {
                ""
            } else {
                " (it was written without redaction: `ecs-autopsy bundle redact FILE -o OUT` redacts it)"
            }
        );
        let width = self
            .exposures
            .iter()
            .map(|e| e.kind.len())
            .max()
            .unwrap_or(0);
        for exposure in &self.exposures {
            let _ = writeln!(
                out,
                "  {:<width$}  {}  {}",
                exposure.kind, exposure.path, exposure.preview
            );
        }
        out
    }

    pub fn render_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}
