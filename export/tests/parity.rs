//! Parity of exported models: ONNX Runtime (through `ort`, and Python's onnxruntime via
//! `check_onnx.py`) scores the same windows as vigil, within each family's float32 tolerance,
//! with identical `is_anomaly` decisions.

#![allow(clippy::unwrap_used)]

mod common;

use vigil_export::{ExportOptions, export};
use vigil_train::FittedModel;
use vigil_train::detectors::isolation_forest::IsolationForestParams;
use vigil_train::features::{FeatureParams, Scaling};

struct Parity {
    max_delta: f64,
    mismatches: usize,
    rows: usize,
    anomalies: usize,
}

/// Exports `model`, scores every window of `test` in ONNX Runtime and in vigil, and compares.
fn parity(model: &FittedModel, test: &vigil_datasets::Series, q: f64) -> Option<Parity> {
    let vigil = model.score(test).unwrap().values;
    let threshold = common::threshold_between(&vigil, q);
    let options = ExportOptions {
        threshold,
        dataset_fingerprint: Some("sha256:test".to_string()),
    };
    let onnx = export(model, &options).unwrap();
    let env = common::runtime()?;
    let (x, shape, ends) = common::windows(test, onnx.input_window);
    let (score, flag) = common::score_ort(env, &onnx.bytes, &x, shape);
    let expected: Vec<f64> = ends.iter().map(|&t| vigil[t]).collect();
    let expected_flag: Vec<bool> = expected.iter().map(|&s| s >= threshold).collect();
    let max_delta = score
        .iter()
        .zip(&expected)
        .map(|(a, b)| (f64::from(*a) - b).abs())
        .fold(0.0, f64::max);
    // Worst ratio of |Δ| to the family's allowed error at that score.
    let worst = score
        .iter()
        .zip(&expected)
        .map(|(a, b)| {
            (f64::from(*a) - b).abs() / (onnx.score_tolerance + onnx.relative_tolerance * b.abs())
        })
        .fold(0.0, f64::max);
    let mismatches = flag
        .iter()
        .zip(&expected_flag)
        .filter(|(a, b)| a != b)
        .count();
    let peak = expected.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    eprintln!(
        "{}: ort max |Δscore| {max_delta:.3e}, worst Δ/tolerance {worst:.3}, largest |score| {peak:.4e}",
        onnx.family
    );
    let dir = tempfile::tempdir().unwrap();
    let py = common::check_python(
        dir.path(),
        &onnx.bytes,
        &x,
        shape,
        &expected,
        &expected_flag,
        onnx.score_tolerance,
        onnx.relative_tolerance,
    )?;
    eprintln!(
        "{}: {} rows, max |Δscore| ort {max_delta:.3e}, python {}, decision mismatches {mismatches}, worst Δ/tolerance {worst:.3}, {} nodes, {} bytes",
        onnx.family,
        expected.len(),
        py["max_abs_delta"],
        onnx.nodes,
        onnx.bytes.len()
    );
    assert!(
        worst <= 1.0,
        "max |Δscore| {max_delta}: above the tolerance {} + {} × |score|",
        onnx.score_tolerance,
        onnx.relative_tolerance
    );
    assert_eq!(mismatches, 0);
    Some(Parity {
        max_delta,
        mismatches,
        rows: expected.len(),
        anomalies: expected_flag.iter().filter(|f| **f).count(),
    })
}

fn iforest(features: FeatureParams) -> FittedModel {
    let train = common::series(1500, 2, 1);
    let params = IsolationForestParams::default()
        .with_features(features)
        .with_n_estimators(100)
        .with_seed(7);
    FittedModel::IsolationForest(params.check().unwrap().fit(&train).unwrap())
}

#[test]
fn isolation_forest_window_standard_matches_onnx_runtime() {
    let model = iforest(FeatureParams::default().with_window(3).with_lags(vec![5]));
    let test = common::series(1200, 2, 2);
    if let Some(p) = parity(&model, &test, 0.97) {
        assert!(p.anomalies > 10 && p.rows > 1000 && p.mismatches == 0);
        // Exact branches: only the float32 sum of path lengths differs.
        assert!(p.max_delta < 1e-6, "{}", p.max_delta);
    }
}

#[test]
fn isolation_forest_raw_row_robust_matches_onnx_runtime() {
    let model = iforest(FeatureParams::default().with_scaling(Scaling::Robust));
    let test = common::series(1000, 2, 3);
    parity(&model, &test, 0.95);
}

#[test]
fn isolation_forest_diff_rolling_matches_onnx_runtime() {
    let model = iforest(
        FeatureParams::default()
            .with_window(2)
            .with_diff(true)
            .with_rolling(vec![6]),
    );
    let test = common::series(1000, 2, 4);
    parity(&model, &test, 0.95);
}

#[test]
fn time_features_are_refused_with_the_reason() {
    let model = iforest(FeatureParams::default().with_time_of_day(true));
    let err = export(
        &model,
        &ExportOptions {
            threshold: 0.6,
            dataset_fingerprint: None,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("timestamps"), "{err}");
}

#[test]
fn knn_methods_match_onnx_runtime() {
    use vigil_train::detectors::knn::{KnnMethod, KnnParams};
    let train = common::series(600, 2, 5);
    let test = common::series(500, 2, 6);
    for (k, method) in [
        (5, KnnMethod::Largest),
        (4, KnnMethod::Mean),
        (5, KnnMethod::Median),
        (4, KnnMethod::Median),
    ] {
        let params = KnnParams::default()
            .with_features(FeatureParams::default().with_window(2).with_diff(true))
            .with_n_neighbors(k)
            .with_method(method);
        let model = FittedModel::Knn(params.check().unwrap().fit(&train).unwrap());
        if let Some(p) = parity(&model, &test, 0.95) {
            assert!(p.max_delta < 1e-6 && p.anomalies > 5, "{method:?}");
        }
    }
}

#[test]
fn pca_matches_onnx_runtime() {
    use vigil_train::detectors::pca::PcaParams;
    let train = common::series(800, 3, 7);
    let test = common::series(600, 3, 8);
    let params = PcaParams::default().with_features(
        FeatureParams::default()
            .with_window(4)
            .with_rolling(vec![5]),
    );
    let model = FittedModel::Pca(params.check().unwrap().fit(&train).unwrap());
    if let Some(p) = parity(&model, &test, 0.95) {
        assert!(p.anomalies > 5);
    }
}
