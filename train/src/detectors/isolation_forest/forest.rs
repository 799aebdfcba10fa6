//! The forest itself: building isolation trees into flat node arrays, and scoring rows.

use ndarray::ArrayView2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::space::trial_seed;

/// Marks a leaf in [`IsolationForest::feature`].
const LEAF: u32 = u32::MAX;

/// scikit-learn's `FEATURE_THRESHOLD`: a feature whose range in a node is at most this is
/// treated as constant there.
const FEATURE_THRESHOLD: f64 = 1e-7;

/// Rows scored together against one tree at a time (the tree stays in cache).
const SCORE_BLOCK: usize = 256;

/// Average path length of an unsuccessful search in a binary search tree of `n` points,
/// c(n) = 2 (ln(n − 1) + γ) − 2 (n − 1) / n, with c(1) = 0 and c(2) = 1 (scikit-learn's
/// `_average_path_length`).
pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + 0.577_215_664_901_532_9) - 2.0 * (n - 1.0) / n
        }
    }
}

/// A fitted isolation forest over feature rows: all trees' nodes in flat parallel arrays
/// (struct of arrays), each tree stored depth-first from its root.
///
/// Nodes are stored breadth-first per tree with the right child right after the left, and a
/// leaf points to itself with an unpassable threshold, so scoring walks every tree a fixed
/// number of steps (its depth) with no test for leaves: each step is a branch-free pick,
/// `left[n] + (x[feature[n]] > threshold[n])`, over a block of rows at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsolationForest {
    /// Columns of the rows it scores.
    pub n_features: usize,
    /// Samples per tree (the c(ψ) normaliser).
    pub max_samples: usize,
    /// Root node of each tree.
    roots: Vec<u32>,
    /// Depth of each tree's deepest leaf (the steps a walk takes).
    depth: Vec<u32>,
    /// Split feature per node (0 at a leaf).
    feature: Vec<u32>,
    /// Split threshold per node: left when `x <= threshold` (`f64::MAX` at a leaf).
    threshold: Vec<f64>,
    /// Left child per node; the right child is `left + 1` (a leaf's left is itself).
    left: Vec<u32>,
    /// Path length credited at a leaf: its depth + c(training samples there) (0 inside).
    path: Vec<f64>,
}

/// One node of a fitted tree, as [`IsolationForest::tree_nodes`] lists it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ForestNode {
    /// `x[feature] <= threshold` goes to `left`, otherwise to `right` (ids local to the tree).
    Split {
        /// Feature column.
        feature: usize,
        /// Split threshold.
        threshold: f64,
        /// Left child.
        left: usize,
        /// Right child.
        right: usize,
    },
    /// A leaf credited with this path length (depth + c(samples)).
    Leaf {
        /// The path length.
        path: f64,
    },
}

/// One tree as explicit node arrays (scikit-learn's `tree_` layout), for
/// [`IsolationForest::from_trees`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeArrays {
    /// Left child per node, −1 at a leaf.
    pub children_left: Vec<i64>,
    /// Right child per node, −1 at a leaf.
    pub children_right: Vec<i64>,
    /// Split feature per node (an index into `features`), negative at a leaf.
    pub feature: Vec<i64>,
    /// Split threshold per node.
    pub threshold: Vec<f64>,
    /// Training samples that reached each node.
    pub n_node_samples: Vec<usize>,
    /// The columns this tree sees (scikit-learn's `estimators_features_`).
    pub features: Vec<usize>,
}

/// Settings for growing a forest.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grow {
    pub n_estimators: usize,
    pub max_samples: usize,
    pub max_features: usize,
    pub bootstrap: bool,
    pub seed: u64,
}

/// One tree's nodes during building.
#[derive(Default)]
struct Nodes {
    feature: Vec<u32>,
    value: Vec<f64>,
    left: Vec<u32>,
    right: Vec<u32>,
    depth: Vec<u32>,
}

impl Nodes {
    fn push(&mut self, feature: u32, value: f64, depth: usize) -> u32 {
        self.depth.push(depth as u32);
        self.feature.push(feature);
        self.value.push(value);
        self.left.push(0);
        self.right.push(0);
        (self.feature.len() - 1) as u32
    }
}

