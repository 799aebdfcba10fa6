//! What the stateful (streaming) graphs share: their inputs (`x` `[batch, 1, channels]`
//! float32, the new row; `state` `[batch, channels, width]` float64, the previous call's
//! `state_out`), the row in float64 divided by each channel's training scale, the state split
//! into its `[batch, channels]` entries, and `state_out` stacked back.

use crate::graph::{Attr, Dim, Graph};
use crate::proto::data_type;

/// The row and the state's entries of a stateful graph.
pub(crate) struct Streaming {
    /// The new row, float64 `[batch, channels]`, each channel over its training scale.
    pub x: String,
    /// The state's entries along its last axis, each `[batch, channels]`.
    pub state: Vec<String>,
    /// Constant `[1]`: axis 1 (channels, after the row axis is squeezed).
    pub axis1: String,
    /// Constant `[2]`: the state's last axis.
    pub axis2: String,
}

/// Declares `x` and `state` (`width` entries per channel, described by `state_doc`) and
/// returns the scaled row and the split state.
pub(crate) fn inputs(g: &mut Graph, scales: &[f64], width: usize, state_doc: &str) -> Streaming {
    let c = scales.len();
    g.input_f32(
        "x",
        &[Dim::Named("batch"), Dim::Fixed(1), Dim::Fixed(c)],
        "the new row of each series",
    );
    g.input_f64(
        "state",
        &[Dim::Named("batch"), Dim::Fixed(c), Dim::Fixed(width)],
        state_doc,
    );
    let axis1 = g.const_i64("axis1", &[1], &[1]);
    let axis2 = g.const_i64("axis2", &[1], &[2]);
    let x = g.op(
        "Cast",
        &["x"],
        vec![("to", Attr::Int(i64::from(data_type::DOUBLE)))],
    );
    let x = g.op("Squeeze", &[&x, &axis1], vec![]);
    let scale = g.const_f64("channel_scale", &[1, c], scales);
    let x = g.op("Div", &[&x, &scale], vec![]);
    let parts = g.op_n("Split", &["state"], vec![("axis", Attr::Int(2))], width);
    let state = parts
        .iter()
        .map(|p| g.op("Squeeze", &[p, &axis2], vec![]))
        .collect();
    Streaming {
        x,
        state,
        axis1,
        axis2,
    }
}

/// Stacks `entries` (each `[batch, channels]`) into the `state_out` output.
pub(crate) fn state_out(g: &mut Graph, entries: &[String], channels: usize, axis2: &str) {
    let stacked: Vec<String> = entries
        .iter()
        .map(|v| g.op("Unsqueeze", &[v, axis2], vec![]))
        .collect();
    let refs: Vec<&str> = stacked.iter().map(String::as_str).collect();
    g.op_to("Concat", &refs, vec![("axis", Attr::Int(2))], "state_out");
    g.trailing_output(
        "state_out",
        data_type::DOUBLE,
        &[
            Dim::Named("batch"),
            Dim::Fixed(channels),
            Dim::Fixed(entries.len()),
        ],
        "the state after this row: feed it as `state` with the next row",
    );
}
