//! Synthetic, seeded report inputs shaped like the real ones (NAB-like series with daily
//! seasonality, spikes and level shifts; fifteen families; baselines; trials; delays).

use serde_json::json;
use vigil_reports::{
    Artifact, Band, Comparison, ComparisonPlot, CurveSet, DailyCount, DatasetRef, DelaySet,
    EpochLoss, ExperimentReport, ExportState, ExportStatus, FalseAlarms, IncidentDelay,
    Leaderboard, LeaderboardRow, Lineage, MetricGroup, MetricInfo, Metrics, ModelCard, Params,
    PeriodRow, PeriodTable, RowKind, ScoreTrack, SeriesComparison, SeriesData, SeriesPlot,
    SpecText, ThresholdInfo, TimeWindow, TrainingCurve, Trial, TuningStudy, VersionSummary,
};

pub const FAMILIES: [&str; 15] = [
    "rolling_zscore",
    "ewma",
    "rolling_percentile",
    "holt_winters",
    "arima",
    "stl_esd",
    "cusum",
    "anomaly_likelihood",
    "isolation_forest",
    "lof",
    "one_class_svm",
    "dbscan",
    "knn",
    "lstm_autoencoder",
    "ensemble_vote",
];

/// 2014-02-14 00:00 UTC, NAB's era.
pub const START_MS: i64 = 1_392_336_000_000;
pub const STEP_MS: i64 = 300_000;

/// SplitMix64: a tiny seeded generator (no dependency needed for fixtures).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Approximately standard normal (sum of 12 uniforms).
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
    }
}

/// A series with daily seasonality, noise, a spike, a level shift and a short gap; its
/// incidents cover the injected anomalies.
pub fn series_data(name: &str, n: usize, seed: u64) -> SeriesData {
    let mut rng = Rng::new(seed);
    let day = (86_400_000 / STEP_MS) as f64;
    let spike = n * 3 / 10 + (seed as usize % 50);
    let shift = n * 7 / 10;
    let values: Vec<f64> = (0..n)
        .map(|i| {
            let seasonal = 12.0 * (2.0 * std::f64::consts::PI * i as f64 / day).sin();
            let level = if i >= shift && i < shift + n / 20 {
                25.0
            } else {
                0.0
            };
            let bump = if i == spike { 80.0 } else { 0.0 };
            let gap = i > n / 2 && i < n / 2 + 6;
            if gap {
                f64::NAN
            } else {
                50.0 + seasonal + level + bump + 2.5 * rng.normal()
            }
        })
        .collect();
    let t = |i: usize| START_MS + i as i64 * STEP_MS;
    SeriesData {
        name: name.to_string(),
        unit: Some("% CPU".to_string()),
        timestamps_ms: (0..n).map(t).collect(),
        values,
        incidents: vec![
            TimeWindow {
                start_ms: t(spike - 20),
                end_ms: t(spike + 20),
                label: Some("spike".into()),
            },
            TimeWindow {
                start_ms: t(shift - 10),
                end_ms: t(shift + n / 20),
                label: Some("level shift".into()),
            },
        ],
    }
}

/// A score track: |deviation from the seasonal expectation| / sigma, with alerts where it
/// crosses the threshold (runs merged). The first family forecasts, so it has a band.
pub fn track(label: &str, data: &SeriesData, seed: u64, forecast: bool) -> ScoreTrack {
    let mut rng = Rng::new(seed ^ 0xABCD);
    let day = (86_400_000 / STEP_MS) as f64;
    let expected: Vec<f64> = (0..data.values.len())
        .map(|i| 50.0 + 12.0 * (2.0 * std::f64::consts::PI * i as f64 / day).sin())
        .collect();
    let warm_up = 30;
    let scores: Vec<f64> = data
        .values
        .iter()
        .zip(&expected)
        .enumerate()
        .map(|(i, (v, e))| {
            if i < warm_up || !v.is_finite() {
                f64::NAN
            } else {
                ((v - e) / 2.5).abs() + 0.3 * rng.uniform()
            }
        })
        .collect();
    let threshold = 4.0 + (seed % 3) as f64 * 0.5;
    let mut alerts = Vec::new();
    let mut i = 0;
    while i < scores.len() {
        if scores[i] >= threshold {
            let start = i;
            while i + 1 < scores.len() && scores[i + 1] >= threshold {
                i += 1;
            }
            alerts.push(TimeWindow::new(
                data.timestamps_ms[start],
                data.timestamps_ms[i],
            ));
        }
        i += 1;
    }
    ScoreTrack {
        label: label.to_string(),
        scores,
        threshold: Some(threshold),
        alerts,
        expected: forecast.then(|| expected.clone()),
        band: forecast.then(|| Band {
            lower: expected.iter().map(|e| e - 7.5).collect(),
            upper: expected.iter().map(|e| e + 7.5).collect(),
            label: Some("99% prediction interval".into()),
        }),
    }
}

