//! One graph for an ensemble: every member's graph inside it (its nodes and initializers,
//! names prefixed `m<i>_`), fed the last rows of one input window, then each member's
//! calibration and normaliser, the weights, the vote and the threshold, so that a runtime
//! service loads one model per series and feeds it one tensor.
//!
//! The members' float64 scores are taken before their float32 cast, and every step after
//! them runs in float64 with vigil's operations (`vigil_experiments::ensemble`): an affine
//! map `(s − median) / scale`, a rank `#{sorted ≤ s} / n` (strictly below for the conformal
//! share), a weighted mean or a (weighted) share of votes `n ≥ vote`, a non-finite result
//! as 0, then `is_anomaly = combined ≥ threshold`.
//!
//! Windowed members only: a streaming member (EWMA, Holt-Winters) needs one call per row from
//! the series' first row, which a window of the other members' length cannot give it without
//! padding rows they would score differently; such an ensemble is refused with that reason
//! and exported as members plus rule.

use prost::Message;
use vigil_train::FittedModel;

use crate::graph::{Attr, Dim, Graph};
use crate::iforest::score_outputs;
use crate::proto::{ModelProto, data_type};
use crate::{ExportError, ExportOptions, OnnxModel, export, metadata};

/// How a member's score is mapped before the rule combines it (calibration, then normaliser).
#[derive(Debug, Clone, PartialEq)]
pub enum Scale {
    /// `s` unchanged.
    Identity,
    /// `(s − median) / scale`.
    Affine {
        /// Subtracted.
        median: f64,
        /// Divided by (> 0).
        scale: f64,
    },
    /// The share of `sorted` at or below `s` (`strict`: strictly below); 0.5 when empty.
    Rank {
        /// Training scores, ascending.
        sorted: Vec<f64>,
        /// `<` instead of `<=` (the conformal share).
        strict: bool,
    },
}

/// How the members' mapped scores combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `Σ w·n / Σ w`.
    Mean,
    /// `Σ w·[n ≥ vote] / Σ w`.
    Vote,
    /// `Σ [n ≥ vote] / members` (majority and consensus differ only in the threshold).
    Count,
}

/// One member of an exported ensemble.
#[derive(Debug, Clone)]
pub struct Member<'a> {
    /// The member's fitted model for this series.
    pub model: &'a FittedModel,
    /// Its score calibration (the run's `calibrate`), then its ensemble normaliser.
    pub scales: Vec<Scale>,
    /// Its weight.
    pub weight: f64,
    /// Its vote threshold on the mapped scale (vote and count rules).
    pub vote: f64,
}

