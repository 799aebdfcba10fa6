//! CUSUM against the published run lengths of the two-sided tabular CUSUM with k = 1/2,
//! h = 5 (Montgomery, "Introduction to Statistical Quality Control", 6th ed., Table 9.3:
//! in-control ARL 465; ARL 10.4 for a 1σ shift, 4.01 for 2σ), on seeded Gaussian data with
//! σ and the reference estimated by the detector itself; and the capacity forecast from the
//! trend after the detected change.

use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use vigil_train::detectors::cusum::capacity::capacity_forecast;
use vigil_train::detectors::cusum::{CusumParams, Target};

use crate::common::series;

fn gaussian(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0, 1.0).expect("normal");
    (0..n).map(|_| normal.sample(&mut rng)).collect()
}

const RESTART: usize = 1000;

fn model() -> vigil_train::detectors::cusum::CusumModel {
    let train = gaussian(100_000, 1);
    CusumParams::default()
        .with_limits(0.5, 5.0)
        .with_target(Target::Level)
        .with_restart_window(RESTART)
        .check()
        .expect("valid")
        .fit(&series(&train))
        .expect("fit")
}

#[test]
fn in_control_run_length_matches_the_table() {
    let model = model();
    let x = gaussian(1_500_000, 2);
    let changes = &model.change_points(&series(&x)).expect("changes")[0];
    // Each alarm restarts the chart: RESTART rows estimate the reference, then the run.
    let monitored = x.len() - RESTART * (changes.len() + 1);
    let arl = monitored as f64 / changes.len() as f64;
    assert!(
        (arl - 465.0).abs() < 0.15 * 465.0,
        "in-control ARL {arl} ({} alarms), table 465",
        changes.len()
    );
}

#[test]
fn shifted_run_lengths_match_the_table() {
    let model = model();
    for (shift, table) in [(1.0, 10.4), (2.0, 4.01)] {
        let mut delays = Vec::new();
        for episode in 0..300u64 {
            let mut x = gaussian(RESTART + 200, 100 + episode);
            x[RESTART..].iter_mut().for_each(|v| *v += shift);
            let changes = &model.change_points(&series(&x)).expect("changes")[0];
            // Episodes with a false alarm before the shift are discarded, as in the table.
            if let Some(first) = changes.first()
                && first.alarm >= RESTART
            {
                assert!(first.up && !first.trend);
                delays.push((first.alarm - RESTART + 1) as f64);
            }
        }
        assert!(delays.len() > 250);
        let arl = delays.iter().sum::<f64>() / delays.len() as f64;
        assert!(
            (arl - table).abs() < 0.12 * table,
            "ARL for a {shift}σ shift: {arl}, table {table}"
        );
    }
}

#[test]
fn change_onset_and_the_capacity_forecast_after_it() {
    // Flat noise, then a level shift that starts a steady climb towards a limit of 100.
    let noise = gaussian(3000, 9);
    let x: Vec<f64> = (0..3000)
        .map(|i| {
            if i < 2000 {
                20.0 + noise[i]
            } else {
                40.0 + 0.02 * (i - 2000) as f64 + noise[i]
            }
        })
        .collect();
    let s = series(&x);
    let model = CusumParams::default()
        .with_limits(0.5, 8.0)
        .with_restart_window(100)
        .check()
        .expect("valid")
        .fit(&s.slice_rows(0, 1000))
        .expect("fit");
    let changes = &model.change_points(&s).expect("changes")[0];
    let shift = changes
        .iter()
        .find(|c| c.alarm >= 2000)
        .expect("the shift is found");
    assert!(shift.alarm <= 2003 && shift.up && !shift.trend, "{shift:?}");
    assert!(
        (1995..=2001).contains(&shift.onset),
        "onset {}",
        shift.onset
    );
    assert!(
        changes.iter().filter(|c| c.alarm < 2000).count() <= 1,
        "false alarms: {changes:?}"
    );
    let forecast =
        capacity_forecast(&s.timestamps, &x, 100.0, shift.onset.max(2000)).expect("forecast");
    // 40 + 0.02 (i − 2000) reaches 100 at row 5000; rows are 5 minutes apart.
    let expected_ms = 5000 * 300_000;
    let error = (forecast.crossing_ms.expect("crossing") - expected_ms).abs();
    assert!(
        error < 60 * 300_000,
        "crossing off by {} rows",
        error / 300_000
    );
}
