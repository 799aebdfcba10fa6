//! DBSCAN as a pattern-shift detector (Ester et al., "A density-based algorithm for
//! discovering clusters", KDD 1996; scikit-learn's `DBSCAN` for the clustering itself).
//!
//! - Fit: DBSCAN on the valid training feature rows (`eps`, `min_samples`, a core point
//!   counting itself, distances ≤ eps); labels and core points equal scikit-learn's. A fixed
//!   `eps` only suits one feature layout (scikit-learn's 0.5 is meant for a few standardised
//!   columns), so by default (`eps = None`) it is chosen on the training rows: the smallest
//!   radius that makes `core_fraction` of them core points (the `core_fraction` quantile of
//!   each row's distance to its (min_samples − 1)-th nearest other row).
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
use crate::neighbors::{DEFAULT_LEAF_SIZE, KdTree};
use crate::space::{Dim, Space};

pub use self::core::{Clustering, DbscanState, NOISE, dbscan};

/// Unchecked parameters of DBSCAN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DbscanParams {
    /// The feature transform (standardised by default, so `eps` is in σ units).
    pub features: FeatureParams,
    /// Neighbourhood radius (Euclidean, in feature units); `None` = chosen on the training
    /// rows from `core_fraction`.
    pub eps: Option<f64>,
    /// Points within `eps` (the point itself included) that make a core point.
    pub min_samples: usize,
    /// With `eps = None`: the share of training rows that should be core points.
    pub core_fraction: f64,
}

impl Default for DbscanParams {
    fn default() -> Self {
        Self {
            features: FeatureParams::default(),
            eps: None,
            min_samples: 5,
            core_fraction: 0.9,
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
        self.eps = Some(eps);
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
            Dim::float("core_fraction", 0.5, 0.99),
        ];
        space.extend(FeatureParams::space());
        space
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<DbscanValid> {
        let features = self.features.check()?;
        if let Some(eps) = self.eps
            && !(eps.is_finite() && eps > 0.0)
        {
            return Err(TrainError::param(
                "dbscan.eps",
                format!("{eps} is not a positive number"),
                "use a radius in feature units (e.g. 0.5 on a few standardised columns), or leave it out to choose it from core_fraction",
            ));
        }
        if !(self.core_fraction > 0.0 && self.core_fraction <= 1.0) {
            return Err(TrainError::param(
                "dbscan.core_fraction",
                format!("{} is not within (0, 1]", self.core_fraction),
                "use the share of training rows that should be core points, e.g. 0.9",
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
            core_fraction: self.core_fraction,
        })
    }
}

/// Checked parameters of DBSCAN.
#[derive(Debug, Clone, PartialEq)]
pub struct DbscanValid {
    features: FeatureValid,
    eps: Option<f64>,
    min_samples: usize,
    core_fraction: f64,
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
        let eps = match self.eps {
            Some(eps) => eps,
            None => auto_eps(rows, self.min_samples, self.core_fraction),
        };
        let (state, _) = DbscanState::fit(rows, eps, self.min_samples);
        if state.core_count == 0 {
            return Err(TrainError::param(
                "dbscan.eps",
                format!(
                    "no training row has {} rows within {eps} (no core point, nothing to score against)",
                    self.min_samples
                ),
                "raise eps or lower min_samples",
            ));
        }
        Ok(state)
    }
}

/// The smallest radius that makes `core_fraction` of `rows` core points: that quantile
/// (nearest rank) of each row's distance to its (min_samples − 1)-th nearest other row. A
/// zero radius (duplicated rows) is raised to a tiny positive one relative to the data.
pub fn auto_eps(rows: ArrayView2<'_, f64>, min_samples: usize, core_fraction: f64) -> f64 {
    let n = rows.nrows();
    let k = min_samples
        .saturating_sub(1)
        .clamp(1, n.saturating_sub(1).max(1));
    let tree = KdTree::build(rows, DEFAULT_LEAF_SIZE);
    let neighbours = tree.query_self(rows, k);
    let mut radii: Vec<f64> = neighbours
        .distances
        .rows()
        .into_iter()
        .map(|r| r.last().copied().unwrap_or(0.0))
        .collect();
    radii.sort_by(f64::total_cmp);
    let at = ((core_fraction * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1;
    let eps = radii.get(at).copied().unwrap_or(0.0);
    let largest = radii.last().copied().unwrap_or(0.0);
    if eps > 0.0 {
        eps
    } else if largest > 0.0 {
        largest * 1e-9
    } else {
        1.0
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
