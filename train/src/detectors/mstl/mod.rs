//! MSTL (Bandara, Hyndman & Bergmeir 2021, "MSTL: a seasonal-trend decomposition algorithm for
//! time series with multiple seasonal patterns"): a day and a week of rows removed at once, the
//! rest scored robustly. Request rates and latencies carry both cycles; Holt-Winters and STL
//! take one.
//!
//! **Fit** (per channel, on the training rows; NaNs linearly interpolated for the
//! decomposition only):
//! - periods: given, or detected by [`detect_periods`] (augurs' periodogram, each peak refined
//!   and validated on the autocorrelation), at most `max_seasons` of them. As in statsmodels,
//!   periods of half the rows or more are dropped; with none left there is no seasonal part.
//!   A detected period within 3% of an hour, a day or a week of rows is moved onto it
//!   (`snap_to_calendar`): a few days of rows place the autocorrelation's daily peak a row or
//!   two off 288 five-minute rows, and the error would accumulate as phase drift.
//! - [`decompose`]: statsmodels' `MSTL` step for step (periods ascending, seasonal windows
//!   7 + 4i unless given, `iterate` passes over the seasons, one pass for a single season),
//!   on vigil's STL port, which matches statsmodels' `STL` to rounding. Components match
//!   statsmodels 0.15's `MSTL` to 1e-9 of the data's magnitude (fixture `mstl_statsmodels`).
//! - kept: the last cycle of each seasonal component, by phase (row mod period): the seasonal
//!   forecast of statsmodels' `STLForecast` and of augurs' MSTL model; and the centre and
//!   spread (median, 1.4826 · MAD) of the causal residuals below over the training rows.
//!
//! **Score** (causal, online; rows counted from the first training row): at row t the seasonal
//! sum s_t = Σ_k profile_k[t mod p_k], the deseasonalised value d_t = x_t − s_t, and a level L
//! that follows d by exponential smoothing with weight `level_alpha` (the trend, estimated
//! from the past only). Residual r_t = d_t − L_{t−1}; score |r_t − centre| / spread; expected
//! value s_t + L_{t−1} + centre, band ± `band_z` spreads. The spread starts at the training
//! one and follows each scored row's absolute deviation (× √(π/2)) with weight
//! `scale_alpha`. The first finite row only sets the level (warm-up 1 row); NaN rows score 0
//! and leave the level unchanged. Memory: the level forgets within about 1 / `level_alpha`
//! rows, the spread within 1 / `scale_alpha`; the seasonal profiles are fixed at fit time (the
//! retraining job refreshes them).
//!
//! Cost: fit O(iterate · seasons · STL) plus detection (one FFT pass and an
//! O(n · `max_period`) autocorrelation); score O(seasons) per row.

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;
use vigil_datasets::summary::SeriesSummary;

use crate::ChannelFit;
use crate::channels::{SPREAD_FLOOR, fit_channels, score_channels, standardised};
use crate::detectors::seasonal_esd::stl::{StlConfig, decompose as stl};
use crate::detectors::seasonal_esd::{interpolate, median};
use crate::error::{Result, TrainError};
use crate::scores::{Band, ChannelScores, Combine, Scores};
use crate::season::{detect_periods, snap_to_calendar};
use crate::space::{Dim, Space};

/// Scale of the MAD that estimates a normal standard deviation.
const MAD_TO_SIGMA: f64 = 1.4826;

/// Scale of the mean absolute deviation that estimates a normal standard deviation (√(π/2)).
const MEAN_ABS_TO_SIGMA: f64 = 1.253_314_137_315_500_3;

