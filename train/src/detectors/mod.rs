//! The detector families, one folder each: unchecked params → `check()` → checked params →
//! `fit()` → fitted model (serde) → `score()`.

pub mod anomaly_likelihood;
pub mod arima;
pub mod cusum;
pub mod ewma;
pub mod holt_winters;
pub mod percentile;
pub mod seasonal_esd;
pub mod zscore;
