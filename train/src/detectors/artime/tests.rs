//! Unit tests of the ARTime family: the parameter rules and what `fit` keeps.

use super::*;

fn one_channel(values: &[f64]) -> Series {
    let n = values.len();
    Series::new(
        "t",
        (0..n as i64).map(|i| i * 60_000).collect(),
        vec!["v".into()],
        ndarray::Array2::from_shape_vec((n, 1), values.to_vec()).expect("shape"),
    )
}

#[test]
fn each_rule_names_its_parameter() {
    let d = ArtimeParams::default;
    let given = |min: Option<f64>, max: Option<f64>| ArtimeParams {
        range: ArtimeRange::Given,
        min,
        max,
        ..d()
    };
    let cases = [
        (d().with_window(1), "artime.window"),
        (
            ArtimeParams {
                windows_per_pb: 1,
                ..d()
            },
            "artime.windows_per_pb",
        ),
        (
            ArtimeParams {
                discretize_chomp: -0.1,
                ..d()
            },
            "artime.discretize_chomp",
        ),
        (ArtimeParams { nlevels: 0, ..d() }, "artime.nlevels"),
        (d().with_initial_rho(0.0), "artime.initial_rho"),
        (d().with_initial_rho(1.5), "artime.initial_rho"),
        (
            ArtimeParams {
                max_probationary_period: 15,
                ..d()
            },
            "artime.max_probationary_period",
        ),
        (
            ArtimeParams {
                min: Some(0.0),
                ..d()
            },
            "artime.min",
        ),
        (given(Some(0.0), None), "artime.max"),
        (given(None, Some(1.0)), "artime.min"),
        (given(Some(2.0), Some(1.0)), "artime.min"),
        (given(Some(f64::NAN), Some(1.0)), "artime.min"),
        (d().with_range_margin(-1.0), "artime.range_margin"),
    ];
    for (params, name) in cases {
        match params.check() {
            Err(TrainError::ParamError { param, .. }) => assert_eq!(param, name),
            other => panic!("{name}: expected a ParamError, got {other:?}"),
        }
    }
    assert!(d().check().is_ok());
    assert!(d().with_range(-1.0, 1.0).check().is_ok());
}

#[test]
fn fit_takes_the_probationary_length_and_range_from_the_training_rows() {
    let values: Vec<f64> = (0..605).map(|i| f64::from(i % 50)).collect();
    let model = ArtimeParams::default()
        .check()
        .and_then(|p| p.fit(&one_channel(&values)))
        .expect("fit");
    let channel = &model.channels[0];
    // 605 values → an even 604; range 0..49 (scaled by 32) widened by 10 % each side.
    assert_eq!(channel.state.probationary, 604);
    assert_eq!(channel.scale, 32.0);
    assert!((channel.state.min * 32.0 + 4.9).abs() < 1e-12);
    assert!((channel.state.max * 32.0 - 53.9).abs() < 1e-12);
    let given = ArtimeParams::default()
        .with_range(-10.0, 100.0)
        .check()
        .and_then(|p| p.fit(&one_channel(&values)))
        .expect("fit");
    assert_eq!(given.channels[0].state.min * 32.0, -10.0);
    assert_eq!(given.channels[0].state.max * 32.0, 100.0);
    let capped = ArtimeParams::default()
        .check()
        .and_then(|p| p.fit(&one_channel(&[values.clone(), values].concat())))
        .expect("fit");
    assert_eq!(capped.channels[0].state.probationary, 750);
}

#[test]
fn too_few_training_values_is_not_enough_data() {
    let err = ArtimeParams::default()
        .check()
        .and_then(|p| p.fit(&one_channel(&[1.0; 15])))
        .expect_err("15 values");
    assert!(matches!(
        err,
        TrainError::NotEnoughData {
            needed: 16,
            got: 15,
            ..
        }
    ));
}
