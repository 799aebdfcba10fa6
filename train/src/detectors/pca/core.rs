//! PCA reconstruction-error scoring on plain row matrices, as PyOD's `PCA` detector computes it.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::linalg::symmetric_eigen;

/// Smallest component weight a score divides by: a component with no variance (constant or
/// collinear training data) gives a large finite score instead of an infinity.
pub const WEIGHT_FLOOR: f64 = 1e-12;

/// Rows per parallel task in the fit's passes. Fixed, so the partial sums (and so the fitted
/// state) do not depend on the number of threads.
const FIT_CHUNK: usize = 4096;

/// What the fit needs to know.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PcaSettings {
    /// Components kept (`None` = min(rows, features), scikit-learn's default).
    pub n_components: Option<usize>,
    /// The minor components the score uses, counted from the last kept one (`None` = all kept).
    pub n_selected_components: Option<usize>,
    /// Divide each component's distance by its explained-variance ratio (PyOD's `weighted`).
    pub weighted: bool,
    /// Standardise features first (PyOD's `standardization`, a StandardScaler fitted on train).
    pub standardization: bool,
}

/// The fitted state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcaState {
    /// Per feature, the exact power-of-two prescale applied before standardisation (1 without
    /// standardisation), so huge or tiny magnitudes do not overflow the variance.
    pub prescale: Vec<f64>,
    /// Per feature, the scaler's mean (0 without standardisation).
    pub mean: Vec<f64>,
    /// Per feature, the scaler's standard deviation (1 without standardisation or for a
    /// constant feature).
    pub scale: Vec<f64>,
    /// All kept components (rows, unit length, scikit-learn's sign convention: the entry of
    /// largest magnitude is positive), in descending order of explained variance.
    pub components: Array2<f64>,
    /// Explained variance per kept component (eigenvalues of the covariance, ddof = 1).
    pub explained_variance: Vec<f64>,
    /// Explained variance ratio per kept component.
    pub explained_variance_ratio: Vec<f64>,
    /// How many of the last components the score uses.
    pub n_selected: usize,
    /// Weight each component by its explained variance ratio.
    pub weighted: bool,
}

/// Why a fit cannot proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcaFitError {
    /// Fewer rows than the components asked for (or than 2).
    TooFewRows { needed: usize, got: usize },
    /// `n_components` above the number of features.
    TooManyComponents { asked: usize, features: usize },
    /// `n_selected_components` above `n_components`.
    TooManySelected { asked: usize, kept: usize },
}

