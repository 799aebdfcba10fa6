//! Rolling percentile band: the tail-latency detector. The band is the `lower`..`upper`
//! quantiles of the previous `window` rows (pandas `rolling(w, min_periods).quantile(q)` with
//! linear interpolation, shifted by one row); the score measures how far outside the band's
//! centre the value lies, in half-widths of the band.
//!
//! - [`Side::Upper`] (latency: only slow is bad) scores `max(0, (x − c) / h)`, [`Side::Lower`]
//!   `max(0, (c − x) / h)`, [`Side::Both`] `|x − c| / h`, with c the band centre and h its
//!   half-width; 1 is the band edge. No distributional assumption.
//! - Causal and online: the window slides with every row (memory of `window` rows). NaN rows
//!   take a slot but are not observations, and score 0.
//! - Cost: O(window) per row worst case (sorted window insert/remove), O(1) quantile lookup.

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::channels::{ChannelFit, fit_channels, score_channels, standardised};
use crate::error::{Result, TrainError};
use crate::rolling::SortedWindow;
use crate::scores::{Band, ChannelScores, Combine, Scores};
use crate::space::{Dim, Space};

/// Which side of the band is anomalous.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Only values above the band (tail latency, error counts).
    #[default]
    Upper,
    /// Only values below the band (throughput drops).
    Lower,
    /// Both sides.
    Both,
}

/// Unchecked parameters of the rolling percentile band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RollingPercentileParams {
    /// Rows in the trailing window.
    pub window: usize,
    /// Finite values the window needs before it scores; `None` = half the window (at least 2),
    /// so scattered missing values do not silence the detector (pandas' default is `window`).
    pub min_periods: Option<usize>,
    /// Lower quantile of the band, in [0, 1).
    pub lower: f64,
    /// Upper quantile of the band, in (lower, 1].
    pub upper: f64,
    /// Which side is anomalous.
    pub side: Side,
    /// How channel scores combine.
    pub combine: Combine,
}

impl Default for RollingPercentileParams {
    fn default() -> Self {
        Self {
            window: 288,
            min_periods: None,
            lower: 0.05,
            upper: 0.95,
            side: Side::Upper,
            combine: Combine::Max,
        }
    }
}

impl RollingPercentileParams {
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
    /// Sets both quantiles.
    pub fn with_quantiles(mut self, lower: f64, upper: f64) -> Self {
        self.lower = lower;
        self.upper = upper;
        self
    }
    /// Sets the anomalous side.
    pub fn with_side(mut self, side: Side) -> Self {
        self.side = side;
        self
    }
    /// Sets the channel combination.
    pub fn with_combine(mut self, combine: Combine) -> Self {
        self.combine = combine;
        self
    }

    /// The search space: window and the upper quantile.
    pub fn space() -> Space {
        vec![
            Dim::int("window", 20, 2000, 10),
            Dim::float("upper", 0.9, 0.999),
            Dim::choice("side", &["upper", "both"]),
        ]
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<RollingPercentileValid> {
        let min_periods = super::check_rolling_window(
            "rolling_percentile",
            self.window,
            self.min_periods,
            "a band",
        )?;
        if !(0.0..1.0).contains(&self.lower) {
            return Err(TrainError::param(
                "rolling_percentile.lower",
                format!("{} is not in [0, 1)", self.lower),
                "quantiles are fractions: use e.g. 0.05",
            ));
        }
        if !(self.upper > self.lower && self.upper <= 1.0) {
            return Err(TrainError::param(
                "rolling_percentile.upper",
                format!("{} is not in (lower = {}, 1]", self.upper, self.lower),
                "the upper quantile must exceed the lower one: use e.g. 0.95",
            ));
        }
        Ok(RollingPercentileValid {
            params: self.clone(),
            min_periods,
        })
    }
}

/// Checked parameters of the rolling percentile band.
#[derive(Debug, Clone, PartialEq)]
pub struct RollingPercentileValid {
    params: RollingPercentileParams,
    min_periods: usize,
}

impl RollingPercentileValid {
    /// Fits on `train`: checks it holds enough finite values and learns each channel's scale.
    pub fn fit(&self, train: &Series) -> Result<RollingPercentileModel> {
        let needed = self.min_periods + 1;
        let channels = fit_channels(train, "rolling_percentile", |x, channel| {
            let got = x.iter().filter(|v| v.is_finite()).count();
            if got < needed {
                return Err(TrainError::NotEnoughData {
                    family: "rolling_percentile",
                    channel,
                    needed,
                    got,
                });
            }
            Ok(())
        })?;
        Ok(RollingPercentileModel {
            params: self.params.clone(),
            min_periods: self.min_periods,
            channels,
        })
    }
}

/// A fitted rolling percentile band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollingPercentileModel {
    /// The parameters it was fitted with.
    pub params: RollingPercentileParams,
    /// Resolved minimum number of finite values.
    pub min_periods: usize,
    /// Per-channel scale.
    pub channels: Vec<ChannelFit<()>>,
}

impl RollingPercentileModel {
    /// Scores every row of `series` causally.
    pub fn score(&self, series: &Series) -> Result<Scores> {
        score_channels(
            series,
            "rolling_percentile",
            &self.channels,
            self.params.combine,
            |_, x| score_channel(&self.params, self.min_periods, x),
        )
    }
}

/// Band score of one (scaled) channel.
pub(crate) fn score_channel(
    params: &RollingPercentileParams,
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
    let mut sorted = SortedWindow::with_capacity(window);
    for t in 0..n {
        if sorted.count() >= min_periods {
            let lo = sorted.quantile(params.lower);
            let hi = sorted.quantile(params.upper);
            let center = 0.5 * (lo + hi);
            let half = 0.5 * (hi - lo);
            expected[t] = center;
            lower[t] = lo;
            upper[t] = hi;
            warm_up.get_or_insert(t);
            if x[t].is_finite() {
                let deviation = x[t] - center;
                values[t] = match params.side {
                    Side::Upper => standardised(deviation.max(0.0), half),
                    Side::Lower => standardised(deviation.min(0.0), half),
                    Side::Both => standardised(deviation, half),
                };
            }
        }
        if x[t].is_finite() {
            sorted.add(x[t]);
        }
        if t >= window && x[t - window].is_finite() {
            sorted.remove(x[t - window]);
        }
    }
    ChannelScores {
        values,
        warm_up: warm_up.unwrap_or(n),
        expected: Some(expected),
        band: Some(Band { lower, upper }),
    }
}
