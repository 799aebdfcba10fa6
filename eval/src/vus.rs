//! Volume under the surface: VUS-ROC and VUS-PR (Paparrizos et al., VLDB 2022), ported from
//! TSB-AD 1.5 (`basic_metricor.RangeAUC_volume_opt`, the code behind `get_metrics`), so values
//! match that package.
//!
//! For each buffer width `w = 0..=max_window`, labels are extended by a soft ramp
//! `sqrt(1 − d/w)` up to `w/2` rows before and after each anomaly; range-aware TPR/FPR and
//! precision are evaluated at `thresholds` scores taken evenly down the sorted scores; the
//! per-width ROC and PR areas are averaged over the widths.
//!
//! TSB-AD loops over rows for every threshold (O(w·t·n)); this port sorts once and adds rows as
//! the threshold falls, O(w·(n + t)) in total, with identical arithmetic up to summation order.

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result, check_finite, check_len};
use crate::labels::{Window, windows_from_labels};

/// Parameters of VUS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VusParams {
    /// Largest buffer width (TSB-AD's `slidingWindow`, default 100).
    pub max_window: usize,
    /// Thresholds sampled down the sorted scores (TSB-AD's `thre`, default 250).
    pub thresholds: usize,
}

impl Default for VusParams {
    fn default() -> Self {
        Self {
            max_window: 100,
            thresholds: 250,
        }
    }
}

/// VUS-ROC and VUS-PR.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Vus {
    /// Mean range-ROC area over the buffer widths.
    pub roc: f64,
    /// Mean range-PR area (average precision) over the buffer widths.
    pub pr: f64,
}

/// TSB-AD's `new_sequence`: the anomaly runs widened by `w/2` on both sides and merged.
fn merged_segments(seq: &[Window], w: usize, n: usize) -> Vec<(usize, usize)> {
    let h = (w / 2) as i64;
    let mut out = Vec::new();
    let mut a = (seq[0].start as i64 - h).max(0);
    for pair in seq.windows(2) {
        if pair[0].end as i64 + h < pair[1].start as i64 - h {
            out.push((a as usize, (pair[0].end as i64 + h) as usize));
            a = pair[1].start as i64 - h;
        }
    }
    let last = seq[seq.len() - 1].end as i64;
    out.push((a as usize, (last + h).min(n as i64 - 1) as usize));
    out
}

