//! Seasonal ESD (S-H-ESD, Hochenbaum, Vallis & Kejariwal 2017, "Automatic anomaly detection
//! in the cloud via statistical learning"): remove the seasonal component with STL, centre the
//! rest on the median, and run the generalised ESD test with median and MAD.
//!
//! Two forms:
//! - [`SeasonalEsdParams`] (`seasonal_esd`, **batch**, not causal): decomposes the whole scored
//!   series with STL in R's `s.window = "periodic"` setting (seasonal window 10n + 1, degree 0,
//!   robust, 1 inner and 15 outer iterations, R's jumps of ⌈window / 10⌉; seasonal = per-phase
//!   cycle means), residual =
//!   x − seasonal − median(x), then up to ⌊n · `max_anomalies`⌋ ESD iterations at level
//!   `alpha`. The score of each removed point is its ESD statistic R_i; every other point gets
//!   |r − median| / MAD of what was left, so all scores are on one robust-z scale.
//!   [`SeasonalEsdModel::anomalies`] returns the points the test itself flags.
//! - [`SeasonalEsdSlidingParams`] (`seasonal_esd_sliding`, **causal**): the seasonal profile
//!   (STL periodic cycle means) is re-estimated every `refresh` rows from the trailing
//!   `window` rows, and each row's residual is scored by the first ESD statistic against the
//!   residuals of the trailing window (median / MAD), i.e. online adaptation with a memory of
//!   `window` rows; the band is the first ESD critical value at `alpha`.
//!
//! NaN rows: linearly interpolated for STL only, never tested, score 0. Cost: batch
//! O(n · STL iterations + k · n); sliding O(window) per row plus one STL per refresh.

pub mod esd;
mod sliding;
pub mod stl;

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

pub use esd::Direction;
pub use sliding::{SeasonalEsdSlidingModel, SeasonalEsdSlidingParams, SeasonalEsdSlidingValid};

use crate::channels::{ChannelFit, fit_channels, score_channels, standardised};
use crate::error::{Result, TrainError};
use crate::scores::{ChannelScores, Combine, Scores};
use crate::season::detect_period;
use crate::space::{Dim, Space};
use esd::generalized_esd;
use stl::{StlConfig, decompose};

/// Unchecked parameters of batch S-H-ESD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeasonalEsdParams {
    /// Season length in rows; `None` = detect it on the training data.
    pub period: Option<usize>,
    /// Longest period the detection considers.
    pub max_period: usize,
    /// Significance level of the ESD tests.
    pub alpha: f64,
    /// Most anomalies tested, as a fraction of the rows (Twitter's `max_anoms`).
    pub max_anomalies: f64,
    /// Which deviations count.
    pub direction: Direction,
    /// How channel scores combine.
    pub combine: Combine,
}

impl Default for SeasonalEsdParams {
    fn default() -> Self {
        Self {
            period: None,
            max_period: 500,
            alpha: 0.05,
            max_anomalies: 0.02,
            direction: Direction::Both,
            combine: Combine::Max,
        }
    }
}

