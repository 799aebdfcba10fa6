//! DBSCAN as a pattern-shift detector (Ester et al., "A density-based algorithm for
//! discovering clusters", KDD 1996; scikit-learn's `DBSCAN` for the clustering itself).
//!
//! - Fit: DBSCAN on the valid training feature rows (`eps`, `min_samples`, a core point
//!   counting itself, distances ≤ eps); labels and core points equal scikit-learn's.
//! - Score of a row: the distance to the nearest training core point over `eps` (k-d tree),
//!   so ≤ 1 means the row would join a cluster and larger values mean the row lies away from
//!   every dense region of the training data (a new pattern).
//! - Causal over the causal feature rows; deterministic.
//! - Cost: fit O(n log n) to O(n²) range queries (dense data), memory O(n) (neighbourhoods
//!   are recomputed rather than stored); score O(log n) per row typically.

pub mod core;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::detectors::ecod::score_parallel;
use crate::error::{Result, TrainError};
use crate::features::{FeatureParams, FeatureValid, PointFamily, PointScorer, RowModel};
use crate::space::{Dim, Space};

pub use self::core::{Clustering, DbscanState, NOISE, dbscan};

/// Unchecked parameters of DBSCAN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DbscanParams {
    /// The feature transform (standardised by default, so `eps` is in σ units).
    pub features: FeatureParams,
    /// Neighbourhood radius (Euclidean, in feature units).
    pub eps: f64,
    /// Points within `eps` (the point itself included) that make a core point.
    pub min_samples: usize,
}

impl Default for DbscanParams {
    fn default() -> Self {
        Self {
            features: FeatureParams::default(),
            eps: 0.5,
            min_samples: 5,
        }
    }
}

impl DbscanParams {
    /// Sets the feature transform.
    pub fn with_features(mut self, features: FeatureParams) -> Self {
        self.features = features;
        self
    }
    /// Sets the radius.
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
    /// Sets the core-point threshold.
    pub fn with_min_samples(mut self, min_samples: usize) -> Self {
        self.min_samples = min_samples;
        self
    }

    /// The search space: the radius on a log scale, the core threshold, plus the features.
    pub fn space() -> Space {
        let mut space = vec![
            Dim::log("eps", 0.05, 5.0),
            Dim::int("min_samples", 2, 50, 1),
        ];
        space.extend(FeatureParams::space());
        space
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<DbscanValid> {
        let features = self.features.check()?;
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(TrainError::param(
                "dbscan.eps",
                format!("{} is not a positive number", self.eps),
                "use a radius in feature units, e.g. 0.5 on standardised features",
            ));
        }
        if self.min_samples == 0 {
            return Err(TrainError::param(
                "dbscan.min_samples",
                "0",
                "a core point counts itself: use 1 or more (scikit-learn's default is 5)",
            ));
        }
        Ok(DbscanValid {
            features,
            eps: self.eps,
            min_samples: self.min_samples,
        })
    }
}

/// Checked parameters of DBSCAN.
#[derive(Debug, Clone, PartialEq)]
pub struct DbscanValid {
    features: FeatureValid,
    eps: f64,
    min_samples: usize,
}

/// A fitted DBSCAN detector: features plus the core points.
pub type DbscanModel = RowModel<DbscanState>;

impl DbscanValid {
    /// Fits the features on `train`, then DBSCAN on the valid training rows.
    pub fn fit(&self, train: &Series) -> Result<DbscanModel> {
        RowModel::fit(&self.features, self, train)
    }
}

impl PointFamily for DbscanValid {
    const NAME: &'static str = "dbscan";
    type Model = DbscanState;

    fn min_rows(&self) -> usize {
        self.min_samples
    }

    fn fit_rows(&self, rows: ArrayView2<'_, f64>) -> Result<DbscanState> {
        let (state, _) = DbscanState::fit(rows, self.eps, self.min_samples);
        if state.core_count == 0 {
            return Err(TrainError::param(
                "dbscan.eps",
                format!(
                    "no training row has {} rows within {} (no core point, nothing to score against)",
                    self.min_samples, self.eps
                ),
                "raise eps or lower min_samples",
            ));
        }
        Ok(state)
    }
}

impl PointScorer for DbscanState {
    fn score_rows(&self, rows: ArrayView2<'_, f64>) -> Vec<f64> {
        score_parallel(rows, |row, _| {
            let mut best = Vec::with_capacity(1);
            self.score_row(row, &mut best)
        })
    }
}
