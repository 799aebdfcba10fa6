//! Threshold policies: turn validation scores (and labels, for the supervised ones) into one
//! threshold, which is then applied unchanged to test data. Detection is `score >= threshold`.
//!
//! Every supervised search sorts once and sweeps every distinct score (O(n log n)); nothing is a
//! grid or a hill-climb. Policies pool all validation series (a corpus-level threshold), which is
//! also how NAB tunes its threshold. Two policies look beyond scores: `alert_budget` needs the
//! timestamps and the alert policy ([`FitContext`], [`ThresholdPolicy::fit_with`]), and `pot`
//! extrapolates the score tail with extreme-value theory ([`fit_gpd`]).

use serde::{Deserialize, Serialize};

mod budget;
mod parse;
mod pot;
mod stats;

use crate::alert::AlertPolicy;
use crate::error::{EvalError, Result, check_finite};
use crate::labels::{Window, labels_from_windows, validate_windows};
use crate::nab::{NabProfile, NabSeries, search_threshold};
use crate::sweep::{adjusted_sweep, best_f1, confusion_sweep};

pub use pot::{Gpd, MIN_EXCESSES, fit_gpd};
use stats::sort;
pub use stats::{MAD_NORMAL_SCALE, mean_std, median_mad_sorted, quantile_sorted};

/// Scores of one series with its labelled incident windows, checked to line up.
#[derive(Debug, Clone, Copy)]
pub struct SeriesScores<'a> {
    /// One finite score per row, higher = more anomalous.
    pub scores: &'a [f64],
    /// Incident windows (sorted, disjoint, inside the series).
    pub windows: &'a [Window],
}

impl<'a> SeriesScores<'a> {
    /// Checks that scores are finite and windows valid for this length.
    pub fn new(scores: &'a [f64], windows: &'a [Window]) -> Result<Self> {
        check_finite(scores)?;
        validate_windows(windows, scores.len())?;
        Ok(Self { scores, windows })
    }
}

/// What some policies need beyond scores and windows (see [`ThresholdPolicy::needs_context`]).
#[derive(Debug, Clone)]
pub struct FitContext<'a> {
    /// One timestamp slice (ms UTC) per validation series, in the same order, row-aligned.
    pub timestamps: Vec<&'a [i64]>,
    /// How detections become alerts.
    pub alert: &'a AlertPolicy,
    /// Early-detection allowance of the event metrics (ms).
    pub early_ms: i64,
}

/// Default `level` of [`ThresholdPolicy::Pot`]: the initial threshold of the SPOT paper.
pub const POT_DEFAULT_LEVEL: f64 = 0.98;

fn pot_default_level() -> f64 {
    POT_DEFAULT_LEVEL
}

/// How a threshold is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ThresholdPolicy {
    /// A given value.
    Fixed {
        /// The threshold.
        value: f64,
    },
    /// The `q`-quantile of the validation scores (linear interpolation, NumPy's default).
    Quantile {
        /// Quantile in [0, 1].
        q: f64,
    },
    /// Expect a share `rate` of anomalies: the `(1 − rate)`-quantile.
    Contamination {
        /// Share of anomalous rows in (0, 1).
        rate: f64,
    },
    /// The `k`-th highest validation score (so about `k` validation rows alert).
    TopK {
        /// Rows to flag, at least 1.
        k: usize,
    },
    /// Mean + `k`·σ of the validation scores (population σ).
    MeanStd {
        /// Multiplier of σ.
        k: f64,
    },
    /// Median + `k`·MAD of the validation scores, MAD scaled by 1.4826 to estimate σ
    /// (as `scipy.stats.median_abs_deviation(scale="normal")`).
    MedianMad {
        /// Multiplier of the scaled MAD.
        k: f64,
    },
    /// The threshold maximising an objective on the labelled validation series.
    Best {
        /// What to maximise.
        objective: Objective,
    },
    /// The lowest threshold whose false alarms on the validation rows stay within `per_day` per
    /// day, counted as the event metrics count them (alerts after the alert policy that touch no
    /// early-extended incident; days = span of each series' timestamps, pooled). Works without
    /// labelled incidents (then every alert is a false alarm); labels only keep true alerts out
    /// of the count, so the policy is unsupervised. Needs [`ThresholdPolicy::fit_with`].
    /// The count is not monotone in the threshold (merging, cooldown), so the result is, exactly,
    /// the lowest distinct validation score at which the budget holds there and at every higher
    /// score, or the next double above the highest score when even that breaks it. Cost: one
    /// sort, then a branch-and-bound of O(n) passes (tens in practice).
    AlertBudget {
        /// False alarms allowed per day, at least 0.
        per_day: f64,
    },
    /// Peaks over threshold (SPOT, Siffer et al. 2017): the score exceeded with probability
    /// `risk` under a generalised Pareto tail fitted above the `level`-quantile ([`fit_gpd`]).
    /// Reaches risks below 1/n, where an empirical quantile has no data. Assumes roughly i.i.d.
    /// scores with a GPD-like tail; needs at least 10 excesses (500 rows at level 0.98). Cost:
    /// one sort plus about 1,000 O(N_t) likelihood evaluations.
    Pot {
        /// Probability that a normal row exceeds the threshold, in (0, 1 − level).
        risk: f64,
        /// Quantile of the initial threshold whose excesses are fitted, in (0, 1).
        #[serde(default = "pot_default_level")]
        level: f64,
    },
}

