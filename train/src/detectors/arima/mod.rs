//! ARIMA(p, d, q) by exact maximum likelihood, the order chosen on a small grid by AIC; the
//! score is the one-step-ahead prediction error divided by its standard deviation.
//!
//! - Estimation: the series is differenced d times (d = 0: the training mean is removed), and
//!   the ARMA(p, q) coefficients maximise the exact Gaussian likelihood computed by the Kalman
//!   filter from the stationary initial state, with σ² concentrated out; stationarity and
//!   invertibility are enforced by statsmodels' Monahan/Jones transform. This is what
//!   statsmodels' `ARIMA(z, order=(p, 0, q), trend="n").fit()` maximises on the same
//!   differenced, demeaned series, so coefficients, σ², log-likelihood and residuals match it.
//! - Order selection: every (p, q) with p ≤ `max_p`, q ≤ `max_q` (or the fixed `order`), lowest
//!   AIC = 2 (p + q + 1) − 2 log L wins (ties: the smaller model).
//! - Causal and online: scoring runs the Kalman filter (the fitted coefficients fixed) over the
//!   series, so the state updates with every row; the residual variance follows with weight
//!   `scale_alpha`. The first d rows are warm-up. NaN rows are a time update only (score 0).
//! - Cost: O(n r²) per likelihood, r = max(p, q + 1); fitting runs a few hundred likelihoods
//!   per candidate order. Reference: Box & Jenkins (1970); Harvey (1989); Gardner et al. (1980).

pub mod kalman;

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::channels::{ChannelFit, fit_channels, score_channels, standardised};
use crate::error::{Result, TrainError};
use crate::optim::nelder_mead;
use crate::scores::{Band, ChannelScores, Combine, Scores};
use crate::space::{Dim, Space};
use kalman::{Filter, concentrated_loglik, constrain_stationary};

/// Unchecked ARIMA parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArimaParams {
    /// Largest AR order in the grid.
    pub max_p: usize,
    /// Largest MA order in the grid.
    pub max_q: usize,
    /// Differencing order (0, 1 or 2).
    pub d: usize,
    /// A fixed (p, q) instead of the grid.
    pub order: Option<(usize, usize)>,
    /// Weight of each new squared error in the running residual variance while scoring.
    pub scale_alpha: f64,
    /// Half-width of the band, in prediction standard deviations.
    pub band_z: f64,
    /// Fewest finite (differenced) training values accepted.
    pub min_train: usize,
    /// How channel scores combine.
    pub combine: Combine,
}

impl Default for ArimaParams {
    fn default() -> Self {
        Self {
            max_p: 3,
            max_q: 2,
            d: 1,
            order: None,
            scale_alpha: 0.01,
            band_z: 3.0,
            min_train: 30,
            combine: Combine::Max,
        }
    }
}

impl ArimaParams {
    /// Sets the grid bounds.
    pub fn with_grid(mut self, max_p: usize, max_q: usize) -> Self {
        self.max_p = max_p;
        self.max_q = max_q;
        self
    }
    /// Fixes the order (p, d, q).
    pub fn with_order(mut self, p: usize, d: usize, q: usize) -> Self {
        self.order = Some((p, q));
        self.d = d;
        self
    }
    /// Sets the differencing order.
    pub fn with_d(mut self, d: usize) -> Self {
        self.d = d;
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

    /// The search space: differencing and the scale learning rate (orders are chosen by AIC).
    pub fn space() -> Space {
        vec![Dim::int("d", 0, 2, 1), Dim::log("scale_alpha", 0.001, 0.2)]
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<ArimaValid> {
        let (p, q) = self.order.unwrap_or((self.max_p, self.max_q));
        if p > 5 || q > 5 {
            return Err(TrainError::param(
                if p > 5 { "arima.max_p" } else { "arima.max_q" },
                format!("order ({p}, {q}) exceeds 5"),
                "use small orders (≤ 5); long memory belongs to seasonal or windowed families",
            ));
        }
        if self.d > 2 {
            return Err(TrainError::param(
                "arima.d",
                format!("{} is above 2", self.d),
                "difference at most twice",
            ));
        }
        if !(0.0..1.0).contains(&self.scale_alpha) {
            return Err(TrainError::param(
                "arima.scale_alpha",
                format!("{} is not in [0, 1)", self.scale_alpha),
                "use a small learning rate such as 0.01, or 0 to keep the training σ",
            ));
        }
        if !(self.band_z.is_finite() && self.band_z > 0.0) {
            return Err(TrainError::param(
                "arima.band_z",
                format!("{} is not a positive number", self.band_z),
                "use a band half-width such as 3.0",
            ));
        }
        if self.min_train < 10 {
            return Err(TrainError::param(
                "arima.min_train",
                format!("{} is below 10", self.min_train),
                "a likelihood needs at least 10 values",
            ));
        }
        Ok(ArimaValid {
            params: self.clone(),
        })
    }
}

/// Checked ARIMA parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ArimaValid {
    params: ArimaParams,
}

/// One channel's fitted ARIMA (scaled units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArimaChannel {
    /// AR coefficients φ₁…φ_p (z_t = Σ φ_i z_{t−i} + ε_t + Σ θ_j ε_{t−j}).
    pub ar: Vec<f64>,
    /// MA coefficients θ₁…θ_q.
    pub ma: Vec<f64>,
    /// Differencing order.
    pub d: usize,
    /// Training mean removed before fitting (d = 0), else 0.
    pub mean: f64,
    /// Innovation variance σ² (maximum likelihood).
    pub sigma2: f64,
    /// Exact log-likelihood at the estimate.
    pub loglik: f64,
    /// AIC of the chosen order.
    pub aic: f64,
    /// AIC of every order tried, as (p, q, aic).
    pub candidates: Vec<(usize, usize, f64)>,
}

