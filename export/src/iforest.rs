//! Isolation Forest → `ai.onnx.ml` TreeEnsembleRegressor (opset 3).
//!
//! Each leaf's target weight is the path length vigil credits there (depth + c(leaf size));
//! the ensemble sums them (float32), and float64 nodes finish the score
//! `2^(−Σ / (trees · c(ψ)))`, set 0 on invalid rows, and compare with the threshold.
//!
//! Split thresholds: when every feature is one input value (no differences, no rolling
//! statistics), the training scaling is folded into the thresholds, which then compare the raw
//! float32 inputs: for each split the graph's threshold is the LARGEST float32 `x` with
//! `((x as f64) − centre) / scale <= t` in vigil's float64 arithmetic, found by bisection over
//! the float32 values (the map is monotone). Every float32 input then takes the same branch as
//! in vigil, so the only difference is the float32 sum of path lengths (≤ 1e-6 on the score).
//! Otherwise the tree reads the scaled float64 features cast to float32, with each threshold
//! rounded down to float32: a feature within one float32 step of a threshold can take the
//! other branch.

use vigil_train::detectors::isolation_forest::{
    ForestNode, IsolationForestModel, average_path_length,
};

use crate::SCORE_TOLERANCE;
use crate::features::{self, input_window};
use crate::graph::{Attr, Dim, Graph};
use crate::proto::data_type;
use crate::{ExportError, ExportOptions, OnnxModel, metadata};

// Float32 tolerance of the score (see the module docs).
// (the shared `crate::SCORE_TOLERANCE` = 1e-5)

/// Ordered integer key of a float32 (−0 and +0 share 0).
fn key(x: f32) -> i64 {
    let bits = x.to_bits();
    if bits & 0x8000_0000 != 0 {
        -i64::from(bits & 0x7FFF_FFFF)
    } else {
        i64::from(bits)
    }
}

fn from_key(k: i64) -> f32 {
    if k < 0 {
        f32::from_bits((-k) as u32 | 0x8000_0000)
    } else {
        f32::from_bits(k as u32)
    }
}

/// The largest finite float32 `x` with `left(x)` (monotone: true up to a point, then false);
/// −∞ when none is, `f32::MAX` when all are.
pub(crate) fn last_true(left: impl Fn(f32) -> bool) -> f32 {
    let (mut lo, mut hi) = (key(f32::MIN), key(f32::MAX));
    if !left(from_key(lo)) {
        return f32::NEG_INFINITY;
    }
    if left(from_key(hi)) {
        return f32::MAX;
    }
    // Invariant: left(lo), !left(hi).
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if left(from_key(mid)) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    from_key(lo)
}

/// The largest float32 not above `t` (so `x <= t` in float64 ⇔ `x <= down(t)` for float32 x).
fn round_down(t: f64) -> f32 {
    let r = t as f32;
    if f64::from(r) > t { r.next_down() } else { r }
}

pub(crate) fn export(
    model: &IsolationForestModel,
    options: &ExportOptions,
) -> Result<OnnxModel, ExportError> {
    let fm = &model.features;
    let forest = &model.model;
    let window = input_window(fm);
    let channels = fm.channels;
    let mut g = Graph::new();
    g.input_f32(
        "x",
        &[
            Dim::Named("batch"),
            Dim::Fixed(window),
            Dim::Fixed(channels),
        ],
        "the last rows of the series, oldest first; the last row is scored",
    );
    let feats = features::build(&mut g, fm, "x")?;
    let exact = feats.raw_inputs.is_some();
    let tree_input = match &feats.raw_inputs {
        Some(raw) => raw.clone(),
        None => g.op(
            "Cast",
            &[&feats.scaled],
            vec![("to", Attr::Int(i64::from(data_type::FLOAT)))],
        ),
    };

    let mut tree_ids = Vec::new();
    let mut node_ids = Vec::new();
    let mut feature_ids = Vec::new();
    let mut values = Vec::new();
    let mut modes = Vec::new();
    let mut true_ids = Vec::new();
    let mut false_ids = Vec::new();
    let (mut target_tree, mut target_node, mut target_id, mut target_weight) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for tree in 0..forest.n_estimators() {
        for (id, node) in forest.tree_nodes(tree).into_iter().enumerate() {
            tree_ids.push(tree as i64);
            node_ids.push(id as i64);
            match node {
                ForestNode::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    let value = if exact {
                        let (c, s) = (fm.center[feature], fm.scale[feature]);
                        last_true(|x| (f64::from(x) - c) / s <= threshold)
                    } else {
                        round_down(threshold)
                    };
                    feature_ids.push(feature as i64);
                    values.push(value);
                    modes.push("BRANCH_LEQ");
                    true_ids.push(left as i64);
                    false_ids.push(right as i64);
                }
                ForestNode::Leaf { path } => {
                    feature_ids.push(0);
                    values.push(0.0);
                    modes.push("LEAF");
                    true_ids.push(0);
                    false_ids.push(0);
                    target_tree.push(tree as i64);
                    target_node.push(id as i64);
                    target_id.push(0);
                    target_weight.push(path as f32);
                }
            }
        }
    }
    let sum = g.node_in(
        "ai.onnx.ml",
        "TreeEnsembleRegressor",
        &[&tree_input],
        vec![
            ("n_targets", Attr::Int(1)),
            ("aggregate_function", Attr::Str("SUM")),
            ("post_transform", Attr::Str("NONE")),
            ("nodes_treeids", Attr::Ints(tree_ids)),
            ("nodes_nodeids", Attr::Ints(node_ids)),
            ("nodes_featureids", Attr::Ints(feature_ids)),
            ("nodes_values", Attr::Floats(values)),
            ("nodes_modes", Attr::Strings(modes)),
            ("nodes_truenodeids", Attr::Ints(true_ids)),
            ("nodes_falsenodeids", Attr::Ints(false_ids)),
            ("target_treeids", Attr::Ints(target_tree)),
            ("target_nodeids", Attr::Ints(target_node)),
            ("target_ids", Attr::Ints(target_id)),
            ("target_weights", Attr::Floats(target_weight)),
        ],
        None,
    );
    let sum64 = g.op(
        "Cast",
        &[&sum],
        vec![("to", Attr::Int(i64::from(data_type::DOUBLE)))],
    );
    let axes1 = g.const_i64("squeeze_axes", &[1], &[1]);
    let depth = g.op("Squeeze", &[&sum64, &axes1], vec![]);
    let denominator = forest.n_estimators() as f64 * average_path_length(forest.max_samples);
    let exponent = if denominator != 0.0 {
        let d = g.const_f64("denominator", &[], &[denominator]);
        let ratio = g.op("Div", &[&depth, &d], vec![]);
        g.op("Neg", &[&ratio], vec![])
    } else {
        // vigil scores 0.5 when c(ψ) = 0: 2^(0·depth − 1).
        let zero = g.const_f64("zero", &[], &[0.0]);
        let minus_one = g.const_f64("minus_one", &[], &[-1.0]);
        let z = g.op("Mul", &[&depth, &zero], vec![]);
        g.op("Add", &[&z, &minus_one], vec![])
    };
    let two = g.const_f64("two", &[], &[2.0]);
    let score = g.op("Pow", &[&two, &exponent], vec![]);
    finish(
        g,
        score,
        &feats.invalid,
        options,
        "isolation_forest",
        window,
        channels,
        fm.dim(),
    )
}

