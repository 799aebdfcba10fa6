//! Applying a registered version to new data, as a runtime service would (`vigil score`):
//! every series in time order through the version's models, calibration and ensemble rule
//! ([`VersionState::score`]), the series' own threshold, the alert policy and severity bands;
//! with labels, vigil's metrics at those thresholds (nothing is refitted on the scored rows).
//!
//! A series the version was not trained on (a host added last week) is refused by name, or,
//! with [`ApplyOptions::fit_new`], fitted with the version's family and parameters on its own
//! first rows ([`VersionState::fit_new`]); each series' result says which.

use vigil_datasets::{Dataset, Series};
use vigil_eval::alert::{Alert, alert_mask, apply_alert_policy};
use vigil_eval::{EvalConfig, EvalSeries, Window, windows_from_labels};

use crate::data::select_channels;
use crate::error::{ExperimentError, Result};
use crate::metrics::{MetricMap, macro_average};
use crate::state::VersionState;
use crate::yardstick::{Average, Part, at_thresholds};

/// How [`apply`] treats the data.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Which of the version's datasets the data stands for (needed when it has several).
    pub dataset: Option<String>,
    /// Fit series the version does not know on their own first rows instead of refusing.
    pub fit_new: bool,
    /// Rows a new series is fitted on (default: the median training rows of the version's
    /// series, at most half of the new series).
    pub fit_rows: Option<usize>,
    /// Measure only the rows from this time on (ms UTC): earlier rows are history that the
    /// models run through (warm-up, state) without being measured, as `vigil retrain` scores
    /// a whole window and measures its test rows.
    pub measure_from: Option<i64>,
}

/// One scored series.
#[derive(Debug, Clone)]
pub struct AppliedSeries {
    /// The version's key (`dataset/series`).
    pub key: String,
    /// The series as loaded (the version's channels, in its order).
    pub series: Series,
    /// One score per row on the threshold's scale.
    pub scores: Vec<f64>,
    /// Leading rows whose scores lack history.
    pub warm_up: usize,
    /// The threshold applied.
    pub threshold: f64,
    /// Rows at or above the threshold.
    pub detected: Vec<bool>,
    /// Alerts after the alert policy (minimum run, merge gap, cooldown, severity).
    pub alerts: Vec<Alert>,
    /// Rows covered by an alert.
    pub alerting: Vec<bool>,
    /// `Some(rows)` when the series was new and fitted on its first `rows` rows.
    pub fitted_new: Option<usize>,
    /// False when a model the version needs for this series failed to fit in the run (that
    /// member scores 0 here, as in the run).
    pub complete: bool,
    /// Labelled windows (empty without labels).
    pub windows: Vec<Window>,
    /// vigil's metrics at the version's threshold, when the series has labels.
    pub metrics: Option<MetricMap>,
}

/// A dataset scored by a version.
#[derive(Debug, Clone)]
pub struct Applied {
    /// Per series, in the data's order.
    pub series: Vec<AppliedSeries>,
    /// Macro average of the labelled series' metrics (`None` without labels).
    pub metrics: Option<MetricMap>,
    /// Labelled series.
    pub labelled: usize,
}

