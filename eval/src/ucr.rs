//! The UCR anomaly archive's top-1 accuracy (Wu & Keogh, TKDE 2021; the KDD Cup 2021 protocol):
//! one verdict per series, *does the single highest score after the training prefix fall inside
//! the labelled anomaly, widened by `slack` points on each side?*, and the macro mean of those
//! 1/0 verdicts over the series (the metric `ucr_top1`).
//!
//! Conventions, decided here once:
//! * **Ties** go to the first (earliest) row holding the maximum, as `numpy.argmax` and
//!   `numpy.nanargmax` do, which is what a contest entry built on them submitted. A detector
//!   whose maximum is a plateau is therefore credited only when the plateau starts in range;
//!   [`Top1::tied`] counts the rows sharing the maximum so that a report can say so.
//! * **NaN scores are ignored** (as by `numpy.nanargmax`); `+∞` is an ordinary maximum. A series
//!   whose scores are all NaN, or empty, is an error, never a verdict.
//! * **Positions**: [`ucr_top1`] takes the labels as the archive's file names give them
//!   (`<id>_UCR_Anomaly_<name>_<trainEnd>_<begin>_<end>`): 1-based positions in the whole
//!   series, the anomaly `begin ..= end`, and the evaluated rows are positions
//!   `trainEnd + 1 …`. A hit is `begin − slack <= position <= end + slack`.
//! * [`top1_in_windows`] is the same rule on 0-based incident [`Window`]s over the evaluated
//!   rows, which is how the experiment runner and `vigil eval` see every dataset; a series with
//!   several incidents counts a hit when the top row is within `slack` rows of any of them.
//!   On the UCR archive that runner reads the anomaly as the 0-based slice
//!   `x[begin:end]` (`vigil-datasets`), one row shorter at the start than the 1-based reading,
//!   so the two verdicts can differ only when the top row sits exactly at `begin − slack`.

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};
use crate::labels::{Window, validate_windows};

/// Points allowed on each side of the anomaly: 100, the KDD Cup 2021 convention.
pub const DEFAULT_SLACK: usize = 100;

/// The labels of one archive series, as its file name gives them (1-based positions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UcrLabel {
    /// Positions `1 ..= train_end` are the anomaly-free training prefix; the evaluated rows
    /// start at position `train_end + 1`.
    pub train_end: usize,
    /// First anomalous position (1-based, inclusive).
    pub begin: usize,
    /// Last anomalous position (1-based, inclusive).
    pub end: usize,
}

impl UcrLabel {
    /// The 1-based position in the whole series of evaluated row `row` (0-based).
    pub fn position(&self, row: usize) -> usize {
        self.train_end + row + 1
    }
}

/// Where the highest score of one series lies, and the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Top1 {
    /// Row of the highest score, 0-based into the scores given (the first on ties).
    pub row: usize,
    /// How many rows hold that highest score (1 when the maximum is unique).
    pub tied: usize,
    /// Rows (points) between the top row and the nearest anomaly; 0 inside one.
    pub distance: usize,
    /// Whether `distance <= slack`: the series counts 1 towards `ucr_top1`.
    pub hit: bool,
}

/// The first row of the maximum score (NaN ignored) and how many rows share it.
fn argmax(scores: &[f64]) -> Result<(usize, usize)> {
    let mut best: Option<(usize, f64, usize)> = None;
    for (row, &s) in scores.iter().enumerate() {
        if s.is_nan() {
            continue;
        }
        match &mut best {
            Some((_, value, _)) if s > *value => best = Some((row, s, 1)),
            Some((_, value, tied)) if s == *value => *tied += 1,
            Some(_) => {}
            None => best = Some((row, s, 1)),
        }
    }
    best.map(|(row, _, tied)| (row, tied))
        .ok_or(EvalError::NotEnoughData {
            what: "ucr_top1",
            needed: "at least one score that is not NaN",
            hint: "pass the scores of the rows after the training prefix; a detector that scores nothing has no top location",
        })
}

