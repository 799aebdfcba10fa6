//! One error type for the crate. Each variant is one rule; every message names the parameter,
//! family or channel involved and ends with a `hint:` saying how to fix it.

/// Result alias for this crate.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;

/// Everything that can stop a detector from being configured, fitted or scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    /// A parameter value breaks one of its rules (`param` is `family.field`, e.g. `ewma.alpha`).
    #[error("invalid parameter {param}: {reason}\nhint: {hint}")]
    ParamError {
        param: String,
        reason: String,
        hint: String,
    },

    /// The series (or one of its channels) is too short, or has too few finite values, to fit.
    #[error(
        "{family}: not enough data on channel {channel}: needs {needed} finite values, got {got}\nhint: give a longer training series, or lower the window / season / min-periods parameters"
    )]
    NotEnoughData {
        family: &'static str,
        channel: usize,
        needed: usize,
        got: usize,
    },

    /// The series to score has a different number of channels from the series the model was fitted on.
    #[error(
        "{family}: the model was fitted on {fitted} channel(s) but the series has {got}\nhint: score a series with the same columns as the training series"
    )]
    ChannelMismatch {
        family: &'static str,
        fitted: usize,
        got: usize,
    },

    /// Training could not run or did not converge (a backend that is not available, a loss
    /// that became non-finite).
    #[error("{family}: training failed: {reason}\nhint: {hint}")]
    TrainingFailed {
        family: &'static str,
        reason: String,
        hint: String,
    },

    /// A search-space assignment could not be applied to a spec.
    #[error(
        "cannot apply {param} = {value} to {kind}: {reason}\nhint: use a parameter name from the family's space() and a value of its type"
    )]
    BadAssignment {
        kind: String,
        param: String,
        value: String,
        reason: String,
    },
}

impl TrainError {
    /// A parameter error with its reason and fix.
    pub fn param(
        param: impl Into<String>,
        reason: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::ParamError {
            param: param.into(),
            reason: reason.into(),
            hint: hint.into(),
        }
    }
}