/// VUS-ROC and VUS-PR of `scores` against per-row `labels`.
pub fn vus(scores: &[f64], labels: &[bool], params: VusParams) -> Result<Vus> {
    check_finite(scores)?;
    check_len("labels", scores.len(), labels.len())?;
    if params.thresholds < 2 {
        return Err(EvalError::InvalidParam {
            param: "vus.thresholds",
            value: params.thresholds.to_string(),
            reason: "must be at least 2",
            hint: "TSB-AD uses 250",
        });
    }
    let seq = windows_from_labels(labels);
    if seq.is_empty() {
        return Err(EvalError::NotEnoughData {
            what: "VUS",
            needed: "at least one labelled anomalous row",
            hint: "evaluate on a slice that contains an incident",
        });
    }
    let n = scores.len();
    let positives = labels.iter().filter(|&&l| l).count() as f64;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    // np.linspace(0, n-1, t).astype(int) indices into the descending scores, and how many rows
    // reach each sampled threshold.
    let t = params.thresholds;
    let step = (n - 1) as f64 / (t - 1) as f64;
    let sampled: Vec<f64> = (0..t)
        .map(|k| {
            let idx = if k == t - 1 {
                n - 1
            } else {
                (k as f64 * step) as usize
            };
            scores[order[idx]]
        })
        .collect();
    let mut n_pred = Vec::with_capacity(t);
    let mut cursor = 0usize;
    for &threshold in &sampled {
        while cursor < n && scores[order[cursor]] >= threshold {
            cursor += 1;
        }
        n_pred.push(cursor);
    }

    let mut ext = vec![0.0f64; n];
    let mut segment_of: Vec<Option<usize>> = vec![None; n];
    let (mut auc_sum, mut ap_sum) = (0.0, 0.0);
    for w in 0..=params.max_window {
        // TSB-AD's `sequencing`: ramps beside each run, summed, capped at 1; runs stay 1.
        ext.iter_mut()
            .zip(labels)
            .for_each(|(e, &l)| *e = if l { 1.0 } else { 0.0 });
        let h = w / 2;
        for s in &seq {
            let after = (s.end + 1)..(s.end + h + 1).min(n);
            for (e, x) in ext[after.clone()].iter_mut().zip(after) {
                *e += (1.0 - (x - s.end) as f64 / w as f64).sqrt();
            }
            let before = s.start.saturating_sub(h)..s.start;
            for (e, x) in ext[before.clone()].iter_mut().zip(before) {
                *e += (1.0 - (s.start - x) as f64 / w as f64).sqrt();
            }
        }
        ext.iter_mut().for_each(|e| *e = e.min(1.0));
        let segments = merged_segments(&seq, w, n);
        segment_of.iter_mut().for_each(|s| *s = None);
        for (id, &(a, b)) in segments.iter().enumerate() {
            segment_of[a..=b].iter_mut().for_each(|s| *s = Some(id));
        }
        let mut hit = vec![false; segments.len()];
        let (mut existence, mut tp_seq, mut ext_sum) = (0usize, 0usize, 0.0f64);
        let mut tpr = Vec::with_capacity(t + 2);
        let mut fpr = Vec::with_capacity(t + 2);
        let mut precision = Vec::with_capacity(t);
        tpr.push(0.0);
        fpr.push(0.0);
        let mut added = 0usize;
        for &count in &n_pred {
            while added < count {
                let row = order[added];
                if labels[row] {
                    tp_seq += 1;
                } else {
                    ext_sum += ext[row];
                }
                if let Some(id) = segment_of[row]
                    && !hit[id]
                {
                    hit[id] = true;
                    existence += 1;
                }
                added += 1;
            }
            let tp = tp_seq as f64 + ext_sum;
            let n_labels = positives + ext_sum;
            let fp = count as f64 - tp;
            let p_new = (positives + n_labels) / 2.0;
            let recall = (tp / p_new).min(1.0);
            tpr.push(recall * (existence as f64 / segments.len() as f64));
            fpr.push(fp / (n as f64 - p_new));
            precision.push(tp / count as f64);
        }
        tpr.push(1.0);
        fpr.push(1.0);
        auc_sum += crate::curves::trapezoid(&fpr, &tpr);
        ap_sum += (1..=t)
            .map(|k| (tpr[k] - tpr[k - 1]) * precision[k - 1])
            .sum::<f64>();
    }
    let widths = (params.max_window + 1) as f64;
    Ok(Vus {
        roc: auc_sum / widths,
        pr: ap_sum / widths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_detector_scores_one_at_width_zero() {
        // Width 0 only: plain point-wise curves with the existence factor.
        let labels = [false, false, true, true, false, false, false, false];
        let scores = [0.0, 0.1, 0.9, 0.8, 0.2, 0.1, 0.0, 0.05];
        let v = vus(
            &scores,
            &labels,
            VusParams {
                max_window: 0,
                thresholds: 8,
            },
        )
        .unwrap();
        assert!((v.roc - 1.0).abs() < 1e-12, "{v:?}");
        assert!((v.pr - 1.0).abs() < 1e-12, "{v:?}");
    }

    #[test]
    fn merged_segments_follow_tsb_ad() {
        let seq = [Window::new(5, 6), Window::new(10, 12), Window::new(30, 31)];
        assert_eq!(merged_segments(&seq, 4, 33), vec![(3, 14), (28, 32)]);
        assert_eq!(
            merged_segments(&seq, 0, 33),
            vec![(5, 6), (10, 12), (30, 31)]
        );
        assert_eq!(merged_segments(&[Window::new(0, 1)], 10, 4), vec![(0, 3)]);
    }

    #[test]
    fn needs_an_anomaly() {
        assert!(vus(&[0.1, 0.2], &[false, false], VusParams::default()).is_err());
        let bad = VusParams {
            max_window: 4,
            thresholds: 1,
        };
        assert!(vus(&[0.1, 0.2], &[true, false], bad).is_err());
    }
}
