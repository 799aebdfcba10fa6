//! Point-wise metrics (precision, recall, F1, false-positive rate, confusion counts) and the
//! point-adjusted family (PA and PA%K of Kim et al., AAAI 2022), always labelled as adjusted.
//!
//! Undefined ratios (no predicted positives, no labelled positives) are reported as 0, the
//! convention of scikit-learn's `zero_division=0`, so results stay finite and serialisable.

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result, check_len};
use crate::labels::{Window, labels_from_windows, validate_windows};

/// Confusion counts over scored rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    /// Predicted anomalous and labelled anomalous.
    pub tp: usize,
    /// Predicted anomalous, labelled normal.
    pub fp: usize,
    /// Predicted normal, labelled normal.
    pub tn: usize,
    /// Predicted normal, labelled anomalous.
    #[serde(rename = "fn")]
    pub fn_: usize,
}

impl Confusion {
    /// Counts the four cells from per-row predictions and labels of equal length.
    pub fn from_predictions(predicted: &[bool], labels: &[bool]) -> Result<Self> {
        check_len("labels", predicted.len(), labels.len())?;
        let mut c = Confusion::default();
        for (&p, &l) in predicted.iter().zip(labels) {
            c.add(p, l);
        }
        Ok(c)
    }

    /// Adds one row.
    pub fn add(&mut self, predicted: bool, label: bool) {
        match (predicted, label) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, false) => self.tn += 1,
            (false, true) => self.fn_ += 1,
        }
    }

    /// TP / (TP + FP), or 0 when nothing is predicted.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// TP / (TP + FN), or 0 when nothing is labelled.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// Harmonic mean of precision and recall (0 when both are 0).
    pub fn f1(&self) -> f64 {
        f1(self.precision(), self.recall())
    }

    /// FP / (FP + TN), or 0 when there is no normal row.
    pub fn fpr(&self) -> f64 {
        ratio(self.fp, self.fp + self.tn)
    }

    /// Summary with the derived ratios.
    pub fn metrics(&self) -> PointMetrics {
        PointMetrics {
            confusion: *self,
            precision: self.precision(),
            recall: self.recall(),
            f1: self.f1(),
            fpr: self.fpr(),
        }
    }
}

/// `num / den`, or 0 when `den` is 0.
pub(crate) fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Harmonic mean, 0 when both are 0.
pub(crate) fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

/// Point-wise precision, recall, F1 and FPR with their confusion counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PointMetrics {
    /// The four counts.
    pub confusion: Confusion,
    /// TP / (TP + FP).
    pub precision: f64,
    /// TP / (TP + FN).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// FP / (FP + TN).
    pub fpr: f64,
}

/// Point-wise metrics of predictions against per-row labels.
pub fn point_metrics(predicted: &[bool], labels: &[bool]) -> Result<PointMetrics> {
    Ok(Confusion::from_predictions(predicted, labels)?.metrics())
}

/// Detections `score >= threshold`, the convention used throughout (and NAB's).
pub fn detections(scores: &[f64], threshold: f64) -> Vec<bool> {
    scores.iter().map(|&s| s >= threshold).collect()
}

/// PA%K adjustment (Kim et al., AAAI 2022): inside each labelled window, if the share of detected
/// rows is strictly greater than `k_percent`/100, every row of the window counts as detected.
/// `k_percent = 0` is the classic point adjustment (one hit marks the whole window);
/// `k_percent = 100` leaves the predictions unchanged.
pub fn adjust_predictions(
    predicted: &[bool],
    windows: &[Window],
    k_percent: f64,
) -> Result<Vec<bool>> {
    validate_windows(windows, predicted.len())?;
    if !(0.0..=100.0).contains(&k_percent) {
        return Err(EvalError::InvalidParam {
            param: "pa_k.k_percent",
            value: k_percent.to_string(),
            reason: "must lie in [0, 100]",
            hint: "use 0 for point adjustment, 20 for the paper's PA%20",
        });
    }
    let mut adjusted = predicted.to_vec();
    for w in windows {
        let hits = predicted[w.start..=w.end].iter().filter(|&&p| p).count();
        if hits as f64 / w.len() as f64 > k_percent / 100.0 {
            adjusted[w.start..=w.end].iter_mut().for_each(|p| *p = true);
        }
    }
    Ok(adjusted)
}

/// Which adjustment produced a metric; serialised as `"point-adjusted"` or `"PA%K"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Adjustment {
    /// Classic point adjustment (K = 0).
    #[serde(rename = "point-adjusted")]
    PointAdjusted,
    /// PA%K with K > 0.
    #[serde(rename = "PA%K")]
    PaK,
}

impl Adjustment {
    /// The adjustment for a K in percent.
    pub fn for_k(k_percent: f64) -> Self {
        if k_percent == 0.0 {
            Adjustment::PointAdjusted
        } else {
            Adjustment::PaK
        }
    }

    /// Label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Adjustment::PointAdjusted => "point-adjusted",
            Adjustment::PaK => "PA%K",
        }
    }
}

/// Metrics after PA%K adjustment. The `adjustment` field always says so: adjusted F1 inflates
/// scores and must never be read as plain F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdjustedMetrics {
    /// Point-adjusted (K = 0) or PA%K.
    pub adjustment: Adjustment,
    /// The K used, in percent.
    pub k_percent: f64,
    /// Metrics on the adjusted predictions.
    pub metrics: PointMetrics,
}

