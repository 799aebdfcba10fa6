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

/// A conformally calibrated family: the graph carries the training scores and scores the
/// share of them strictly below the family's score, as vigil's calibration does; the
/// threshold is on that share.
#[test]
fn a_conformally_calibrated_knn_is_one_graph_with_its_training_scores() {
    use vigil_export::{Member, Rule, Scale, export_ensemble};
    use vigil_train::detectors::knn::KnnParams;
    let train = common::series(600, 2, 5);
    let test = common::series(500, 2, 6);
    let params = KnnParams::default().with_features(FeatureParams::default().with_window(2));
    let model = FittedModel::Knn(params.check().unwrap().fit(&train).unwrap());
    let mut sorted = model.score(&train).unwrap().values;
    sorted.sort_by(f64::total_cmp);
    let share = |s: f64| sorted.partition_point(|v| *v < s) as f64 / sorted.len() as f64;
    let vigil: Vec<f64> = model
        .score(&test)
        .unwrap()
        .values
        .iter()
        .map(|&s| share(s))
        .collect();
    let threshold = common::threshold_between(&vigil, 0.95);
    let member = Member {
        model: &model,
        scales: vec![Scale::Rank {
            sorted: sorted.clone(),
            strict: true,
        }],
        weight: 1.0,
        vote: 0.0,
    };
    let options = ExportOptions {
        threshold,
        dataset_fingerprint: None,
    };
    let onnx = export_ensemble(&[member], Rule::Mean, &options).unwrap();
    assert_eq!(onnx.family, "knn+calibration");
    let Some(env) = common::runtime() else { return };
    let (x, shape, ends) = common::windows(&test, onnx.input_window);
    let (score, flag) = common::score_ort(env, &onnx.bytes, &x, shape);
    let expected: Vec<f64> = ends.iter().map(|&t| vigil[t]).collect();
    let expected_flag: Vec<bool> = expected.iter().map(|&s| s >= threshold).collect();
    let worst = score
        .iter()
        .zip(&expected)
        .map(|(a, b)| {
            (f64::from(*a) - b).abs() / (onnx.score_tolerance + onnx.relative_tolerance * b.abs())
        })
        .fold(0.0, f64::max);
    assert!(worst <= 1.0, "worst Δ/tolerance {worst}");
    assert_eq!(flag, expected_flag);
    assert!(expected_flag.iter().filter(|f| **f).count() > 5);
    let dir = tempfile::tempdir().unwrap();
    common::check_python(
        dir.path(),
        &onnx.bytes,
        &x,
        shape,
        &expected,
        &expected_flag,
        onnx.score_tolerance,
        onnx.relative_tolerance,
    );
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

#[test]
fn rolling_zscore_matches_onnx_runtime() {
    use vigil_train::detectors::zscore::RollingZScoreParams;
    use vigil_train::scores::Combine;
    let train = common::series(400, 2, 9);
    let test = common::series(900, 2, 10);
    for combine in [Combine::Max, Combine::Mean] {
        let params = RollingZScoreParams {
            window: 30,
            combine,
            ..RollingZScoreParams::default()
        };
        let model = FittedModel::RollingZscore(params.check().unwrap().fit(&train).unwrap());
        if let Some(p) = parity(&model, &test, 0.97) {
            assert!(p.anomalies > 5, "{combine:?}");
        }
    }
}

#[test]
fn rolling_zscore_median_mad_matches_onnx_runtime() {
    use vigil_train::detectors::zscore::{Center, RollingZScoreParams};
    use vigil_train::scores::Combine;
    let train = common::series(400, 2, 11);
    let test = common::series(900, 2, 12);
    for (window, combine) in [(30, Combine::Max), (25, Combine::Mean)] {
        let params = RollingZScoreParams::default()
            .with_window(window)
            .with_center(Center::MedianMad);
        let params = RollingZScoreParams { combine, ..params };
        let model = FittedModel::RollingZscore(params.check().unwrap().fit(&train).unwrap());
        if let Some(p) = parity(&model, &test, 0.97) {
            // The same float64 operations as vigil: only the float32 output differs.
            assert!(p.anomalies > 5 && p.max_delta < 1e-5, "{combine:?}");
        }
    }
}

#[test]
fn rolling_percentile_matches_onnx_runtime() {
    use vigil_train::detectors::percentile::{RollingPercentileParams, Side};
    use vigil_train::scores::Combine;
    let train = common::series(400, 2, 13);
    let test = common::series(900, 2, 14);
    for (window, side, combine, lo, hi) in [
        (40, Side::Upper, Combine::Max, 0.05, 0.95),
        (31, Side::Lower, Combine::Mean, 0.1, 0.9),
        (24, Side::Both, Combine::Max, 0.25, 0.75),
    ] {
        let params = RollingPercentileParams::default()
            .with_window(window)
            .with_quantiles(lo, hi)
            .with_side(side)
            .with_combine(combine);
        let model = FittedModel::RollingPercentile(params.check().unwrap().fit(&train).unwrap());
        if let Some(p) = parity(&model, &test, 0.97) {
            assert!(p.anomalies > 5, "{side:?}");
        }
    }
}

#[test]
fn lof_matches_onnx_runtime() {
    use vigil_train::detectors::lof::LofParams;
    let train = common::series(600, 2, 15);
    let test = common::series(500, 2, 16);
    for (k, features) in [
        (10, FeatureParams::default().with_window(2)),
        (
            20,
            FeatureParams::default()
                .with_diff(true)
                .with_rolling(vec![4]),
        ),
    ] {
        let params = LofParams::default()
            .with_features(features)
            .with_n_neighbors(k);
        let model = FittedModel::Lof(params.check().unwrap().fit(&train).unwrap());
        if let Some(p) = parity(&model, &test, 0.95) {
            assert!(p.anomalies > 5, "k = {k}");
        }
    }
}

#[test]
fn ocsvm_matches_onnx_runtime() {
    use vigil_train::detectors::ocsvm::{Gamma, OcsvmParams};
    let train = common::series(500, 2, 17);
    let test = common::series(500, 2, 18);
    for (nu, gamma) in [(0.1, Gamma::Scale), (0.05, Gamma::Value(0.5))] {
        let params = OcsvmParams::default()
            .with_features(FeatureParams::default().with_window(2))
            .with_nu(nu)
            .with_gamma(gamma);
        let model = FittedModel::Ocsvm(params.check().unwrap().fit(&train).unwrap());
        if let Some(p) = parity(&model, &test, 0.95) {
            assert!(p.anomalies > 5, "nu = {nu}");
        }
    }
}

/// Parity of a stateful graph (EWMA, Holt-Winters): one row per call, `state_out` fed back as
/// `state` from the exported initial state, through the whole test series (ONNX Runtime in Rust
/// and in Python); vigil scores the series in one pass. Returns the max |Δscore| and the
/// number of alerts.
#[allow(clippy::needless_range_loop)]
fn stateful_parity(
    model: &FittedModel,
    test: &vigil_datasets::Series,
    q: f64,
) -> Option<(f64, usize)> {
    use ort::session::Session;
    use ort::value::TensorRef;
    let vigil = model.score(test).unwrap().values;
    let threshold = common::threshold_between(&vigil, q);
    let onnx = export(
        model,
        &ExportOptions {
            threshold,
            dataset_fingerprint: None,
        },
    )
    .unwrap();
    let state_spec = onnx.state.clone().expect("a stateful graph");
    let env = common::runtime()?;
    let mut session = Session::builder(env)
        .unwrap()
        .commit_from_memory(&onnx.bytes)
        .unwrap();
    let (n, c) = test.values.dim();
    let shape = [1usize, state_spec.shape[0], state_spec.shape[1]];
    let mut state = state_spec.initial.clone();
    let mut max_delta = 0.0_f64;
    let mut alerts = 0;
    for t in 0..n {
        let x: Vec<f32> = (0..c).map(|k| test.values[[t, k]] as f32).collect();
        let outputs = session
            .run(ort::inputs![
                "x" => TensorRef::from_array_view(([1usize, 1, c], x.as_slice())).unwrap(),
                "state" => TensorRef::from_array_view((shape, state.as_slice())).unwrap()
            ])
            .unwrap();
        let (_, score) = outputs["score"].try_extract_tensor::<f32>().unwrap();
        let (_, flag) = outputs["is_anomaly"].try_extract_tensor::<bool>().unwrap();
        let (_, next) = outputs["state_out"].try_extract_tensor::<f64>().unwrap();
        let delta = (f64::from(score[0]) - vigil[t]).abs();
        assert!(
            delta <= onnx.score_tolerance + onnx.relative_tolerance * vigil[t].abs(),
            "{} row {t}: onnx {} vigil {}",
            onnx.family,
            score[0],
            vigil[t]
        );
        assert_eq!(flag[0], vigil[t] >= threshold, "{} row {t}", onnx.family);
        max_delta = max_delta.max(delta);
        alerts += usize::from(flag[0]);
        state = next.to_vec();
    }
    let expected_flag: Vec<bool> = vigil.iter().map(|&s| s >= threshold).collect();
    let x: Vec<f32> = test.values.iter().map(|v| *v as f32).collect();
    let dir = tempfile::tempdir().unwrap();
    let py = common::check_python_stateful(
        dir.path(),
        &onnx.bytes,
        &x,
        [n, 1, c],
        &state_spec.initial,
        &vigil,
        &expected_flag,
        onnx.score_tolerance,
        onnx.relative_tolerance,
    )?;
    eprintln!(
        "{}: {n} rows one at a time, max |Δscore| ort {max_delta:.3e}, python {}, {} nodes, {} bytes",
        onnx.family,
        py["max_abs_delta"],
        onnx.nodes,
        onnx.bytes.len()
    );
    Some((max_delta, alerts))
}

#[test]
fn ewma_state_graph_matches_vigil_row_by_row() {
    use vigil_train::detectors::ewma::EwmaParams;
    use vigil_train::scores::Combine;
    let train = common::series(300, 2, 19);
    let test = common::series(700, 2, 20);
    for (alpha, adjust, combine) in [(0.05, false, Combine::Max), (0.2, true, Combine::Mean)] {
        let params = EwmaParams::default()
            .with_alpha(alpha)
            .with_adjust(adjust)
            .with_combine(combine);
        let model = FittedModel::Ewma(params.check().unwrap().fit(&train).unwrap());
        if let Some((delta, alerts)) = stateful_parity(&model, &test, 0.97) {
            // The same float64 operations as vigil: only the float32 output differs.
            assert!(delta < 1e-5 && alerts > 5, "alpha {alpha}");
        }
    }
}

#[test]
fn holt_winters_state_graph_matches_vigil_row_by_row() {
    use vigil_train::detectors::holt_winters::{Component, HoltWintersParams};
    use vigil_train::scores::Combine;
    // A daily-ish wave of period 126 (sin(0.05 t)): seasonal structures have two seasons.
    let train = common::series(700, 2, 23);
    let test = common::series(900, 2, 24);
    for (trend, damped, seasonal, combine) in [
        (Component::Add, true, Component::Add, Combine::Max),
        (Component::None, false, Component::Mul, Combine::Mean),
        (Component::Mul, false, Component::None, Combine::Max),
    ] {
        let params = HoltWintersParams::default()
            .with_trend(trend, damped)
            .with_seasonal(seasonal, (seasonal != Component::None).then_some(126))
            .with_scale_alpha(0.05)
            .with_combine(combine);
        let model = FittedModel::HoltWinters(params.check().unwrap().fit(&train).unwrap());
        // vigil scores from the first training row on: the test replays train + test.
        let both = common::concat(&train, &test);
        if let Some((_, alerts)) = stateful_parity(&model, &both, 0.97) {
            assert!(alerts > 5, "{trend:?} {seasonal:?}");
        }
    }
}

#[test]
fn cusum_state_graph_matches_vigil_row_by_row() {
    use vigil_train::detectors::cusum::{CusumParams, Target};
    use vigil_train::scores::Combine;
    // Level shifts (and a trend) in the test part, so that both charts cross and restart.
    let train = common::series(400, 2, 25);
    let mut test = common::series(1200, 2, 26);
    for t in 300..1200 {
        test.values[[t, 0]] += if t < 700 { 3.0 } else { -2.0 };
        test.values[[t, 1]] = f64::from((test.values[[t, 1]] + 0.004 * (t - 300) as f64) as f32);
        test.values[[t, 0]] = f64::from(test.values[[t, 0]] as f32);
    }
    for (target, alpha, combine) in [
        (Target::Both, 0.0, Combine::Max),
        (Target::Level, 0.02, Combine::Mean),
        (Target::Trend, 0.0, Combine::Max),
    ] {
        let params = CusumParams::default()
            .with_limits(0.5, 4.0)
            .with_target(target)
            .with_restart_window(20)
            .with_baseline_alpha(alpha);
        let params = CusumParams { combine, ..params };
        let model = FittedModel::Cusum(params.check().unwrap().fit(&train).unwrap());
        let changes = match &model {
            FittedModel::Cusum(m) => m.change_points(&test).unwrap(),
            _ => unreachable!(),
        };
        assert!(
            changes.iter().map(Vec::len).sum::<usize>() >= 2,
            "{target:?}: the charts restart in the test"
        );
        if let Some((delta, alerts)) = stateful_parity(&model, &test, 0.97) {
            // The same float64 operations as vigil: only the float32 output differs.
            assert!(delta < 1e-4 && alerts > 5, "{target:?}: {delta} {alerts}");
        }
    }
}

#[test]
fn ecod_matches_onnx_runtime() {
    use vigil_train::detectors::ecod::EcodParams;
    let train = common::series(600, 2, 21);
    let test = common::series(500, 2, 22);
    let params = EcodParams {
        features: FeatureParams::default()
            .with_window(2)
            .with_lags(vec![3])
            .with_scaling(Scaling::None),
    };
    let model = FittedModel::Ecod(params.check().unwrap().fit(&train).unwrap());
    if let Some(p) = parity(&model, &test, 0.95) {
        assert!(p.anomalies > 5);
    }
}

#[test]
fn lstm_autoencoder_matches_onnx_runtime() {
    use vigil_train::detectors::lstm_ae::{ErrorOver, LstmAutoencoderParams};
    use vigil_train::scores::Combine;
    let train = common::series(500, 2, 25);
    let test = common::series(400, 2, 26);
    for (layers, score_on, combine) in [
        (1, ErrorOver::LastStep, Combine::Mean),
        (2, ErrorOver::Window, Combine::Max),
    ] {
        let params = LstmAutoencoderParams {
            window: 12,
            hidden: 8,
            layers,
            latent: 4,
            epochs: 3,
            batch_size: 32,
            seed: 3,
            score_on,
            combine,
            progress: false,
            ..LstmAutoencoderParams::default()
        };
        let model = FittedModel::LstmAutoencoder(params.check().unwrap().fit(&train).unwrap());
        if let Some(p) = parity(&model, &test, 0.95) {
            assert!(p.anomalies > 5, "{layers} layers");
        }
    }
}

/// The form each family declares (`vigil families`, [`vigil_export::exportability`]) is the
/// form the exporter produces: every family with a form exports its default fit, every other
/// family is refused with its stated reason.
#[test]
fn every_family_exports_exactly_as_its_declared_form_says() {
    use vigil_export::{ExportForm, exportability, unsupported_reason};
    use vigil_train::detectors::lstm_ae::LstmAutoencoderParams;
    use vigil_train::detectors::pca::PcaParams;
    use vigil_train::{DetectorKind, DetectorSpec};
    let train = common::series(1500, 1, 41);
    let options = ExportOptions {
        threshold: 1.0,
        dataset_fingerprint: None,
    };
    for &kind in DetectorKind::ALL {
        let spec = match kind {
            DetectorKind::LstmAutoencoder => DetectorSpec::LstmAutoencoder(
                LstmAutoencoderParams::default()
                    .with_window(8)
                    .with_hidden(4)
                    .with_latent(2)
                    .with_epochs(1)
                    .with_progress(false),
            ),
            // Its default fills short gaps from earlier rows, a setting the note refuses;
            // the declared form is for the gap-free setting.
            DetectorKind::SubsequencePca => DetectorSpec::SubsequencePca(PcaParams {
                max_fill: 0,
                ..PcaParams::subsequence()
            }),
            other => other.default_spec(),
        };
        let model = spec
            .fit(&train)
            .unwrap_or_else(|e| panic!("{kind}: the default spec fits a clean series: {e}"));
        let declared = exportability(kind);
        match export(&model, &options) {
            Ok(graph) => {
                assert_ne!(declared.form, ExportForm::None, "{kind} exported");
                assert_eq!(
                    graph.state.is_some(),
                    declared.form == ExportForm::Streaming,
                    "{kind}: stateful graph iff declared streaming"
                );
                assert_eq!(unsupported_reason(&model), "exportable", "{kind}");
            }
            Err(e) => {
                assert_eq!(declared.form, ExportForm::None, "{kind} refused: {e}");
                assert!(e.to_string().contains(declared.note), "{kind}: {e}");
            }
        }
    }
}