pub fn metric_info() -> Vec<MetricInfo> {
    vec![
        MetricInfo::new("nab_standard")
            .with_label("NAB standard")
            .with_description("NAB score, standard profile (null 0, perfect 100)"),
        MetricInfo::new("event_f1")
            .with_label("event F1")
            .with_description("F1 of incident recall and alert precision"),
        MetricInfo::new("point_f1").with_label("point F1"),
        MetricInfo::new("roc_auc")
            .with_label("ROC-AUC")
            .with_description("area under the ROC curve, pooled rows"),
        MetricInfo::new("vus_pr").with_label("VUS-PR"),
        MetricInfo::new("median_delay_min")
            .with_label("median delay (min)")
            .lower_is_better(),
        MetricInfo::new("false_alarms_per_day")
            .with_label("false alarms/day")
            .lower_is_better(),
    ]
}

fn metrics(rng: &mut Rng, quality: f64) -> Metrics {
    Metrics::new()
        .with("nab_standard", 100.0 * quality - 20.0 * rng.uniform())
        .with("event_f1", quality * (0.8 + 0.2 * rng.uniform()))
        .with("point_f1", quality * 0.6 * (0.8 + 0.2 * rng.uniform()))
        .with("roc_auc", 0.5 + 0.45 * quality)
        .with("vus_pr", 0.1 + 0.5 * quality * rng.uniform())
        .with(
            "median_delay_min",
            5.0 + 60.0 * (1.0 - quality) * rng.uniform(),
        )
        .with(
            "false_alarms_per_day",
            0.2 + 3.0 * (1.0 - quality) * rng.uniform(),
        )
}

fn family_params(family: &str, rng: &mut Rng) -> Params {
    let mut p = Params::new();
    p.insert("window".into(), json!(12 + (rng.uniform() * 280.0) as i64));
    p.insert(
        "alpha".into(),
        json!(10f64.powf(-3.0 + 3.0 * rng.uniform())),
    );
    if family.contains("forest") || family.contains("lof") {
        p.insert("features".into(), json!(["lag1", "diff1", "rolling_std"]));
    }
    p.insert(
        "combine".into(),
        json!(if rng.uniform() < 0.5 { "max" } else { "mean" }),
    );
    p
}

type Points = Vec<(f64, f64)>;

fn curve(kind_power: f64, n: usize) -> (Points, Points) {
    let roc = (0..=n).map(|i| {
        let f = i as f64 / n as f64;
        (f, f.powf(kind_power))
    });
    let pr = (0..=n).map(|i| {
        let r = i as f64 / n as f64;
        (r, (1.0 - r.powf(1.0 / kind_power)).max(0.02) * 0.9 + 0.05)
    });
    (roc.collect(), pr.collect())
}