/// Distance from `row` to the range `start ..= end` (0 inside).
fn distance(row: usize, start: usize, end: usize) -> usize {
    if row < start {
        start - row
    } else {
        row.saturating_sub(end)
    }
}

/// The archive's verdict for one series: `test_scores` are the scores of the evaluated rows
/// (positions `label.train_end + 1 …`), the label is the file name's.
pub fn ucr_top1(test_scores: &[f64], label: &UcrLabel, slack: usize) -> Result<Top1> {
    if test_scores.is_empty() {
        return Err(EvalError::NotEnoughData {
            what: "ucr_top1",
            needed: "at least one evaluated row",
            hint: "pass the scores of the rows after the training prefix",
        });
    }
    let last = label.train_end + test_scores.len();
    if label.begin == 0 || label.begin > label.end || label.end > last {
        return Err(EvalError::InvalidParam {
            param: "ucr_top1.anomaly",
            value: format!(
                "{}..={} (training prefix 1..={}, series 1..={last})",
                label.begin, label.end, label.train_end
            ),
            reason: "the anomaly must be 1 <= begin <= end <= the last position of the series",
            hint: "give the positions as the archive's file name does (1-based, inclusive) and one score per row after the training prefix",
        });
    }
    let (row, tied) = argmax(test_scores)?;
    let d = distance(label.position(row), label.begin, label.end);
    Ok(Top1 {
        row,
        tied,
        distance: d,
        hit: d <= slack,
    })
}

/// The same verdict on 0-based incident windows over the rows of `scores` (sorted, disjoint):
/// a hit when the top row is within `slack` rows of any window.
pub fn top1_in_windows(scores: &[f64], windows: &[Window], slack: usize) -> Result<Top1> {
    if scores.is_empty() {
        return Err(EvalError::NotEnoughData {
            what: "ucr_top1",
            needed: "at least one evaluated row",
            hint: "pass the scores of the rows after the training prefix",
        });
    }
    validate_windows(windows, scores.len())?;
    if windows.is_empty() {
        return Err(EvalError::NotEnoughData {
            what: "ucr_top1",
            needed: "a labelled anomaly in the evaluated rows",
            hint: "evaluate on a slice that contains the incident",
        });
    }
    let (row, tied) = argmax(scores)?;
    let d = windows
        .iter()
        .map(|w| distance(row, w.start, w.end))
        .min()
        .unwrap_or(usize::MAX);
    Ok(Top1 {
        row,
        tied,
        distance: d,
        hit: d <= slack,
    })
}

