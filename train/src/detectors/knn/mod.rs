//! kNN distance: how far a row lies from its k nearest TRAINING rows (PyOD's `KNN`, novelty
//! use: `fit(train)` then `decision_function(new)`).
//!
//! - Score: the distance to the k-th nearest training row (`largest`), or the mean or median
//!   of the k distances, Euclidean on the scaled feature rows; higher = more anomalous.
//! - Novelty mode: a scored row is compared with the training rows only, never with the other
//!   rows being scored, so scores are causal and do not depend on the batch (a training row
//!   scored again finds itself at distance 0, as in PyOD's `decision_function`).
//! - Cost: fit O(n log n) (k-d tree); score O(rows × log n) per query in low dimension
//!   (k-d trees degrade towards brute force above ~20 dimensions); memory O(n × dim).
//! - Reference: Ramaswamy, Rastogi & Shim (2000), "Efficient algorithms for mining outliers
//!   from large data sets"; PyOD 3.6.7 `pyod.models.knn.KNN`.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::error::{Result, TrainError};
use crate::features::{FeatureParams, FeatureValid, PointFamily, PointScorer, RowModel};
use crate::neighbors::{DEFAULT_LEAF_SIZE, KdTree};
use crate::space::{Dim, Space};

/// How the k distances become one score (PyOD's `method`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum KnnMethod {
    /// Distance to the k-th nearest training row.
    #[default]
    Largest,
    /// Mean of the k distances.
    Mean,
    /// Median of the k distances.
    Median,
}

/// Unchecked kNN-distance parameters (PyOD's defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnnParams {
    /// Feature transform fitted on the training series.
    pub features: FeatureParams,
    /// Neighbours k (≥ 1).
    pub n_neighbors: usize,
    /// How the k distances combine.
    pub method: KnnMethod,
}

impl Default for KnnParams {
    fn default() -> Self {
        Self {
            features: FeatureParams::default(),
            n_neighbors: 5,
            method: KnnMethod::Largest,
        }
    }
}

impl KnnParams {
    /// Sets the feature transform.
    pub fn with_features(mut self, features: FeatureParams) -> Self {
        self.features = features;
        self
    }
    /// Sets k.
    pub fn with_n_neighbors(mut self, k: usize) -> Self {
        self.n_neighbors = k;
        self
    }
    /// Sets the method.
    pub fn with_method(mut self, method: KnnMethod) -> Self {
        self.method = method;
        self
    }

    /// The search space: k, the method, and the feature window.
    pub fn space() -> Space {
        let mut space = vec![
            Dim::int("n_neighbors", 1, 50, 1),
            Dim::choice("method", &["largest", "mean", "median"]),
        ];
        space.extend(FeatureParams::space());
        space
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<KnnValid> {
        let features = self.features.check()?;
        if self.n_neighbors == 0 {
            return Err(TrainError::param(
                "knn.n_neighbors",
                "0 neighbours",
                "use k ≥ 1; PyOD's default is 5",
            ));
        }
        Ok(KnnValid {
            params: self.clone(),
            features,
        })
    }
}

/// Checked kNN-distance parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct KnnValid {
    params: KnnParams,
    features: FeatureValid,
}

/// The fitted neighbour index and how it scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnnDistance {
    /// k.
    pub n_neighbors: usize,
    /// How the k distances combine.
    pub method: KnnMethod,
    /// The training rows.
    pub tree: KdTree,
}

/// A fitted kNN-distance detector: features plus the neighbour index.
pub type KnnModel = RowModel<KnnDistance>;

impl KnnValid {
    /// Fits the features on `train`, then indexes the valid training rows.
    pub fn fit(&self, train: &Series) -> Result<KnnModel> {
        RowModel::fit(&self.features, self, train)
    }
}

impl PointFamily for KnnValid {
    const NAME: &'static str = "knn";
    type Model = KnnDistance;

    /// PyOD fits k neighbours of each training row among the others: k + 1 rows.
    fn min_rows(&self) -> usize {
        self.params.n_neighbors + 1
    }

    fn fit_rows(&self, rows: ArrayView2<'_, f64>) -> Result<KnnDistance> {
        Ok(KnnDistance {
            n_neighbors: self.params.n_neighbors,
            method: self.params.method,
            tree: KdTree::build(rows, DEFAULT_LEAF_SIZE),
        })
    }
}

impl PointScorer for KnnDistance {
    fn score_rows(&self, rows: ArrayView2<'_, f64>) -> Vec<f64> {
        let found = self.tree.query(rows, self.n_neighbors);
        found
            .distances
            .rows()
            .into_iter()
            .map(|d| {
                let k = d.len();
                match self.method {
                    KnnMethod::Largest => d[k - 1],
                    KnnMethod::Mean => d.iter().sum::<f64>() / k as f64,
                    KnnMethod::Median if k % 2 == 1 => d[k / 2],
                    KnnMethod::Median => (d[k / 2 - 1] + d[k / 2]) / 2.0,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use ndarray::array;

    use super::*;

    #[test]
    fn scores_combine_the_k_training_distances() {
        let train = array![[0.0], [1.0], [3.0], [7.0]];
        let query = array![[0.0], [10.0]];
        let score = |method| {
            KnnParams::default()
                .with_n_neighbors(3)
                .with_method(method)
                .check()
                .unwrap()
                .fit_rows(train.view())
                .unwrap()
                .score_rows(query.view())
        };
        // Row 0 finds itself (0), then 1 and 3; row 10 finds 3, 7 and 9.
        assert_eq!(score(KnnMethod::Largest), vec![3.0, 9.0]);
        assert_eq!(score(KnnMethod::Mean), vec![4.0 / 3.0, 19.0 / 3.0]);
        assert_eq!(score(KnnMethod::Median), vec![1.0, 7.0]);
        let even = KnnParams::default()
            .with_n_neighbors(2)
            .with_method(KnnMethod::Median)
            .check()
            .unwrap()
            .fit_rows(train.view())
            .unwrap()
            .score_rows(query.view());
        assert_eq!(even, vec![0.5, 5.0]);
    }

    #[test]
    fn zero_neighbours_is_rejected_by_name() {
        match KnnParams::default().with_n_neighbors(0).check() {
            Err(TrainError::ParamError { param, .. }) => assert_eq!(param, "knn.n_neighbors"),
            other => panic!("{other:?}"),
        }
    }
}