impl IsolationForest {
    /// Grows the forest on `rows` (finite), rayon over trees; tree i draws from its own seed
    /// `trial_seed(seed, i)`, so the forest does not depend on the thread count.
    pub(crate) fn grow(rows: ArrayView2<'_, f64>, grow: Grow) -> IsolationForest {
        let (n, d) = rows.dim();
        let max_depth = (grow.max_samples.max(2) as f64).log2().ceil() as usize;
        let trees: Vec<Nodes> = (0..grow.n_estimators)
            .into_par_iter()
            .map(|tree| {
                let mut rng = ChaCha8Rng::seed_from_u64(trial_seed(grow.seed, tree as u64));
                let mut sample: Vec<usize> = if grow.bootstrap {
                    let mut s: Vec<usize> = (0..grow.max_samples)
                        .map(|_| rng.random_range(0..n))
                        .collect();
                    // Duplicates carry weight only: the tree sees each drawn row once.
                    s.sort_unstable();
                    s.dedup();
                    s
                } else {
                    rand::seq::index::sample(&mut rng, n, grow.max_samples).into_vec()
                };
                sample.sort_unstable();
                let features: Vec<usize> = if grow.max_features < d {
                    let mut f = rand::seq::index::sample(&mut rng, d, grow.max_features).into_vec();
                    f.sort_unstable();
                    f
                } else {
                    (0..d).collect()
                };
                // The subsample, column-major over the tree's features (cache-friendly splits).
                let columns: Vec<Vec<f64>> = features
                    .iter()
                    .map(|&f| sample.iter().map(|&r| rows[[r, f]]).collect())
                    .collect();
                build_tree(&columns, &features, sample.len(), max_depth, &mut rng)
            })
            .collect();
        let mut forest = IsolationForest::empty(d, grow.max_samples);
        for tree in trees {
            forest.push_tree(&tree);
        }
        forest
    }

    fn empty(n_features: usize, max_samples: usize) -> IsolationForest {
        IsolationForest {
            n_features,
            max_samples,
            roots: Vec::new(),
            depth: Vec::new(),
            feature: Vec::new(),
            threshold: Vec::new(),
            left: Vec::new(),
            path: Vec::new(),
        }
    }

    /// Appends one tree (nodes indexed from 0, root first; `LEAF` marks leaves, whose
    /// `value` is the path length credited there), renumbered breadth-first so that each
    /// right child follows its left sibling.
    fn push_tree(&mut self, tree: &Nodes) {
        let offset = self.feature.len() as u32;
        self.roots.push(offset);
        self.depth
            .push(tree.depth.iter().copied().max().unwrap_or(0));
        let count = tree.feature.len();
        // order[i] = the original node stored at position i; left children placed in pairs.
        let mut order = Vec::with_capacity(count);
        let mut position = vec![0_u32; count];
        order.push(0_usize);
        let mut next = 0;
        while next < order.len() {
            let node = order[next];
            if tree.feature[node] != LEAF {
                position[tree.left[node] as usize] = order.len() as u32;
                order.push(tree.left[node] as usize);
                position[tree.right[node] as usize] = order.len() as u32;
                order.push(tree.right[node] as usize);
            }
            next += 1;
        }
        for (at, &node) in order.iter().enumerate() {
            if tree.feature[node] == LEAF {
                self.feature.push(0);
                self.threshold.push(f64::MAX);
                self.left.push(offset + at as u32);
                self.path.push(tree.value[node]);
            } else {
                self.feature.push(tree.feature[node]);
                self.threshold.push(tree.value[node]);
                self.left.push(offset + position[tree.left[node] as usize]);
                self.path.push(0.0);
            }
        }
    }

