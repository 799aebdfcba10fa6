//! The `discord` family against stumpy (1.14.1): the detected period, the windows and every
//! row's score equal `tests/fixtures/discord/gen.py`'s, which builds the score from
//! `stumpy.stump` profiles by the family's definition; with and without a gap.

use vigil_train::detectors::discord::DiscordParams;
use vigil_train::{DetectorSpec, FittedModel};

use crate::common::{fixture, floats, series};

fn close(what: &str, got: &[f64], expected: &[f64]) {
    assert_eq!(got.len(), expected.len(), "{what}: lengths");
    for (row, (a, b)) in got.iter().zip(expected).enumerate() {
        assert!(
            (a - b).abs() < 1e-9,
            "{what}: row {row}: {a} vs stumpy's {b}"
        );
    }
}

#[test]
fn discord_scores_equal_stumpys_profiles_combined_by_the_definition() {
    let f = fixture("discord");
    assert_eq!(f["versions"]["stumpy"], "1.14.1");
    let x = floats(&f["series"]);
    let train_rows = f["train_rows"].as_u64().expect("valid") as usize;
    let spec = DetectorSpec::Discord(DiscordParams::default());
    let model = spec.fit(&series(&x[..train_rows])).expect("valid");
    let FittedModel::Discord(fitted) = &model else {
        panic!("a discord model")
    };
    let state = &fitted.channels[0].state;
    assert_eq!(state.period as u64, f["period"].as_u64().expect("valid"));
    assert!(state.detected);
    let windows: Vec<usize> = f["windows"]
        .as_array()
        .expect("valid")
        .iter()
        .map(|w| w.as_u64().expect("valid") as usize)
        .collect();
    assert_eq!(state.windows, windows);

    let scores = model.score(&series(&x)).expect("valid");
    close("plain", &scores.values, &floats(&f["scores"]));
    let top = train_rows
        + scores.values[train_rows..]
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .expect("valid")
            .0;
    assert_eq!(top as u64, f["top_row"].as_u64().expect("valid"));

    // A three-row gap, not filled (max_fill = 0): the subsequences over it are neither scored
    // nor matched, as stumpy treats NaN.
    let spec = DetectorSpec::Discord(DiscordParams {
        max_fill: 0,
        ..DiscordParams::default()
    });
    let model = spec.fit(&series(&x[..train_rows])).expect("valid");
    let mut gapped = x;
    for row in f["gapped_rows"].as_array().expect("valid") {
        gapped[row.as_u64().expect("valid") as usize] = f64::NAN;
    }
    let scores = model.score(&series(&gapped)).expect("valid");
    close("gapped", &scores.values, &floats(&f["scores_gapped"]));
}
