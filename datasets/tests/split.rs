//! Splits against references: NAB's probationary period against NAB's own score tables,
//! rolling-origin folds against scikit-learn's `TimeSeriesSplit`, and the training-prefix split
//! on real SMD and UCR series.

use std::path::Path;

use vigil_datasets::{
    Split, SplitSpec, load_smd, load_ucr, probationary_rows, rolling_origin, split,
};

use crate::rowbased_fixtures::{lines, real};

/// NAB's score tables count TP+TN+FP+FN over scored rows only and `Total_Count` over all rows,
/// so `Total_Count − (TP+TN+FP+FN)` is NAB's probationary period for that file.
#[test]
fn probationary_rows_match_nab_score_tables() {
    let results = real("nab").join("reference/results");
    let mut checked = 0;
    for detector in std::fs::read_dir(&results).expect("results folder") {
        let detector = detector.expect("entry").path();
        for table in std::fs::read_dir(&detector).expect("detector folder") {
            let table = table.expect("entry").path();
            if !table.to_string_lossy().ends_with("_scores.csv") {
                continue;
            }
            let rows = lines(&table);
            assert!(
                rows[0].ends_with("Score,TP,TN,FP,FN,Total_Count"),
                "{}",
                rows[0]
            );
            for row in &rows[1..] {
                let cells: Vec<&str> = row.split(',').collect();
                if cells[2] == "DevTotals" || cells[0] == "DevTotals" || row.contains("Totals") {
                    continue;
                }
                let n = |i: usize| -> usize { cells[cells.len() - 6 + i].parse().expect("count") };
                let total = n(5);
                let scored = n(1) + n(2) + n(3) + n(4);
                assert_eq!(
                    probationary_rows(total),
                    total - scored,
                    "{}: {row}",
                    table.display()
                );
                checked += 1;
            }
        }
    }
    // 4 detectors × 3 profiles × 31 files
    assert_eq!(checked, 372);
}

#[test]
fn rolling_origin_matches_sklearn_time_series_split() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rolling_origin/expected.json");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let fixture: serde_json::Value = serde_json::from_str(&text).expect("json");
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(cases.len() >= 5);
    for case in cases {
        let get = |k: &str| case[k].as_u64().expect("number") as usize;
        let (n, folds, horizon) = (get("n"), get("folds"), get("horizon"));
        let range = |v: &serde_json::Value| {
            let a = v.as_array().expect("pair");
            a[0].as_u64().expect("start") as usize..a[1].as_u64().expect("end") as usize
        };
        let expected: Vec<Split> = case["splits"]
            .as_array()
            .expect("splits")
            .iter()
            .map(|s| {
                let test = range(&s["test"]);
                Split {
                    train: range(&s["train"]),
                    validation: test.start..test.start,
                    test,
                }
            })
            .collect();
        let min_train = expected[0].train.len();
        assert_eq!(
            rolling_origin(n, folds, min_train, horizon).expect("folds"),
            expected,
            "n={n} folds={folds}"
        );
        assert!(
            rolling_origin(n, folds, min_train + 1, horizon).is_err(),
            "min_train is enforced"
        );
    }
}

#[test]
fn dataset_prefix_on_real_smd_and_ucr() {
    let smd = load_smd(&real("smd")).expect("SMD loads");
    for s in &smd.series {
        let train_end = s.train_end.expect("train_end");
        let got = split(
            s,
            &SplitSpec::DatasetPrefix {
                validation_fraction: 0.25,
            },
        )
        .expect("splits");
        assert_eq!(
            got.test,
            train_end..s.len(),
            "{}: test is the source's test part",
            s.name
        );
        assert_eq!(got.validation.end, train_end);
        assert_eq!(
            got.validation.len(),
            (train_end as f64 * 0.25).round() as usize
        );
        assert_eq!(got.train, 0..got.validation.start);
        // none of the source's test labels leak into train or validation
        assert!(s.labels()[..train_end].iter().all(|l| !l));
    }
    let ucr = load_ucr(&real("ucr")).expect("UCR loads");
    for s in &ucr.series {
        let got = split(
            s,
            &SplitSpec::DatasetPrefix {
                validation_fraction: 0.0,
            },
        )
        .expect("splits");
        let (first, _) = s.incident_row_ranges()[0];
        assert!(
            got.train.end <= first,
            "{}: the training prefix is anomaly-free",
            s.name
        );
        let probation = split(s, &SplitSpec::Probationary).expect("splits");
        assert_eq!(
            probation.train.len(),
            750,
            "{}: UCR series are long",
            s.name
        );
    }
}
