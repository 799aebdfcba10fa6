//! Unit tests of the seasonal baseline: one per parameter rule, what `fit` learns, and what
//! the score sees (a weekly pattern learnt, an anomalous past week outvoted, stuck values).

use super::*;

fn one_channel(values: &[f64]) -> Series {
    let n = values.len();
    Series::new(
        "t",
        (0..n as i64).map(|i| i * 300_000).collect(),
        vec!["v".into()],
        ndarray::Array2::from_shape_vec((n, 1), values.to_vec()).expect("shape"),
    )
}

/// Deterministic noise in [-1, 1] (a fixed LCG, so the tests need no RNG crate).
fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

/// Quarter-hour rows.
const DAY: usize = 96;
const WEEK: usize = 7 * DAY;

/// Quarter-hour rows: a daily cycle of ±10, a weekend (days 5 and 6) 10 units lower with
/// 6-hour ramps in and out, uniform noise of ±1.
fn weekly(weeks: usize, seed: u64) -> Vec<f64> {
    let e = noise(weeks * WEEK, seed);
    let ramp_rows = 24.0;
    let ramp = |rows: f64| (rows / ramp_rows).clamp(0.0, 1.0);
    (0..weeks * WEEK)
        .map(|t| {
            let phase = (t % DAY) as f64 / DAY as f64;
            let in_week = (t % WEEK) as f64;
            let into = ramp(in_week - 5.0 * DAY as f64 + 0.5 * ramp_rows);
            let out = ramp(WEEK as f64 + 0.5 * ramp_rows - in_week);
            100.0 + 10.0 * (2.0 * std::f64::consts::PI * phase).sin() - 10.0 * into.min(out) + e[t]
        })
        .collect()
}

fn weekly_params() -> SeasonalBaselineParams {
    SeasonalBaselineParams::default()
        .with_periods(Some(DAY), Some(WEEK))
        .with_memory(3, 2)
}

#[test]
fn each_rule_names_its_parameter() {
    let d = SeasonalBaselineParams::default;
    let cases = [
        (d().with_periods(Some(1), None), "seasonal_baseline.period"),
        (
            SeasonalBaselineParams {
                max_period: 2,
                ..d()
            },
            "seasonal_baseline.max_period",
        ),
        (
            d().with_periods(Some(24), Some(1)),
            "seasonal_baseline.long_period",
        ),
        (
            d().with_periods(Some(24), Some(24)).with_memory(3, 12),
            "seasonal_baseline.half_width",
        ),
        (d().with_memory(0, 6), "seasonal_baseline.seasons"),
        (d().with_scale_alpha(1.0), "seasonal_baseline.scale_alpha"),
        (
            SeasonalBaselineParams {
                scale_clip: 0.0,
                ..d()
            },
            "seasonal_baseline.scale_clip",
        ),
        (
            SeasonalBaselineParams {
                band_z: f64::NAN,
                ..d()
            },
            "seasonal_baseline.band_z",
        ),
    ];
    for (params, name) in cases {
        match params.check() {
            Err(TrainError::ParamError { param, .. }) => assert_eq!(param, name),
            other => panic!("{name}: expected a ParamError, got {other:?}"),
        }
    }
    assert!(d().check().is_ok());
    assert!(weekly_params().check().is_ok());
}

#[test]
fn log_needs_positive_training_values() {
    let values: Vec<f64> = (0..100).map(|i| -1.0 - f64::from(i % 7)).collect();
    let err = SeasonalBaselineParams::default()
        .with_transform(Transform::Log)
        .check()
        .and_then(|p| p.fit(&one_channel(&values)))
        .expect_err("no positive value");
    assert!(
        matches!(&err, TrainError::ParamError { param, .. } if param == "seasonal_baseline.transform"),
        "{err}"
    );
}

#[test]
fn fit_learns_the_daily_profile_the_trend_and_the_noise_scale() {
    let e = noise(20 * DAY, 3);
    let values: Vec<f64> = (0..20 * DAY)
        .map(|t| {
            let phase = (t % DAY) as f64 / DAY as f64;
            50.0 + 0.05 * t as f64 + 8.0 * (2.0 * std::f64::consts::PI * phase).cos() + e[t]
        })
        .collect();
    let model = SeasonalBaselineParams::default()
        .check()
        .and_then(|p| p.fit(&one_channel(&values)))
        .expect("fit");
    let fitted = &model.channels[0];
    let c = &fitted.state;
    assert_eq!(c.period, DAY, "the daily period is detected");
    assert_eq!(
        c.long_period, DAY,
        "the long period defaults to the short one"
    );
    let unit = fitted.scale;
    assert!(
        (c.slope * unit - 0.05).abs() < 0.01,
        "slope {}",
        c.slope * unit
    );
    assert!(
        (c.profile[0] * unit - 8.0).abs() < 1.5,
        "profile peak {}",
        c.profile[0] * unit
    );
    // Uniform noise on [-1, 1]: standard deviation 1/√3 ≈ 0.58.
    for s in &c.scale {
        let sd = s * unit;
        assert!((0.3..0.9).contains(&sd), "scale {sd}");
    }
}

