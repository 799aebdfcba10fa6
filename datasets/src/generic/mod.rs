//! The generic layout: a `.csv` or `.parquet` file (or a folder of them) with a timestamp
//! column and one or more value columns, plus an optional labels file.
//!
//! Each file is one [`Series`] named by its file stem whose channels are its value columns.
//! polars reads the bytes; cells are then parsed here so every error names the exact 1-based
//! data row and column.

mod csv;
mod parquet;

use std::path::{Path, PathBuf};

use crate::error::{DatasetError, Result};
use crate::labels::{attach_labels, read_labels};
use crate::model::{Dataset, Layout, Series, Warning};

pub(crate) use self::csv::push_csv_field;
pub use self::csv::write_csv;
pub use self::parquet::write_parquet;

/// How to read a generic CSV or Parquet file.
#[derive(Debug, Clone, Default)]
pub struct GenericOptions {
    /// The timestamp column. Without it: `timestamp`, else the single column named like
    /// `time`, `ts`, `date`, `datetime` or `ds` (any case).
    pub timestamp_column: Option<String>,
    /// The value columns, in this order. Without it: every column except the timestamp.
    pub value_columns: Option<Vec<String>>,
    /// A labels file (CSV or JSON, see [`crate::labels::read_labels`]). Without it a folder's own
    /// `labels.csv` or `labels.json` is used, when there is one.
    pub labels: Option<PathBuf>,
}

/// Column names that are taken for the timestamp when no column is named `timestamp`.
const TIMESTAMP_NAMES: [&str; 8] = [
    "timestamp",
    "time",
    "ts",
    "date",
    "datetime",
    "ds",
    "_time",
    "@timestamp",
];

/// Labels files that a folder may hold beside its data files.
const LABEL_FILE_NAMES: [&str; 2] = ["labels.csv", "labels.json"];

/// Loads a `.csv` or `.parquet` file, or a folder of them, as a [`Layout::Generic`] dataset.
///
/// A folder's series are sorted by name (the file stem); its `labels.csv` / `labels.json` is the
/// labels file unless [`GenericOptions::labels`] names one, and is not read as data. Rows keep
/// file order: duplicate or backward timestamps give a [`Warning`], not an error.
pub fn load_generic(path: &Path, options: &GenericOptions) -> Result<Dataset> {
    let metadata = std::fs::metadata(path).map_err(|e| DatasetError::io(path, e))?;
    let (files, folder_labels) = if metadata.is_dir() {
        list_folder(path)?
    } else {
        (vec![path.to_path_buf()], None)
    };

    let mut warnings = Vec::new();
    let mut series = Vec::with_capacity(files.len());
    for file in &files {
        let name = file_stem(file);
        let one = read_series_file(file, &name, options)?;
        push_order_warning(&mut warnings, file, &one);
        series.push(one);
    }
    series.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = series.windows(2).find(|pair| pair[0].name == pair[1].name) {
        return Err(DatasetError::format(
            path,
            format!("two files give the series name {:?}", pair[0].name),
            "a series is named by its file stem, so keep one of name.csv and name.parquet",
        ));
    }

    let name = path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    let mut dataset = Dataset {
        name,
        layout: Layout::Generic,
        source: path.display().to_string(),
        series,
        warnings,
    };
    if let Some(labels_path) = options.labels.clone().or(folder_labels) {
        let rows = read_labels(&labels_path)?;
        attach_labels(&mut dataset, rows, &labels_path)?;
    }
    Ok(dataset)
}

/// Reads one data file as a series named `name`, choosing the reader by extension.
pub(crate) fn read_series_file(
    path: &Path,
    name: &str,
    options: &GenericOptions,
) -> Result<Series> {
    match extension(path).as_deref() {
        Some("csv") => csv::read_csv(path, name, options),
        Some("parquet" | "pq") => parquet::read_parquet(path, name, options),
        _ => Err(DatasetError::format(
            path,
            "not a .csv or .parquet file",
            "give a .csv or .parquet file (or a folder of them), or name another layout with --layout",
        )),
    }
}

