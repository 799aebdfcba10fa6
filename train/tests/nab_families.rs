//! Every family on the NAB corpus under NAB's protocol: fit on each file's probationary
//! period (the first min(⌊0.15·n⌋, 750) rows), score the whole file, and choose one corpus
//! threshold per profile by vigil-eval's exact search (NAB's own optimisation, without its
//! hill-climb's misses). Prints the normalised standard / low-FP / low-FN scores per family
//! (`cargo test --workspace --test main -- nab_families --nocapture`); the figures are
//! recorded in train/README.md. Default parameters throughout; a file whose probationary
//! period is too short for a family's defaults (a typed `NotEnoughData`) gets no detections
//! (all-zero scores, as a service without a model stays silent) and is counted.
//!
//! For orientation, NAB publishes 39.6 (standard) for its windowed Gaussian, 47.1 for
//! Twitter's S-H-ESD and 69.5 for HTM on these 31 files; the null detector scores 0.

use std::time::Instant;

use vigil_datasets::{Dataset, Series, load_nab, probationary_rows};
use vigil_eval::Window;
use vigil_eval::nab::{NabProfile, NabSeries, search_thresholds};
use vigil_train::detectors::cad_ose::CadOseParams;
use vigil_train::{DetectorKind, DetectorSpec, TrainError};

use crate::common::shared_datasets;

/// Normalised (standard, low-FP, low-FN) corpus scores of `spec` and the number of files left
/// silent for want of training data, or the first other fit/score error with its file.
pub fn nab_scores(spec: &DetectorSpec, dataset: &Dataset) -> Result<([f64; 3], usize), String> {
    nab_scores_per_file(|_| spec.clone(), dataset)
}

/// [`nab_scores`] with a spec chosen per file (e.g. from the file itself, as NAB does for
/// detectors it hands the file's min and max).
pub fn nab_scores_per_file(
    spec_for: impl Fn(&Series) -> DetectorSpec,
    dataset: &Dataset,
) -> Result<([f64; 3], usize), String> {
    let mut all_scores = Vec::with_capacity(dataset.series.len());
    let mut all_windows = Vec::with_capacity(dataset.series.len());
    let mut silent = 0;
    for series in &dataset.series {
        let train = series.slice_rows(0, probationary_rows(series.len()));
        let values = match spec_for(series).fit(&train) {
            Ok(model) => {
                model
                    .score(series)
                    .map_err(|e| format!("scoring {}: {e}", series.name))?
                    .values
            }
            Err(TrainError::NotEnoughData { .. }) => {
                silent += 1;
                vec![0.0; series.len()]
            }
            Err(e) => return Err(format!("fitting on {}: {e}", series.name)),
        };
        all_scores.push(values);
        all_windows.push(
            series
                .incident_row_ranges()
                .into_iter()
                .map(|(first, last)| Window::new(first, last))
                .collect::<Vec<_>>(),
        );
    }
    let corpus = all_scores
        .iter()
        .zip(&all_windows)
        .map(|(scores, windows)| NabSeries::new(scores, windows))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("NAB corpus: {e}"))?;
    let results = search_thresholds(&corpus, &NabProfile::ALL);
    let mut out = [0.0; 3];
    for (slot, result) in out.iter_mut().zip(&results) {
        *slot = result.normalised.ok_or("the corpus has no windows")?;
    }
    Ok((out, silent))
}

#[test]
fn every_family_scores_on_nab_under_its_protocol() {
    let dataset = load_nab(&shared_datasets().join("nab")).expect("NAB loads");
    assert_eq!(dataset.series.len(), 31);
    println!("| family | causal | standard | low FP | low FN | silent files | seconds |");
    println!("|---|---|---|---|---|---|---|");
    let mut table = Vec::new();
    for &kind in DetectorKind::ALL {
        let started = Instant::now();
        let (scores, silent) =
            nab_scores(&kind.default_spec(), &dataset).unwrap_or_else(|e| panic!("{kind}: {e}"));
        println!(
            "| {kind} | {} | {:.1} | {:.1} | {:.1} | {silent} | {:.1} |",
            if kind.causal() { "yes" } else { "no (batch)" },
            scores[0],
            scores[1],
            scores[2],
            started.elapsed().as_secs_f64()
        );
        table.push((kind, scores));
    }
    for (kind, scores) in table {
        // The exact search may always choose "detect nothing" (score 0), so a score below 0
        // or above the perfect detector's 100 means a broken pipeline.
        for (profile, score) in NabProfile::ALL.iter().zip(scores) {
            assert!(
                (0.0..=100.0).contains(&score),
                "{kind} {profile}: normalised NAB score {score} is outside [0, 100]"
            );
        }
        // Regression guards at NAB's windowed Gaussian (39.6) minus a margin, for the two
        // families that clear it (measured 47.4 and 42.8 standard).
        if matches!(
            kind,
            DetectorKind::HoltWinters | DetectorKind::AnomalyLikelihood
        ) {
            assert!(
                scores[0] >= 38.0,
                "{kind}: standard NAB score {} fell below 38",
                scores[0]
            );
        }
    }
}

