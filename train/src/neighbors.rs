//! Exact k-nearest-neighbour search (Euclidean) with a k-d tree, shared by the neighbour
//! families (LOF, kNN distance, DBSCAN's novelty score).
//!
//! - Build: split on the dimension of widest spread at the median (`select_nth_unstable`),
//!   down to leaves of at most `leaf_size` points; points are stored reordered, row-major, so a
//!   leaf is one contiguous block. O(n log n) time, O(n·d) memory.
//! - Query: depth-first, nearer child first, pruned with the distance from the query to each
//!   node's bounding box of its points (as scikit-learn's tree), so the answer is exact.
//! - Distances are `sqrt(Σ_j (x_j − y_j)²)` summed over j in order, as scikit-learn's
//!   `KDTree` computes them, so they match it bit for bit on the same points.
//! - Above [`BRUTE_FORCE_ABOVE_DIM`] dimensions (SMD's 38 metrics) the box pruning barely
//!   prunes, so batch k-nearest queries compare every stored point instead, as scikit-learn's
//!   `algorithm='auto'` switches to brute force above 15 features. Like scikit-learn's brute
//!   force, the comparison is a matrix product (`‖q‖² + ‖p‖² − 2 q·p`, blocked kernels), but
//!   only as a candidate pass with a proven error bound: the candidates' distances are then
//!   summed exactly, in dimension order, so the answer equals the exhaustive scan's bit for
//!   bit (ties included), and both searches return identical results.
//! - Batch queries run rayon over blocks of query rows; every row's answer depends on that row
//!   and the tree only, so results do not depend on the thread count.
//!
//! Reference: Friedman, Bentley & Finkel (1977), "An algorithm for finding best matches in
//! logarithmic expected time".

mod radius;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Leaf size used when a family does not choose one (scikit-learn's default is 30 / 40).
pub const DEFAULT_LEAF_SIZE: usize = 32;

/// Above this many dimensions, batch k-nearest queries scan all stored points (blocked)
/// instead of walking the tree (scikit-learn's `algorithm='auto'` uses brute force above 15).
pub const BRUTE_FORCE_ABOVE_DIM: usize = 15;

/// Stored points per pass of the blocked scan: 512 × 38 dims × 8 bytes ≈ 156 KB, within L2.
#[cfg(test)]
const SCAN_CHUNK: usize = 512;

/// Stored points per matrix product of the wide search: a 256 × 1024 block of products
/// (2 MiB) per query block.
const PRODUCT_CHUNK: usize = 1024;

const NO_CHILD: u32 = u32::MAX;

/// A k-d tree over a fixed set of points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KdTree {
    dim: usize,
    /// Points, reordered so each leaf is contiguous; row-major (n × dim).
    points: Vec<f64>,
    /// Original row index of each stored point.
    index: Vec<u32>,
    /// Per node: first and one-past-last stored point.
    start: Vec<u32>,
    end: Vec<u32>,
    /// Per node: the bounding box of its points, `dim` lows then `dim` highs.
    bounds: Vec<f64>,
    /// Per node: children (`NO_CHILD` at leaves).
    left: Vec<u32>,
    right: Vec<u32>,
}

/// The k nearest neighbours of many query rows: distances ascending per row, with the
/// original row index of each neighbour.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbours {
    /// rows × k distances, ascending along each row.
    pub distances: Array2<f64>,
    /// rows × k row indices into the fitted points.
    pub indices: Array2<usize>,
}

