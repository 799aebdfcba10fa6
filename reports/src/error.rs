//! What can go wrong when rendering: inconsistent input (named, with a hint) or a drawing error.

use thiserror::Error;

/// A report could not be rendered.
#[derive(Debug, Error)]
pub enum ReportError {
    /// Two arrays that must be row-aligned have different lengths.
    #[error("{what}: {field} has {got} entries but the series has {expected} rows\nhint: {hint}")]
    Misaligned {
        /// Which item (e.g. `series "nab/ec2_cpu" track "ewma"`).
        what: String,
        /// Which field.
        field: &'static str,
        /// Rows of the series.
        expected: usize,
        /// Entries found.
        got: usize,
        /// How to fix it.
        hint: &'static str,
    },
    /// A value breaks a rule of the input types.
    #[error("{what}: {field} {reason}\nhint: {hint}")]
    Invalid {
        /// Which item.
        what: String,
        /// Which field.
        field: &'static str,
        /// What is wrong.
        reason: String,
        /// How to fix it.
        hint: &'static str,
    },
    /// plotters failed to draw (an internal error; the input passed validation).
    #[error("drawing a plot failed: {0}")]
    Plot(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, ReportError>;