/// Point-adjusted (K = 0) or PA%K metrics against incident windows.
pub fn adjusted_metrics(
    predicted: &[bool],
    windows: &[Window],
    k_percent: f64,
) -> Result<AdjustedMetrics> {
    let adjusted = adjust_predictions(predicted, windows, k_percent)?;
    let labels = labels_from_windows(windows, predicted.len());
    Ok(AdjustedMetrics {
        adjustment: Adjustment::for_k(k_percent),
        k_percent,
        metrics: point_metrics(&adjusted, &labels)?,
    })
}

/// Area under the PA%K F1 curve over K = 0, 1, …, 100 (trapezoid rule, divided by 100), the
/// threshold-robust summary Kim et al. propose.
pub fn pa_k_f1_auc(predicted: &[bool], windows: &[Window]) -> Result<f64> {
    validate_windows(windows, predicted.len())?;
    let labels = labels_from_windows(windows, predicted.len());
    let base = Confusion::from_predictions(predicted, &labels)?;
    // Each window is adjusted for every K below its hit share: count rows that flip per K.
    let mut f1s = Vec::with_capacity(101);
    let shares: Vec<(f64, usize, usize)> = windows
        .iter()
        .map(|w| {
            let hits = predicted[w.start..=w.end].iter().filter(|&&p| p).count();
            (hits as f64 / w.len() as f64, w.len() - hits, hits)
        })
        .collect();
    for k in 0..=100 {
        let kk = f64::from(k) / 100.0;
        let mut c = base;
        for &(share, misses, _) in &shares {
            if share > kk {
                c.tp += misses;
                c.fn_ -= misses;
            }
        }
        f1s.push(c.f1());
    }
    Ok(f1s.windows(2).map(|p| (p[0] + p[1]) / 2.0).sum::<f64>() / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_counts_and_ratios() {
        let pred = [true, true, false, false, true];
        let lab = [true, false, false, true, true];
        let m = point_metrics(&pred, &lab).unwrap();
        assert_eq!(
            m.confusion,
            Confusion {
                tp: 2,
                fp: 1,
                tn: 1,
                fn_: 1
            }
        );
        assert!((m.precision - 2.0 / 3.0).abs() < 1e-15);
        assert!((m.recall - 2.0 / 3.0).abs() < 1e-15);
        assert!((m.f1 - 2.0 / 3.0).abs() < 1e-15);
        assert!((m.fpr - 0.5).abs() < 1e-15);
    }

    #[test]
    fn empty_labels_and_no_alerts_give_zero_not_nan() {
        let m = point_metrics(&[false; 4], &[false; 4]).unwrap();
        assert_eq!((m.precision, m.recall, m.f1, m.fpr), (0.0, 0.0, 0.0, 0.0));
        let m = point_metrics(&[true, false], &[false, false]).unwrap();
        assert_eq!((m.precision, m.recall, m.fpr), (0.0, 0.0, 0.5));
        let m = point_metrics(&[], &[]).unwrap();
        assert_eq!(m.confusion, Confusion::default());
        assert!(matches!(
            point_metrics(&[true], &[]),
            Err(EvalError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn point_adjustment_marks_whole_window() {
        // Window rows 2..=5 with one hit at row 3, a second window 7..=8 with none.
        let windows = [Window::new(2, 5), Window::new(7, 8)];
        let pred = [false, true, false, true, false, false, false, false, false];
        let a = adjust_predictions(&pred, &windows, 0.0).unwrap();
        assert_eq!(
            a,
            vec![false, true, true, true, true, true, false, false, false]
        );
        let m = adjusted_metrics(&pred, &windows, 0.0).unwrap();
        assert_eq!(m.adjustment, Adjustment::PointAdjusted);
        assert_eq!(
            serde_json::to_string(&m.adjustment).unwrap(),
            "\"point-adjusted\""
        );
        assert_eq!(
            m.metrics.confusion,
            Confusion {
                tp: 4,
                fp: 1,
                tn: 2,
                fn_: 2
            }
        );
        // PA%K with K = 25: a share of exactly 1/4 is not > 25 %, so no adjustment.
        let k = adjust_predictions(&pred, &windows, 25.0).unwrap();
        assert_eq!(k, pred.to_vec());
        let k = adjust_predictions(&pred, &windows, 24.9).unwrap();
        assert_eq!(k, a);
        assert!(adjust_predictions(&pred, &windows, 101.0).is_err());
    }

    #[test]
    fn alert_at_first_row_of_window_adjusts() {
        let windows = [Window::new(0, 3)];
        let pred = [true, false, false, false, false];
        let a = adjust_predictions(&pred, &windows, 0.0).unwrap();
        assert_eq!(a, vec![true, true, true, true, false]);
    }

    #[test]
    fn pa_k_auc_lies_between_plain_and_adjusted_f1() {
        let windows = [Window::new(2, 5), Window::new(7, 8)];
        let pred = [false, true, false, true, true, false, false, false, false];
        let labels = labels_from_windows(&windows, pred.len());
        let plain = point_metrics(&pred, &labels).unwrap().f1;
        let pa = adjusted_metrics(&pred, &windows, 0.0).unwrap().metrics.f1;
        let auc = pa_k_f1_auc(&pred, &windows).unwrap();
        assert!(plain < auc && auc < pa, "{plain} {auc} {pa}");
        // Hit share 0.5: adjusted for K in 0..=49 (50 values), plain for 50..=100.
        let expected = (49.0 * pa + (pa + plain) / 2.0 + 50.0 * plain) / 100.0;
        assert!((auc - expected).abs() < 1e-12, "{auc} vs {expected}");
    }
}