impl KdTree {
    /// Builds the tree over the rows of `points` (all finite). `leaf_size` ≥ 1.
    pub fn build(points: ArrayView2<'_, f64>, leaf_size: usize) -> KdTree {
        let (n, dim) = points.dim();
        assert!(n < u32::MAX as usize, "k-d tree: too many points");
        let leaf_size = leaf_size.max(1);
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut tree = KdTree {
            dim,
            points: Vec::new(),
            index: Vec::new(),
            start: Vec::new(),
            end: Vec::new(),
            bounds: Vec::new(),
            left: Vec::new(),
            right: Vec::new(),
        };
        if n > 0 {
            tree.build_node(&points, &mut order, 0, leaf_size);
        }
        tree.points = Vec::with_capacity(n * dim);
        for &i in &order {
            tree.points.extend(points.row(i as usize).iter());
        }
        tree.index = order;
        tree
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when the tree holds no points.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Dimension of the points.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The stored points (len × dim), in the tree's leaf order (not the training order), for
    /// exporters that need the training rows themselves.
    pub fn points(&self) -> ndarray::ArrayView2<'_, f64> {
        ndarray::ArrayView2::from_shape((self.index.len(), self.dim), &self.points)
            .expect("points are len × dim")
    }

    /// The original training-row index of each stored point, in the order of [`Self::points`]
    /// (for exporters that pair the points with per-row fitted state).
    pub fn point_rows(&self) -> &[u32] {
        &self.index
    }

