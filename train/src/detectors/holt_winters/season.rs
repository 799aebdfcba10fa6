//! Seasonal period detection from the autocorrelation function.

/// Smallest autocorrelation a detected period must reach.
pub const MIN_ACF: f64 = 0.3;

/// The dominant seasonal period of `y` among lags `2 ..= max_period` (and at most n / 2), or
/// `None` when no lag stands out.
///
/// The series is linearly detrended (missing values count as the fitted line), then the
/// autocorrelation is computed for every lag; among its local maxima above [`MIN_ACF`], the
/// highest one wins, except that a shorter local maximum within 10% of it is preferred (a
/// daily cycle also peaks at two and three days). Cost: O(n · max_period).
pub fn detect_period(y: &[f64], max_period: usize) -> Option<usize> {
    detect_period_above(y, max_period, MIN_ACF)
}

/// [`detect_period`] with the smallest autocorrelation a period must reach given: a shape
/// detector that needs *some* subsequence length (the matrix-profile discord) takes the
/// dominant cycle even when it is weak (`min_acf = 0`), where a seasonal model would rather
/// drop the season.
pub fn detect_period_above(y: &[f64], max_period: usize, min_acf: f64) -> Option<usize> {
    let n = y.len();
    let max_lag = max_period.min(n / 2);
    if max_lag < 3 {
        return None;
    }
    // Least-squares line over the finite values.
    let (mut sx, mut sy, mut sxx, mut sxy, mut count) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, &v) in y.iter().enumerate() {
        if v.is_finite() {
            let x = i as f64;
            sx += x;
            sy += v;
            sxx += x * x;
            sxy += x * v;
            count += 1.0;
        }
    }
    if count < 4.0 {
        return None;
    }
    let denominator = count * sxx - sx * sx;
    let slope = if denominator > 0.0 {
        (count * sxy - sx * sy) / denominator
    } else {
        0.0
    };
    let intercept = (sy - slope * sx) / count;
    let residual: Vec<f64> = y
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.is_finite() {
                v - (intercept + slope * i as f64)
            } else {
                0.0
            }
        })
        .collect();
    let variance: f64 = residual.iter().map(|r| r * r).sum();
    if variance <= 0.0 {
        return None;
    }
    let acf: Vec<f64> = (0..=max_lag + 1)
        .map(|lag| {
            if lag >= n {
                return 0.0;
            }
            residual[..n - lag]
                .iter()
                .zip(&residual[lag..])
                .map(|(a, b)| a * b)
                .sum::<f64>()
                / variance
        })
        .collect();
    let peaks: Vec<usize> = (2..=max_lag)
        .filter(|&lag| acf[lag] > min_acf && acf[lag] > acf[lag - 1] && acf[lag] >= acf[lag + 1])
        .collect();
    let best = peaks
        .iter()
        .copied()
        .max_by(|&a, &b| acf[a].total_cmp(&acf[b]))?;
    peaks.into_iter().find(|&lag| acf[lag] >= 0.9 * acf[best])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_daily_cycle_under_trend_and_noise() {
        let y: Vec<f64> = (0..24 * 14)
            .map(|i| {
                let t = i as f64;
                0.05 * t
                    + 10.0 * (2.0 * std::f64::consts::PI * t / 24.0).sin()
                    + ((i * 7919) % 13) as f64 / 13.0
            })
            .collect();
        assert_eq!(detect_period(&y, 100), Some(24));
    }

    #[test]
    fn finds_nothing_in_a_line() {
        let y: Vec<f64> = (0..500).map(|i| i as f64).collect();
        assert_eq!(detect_period(&y, 100), None);
    }
}