/// Objectives a threshold can be optimised for, each by an exact sort-once sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "metric", rename_all = "snake_case")]
pub enum Objective {
    /// Point-wise F1.
    PointF1,
    /// Point-adjusted F1 (inflated; labelled as such in reports).
    AdjustedF1,
    /// NAB raw score of a profile, summed over the series (NAB's corpus-level optimisation).
    Nab {
        /// NAB profile.
        profile: NabProfile,
    },
}

/// A threshold chosen by a policy, with what it achieved on the data it was chosen on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FittedThreshold {
    /// The policy that chose it.
    pub policy: ThresholdPolicy,
    /// The threshold (`score >= value` detects).
    pub value: f64,
    /// For `Best`: the objective's value on the fitting data; for `AlertBudget`: the false
    /// alarms per day reached on it.
    pub objective_value: Option<f64>,
}

impl ThresholdPolicy {
    /// Checks the policy's parameters.
    pub fn check(&self) -> Result<()> {
        let bad = |param: &'static str, value: String, reason: &'static str, hint| {
            Err(EvalError::InvalidParam {
                param,
                value,
                reason,
                hint,
            })
        };
        match *self {
            ThresholdPolicy::Fixed { value } if !value.is_finite() => bad(
                "threshold.fixed",
                value.to_string(),
                "must be finite",
                "give a plain number",
            ),
            ThresholdPolicy::Quantile { q } if !(0.0..=1.0).contains(&q) => bad(
                "threshold.quantile",
                q.to_string(),
                "must lie in [0, 1]",
                "e.g. quantile:0.99",
            ),
            ThresholdPolicy::Contamination { rate } if !(rate > 0.0 && rate < 1.0) => bad(
                "threshold.contamination",
                rate.to_string(),
                "must lie in (0, 1)",
                "e.g. contamination:0.01 for 1 % anomalies",
            ),
            ThresholdPolicy::TopK { k: 0 } => bad(
                "threshold.topk",
                "0".into(),
                "must be at least 1",
                "e.g. topk:10",
            ),
            ThresholdPolicy::MeanStd { k } | ThresholdPolicy::MedianMad { k } if !k.is_finite() => {
                bad(
                    "threshold.k",
                    k.to_string(),
                    "must be finite",
                    "e.g. std:3 or mad:3",
                )
            }
            ThresholdPolicy::AlertBudget { per_day }
                if !(per_day.is_finite() && per_day >= 0.0) =>
            {
                bad(
                    "threshold.alert_budget.per_day",
                    per_day.to_string(),
                    "must be a finite number >= 0",
                    "e.g. budget:1 for at most one false alarm per day",
                )
            }
            ThresholdPolicy::Pot { level, .. } if !(level > 0.0 && level < 1.0) => bad(
                "threshold.pot.level",
                level.to_string(),
                "must lie in (0, 1)",
                "e.g. pot:1e-4:0.98",
            ),
            ThresholdPolicy::Pot { risk, level } if !(risk > 0.0 && risk < 1.0 - level) => bad(
                "threshold.pot.risk",
                risk.to_string(),
                "must lie in (0, 1 − level): the tail above the level-quantile",
                "e.g. pot:1e-4, or lower the level (pot:0.01:0.95)",
            ),
            _ => Ok(()),
        }
    }

