#![allow(clippy::unwrap_used)]

use ndarray::Array2;
use vigil_datasets::Series;

use super::*;

fn series(channels: &[Vec<f64>], timestamps: Option<Vec<i64>>) -> Series {
    let n = channels[0].len();
    let values = Array2::from_shape_fn((n, channels.len()), |(r, c)| channels[c][r]);
    Series::new(
        "t",
        timestamps.unwrap_or_else(|| (0..n as i64).map(|i| i * 60_000).collect()),
        (0..channels.len()).map(|c| format!("c{c}")).collect(),
        values,
    )
}

fn raw(params: FeatureParams) -> FeatureValid {
    params.with_scaling(Scaling::None).check().unwrap()
}

#[test]
fn window_rows_are_the_last_w_values_oldest_first_channel_major() {
    let a: Vec<f64> = (0..6).map(f64::from).collect();
    let b: Vec<f64> = (0..6).map(|i| 10.0 * f64::from(i)).collect();
    let s = series(&[a, b], None);
    let (model, rows) = raw(FeatureParams::default().with_window(3))
        .fit_transform(&s)
        .unwrap();
    assert_eq!(model.dim(), 6);
    assert_eq!(rows.warm_up, 2);
    assert_eq!(rows.valid, vec![false, false, true, true, true, true]);
    assert!(rows.rows.row(1).iter().all(|v| v.is_nan()));
    assert_eq!(
        rows.rows.row(4).to_vec(),
        vec![2.0, 3.0, 4.0, 20.0, 30.0, 40.0]
    );
}

#[test]
fn differences_lags_and_rolling_statistics_match_a_direct_computation() {
    let x = vec![1.0, 4.0, 2.0, 8.0, 5.0, 7.0, 3.0, 9.0];
    let s = series(std::slice::from_ref(&x), None);
    let params = FeatureParams::default()
        .with_diff(true)
        .with_lags(vec![2])
        .with_rolling(vec![3]);
    let rows = raw(params).fit_transform(&s).unwrap().1;
    // diff needs one row, rolling 3 two more: warm-up 3.
    assert_eq!(rows.warm_up, 3);
    let d: Vec<f64> = (1..x.len()).map(|t| x[t] - x[t - 1]).collect(); // d[t-1] = x[t]-x[t-1]
    for t in 3..x.len() {
        let row = rows.rows.row(t);
        assert_eq!(row[0], d[t - 1], "difference at {t}");
        assert_eq!(row[1], d[t - 3], "lag 2 of the difference at {t}");
        let w = [d[t - 3], d[t - 2], d[t - 1]];
        let mean = w.iter().sum::<f64>() / 3.0;
        let var = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2.0;
        assert!((row[2] - mean).abs() < 1e-12, "rolling mean at {t}");
        assert!((row[3] - var.sqrt()).abs() < 1e-12, "rolling std at {t}");
    }
}

#[test]
fn time_encodings_use_utc_hour_and_weekday() {
    // 2024-01-01 was a Monday; 06:00 UTC is a quarter of the day.
    let monday_6am = 1_704_067_200_000 + 6 * 3_600_000;
    let thursday_noon = monday_6am + 3 * DAY_MS + 6 * 3_600_000;
    let s = series(&[vec![1.0, 2.0]], Some(vec![monday_6am, thursday_noon]));
    let params = FeatureParams::default()
        .with_time_of_day(true)
        .with_day_of_week(true);
    let rows = raw(params).fit_transform(&s).unwrap().1;
    let r0 = rows.rows.row(0);
    assert!(
        (r0[1] - 1.0).abs() < 1e-15 && r0[2].abs() < 1e-15,
        "06:00 → (1, 0)"
    );
    assert!(
        r0[3].abs() < 1e-15 && (r0[4] - 1.0).abs() < 1e-15,
        "Monday → (0, 1)"
    );
    let r1 = rows.rows.row(1);
    assert!(
        r1[1].abs() < 1e-15 && (r1[2] + 1.0).abs() < 1e-15,
        "12:00 → (0, −1)"
    );
    let angle = std::f64::consts::TAU * 3.0 / 7.0;
    assert_eq!((r1[3], r1[4]), (angle.sin(), angle.cos()), "Thursday");
    // Before 1970 the weekday still counts from a Thursday.
    let s = series(&[vec![1.0]], Some(vec![-DAY_MS])); // Wednesday 1969-12-31
    let rows = raw(FeatureParams::default().with_day_of_week(true))
        .fit_transform(&s)
        .unwrap()
        .1;
    let angle = std::f64::consts::TAU * 2.0 / 7.0;
    assert_eq!(
        (rows.rows[[0, 1]], rows.rows[[0, 2]]),
        (angle.sin(), angle.cos())
    );
}

#[test]
fn a_missing_value_invalidates_exactly_the_rows_that_read_it() {
    let mut x: Vec<f64> = (0..20).map(|i| f64::from(i).sin()).collect();
    x[10] = f64::NAN;
    let s = series(&[x], None);
    let rows = raw(FeatureParams::default().with_window(3).with_lags(vec![5]))
        .fit_transform(&s)
        .unwrap()
        .1;
    let invalid: Vec<usize> = (0..20).filter(|t| !rows.valid[*t]).collect();
    // warm-up 0..5, the window reads row 10 at 10..=12, lag 5 at 15.
    assert_eq!(invalid, vec![0, 1, 2, 3, 4, 10, 11, 12, 15]);
    for t in invalid {
        assert!(rows.rows.row(t).iter().all(|v| v.is_nan()), "row {t}");
    }
}