#[test]
fn the_weekly_pattern_is_learnt_from_past_weeks_and_one_bad_week_is_outvoted() {
    let mut values = weekly(6, 5);
    // Week 2's Saturday ran 20 units high (an anomaly in the history).
    for v in &mut values[2 * WEEK + 5 * DAY + 16..2 * WEEK + 6 * DAY] {
        *v += 20.0;
    }
    let train = &values[..2 * WEEK];
    let model = weekly_params()
        .check()
        .and_then(|p| p.fit(&one_channel(train)))
        .expect("fit");
    let scores = model.score(&one_channel(&values)).expect("score");
    assert_eq!(scores.warm_up, WEEK - 2, "the first week has no past week");
    // Week 5's weekend has three past weekends, one of them bad: no alarm.
    let week5 = &scores.values[5 * WEEK..6 * WEEK];
    let (at, worst) =
        week5.iter().copied().enumerate().fold(
            (0, 0.0),
            |best, (i, v)| if v > best.1 { (i, v) } else { best },
        );
    assert!(
        worst < 5.0,
        "a normal week scores {worst} at row {at} of week 5"
    );
    // A daily profile alone (no weekly memory) cannot see the weekend coming.
    let daily = SeasonalBaselineParams::default()
        .with_periods(Some(DAY), None)
        .with_memory(1, 2)
        .check()
        .and_then(|p| p.fit(&one_channel(train)))
        .expect("fit")
        .score(&one_channel(&values))
        .expect("score");
    let saturday_noon = 5 * WEEK + 5 * DAY + DAY / 2;
    assert!(
        daily.values[saturday_noon] > 10.0,
        "without the week the weekend is a surprise: {}",
        daily.values[saturday_noon]
    );
    // A level shift of 8 noise units (σ ≈ 0.58) in week 5 is seen.
    let mut shifted = values.clone();
    for v in &mut shifted[5 * WEEK + 150..5 * WEEK + 190] {
        *v += 8.0 * 0.58;
    }
    let scores = model.score(&one_channel(&shifted)).expect("score");
    assert!(
        scores.values[5 * WEEK + 150] > 5.0,
        "the shift scores {}",
        scores.values[5 * WEEK + 150]
    );
}

#[test]
fn stuck_values_score_by_how_rare_repeats_were_in_training() {
    let mut values = weekly(4, 9);
    let start = 3 * WEEK + 30;
    let held = values[start - 1];
    for v in &mut values[start..start + 6] {
        *v = held;
    }
    let fit = |stuck: bool| {
        weekly_params()
            .with_stuck(stuck)
            .check()
            .and_then(|p| p.fit(&one_channel(&values[..2 * WEEK])))
            .expect("fit")
            .score(&one_channel(&values))
            .expect("score")
    };
    let (with, without) = (fit(true), fit(false));
    // No repeats in 1,343 training pairs: p = 1/1,345; two repeats give p² ≈ 5.5e-7, z ≈ 4.9.
    let z2 = with.values[start + 1];
    assert!((4.7..5.1).contains(&z2), "two repeats score {z2}");
    assert!(with.values[start + 5] > 7.0, "six repeats");
    assert!(with.values[start + 5] >= without.values[start + 5]);
    assert_eq!(
        with.values[..start],
        without.values[..start],
        "only runs of repeats change"
    );
}

#[test]
fn log_transform_reads_multiplicative_swings_as_equal() {
    // The same relative jump at a high and at a low level of a multiplicative cycle.
    let e = noise(10 * DAY, 11);
    let mut values: Vec<f64> = (0..10 * DAY)
        .map(|t| {
            let hour = (t % DAY) as f64;
            100.0
                * (1.0 + 0.8 * (2.0 * std::f64::consts::PI * hour / 24.0).sin())
                * (1.0 + 0.02 * e[t])
        })
        .collect();
    let (high, low) = (8 * DAY + 6, 8 * DAY + 18);
    values[high] *= 1.2;
    values[low] *= 1.2;
    let scores = SeasonalBaselineParams::default()
        .with_periods(Some(DAY), None)
        .with_transform(Transform::Log)
        .check()
        .and_then(|p| p.fit(&one_channel(&values[..5 * DAY])))
        .expect("fit")
        .score(&one_channel(&values))
        .expect("score");
    let (a, b) = (scores.values[high], scores.values[low]);
    assert!(a > 5.0 && b > 5.0, "both jumps are seen: {a}, {b}");
    assert!((a / b - 1.0).abs() < 0.5, "similar scores: {a} vs {b}");
    let expected = scores.expected.expect("expected values");
    assert!(
        (expected[high] / (values[high] / 1.2) - 1.0).abs() < 0.1,
        "expected values are in the data's units"
    );
}
