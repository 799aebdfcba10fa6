//! Exact Gaussian likelihood of an ARMA(p, q) process by the Kalman filter on Harvey's state
//! space form (the form statsmodels' `SARIMAX`/`ARIMA` use), initialised at the stationary
//! distribution (the discrete Lyapunov equation solved exactly), with σ² concentrated out.

use std::f64::consts::PI;

/// statsmodels' `constrain_stationary_univariate` (Monahan 1984 / Jones 1980): maps any real
/// vector to the coefficients of a stationary AR polynomial (negate for an invertible MA).
pub fn constrain_stationary(unconstrained: &[f64]) -> Vec<f64> {
    let n = unconstrained.len();
    let mut y = vec![vec![0.0; n]; n];
    for k in 0..n {
        let r = unconstrained[k] / (1.0 + unconstrained[k] * unconstrained[k]).sqrt();
        for i in 0..k {
            y[k][i] = y[k - 1][i] + r * y[k - 1][k - i - 1];
        }
        y[k][k] = r;
    }
    y.last()
        .map_or_else(Vec::new, |row| row.iter().map(|v| -v).collect())
}

/// The filter's state: mean and covariance (in units of σ²) of the next state vector.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    r: usize,
    /// First column of the transition matrix: φ padded with zeros to r.
    phi: Vec<f64>,
    /// R = (1, θ₁, …) padded to r.
    big_r: Vec<f64>,
    a: Vec<f64>,
    p: Vec<f64>,
    scratch: Vec<f64>,
    /// P before the last update, to detect the steady state.
    previous: Vec<f64>,
    /// The last observed update left P bit-for-bit unchanged: P is a fixed point of the
    /// observed update, so later observed updates only move the mean (exactly the same
    /// numbers as the full recursion, at O(r) instead of O(r²) per row).
    steady: bool,
}

impl Filter {
    /// A filter at the stationary distribution; `None` when the AR part is not stationary.
    pub(crate) fn new(ar: &[f64], ma: &[f64]) -> Option<Filter> {
        let r = ar.len().max(ma.len() + 1);
        let mut phi = vec![0.0; r];
        phi[..ar.len()].copy_from_slice(ar);
        let mut big_r = vec![0.0; r];
        big_r[0] = 1.0;
        big_r[1..=ma.len()].copy_from_slice(ma);
        let p = stationary_covariance(&phi, &big_r)?;
        Some(Filter {
            r,
            phi,
            big_r,
            a: vec![0.0; r],
            p,
            scratch: vec![0.0; r * r],
            previous: vec![0.0; r * r],
            steady: false,
        })
    }

    /// One-step prediction of the next observation: mean and variance (units of σ²).
    #[inline]
    pub(crate) fn predict(&self) -> (f64, f64) {
        (self.a[0], self.p[0])
    }

    /// Takes in the next observation (NaN: a time update only).
    pub(crate) fn update(&mut self, y: f64) {
        let r = self.r;
        let observed = y.is_finite() && self.p[0] > 0.0;
        if observed && self.steady {
            // P stays where it is; the mean moves as in the full recursion below.
            let f = self.p[0];
            let v = y - self.a[0];
            for i in 0..r {
                self.a[i] += self.p[i * r] * v / f;
            }
            self.time_update_mean();
            return;
        }
        if observed {
            self.previous.copy_from_slice(&self.p);
            let f = self.p[0];
            let v = y - self.a[0];
            // Measurement update: a += P Z' v / F; P -= P Z' Z P / F (P Z' is P's first
            // column, read from the copy taken before P changes).
            for i in 0..r {
                let pz_i = self.previous[i * r];
                self.a[i] += pz_i * v / f;
                for j in 0..r {
                    self.p[i * r + j] -= pz_i * self.previous[j * r] / f;
                }
            }
        }
        self.time_update_mean();
        self.time_update_covariance();
        self.steady = observed && self.p == self.previous;
    }

    /// The steady state's observed rows of [`concentrated_loglik`] in one tight loop: from
    /// the first row of `z` (finite) while the values stay finite, each row adds `v²/F` to
    /// `sum_sq`, `ln F` to `sum_log_f` and 1 to `count`, then moves the mean as
    /// [`Filter::update`] does. F, `ln F` and the Kalman gain `P Z' / F` are constant here,
    /// so the gain is divided once, not per row: that takes the division off the chain that
    /// carries the mean from row to row (the likelihood's speed is that chain's latency). The
    /// mean then differs from the row-by-row recursion's in the last bits (`(g·v)/F` against
    /// `(g/F)·v`); the optimiser only compares likelihoods, and scoring uses
    /// [`Filter::update`]. Returns the number of rows consumed (at least 1).
    fn steady_run(
        &mut self,
        z: &[f64],
        sum_sq: &mut f64,
        sum_log_f: &mut f64,
        count: &mut usize,
    ) -> usize {
        debug_assert!(self.steady && z.first().is_some_and(|v| v.is_finite()));
        let r = self.r;
        let f = self.p[0];
        let ln_f = f.ln();
        let gain: Vec<f64> = (0..r).map(|i| self.p[i * r] / f).collect();
        // Local slices, so the state stays in registers across rows.
        let (a, phi) = (&mut self.a[..r], &self.phi[..r]);
        let mut used = 0;
        for &y in z {
            if !y.is_finite() {
                break;
            }
            let v = y - a[0];
            *sum_sq += v * v / f;
            *sum_log_f += ln_f;
            *count += 1;
            for (ai, &k) in a.iter_mut().zip(&gain) {
                *ai += k * v;
            }
            mean_time_update(a, phi);
            used += 1;
        }
        used
    }

