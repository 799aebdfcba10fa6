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
    /// The source's own training prefix trains; the labelled rows after it are split in time:
    /// their first `validation_fraction` validates (thresholds and hyper-parameters are chosen
    /// on labelled data), the rest is test. For SMD and ASD, whose training prefix carries no
    /// labels.
    DatasetPrefixLabelled { validation_fraction: f64 },
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
        SplitSpec::DatasetPrefixLabelled {
            validation_fraction,
        } => {
            let Some(train_end) = series.train_end else {
                return Err(bad(
                    format!("series {name:?} has no training prefix (train_end)"),
                    "use fractions, timestamps or probationary, or load a layout with a training prefix (SMD, ASD, UCR)",
                ));
            };
            if !(validation_fraction.is_finite()
                && validation_fraction > 0.0
                && validation_fraction < 1.0)
            {
                return Err(bad(
                    format!("validation_fraction {validation_fraction} is outside (0, 1)"),
                    "use for example 0.3: the first 30% of the labelled rows validates, the rest tests",
                ));
            }
            let train_end = train_end.min(n);
            let test_start = train_end + boundary(validation_fraction, n - train_end);
            if test_start == train_end {
                return Err(bad(
                    format!(
                        "validation share {validation_fraction} of the {} labelled rows of series {name:?} is less than one row",
                        n - train_end
                    ),
                    "raise the validation fraction",
                ));
            }
            Split {
                train: 0..train_end,
                validation: train_end..test_start,
                test: test_start..n,
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
mod tests;