/// Data files of a folder (sorted) and its labels file, if any.
fn list_folder(dir: &Path) -> Result<(Vec<PathBuf>, Option<PathBuf>)> {
    let mut files = Vec::new();
    let mut labels = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| DatasetError::io(dir, e))? {
        let path = entry.map_err(|e| DatasetError::io(dir, e))?.path();
        if !path.is_file() {
            continue;
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase());
        if file_name
            .as_deref()
            .is_some_and(|n| LABEL_FILE_NAMES.contains(&n))
        {
            labels.push(path);
        } else if matches!(extension(&path).as_deref(), Some("csv" | "parquet" | "pq")) {
            files.push(path);
        }
    }
    files.sort();
    labels.sort();
    if files.is_empty() {
        return Err(DatasetError::format(
            dir,
            "the folder holds no .csv or .parquet files",
            "put one data file per series in the folder, or point at a single file",
        ));
    }
    if labels.len() > 1 {
        return Err(DatasetError::format(
            dir,
            "the folder holds both labels.csv and labels.json",
            "keep one of them, or choose one with --labels",
        ));
    }
    Ok((files, labels.pop()))
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

/// Refuses a frame with no rows, then picks its timestamp and value columns (CSV and Parquet
/// share this step). Returns the column names with the chosen indices into them.
pub(crate) fn resolve_frame_columns<'a>(
    path: &Path,
    frame: &'a polars::prelude::DataFrame,
    options: &GenericOptions,
) -> Result<(Vec<&'a str>, usize, Vec<usize>)> {
    if frame.height() == 0 {
        return Err(DatasetError::HeaderOnly {
            path: path.to_path_buf(),
        });
    }
    let names: Vec<&str> = frame
        .get_column_names()
        .iter()
        .map(|n| n.as_str())
        .collect();
    let (timestamp_index, value_indices) = resolve_columns(path, &names, options)?;
    Ok((names, timestamp_index, value_indices))
}

