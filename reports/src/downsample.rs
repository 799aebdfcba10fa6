//! Reducing long series to what a plot can show without losing spikes.
//!
//! [`min_max`] splits the x range into equal buckets (one per horizontal pixel) and keeps the
//! smallest and the largest value of each, in their original order: every extreme survives, so a
//! single-row spike in 100k rows is still drawn at full height. Runs of equal values are then
//! reduced to their end points, which draw the same line. NaN values break the line: the result
//! is a list of segments.

/// One unbroken piece of a line: `(x, y)` points in x order.
pub type Segment = Vec<(f64, f64)>;

/// Keeps the minimum and maximum of each of `buckets` equal-width x buckets, per NaN-free run.
///
/// `x` must be non-decreasing and as long as `y` (callers validate; a shorter `x` truncates).
/// With `buckets == 0` or fewer points than `2 * buckets`, every finite point is kept (equal runs
/// still collapse).
pub fn min_max(x: &[f64], y: &[f64], buckets: usize) -> Vec<Segment> {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let Some((&x0, &x1)) = x.first().zip(x.last()) else {
        return Vec::new();
    };
    let width = x1 - x0;
    let reduce = buckets > 0 && n > 2 * buckets && width > 0.0;
    let bucket_of = |xv: f64| -> usize {
        if !reduce {
            return 0;
        }
        let b = ((xv - x0) / width * buckets as f64) as usize;
        b.min(buckets - 1)
    };

    let mut segments = Vec::new();
    let mut current: Segment = Vec::new();
    let mut i = 0;
    while i < n {
        if !y[i].is_finite() {
            flush(&mut segments, &mut current);
            i += 1;
            continue;
        }
        if !reduce {
            current.push((x[i], y[i]));
            i += 1;
            continue;
        }
        // Rows of one bucket up to the next NaN.
        let bucket = bucket_of(x[i]);
        let start = i;
        let (mut lo, mut hi) = (i, i);
        while i < n && y[i].is_finite() && bucket_of(x[i]) == bucket {
            if y[i] < y[lo] {
                lo = i;
            }
            if y[i] > y[hi] {
                hi = i;
            }
            i += 1;
        }
        // Keep the bucket's first point too when it starts a segment, so lines join up.
        let mut keep = [start, lo.min(hi), lo.max(hi)];
        if !current.is_empty() {
            keep[0] = keep[1];
        }
        let mut last = usize::MAX;
        for k in keep {
            if k != last {
                current.push((x[k], y[k]));
                last = k;
            }
        }
    }
    flush(&mut segments, &mut current);
    segments
}

fn flush(segments: &mut Vec<Segment>, current: &mut Segment) {
    if !current.is_empty() {
        segments.push(collapse_flat(std::mem::take(current)));
    }
}

/// Drops interior points of runs with equal y (the line through the ends is the same).
fn collapse_flat(points: Segment) -> Segment {
    if points.len() < 3 {
        return points;
    }
    let mut out = Vec::with_capacity(points.len());
    out.push(points[0]);
    for w in points.windows(3) {
        if !(w[0].1 == w[1].1 && w[1].1 == w[2].1) {
            out.push(w[1]);
        }
    }
    if let Some(&last) = points.last() {
        out.push(last);
    }
    out
}

/// Thins a curve (ROC, PR) so consecutive kept points are at least `min_step` apart in both
/// axes' units combined (L∞), always keeping the first and last point.
pub fn thin_curve(points: &[(f64, f64)], min_step: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (i, &p) in points.iter().enumerate() {
        if !(p.0.is_finite() && p.1.is_finite()) {
            continue;
        }
        let keep = match out.last() {
            None => true,
            Some(&q) => {
                i + 1 == points.len() || (p.0 - q.0).abs().max((p.1 - q.1).abs()) >= min_step
            }
        };
        if keep {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(segments: &[Segment]) -> usize {
        segments.iter().map(Vec::len).sum()
    }

    #[test]
    fn single_point_spike_survives_in_100k_points() {
        let n = 100_000;
        let x: Vec<f64> = (0..n).map(|i| i as f64 * 60_000.0).collect();
        // Gentle noise around 10, and one spike of one row.
        let mut y: Vec<f64> = (0..n)
            .map(|i| 10.0 + ((i * 7919) % 13) as f64 * 0.01)
            .collect();
        let spike_at = 54_321;
        y[spike_at] = 250.0;
        let segments = min_max(&x, &y, 1_000);
        assert_eq!(segments.len(), 1);
        assert!(total(&segments) <= 3_000, "kept {}", total(&segments));
        let peak = segments[0]
            .iter()
            .copied()
            .fold((0.0, f64::MIN), |a, p| if p.1 > a.1 { p } else { a });
        assert_eq!(peak, (x[spike_at], 250.0));
        // A single-row dip survives too.
        y[spike_at] = -40.0;
        let segments = min_max(&x, &y, 1_000);
        assert!(segments[0].contains(&(x[spike_at], -40.0)));
    }

    #[test]
    fn extremes_of_every_bucket_are_kept_in_order() {
        let x: Vec<f64> = (0..40).map(f64::from).collect();
        let y: Vec<f64> = (0..40).map(|i| ((i * 37) % 11) as f64).collect();
        let segments = min_max(&x, &y, 4);
        let points = &segments[0];
        assert!(points.windows(2).all(|w| w[0].0 <= w[1].0));
        for b in 0..4 {
            let rows = &y[b * 10..(b + 1) * 10];
            let lo = rows.iter().copied().fold(f64::MAX, f64::min);
            let hi = rows.iter().copied().fold(f64::MIN, f64::max);
            let kept: Vec<f64> = points
                .iter()
                .filter(|p| p.0 >= (b * 10) as f64 && p.0 < ((b + 1) * 10) as f64)
                .map(|p| p.1)
                .collect();
            assert!(
                kept.contains(&lo) && kept.contains(&hi),
                "bucket {b}: {kept:?}"
            );
        }
    }

    #[test]
    fn nan_breaks_the_line_and_short_series_are_kept() {
        let x = [0.0, 1.0, 2.0, 3.0, 4.0];
        let y = [1.0, 2.0, f64::NAN, 4.0, 5.0];
        let segments = min_max(&x, &y, 100);
        assert_eq!(
            segments,
            vec![vec![(0.0, 1.0), (1.0, 2.0)], vec![(3.0, 4.0), (4.0, 5.0)]]
        );
        assert!(min_max(&[], &[], 10).is_empty());
        assert!(min_max(&x, &[f64::NAN; 5], 10).is_empty());
    }

    #[test]
    fn flat_runs_collapse_to_their_ends() {
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let y = [0.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let segments = min_max(&x, &y, 0);
        assert_eq!(
            segments[0],
            vec![(0.0, 0.0), (3.0, 0.0), (4.0, 5.0), (5.0, 0.0), (9.0, 0.0)]
        );
    }

    #[test]
    fn thin_curve_keeps_ends_and_drops_close_points() {
        let points: Vec<(f64, f64)> = (0..=1000).map(|i| (i as f64 / 1000.0, 0.5)).collect();
        let thinned = thin_curve(&points, 0.01);
        assert_eq!(thinned.first(), Some(&(0.0, 0.5)));
        assert_eq!(thinned.last(), Some(&(1.0, 0.5)));
        assert!(thinned.len() <= 102, "{}", thinned.len());
    }
}