/// Scores every series of `data` with the version `state` (mutated only by
/// [`ApplyOptions::fit_new`]).
pub fn apply(state: &mut VersionState, data: &Dataset, options: &ApplyOptions) -> Result<Applied> {
    let source = data.source.clone();
    let refuse = |message: String, hint: String| ExperimentError::Selection {
        dataset: source.clone(),
        message,
        hint,
    };
    let mut known: Vec<&str> = state.series.iter().map(|s| s.dataset.as_str()).collect();
    known.sort_unstable();
    known.dedup();
    let dataset = match (&options.dataset, known.as_slice()) {
        (Some(d), _) if known.contains(&d.as_str()) => d.clone(),
        (Some(d), _) => {
            return Err(refuse(
                format!("the version has no dataset {d:?}"),
                format!("pass --dataset with one of: {}", known.join(", ")),
            ));
        }
        (None, [one]) => (*one).to_string(),
        (None, _) => {
            return Err(refuse(
                format!(
                    "the version was trained on {} datasets, so which one this data stands for \
                     is ambiguous",
                    known.len()
                ),
                format!("pass --dataset with one of: {}", known.join(", ")),
            ));
        }
    };
    if data.series.is_empty() {
        return Err(refuse(
            "the data holds no series".into(),
            "check the path and layout with `vigil datasets inspect PATH`".into(),
        ));
    }
    let default_fit_rows = {
        let mut rows: Vec<usize> = state
            .series
            .iter()
            .map(|s| s.train_rows)
            .filter(|&r| r > 0)
            .collect();
        rows.sort_unstable();
        rows.get(rows.len() / 2).copied()
    };
    // Labels anywhere make every series labelled: a series without incidents then counts
    // its alerts as false alarms.
    let labelled = data
        .series
        .iter()
        .any(|s| !s.incidents.is_empty() || s.point_labels.is_some());
    let mut out = Vec::with_capacity(data.series.len());
    for raw in &data.series {
        let key = format!("{dataset}/{}", raw.name);
        if raw.is_empty() {
            return Err(refuse(
                format!(
                    "series {:?} has no rows: an empty window cannot be scored",
                    raw.name
                ),
                "widen the time range of the data".into(),
            ));
        }
        let mut fitted_new = None;
        if state.series(&key).is_none() {
            if !options.fit_new {
                let names: Vec<&str> = state.series.iter().map(|s| s.name.as_str()).collect();
                return Err(refuse(
                    format!(
                        "the version was not trained on series {:?} (it knows {})",
                        raw.name,
                        names.join(", ")
                    ),
                    "pass --fit-new to fit the version's family and parameters on the new \
                     series' own first rows, or select the known series"
                        .into(),
                ));
            }
            let rows = match options.fit_rows.or(default_fit_rows) {
                Some(r) => r.min(raw.len() / 2).max(2),
                None => {
                    return Err(refuse(
                        format!(
                            "series {:?} is new and the version does not record how many rows \
                             its series were trained on",
                            raw.name
                        ),
                        "pass --fit-rows N".into(),
                    ));
                }
            };
            state.fit_new(&dataset, &key, raw, rows)?;
            fitted_new = Some(rows);
        }
        let known = state.series(&key).expect("known or just fitted").clone();
        let series = if known.columns.is_empty() {
            raw.clone()
        } else {
            let missing: Vec<&String> = known
                .columns
                .iter()
                .filter(|c| !raw.columns.contains(c))
                .collect();
            if !missing.is_empty() {
                return Err(refuse(
                    format!(
                        "series {:?} has channels {:?}; the version's model was fitted on {:?} \
                         (missing: {missing:?})",
                        raw.name, raw.columns, known.columns
                    ),
                    "give the data the same metric columns the version was trained on".into(),
                ));
            }
            select_channels(&dataset, raw.clone(), &known.columns)?
        };
        let scored = state.score(&key, &series)?;
        let threshold = known.threshold;
        let detected: Vec<bool> = scored.values.iter().map(|&s| s >= threshold).collect();
        let alerts =
            apply_alert_policy(&scored.values, &series.timestamps, threshold, &state.alert)?;
        let alerting = alert_mask(&alerts, series.len());
        let windows = windows_from_labels(&series.labels());
        let metrics = if labelled {
            let from = options
                .measure_from
                .map_or(0, |t| series.timestamps.partition_point(|&ts| ts < t));
            let rows = from..series.len();
            let measured_windows = vigil_eval::windows_in(&windows, &rows);
            let part = Part {
                key: key.clone(),
                validation: None,
                test: EvalSeries {
                    scores: &scored.values[rows.clone()],
                    windows: &measured_windows,
                    timestamps: &series.timestamps[rows],
                    incident_severities: None,
                },
                threshold,
            };
            let config = EvalConfig {
                alert: state.alert.clone(),
                early_ms: state.early_ms,
                ..EvalConfig::default()
            };
            at_thresholds(&[part], &config, Average::Series)?
                .per_series
                .remove(&key)
        } else {
            None
        };
        out.push(AppliedSeries {
            key,
            scores: scored.values,
            warm_up: scored.warm_up,
            threshold,
            detected,
            alerts,
            alerting,
            fitted_new,
            complete: scored.complete,
            windows,
            metrics,
            series,
        });
    }
    let maps: Vec<MetricMap> = out.iter().filter_map(|s| s.metrics.clone()).collect();
    Ok(Applied {
        labelled: maps.len(),
        metrics: (!maps.is_empty()).then(|| macro_average(&maps)),
        series: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tests::{series, single};
    use vigil_datasets::Layout;

    fn data(series: Vec<Series>) -> Dataset {
        Dataset {
            name: "week".into(),
            layout: Layout::Generic,
            source: "/data/week".into(),
            series,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn a_known_series_scores_at_its_threshold_and_alerts() {
        let (mut state, _) = single(3.0);
        let applied = apply(
            &mut state,
            &data(vec![series("a")]),
            &ApplyOptions::default(),
        )
        .expect("applied");
        let a = &applied.series[0];
        assert_eq!(
            (a.key.as_str(), a.threshold, a.fitted_new),
            ("d/a", 3.0, None)
        );
        assert!(a.detected[450] && a.detected[520] && !a.alerts.is_empty());
        assert!(applied.metrics.is_none(), "no labels, no metrics");
    }

    #[test]
    fn every_refusal_names_what_to_fix() {
        let refused = |state: &mut VersionState, d: &Dataset, o: &ApplyOptions| {
            apply(state, d, o).expect_err("refused").to_string()
        };
        let (mut state, _) = single(3.0);
        // A series the version does not know.
        let err = refused(
            &mut state,
            &data(vec![series("b")]),
            &ApplyOptions::default(),
        );
        assert!(err.contains("\"b\"") && err.contains("--fit-new"), "{err}");
        // An empty window.
        let empty = series("a").slice_rows(0, 0);
        let err = refused(&mut state, &data(vec![empty]), &ApplyOptions::default());
        assert!(err.contains("no rows"), "{err}");
        // No series at all.
        let err = refused(&mut state, &data(Vec::new()), &ApplyOptions::default());
        assert!(err.contains("no series"), "{err}");
        // Other channels than the model was fitted on.
        let mut renamed = series("a");
        renamed.columns = vec!["other".into()];
        let err = refused(&mut state, &data(vec![renamed]), &ApplyOptions::default());
        assert!(err.contains("other") && err.contains("value"), "{err}");
        // A dataset the version does not have, and an ambiguous one.
        let options = ApplyOptions {
            dataset: Some("nope".into()),
            ..ApplyOptions::default()
        };
        let err = refused(&mut state, &data(vec![series("a")]), &options);
        assert!(err.contains("nope") && err.contains("--dataset"), "{err}");
        let mut second = state.series[0].clone();
        second.dataset = "e".into();
        second.key = "e/a".into();
        state.series.push(second);
        let err = refused(
            &mut state,
            &data(vec![series("a")]),
            &ApplyOptions::default(),
        );
        assert!(err.contains("ambiguous") && err.contains("d, e"), "{err}");
    }

    #[test]
    fn a_new_series_is_fitted_on_its_first_rows_when_asked() {
        let (mut state, _) = single(3.0);
        let options = ApplyOptions {
            fit_new: true,
            fit_rows: Some(200),
            ..ApplyOptions::default()
        };
        let applied = apply(&mut state, &data(vec![series("b")]), &options).expect("applied");
        assert_eq!(applied.series[0].fitted_new, Some(200));
        assert!(applied.series[0].detected[450]);
    }
}
