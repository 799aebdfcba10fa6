//! Anomaly likelihood (Ahmad, Lavin, Purdy & Agha 2017, "Unsupervised real-time anomaly
//! detection for streaming data"), the post-processing step behind NAB's HTM result, usable on
//! top of any family's raw scores.
//!
//! A port of nupic's `AnomalyLikelihood.anomalyProbability` as NAB's `numenta` detector
//! configures it: the raw scores of the last `historic_window` rows form a long-run
//! distribution (a normal fitted to their `averaging_window`-row moving average, re-estimated
//! every `reestimation_period` rows after a learning period); each new row's short-term
//! moving average gets its Gaussian tail probability under that distribution, and the
//! likelihood is 1 − tail (0.5 during the probationary period). NAB's filter (a run of
//! tail probabilities ≤ 1e-5 keeps only the first, the rest become 1e-3) and its metric-variance
//! guard (a near-constant metric gets the null distribution) are kept; nupic's constants
//! (mean ≥ 0.03, variance ≥ 0.0003, `erfc(z / 1.4142)`) are kept verbatim so the numbers match.
//! With `log_scale`, the output is NAB's `computeLogLikelihood`: ln(1.0000000001 − L) / ln(1e-10).
//!
//! Causal whenever the wrapped detector is: each output uses the raw scores up to its row.
//! Cost: O(1) per row plus O(historic_window) per re-estimate.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::space::{Dim, Space};

/// Parameters of the likelihood transform (nupic's names; NAB's `numenta` settings derive
/// `learning_period` and `estimation_samples` from the probationary period).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LikelihoodParams {
    /// Rows ignored before estimating (the raw detector is still learning).
    pub learning_period: usize,
    /// Rows used for the first estimate, after the learning period.
    pub estimation_samples: usize,
    /// Rows of raw scores kept for the long-run distribution.
    pub historic_window: usize,
    /// Rows between re-estimates of the distribution.
    pub reestimation_period: usize,
    /// Rows in the short-term moving average of raw scores.
    pub averaging_window: usize,
    /// Output NAB's log-likelihood instead of the likelihood.
    pub log_scale: bool,
    /// NAB's `numenta` detector's spatial check: a value outside the range seen so far, widened
    /// by this fraction of the range's width on each side, scores 1.0 whatever its likelihood
    /// (NAB uses 0.05; see [`spatial_anomalies`]). `None` (the default) leaves it out.
    pub spatial_tolerance: Option<f64>,
}

impl Default for LikelihoodParams {
    fn default() -> Self {
        Self {
            learning_period: 288,
            estimation_samples: 100,
            historic_window: 8640,
            reestimation_period: 100,
            averaging_window: 10,
            log_scale: false,
            spatial_tolerance: None,
        }
    }
}

impl LikelihoodParams {
    /// NAB's `numenta` detector settings for a file whose probationary period has `rows` rows.
    pub fn for_probationary_period(rows: usize) -> Self {
        let learning_period = rows / 2;
        Self {
            learning_period,
            estimation_samples: rows - learning_period,
            ..Self::default()
        }
    }

