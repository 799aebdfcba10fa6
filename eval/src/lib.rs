//! `vigil-eval`: decides whether a detector is any good, from plain data.
//!
//! Everything here works on `(&[f64] scores, labels or incident windows, timestamps, policy)` and
//! never sees a detector. Detections follow one convention everywhere: a row is detected when
//! `score >= threshold`.
//!
//! * [`labels`]: incident [`Window`]s (inclusive row ranges) and per-row labels.
//! * [`point`]: point-wise P/R/F1/FPR and the point-adjusted family (always labelled adjusted).
//! * [`nab`]: the NAB score (three profiles) and its exact corpus threshold search.
//! * [`threshold`]: threshold policies fitted on validation data; [`sweep`]: sort-once sweeps.
//! * [`alert`]: alert policy (minimum run, merge gap, cooldown, severity bands).
//! * [`event`]: incident recall, alert precision, false alarms per day, severities;
//!   [`delay`]: detection delay per incident.
//! * [`curves`]: ROC/PR curves, ROC-AUC, average precision; [`vus`]: VUS-ROC/VUS-PR;
//!   [`range`]: range-based precision/recall (Tatbul et al.); [`ucr`]: the UCR archive's top-1
//!   accuracy (`ucr_top1`: does the highest score fall within the anomaly ± a slack?).
//! * [`report`]: the combined [`Evaluation`] (deployable vs oracle, threshold-free metrics) with
//!   the random and null [`baseline`]s beside it.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod alert;
pub mod baseline;
pub mod curves;
pub mod delay;
pub mod error;
pub mod event;
pub mod labels;
pub mod nab;
pub mod point;
pub mod range;
pub mod report;
pub mod sweep;
pub mod threshold;
pub mod ucr;
pub mod vus;

pub use error::{EvalError, Result};
pub use labels::{
    Window, labels_from_windows, merge_windows, validate_windows, windows_from_labels, windows_in,
};
pub use report::{EvalConfig, EvalSeries, Evaluation, evaluate};
