//! `vigil-eval`: decides whether a detector is any good, from plain data.
//!
//! Everything here works on `(&[f64] scores, labels or incident windows, timestamps, policy)` and
//! never sees a detector. Detections follow one convention everywhere: a row is detected when
//! `score >= threshold`.
//!
//! * [`labels`]: incident [`Window`]s (inclusive row ranges) and per-row labels.
//! * [`point`]: point-wise P/R/F1/FPR and the point-adjusted family (always labelled adjusted).
//! * [`nab`]: the NAB score (three profiles) and its exact corpus threshold search.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod error;
pub mod labels;
pub mod nab;
pub mod point;

pub use error::{EvalError, Result};
pub use labels::{
    Window, labels_from_windows, merge_windows, validate_windows, windows_from_labels,
};
