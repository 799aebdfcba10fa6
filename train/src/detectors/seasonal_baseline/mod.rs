//! Seasonal baseline: how many noise standard deviations a value lies from what the same time of
//! the last few seasons (weeks, say) says it should be, after a level, a trend and a short
//! (daily) profile fitted on the training rows.
//!
//! - Expected value at row t: `level + slope·t + profile[t mod period] + W_t`, where `W_t` is the
//!   median of the deviations `y_u − (level + slope·u + profile[u mod period])` at the rows
//!   `u = t − k·long_period + j` for the last `seasons` long seasons (k = 1..=seasons) and the
//!   `h` rows before t in the current one (k = 0, j < 0), `j ∈ [−h, h]` (`h = half_width`).
//!   A weekly long period learns the weekday/weekend pattern (and anything else that repeats
//!   weekly) from the data itself; the median over several seasons keeps one anomalous week
//!   from becoming the norm, and the `h` newest rows let the baseline follow the local level.
//! - Scale: a robust noise standard deviation per short-period phase (heteroscedastic metrics
//!   are noisier at some hours), from the first differences of the deseasonalised training
//!   rows (MAD / √2, pooled over `scale_half_width` neighbouring phases, floored at a quarter
//!   of the median phase's).
//!   While scoring, each phase's variance follows the squared residuals of rows within
//!   `scale_clip` deviations at rate `scale_alpha` (corrected for the truncation).
//! - `transform = "log"` works on `ln(value)`: multiplicative seasonality and noise (traffic,
//!   latencies, ratios) become additive. Values ≤ 0 read as half the smallest positive training
//!   value.
//! - `stuck = true` adds a score for runs of exactly repeated values (a stuck exporter): a run of
//!   r repeats scores the normal quantile of `p^r`, p being the training rows' repeat rate
//!   (with one pseudo-count), so the score is on the same z scale as the residuals.
//! - Robust against anomalies in the training rows: profile, level and trend are medians
//!   (Theil–Sen for the trend, over per-period medians), and the scale comes from differences.
//! - Causal: the state at row t is built from rows < t (and row t's own value); NaN rows score
//!   0 and leave no deviation behind. Rows before the first long season (t < long_period − h)
//!   have no past-season value and score 0: the warm-up. Score the series that starts where the
//!   training data started, so that phases line up.
//! - Cost: O(n) to fit; O(n · (seasons + 1) · (2h + 1)) to score, O(n) memory.
//!   References: Cleveland et al. (1990) for seasonal-trend decomposition; Hochenbaum, Vallis &
//!   Kejariwal (2017) for medians and MADs in place of means and standard deviations; the
//!   "same time last weeks" baseline of operations dashboards.

mod fit;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

pub use fit::BaselineChannel;

use crate::channels::{ChannelFit, fit_channels, score_channels, standardised};
use crate::error::{Result, TrainError};
use crate::scores::{Band, ChannelScores, Combine, Scores};
use crate::space::{Dim, Space};

/// What the baseline is computed on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// The values as they are (additive seasonality and noise).
    #[default]
    None,
    /// `ln(value)`: multiplicative seasonality and noise become additive.
    Log,
}

/// Unchecked seasonal-baseline parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeasonalBaselineParams {
    /// Short season in rows (the daily profile and the per-phase scale); `None` = detect it on
    /// the training rows (no season when none stands out).
    pub period: Option<usize>,
    /// Longest short period the detection considers.
    pub max_period: usize,
    /// Long season in rows whose past occurrences give the baseline (a week); `None` = the
    /// short period.
    pub long_period: Option<usize>,
    /// How many past long seasons the median looks back over.
    pub seasons: usize,
    /// Rows on each side of the same phase pooled into the median (and rows of the current
    /// season before the scored one).
    pub half_width: usize,
    /// What the baseline is computed on.
    pub transform: Transform,
    /// Fit a linear trend (Theil–Sen) on the training rows and carry it forward.
    pub trend: bool,
    /// Neighbouring phases on each side pooled into each phase's noise scale.
    pub scale_half_width: usize,
    /// Rate at which each phase's noise variance follows the squared residuals while scoring
    /// (0 keeps the training scale).
    pub scale_alpha: f64,
    /// Residuals beyond this many standard deviations leave the scale unchanged.
    pub scale_clip: f64,
    /// Also score runs of exactly repeated values (a stuck exporter).
    pub stuck: bool,
    /// Half-width of the reported band, in noise standard deviations.
    pub band_z: f64,
    /// How channel scores combine.
    pub combine: Combine,
}

