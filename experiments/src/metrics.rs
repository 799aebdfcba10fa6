//! Headline metrics: the names a spec may optimise or constrain, their direction, and the
//! flattening of an [`Evaluation`] into one `name → value` map (what the registry stores and
//! the leaderboard shows).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigil_eval::nab::NabProfile;
use vigil_eval::report::{NabSummary, ThresholdFreeMetrics, ThresholdedMetrics};
use vigil_eval::{EvalConfig, EvalSeries, Evaluation};

use crate::error::Result;

/// Metrics a spec can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricName {
    /// Point-wise F1.
    PointF1,
    /// Point-wise precision.
    PointPrecision,
    /// Point-wise recall.
    PointRecall,
    /// Point-adjusted F1 (inflated; always labelled adjusted).
    AdjustedF1,
    /// PA%K F1 at the configured K.
    PaKF1,
    /// Range-based F1 (Tatbul et al.).
    RangeF1,
    /// Event F1: incident recall × alert precision.
    EventF1,
    /// Share of incidents with an alert.
    EventRecall,
    /// Share of alerts touching an incident.
    AlertPrecision,
    /// Alerts touching no incident, per day.
    FalseAlarmsPerDay,
    /// Mean detection delay of detected incidents, seconds.
    MeanDelaySeconds,
    /// ROC-AUC over pooled rows.
    RocAuc,
    /// Average precision over pooled rows.
    PrAuc,
    /// Mean VUS-ROC.
    VusRoc,
    /// Mean VUS-PR.
    VusPr,
    /// UCR anomaly archive top-1 accuracy: the share of series whose highest score lies within
    /// `ucr_top1_slack` points of the anomaly (threshold-free; see `vigil_eval::ucr`).
    UcrTop1,
    /// NAB standard profile, normalised, threshold by NAB's own corpus search.
    NabStandard,
    /// NAB reward-low-FP profile.
    NabLowFp,
    /// NAB reward-low-FN profile.
    NabLowFn,
}

impl MetricName {
    /// Every metric, in leaderboard order.
    pub const ALL: &'static [MetricName] = &[
        MetricName::PointF1,
        MetricName::PointPrecision,
        MetricName::PointRecall,
        MetricName::AdjustedF1,
        MetricName::PaKF1,
        MetricName::RangeF1,
        MetricName::EventF1,
        MetricName::EventRecall,
        MetricName::AlertPrecision,
        MetricName::FalseAlarmsPerDay,
        MetricName::MeanDelaySeconds,
        MetricName::RocAuc,
        MetricName::PrAuc,
        MetricName::VusRoc,
        MetricName::VusPr,
        MetricName::UcrTop1,
        MetricName::NabStandard,
        MetricName::NabLowFp,
        MetricName::NabLowFn,
    ];

    /// The serde / registry name.
    pub fn name(self) -> &'static str {
        match self {
            MetricName::PointF1 => "point_f1",
            MetricName::PointPrecision => "point_precision",
            MetricName::PointRecall => "point_recall",
            MetricName::AdjustedF1 => "adjusted_f1",
            MetricName::PaKF1 => "pa_k_f1",
            MetricName::RangeF1 => "range_f1",
            MetricName::EventF1 => "event_f1",
            MetricName::EventRecall => "event_recall",
            MetricName::AlertPrecision => "alert_precision",
            MetricName::FalseAlarmsPerDay => "false_alarms_per_day",
            MetricName::MeanDelaySeconds => "mean_delay_seconds",
            MetricName::RocAuc => "roc_auc",
            MetricName::PrAuc => "pr_auc",
            MetricName::VusRoc => "vus_roc",
            MetricName::VusPr => "vus_pr",
            MetricName::UcrTop1 => "ucr_top1",
            MetricName::NabStandard => "nab_standard",
            MetricName::NabLowFp => "nab_low_fp",
            MetricName::NabLowFn => "nab_low_fn",
        }
    }

    /// True when lower is better.
    pub fn lower_is_better(self) -> bool {
        matches!(
            self,
            MetricName::FalseAlarmsPerDay | MetricName::MeanDelaySeconds
        )
    }

    /// True for metrics whose value is optimised over thresholds by construction (NAB's
    /// corpus search), not measured at the fitted one.
    pub fn nab_optimised(self) -> bool {
        self.nab()
    }

    /// Needs the threshold-free pass (VUS is the expensive one).
    pub fn threshold_free(self) -> bool {
        matches!(
            self,
            MetricName::RocAuc
                | MetricName::PrAuc
                | MetricName::VusRoc
                | MetricName::VusPr
                | MetricName::UcrTop1
        )
    }

    /// Needs NAB's corpus search.
    fn nab(self) -> bool {
        matches!(
            self,
            MetricName::NabStandard | MetricName::NabLowFp | MetricName::NabLowFn
        )
    }

    /// `value` oriented so that larger is better (NaN becomes −∞).
    pub fn oriented(self, value: f64) -> f64 {
        if value.is_nan() {
            f64::NEG_INFINITY
        } else if self.lower_is_better() {
            -value
        } else {
            value
        }
    }
}

