//! The UCR Time Series Anomaly Archive (KDD Cup 2021): one univariate series per file, one
//! anomaly per series, labels in the file name
//! `<id>_UCR_Anomaly_<name>_<trainEnd>_<anomStart>_<anomEnd>.txt`.

use std::collections::HashMap;
use std::path::Path;

use ndarray::Array2;

use crate::error::{DatasetError, Result};
use crate::model::{Dataset, Incident, Layout, Series, Warning};
use crate::numtext::{data_lines, parse_whitespace_values, read_text};

/// The marker that every UCR anomaly file name carries.
const MARKER: &str = "_UCR_Anomaly_";

/// Synthesised sampling step: one value per second.
const STEP_MS: i64 = 1_000;

/// The labels a UCR file name carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UcrName<'a> {
    /// The archive id (`004`).
    pub id: &'a str,
    /// The series name (`DISTORTEDBIDMC1`).
    pub name: &'a str,
    /// Values `0 .. train_end` (0-based) form the anomaly-free training prefix.
    pub train_end: usize,
    /// First anomalous value (0-based, inclusive).
    pub anomaly_start: usize,
    /// One past the last anomalous value (0-based, exclusive).
    pub anomaly_end: usize,
}

impl<'a> UcrName<'a> {
    /// Reads the labels from a file stem such as
    /// `004_UCR_Anomaly_DISTORTEDBIDMC1_2500_5400_5600`. The name part may itself contain
    /// underscores; the three numbers are taken from the end.
    pub fn parse(stem: &'a str, path: &Path) -> Result<Self> {
        let bad = |reason: String| DatasetError::UcrName {
            path: path.to_path_buf(),
            reason,
        };
        let (id, rest) = stem
            .split_once(MARKER)
            .ok_or_else(|| bad(format!("{stem:?} does not contain {MARKER:?}")))?;
        let mut parts = rest.rsplitn(4, '_');
        let mut number = |what: &str| -> Result<usize> {
            let text = parts.next().unwrap_or("");
            text.parse().map_err(|_| {
                bad(format!(
                    "{what} {text:?} (in {stem:?}) is not an unsigned integer"
                ))
            })
        };
        let anomaly_end = number("anomEnd")?;
        let anomaly_start = number("anomStart")?;
        let train_end = number("trainEnd")?;
        let name = parts.next().unwrap_or("");
        if id.is_empty() || name.is_empty() {
            return Err(bad(format!("{stem:?} lacks the id or the series name")));
        }
        Ok(Self {
            id,
            name,
            train_end,
            anomaly_start,
            anomaly_end,
        })
    }
}

/// Loads one UCR file, or every `*_UCR_Anomaly_*.txt` file of a directory (sorted by name;
/// other files such as `index.csv` and `ATTRIBUTION.txt` are not data).
///
/// Each file becomes a [`Series`] named by its file stem with one channel, `value`, read as
/// whitespace-separated floats.
///
/// * **Timestamps are synthesised**: the archive has none, so value `i` gets `i × 1 s` after
///   the Unix epoch.
/// * `train_end = Some(trainEnd)`: values `1 … trainEnd` (1-based) are the anomaly-free
///   training prefix, i.e. rows `0 .. trainEnd`.
/// * One [`Incident`] covering rows `anomStart ..= anomEnd - 1`: the 0-based half-open slice
///   `x[anomStart:anomEnd]` of the usual Python reading (TranAD, DCdetector), which is what the
///   archive's `index.csv` implies. Other readings differ by one row at either end; the contest
///   scored with a tolerance of about ±100 rows, so metrics should not hinge on that.
/// * In a directory with `index.csv`, each of its rows is cross-checked against the file name
///   and length; a disagreement is a [`Warning`], not an error.
pub fn load_ucr(path: &Path) -> Result<Dataset> {
    let (files, name) = if path.is_dir() {
        let mut files = Vec::new();
        let entries = std::fs::read_dir(path).map_err(|e| DatasetError::io(path, e))?;
        for entry in entries {
            let file = entry.map_err(|e| DatasetError::io(path, e))?.path();
            let is_ucr = file.extension().is_some_and(|e| e == "txt")
                && file
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().contains(MARKER));
            if file.is_file() && is_ucr {
                files.push(file);
            }
        }
        if files.is_empty() {
            return Err(DatasetError::format(
                path,
                format!("holds no `*{MARKER}*.txt` files"),
                "point at a folder of UCR anomaly archive files, or at one such file",
            ));
        }
        files.sort();
        (files, file_name(path))
    } else {
        (vec![path.to_path_buf()], stem(path))
    };

    let mut series = Vec::with_capacity(files.len());
    for file in &files {
        series.push(load_file(file)?);
    }
    let mut warnings = Vec::new();
    let index = path.join("index.csv");
    if path.is_dir() && index.is_file() {
        cross_check_index(&index, &series, &mut warnings)?;
    }
    tracing::info!(path = %path.display(), series = series.len(), "loaded UCR series");
    Ok(Dataset {
        name,
        layout: Layout::Ucr,
        source: path.display().to_string(),
        series,
        warnings,
    })
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| "ucr".to_string(), |s| s.to_string_lossy().into_owned())
}

