//! Feature transforms: turn a series (rows × channels) into feature rows for the point
//! detectors (Isolation Forest, LOF, kNN, …), fitted on training data only.
//!
//! - Row t of the output uses series rows ≤ t only (causal), so a point detector on top of it
//!   obeys the prefix rule; rows before the warm-up, or whose inputs include a NaN, are marked
//!   invalid (`valid[t] = false`) and hold NaN: a model never sees them and their score is 0.
//! - Layout of a row (in this order): the last `window` values of each channel, oldest first
//!   (channel-major); each lag in `lags` for every channel; the rolling mean and sample standard
//!   deviation (ddof = 1, pandas' `rolling(r).std()`) of each length in `rolling` for every
//!   channel; sin/cos of the time of day; sin/cos of the day of the week (Monday = 0). With
//!   `diff`, every value feature is built from first differences `x[t] − x[t−1]` instead.
//! - Scaling (`standard`: mean / population σ as scikit-learn's `StandardScaler`; `robust`:
//!   median / interquartile range as `RobustScaler`) is fitted on the valid TRAINING rows only.
//!   A column that is constant in training is divided by its power-of-two magnitude instead of
//!   σ (scikit-learn divides by 1), so huge or tiny constants stay finite and scale-free.
//! - Cost: O(rows × dim) time and memory; rolling statistics are O(1) per row and channel.

mod rows;
mod scaling;

use ndarray::Array2;
use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::error::{Result, TrainError};
use crate::rolling::Moments;
use crate::space::Dim;

pub use rows::{MIN_TRAIN_ROWS, PointFamily, PointScorer, RowModel};
pub use scaling::Scaling;

const DAY_MS: i64 = 86_400_000;

/// Unchecked feature parameters. The default is the raw row, standardised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureParams {
    /// Rows per channel in the sliding window (1 = the raw row; W = the last W rows, oldest
    /// first).
    pub window: usize,
    /// Build value features from first differences `x[t] − x[t−1]`.
    pub diff: bool,
    /// Extra lagged values (in rows, each ≥ 1) per channel.
    pub lags: Vec<usize>,
    /// Rolling mean and standard deviation over each of these lengths (each ≥ 2) per channel.
    pub rolling: Vec<usize>,
    /// Add sin/cos of the time of day (UTC).
    pub time_of_day: bool,
    /// Add sin/cos of the day of the week (UTC, Monday = 0).
    pub day_of_week: bool,
    /// Scaling fitted on the training rows.
    pub scaling: Scaling,
}

impl Default for FeatureParams {
    fn default() -> Self {
        Self {
            window: 1,
            diff: false,
            lags: Vec::new(),
            rolling: Vec::new(),
            time_of_day: false,
            day_of_week: false,
            scaling: Scaling::Standard,
        }
    }
}

impl FeatureParams {
    /// Sets the window length.
    pub fn with_window(mut self, window: usize) -> Self {
        self.window = window;
        self
    }
    /// Sets first differencing.
    pub fn with_diff(mut self, diff: bool) -> Self {
        self.diff = diff;
        self
    }
    /// Sets the lags.
    pub fn with_lags(mut self, lags: Vec<usize>) -> Self {
        self.lags = lags;
        self
    }
    /// Sets the rolling-statistic lengths.
    pub fn with_rolling(mut self, rolling: Vec<usize>) -> Self {
        self.rolling = rolling;
        self
    }
    /// Sets the time-of-day encoding.
    pub fn with_time_of_day(mut self, on: bool) -> Self {
        self.time_of_day = on;
        self
    }
    /// Sets the day-of-week encoding.
    pub fn with_day_of_week(mut self, on: bool) -> Self {
        self.day_of_week = on;
        self
    }
    /// Sets the scaling.
    pub fn with_scaling(mut self, scaling: Scaling) -> Self {
        self.scaling = scaling;
        self
    }