    /// The search space of the transform.
    pub fn space() -> Space {
        vec![
            Dim::int("averaging_window", 1, 50, 1),
            Dim::flag("log_scale"),
        ]
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<()> {
        for (name, value) in [
            ("historic_window", self.historic_window),
            ("reestimation_period", self.reestimation_period),
            ("averaging_window", self.averaging_window),
        ] {
            if value == 0 {
                return Err(TrainError::param(
                    format!("anomaly_likelihood.{name}"),
                    "0 rows",
                    "use a positive number of rows",
                ));
            }
        }
        if let Some(t) = self.spatial_tolerance
            && !(t.is_finite() && t >= 0.0)
        {
            return Err(TrainError::param(
                "anomaly_likelihood.spatial_tolerance",
                t.to_string(),
                "use a finite fraction >= 0 of the range seen so far (NAB: 0.05)",
            ));
        }
        if self.estimation_samples == 0 {
            return Err(TrainError::param(
                "anomaly_likelihood.estimation_samples",
                "0 rows",
                "the first estimate needs at least one row",
            ));
        }
        Ok(())
    }

    /// Transforms raw scores into likelihoods, one per row. `values` (the metric, for the
    /// variance guard; `None` skips the guard) and `missing` (rows with no data: they score 0
    /// and are not fed to the state) are optional.
    pub fn transform(
        &self,
        raw: &[f64],
        values: Option<&[f64]>,
        missing: Option<&[bool]>,
    ) -> Vec<f64> {
        let mut state = Likelihood::new(self);
        raw.iter()
            .enumerate()
            .map(|(i, &score)| {
                if missing.is_some_and(|m| m[i]) {
                    return 0.0;
                }
                let value = values.map_or(f64::NAN, |v| v[i]);
                let likelihood = state.next(value, if score.is_finite() { score } else { 0.0 });
                if self.log_scale {
                    log_likelihood(likelihood)
                } else {
                    likelihood
                }
            })
            .collect()
    }
}

/// NAB's `computeLogLikelihood`: ln(1.0000000001 − L) / ln(1e-10), in [0, 1].
pub fn log_likelihood(likelihood: f64) -> f64 {
    (1.000_000_000_1 - likelihood).ln() / -23.025_850_847_200_09
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Normal {
    mean: f64,
    variance: f64,
    stdev: f64,
}

const NULL: Normal = Normal {
    mean: 0.5,
    variance: 1e6,
    stdev: 1e3,
};

fn estimate_normal(data: &[f64], lower_bound: bool) -> Normal {
    let n = data.len() as f64;
    let mut mean = data.iter().sum::<f64>() / n;
    let mut variance = data.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    if lower_bound {
        mean = mean.max(0.03);
        variance = variance.max(0.0003);
    }
    let stdev = if variance > 0.0 { variance.sqrt() } else { 0.0 };
    Normal {
        mean,
        variance,
        stdev,
    }
}

fn tail_probability(x: f64, d: &Normal) -> f64 {
    let x = if x < d.mean { 2.0 * d.mean - x } else { x };
    let z = (x - d.mean) / d.stdev;
    // nupic divides by 1.4142, not √2: kept so the numbers match.
    #[allow(clippy::approx_constant)]
    let root_two = 1.4142;
    0.5 * crate::stats::erfc(z / root_two)
}

/// nupic's `MovingAverage.compute`.
#[derive(Debug, Clone, Default)]
struct MovingAverage {
    window: VecDeque<f64>,
    total: f64,
}

impl MovingAverage {
    fn push(&mut self, value: f64, size: usize) -> f64 {
        if self.window.len() == size
            && let Some(old) = self.window.pop_front()
        {
            self.total -= old;
        }
        self.window.push_back(value);
        self.total += value;
        self.total / self.window.len() as f64
    }
}

/// The running state of `AnomalyLikelihood`.
#[derive(Debug, Clone)]
struct Likelihood<'a> {
    params: &'a LikelihoodParams,
    history: VecDeque<(f64, f64)>,
    iteration: usize,
    distribution: Option<Normal>,
    average: MovingAverage,
    recent: VecDeque<f64>,
}

impl<'a> Likelihood<'a> {
    fn new(params: &'a LikelihoodParams) -> Self {
        Self {
            params,
            history: VecDeque::with_capacity(params.historic_window),
            iteration: 0,
            distribution: None,
            average: MovingAverage::default(),
            recent: VecDeque::new(),
        }
    }

