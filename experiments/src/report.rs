//! Turns a run's outcome into the report crate's plain input ([`ExperimentReport`]) and writes
//! the HTML (and the input as JSON beside it, so `vigil report` can re-render it).

use std::path::{Path, PathBuf};

use vigil_eval::alert::apply_alert_policy;
use vigil_eval::curves::{pr_curve, roc_curve};
use vigil_eval::delay::detection_delays;
use vigil_eval::event::event_metrics;
use vigil_eval::labels_from_windows;
use vigil_reports::{
    CurveSet, DatasetRef, DelaySet, ExperimentReport, FalseAlarms, IncidentDelay, Leaderboard,
    LeaderboardRow, Lineage, MetricInfo, Metrics, Params, PeriodRow, PeriodTable, RowKind,
    ScoreTrack, SeriesData, SeriesPlot, SpecText, TimeWindow, Trial, TuningStudy,
};

use crate::error::{ExperimentError, Result};
use crate::metrics::{MetricMap, MetricName};
use crate::runner::{Entry, EntryTrace, Outcome, RunOptions};
use crate::spec::Spec;

/// Name of the summary run's artifact holding the report input (JSON).
pub const REPORT_ARTIFACT: &str = "report.json";

/// Entries drawn in plots and curves (the best few; the table has all).
const PLOTTED_ENTRIES: usize = 3;
/// Curve points kept per curve.
const CURVE_POINTS: usize = 400;

/// The column holding each entry's objective on validation (how the leaderboard is ranked).
fn validation_key(objective: MetricName) -> String {
    format!("validation_{objective}")
}

fn cv_key(objective: MetricName) -> String {
    format!("cv_{objective}")
}

fn cv_spread_key(objective: MetricName) -> String {
    format!("cv_spread_{objective}")
}

/// A figure in a note: three decimals, "—" when missing or not finite.
fn three_places(v: Option<&f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or("—".into(), |v| format!("{v:.3}"))
}

/// The cross-validated headline, the in-sample figure beside it and the gap; then each fold's
/// choice.
fn cv_notes(lb: &crate::Leaderboard, cv: &crate::cv::CvSummary) -> Vec<String> {
    let f = three_places;
    let mut shown = vec![lb.objective];
    for m in [
        MetricName::EventF1,
        MetricName::VusPr,
        MetricName::FalseAlarmsPerDay,
        MetricName::NabLowFp,
        MetricName::NabLowFn,
    ] {
        if !shown.contains(&m)
            && cv
                .procedure
                .metrics
                .get(m.name())
                .is_some_and(|v| v.is_finite())
        {
            shown.push(m);
        }
    }
    let figures: Vec<String> = shown
        .iter()
        .map(|m| {
            let k = m.name();
            format!(
                "{k} {} ± {} (in-sample {}, gap {})",
                f(cv.procedure.metrics.get(k)),
                f(cv.procedure.spread.get(k)),
                f(cv.in_sample.get(k)),
                f(cv.gap.get(k))
            )
        })
        .collect();
    let mut notes = vec![format!(
        "Headline, cross-validated across {} groups ({} by {}, {} folds; every choice made on the \
         training groups, the held-out groups scored once): {}. The in-sample figures are the \
         registered entry ({}) after choosing on every group; the gap is what selection on \
         the same data adds.",
        cv.groups.len(),
        cv.groups.keys().cloned().collect::<Vec<_>>().join(", "),
        cv.group_by,
        cv.folds,
        figures.join("; "),
        cv.chosen
    )];
    for (i, fold) in cv.procedure.folds.iter().enumerate() {
        notes.push(format!(
            "Fold {} (held out {}): chose {} (training {} {}), held-out {} {}.",
            i + 1,
            fold.held_out.join(", "),
            fold.chosen,
            lb.objective,
            f(Some(&fold.training_objective)),
            lb.objective,
            f(fold.metrics.get(lb.objective.name()))
        ));
    }
    notes
}