/// An experiment report over `n_series` series of `n_points`, `n_families` families, the
/// first `tracks_per_series` families drawn per series.
pub fn experiment(
    n_series: usize,
    n_points: usize,
    n_families: usize,
    tracks_per_series: usize,
) -> ExperimentReport {
    let families = &FAMILIES[..n_families.min(FAMILIES.len())];
    let mut rng = Rng::new(7);
    let dataset = "nab".to_string();
    let series: Vec<SeriesData> = (0..n_series)
        .map(|k| {
            series_data(
                &format!("realKnownCause/machine_{k:02}"),
                n_points,
                100 + k as u64,
            )
        })
        .collect();
    let plots: Vec<SeriesPlot> = series
        .iter()
        .enumerate()
        .map(|(k, data)| SeriesPlot {
            dataset: dataset.clone(),
            data: data.clone(),
            tracks: families
                .iter()
                .take(tracks_per_series)
                .enumerate()
                .map(|(j, f)| track(f, data, (k * 31 + j) as u64, j == 0))
                .collect(),
            metrics: Metrics::new()
                .with("event_f1", 0.5 + 0.4 * rng.uniform())
                .with("point_f1", 0.3 * rng.uniform()),
        })
        .collect();
    let mut rows: Vec<LeaderboardRow> = families
        .iter()
        .enumerate()
        .map(|(j, f)| {
            let quality = 0.9 - 0.04 * j as f64;
            LeaderboardRow {
                family: f.to_string(),
                kind: RowKind::Detector,
                params: family_params(f, &mut rng),
                metrics: metrics(&mut rng, quality),
                oracle_metrics: Metrics::new()
                    .with("event_f1", (quality + 0.08).min(1.0))
                    .with("point_f1", (quality * 0.6 + 0.1).min(1.0)),
                deployable_threshold: Some(3.0 + rng.uniform()),
                oracle_threshold: Some(3.5 + rng.uniform()),
                trials: Some(40),
                fit_time_s: Some(0.5 + 30.0 * rng.uniform()),
                run_id: Some(format!("run-{j:03}")),
                note: (j == 5).then(|| "batch-only: not NAB-causal".to_string()),
            }
        })
        .collect();
    for (name, kind) in [
        ("random", RowKind::RandomBaseline),
        ("never alerts", RowKind::NullBaseline),
    ] {
        rows.push(LeaderboardRow {
            family: name.to_string(),
            kind,
            metrics: metrics(&mut rng, 0.1),
            ..LeaderboardRow::default()
        });
    }
    let curves = families
        .iter()
        .enumerate()
        .map(|(j, f)| {
            let (roc, pr) = curve(0.15 + 0.05 * j as f64, 2_000);
            CurveSet {
                dataset: dataset.clone(),
                family: f.to_string(),
                roc,
                pr,
                roc_auc: Some(0.95 - 0.03 * j as f64),
                average_precision: Some(0.7 - 0.03 * j as f64),
            }
        })
        .collect();
    let tuning = families
        .iter()
        .map(|f| TuningStudy {
            dataset: dataset.clone(),
            family: f.to_string(),
            objective: "validation event F1".into(),
            higher_is_better: true,
            log_scale: vec!["alpha".into()],
            trials: (0..40)
                .map(|_| {
                    let params = family_params(f, &mut rng);
                    let w = params["window"].as_f64().unwrap_or(0.0);
                    let objective = if rng.uniform() < 0.03 {
                        f64::NAN
                    } else {
                        0.8 - ((w - 120.0) / 200.0).powi(2) + 0.05 * rng.normal()
                    };
                    Trial { params, objective }
                })
                .collect(),
        })
        .collect();
    let incidents: Vec<(String, TimeWindow)> = series
        .iter()
        .flat_map(|s| s.incidents.iter().map(|w| (s.name.clone(), w.clone())))
        .collect();
    let delays = families
        .iter()
        .map(|f| DelaySet {
            dataset: dataset.clone(),
            family: f.to_string(),
            incidents: incidents
                .iter()
                .map(|(s, w)| IncidentDelay {
                    series: s.clone(),
                    window: w.clone(),
                    delay_ms: (rng.uniform() > 0.15)
                        .then(|| ((rng.uniform() * 150.0 - 15.0) * 60_000.0) as i64),
                })
                .collect(),
        })
        .collect();
    let days = (n_points as i64 * STEP_MS) as f64 / 86_400_000.0;
    let false_alarms = families
        .iter()
        .map(|f| FalseAlarms {
            dataset: dataset.clone(),
            family: f.to_string(),
            false_alarms: (rng.uniform() * 40.0) as u64,
            days: days * n_series as f64,
            daily: if f.starts_with("e") || f.starts_with("h") {
                (0..days.ceil() as i64)
                    .map(|d| DailyCount {
                        day_start_ms: START_MS + d * 86_400_000,
                        count: (rng.uniform() * 5.0) as u64,
                    })
                    .collect()
            } else {
                Vec::new()
            },
        })
        .collect();
    let training = if families.contains(&"lstm_autoencoder") {
        vec![TrainingCurve {
            dataset: dataset.clone(),
            label: "lstm_autoencoder".into(),
            loss: Some("MSE (scaled units²)".into()),
            epochs: (1..=30)
                .map(|e| EpochLoss {
                    epoch: e,
                    train: 1.0 / f64::from(e) + 0.02,
                    validation: Some(1.1 / f64::from(e).sqrt() * 0.5 + 0.05),
                })
                .collect(),
        }]
    } else {
        Vec::new()
    };
    ExperimentReport {
        title: format!("nab-quick: {} families on NAB", families.len()),
        experiment: "nab-quick".into(),
        summary: Some("fixture data shaped like a NAB run".into()),
        spec: SpecText {
            path: Some("specs/nab-quick.toml".into()),
            format: Some("toml".into()),
            sha256: Some("9f2c".repeat(16)),
            text: "name = \"nab-quick\"\nseed = 7\n\n[data]\npath = \"../shared/datasets/nab\"\n\n[[family]]\nkind = \"ewma\"\nsearch = { alpha = [0.001, 1.0], log = true }\n# <script>alert('escaped')</script>\n".into(),
        },
        lineage: Lineage {
            datasets: vec![DatasetRef {
                name: dataset.clone(),
                fingerprint: "3b7e".repeat(16),
                source: Some("../shared/datasets/nab".into()),
                split: Some("probationary 15% skipped".into()),
                series: Some(n_series),
                rows: Some((n_series * n_points) as u64),
                incidents: Some(incidents.len()),
                start_ms: Some(START_MS),
                end_ms: Some(START_MS + n_points as i64 * STEP_MS),
            }],
            git_commit: Some("f17d619".into()),
            git_dirty: Some(false),
            vigil_version: Some("0.1.0".into()),
            seed: Some(7),
            started_at_ms: Some(1_763_769_600_000),
            wall_time_s: Some(412.5),
            threads: Some(16),
            extra: [("experiment id".to_string(), "exp-42".to_string())].into_iter().collect(),
        },
        leaderboards: vec![Leaderboard {
            dataset: dataset.clone(),
            metrics: metric_info(),
            rank_by: Some("nab_standard".into()),
            threshold_protocol: Some("best event F1 on the validation slice (last 20% of the probationary period)".into()),
            rows,
        }],
        series: plots,
        curves,
        tuning,
        delays,
        false_alarms,
        training,
        periods: vec![PeriodTable {
            dataset: dataset.clone(),
            families: vec!["holt_winters".into(), "mstl".into()],
            rows: vec![
                PeriodRow {
                    series: "web-1".into(),
                    periods: vec![Some(vec![vec![288]]), Some(vec![vec![288, 2016]])],
                },
                PeriodRow {
                    series: "web-2".into(),
                    periods: vec![Some(vec![vec![]]), None],
                },
            ],
        }],
        notes: vec!["Fixture data: numbers are synthetic.".into()],
    }
}

