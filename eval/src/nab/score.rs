//! NAB scoring at one fixed threshold (a row detects when `score >= threshold`).

use serde::{Deserialize, Serialize};

use super::{NabProfile, NabSeries, Placement, detection_value};
use crate::point::Confusion;

/// One detection outside every window and its (negative) NAB value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FalsePositive {
    /// Row of the detection.
    pub row: usize,
    /// Its weighted NAB value.
    pub value: f64,
}

/// NAB result of one series at one threshold and profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NabSeriesScore {
    /// Raw NAB score: window values plus false-positive values.
    pub score: f64,
    /// TP/FP: detections inside/outside windows; FN/TN: the other rows inside/outside windows.
    /// Scorable rows only (after the probationary period), as in NAB's tables.
    pub confusion: Confusion,
    /// Per window: its best (earliest) weighted detection, or `−fnW` when missed.
    pub window_scores: Vec<f64>,
    /// Row of each window's earliest scorable detection, `None` when missed.
    pub first_detections: Vec<Option<usize>>,
    /// Every scorable detection outside the windows, in row order.
    pub false_positives: Vec<FalsePositive>,
    /// Rows in the series, probationary rows included.
    pub rows: usize,
    /// Probationary rows.
    pub probation: usize,
}

impl NabSeriesScore {
    /// NAB v1.0's sparse per-row `S(t)` column: each window's value on its first row, each false
    /// positive's value on its own row, 0 elsewhere. Sums to `score`.
    pub fn sparse_contributions(&self, windows: &[crate::labels::Window]) -> Vec<f64> {
        let mut out = vec![0.0; self.rows];
        for (w, value) in windows.iter().zip(&self.window_scores) {
            out[w.start] = *value;
        }
        for fp in &self.false_positives {
            out[fp.row] = fp.value;
        }
        out
    }
}

/// Scores one series at `threshold` under `profile`, exactly as NAB v1.0 does.
pub fn score_series(series: &NabSeries<'_>, threshold: f64, profile: NabProfile) -> NabSeriesScore {
    let costs = profile.costs();
    let windows = series.windows();
    let mut confusion = Confusion::default();
    let mut first_detections: Vec<Option<usize>> = vec![None; windows.len()];
    let mut false_positives = Vec::new();
    let mut fp_score = 0.0;
    let placements = series.placements();
    for (row, (&score, &placement)) in series.scores().iter().zip(&placements).enumerate() {
        if row < series.probation() {
            continue;
        }
        let detected = score >= threshold;
        match placement {
            Placement::Inside(w) => {
                confusion.add(detected, true);
                if detected && first_detections[w].is_none() {
                    first_detections[w] = Some(row);
                }
            }
            Placement::Outside(_) => {
                confusion.add(detected, false);
                if detected {
                    let value = detection_value(windows, placement, row, &costs);
                    fp_score += value;
                    false_positives.push(FalsePositive { row, value });
                }
            }
        }
    }
    let mut tp_score = 0.0;
    let mut fn_score = 0.0;
    let window_scores = first_detections
        .iter()
        .enumerate()
        .map(|(w, first)| match first {
            Some(row) => {
                let value = detection_value(windows, Placement::Inside(w), *row, &costs);
                tp_score += value;
                value
            }
            None => {
                fn_score -= costs.fn_weight;
                -costs.fn_weight
            }
        })
        .collect();
    NabSeriesScore {
        score: tp_score + fp_score + fn_score,
        confusion,
        window_scores,
        first_detections,
        false_positives,
        rows: series.scores().len(),
        probation: series.probation(),
    }
}

/// NAB result over a corpus of series at one threshold and profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NabCorpusScore {
    /// The profile used.
    pub profile: NabProfile,
    /// The threshold used (`score >= threshold` detects).
    pub threshold: f64,
    /// Sum of the per-series raw scores.
    pub raw: f64,
    /// Raw score of the null detector (no detections): `−fnW` per window.
    pub null: f64,
    /// Raw score of the perfect detector: `tpW` per window.
    pub perfect: f64,
    /// `100·(raw − null)/(perfect − null)`; `None` when the corpus has no window.
    pub normalised: Option<f64>,
    /// Summed confusion counts.
    pub confusion: Confusion,
    /// Per-series results, in input order.
    pub series: Vec<NabSeriesScore>,
}

