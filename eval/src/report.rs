//! The combined evaluation of one detector's scores: a threshold fitted on validation and applied
//! unchanged to test (the *deployable* result) beside the best threshold chosen on test itself
//! (the *oracle*), so the gap is visible; threshold-free metrics; and the random and null
//! baselines computed the same way.
//!
//! Corpus aggregation: point, adjusted, range and event counts are pooled over series; ROC-AUC
//! and average precision pool the rows; VUS and the UCR top-1 accuracy are means over series that
//! hold an incident; NAB is the corpus score. Point and range metrics use the rows detected after the minimum-run rule;
//! event metrics, delays and severities use the alerts (merge gap and cooldown applied); NAB uses
//! raw detections (`score >= threshold`), as NAB defines it.

use serde::{Deserialize, Serialize};

use crate::alert::{AlertPolicy, active_rows, apply_alert_policy};
use crate::baseline::{Baselines, baselines};
use crate::curves::{average_precision, roc_auc};
use crate::delay::{DelayReport, detection_delays};
use crate::error::{Result, check_finite, check_len};
use crate::event::{EventMetrics, SeverityMetrics, event_metrics, severity_metrics};
use crate::labels::{Window, labels_from_windows, validate_windows, windows_from_labels};
use crate::nab::{NabProfile, NabSeries, score_corpus, search_thresholds};
use crate::point::{AdjustedMetrics, Confusion, PointMetrics, adjust_predictions, pa_k_f1_auc};
use crate::range::{RangeMetrics, RangeParams, range_metrics_of_windows};
use crate::threshold::{
    FitContext, FittedThreshold, Objective, SeriesScores, ThresholdPolicy, best_threshold,
};
use crate::ucr::{DEFAULT_SLACK, macro_top1, top1_in_windows};
use crate::vus::{VusParams, vus};

/// One series to evaluate: scores, incidents and timestamps, row-aligned.
#[derive(Debug, Clone, Copy)]
pub struct EvalSeries<'a> {
    /// One finite score per row.
    pub scores: &'a [f64],
    /// Incident windows (sorted, disjoint).
    pub windows: &'a [Window],
    /// One timestamp per row, ms UTC.
    pub timestamps: &'a [i64],
    /// Optional labelled severity per incident.
    pub incident_severities: Option<&'a [Option<String>]>,
}

impl<'a> EvalSeries<'a> {
    /// Checks alignment, finiteness and windows.
    pub fn new(scores: &'a [f64], windows: &'a [Window], timestamps: &'a [i64]) -> Result<Self> {
        check_finite(scores)?;
        check_len("timestamps", scores.len(), timestamps.len())?;
        validate_windows(windows, scores.len())?;
        Ok(Self {
            scores,
            windows,
            timestamps,
            incident_severities: None,
        })
    }

    /// Adds one labelled severity per incident.
    pub fn with_severities(mut self, severities: &'a [Option<String>]) -> Result<Self> {
        check_len("incident severities", self.windows.len(), severities.len())?;
        self.incident_severities = Some(severities);
        Ok(self)
    }

    fn as_scores(&self) -> SeriesScores<'a> {
        SeriesScores {
            scores: self.scores,
            windows: self.windows,
        }
    }
}

/// Everything an evaluation needs besides the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvalConfig {
    /// How the deployable threshold is chosen on validation.
    pub threshold: ThresholdPolicy,
    /// What the oracle threshold maximises on test.
    pub oracle: Objective,
    /// How detections become alerts.
    pub alert: AlertPolicy,
    /// Early-detection allowance for event metrics and delays (ms).
    pub early_ms: i64,
    /// K of PA%K, in percent.
    pub pa_k_percent: f64,
    /// Range-based precision parameters.
    pub range_precision: RangeParams,
    /// Range-based recall parameters.
    pub range_recall: RangeParams,
    /// VUS parameters.
    pub vus: VusParams,
    /// Points allowed on each side of an incident by `ucr_top1` (KDD Cup 2021: 100).
    pub ucr_top1_slack: usize,
    /// NAB profiles to report.
    pub nab_profiles: Vec<NabProfile>,
    /// Seed of the random-score baseline.
    pub baseline_seed: u64,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            threshold: ThresholdPolicy::Best {
                objective: Objective::PointF1,
            },
            oracle: Objective::PointF1,
            alert: AlertPolicy::default(),
            early_ms: 0,
            pa_k_percent: 20.0,
            range_precision: RangeParams::default(),
            range_recall: RangeParams::default(),
            vus: VusParams::default(),
            ucr_top1_slack: DEFAULT_SLACK,
            nab_profiles: NabProfile::ALL.to_vec(),
            baseline_seed: 0,
        }
    }
}

