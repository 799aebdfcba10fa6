//! Multi-window matrix-profile discord with the subsequence length taken from the data: the
//! method the UCR anomaly archive rewards (Wu & Keogh, TKDE 2021: the discord is the strongest
//! simple baseline; the KDD Cup 2021 entries ran matrix profiles over several lengths).
//!
//! - **Windows from the period.** When no `period` is given, fitting finds each channel's
//!   dominant cycle in the training rows (the autocorrelation peak of
//!   [`detect_period_above`], with no floor on its height: a discord needs *some* length) and
//!   records it; the windows are `round(period × multiple)` for each of `multiples` (at least
//!   `min_window`, duplicates dropped, those too long for the training rows dropped). A channel
//!   without any autocorrelation peak falls back to `fallback_window`.
//! - **Profile.** For each window, the self-join matrix profile of the whole scored series
//!   ([`matrix_profile`]: each subsequence against every other one outside the exclusion zone,
//!   earlier *and later*), so a pattern that first appears late but then recurs is not a discord.
//!   This makes the family batch-only: row t's score uses later rows. Its causal siblings are
//!   `matrix_profile` (the left profile, one fixed window) and `damp` (these windows, the past
//!   only, with DAMP's pruning).
//! - **One scale.** A z-normalised distance lies in `0 ..= 2√m`, so each profile is divided by
//!   `√(2m)`, which puts every window on the scale of a correlation distance (`√(1 − ρ)`), and
//!   placed at the subsequence's centre row (`start + m / 2`), where the anomaly it covers lies.
//!   The score of a row is the mean over the windows that place a value there.
//! - Missing values as in `matrix_profile`: runs of at most `max_fill` rows are filled with the
//!   last value, a subsequence that still holds one is neither scored nor matched.
//! - Cost: one O(n²) profile per window (STOMP diagonals, rayon), O(n) memory per worker.
//!
//! Chosen on the 51 UCR development series (`experiments/specs/ucr.toml`), with a Python
//! prototype over stumpy's profiles, before this code: centre placement beats start or end
//! placement, the full profile beats the left one, and the mean of the three windows
//! (`multiples = [0.5, 1, 2]`) beats each window alone and their maximum.

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::channels::{ChannelFit, fit_channels, score_channels};
use crate::detectors::matrix_profile::{
    exclusion_zone, fill_short_gaps, has_a_match, matrix_profile,
};
use crate::error::{Result, TrainError};
use crate::scores::{ChannelScores, Combine, Scores};
use crate::season::detect_period_above;
use crate::space::{Dim, Space};

const FAMILY: &str = "discord";

/// Unchecked parameters of the multi-window discord detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscordParams {
    /// The base subsequence length in rows; `None` finds it per channel from the training
    /// rows (the dominant autocorrelation period).
    pub period: Option<usize>,
    /// Longest period searched for, in rows.
    pub max_period: usize,
    /// Window lengths as multiples of the period.
    pub multiples: Vec<f64>,
    /// Shortest window, in rows.
    pub min_window: usize,
    /// Base length when a channel has no autocorrelation peak at all.
    pub fallback_window: usize,
    /// Longest run of missing rows filled with the last value before it (0 = never fill).
    pub max_fill: usize,
    /// How channel scores combine.
    pub combine: Combine,
}

impl Default for DiscordParams {
    fn default() -> Self {
        Self {
            period: None,
            max_period: 1000,
            multiples: vec![0.5, 1.0, 2.0],
            min_window: 8,
            fallback_window: 100,
            max_fill: 3,
            combine: Combine::Max,
        }
    }
}

impl DiscordParams {
    /// Sets a fixed base length instead of the detected period.
    pub fn with_period(mut self, period: usize) -> Self {
        self.period = Some(period);
        self
    }

    /// Sets the window multiples.
    pub fn with_multiples(mut self, multiples: Vec<f64>) -> Self {
        self.multiples = multiples;
        self
    }

    /// The search space: the longest period searched for and the gap filling (the windows
    /// follow the data, so there is little to tune).
    pub fn space() -> Space {
        vec![
            Dim::int("max_period", 100, 2000, 100),
            Dim::int("max_fill", 0, 16, 1),
        ]
    }

    fn rule(&self) -> WindowRule<'_> {
        WindowRule {
            family: FAMILY,
            period: self.period,
            max_period: self.max_period,
            multiples: &self.multiples,
            min_window: self.min_window,
            fallback_window: self.fallback_window,
            max_fill: self.max_fill,
        }
    }

    /// Checks every rule; a checked value cannot be wrong.
    pub fn check(&self) -> Result<DiscordValid> {
        self.rule().check()?;
        Ok(DiscordValid {
            params: self.clone(),
        })
    }
}