impl PcaState {
    /// Fits on `rows` (rows × features, all finite).
    pub fn fit(rows: ArrayView2<f64>, settings: PcaSettings) -> Result<PcaState, PcaFitError> {
        let (n, d) = rows.dim();
        let max_components = n.min(d);
        let kept = settings.n_components.unwrap_or(max_components);
        if kept > d {
            return Err(PcaFitError::TooManyComponents {
                asked: kept,
                features: d,
            });
        }
        if n < 2 || kept > n {
            return Err(PcaFitError::TooFewRows {
                needed: kept.max(2),
                got: n,
            });
        }
        let n_selected = settings.n_selected_components.unwrap_or(kept);
        if n_selected == 0 || n_selected > kept {
            return Err(PcaFitError::TooManySelected {
                asked: n_selected,
                kept,
            });
        }
        let (prescale, mean, scale) = if settings.standardization {
            standard_scaler(rows)
        } else {
            (vec![1.0; d], vec![0.0; d], vec![1.0; d])
        };
        // The standardised rows, computed once (row-major, n × d). Dividing by the power-of-two
        // prescale and multiplying by its reciprocal give the same bits.
        let inverse = reciprocals(&prescale);
        let mut z = vec![0.0; n * d];
        z.par_chunks_mut(FIT_CHUNK * d.max(1))
            .enumerate()
            .for_each(|(chunk, out)| {
                let first = chunk * FIT_CHUNK;
                for (r, o) in out.chunks_exact_mut(d.max(1)).enumerate() {
                    for (j, (o, v)) in o.iter_mut().zip(rows.row(first + r).iter()).enumerate() {
                        *o = (v * inverse[j] - mean[j]) / scale[j];
                    }
                }
            });
        // The PCA centre of the standardised rows (≈ 0, not exactly), then the upper triangle
        // of their covariance: per fixed chunk of rows, partial sums added in chunk order, so
        // the fit does not depend on the thread count.
        let mut centre = chunked_sum(&z, d, d, |row, acc| {
            acc.iter_mut().zip(row).for_each(|(c, v)| *c += v);
        });
        centre.iter_mut().for_each(|c| *c /= n as f64);
        let upper = chunked_sum(&z, d, d * d, |row, acc| {
            if d > 64 {
                // Wide rows (long subsequence windows): one allocation per row is noise next
                // to the d² products.
                covariance_row(row, &centre, acc);
                return;
            }
            let mut centred = [0.0; 64];
            centred
                .iter_mut()
                .zip(row.iter().zip(&centre))
                .for_each(|(o, (v, c))| *o = v - c);
            upper_triangle_add(&centred[..d], acc);
        });
        let mut covariance =
            Array2::from_shape_vec((d, d), upper).expect("d × d covariance accumulator");
        covariance.mapv_inplace(|v| v / (n as f64 - 1.0));
        let (values, vectors) = symmetric_eigen(&covariance);
        // scikit-learn's full SVD returns min(n, d) components; their variances sum to the total.
        let values: Vec<f64> = values.iter().map(|v| v.max(0.0)).collect();
        let total: f64 = values[..max_components].iter().sum();
        let mut components = vectors.slice(ndarray::s![..kept, ..]).to_owned();
        for mut row in components.rows_mut() {
            // svd_flip(u_based_decision=False): the first entry of largest |value| is positive.
            let mut best = 0;
            for (k, v) in row.iter().enumerate() {
                if v.abs() > row[best].abs() {
                    best = k;
                }
            }
            if row[best] < 0.0 {
                row.mapv_inplace(|v| -v);
            }
        }
        let explained_variance = values[..kept].to_vec();
        let explained_variance_ratio = explained_variance
            .iter()
            .map(|v| {
                if total > 0.0 {
                    v / total
                } else {
                    1.0 / max_components as f64
                }
            })
            .collect();
        Ok(PcaState {
            prescale,
            mean,
            scale,
            components,
            explained_variance,
            explained_variance_ratio,
            n_selected,
            weighted: settings.weighted,
        })
    }

    /// Number of features.
    pub fn features(&self) -> usize {
        self.mean.len()
    }

    /// PyOD's score of one row: `Σ_j ‖x − v_j‖ / w_j` over the selected (minor) components
    /// `v_j`, with `x` standardised by the training scaler and `w_j` the explained-variance ratio
    /// (1 when unweighted). PyOD measures the distance from the row to each unit component
    /// vector (scipy `cdist`), which is why the sign convention of the components matters.
    pub fn score_row(&self, row: &[f64], buffer: &mut Vec<f64>) -> f64 {
        buffer.clear();
        buffer.extend(
            row.iter()
                .enumerate()
                .map(|(j, v)| (v / self.prescale[j] - self.mean[j]) / self.scale[j]),
        );
        self.score_standardised(buffer)
    }

    /// [`PcaState::score_row`] for many rows with the prescale's reciprocals given
    /// ([`PcaState::prescale_reciprocals`]): the same bits, without a division per value.
    pub fn score_row_with(&self, row: &[f64], inverse: &[f64], buffer: &mut Vec<f64>) -> f64 {
        buffer.clear();
        buffer.extend(
            row.iter()
                .enumerate()
                .map(|(j, v)| (v * inverse[j] - self.mean[j]) / self.scale[j]),
        );
        self.score_standardised(buffer)
    }