/// NAB result at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NabSummary {
    /// Profile.
    pub profile: NabProfile,
    /// Threshold used.
    pub threshold: f64,
    /// Raw corpus score.
    pub raw: f64,
    /// Normalised score (null 0, perfect 100); `None` without windows.
    pub normalised: Option<f64>,
}

/// Every threshold-dependent metric at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdedMetrics {
    /// The threshold (`score >= threshold` detects).
    pub threshold: f64,
    /// Point-wise metrics.
    pub point: PointMetrics,
    /// Point-adjusted metrics (inflated; labelled).
    pub point_adjusted: AdjustedMetrics,
    /// PA%K metrics at the configured K.
    pub pa_k: AdjustedMetrics,
    /// Area under the PA%K F1 curve over K = 0..100 (pooled rows).
    pub pa_k_f1_auc: f64,
    /// Range-based metrics.
    pub range: RangeMetrics,
    /// Event-wise metrics (summed over series).
    pub events: EventMetrics,
    /// Detection delays of all incidents.
    pub delay: DelayReport,
    /// Per-severity results (when the alert policy has bands).
    pub severities: Vec<SeverityMetrics>,
    /// NAB per configured profile.
    pub nab: Vec<NabSummary>,
}

/// Metrics that need no threshold; `None` where undefined (e.g. no incident).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdFreeMetrics {
    /// ROC-AUC over pooled rows.
    pub roc_auc: Option<f64>,
    /// Average precision (PR-AUC) over pooled rows.
    pub average_precision: Option<f64>,
    /// Mean VUS-ROC over series with incidents.
    pub vus_roc: Option<f64>,
    /// Mean VUS-PR over series with incidents.
    pub vus_pr: Option<f64>,
    /// UCR top-1 accuracy: the share of series with incidents whose highest score lies within
    /// `ucr_top1_slack` rows of an incident (see [`crate::ucr`]).
    #[serde(default)]
    pub ucr_top1: Option<f64>,
}

/// What the threshold-free pass needs besides the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdFreeParams {
    /// VUS parameters.
    pub vus: VusParams,
    /// Points allowed on each side of an incident by `ucr_top1`.
    pub ucr_top1_slack: usize,
}

impl Default for ThresholdFreeParams {
    fn default() -> Self {
        Self {
            vus: VusParams::default(),
            ucr_top1_slack: DEFAULT_SLACK,
        }
    }
}

impl From<&EvalConfig> for ThresholdFreeParams {
    fn from(config: &EvalConfig) -> Self {
        Self {
            vus: config.vus,
            ucr_top1_slack: config.ucr_top1_slack,
        }
    }
}

/// The complete evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The configuration used.
    pub config: EvalConfig,
    /// Threshold fitted on validation.
    pub fitted: FittedThreshold,
    /// True when no validation slice was given and the threshold was fitted on the test data.
    pub in_sample: bool,
    /// The validation threshold applied unchanged to test.
    pub deployable: ThresholdedMetrics,
    /// The best threshold on test for `config.oracle`; `None` when test holds no incident.
    pub oracle: Option<ThresholdedMetrics>,
    /// Exact NAB threshold search on test, per profile (NAB's corpus-level optimisation).
    pub nab_optimised: Vec<NabSummary>,
    /// Threshold-free metrics on test.
    pub threshold_free: ThresholdFreeMetrics,
    /// Random-score and null-detector baselines.
    pub baselines: Option<Baselines>,
}

