//! Unit tests for each split rule.

use super::*;
use ndarray::Array2;

fn series(timestamps: Vec<i64>) -> Series {
    let n = timestamps.len();
    Series::new("s", timestamps, vec!["value".into()], Array2::zeros((n, 1)))
}

fn spec_err(s: &Series, spec: SplitSpec) -> String {
    match split(s, &spec) {
        Err(e @ DatasetError::BadSplit { .. }) => e.to_string(),
        other => panic!("expected BadSplit for {spec:?}, got {other:?}"),
    }
}

#[test]
fn probationary_formula_small_and_large() {
    // min(floor(0.15 n), 750)
    assert_eq!(probationary_rows(0), 0);
    assert_eq!(probationary_rows(6), 0);
    assert_eq!(probationary_rows(7), 1);
    assert_eq!(probationary_rows(20), 3);
    assert_eq!(probationary_rows(100), 15);
    assert_eq!(probationary_rows(1_127), 169);
    assert_eq!(probationary_rows(4_999), 749);
    assert_eq!(probationary_rows(5_000), 750);
    assert_eq!(probationary_rows(22_695), 750);
    assert_eq!(probationary_rows(usize::MAX / 2), 750);
}

#[test]
fn fractions_round_to_rows_and_cover_everything() {
    let s = series((0..10).collect());
    let got = split(
        &s,
        &SplitSpec::Fractions {
            train: 0.7,
            validation: 0.2,
        },
    )
    .expect("splits");
    assert_eq!(
        got,
        Split {
            train: 0..7,
            validation: 7..9,
            test: 9..10
        }
    );
    // 0.29·100 is 28.999… in floating point; rounding keeps it at 29
    let s = series((0..100).collect());
    let got = split(
        &s,
        &SplitSpec::Fractions {
            train: 0.29,
            validation: 0.0,
        },
    )
    .expect("splits");
    assert_eq!(
        got,
        Split {
            train: 0..29,
            validation: 29..29,
            test: 29..100
        }
    );
}

#[test]
fn fractions_out_of_range_or_empty_parts_are_errors() {
    let s = series((0..10).collect());
    for (train, validation) in [
        (0.0, 0.2),
        (1.0, 0.0),
        (-0.1, 0.2),
        (0.5, 0.5),
        (0.6, f64::NAN),
        (0.5, -0.1),
    ] {
        spec_err(&s, SplitSpec::Fractions { train, validation });
    }
    let msg = spec_err(
        &s,
        SplitSpec::Fractions {
            train: 0.5,
            validation: 0.01,
        },
    );
    assert!(msg.contains("less than one row"), "{msg}");
    let msg = spec_err(
        &s,
        SplitSpec::Fractions {
            train: 0.96,
            validation: 0.0,
        },
    );
    assert!(msg.contains("test part"), "{msg}");
    let tiny = series(vec![0]);
    spec_err(
        &tiny,
        SplitSpec::Fractions {
            train: 0.4,
            validation: 0.0,
        },
    );
}

#[test]
fn timestamps_take_first_row_at_or_after_in_file_order() {
    let s = series(vec![0, 10, 20, 30, 40, 50]);
    let got = split(
        &s,
        &SplitSpec::Timestamps {
            validation_start: 20,
            test_start: 35,
        },
    )
    .expect("splits");
    assert_eq!(
        got,
        Split {
            train: 0..2,
            validation: 2..4,
            test: 4..6
        }
    );
    // non-monotonic: a step back after row 3; the first row at or after 25 is row 3
    let s = series(vec![0, 10, 20, 30, 15, 40]);
    let got = split(
        &s,
        &SplitSpec::Timestamps {
            validation_start: 25,
            test_start: 35,
        },
    )
    .expect("splits");
    assert_eq!(
        got,
        Split {
            train: 0..3,
            validation: 3..5,
            test: 5..6
        }
    );
    let got = split(
        &s,
        &SplitSpec::Timestamps {
            validation_start: 30,
            test_start: 30,
        },
    )
    .expect("splits");
    assert_eq!(got.validation, 3..3);
}

#[test]
fn timestamps_outside_the_data_are_errors() {
    let s = series(vec![0, 10, 20, 30]);
    let msg = spec_err(
        &s,
        SplitSpec::Timestamps {
            validation_start: 10,
            test_start: 31,
        },
    );
    assert!(
        msg.contains("after every timestamp") && msg.contains("1970-01-01T00:00:00.030Z"),
        "{msg}"
    );
    let msg = spec_err(
        &s,
        SplitSpec::Timestamps {
            validation_start: -5,
            test_start: 20,
        },
    );
    assert!(msg.contains("no train rows"), "{msg}");
    let msg = spec_err(
        &s,
        SplitSpec::Timestamps {
            validation_start: 20,
            test_start: 10,
        },
    );
    assert!(msg.contains("after test_start"), "{msg}");
    let msg = spec_err(
        &s,
        SplitSpec::Timestamps {
            validation_start: 11,
            test_start: 19,
        },
    );
    assert!(msg.contains("validation window"), "{msg}");
}