pub fn model_card() -> ModelCard {
    let data = series_data("checkout/p99_latency", 2_000, 3);
    let mut example_track = track("holt_winters v3", &data, 3, true);
    example_track.label = "holt_winters v3".into();
    ModelCard {
        model: "checkout-latency".into(),
        version: "3".into(),
        aliases: vec!["champion".into()],
        registered_at_ms: Some(1_763_769_600_000),
        purpose: Some("Latency spikes and level shifts on checkout p99 latency, one alert per incident.".into()),
        family: "holt_winters".into(),
        family_description: Some("Additive Holt-Winters with daily season; score = |residual| / robust sigma. Causal; O(n).".into()),
        causal: Some(true),
        params: [("season".to_string(), json!(288)), ("alpha".to_string(), json!(0.12)), ("beta".to_string(), json!(0.01)), ("gamma".to_string(), json!(0.2))]
            .into_iter()
            .collect(),
        inputs: vec!["p99_latency_ms".into()],
        training_data: vec![DatasetRef {
            name: "checkout-2014q1".into(),
            fingerprint: "aa11".repeat(16),
            split: Some("train: first 60%; validation: next 20%".into()),
            series: Some(1),
            rows: Some(24_000),
            incidents: Some(9),
            start_ms: Some(START_MS),
            end_ms: Some(START_MS + 24_000 * STEP_MS),
            ..DatasetRef::default()
        }],
        evaluation_data: vec![DatasetRef {
            name: "checkout-2014q1".into(),
            fingerprint: "aa11".repeat(16),
            split: Some("test: last 20%".into()),
            series: Some(1),
            rows: Some(6_000),
            incidents: Some(3),
            ..DatasetRef::default()
        }],
        metrics: vec![
            MetricGroup {
                name: "test, deployable threshold".into(),
                protocol: Some("threshold fitted on validation, applied unchanged; alerts after min run 2, cooldown 30 min".into()),
                metrics: Metrics::new().with("event_f1", 0.83).with("point_f1", 0.41).with("roc_auc", 0.91).with("median_delay_min", 12.0),
            },
            MetricGroup {
                name: "test, oracle threshold".into(),
                protocol: Some("best threshold on test (upper bound, not deployable)".into()),
                metrics: Metrics::new().with("event_f1", 0.88).with("point_f1", 0.47).with("roc_auc", 0.91).with("median_delay_min", 9.0),
            },
        ],
        metric_info: metric_info(),
        threshold: Some(ThresholdInfo { value: 4.2, policy: "best event F1".into(), fitted_on: Some("validation: 20% after train".into()) }),
        alert_policy: [("min_consecutive".to_string(), json!(2)), ("cooldown_ms".to_string(), json!(1_800_000)), ("merge_gap_ms".to_string(), json!(600_000))]
            .into_iter()
            .collect(),
        limitations: vec![
            "Trained on one quarter: holiday seasonality is unseen.".into(),
            "Slow drifts over days are absorbed by the level and not alerted.".into(),
        ],
        exports: vec![
            ExportStatus { format: "onnx".into(), state: ExportState::Unsupported, detail: Some("stateful recursion has no ONNX mapping".into()), ..ExportStatus::default() },
            ExportStatus { format: "json-spec".into(), state: ExportState::Verified, max_abs_diff: Some(0.0), sha256: Some("cd34".repeat(16)), ..ExportStatus::default() },
        ],
        artifacts: vec![Artifact { name: "fitted.json".into(), sha256: "ef56".repeat(16), size_bytes: Some(18_432), media_type: Some("application/json".into()) }],
        lineage: Lineage { git_commit: Some("f17d619".into()), vigil_version: Some("0.1.0".into()), seed: Some(7), ..Lineage::default() },
        examples: vec![SeriesPlot { dataset: "checkout-2014q1".into(), data, tracks: vec![example_track], metrics: Metrics::new() }],
    }
}

