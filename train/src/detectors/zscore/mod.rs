//! Rolling z-score: how many spreads the value lies from the centre of the previous `window`
//! rows.
//!
//! - Centre and spread: mean and sample standard deviation ([`Center::MeanStd`]), or median and
//!   MAD scaled by 1.4826 to estimate σ under normality ([`Center::MedianMad`], robust to the
//!   outliers it is looking for).
//! - The window holds the rows *before* t (pandas: `x.rolling(w, min_periods).mean().shift(1)`),
//!   so a spike does not widen its own yardstick.
//! - Causal and online: the window slides with every row, so the detector adapts to drift with
//!   a memory of `window` rows; fitting learns only the channel scale.
//! - NaN rows take a window slot but are not observations; their own score is 0.
//! - Cost: O(1) per row for mean/σ, O(window) per row worst case for median/MAD (sorted
//!   window insert/remove; the MAD itself is O(log window)).

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::channels::{ChannelFit, fit_channels, score_channels, standardised};
use crate::error::{Result, TrainError};
use crate::rolling::{Moments, SortedWindow};
use crate::scores::{Band, ChannelScores, Combine, Scores};
use crate::space::{Dim, Space};

/// Consistency constant: MAD × 1.4826 estimates σ for Gaussian data.
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// Which centre and spread the z-score uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Center {
    /// Mean and sample standard deviation.
    #[default]
    MeanStd,
    /// Median and 1.4826 × median absolute deviation.
    MedianMad,
}

/// Unchecked parameters of the rolling z-score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RollingZScoreParams {
    /// Rows in the trailing window (the memory of the online adaptation).
    pub window: usize,
    /// Finite values the window needs before it scores; `None` = half the window (at least 2),
    /// so scattered missing values do not silence the detector (pandas' default is `window`).
    pub min_periods: Option<usize>,
    /// Mean/σ or median/MAD.
    pub center: Center,
    /// Half-width of the reported band, in spreads.
    pub band_z: f64,
    /// How channel scores combine.
    pub combine: Combine,
}

impl Default for RollingZScoreParams {
    fn default() -> Self {
        Self {
            window: 100,
            min_periods: None,
            center: Center::MeanStd,
            band_z: 3.0,
            combine: Combine::Max,
        }
    }
}

impl RollingZScoreParams {
    /// Sets the window length.
    pub fn with_window(mut self, window: usize) -> Self {
        self.window = window;
        self
    }
    /// Sets the minimum number of finite values in the window.
    pub fn with_min_periods(mut self, min_periods: usize) -> Self {
        self.min_periods = Some(min_periods);
        self
    }
    /// Sets the centre/spread pair.
    pub fn with_center(mut self, center: Center) -> Self {
        self.center = center;
        self
    }
    /// Sets the channel combination.
    pub fn with_combine(mut self, combine: Combine) -> Self {
        self.combine = combine;
        self
    }

    /// The search space: window on a log-like integer range, centre choice.
    pub fn space() -> Space {
        vec![
            Dim::int("window", 10, 2000, 10),
            Dim::choice("center", &["mean_std", "median_mad"]),
        ]
    }

    /// Checks every rule; a checked value cannot be wrong.
    pub fn check(&self) -> Result<RollingZScoreValid> {
        let min_periods = super::check_rolling_window(
            "rolling_zscore",
            self.window,
            self.min_periods,
            "a spread",
        )?;
        if !(self.band_z.is_finite() && self.band_z > 0.0) {
            return Err(TrainError::param(
                "rolling_zscore.band_z",
                format!("{} is not a positive number", self.band_z),
                "use a band half-width such as 3.0",
            ));
        }
        Ok(RollingZScoreValid {
            params: self.clone(),
            min_periods,
        })
    }
}

/// Checked parameters of the rolling z-score.
#[derive(Debug, Clone, PartialEq)]
pub struct RollingZScoreValid {
    params: RollingZScoreParams,
    min_periods: usize,
}

impl RollingZScoreValid {
    /// Fits on `train`: checks it holds enough finite values and learns each channel's scale.
    pub fn fit(&self, train: &Series) -> Result<RollingZScoreModel> {
        let needed = self.min_periods + 1;
        let channels = fit_channels(train, "rolling_zscore", |x, channel| {
            let got = x.iter().filter(|v| v.is_finite()).count();
            if got < needed {
                return Err(TrainError::NotEnoughData {
                    family: "rolling_zscore",
                    channel,
                    needed,
                    got,
                });
            }
            Ok(())
        })?;
        Ok(RollingZScoreModel {
            params: self.params.clone(),
            min_periods: self.min_periods,
            channels,
        })
    }
}

/// A fitted rolling z-score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollingZScoreModel {
    /// The parameters it was fitted with.
    pub params: RollingZScoreParams,
    /// Resolved minimum number of finite values.
    pub min_periods: usize,
    /// Per-channel scale.
    pub channels: Vec<ChannelFit<()>>,
}

impl RollingZScoreModel {
    /// Scores every row of `series` causally.
    pub fn score(&self, series: &Series) -> Result<Scores> {
        score_channels(
            series,
            "rolling_zscore",
            &self.channels,
            self.params.combine,
            |_, x| score_channel(&self.params, self.min_periods, x),
        )
    }
}

/// Rolling z-score of one (scaled) channel.
pub(crate) fn score_channel(
    params: &RollingZScoreParams,
    min_periods: usize,
    x: &[f64],
) -> ChannelScores {
    let n = x.len();
    let window = params.window;
    let mut values = vec![0.0; n];
    let mut expected = vec![f64::NAN; n];
    let mut lower = vec![f64::NAN; n];
    let mut upper = vec![f64::NAN; n];
    let mut warm_up = None;
    let mut moments = Moments::default();
    let mut sorted = SortedWindow::with_capacity(window);
    for t in 0..n {
        let count = match params.center {
            Center::MeanStd => moments.count(),
            Center::MedianMad => sorted.count(),
        };
        if count >= min_periods {
            let (center, spread) = match params.center {
                Center::MeanStd => (moments.mean(), moments.std()),
                Center::MedianMad => {
                    let median = sorted.median();
                    (median, MAD_TO_SIGMA * sorted.mad(median))
                }
            };
            expected[t] = center;
            lower[t] = center - params.band_z * spread;
            upper[t] = center + params.band_z * spread;
            warm_up.get_or_insert(t);
            if x[t].is_finite() {
                values[t] = standardised(x[t] - center, spread);
            }
        }
        if x[t].is_finite() {
            match params.center {
                Center::MeanStd => moments.add(x[t]),
                Center::MedianMad => sorted.add(x[t]),
            }
        }
        if t >= window && x[t - window].is_finite() {
            match params.center {
                Center::MeanStd => moments.remove(x[t - window]),
                Center::MedianMad => sorted.remove(x[t - window]),
            }
        }
    }
    ChannelScores {
        values,
        warm_up: warm_up.unwrap_or(n),
        expected: Some(expected),
        band: Some(Band { lower, upper }),
    }
}