impl std::fmt::Display for MetricName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Metric name → value (NaN where undefined).
pub type MetricMap = BTreeMap<String, f64>;

fn put(map: &mut MetricMap, name: MetricName, value: f64) {
    map.insert(name.name().to_string(), value);
}

/// The threshold-dependent headline metrics.
pub fn thresholded(map: &mut MetricMap, m: &ThresholdedMetrics) {
    put(map, MetricName::PointF1, m.point.f1);
    put(map, MetricName::PointPrecision, m.point.precision);
    put(map, MetricName::PointRecall, m.point.recall);
    put(map, MetricName::AdjustedF1, m.point_adjusted.metrics.f1);
    put(map, MetricName::PaKF1, m.pa_k.metrics.f1);
    put(map, MetricName::RangeF1, m.range.f1);
    put(map, MetricName::EventF1, m.events.event_f1);
    put(map, MetricName::EventRecall, m.events.incident_recall);
    put(map, MetricName::AlertPrecision, m.events.alert_precision);
    put(
        map,
        MetricName::FalseAlarmsPerDay,
        m.events.false_alarms_per_day,
    );
    put(
        map,
        MetricName::MeanDelaySeconds,
        m.delay.ms.as_ref().map_or(f64::NAN, |d| d.mean / 1000.0),
    );
}

/// The threshold-free metrics.
pub fn threshold_free(map: &mut MetricMap, m: &ThresholdFreeMetrics) {
    let v = |o: Option<f64>| o.unwrap_or(f64::NAN);
    put(map, MetricName::RocAuc, v(m.roc_auc));
    put(map, MetricName::PrAuc, v(m.average_precision));
    put(map, MetricName::VusRoc, v(m.vus_roc));
    put(map, MetricName::VusPr, v(m.vus_pr));
    put(map, MetricName::UcrTop1, v(m.ucr_top1));
}

/// NAB normalised scores (corpus-optimised thresholds).
pub fn nab(map: &mut MetricMap, summaries: &[NabSummary]) {
    for s in summaries {
        let name = match s.profile {
            NabProfile::Standard => MetricName::NabStandard,
            NabProfile::RewardLowFp => MetricName::NabLowFp,
            NabProfile::RewardLowFn => MetricName::NabLowFn,
        };
        put(map, name, s.normalised.unwrap_or(f64::NAN));
    }
}

/// The deployable headline metrics of a full evaluation (threshold fitted on validation,
/// applied to test), plus `oracle_*` twins and the threshold.
pub fn of_evaluation(e: &Evaluation) -> MetricMap {
    let mut map = MetricMap::new();
    thresholded(&mut map, &e.deployable);
    threshold_free(&mut map, &e.threshold_free);
    nab(&mut map, &e.nab_optimised);
    map.insert("threshold".into(), e.fitted.value);
    if let Some(oracle) = &e.oracle {
        let mut o = MetricMap::new();
        thresholded(&mut o, oracle);
        for (k, v) in o {
            map.insert(format!("oracle_{k}"), v);
        }
        map.insert("oracle_threshold".into(), oracle.threshold);
    }
    map
}

/// The random and null baselines' headline metrics of an evaluation.
pub fn of_baselines(e: &Evaluation) -> Option<(MetricMap, MetricMap)> {
    let b = e.baselines.as_ref()?;
    let mut random = MetricMap::new();
    thresholded(&mut random, &b.random.deployable);
    threshold_free(&mut random, &b.random.threshold_free);
    nab(&mut random, &b.random.nab_optimised);
    let mut null = MetricMap::new();
    thresholded(&mut null, &b.null);
    Some((random, null))
}

/// Which metrics a tuning pass must compute.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    threshold_free: bool,
    nab: bool,
}

impl Needs {
    /// Everything (what a report shows).
    pub fn all() -> Needs {
        Needs {
            threshold_free: true,
            nab: true,
        }
    }

    /// Whether the threshold-free metrics are needed.
    pub fn threshold_free(&self) -> bool {
        self.threshold_free
    }

    /// Whether NAB scores are needed.
    pub fn nab(&self) -> bool {
        self.nab
    }

    /// What `metrics` need.
    pub fn of(metrics: impl IntoIterator<Item = MetricName>) -> Needs {
        let mut needs = Needs::default();
        for m in metrics {
            needs.threshold_free |= m.threshold_free();
            needs.nab |= m.nab();
        }
        needs
    }
}