#[test]
fn probationary_split_trains_on_the_probation() {
    let s = series((0..100).collect());
    let got = split(&s, &SplitSpec::Probationary).expect("splits");
    assert_eq!(
        got,
        Split {
            train: 0..15,
            validation: 15..15,
            test: 15..100
        }
    );
    let msg = spec_err(&series((0..6).collect()), SplitSpec::Probationary);
    assert!(msg.contains("train part"), "{msg}");
}

#[test]
fn dataset_prefix_validates_on_the_tail_of_the_prefix() {
    let mut s = series((0..20).collect());
    let msg = spec_err(
        &s,
        SplitSpec::DatasetPrefix {
            validation_fraction: 0.2,
        },
    );
    assert!(msg.contains("no training prefix"), "{msg}");
    s.train_end = Some(10);
    let got = split(
        &s,
        &SplitSpec::DatasetPrefix {
            validation_fraction: 0.2,
        },
    )
    .expect("splits");
    assert_eq!(
        got,
        Split {
            train: 0..8,
            validation: 8..10,
            test: 10..20
        }
    );
    let got = split(
        &s,
        &SplitSpec::DatasetPrefix {
            validation_fraction: 0.0,
        },
    )
    .expect("splits");
    assert_eq!(
        got,
        Split {
            train: 0..10,
            validation: 10..10,
            test: 10..20
        }
    );
    spec_err(
        &s,
        SplitSpec::DatasetPrefix {
            validation_fraction: 1.0,
        },
    );
    spec_err(
        &s,
        SplitSpec::DatasetPrefix {
            validation_fraction: 0.01,
        },
    );
    s.train_end = Some(20);
    let msg = spec_err(
        &s,
        SplitSpec::DatasetPrefix {
            validation_fraction: 0.2,
        },
    );
    assert!(msg.contains("test part"), "{msg}");
}

#[test]
fn spec_serde_is_tagged() {
    let spec: SplitSpec =
        serde_json::from_str(r#"{"kind":"fractions","train":0.6,"validation":0.2}"#)
            .expect("parses");
    assert_eq!(
        spec,
        SplitSpec::Fractions {
            train: 0.6,
            validation: 0.2
        }
    );
    let spec: SplitSpec = serde_json::from_str(r#"{"kind":"probationary"}"#).expect("parses");
    assert_eq!(spec, SplitSpec::Probationary);
    let json = serde_json::to_string(&SplitSpec::DatasetPrefix {
        validation_fraction: 0.1,
    })
    .expect("json");
    assert_eq!(
        json,
        r#"{"kind":"dataset_prefix","validation_fraction":0.1}"#
    );
    let back: SplitSpec = serde_json::from_str(&json).expect("round trip");
    assert_eq!(
        back,
        SplitSpec::DatasetPrefix {
            validation_fraction: 0.1
        }
    );
    assert!(serde_json::from_str::<SplitSpec>(r#"{"kind":"shuffle"}"#).is_err());
}

#[test]
fn rolling_origin_expands_without_overlap() {
    let folds = rolling_origin(10, 3, 2, 2).expect("folds");
    let tests: Vec<_> = folds.iter().map(|f| f.test.clone()).collect();
    assert_eq!(tests, vec![4..6, 6..8, 8..10]);
    for f in &folds {
        assert_eq!(f.train, 0..f.test.start);
        assert!(f.validation.is_empty());
    }
    assert!(rolling_origin(10, 3, 5, 2).is_err());
    assert!(rolling_origin(10, 0, 1, 1).is_err());
    assert!(rolling_origin(10, 1, 0, 1).is_err());
    assert!(rolling_origin(10, 1, 1, 0).is_err());
    assert!(rolling_origin(10, usize::MAX, 1, 2).is_err());
}

#[test]
fn labelled_prefix_split_validates_on_the_first_labelled_rows() {
    let mut s = series((0..20).collect());
    let spec = SplitSpec::DatasetPrefixLabelled {
        validation_fraction: 0.3,
    };
    let msg = spec_err(&s, spec.clone());
    assert!(msg.contains("no training prefix"), "{msg}");
    s.train_end = Some(10);
    assert_eq!(
        split(&s, &spec).expect("splits"),
        Split {
            train: 0..10,
            validation: 10..13,
            test: 13..20
        }
    );
    let msg = spec_err(
        &s,
        SplitSpec::DatasetPrefixLabelled {
            validation_fraction: 0.0,
        },
    );
    assert!(msg.contains("outside (0, 1)"), "{msg}");
}