/// Parameter assignments of one grid point.
type GridPoint = Vec<(&'static str, serde_json::Value)>;

/// A small grid per cheap family (the ARIMA and sliding S-H-ESD fits cost tens of seconds per
/// corpus, so they keep their defaults). The best point is chosen on the corpus it is scored
/// on, so these figures are optimistic: an upper bound on what tuning buys, not a deployable
/// score.
#[test]
fn a_small_grid_per_cheap_family_on_nab() {
    use serde_json::json;
    let dataset = load_nab(&shared_datasets().join("nab")).expect("NAB loads");
    let grids: Vec<(DetectorKind, Vec<GridPoint>)> = vec![
        (
            DetectorKind::RollingZscore,
            [50, 100, 400, 1000]
                .into_iter()
                .flat_map(|w| {
                    ["mean_std", "median_mad"]
                        .map(|c| vec![("window", json!(w)), ("center", json!(c))])
                })
                .collect(),
        ),
        (
            DetectorKind::Ewma,
            [0.01, 0.05, 0.2]
                .map(|a| vec![("alpha", json!(a))])
                .to_vec(),
        ),
        (
            DetectorKind::RollingPercentile,
            [100, 288, 1000]
                .into_iter()
                .flat_map(|w| {
                    ["upper", "both"].map(|s| vec![("window", json!(w)), ("side", json!(s))])
                })
                .collect(),
        ),
        (
            DetectorKind::HoltWinters,
            [
                ("add", "add"),
                ("none", "add"),
                ("add", "none"),
                ("none", "none"),
            ]
            .into_iter()
            .flat_map(|(t, s)| {
                [0.01, 0.1].map(|a| {
                    vec![
                        ("trend", json!(t)),
                        ("seasonal", json!(s)),
                        ("scale_alpha", json!(a)),
                    ]
                })
            })
            .collect(),
        ),
        (
            DetectorKind::Cusum,
            [0.25, 0.5, 1.0]
                .into_iter()
                .flat_map(|k| {
                    ["level", "both"].map(|t| vec![("k", json!(k)), ("target", json!(t))])
                })
                .collect(),
        ),
        (
            DetectorKind::AnomalyLikelihood,
            ["rolling_zscore", "ewma", "holt_winters"]
                .into_iter()
                .flat_map(|d| {
                    [1, 10].map(|w| {
                        vec![
                            ("detector", json!({ "kind": d })),
                            ("likelihood.averaging_window", json!(w)),
                        ]
                    })
                })
                .collect(),
        ),
    ];
    println!("| family | grid points | best standard | its low FP | its low FN | best point |");
    println!("|---|---|---|---|---|---|");
    for (kind, grid) in grids {
        let mut best: Option<([f64; 3], String)> = None;
        for point in &grid {
            let values: Vec<(String, serde_json::Value)> = point
                .iter()
                .map(|(name, value)| (name.to_string(), value.clone()))
                .collect();
            let spec = kind
                .default_spec()
                .with_values(&values)
                .unwrap_or_else(|e| panic!("{kind} {values:?}: {e}"));
            let (scores, _) = nab_scores(&spec, &dataset).unwrap_or_else(|e| panic!("{kind}: {e}"));
            let label = values
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join(", ");
            if best.as_ref().is_none_or(|(b, _)| scores[0] > b[0]) {
                best = Some((scores, label));
            }
        }
        let (scores, label) = best.expect("a non-empty grid");
        println!(
            "| {kind} | {} | {:.1} | {:.1} | {:.1} | {label} |",
            grid.len(),
            scores[0],
            scores[1],
            scores[2]
        );
        for score in scores {
            assert!(
                (0.0..=100.0).contains(&score),
                "{kind}: {score} outside [0, 100]"
            );
        }
    }
}

/// CAD OSE two ways: as NAB runs it (each file's whole-file min and max as the range: it sees
/// the future, so not deployable) and with the range fitted on the probationary rows (the
/// family's default). NAB's scoreboard lists contextOSE at 69.9 standard on its full corpus.
#[test]
fn cad_ose_with_nab_s_whole_file_range_and_with_a_trained_range() {
    let dataset = load_nab(&shared_datasets().join("nab")).expect("NAB loads");
    let whole_file = |series: &Series| {
        let column = series.values.column(0);
        let min = column.iter().copied().fold(f64::INFINITY, f64::min);
        let max = column.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        DetectorSpec::CadOse(CadOseParams::default().with_range(min, max))
    };
    let (nab_setting, silent) = nab_scores_per_file(whole_file, &dataset).expect("scores");
    assert_eq!(silent, 0);
    let (trained, silent) =
        nab_scores(&DetectorKind::CadOse.default_spec(), &dataset).expect("scores");
    assert_eq!(silent, 0);
    // HTM's post-processing over CAD's raw scores (no silencing: base_threshold above 1).
    let likelihood: DetectorSpec = serde_json::from_value(serde_json::json!({
        "kind": "anomaly_likelihood",
        "detector": { "kind": "cad_ose", "base_threshold": 1.01 },
    }))
    .expect("a likelihood spec");
    let (over_cad, silent) = nab_scores(&likelihood, &dataset).expect("scores");
    assert_eq!(silent, 0);
    println!("| CAD OSE | standard | low FP | low FN |");
    println!("|---|---|---|---|");
    for (what, scores) in [
        ("range of the whole file (NAB's setting)", nab_setting),
        ("range of the probationary rows + 10 % (default)", trained),
        ("anomaly likelihood over the default's raw scores", over_cad),
    ] {
        println!(
            "| {what} | {:.1} | {:.1} | {:.1} |",
            scores[0], scores[1], scores[2]
        );
    }
    for scores in [nab_setting, trained, over_cad] {
        assert!(scores.iter().all(|s| (0.0..=100.0).contains(s)));
    }
    // Regression guards a point or two under the measured 66.1 and 45.3 standard.
    assert!(
        nab_setting[0] >= 65.0,
        "CAD OSE with NAB's range: {}",
        nab_setting[0]
    );
    assert!(trained[0] >= 43.0, "CAD OSE, trained range: {}", trained[0]);
}

/// NAB's `numenta` post-processing around a Holt-Winters forecaster: the anomaly likelihood of
/// its one-step errors, with and without NAB's spatial check (tolerance 0.05, NAB's own value).
/// Measured: 65.8 / 58.5 / 70.3 with the check, 49.1 without (HTM: 69.5 / 62.9 / 74.0).
#[test]
fn holt_winters_likelihood_with_nab_s_spatial_check() {
    let dataset = load_nab(&shared_datasets().join("nab")).expect("NAB loads");
    let spec = |tolerance: Option<f64>| -> DetectorSpec {
        serde_json::from_value(serde_json::json!({
            "kind": "anomaly_likelihood",
            "detector": { "kind": "holt_winters" },
            "likelihood": { "spatial_tolerance": tolerance },
        }))
        .expect("a likelihood spec")
    };
    let (with, silent) = nab_scores(&spec(Some(0.05)), &dataset).expect("scores");
    assert_eq!(silent, 0);
    let (without, _) = nab_scores(&spec(None), &dataset).expect("scores");
    println!(
        "| Holt-Winters likelihood | {:.1} / {:.1} / {:.1} with the spatial check, {:.1} / {:.1} / {:.1} without |",
        with[0], with[1], with[2], without[0], without[1], without[2]
    );
    // Regression guards a point under the measured figures.
    assert!(with[0] >= 64.8, "with the spatial check: {with:?}");
    assert!(with[2] >= 69.3, "with the spatial check, low FN: {with:?}");
    assert!(
        with[0] > without[0] + 10.0,
        "the spatial check is worth more than 10 points here: {with:?} vs {without:?}"
    );
}

/// The pipeline `experiments/specs/nab.toml` chooses: Holt-Winters and the rolling z-score,
/// each with its own likelihood (nupic's settings), the higher of the two per row, and NAB's
/// spatial check. Measured 70.3 / 60.5 / 75.8, above HTM's 69.5 standard and 74.0 low-FN on
/// these files (HTM's low-FP is 62.9).
#[test]
fn holt_winters_and_z_score_likelihoods_beat_htm_s_standard_score() {
    let dataset = load_nab(&shared_datasets().join("nab")).expect("NAB loads");
    let spec: DetectorSpec = serde_json::from_value(serde_json::json!({
        "kind": "anomaly_likelihood",
        "detector": { "kind": "holt_winters" },
        "others": [{ "kind": "rolling_zscore" }],
        "likelihood": { "spatial_tolerance": 0.05 },
    }))
    .expect("a likelihood spec");
    let (scores, silent) = nab_scores(&spec, &dataset).expect("scores");
    assert_eq!(silent, 0);
    println!(
        "| Holt-Winters + z-score likelihoods, spatial check | {:.1} | {:.1} | {:.1} |",
        scores[0], scores[1], scores[2]
    );
    assert!(
        scores[0] > 70.0,
        "HTM scores 69.5 standard here: {scores:?}"
    );
    assert!(scores[2] > 75.0, "HTM scores 74.0 low-FN here: {scores:?}");
}
