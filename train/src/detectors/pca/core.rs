//! PCA reconstruction-error scoring on plain row matrices, as PyOD's `PCA` detector computes it.

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::linalg::symmetric_eigen;

/// Smallest component weight a score divides by: a component with no variance (constant or
/// collinear training data) gives a large finite score instead of an infinity.
const WEIGHT_FLOOR: f64 = 1e-12;

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
        let mut x = rows.to_owned();
        for (j, mut column) in x.axis_iter_mut(Axis(1)).enumerate() {
            column.mapv_inplace(|v| (v / prescale[j] - mean[j]) / scale[j]);
        }
        // PCA centres on its own mean (≈ 0 after standardisation, but not exactly).
        let centre = x.mean_axis(Axis(0)).expect("at least two rows");
        x -= &centre;
        let covariance = x.t().dot(&x) / (n as f64 - 1.0);
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
    let n = rows.nrows() as f64;
    let mut prescale = Vec::new();
    let mut means = Vec::new();
    let mut scales = Vec::new();
    for column in rows.columns() {
        let max = column.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let p = if max > 0.0 && max.is_finite() {
            2f64.powi(max.log2().floor().clamp(-1000.0, 1000.0) as i32)
        } else {
            1.0
        };
        let mean = column.iter().map(|v| v / p).sum::<f64>() / n;
        let var = column.iter().map(|v| (v / p - mean).powi(2)).sum::<f64>() / n;
        let eps = f64::EPSILON;
        let constant = var <= n * eps * var + (n * mean * eps).powi(2);
        prescale.push(p);
        means.push(mean);
        scales.push(if constant { 1.0 } else { var.sqrt() });
    }
    (prescale, means, scales)
}
