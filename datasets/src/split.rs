//! Time-based splits: train / validation / test by fraction, by timestamp, by NAB's
//! probationary period or by the source's own training prefix, and rolling-origin folds.
//!
//! Every split is a set of contiguous row ranges in file order: a time series is never
//! shuffled, and every part lies after the one before it.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::error::{DatasetError, Result};
use crate::model::Series;

/// NAB's probationary period: the first `min(floor(0.15·n), 750)` rows of an `n`-row file,
/// which a detector may learn from but which are never scored.
///
/// Computed in `f64` exactly as NAB's Python does (`math.floor(0.15 * n)`), so the count agrees
/// with NAB's score tables row for row.
pub fn probationary_rows(n: usize) -> usize {
    let fifteen_percent = (0.15 * n as f64).floor() as usize;
    fifteen_percent.min(750)
}

/// Three contiguous row ranges in time order: `train`, then `validation`, then `test`.
/// `validation` may be empty (for example under [`SplitSpec::Probationary`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// Rows to fit on.
    pub train: Range<usize>,
    /// Rows to tune thresholds and hyper-parameters on; may be empty.
    pub validation: Range<usize>,
    /// Rows to evaluate on.
    pub test: Range<usize>,
}

/// How to split one series. Serialised with a `kind` tag, for example
/// `{"kind": "fractions", "train": 0.6, "validation": 0.2}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SplitSpec {
    /// The first `train` share of rows, then `validation`, then the rest as test. Boundaries
    /// are rounded to the nearest row. `validation` may be 0 (no validation rows).
    Fractions { train: f64, validation: f64 },
    /// Validation starts at the first row (in file order) whose timestamp is at or after
    /// `validation_start`, test at the first row at or after `test_start` (ms UTC). Equal
    /// boundaries give an empty validation part.
    Timestamps {
        validation_start: i64,
        test_start: i64,
    },
    /// NAB: train on the probationary rows ([`probationary_rows`]), test on the rest, no
    /// validation.
    Probationary,
    /// The source's own training prefix (`Series::train_end`, as SMD, ASD and UCR give it):
    /// validation is the last `validation_fraction` of that prefix (rounded to the nearest row),
    /// train the rows before it, test everything after the prefix.
    DatasetPrefix { validation_fraction: f64 },
}

fn bad(message: String, hint: &str) -> DatasetError {
    DatasetError::BadSplit {
        message,
        hint: hint.to_string(),
    }
}

/// A row boundary at `fraction` of `n`, rounded to the nearest row.
fn boundary(fraction: f64, n: usize) -> usize {
    ((fraction * n as f64).round() as usize).min(n)
}

