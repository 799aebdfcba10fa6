//! CUSUM change-point detector for level shifts and trend changes (Page 1954; tabular
//! two-sided form, Montgomery "Introduction to Statistical Quality Control" §9.1), and the
//! capacity forecast that uses the trend since the last change.
//!
//! - Level: z_t = (x_t − μ) / σ, S⁺ = max(0, S⁺ + z − k), S⁻ = max(0, S⁻ − z − k).
//!   Trend: the same on first differences (a trend change is a shift in their mean).
//!   The score is the larger statistic, in σ units; `k` is the allowance (half the shift to
//!   detect fastest), `h` the decision interval.
//! - σ is fitted robustly on the training rows: 1.4826 · MAD(Δx) / √2 for the level (immune to
//!   level shifts and slow trends) and 1.4826 · MAD(Δx) for the differences.
//! - Causal and online: the reference μ is the mean of the first `restart_window` finite rows
//!   and then follows the data with weight `baseline_alpha`; when a statistic crosses `h` the
//!   change is recorded ([`CusumModel::change_points`]), both statistics restart and μ is
//!   re-estimated from the next `restart_window` rows (scores 0 meanwhile). So the detector
//!   keeps adapting after every shift instead of alarming forever.
//! - Cost: O(1) per row.

pub mod capacity;

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::channels::{ChannelFit, fit_channels, score_channels};
use crate::error::{Result, TrainError};
use crate::scores::{ChannelScores, Combine, Scores};
use crate::space::{Dim, Space};

/// What the detector watches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Level shifts only.
    Level,
    /// Trend (slope) changes only.
    Trend,
    /// Both; the score is the larger.
    #[default]
    Both,
}

/// Unchecked CUSUM parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CusumParams {
    /// Allowance k, in σ (detects shifts of about 2k fastest).
    pub k: f64,
    /// Decision interval h, in σ: crossing it records a change and restarts.
    pub h: f64,
    /// Level shifts, trend changes or both.
    pub target: Target,
    /// Rows that (re-)estimate the reference after the start and after each change.
    pub restart_window: usize,
    /// Weight with which the reference follows the data between changes (0 = fixed).
    pub baseline_alpha: f64,
    /// How channel scores combine.
    pub combine: Combine,
}

impl Default for CusumParams {
    fn default() -> Self {
        Self {
            k: 0.5,
            h: 5.0,
            target: Target::Both,
            restart_window: 30,
            baseline_alpha: 0.0,
            combine: Combine::Max,
        }
    }
}

impl CusumParams {
    /// Sets k and h.
    pub fn with_limits(mut self, k: f64, h: f64) -> Self {
        self.k = k;
        self.h = h;
        self
    }
    /// Sets the target.
    pub fn with_target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }
    /// Sets the restart window.
    pub fn with_restart_window(mut self, rows: usize) -> Self {
        self.restart_window = rows;
        self
    }
    /// Sets the reference learning rate.
    pub fn with_baseline_alpha(mut self, alpha: f64) -> Self {
        self.baseline_alpha = alpha;
        self
    }

    /// The search space.
    pub fn space() -> Space {
        vec![
            Dim::float("k", 0.25, 1.5),
            Dim::float("h", 2.0, 10.0),
            Dim::choice("target", &["level", "trend", "both"]),
            Dim::int("restart_window", 10, 300, 10),
        ]
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<CusumValid> {
        if !(self.k.is_finite() && self.k >= 0.0) {
            return Err(TrainError::param(
                "cusum.k",
                format!("{} is not a non-negative number", self.k),
                "use an allowance such as 0.5 (σ units)",
            ));
        }
        if !(self.h.is_finite() && self.h > 0.0) {
            return Err(TrainError::param(
                "cusum.h",
                format!("{} is not a positive number", self.h),
                "use a decision interval such as 5 (σ units)",
            ));
        }
        if self.restart_window < 2 {
            return Err(TrainError::param(
                "cusum.restart_window",
                format!("{} is below 2", self.restart_window),
                "the reference needs at least two rows",
            ));
        }
        if !(0.0..1.0).contains(&self.baseline_alpha) {
            return Err(TrainError::param(
                "cusum.baseline_alpha",
                format!("{} is not in [0, 1)", self.baseline_alpha),
                "use 0 for a fixed reference or a small rate such as 0.01",
            ));
        }
        Ok(CusumValid {
            params: self.clone(),
        })
    }
}

/// Checked CUSUM parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct CusumValid {
    params: CusumParams,
}

/// A channel's fitted noise scales (scaled units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CusumChannel {
    /// σ of the level noise.
    pub sigma_level: f64,
    /// σ of the first differences.
    pub sigma_trend: f64,
}

/// A detected change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePoint {
    /// Row at which the statistic crossed h (the alarm).
    pub alarm: usize,
    /// Estimated first row of the new regime (after the statistic last left 0).
    pub onset: usize,
    /// Level shift or trend change.
    pub trend: bool,
    /// Upwards (true) or downwards.
    pub up: bool,
}

impl CusumValid {
    /// Fits the noise scales on `train` (needs `restart_window` + 2 finite rows).
    pub fn fit(&self, train: &Series) -> Result<CusumModel> {
        let needed = self.params.restart_window + 2;
        let channels = fit_channels(train, "cusum", |y, channel| {
            let finite: Vec<f64> = y.iter().copied().filter(|v| v.is_finite()).collect();
            if finite.len() < needed {
                return Err(TrainError::NotEnoughData {
                    family: "cusum",
                    channel,
                    needed,
                    got: finite.len(),
                });
            }
            let mut diffs: Vec<f64> = finite.windows(2).map(|w| w[1] - w[0]).collect();
            let mad = 1.4826 * median_abs_deviation(&mut diffs);
            Ok(CusumChannel {
                sigma_level: mad / std::f64::consts::SQRT_2,
                sigma_trend: mad,
            })
        })?;
        Ok(CusumModel {
            params: self.params.clone(),
            channels,
        })
    }
}

