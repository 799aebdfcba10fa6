//! Ensembles of the best member of each family: per-member score normalisation fitted on the
//! member's training rows, then a weighted mean, a weighted vote, a majority or a consensus.
//! Weights are given, equal, or learned on validation data by a deterministic coordinate
//! search over multiples of 0.1.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::spec::{EnsembleMode, Normalise};

/// How one member's scores of one series are normalised (fitted on its training rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Normaliser {
    /// `(s − median) / scale`, scale = 1.4826·MAD, with a fallback chain when most training
    /// scores are equal (see [`robust_scale`]), so no member's scale is ever near zero.
    RobustZ {
        /// Median of the training scores.
        median: f64,
        /// 1.4826 × MAD, or its fallback.
        scale: f64,
    },
    /// Share of training scores `<=` s.
    Rank {
        /// The training scores, sorted.
        sorted: Vec<f64>,
    },
    /// Share of training scores `<` s (1 − the conformal p-value).
    Conformal {
        /// The training scores, sorted.
        sorted: Vec<f64>,
    },
    /// The raw score.
    Identity,
}

const MAD_TO_SIGMA: f64 = 1.4826;

impl Normaliser {
    /// Fits on `train` (a member's scores on training rows past its warm-up).
    pub fn fit(kind: Normalise, train: &[f64]) -> Normaliser {
        let mut sorted: Vec<f64> = train.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        match kind {
            Normalise::RobustZ => {
                let median = median_sorted(&sorted);
                let mut dev: Vec<f64> = sorted.iter().map(|v| (v - median).abs()).collect();
                dev.sort_by(f64::total_cmp);
                Normaliser::RobustZ {
                    median,
                    scale: robust_scale(&sorted, &dev),
                }
            }
            Normalise::Rank => Normaliser::Rank { sorted },
            Normalise::Conformal => Normaliser::Conformal { sorted },
            Normalise::None => Normaliser::Identity,
        }
    }

    /// The normalised score.
    pub fn apply(&self, s: f64) -> f64 {
        match self {
            Normaliser::RobustZ { median, scale } => (s - median) / scale,
            Normaliser::Rank { sorted } => {
                if sorted.is_empty() {
                    return 0.5;
                }
                sorted.partition_point(|v| *v <= s) as f64 / sorted.len() as f64
            }
            Normaliser::Identity => s,
            Normaliser::Conformal { sorted } => {
                if sorted.is_empty() {
                    return 0.5;
                }
                sorted.partition_point(|v| *v < s) as f64 / sorted.len() as f64
            }
        }
    }
}

