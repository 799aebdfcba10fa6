//! Writes a generated dataset as a folder the generic loader reads back identically:
//! `<series>.csv` (`timestamp,value`), `labels.csv` (`series,start,end,kind,severity`) and
//! `synth.json` (the config, to regenerate it).
//!
//! The CSV conventions are the generic layout's own ([`crate::generic::write_csv`],
//! [`crate::labels::write_labels_csv`]): RFC 3339 UTC timestamps with milliseconds
//! (`2026-01-05T00:05:00.000Z`), values in Rust's shortest round-trip formatting, NaN as an
//! empty cell. Each file is written to a temporary name in the folder and renamed into place,
//! so a reader never sees a half-written file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::config::SynthConfig;
use crate::error::{DatasetError, Result};
use crate::generic::write_csv;
use crate::labels::{LabelRow, write_labels_csv};
use crate::model::{Dataset, Series};

/// Name of the labels file beside the series.
pub const SYNTH_LABELS_FILE: &str = "labels.csv";
/// Name of the config file beside the series.
pub const SYNTH_CONFIG_FILE: &str = "synth.json";

/// Writes `dataset` (made by [`super::generate`] from `config`) into `dir`, creating it.
///
/// Existing files of the same names are replaced; other files in `dir` are left alone.
pub fn write_synth(dataset: &Dataset, config: &SynthConfig, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
    for series in &dataset.series {
        check_name(dir, series)?;
    }
    for series in &dataset.series {
        let path = dir.join(format!("{}.csv", series.name));
        replace_atomic(&path, |tmp| write_csv(series, tmp))?;
    }
    let rows: Vec<LabelRow> = dataset
        .series
        .iter()
        .flat_map(|s| {
            s.incidents.iter().map(|incident| LabelRow {
                series: s.name.clone(),
                incident: incident.clone(),
            })
        })
        .collect();
    let labels_path = dir.join(SYNTH_LABELS_FILE);
    replace_atomic(&labels_path, |tmp| write_labels_csv(&rows, tmp))?;
    let config_path = dir.join(SYNTH_CONFIG_FILE);
    let mut json = serde_json::to_string_pretty(config)
        .map_err(|e| DatasetError::format(&config_path, e.to_string(), "this is a bug in vigil"))?;
    json.push('\n');
    replace_atomic(&config_path, |tmp| {
        std::fs::File::create(tmp)
            .and_then(|mut f| f.write_all(json.as_bytes()))
            .map_err(|e| DatasetError::io(tmp, e))
    })?;
    tracing::info!(dir = %dir.display(), series = dataset.series.len(), "wrote synthetic dataset");
    Ok(())
}

fn check_name(dir: &Path, series: &Series) -> Result<()> {
    let name = &series.name;
    let usable = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && name != "labels"
        && name != "synth";
    if usable {
        Ok(())
    } else {
        Err(DatasetError::format(
            dir,
            format!("series name {name:?} cannot be a file name here"),
            "name series with letters, digits, '_', '-' and '.', not starting with '.', and not `labels` or `synth`",
        ))
    }
}

/// Writes with `write` to a temporary name in the same folder, then renames it over `path`.
fn replace_atomic(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp: PathBuf = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = write(&tmp)
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| DatasetError::io(path, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