    fn build_node(
        &mut self,
        points: &ArrayView2<'_, f64>,
        order: &mut [u32],
        offset: usize,
        leaf_size: usize,
    ) -> u32 {
        let node = self.start.len() as u32;
        self.start.push(offset as u32);
        self.end.push((offset + order.len()) as u32);
        self.left.push(NO_CHILD);
        self.right.push(NO_CHILD);
        // The bounding box, and the dimension of widest spread.
        let (mut best, mut spread) = (0, -1.0);
        let mut highs = Vec::with_capacity(self.dim);
        for d in 0..self.dim {
            let (lo, hi) = order
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &i| {
                    let v = points[[i as usize, d]];
                    (a.min(v), b.max(v))
                });
            self.bounds.push(lo);
            highs.push(hi);
            if hi - lo > spread {
                (best, spread) = (d, hi - lo);
            }
        }
        self.bounds.extend(highs);
        if order.len() <= leaf_size || spread <= 0.0 {
            return node; // all points equal: one leaf
        }
        let mid = order.len() / 2;
        order.select_nth_unstable_by(mid, |&a, &b| {
            points[[a as usize, best]].total_cmp(&points[[b as usize, best]])
        });
        let (low, high) = order.split_at_mut(mid);
        let l = self.build_node(points, low, offset, leaf_size);
        let r = self.build_node(points, high, offset + mid, leaf_size);
        self.left[node as usize] = l;
        self.right[node as usize] = r;
        node
    }

    /// The `k` nearest stored points to `query` (`k` ≤ [`KdTree::len`]): squared distances
    /// ascending and original indices, written into `best` (cleared first).
    pub fn query_into(&self, query: &[f64], k: usize, best: &mut Vec<(f64, u32)>) {
        best.clear();
        if k == 0 || self.is_empty() {
            return;
        }
        self.search(0, query, k, best);
    }

    /// Squared distance from `query` to the bounding box of `node` (0 inside it).
    fn box_distance(&self, node: usize, query: &[f64]) -> f64 {
        let box_ = &self.bounds[node * 2 * self.dim..(node + 1) * 2 * self.dim];
        let (lows, highs) = box_.split_at(self.dim);
        let mut d2 = 0.0;
        for ((q, lo), hi) in query.iter().zip(lows).zip(highs) {
            let t = (lo - q).max(q - hi).max(0.0);
            d2 += t * t;
        }
        d2
    }

    fn search(&self, node: u32, query: &[f64], k: usize, best: &mut Vec<(f64, u32)>) {
        let n = node as usize;
        if self.left[n] == NO_CHILD {
            self.scan(self.start[n] as usize..self.end[n] as usize, query, k, best);
            return;
        }
        let (l, r) = (self.left[n], self.right[n]);
        let (dl, dr) = (
            self.box_distance(l as usize, query),
            self.box_distance(r as usize, query),
        );
        let ((near, d_near), (far, d_far)) = if dl <= dr {
            ((l, dl), (r, dr))
        } else {
            ((r, dr), (l, dl))
        };
        if best.len() < k || d_near <= best[best.len() - 1].0 {
            self.search(near, query, k, best);
        }
        if best.len() < k || d_far <= best[best.len() - 1].0 {
            self.search(far, query, k, best);
        }
    }

    /// Offers the stored points `range` to the running k nearest of `query`.
    #[inline]
    fn scan(
        &self,
        range: std::ops::Range<usize>,
        query: &[f64],
        k: usize,
        best: &mut Vec<(f64, u32)>,
    ) {
        let mut bound = kth(best.iter().map(|&(d, _)| d), k);
        let dim = self.dim;
        let points = &self.points[range.start * dim..range.end * dim];
        let index = &self.index[range];
        // Four points at a time: four independent sums keep the floating-point adder busy
        // (one sum alone waits on each add's latency). Each point's sum is still summed in
        // dimension order, and offered in storage order against the current k-th distance,
        // so the result is what a one-by-one scan gives.
        let mut groups = points.chunks_exact(4 * dim.max(1));
        let mut at = 0;
        for group in &mut groups {
            let sums = distances4_below(query, group, dim, bound);
            for (lane, &d2) in sums.iter().enumerate() {
                if d2 < bound {
                    offer(best, k, d2, index[at + lane], &mut bound);
                }
            }
            at += 4;
        }
        for (p, &i) in groups
            .remainder()
            .chunks_exact(dim.max(1))
            .zip(&index[at..])
        {
            if let Some(d2) = distance_below(query, p, bound) {
                offer(best, k, d2, i, &mut bound);
            }
        }
    }

    /// Blocked exhaustive search for the rows of `queries` (row-major, `bests.len()` rows):
    /// every query row meets the stored points one cache-sized chunk at a time, in storage
    /// order, so each row's answer is what [`KdTree::scan`] over all points gives. The
    /// reference the matrix-product search is tested against.
    #[cfg(test)]
    fn scan_block(&self, queries: &[f64], k: usize, bests: &mut [Vec<(f64, u32)>]) {
        for best in bests.iter_mut() {
            best.clear();
        }
        let n = self.len();
        let mut from = 0;
        while from < n {
            let to = (from + SCAN_CHUNK).min(n);
            for (query, best) in queries.chunks_exact(self.dim).zip(bests.iter_mut()) {
                self.scan(from..to, query, k, best);
            }
            from = to;
        }
    }

    /// Exhaustive search for the rows of `queries` (row-major, `bests.len()` rows) through
    /// matrix products, with the exact answer of [`KdTree::scan`] over all stored points:
    ///
    /// 1. Candidate pass: `‖q‖² + ‖p‖² − 2 q·p` over mean-centred rows, the products
    ///    `Q·Pᵀ` computed a chunk of stored points at a time (`matrixmultiply`'s blocked
    ///    kernels, as scikit-learn's brute force uses BLAS). Each such value is within
    ///    `B = (2·dim + 8)·ε·(‖q‖² + max ‖p‖²)` of the exact squared distance (the
    ///    floating-point error of a `dim`-term dot product and three sums, with a factor 2 to
    ///    spare), so every true k-nearest point has a value within `2B` of the k-th smallest
    ///    value: those are the candidates.
    /// 2. Exact pass: the candidates' squared distances are summed as [`KdTree::scan`] sums
    ///    them and offered in storage order, so the answer (ties included) is bit-identical
    ///    to the scan's. Every point left out is farther than the k-th nearest, strictly.
    fn product_block(
        &self,
        centred: &Centred,
        queries: &[f64],
        k: usize,
        bests: &mut [Vec<(f64, u32)>],
    ) {
        let dim = self.dim;
        let count = bests.len();
        let n = self.len();
        let q = Array2::from_shape_fn((count, dim), |(r, j)| {
            queries[r * dim + j] - centred.mean[j]
        });
        let q_norms: Vec<f64> = q.rows().into_iter().map(|row| row.dot(&row)).collect();
        let margin = (2 * dim + 8) as f64 * f64::EPSILON;
        let slack: Vec<f64> = q_norms
            .iter()
            .map(|&qn| 2.0 * margin * (qn + centred.max_norm))
            .collect();
        let mut tops: Vec<Vec<f64>> = vec![Vec::with_capacity(k + 1); count];
        let mut candidates: Vec<Vec<u32>> = vec![Vec::new(); count];
        let mut values: Vec<Vec<f64>> = vec![Vec::new(); count];
        let mut products = Array2::<f64>::zeros((count, PRODUCT_CHUNK.min(n)));
        let mut from = 0;
        while from < n {
            let to = (from + PRODUCT_CHUNK).min(n);
            let mut block = products.slice_mut(ndarray::s![.., ..to - from]);
            ndarray::linalg::general_mat_mul(
                1.0,
                &q,
                &centred.points.slice(ndarray::s![from..to, ..]).t(),
                0.0,
                &mut block,
            );
            let norms = &centred.norms[from..to];
            for r in 0..count {
                let (qn, slack) = (q_norms[r], slack[r]);
                if !slack.is_finite() {
                    continue; // scanned exhaustively below
                }
                let (top, cand, vals) = (&mut tops[r], &mut candidates[r], &mut values[r]);
                let mut top_k = kth(top.iter().copied(), k);
                for (j, (&dot, &pn)) in block.row(r).iter().zip(norms).enumerate() {
                    let approx = qn + pn - 2.0 * dot;
                    if approx <= top_k + slack {
                        cand.push((from + j) as u32);
                        vals.push(approx);
                        if approx < top_k {
                            let at = top.partition_point(|&v| v <= approx);
                            top.insert(at, approx);
                            top.truncate(k);
                            if top.len() == k {
                                top_k = top[k - 1];
                            }
                        }
                    }
                }
                if cand.len() > 8 * k + 256 {
                    retain_within(cand, vals, top_k + slack);
                }
            }
            from = to;
        }
        for (r, best) in bests.iter_mut().enumerate() {
            best.clear();
            if !slack[r].is_finite() {
                // Values so large that their squares overflow (beyond ~1e154): the products
                // bound nothing, so this row is scanned exhaustively.
                self.scan(0..n, &queries[r * dim..(r + 1) * dim], k, best);
                continue;
            }
            let limit = kth(tops[r].iter().copied(), k) + slack[r];
            retain_within(&mut candidates[r], &mut values[r], limit);
            let query = &queries[r * dim..(r + 1) * dim];
            let mut bound = f64::INFINITY;
            for &at in &candidates[r] {
                let at = at as usize;
                let p = &self.points[at * dim..(at + 1) * dim];
                if let Some(d2) = distance_below(query, p, bound) {
                    offer(best, k, d2, self.index[at], &mut bound);
                }
            }
        }
    }

    /// The `k` nearest stored points of every row of `queries`, rayon over row blocks.
    pub fn query(&self, queries: ArrayView2<'_, f64>, k: usize) -> Neighbours {
        self.query_batch(queries, k, false)
    }

    /// The `k` nearest neighbours of every stored point among the OTHER stored points, as
    /// scikit-learn's `kneighbors()` without `X`: k + 1 are searched and the point itself is
    /// dropped (or the farthest, when duplicates push it out). `points` must be the rows the
    /// tree was built on, in their original order.
    pub fn query_self(&self, points: ArrayView2<'_, f64>, k: usize) -> Neighbours {
        self.query_batch(points, k, true)
    }

    fn query_batch(
        &self,
        queries: ArrayView2<'_, f64>,
        k: usize,
        exclude_self: bool,
    ) -> Neighbours {
        let rows = queries.nrows();
        let search_k = (k + usize::from(exclude_self)).min(self.len());
        let out_k = if exclude_self {
            search_k.saturating_sub(1).min(k)
        } else {
            search_k
        };
        let mut distances = vec![0.0; rows * out_k];
        let mut indices = vec![0usize; rows * out_k];
        const BLOCK: usize = 256;
        let centred = (self.dim > BRUTE_FORCE_ABOVE_DIM && search_k > 0).then(|| Centred::of(self));
        distances
            .par_chunks_mut(BLOCK * out_k.max(1))
            .zip(indices.par_chunks_mut(BLOCK * out_k.max(1)))
            .enumerate()
            .for_each(|(block, (dist, idx))| {
                let first = block * BLOCK;
                let count = dist.len().checked_div(out_k).unwrap_or(0);
                // The block's query rows, contiguous.
                let mut rows_buf = Vec::with_capacity(count * self.dim);
                for r in 0..count {
                    rows_buf.extend(queries.row(first + r).iter());
                }
                let mut bests = if let Some(centred) = &centred {
                    let mut bests = vec![Vec::with_capacity(search_k + 1); count];
                    self.product_block(centred, &rows_buf, search_k, &mut bests);
                    bests
                } else {
                    Vec::new()
                };
                let mut single = Vec::with_capacity(search_k + 1);
                for r in 0..count {
                    let row = first + r;
                    let best = if centred.is_some() {
                        &mut bests[r]
                    } else {
                        let query = &rows_buf[r * self.dim..(r + 1) * self.dim];
                        self.query_into(query, search_k, &mut single);
                        &mut single
                    };
                    if exclude_self {
                        match best.iter().position(|&(_, i)| i as usize == row) {
                            Some(at) => {
                                best.remove(at);
                            }
                            None => {
                                best.pop();
                            }
                        }
                    }
                    for (j, &(d2, i)) in best.iter().take(out_k).enumerate() {
                        dist[r * out_k + j] = d2.sqrt();
                        idx[r * out_k + j] = i as usize;
                    }
                }
            });
        Neighbours {
            distances: Array2::from_shape_vec((rows, out_k), distances)
                .expect("rows × k distances"),
            indices: Array2::from_shape_vec((rows, out_k), indices).expect("rows × k indices"),
        }
    }
}

