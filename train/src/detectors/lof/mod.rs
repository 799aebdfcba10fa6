//! Local Outlier Factor in novelty mode: how much sparser a row's neighbourhood is than its
//! training neighbours' own (scikit-learn's `LocalOutlierFactor(novelty=True)`, score =
//! `-score_samples`).
//!
//! - Fit: for every training row, its k nearest OTHER training rows (the row itself left out),
//!   its k-distance (distance to the k-th of them) and its local reachability density
//!   lrd = 1 / (mean_j max(d(x, o_j), k-distance(o_j)) + 1e-10), the 1e-10 as scikit-learn adds.
//! - Score of a new row x: the mean over its k nearest training rows o of lrd(o) / lrd(x);
//!   about 1 for inliers, larger for outliers. k is clamped to n − 1 on small training sets,
//!   as scikit-learn does.
//! - Novelty mode only: rows are scored against the training rows, never against each other,
//!   so scores are causal and do not depend on the batch.
//! - Cost: fit O(n log n) with the k-d tree (plus n queries); score O(rows × log n) per query
//!   in low dimension; memory O(n × (dim + 2)).
//! - Reference: Breunig, Kriegel, Ng & Sander (2000), "LOF: identifying density-based local
//!   outliers"; scikit-learn 1.9.1 `sklearn.neighbors.LocalOutlierFactor`.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::error::{Result, TrainError};
use crate::features::{FeatureParams, FeatureValid, PointFamily, PointScorer, RowModel};
use crate::neighbors::{DEFAULT_LEAF_SIZE, KdTree};
use crate::space::{Dim, Space};

/// scikit-learn's guard against dividing by a zero mean reachability distance.
const LRD_EPSILON: f64 = 1e-10;

/// Unchecked LOF parameters (scikit-learn's defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LofParams {
    /// Feature transform fitted on the training series.
    pub features: FeatureParams,
    /// Neighbours k (≥ 1; clamped to training rows − 1).
    pub n_neighbors: usize,
}

impl Default for LofParams {
    fn default() -> Self {
        Self {
            features: FeatureParams::default(),
            n_neighbors: 20,
        }
    }
}

impl LofParams {
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

    /// The search space: k and the feature window.
    pub fn space() -> Space {
        let mut space = vec![Dim::int("n_neighbors", 5, 100, 5)];
        space.extend(FeatureParams::space());
        space
    }

    /// Checks every rule.
    pub fn check(&self) -> Result<LofValid> {
        let features = self.features.check()?;
        if self.n_neighbors == 0 {
            return Err(TrainError::param(
                "lof.n_neighbors",
                "0 neighbours",
                "use k ≥ 1; scikit-learn's default is 20",
            ));
        }
        Ok(LofValid {
            params: self.clone(),
            features,
        })
    }
}

/// Checked LOF parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LofValid {
    params: LofParams,
    features: FeatureValid,
}

/// The fitted training neighbourhoods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalOutlierFactor {
    /// Effective k (`min(n_neighbors, n − 1)`).
    pub n_neighbors: usize,
    /// k-distance of each training row (by original row index).
    pub k_distance: Vec<f64>,
    /// Local reachability density of each training row.
    pub lrd: Vec<f64>,
    /// The training rows.
    pub tree: KdTree,
}

/// A fitted LOF detector: features plus the training neighbourhoods.
pub type LofModel = RowModel<LocalOutlierFactor>;

impl LofValid {
    /// Fits the features on `train`, then the neighbourhoods of the valid training rows.
    pub fn fit(&self, train: &Series) -> Result<LofModel> {
        RowModel::fit(&self.features, self, train)
    }
}

impl LocalOutlierFactor {
    /// lrd of a row from its neighbour distances and indices.
    fn lrd_of(&self, distances: &[f64], indices: &[usize]) -> f64 {
        let sum: f64 = distances
            .iter()
            .zip(indices)
            .map(|(d, i)| d.max(self.k_distance[*i]))
            .sum();
        1.0 / (sum / distances.len() as f64 + LRD_EPSILON)
    }
}

impl PointFamily for LofValid {
    const NAME: &'static str = "lof";
    type Model = LocalOutlierFactor;

    fn min_rows(&self) -> usize {
        2
    }

    fn fit_rows(&self, rows: ArrayView2<'_, f64>) -> Result<LocalOutlierFactor> {
        let n = rows.nrows();
        let k = self.params.n_neighbors.min(n - 1);
        let tree = KdTree::build(rows, DEFAULT_LEAF_SIZE);
        let found = tree.query_self(rows, k);
        let k_distance: Vec<f64> = found.distances.column(k - 1).to_vec();
        let mut model = LocalOutlierFactor {
            n_neighbors: k,
            k_distance,
            lrd: Vec::new(),
            tree,
        };
        let lrd = (0..n)
            .map(|r| {
                let d = found.distances.row(r);
                let i = found.indices.row(r);
                model.lrd_of(
                    d.as_slice().expect("contiguous row"),
                    i.as_slice().expect("contiguous row"),
                )
            })
            .collect();
        model.lrd = lrd;
        Ok(model)
    }
}

impl PointScorer for LocalOutlierFactor {
    fn score_rows(&self, rows: ArrayView2<'_, f64>) -> Vec<f64> {
        let found = self.tree.query(rows, self.n_neighbors);
        (0..rows.nrows())
            .map(|r| {
                let d = found.distances.row(r);
                let i = found.indices.row(r);
                let i = i.as_slice().expect("contiguous row");
                let lrd = self.lrd_of(d.as_slice().expect("contiguous row"), i);
                let ratios: f64 = i.iter().map(|j| self.lrd[*j] / lrd).sum();
                ratios / i.len() as f64
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
    fn a_row_inside_a_uniform_grid_scores_one_and_a_far_row_more() {
        let train = ndarray::Array2::from_shape_fn((100, 2), |(r, c)| {
            if c == 0 {
                (r % 10) as f64
            } else {
                (r / 10) as f64
            }
        });
        let model = LofParams::default()
            .with_n_neighbors(4)
            .check()
            .unwrap()
            .fit_rows(train.view())
            .unwrap();
        let scores = model.score_rows(array![[4.5, 4.5], [30.0, 30.0]].view());
        assert!((scores[0] - 1.0).abs() < 0.2, "{}", scores[0]);
        assert!(scores[1] > 10.0, "{}", scores[1]);
    }

    #[test]
    fn k_is_clamped_to_the_training_rows() {
        let train = array![[0.0], [1.0], [2.0]];
        let model = LofParams::default()
            .check()
            .unwrap()
            .fit_rows(train.view())
            .unwrap();
        assert_eq!(model.n_neighbors, 2);
        assert!(model.score_rows(array![[5.0]].view())[0].is_finite());
    }
}
