//! EWMA control chart: how many exponentially weighted standard deviations the value lies from
//! the exponentially weighted mean of the rows before it.
//!
//! - Mean and variance are smoothed with the same weight `alpha` (or `span`, α = 2 / (span + 1)),
//!   exactly as pandas' `ewm(alpha, adjust, ignore_na=True).mean()` and `.std()` (bias-corrected),
//!   shifted by one row: the score at t uses the statistics of rows < t.
//! - Causal and online: both statistics update recursively with every finite value, so the
//!   chart follows drift with a memory of about 1 / α rows. NaN rows leave the state unchanged
//!   (pandas' `ignore_na=True`) and score 0.
//! - `adjust = false` is the textbook recursion m_t = (1 − α) m_{t−1} + α x_t (a runtime
//!   service's form); `adjust = true` uses pandas' finite-sample weights.
//! - Cost: O(1) per row. Reference: Roberts (1959), "Control chart tests based on geometric
//!   moving averages"; Lucas & Saccucci (1990).

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::channels::{ChannelFit, fit_channels, score_channels, standardised};
use crate::error::{Result, TrainError};
use crate::scores::{Band, ChannelScores, Combine, Scores};
use crate::space::{Dim, Space};

/// Unchecked parameters of the EWMA chart. Give `alpha` or `span`, not both; neither means
/// α = 0.05.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EwmaParams {
    /// Smoothing weight of the newest value, in (0, 1].
    pub alpha: Option<f64>,
    /// Span in rows (≥ 1); α = 2 / (span + 1).
    pub span: Option<f64>,
    /// pandas' `adjust` (finite-sample weights) versus the plain recursion.
    pub adjust: bool,
    /// Finite values seen before the chart scores (≥ 2: a spread needs two values).
    pub min_periods: usize,
    /// Half-width of the reported band, in standard deviations.
    pub band_z: f64,
    /// How channel scores combine.
    pub combine: Combine,
}

impl Default for EwmaParams {
    fn default() -> Self {
        Self {
            alpha: None,
            span: None,
            adjust: false,
            min_periods: 10,
            band_z: 3.0,
            combine: Combine::Max,
        }
    }
}

impl EwmaParams {
    /// Default α when neither `alpha` nor `span` is given.
    pub const DEFAULT_ALPHA: f64 = 0.05;

    /// Sets α (and clears `span`).
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = Some(alpha);
        self.span = None;
        self
    }
    /// Sets the span (and clears `alpha`).
    pub fn with_span(mut self, span: f64) -> Self {
        self.span = Some(span);
        self.alpha = None;
        self
    }
    /// Sets pandas' `adjust`.
    pub fn with_adjust(mut self, adjust: bool) -> Self {
        self.adjust = adjust;
        self
    }
    /// Sets the minimum number of finite values.
    pub fn with_min_periods(mut self, min_periods: usize) -> Self {
        self.min_periods = min_periods;
        self
    }
    /// Sets the channel combination.
    pub fn with_combine(mut self, combine: Combine) -> Self {
        self.combine = combine;
        self
    }

    /// The search space: α on a log scale.
    pub fn space() -> Space {
        vec![Dim::log("alpha", 0.001, 0.5)]
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<EwmaValid> {
        let alpha = match (self.alpha, self.span) {
            (Some(_), Some(_)) => {
                return Err(TrainError::param(
                    "ewma.alpha",
                    "both alpha and span are set",
                    "give either alpha or span (alpha = 2 / (span + 1)), not both",
                ));
            }
            (Some(alpha), None) => alpha,
            (None, Some(span)) => {
                if !(span.is_finite() && span >= 1.0) {
                    return Err(TrainError::param(
                        "ewma.span",
                        format!("{span} is below 1"),
                        "use a span of at least 1 row",
                    ));
                }
                2.0 / (span + 1.0)
            }
            (None, None) => Self::DEFAULT_ALPHA,
        };
        if !(alpha > 0.0 && alpha <= 1.0) {
            return Err(TrainError::param(
                "ewma.alpha",
                format!("{alpha} is not in (0, 1]"),
                "use a smoothing weight such as 0.05",
            ));
        }
        if self.min_periods < 2 {
            return Err(TrainError::param(
                "ewma.min_periods",
                format!("{} is below 2", self.min_periods),
                "a standard deviation needs two values: use min_periods ≥ 2",
            ));
        }
        if !(self.band_z.is_finite() && self.band_z > 0.0) {
            return Err(TrainError::param(
                "ewma.band_z",
                format!("{} is not a positive number", self.band_z),
                "use a band half-width such as 3.0",
            ));
        }
        Ok(EwmaValid {
            params: self.clone(),
            alpha,
        })
    }
}

/// Checked EWMA parameters with the resolved α.
#[derive(Debug, Clone, PartialEq)]
pub struct EwmaValid {
    params: EwmaParams,
    alpha: f64,
}

