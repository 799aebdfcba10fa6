//! The contract, checked once for every family in the catalog: prefix rule for causal
//! families, finite scores or a typed error on constant / short / NaN-gapped / huge / tiny
//! input, determinism, serde round trips, Send + Sync, channel handling, the search space.

use vigil_train::detectors::lstm_ae::LstmAutoencoderParams;
use vigil_train::{Combine, DetectorKind, DetectorSpec, FittedModel, Scores, TrainError};

use crate::common::{multi, series, synthetic};

const N: usize = 1500;
const TRAIN: usize = 600;
/// A NaN gap longer than every default window.
const GAP: std::ops::Range<usize> = 650..950;
/// Rows shifted up by 30 (three times the synthetic cycle's amplitude) after the gap, for the
/// event detectors ([`DetectorKind::sparse`]).
const SHIFT: std::ops::Range<usize> = 1200..1300;

/// The family's default spec, shrunk where training is costly so debug-mode tests stay fast.
fn spec(kind: DetectorKind) -> DetectorSpec {
    match kind {
        DetectorKind::LstmAutoencoder => DetectorSpec::LstmAutoencoder(
            LstmAutoencoderParams::default()
                .with_window(8)
                .with_hidden(4)
                .with_latent(2)
                .with_epochs(2)
                .with_progress(false),
        ),
        other => other.default_spec(),
    }
}

fn fit(kind: DetectorKind, values: &[f64]) -> Result<FittedModel, TrainError> {
    spec(kind).fit(&series(values))
}

fn assert_finite(kind: DetectorKind, what: &str, scores: &Scores, rows: usize) {
    assert_eq!(
        scores.values.len(),
        rows,
        "{kind} on {what}: one score per row"
    );
    assert!(
        scores.values.iter().all(|v| v.is_finite()),
        "{kind} on {what}: non-finite score"
    );
    assert!(
        scores.warm_up <= rows,
        "{kind} on {what}: warm-up beyond the series"
    );
}

/// Finite scores, or a typed NotEnoughData error.
fn finite_or_typed(kind: DetectorKind, what: &str, train: &[f64], test: &[f64]) -> Option<Scores> {
    match fit(kind, train) {
        Ok(model) => {
            let scores = model
                .score(&series(test))
                .unwrap_or_else(|e| panic!("{kind} on {what}: {e}"));
            assert_finite(kind, what, &scores, test.len());
            Some(scores)
        }
        Err(TrainError::NotEnoughData { .. }) => None,
        Err(other) => panic!("{kind} on {what}: unexpected error {other}"),
    }
}

#[test]
fn causal_families_obey_the_prefix_rule() {
    let x = synthetic(N, 11);
    for &kind in DetectorKind::ALL.iter().filter(|k| k.causal()) {
        let model = fit(kind, &x[..TRAIN]).unwrap_or_else(|e| panic!("{kind}: {e}"));
        let full = model.score(&series(&x)).expect("score");
        for k in [1, 49, TRAIN, 1001, N - 1] {
            let part = model.score(&series(&x[..k])).expect("score prefix");
            assert_eq!(
                part.values[..],
                full.values[..k],
                "{kind}: score(x[..{k}]) != score(x)[..{k}]"
            );
            assert_eq!(
                part.warm_up.min(k),
                full.warm_up.min(k),
                "{kind}: warm-up differs on a prefix"
            );
            if let (Some(a), Some(b)) = (&part.expected, &full.expected) {
                let same = a
                    .iter()
                    .zip(&b[..k])
                    .all(|(p, q)| p.to_bits() == q.to_bits());
                assert!(same, "{kind}: expected values differ on a prefix of {k}");
            }
        }
    }
}