/// Unchecked MSTL parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MstlParams {
    /// Seasonal periods in rows (e.g. `[288, 2016]` for a day and a week of 5-minute rows);
    /// `None` = detect them on the training rows.
    pub periods: Option<Vec<usize>>,
    /// Longest period the detection considers.
    pub max_period: usize,
    /// Most seasonal periods the detection keeps.
    pub max_seasons: usize,
    /// Move a detected period within 3% of an hour, a day or a week of rows (at the training
    /// rows' most common timestamp step) onto it.
    pub snap_to_calendar: bool,
    /// Seasonal smoother length per period (odd ≥ 3), in the order of `periods` sorted
    /// ascending; `None` = statsmodels' 7 + 4i.
    pub windows: Option<Vec<usize>>,
    /// Passes over the seasonal components (statsmodels' `iterate`).
    pub iterate: usize,
    /// Robust STL underneath (bisquare weights: outliers in the training rows do not bend the
    /// seasonal shape). statsmodels' default is `false`.
    pub robust: bool,
    /// Box-Cox λ applied before decomposing and scoring (statsmodels' `lmbda`; 0 = log), for
    /// multiplicative seasons (request rates, CPU). Values ≤ 0 read as half the smallest
    /// positive training value. `None` = no transform.
    pub lmbda: Option<f64>,
    /// Weight of each new deseasonalised value in the level, in (0, 1].
    pub level_alpha: f64,
    /// Weight of each new absolute deviation in the running spread while scoring, in [0, 1)
    /// (0 keeps the training spread): the scale follows a metric whose noise grows or shrinks.
    pub scale_alpha: f64,
    /// Half-width of the band, in robust spreads.
    pub band_z: f64,
    /// Fewest finite training values accepted.
    pub min_train: usize,
    /// How channel scores combine.
    pub combine: Combine,
}

impl Default for MstlParams {
    fn default() -> Self {
        Self {
            periods: None,
            max_period: 2016,
            max_seasons: 2,
            snap_to_calendar: true,
            windows: None,
            iterate: 2,
            robust: true,
            lmbda: None,
            level_alpha: 0.1,
            scale_alpha: 0.01,
            band_z: 3.0,
            min_train: 20,
            combine: Combine::Max,
        }
    }
}

impl MstlParams {
    /// Sets the periods (`None` = detect).
    pub fn with_periods(mut self, periods: Option<Vec<usize>>) -> Self {
        self.periods = periods;
        self
    }
    /// Sets the level's smoothing weight.
    pub fn with_level_alpha(mut self, level_alpha: f64) -> Self {
        self.level_alpha = level_alpha;
        self
    }
    /// Sets robust STL on or off.
    pub fn with_robust(mut self, robust: bool) -> Self {
        self.robust = robust;
        self
    }