impl EwmaValid {
    /// Fits on `train`: checks it holds enough finite values and learns each channel's scale.
    pub fn fit(&self, train: &Series) -> Result<EwmaModel> {
        let needed = self.params.min_periods + 1;
        let channels = fit_channels(train, "ewma", |x, channel| {
            let got = x.iter().filter(|v| v.is_finite()).count();
            if got < needed {
                return Err(TrainError::NotEnoughData {
                    family: "ewma",
                    channel,
                    needed,
                    got,
                });
            }
            Ok(())
        })?;
        Ok(EwmaModel {
            params: self.params.clone(),
            alpha: self.alpha,
            channels,
        })
    }
}

/// A fitted EWMA chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EwmaModel {
    /// The parameters it was fitted with.
    pub params: EwmaParams,
    /// Resolved smoothing weight.
    pub alpha: f64,
    /// Per-channel scale.
    pub channels: Vec<ChannelFit<()>>,
}

impl EwmaModel {
    /// Scores every row of `series` causally.
    pub fn score(&self, series: &Series) -> Result<Scores> {
        score_channels(
            series,
            "ewma",
            &self.channels,
            self.params.combine,
            |_, x| {
                score_channel(
                    self.alpha,
                    self.params.adjust,
                    self.params.min_periods,
                    self.params.band_z,
                    x,
                )
            },
        )
    }
}

/// Exponentially weighted mean and bias-corrected variance, updated one value at a time with
/// pandas' `ewm`/`ewmcov` recursions (`ignore_na = True`).
#[derive(Debug, Clone)]
pub(crate) struct EwState {
    old_wt_factor: f64,
    new_wt: f64,
    adjust: bool,
    observations: usize,
    mean: f64,
    cov: f64,
    sum_wt: f64,
    sum_wt2: f64,
    old_wt: f64,
}

impl EwState {
    pub(crate) fn new(alpha: f64, adjust: bool) -> Self {
        Self {
            old_wt_factor: 1.0 - alpha,
            new_wt: if adjust { 1.0 } else { alpha },
            adjust,
            observations: 0,
            mean: f64::NAN,
            cov: 0.0,
            sum_wt: 1.0,
            sum_wt2: 1.0,
            old_wt: 1.0,
        }
    }

    /// Adds a finite value.
    pub(crate) fn update(&mut self, x: f64) {
        self.observations += 1;
        if self.observations == 1 {
            self.mean = x;
            return;
        }
        self.sum_wt *= self.old_wt_factor;
        self.sum_wt2 *= self.old_wt_factor * self.old_wt_factor;
        self.old_wt *= self.old_wt_factor;
        let old_mean = self.mean;
        if self.mean != x {
            self.mean = (self.old_wt * old_mean + self.new_wt * x) / (self.old_wt + self.new_wt);
        }
        let d_old = old_mean - self.mean;
        let d_new = x - self.mean;
        self.cov = (self.old_wt * (self.cov + d_old * d_old) + self.new_wt * (d_new * d_new))
            / (self.old_wt + self.new_wt);
        self.sum_wt += self.new_wt;
        self.sum_wt2 += self.new_wt * self.new_wt;
        self.old_wt += self.new_wt;
        if !self.adjust {
            self.sum_wt /= self.old_wt;
            self.sum_wt2 /= self.old_wt * self.old_wt;
            self.old_wt = 1.0;
        }
    }

    pub(crate) fn observations(&self) -> usize {
        self.observations
    }

    pub(crate) fn mean(&self) -> f64 {
        self.mean
    }

    /// Bias-corrected variance (pandas `bias=False`); NaN when undefined.
    pub(crate) fn var(&self) -> f64 {
        if self.observations < 2 {
            return f64::NAN;
        }
        let numerator = self.sum_wt * self.sum_wt;
        let denominator = numerator - self.sum_wt2;
        if denominator > 0.0 {
            numerator / denominator * self.cov
        } else {
            f64::NAN
        }
    }
}

/// EWMA chart over one (scaled) channel.
pub(crate) fn score_channel(
    alpha: f64,
    adjust: bool,
    min_periods: usize,
    band_z: f64,
    x: &[f64],
) -> ChannelScores {
    let n = x.len();
    let mut values = vec![0.0; n];
    let mut expected = vec![f64::NAN; n];
    let mut lower = vec![f64::NAN; n];
    let mut upper = vec![f64::NAN; n];
    let mut warm_up = None;
    let mut state = EwState::new(alpha, adjust);
    for t in 0..n {
        if state.observations() >= min_periods {
            let var = state.var();
            let sd = if var.is_finite() {
                var.max(0.0).sqrt()
            } else {
                0.0
            };
            let mean = state.mean();
            expected[t] = mean;
            lower[t] = mean - band_z * sd;
            upper[t] = mean + band_z * sd;
            warm_up.get_or_insert(t);
            if x[t].is_finite() {
                values[t] = standardised(x[t] - mean, sd);
            }
        }
        if x[t].is_finite() {
            state.update(x[t]);
        }
    }
    ChannelScores {
        values,
        warm_up: warm_up.unwrap_or(n),
        expected: Some(expected),
        band: Some(Band { lower, upper }),
    }
}
