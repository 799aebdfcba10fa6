//! The detector families, one folder each: unchecked params → `check()` → checked params →
//! `fit()` → fitted model (serde) → `score()`.

pub mod anomaly_likelihood;
pub mod arima;
pub mod artime;
pub mod cad_ose;
pub mod cusum;
pub mod damp;
pub mod dbscan;
pub mod discord;
pub mod ecod;
pub mod ewma;
pub mod holt_winters;
pub mod isolation_forest;
pub mod knn;
pub mod lof;
pub mod lstm_ae;
pub mod matrix_profile;
pub mod mstl;
pub mod ocsvm;
pub mod pca;
pub mod percentile;
pub mod seasonal_baseline;
pub mod seasonal_esd;
pub mod zscore;

use crate::error::{Result, TrainError};

/// Checks a rolling family's `window` and `min_periods` (both need at least two values for a
/// spread or a band) and returns the effective `min_periods` (default: half the window, ≥ 2).
pub(crate) fn check_rolling_window(
    family: &str,
    window: usize,
    min_periods: Option<usize>,
    needs: &str,
) -> Result<usize> {
    if window < 2 {
        return Err(TrainError::param(
            format!("{family}.window"),
            format!("{window} is below 2"),
            format!("{needs} needs at least two values: use a window of 2 rows or more"),
        ));
    }
    let min_periods = min_periods.unwrap_or((window / 2).max(2));
    if min_periods < 2 || min_periods > window {
        return Err(TrainError::param(
            format!("{family}.min_periods"),
            format!("{min_periods} is not within 2..={window}"),
            "set min_periods between 2 and the window length, or leave it out",
        ));
    }
    Ok(min_periods)
}