    /// The search space: the level's and the spread's weights, and the number of seasons
    /// detected.
    pub fn space() -> Space {
        vec![
            Dim::log("level_alpha", 0.01, 0.5),
            Dim::log("scale_alpha", 0.001, 0.1),
            Dim::int("max_seasons", 1, 2, 1),
        ]
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<MstlValid> {
        if let Some(periods) = &self.periods {
            if let Some(&p) = periods.iter().find(|&&p| p < 2) {
                return Err(TrainError::param(
                    "mstl.periods",
                    format!("{p} is below 2"),
                    "a season spans at least two rows; leave periods out to detect them",
                ));
            }
            if let Some(windows) = &self.windows
                && windows.len() != periods.len()
            {
                return Err(TrainError::param(
                    "mstl.windows",
                    format!("{} windows for {} periods", windows.len(), periods.len()),
                    "give one seasonal window per period, or leave windows out",
                ));
            }
        }
        if self.periods.is_none() && self.windows.is_some() {
            return Err(TrainError::param(
                "mstl.windows",
                "windows without periods",
                "seasonal windows go with given periods: set periods too, or leave windows out",
            ));
        }
        if let Some(&w) = self
            .windows
            .iter()
            .flatten()
            .find(|&&w| w < 3 || w.is_multiple_of(2))
        {
            return Err(TrainError::param(
                "mstl.windows",
                format!("{w} is not an odd number of at least 3"),
                "seasonal smoother lengths are odd, e.g. 11 and 15",
            ));
        }
        if self.periods.is_none() && self.max_seasons == 0 {
            return Err(TrainError::param(
                "mstl.max_seasons",
                "0 seasons",
                "detect at least one season (e.g. 2: a day and a week), or give the periods",
            ));
        }
        if self.periods.is_none() && self.max_period < 3 {
            return Err(TrainError::param(
                "mstl.max_period",
                format!("{} is below 3", self.max_period),
                "detection needs room: use e.g. 2016, or give the periods",
            ));
        }
        if self.iterate == 0 {
            return Err(TrainError::param(
                "mstl.iterate",
                "0 passes",
                "use at least one pass over the seasons (statsmodels' default is 2)",
            ));
        }
        if let Some(l) = self.lmbda
            && !(l.is_finite() && (-1.0..=2.0).contains(&l))
        {
            return Err(TrainError::param(
                "mstl.lmbda",
                format!("{l} is not in [-1, 2]"),
                "use 0 (log) for multiplicative seasons, 0.5 (square root), or leave it out",
            ));
        }
        if !(0.0..1.0).contains(&self.scale_alpha) {
            return Err(TrainError::param(
                "mstl.scale_alpha",
                format!("{} is not in [0, 1)", self.scale_alpha),
                "use a small weight such as 0.01, or 0 to keep the training spread",
            ));
        }
        if !(self.level_alpha > 0.0 && self.level_alpha <= 1.0) {
            return Err(TrainError::param(
                "mstl.level_alpha",
                format!("{} is not in (0, 1]", self.level_alpha),
                "use a smoothing weight such as 0.1",
            ));
        }
        if !(self.band_z.is_finite() && self.band_z > 0.0) {
            return Err(TrainError::param(
                "mstl.band_z",
                format!("{} is not a positive number", self.band_z),
                "use a band half-width such as 3.0",
            ));
        }
        if self.min_train < 4 {
            return Err(TrainError::param(
                "mstl.min_train",
                format!("{} is below 4", self.min_train),
                "a level and a spread need a few rows: use e.g. 20",
            ));
        }
        Ok(MstlValid {
            params: self.clone(),
        })
    }
}

/// Checked MSTL parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct MstlValid {
    params: MstlParams,
}

/// What MSTL learns per channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MstlChannel {
    /// Seasonal periods used, ascending (empty = no seasonal component).
    pub periods: Vec<usize>,
    /// Under the model's `lmbda`: half the smallest positive training value, what values ≤ 0
    /// read as (0 without a transform).
    pub floor: f64,
    /// Seasonal profiles, each indexed by row mod its length: one profile, the last cycle of
    /// the seasonal *sum*, when every period divides the longest (a day and a week), else the
    /// last cycle of each component.
    pub profiles: Vec<Vec<f64>>,
    /// Median of the causal residuals on the training rows.
    pub center: f64,
    /// 1.4826 · MAD of those residuals (a robust standard deviation).
    pub spread: f64,
}

impl MstlValid {
    /// Fits each channel on `train`.
    pub fn fit(&self, train: &Series) -> Result<MstlModel> {
        let step_ms = if self.params.snap_to_calendar {
            SeriesSummary::of(train).modal_step_ms
        } else {
            None
        };
        let channels = fit_channels(train, "mstl", |y, channel| {
            let got = y.iter().filter(|v| v.is_finite()).count();
            if got < self.params.min_train {
                return Err(TrainError::NotEnoughData {
                    family: "mstl",
                    channel,
                    needed: self.params.min_train,
                    got,
                });
            }
            Ok(fit_channel(&self.params, step_ms, y))
        })?;
        Ok(MstlModel {
            params: self.params.clone(),
            channels,
        })
    }
}

