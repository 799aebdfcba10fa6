//! Sort-once sweeps: every distinct threshold of a score vector with the cumulative confusion
//! counts at it, in O(n log n). The PR and ROC curves, average precision and the best-F1 and
//! best-adjusted-F1 searches all read from here.

use crate::labels::Window;

/// Counts at one threshold: rows with `score >= threshold`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepPoint {
    /// The threshold (a distinct score value).
    pub threshold: f64,
    /// Labelled-positive rows at or above the threshold.
    pub tp: usize,
    /// Labelled-negative rows at or above the threshold.
    pub fp: usize,
}

/// Distinct thresholds from the highest score down, with cumulative TP/FP counts; also returns
/// the number of positive rows. Scores must be finite (checked by callers).
pub fn confusion_sweep(scores: &[f64], labels: &[bool]) -> (Vec<SweepPoint>, usize) {
    // Sorting (score, label) pairs in place keeps the comparisons cache-friendly.
    let mut pairs: Vec<(f64, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let positives = labels.iter().filter(|&&l| l).count();
    let mut out: Vec<SweepPoint> = Vec::new();
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut i = 0;
    while i < pairs.len() {
        let threshold = pairs[i].0;
        while i < pairs.len() && pairs[i].0 == threshold {
            if pairs[i].1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        out.push(SweepPoint { threshold, tp, fp });
    }
    (out, positives)
}

/// Like [`confusion_sweep`] but point-adjusted: a window counts all its rows as TP from the
/// threshold at which its highest score is reached. Returns the points and the positive rows.
pub fn adjusted_sweep(scores: &[f64], windows: &[Window]) -> (Vec<SweepPoint>, usize) {
    // (score, rows gained as TP, rows gained as FP)
    let mut events: Vec<(f64, usize, usize)> = Vec::with_capacity(scores.len());
    let mut next = 0usize;
    let mut row = 0usize;
    while row < scores.len() {
        if next < windows.len() && windows[next].start == row {
            let w = windows[next];
            let peak = scores[w.start..=w.end]
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            events.push((peak, w.len(), 0));
            row = w.end + 1;
            next += 1;
        } else {
            events.push((scores[row], 0, 1));
            row += 1;
        }
    }
    events.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let positives = windows.iter().map(Window::len).sum();
    let mut out: Vec<SweepPoint> = Vec::new();
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut i = 0;
    while i < events.len() {
        let threshold = events[i].0;
        while i < events.len() && events[i].0 == threshold {
            tp += events[i].1;
            fp += events[i].2;
            i += 1;
        }
        out.push(SweepPoint { threshold, tp, fp });
    }
    (out, positives)
}

/// F1 from cumulative counts: `2TP / (2TP + FP + FN)`.
pub(crate) fn f1_of(tp: usize, fp: usize, positives: usize) -> f64 {
    let den = 2 * tp + fp + (positives - tp);
    if den == 0 {
        0.0
    } else {
        2.0 * tp as f64 / den as f64
    }
}

/// The sweep point with the highest F1; among equal F1 the highest threshold.
pub(crate) fn best_f1(points: &[SweepPoint], positives: usize) -> Option<(SweepPoint, f64)> {
    let mut best: Option<(SweepPoint, f64)> = None;
    for p in points {
        let f = f1_of(p.tp, p.fp, positives);
        if best.is_none_or(|(_, b)| f > b) {
            best = Some((*p, f));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_groups_ties() {
        let scores = [0.1, 0.9, 0.5, 0.5, 0.3];
        let labels = [false, true, true, false, false];
        let (pts, pos) = confusion_sweep(&scores, &labels);
        assert_eq!(pos, 2);
        let got: Vec<(f64, usize, usize)> = pts.iter().map(|p| (p.threshold, p.tp, p.fp)).collect();
        assert_eq!(
            got,
            vec![(0.9, 1, 0), (0.5, 2, 1), (0.3, 2, 2), (0.1, 2, 3)]
        );
        let (b, f) = best_f1(&pts, pos).unwrap();
        assert_eq!(b.threshold, 0.5);
        assert!((f - 0.8).abs() < 1e-15); // TP 2, FP 1, FN 0
        // Equal F1 at two thresholds: the higher one wins.
        let (pts, pos) = confusion_sweep(&[0.9, 0.5, 0.4, 0.3], &[true, false, false, true]);
        assert!(
            (f1_of(pts[0].tp, pts[0].fp, pos) - f1_of(pts[3].tp, pts[3].fp, pos)).abs() < 1e-15
        );
        assert_eq!(best_f1(&pts, pos).unwrap().0.threshold, 0.9);
    }

    #[test]
    fn adjusted_sweep_uses_window_peak() {
        let scores = [0.2, 0.1, 0.8, 0.3, 0.4];
        let windows = [Window::new(1, 3)];
        let (pts, pos) = adjusted_sweep(&scores, &windows);
        assert_eq!(pos, 3);
        let got: Vec<(f64, usize, usize)> = pts.iter().map(|p| (p.threshold, p.tp, p.fp)).collect();
        assert_eq!(got, vec![(0.8, 3, 0), (0.4, 3, 1), (0.2, 3, 2)]);
    }
}