    /// Whether the policy needs labels on the fitting data.
    pub fn is_supervised(&self) -> bool {
        matches!(self, ThresholdPolicy::Best { .. })
    }

    /// Whether the policy needs a [`FitContext`] (timestamps and alert policy), i.e. must be
    /// fitted with [`ThresholdPolicy::fit_with`].
    pub fn needs_context(&self) -> bool {
        matches!(self, ThresholdPolicy::AlertBudget { .. })
    }

    /// Chooses the threshold on `validation` (all series pooled), for policies that need no
    /// context; an `AlertBudget` policy returns an error that points to
    /// [`ThresholdPolicy::fit_with`].
    pub fn fit(&self, validation: &[SeriesScores<'_>]) -> Result<FittedThreshold> {
        self.fit_inner(validation, None)
    }

    /// Chooses the threshold on `validation` with what some policies need beyond scores
    /// (timestamps and alert policy, one timestamp slice per series). Policies that need no
    /// context behave exactly as under [`ThresholdPolicy::fit`] and ignore it.
    pub fn fit_with(
        &self,
        validation: &[SeriesScores<'_>],
        context: &FitContext<'_>,
    ) -> Result<FittedThreshold> {
        self.fit_inner(validation, Some(context))
    }

    fn fit_inner(
        &self,
        validation: &[SeriesScores<'_>],
        context: Option<&FitContext<'_>>,
    ) -> Result<FittedThreshold> {
        self.check()?;
        let pooled = || -> Vec<f64> {
            validation
                .iter()
                .flat_map(|s| s.scores.iter().copied())
                .collect()
        };
        let need_rows = || EvalError::NotEnoughData {
            what: "this threshold policy",
            needed: "at least one validation score",
            hint: "give a non-empty validation slice",
        };
        let plain = |value: f64| FittedThreshold {
            policy: *self,
            value,
            objective_value: None,
        };
        match *self {
            ThresholdPolicy::Fixed { value } => Ok(plain(value)),
            ThresholdPolicy::Quantile { q } => {
                let mut v = pooled();
                sort(&mut v);
                quantile_sorted(&v, q).map(plain).ok_or_else(need_rows)
            }
            ThresholdPolicy::Contamination { rate } => {
                let mut v = pooled();
                sort(&mut v);
                quantile_sorted(&v, 1.0 - rate)
                    .map(plain)
                    .ok_or_else(need_rows)
            }
            ThresholdPolicy::TopK { k } => {
                let mut v = pooled();
                if v.is_empty() {
                    return Err(need_rows());
                }
                sort(&mut v);
                let k = k.min(v.len());
                Ok(plain(v[v.len() - k]))
            }
            ThresholdPolicy::MeanStd { k } => {
                let v = pooled();
                let (mean, std) = mean_std(&v).ok_or_else(need_rows)?;
                Ok(plain(mean + k * std))
            }
            ThresholdPolicy::MedianMad { k } => {
                let mut v = pooled();
                sort(&mut v);
                let (median, mad) = median_mad_sorted(&v).ok_or_else(need_rows)?;
                Ok(plain(median + k * mad))
            }
            ThresholdPolicy::Best { objective } => {
                let (value, best) = best_threshold(validation, objective)?;
                Ok(FittedThreshold {
                    policy: *self,
                    value,
                    objective_value: Some(best),
                })
            }
            ThresholdPolicy::AlertBudget { per_day } => {
                let context = context.ok_or(EvalError::NotEnoughData {
                    what: "an alert-budget threshold",
                    needed: "the timestamps and the alert policy of the validation series",
                    hint: "fit it with ThresholdPolicy::fit_with and a FitContext (vigil_eval::evaluate does this)",
                })?;
                let (value, per_day) = budget::fit_alert_budget(validation, context, per_day)?;
                Ok(FittedThreshold {
                    policy: *self,
                    value,
                    objective_value: Some(per_day),
                })
            }
            ThresholdPolicy::Pot { risk, level } => {
                let (value, _) = pot::spot_threshold(&pooled(), risk, level)?;
                Ok(plain(value))
            }
        }
    }
}

/// The threshold that maximises `objective` over the pooled series, by an exact sweep; returns
/// the threshold and the objective's value there.
pub fn best_threshold(series: &[SeriesScores<'_>], objective: Objective) -> Result<(f64, f64)> {
    let no_labels = EvalError::NotEnoughData {
        what: "a best-threshold search",
        needed: "at least one labelled incident in the data it is fitted on",
        hint: "choose a validation slice that holds an incident, or use an unsupervised policy such as quantile:0.99",
    };
    match objective {
        Objective::Nab { profile } => {
            if series.iter().all(|s| s.windows.is_empty()) {
                return Err(no_labels);
            }
            let corpus = series
                .iter()
                .map(|s| NabSeries::new(s.scores, s.windows))
                .collect::<Result<Vec<_>>>()?;
            let r = search_threshold(&corpus, profile);
            Ok((r.threshold, r.raw))
        }
        Objective::PointF1 | Objective::AdjustedF1 => {
            let mut scores = Vec::new();
            let mut windows = Vec::new();
            for s in series {
                let offset = scores.len();
                scores.extend_from_slice(s.scores);
                windows.extend(
                    s.windows
                        .iter()
                        .map(|w| Window::new(w.start + offset, w.end + offset)),
                );
            }
            let (points, positives) = if objective == Objective::PointF1 {
                confusion_sweep(&scores, &labels_from_windows(&windows, scores.len()))
            } else {
                adjusted_sweep(&scores, &windows)
            };
            if positives == 0 {
                return Err(no_labels);
            }
            let (point, f1) = best_f1(&points, positives).ok_or(no_labels)?;
            Ok((point.threshold, f1))
        }
    }
}

/// The threshold that maximises any metric, for metrics without a sort-once sweep (event F1
/// after an alert policy, range F1, …). Candidates are the distinct scores, from the highest
/// down: all of them when there are at most `max_candidates` (then the result is exact), else
/// `max_candidates` of them evenly spaced in rank. Among equal values the highest threshold
/// wins. Returns the threshold and the metric there. Cost: one sort plus one metric call per
/// candidate.
pub fn best_threshold_by(
    scores: &[f64],
    max_candidates: usize,
    mut metric: impl FnMut(f64) -> Result<f64>,
) -> Result<(f64, f64)> {
    check_finite(scores)?;
    if max_candidates == 0 {
        return Err(EvalError::InvalidParam {
            param: "threshold.max_candidates",
            value: "0".into(),
            reason: "must be at least 1",
            hint: "use e.g. 1000, or usize::MAX for every distinct score",
        });
    }
    let mut distinct = scores.to_vec();
    distinct.sort_unstable_by(|a, b| b.total_cmp(a));
    distinct.dedup();
    if distinct.is_empty() {
        return Err(EvalError::NotEnoughData {
            what: "a best-threshold search",
            needed: "at least one score",
            hint: "give a non-empty series",
        });
    }
    let picks: Vec<f64> = if distinct.len() <= max_candidates {
        distinct
    } else {
        let last = (distinct.len() - 1) as f64;
        let steps = (max_candidates.max(2) - 1) as f64;
        let mut idx: Vec<usize> = (0..max_candidates.max(2))
            .map(|k| (k as f64 * last / steps).round() as usize)
            .collect();
        idx.dedup();
        idx.into_iter().map(|i| distinct[i]).collect()
    };
    let mut best: Option<(f64, f64)> = None;
    for t in picks {
        let value = metric(t)?;
        if best.is_none_or(|(_, b)| value > b) {
            best = Some((t, value));
        }
    }
    best.ok_or(EvalError::NotEnoughData {
        what: "a best-threshold search",
        needed: "at least one candidate threshold",
        hint: "give a non-empty series",
    })
}

#[cfg(test)]
mod tests;