/// How the discord families choose their windows: the period (given, detected in the training
/// rows, or the fallback) times each multiple. Shared by `discord` and `damp`.
pub(crate) struct WindowRule<'a> {
    /// The family, for error messages (`family.key`).
    pub family: &'static str,
    pub period: Option<usize>,
    pub max_period: usize,
    pub multiples: &'a [f64],
    pub min_window: usize,
    pub fallback_window: usize,
    pub max_fill: usize,
}

impl WindowRule<'_> {
    /// Checks every rule on the window parameters.
    pub fn check(&self) -> Result<()> {
        let key = |k: &str| format!("{}.{k}", self.family);
        if self.min_window < 3 {
            return Err(TrainError::param(
                key("min_window"),
                format!("{} is below 3", self.min_window),
                "a z-normalised shape needs at least 3 rows",
            ));
        }
        if let Some(p) = self.period
            && p < 2
        {
            return Err(TrainError::param(
                key("period"),
                format!("{p} is below 2"),
                "give the length of one cycle in rows, or leave it out to detect it",
            ));
        }
        if self.max_period < 2 {
            return Err(TrainError::param(
                key("max_period"),
                format!("{} is below 2", self.max_period),
                "the period search needs lags of 2 rows or more",
            ));
        }
        if self.fallback_window < self.min_window {
            return Err(TrainError::param(
                key("fallback_window"),
                format!(
                    "{} is below min_window = {}",
                    self.fallback_window, self.min_window
                ),
                "raise fallback_window or lower min_window",
            ));
        }
        if self.multiples.is_empty() {
            return Err(TrainError::param(
                key("multiples"),
                "[] is empty".to_string(),
                "give at least one multiple of the period, e.g. [1.0]",
            ));
        }
        if let Some(bad) = self
            .multiples
            .iter()
            .find(|m| !(m.is_finite() && **m > 0.0))
        {
            return Err(TrainError::param(
                key("multiples"),
                format!("{bad} is not a positive number"),
                "each window is round(period × multiple): use positive multiples such as 0.5, 1, 2",
            ));
        }
        Ok(())
    }

    /// The windows for a base length, kept to those the training rows can match.
    fn windows(&self, period: usize, train_rows: &[f64]) -> Vec<usize> {
        let mut windows: Vec<usize> = self
            .multiples
            .iter()
            .map(|m| ((period as f64 * m).round() as usize).max(self.min_window))
            .filter(|&w| has_a_match(train_rows, w))
            .collect();
        windows.sort_unstable();
        windows.dedup();
        windows
    }

    /// The period and windows of each channel of `train`.
    pub fn fit(&self, train: &Series) -> Result<Vec<ChannelFit<DiscordChannel>>> {
        fit_channels(train, self.family, |x, channel| {
            let filled = fill_short_gaps(x, self.max_fill);
            let (period, detected) = match self.period {
                Some(period) => (period, false),
                None => match detect_period_above(&filled, self.max_period, 0.0) {
                    Some(period) => (period, true),
                    None => (self.fallback_window, false),
                },
            };
            let windows = self.windows(period, &filled);
            if windows.is_empty() {
                let shortest = ((period as f64
                    * self.multiples.iter().copied().fold(f64::INFINITY, f64::min))
                .round() as usize)
                    .max(self.min_window);
                return Err(TrainError::NotEnoughData {
                    family: self.family,
                    channel,
                    needed: shortest + exclusion_zone(shortest) + 1,
                    got: x.iter().filter(|v| v.is_finite()).count(),
                });
            }
            Ok(DiscordChannel {
                period,
                detected,
                windows,
            })
        })
    }
}

/// Checked parameters of the discord detector.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscordValid {
    params: DiscordParams,
}

/// What fitting learned for one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscordChannel {
    /// The base length: the given period, the detected one, or the fallback.
    pub period: usize,
    /// True when `period` was detected from the training rows.
    pub detected: bool,
    /// The window lengths scored, ascending.
    pub windows: Vec<usize>,
}

impl DiscordValid {
    /// Fits on `train`: the period and windows per channel.
    pub fn fit(&self, train: &Series) -> Result<DiscordModel> {
        Ok(DiscordModel {
            params: self.params.clone(),
            channels: self.params.rule().fit(train)?,
        })
    }
}

