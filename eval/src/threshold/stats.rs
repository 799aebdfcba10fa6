//! Order statistics of scores used by the unsupervised policies, matching NumPy/SciPy.

pub(crate) fn sort(v: &mut [f64]) {
    v.sort_unstable_by(f64::total_cmp);
}

/// Quantile of sorted data with linear interpolation (NumPy's default method).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let t = h - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    // NumPy's `_lerp`: exact at both ends.
    Some(if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    })
}

/// Mean and population standard deviation.
pub fn mean_std(v: &[f64]) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    Some((mean, var.sqrt()))
}

/// `1 / Φ⁻¹(3/4)`: scales the MAD to estimate σ under normality.
pub const MAD_NORMAL_SCALE: f64 = 1.482_602_218_505_602;

/// Median and normal-scaled MAD of sorted data.
pub fn median_mad_sorted(sorted: &[f64]) -> Option<(f64, f64)> {
    let median = quantile_sorted(sorted, 0.5)?;
    let mut dev: Vec<f64> = sorted.iter().map(|x| (x - median).abs()).collect();
    sort(&mut dev);
    Some((median, quantile_sorted(&dev, 0.5)? * MAD_NORMAL_SCALE))
}
