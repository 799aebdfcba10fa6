//! The anomaly-likelihood transform against the committed Python port of nupic's
//! `AnomalyLikelihood` in NAB's configuration (fixture `anomaly_likelihood`): every
//! likelihood and log-likelihood to 1e-9.

use vigil_train::detectors::anomaly_likelihood::LikelihoodParams;

use crate::common::{fixture, floats, nab_values};

#[test]
fn likelihoods_match_the_nupic_port() {
    let expected = fixture("anomaly_likelihood");
    let values = nab_values(expected["nab_file"].as_str().expect("nab_file"));
    let raw = floats(&expected["raw_scores"]);
    let probation = expected["probationary_rows"].as_u64().expect("rows") as usize;
    let params = LikelihoodParams::for_probationary_period(probation);
    params.check().expect("valid");
    for (log_scale, key) in [(false, "likelihood"), (true, "log_likelihood")] {
        let ours = LikelihoodParams {
            log_scale,
            ..params.clone()
        }
        .transform(&raw, Some(&values), None);
        let theirs = floats(&expected[key]);
        assert_eq!(ours.len(), theirs.len());
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!(
                (a - b).abs() <= 1e-9,
                "{key}[{i}]: vigil {a} vs reference {b}"
            );
        }
        assert!(
            theirs.iter().any(|v| *v > 0.9),
            "{key}: the fixture has no high likelihood to check"
        );
    }
}

/// NAB's `numenta` results set the score of every spatial anomaly (a value outside the range
/// seen so far, widened by 5 % of its width) to 1.0. Over NAB's published per-row results for
/// the 31 files, every row `spatial_anomalies` flags scores 1.0 there, and the flags explain
/// all but 3 of the 246 rows at 1.0 (those 3 are likelihoods that reach 1.0 by themselves).
#[test]
fn spatial_anomalies_are_nab_numenta_s_rows_at_one() {
    use vigil_train::detectors::anomaly_likelihood::spatial_anomalies;
    let root = crate::common::shared_datasets().join("nab/reference/results/numenta");
    let mut files = Vec::new();
    for category in std::fs::read_dir(&root).expect("numenta results") {
        let category = category.expect("entry").path();
        if category.is_dir() {
            for file in std::fs::read_dir(&category).expect("category") {
                files.push(file.expect("entry").path());
            }
        }
    }
    files.sort();
    assert_eq!(files.len(), 31, "{}", root.display());
    let (mut flagged, mut flagged_at_one, mut at_one) = (0, 0, 0);
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read");
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("header").split(',').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
        let (value, score) = (col("value"), col("anomaly_score"));
        let rows: Vec<(f64, f64)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (
                    f[value].parse().expect("value"),
                    f[score].parse().expect("score"),
                )
            })
            .collect();
        let values: Vec<f64> = rows.iter().map(|r| r.0).collect();
        let flags = spatial_anomalies(&values, 0.05);
        for (i, (&flag, &(_, s))) in flags.iter().zip(&rows).enumerate() {
            flagged += usize::from(flag);
            at_one += usize::from(s == 1.0);
            if flag {
                assert_eq!(
                    s,
                    1.0,
                    "{} row {i}: flagged, NAB scored {s}",
                    path.display()
                );
                flagged_at_one += 1;
            }
        }
    }
    assert_eq!((flagged, flagged_at_one, at_one), (243, 243, 246));
}

/// With `spatial_tolerance`, the fitted transform scores a new extreme 1.0 and leaves values
/// inside the range seen so far to the likelihood; a negative tolerance is refused.
#[test]
fn spatial_tolerance_marks_new_extremes_in_the_detector_s_scores() {
    use vigil_train::DetectorSpec;
    use vigil_train::detectors::anomaly_likelihood::{AnomalyLikelihoodSpec, LikelihoodParams};
    let mut values = crate::common::synthetic(3000, 3);
    let (lo, hi) = values[..2000]
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    values[2500] = hi + 0.5 * (hi - lo);
    let spec = |tolerance: Option<f64>| {
        DetectorSpec::AnomalyLikelihood(AnomalyLikelihoodSpec {
            likelihood: LikelihoodParams {
                spatial_tolerance: tolerance,
                ..LikelihoodParams::for_probationary_period(450)
            },
            ..AnomalyLikelihoodSpec::default()
        })
    };
    let series = crate::common::series(&values);
    let train = crate::common::series(&values[..2000]);
    let with = spec(Some(0.05)).fit(&train).expect("fits");
    let without = spec(None).fit(&train).expect("fits");
    let a = with.score(&series).expect("scores").values;
    let b = without.score(&series).expect("scores").values;
    assert_eq!(a[2500], 1.0);
    assert!(
        b[2500] < 1.0,
        "the likelihood alone does not saturate: {}",
        b[2500]
    );
    let flags = vigil_train::detectors::anomaly_likelihood::spatial_anomalies(&values, 0.05);
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        if !flags[i] {
            assert_eq!(x, y, "row {i} is not a spatial anomaly");
        }
    }
    let bad = spec(Some(-0.1));
    assert!(bad.check().is_err(), "a negative tolerance must be refused");
}

/// `others`: every further detector's raw scores get their own likelihood, and each row takes
/// the highest, so the pair scores the element-wise maximum of the two single pipelines; a
/// nested likelihood among them is refused.
#[test]
fn others_take_the_highest_likelihood_row_by_row() {
    use vigil_train::DetectorSpec;
    let values = crate::common::synthetic(4000, 11);
    let spec = |json: serde_json::Value| -> DetectorSpec {
        serde_json::from_value(json).expect("a likelihood spec")
    };
    let score = |spec: &DetectorSpec| {
        let model = spec
            .fit(&crate::common::series(&values[..1500]))
            .expect("fits");
        model
            .score(&crate::common::series(&values))
            .expect("scores")
            .values
    };
    let hw = score(&spec(serde_json::json!({
        "kind": "anomaly_likelihood", "detector": { "kind": "holt_winters" },
    })));
    let z = score(&spec(serde_json::json!({
        "kind": "anomaly_likelihood", "detector": { "kind": "rolling_zscore" },
    })));
    let pair = score(&spec(serde_json::json!({
        "kind": "anomaly_likelihood", "detector": { "kind": "holt_winters" },
        "others": [{ "kind": "rolling_zscore" }],
    })));
    assert_eq!(pair.len(), hw.len());
    for (i, ((p, a), b)) in pair.iter().zip(&hw).zip(&z).enumerate() {
        assert_eq!(*p, a.max(*b), "row {i}");
    }
    assert!(
        hw.iter().zip(&z).any(|(a, b)| b > a) && hw.iter().zip(&z).any(|(a, b)| a > b),
        "each detector must win some rows for the check to mean anything"
    );
    let nested = spec(serde_json::json!({
        "kind": "anomaly_likelihood", "detector": { "kind": "holt_winters" },
        "others": [{ "kind": "anomaly_likelihood", "detector": { "kind": "ewma" } }],
    }));
    let err = nested.check().expect_err("a nested likelihood is refused");
    assert!(err.to_string().contains("others[0]"), "{err}");
}
