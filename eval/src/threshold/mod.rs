//! Threshold policies: turn validation scores (and labels, for the supervised ones) into one
//! threshold, which is then applied unchanged to test data. Detection is `score >= threshold`.
//!
//! Every supervised search sorts once and sweeps every distinct score (O(n log n)); nothing is a
//! grid or a hill-climb. Policies pool all validation series (a corpus-level threshold), which is
//! also how NAB tunes its threshold.

use serde::{Deserialize, Serialize};

mod parse;
mod stats;

use crate::error::{EvalError, Result, check_finite};
use crate::labels::{Window, labels_from_windows, validate_windows};
use crate::nab::{NabProfile, NabSeries, search_threshold};
use crate::sweep::{adjusted_sweep, best_f1, confusion_sweep};

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
    /// For `Best`: the objective's value on the fitting data.
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
            _ => Ok(()),
        }
    }

    /// Whether the policy needs labels on the fitting data.
    pub fn is_supervised(&self) -> bool {
        matches!(self, ThresholdPolicy::Best { .. })
    }

    /// Chooses the threshold on `validation` (all series pooled).
    pub fn fit(&self, validation: &[SeriesScores<'_>]) -> Result<FittedThreshold> {
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
mod tests {
    use super::*;

    fn fit(policy: &str, scores: &[f64], windows: &[Window]) -> Result<FittedThreshold> {
        let s = SeriesScores::new(scores, windows)?;
        policy.parse::<ThresholdPolicy>()?.fit(&[s])
    }

    #[test]
    fn parse_round_trips_and_rejects() {
        for text in [
            "fixed:0.5",
            "quantile:0.99",
            "contamination:0.01",
            "topk:10",
            "std:3",
            "mad:3",
            "best:f1",
            "best:adjusted-f1",
            "best:nab:reward_low_FN_rate",
        ] {
            let p: ThresholdPolicy = text.parse().unwrap();
            assert_eq!(p.to_string().parse::<ThresholdPolicy>().unwrap(), p);
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<ThresholdPolicy>(&json).unwrap(), p);
        }
        assert_eq!(
            "best-f1".parse::<ThresholdPolicy>().unwrap(),
            ThresholdPolicy::Best {
                objective: Objective::PointF1
            }
        );
        assert_eq!(
            "nab:low-fp".parse::<ThresholdPolicy>().unwrap(),
            ThresholdPolicy::Best {
                objective: Objective::Nab {
                    profile: NabProfile::RewardLowFp
                }
            }
        );
        for bad in [
            "quantile:1.5",
            "topk:0",
            "topk:2.5",
            "fixed",
            "fixed:x",
            "nope",
            "contamination:0",
        ] {
            let err = bad.parse::<ThresholdPolicy>().unwrap_err().to_string();
            assert!(err.contains("hint:"), "{bad}: {err}");
        }
    }

    #[test]
    fn unsupervised_policies() {
        let scores = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(fit("fixed:0.5", &scores, &[]).unwrap().value, 0.5);
        assert!((fit("quantile:0.5", &scores, &[]).unwrap().value - 3.0).abs() < 1e-15);
        assert!((fit("quantile:0.9", &scores, &[]).unwrap().value - 7.6).abs() < 1e-12);
        assert!((fit("contamination:0.1", &scores, &[]).unwrap().value - 7.6).abs() < 1e-12);
        assert_eq!(fit("topk:2", &scores, &[]).unwrap().value, 4.0);
        assert_eq!(fit("topk:99", &scores, &[]).unwrap().value, 1.0);
        // mean 4, population variance (9+4+1+0+36)/5 = 10
        let t = fit("std:2", &scores, &[]).unwrap().value;
        assert!((t - (4.0 + 2.0 * 10f64.sqrt())).abs() < 1e-12);
        // median 3, |dev| = 2 1 0 1 7 -> MAD 1
        let t = fit("mad:3", &scores, &[]).unwrap().value;
        assert!((t - (3.0 + 3.0 * MAD_NORMAL_SCALE)).abs() < 1e-12);
        assert!(fit("quantile:0.5", &[], &[]).is_err());
    }

    #[test]
    fn best_f1_picks_the_separating_threshold() {
        let scores = [0.1, 0.2, 0.9, 0.8, 0.3, 0.85, 0.1];
        let windows = [Window::new(2, 3)];
        let f = fit("best-f1", &scores, &windows).unwrap();
        assert_eq!(f.value, 0.8);
        assert!((f.objective_value.unwrap() - 0.8).abs() < 1e-15); // TP 2, FP 1 (0.85)
        let f = fit("best-adjusted-f1", &scores, &windows).unwrap();
        assert_eq!(f.value, 0.9); // the window peaks at 0.9: full recall, no FP
        assert_eq!(f.objective_value, Some(1.0));
        assert!(matches!(
            fit("best-f1", &scores, &[]),
            Err(EvalError::NotEnoughData { .. })
        ));
    }

    #[test]
    fn best_of_any_metric_by_candidates() {
        use crate::alert::{AlertPolicy, apply_alert_policy};
        use crate::event::event_metrics;
        let scores = [0.1, 0.7, 0.2, 0.9, 0.95, 0.3, 0.8, 0.1, 0.6, 0.2];
        let windows = [Window::new(3, 4)];
        let t: Vec<i64> = (0..10).collect();
        let event_f1 = |th: f64| -> Result<f64> {
            let alerts = apply_alert_policy(&scores, &t, th, &AlertPolicy::default())?;
            Ok(event_metrics(&alerts, &windows, &t, 0)?.event_f1)
        };
        // Only 0.9 and 0.95 catch the incident without false alarms; the higher one wins.
        let (th, f) = best_threshold_by(&scores, usize::MAX, event_f1).unwrap();
        assert_eq!((th, f), (0.95, 1.0));
        // A coarse grid still evaluates the top score first.
        let (th, _) = best_threshold_by(&scores, 3, event_f1).unwrap();
        assert_eq!(th, 0.95);
        assert!(best_threshold_by(&scores, 0, event_f1).is_err());
        assert!(best_threshold_by(&[], 5, event_f1).is_err());
    }

    #[test]
    fn nab_objective_uses_the_exact_search() {
        let mut scores = vec![0.0; 100];
        scores[40] = 0.7; // early in the window
        scores[80] = 0.9; // a false positive, more anomalous
        let windows = [Window::new(40, 49)];
        let f = fit("nab", &scores, &windows).unwrap();
        assert_eq!(f.value, 0.7);
        assert!(f.objective_value.unwrap() > 0.0);
    }
}