/// A fitted discord detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscordModel {
    /// The parameters it was fitted with.
    pub params: DiscordParams,
    /// Per-channel scale, period and windows.
    pub channels: Vec<ChannelFit<DiscordChannel>>,
}

impl DiscordModel {
    /// Scores every row of `series` (batch: see the module doc).
    pub fn score(&self, series: &Series) -> Result<Scores> {
        let max_fill = self.params.max_fill;
        score_channels(
            series,
            FAMILY,
            &self.channels,
            self.params.combine,
            |state, x| score_channel(x, &state.windows, max_fill),
        )
    }
}

/// The mean, over windows, of the centre-placed profiles divided by √(2m).
fn score_channel(x: &[f64], windows: &[usize], max_fill: usize) -> ChannelScores {
    let n = x.len();
    let filled = fill_short_gaps(x, max_fill);
    let mut sum = vec![0.0; n];
    let mut count = vec![0u32; n];
    for &m in windows {
        let scale = (2.0 * m as f64).sqrt();
        for (start, d) in matrix_profile(&filled, m).iter().enumerate() {
            if d.is_finite() {
                let row = start + m / 2;
                sum[row] += d / scale;
                count[row] += 1;
            }
        }
    }
    let values = sum
        .iter()
        .zip(&count)
        .zip(x)
        .map(|((s, &c), v)| {
            if c > 0 && v.is_finite() {
                s / f64::from(c)
            } else {
                0.0
            }
        })
        .collect();
    let longest = windows.iter().copied().max().unwrap_or(0);
    ChannelScores {
        values,
        warm_up: (longest / 2).min(n),
        expected: None,
        band: None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One channel, one row a minute.
    pub(crate) fn series(values: Vec<f64>) -> Series {
        let n = values.len();
        Series::new(
            "t",
            (0..n as i64).map(|i| i * 60_000).collect(),
            vec!["c0".into()],
            ndarray::Array2::from_shape_vec((n, 1), values).expect("valid"),
        )
    }

    /// A sine of period 50 with one distorted cycle at rows 1510..1530.
    pub(crate) fn periodic(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let t = i as f64;
                let base =
                    (2.0 * std::f64::consts::PI * t / 50.0).sin() + 0.01 * ((i * 7919) % 13) as f64;
                if (1510..1530).contains(&i) {
                    base + 0.8 * (t * 1.3).sin()
                } else {
                    base
                }
            })
            .collect()
    }

    #[test]
    fn finds_the_period_and_the_distorted_cycle() {
        let x = periodic(2000);
        let train = series(x[..1000].to_vec());
        let model = DiscordParams::default()
            .check()
            .expect("valid")
            .fit(&train)
            .expect("valid");
        let c = &model.channels[0].state;
        assert_eq!((c.period, c.detected), (50, true));
        assert_eq!(c.windows, vec![25, 50, 100]);
        let scores = model.score(&series(x)).expect("valid");
        let top = scores
            .values
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .expect("valid")
            .0;
        assert!((1490..1550).contains(&top), "top row {top}");
    }

    #[test]
    fn a_given_period_is_used_and_long_windows_are_dropped() {
        let x = periodic(400);
        let train = series(x[..100].to_vec());
        let model = DiscordParams::default()
            .with_period(40)
            .check()
            .expect("valid")
            .fit(&train)
            .expect("valid");
        let c = &model.channels[0].state;
        assert_eq!((c.period, c.detected), (40, false));
        // Two 80-row subsequences more than the exclusion zone (20) apart need 101 rows.
        assert_eq!(c.windows, vec![20, 40]);
    }

    #[test]
    fn bad_parameters_name_the_key() {
        let err = |p: DiscordParams| p.check().expect_err("an error").to_string();
        assert!(err(DiscordParams::default().with_multiples(vec![])).contains("discord.multiples"));
        assert!(
            err(DiscordParams::default().with_multiples(vec![1.0, -2.0]))
                .contains("discord.multiples")
        );
        assert!(err(DiscordParams::default().with_period(1)).contains("discord.period"));
        let short = DiscordParams {
            min_window: 2,
            ..DiscordParams::default()
        };
        assert!(err(short).contains("discord.min_window"));
    }

    #[test]
    fn too_few_training_rows_is_a_clear_error() {
        let train = series(periodic(10));
        let e = DiscordParams::default()
            .with_period(50)
            .check()
            .expect("valid")
            .fit(&train)
            .expect_err("an error");
        assert!(matches!(e, TrainError::NotEnoughData { .. }), "{e}");
    }
}
