//! Baselines computed beside every result: a random-score detector (seeded uniform scores,
//! evaluated through the same threshold policy, alert policy and metrics) and the null detector
//! (never alerts). A detector that does not beat both is not worth deploying.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::report::{
    EvalConfig, EvalSeries, NabSummary, ThresholdFreeMetrics, ThresholdedMetrics,
    evaluate_without_baselines, thresholded_metrics,
};

/// Results of the random-score detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomBaseline {
    /// Seed of the scores.
    pub seed: u64,
    /// Validation-fitted threshold applied to test.
    pub deployable: ThresholdedMetrics,
    /// Best threshold on test.
    pub oracle: Option<ThresholdedMetrics>,
    /// NAB exact search on test.
    pub nab_optimised: Vec<NabSummary>,
    /// Threshold-free metrics.
    pub threshold_free: ThresholdFreeMetrics,
}

/// The two baselines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baselines {
    /// Uniform random scores.
    pub random: RandomBaseline,
    /// No detection at all.
    pub null: ThresholdedMetrics,
}

/// Uniform scores in [0, 1) for one series; the stream separates splits and series so each gets
/// its own sequence from one seed, independent of thread count or order.
pub fn random_scores(rows: usize, seed: u64, stream: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    (0..rows).map(|_| rng.random::<f64>()).collect()
}

/// The same series with other scores.
fn rebind<'a>(series: &[EvalSeries<'a>], scores: &'a [Vec<f64>]) -> Vec<EvalSeries<'a>> {
    series
        .iter()
        .zip(scores)
        .map(|(s, r)| EvalSeries {
            scores: r,
            windows: s.windows,
            timestamps: s.timestamps,
            incident_severities: s.incident_severities,
        })
        .collect()
}

/// Random and null baselines for the same validation/test data and configuration.
pub fn baselines(
    validation: &[EvalSeries<'_>],
    test: &[EvalSeries<'_>],
    config: &EvalConfig,
) -> Result<Baselines> {
    let seed = config.baseline_seed;
    let random_of = |split: u64, series: &[EvalSeries<'_>]| -> Vec<Vec<f64>> {
        series
            .iter()
            .enumerate()
            .map(|(i, s)| random_scores(s.scores.len(), seed, (split << 32) | i as u64))
            .collect()
    };
    let rand_val = random_of(1, validation);
    let rand_test = random_of(2, test);
    let random_eval = evaluate_without_baselines(
        &rebind(validation, &rand_val),
        &rebind(test, &rand_test),
        config,
    )?;
    let zeros: Vec<Vec<f64>> = test.iter().map(|s| vec![0.0; s.scores.len()]).collect();
    let null = thresholded_metrics(&rebind(test, &zeros), f64::MAX, config)?;
    Ok(Baselines {
        random: RandomBaseline {
            seed,
            deployable: random_eval.deployable,
            oracle: random_eval.oracle,
            nab_optimised: random_eval.nab_optimised,
            threshold_free: random_eval.threshold_free,
        },
        null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_scores_are_seeded_and_stream_separated() {
        let a = random_scores(5, 1, 0);
        assert_eq!(a, random_scores(5, 1, 0));
        assert_ne!(a, random_scores(5, 1, 1));
        assert_ne!(a, random_scores(5, 2, 0));
        assert!(a.iter().all(|&x| (0.0..1.0).contains(&x)));
    }
}