fn metric_columns(objective: MetricName) -> Vec<MetricInfo> {
    let mut names = vec![objective];
    for m in [
        MetricName::EventF1,
        MetricName::EventRecall,
        MetricName::AlertPrecision,
        MetricName::PointF1,
        MetricName::AdjustedF1,
        MetricName::RangeF1,
        MetricName::VusPr,
        MetricName::PrAuc,
        MetricName::RocAuc,
        MetricName::FalseAlarmsPerDay,
        MetricName::MeanDelaySeconds,
        MetricName::NabStandard,
        MetricName::NabLowFp,
        MetricName::NabLowFn,
    ] {
        if !names.contains(&m) {
            names.push(m);
        }
    }
    names
        .into_iter()
        .map(|m| {
            let info = MetricInfo::new(m.name());
            let info = match m {
                MetricName::AdjustedF1 => info
                    .with_label("PA-F1 (adjusted)")
                    .with_description("point-adjusted F1: inflated by design, never a headline"),
                MetricName::FalseAlarmsPerDay => info.with_label("false alarms / day"),
                MetricName::MeanDelaySeconds => info.with_label("mean delay (s)"),
                MetricName::UcrTop1 => info.with_label("UCR top-1").with_description(
                    "share of series whose highest score lies within ucr_top1_slack points \
                     (default 100) of the anomaly: the UCR archive's protocol",
                ),
                _ => info,
            };
            if m.lower_is_better() {
                info.lower_is_better()
            } else {
                info
            }
        })
        .collect()
}

fn to_metrics(map: Option<&MetricMap>, columns: &[MetricInfo], prefix: &str) -> Metrics {
    columns
        .iter()
        .filter_map(|c| {
            map.and_then(|m| m.get(&format!("{prefix}{}", c.key)))
                .map(|v| (c.key.clone(), *v))
        })
        .collect()
}