/// Exports the ensemble of `members` combined by `rule` as one graph with the usual inputs
/// (`x` `[batch, window, channels]`, the longest member window) and outputs (`score`,
/// `is_anomaly`). One member with weight 1 under [`Rule::Mean`] is that family with its
/// scales applied (its `family` is `<family>+calibration`).
pub fn export_ensemble(
    members: &[Member<'_>],
    rule: Rule,
    options: &ExportOptions,
) -> Result<OnnxModel, ExportError> {
    crate::check_options(options)?;
    let refuse = |reason: String| ExportError::Unsupported {
        family: "ensemble".to_string(),
        reason,
    };
    if members.is_empty() {
        return Err(refuse("no members".to_string()));
    }
    let member_options = ExportOptions {
        threshold: f64::INFINITY,
        dataset_fingerprint: None,
    };
    let graphs: Vec<OnnxModel> = members
        .iter()
        .map(|m| export(m.model, &member_options))
        .collect::<Result<_, _>>()?;
    if let Some(g) = graphs.iter().find(|g| g.state.is_some()) {
        return Err(refuse(format!(
            "member {} is a streaming graph (one row per call from the series' first row, with \
             its state), which one window shared with the other members cannot feed",
            g.family
        )));
    }
    let channels = graphs[0].channels;
    if let Some(g) = graphs.iter().find(|g| g.channels != channels) {
        return Err(refuse(format!(
            "members take {channels} and {} channels ({})",
            g.channels, g.family
        )));
    }
    let window = graphs.iter().map(|g| g.input_window).max().unwrap_or(1);
    let mut g = Graph::new();
    g.input_f32(
        "x",
        &[
            Dim::Named("batch"),
            Dim::Fixed(window),
            Dim::Fixed(channels),
        ],
        "the last `window` rows of the series, oldest first; the last row is scored",
    );
    let mut uses_ml = false;
    let mut mapped = Vec::with_capacity(members.len());
    for (i, (member, onnx)) in members.iter().zip(&graphs).enumerate() {
        let proto = ModelProto::decode(onnx.bytes.as_slice())
            .map_err(|e| refuse(format!("member {i} ({}) does not decode: {e}", onnx.family)))?;
        uses_ml |= proto.opset_import.iter().any(|o| o.domain == "ai.onnx.ml");
        // The member's own window: the last `input_window` rows of `x`.
        let own_x = if onnx.input_window == window {
            "x".to_string()
        } else {
            let starts = g.const_i64("starts", &[1], &[(window - onnx.input_window) as i64]);
            let ends = g.const_i64("ends", &[1], &[window as i64]);
            let axes = g.const_i64("axes", &[1], &[1]);
            g.op("Slice", &["x", &starts, &ends, &axes], vec![])
        };
        let score64 = g
            .absorb(&proto, &format!("m{i}_"), &[("x", &own_x)])
            .ok_or_else(|| {
                refuse(format!(
                    "member {i} ({}) has no float64 score before its output cast",
                    onnx.family
                ))
            })?;
        // The forest's graph sums its trees in float32 (TreeEnsembleRegressor), so its
        // float64 score is vigil's only to ~1e-7, and a score that equals a training score in
        // vigil (path lengths repeat) would rank one tie block off, and a vote fitted on such
        // a value would flip. Its distinct scores lie much further apart than its tolerance:
        // a score within the tolerance of a training score is that score, snapped before the
        // rank, and a mapped score within the tolerance of the vote counts as reaching it.
        // Every other member's graph is exact to float64 rounding.
        let mut slack = (onnx.family == "isolation_forest").then_some(onnx.score_tolerance);
        let mut s = score64;
        for scale in &member.scales {
            if let (Some(e), Scale::Rank { sorted, .. }) = (slack, scale) {
                s = snap(&mut g, &s, sorted, e);
            }
            s = apply_scale(&mut g, &s, scale);
            slack = match scale {
                Scale::Identity => slack,
                Scale::Affine { scale, .. } => slack.map(|e| e / scale.abs()),
                Scale::Rank { .. } => None,
            };
        }
        mapped.push((s, slack.unwrap_or(0.0)));
    }
    let combined = combine(&mut g, members, &mapped, rule);
    // A non-finite combination scores 0, as vigil's `combine` does.
    let nan = g.op("IsNaN", &[&combined], vec![]);
    let inf = g.op("IsInf", &[&combined], vec![]);
    let bad = g.op("Or", &[&nan, &inf], vec![]);
    let zero = g.const_f64("zero", &[], &[0.0]);
    let score64 = g.op("Where", &[&bad, &zero, &combined], vec![]);
    score_outputs(
        &mut g,
        &score64,
        options.threshold,
        "the ensemble's score of the last row",
    );
    let nodes = g.n_nodes();
    let families: Vec<&str> = graphs.iter().map(|o| o.family.as_str()).collect();
    // One member: a family with its score map inside (a conformally calibrated version).
    let label = match families.as_slice() {
        [one] => format!("{one}+calibration"),
        _ => "ensemble".to_string(),
    };
    let mut meta = metadata(&label, options, window, channels);
    meta.push(("vigil.members".to_string(), families.join(",")));
    let bytes = g.finish(
        "vigil_ensemble",
        &format!(
            "vigil ensemble of {}: input x [batch, {window}, {channels}] float32",
            families.join(", ")
        ),
        uses_ml,
        &meta,
    );
    // The members' errors pass through their maps: an affine map scales them by 1/scale, a
    // rank turns them into the share of training scores within the error of the member's
    // score (ties included: an Isolation Forest's training scores repeat), and the rule
    // weighs them by their share; a vote's share moves only when a member's vote flips.
    let total: f64 = match rule {
        Rule::Mean | Rule::Vote => members.iter().map(|m| m.weight).sum::<f64>(),
        Rule::Count => members.len() as f64,
    };
    let total = if total > 0.0 { total } else { 1.0 };
    let mut tolerance = 0.0;
    for (m, onnx) in members.iter().zip(&graphs) {
        if rule != Rule::Mean {
            continue;
        }
        let mut error = onnx.score_tolerance;
        let mut magnitude = 0.0_f64;
        let mut ranked = false;
        for scale in &m.scales {
            match scale {
                Scale::Identity => {}
                Scale::Affine { scale, .. } => {
                    error /= scale.abs().max(f64::MIN_POSITIVE);
                }
                Scale::Rank { sorted, .. } => {
                    magnitude = sorted.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
                    error = rank_error(sorted, error + onnx.relative_tolerance * magnitude);
                    ranked = true;
                }
            }
        }
        if !ranked {
            error += onnx.relative_tolerance * magnitude;
        }
        tolerance += m.weight / total * error;
    }
    // The float32 `score` output rounds the float64 combination (a vote share of 1/3 is not
    // a float32): half an ulp, relative.
    let relative = f64::from(f32::EPSILON);
    Ok(OnnxModel {
        bytes,
        family: label,
        input_window: window,
        channels,
        feature_dim: graphs.iter().map(|o| o.feature_dim).max().unwrap_or(0),
        nodes,
        score_tolerance: tolerance.max(1e-9),
        relative_tolerance: relative,
        state: None,
    })
}

/// The largest share of `sorted` that lies within `error` of one value: how far a rank can
/// move when its input moves by at most `error`.
fn rank_error(sorted: &[f64], error: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let mut most = 1;
    let mut j = 0;
    for i in 0..sorted.len() {
        while j < sorted.len() && sorted[j] <= sorted[i] + 2.0 * error {
            j += 1;
        }
        most = most.max(j - i);
    }
    most as f64 / sorted.len() as f64
}

/// `s` replaced by the nearest of `sorted` where that lies within `error` of it.
fn snap(g: &mut Graph, s: &str, sorted: &[f64], error: f64) -> String {
    if sorted.is_empty() {
        return s.to_string();
    }
    let table = g.const_f64("sorted", &[sorted.len()], sorted);
    let row = g.const_i64("axes", &[1], &[0]);
    let table_row = g.op("Unsqueeze", &[&table, &row], vec![]);
    let axes = g.const_i64("axes", &[1], &[1]);
    let column = g.op("Unsqueeze", &[s, &axes], vec![]);
    let diff = g.op("Sub", &[&table_row, &column], vec![]);
    let distance = g.op("Abs", &[&diff], vec![]);
    let nearest_at = g.op(
        "ArgMin",
        &[&distance],
        vec![("axis", Attr::Int(1)), ("keepdims", Attr::Int(0))],
    );
    let nearest = g.op("Gather", &[&table, &nearest_at], vec![]);
    // Opset 17's ReduceMin takes its axes as an attribute (ReduceSum as an input).
    let closest = g.op(
        "ReduceMin",
        &[&distance],
        vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(0))],
    );
    let e = g.const_f64("snap", &[], &[error]);
    let near = g.op("LessOrEqual", &[&closest, &e], vec![]);
    g.op("Where", &[&near, &nearest, s], vec![])
}

