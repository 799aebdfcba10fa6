//! The Numenta Anomaly Benchmark layout: `data/<category>/<file>.csv` (header
//! `timestamp,value`) and `labels/combined_windows.json` (`{"<category>/<file>.csv":
//! [[start, end], ...]}`, inclusive windows).
//!
//! The windows file defines the corpus: every key is loaded as one series named by the key, so
//! NAB's `combined_windows_tiny.json` loads just its two files. Rows keep file order; NAB has
//! duplicate timestamps and a step back, which give warnings.

use std::path::{Component, Path};

use crate::error::{DatasetError, Result};
use crate::generic::{GenericOptions, push_order_warning, read_series_file};
use crate::labels::{attach_labels, read_labels_json};
use crate::model::{Dataset, Layout, Warning};

/// Loads a NAB folder with its own `labels/combined_windows.json`.
pub fn load_nab(dir: &Path) -> Result<Dataset> {
    load_nab_with_windows(dir, &dir.join("labels").join("combined_windows.json"))
}

/// Loads a NAB folder with the windows of `windows_file` (for example NAB's
/// `combined_windows_tiny.json`). Series are the file's keys, sorted by name.
///
/// Window ends carry microseconds in NAB (`2014-04-10 07:15:00.000000`); they are read to the
/// millisecond, which matches the whole-second CSV timestamps. Data files that the windows file
/// does not name are skipped with one [`Warning`] listing them.
pub fn load_nab_with_windows(dir: &Path, windows_file: &Path) -> Result<Dataset> {
    let data_dir = dir.join("data");
    if !data_dir.is_dir() {
        return Err(DatasetError::format(
            dir,
            "no data/ folder",
            "point at the NAB root, the folder that holds data/<category>/*.csv and labels/combined_windows.json",
        ));
    }
    let bytes = std::fs::read(windows_file).map_err(|e| DatasetError::io(windows_file, e))?;
    let (mut keys, rows) = read_labels_json(windows_file, &bytes)?;
    keys.sort();

    let options = GenericOptions {
        timestamp_column: Some("timestamp".to_owned()),
        value_columns: Some(vec!["value".to_owned()]),
        labels: None,
    };
    let mut warnings = Vec::new();
    let mut series = Vec::with_capacity(keys.len());
    for key in &keys {
        let relative = Path::new(key);
        let is_plain = relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
        let path = data_dir.join(relative);
        if !is_plain || !path.is_file() {
            return Err(DatasetError::BadLabels {
                path: windows_file.to_path_buf(),
                message: format!("key {key:?} names no file under {}", data_dir.display()),
                hint: "keys are paths under data/ like \"realKnownCause/nyc_taxi.csv\"; fix the key or restore the data file".to_owned(),
            });
        }
        let one = read_series_file(&path, key, &options)?;
        push_order_warning(&mut warnings, &path, &one);
        series.push(one);
    }
    if let Some(warning) = unlisted_files(&data_dir, &keys, windows_file)? {
        warnings.push(warning);
    }

    let name = dir
        .file_name()
        .map_or_else(|| "nab".to_owned(), |n| n.to_string_lossy().into_owned());
    let mut dataset = Dataset {
        name,
        layout: Layout::Nab,
        source: dir.display().to_string(),
        series,
        warnings,
    };
    attach_labels(&mut dataset, rows, windows_file)?;
    Ok(dataset)
}

/// One warning naming the data files (`<category>/<file>.csv`) that the windows file leaves out.
fn unlisted_files(
    data_dir: &Path,
    keys: &[String],
    windows_file: &Path,
) -> Result<Option<Warning>> {
    let mut unlisted = Vec::new();
    for category in std::fs::read_dir(data_dir).map_err(|e| DatasetError::io(data_dir, e))? {
        let category = category.map_err(|e| DatasetError::io(data_dir, e))?.path();
        if !category.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&category).map_err(|e| DatasetError::io(&category, e))? {
            let file = file.map_err(|e| DatasetError::io(&category, e))?.path();
            if file.extension().is_none_or(|e| e != "csv") {
                continue;
            }
            if let (Some(c), Some(f)) = (category.file_name(), file.file_name()) {
                let key = format!("{}/{}", c.to_string_lossy(), f.to_string_lossy());
                if keys.binary_search(&key).is_err() {
                    unlisted.push(key);
                }
            }
        }
    }
    if unlisted.is_empty() {
        return Ok(None);
    }
    unlisted.sort();
    let message = format!(
        "{} data file(s) are not in the windows file and were skipped: {}",
        unlisted.len(),
        unlisted.join(", ")
    );
    let path = windows_file.display().to_string();
    tracing::warn!(path = %path, "{message}");
    Ok(Some(Warning {
        path,
        series: None,
        message,
    }))
}