fn median_abs_deviation(values: &mut [f64]) -> f64 {
    let median = median_in_place(values);
    let mut deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
    median_in_place(&mut deviations)
}

fn median_in_place(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// A fitted CUSUM detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CusumModel {
    /// The parameters.
    pub params: CusumParams,
    /// Per-channel noise scales.
    pub channels: Vec<ChannelFit<CusumChannel>>,
}

impl CusumModel {
    /// Scores every row of `series` causally (the larger CUSUM statistic, in σ).
    pub fn score(&self, series: &Series) -> Result<Scores> {
        score_channels(
            series,
            "cusum",
            &self.channels,
            self.params.combine,
            |channel, x| run(&self.params, channel, x).0,
        )
    }

    /// The changes found on each channel, in row order.
    pub fn change_points(&self, series: &Series) -> Result<Vec<Vec<ChangePoint>>> {
        if series.channels() != self.channels.len() {
            return Err(TrainError::ChannelMismatch {
                family: "cusum",
                fitted: self.channels.len(),
                got: series.channels(),
            });
        }
        Ok(self
            .channels
            .iter()
            .enumerate()
            .map(|(c, fit)| {
                run(
                    &self.params,
                    &fit.state,
                    &crate::channels::column(series, c, fit.scale),
                )
                .1
            })
            .collect())
    }
}

/// One two-sided CUSUM with its own reference.
#[derive(Debug, Clone)]
struct Chart {
    sigma: f64,
    reference: f64,
    warm: Vec<f64>,
    upper: f64,
    lower: f64,
    upper_zero: usize,
    lower_zero: usize,
}

impl Chart {
    fn new(sigma: f64, restart: usize) -> Self {
        Self {
            sigma: sigma.max(crate::channels::SPREAD_FLOOR),
            reference: f64::NAN,
            warm: Vec::with_capacity(restart),
            upper: 0.0,
            lower: 0.0,
            upper_zero: 0,
            lower_zero: 0,
        }
    }

    /// Takes in a value at row t; returns the statistic and, on a crossing, (onset, up).
    fn step(&mut self, value: f64, t: usize, params: &CusumParams) -> (f64, Option<(usize, bool)>) {
        if self.warm.len() < params.restart_window {
            self.warm.push(value);
            if self.warm.len() == params.restart_window {
                self.reference = self.warm.iter().sum::<f64>() / self.warm.len() as f64;
                self.upper_zero = t + 1;
                self.lower_zero = t + 1;
            }
            return (0.0, None);
        }
        let z = (value - self.reference) / self.sigma;
        self.upper = (self.upper + z - params.k).max(0.0);
        self.lower = (self.lower - z - params.k).max(0.0);
        if self.upper == 0.0 {
            self.upper_zero = t + 1;
        }
        if self.lower == 0.0 {
            self.lower_zero = t + 1;
        }
        if params.baseline_alpha > 0.0 {
            self.reference += params.baseline_alpha * (value - self.reference);
        }
        let statistic = self.upper.max(self.lower);
        if statistic > params.h {
            let up = self.upper >= self.lower;
            let onset = if up { self.upper_zero } else { self.lower_zero };
            self.upper = 0.0;
            self.lower = 0.0;
            self.warm.clear();
            return (statistic, Some((onset, up)));
        }
        (statistic, None)
    }
}

fn run(
    params: &CusumParams,
    channel: &CusumChannel,
    x: &[f64],
) -> (ChannelScores, Vec<ChangePoint>) {
    let n = x.len();
    let mut values = vec![0.0; n];
    let mut expected = vec![f64::NAN; n];
    let mut changes = Vec::new();
    let mut level = Chart::new(channel.sigma_level, params.restart_window);
    let mut trend = Chart::new(channel.sigma_trend, params.restart_window);
    let watch_level = params.target != Target::Trend;
    let watch_trend = params.target != Target::Level;
    let mut previous = f64::NAN;
    let mut warm_up = None;
    let mut seen = 0;
    for t in 0..n {
        let value = x[t];
        if !value.is_finite() {
            continue;
        }
        seen += 1;
        if seen == params.restart_window {
            warm_up = Some(t + 1);
        }
        let mut score: f64 = 0.0;
        if watch_level {
            if level.reference.is_finite() && level.warm.len() >= params.restart_window {
                expected[t] = level.reference;
            }
            let (statistic, change) = level.step(value, t, params);
            score = score.max(statistic);
            if let Some((onset, up)) = change {
                changes.push(ChangePoint {
                    alarm: t,
                    onset,
                    trend: false,
                    up,
                });
                // A level shift also breaks the differences: restart the trend chart too.
                trend = Chart::new(channel.sigma_trend, params.restart_window);
            }
        }
        if watch_trend && previous.is_finite() {
            let (statistic, change) = trend.step(value - previous, t, params);
            score = score.max(statistic);
            if let Some((onset, up)) = change {
                changes.push(ChangePoint {
                    alarm: t,
                    onset,
                    trend: true,
                    up,
                });
            }
        }
        values[t] = score;
        previous = value;
    }
    (
        ChannelScores {
            values,
            warm_up: warm_up.unwrap_or(n),
            expected: Some(expected),
            band: None,
        },
        changes,
    )
}
