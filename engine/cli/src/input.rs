//! What `replay` and `bundle inspect` accept: a bundle file, a folder of AWS CLI outputs, or one
//! AWS CLI output file.

use std::path::{Path, PathBuf};

use recorder::Bundle;
use recorder::bundle::{LoadError, ReadLimits};
use recorder::import::Skipped;

/// A loaded input and the files an import could not use.
#[derive(Debug)]
pub struct Input {
    pub bundle: Bundle,
    pub skipped: Vec<Skipped>,
}

impl Input {
    /// Whether a file that may have held evidence was skipped: the diagnosis may be missing its
    /// answer, so the run must not exit 0.
    pub fn skipped_evidence(&self) -> bool {
        self.skipped.iter().any(|skip| skip.relevant)
    }
}

/// Loads a bundle file (plain or gzip) for diagnosis (`Bundle::read_for_diagnosis`: typed views
/// only), or imports a directory of AWS CLI outputs, or one AWS CLI output file, in memory.
pub fn load(path: &Path, limits: ReadLimits) -> anyhow::Result<Input> {
    load_as(path, limits, Bundle::read_for_diagnosis)
}

/// `load`, keeping every response whole (`Bundle::read_with`): for the commands that write a
/// bundle back or read every byte of it (`bundle redact`, `bundle scan`), never for diagnosis.
pub fn load_whole(path: &Path, limits: ReadLimits) -> anyhow::Result<Input> {
    load_as(path, limits, Bundle::read_with)
}

fn load_as(
    path: &Path,
    limits: ReadLimits,
    read: fn(&Path, ReadLimits) -> Result<Bundle, LoadError>,
) -> anyhow::Result<Input> {
    if path.is_dir() {
        let imported = recorder::import::import(&[path.to_path_buf()], reproducible_time())?;
        if imported.bundle.calls.is_empty() {
            return Err(anyhow::format_err!(
                "{}: no AWS CLI output found in this directory ({} file(s) skipped)",
                path.display(),
                imported.skipped.len()
            ));
        }
        return Ok(Input {
            bundle: imported.bundle,
            skipped: imported.skipped,
        });
    }
    match read(path, limits) {
        Ok(bundle) => Ok(Input {
            bundle,
            skipped: Vec::new(),
        }),
        // Not a bundle: perhaps one AWS CLI output, given as it was saved.
        Err(LoadError::NotABundle { reason, .. }) => {
            let imported = recorder::import::import(&[path.to_path_buf()], reproducible_time())?;
            match imported.skipped.first() {
                None => Ok(Input {
                    bundle: imported.bundle,
                    skipped: Vec::new(),
                }),
                Some(skip) => Err(anyhow::format_err!(
                    "{}: neither an ecs-autopsy bundle ({reason}) nor the output of an AWS CLI command ecs-autopsy reads ({})",
                    path.display(),
                    skip.reason
                )),
            }
        }
        Err(err) => Err(err.into()),
    }
}

/// Imports files and directories into one bundle.
pub fn import(paths: &[PathBuf]) -> anyhow::Result<recorder::import::Imported> {
    Ok(recorder::import::import(paths, reproducible_time())?)
}

/// The manifest time of an import: `SOURCE_DATE_EPOCH` when set, else `None`, and then the
/// latest time the outputs hold, so that the same files always give the same report.
pub fn reproducible_time() -> Option<String> {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())?;
    Some(recorder::time::Timestamp::from_millis(seconds.saturating_mul(1000)).to_string())
}

/// The manifest time of a live recording: now, or `SOURCE_DATE_EPOCH` when set.
pub fn recorded_at_now() -> String {
    reproducible_time()
        .unwrap_or_else(|| recorder::time::Timestamp::from_millis(now_millis()).to_string())
}

/// Milliseconds since the Unix epoch, by the machine's clock.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