/// The seasonal forecast: the last cycle repeated. With nested periods (each divides the
/// longest) the components are summed first, so that the forecast repeats the last longest
/// cycle exactly as fitted (each day of the week its own daily shape: the daily component
/// drifts with its window across weekdays and weekends, and its last day alone would stand
/// for every weekday); otherwise each component's last cycle.
fn profiles(parts: &MstlDecomposition) -> Vec<Vec<f64>> {
    let last_cycle = |p: usize, s: &dyn Fn(usize) -> f64| {
        let n = parts.trend.len();
        let mut profile = vec![0.0; p];
        for i in n - p..n {
            profile[i % p] = s(i);
        }
        profile
    };
    let Some(&longest) = parts.periods.iter().max() else {
        return Vec::new();
    };
    if parts.periods.iter().all(|&p| longest.is_multiple_of(p)) {
        vec![last_cycle(longest, &|i| {
            parts.seasonal.iter().map(|c| c[i]).sum()
        })]
    } else {
        parts
            .periods
            .iter()
            .zip(&parts.seasonal)
            .map(|(&p, c)| last_cycle(p, &|i| c[i]))
            .collect()
    }
}

fn fit_channel(params: &MstlParams, step_ms: Option<i64>, raw: &[f64]) -> MstlChannel {
    let floor = match params.lmbda {
        Some(_) => {
            let smallest = raw
                .iter()
                .copied()
                .filter(|v| v.is_finite() && *v > 0.0)
                .fold(f64::INFINITY, f64::min);
            if smallest.is_finite() {
                smallest / 2.0
            } else {
                1.0
            }
        }
        None => 0.0,
    };
    let y: Vec<f64> = raw
        .iter()
        .map(|&v| transform(params.lmbda, floor, v))
        .collect();
    let y = y.as_slice();
    let filled = interpolate(y).unwrap_or_else(|| vec![0.0; y.len()]);
    let periods = match &params.periods {
        Some(p) => p.clone(),
        None => {
            let mut found = detect_periods(&filled, params.max_period, params.max_seasons);
            if let Some(step) = step_ms {
                found
                    .iter_mut()
                    .for_each(|p| *p = snap_to_calendar(*p, step));
                found.sort_unstable();
                found.dedup();
            }
            found
        }
    };
    let parts = decompose(
        &filled,
        &periods,
        params.windows.as_deref(),
        params.iterate,
        params.robust,
    );
    let profiles = profiles(&parts);
    let mut channel = MstlChannel {
        periods: parts.periods,
        floor,
        profiles,
        center: 0.0,
        spread: 1.0,
    };
    let residuals: Vec<f64> = causal(&channel, params, raw)
        .into_iter()
        .filter_map(|step| step.map(|(_, r)| r))
        .collect();
    let center = median(&residuals);
    let deviations: Vec<f64> = residuals.iter().map(|r| (r - center).abs()).collect();
    channel.center = center;
    channel.spread = MAD_TO_SIGMA * median(&deviations);
    if channel.spread <= SPREAD_FLOOR {
        // More than half the residuals equal the centre (a mostly flat series): fall back to
        // the mean absolute deviation, so that the rest is not divided by the floor.
        let mean_abs = deviations.iter().sum::<f64>() / deviations.len().max(1) as f64;
        channel.spread = (MEAN_ABS_TO_SIGMA * mean_abs).max(SPREAD_FLOOR);
    }
    channel
}

/// The causal recursion over `x`: per row, `None` where there is no residual (NaN, or the
/// first finite row), else (the expected deseasonalised level before the row, the residual).
fn causal(channel: &MstlChannel, params: &MstlParams, x: &[f64]) -> Vec<Option<(f64, f64)>> {
    let mut level: Option<f64> = None;
    x.iter()
        .enumerate()
        .map(|(t, &v)| {
            if !v.is_finite() {
                return None;
            }
            let d = transform(params.lmbda, channel.floor, v) - channel.seasonal_at(t);
            match level {
                None => {
                    level = Some(d);
                    None
                }
                Some(l) => {
                    level = Some(l + params.level_alpha * (d - l));
                    Some((l, d - l))
                }
            }
        })
        .collect()
}

