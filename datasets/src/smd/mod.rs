//! The SMD and ASD layouts (OmniAnomaly's Server Machine Dataset and InterFusion's Application
//! Server Dataset), which share one folder layout:
//!
//! ```text
//! train/<name>.txt                 N rows of comma-separated values, no header, no labels
//! test/<name>.txt                  M rows, same columns
//! test_label/<name>.txt            M lines of 0/1
//! interpretation_label/<name>.txt  lines `start-end:d1,d2,...` (0-based test rows, 1-based dims)
//! anomaly_type.csv                 ASD only: `dataset,anomaly_segment,anomaly_type`
//! ```
//!
//! The two differ in the interpretation end convention (SMD end-exclusive, ASD end-inclusive)
//! and the sampling step (SMD one row a minute, ASD one row per five minutes).

mod segments;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::error::{DatasetError, Result};
use crate::model::{Dataset, Incident, Layout, Series, Warning};
use crate::numtext::{parse_labels, parse_matrix, read_text};
use segments::{AnomalyTypes, disagreements, parse_anomaly_types, parse_segments};

/// What differs between SMD and ASD.
#[derive(Debug, Clone, Copy)]
struct Convention {
    layout: Layout,
    /// Synthesised sampling step, milliseconds.
    step_ms: i64,
    /// Whether `start-end` in interpretation files includes `end`.
    end_inclusive: bool,
    /// Whether `anomaly_type.csv` gives incident kinds.
    anomaly_types: bool,
}

const SMD: Convention = Convention {
    layout: Layout::Smd,
    step_ms: 60_000,
    end_inclusive: false,
    anomaly_types: false,
};

const ASD: Convention = Convention {
    layout: Layout::Asd,
    step_ms: 300_000,
    end_inclusive: true,
    anomaly_types: true,
};

/// Loads an SMD folder (`train/ test/ test_label/ interpretation_label/`).
///
/// One [`Series`] per machine, named by the file stem (`machine-1-2`) and sorted by name. Its
/// rows are the train rows followed straight on by the test rows; columns are `dim_1 … dim_k`
/// (k = 38 for SMD; the metric names are not published); `train_end` is the number of train
/// rows.
///
/// * **Timestamps are synthesised**: SMD has none, so row `i` (counted over train and test)
///   gets `i × 60 s` after the Unix epoch — one row a minute, as the source describes.
/// * **Labels**: `point_labels` is `false` for every train row (the source does not label
///   train; it is *not* guaranteed anomaly-free) followed by `test_label`, the ground truth.
/// * **Incidents** come from `interpretation_label`, whose `start-end` are 0-based test rows
///   with `end` **exclusive**; each becomes an inclusive timestamp window with its 0-based
///   `channels`. Where a segment disagrees with the runs of `test_label` (in this copy,
///   `machine-1-3` 22923-23019, and a run at test rows 18460..=18470 that has no segment), the
///   labels are kept and a [`Warning`] is recorded and logged.
/// * A machine without an interpretation file loads with no incidents and a warning.
pub fn load_smd(dir: &Path) -> Result<Dataset> {
    load_layout(dir, &SMD)
}

/// Loads an ASD folder: SMD's layout (see [`load_smd`]) with three differences.
///
/// * One row per **5 minutes**: synthesised timestamps are `i × 300 s` after the Unix epoch.
/// * Interpretation `start-end` ends are **inclusive** (rows `start ..= end`); they match
///   `test_label` exactly here, and any disagreement is warned about like SMD's.
/// * Incidents get their `kind` (`metric`, `temporal`, `metric-temporal`) from
///   `anomaly_type.csv`; a segment it does not list, or a missing file, gives a warning and no
///   kind. Columns are `dim_1 … dim_19`.
pub fn load_asd(dir: &Path) -> Result<Dataset> {
    load_layout(dir, &ASD)
}