impl SeasonalEsdParams {
    /// Sets the period (`None` = detect).
    pub fn with_period(mut self, period: Option<usize>) -> Self {
        self.period = period;
        self
    }
    /// Sets the test level and the largest anomaly fraction.
    pub fn with_test(mut self, alpha: f64, max_anomalies: f64) -> Self {
        self.alpha = alpha;
        self.max_anomalies = max_anomalies;
        self
    }
    /// Sets the direction.
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    /// The search space.
    pub fn space() -> Space {
        vec![
            Dim::log("alpha", 0.001, 0.1),
            Dim::float("max_anomalies", 0.005, 0.1),
            Dim::choice("direction", &["both", "positive"]),
        ]
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<SeasonalEsdValid> {
        check_common("seasonal_esd", self.period, self.max_period, self.alpha)?;
        if !(self.max_anomalies > 0.0 && self.max_anomalies <= 0.49) {
            return Err(TrainError::param(
                "seasonal_esd.max_anomalies",
                format!("{} is not in (0, 0.49]", self.max_anomalies),
                "give the largest share of anomalous rows, e.g. 0.02",
            ));
        }
        Ok(SeasonalEsdValid {
            params: self.clone(),
        })
    }
}

pub(crate) fn check_common(
    family: &str,
    period: Option<usize>,
    max_period: usize,
    alpha: f64,
) -> Result<()> {
    if let Some(p) = period
        && p < 2
    {
        return Err(TrainError::param(
            format!("{family}.period"),
            format!("{p} is below 2"),
            "a season spans at least two rows; leave it out to detect it",
        ));
    }
    if period.is_none() && max_period < 3 {
        return Err(TrainError::param(
            format!("{family}.max_period"),
            format!("{max_period} is below 3"),
            "detection needs room: use e.g. 500, or give the period",
        ));
    }
    if !(alpha > 0.0 && alpha < 0.5) {
        return Err(TrainError::param(
            format!("{family}.alpha"),
            format!("{alpha} is not in (0, 0.5)"),
            "use a significance level such as 0.05",
        ));
    }
    Ok(())
}

/// The period to use on a channel: given, or detected (1 = no season when nothing is found).
pub(crate) fn resolve_period(period: Option<usize>, max_period: usize, y: &[f64]) -> usize {
    period.unwrap_or_else(|| detect_period(y, max_period).unwrap_or(1))
}

/// Checked batch S-H-ESD parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonalEsdValid {
    params: SeasonalEsdParams,
}

/// What batch S-H-ESD learns per channel: the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonalEsdChannel {
    /// Season length (1 = no seasonal component).
    pub period: usize,
}

impl SeasonalEsdValid {
    /// Resolves each channel's period on `train` (at least 3 finite values needed).
    pub fn fit(&self, train: &Series) -> Result<SeasonalEsdModel> {
        let channels = fit_channels(train, "seasonal_esd", |y, channel| {
            let got = y.iter().filter(|v| v.is_finite()).count();
            if got < 10 {
                return Err(TrainError::NotEnoughData {
                    family: "seasonal_esd",
                    channel,
                    needed: 10,
                    got,
                });
            }
            Ok(SeasonalEsdChannel {
                period: resolve_period(self.params.period, self.params.max_period, y),
            })
        })?;
        Ok(SeasonalEsdModel {
            params: self.params.clone(),
            channels,
        })
    }
}

/// A fitted batch S-H-ESD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonalEsdModel {
    /// The parameters.
    pub params: SeasonalEsdParams,
    /// Per-channel period.
    pub channels: Vec<ChannelFit<SeasonalEsdChannel>>,
}

/// Batch S-H-ESD on one channel: scores, expected values and the flagged rows.
pub(crate) struct BatchResult {
    pub(crate) scores: ChannelScores,
    pub(crate) anomalies: Vec<usize>,
}

impl SeasonalEsdModel {
    /// Scores every row of `series` (batch: each score uses the whole series).
    pub fn score(&self, series: &Series) -> Result<Scores> {
        score_channels(
            series,
            "seasonal_esd",
            &self.channels,
            self.params.combine,
            |channel, x| batch(&self.params, channel.period, x).scores,
        )
    }

    /// The rows the S-H-ESD test flags at level `alpha`, per channel.
    pub fn anomalies(&self, series: &Series) -> Result<Vec<Vec<usize>>> {
        if series.channels() != self.channels.len() {
            return Err(TrainError::ChannelMismatch {
                family: "seasonal_esd",
                fitted: self.channels.len(),
                got: series.channels(),
            });
        }
        Ok(self
            .channels
            .iter()
            .enumerate()
            .map(|(c, fit)| {
                let x = crate::channels::column(series, c, fit.scale);
                batch(&self.params, fit.state.period, &x).anomalies
            })
            .collect())
    }
}

