//! `vigil datasets validate`: every check, every problem, in one list.
//!
//! Loading stops at the first error in a file; validation goes on. It loads each data file of
//! a folder on its own (so one bad file does not hide the others), then the whole dataset with
//! its labels, then runs checks on the content that loading alone does not make.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::detect::{LoadOptions, detect_layout, load};
use crate::generic::{GenericOptions, load_generic};
use crate::model::{Dataset, Layout};
use crate::ucr::load_ucr;

/// How bad a problem is: errors fail validation; warnings only with `--strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The data cannot be used as it is.
    Error,
    /// The data loads, but something is odd and worth a look.
    Warning,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// The message, naming the file and the row, column or key, with a hint for errors.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{tag}: {}", self.message)
    }
}

/// Everything validation found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ValidationReport {
    /// The layout found (or named), when there is one.
    pub layout: Option<Layout>,
    /// Data files checked one by one.
    pub files_checked: usize,
    /// Every problem, errors first in the order found, then warnings.
    pub problems: Vec<Problem>,
}

impl ValidationReport {
    /// True when no problem is an error.
    pub fn is_ok(&self) -> bool {
        self.problems.iter().all(|p| p.severity != Severity::Error)
    }

    fn error(&mut self, message: impl Into<String>) {
        let message = message.into();
        if !self.problems.iter().any(|p| p.message == message) {
            self.problems.push(Problem {
                severity: Severity::Error,
                message,
            });
        }
    }

    fn warning(&mut self, message: impl Into<String>) {
        let message = message.into();
        if !self.problems.iter().any(|p| p.message == message) {
            self.problems.push(Problem {
                severity: Severity::Warning,
                message,
            });
        }
    }
}

/// Validates the dataset at `path`; never fails, every problem goes into the report.
pub fn validate(path: &Path, options: &LoadOptions) -> ValidationReport {
    let mut report = ValidationReport::default();
    let layout = match options.layout {
        Some(layout) => layout,
        None => match detect_layout(path) {
            Ok(layout) => layout,
            Err(error) => {
                report.error(error.to_string());
                return report;
            }
        },
    };
    report.layout = Some(layout);

    for file in per_file_targets(path, layout) {
        report.files_checked += 1;
        let result = match layout {
            Layout::Ucr => load_ucr(&file).map(drop),
            _ => load_generic(
                &file,
                &GenericOptions {
                    timestamp_column: options.timestamp_column.clone(),
                    value_columns: options.value_columns.clone(),
                    labels: None,
                },
            )
            .map(drop),
        };
        if let Err(error) = result {
            report.error(error.to_string());
        }
    }

    let options = LoadOptions {
        layout: Some(layout),
        ..options.clone()
    };
    match load(path, &options) {
        Ok(dataset) => {
            if report.files_checked == 0 {
                report.files_checked = dataset.series.len();
            }
            check_content(&dataset, &mut report);
        }
        Err(error) => report.error(error.to_string()),
    }
    report
        .problems
        .sort_by_key(|p| p.severity == Severity::Warning);
    report
}

/// The files that can be loaded one by one for this layout (empty where only the whole
/// dataset loads, as for SMD/ASD, whose files belong together).
fn per_file_targets(path: &Path, layout: Layout) -> Vec<PathBuf> {
    let mut files = Vec::new();
    match layout {
        Layout::Nab => collect_files(&path.join("data"), &["csv"], true, &mut files),
        Layout::Generic | Layout::Synthetic if path.is_dir() => {
            collect_files(path, &["csv", "parquet"], false, &mut files)
        }
        Layout::Ucr if path.is_dir() => collect_files(path, &["txt"], false, &mut files),
        _ => {}
    }
    files.retain(|f| {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        !name.starts_with("labels.") && name != "index.csv"
    });
    files.sort();
    files
}

fn collect_files(dir: &Path, extensions: &[&str], recurse: bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if recurse {
                collect_files(&path, extensions, recurse, out);
            }
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(path);
        }
    }
}

/// Checks that loading does not make: empty or all-missing channels, constant channels, labels
/// that cover no row, overlapping windows, and label shares too high to be anomalies.
fn check_content(dataset: &Dataset, report: &mut ValidationReport) {
    for warning in &dataset.warnings {
        report.warning(warning.to_string());
    }
    for series in &dataset.series {
        let name = &series.name;
        if series.is_empty() {
            report.error(format!(
                "series {name:?} has no rows\nhint: remove the file or fill it"
            ));
            continue;
        }
        for (c, column) in series.columns.iter().enumerate() {
            let channel = series.values.column(c);
            let finite: Vec<f64> = channel.iter().copied().filter(|v| v.is_finite()).collect();
            if finite.is_empty() {
                report.error(format!(
                    "series {name:?}, column {column:?}: every value is missing\nhint: check the column name and the export"
                ));
            } else if finite.iter().all(|&v| v == finite[0]) && series.len() > 1 {
                report.warning(format!(
                    "series {name:?}, column {column:?}: constant ({}) over all {} rows; detectors see no signal",
                    finite[0],
                    series.len()
                ));
            }
        }
        let mut ranges: Vec<(usize, usize, usize)> = Vec::new();
        for (i, incident) in series.incidents.iter().enumerate() {
            match series.incident_rows(incident) {
                Some((first, last)) => ranges.push((first, last, i)),
                None => report.warning(format!(
                    "series {name:?}: incident {i} covers no row of the data; it cannot be detected"
                )),
            }
        }
        ranges.sort_unstable();
        for pair in ranges.windows(2) {
            if pair[1].0 <= pair[0].1 {
                report.warning(format!(
                    "series {name:?}: incidents {} and {} overlap (rows {}..={} and {}..={}); event metrics count them once",
                    pair[0].2, pair[1].2, pair[0].0, pair[0].1, pair[1].0, pair[1].1
                ));
            }
        }
        let labelled = series.labels().iter().filter(|&&l| l).count();
        if labelled * 2 > series.len() {
            report.warning(format!(
                "series {name:?}: {labelled} of {} rows are labelled anomalous; are the labels inverted?",
                series.len()
            ));
        }
    }
}
