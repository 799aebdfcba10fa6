//! One yardstick: vigil's metrics of scores at fixed thresholds, one per series.
//! `vigil eval --spec` recomputes a run's leaderboard from the files it wrote,
//! `vigil score --labels` reports a registered version on new data, and `vigil retrain`
//! judges champion and challenger as they are deployed: all three call [`at_thresholds`].
//! `vigil run` measures its test rows with the same evaluation once it has fitted each
//! threshold on validation rows (its per-entry fitting, baselines and cross-validation live in
//! the runner); `tests/cli.rs` holds `vigil eval --spec` on a run's written scores equal to
//! that run's leaderboard to 1e-12, and `tests/ops_cli.rs` holds the retrain judgement equal
//! to `vigil score --labels`.

use std::collections::BTreeMap;

use vigil_eval::threshold::ThresholdPolicy;
use vigil_eval::{EvalConfig, EvalSeries, evaluate};

use crate::error::{ExperimentError, Result};
use crate::metrics::{MetricMap, macro_average, of_evaluation};
use crate::spec::ThresholdScope;

/// How per-series results become one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Average {
    /// Each series at its own threshold, then the mean over series (the series and pooled
    /// threshold scopes).
    Series,
    /// Every series as one corpus at one threshold (the corpus scope, NAB's protocol).
    Pooled,
}

impl Average {
    /// How the leaderboard averages under `scope`.
    pub fn of_scope(scope: ThresholdScope) -> Average {
        match scope {
            ThresholdScope::Corpus => Average::Pooled,
            ThresholdScope::Series | ThresholdScope::Pooled => Average::Series,
        }
    }
}

/// One series: the rows evaluated and the threshold applied to them.
#[derive(Debug, Clone)]
pub struct Part<'a> {
    /// The series key, for the per-series results.
    pub key: String,
    /// The rows the threshold was chosen on, when there are any (the oracle and threshold
    /// diagnostics compare with them; the threshold itself is not refitted).
    pub validation: Option<EvalSeries<'a>>,
    /// The rows measured.
    pub test: EvalSeries<'a>,
    /// `score >= threshold` detects; NaN never does.
    pub threshold: f64,
}

/// The metrics, overall and per series.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Macro over series ([`Average::Series`]) or of the corpus ([`Average::Pooled`]).
    pub metrics: MetricMap,
    /// Each series at its threshold.
    pub per_series: BTreeMap<String, MetricMap>,
}

fn fixed(config: &EvalConfig, value: f64) -> EvalConfig {
    let mut c = config.clone();
    c.threshold = ThresholdPolicy::Fixed { value };
    c
}

/// Measures `parts` at their thresholds with `config` (its own threshold policy is ignored).
pub fn at_thresholds(
    parts: &[Part<'_>],
    config: &EvalConfig,
    average: Average,
) -> Result<Measured> {
    let mut per_series = BTreeMap::new();
    for p in parts {
        let vals: Vec<EvalSeries<'_>> = p.validation.into_iter().collect();
        let vals = if average == Average::Pooled {
            Vec::new()
        } else {
            vals
        };
        let e = evaluate(
            &vals,
            std::slice::from_ref(&p.test),
            &fixed(config, p.threshold),
        )?;
        per_series.insert(p.key.clone(), of_evaluation(&e));
    }
    let metrics = match average {
        Average::Series => macro_average(&per_series.values().cloned().collect::<Vec<_>>()),
        Average::Pooled => {
            let Some(first) = parts.first() else {
                return Ok(Measured {
                    metrics: MetricMap::new(),
                    per_series,
                });
            };
            let same = |t: f64| t.to_bits() == first.threshold.to_bits();
            if let Some(other) = parts.iter().find(|p| !same(p.threshold)) {
                return Err(ExperimentError::NothingToChoose {
                    message: format!(
                        "a pooled (corpus) evaluation needs one threshold, but {} has {} and {} \
                         has {}",
                        first.key, first.threshold, other.key, other.threshold
                    ),
                    hint: "average per series instead (the series and pooled scopes do)".into(),
                });
            }
            let vals: Vec<EvalSeries<'_>> = parts.iter().filter_map(|p| p.validation).collect();
            let tests: Vec<EvalSeries<'_>> = parts.iter().map(|p| p.test).collect();
            of_evaluation(&evaluate(&vals, &tests, &fixed(config, first.threshold))?)
        }
    };
    Ok(Measured {
        metrics,
        per_series,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_eval::Window;

    fn part<'a>(
        key: &str,
        scores: &'a [f64],
        windows: &'a [Window],
        ts: &'a [i64],
        t: f64,
    ) -> Part<'a> {
        Part {
            key: key.into(),
            validation: None,
            test: EvalSeries {
                scores,
                windows,
                timestamps: ts,
                incident_severities: None,
            },
            threshold: t,
        }
    }

    #[test]
    fn series_average_is_the_mean_of_each_series_at_its_own_threshold() {
        let ts: Vec<i64> = (0..10).map(|t| t * 60_000).collect();
        let a = [0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let b = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 9.0, 0.0, 3.0];
        let wa = [Window::new(2, 3)];
        let wb = [Window::new(7, 7)];
        let config = EvalConfig::default();
        let parts = [part("a", &a, &wa, &ts, 4.0), part("b", &b, &wb, &ts, 2.0)];
        let m = at_thresholds(&parts, &config, Average::Series).expect("measured");
        // a: one incident caught, no false alarm; b: caught, one false alarm (row 9).
        assert_eq!(m.per_series["a"]["event_recall"], 1.0);
        assert_eq!(m.per_series["b"]["event_recall"], 1.0);
        assert_eq!(m.per_series["a"]["alert_precision"], 1.0);
        assert_eq!(m.per_series["b"]["alert_precision"], 0.5);
        assert_eq!(m.metrics["alert_precision"], 0.75);
        // One corpus needs one threshold.
        assert!(at_thresholds(&parts, &config, Average::Pooled).is_err());
        let same = [part("a", &a, &wa, &ts, 4.0), part("b", &b, &wb, &ts, 4.0)];
        let pooled = at_thresholds(&same, &config, Average::Pooled).expect("pooled");
        assert_eq!(pooled.metrics["event_recall"], 1.0);
        assert_eq!(pooled.metrics["alert_precision"], 1.0);
    }
}
