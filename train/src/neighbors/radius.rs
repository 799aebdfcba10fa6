//! Fixed-radius queries on the k-d tree (DBSCAN's neighbourhoods).

use super::{KdTree, NO_CHILD};

impl KdTree {
    /// Original indices of the stored points within Euclidean distance `radius` of `query`
    /// (inclusive: squared distance ≤ radius², scikit-learn's `radius_neighbors`), written into
    /// `out` (cleared first) in tree order. Exact: cells farther than the radius are pruned by
    /// the node bounding boxes, as in the k-nearest search.
    pub fn within_radius(&self, query: &[f64], radius: f64, out: &mut Vec<u32>) {
        out.clear();
        if self.is_empty() {
            return;
        }
        let radius2 = radius * radius;
        if self.box_distance(0, query) <= radius2 {
            self.radius_search(0, query, radius2, out);
        }
    }

    fn radius_search(&self, node: u32, query: &[f64], radius2: f64, out: &mut Vec<u32>) {
        let n = node as usize;
        if self.left[n] == NO_CHILD {
            for at in self.start[n] as usize..self.end[n] as usize {
                let p = &self.points[at * self.dim..(at + 1) * self.dim];
                let mut d2 = 0.0;
                for (a, b) in query.iter().zip(p) {
                    let t = a - b;
                    d2 += t * t;
                }
                if d2 <= radius2 {
                    out.push(self.index[at]);
                }
            }
            return;
        }
        for child in [self.left[n], self.right[n]] {
            // The box distance never exceeds the distance to any point inside (monotone
            // rounding), so the pruning is exact.
            if self.box_distance(child as usize, query) <= radius2 {
                self.radius_search(child, query, radius2, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};

    #[test]
    fn radius_queries_equal_brute_force() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let points = Array2::from_shape_fn((700, 3), |_| rng.random_range(-1.0..1.0));
        let tree = KdTree::build(points.view(), 8);
        let mut out = Vec::new();
        for q in 0..50 {
            let query: Vec<f64> = points.row(q).to_vec();
            for radius in [0.0, 0.1, 0.4, 3.0] {
                tree.within_radius(&query, radius, &mut out);
                let mut got: Vec<u32> = out.clone();
                got.sort_unstable();
                let want: Vec<u32> = (0..700u32)
                    .filter(|&i| {
                        let p = points.row(i as usize);
                        let d2: f64 = p.iter().zip(&query).map(|(a, b)| (b - a) * (b - a)).sum();
                        d2 <= radius * radius
                    })
                    .collect();
                assert_eq!(got, want, "query {q} radius {radius}");
            }
        }
    }
}
