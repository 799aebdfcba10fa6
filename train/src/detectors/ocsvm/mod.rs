//! One-class SVM (Schölkopf et al., "Estimating the support of a high-dimensional
//! distribution", Neural Computation 2001) with the RBF kernel, as scikit-learn's
//! `OneClassSVM`; our own port of libsvm's solver ([`smo`]).
//!
//! - Fit: the one-class dual on the valid training rows, solved by SMO with libsvm's
//!   second-order working-set selection, stopping tolerance `tol` (1e-3, scikit-learn's) and
//!   optionally its shrinking heuristic (on by default, as in scikit-learn); the iterates follow
//!   libsvm's step for step, so decision values equal scikit-learn's to rounding.
//! - Score of a row: −decision_function = ρ − Σ α_i K(sv_i, x) (higher = further outside the
//!   learned support).
//! - `gamma`: `"scale"` = 1 / (features · var(X)) over all training entries, `"auto"` =
//!   1 / features, or a number, as scikit-learn.
//! - Memory: O(n) plus a kernel-column cache bounded by `cache_mb` (scikit-learn's
//!   `cache_size`, default 200 MB); the n × n kernel matrix is never stored beyond that.
//!   Time: O(n·d) per kernel column; in practice fine to tens of thousands of training rows,
//!   slow beyond (subsample the training rows there).
//! - Causal over the causal feature rows; deterministic (no randomness).

pub mod core;
pub mod smo;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::detectors::ecod::score_parallel;
use crate::error::{Result, TrainError};
use crate::features::{FeatureParams, FeatureValid, PointFamily, PointScorer, RowModel};
use crate::space::{Dim, Space};

pub use self::core::{Gamma, OcsvmState};

/// Unchecked parameters of the one-class SVM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OcsvmParams {
    /// The feature transform (standardised by default, so `gamma` is in σ units).
    pub features: FeatureParams,
    /// Upper bound on the fraction of training errors, lower bound on the fraction of support
    /// vectors, in (0, 1].
    pub nu: f64,
    /// RBF kernel width.
    pub gamma: Gamma,
    /// Stopping tolerance of the solver.
    pub tol: f64,
    /// libsvm's shrinking heuristic (faster on large problems; ends at a slightly different
    /// point within `tol`).
    pub shrinking: bool,
    /// Kernel-column cache budget in MB.
    pub cache_mb: usize,
}

impl Default for OcsvmParams {
    fn default() -> Self {
        Self {
            features: FeatureParams::default(),
            nu: 0.1,
            gamma: Gamma::Scale,
            tol: 1e-3,
            shrinking: true,
            cache_mb: 200,
        }
    }
}

impl OcsvmParams {
    /// Sets the feature transform.
    pub fn with_features(mut self, features: FeatureParams) -> Self {
        self.features = features;
        self
    }
    /// Sets ν.
    pub fn with_nu(mut self, nu: f64) -> Self {
        self.nu = nu;
        self
    }
    /// Sets γ.
    pub fn with_gamma(mut self, gamma: Gamma) -> Self {
        self.gamma = gamma;
        self
    }

    /// The search space: ν and γ on log scales, plus the features.
    pub fn space() -> Space {
        let mut space = vec![Dim::log("nu", 0.005, 0.5), Dim::log("gamma", 1e-3, 10.0)];
        space.extend(FeatureParams::space());
        space
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<OcsvmValid> {
        let features = self.features.check()?;
        if !(self.nu > 0.0 && self.nu <= 1.0) {
            return Err(TrainError::param(
                "ocsvm.nu",
                format!("{} is not within (0, 1]", self.nu),
                "ν bounds the fraction of training outliers: use e.g. 0.05 or 0.1",
            ));
        }
        if let Gamma::Value(g) = self.gamma
            && !(g.is_finite() && g > 0.0)
        {
            return Err(TrainError::param(
                "ocsvm.gamma",
                format!("{g} is not a positive number"),
                "use \"scale\" (scikit-learn's default), \"auto\", or a positive width",
            ));
        }
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(TrainError::param(
                "ocsvm.tol",
                format!("{} is not a positive number", self.tol),
                "use scikit-learn's 1e-3",
            ));
        }
        if self.cache_mb == 0 {
            return Err(TrainError::param(
                "ocsvm.cache_mb",
                "0 MB",
                "give the kernel cache some memory, e.g. 200 (scikit-learn's cache_size)",
            ));
        }
        Ok(OcsvmValid {
            features,
            params: self.clone(),
        })
    }
}

/// Checked parameters of the one-class SVM.
#[derive(Debug, Clone, PartialEq)]
pub struct OcsvmValid {
    features: FeatureValid,
    params: OcsvmParams,
}

/// A fitted one-class SVM: features plus the support vectors.
pub type OcsvmModel = RowModel<OcsvmState>;

impl OcsvmValid {
    /// Fits the features on `train`, then the SVM on the valid training rows.
    pub fn fit(&self, train: &Series) -> Result<OcsvmModel> {
        RowModel::fit(&self.features, self, train)
    }
}

impl PointFamily for OcsvmValid {
    const NAME: &'static str = "ocsvm";
    type Model = OcsvmState;

    fn min_rows(&self) -> usize {
        2
    }

    fn fit_rows(&self, rows: ArrayView2<'_, f64>) -> Result<OcsvmState> {
        let p = &self.params;
        Ok(OcsvmState::fit(
            rows,
            p.nu,
            p.gamma,
            p.tol,
            p.shrinking,
            p.cache_mb.saturating_mul(1 << 20),
        ))
    }
}

impl PointScorer for OcsvmState {
    fn score_rows(&self, rows: ArrayView2<'_, f64>) -> Vec<f64> {
        score_parallel(rows, |row, _| -self.decision(row))
    }
}