#[test]
fn constant_short_gapped_huge_and_tiny_inputs_give_finite_scores_or_typed_errors() {
    let x = synthetic(N, 12);
    for &kind in DetectorKind::ALL {
        let constant = vec![5.0; N];
        finite_or_typed(kind, "constant input", &constant[..TRAIN], &constant);

        let short = &x[..5];
        assert!(
            finite_or_typed(kind, "5 rows", short, short).is_none(),
            "{kind}: 5 rows should be too short to fit"
        );
        assert!(
            matches!(fit(kind, &[]), Err(TrainError::NotEnoughData { .. })),
            "{kind}: an empty series must give NotEnoughData"
        );

        // NaN gaps, one longer than any default window, must not poison later scores.
        let mut gapped = x.clone();
        for i in (0..N).step_by(17) {
            gapped[i] = f64::NAN;
        }
        gapped[GAP].iter_mut().for_each(|v| *v = f64::NAN);
        let scores = finite_or_typed(kind, "NaN-gapped input", &gapped[..TRAIN], &gapped)
            .unwrap_or_else(|| panic!("{kind}: should fit on 600 rows with a few NaNs"));
        for i in (0..N).filter(|i| gapped[*i].is_nan()) {
            assert_eq!(
                scores.values[i], 0.0,
                "{kind}: a missing value scores 0 (row {i})"
            );
        }
        let after_gap = scores.values[GAP.end..]
            .iter()
            .filter(|v| **v > 0.0)
            .count();
        if kind.sparse() {
            // An event detector stays at 0 on in-control data: it must still flag a clear
            // level shift after the gap (a poisoned state flags nothing).
            let mut shifted = gapped.clone();
            shifted[SHIFT].iter_mut().for_each(|v| *v += 30.0);
            let what = "NaN-gapped input with a level shift";
            let scores = finite_or_typed(kind, what, &shifted[..TRAIN], &shifted)
                .unwrap_or_else(|| panic!("{kind}: should fit on 600 rows with a few NaNs"));
            assert!(
                scores.values[SHIFT].iter().any(|v| *v > 0.0),
                "{kind}: the level shift at rows {SHIFT:?} after the gap is not flagged"
            );
        } else {
            // CUSUM sits at 0 on in-control data, so the bar is low; a poisoned state gives none.
            assert!(
                after_gap > 20,
                "{kind}: only {after_gap} positive scores after the gap"
            );
        }

        // Magnitude: scores are scale-invariant (up to optimiser tolerance), from 1e-300 to 1e300.
        let plain = finite_or_typed(kind, "plain input", &x[..TRAIN], &x).expect("fits");
        for factor in [1e300, 1e-300] {
            let scaled: Vec<f64> = x.iter().map(|v| v * factor).collect();
            let what = format!("input × {factor:e}");
            let scores = finite_or_typed(kind, &what, &scaled[..TRAIN], &scaled).expect("fits");
            for (row, (a, b)) in scores.values.iter().zip(&plain.values).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                    "{kind} on {what}: row {row}: {a} vs unscaled {b}"
                );
            }
        }
    }
}

/// Bit-identical scores and expected values (NaN where there is none compares equal).
fn same_scores(a: &Scores, b: &Scores) -> bool {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<u64>>();
    bits(&a.values) == bits(&b.values)
        && a.warm_up == b.warm_up
        && a.expected.as_deref().map(bits) == b.expected.as_deref().map(bits)
}

#[test]
fn fitting_is_deterministic_and_models_survive_serde() {
    let x = synthetic(N, 13);
    for &kind in DetectorKind::ALL {
        let a = fit(kind, &x[..TRAIN]).expect("fit");
        let b = fit(kind, &x[..TRAIN]).expect("fit");
        assert_eq!(a, b, "{kind}: two fits differ");
        let scores = a.score(&series(&x)).expect("score");
        let again = b.score(&series(&x)).expect("score");
        assert!(
            same_scores(&scores, &again),
            "{kind}: scores differ between two fits"
        );

        let json = serde_json::to_string(&a).expect("serialise");
        assert!(
            json.contains(&format!("\"kind\":\"{kind}\"")),
            "{kind}: the tag is missing: {json:.80}"
        );
        let back: FittedModel = serde_json::from_str(&json).expect("deserialise");
        let again = back.score(&series(&x)).expect("score");
        assert!(
            same_scores(&scores, &again),
            "{kind}: scores change after a save/load round trip"
        );

        let spec = kind.default_spec();
        let spec_json = serde_json::to_value(&spec).expect("spec json");
        assert_eq!(spec_json["kind"], kind.name());
        let spec_back: DetectorSpec = serde_json::from_value(spec_json).expect("spec back");
        assert_eq!(spec_back, spec);
    }
}