fn load_layout(dir: &Path, convention: &Convention) -> Result<Dataset> {
    let names = machine_names(dir, convention)?;
    let mut warnings = Vec::new();
    let types = if convention.anomaly_types {
        load_anomaly_types(dir, &mut warnings)?
    } else {
        None
    };
    let mut series = Vec::with_capacity(names.len());
    for name in &names {
        let machine = load_machine(dir, name, convention, types.as_ref(), &mut warnings)?;
        series.push(machine);
    }
    let dataset_name = dir.file_name().map_or_else(
        || convention.layout.to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    tracing::info!(
        layout = %convention.layout,
        path = %dir.display(),
        series = series.len(),
        "loaded {} machines",
        series.len()
    );
    Ok(Dataset {
        name: dataset_name,
        layout: convention.layout,
        source: dir.display().to_string(),
        series,
        warnings,
    })
}

/// Stems of `train/*.txt`, checked against `test/*.txt` so that a lone file is an error.
fn machine_names(dir: &Path, convention: &Convention) -> Result<BTreeSet<String>> {
    let train = txt_stems(&dir.join("train"))?;
    let test = txt_stems(&dir.join("test"))?;
    if let Some(lone) = train.symmetric_difference(&test).next() {
        let (path, needed) = if train.contains(lone) {
            (dir.join("train"), dir.join("test"))
        } else {
            (dir.join("test"), dir.join("train"))
        };
        return Err(DatasetError::MissingFile {
            path: path.join(format!("{lone}.txt")),
            needed: needed.join(format!("{lone}.txt")),
        });
    }
    if train.is_empty() {
        return Err(DatasetError::format(
            dir.join("train"),
            "holds no `<name>.txt` files",
            format!(
                "an {} folder needs train/<name>.txt and test/<name>.txt per machine",
                convention.layout
            ),
        ));
    }
    Ok(train)
}

fn txt_stems(dir: &Path) -> Result<BTreeSet<String>> {
    let entries = std::fs::read_dir(dir).map_err(|e| DatasetError::io(dir, e))?;
    let mut stems = BTreeSet::new();
    for entry in entries {
        let path = entry.map_err(|e| DatasetError::io(dir, e))?.path();
        if path.is_file()
            && path.extension().is_some_and(|e| e == "txt")
            && let Some(stem) = path.file_stem()
        {
            stems.insert(stem.to_string_lossy().into_owned());
        }
    }
    Ok(stems)
}

fn load_anomaly_types(dir: &Path, warnings: &mut Vec<Warning>) -> Result<Option<AnomalyTypes>> {
    let path = dir.join("anomaly_type.csv");
    if !path.is_file() {
        warn(
            warnings,
            &path,
            None,
            "not found; incidents get no kind".to_string(),
        );
        return Ok(None);
    }
    let text = read_text(
        &path,
        "write the header `dataset,anomaly_segment,anomaly_type` and one line per segment",
    )?;
    parse_anomaly_types(&path, &text).map(Some)
}

fn warn(warnings: &mut Vec<Warning>, path: &Path, series: Option<&str>, message: String) {
    tracing::warn!(path = %path.display(), series = series.unwrap_or(""), "{message}");
    warnings.push(Warning {
        path: path.display().to_string(),
        series: series.map(str::to_string),
        message,
    });
}

fn part(dir: &Path, folder: &str, name: &str) -> PathBuf {
    dir.join(folder).join(format!("{name}.txt"))
}

fn load_machine(
    dir: &Path,
    name: &str,
    convention: &Convention,
    types: Option<&AnomalyTypes>,
    warnings: &mut Vec<Warning>,
) -> Result<Series> {
    let matrix_hint = "each row holds the comma-separated metric values of one time step";
    let train_path = part(dir, "train", name);
    let mut values = Vec::new();
    let train = parse_matrix(
        &train_path,
        &read_text(&train_path, matrix_hint)?,
        &mut values,
    )?;
    let test_path = part(dir, "test", name);
    let test = parse_matrix(
        &test_path,
        &read_text(&test_path, matrix_hint)?,
        &mut values,
    )?;
    if test.cols != train.cols {
        return Err(DatasetError::ColumnMismatch {
            path: test_path,
            other: train_path,
            expected: train.cols,
            got: test.cols,
        });
    }

    let label_path = part(dir, "test_label", name);
    if !label_path.is_file() {
        return Err(DatasetError::MissingFile {
            path: test_path,
            needed: label_path,
        });
    }
    let test_labels = parse_labels(
        &label_path,
        &read_text(&label_path, "write one 0/1 label per test row")?,
    )?;
    if test_labels.len() != test.rows {
        return Err(DatasetError::LabelCount {
            path: label_path,
            data: test_path,
            labels: test_labels.len(),
            rows: test.rows,
        });
    }

    let offset = train.rows;
    let step = convention.step_ms;
    let interpretation_path = part(dir, "interpretation_label", name);
    let mut incidents = Vec::new();
    if interpretation_path.is_file() {
        let text = read_text(
            &interpretation_path,
            "write one `start-end:d1,d2,...` segment per line",
        )?;
        let segments = parse_segments(
            &interpretation_path,
            &text,
            convention.end_inclusive,
            test.rows,
            test.cols,
        )?;
        for message in disagreements(&segments, &test_labels) {
            warn(warnings, &interpretation_path, Some(name), message);
        }
        for seg in segments {
            let kind = match types {
                Some(types) => {
                    let kind = types.get(&(name.to_string(), seg.first, seg.last)).cloned();
                    if kind.is_none() {
                        warn(
                            warnings,
                            &dir.join("anomaly_type.csv"),
                            Some(name),
                            format!(
                                "no anomaly type for segment {:?} (line {} of {})",
                                seg.text,
                                seg.line,
                                interpretation_path.display()
                            ),
                        );
                    }
                    kind
                }
                None => None,
            };
            incidents.push(Incident {
                start: (offset + seg.first) as i64 * step,
                end: (offset + seg.last) as i64 * step,
                kind,
                severity: None,
                channels: seg.channels,
            });
        }
    } else {
        warn(
            warnings,
            &interpretation_path,
            Some(name),
            "not found; the machine has point labels but no incidents".to_string(),
        );
    }

    let rows = train.rows + test.rows;
    values.shrink_to_fit(); // a no-op unless the files had blank lines
    let values = Array2::from_shape_vec((rows, train.cols), values).map_err(|e| {
        DatasetError::format(
            &test_path,
            format!("cannot build the value matrix: {e}"),
            "report this as a bug",
        )
    })?;
    let mut point_labels = vec![false; train.rows];
    point_labels.extend_from_slice(&test_labels);
    let columns = (1..=train.cols).map(|k| format!("dim_{k}")).collect();
    let timestamps = (0..rows).map(|i| i as i64 * step).collect();
    let mut series = Series::new(name, timestamps, columns, values);
    series.incidents = incidents;
    series.point_labels = Some(point_labels);
    series.train_end = Some(train.rows);
    Ok(series)
}