impl ArimaValid {
    /// Fits every channel of `train`.
    pub fn fit(&self, train: &Series) -> Result<ArimaModel> {
        let channels = fit_channels(train, "arima", |y, channel| self.fit_channel(y, channel))?;
        Ok(ArimaModel {
            params: self.params.clone(),
            channels,
        })
    }

    /// Fits one channel given as a slice, in its own units.
    pub fn fit_values(&self, y: &[f64]) -> Result<ArimaChannel> {
        self.fit_channel(y, 0)
    }

    fn fit_channel(&self, y: &[f64], channel: usize) -> Result<ArimaChannel> {
        let d = self.params.d;
        let mut z = difference(y, d);
        let finite: Vec<f64> = z.iter().copied().filter(|v| v.is_finite()).collect();
        if finite.len() < self.params.min_train {
            return Err(TrainError::NotEnoughData {
                family: "arima",
                channel,
                needed: self.params.min_train + d,
                got: y.iter().filter(|v| v.is_finite()).count(),
            });
        }
        let mean = if d == 0 {
            finite.iter().sum::<f64>() / finite.len() as f64
        } else {
            0.0
        };
        z.iter_mut().for_each(|v| *v -= mean);
        let orders: Vec<(usize, usize)> = match self.params.order {
            Some(order) => vec![order],
            None => (0..=self.params.max_p)
                .flat_map(|p| (0..=self.params.max_q).map(move |q| (p, q)))
                .collect(),
        };
        let mut best: Option<ArimaChannel> = None;
        let mut candidates = Vec::new();
        for (p, q) in orders {
            let Some((ar, ma, loglik, sigma2)) = fit_arma(&z, p, q) else {
                continue;
            };
            let aic = 2.0 * (p + q + 1) as f64 - 2.0 * loglik;
            candidates.push((p, q, aic));
            if best.as_ref().is_none_or(|b| aic < b.aic) {
                best = Some(ArimaChannel {
                    ar,
                    ma,
                    d,
                    mean,
                    sigma2,
                    loglik,
                    aic,
                    candidates: Vec::new(),
                });
            }
        }
        // No variance left (a constant or perfectly predictable series): white noise with σ² = 0.
        let mut chosen = best.unwrap_or(ArimaChannel {
            ar: Vec::new(),
            ma: Vec::new(),
            d,
            mean,
            sigma2: 0.0,
            loglik: f64::INFINITY,
            aic: f64::NEG_INFINITY,
            candidates: Vec::new(),
        });
        chosen.candidates = candidates;
        Ok(chosen)
    }
}