#[test]
fn specs_models_and_scores_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<DetectorSpec>();
    send_sync::<FittedModel>();
    send_sync::<Scores>();
    send_sync::<TrainError>();
}

#[test]
fn channels_are_scored_apart_and_combined_as_stated() {
    let a = synthetic(N, 21);
    let b: Vec<f64> = synthetic(N, 22).iter().map(|v| v * 3.0 - 40.0).collect();
    for &kind in DetectorKind::ALL
        .iter()
        .filter(|k| !k.is_transform() && !k.is_point())
    {
        let one = |v: &[f64]| {
            fit(kind, &v[..TRAIN])
                .expect("fit")
                .score(&series(v))
                .expect("score")
        };
        let (sa, sb) = (one(&a), one(&b));
        for combine in [Combine::Max, Combine::Mean] {
            let mut spec = serde_json::to_value(spec(kind)).expect("json");
            spec["combine"] = serde_json::to_value(combine).expect("combine");
            let spec: DetectorSpec = serde_json::from_value(spec).expect("spec");
            let train = multi(&[a[..TRAIN].to_vec(), b[..TRAIN].to_vec()]);
            let both = spec
                .fit(&train)
                .expect("fit")
                .score(&multi(&[a.clone(), b.clone()]))
                .expect("score");
            assert_eq!(both.per_channel.len(), 2, "{kind}: per-channel scores kept");
            // A joint model's channel scores are shares of one model: combined as stated,
            // but not equal to a one-channel fit.
            let (va, vb): (&[f64], &[f64]) = if kind.joint_channels() {
                (&both.per_channel[0].values, &both.per_channel[1].values)
            } else {
                assert_eq!(
                    both.per_channel[0].values, sa.values,
                    "{kind}: channel 0 scored apart"
                );
                assert_eq!(
                    both.per_channel[1].values, sb.values,
                    "{kind}: channel 1 scored apart"
                );
                (&sa.values, &sb.values)
            };
            for row in 0..N {
                let want = match combine {
                    Combine::Max => va[row].max(vb[row]),
                    Combine::Mean => va[row] / 2.0 + vb[row] / 2.0,
                };
                assert_eq!(both.values[row], want, "{kind} {combine:?}: row {row}");
            }
            let err = spec
                .fit(&train)
                .expect("fit")
                .score(&series(&a))
                .expect_err("one channel");
            assert!(
                matches!(
                    err,
                    TrainError::ChannelMismatch {
                        fitted: 2,
                        got: 1,
                        ..
                    }
                ),
                "{kind}: {err}"
            );
        }
    }
}

#[test]
fn every_space_dimension_applies_at_both_ends() {
    for &kind in DetectorKind::ALL {
        let space = kind.space();
        assert!(!space.is_empty(), "{kind}: empty search space");
        for dim in &space {
            let (low, high) = dim.ends();
            for value in [low, high] {
                let spec = kind
                    .default_spec()
                    .with_values(&[(dim.name.clone(), value.clone())])
                    .unwrap_or_else(|e| panic!("{kind}: {} = {value}: {e}", dim.name));
                let json = serde_json::to_value(&spec).expect("json");
                let pointer = format!("/{}", dim.name.replace('.', "/"));
                assert_eq!(
                    json.pointer(&pointer),
                    Some(&value),
                    "{kind}: {} was not applied",
                    dim.name
                );
            }
        }
        let err = kind
            .default_spec()
            .with_values(&[("no_such_param".into(), serde_json::json!(1))])
            .expect_err("unknown parameter");
        assert!(
            matches!(err, TrainError::BadAssignment { .. }),
            "{kind}: {err}"
        );
    }
}

/// A point family's default spec with window features (diff, lags, rolling statistics, time
/// encodings), to exercise the whole feature path.
fn windowed(kind: DetectorKind) -> DetectorSpec {
    let mut spec = serde_json::to_value(kind.default_spec()).expect("json");
    spec["features"] = serde_json::json!({
        "window": 6, "diff": true, "lags": [12], "rolling": [8],
        "time_of_day": true, "day_of_week": true, "scaling": "robust"
    });
    serde_json::from_value(spec).expect("spec")
}

