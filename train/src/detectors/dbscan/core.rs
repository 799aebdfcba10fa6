//! DBSCAN on plain row matrices (Ester et al., KDD 1996), as scikit-learn's `DBSCAN`: a point
//! is a core point when at least `min_samples` points (itself included) lie within `eps`
//! (Euclidean, inclusive); clusters grow from core points in index order, so labels and core
//! points equal scikit-learn's exactly. New rows are scored by their distance to the nearest
//! core point, over `eps`.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

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

/// Squared Euclidean distance.
pub(crate) fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Indices of the rows within `eps` of row `i` (itself included), in index order.
fn neighbours(rows: &ArrayView2<f64>, i: usize, eps: f64, out: &mut Vec<usize>) {
    out.clear();
    let eps2 = eps * eps;
    let point = rows.row(i);
    let point = point.as_slice().expect("standard layout rows");
    for (j, other) in rows.rows().into_iter().enumerate() {
        let other = other.as_slice().expect("standard layout rows");
        if squared_distance(point, other) <= eps2 {
            out.push(j);
        }
    }
}

/// Clusters `rows` (n × d, finite, standard layout). Memory O(n): neighbourhoods are counted in
/// one pass and recomputed during expansion rather than stored (scikit-learn stores them all,
/// O(n²) on dense data). Time O(n²·d) with this brute-force search.
pub fn dbscan(rows: ArrayView2<f64>, eps: f64, min_samples: usize) -> Clustering {
    let rows = rows.as_standard_layout();
    let rows = rows.view();
    let n = rows.nrows();
    let mut buffer = Vec::new();
    let is_core: Vec<bool> = (0..n)
        .map(|i| {
            neighbours(&rows, i, eps, &mut buffer);
            buffer.len() >= min_samples
        })
        .collect();
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
            neighbours(&rows, point, eps, &mut buffer);
            for &other in &buffer {
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

/// The fitted state: the core points, the radius and the clustering of the training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbscanState {
    /// The radius the clustering used.
    pub eps: f64,
    /// The core points (rows), in training order.
    pub core_points: Array2<f64>,
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
                core_points,
                clusters,
                noise,
            },
            clustering,
        )
    }

    /// Distance from `row` to the nearest core point, over `eps` (≤ 1 means the row would join
    /// a cluster; the larger, the further from every dense region).
    pub fn score_row(&self, row: &[f64]) -> f64 {
        let nearest = self
            .core_points
            .rows()
            .into_iter()
            .map(|core| {
                core.iter()
                    .zip(row)
                    .map(|(c, x)| (c - x) * (c - x))
                    .sum::<f64>()
            })
            .fold(f64::INFINITY, f64::min);
        nearest.sqrt() / self.eps
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