    /// A forest from explicit node arrays (e.g. exported from a fitted scikit-learn
    /// `IsolationForest`), scoring rows of `n_features` columns with c(`max_samples`).
    pub fn from_trees(
        n_features: usize,
        max_samples: usize,
        trees: &[TreeArrays],
    ) -> Result<IsolationForest> {
        let bad = |reason: String| {
            TrainError::param(
                "isolation_forest.trees",
                reason,
                "export children_left/right, feature, threshold and n_node_samples of each tree_",
            )
        };
        let mut forest = IsolationForest::empty(n_features, max_samples);
        for (t, tree) in trees.iter().enumerate() {
            let nodes = tree.children_left.len();
            if [
                tree.children_right.len(),
                tree.feature.len(),
                tree.threshold.len(),
                tree.n_node_samples.len(),
            ]
            .iter()
            .any(|&l| l != nodes)
                || nodes == 0
            {
                return Err(bad(format!("tree {t}: node arrays differ in length")));
            }
            // Depth of each node, by walking from the root (children come after parents).
            let mut depth = vec![usize::MAX; nodes];
            depth[0] = 0;
            for node in 0..nodes {
                let (l, r) = (tree.children_left[node], tree.children_right[node]);
                if depth[node] == usize::MAX {
                    return Err(bad(format!("tree {t}: node {node} is unreachable")));
                }
                if l >= 0 {
                    let (l, r) = (l as usize, r as usize);
                    if l >= nodes || r >= nodes || l <= node || r <= node {
                        return Err(bad(format!("tree {t}: node {node} has bad children")));
                    }
                    depth[l] = depth[node] + 1;
                    depth[r] = depth[node] + 1;
                }
            }
            let mut nodes_out = Nodes::default();
            for (node, &node_depth) in depth.iter().enumerate() {
                let l = tree.children_left[node];
                nodes_out.depth.push(node_depth as u32);
                if l < 0 {
                    nodes_out.feature.push(LEAF);
                    nodes_out
                        .value
                        .push(node_depth as f64 + average_path_length(tree.n_node_samples[node]));
                    nodes_out.left.push(0);
                    nodes_out.right.push(0);
                } else {
                    let f = usize::try_from(tree.feature[node])
                        .ok()
                        .and_then(|f| tree.features.get(f).copied())
                        .filter(|f| *f < n_features)
                        .ok_or_else(|| {
                            bad(format!("tree {t}: node {node} splits on a bad feature"))
                        })?;
                    nodes_out.feature.push(f as u32);
                    nodes_out.value.push(tree.threshold[node]);
                    nodes_out.left.push(l as u32);
                    nodes_out.right.push(tree.children_right[node] as u32);
                }
            }
            forest.push_tree(&nodes_out);
        }
        Ok(forest)
    }

    /// Number of trees.
    pub fn n_estimators(&self) -> usize {
        self.roots.len()
    }

    /// Number of nodes over all trees.
    pub fn n_nodes(&self) -> usize {
        self.feature.len()
    }

    /// Tree `tree`'s nodes (ids local to the tree, root = 0), for exporters: each node is
    /// either a split (`x[feature] <= threshold` goes left) or a leaf crediting `path`
    /// (its depth + c(training samples there)).
    ///
    /// # Panics
    /// When `tree >= n_estimators()`.
    pub fn tree_nodes(&self, tree: usize) -> Vec<ForestNode> {
        let start = self.roots[tree] as usize;
        let end = self
            .roots
            .get(tree + 1)
            .map_or(self.feature.len(), |r| *r as usize);
        (start..end)
            .map(|k| {
                let left = self.left[k] as usize;
                let right = left + 1;
                if left == k {
                    ForestNode::Leaf { path: self.path[k] }
                } else {
                    ForestNode::Split {
                        feature: self.feature[k] as usize,
                        threshold: self.threshold[k],
                        left: left - start,
                        right: right - start,
                    }
                }
            })
            .collect()
    }