fn load_file(path: &Path) -> Result<Series> {
    let stem = stem(path);
    let labels = UcrName::parse(&stem, path)?;
    let text = read_text(
        path,
        "write the series as whitespace-separated numbers, one value per line",
    )?;
    let values = parse_whitespace_values(path, &text)?;
    let rows = values.len();
    let fail = |reason: String| DatasetError::UcrLabels {
        path: path.to_path_buf(),
        reason,
    };
    let UcrName {
        train_end,
        anomaly_start: start,
        anomaly_end: end,
        ..
    } = labels;
    if end <= start {
        return Err(fail(format!(
            "anomStart {start} is not before anomEnd {end}"
        )));
    }
    if end > rows {
        return Err(fail(format!(
            "anomEnd {end} is past the end of the series ({rows} values)"
        )));
    }
    if train_end > start {
        return Err(fail(format!(
            "trainEnd {train_end} is after anomStart {start}, but the training prefix is anomaly-free"
        )));
    }
    if train_end == 0 {
        return Err(fail(
            "trainEnd is 0: the series has no training prefix".to_string(),
        ));
    }
    let timestamps = (0..rows).map(|i| i as i64 * STEP_MS).collect();
    let values = Array2::from_shape_vec((rows, 1), values).map_err(|e| {
        DatasetError::format(
            path,
            format!("cannot build the value column: {e}"),
            "report this as a bug",
        )
    })?;
    let mut series = Series::new(stem.clone(), timestamps, vec!["value".to_string()], values);
    series.train_end = Some(train_end);
    series.incidents.push(Incident::new(
        start as i64 * STEP_MS,
        (end - 1) as i64 * STEP_MS,
    ));
    Ok(series)
}

/// Compares `index.csv` (`file,id,name,family,length,train_end,anomaly_start,anomaly_end`) with
/// the loaded series and records every disagreement as a warning.
fn cross_check_index(index: &Path, series: &[Series], warnings: &mut Vec<Warning>) -> Result<()> {
    let text = read_text(
        index,
        "write the header `file,id,name,family,length,train_end,anomaly_start,anomaly_end`",
    )?;
    let by_name: HashMap<&str, &Series> = series.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut note = |message: String| {
        tracing::warn!(path = %index.display(), "{message}");
        warnings.push(Warning {
            path: index.display().to_string(),
            series: None,
            message,
        });
    };
    let mut lines = data_lines(&text).enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, h)| h.split(',').map(str::trim_ascii).collect())
        .unwrap_or_default();
    let column = |name: &str| header.iter().position(|h| *h == name);
    let (Some(file_col), Some(len_col), Some(train_col), Some(start_col), Some(end_col)) = (
        column("file"),
        column("length"),
        column("train_end"),
        column("anomaly_start"),
        column("anomaly_end"),
    ) else {
        note(
            "header lacks file/length/train_end/anomaly_start/anomaly_end; not cross-checked"
                .to_string(),
        );
        return Ok(());
    };
    for (line_index, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim_ascii).collect();
        let line_no = line_index + 1;
        let Some(file) = cells.get(file_col) else {
            note(format!("line {line_no}: no file name"));
            continue;
        };
        let name = file.strip_suffix(".txt").unwrap_or(file);
        let Some(s) = by_name.get(name) else {
            note(format!(
                "line {line_no}: {file} is listed but was not loaded"
            ));
            continue;
        };
        let rows = s.incident_row_ranges();
        let loaded = [
            ("length", s.len()),
            ("train_end", s.train_end.unwrap_or(0)),
            ("anomaly_start", rows.first().map_or(0, |r| r.0)),
            ("anomaly_end", rows.first().map_or(0, |r| r.1 + 1)),
        ];
        for ((key, value), col) in loaded
            .into_iter()
            .zip([len_col, train_col, start_col, end_col])
        {
            let listed = cells.get(col).and_then(|c| c.parse::<usize>().ok());
            if listed != Some(value) {
                note(format!(
                    "line {line_no}: {key} of {file} is {:?} in the index but {value} in the data",
                    cells.get(col).copied().unwrap_or("")
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_carries_the_labels() {
        let p = Path::new("x");
        let n =
            UcrName::parse("004_UCR_Anomaly_DISTORTEDBIDMC1_2500_5400_5600", p).expect("parses");
        assert_eq!(
            n,
            UcrName {
                id: "004",
                name: "DISTORTEDBIDMC1",
                train_end: 2500,
                anomaly_start: 5400,
                anomaly_end: 5600,
            }
        );
        let n = UcrName::parse("1_UCR_Anomaly_with_under_scores_10_20_30", p).expect("parses");
        assert_eq!((n.name, n.train_end), ("with_under_scores", 10));
    }

    #[test]
    fn names_without_labels_are_errors() {
        let p = Path::new("x");
        for stem in [
            "data",
            "004_UCR_Anomaly_BIDMC1_2500_5400",
            "004_UCR_Anomaly_2500_5400_5600",
            "004_UCR_Anomaly_BIDMC1_2500_54x0_5600",
            "_UCR_Anomaly_BIDMC1_1_2_3",
        ] {
            let err = UcrName::parse(stem, p).expect_err(stem);
            assert!(matches!(err, DatasetError::UcrName { .. }), "{stem}: {err}");
        }
    }
}