/// Box-Cox with λ (`None` = identity; λ = 0 = log), values ≤ 0 read as `floor`; NaN stays NaN.
fn transform(lmbda: Option<f64>, floor: f64, v: f64) -> f64 {
    match lmbda {
        None => v,
        Some(_) if !v.is_finite() => v,
        Some(l) => {
            let v = if v > 0.0 { v } else { floor };
            if l == 0.0 {
                v.ln()
            } else {
                (v.powf(l) - 1.0) / l
            }
        }
    }
}

/// The inverse of [`transform`] (NaN where the transformed value has no preimage).
fn inverse(lmbda: Option<f64>, v: f64) -> f64 {
    match lmbda {
        None => v,
        Some(0.0) => v.exp(),
        Some(l) => {
            let base = l * v + 1.0;
            if base > 0.0 {
                base.powf(1.0 / l)
            } else {
                f64::NAN
            }
        }
    }
}

impl MstlChannel {
    /// The seasonal sum at row `t`.
    pub fn seasonal_at(&self, t: usize) -> f64 {
        self.profiles
            .iter()
            .map(|profile| profile[t % profile.len()])
            .sum()
    }
}

/// A fitted MSTL detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MstlModel {
    /// The parameters.
    pub params: MstlParams,
    /// Per-channel periods, profiles and spread.
    pub channels: Vec<ChannelFit<MstlChannel>>,
}

impl MstlModel {
    /// Scores every row of `series` causally (row 0 = the first training row).
    pub fn score(&self, series: &Series) -> Result<Scores> {
        let lmbda = self.params.lmbda;
        let scale_alpha = self.params.scale_alpha;
        let band_z = self.params.band_z;
        score_channels(
            series,
            "mstl",
            &self.channels,
            self.params.combine,
            |c, x| {
                let n = x.len();
                let mut values = vec![0.0; n];
                let mut expected = vec![f64::NAN; n];
                let mut lower = vec![f64::NAN; n];
                let mut upper = vec![f64::NAN; n];
                let mut warm_up = n;
                let mut spread = c.spread;
                for (t, step) in causal(c, &self.params, x).into_iter().enumerate() {
                    let Some((level, r)) = step else { continue };
                    warm_up = warm_up.min(t);
                    let deviation = r - c.center;
                    values[t] = standardised(deviation, spread);
                    let e = c.seasonal_at(t) + level + c.center;
                    expected[t] = inverse(lmbda, e);
                    lower[t] = inverse(lmbda, e - band_z * spread);
                    upper[t] = inverse(lmbda, e + band_z * spread);
                    // After the row is scored: the mean absolute deviation times √(π/2) (a
                    // normal σ), smoothed.
                    spread += scale_alpha * (MEAN_ABS_TO_SIGMA * deviation.abs() - spread);
                    spread = spread.max(SPREAD_FLOOR);
                }
                ChannelScores {
                    values,
                    warm_up: warm_up.min(n),
                    expected: Some(expected),
                    band: Some(Band { lower, upper }),
                }
            },
        )
    }
}

/// An MSTL decomposition: seasonal components (one per kept period, ascending), trend and
/// residual.
#[derive(Debug, Clone, PartialEq)]
pub struct MstlDecomposition {
    /// The periods kept (ascending; those of at least half the rows dropped).
    pub periods: Vec<usize>,
    /// One seasonal component per kept period.
    pub seasonal: Vec<Vec<f64>>,
    /// Trend of the last STL pass.
    pub trend: Vec<f64>,
    /// y − Σ seasonal − trend.
    pub resid: Vec<f64>,
}

