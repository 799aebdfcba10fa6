//! PCA reconstruction-error scoring on plain row matrices, as PyOD's `PCA` detector computes it.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::linalg::symmetric_eigen;

/// Smallest component weight a score divides by: a component with no variance (constant or
/// collinear training data) gives a large finite score instead of an infinity.
pub const WEIGHT_FLOOR: f64 = 1e-12;

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
        // Row-major passes only: the PCA centre of the standardised rows (≈ 0, not exactly),
        // then the upper triangle of their covariance.
        let standardise = |row: ndarray::ArrayView1<f64>, out: &mut [f64]| {
            for (j, (o, v)) in out.iter_mut().zip(row.iter()).enumerate() {
                *o = (v / prescale[j] - mean[j]) / scale[j];
            }
        };
        let mut z = vec![0.0; d];
        let mut centre = vec![0.0; d];
        for row in rows.rows() {
            standardise(row, &mut z);
            centre.iter_mut().zip(&z).for_each(|(c, v)| *c += v);
        }
        centre.iter_mut().for_each(|c| *c /= n as f64);
        let mut covariance = Array2::<f64>::zeros((d, d));
        for row in rows.rows() {
            standardise(row, &mut z);
            z.iter_mut().zip(&centre).for_each(|(v, c)| *v -= c);
            for a in 0..d {
                let za = z[a];
                let mut target = covariance.row_mut(a);
                for b in a..d {
                    target[b] += za * z[b];
                }
            }
        }
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

/// scikit-learn's StandardScaler (population variance; a feature whose variance is within
/// rounding of zero keeps scale 1), after an exact power-of-two prescale per feature.
fn standard_scaler(rows: ArrayView2<f64>) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (n, d) = rows.dim();
    let mut max = vec![0.0_f64; d];
    for row in rows.rows() {
        max.iter_mut()
            .zip(row.iter())
            .for_each(|(m, v)| *m = m.max(v.abs()));
    }
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
    let mut means = vec![0.0; d];
    for row in rows.rows() {
        for (j, v) in row.iter().enumerate() {
            means[j] += v / prescale[j];
        }
    }
    means.iter_mut().for_each(|m| *m /= n as f64);
    let mut vars = vec![0.0; d];
    for row in rows.rows() {
        for (j, v) in row.iter().enumerate() {
            vars[j] += (v / prescale[j] - means[j]).powi(2);
        }
    }
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
