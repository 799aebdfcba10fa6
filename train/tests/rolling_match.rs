//! Rolling z-score, EWMA and rolling percentile against pandas (fixture
//! `rolling_pandas`, pandas 3.1.1): centres, spreads/bands and scores to 1e-9 relative to
//! the data's magnitude.

use vigil_train::{DetectorSpec, Scores};

use crate::common::{fixture, floats, nab_values, series};

fn close(ours: f64, theirs: f64, scale: f64) -> bool {
    if theirs.is_nan() {
        return ours.is_nan();
    }
    (ours - theirs).abs() <= 1e-9 * theirs.abs().max(scale)
}

fn check_all(label: &str, ours: &[f64], theirs: &[f64], scale: f64) {
    assert_eq!(ours.len(), theirs.len(), "{label}: length");
    let mut compared = 0;
    for (row, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            close(a, b, scale),
            "{label}: row {row}: vigil {a} vs pandas {b}"
        );
        compared += usize::from(b.is_finite());
    }
    assert!(
        compared > ours.len() / 2,
        "{label}: only {compared} finite reference values"
    );
}

#[test]
fn rolling_families_match_pandas() {
    let expected = fixture("rolling_pandas");
    let nab = nab_values(expected["nab_file"].as_str().expect("nab_file"));
    let synthetic = floats(&expected["synthetic"]);
    let cases = expected["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 10);
    for case in cases {
        let data = match case["series"].as_str() {
            Some("nab") => &nab,
            _ => &synthetic,
        };
        let scale = data
            .iter()
            .filter(|v| v.is_finite())
            .fold(0.0_f64, |m, v| m.max(v.abs()));
        let spec: DetectorSpec = serde_json::from_value(case["spec"].clone()).expect("spec");
        let label = format!("{} on {}", case["spec"], case["series"]);
        let s = series(data);
        let scores: Scores = spec.fit(&s).expect("fit").score(&s).expect("score");
        let band = scores.band.as_ref().expect("band");
        let expected_values = scores.expected.as_ref().expect("expected");
        if case.get("center").is_some() {
            check_all(
                &format!("{label} centre"),
                expected_values,
                &floats(&case["center"]),
                scale,
            );
            let z = 3.0;
            let spread: Vec<f64> = band
                .upper
                .iter()
                .zip(&band.lower)
                .map(|(u, l)| (u - l) / (2.0 * z))
                .collect();
            check_all(
                &format!("{label} spread"),
                &spread,
                &floats(&case["spread"]),
                scale,
            );
        } else {
            check_all(
                &format!("{label} lower"),
                &band.lower,
                &floats(&case["lower"]),
                scale,
            );
            check_all(
                &format!("{label} upper"),
                &band.upper,
                &floats(&case["upper"]),
                scale,
            );
        }
        // Scores where pandas has one with a spread well above the floor; 0 where it has none.
        let reference = floats(&case["score"]);
        let spreads = match case.get("spread") {
            Some(s) => floats(s),
            None => floats(&case["upper"])
                .iter()
                .zip(floats(&case["lower"]))
                .map(|(u, l)| (u - l) / 2.0)
                .collect(),
        };
        let mut compared = 0;
        for (row, (&ours, &theirs)) in scores.values.iter().zip(&reference).enumerate() {
            if theirs.is_finite() && spreads[row] > 1e-6 * scale {
                assert!(
                    (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                    "{label} score: row {row}: vigil {ours} vs pandas {theirs}"
                );
                compared += 1;
            } else if !data[row].is_finite() || spreads[row].is_nan() {
                assert_eq!(
                    ours, 0.0,
                    "{label} score: row {row} has no reference and must be 0"
                );
            }
        }
        assert!(
            compared > data.len() / 2,
            "{label}: only {compared} scores compared"
        );
    }
}
