//! Peaks over threshold (POT): an extreme-value threshold for a target false-alarm risk, from
//! the SPOT initialisation of Siffer et al., "Anomaly Detection in Streams with Extreme Value
//! Theory" (KDD 2017).
//!
//! Above a high initial threshold `t`, the excesses `Y = X − t` of any well-behaved score
//! distribution tend to a generalised Pareto distribution (Pickands–Balkema–de Haan). Fitting it
//! by maximum likelihood lets the threshold reach risks far below `1 / n`, where an empirical
//! quantile has no data. Assumption: the scores are i.i.d. (or close to it) and `t` is already in
//! the tail; the result is only as good as the tail fit, so keep at least a few dozen excesses.

use serde::{Deserialize, Serialize};

use super::quantile_sorted;
use super::stats::sort;
use crate::error::{EvalError, Result};

/// A generalised Pareto distribution with location 0, fitted by maximum likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gpd {
    /// Shape ξ (`c` in SciPy's `genpareto`): > 0 heavy tail, < 0 bounded tail, 0 exponential.
    pub shape: f64,
    /// Scale σ > 0.
    pub scale: f64,
    /// Log-likelihood of the excesses at (ξ, σ), as `genpareto.logpdf(y, ξ, 0, σ).sum()`.
    pub log_likelihood: f64,
}

/// Fewest excesses a GPD is fitted to.
pub const MIN_EXCESSES: usize = 10;

/// Points per side of the scan for roots of the likelihood equation.
const SCAN_POINTS: usize = 400;

/// Maximum-likelihood GPD (location 0) of non-negative `excesses`, by Grimshaw's method (as in
/// SPOT): with θ = ξ/σ the likelihood profiles to one dimension, ξ(θ) = mean(ln(1 + θy)) and
/// σ = ξ/θ, and its stationary points are the roots of `w(θ) = mean(1/(1 + θy))·(1 + ξ(θ)) − 1`
/// on `θ > −1/max(y)`. Every root where the profile has a local maximum is found (a log-spaced
/// scan of 2×400 points over both sides of 0, up to Grimshaw's upper bound, then bisection to
/// full double precision) and the best of them, or the exponential fit (ξ = 0, σ = mean) when
/// that is better, is returned. The profile grows without bound towards `θ = −1/max(y)` (the
/// degenerate ξ < −1 fits); those are not stationary points and are never chosen, as with
/// SciPy's `genpareto.fit`. Cost: O(N) per evaluation, about 1,000 evaluations.
pub fn fit_gpd(excesses: &[f64]) -> Result<Gpd> {
    if let Some(bad) = excesses.iter().find(|y| !(y.is_finite() && **y >= 0.0)) {
        return Err(EvalError::InvalidParam {
            param: "pot.excesses",
            value: bad.to_string(),
            reason: "excesses must be finite and non-negative",
            hint: "pass score − threshold for the scores above the threshold",
        });
    }
    let n = excesses.len() as f64;
    let (min, max) = excesses
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &y| {
            (lo.min(y), hi.max(y))
        });
    if excesses.len() < MIN_EXCESSES || min == max {
        return Err(EvalError::NotEnoughData {
            what: "a generalised Pareto fit",
            needed: "at least 10 excesses that are not all equal",
            hint: "lower pot's level (e.g. pot:1e-4:0.95) or give more validation rows",
        });
    }
    let mean = excesses.iter().sum::<f64>() / n;
    let mut best = Gpd {
        shape: 0.0,
        scale: mean,
        log_likelihood: log_likelihood(excesses, 0.0, mean),
    };
    // w(θ) from the dimensionless τ = θ·max(y), so that the scan does not depend on units.
    let w = |tau: f64| profile_root_function(excesses, tau / max);
    // Left side τ ∈ (−1, 0): log-spaced towards both −1 and 0.
    let mut left: Vec<f64> = (1..=SCAN_POINTS / 2)
        .flat_map(|k| {
            let e = -14.0 * k as f64 / (SCAN_POINTS / 2) as f64;
            [-(1.0 - 10f64.powf(e)), -(10f64.powf(e * 10.0 / 14.0))]
        })
        .filter(|&tau| tau > -1.0 && tau < 0.0)
        .collect();
    // Right side τ > 0 up to ten times Grimshaw's bound 2(ȳ − min)/min² on θ.
    let upper = if min > 0.0 {
        (20.0 * (mean - min) / (min * min) * max).clamp(10.0, 1e15)
    } else {
        1e15
    };
    let decades = upper.log10() + 10.0;
    let mut right: Vec<f64> = (0..=SCAN_POINTS)
        .map(|k| 10f64.powf(-10.0 + decades * k as f64 / SCAN_POINTS as f64))
        .collect();
    for grid in [&mut left, &mut right] {
        sort(grid);
        grid.dedup();
        let values: Vec<f64> = grid.iter().map(|&tau| w(tau)).collect();
        for k in 1..grid.len() {
            // w > 0 then w <= 0: the profile rises then falls, a local maximum.
            if values[k - 1] > 0.0 && values[k] <= 0.0 {
                let theta = bisect(
                    |theta| profile_root_function(excesses, theta),
                    grid[k - 1] / max,
                    grid[k] / max,
                );
                let shape = excesses.iter().map(|y| (theta * y).ln_1p()).sum::<f64>() / n;
                let scale = shape / theta;
                if shape.abs() < 1e-9 || !(scale > 0.0 && scale.is_finite()) {
                    continue;
                }
                let ll = log_likelihood(excesses, shape, scale);
                if ll > best.log_likelihood {
                    best = Gpd {
                        shape,
                        scale,
                        log_likelihood: ll,
                    };
                }
            }
        }
    }
    Ok(best)
}