    /// a = T a.
    #[inline]
    fn time_update_mean(&mut self) {
        let r = self.r;
        mean_time_update(&mut self.a[..r], &self.phi[..r]);
    }

    /// P = T P T' + R R'.
    #[inline]
    fn time_update_covariance(&mut self) {
        let r = self.r;
        // M = T P: row i = φ_i P[0,:] + P[i+1,:].
        for i in 0..r {
            for j in 0..r {
                let below = if i + 1 < r {
                    self.p[(i + 1) * r + j]
                } else {
                    0.0
                };
                self.scratch[i * r + j] = self.phi[i] * self.p[j] + below;
            }
        }
        // P = M T' + R R': (M T')_{ij} = φ_j M_{i0} + M_{i,j+1}.
        for i in 0..r {
            for j in 0..r {
                let right = if j + 1 < r {
                    self.scratch[i * r + j + 1]
                } else {
                    0.0
                };
                self.p[i * r + j] =
                    self.phi[j] * self.scratch[i * r] + right + self.big_r[i] * self.big_r[j];
            }
        }
    }
}

/// a = T a for the companion-form T with first column `phi` (`a` and `phi` r long, r ≥ 1).
#[inline(always)]
fn mean_time_update(a: &mut [f64], phi: &[f64]) {
    let r = a.len();
    let a0 = a[0];
    for i in 0..r - 1 {
        a[i] = phi[i] * a0 + a[i + 1];
    }
    // The last state has no successor: + 0.0, as the full product T a computes it.
    a[r - 1] = phi[r - 1] * a0 + 0.0;
}

/// Solves P = T P T' + R R' for the companion-form T with first column `phi`.
fn stationary_covariance(phi: &[f64], big_r: &[f64]) -> Option<Vec<f64>> {
    let r = phi.len();
    let t = |i: usize, k: usize| -> f64 {
        if k == 0 {
            phi[i]
        } else if k == i + 1 {
            1.0
        } else {
            0.0
        }
    };
    let size = r * r;
    let mut a = vec![0.0; size * size];
    let mut b = vec![0.0; size];
    for i in 0..r {
        for j in 0..r {
            let row = i * r + j;
            b[row] = big_r[i] * big_r[j];
            for k in 0..r {
                for l in 0..r {
                    a[row * size + k * r + l] -= t(i, k) * t(j, l);
                }
            }
            a[row * size + row] += 1.0;
        }
    }
    solve(&mut a, &mut b, size)?;
    if !(b[0] > 0.0 && b.iter().all(|v| v.is_finite())) {
        return None;
    }
    Some(b)
}

/// Gaussian elimination with partial pivoting; the solution replaces `b`.
fn solve(a: &mut [f64], b: &mut [f64], n: usize) -> Option<()> {
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&x, &y| a[x * n + col].abs().total_cmp(&a[y * n + col].abs()))?;
        if a[pivot * n + col].abs() < 1e-12 {
            return None;
        }
        if pivot != col {
            for k in 0..n {
                a.swap(pivot * n + k, col * n + k);
            }
            b.swap(pivot, col);
        }
        for row in col + 1..n {
            let factor = a[row * n + col] / a[col * n + col];
            if factor != 0.0 {
                for k in col..n {
                    a[row * n + k] -= factor * a[col * n + k];
                }
                b[row] -= factor * b[col];
            }
        }
    }
    for col in (0..n).rev() {
        let mut sum = b[col];
        for k in col + 1..n {
            sum -= a[col * n + k] * b[k];
        }
        b[col] = sum / a[col * n + col];
    }
    Some(())
}