/// `scale` applied to the float64 tensor `s` (`[batch]`).
fn apply_scale(g: &mut Graph, s: &str, scale: &Scale) -> String {
    match scale {
        Scale::Identity => s.to_string(),
        Scale::Affine { median, scale } => {
            let m = g.const_f64("median", &[], &[*median]);
            let d = g.const_f64("scale", &[], &[*scale]);
            let centred = g.op("Sub", &[s, &m], vec![]);
            g.op("Div", &[&centred, &d], vec![])
        }
        Scale::Rank { sorted, strict } => {
            if sorted.is_empty() {
                // vigil: 0.5 for an empty training set; 0·s keeps the batch shape.
                let zero = g.const_f64("zero", &[], &[0.0]);
                let half = g.const_f64("half", &[], &[0.5]);
                let z = g.op("Mul", &[s, &zero], vec![]);
                return g.op("Add", &[&z, &half], vec![]);
            }
            let table = g.const_f64("sorted", &[1, sorted.len()], sorted);
            let axes = g.const_i64("axes", &[1], &[1]);
            let column = g.op("Unsqueeze", &[s, &axes], vec![]);
            let below = g.op(
                if *strict { "Less" } else { "LessOrEqual" },
                &[&table, &column],
                vec![],
            );
            let ones = g.op(
                "Cast",
                &[&below],
                vec![("to", Attr::Int(i64::from(data_type::DOUBLE)))],
            );
            let count = g.op(
                "ReduceSum",
                &[&ones, &axes],
                vec![("keepdims", Attr::Int(0))],
            );
            let n = g.const_f64("n", &[], &[sorted.len() as f64]);
            g.op("Div", &[&count, &n], vec![])
        }
    }
}

/// The rule over the mapped member scores.
fn combine(g: &mut Graph, members: &[Member<'_>], mapped: &[(String, f64)], rule: Rule) -> String {
    let mut terms = Vec::with_capacity(mapped.len());
    for (m, (s, slack)) in members.iter().zip(mapped) {
        let term = match rule {
            Rule::Mean => {
                let w = g.const_f64("weight", &[], &[m.weight]);
                g.op("Mul", &[s, &w], vec![])
            }
            Rule::Vote | Rule::Count => {
                let vote = g.const_f64("vote", &[], &[m.vote - slack]);
                let yes = g.op("GreaterOrEqual", &[s, &vote], vec![]);
                let one = g.op(
                    "Cast",
                    &[&yes],
                    vec![("to", Attr::Int(i64::from(data_type::DOUBLE)))],
                );
                if rule == Rule::Vote {
                    let w = g.const_f64("weight", &[], &[m.weight]);
                    g.op("Mul", &[&one, &w], vec![])
                } else {
                    one
                }
            }
        };
        terms.push(term);
    }
    let refs: Vec<&str> = terms.iter().map(String::as_str).collect();
    let sum = g.op("Sum", &refs, vec![]);
    let total: f64 = match rule {
        Rule::Mean | Rule::Vote => members.iter().map(|m| m.weight).sum(),
        Rule::Count => members.len() as f64,
    };
    let total = g.const_f64("total", &[], &[if total > 0.0 { total } else { 1.0 }]);
    g.op("Div", &[&sum, &total], vec![])
}
