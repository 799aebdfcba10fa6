//! DBSCAN on plain row matrices (Ester et al., KDD 1996), as scikit-learn's `DBSCAN`: a point
//! is a core point when at least `min_samples` points (itself included) lie within `eps`
//! (Euclidean, inclusive); clusters grow from core points in index order, so labels and core
//! points equal scikit-learn's exactly. New rows are scored by their distance to the nearest
//! core point, over `eps`.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::neighbors::{DEFAULT_LEAF_SIZE, KdTree};

/// Label of a noise point (scikit-learn's −1).
pub const NOISE: i64 = -1;

/// The result of clustering the training rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// Cluster label per row (`NOISE` for noise), numbered as scikit-learn numbers them.
    pub labels: Vec<i64>,
    /// Indices of the core points, ascending (scikit-learn's `core_sample_indices_`).
    pub core: Vec<usize>,
}

/// Clusters `rows` (n × d, finite). Neighbourhoods come from a k-d tree range query
/// ([`KdTree::within_radius`]); they are counted in one parallel pass and recomputed during
/// the expansion rather than stored, so memory stays O(n) (scikit-learn stores them all, O(n²)
/// on dense data). Time: one range query per row, twice.
pub fn dbscan(rows: ArrayView2<f64>, eps: f64, min_samples: usize) -> Clustering {
    let n = rows.nrows();
    let tree = KdTree::build(rows, DEFAULT_LEAF_SIZE);
    let is_core: Vec<bool> = (0..n)
        .into_par_iter()
        .map_init(Vec::new, |buffer, i| {
            let point = rows.row(i).to_vec();
            tree.within_radius(&point, eps, buffer);
            buffer.len() >= min_samples
        })
        .collect();
    let mut buffer = Vec::new();
    let mut labels = vec![NOISE; n];
    let mut next_label = 0;
    let mut stack = Vec::new();
    for start in 0..n {
        if labels[start] != NOISE || !is_core[start] {
            continue;
        }
        labels[start] = next_label;
        stack.push(start);
        while let Some(point) = stack.pop() {
            tree.within_radius(&rows.row(point).to_vec(), eps, &mut buffer);
            for other in buffer.iter().map(|&i| i as usize) {
                if labels[other] == NOISE {
                    labels[other] = next_label;
                    if is_core[other] {
                        stack.push(other);
                    }
                }
            }
        }
        next_label += 1;
    }
    let core = (0..n).filter(|&i| is_core[i]).collect();
    Clustering { labels, core }
}

/// The fitted state: the core points (in a k-d tree), the radius and the clustering of the
/// training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbscanState {
    /// The radius the clustering used.
    pub eps: f64,
    /// Number of core points.
    pub core_count: usize,
    /// The core points.
    pub core_tree: KdTree,
    /// Number of clusters found on the training rows.
    pub clusters: usize,
    /// Number of training rows labelled noise.
    pub noise: usize,
}

impl DbscanState {
    /// Clusters the training rows and keeps their core points.
    pub fn fit(rows: ArrayView2<f64>, eps: f64, min_samples: usize) -> (DbscanState, Clustering) {
        let clustering = dbscan(rows, eps, min_samples);
        let d = rows.ncols();
        let core_points = Array2::from_shape_fn((clustering.core.len(), d), |(k, j)| {
            rows[[clustering.core[k], j]]
        });
        let clusters = clustering
            .labels
            .iter()
            .max()
            .map_or(0, |m| (m + 1).max(0) as usize);
        let noise = clustering.labels.iter().filter(|l| **l == NOISE).count();
        (
            DbscanState {
                eps,
                core_count: core_points.nrows(),
                core_tree: KdTree::build(core_points.view(), DEFAULT_LEAF_SIZE),
                clusters,
                noise,
            },
            clustering,
        )
    }

    /// Distance from `row` to the nearest core point, over `eps` (≤ 1 means the row would join
    /// a cluster; the larger, the further from every dense region).
    pub fn score_row(&self, row: &[f64], best: &mut Vec<(f64, u32)>) -> f64 {
        self.core_tree.query_into(row, 1, best);
        best.first().map_or(f64::INFINITY, |(d2, _)| d2.sqrt()) / self.eps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn border_point_joins_the_first_cluster_and_noise_stays_noise() {
        // Two chains 0-1-2 and 4-5-6 with point 3 between them (border of both), 9 far away.
        let rows = array![[0.0], [1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [9.0]];
        let clustering = dbscan(rows.view(), 1.0, 3);
        assert_eq!(clustering.labels, vec![0, 0, 0, 0, 0, 0, 0, -1]);
        let clustering = dbscan(rows.view(), 1.0, 4);
        assert_eq!(clustering.labels, vec![-1; 8]);
        assert!(clustering.core.is_empty());
        let sparse = array![[0.0], [1.0], [2.0], [4.5], [5.5], [6.5]];
        let clustering = dbscan(sparse.view(), 1.0, 3);
        assert_eq!(clustering.labels, vec![0, 0, 0, 1, 1, 1]);
        assert_eq!(clustering.core, vec![1, 4]);
    }
}
