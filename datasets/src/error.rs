//! One error type for every loader. Each variant names the file and, where it applies, the
//! row, column or key, and its message ends with a `hint:` saying how to fix the input.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T, E = DatasetError> = std::result::Result<T, E>;

/// Everything that can be wrong with a dataset on disk.
///
/// Rows are 1-based data rows (the header, when there is one, is not counted), which is also
/// the line number minus one for files with a header.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{path}: cannot read: {source}\nhint: check that the path exists and is readable")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: the file is empty\nhint: {hint}")]
    EmptyFile { path: PathBuf, hint: String },

    #[error("{path}: the file has a header but no data rows\nhint: a series needs at least one row of values")]
    HeaderOnly { path: PathBuf },

    #[error("{path}: no timestamp column named {wanted:?} (columns: {found})\nhint: {hint}")]
    MissingColumn {
        path: PathBuf,
        wanted: String,
        found: String,
        hint: String,
    },

    #[error("{path}: no value column named {column:?} (columns: {found})\nhint: name value columns exactly as in the header (case-sensitive) with --value-columns, or leave it out to use every non-timestamp column")]
    MissingValueColumn {
        path: PathBuf,
        column: String,
        found: String,
    },

    #[error("{path}: cannot parse as CSV: {message}\nhint: the file must be comma-separated UTF-8 with one header line and the same number of fields on every row")]
    BadCsv { path: PathBuf, message: String },

    #[error("{path}: cannot read Parquet: {message}\nhint: the file may be truncated or not Parquet at all (a Parquet file starts and ends with `PAR1`); write it again")]
    BadParquet { path: PathBuf, message: String },

    #[error("{path}: row {row}, column {column:?}: cannot parse timestamp {value:?}\nhint: use RFC 3339 (2024-01-31T12:00:00Z), `YYYY-MM-DD HH:MM:SS`, or epoch seconds/milliseconds")]
    BadTimestamp {
        path: PathBuf,
        row: usize,
        column: String,
        value: String,
    },

    #[error("{path}: row {row}, column {column:?}: {value:?} is not a number\nhint: write values as decimal numbers; leave the cell empty (or NaN) for a missing value")]
    BadValue {
        path: PathBuf,
        row: usize,
        column: String,
        value: String,
    },

    #[error("{path}: row {row} has {got} values, expected {expected} like the rows before it\nhint: every row must have the same number of comma-separated values; the file may be truncated or mixed from two sources")]
    RaggedRow {
        path: PathBuf,
        row: usize,
        expected: usize,
        got: usize,
    },

    #[error("{path}: {message}\nhint: {hint}")]
    BadLabels {
        path: PathBuf,
        message: String,
        hint: String,
    },

    #[error("{path}: incident {index} for series {series:?} ends ({end}) before it starts ({start})\nhint: swap the two ends; windows are inclusive [start, end]")]
    WindowReversed {
        path: PathBuf,
        series: String,
        index: usize,
        start: String,
        end: String,
    },

    #[error("{path}: labels name series {series:?}, which the dataset does not have (series: {known})\nhint: fix the series name in the labels file, or load the data file it refers to")]
    UnknownSeries {
        path: PathBuf,
        series: String,
        known: String,
    },

    #[error("{path}: Prometheus returned an error ({error_type}): {error}\nhint: fix the PromQL query or the time range, then export again")]
    PrometheusError {
        path: PathBuf,
        error_type: String,
        error: String,
    },

    #[error("{path}: {message}\nhint: {hint}")]
    Format {
        path: PathBuf,
        message: String,
        hint: String,
    },

    #[error("{path}: does not match any known dataset layout: {reason}\nhint: point at a NAB folder (data/ + labels/combined_windows.json), an SMD or ASD folder (train/ test/ test_label/), a folder or file of UCR `*_UCR_Anomaly_*.txt`, a .csv/.parquet file (with --labels), or a Prometheus .json export; or name the layout with --layout")]
    UnknownLayout { path: PathBuf, reason: String },

    #[error("invalid split: {message}\nhint: {hint}")]
    BadSplit { message: String, hint: String },
}

impl DatasetError {
    /// Wraps an IO error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A format problem with its own message and hint.
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Format {
            path: path.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}
