//! Holt-Winters / ETS: additive or multiplicative trend (optionally damped) and season, the
//! season length given or detected; the score is the one-step-ahead forecast error divided by
//! its standard deviation.
//!
//! - Recursions and initialisation are statsmodels' `ExponentialSmoothing` (error-correction
//!   form; the "simple" or "heuristic" initial state, or "estimated": fitted with the
//!   weights from the heuristic start), so fitted values and SSE match it; the smoothing
//!   weights not fixed in the params are fitted by minimising the SSE in statsmodels'
//!   admissible region (α ∈ (0,1), β ≤ α, γ ≤ 1 − α, φ ∈ [0.8, 0.995]): a coarse grid, then
//!   L-BFGS on the exact reverse-mode gradient from the best grid points, then (estimated)
//!   L-BFGS over weights and initial states together.
//! - Fallback: when the data cannot carry the requested structure (no period detected, fewer
//!   than two seasons, non-positive data for a multiplicative component, a non-finite fit),
//!   the model steps down (drop the season, then the trend), logs a warning and records the
//!   steps in [`Fallback`]. Fewer than `min_train` finite values is a `NotEnoughData` error.
//! - Causal and online: scoring runs the recursion from the fitted initial state over the
//!   series, so level, trend and season keep updating with every row (at the fitted α, β, γ),
//!   and the residual variance follows with weight `scale_alpha`. Score the series that starts
//!   where the training data started (NAB: the whole file). NaN rows coast on the forecast.
//! - Exposes the one-step forecast as `expected` and `expected ± band_z · σ_t` as the band.
//! - Cost: O(n) per SSE evaluation (O(n) for its gradient too); fitting takes a few hundred
//!   evaluations.
//!   Reference: Holt (1957), Winters (1960), Gardner (1985); Hyndman et al. (2008).

mod fit;
mod gradient;
pub mod init;
pub mod recursion;

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

pub use fit::{Fallback, HoltWintersChannel};
pub use recursion::{Component, Smoothing, State, Structure};

use crate::channels::{ChannelFit, fit_channels, score_channels, standardised};
use crate::error::{Result, TrainError};
use crate::scores::{Band, ChannelScores, Combine, Scores};
use crate::space::{Dim, Space};

/// How the initial level, trend and seasonal values are set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Initialization {
    /// statsmodels' "simple" rule (first-season mean, season-on-season slope, first-season
    /// deviations); only the smoothing weights are fitted.
    Simple,
    /// statsmodels' "heuristic" rule (a classical decomposition over the first cycles, a
    /// line through the first ten trend values); only the smoothing weights are fitted.
    /// Falls back to the simple rule when the data is too short (see
    /// [`init::heuristic_min_rows`]).
    Heuristic,
    /// Start from the heuristic rule (the simple one when the data is too short), then fit
    /// the initial states together with the weights (statsmodels' default `"estimated"`),
    /// by L-BFGS on the exact gradient.
    #[default]
    Estimated,
}

/// Unchecked Holt-Winters parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HoltWintersParams {
    /// Trend component.
    pub trend: Component,
    /// Damp the trend (φ fitted in [0.8, 0.995] unless fixed).
    pub damped: bool,
    /// Seasonal component.
    pub seasonal: Component,
    /// Season length in rows; `None` = detect it from the training data.
    pub period: Option<usize>,
    /// Longest period the detection considers.
    pub max_period: usize,
    /// How the initial state is set.
    pub initialization: Initialization,
    /// Fixed level weight α (fitted when `None`).
    pub alpha: Option<f64>,
    /// Fixed trend weight β (fitted when `None`).
    pub beta: Option<f64>,
    /// Fixed seasonal weight γ (fitted when `None`).
    pub gamma: Option<f64>,
    /// Fixed damping φ (fitted when `None`).
    pub phi: Option<f64>,
    /// Weight of each new squared error in the running residual variance while scoring
    /// (0 keeps the training σ).
    pub scale_alpha: f64,
    /// Half-width of the band, in residual standard deviations.
    pub band_z: f64,
    /// Fewest finite training values accepted.
    pub min_train: usize,
    /// How channel scores combine.
    pub combine: Combine,
}

impl Default for HoltWintersParams {
    fn default() -> Self {
        Self {
            trend: Component::Add,
            damped: true,
            seasonal: Component::Add,
            period: None,
            max_period: 500,
            initialization: Initialization::Estimated,
            alpha: None,
            beta: None,
            gamma: None,
            phi: None,
            scale_alpha: 0.01,
            band_z: 3.0,
            min_train: 10,
            combine: Combine::Max,
        }
    }
}

impl HoltWintersParams {
    /// Sets trend and damping.
    pub fn with_trend(mut self, trend: Component, damped: bool) -> Self {
        self.trend = trend;
        self.damped = damped;
        self
    }
    /// Sets the season and its length (`None` = detect).
    pub fn with_seasonal(mut self, seasonal: Component, period: Option<usize>) -> Self {
        self.seasonal = seasonal;
        self.period = period;
        self
    }
    /// Fixes the smoothing weights (`None` leaves one to the optimiser).
    pub fn with_smoothing(
        mut self,
        alpha: Option<f64>,
        beta: Option<f64>,
        gamma: Option<f64>,
        phi: Option<f64>,
    ) -> Self {
        self.alpha = alpha;
        self.beta = beta;
        self.gamma = gamma;
        self.phi = phi;
        self
    }
    /// Sets how the initial state is set.
    pub fn with_initialization(mut self, initialization: Initialization) -> Self {
        self.initialization = initialization;
        self
    }
    /// Sets the residual-variance learning rate used while scoring.
    pub fn with_scale_alpha(mut self, scale_alpha: f64) -> Self {
        self.scale_alpha = scale_alpha;
        self
    }
    /// Sets the channel combination.
    pub fn with_combine(mut self, combine: Combine) -> Self {
        self.combine = combine;
        self
    }

