//! The causal sliding form of S-H-ESD (see the parent module's doc).

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use super::esd::{Direction, MAD_CONSTANT, critical_value};
use super::{check_common, interpolate, periodic_seasonal, resolve_period};
use crate::channels::{ChannelFit, fit_channels, score_channels, standardised};
use crate::error::{Result, TrainError};
use crate::rolling::SortedWindow;
use crate::scores::{Band, ChannelScores, Combine, Scores};
use crate::space::{Dim, Space};

/// Unchecked parameters of sliding S-H-ESD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeasonalEsdSlidingParams {
    /// Season length in rows; `None` = detect it on the training data.
    pub period: Option<usize>,
    /// Longest period the detection considers.
    pub max_period: usize,
    /// Rows in the trailing window (memory of the adaptation).
    pub window: usize,
    /// Rows between re-estimates of the seasonal profile; `None` = one period.
    pub refresh: Option<usize>,
    /// Level of the first ESD test, which sets the band.
    pub alpha: f64,
    /// Which deviations count.
    pub direction: Direction,
    /// How channel scores combine.
    pub combine: Combine,
}

impl Default for SeasonalEsdSlidingParams {
    fn default() -> Self {
        Self {
            period: None,
            max_period: 500,
            window: 1000,
            refresh: None,
            alpha: 0.05,
            direction: Direction::Both,
            combine: Combine::Max,
        }
    }
}

impl SeasonalEsdSlidingParams {
    /// Sets the period (`None` = detect).
    pub fn with_period(mut self, period: Option<usize>) -> Self {
        self.period = period;
        self
    }
    /// Sets the trailing window.
    pub fn with_window(mut self, window: usize) -> Self {
        self.window = window;
        self
    }

    /// The search space.
    pub fn space() -> Space {
        vec![
            Dim::int("window", 100, 5000, 50),
            Dim::choice("direction", &["both", "positive"]),
        ]
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<SeasonalEsdSlidingValid> {
        check_common(
            "seasonal_esd_sliding",
            self.period,
            self.max_period,
            self.alpha,
        )?;
        if self.window < 20 {
            return Err(TrainError::param(
                "seasonal_esd_sliding.window",
                format!("{} is below 20", self.window),
                "the trailing window needs room for a robust spread: use 20 rows or more",
            ));
        }
        if self.refresh == Some(0) {
            return Err(TrainError::param(
                "seasonal_esd_sliding.refresh",
                "0 rows",
                "refresh the seasonal profile every ≥ 1 rows, or leave it out (one period)",
            ));
        }
        Ok(SeasonalEsdSlidingValid {
            params: self.clone(),
        })
    }
}

/// Checked sliding S-H-ESD parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonalEsdSlidingValid {
    params: SeasonalEsdSlidingParams,
}

/// What sliding S-H-ESD learns per channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlidingChannel {
    /// Season length (1 = none).
    pub period: usize,
    /// Seasonal value per phase (row index mod period), from the training rows.
    pub profile: Vec<f64>,
}

impl SeasonalEsdSlidingValid {
    /// Resolves the period and the initial seasonal profile from the last `window` rows of
    /// `train`; needs at least a quarter window of finite values.
    pub fn fit(&self, train: &Series) -> Result<SeasonalEsdSlidingModel> {
        let needed = self.params.window / 4;
        let channels = fit_channels(train, "seasonal_esd_sliding", |y, channel| {
            let got = y.iter().filter(|v| v.is_finite()).count();
            if got < needed {
                return Err(TrainError::NotEnoughData {
                    family: "seasonal_esd_sliding",
                    channel,
                    needed,
                    got,
                });
            }
            let period = resolve_period(self.params.period, self.params.max_period, y);
            let start = y.len().saturating_sub(self.params.window);
            Ok(SlidingChannel {
                period,
                profile: profile(&y[start..], start, period),
            })
        })?;
        Ok(SeasonalEsdSlidingModel {
            params: self.params.clone(),
            channels,
        })
    }
}

/// Per-phase seasonal values from `x` whose first row has absolute index `offset`.
fn profile(x: &[f64], offset: usize, period: usize) -> Vec<f64> {
    if period < 2 {
        return vec![0.0];
    }
    let mut out = vec![0.0; period];
    if let Some(filled) = interpolate(x) {
        let seasonal = periodic_seasonal(&filled, period);
        for (i, s) in seasonal.iter().enumerate().take(period.min(seasonal.len())) {
            out[(offset + i) % period] = *s;
        }
    }
    out
}

/// A fitted sliding S-H-ESD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonalEsdSlidingModel {
    /// The parameters.
    pub params: SeasonalEsdSlidingParams,
    /// Per-channel period and initial profile.
    pub channels: Vec<ChannelFit<SlidingChannel>>,
}

impl SeasonalEsdSlidingModel {
    /// Scores every row of `series` causally.
    pub fn score(&self, series: &Series) -> Result<Scores> {
        score_channels(
            series,
            "seasonal_esd_sliding",
            &self.channels,
            self.params.combine,
            |channel, x| score_channel(&self.params, channel, x),
        )
    }
}

fn score_channel(
    params: &SeasonalEsdSlidingParams,
    channel: &SlidingChannel,
    x: &[f64],
) -> ChannelScores {
    let n = x.len();
    let window = params.window;
    let period = channel.period.max(1);
    let refresh = params.refresh.unwrap_or(period).max(1);
    let min_count = window / 4;
    let lambda = critical_value(window, 1, params.alpha, params.direction);
    let mut profile = channel.profile.clone();
    let mut residuals = vec![f64::NAN; n];
    let mut sorted = SortedWindow::with_capacity(window);
    let mut values = vec![0.0; n];
    let mut expected = vec![f64::NAN; n];
    let mut lower = vec![f64::NAN; n];
    let mut upper = vec![f64::NAN; n];
    let mut warm_up = None;
    for t in 0..n {
        if period >= 2 && t >= window && t % refresh == 0 {
            // Re-estimate the profile from the trailing window (rows < t).
            profile = self::profile(&x[t - window..t], t - window, period);
            // Residuals in the window are kept as they were scored: a causal record.
        }
        let seasonal = if period >= 2 {
            profile[t % period]
        } else {
            0.0
        };
        if sorted.count() >= min_count {
            let median = sorted.median();
            let mad = MAD_CONSTANT * sorted.mad(median);
            let centre = seasonal + median;
            expected[t] = centre;
            lower[t] = centre - lambda * mad;
            upper[t] = centre + lambda * mad;
            warm_up.get_or_insert(t);
            if x[t].is_finite() {
                let deviation = x[t] - centre;
                let deviation = match params.direction {
                    Direction::Both => deviation,
                    Direction::Positive => deviation.max(0.0),
                    Direction::Negative => deviation.min(0.0),
                };
                values[t] = standardised(deviation, mad);
            }
        }
        if x[t].is_finite() {
            residuals[t] = x[t] - seasonal;
            sorted.add(residuals[t]);
        }
        if t >= window && residuals[t - window].is_finite() {
            sorted.remove(residuals[t - window]);
        }
    }
    ChannelScores {
        values,
        warm_up: warm_up.unwrap_or(n),
        expected: Some(expected),
        band: Some(Band { lower, upper }),
    }
}