    /// Search-space dimensions of the features, named `features.*` (for a family's space).
    pub fn space() -> Vec<Dim> {
        vec![
            Dim::int("features.window", 1, 64, 1),
            Dim::flag("features.diff"),
            Dim::choice("features.scaling", &["standard", "robust"]),
        ]
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<FeatureValid> {
        if self.window == 0 {
            return Err(TrainError::param(
                "features.window",
                "0 rows",
                "use window = 1 for the raw row, or W > 1 for the last W rows",
            ));
        }
        if let Some(lag) = self.lags.iter().find(|l| **l == 0) {
            return Err(TrainError::param(
                "features.lags",
                format!("lag {lag} is the current row"),
                "lags count rows back from the current one: use values ≥ 1",
            ));
        }
        if let Some(r) = self.rolling.iter().find(|r| **r < 2) {
            return Err(TrainError::param(
                "features.rolling",
                format!("length {r} is below 2"),
                "a rolling standard deviation needs two values: use lengths ≥ 2",
            ));
        }
        let reach = (self.window - 1)
            .max(self.lags.iter().copied().max().unwrap_or(0))
            .max(self.rolling.iter().map(|r| r - 1).max().unwrap_or(0));
        let warm_up = reach + usize::from(self.diff);
        Ok(FeatureValid {
            params: self.clone(),
            warm_up,
        })
    }
}

/// Checked feature parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureValid {
    params: FeatureParams,
    warm_up: usize,
}

impl FeatureValid {
    /// The parameters.
    pub fn params(&self) -> &FeatureParams {
        &self.params
    }

    /// Rows before this index never have a feature row.
    pub fn warm_up(&self) -> usize {
        self.warm_up
    }

    /// Fits the scaling on the valid rows of `train`.
    pub fn fit(&self, train: &Series) -> Result<FeatureModel> {
        self.fit_transform(train).map(|(model, _)| model)
    }

    /// Fits the scaling on the valid rows of `train` and returns them scaled, so a family can
    /// fit on them without transforming twice.
    pub fn fit_transform(&self, train: &Series) -> Result<(FeatureModel, FeatureRows)> {
        let channels = train.channels();
        let mut raw = raw_rows(&self.params, channels, self.warm_up, train);
        let valid_count = raw.valid.iter().filter(|v| **v).count();
        if channels == 0 || valid_count == 0 {
            return Err(TrainError::NotEnoughData {
                family: "features",
                channel: 0,
                needed: self.warm_up + 1,
                got: train.len(),
            });
        }
        let (center, scale) = scaling::fit(self.params.scaling, &raw.rows, &raw.valid);
        let model = FeatureModel {
            params: self.params.clone(),
            channels,
            warm_up: self.warm_up,
            center,
            scale,
        };
        model.apply_scaling(&mut raw);
        Ok((model, raw))
    }
}

/// Fitted features: the layout and the training scaling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureModel {
    /// The parameters it was fitted with.
    pub params: FeatureParams,
    /// Channels of the training series.
    pub channels: usize,
    /// Rows before this index have no feature row.
    pub warm_up: usize,
    /// Subtracted from each feature column (0 without scaling).
    pub center: Vec<f64>,
    /// Each feature column is divided by this after centring (1 without scaling).
    pub scale: Vec<f64>,
}

/// Feature rows of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRows {
    /// One row per series row (rows × [`FeatureModel::dim`]); invalid rows hold NaN.
    pub rows: Array2<f64>,
    /// Whether row t has a finite feature row (past the warm-up, no NaN among its inputs).
    pub valid: Vec<bool>,
    /// Rows before this index are invalid by construction.
    pub warm_up: usize,
}

impl FeatureRows {
    /// Number of valid rows.
    pub fn valid_count(&self) -> usize {
        self.valid.iter().filter(|v| **v).count()
    }
}

impl FeatureModel {
    /// Number of feature columns.
    pub fn dim(&self) -> usize {
        self.center.len()
    }

    /// Feature rows of `series` (same channels as the training series), scaled.
    pub fn transform(&self, series: &Series) -> Result<FeatureRows> {
        if series.channels() != self.channels {
            return Err(TrainError::ChannelMismatch {
                family: "features",
                fitted: self.channels,
                got: series.channels(),
            });
        }
        let mut raw = raw_rows(&self.params, self.channels, self.warm_up, series);
        self.apply_scaling(&mut raw);
        Ok(raw)
    }