/// The stored points centred on their mean, with their squared norms: what the
/// matrix-product search needs, computed once per batch of queries.
struct Centred {
    mean: Vec<f64>,
    /// n × dim, in storage order.
    points: Array2<f64>,
    norms: Vec<f64>,
    max_norm: f64,
}

impl Centred {
    fn of(tree: &KdTree) -> Centred {
        let stored = tree.points();
        let mean = stored
            .mean_axis(ndarray::Axis(0))
            .map(|m| m.to_vec())
            .unwrap_or_else(|| vec![0.0; tree.dim]);
        let points = Array2::from_shape_fn(stored.dim(), |(i, j)| stored[[i, j]] - mean[j]);
        let norms: Vec<f64> = points.rows().into_iter().map(|row| row.dot(&row)).collect();
        let max_norm = norms.iter().copied().fold(0.0, f64::max);
        Centred {
            mean,
            points,
            norms,
            max_norm,
        }
    }
}

/// Keeps the candidates whose value is at most `limit`, in their order.
fn retain_within(candidates: &mut Vec<u32>, values: &mut Vec<f64>, limit: f64) {
    let mut kept = 0;
    for i in 0..candidates.len() {
        if values[i] <= limit {
            candidates[kept] = candidates[i];
            values[kept] = values[i];
            kept += 1;
        }
    }
    candidates.truncate(kept);
    values.truncate(kept);
}