/// Splits `series` by `spec`. Errors ([`DatasetError::BadSplit`]) name the series and the rule
/// broken: fractions outside `[0, 1)`, an empty train or test part (or an empty validation part
/// that was asked for), timestamps outside the data, or a missing training prefix.
pub fn split(series: &Series, spec: &SplitSpec) -> Result<Split> {
    let n = series.len();
    let name = &series.name;
    let result = match *spec {
        SplitSpec::Fractions { train, validation } => {
            let in_range = |f: f64| f.is_finite() && (0.0..1.0).contains(&f);
            if !in_range(train)
                || train == 0.0
                || !in_range(validation)
                || train + validation >= 1.0
            {
                return Err(bad(
                    format!(
                        "fractions train={train}, validation={validation} for series {name:?}: each must lie in [0, 1), train above 0, and together below 1 so that test rows remain"
                    ),
                    "use for example train = 0.6, validation = 0.2 (test gets the remaining 0.2)",
                ));
            }
            let train_end = boundary(train, n);
            let validation_end = boundary(train + validation, n).max(train_end);
            if validation > 0.0 && validation_end == train_end {
                return Err(bad(
                    format!(
                        "validation share {validation} of the {n} rows of series {name:?} is less than one row"
                    ),
                    "raise the validation fraction, or set it to 0 for no validation part",
                ));
            }
            Split {
                train: 0..train_end,
                validation: train_end..validation_end,
                test: validation_end..n,
            }
        }
        SplitSpec::Timestamps {
            validation_start,
            test_start,
        } => {
            if validation_start > test_start {
                return Err(bad(
                    format!(
                        "validation_start {} is after test_start {}",
                        show_ms(validation_start),
                        show_ms(test_start)
                    ),
                    "validation must come before test: swap the two timestamps",
                ));
            }
            let first_at = |t: i64| series.timestamps.iter().position(|&ts| ts >= t);
            let span = || match (
                series.timestamps.iter().min(),
                series.timestamps.iter().max(),
            ) {
                (Some(&lo), Some(&hi)) => format!("{} .. {}", show_ms(lo), show_ms(hi)),
                _ => "no rows".to_string(),
            };
            let hint =
                "pick boundaries inside the data's time span so that train and test both keep rows";
            let Some(test_row) = first_at(test_start) else {
                return Err(bad(
                    format!(
                        "test_start {} is after every timestamp of series {name:?} (data span {})",
                        show_ms(test_start),
                        span()
                    ),
                    hint,
                ));
            };
            let validation_row = first_at(validation_start).unwrap_or(test_row);
            if validation_row == 0 {
                return Err(bad(
                    format!(
                        "validation_start {} is at or before the first row of series {name:?} (data span {}), leaving no train rows",
                        show_ms(validation_start),
                        span()
                    ),
                    hint,
                ));
            }
            if validation_start < test_start && validation_row == test_row {
                return Err(bad(
                    format!(
                        "no row of series {name:?} lies in the validation window {} .. {}",
                        show_ms(validation_start),
                        show_ms(test_start)
                    ),
                    "widen the validation window, or set validation_start = test_start for no validation part",
                ));
            }
            Split {
                train: 0..validation_row,
                validation: validation_row..test_row,
                test: test_row..n,
            }
        }
        SplitSpec::Probationary => {
            let p = probationary_rows(n);
            Split {
                train: 0..p,
                validation: p..p,
                test: p..n,
            }
        }
        SplitSpec::DatasetPrefix {
            validation_fraction,
        } => {
            let Some(train_end) = series.train_end else {
                return Err(bad(
                    format!("series {name:?} has no training prefix (train_end)"),
                    "use fractions, timestamps or probationary, or load a layout with a training prefix (SMD, ASD, UCR)",
                ));
            };
            if !(validation_fraction.is_finite() && (0.0..1.0).contains(&validation_fraction)) {
                return Err(bad(
                    format!("validation_fraction {validation_fraction} is outside [0, 1)"),
                    "use for example 0.2: the last fifth of the training prefix validates",
                ));
            }
            let train_end = train_end.min(n);
            let validation_rows = boundary(validation_fraction, train_end);
            if validation_fraction > 0.0 && validation_rows == 0 {
                return Err(bad(
                    format!(
                        "validation share {validation_fraction} of the {train_end}-row training prefix of series {name:?} is less than one row"
                    ),
                    "raise the validation fraction, or set it to 0 for no validation part",
                ));
            }
            let validation_start = train_end - validation_rows;
            Split {
                train: 0..validation_start,
                validation: validation_start..train_end,
                test: train_end..n,
            }
        }
    };
    check_parts(&result, name, n)?;
    Ok(result)
}

/// Train and test must keep at least one row each.
fn check_parts(split: &Split, name: &str, n: usize) -> Result<()> {
    for (part, range) in [("train", &split.train), ("test", &split.test)] {
        if range.is_empty() {
            return Err(bad(
                format!(
                    "the {part} part of series {name:?} ({n} rows) would be empty (rows {range:?})"
                ),
                "move the boundaries so that train and test both keep rows; a series needs at least a few rows to split",
            ));
        }
    }
    Ok(())
}

/// A timestamp for messages: RFC 3339 and the raw milliseconds.
fn show_ms(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => format!(
            "{} ({ms} ms)",
            t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ),
        None => format!("{ms} ms"),
    }
}

/// Rolling-origin evaluation with an expanding window, like scikit-learn's
/// `TimeSeriesSplit(n_splits=folds, test_size=horizon)`: the `folds` test blocks of `horizon`
/// rows each are the last `folds × horizon` rows, back to back without overlap; each fold
/// trains on every row before its test block, so the origin rolls forward by `horizon` per
/// fold. Rows are never shuffled and validation is empty.
///
/// Errors when a parameter is 0 or when the first fold would train on fewer than `min_train`
/// rows (`n < min_train + folds × horizon`).
pub fn rolling_origin(
    n: usize,
    folds: usize,
    min_train: usize,
    horizon: usize,
) -> Result<Vec<Split>> {
    if folds == 0 || min_train == 0 || horizon == 0 {
        return Err(bad(
            format!(
                "folds = {folds}, min_train = {min_train}, horizon = {horizon}: each must be at least 1"
            ),
            "use for example folds = 5, min_train = a few seasons of rows, horizon = the rows you forecast or score at once",
        ));
    }
    let needed = folds
        .checked_mul(horizon)
        .and_then(|t| t.checked_add(min_train))
        .unwrap_or(usize::MAX);
    if needed > n {
        return Err(bad(
            format!(
                "{folds} folds of {horizon} rows after at least {min_train} training rows need {needed} rows, but the series has {n}"
            ),
            "use fewer folds, a shorter horizon or a smaller min_train",
        ));
    }
    let first_origin = n - folds * horizon;
    Ok((0..folds)
        .map(|fold| {
            let origin = first_origin + fold * horizon;
            Split {
                train: 0..origin,
                validation: origin..origin,
                test: origin..origin + horizon,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
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
}