impl Default for SeasonalBaselineParams {
    fn default() -> Self {
        Self {
            period: None,
            max_period: 500,
            long_period: None,
            seasons: 3,
            half_width: 6,
            transform: Transform::None,
            trend: true,
            scale_half_width: 6,
            scale_alpha: 0.01,
            scale_clip: 3.0,
            stuck: false,
            band_z: 3.0,
            combine: Combine::Max,
        }
    }
}

impl SeasonalBaselineParams {
    /// Sets the short and long periods (`None` = detect / the short period).
    pub fn with_periods(mut self, period: Option<usize>, long_period: Option<usize>) -> Self {
        self.period = period;
        self.long_period = long_period;
        self
    }
    /// Sets how many past long seasons the median covers and its half-width in rows.
    pub fn with_memory(mut self, seasons: usize, half_width: usize) -> Self {
        self.seasons = seasons;
        self.half_width = half_width;
        self
    }
    /// Sets the transform.
    pub fn with_transform(mut self, transform: Transform) -> Self {
        self.transform = transform;
        self
    }
    /// Turns the trend on or off.
    pub fn with_trend(mut self, trend: bool) -> Self {
        self.trend = trend;
        self
    }
    /// Sets the scale's learning rate while scoring.
    pub fn with_scale_alpha(mut self, scale_alpha: f64) -> Self {
        self.scale_alpha = scale_alpha;
        self
    }
    /// Turns the stuck-value score on or off.
    pub fn with_stuck(mut self, stuck: bool) -> Self {
        self.stuck = stuck;
        self
    }
    /// Sets the channel combination.
    pub fn with_combine(mut self, combine: Combine) -> Self {
        self.combine = combine;
        self
    }

    /// The search space: memory (seasons, half-width), the transform and the scale's rate.
    pub fn space() -> Space {
        vec![
            Dim::int("seasons", 2, 4, 1),
            Dim::int("half_width", 3, 12, 3),
            Dim::choice("transform", &["none", "log"]),
            Dim::log("scale_alpha", 0.001, 0.05),
        ]
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<SeasonalBaselineValid> {
        let name = |field: &str| format!("seasonal_baseline.{field}");
        match self.period {
            Some(p) if p < 2 => {
                return Err(TrainError::param(
                    name("period"),
                    format!("{p} is below 2"),
                    "a season spans at least two rows; leave it out to detect it",
                ));
            }
            None if self.max_period < 3 => {
                return Err(TrainError::param(
                    name("max_period"),
                    format!("{} is below 3", self.max_period),
                    "detection needs room: use e.g. 500, or give the period",
                ));
            }
            _ => {}
        }
        if let Some(long) = self.long_period {
            if long < 2 {
                return Err(TrainError::param(
                    name("long_period"),
                    format!("{long} is below 2"),
                    "a season spans at least two rows; leave it out to use the short period",
                ));
            }
            if 2 * self.half_width >= long {
                return Err(TrainError::param(
                    name("half_width"),
                    format!(
                        "{} rows on each side cover the whole long period of {long}",
                        self.half_width
                    ),
                    "use a half-width below half the long period, e.g. 6 rows for a week",
                ));
            }
        }
        if self.seasons == 0 {
            return Err(TrainError::param(
                name("seasons"),
                "0 past seasons",
                "the baseline needs at least one past season: use e.g. 3",
            ));
        }
        if !(0.0..1.0).contains(&self.scale_alpha) {
            return Err(TrainError::param(
                name("scale_alpha"),
                format!("{} is not in [0, 1)", self.scale_alpha),
                "use a small learning rate such as 0.01, or 0 to keep the training scale",
            ));
        }
        if !(self.scale_clip.is_finite() && self.scale_clip > 0.0) {
            return Err(TrainError::param(
                name("scale_clip"),
                format!("{} is not a positive number", self.scale_clip),
                "use a clip such as 3.0 standard deviations",
            ));
        }
        if !(self.band_z.is_finite() && self.band_z > 0.0) {
            return Err(TrainError::param(
                name("band_z"),
                format!("{} is not a positive number", self.band_z),
                "use a band half-width such as 3.0",
            ));
        }
        Ok(SeasonalBaselineValid {
            params: self.clone(),
        })
    }
}

/// Checked seasonal-baseline parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonalBaselineValid {
    params: SeasonalBaselineParams,
}