/// Grimshaw's `w(θ) = u·(1 + ξ) − 1` with `u = mean(1/(1 + θy))`, written as
/// `(u − 1) + u·ξ` so that it keeps its precision as θ → 0 (where w = O(θ²)). Its sign is the
/// sign of the profile likelihood's slope.
fn profile_root_function(excesses: &[f64], theta: f64) -> f64 {
    let n = excesses.len() as f64;
    let (mut u_minus_1, mut u, mut shape) = (0.0, 0.0, 0.0);
    for &y in excesses {
        let s = 1.0 + theta * y;
        u_minus_1 -= theta * y / s;
        u += 1.0 / s;
        shape += (theta * y).ln_1p();
    }
    u_minus_1 / n + (u / n) * (shape / n)
}

/// A root of `f` between `a` (where `f > 0`) and `b` (where `f <= 0`), to full precision.
fn bisect(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (a + b);
        if mid == a || mid == b {
            break;
        }
        if f(mid) > 0.0 {
            a = mid;
        } else {
            b = mid;
        }
    }
    0.5 * (a + b)
}

/// GPD log-likelihood with location 0; `-inf` outside the support.
pub(super) fn log_likelihood(excesses: &[f64], shape: f64, scale: f64) -> f64 {
    let n = excesses.len() as f64;
    if shape == 0.0 {
        return -n * scale.ln() - excesses.iter().sum::<f64>() / scale;
    }
    let mut sum = 0.0;
    for &y in excesses {
        let z = shape * y / scale;
        if z <= -1.0 {
            return f64::NEG_INFINITY;
        }
        sum += z.ln_1p();
    }
    -n * scale.ln() - (1.0 + 1.0 / shape) * sum
}