/// Maximum-likelihood ARMA(p, q) on `z`: `(ar, ma, loglik, σ²)`.
fn fit_arma(z: &[f64], p: usize, q: usize) -> Option<(Vec<f64>, Vec<f64>, f64, f64)> {
    let unpack = |u: &[f64]| -> (Vec<f64>, Vec<f64>) {
        let ar = constrain_stationary(&u[..p]);
        let ma: Vec<f64> = constrain_stationary(&u[p..]).iter().map(|v| -v).collect();
        (ar, ma)
    };
    let dims = p + q;
    if dims == 0 {
        let (loglik, sigma2, _) = concentrated_loglik(&[], &[], z)?;
        return Some((Vec::new(), Vec::new(), loglik, sigma2));
    }
    let mut objective = |u: &[f64]| {
        let (ar, ma) = unpack(u);
        concentrated_loglik(&ar, &ma, z).map_or(f64::INFINITY, |(ll, _, _)| -ll)
    };
    let mut best = nelder_mead(
        &mut objective,
        &vec![0.0; dims],
        &vec![0.5; dims],
        1e-12,
        400 * (dims + 1),
    );
    // Restart from the optimum until it stops moving (Nelder–Mead can stall on ridges).
    for _ in 0..3 {
        let again = nelder_mead(
            &mut objective,
            &best.x,
            &vec![0.1; dims],
            1e-14,
            400 * (dims + 1),
        );
        let improved = again.value < best.value - 1e-10 * best.value.abs();
        if again.value <= best.value {
            best = again;
        }
        if !improved {
            break;
        }
    }
    let (ar, ma) = unpack(&best.x);
    let (loglik, sigma2, _) = concentrated_loglik(&ar, &ma, z)?;
    Some((ar, ma, loglik, sigma2))
}

/// Δ^d y, aligned with y (the first d values, and any touching a NaN, are NaN).
fn difference(y: &[f64], d: usize) -> Vec<f64> {
    (0..y.len())
        .map(|t| {
            if t < d {
                f64::NAN
            } else {
                differenced(y, t, d)
            }
        })
        .collect()
}

#[inline]
fn differenced(y: &[f64], t: usize, d: usize) -> f64 {
    match d {
        0 => y[t],
        1 => y[t] - y[t - 1],
        _ => y[t] - 2.0 * y[t - 1] + y[t - 2],
    }
}

/// y_t − Δ^d y_t: the part of y_t that the past rows already fix.
#[inline]
fn carried(y: &[f64], t: usize, d: usize) -> f64 {
    match d {
        0 => 0.0,
        1 => y[t - 1],
        _ => 2.0 * y[t - 1] - y[t - 2],
    }
}

/// A fitted ARIMA model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArimaModel {
    /// The parameters it was fitted with.
    pub params: ArimaParams,
    /// Per-channel fitted state.
    pub channels: Vec<ChannelFit<ArimaChannel>>,
}

impl ArimaModel {
    /// Scores every row of `series` causally.
    pub fn score(&self, series: &Series) -> Result<Scores> {
        score_channels(
            series,
            "arima",
            &self.channels,
            self.params.combine,
            |channel, x| score_channel(channel, self.params.band_z, self.params.scale_alpha, x),
        )
    }
}

/// Standardised one-step prediction errors of one (scaled) channel.
pub(crate) fn score_channel(
    channel: &ArimaChannel,
    band_z: f64,
    scale_alpha: f64,
    x: &[f64],
) -> ChannelScores {
    let n = x.len();
    let d = channel.d;
    let mut values = vec![0.0; n];
    let mut expected = vec![f64::NAN; n];
    let mut lower = vec![f64::NAN; n];
    let mut upper = vec![f64::NAN; n];
    let Some(mut filter) = Filter::new(&channel.ar, &channel.ma) else {
        return ChannelScores {
            values,
            warm_up: n,
            expected: Some(expected),
            band: Some(Band { lower, upper }),
        };
    };
    let mut sigma2 = channel.sigma2;
    for t in d..n {
        let (mean, f) = filter.predict();
        let base = carried(x, t, d);
        let z = if base.is_finite() && x[t].is_finite() {
            x[t] - base - channel.mean
        } else {
            f64::NAN
        };
        if base.is_finite() {
            let sd = (sigma2 * f).sqrt();
            let forecast = base + channel.mean + mean;
            expected[t] = forecast;
            lower[t] = forecast - band_z * sd;
            upper[t] = forecast + band_z * sd;
            if z.is_finite() {
                let error = z - mean;
                values[t] = standardised(error, sd);
                if scale_alpha > 0.0 && f > 0.0 {
                    sigma2 = (1.0 - scale_alpha) * sigma2 + scale_alpha * error * error / f;
                }
            }
        }
        filter.update(z);
    }
    ChannelScores {
        values,
        warm_up: d.min(n),
        expected: Some(expected),
        band: Some(Band { lower, upper }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differencing_and_carry_rebuild_the_series() {
        let y = [1.0, 4.0, 9.0, 16.0, 25.0];
        for d in 0..=2 {
            let z = difference(&y, d);
            for t in d..y.len() {
                assert_eq!(z[t] + carried(&y, t, d), y[t]);
            }
        }
    }
}