impl SeasonalBaselineValid {
    /// Fits every channel of `train`: period, profile, level, trend, per-phase scale and the
    /// repeat rate (see [`fit::fit_channel`]).
    pub fn fit(&self, train: &Series) -> Result<SeasonalBaselineModel> {
        let channels = fit_channels(train, "seasonal_baseline", |x, channel| {
            fit::fit_channel(&self.params, x, channel)
        })?;
        Ok(SeasonalBaselineModel {
            params: self.params.clone(),
            channels,
        })
    }
}

/// A fitted seasonal baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonalBaselineModel {
    /// The parameters it was fitted with.
    pub params: SeasonalBaselineParams,
    /// Per-channel fitted state.
    pub channels: Vec<ChannelFit<BaselineChannel>>,
}

impl SeasonalBaselineModel {
    /// Scores every row of `series` causally.
    pub fn score(&self, series: &Series) -> Result<Scores> {
        score_channels(
            series,
            "seasonal_baseline",
            &self.channels,
            self.params.combine,
            |channel, x| score_channel(&self.params, channel, x),
        )
    }
}

/// `E[Z² | |Z| < c]` for a standard normal Z: the variance of residuals kept by the clip, which
/// the scale update divides by so that it stays unbiased.
fn truncated_variance(c: f64) -> f64 {
    let inside = 1.0 - 2.0 * crate::stats::normal_tail(c);
    let density = (-0.5 * c * c).exp() / (2.0 * std::f64::consts::PI).sqrt();
    if inside > 0.0 {
        (1.0 - 2.0 * c * density / inside).max(1e-12)
    } else {
        1.0
    }
}

/// Scores one (scaled) channel.
pub(crate) fn score_channel(
    params: &SeasonalBaselineParams,
    channel: &BaselineChannel,
    x: &[f64],
) -> ChannelScores {
    let n = x.len();
    let mut values = vec![0.0; n];
    let mut expected = vec![f64::NAN; n];
    let mut lower = vec![f64::NAN; n];
    let mut upper = vec![f64::NAN; n];
    let y: Vec<f64> = x.iter().map(|&v| channel.transform(v)).collect();
    let inverse = |v: f64| match channel.transform {
        Transform::None => v,
        Transform::Log => v.exp(),
    };
    let (period, long) = (channel.period, channel.long_period);
    let (seasons, h) = (params.seasons, params.half_width);
    let mut variance: Vec<f64> = channel.scale.iter().map(|s| s * s).collect();
    let kept_variance = truncated_variance(params.scale_clip);
    let mut deviation = vec![f64::NAN; n];
    let mut pool: Vec<f64> = Vec::with_capacity((seasons + 1) * (2 * h + 1));
    let mut warm_up = None;
    let mut repeats = 0usize;
    for t in 0..n {
        let phase = t % period;
        let base = channel.level + channel.slope * t as f64 + channel.profile[phase];
        pool.clear();
        let mut past = false;
        for k in 0..=seasons {
            for j in 0..=2 * h {
                let Some(u) = (t + j).checked_sub(k * long + h) else {
                    continue;
                };
                if u < t && deviation[u].is_finite() {
                    pool.push(deviation[u]);
                    past |= k > 0;
                }
            }
        }
        if y[t].is_finite() {
            deviation[t] = y[t] - base;
        }
        if params.stuck {
            let repeated = t > 0 && x[t].is_finite() && x[t] == x[t - 1];
            repeats = if repeated { repeats + 1 } else { 0 };
        }
        if !past {
            continue;
        }
        warm_up.get_or_insert(t);
        let forecast = base + median(&mut pool);
        let sd = variance[phase].sqrt();
        expected[t] = inverse(forecast);
        lower[t] = inverse(forecast - params.band_z * sd);
        upper[t] = inverse(forecast + params.band_z * sd);
        if !y[t].is_finite() {
            continue;
        }
        let residual = y[t] - forecast;
        let z = standardised(residual, sd);
        values[t] = z;
        if params.scale_alpha > 0.0 && z < params.scale_clip {
            variance[phase] = (1.0 - params.scale_alpha) * variance[phase]
                + params.scale_alpha * residual * residual / kept_variance;
        }
        if repeats > 0 {
            values[t] = values[t].max(channel.stuck_score(repeats));
        }
    }
    ChannelScores {
        values,
        warm_up: warm_up.unwrap_or(n),
        expected: Some(expected),
        band: Some(Band { lower, upper }),
    }
}

/// The median of a non-empty pool (reorders it).
fn median(pool: &mut [f64]) -> f64 {
    let mid = pool.len() / 2;
    let (_, upper, _) = pool.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if pool.len() % 2 == 1 {
        upper
    } else {
        let lower = pool[..mid]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lower + upper)
    }
}