/// Concatenates per-series rows and offsets windows, for pooled metrics.
fn pooled(
    series: &[EvalSeries<'_>],
    rows: impl Fn(&EvalSeries<'_>) -> Vec<bool>,
) -> (Vec<bool>, Vec<Window>) {
    let mut all = Vec::new();
    let mut windows = Vec::new();
    for s in series {
        let offset = all.len();
        all.extend(rows(s));
        windows.extend(
            s.windows
                .iter()
                .map(|w| Window::new(w.start + offset, w.end + offset)),
        );
    }
    (all, windows)
}

/// Every threshold-dependent metric of `series` at `threshold`.
pub fn thresholded_metrics(
    series: &[EvalSeries<'_>],
    threshold: f64,
    config: &EvalConfig,
) -> Result<ThresholdedMetrics> {
    let min_run = config.alert.min_consecutive;
    let (predicted, windows) = pooled(series, |s| active_rows(s.scores, threshold, min_run));
    let labels = labels_from_windows(&windows, predicted.len());
    let point = Confusion::from_predictions(&predicted, &labels)?.metrics();
    let adjusted = |k: f64| -> Result<AdjustedMetrics> {
        let rows = adjust_predictions(&predicted, &windows, k)?;
        Ok(AdjustedMetrics {
            adjustment: crate::point::Adjustment::for_k(k),
            k_percent: k,
            metrics: Confusion::from_predictions(&rows, &labels)?.metrics(),
        })
    };
    // Range metrics: predicted runs per series, so no run crosses a series boundary.
    let mut predicted_ranges = Vec::new();
    let mut offset = 0;
    for s in series {
        let runs = windows_from_labels(&active_rows(s.scores, threshold, min_run));
        predicted_ranges.extend(
            runs.iter()
                .map(|w| Window::new(w.start + offset, w.end + offset)),
        );
        offset += s.scores.len();
    }
    let range = range_metrics_of_windows(
        &windows,
        &predicted_ranges,
        config.range_precision,
        config.range_recall,
    )?;

    let mut events = EventMetrics::default();
    let mut delay = DelayReport::default();
    let mut severity_rows: Vec<SeverityMetrics> = Vec::new();
    for s in series {
        let alerts = apply_alert_policy(s.scores, s.timestamps, threshold, &config.alert)?;
        events.add(&event_metrics(
            &alerts,
            s.windows,
            s.timestamps,
            config.early_ms,
        )?);
        delay.extend(detection_delays(
            &alerts,
            s.windows,
            s.timestamps,
            config.early_ms,
        )?);
        if config.alert.severity.is_some() || s.incident_severities.is_some() {
            let per = severity_metrics(
                &alerts,
                s.windows,
                s.timestamps,
                config.early_ms,
                s.incident_severities,
            )?;
            crate::event::merge_severities(&mut severity_rows, per);
        }
    }
    events.finish();
    delay.finish();

    let corpus = series
        .iter()
        .map(|s| NabSeries::new(s.scores, s.windows))
        .collect::<Result<Vec<_>>>()?;
    let nab = config
        .nab_profiles
        .iter()
        .map(|&profile| {
            let c = score_corpus(&corpus, threshold, profile);
            NabSummary {
                profile,
                threshold,
                raw: c.raw,
                normalised: c.normalised,
            }
        })
        .collect();
    Ok(ThresholdedMetrics {
        threshold,
        point,
        point_adjusted: adjusted(0.0)?,
        pa_k: adjusted(config.pa_k_percent)?,
        pa_k_f1_auc: pa_k_f1_auc(&predicted, &windows)?,
        range,
        events,
        delay,
        severities: severity_rows,
        nab,
    })
}

/// ROC-AUC and AP over pooled rows; VUS and the UCR top-1 accuracy averaged over series with
/// incidents. `params` is an [`EvalConfig`] (`&config`) or a [`ThresholdFreeParams`].
pub fn threshold_free_metrics(
    series: &[EvalSeries<'_>],
    params: impl Into<ThresholdFreeParams>,
) -> Result<ThresholdFreeMetrics> {
    let params: ThresholdFreeParams = params.into();
    let scores: Vec<f64> = series
        .iter()
        .flat_map(|s| s.scores.iter().copied())
        .collect();
    let (_, windows) = pooled(series, |s| vec![false; s.scores.len()]);
    let labels = labels_from_windows(&windows, scores.len());
    let has_both = labels.iter().any(|&l| l) && labels.iter().any(|&l| !l);
    let mut vus_values = Vec::new();
    let mut top1 = Vec::new();
    for s in series.iter().filter(|s| !s.windows.is_empty()) {
        vus_values.push(vus(
            s.scores,
            &labels_from_windows(s.windows, s.scores.len()),
            params.vus,
        )?);
        top1.push(top1_in_windows(s.scores, s.windows, params.ucr_top1_slack)?);
    }
    let mean = |f: fn(&crate::vus::Vus) -> f64| {
        (!vus_values.is_empty())
            .then(|| vus_values.iter().map(f).sum::<f64>() / vus_values.len() as f64)
    };
    Ok(ThresholdFreeMetrics {
        roc_auc: if has_both {
            Some(roc_auc(&scores, &labels)?)
        } else {
            None
        },
        average_precision: if has_both {
            Some(average_precision(&scores, &labels)?)
        } else {
            None
        },
        vus_roc: mean(|v| v.roc),
        vus_pr: mean(|v| v.pr),
        ucr_top1: (!top1.is_empty()).then(|| macro_top1(&top1)).transpose()?,
    })
}

/// Evaluates `test` with a threshold fitted on `validation` (or on `test` itself, flagged
/// `in_sample`, when `validation` is empty), beside the oracle and the baselines.
pub fn evaluate(
    validation: &[EvalSeries<'_>],
    test: &[EvalSeries<'_>],
    config: &EvalConfig,
) -> Result<Evaluation> {
    let mut evaluation = evaluate_without_baselines(validation, test, config)?;
    evaluation.baselines = Some(baselines(validation, test, config)?);
    Ok(evaluation)
}

/// [`evaluate`] without the baselines (used to compute the baselines themselves).
pub fn evaluate_without_baselines(
    validation: &[EvalSeries<'_>],
    test: &[EvalSeries<'_>],
    config: &EvalConfig,
) -> Result<Evaluation> {
    config.threshold.check()?;
    config.alert.check()?;
    let in_sample = validation.is_empty();
    let fit_on = if in_sample { test } else { validation };
    let fit_scores: Vec<SeriesScores<'_>> = fit_on.iter().map(EvalSeries::as_scores).collect();
    let context = FitContext {
        timestamps: fit_on.iter().map(|s| s.timestamps).collect(),
        alert: &config.alert,
        early_ms: config.early_ms,
    };
    let fitted = config.threshold.fit_with(&fit_scores, &context)?;
    let deployable = thresholded_metrics(test, fitted.value, config)?;
    let test_scores: Vec<SeriesScores<'_>> = test.iter().map(EvalSeries::as_scores).collect();
    let oracle = if test.iter().any(|s| !s.windows.is_empty()) {
        let (value, _) = best_threshold(&test_scores, config.oracle)?;
        Some(thresholded_metrics(test, value, config)?)
    } else {
        None
    };
    let corpus = test
        .iter()
        .map(|s| NabSeries::new(s.scores, s.windows))
        .collect::<Result<Vec<_>>>()?;
    let nab_optimised = search_thresholds(&corpus, &config.nab_profiles)
        .into_iter()
        .map(|r| NabSummary {
            profile: r.profile,
            threshold: r.threshold,
            raw: r.raw,
            normalised: r.normalised,
        })
        .collect();
    Ok(Evaluation {
        config: config.clone(),
        fitted,
        in_sample,
        deployable,
        oracle,
        nab_optimised,
        threshold_free: threshold_free_metrics(test, config)?,
        baselines: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::SeverityBands;

    struct Data {
        scores: Vec<f64>,
        windows: Vec<Window>,
        timestamps: Vec<i64>,
    }

    /// A detector that fires inside incidents (strongly) and now and then outside (weakly).
    fn data(rows: usize, incidents: &[(usize, usize)], shift: f64) -> Data {
        let windows = Window::from_ranges(incidents);
        let scores = (0..rows)
            .map(|i| {
                let base = ((i * 37) % 101) as f64 / 200.0; // 0..0.5, deterministic texture
                if windows.iter().any(|w| w.contains(i)) {
                    base + 0.6 + shift
                } else {
                    base
                }
            })
            .collect();
        Data {
            scores,
            windows,
            timestamps: (0..rows as i64).map(|i| i * 300_000).collect(),
        }
    }

    fn series(d: &Data) -> EvalSeries<'_> {
        EvalSeries::new(&d.scores, &d.windows, &d.timestamps).unwrap()
    }

    #[test]
    fn deployable_oracle_and_baselines() {
        let val = data(2000, &[(500, 530), (1500, 1510)], 0.0);
        let test = data(3000, &[(400, 420), (2000, 2100)], -0.05);
        let config = EvalConfig {
            alert: AlertPolicy {
                severity: Some(SeverityBands::new(&[("warning", 0.5), ("critical", 0.9)]).unwrap()),
                ..AlertPolicy::default()
            },
            vus: VusParams {
                max_window: 10,
                thresholds: 50,
            },
            ..EvalConfig::default()
        };
        let e = evaluate(&[series(&val)], &[series(&test)], &config).unwrap();
        assert!(!e.in_sample);
        // Validation separates at >= 0.6; on test incidents drop by 0.05, so the validation
        // threshold misses rows that the oracle (best on test) catches.
        assert!(e.fitted.value >= 0.6 - 1e-12);
        let oracle = e.oracle.as_ref().unwrap();
        assert!(oracle.point.f1 >= e.deployable.point.f1);
        assert!(oracle.point.f1 > 0.99, "{}", oracle.point.f1);
        assert!(e.deployable.point.recall < 1.0);
        assert_eq!(e.deployable.nab.len(), 3);
        assert_eq!(e.deployable.events.incidents, 2);
        assert!(!e.deployable.severities.is_empty());
        let free = e.threshold_free;
        assert!(free.roc_auc.unwrap() > 0.99 && free.vus_roc.is_some());
        assert_eq!(free.ucr_top1, Some(1.0));
        let b = e.baselines.as_ref().unwrap();
        assert_eq!(b.null.events.alerts, 0);
        assert_eq!(b.null.nab[0].normalised, Some(0.0));
        let random_auc = b.random.threshold_free.roc_auc.unwrap();
        assert!((random_auc - 0.5).abs() < 0.1, "{random_auc}");
        assert!(e.nab_optimised[0].raw >= e.deployable.nab[0].raw);
        // Everything serialises and reads back.
        let json = serde_json::to_string(&e).unwrap();
        let back: Evaluation = serde_json::from_str(&json).unwrap();
        assert_eq!(back.deployable.point, e.deployable.point);
    }

    #[test]
    fn no_validation_is_flagged_in_sample_and_no_incident_has_no_oracle() {
        let test = data(500, &[], 0.0);
        let config = EvalConfig {
            threshold: ThresholdPolicy::Quantile { q: 0.99 },
            ..EvalConfig::default()
        };
        let e = evaluate(&[], &[series(&test)], &config).unwrap();
        assert!(e.in_sample);
        assert!(e.oracle.is_none());
        assert_eq!(e.threshold_free.roc_auc, None);
        assert_eq!(e.threshold_free.ucr_top1, None);
        assert_eq!(e.deployable.events.incidents, 0);
        assert!(e.deployable.events.false_alarms > 0);
    }

    #[test]
    fn ucr_top1_is_the_share_of_series_whose_top_row_is_within_the_slack() {
        // Top rows: 150 (incident 100..=110: 40 rows after it), 20 (inside), and a series
        // without incident, which does not count.
        let peak = |rows: usize, at: usize| -> Vec<f64> {
            (0..rows).map(|i| if i == at { 1.0 } else { 0.0 }).collect()
        };
        let (a, b, c) = (peak(300, 150), peak(100, 20), peak(50, 7));
        let wa = [Window::new(100, 110)];
        let wb = [Window::new(15, 25)];
        let ts: Vec<i64> = (0..300).collect();
        let series = [
            EvalSeries::new(&a, &wa, &ts[..300]).unwrap(),
            EvalSeries::new(&b, &wb, &ts[..100]).unwrap(),
            EvalSeries::new(&c, &[], &ts[..50]).unwrap(),
        ];
        let top1 = |slack: usize| {
            let config = EvalConfig {
                ucr_top1_slack: slack,
                vus: VusParams {
                    max_window: 2,
                    thresholds: 10,
                },
                ..EvalConfig::default()
            };
            threshold_free_metrics(&series, &config).unwrap().ucr_top1
        };
        assert_eq!(top1(100), Some(1.0));
        assert_eq!(top1(40), Some(1.0));
        assert_eq!(top1(39), Some(0.5));
        assert_eq!(EvalConfig::default().ucr_top1_slack, 100);
        // A stored evaluation from before the metric reads back without it.
        let old = r#"{"roc_auc":0.5,"average_precision":0.1,"vus_roc":null,"vus_pr":null}"#;
        let back: ThresholdFreeMetrics = serde_json::from_str(old).unwrap();
        assert_eq!(back.ucr_top1, None);
    }

    #[test]
    fn bad_series_are_rejected() {
        assert!(EvalSeries::new(&[0.1, 0.2], &[], &[0]).is_err());
        assert!(EvalSeries::new(&[0.1], &[Window::new(0, 1)], &[0]).is_err());
        let windows = [Window::new(0, 0)];
        let s = EvalSeries::new(&[0.1], &windows, &[0]).unwrap();
        assert!(s.with_severities(&[]).is_err());
    }
}