    /// The reciprocals of the per-feature prescale (exact: each prescale is a power of two).
    pub fn prescale_reciprocals(&self) -> Vec<f64> {
        reciprocals(&self.prescale)
    }

    /// The score of one standardised row.
    fn score_standardised(&self, buffer: &[f64]) -> f64 {
        let kept = self.components.nrows();
        let mut total = 0.0;
        for c in (kept - self.n_selected)..kept {
            let component = self.components.row(c);
            let distance = buffer
                .iter()
                .zip(component.iter())
                .map(|(x, v)| (x - v) * (x - v))
                .sum::<f64>()
                .sqrt();
            let weight = if self.weighted {
                self.explained_variance_ratio[c].max(WEIGHT_FLOOR)
            } else {
                1.0
            };
            total += distance / weight;
        }
        total
    }
}

/// 1 / p for each power of two p (exact).
fn reciprocals(prescale: &[f64]) -> Vec<f64> {
    prescale.iter().map(|p| 1.0 / p).collect()
}

/// One row's contribution to the covariance's upper triangle (any width).
fn covariance_row(row: &[f64], centre: &[f64], acc: &mut [f64]) {
    let centred: Vec<f64> = row.iter().zip(centre).map(|(v, c)| v - c).collect();
    upper_triangle_add(&centred, acc);
}

/// acc[a][b] += z_a z_b for b ≥ a (acc row-major, len(z) wide).
#[inline]
fn upper_triangle_add(z: &[f64], acc: &mut [f64]) {
    let d = z.len();
    for (a, &za) in z.iter().enumerate() {
        let target = &mut acc[a * d + a..(a + 1) * d];
        target
            .iter_mut()
            .zip(&z[a..])
            .for_each(|(t, zb)| *t += za * zb);
    }
}

/// Σ over the rows of `z` (row-major, `d` wide) of `add(row, acc)`: [`chunked_rows`] over
/// the rows as slices, the chunks' accumulators added in order.
fn chunked_sum(
    z: &[f64],
    d: usize,
    len: usize,
    add: impl Fn(&[f64], &mut [f64]) + Sync,
) -> Vec<f64> {
    let rows = ArrayView2::from_shape((z.len() / d.max(1), d), z).expect("z is n × d");
    chunked_rows(
        rows,
        len,
        |row, acc| add(row.as_slice().expect("a standard-layout row"), acc),
        |t, a| *t += a,
    )
}

/// Σ over the rows of `rows` of `add(row, acc)`: one accumulator of `len` zeros per chunk of
/// [`FIT_CHUNK`] rows (rayon), the chunks' accumulators then merged in chunk order.
fn chunked_rows(
    rows: ArrayView2<f64>,
    len: usize,
    add: impl Fn(ndarray::ArrayView1<f64>, &mut [f64]) + Sync,
    merge: impl Fn(&mut f64, f64),
) -> Vec<f64> {
    let n = rows.nrows();
    let starts: Vec<usize> = (0..n).step_by(FIT_CHUNK).collect();
    let partial: Vec<Vec<f64>> = starts
        .par_iter()
        .map(|&start| {
            let mut acc = vec![0.0; len];
            for r in start..(start + FIT_CHUNK).min(n) {
                add(rows.row(r), &mut acc);
            }
            acc
        })
        .collect();
    let mut total = vec![0.0; len];
    for acc in partial {
        total.iter_mut().zip(acc).for_each(|(t, a)| merge(t, a));
    }
    total
}