#[test]
fn rows_depend_on_the_past_only() {
    let x: Vec<f64> = (0..200).map(|i| (f64::from(i) * 0.3).sin() * 5.0).collect();
    let params = FeatureParams::default()
        .with_window(4)
        .with_diff(true)
        .with_lags(vec![7])
        .with_rolling(vec![5, 24])
        .with_scaling(Scaling::Robust);
    let model = params
        .check()
        .unwrap()
        .fit(&series(std::slice::from_ref(&x), None))
        .unwrap();
    let full = model
        .transform(&series(std::slice::from_ref(&x), None))
        .unwrap();
    for k in [0, 30, 120] {
        let mut changed = x.clone();
        for v in &mut changed[k + 1..] {
            *v = *v * -3.0 + 100.0;
        }
        let other = model.transform(&series(&[changed], None)).unwrap();
        for t in 0..=k {
            let same = full
                .rows
                .row(t)
                .iter()
                .zip(other.rows.row(t))
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(
                same && full.valid[t] == other.valid[t],
                "row {t} changed after {k}"
            );
        }
    }
}

#[test]
fn standard_scaling_is_fitted_on_training_rows_only() {
    let train: Vec<f64> = vec![1.0, 2.0, 3.0, 4.0, f64::NAN, 5.0];
    let model = FeatureParams::default()
        .check()
        .unwrap()
        .fit(&series(&[train], None))
        .unwrap();
    // mean 3, population σ √2 (scikit-learn's StandardScaler), NaN row left out.
    assert_eq!(model.center, vec![3.0]);
    assert!((model.scale[0] - 2f64.sqrt()).abs() < 1e-15);
    let rows = model
        .transform(&series(&[vec![3.0, 100.0, f64::NAN]], None))
        .unwrap();
    assert_eq!(rows.rows[[0, 0]], 0.0);
    assert!((rows.rows[[1, 0]] - 97.0 / 2f64.sqrt()).abs() < 1e-12);
    assert_eq!(rows.valid, vec![true, true, false]);
}

#[test]
fn robust_scaling_uses_median_and_interquartile_range() {
    // numpy: median 3.5, percentile 25 = 2.25, 75 = 5.5 (linear) over [1, 2, 3, 4, 6, 100].
    let train = vec![1.0, 2.0, 3.0, 4.0, 6.0, 100.0];
    let model = FeatureParams::default()
        .with_scaling(Scaling::Robust)
        .check()
        .unwrap()
        .fit(&series(&[train], None))
        .unwrap();
    assert_eq!(model.center, vec![3.5]);
    assert_eq!(model.scale, vec![5.5 - 2.25]);
}

#[test]
fn constant_columns_scale_by_their_magnitude_and_stay_finite() {
    for value in [5.0, 0.0, 3e300, -2e-300] {
        let model = FeatureParams::default()
            .check()
            .unwrap()
            .fit(&series(&[vec![value; 8]], None))
            .unwrap();
        let rows = model
            .transform(&series(&[vec![value, value * 2.0 + 1e-300]], None))
            .unwrap();
        assert_eq!(rows.rows[[0, 0]], 0.0, "{value}");
        assert!(rows.rows[[1, 0]].is_finite(), "{value}");
    }
}

#[test]
fn each_rule_names_its_parameter() {
    let cases = [
        (FeatureParams::default().with_window(0), "features.window"),
        (
            FeatureParams::default().with_lags(vec![3, 0]),
            "features.lags",
        ),
        (
            FeatureParams::default().with_rolling(vec![1]),
            "features.rolling",
        ),
    ];
    for (params, name) in cases {
        match params.check() {
            Err(TrainError::ParamError { param, .. }) => assert_eq!(param, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn errors_for_wrong_channels_and_no_valid_rows() {
    let model = FeatureParams::default()
        .check()
        .unwrap()
        .fit(&series(&[vec![1.0, 2.0, 3.0]], None))
        .unwrap();
    let two = series(&[vec![1.0], vec![2.0]], None);
    assert!(matches!(
        model.transform(&two),
        Err(TrainError::ChannelMismatch {
            fitted: 1,
            got: 2,
            ..
        })
    ));
    let short = FeatureParams::default().with_window(5).check().unwrap();
    assert!(matches!(
        short.fit(&series(&[vec![1.0, 2.0, 3.0]], None)),
        Err(TrainError::NotEnoughData { .. })
    ));
}

#[test]
fn params_are_serde_with_defaults_and_reject_unknown_fields() {
    let p: FeatureParams = serde_json::from_str(r#"{"window": 12, "scaling": "robust"}"#).unwrap();
    assert_eq!(
        p,
        FeatureParams::default()
            .with_window(12)
            .with_scaling(Scaling::Robust)
    );
    assert!(serde_json::from_str::<FeatureParams>(r#"{"windw": 12}"#).is_err());
    let model = p
        .check()
        .unwrap()
        .fit(&series(&[(0..30).map(f64::from).collect()], None))
        .unwrap();
    let back: FeatureModel = serde_json::from_str(&serde_json::to_string(&model).unwrap()).unwrap();
    assert_eq!(back, model);
}