/// Exact log-likelihood with σ² at its maximum: `(loglik, σ², observations)`; `None` when
/// the model is not stationary or the data leave no variance.
pub(crate) fn concentrated_loglik(ar: &[f64], ma: &[f64], z: &[f64]) -> Option<(f64, f64, usize)> {
    let mut filter = Filter::new(ar, ma)?;
    let (mut sum_sq, mut sum_log_f, mut count) = (0.0, 0.0, 0usize);
    let mut t = 0;
    while t < z.len() {
        if filter.steady && z[t].is_finite() {
            // P has reached its fixed point: run the observed rows that follow on the
            // steady-state loop.
            t += filter.steady_run(&z[t..], &mut sum_sq, &mut sum_log_f, &mut count);
            continue;
        }
        let value = z[t];
        t += 1;
        if value.is_finite() {
            let (mean, f) = filter.predict();
            if f.is_nan() || f <= 0.0 {
                return None;
            }
            let v = value - mean;
            sum_sq += v * v / f;
            sum_log_f += f.ln();
            count += 1;
        }
        filter.update(value);
    }
    if count == 0 {
        return None;
    }
    let sigma2 = sum_sq / count as f64;
    if !(sigma2 > 0.0 && sigma2.is_finite()) {
        return None;
    }
    let n = count as f64;
    let loglik = -0.5 * n * ((2.0 * PI).ln() + 1.0 + sigma2.ln()) - 0.5 * sum_log_f;
    Some((loglik, sigma2, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ar1_stationary_variance_is_one_over_one_minus_phi_squared() {
        let filter = Filter::new(&[0.6], &[]).expect("stationary");
        assert!((filter.predict().1 - 1.0 / (1.0 - 0.36)).abs() < 1e-12);
        assert!(Filter::new(&[1.2], &[]).is_none());
    }

    #[test]
    fn constrained_coefficients_are_stationary() {
        let ar = constrain_stationary(&[3.0]);
        assert!(ar[0].abs() < 1.0);
        let ar2 = constrain_stationary(&[2.0, -5.0]);
        assert!(Filter::new(&ar2, &[]).is_some());
    }

    /// The likelihood loop row by row through [`Filter::update`], without the steady-state
    /// run: what [`concentrated_loglik`] must reproduce (to rounding: its steady run
    /// divides the gain once).
    fn loglik_row_by_row(ar: &[f64], ma: &[f64], z: &[f64]) -> (f64, f64, usize) {
        let mut filter = Filter::new(ar, ma).expect("stationary");
        let (mut sum_sq, mut sum_log_f, mut count) = (0.0, 0.0, 0usize);
        for &value in z {
            if value.is_finite() {
                let (mean, f) = filter.predict();
                let v = value - mean;
                sum_sq += v * v / f;
                sum_log_f += f.ln();
                count += 1;
            }
            filter.update(value);
        }
        (sum_sq, sum_log_f, count)
    }

    #[test]
    fn the_steady_state_run_gives_the_row_by_row_likelihood_to_rounding() {
        let y: Vec<f64> = (0..5000)
            .map(|t| {
                if (1500..1510).contains(&t) || t == 4999 || t % 997 == 0 {
                    f64::NAN
                } else {
                    (t as f64 * 0.7).sin() + (t as f64 * 0.013).cos() * 0.5
                }
            })
            .collect();
        for (ar, ma) in [
            (vec![0.6], vec![0.3]),
            (vec![0.5, -0.2], vec![0.4, 0.1]),
            (vec![], vec![0.95]),
            (vec![0.2], vec![]),
        ] {
            let (sum_sq, sum_log_f, count) = loglik_row_by_row(&ar, &ma, &y);
            let n = count as f64;
            let sigma2 = sum_sq / n;
            let want = -0.5 * n * ((2.0 * PI).ln() + 1.0 + sigma2.ln()) - 0.5 * sum_log_f;
            let got = concentrated_loglik(&ar, &ma, &y).expect("a likelihood");
            assert_eq!(got.2, count, "ar {ar:?} ma {ma:?}");
            assert!(
                (got.0 - want).abs() <= 1e-12 * want.abs(),
                "ar {ar:?} ma {ma:?}: log-likelihood {} vs {want}",
                got.0
            );
            assert!(
                (got.1 - sigma2).abs() <= 1e-12 * sigma2,
                "ar {ar:?} ma {ma:?}: σ² {} vs {sigma2}",
                got.1
            );
        }
    }

    #[test]
    fn the_steady_state_shortcut_gives_the_full_recursions_numbers() {
        // ARMA(2, 2) with a NaN gap: the shortcut must switch off over the gap and on again.
        let (ar, ma) = ([0.5, -0.2], [0.4, 0.1]);
        let y: Vec<f64> = (0..3000)
            .map(|t| {
                if (1500..1510).contains(&t) {
                    f64::NAN
                } else {
                    (t as f64 * 0.7).sin() + (t as f64 * 0.013).cos() * 0.5
                }
            })
            .collect();
        let mut fast = Filter::new(&ar, &ma).expect("stationary");
        let mut full = fast.clone();
        let mut steady_rows = 0;
        for &v in &y {
            assert_eq!(fast.predict(), full.predict());
            fast.update(v);
            full.steady = false;
            full.update(v);
            steady_rows += usize::from(fast.steady);
        }
        assert_eq!(fast.a, full.a);
        assert_eq!(fast.p, full.p);
        assert!(
            steady_rows > 2500,
            "the shortcut ran on {steady_rows} rows only"
        );
    }
}
