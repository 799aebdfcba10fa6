//! The generalised ESD test (Rosner 1983) with the median and MAD in place of the mean and
//! standard deviation, as in Twitter's S-H-ESD (`AnomalyDetection::detect_anoms`).

use crate::rolling::SortedWindow;
use crate::stats::student_t_quantile;

/// Which deviations count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Both sides (two-tailed test).
    #[default]
    Both,
    /// Only values above the median (one-tailed).
    Positive,
    /// Only values below the median (one-tailed).
    Negative,
}

/// R's `mad`: 1.4826 × the median absolute deviation.
pub const MAD_CONSTANT: f64 = 1.4826;

/// Result of the test on a set of values.
#[derive(Debug, Clone, PartialEq)]
pub struct EsdResult {
    /// Indices (into the input) removed in each iteration, in order, with the test statistic
    /// R_i = |x − median| / MAD at removal.
    pub removed: Vec<(usize, f64)>,
    /// How many of the first removed points are anomalies (the largest i with R_i > λ_i).
    pub anomalies: usize,
    /// Median and MAD (scaled) of the values left after the last removal.
    pub final_center: f64,
    /// See `final_center`.
    pub final_spread: f64,
}

/// Critical value λ_i of the i-th test (1-based) on `n` values.
pub fn critical_value(n: usize, i: usize, alpha: f64, direction: Direction) -> f64 {
    let (n, i) = (n as f64, i as f64);
    let p = match direction {
        Direction::Both => 1.0 - alpha / (2.0 * (n - i + 1.0)),
        _ => 1.0 - alpha / (n - i + 1.0),
    };
    let t = student_t_quantile(p, n - i - 1.0);
    t * (n - i) / (((n - i - 1.0) + t * t) * (n - i + 1.0)).sqrt()
}

/// Runs up to `max_removals` iterations on the finite values of `values` (NaN entries are
/// skipped). Stops early when the MAD of what is left is 0, as the R code does.
pub fn generalized_esd(
    values: &[f64],
    max_removals: usize,
    alpha: f64,
    direction: Direction,
) -> EsdResult {
    let mut sorted = SortedWindow::with_capacity(values.len());
    let mut order: Vec<(f64, usize)> = values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(i, &v)| (v, i))
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    order.iter().for_each(|(v, _)| sorted.add(*v));
    let n = order.len();
    let mut removed = Vec::new();
    let mut anomalies = 0;
    // `order` stays sorted; remaining values are order[lo..hi] minus removed interior ones,
    // but removal always takes an extreme (largest deviation), so the rest is a range.
    let (mut lo, mut hi) = (0usize, n);
    for i in 1..=max_removals.min(n.saturating_sub(2)) {
        let median = sorted.median();
        let mad = MAD_CONSTANT * sorted.mad(median);
        if mad == 0.0 {
            break;
        }
        let low = order[lo];
        // Among equal maxima, R removes the first row carrying that value.
        let mut high_at = hi - 1;
        while high_at > lo && order[high_at - 1].0 == order[hi - 1].0 {
            high_at -= 1;
        }
        let high = order[high_at];
        let (dev_low, dev_high) = (median - low.0, high.0 - median);
        // Ties between the two ends: the earlier row wins, as R's which(ares == R)[1].
        let take_high = match direction {
            Direction::Positive => true,
            Direction::Negative => false,
            Direction::Both => dev_high > dev_low || (dev_high == dev_low && high.1 < low.1),
        };
        let (value, index, deviation) = if take_high {
            order[high_at..hi].rotate_left(1);
            hi -= 1;
            (high.0, high.1, dev_high)
        } else {
            lo += 1;
            (low.0, low.1, dev_low)
        };
        sorted.remove(value);
        let statistic = deviation / mad;
        removed.push((index, statistic));
        if statistic > critical_value(n, i, alpha, direction) {
            anomalies = i;
        }
    }
    let (final_center, final_spread) = if sorted.count() > 0 {
        let median = sorted.median();
        (median, MAD_CONSTANT * sorted.mad(median))
    } else {
        (0.0, 0.0)
    };
    EsdResult {
        removed,
        anomalies,
        final_center,
        final_spread,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_planted_outliers_and_nothing_else() {
        let mut values: Vec<f64> = (0..200).map(|i| ((i * 7919) % 101) as f64 / 10.0).collect();
        values[17] = 60.0;
        values[150] = -40.0;
        values[90] = f64::NAN;
        let result = generalized_esd(&values, 10, 0.05, Direction::Both);
        let flagged: Vec<usize> = result.removed[..result.anomalies]
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(flagged, vec![17, 150]);
        let positive = generalized_esd(&values, 10, 0.05, Direction::Positive);
        let flagged: Vec<usize> = positive.removed[..positive.anomalies]
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(flagged, vec![17]);
    }
}