/// statsmodels' `MSTL(y, periods, windows, iterate, stl_kwargs={"robust": robust}).fit()`
/// (`y` finite). Periods are sorted ascending with their windows; periods ≥ n / 2 are dropped
/// with their windows; default windows are 7 + 4i. With no period left (statsmodels then
/// fails), there is no seasonal component: the trend is `y` and the residual 0.
pub fn decompose(
    y: &[f64],
    periods: &[usize],
    windows: Option<&[usize]>,
    iterate: usize,
    robust: bool,
) -> MstlDecomposition {
    let n = y.len();
    let mut pairs: Vec<(usize, usize)> = match windows {
        Some(w) => periods.iter().copied().zip(w.iter().copied()).collect(),
        None => {
            let mut sorted = periods.to_vec();
            sorted.sort_unstable();
            sorted
                .into_iter()
                .enumerate()
                .map(|(i, p)| (p, 7 + 4 * (i + 1)))
                .collect()
        }
    };
    pairs.sort_unstable();
    let windows: Vec<usize> = pairs.iter().map(|p| p.1).collect();
    let kept: Vec<usize> = pairs
        .iter()
        .map(|p| p.0)
        .filter(|&p| p >= 2 && (p as f64) < n as f64 / 2.0)
        .collect();
    if kept.is_empty() {
        return MstlDecomposition {
            periods: Vec::new(),
            seasonal: Vec::new(),
            trend: y.to_vec(),
            resid: vec![0.0; n],
        };
    }
    let iterate = if kept.len() == 1 { 1 } else { iterate };
    let mut seasonal = vec![vec![0.0; n]; kept.len()];
    let mut deseas = y.to_vec();
    let mut trend = Vec::new();
    for _ in 0..iterate {
        for (k, &period) in kept.iter().enumerate() {
            for (d, s) in deseas.iter_mut().zip(&seasonal[k]) {
                *d += s;
            }
            let config = StlConfig {
                seasonal: windows[k],
                robust,
                ..StlConfig::new(period)
            };
            let parts = stl(&deseas, &config);
            for (d, s) in deseas.iter_mut().zip(&parts.seasonal) {
                *d -= s;
            }
            seasonal[k] = parts.seasonal;
            trend = parts.trend;
        }
    }
    let resid = deseas.iter().zip(&trend).map(|(d, t)| d - t).collect();
    MstlDecomposition {
        periods: kept,
        seasonal,
        trend,
        resid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detectors::discord::tests::series;
    use std::f64::consts::PI;

    /// Deterministic noise, uniform on [−0.5, 0.5): SplitMix64 of the row (a bare
    /// multiplicative hash correlates at Fibonacci lags, which the period detection finds).
    fn noise(i: usize) -> f64 {
        let mut z = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 40) as f64 / (1u64 << 24) as f64 - 0.5
    }

    /// Hourly request rate: a daily cycle with an evening peak, quieter weekends, a slow trend
    /// and noise.
    fn traffic(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let hour = (i % 24) as f64;
                let weekend = (i / 24) % 7 >= 5;
                let daily = 10.0 * (2.0 * PI * hour / 24.0).sin()
                    + 6.0 * (-((hour - 20.0) / 1.5).powi(2)).exp();
                100.0 + 0.01 * i as f64 + if weekend { 0.5 * daily - 8.0 } else { daily } + noise(i)
            })
            .collect()
    }

    fn fit(params: MstlParams, train: &[f64]) -> MstlModel {
        params
            .check()
            .expect("valid")
            .fit(&series(train.to_vec()))
            .expect("fit")
    }

    /// The smallest planted-anomaly score over the largest score elsewhere in the test rows
    /// (the row after an anomaly is left out: the level has moved towards it).
    fn margin(scores: &Scores, train: usize, planted: &[usize]) -> f64 {
        let normal = (train..scores.values.len())
            .filter(|t| !planted.iter().any(|&p| *t == p || *t == p + 1))
            .map(|t| scores.values[t])
            .fold(0.0, f64::max);
        let found = planted
            .iter()
            .map(|&p| scores.values[p])
            .fold(f64::INFINITY, f64::min);
        found / normal
    }

    #[test]
    fn detects_a_day_and_a_week_and_flags_what_they_do_not_explain() {
        let train = 24 * 7 * 4;
        let mut x = traffic(24 * 7 * 6);
        // A dip at a weekday noon and a spike on a Saturday night, in the test part: 8 units,
        // half the daily swing.
        let (dip, spike) = (train + 24 * 8 + 12, train + 24 * 12 + 21);
        x[dip] -= 8.0;
        x[spike] += 8.0;
        let model = fit(MstlParams::default(), &x[..train]);
        let channel = &model.channels[0].state;
        assert_eq!(channel.periods, vec![24, 168]);
        let scores = model.score(&series(x.clone())).expect("score");
        assert_eq!(scores.warm_up, 1);
        let both = margin(&scores, train, &[dip, spike]);
        assert!(both > 1.5, "planted / largest other score: {both}");
        // One season only: the quiet weekends are left in the residual, and the planted
        // anomalies stand out less.
        let daily = fit(
            MstlParams::default().with_periods(Some(vec![24])),
            &x[..train],
        );
        assert_eq!(daily.channels[0].state.periods, vec![24]);
        let one = margin(
            &daily.score(&series(x.clone())).expect("score"),
            train,
            &[dip, spike],
        );
        assert!(one < both, "one season {one} vs two {both}");
    }

    #[test]
    fn expected_value_and_band_follow_the_seasons() {
        let train = 24 * 7 * 4;
        let x = traffic(24 * 7 * 5);
        let model = fit(MstlParams::default(), &x[..train]);
        let scores = model.score(&series(x.clone())).expect("score");
        let expected = scores.expected.as_ref().expect("expected");
        let band = scores.band.as_ref().expect("band");
        let errors: Vec<f64> = (train..x.len())
            .map(|t| (x[t] - expected[t]).abs())
            .collect();
        let mean_error = errors.iter().sum::<f64>() / errors.len() as f64;
        // The noise is uniform on ±0.5 (mean |e| 0.25); the daily swing is ±16.
        assert!(mean_error < 0.8, "mean |x − expected| {mean_error}");
        let inside = (train..x.len())
            .filter(|&t| band.lower[t] <= x[t] && x[t] <= band.upper[t])
            .count();
        assert!(inside as f64 >= 0.95 * (x.len() - train) as f64, "{inside}");
    }

    #[test]
    fn missing_rows_score_zero_and_keep_the_level() {
        let train = 24 * 7 * 3;
        let mut x = traffic(24 * 7 * 4);
        for t in [5, 100, train + 10, train + 11] {
            x[t] = f64::NAN;
        }
        let model = fit(MstlParams::default(), &x[..train]);
        let scores = model.score(&series(x.clone())).expect("score");
        for t in [5, 100, train + 10, train + 11] {
            assert_eq!(scores.values[t], 0.0);
        }
        assert!(
            scores.values[train + 12] < 4.0,
            "{}",
            scores.values[train + 12]
        );
        assert!(scores.values.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn no_season_found_leaves_a_level_detector() {
        // A random-walk-like series has no cycle.
        let mut v = 0.0;
        let x: Vec<f64> = (0..600)
            .map(|i| {
                v += 2.0 * noise(i);
                v
            })
            .collect();
        let model = fit(MstlParams::default(), &x[..400]);
        assert!(model.channels[0].state.periods.is_empty());
        let scores = model.score(&series(x)).expect("score");
        assert!(scores.values.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn a_flat_series_does_not_divide_by_the_floor() {
        // 90% of the training rows equal: the MAD is 0, the spread falls back to the mean
        // absolute deviation.
        let x: Vec<f64> = (0..400)
            .map(|i| if i % 10 == 0 { 1.0 } else { 0.0 })
            .collect();
        let model = fit(MstlParams::default().with_periods(Some(vec![7])), &x);
        let spread = model.channels[0].state.spread;
        assert!(spread > 1e-3, "spread {spread}");
        let scores = model.score(&series(x)).expect("score");
        assert!(scores.values.iter().all(|&v| v < 100.0));
    }

    #[test]
    fn decompose_keeps_periods_below_half_the_rows_and_sums_to_the_series() {
        let y = traffic(24 * 7 * 3);
        let parts = decompose(&y, &[168, 24, 400], None, 2, false);
        assert_eq!(parts.periods, vec![24, 168]);
        for (i, v) in y.iter().enumerate() {
            let sum = parts.seasonal[0][i] + parts.seasonal[1][i] + parts.trend[i] + parts.resid[i];
            assert!((sum - v).abs() < 1e-9);
        }
        let none = decompose(&y, &[400], None, 2, false);
        assert!(none.periods.is_empty() && none.seasonal.is_empty());
        assert_eq!(none.trend, y);
    }

    #[test]
    fn a_log_transform_handles_multiplicative_seasons() {
        // The daily swing grows with the level (×1.5 over the series); the log makes it
        // constant, and expected values come back in the data's units.
        let n = 24 * 7 * 5;
        let x: Vec<f64> = (0..n)
            .map(|i| {
                let level = 100.0 * (1.0 + 0.5 * i as f64 / n as f64);
                let hour = (i % 24) as f64;
                level * (1.0 + 0.4 * (2.0 * PI * hour / 24.0).sin()) * (1.0 + 0.01 * noise(i))
            })
            .collect();
        let train = 24 * 7 * 3;
        let params = MstlParams {
            lmbda: Some(0.0),
            ..MstlParams::default().with_periods(Some(vec![24]))
        };
        let model = fit(params, &x[..train]);
        let scores = model.score(&series(x.clone())).expect("score");
        let expected = scores.expected.as_ref().expect("expected");
        let worst = (train..n)
            .map(|t| ((x[t] - expected[t]) / x[t]).abs())
            .fold(0.0, f64::max);
        assert!(worst < 0.03, "worst relative error {worst}");
        // Box-Cox and its inverse agree; values ≤ 0 read as the floor.
        for l in [0.0, 0.5, 1.5] {
            let v = transform(Some(l), 0.1, 7.3);
            assert!((inverse(Some(l), v) - 7.3).abs() < 1e-12);
        }
        assert_eq!(transform(Some(0.0), 0.25, -3.0), 0.25f64.ln());
        assert!(transform(Some(0.0), 0.25, f64::NAN).is_nan());
    }

    #[test]
    fn bad_parameters_are_named() {
        let cases = [
            (
                MstlParams::default().with_periods(Some(vec![24, 1])),
                "mstl.periods",
            ),
            (
                MstlParams {
                    periods: Some(vec![24, 168]),
                    windows: Some(vec![11]),
                    ..MstlParams::default()
                },
                "mstl.windows",
            ),
            (
                MstlParams {
                    windows: Some(vec![11, 14]),
                    periods: Some(vec![24, 168]),
                    ..MstlParams::default()
                },
                "mstl.windows",
            ),
            (
                MstlParams {
                    windows: Some(vec![11, 15]),
                    ..MstlParams::default()
                },
                "mstl.windows",
            ),
            (
                MstlParams::default().with_level_alpha(0.0),
                "mstl.level_alpha",
            ),
            (
                MstlParams {
                    lmbda: Some(f64::NAN),
                    ..MstlParams::default()
                },
                "mstl.lmbda",
            ),
            (
                MstlParams {
                    max_seasons: 0,
                    ..MstlParams::default()
                },
                "mstl.max_seasons",
            ),
            (
                MstlParams {
                    iterate: 0,
                    ..MstlParams::default()
                },
                "mstl.iterate",
            ),
        ];
        for (params, key) in cases {
            let err = params.check().expect_err(key).to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
        let short = MstlParams::default()
            .check()
            .expect("valid")
            .fit(&series(vec![1.0; 5]));
        assert!(short.is_err());
    }
}