/// Picks the timestamp column and the value columns out of a header.
/// Returns their indices into `names`.
pub(crate) fn resolve_columns(
    path: &Path,
    names: &[&str],
    options: &GenericOptions,
) -> Result<(usize, Vec<usize>)> {
    let found = || {
        names
            .iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let timestamp = match &options.timestamp_column {
        Some(wanted) => names.iter().position(|n| n == wanted).ok_or_else(|| {
            let near = names.iter().find(|n| n.eq_ignore_ascii_case(wanted));
            DatasetError::MissingColumn {
                path: path.to_path_buf(),
                wanted: wanted.clone(),
                found: found(),
                hint: match near {
                    Some(near) => format!("column names are case-sensitive: pass --timestamp-column {near:?}"),
                    None => "pass the timestamp column's name as it appears in the header with --timestamp-column".to_owned(),
                },
            }
        })?,
        None => match names.iter().position(|n| *n == "timestamp") {
            Some(i) => i,
            None => {
                let candidates: Vec<usize> = (0..names.len())
                    .filter(|&i| TIMESTAMP_NAMES.iter().any(|t| names[i].eq_ignore_ascii_case(t)))
                    .collect();
                match candidates[..] {
                    [one] => one,
                    _ => {
                        return Err(DatasetError::MissingColumn {
                            path: path.to_path_buf(),
                            wanted: "timestamp".to_owned(),
                            found: found(),
                            hint: if candidates.is_empty() {
                                "rename the time column to `timestamp`, or pass its name with --timestamp-column".to_owned()
                            } else {
                                let names: Vec<&str> = candidates.iter().map(|&i| names[i]).collect();
                                format!("several columns could be the timestamp ({}); pick one with --timestamp-column", names.join(", "))
                            },
                        });
                    }
                }
            }
        },
    };
    let values = match &options.value_columns {
        Some(wanted) => wanted
            .iter()
            .map(|column| {
                names.iter().position(|n| n == column).ok_or_else(|| {
                    DatasetError::MissingValueColumn {
                        path: path.to_path_buf(),
                        column: column.clone(),
                        found: found(),
                    }
                })
            })
            .collect::<Result<Vec<_>>>()?,
        None => (0..names.len()).filter(|&i| i != timestamp).collect(),
    };
    if values.is_empty() {
        return Err(DatasetError::format(
            path,
            format!(
                "no value columns besides the timestamp column {:?}",
                names[timestamp]
            ),
            "add at least one column of numbers",
        ));
    }
    Ok((timestamp, values))
}

/// Parses one value cell. Empty cells and `NaN`, `null`, `NA`, `N/A`, `none` (any case) are
/// missing (NaN); `inf`/`-inf` are kept. `None` means the cell is not a number.
#[inline]
pub(crate) fn parse_value(cell: &str) -> Option<f64> {
    if let Ok(value) = cell.parse::<f64>() {
        return Some(value);
    }
    let trimmed = cell.trim();
    if trimmed.is_empty()
        || ["null", "na", "n/a", "none"]
            .iter()
            .any(|m| trimmed.eq_ignore_ascii_case(m))
    {
        return Some(f64::NAN);
    }
    trimmed.parse::<f64>().ok()
}

/// Adds the duplicate/backward timestamp warning of a freshly read series, if it has one.
pub(crate) fn push_order_warning(warnings: &mut Vec<Warning>, path: &Path, series: &Series) {
    if let Some(warning) = crate::timestamp::order_warning(
        &path.display().to_string(),
        &series.name,
        &series.timestamps,
    ) {
        warnings.push(warning);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(names: &[&str], options: &GenericOptions) -> Result<(usize, Vec<usize>)> {
        resolve_columns(Path::new("f.csv"), names, options)
    }

    #[test]
    fn timestamp_column_is_found_by_name() {
        let none = GenericOptions::default();
        assert_eq!(
            resolve(&["value", "timestamp"], &none).ok(),
            Some((1, vec![0]))
        );
        assert_eq!(
            resolve(&["Time", "a", "b"], &none).ok(),
            Some((0, vec![1, 2]))
        );
        assert_eq!(resolve(&["ds", "y"], &none).ok(), Some((0, vec![1])));
        let named = GenericOptions {
            timestamp_column: Some("when".into()),
            value_columns: Some(vec!["b".into()]),
            ..GenericOptions::default()
        };
        assert_eq!(
            resolve(&["a", "when", "b"], &named).ok(),
            Some((1, vec![2]))
        );
    }

    #[test]
    fn ambiguous_or_missing_timestamp_is_an_error() {
        let none = GenericOptions::default();
        let message = resolve(&["time", "date", "v"], &none)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("several columns could be the timestamp (time, date)"),
            "{message}"
        );
        let message = resolve(&["when", "v"], &none)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("--timestamp-column"), "{message}");
        let named = GenericOptions {
            timestamp_column: Some("when".into()),
            ..GenericOptions::default()
        };
        let message = resolve(&["When", "v"], &named)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("case-sensitive: pass --timestamp-column \"When\""),
            "{message}"
        );
        let message = resolve(&["timestamp"], &none)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("no value columns"), "{message}");
    }

    #[test]
    fn value_cells() {
        assert_eq!(parse_value("1.5"), Some(1.5));
        assert_eq!(parse_value(" -2e3 "), Some(-2000.0));
        assert_eq!(parse_value("10844"), Some(10844.0));
        assert_eq!(parse_value("inf"), Some(f64::INFINITY));
        for missing in ["", "  ", "NaN", "nan", "null", "NULL", "NA", "N/A", "None"] {
            assert!(parse_value(missing).is_some_and(f64::is_nan), "{missing:?}");
        }
        for bad in ["abc", "1,5", "1.2.3", "--1"] {
            assert_eq!(parse_value(bad), None, "{bad:?}");
        }
    }
}