    /// Anomaly scores `2^(−E[h(x)] / c(max_samples))` (scikit-learn's `-score_samples`), in
    /// (0, 1]; rayon over blocks of rows, each tree walked for a whole block at a time.
    pub fn score_rows(&self, rows: ArrayView2<'_, f64>) -> Vec<f64> {
        assert_eq!(
            rows.ncols(),
            self.n_features,
            "isolation forest: feature count"
        );
        let n = rows.nrows();
        let d = self.n_features;
        let data = rows.as_standard_layout();
        let flat = data.as_slice().expect("standard layout");
        let mut out = vec![0.0; n];
        let denominator = self.roots.len() as f64 * average_path_length(self.max_samples);
        out.par_chunks_mut(SCORE_BLOCK)
            .enumerate()
            .for_each(|(block, scores)| {
                let m = scores.len();
                let block_rows = &flat[block * SCORE_BLOCK * d..(block * SCORE_BLOCK + m) * d];
                let mut depths = [0.0_f64; SCORE_BLOCK];
                let mut at = [0_u32; SCORE_BLOCK];
                for (&root, &steps) in self.roots.iter().zip(&self.depth) {
                    at[..m].fill(root);
                    for _ in 0..steps {
                        for (j, node) in at[..m].iter_mut().enumerate() {
                            let k = *node as usize;
                            let x = block_rows[j * d + self.feature[k] as usize];
                            *node = self.left[k] + u32::from(x > self.threshold[k]);
                        }
                    }
                    for (depth, node) in depths[..m].iter_mut().zip(&at[..m]) {
                        *depth += self.path[*node as usize];
                    }
                }
                for (score, depth) in scores.iter_mut().zip(&depths[..m]) {
                    *score = if denominator != 0.0 {
                        2f64.powf(-depth / denominator)
                    } else {
                        0.5
                    };
                }
            });
        out
    }
}

/// Builds one tree on `columns` (features × samples), depth-first, scikit-learn's random
/// splitter: at each node draw features (without replacement) until one is not constant on
/// the node's samples, split at a uniform threshold in [min, max) (`threshold == max` becomes
/// `min`), left when `x <= threshold`; a node with fewer than 2 samples, at `max_depth`, or
/// constant in every feature is a leaf credited with depth + c(samples).
fn build_tree(
    columns: &[Vec<f64>],
    features: &[usize],
    samples: usize,
    max_depth: usize,
    rng: &mut ChaCha8Rng,
) -> Nodes {
    let mut nodes = Nodes::default();
    let mut index: Vec<u32> = (0..samples as u32).collect();
    let mut candidates: Vec<usize> = Vec::with_capacity(columns.len());
    // (parent and whether this is its left child, first sample, one past the last, depth)
    type Pending = (Option<(u32, bool)>, usize, usize, usize);
    let mut stack: Vec<Pending> = vec![(None, 0, samples, 0)];
    while let Some((parent, start, end, depth)) = stack.pop() {
        let count = end - start;
        let mut split = None;
        if count >= 2 && depth < max_depth {
            candidates.clear();
            candidates.extend(0..columns.len());
            while !candidates.is_empty() {
                let pick = rng.random_range(0..candidates.len());
                let c = candidates.swap_remove(pick);
                let column = &columns[c];
                let (lo, hi) = index[start..end].iter().fold(
                    (f64::INFINITY, f64::NEG_INFINITY),
                    |(a, b), &i| {
                        let v = column[i as usize];
                        (a.min(v), b.max(v))
                    },
                );
                if hi <= lo + FEATURE_THRESHOLD {
                    continue;
                }
                let mut threshold = lo + (hi - lo) * rng.random::<f64>();
                if threshold == hi {
                    threshold = lo;
                }
                split = Some((c, threshold));
                break;
            }
        }
        let node = match split {
            None => nodes.push(LEAF, depth as f64 + average_path_length(count), depth),
            Some((c, threshold)) => nodes.push(features[c] as u32, threshold, depth),
        };
        if let Some((p, is_left)) = parent {
            if is_left {
                nodes.left[p as usize] = node;
            } else {
                nodes.right[p as usize] = node;
            }
        }
        if let Some((c, threshold)) = split {
            let column = &columns[c];
            let slice = &mut index[start..end];
            let mut mid = 0;
            for i in 0..slice.len() {
                if column[slice[i] as usize] <= threshold {
                    slice.swap(i, mid);
                    mid += 1;
                }
            }
            // Right pushed first so the left subtree is built (and stored) first.
            stack.push((Some((node, false)), start + mid, end, depth + 1));
            stack.push((Some((node, true)), start, start + mid, depth + 1));
        }
    }
    nodes
}