/// The SPOT threshold of pooled `scores`: the `level`-quantile `t`, a GPD fitted to the excesses
/// over it, then `z = t + σ/ξ·((risk·n/N_t)^(−ξ) − 1)` (or `t − σ·ln(risk·n/N_t)` when ξ = 0),
/// the score exceeded with probability `risk` under the fitted tail. Returns `z` and the fit.
pub(super) fn spot_threshold(scores: &[f64], risk: f64, level: f64) -> Result<(f64, Gpd)> {
    let mut sorted = scores.to_vec();
    sort(&mut sorted);
    let t = quantile_sorted(&sorted, level).ok_or(EvalError::NotEnoughData {
        what: "a peaks-over-threshold fit",
        needed: "at least one validation score",
        hint: "give a non-empty validation slice",
    })?;
    let excesses: Vec<f64> = sorted.iter().filter(|&&x| x > t).map(|&x| x - t).collect();
    let gpd = fit_gpd(&excesses)?;
    let ratio = risk * sorted.len() as f64 / excesses.len() as f64;
    let z = if gpd.shape.abs() < 1e-9 {
        t - gpd.scale * ratio.ln()
    } else {
        t + gpd.scale / gpd.shape * (-gpd.shape * ratio.ln()).exp_m1()
    };
    Ok((z, gpd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// GPD samples by inversion: y = σ/ξ·((1 − U)^(−ξ) − 1).
    fn gpd_sample(n: usize, shape: f64, scale: f64, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let u: f64 = rng.random();
                scale / shape * ((1.0 - u).powf(-shape) - 1.0)
            })
            .collect()
    }

    /// Partial derivatives of the log-likelihood in (ξ, σ), by central differences.
    fn gradient(y: &[f64], g: &Gpd) -> (f64, f64) {
        let h = 1e-6;
        let d_shape = (log_likelihood(y, g.shape + h, g.scale)
            - log_likelihood(y, g.shape - h, g.scale))
            / (2.0 * h);
        let hs = h * g.scale;
        let d_scale = (log_likelihood(y, g.shape, g.scale + hs)
            - log_likelihood(y, g.shape, g.scale - hs))
            / (2.0 * hs);
        (d_shape, d_scale * g.scale)
    }

    #[test]
    fn fit_is_a_stationary_maximum_for_heavy_and_bounded_tails() {
        for (shape, seed) in [(0.3, 1), (-0.3, 2), (0.05, 3), (0.8, 4)] {
            let y = gpd_sample(2000, shape, 2.0, seed);
            let g = fit_gpd(&y).unwrap();
            assert!((g.shape - shape).abs() < 0.1, "{shape}: {g:?}");
            assert!((g.scale / 2.0 - 1.0).abs() < 0.15, "{shape}: {g:?}");
            let (ds, dl) = gradient(&y, &g);
            assert!(ds.abs() < 1e-4 && dl.abs() < 1e-4, "{shape}: {ds} {dl}");
            for (a, b) in [(1e-4, 0.0), (-1e-4, 0.0), (0.0, 1e-4), (0.0, -1e-4)] {
                let ll = log_likelihood(&y, g.shape + a, g.scale * (1.0 + b));
                assert!(ll < g.log_likelihood, "{shape}: not a maximum");
            }
        }
    }

    #[test]
    fn exponential_data_and_units() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let y: Vec<f64> = (0..5000)
            .map(|_| -(1.0 - rng.random::<f64>()).ln())
            .collect();
        let g = fit_gpd(&y).unwrap();
        assert!(g.shape.abs() < 0.05, "{g:?}");
        // Scaling the data scales σ and leaves ξ.
        let scaled: Vec<f64> = y.iter().map(|v| v * 1e6).collect();
        let h = fit_gpd(&scaled).unwrap();
        assert!((h.shape - g.shape).abs() < 1e-10);
        assert!((h.scale / (g.scale * 1e6) - 1.0).abs() < 1e-10);
    }

    #[test]
    fn too_few_or_constant_excesses_are_rejected() {
        for y in [vec![1.0; 5], vec![2.0; 50]] {
            let err = fit_gpd(&y).unwrap_err();
            assert!(matches!(err, EvalError::NotEnoughData { .. }));
            assert!(err.to_string().contains("hint: lower pot's level"));
        }
        assert!(fit_gpd(&[1.0, -1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]).is_err());
        assert!(fit_gpd(&[f64::NAN; 12]).is_err());
    }

    #[test]
    fn spot_threshold_is_above_the_initial_quantile() {
        let scores = gpd_sample(5000, 0.2, 1.0, 11);
        let (z3, g) = spot_threshold(&scores, 1e-3, 0.98).unwrap();
        let (z4, _) = spot_threshold(&scores, 1e-4, 0.98).unwrap();
        let mut sorted = scores.clone();
        sort(&mut sorted);
        let t = quantile_sorted(&sorted, 0.98).unwrap();
        assert!(t < z3 && z3 < z4, "{t} {z3} {z4} {g:?}");
        // Risk = share of excesses gives back t itself.
        let share = sorted.iter().filter(|&&x| x > t).count() as f64 / 5000.0;
        let (z, _) = spot_threshold(&scores, share, 0.98).unwrap();
        assert!((z - t).abs() < 1e-12);
    }
}