/// scikit-learn's StandardScaler (population variance; a feature whose variance is within
/// rounding of zero keeps scale 1), after an exact power-of-two prescale per feature. Each
/// pass runs over fixed chunks of rows in parallel (see [`chunked_rows`]).
fn standard_scaler(rows: ArrayView2<f64>) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (n, d) = rows.dim();
    let max = chunked_rows(
        rows,
        d,
        |row, acc| {
            acc.iter_mut()
                .zip(row.iter())
                .for_each(|(m, v)| *m = m.max(v.abs()))
        },
        |t, a| *t = t.max(a),
    );
    let prescale: Vec<f64> = max
        .iter()
        .map(|&m| {
            if m > 0.0 && m.is_finite() {
                2f64.powi(m.log2().floor().clamp(-1000.0, 1000.0) as i32)
            } else {
                1.0
            }
        })
        .collect();
    let inverse = reciprocals(&prescale);
    let mut means = chunked_rows(
        rows,
        d,
        |row, acc| {
            for (j, v) in row.iter().enumerate() {
                acc[j] += v * inverse[j];
            }
        },
        |t, a| *t += a,
    );
    means.iter_mut().for_each(|m| *m /= n as f64);
    let vars = chunked_rows(
        rows,
        d,
        |row, acc| {
            for (j, v) in row.iter().enumerate() {
                acc[j] += (v * inverse[j] - means[j]).powi(2);
            }
        },
        |t, a| *t += a,
    );
    let eps = f64::EPSILON;
    let nf = n as f64;
    let scales = vars
        .iter()
        .zip(&means)
        .map(|(var, mean)| {
            let var = var / nf;
            let constant = var <= nf * eps * var + (nf * mean * eps).powi(2);
            if constant { 1.0 } else { var.sqrt() }
        })
        .collect();
    (prescale, means, scales)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rows(n: usize, d: usize) -> Array2<f64> {
        // Deterministic, correlated, with features of very different magnitudes.
        Array2::from_shape_fn((n, d), |(r, c)| {
            let t = r as f64;
            ((t * 0.37 + c as f64).sin() * 3.0 + (t * 0.011).cos() * c as f64)
                * 10f64.powi(c as i32 - 2)
        })
    }

    #[test]
    fn the_fit_and_scores_do_not_depend_on_the_thread_count() {
        // More rows than one chunk, so the chunked sums really split.
        let data = rows(3 * FIT_CHUNK + 17, 6);
        let settings = PcaSettings {
            n_components: None,
            n_selected_components: None,
            weighted: true,
            standardization: true,
        };
        let fit_on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| PcaState::fit(data.view(), settings).unwrap())
        };
        let (one, four) = (fit_on(1), fit_on(4));
        assert_eq!(one, four);
        let inverse = one.prescale_reciprocals();
        let mut buffer = Vec::new();
        for row in data.rows().into_iter().step_by(101) {
            let row = row.to_vec();
            let plain = one.score_row(&row, &mut buffer);
            assert_eq!(plain, one.score_row_with(&row, &inverse, &mut buffer));
            assert!(plain.is_finite() && plain > 0.0);
        }
    }

    #[test]
    fn wide_rows_take_the_general_covariance_path() {
        // 70 features (> 64, the stack buffer): the same covariance as the narrow path gives
        // on the first 6 features alone would not apply, so check against a direct sum.
        let data = rows(500, 70);
        let settings = PcaSettings {
            n_components: Some(3),
            n_selected_components: None,
            weighted: false,
            standardization: false,
        };
        let state = PcaState::fit(data.view(), settings).unwrap();
        let mean: Vec<f64> = (0..70).map(|c| data.column(c).mean().unwrap()).collect();
        let centred = Array2::from_shape_fn((500, 70), |(r, c)| data[[r, c]] - mean[c]);
        let covariance = centred.t().dot(&centred) / 499.0;
        let total: f64 = (0..70).map(|c| covariance[[c, c]]).sum();
        let (values, _) = symmetric_eigen(&covariance);
        for (got, want) in state.explained_variance.iter().zip(values.iter()) {
            assert!((got - want).abs() <= 1e-9 * total, "{got} vs {want}");
        }
    }
}
