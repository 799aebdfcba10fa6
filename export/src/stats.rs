//! Statistical families over an input window, in float64: the score of the window's LAST row.
//!
//! Rolling z-score (mean/σ): the input holds the previous `window` rows and the scored row
//! (`[batch, window + 1, channels]`); each channel is divided by its training scale, the
//! finite values among the previous rows give the mean and sample σ (two-pass; vigil keeps
//! running moments, ~1e-13 relative apart over long series), the score is
//! `|x − mean| / max(σ, 1e-9)`, 0 when fewer than `min_periods` previous values are finite or
//! the row itself is missing, and the channels combine by max or mean as in vigil.

use vigil_train::detectors::zscore::{Center, RollingZScoreModel};
use vigil_train::scores::Combine;

use crate::graph::{Attr, Dim, Graph};
use crate::iforest::finish;
use crate::proto::data_type;
use crate::{ExportError, ExportOptions, OnnxModel};

/// Float32 tolerance: the float64 graph is within ~1e-12 of vigil; the float32 output adds
/// 6e-8 relative (scores are in spreads, normally below 100).
pub const SCORE_TOLERANCE: f64 = 1e-5;
/// Relative part: 1e-6 × |score| for the rare huge scores of near-constant stretches.
pub const RELATIVE_TOLERANCE: f64 = 1e-6;

/// vigil's `SPREAD_FLOOR`.
const SPREAD_FLOOR: f64 = 1e-9;

pub(crate) fn export_zscore(
    model: &RollingZScoreModel,
    options: &ExportOptions,
) -> Result<OnnxModel, ExportError> {
    if model.params.center != Center::MeanStd {
        return Err(ExportError::Unsupported {
            family: "rolling_zscore".to_string(),
            reason: "the median/MAD centre is not mapped to ONNX yet (only mean/σ)".to_string(),
        });
    }
    let w = model.params.window;
    let c = model.channels.len();
    let mut g = Graph::new();
    g.input_f32(
        "x",
        &[Dim::Named("batch"), Dim::Fixed(w + 1), Dim::Fixed(c)],
        "the previous `window` rows and the scored row (last), oldest first",
    );
    let x = g.op(
        "Cast",
        &["x"],
        vec![("to", Attr::Int(i64::from(data_type::DOUBLE)))],
    );
    let scales: Vec<f64> = model.channels.iter().map(|f| f.scale).collect();
    let scale = g.const_f64("channel_scale", &[1, 1, c], &scales);
    let x = g.op("Div", &[&x, &scale], vec![]);
    let starts = g.const_i64("prev_start", &[1], &[0]);
    let ends = g.const_i64("prev_end", &[1], &[w as i64]);
    let cur_start = g.const_i64("cur_start", &[1], &[w as i64]);
    let cur_end = g.const_i64("cur_end", &[1], &[(w + 1) as i64]);
    let axis1 = g.const_i64("axis1", &[1], &[1]);
    let prev = g.op("Slice", &[&x, &starts, &ends, &axis1], vec![]);
    let cur3 = g.op("Slice", &[&x, &cur_start, &cur_end, &axis1], vec![]);
    let cur = g.op("Squeeze", &[&cur3, &axis1], vec![]);
    // Finite previous values (NaN/±∞ excluded: x − x is NaN for both).
    let self_diff = g.op("Sub", &[&prev, &prev], vec![]);
    let missing = g.op("IsNaN", &[&self_diff], vec![]);
    let zero = g.const_f64("zero", &[], &[0.0]);
    let one = g.const_f64("one", &[], &[1.0]);
    let values = g.op("Where", &[&missing, &zero, &prev], vec![]);
    let present = g.op("Where", &[&missing, &zero, &one], vec![]);
    let count = g.op(
        "ReduceSum",
        &[&present, &axis1],
        vec![("keepdims", Attr::Int(1))],
    );
    let sum = g.op(
        "ReduceSum",
        &[&values, &axis1],
        vec![("keepdims", Attr::Int(1))],
    );
    let mean = g.op("Div", &[&sum, &count], vec![]);
    let centred = g.op("Sub", &[&values, &mean], vec![]);
    let centred = g.op("Where", &[&missing, &zero, &centred], vec![]);
    let sq = g.op("Mul", &[&centred, &centred], vec![]);
    let ssq = g.op(
        "ReduceSum",
        &[&sq, &axis1],
        vec![("keepdims", Attr::Int(0))],
    );
    let count2 = g.op("Squeeze", &[&count, &axis1], vec![]);
    let mean2 = g.op("Squeeze", &[&mean, &axis1], vec![]);
    let dof = g.op("Sub", &[&count2, &one], vec![]);
    let var = g.op("Div", &[&ssq, &dof], vec![]);
    let std = g.op("Sqrt", &[&var], vec![]);
    let floor = g.const_f64("spread_floor", &[], &[SPREAD_FLOOR]);
    let spread = g.op("Max", &[&std, &floor], vec![]);
    let dev = g.op("Sub", &[&cur, &mean2], vec![]);
    let absdev = g.op("Abs", &[&dev], vec![]);
    let z = g.op("Div", &[&absdev, &spread], vec![]);
    // 0 when warming up (too few finite previous values) or when the row is missing, and
    // vigil's finite(): any non-finite channel score becomes 0.
    let min_periods = g.const_f64("min_periods", &[], &[model.min_periods as f64]);
    let warming = g.op("Less", &[&count2, &min_periods], vec![]);
    let z_self = g.op("Sub", &[&z, &z], vec![]);
    let bad = g.op("IsNaN", &[&z_self], vec![]);
    let off = g.op("Or", &[&warming, &bad], vec![]);
    let z = g.op("Where", &[&off, &zero, &z], vec![]);
    let score = match model.params.combine {
        Combine::Max => g.op(
            "ReduceMax",
            &[&z],
            vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(0))],
        ),
        Combine::Mean => {
            let n = g.const_f64("channels", &[], &[c as f64]);
            let parts = g.op("Div", &[&z, &n], vec![]);
            g.op(
                "ReduceSum",
                &[&parts, &axis1],
                vec![("keepdims", Attr::Int(0))],
            )
        }
    };
    // No separate invalid rows: missing inputs are handled above.
    let never = g.op("IsNaN", &[&zero], vec![]);
    let mut out = finish(g, score, &never, options, "rolling_zscore", w + 1, c, c)?;
    out.score_tolerance = SCORE_TOLERANCE;
    out.relative_tolerance = RELATIVE_TOLERANCE;
    Ok(out)
}