    /// The search space: structure choices and the scale learning rate.
    pub fn space() -> Space {
        vec![
            Dim::choice("trend", &["none", "add"]),
            Dim::flag("damped"),
            Dim::choice("seasonal", &["none", "add", "mul"]),
            Dim::log("scale_alpha", 0.001, 0.2),
        ]
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<HoltWintersValid> {
        let unit = |name: &str, value: Option<f64>| -> Result<()> {
            match value {
                Some(v) if !(0.0..=1.0).contains(&v) => Err(TrainError::param(
                    format!("holt_winters.{name}"),
                    format!("{v} is not in [0, 1]"),
                    "smoothing weights are fractions; leave it out to fit it",
                )),
                _ => Ok(()),
            }
        };
        unit("alpha", self.alpha)?;
        unit("beta", self.beta)?;
        unit("gamma", self.gamma)?;
        if let Some(phi) = self.phi
            && !(phi > 0.0 && phi <= 1.0)
        {
            return Err(TrainError::param(
                "holt_winters.phi",
                format!("{phi} is not in (0, 1]"),
                "damping is a fraction such as 0.98; leave it out to fit it",
            ));
        }
        if self.seasonal != Component::None {
            match self.period {
                Some(p) if p < 2 => {
                    return Err(TrainError::param(
                        "holt_winters.period",
                        format!("{p} is below 2"),
                        "a season spans at least two rows; leave it out to detect it",
                    ));
                }
                None if self.max_period < 3 => {
                    return Err(TrainError::param(
                        "holt_winters.max_period",
                        format!("{} is below 3", self.max_period),
                        "detection needs room: use e.g. 500, or give the period",
                    ));
                }
                _ => {}
            }
        }
        if !(0.0..1.0).contains(&self.scale_alpha) {
            return Err(TrainError::param(
                "holt_winters.scale_alpha",
                format!("{} is not in [0, 1)", self.scale_alpha),
                "use a small learning rate such as 0.01, or 0 to keep the training σ",
            ));
        }
        if !(self.band_z.is_finite() && self.band_z > 0.0) {
            return Err(TrainError::param(
                "holt_winters.band_z",
                format!("{} is not a positive number", self.band_z),
                "use a band half-width such as 3.0",
            ));
        }
        if self.min_train < 3 {
            return Err(TrainError::param(
                "holt_winters.min_train",
                format!("{} is below 3", self.min_train),
                "a forecast model needs at least three values to fit",
            ));
        }
        Ok(HoltWintersValid {
            params: self.clone(),
        })
    }
}

/// Checked Holt-Winters parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct HoltWintersValid {
    params: HoltWintersParams,
}

impl HoltWintersValid {
    /// Fits every channel of `train` (see the module doc for the fallback rules).
    pub fn fit(&self, train: &Series) -> Result<HoltWintersModel> {
        let channels = fit_channels(train, "holt_winters", |y, channel| {
            fit::fit_channel(&self.params, y, channel)
        })?;
        Ok(HoltWintersModel {
            params: self.params.clone(),
            channels,
        })
    }

    /// Fits one channel given as a slice, in its own units (no scaling), for benches and
    /// reference comparisons.
    pub fn fit_values(&self, y: &[f64]) -> Result<HoltWintersChannel> {
        fit::fit_channel(&self.params, y, 0)
    }
}

/// A fitted Holt-Winters model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoltWintersModel {
    /// The parameters it was fitted with.
    pub params: HoltWintersParams,
    /// Per-channel fitted state.
    pub channels: Vec<ChannelFit<HoltWintersChannel>>,
}

impl HoltWintersModel {
    /// Scores every row of `series` causally.
    pub fn score(&self, series: &Series) -> Result<Scores> {
        score_channels(
            series,
            "holt_winters",
            &self.channels,
            self.params.combine,
            |channel, x| score_channel(channel, self.params.band_z, self.params.scale_alpha, x),
        )
    }
}

/// Standardised one-step errors of one (scaled) channel.
pub(crate) fn score_channel(
    channel: &HoltWintersChannel,
    band_z: f64,
    scale_alpha: f64,
    x: &[f64],
) -> ChannelScores {
    let n = x.len();
    let mut values = vec![0.0; n];
    let mut expected = vec![0.0; n];
    let mut lower = vec![0.0; n];
    let mut upper = vec![0.0; n];
    let mut state = channel.initial.clone();
    let mut variance = channel.sigma * channel.sigma;
    let period = channel.structure.period.max(1);
    let mut slot = state.slot(&channel.structure);
    for t in 0..n {
        let forecast = state.update_at(slot, x[t], &channel.structure, &channel.smoothing);
        slot = if slot + 1 == period { 0 } else { slot + 1 };
        let sd = variance.sqrt();
        expected[t] = forecast;
        lower[t] = forecast - band_z * sd;
        upper[t] = forecast + band_z * sd;
        if x[t].is_finite() {
            let error = x[t] - forecast;
            values[t] = standardised(error, sd);
            if scale_alpha > 0.0 && error.is_finite() {
                variance = (1.0 - scale_alpha) * variance + scale_alpha * error * error;
            }
        }
    }
    ChannelScores {
        values,
        warm_up: 0,
        expected: Some(expected),
        band: Some(Band { lower, upper }),
    }
}