pub fn comparison() -> Comparison {
    let series: Vec<SeriesComparison> = (0..6)
        .map(|k| {
            let data = series_data(&format!("checkout/host-{k}"), 3_000, 50 + k);
            let mut baseline = track("champion v3", &data, 50 + k, false);
            let mut candidate = track("challenger v4", &data, 80 + k, false);
            baseline.threshold = Some(4.0);
            candidate.threshold = Some(3.5);
            for s in &mut candidate.scores {
                *s *= 0.9;
            }
            SeriesComparison {
                series: data.name.clone(),
                baseline_metrics: Metrics::new()
                    .with("event_f1", 0.7 + 0.02 * k as f64)
                    .with("false_alarms_per_day", 1.2),
                candidate_metrics: Metrics::new()
                    .with("event_f1", 0.74 + 0.01 * k as f64)
                    .with("false_alarms_per_day", 0.9 + 0.1 * k as f64),
                plot: (k < 2).then_some(ComparisonPlot {
                    data,
                    baseline,
                    candidate,
                }),
            }
        })
        .collect();
    Comparison {
        title: "checkout-latency: champion v3 vs challenger v4".into(),
        data: vec![DatasetRef {
            name: "checkout-2014q2".into(),
            fingerprint: "bb22".repeat(16),
            series: Some(6),
            rows: Some(18_000),
            incidents: Some(12),
            ..DatasetRef::default()
        }],
        protocol: Some(
            "same test slice; each version's own validation threshold; alert policy min run 2"
                .into(),
        ),
        baseline: VersionSummary {
            label: "champion v3".into(),
            model: Some("checkout-latency".into()),
            version: Some("3".into()),
            family: "holt_winters".into(),
            params: [("alpha".to_string(), json!(0.12))].into_iter().collect(),
            threshold: Some(4.0),
            metrics: Metrics::new()
                .with("event_f1", 0.75)
                .with("roc_auc", 0.9)
                .with("median_delay_min", 12.0)
                .with("false_alarms_per_day", 1.2),
        },
        candidate: VersionSummary {
            label: "challenger v4".into(),
            model: Some("checkout-latency".into()),
            version: Some("4".into()),
            family: "stl_esd".into(),
            params: [
                ("period".to_string(), json!(288)),
                ("max_anomalies".to_string(), json!(0.02)),
            ]
            .into_iter()
            .collect(),
            threshold: Some(3.5),
            metrics: Metrics::new()
                .with("event_f1", 0.79)
                .with("roc_auc", 0.88)
                .with("median_delay_min", 15.0)
                .with("false_alarms_per_day", 1.0),
        },
        metric_info: metric_info(),
        series,
        lineage: Lineage {
            git_commit: Some("f17d619".into()),
            vigil_version: Some("0.1.0".into()),
            seed: Some(7),
            ..Lineage::default()
        },
        notes: vec!["Gate: candidate improves event F1 by 0.04 (required 0.02): pass.".into()],
    }
}