/// Metrics of one candidate on validation data (threshold fitted there by the spec's policy):
/// only what the objective and constraints need beyond the cheap thresholded set.
pub fn tuning_metrics(
    validation: &[EvalSeries<'_>],
    config: &EvalConfig,
    needs: Needs,
) -> Result<MetricMap> {
    let mut map = MetricMap::new();
    let scores: Vec<vigil_eval::threshold::SeriesScores<'_>> = validation
        .iter()
        .map(|s| vigil_eval::threshold::SeriesScores {
            scores: s.scores,
            windows: s.windows,
        })
        .collect();
    let context = vigil_eval::threshold::FitContext {
        timestamps: validation.iter().map(|s| s.timestamps).collect(),
        alert: &config.alert,
        early_ms: config.early_ms,
    };
    let fitted = config.threshold.fit_with(&scores, &context)?;
    let mut light = config.clone();
    light.nab_profiles.clear();
    let m = vigil_eval::report::thresholded_metrics(validation, fitted.value, &light)?;
    thresholded(&mut map, &m);
    map.insert("threshold".into(), fitted.value);
    if needs.threshold_free {
        let tf = vigil_eval::report::threshold_free_metrics(validation, config)?;
        threshold_free(&mut map, &tf);
    }
    if needs.nab {
        let corpus = validation
            .iter()
            .map(|s| vigil_eval::nab::NabSeries::new(s.scores, s.windows))
            .collect::<vigil_eval::Result<Vec<_>>>()?;
        let found = vigil_eval::nab::search_thresholds(&corpus, &config.nab_profiles);
        let summaries: Vec<NabSummary> = found
            .into_iter()
            .map(|r| NabSummary {
                profile: r.profile,
                threshold: r.threshold,
                raw: r.raw,
                normalised: r.normalised,
            })
            .collect();
        nab(&mut map, &summaries);
    }
    Ok(map)
}

/// Mean of each metric over several maps (NaNs skipped; NaN when every value is NaN).
pub fn macro_average(maps: &[MetricMap]) -> MetricMap {
    let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for map in maps {
        for (k, v) in map {
            let entry = sums.entry(k.clone()).or_insert((0.0, 0));
            if v.is_finite() {
                entry.0 += v;
                entry.1 += 1;
            }
        }
    }
    sums.into_iter()
        .map(|(k, (sum, n))| (k, if n == 0 { f64::NAN } else { sum / n as f64 }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_through_serde() {
        for m in MetricName::ALL {
            let json = serde_json::to_string(m).expect("serialises");
            assert_eq!(json, format!("\"{}\"", m.name()));
            let back: MetricName = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, *m);
        }
    }

    #[test]
    fn orientation_prefers_fewer_false_alarms() {
        let m = MetricName::FalseAlarmsPerDay;
        assert!(m.oriented(1.0) > m.oriented(2.0));
        assert!(MetricName::EventF1.oriented(0.9) > MetricName::EventF1.oriented(0.1));
        assert_eq!(MetricName::EventF1.oriented(f64::NAN), f64::NEG_INFINITY);
    }

    #[test]
    fn ucr_top1_is_threshold_free_and_follows_the_configured_slack() {
        let m = MetricName::UcrTop1;
        assert!(m.threshold_free() && !m.lower_is_better() && !m.nab_optimised());
        let needs = Needs::of([m]);
        assert!(needs.threshold_free() && !needs.nab());
        // The top score is 50 rows before the incident.
        let scores: Vec<f64> = (0..400).map(|i| if i == 150 { 1.0 } else { 0.0 }).collect();
        let windows = [vigil_eval::Window::new(200, 210)];
        let timestamps: Vec<i64> = (0..400).collect();
        let series = [EvalSeries::new(&scores, &windows, &timestamps).expect("valid")];
        let at = |slack: usize| {
            let config = EvalConfig {
                ucr_top1_slack: slack,
                vus: vigil_eval::vus::VusParams {
                    max_window: 4,
                    thresholds: 10,
                },
                ..EvalConfig::default()
            };
            tuning_metrics(&series, &config, needs).expect("metrics")["ucr_top1"]
        };
        assert_eq!(at(100), 1.0);
        assert_eq!(at(50), 1.0);
        assert_eq!(at(49), 0.0);
        // Without the threshold-free pass the metric is absent, not zero.
        let config = EvalConfig::default();
        let light = tuning_metrics(&series, &config, Needs::default()).expect("metrics");
        assert!(!light.contains_key("ucr_top1"));
    }

    #[test]
    fn macro_average_skips_undefined_values() {
        let a = MetricMap::from([("x".into(), 1.0), ("y".into(), f64::NAN)]);
        let b = MetricMap::from([("x".into(), 3.0), ("y".into(), f64::NAN)]);
        let avg = macro_average(&[a, b]);
        assert_eq!(avg["x"], 2.0);
        assert!(avg["y"].is_nan());
    }
}
