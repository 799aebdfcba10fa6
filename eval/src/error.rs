//! Errors of the evaluation crate: one variant per rule that plain input can break.

use thiserror::Error;

/// Everything that can be wrong with the plain data handed to `vigil-eval`.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum EvalError {
    /// Two inputs that must be aligned row by row have different lengths.
    #[error(
        "{what} has {got} rows but the scores have {expected}; hint: pass one {what} value per score row"
    )]
    LengthMismatch {
        /// Which input is misaligned (`labels`, `timestamps`, …).
        what: &'static str,
        /// Rows expected (the number of scores).
        expected: usize,
        /// Rows received.
        got: usize,
    },
    /// A score is NaN or infinite.
    #[error(
        "score at row {row} is {value}; hint: scores must be finite, replace NaN by the detector's warm-up value or drop the row"
    )]
    NonFiniteScore {
        /// Row of the first non-finite score.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// A window's end lies before its start.
    #[error(
        "window {index} starts at row {start} but ends at row {end}; hint: windows are inclusive row ranges with start <= end"
    )]
    WindowReversed {
        /// Position of the window in the list.
        index: usize,
        /// First row.
        start: usize,
        /// Last row.
        end: usize,
    },
    /// A window reaches past the last row.
    #[error(
        "window {index} ends at row {end} but the series has only {len} rows; hint: window rows are 0-based and inclusive"
    )]
    WindowOutOfRange {
        /// Position of the window in the list.
        index: usize,
        /// Last row of the window.
        end: usize,
        /// Rows in the series.
        len: usize,
    },
    /// Windows are not sorted or overlap each other.
    #[error(
        "window {index} (rows {start}..={end}) starts before the previous window ends at row {previous_end}; hint: sort windows by start and merge overlapping ones (see `merge_windows`)"
    )]
    WindowsOverlap {
        /// Position of the offending window.
        index: usize,
        /// Its first row.
        start: usize,
        /// Its last row.
        end: usize,
        /// Last row of the window before it.
        previous_end: usize,
    },
    /// A parameter is outside its valid range.
    #[error("{param} = {value} is invalid: {reason}; hint: {hint}")]
    InvalidParam {
        /// Dotted parameter name (`threshold.quantile`).
        param: &'static str,
        /// The value given, as text.
        value: String,
        /// Which rule it breaks.
        reason: &'static str,
        /// How to fix it.
        hint: &'static str,
    },
    /// A policy string could not be parsed.
    #[error("cannot parse {what} `{input}`: {reason}; hint: {hint}")]
    ParsePolicy {
        /// What was being parsed (`threshold policy`, `NAB profile`, …).
        what: &'static str,
        /// The text given.
        input: String,
        /// Why it failed.
        reason: String,
        /// Accepted forms.
        hint: &'static str,
    },
    /// The metric needs data that is not there (no rows, no labelled anomaly, …).
    #[error("{what} needs {needed}; hint: {hint}")]
    NotEnoughData {
        /// The metric or policy.
        what: &'static str,
        /// What it needs.
        needed: &'static str,
        /// How to fix it.
        hint: &'static str,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, EvalError>;

/// Checks that every score is finite.
pub(crate) fn check_finite(scores: &[f64]) -> Result<()> {
    match scores.iter().position(|s| !s.is_finite()) {
        Some(row) => Err(EvalError::NonFiniteScore {
            row,
            value: scores[row],
        }),
        None => Ok(()),
    }
}

/// Checks that `got` rows line up with `expected` score rows.
pub(crate) fn check_len(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(EvalError::LengthMismatch {
            what,
            expected,
            got,
        })
    }
}