    fn next(&mut self, value: f64, score: f64) -> f64 {
        let p = self.params;
        let likelihood = if self.iteration < p.learning_period + p.estimation_samples {
            0.5
        } else {
            if self.distribution.is_none() || self.iteration.is_multiple_of(p.reestimation_period) {
                self.estimate();
            }
            let distribution = self.distribution.unwrap_or(NULL);
            let average = self.average.push(score, p.averaging_window);
            let tail = tail_probability(average, &distribution);
            // Filter against the previous raw tail probability, then remember this one.
            let filtered = match self.recent.back() {
                Some(&previous) if tail <= 1e-5 => {
                    if previous > 1e-5 {
                        tail
                    } else {
                        1e-3
                    }
                }
                _ => tail,
            };
            if self.recent.len() == p.averaging_window {
                self.recent.pop_front();
            }
            self.recent.push_back(tail);
            1.0 - filtered
        };
        if self.history.len() == p.historic_window {
            self.history.pop_front();
        }
        self.history.push_back((value, score));
        self.iteration += 1;
        likelihood
    }

    /// `estimateAnomalyLikelihoods` over the stored history.
    fn estimate(&mut self) {
        let p = self.params;
        let shifted_out = self.iteration.saturating_sub(p.historic_window);
        let skip = self
            .iteration
            .min(p.learning_period.saturating_sub(shifted_out));
        let mut average = MovingAverage::default();
        let averages: Vec<f64> = self
            .history
            .iter()
            .map(|&(_, s)| average.push(s, p.averaging_window))
            .collect();
        let mut distribution = if averages.len() <= skip {
            NULL
        } else {
            estimate_normal(&averages[skip..], true)
        };
        let values: Vec<f64> = self.history.iter().skip(skip).map(|&(v, _)| v).collect();
        if !values.is_empty()
            && values.iter().all(|v| v.is_finite())
            && estimate_normal(&values, false).variance < 1.5e-5
        {
            distribution = NULL;
        }
        // nupic computes the tail probability of every average; only the last window is kept.
        let keep = p.averaging_window.min(averages.len());
        self.recent = averages[averages.len() - keep..]
            .iter()
            .map(|&a| tail_probability(a, &distribution))
            .collect();
        self.distribution = Some(distribution);
        self.average = average;
    }
}

/// The transform as a catalog entry: a wrapped detector and the likelihood settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalyLikelihoodSpec {
    /// The detector whose raw scores are transformed.
    pub detector: Box<crate::catalog::DetectorSpec>,
    /// Further detectors: each one's raw scores get their own likelihood with the same
    /// settings, and a row scores the highest of the likelihoods (the most surprised detector
    /// speaks). Empty by default.
    #[serde(default)]
    pub others: Vec<crate::catalog::DetectorSpec>,
    /// The likelihood settings.
    #[serde(default)]
    pub likelihood: LikelihoodParams,
}

impl Default for AnomalyLikelihoodSpec {
    fn default() -> Self {
        Self {
            detector: Box::new(crate::catalog::DetectorKind::RollingZscore.default_spec()),
            others: Vec::new(),
            likelihood: LikelihoodParams::default(),
        }
    }
}

impl AnomalyLikelihoodSpec {
    /// The transform's own space plus the wrapped detector's, as dotted paths.
    pub fn space(&self) -> Space {
        let mut space: Space = LikelihoodParams::space()
            .into_iter()
            .map(|d| Dim {
                name: format!("likelihood.{}", d.name),
                ..d
            })
            .collect();
        space.extend(self.detector.space().into_iter().map(|d| Dim {
            name: format!("detector.{}", d.name),
            ..d
        }));
        space
    }

    /// Checks the transform's and the wrapped detector's parameters.
    pub fn check(&self) -> Result<&Self> {
        let wrapped = std::iter::once(("detector".to_string(), self.detector.as_ref())).chain(
            self.others
                .iter()
                .enumerate()
                .map(|(i, d)| (format!("others[{i}]"), d)),
        );
        for (name, detector) in wrapped {
            if detector.kind() == crate::catalog::DetectorKind::AnomalyLikelihood {
                return Err(TrainError::param(
                    format!("anomaly_likelihood.{name}"),
                    "wraps another anomaly_likelihood",
                    "wrap a detector family, not the transform itself",
                ));
            }
            detector.check()?;
        }
        self.likelihood.check()?;
        Ok(self)
    }