#[test]
fn point_families_score_all_channels_at_once_and_check_the_channel_count() {
    let a = synthetic(N, 31);
    let b: Vec<f64> = synthetic(N, 32).iter().map(|v| v * 3.0 - 40.0).collect();
    for &kind in DetectorKind::ALL.iter().filter(|k| k.is_point()) {
        let train = multi(&[a[..TRAIN].to_vec(), b[..TRAIN].to_vec()]);
        let model = kind.default_spec().fit(&train).expect("fit");
        let scores = model.score(&multi(&[a.clone(), b.clone()])).expect("score");
        assert_finite(kind, "two channels", &scores, N);
        assert!(
            scores.per_channel.is_empty(),
            "{kind}: no per-channel scores"
        );
        let err = model.score(&series(&a)).expect_err("one channel");
        assert!(
            matches!(
                err,
                TrainError::ChannelMismatch {
                    fitted: 2,
                    got: 1,
                    ..
                }
            ),
            "{kind}: {err}"
        );
    }
}

#[test]
fn point_families_never_leak_the_future() {
    let x = synthetic(N, 33);
    for &kind in DetectorKind::ALL.iter().filter(|k| k.is_point()) {
        for spec in [kind.default_spec(), windowed(kind)] {
            let model = spec.fit(&series(&x[..TRAIN])).expect("fit");
            let full = model.score(&series(&x)).expect("score");
            for k in [30, TRAIN, 1200] {
                let mut changed = x.clone();
                for (i, v) in changed[k + 1..].iter_mut().enumerate() {
                    *v = if i % 3 == 0 {
                        f64::NAN
                    } else {
                        *v * -5.0 + 1e4
                    };
                }
                let other = model.score(&series(&changed)).expect("score");
                let same = full.values[..=k]
                    .iter()
                    .zip(&other.values[..=k])
                    .all(|(p, q)| p.to_bits() == q.to_bits());
                assert!(same, "{kind}: rows ≤ {k} changed when later rows did");
                assert_eq!(full.warm_up, other.warm_up);
            }
        }
    }
}

#[test]
fn point_families_do_not_depend_on_the_thread_count() {
    let x = synthetic(N, 34);
    for &kind in DetectorKind::ALL.iter().filter(|k| k.is_point()) {
        let spec = windowed(kind);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            pool.install(|| {
                let model = spec.fit(&series(&x[..TRAIN])).expect("fit");
                let scores = model.score(&series(&x)).expect("score");
                (model, scores)
            })
        };
        let (m1, s1) = run(1);
        let (m4, s4) = run(4);
        assert_eq!(
            m1, m4,
            "{kind}: the fitted model depends on the thread count"
        );
        assert!(
            same_scores(&s1, &s4),
            "{kind}: scores depend on the thread count"
        );
    }
}

#[test]
fn matrix_profile_never_leaks_the_future_and_ignores_the_thread_count() {
    let x = synthetic(N, 35);
    let spec = DetectorKind::MatrixProfile.default_spec();
    let run = |threads: usize, values: &[f64]| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| {
            let model = spec.fit(&series(&x[..TRAIN])).expect("fit");
            model.score(&series(values)).expect("score")
        })
    };
    let full = run(1, &x);
    assert!(
        same_scores(&full, &run(4, &x)),
        "scores depend on the thread count"
    );
    for k in [30, TRAIN, 1200] {
        let mut changed = x.clone();
        for (i, v) in changed[k + 1..].iter_mut().enumerate() {
            *v = if i % 3 == 0 {
                f64::NAN
            } else {
                *v * -5.0 + 1e4
            };
        }
        let other = run(4, &changed);
        let same = full.values[..=k]
            .iter()
            .zip(&other.values[..=k])
            .all(|(p, q)| p.to_bits() == q.to_bits());
        assert!(
            same,
            "matrix_profile: rows ≤ {k} changed when later rows did"
        );
    }
}