/// `ucr_top1`: the share of series whose top score is a hit (macro mean of the 1/0 verdicts).
pub fn macro_top1(verdicts: &[Top1]) -> Result<f64> {
    if verdicts.is_empty() {
        return Err(EvalError::NotEnoughData {
            what: "ucr_top1",
            needed: "at least one series with a labelled anomaly",
            hint: "evaluate series that contain an incident",
        });
    }
    let hits = verdicts.iter().filter(|v| v.hit).count();
    Ok(hits as f64 / verdicts.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABEL: UcrLabel = UcrLabel {
        train_end: 1000,
        begin: 1500,
        end: 1510,
    };

    /// Scores of 1000 evaluated rows (positions 1001..=2000) with one peak at `position`.
    fn peak_at(position: usize) -> Vec<f64> {
        let mut s = vec![0.0; 1000];
        s[position - 1001] = 1.0;
        s
    }

    #[test]
    fn the_slack_is_inclusive_on_both_sides() {
        for (position, hit) in [
            (1400, true),
            (1399, false),
            (1610, true),
            (1611, false),
            (1505, true),
        ] {
            let v = ucr_top1(&peak_at(position), &LABEL, DEFAULT_SLACK).unwrap();
            assert_eq!(v.hit, hit, "peak at {position}: {v:?}");
            assert_eq!(LABEL.position(v.row), position);
        }
        let v = ucr_top1(&peak_at(1399), &LABEL, 101).unwrap();
        assert!(v.hit && v.distance == 101, "{v:?}");
        let v = ucr_top1(&peak_at(1499), &LABEL, 0).unwrap();
        assert!(!v.hit && v.distance == 1, "{v:?}");
    }

    #[test]
    fn ties_go_to_the_first_row_and_are_counted() {
        let mut s = peak_at(1200); // outside
        s[1505 - 1001] = 1.0; // inside, later
        let v = ucr_top1(&s, &LABEL, DEFAULT_SLACK).unwrap();
        assert_eq!((v.row, v.tied, v.hit), (199, 2, false));
        let mut s = peak_at(1505);
        s[1900 - 1001] = 1.0;
        let v = ucr_top1(&s, &LABEL, DEFAULT_SLACK).unwrap();
        assert_eq!((v.row, v.tied, v.hit), (504, 2, true));
    }

    #[test]
    fn nan_scores_are_ignored_and_infinity_is_a_maximum() {
        let mut s = peak_at(1505);
        s[0] = f64::NAN;
        s[900] = f64::NAN;
        assert!(ucr_top1(&s, &LABEL, DEFAULT_SLACK).unwrap().hit);
        s[100] = f64::INFINITY;
        let v = ucr_top1(&s, &LABEL, DEFAULT_SLACK).unwrap();
        assert_eq!((v.row, v.hit), (100, false));
    }

    #[test]
    fn empty_or_all_nan_scores_are_errors() {
        let err = ucr_top1(&[], &LABEL, 100).unwrap_err();
        assert!(matches!(err, EvalError::NotEnoughData { .. }), "{err}");
        let err = ucr_top1(&[f64::NAN; 600], &LABEL, 100).unwrap_err();
        assert!(err.to_string().contains("not NaN"), "{err}");
        let w = [Window::new(0, 1)];
        assert!(top1_in_windows(&[], &w, 100).is_err());
        assert!(top1_in_windows(&[f64::NAN, f64::NAN], &w, 100).is_err());
        assert!(macro_top1(&[]).is_err());
    }

    #[test]
    fn labels_outside_the_series_are_rejected() {
        let s = vec![0.0; 1000];
        for (begin, end) in [(0, 5), (1510, 1500), (1500, 2001)] {
            let label = UcrLabel {
                begin,
                end,
                ..LABEL
            };
            let err = ucr_top1(&s, &label, 100).unwrap_err();
            assert!(err.to_string().contains("ucr_top1.anomaly"), "{err}");
        }
        assert!(top1_in_windows(&[0.0; 5], &[Window::new(3, 7)], 100).is_err());
        assert!(top1_in_windows(&[0.0; 5], &[], 100).is_err());
    }

    #[test]
    fn windows_agree_with_file_name_positions() {
        // 1-based begin..=end after a prefix of train_end is 0-based rows
        // begin-1-train_end ..= end-1-train_end of the evaluated scores.
        let w = [Window::new(1500 - 1 - 1000, 1510 - 1 - 1000)];
        for position in [1398, 1399, 1400, 1401, 1505, 1609, 1610, 1611, 1612] {
            let s = peak_at(position);
            assert_eq!(
                top1_in_windows(&s, &w, DEFAULT_SLACK).unwrap(),
                ucr_top1(&s, &LABEL, DEFAULT_SLACK).unwrap(),
                "peak at {position}"
            );
        }
    }

    #[test]
    fn several_incidents_take_the_nearest() {
        let w = [Window::new(10, 12), Window::new(300, 310)];
        let mut s = vec![0.0; 400];
        s[200] = 1.0;
        let v = top1_in_windows(&s, &w, 100).unwrap();
        assert_eq!((v.distance, v.hit), (100, true));
        let v = top1_in_windows(&s, &w, 99).unwrap();
        assert!(!v.hit);
    }

    #[test]
    fn the_macro_mean_counts_hits() {
        let v = |hit| Top1 {
            row: 0,
            tied: 1,
            distance: 0,
            hit,
        };
        assert_eq!(
            macro_top1(&[v(true), v(false), v(true), v(true)]).unwrap(),
            0.75
        );
    }
}