    /// Fits the wrapped detector on `train`.
    pub fn fit(&self, train: &vigil_datasets::Series) -> Result<AnomalyLikelihoodModel> {
        Ok(AnomalyLikelihoodModel {
            detector: Box::new(self.detector.fit(train)?),
            others: self
                .others
                .iter()
                .map(|d| d.fit(train))
                .collect::<Result<_>>()?,
            likelihood: self.likelihood.clone(),
        })
    }
}

/// NAB's `numenta` detector's spatial anomalies: row `i` is flagged when the range of the
/// values before it is not a single point and `values[i]` lies outside it by more than
/// `tolerance` times its width. Causal; missing values (NaN) are neither flagged nor counted.
/// The NAB detector sets the score of a flagged row to 1.0.
pub fn spatial_anomalies(values: &[f64], tolerance: f64) -> Vec<bool> {
    let mut range: Option<(f64, f64)> = None;
    values
        .iter()
        .map(|&v| {
            if v.is_nan() {
                return false;
            }
            let flagged = range.is_some_and(|(lo, hi)| {
                let margin = (hi - lo) * tolerance;
                hi > lo && (v > hi + margin || v < lo - margin)
            });
            range = Some(range.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))));
            flagged
        })
        .collect()
}

/// A fitted detector with the likelihood transform on its (combined) scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyLikelihoodModel {
    /// The fitted wrapped detector.
    pub detector: Box<crate::catalog::FittedModel>,
    /// The further fitted detectors (see [`AnomalyLikelihoodSpec::others`]).
    #[serde(default)]
    pub others: Vec<crate::catalog::FittedModel>,
    /// The likelihood settings.
    pub likelihood: LikelihoodParams,
}

impl AnomalyLikelihoodModel {
    /// Scores `series` with the wrapped detector and transforms the combined scores. Rows with
    /// every channel missing score 0 and are skipped. The metric-variance guard sees the
    /// values of a one-channel series (skipped otherwise);
    /// expected values, bands and per-channel scores are the wrapped detector's raw ones.
    /// Each of `others` gets its own likelihood, and a row takes the highest; NAB's spatial
    /// check, when set, comes last.
    pub fn score(&self, series: &vigil_datasets::Series) -> Result<crate::scores::Scores> {
        let raw = self.detector.score(series)?;
        // The guard's threshold (variance < 1.5e-5) is absolute in nupic; here it sees the values
        // divided by their power-of-two magnitude, so it means the same at any scale (and is
        // nupic's own for metrics of magnitude about 1).
        let column: Option<Vec<f64>> = (series.channels() == 1).then(|| {
            let raw = series.values.column(0).to_vec();
            let scale = crate::channels::power_of_two_scale(&raw);
            raw.iter().map(|v| v / scale).collect()
        });
        let missing: Vec<bool> = series
            .values
            .rows()
            .into_iter()
            .map(|row| row.iter().all(|v| v.is_nan()))
            .collect();
        let likelihood = |raw: &[f64]| {
            self.likelihood
                .transform(raw, column.as_deref(), Some(&missing))
        };
        let mut values = likelihood(&raw.values);
        let mut warm_up = raw.warm_up;
        for other in &self.others {
            let other = other.score(series)?;
            warm_up = warm_up.max(other.warm_up);
            for (v, l) in values.iter_mut().zip(likelihood(&other.values)) {
                *v = v.max(l);
            }
        }
        if let Some(tolerance) = self.likelihood.spatial_tolerance {
            for channel in series.values.columns() {
                let flags = spatial_anomalies(&channel.to_vec(), tolerance);
                for (v, flagged) in values.iter_mut().zip(flags) {
                    if flagged {
                        *v = 1.0;
                    }
                }
            }
        }
        let probation = self.likelihood.learning_period + self.likelihood.estimation_samples;
        Ok(crate::scores::Scores {
            values,
            warm_up: warm_up.max(probation).min(series.len()),
            ..raw
        })
    }
}