/// Parameters as shown: a family's spec fields; for an ensemble its mode, members (by family),
/// weights and thresholds, without the per-series normalisation statistics.
fn params_of(value: &serde_json::Value) -> Params {
    let Some(o) = value.as_object() else {
        return Params::new();
    };
    o.iter()
        .filter(|(k, _)| k.as_str() != "normalisers" && k.as_str() != "kind")
        .map(|(k, v)| {
            let v = match (k.as_str(), v) {
                ("members", serde_json::Value::Array(members)) => serde_json::Value::Array(
                    members
                        .iter()
                        .map(|m| m.get("kind").cloned().unwrap_or(serde_json::Value::Null))
                        .collect(),
                ),
                ("vote_thresholds" | "weights", serde_json::Value::Array(xs)) => {
                    serde_json::Value::Array(
                        xs.iter()
                            .map(|x| {
                                x.as_f64()
                                    .map(|f| serde_json::Value::from((f * 1000.0).round() / 1000.0))
                                    .unwrap_or(serde_json::Value::Null)
                            })
                            .collect(),
                    )
                }
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

fn thin(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if points.len() <= CURVE_POINTS {
        return points;
    }
    let step = points.len() as f64 / CURVE_POINTS as f64;
    let mut out: Vec<(f64, f64)> = (0..CURVE_POINTS)
        .map(|i| points[(i as f64 * step) as usize])
        .collect();
    if let Some(last) = points.last() {
        out.push(*last);
    }
    out
}

/// Builds the report input from a run.
pub fn build_report(spec: &Spec, options: &RunOptions, outcome: &Outcome) -> ExperimentReport {
    let lb = &outcome.leaderboard;
    let columns = metric_columns(lb.objective);
    let mut table_columns = vec![{
        let info = MetricInfo::new(validation_key(lb.objective))
            .with_label(format!(
                "{} {} (chooses)",
                if lb.in_sample {
                    "in-sample"
                } else {
                    "validation"
                },
                lb.objective
            ))
            .with_description("the objective on the rows that chose parameters and threshold");
        if lb.objective.lower_is_better() {
            info.lower_is_better()
        } else {
            info
        }
    }];
    if lb.cv.is_some() {
        for (key, label, description) in [
            (
                cv_key(lb.objective),
                format!("cross-validated {} (held-out groups)", lb.objective),
                "re-chosen on each fold's training groups, scored on its held-out groups",
            ),
            (
                cv_spread_key(lb.objective),
                "± over folds".to_string(),
                "standard deviation of the held-out objective over folds",
            ),
        ] {
            let info = MetricInfo::new(key)
                .with_label(label)
                .with_description(description);
            table_columns.push(if lb.objective.lower_is_better() {
                info.lower_is_better()
            } else {
                info
            });
        }
    }
    table_columns.extend(columns.iter().cloned());
    let mut report = ExperimentReport {
        title: format!("{}: {} entries", spec.name, lb.entries.len()),
        experiment: spec.name.clone(),
        summary: Some(format!(
            "{} Objective: {} ({}), chosen on {}. Best: {}.",
            spec.description,
            lb.objective,
            if lb.objective.lower_is_better() {
                "lower is better"
            } else {
                "higher is better"
            },
            if lb.in_sample {
                "the test rows (in-sample, NAB protocol)"
            } else {
                "validation rows"
            },
            lb.best()
                .map_or("none met the constraints".to_string(), |b| b.name.clone()),
        )),
        spec: SpecText {
            path: None,
            format: Some("toml".into()),
            sha256: None,
            text: options.spec_text.clone(),
        },
        ..ExperimentReport::default()
    };
    report.lineage = Lineage {
        datasets: outcome
            .data
            .iter()
            .map(|d| DatasetRef {
                name: d.name.clone(),
                fingerprint: d.fingerprint.clone(),
                source: Some(d.description.clone()),
                split: Some(format!("{:?}", spec.split)),
                series: Some(d.series.len()),
                rows: Some(d.series.iter().map(|s| s.series.len() as u64).sum()),
                incidents: Some(d.series.iter().map(|s| s.windows.len()).sum()),
                start_ms: d
                    .series
                    .iter()
                    .filter_map(|s| s.series.timestamps.first().copied())
                    .min(),
                end_ms: d
                    .series
                    .iter()
                    .filter_map(|s| s.series.timestamps.last().copied())
                    .max(),
            })
            .collect(),
        git_commit: outcome.git_commit.clone(),
        git_dirty: None,
        vigil_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        seed: Some(spec.seed),
        started_at_ms: None,
        wall_time_s: Some(outcome.wall_seconds),
        threads: Some(rayon::current_num_threads()),
        extra: [
            ("summary run".to_string(), outcome.summary_run.clone()),
            (
                "threshold scope".to_string(),
                format!("{:?}", spec.threshold_scope).to_lowercase(),
            ),
        ]
        .into_iter()
        .collect(),
    };
    if let Some(cv) = &lb.cv {
        report.notes.extend(cv_notes(lb, cv));
    }
    let f = |v: f64| three_places(Some(&v));
    for h in lb.holdout_headline() {
        report.notes.push(format!(
            "Headline ({}): {} was chosen on validation rows ({} {}); on test rows, which chose \
             nothing, it scores {} (drop {}: what choosing on validation added); random scores \
             give {}.",
            h.dataset,
            h.entry,
            lb.objective,
            f(h.validation),
            f(h.test),
            f(h.drop),
            f(h.random)
        ));
    }
    report
        .notes
        .extend(lb.warnings.iter().map(|w| format!("Warning: {w}.")));
    if lb.in_sample {
        report.notes.push(
            "No validation rows: thresholds and parameters were chosen on the test rows themselves (NAB's protocol); these numbers are optimistic for a deployment.".into(),
        );
    }
    for e in lb.entries.iter().filter(|e| !e.feasible) {
        report.notes.push(format!(
            "{} did not meet the constraints on validation and is ranked last.",
            e.name
        ));
    }

    // Leaderboards per dataset.
    for name in lb.datasets.keys() {
        let mut rows: Vec<LeaderboardRow> = lb
            .entries
            .iter()
            .map(|e| LeaderboardRow {
                family: e.name.clone(),
                kind: RowKind::Detector,
                params: params_of(&e.params),
                metrics: {
                    let mut m = Metrics::new().with(validation_key(lb.objective), e.validation);
                    if let Some(cv) = &e.cv {
                        let k = lb.objective.name();
                        for (key, map) in [
                            (cv_key(lb.objective), &cv.metrics),
                            (cv_spread_key(lb.objective), &cv.spread),
                        ] {
                            if let Some(v) = map.get(k) {
                                m.insert(key, *v);
                            }
                        }
                    }
                    for (k, v) in to_metrics(e.test.get(name), &columns, "").iter() {
                        m.insert(k, v);
                    }
                    m
                },
                oracle_metrics: to_metrics(e.test.get(name), &columns, "oracle_"),
                deployable_threshold: e.test.get(name).and_then(|m| m.get("threshold").copied()),
                oracle_threshold: e
                    .test
                    .get(name)
                    .and_then(|m| m.get("oracle_threshold").copied()),
                trials: Some(e.trials),
                fit_time_s: None,
                run_id: None,
                note: Some(entry_note(e)),
            })
            .collect();
        if let Some(base) = lb.baselines.get(name) {
            for (b, map) in base {
                rows.push(LeaderboardRow {
                    family: format!("baseline: {b}"),
                    kind: if b == "null" {
                        RowKind::NullBaseline
                    } else {
                        RowKind::RandomBaseline
                    },
                    metrics: to_metrics(Some(map), &columns, ""),
                    ..LeaderboardRow::default()
                });
            }
        }
        report.leaderboards.push(Leaderboard {
            dataset: name.clone(),
            metrics: table_columns.clone(),
            rank_by: Some(validation_key(lb.objective)),
            threshold_protocol: Some(format!(
                "{} fitted on {} (one threshold per {}), applied unchanged to test",
                inline_toml(&serde_json::to_value(spec.threshold).unwrap_or_default()),
                if lb.in_sample {
                    "the test rows (in-sample)"
                } else {
                    "validation"
                },
                serde_json::to_value(spec.threshold_scope)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            )),
            rows,
        });
    }

    // Plots, curves, delays and false alarms for the best few entries.
    let plotted: Vec<&Entry> = lb.entries.iter().take(PLOTTED_ENTRIES).collect();
    let max_plots = spec.report.max_series_plots.unwrap_or(6);
    let mut unit = 0usize;
    for d in &outcome.data {
        for (k, s) in d.series.iter().enumerate() {
            let i = unit;
            unit += 1;
            // Rows stay in file order, and real files step back in time (NAB's
            // machine_temperature at row 10149); a plot's time axis cannot, so a row that steps
            // back is drawn at the latest time before it.
            let ts = &non_decreasing(&s.series.timestamps);
            let incidents: Vec<TimeWindow> = s
                .windows
                .iter()
                .map(|w| TimeWindow {
                    start_ms: ts[w.start],
                    end_ms: ts[w.end],
                    label: None,
                })
                .collect();
            if k < max_plots {
                let tracks = plotted
                    .iter()
                    .filter_map(|e| {
                        let t = outcome.traces.get(&e.name)?;
                        let scores = t.scores.get(i)?;
                        let threshold = t.thresholds.get(i).copied().filter(|v| v.is_finite());
                        let alerts = threshold
                            .and_then(|thr| apply_alert_policy(scores, ts, thr, &spec.alert).ok())
                            .unwrap_or_default()
                            .iter()
                            .map(|a| TimeWindow {
                                start_ms: ts[a.start],
                                end_ms: ts[a.end],
                                label: a.severity.clone(),
                            })
                            .collect();
                        let (expected, band) = match t.expected.get(i).cloned().flatten() {
                            Some((e, lo, hi)) => (
                                Some(e),
                                Some(vigil_reports::Band {
                                    lower: lo,
                                    upper: hi,
                                    label: None,
                                }),
                            ),
                            None => (None, None),
                        };
                        Some(ScoreTrack {
                            label: e.name.clone(),
                            scores: scores.clone(),
                            threshold,
                            alerts,
                            expected,
                            band,
                        })
                    })
                    .collect();
                report.series.push(SeriesPlot {
                    dataset: d.name.clone(),
                    data: SeriesData {
                        name: if s.series.channels() > 1 {
                            format!(
                                "{} (channel {}, of {})",
                                s.series.name,
                                s.series.columns[0],
                                s.series.channels()
                            )
                        } else {
                            s.series.name.clone()
                        },
                        unit: None,
                        timestamps_ms: ts.clone(),
                        values: s.series.values.column(0).to_vec(),
                        incidents,
                    },
                    tracks,
                    metrics: plotted
                        .first()
                        .and_then(|e| e.per_series.get(&s.key()))
                        .map(|m| to_metrics(Some(m), &columns, ""))
                        .unwrap_or_default(),
                });
            }
        }
    }
    report.periods = period_tables(lb, outcome);
    for (g, d) in outcome.data.iter().enumerate() {
        let first_unit: usize = outcome.data[..g].iter().map(|x| x.series.len()).sum();
        for e in &plotted {
            let Some(t) = outcome.traces.get(&e.name) else {
                continue;
            };
            let mut scores = Vec::new();
            let mut labels = Vec::new();
            let mut delays = Vec::new();
            let mut false_alarms = 0u64;
            let mut days = 0.0;
            for (k, s) in d.series.iter().enumerate() {
                let i = first_unit + k;
                let rows = s.test_rows();
                let Some(full) = t.scores.get(i) else {
                    continue;
                };
                let part = &full[rows.clone()];
                let windows = s.windows_in(&rows);
                scores.extend_from_slice(part);
                labels.extend(labels_from_windows(&windows, part.len()));
                let ts = &s.series.timestamps[rows.clone()];
                let Some(thr) = t.thresholds.get(i).copied().filter(|v| v.is_finite()) else {
                    continue;
                };
                let Ok(alerts) = apply_alert_policy(part, ts, thr, &spec.alert) else {
                    continue;
                };
                if let Ok(ev) = event_metrics(&alerts, &windows, ts, spec.early_seconds * 1000) {
                    false_alarms += ev.false_alarms as u64;
                    days += ev.days;
                }
                if let Ok(report) =
                    detection_delays(&alerts, &windows, ts, spec.early_seconds * 1000)
                {
                    for inc in report.incidents {
                        delays.push(IncidentDelay {
                            series: s.series.name.clone(),
                            window: TimeWindow {
                                start_ms: ts[inc.window.start],
                                end_ms: ts[inc.window.end],
                                label: None,
                            },
                            delay_ms: inc.ms,
                        });
                    }
                }
            }
            let roc = roc_curve(&scores, &labels).ok();
            let pr = pr_curve(&scores, &labels).ok();
            if roc.is_some() || pr.is_some() {
                let test = e.test.get(&d.name);
                report.curves.push(CurveSet {
                    dataset: d.name.clone(),
                    family: e.name.clone(),
                    roc: roc
                        .map(|c| thin(c.fpr.into_iter().zip(c.tpr).collect()))
                        .unwrap_or_default(),
                    pr: pr
                        .map(|c| thin(c.recall.into_iter().zip(c.precision).collect()))
                        .unwrap_or_default(),
                    roc_auc: test
                        .and_then(|m| m.get("roc_auc").copied())
                        .filter(|v| v.is_finite()),
                    average_precision: test
                        .and_then(|m| m.get("pr_auc").copied())
                        .filter(|v| v.is_finite()),
                });
            }
            if !delays.is_empty() {
                report.delays.push(DelaySet {
                    dataset: d.name.clone(),
                    family: e.name.clone(),
                    incidents: delays,
                });
            }
            report.false_alarms.push(FalseAlarms {
                dataset: d.name.clone(),
                family: e.name.clone(),
                false_alarms,
                days,
                daily: Vec::new(),
            });
        }
    }
    let dataset = lb.datasets.keys().next().cloned().unwrap_or_default();
    for e in &lb.entries {
        if e.tuning.len() < 2 {
            continue;
        }
        report.tuning.push(TuningStudy {
            dataset: dataset.clone(),
            family: e.name.clone(),
            objective: format!(
                "{} {}",
                if lb.in_sample {
                    "in-sample"
                } else {
                    "validation"
                },
                lb.objective
            ),
            higher_is_better: !lb.objective.lower_is_better(),
            log_scale: Vec::new(),
            trials: e
                .tuning
                .iter()
                .map(|(params, objective)| Trial {
                    params: params.clone(),
                    objective: *objective,
                })
                .collect(),
        });
    }
    report
}

fn entry_note(e: &Entry) -> String {
    let mut parts = Vec::new();
    if !e.causal {
        parts.push("batch-only: not causal".to_string());
    }
    if !e.feasible {
        parts.push("constraints not met on validation".to_string());
    }
    if !e.eligible {
        parts.push("shown for comparison: the spec does not let the runner choose it".to_string());
    }
    if e.failed > 0 {
        parts.push(format!("{} trial(s) failed", e.failed));
    }
    if !e.series_failed.is_empty() {
        parts.push(format!(
            "could not fit {} series (silent there): {}",
            e.series_failed.len(),
            e.series_failed.join(", ")
        ));
    }
    parts.join("; ")
}

/// Writes the HTML report to `path` (parents created) and its input as `path.json` beside it.
pub fn write_report(
    spec: &Spec,
    options: &RunOptions,
    outcome: &Outcome,
    path: &Path,
) -> Result<PathBuf> {
    let mut report = build_report(spec, options, outcome);
    report
        .lineage
        .extra
        .insert("summary run".into(), outcome.summary_run.clone());
    write_html(&report, path)
}

/// Renders a report input to `path` (parents created) with the input as `path.json` beside it.
pub fn write_html(report: &ExperimentReport, path: &Path) -> Result<PathBuf> {
    let html = vigil_reports::render_experiment(report).map_err(|e| ExperimentError::Io {
        path: path.to_path_buf(),
        message: format!("the report could not be rendered: {e}"),
        hint: "this is a bug in the report input; the leaderboard and registry are unaffected"
            .into(),
    })?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    }
    std::fs::write(path, html).map_err(|e| io(path, e))?;
    let json_path = path.with_extension("json");
    let json = serde_json::to_vec(report).unwrap_or_default();
    std::fs::write(&json_path, json).map_err(|e| io(&json_path, e))?;
    Ok(path.to_path_buf())
}

fn io(path: &Path, e: std::io::Error) -> ExperimentError {
    ExperimentError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
        hint: "check that the folder is writable".into(),
    }
}

/// A spec value as the user wrote it: a TOML inline table (`{ kind = "best", objective = {
/// metric = "nab" } }`), for the report's one-line protocol descriptions.
fn inline_toml(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{k} = {}", inline_toml(v)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        serde_json::Value::Array(items) => format!(
            "[{}]",
            items.iter().map(inline_toml).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// `timestamps` with every step back raised to the running maximum (same length, same rows).
fn non_decreasing(timestamps: &[i64]) -> Vec<i64> {
    let mut latest = i64::MIN;
    timestamps
        .iter()
        .map(|&t| {
            latest = latest.max(t);
            latest
        })
        .collect()
}

/// Per dataset, the seasonal periods of every entry that takes a period (leaderboard order),
/// per series; datasets where no entry has one are left out.
fn period_tables(lb: &crate::Leaderboard, outcome: &Outcome) -> Vec<PeriodTable> {
    let mut tables = Vec::new();
    let mut first_unit = 0;
    for d in &outcome.data {
        let units = first_unit..first_unit + d.series.len();
        first_unit = units.end;
        let columns: Vec<(&str, &EntryTrace)> = lb
            .entries
            .iter()
            .filter_map(|e| Some((e.name.as_str(), outcome.traces.get(&e.name)?)))
            .filter(|(_, t)| {
                units
                    .clone()
                    .any(|i| matches!(t.periods.get(i), Some(Some(_))))
            })
            .collect();
        if columns.is_empty() {
            continue;
        }
        tables.push(PeriodTable {
            dataset: d.name.clone(),
            families: columns.iter().map(|(name, _)| name.to_string()).collect(),
            rows: d
                .series
                .iter()
                .zip(units)
                .map(|(s, i)| PeriodRow {
                    series: s.series.name.clone(),
                    periods: columns
                        .iter()
                        .map(|(_, t)| t.periods.get(i).cloned().flatten())
                        .collect(),
                })
                .collect(),
        });
    }
    tables
}

#[cfg(test)]
mod tests {
    #[test]
    fn protocol_values_read_as_the_spec_wrote_them() {
        let v = serde_json::json!({"kind": "best", "objective": {"metric": "nab", "profile": "standard"}, "q": null, "k": [1, 2.5]});
        assert_eq!(
            super::inline_toml(&v),
            r#"{ k = [1, 2.5], kind = "best", objective = { metric = "nab", profile = "standard" } }"#
        );
    }

    #[test]
    fn a_step_back_in_time_is_drawn_at_the_latest_time_before_it() {
        assert_eq!(
            super::non_decreasing(&[10, 20, 15, 30, 30, 25]),
            vec![10, 20, 20, 30, 30, 30]
        );
        assert!(super::non_decreasing(&[]).is_empty());
    }
}