/// The graph's decision and outputs from its float64 score: `is_anomaly = score64 >=
/// threshold` in float64, and `score` as float32.
pub(crate) fn score_outputs(g: &mut Graph, score64: &str, threshold: f64, meaning: &str) {
    let threshold = g.const_f64("threshold", &[], &[threshold]);
    g.op_to(
        "GreaterOrEqual",
        &[score64, &threshold],
        vec![],
        "is_anomaly",
    );
    g.op_to(
        "Cast",
        &[score64],
        vec![("to", Attr::Int(i64::from(data_type::FLOAT)))],
        "score",
    );
    g.output("score", data_type::FLOAT, &[Dim::Named("batch")], meaning);
    g.output(
        "is_anomaly",
        data_type::BOOL,
        &[Dim::Named("batch")],
        "score >= threshold (float64 comparison)",
    );
}

/// Zeroes invalid rows, applies the threshold, and writes the outputs and metadata.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish(
    mut g: Graph,
    score64: String,
    invalid: &str,
    options: &ExportOptions,
    family: &str,
    window: usize,
    channels: usize,
    feature_dim: usize,
) -> Result<OnnxModel, ExportError> {
    let zero = g.const_f64("zero_score", &[], &[0.0]);
    let score64 = g.op("Where", &[invalid, &zero, &score64], vec![]);
    score_outputs(
        &mut g,
        &score64,
        options.threshold,
        "vigil's score of the last row",
    );
    let nodes = g.n_nodes();
    let meta = metadata(family, options, window, channels);
    let bytes = g.finish(
        &format!("vigil_{family}"),
        &format!("vigil {family} detector: input x [batch, {window}, {channels}] float32"),
        true,
        &meta,
    );
    Ok(OnnxModel {
        bytes,
        family: family.to_string(),
        input_window: window,
        channels,
        feature_dim,
        nodes,
        score_tolerance: SCORE_TOLERANCE,
        relative_tolerance: 0.0,
        state: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_true_finds_the_float32_boundary() {
        let t = 0.1_f64;
        let b = last_true(|x| f64::from(x) <= t);
        assert!(f64::from(b) <= t);
        assert!(f64::from(b.next_up()) > t);
        assert_eq!(last_true(|_| false), f32::NEG_INFINITY);
        assert_eq!(last_true(|_| true), f32::MAX);
        // Scaled: (x − c) / s <= t.
        let (c, s, t) = (3.7_f64, 0.37_f64, -1.234_567_f64);
        let b = last_true(|x| (f64::from(x) - c) / s <= t);
        assert!((f64::from(b) - c) / s <= t);
        assert!((f64::from(b.next_up()) - c) / s > t);
        for t in [0.1_f64, -0.1, 1.0, 1e-30, 3.4e38] {
            let r = round_down(t);
            assert!(f64::from(r) <= t && f64::from(r.next_up()) > t, "{t}");
        }
    }
}