/// The squared distance `Σ_j (q_j − p_j)²` summed in dimension order when it is below
/// `bound`; `None` otherwise. Wide rows check the partial sum every 8 dimensions and stop once
/// it reaches `bound`: adding non-negative terms never lowers a rounded sum, so the full sum
/// could not be below it either (the answer is exact, and the returned sum bit-identical).
#[inline(always)]
fn distance_below(query: &[f64], p: &[f64], bound: f64) -> Option<f64> {
    let mut d2 = 0.0;
    for (qs, ps) in query.chunks(8).zip(p.chunks(8)) {
        for (a, b) in qs.iter().zip(ps) {
            let t = a - b;
            d2 += t * t;
        }
        if d2 >= bound {
            return None;
        }
    }
    Some(d2)
}

/// [`distance_below`] for the four consecutive points of `group` (4 × `dim`), interleaved;
/// all four infinite once every partial sum has reached `bound`. A sum that reached `bound`
/// while another lane was still below it comes back complete, and is at least `bound`.
#[inline(always)]
fn distances4_below(query: &[f64], group: &[f64], dim: usize, bound: f64) -> [f64; 4] {
    let mut s = [0.0_f64; 4];
    let mut from = 0;
    // Whole blocks of 8 dimensions as fixed-size arrays: unrolled, without bounds checks.
    while from + 8 <= dim {
        let q = block8(query, from);
        let rows = [
            block8(group, from),
            block8(group, dim + from),
            block8(group, 2 * dim + from),
            block8(group, 3 * dim + from),
        ];
        for t in 0..8 {
            for (sum, p) in s.iter_mut().zip(&rows) {
                let d = q[t] - p[t];
                *sum += d * d;
            }
        }
        if s.iter().all(|&v| v >= bound) {
            return [f64::INFINITY; 4];
        }
        from += 8;
    }
    for t in from..dim {
        for (lane, sum) in s.iter_mut().enumerate() {
            let d = query[t] - group[lane * dim + t];
            *sum += d * d;
        }
    }
    s
}