/// Scores every series at `threshold` and normalises the total.
pub fn score_corpus(
    corpus: &[NabSeries<'_>],
    threshold: f64,
    profile: NabProfile,
) -> NabCorpusScore {
    let series: Vec<NabSeriesScore> = corpus
        .iter()
        .map(|s| score_series(s, threshold, profile))
        .collect();
    let raw = series.iter().map(|s| s.score).sum();
    let mut confusion = Confusion::default();
    for s in &series {
        confusion.tp += s.confusion.tp;
        confusion.fp += s.confusion.fp;
        confusion.tn += s.confusion.tn;
        confusion.fn_ += s.confusion.fn_;
    }
    let (null, perfect) = null_and_perfect(corpus, profile);
    NabCorpusScore {
        profile,
        threshold,
        raw,
        null,
        perfect,
        normalised: normalise(raw, null, perfect),
        confusion,
        series,
    }
}

/// Raw scores of the null and the perfect detector on this corpus.
pub(crate) fn null_and_perfect(corpus: &[NabSeries<'_>], profile: NabProfile) -> (f64, f64) {
    let costs = profile.costs();
    let windows: usize = corpus.iter().map(|s| s.windows().len()).sum();
    (
        -costs.fn_weight * windows as f64,
        costs.tp_weight * windows as f64,
    )
}

/// `100·(raw − null)/(perfect − null)`, `None` when perfect equals null.
pub(crate) fn normalise(raw: f64, null: f64, perfect: f64) -> Option<f64> {
    (perfect != null).then(|| 100.0 * (raw - null) / (perfect - null))
}

#[cfg(test)]
mod tests {
    use super::super::{NabSeries, scaled_sigmoid};
    use super::*;
    use crate::labels::Window;

    fn series<'a>(scores: &'a [f64], windows: &[Window]) -> NabSeries<'a> {
        NabSeries::with_probation_percent(scores, windows, 0.0).unwrap()
    }

    #[test]
    fn no_alerts_costs_fn_per_window() {
        let scores = [0.0; 20];
        let s = series(&scores, &[Window::new(5, 9), Window::new(12, 14)]);
        for p in NabProfile::ALL {
            let r = score_series(&s, 0.5, p);
            assert_eq!(r.score, -2.0 * p.costs().fn_weight);
            assert_eq!(r.confusion.fn_, 8);
            assert_eq!(r.confusion.tn, 12);
        }
    }

    #[test]
    fn empty_labels_only_false_positives() {
        let mut scores = [0.0; 10];
        scores[3] = 1.0;
        scores[7] = 1.0;
        let s = series(&scores, &[]);
        let r = score_series(&s, 0.5, NabProfile::Standard);
        assert!((r.score + 0.22).abs() < 1e-15);
        assert_eq!(r.confusion.fp, 2);
        let c = score_corpus(&[s], 0.5, NabProfile::Standard);
        assert_eq!(c.normalised, None);
    }

    #[test]
    fn alert_at_first_row_of_window_earns_full_weight() {
        let mut scores = [0.0; 20];
        scores[5] = 1.0;
        scores[8] = 1.0; // a later detection in the same window does not add
        let s = series(&scores, &[Window::new(5, 9)]);
        let r = score_series(&s, 0.5, NabProfile::Standard);
        assert!((r.score - 1.0).abs() < 1e-15, "{}", r.score);
        assert_eq!(r.first_detections, vec![Some(5)]);
        assert_eq!(r.confusion.tp, 2);
        let c = score_corpus(&[s], 0.5, NabProfile::Standard);
        assert!((c.normalised.unwrap() - 100.0).abs() < 1e-12);
    }

    #[test]
    fn last_row_of_window_is_worth_sigmoid_of_one_over_width() {
        let mut scores = [0.0; 20];
        scores[9] = 1.0;
        let s = series(&scores, &[Window::new(5, 9)]);
        let r = score_series(&s, 0.5, NabProfile::Standard);
        let expected = scaled_sigmoid(-1.0 / 5.0) / scaled_sigmoid(-1.0);
        assert!((r.score - expected).abs() < 1e-15);
    }

    #[test]
    fn false_positive_after_window_is_relative_to_previous_window() {
        let mut scores = [0.0; 40];
        scores[2] = 1.0; // before any window: -fpW
        scores[12] = 1.0; // 2 rows after a 5-row window ending at 9... position 3/4
        scores[39] = 1.0; // far past: -fpW
        let s = series(&scores, &[Window::new(5, 9)]);
        let r = score_series(&s, 0.5, NabProfile::RewardLowFp);
        let fp = 0.22;
        let expected = -1.0 - fp + scaled_sigmoid(3.0 / 4.0) * fp - fp;
        assert!((r.score - expected).abs() < 1e-15, "{} {expected}", r.score);
        let sparse = r.sparse_contributions(s.windows());
        assert_eq!(sparse[5], -1.0);
        assert!((sparse.iter().sum::<f64>() - r.score).abs() < 1e-15);
    }

    #[test]
    fn overlapping_windows_are_rejected_and_adjacent_ones_score_apart() {
        let scores = [0.0; 20];
        assert!(NabSeries::new(&scores, &[Window::new(2, 6), Window::new(5, 9)]).is_err());
        let mut scores = [0.0; 20];
        scores[7] = 1.0;
        let s = series(&scores, &[Window::new(2, 6), Window::new(7, 9)]);
        let r = score_series(&s, 0.5, NabProfile::Standard);
        assert_eq!(r.first_detections, vec![None, Some(7)]);
        assert!((r.score - 0.0).abs() < 1e-15, "{}", r.score); // -1 + 1
    }

    #[test]
    fn window_in_probation_still_counts_as_missed() {
        // 100 rows, 15 probationary; window 10..=20 begins in the probationary period.
        let mut scores = vec![0.0; 100];
        scores[12] = 1.0; // inside probation: ignored
        let windows = [Window::new(10, 20)];
        let s = NabSeries::new(&scores, &windows).unwrap();
        assert_eq!(s.probation(), 15);
        let r = score_series(&s, 0.5, NabProfile::Standard);
        assert_eq!(r.score, -1.0);
        assert_eq!(r.confusion.tp + r.confusion.fn_, 6); // rows 15..=20
        scores[16] = 1.0; // first scorable detection: weight uses the full window
        let s = NabSeries::new(&scores, &windows).unwrap();
        let r = score_series(&s, 0.5, NabProfile::Standard);
        let expected = scaled_sigmoid(-5.0 / 11.0) / scaled_sigmoid(-1.0);
        assert!((r.score - expected).abs() < 1e-15);
    }
}