/// A σ estimate of training scores that stays meaningful when most of them are equal.
///
/// Sparse detectors (DBSCAN, CAD OSE, a vote) score almost every training row the same, so
/// their MAD is 0; dividing by a tiny floor would multiply their first non-zero score by ~1e9
/// and hand them the whole ensemble. The chain: 1.4826·MAD; else 1.2533·mean absolute
/// deviation from the median (σ of a normal, consistent like the MAD); else the standard
/// deviation; else, for constant training scores, 1 (the member's own units: a raw score
/// cannot then outweigh the others by more than its own size).
fn robust_scale(sorted: &[f64], abs_dev_sorted: &[f64]) -> f64 {
    let mad = median_sorted(abs_dev_sorted) * MAD_TO_SIGMA;
    if mad > 0.0 && mad.is_finite() {
        return mad;
    }
    let n = sorted.len().max(1) as f64;
    let mean_abs = abs_dev_sorted.iter().sum::<f64>() / n * MEAN_ABS_TO_SIGMA;
    if mean_abs > 0.0 && mean_abs.is_finite() {
        return mean_abs;
    }
    let mean = sorted.iter().sum::<f64>() / n;
    let std = (sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    if std > 0.0 && std.is_finite() {
        return std;
    }
    1.0
}

/// √(π/2): mean absolute deviation → σ for normal data.
const MEAN_ABS_TO_SIGMA: f64 = 1.253_314_137_315_500_3;

fn median_sorted(v: &[f64]) -> f64 {
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// Combines members' normalised scores of one series, row by row.
///
/// `normalised[m]` are member m's normalised scores; `votes[m]` its threshold on the normalised
/// scale (used by the vote modes). Mean: weighted mean. Vote: weighted share of members at or
/// above their threshold. Majority and consensus: equal-weight vote share (the alert rule, more
/// than half or all, is the threshold the runner applies).
pub fn combine(
    mode: EnsembleMode,
    normalised: &[Vec<f64>],
    weights: &[f64],
    votes: &[f64],
) -> Vec<f64> {
    let rows = normalised.first().map_or(0, Vec::len);
    let total: f64 = match mode {
        EnsembleMode::Mean | EnsembleMode::Vote => weights.iter().sum(),
        EnsembleMode::Majority | EnsembleMode::Consensus => normalised.len() as f64,
    };
    let total = if total > 0.0 { total } else { 1.0 };
    (0..rows)
        .map(|row| {
            let mut acc = 0.0;
            for (m, member) in normalised.iter().enumerate() {
                let v = member[row];
                acc += match mode {
                    EnsembleMode::Mean => weights[m] * v,
                    EnsembleMode::Vote => weights[m] * f64::from(u8::from(v >= votes[m])),
                    EnsembleMode::Majority | EnsembleMode::Consensus => {
                        f64::from(u8::from(v >= votes[m]))
                    }
                };
            }
            let s = acc / total;
            if s.is_finite() { s } else { 0.0 }
        })
        .collect()
}

/// The fixed alert threshold of a vote mode (`None` for `mean`, whose threshold is fitted).
pub fn vote_threshold(mode: EnsembleMode, members: usize, vote: f64) -> Option<f64> {
    match mode {
        EnsembleMode::Mean => None,
        EnsembleMode::Vote => Some(vote),
        // More than half: the smallest share above 0.5 that a count of votes can reach.
        EnsembleMode::Majority => Some((members / 2 + 1) as f64 / members.max(1) as f64 - 1e-12),
        EnsembleMode::Consensus => Some(1.0 - 1e-12),
    }
}

/// Coordinate search for weights that maximise `objective` (larger is better): start from
/// equal weights; three sweeps over the members, each trying 0, 0.1, …, 1.0 for one weight
/// and keeping a strict improvement. Deterministic; never returns all-zero weights.
///
/// The eleven trials of one coordinate all start from the weights as they stood before it;
/// they are evaluated in parallel and compared in step order, so the result does not depend
/// on the thread count.
pub fn learn_weights(members: usize, objective: impl Fn(&[f64]) -> f64 + Sync) -> Vec<f64> {
    let mut weights = vec![1.0 / members.max(1) as f64; members];
    let mut best = objective(&weights);
    for _ in 0..3 {
        let mut improved = false;
        for m in 0..members {
            let start = weights.clone();
            let trials: Vec<Option<(Vec<f64>, f64)>> = (0..=10)
                .into_par_iter()
                .map(|step| {
                    let mut trial = start.clone();
                    trial[m] = step as f64 / 10.0;
                    let sum: f64 = trial.iter().sum();
                    if sum <= 0.0 {
                        return None;
                    }
                    trial.iter_mut().for_each(|w| *w /= sum);
                    let value = objective(&trial);
                    Some((trial, value))
                })
                .collect();
            for (trial, value) in trials.into_iter().flatten() {
                if value > best + 1e-12 {
                    best = value;
                    weights = trial;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robust_z_centres_and_scales_training_scores() {
        let n = Normaliser::fit(Normalise::RobustZ, &[1.0, 2.0, 3.0, 4.0, 100.0]);
        let Normaliser::RobustZ { median, scale } = n else {
            panic!("robust z")
        };
        assert_eq!(median, 3.0);
        assert!((scale - MAD_TO_SIGMA).abs() < 1e-12);
        assert!((n.apply(3.0 + MAD_TO_SIGMA) - 1.0).abs() < 1e-12);
        let constant = Normaliser::fit(Normalise::RobustZ, &[5.0; 10]);
        assert_eq!(
            constant.apply(6.0),
            1.0,
            "constant training scores keep their own units"
        );
    }

    #[test]
    fn a_member_silent_in_training_cannot_dominate_the_mean() {
        // Member 0: a sparse detector, all zeros on training rows (MAD 0), 0.8 on one test
        // row. Member 1: a dense detector whose training scores spread around 1.
        let sparse_train = vec![0.0; 200];
        let dense_train: Vec<f64> = (0..200)
            .map(|i| 1.0 + ((i * 37) % 17) as f64 / 8.0)
            .collect();
        let sparse = Normaliser::fit(Normalise::RobustZ, &sparse_train);
        let dense = Normaliser::fit(Normalise::RobustZ, &dense_train);
        // Test rows: the dense member peaks at row 2 (a clear outlier for it), the sparse
        // member fires weakly at row 1.
        let raw_sparse = [0.0, 0.8, 0.0, 0.0];
        let raw_dense = [2.0, 2.0, 12.0, 2.0];
        let normalised = vec![
            raw_sparse
                .iter()
                .map(|&s| sparse.apply(s))
                .collect::<Vec<_>>(),
            raw_dense
                .iter()
                .map(|&s| dense.apply(s))
                .collect::<Vec<_>>(),
        ];
        let mean = combine(EnsembleMode::Mean, &normalised, &[0.5, 0.5], &[3.0, 3.0]);
        let top = (0..4).max_by(|&a, &b| mean[a].total_cmp(&mean[b])).unwrap();
        assert_eq!(top, 2, "the dense member's outlier leads: {mean:?}");
        assert!(
            normalised[0][1] < 10.0,
            "sparse member scaled by its own units: {normalised:?}"
        );
        // Mostly-zero training scores with a few non-zero ones fall back to the mean absolute
        // deviation rather than a floor.
        let mut mostly_zero = vec![0.0; 100];
        mostly_zero[3] = 1.0;
        mostly_zero[50] = 2.0;
        let n = Normaliser::fit(Normalise::RobustZ, &mostly_zero);
        let Normaliser::RobustZ { scale, .. } = n else {
            panic!("robust z")
        };
        assert!((scale - 0.03 * MEAN_ABS_TO_SIGMA).abs() < 1e-12, "{scale}");
    }

    #[test]
    fn rank_is_the_training_ecdf() {
        let n = Normaliser::fit(Normalise::Rank, &[3.0, 1.0, 2.0, 4.0]);
        assert_eq!(n.apply(0.0), 0.0);
        assert_eq!(n.apply(2.0), 0.5);
        assert_eq!(n.apply(10.0), 1.0);
    }

    #[test]
    fn conformal_maps_ties_with_training_scores_to_zero() {
        let n = Normaliser::fit(Normalise::Conformal, &[0.0, 0.0, 0.0, 1.0]);
        assert_eq!(n.apply(0.0), 0.0);
        assert_eq!(n.apply(0.5), 0.75);
        assert_eq!(n.apply(2.0), 1.0);
    }

    #[test]
    fn the_runtime_vote_alerts_at_point_six() {
        // Weights 0.3/0.3/0.2/0.2: the two heavy members alone reach 0.6.
        let members = vec![
            vec![5.0, 0.0],
            vec![5.0, 0.0],
            vec![0.0, 5.0],
            vec![0.0, 5.0],
        ];
        let s = combine(
            EnsembleMode::Vote,
            &members,
            &[0.3, 0.3, 0.2, 0.2],
            &[3.0; 4],
        );
        assert!((s[0] - 0.6).abs() < 1e-12 && s[1] < 0.6);
        let t = vote_threshold(EnsembleMode::Majority, 4, 0.6).expect("fixed");
        let maj = combine(EnsembleMode::Majority, &members, &[0.0; 4], &[3.0; 4]);
        assert!(maj[0] < t, "two of four is not a majority");
    }

    #[test]
    fn learned_weights_drop_a_useless_member() {
        // Objective: prefer weight on member 0.
        let w = learn_weights(3, |w| w[0] - 0.1 * w[1] - 0.1 * w[2]);
        assert!(w[0] > 0.9, "{w:?}");
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