    fn apply_scaling(&self, raw: &mut FeatureRows) {
        for (mut row, valid) in raw.rows.rows_mut().into_iter().zip(&raw.valid) {
            if *valid {
                for ((v, c), s) in row.iter_mut().zip(&self.center).zip(&self.scale) {
                    *v = (*v - c) / s;
                }
            }
        }
    }
}

/// Number of feature columns for `channels` channels.
pub(crate) fn dim(params: &FeatureParams, channels: usize) -> usize {
    channels * (params.window + params.lags.len() + 2 * params.rolling.len())
        + 2 * usize::from(params.time_of_day)
        + 2 * usize::from(params.day_of_week)
}

/// Unscaled feature rows.
fn raw_rows(
    params: &FeatureParams,
    channels: usize,
    warm_up: usize,
    series: &Series,
) -> FeatureRows {
    let n = series.len();
    let width = dim(params, channels);
    let mut rows = Array2::from_elem((n, width), f64::NAN);
    let window = params.window;
    let mut base = vec![f64::NAN; n];
    let mut col = 0;
    for channel in 0..channels {
        let x = series.values.column(channel);
        for t in 0..n {
            base[t] = if params.diff {
                if t == 0 { f64::NAN } else { x[t] - x[t - 1] }
            } else {
                x[t]
            };
        }
        for t in warm_up..n {
            for j in 0..window {
                rows[[t, col + j]] = base[t + 1 + j - window];
            }
        }
        col += window;
    }
    for &lag in &params.lags {
        for channel in 0..channels {
            let x = series.values.column(channel);
            for t in warm_up..n {
                let s = t - lag;
                rows[[t, col]] = if params.diff {
                    if s == 0 { f64::NAN } else { x[s] - x[s - 1] }
                } else {
                    x[s]
                };
            }
            col += 1;
        }
    }
    for &length in &params.rolling {
        for channel in 0..channels {
            let x = series.values.column(channel);
            let value = |t: usize| {
                if !params.diff {
                    x[t]
                } else if t == 0 {
                    f64::NAN
                } else {
                    x[t] - x[t - 1]
                }
            };
            let mut moments = Moments::default();
            for t in 0..n {
                let v = value(t);
                if v.is_finite() {
                    moments.add(v);
                }
                if t >= length {
                    let old = value(t - length);
                    if old.is_finite() {
                        moments.remove(old);
                    }
                }
                if t >= warm_up && moments.count() == length {
                    rows[[t, col]] = moments.mean();
                    rows[[t, col + 1]] = moments.std();
                }
            }
            col += 2;
        }
    }
    if params.time_of_day {
        for t in warm_up..n {
            let angle = std::f64::consts::TAU * series.timestamps[t].rem_euclid(DAY_MS) as f64
                / DAY_MS as f64;
            rows[[t, col]] = angle.sin();
            rows[[t, col + 1]] = angle.cos();
        }
        col += 2;
    }
    if params.day_of_week {
        for t in warm_up..n {
            // 1970-01-01 was a Thursday (Monday = 0 → Thursday = 3).
            let day = (series.timestamps[t].div_euclid(DAY_MS) + 3).rem_euclid(7);
            let angle = std::f64::consts::TAU * day as f64 / 7.0;
            rows[[t, col]] = angle.sin();
            rows[[t, col + 1]] = angle.cos();
        }
        col += 2;
    }
    debug_assert_eq!(col, width);
    let mut valid = vec![false; n];
    for (t, row) in rows.rows_mut().into_iter().enumerate() {
        if t >= warm_up && row.iter().all(|v| v.is_finite()) {
            valid[t] = true;
        } else {
            row.into_iter().for_each(|v| *v = f64::NAN);
        }
    }
    FeatureRows {
        rows,
        valid,
        warm_up,
    }
}

#[cfg(test)]
mod tests;
