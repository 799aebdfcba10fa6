//! `ucr_top1` (the UCR anomaly archive's top-1 accuracy) against an independent numpy
//! implementation of the archive's convention, committed in `tests/fixtures/ucr_top1/`
//! (numpy 2.4.6): slack edges, ties, NaN and infinite scores, several slacks.

use vigil_eval::Window;
use vigil_eval::ucr::{Top1, UcrLabel, macro_top1, top1_in_windows, ucr_top1};

use crate::common::fixture;

/// Scores as the fixture writes them: numbers, or "nan" / "inf" / "-inf".
fn scores(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| match x.as_str() {
            Some("nan") => f64::NAN,
            Some("inf") => f64::INFINITY,
            Some("-inf") => f64::NEG_INFINITY,
            Some(other) => panic!("unexpected score {other:?}"),
            None => x.as_f64().expect("number"),
        })
        .collect()
}

fn usize_of(v: &serde_json::Value) -> usize {
    v.as_u64().expect("unsigned integer") as usize
}

#[test]
fn ucr_top1_equals_the_numpy_reference() {
    let fx = fixture("ucr_top1");
    assert_eq!(fx["versions"]["numpy"], "2.4.6");
    assert_eq!(
        usize_of(&fx["default_slack"]),
        vigil_eval::ucr::DEFAULT_SLACK
    );
    let cases = fx["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 18);
    let mut verdicts: Vec<Top1> = Vec::new();
    for c in cases {
        let name = c["name"].as_str().expect("name");
        let s = scores(&c["scores"]);
        let label = UcrLabel {
            train_end: usize_of(&c["train_end"]),
            begin: usize_of(&c["begin"]),
            end: usize_of(&c["end"]),
        };
        let slack = usize_of(&c["slack"]);
        let v = ucr_top1(&s, &label, slack).unwrap();
        assert_eq!(label.position(v.row), usize_of(&c["location"]), "{name}");
        assert_eq!(v.tied, usize_of(&c["tied"]), "{name}");
        assert_eq!(v.hit, c["correct"].as_bool().unwrap(), "{name}: {v:?}");

        // The runner's form: the 1-based anomaly as 0-based rows of the evaluated scores.
        let rows = Window::new(
            label.begin - label.train_end - 1,
            label.end - label.train_end - 1,
        );
        assert_eq!(top1_in_windows(&s, &[rows], slack).unwrap(), v, "{name}");
        verdicts.push(v);
    }
    let expected = fx["ucr_top1"].as_f64().unwrap();
    assert_eq!(macro_top1(&verdicts).unwrap(), expected);
    // The fixture holds hits and misses of every kind, so the mean is neither 0 nor 1.
    assert!(expected > 0.3 && expected < 0.7, "{expected}");
}