/// NaNs replaced by linear interpolation (ends: the nearest finite value); `None` when no
/// value is finite.
pub(crate) fn interpolate(x: &[f64]) -> Option<Vec<f64>> {
    let known: Vec<usize> = (0..x.len()).filter(|&i| x[i].is_finite()).collect();
    let (&first, &last) = (known.first()?, known.last()?);
    let mut out = x.to_vec();
    out[..first].iter_mut().for_each(|v| *v = x[first]);
    out[last + 1..].iter_mut().for_each(|v| *v = x[last]);
    for pair in known.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        for (i, slot) in out.iter_mut().enumerate().take(b).skip(a + 1) {
            let w = (i - a) as f64 / (b - a) as f64;
            *slot = x[a] + w * (x[b] - x[a]);
        }
    }
    Some(out)
}

/// R's `stl(s.window = "periodic", robust = TRUE)` seasonal component (R's windows, degrees,
/// iterations and jumps), replaced by its per-phase means; zeros when the series is shorter
/// than two periods.
pub(crate) fn periodic_seasonal(filled: &[f64], period: usize) -> Vec<f64> {
    let n = filled.len();
    if period < 2 || n < 2 * period {
        return vec![0.0; n];
    }
    let low_pass = period + usize::from(period.is_multiple_of(2));
    let mut config = StlConfig {
        seasonal: 10 * n + 1,
        seasonal_deg: 0,
        robust: true,
        inner_iter: Some(1),
        outer_iter: Some(15),
        low_pass: Some(low_pass),
        ..StlConfig::new(period)
    };
    // R's stl() evaluates each loess every ⌈window / 10⌉ points and interpolates.
    config.seasonal_jump = config.seasonal.div_ceil(10);
    config.trend_jump = config.trend_len().div_ceil(10);
    config.low_pass_jump = low_pass.div_ceil(10);
    let seasonal = decompose(filled, &config).seasonal;
    let mut sums = vec![0.0; period];
    let mut counts = vec![0usize; period];
    for (i, s) in seasonal.iter().enumerate() {
        sums[i % period] += s;
        counts[i % period] += 1;
    }
    (0..n)
        .map(|i| sums[i % period] / counts[i % period] as f64)
        .collect()
}

/// Median of the finite values (mean of the middle two for an even count).
pub(crate) fn median(x: &[f64]) -> f64 {
    let mut v: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub(crate) fn batch(params: &SeasonalEsdParams, period: usize, x: &[f64]) -> BatchResult {
    let n = x.len();
    let Some(filled) = interpolate(x) else {
        return BatchResult {
            scores: ChannelScores {
                values: vec![0.0; n],
                warm_up: n,
                expected: Some(vec![f64::NAN; n]),
                band: None,
            },
            anomalies: Vec::new(),
        };
    };
    let seasonal = periodic_seasonal(&filled, period);
    let center = median(x);
    let resid: Vec<f64> = (0..n)
        .map(|i| {
            if x[i].is_finite() {
                x[i] - seasonal[i] - center
            } else {
                f64::NAN
            }
        })
        .collect();
    let finite = resid.iter().filter(|v| v.is_finite()).count();
    let max_removals = (finite as f64 * params.max_anomalies) as usize;
    let result = generalized_esd(&resid, max_removals, params.alpha, params.direction);
    let mut values: Vec<f64> = resid
        .iter()
        .map(|&r| {
            if !r.is_finite() {
                return 0.0;
            }
            let deviation = r - result.final_center;
            let deviation = match params.direction {
                Direction::Both => deviation,
                Direction::Positive => deviation.max(0.0),
                Direction::Negative => deviation.min(0.0),
            };
            standardised(deviation, result.final_spread)
        })
        .collect();
    for &(index, statistic) in &result.removed {
        values[index] = statistic.max(0.0);
    }
    let anomalies = result.removed[..result.anomalies]
        .iter()
        .map(|r| r.0)
        .collect();
    let expected = (0..n)
        .map(|i| seasonal[i] + center + result.final_center)
        .collect();
    BatchResult {
        scores: ChannelScores {
            values,
            warm_up: 0,
            expected: Some(expected),
            band: None,
        },
        anomalies,
    }
}
