//! Threshold-free curves: ROC and precision–recall (matching scikit-learn's `roc_curve`,
//! `roc_auc_score`, `precision_recall_curve`, `average_precision_score`), each from one sort.
//! VUS-ROC / VUS-PR live in [`crate::vus`].

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result, check_finite, check_len};
use crate::sweep::confusion_sweep;

fn checked_sweep(
    scores: &[f64],
    labels: &[bool],
    what: &'static str,
) -> Result<(Vec<crate::sweep::SweepPoint>, usize)> {
    check_finite(scores)?;
    check_len("labels", scores.len(), labels.len())?;
    let (points, positives) = confusion_sweep(scores, labels);
    if positives == 0 {
        return Err(EvalError::NotEnoughData {
            what,
            needed: "at least one labelled anomalous row",
            hint: "evaluate on a slice that contains an incident",
        });
    }
    Ok((points, positives))
}

/// ROC curve from the highest threshold down, starting at (0, 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    /// False-positive rate per point.
    pub fpr: Vec<f64>,
    /// True-positive rate per point.
    pub tpr: Vec<f64>,
    /// Threshold per point (the first is +∞ in scikit-learn; here the highest score's successor).
    pub thresholds: Vec<f64>,
}

/// ROC curve over every distinct threshold (scikit-learn's `roc_curve` with
/// `drop_intermediate=False`). Needs both classes.
pub fn roc_curve(scores: &[f64], labels: &[bool]) -> Result<RocCurve> {
    let (points, positives) = checked_sweep(scores, labels, "ROC")?;
    let negatives = scores.len() - positives;
    if negatives == 0 {
        return Err(EvalError::NotEnoughData {
            what: "ROC",
            needed: "at least one normal row",
            hint: "evaluate on a slice that also holds normal rows",
        });
    }
    let mut curve = RocCurve {
        fpr: vec![0.0],
        tpr: vec![0.0],
        thresholds: vec![points.first().map_or(f64::MAX, |p| p.threshold.next_up())],
    };
    for p in &points {
        curve.fpr.push(p.fp as f64 / negatives as f64);
        curve.tpr.push(p.tp as f64 / positives as f64);
        curve.thresholds.push(p.threshold);
    }
    Ok(curve)
}

/// Area under the ROC curve (trapezoid rule), as `sklearn.metrics.roc_auc_score`.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Result<f64> {
    let c = roc_curve(scores, labels)?;
    Ok(trapezoid(&c.fpr, &c.tpr))
}

/// Trapezoid area under `y(x)`.
pub(crate) fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2)
        .zip(y.windows(2))
        .map(|(xs, ys)| (xs[1] - xs[0]) * (ys[1] + ys[0]) / 2.0)
        .sum()
}

/// Precision–recall curve in scikit-learn's layout: thresholds ascending, and the arrays one
/// longer, ending with precision 1 and recall 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrCurve {
    /// Precision per threshold, then 1.
    pub precision: Vec<f64>,
    /// Recall per threshold, then 0.
    pub recall: Vec<f64>,
    /// Distinct scores, ascending.
    pub thresholds: Vec<f64>,
}

/// Precision–recall curve over every distinct threshold (`sklearn.metrics.precision_recall_curve`).
pub fn pr_curve(scores: &[f64], labels: &[bool]) -> Result<PrCurve> {
    let (points, positives) = checked_sweep(scores, labels, "a precision-recall curve")?;
    let mut precision: Vec<f64> = points
        .iter()
        .rev()
        .map(|p| p.tp as f64 / (p.tp + p.fp) as f64)
        .collect();
    let mut recall: Vec<f64> = points
        .iter()
        .rev()
        .map(|p| p.tp as f64 / positives as f64)
        .collect();
    precision.push(1.0);
    recall.push(0.0);
    Ok(PrCurve {
        precision,
        recall,
        thresholds: points.iter().rev().map(|p| p.threshold).collect(),
    })
}

/// Average precision `Σ (Rₙ − Rₙ₋₁)·Pₙ` (`sklearn.metrics.average_precision_score`), the
/// step-wise PR-AUC without interpolation.
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Result<f64> {
    let c = pr_curve(scores, labels)?;
    let area: f64 = c
        .recall
        .windows(2)
        .zip(&c.precision)
        .map(|(r, p)| -(r[1] - r[0]) * p)
        .sum();
    Ok(area.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_auc_and_ap() {
        // Scores 0.9(+) 0.8(-) 0.7(+) 0.1(-): pairs ranked right 3 of 4 -> AUC 0.75.
        let s = [0.9, 0.8, 0.7, 0.1];
        let l = [true, false, true, false];
        assert!((roc_auc(&s, &l).unwrap() - 0.75).abs() < 1e-15);
        // AP = 0.5·1 + 0.5·(2/3)
        assert!((average_precision(&s, &l).unwrap() - (0.5 + 1.0 / 3.0)).abs() < 1e-15);
        let pr = pr_curve(&s, &l).unwrap();
        assert_eq!(pr.thresholds, vec![0.1, 0.7, 0.8, 0.9]);
        assert_eq!(pr.precision.last(), Some(&1.0));
        assert_eq!(pr.recall, vec![1.0, 1.0, 0.5, 0.5, 0.0]);
    }

    #[test]
    fn ties_count_half() {
        let s = [0.5, 0.5];
        let l = [true, false];
        assert!((roc_auc(&s, &l).unwrap() - 0.5).abs() < 1e-15);
        assert!((average_precision(&s, &l).unwrap() - 0.5).abs() < 1e-15);
    }

    #[test]
    fn one_class_is_an_error() {
        assert!(matches!(
            roc_auc(&[0.1, 0.2], &[false, false]),
            Err(EvalError::NotEnoughData { .. })
        ));
        assert!(roc_auc(&[0.1, 0.2], &[true, true]).is_err());
        assert!(average_precision(&[0.1], &[false]).is_err());
        assert!(average_precision(&[f64::NAN], &[true]).is_err());
    }
}