/// The 8 values of `values` from `from`.
#[inline(always)]
fn block8(values: &[f64], from: usize) -> &[f64; 8] {
    values[from..from + 8]
        .try_into()
        .expect("a block of 8 values")
}

/// The k-th smallest of `ascending` (a sorted running top k), infinite while fewer than k.
fn kth(mut ascending: impl Iterator<Item = f64>, k: usize) -> f64 {
    ascending.nth(k - 1).unwrap_or(f64::INFINITY)
}

/// [`insert`], then `bound` becomes the k-th distance once `best` holds k.
#[inline]
fn offer(best: &mut Vec<(f64, u32)>, k: usize, d2: f64, i: u32, bound: &mut f64) {
    insert(best, k, d2, i);
    if best.len() == k {
        *bound = best[k - 1].0;
    }
}

/// Inserts (d2, i) into `best` (ascending, at most k long).
fn insert(best: &mut Vec<(f64, u32)>, k: usize, d2: f64, i: u32) {
    let at = best.partition_point(|&(d, _)| d <= d2);
    if at >= k {
        return;
    }
    if best.len() == k {
        best.pop();
    }
    best.insert(at, (d2, i));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::{Rng, SeedableRng};

    fn brute(points: &Array2<f64>, q: &[f64], k: usize) -> Vec<f64> {
        let mut d: Vec<f64> = points
            .rows()
            .into_iter()
            .map(|p| {
                p.iter()
                    .zip(q)
                    .map(|(a, b)| (b - a) * (b - a))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        d.sort_by(f64::total_cmp);
        d.truncate(k);
        d
    }

    #[test]
    fn queries_match_brute_force() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for (n, dim, leaf) in [
            (1, 1, 1),
            (50, 2, 1),
            (500, 3, 8),
            (2000, 8, 32),
            // Above BRUTE_FORCE_ABOVE_DIM: the blocked scan (more points than one chunk).
            (1300, 16, 32),
            (1100, 38, 32),
        ] {
            let points = Array2::from_shape_fn((n, dim), |_| rng.random::<f64>() * 10.0);
            let queries = Array2::from_shape_fn((97, dim), |_| rng.random::<f64>() * 12.0 - 1.0);
            let tree = KdTree::build(points.view(), leaf);
            let k = 7.min(n);
            let found = tree.query(queries.view(), k);
            for (r, q) in queries.rows().into_iter().enumerate() {
                let q = q.to_vec();
                assert_eq!(
                    found.distances.row(r).to_vec(),
                    brute(&points, &q, k),
                    "n={n} row {r}"
                );
                for (j, &i) in found.indices.row(r).iter().enumerate() {
                    let p = points.row(i);
                    let d = p
                        .iter()
                        .zip(&q)
                        .map(|(a, b)| (b - a) * (b - a))
                        .sum::<f64>()
                        .sqrt();
                    assert_eq!(d, found.distances[[r, j]]);
                }
            }
        }
    }

    /// The matrix-product search returns exactly what the exhaustive scan returns (distances
    /// and indices, ties in storage order) on data that stresses its error bound: a large
    /// common offset, heavy duplication (quantised values, as SMD's), and near-ties.
    #[test]
    fn product_search_equals_the_exhaustive_scan() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let cases: Vec<(&str, Array2<f64>)> = vec![
            (
                "uniform",
                Array2::from_shape_fn((2500, 38), |_| rng.random::<f64>()),
            ),
            (
                "offset 1e6",
                Array2::from_shape_fn((1500, 20), |_| 1e6 + rng.random::<f64>() * 1e-3),
            ),
            (
                "quantised",
                Array2::from_shape_fn((3000, 38), |_| (rng.random::<f64>() * 3.0).floor() / 3.0),
            ),
            (
                "mixed scales",
                Array2::from_shape_fn((1200, 17), |(_, j)| {
                    rng.random::<f64>() * 10f64.powi(j as i32 % 7 - 3)
                }),
            ),
            (
                "squares overflow",
                Array2::from_shape_fn((600, 16), |(i, j)| {
                    if i % 50 == 0 && j == 3 {
                        1e200
                    } else {
                        rng.random::<f64>()
                    }
                }),
            ),
        ];
        for (name, points) in cases {
            let tree = KdTree::build(points.view(), 32);
            let centred = Centred::of(&tree);
            let rows = 300.min(points.nrows());
            let queries: Vec<f64> = points
                .slice(ndarray::s![..rows, ..])
                .iter()
                .enumerate()
                .map(|(i, &v)| if i % 5 == 0 { v * 1.0000001 } else { v })
                .collect();
            for k in [1, 7, 21] {
                let mut want = vec![Vec::new(); rows];
                tree.scan_block(&queries, k, &mut want);
                let mut got = vec![Vec::new(); rows];
                tree.product_block(&centred, &queries, k, &mut got);
                assert_eq!(got, want, "{name}, k = {k}");
            }
        }
    }

    #[test]
    fn self_queries_leave_the_point_out() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let points = Array2::from_shape_fn((300, 3), |_| rng.random::<f64>());
        let tree = KdTree::build(points.view(), 10);
        let found = tree.query_self(points.view(), 5);
        for r in 0..300 {
            assert!(found.indices.row(r).iter().all(|&i| i != r));
            let mut others = points.clone();
            others.row_mut(r).fill(f64::INFINITY);
            let want = brute(&others, &points.row(r).to_vec(), 5);
            assert_eq!(found.distances.row(r).to_vec(), want);
        }
    }

    #[test]
    fn wide_self_queries_leave_the_point_out() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let points = Array2::from_shape_fn((700, 38), |_| rng.random::<f64>());
        let tree = KdTree::build(points.view(), 32);
        let found = tree.query_self(points.view(), 6);
        for r in (0..700).step_by(7) {
            assert!(found.indices.row(r).iter().all(|&i| i != r));
            let mut others = points.clone();
            others.row_mut(r).fill(f64::INFINITY);
            let want = brute(&others, &points.row(r).to_vec(), 6);
            assert_eq!(found.distances.row(r).to_vec(), want);
        }
    }

    #[test]
    fn duplicates_and_constant_points_are_handled() {
        let points = Array2::from_elem((100, 2), 1.5);
        let tree = KdTree::build(points.view(), 4);
        let found = tree.query(ndarray::array![[1.5, 1.5], [2.5, 1.5]].view(), 3);
        assert_eq!(found.distances.row(0).to_vec(), vec![0.0; 3]);
        assert_eq!(found.distances.row(1).to_vec(), vec![1.0; 3]);
    }
}
