//! One-class SVM on plain row matrices: fit with the libsvm port in [`super::smo`], decision
//! values as scikit-learn's `OneClassSVM.decision_function`.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::smo::solve_one_class;

/// The RBF kernel width; in specs `"scale"`, `"auto"` or a number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GammaRepr", into = "GammaRepr")]
pub enum Gamma {
    /// scikit-learn's `'scale'`: 1 / (features · X.var()) over all training entries (1 / features
    /// when that variance is 0).
    Scale,
    /// scikit-learn's `'auto'`: 1 / features.
    Auto,
    /// A fixed value, in the units of the rows the model sees.
    Value(f64),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum GammaRepr {
    Name(String),
    Value(f64),
}

impl TryFrom<GammaRepr> for Gamma {
    type Error = String;
    fn try_from(repr: GammaRepr) -> Result<Self, Self::Error> {
        match repr {
            GammaRepr::Value(v) => Ok(Gamma::Value(v)),
            GammaRepr::Name(name) => match name.as_str() {
                "scale" => Ok(Gamma::Scale),
                "auto" => Ok(Gamma::Auto),
                other => Err(format!(
                    "gamma: unknown value {other:?} (use \"scale\", \"auto\" or a positive number)"
                )),
            },
        }
    }
}

impl From<Gamma> for GammaRepr {
    fn from(gamma: Gamma) -> Self {
        match gamma {
            Gamma::Scale => GammaRepr::Name("scale".into()),
            Gamma::Auto => GammaRepr::Name("auto".into()),
            Gamma::Value(v) => GammaRepr::Value(v),
        }
    }
}

/// The fitted state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcsvmState {
    /// The exact power-of-two scale rows are divided by before the kernel (so huge or tiny
    /// magnitudes neither overflow nor underflow it); `gamma` below is in these scaled units.
    pub prescale: f64,
    /// The kernel width in prescaled units (γ·prescale²).
    pub gamma: f64,
    /// The support vectors (training rows with a positive multiplier), prescaled.
    pub support_vectors: Array2<f64>,
    /// Their multipliers (scikit-learn's `dual_coef_`).
    pub dual_coef: Vec<f64>,
    /// The offset ρ (scikit-learn's `-intercept_`).
    pub rho: f64,
    /// Solver iterations (for the record).
    pub iterations: usize,
}

impl OcsvmState {
    /// Fits on `rows` (l × d, all finite, l ≥ 1).
    pub fn fit(
        rows: ArrayView2<f64>,
        nu: f64,
        gamma: Gamma,
        tol: f64,
        shrinking: bool,
        cache_bytes: usize,
    ) -> OcsvmState {
        let (l, d) = rows.dim();
        let max = rows.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let prescale = if max > 0.0 && max.is_finite() {
            2f64.powi(max.log2().floor().clamp(-1000.0, 1000.0) as i32)
        } else {
            1.0
        };
        let scaled = rows.mapv(|v| v / prescale);
        let gamma = match gamma {
            Gamma::Auto => 1.0 / d as f64 * prescale * prescale,
            Gamma::Value(g) => g * prescale * prescale,
            Gamma::Scale => {
                let count = (l * d) as f64;
                let mean = scaled.iter().sum::<f64>() / count;
                let var = scaled.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count;
                if var > 0.0 {
                    1.0 / (d as f64 * var)
                } else {
                    1.0
                }
            }
        };
        let solution = solve_one_class(scaled.view(), nu, gamma, tol, shrinking, cache_bytes);
        let support: Vec<usize> = (0..l).filter(|&i| solution.alpha[i] > 0.0).collect();
        let support_vectors =
            Array2::from_shape_fn((support.len(), d), |(k, j)| scaled[[support[k], j]]);
        let dual_coef = support.iter().map(|&i| solution.alpha[i]).collect();
        OcsvmState {
            prescale,
            gamma,
            support_vectors,
            dual_coef,
            rho: solution.rho,
            iterations: solution.iterations,
        }
    }

    /// Number of features.
    pub fn features(&self) -> usize {
        self.support_vectors.ncols()
    }

    /// scikit-learn's `decision_function` for one row: Σ α_i exp(−γ‖sv_i − x‖²) − ρ (positive
    /// inside the learned support, negative outside).
    pub fn decision(&self, row: &[f64]) -> f64 {
        let mut sum = 0.0;
        for (sv, coef) in self.support_vectors.rows().into_iter().zip(&self.dual_coef) {
            let distance: f64 = sv
                .iter()
                .zip(row)
                .map(|(s, x)| {
                    let diff = s - x / self.prescale;
                    diff * diff
                })
                .sum();
            sum += coef * (-self.gamma * distance).exp();
        }
        sum - self.rho
    }
}
