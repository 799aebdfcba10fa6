//! The feature transform as graph nodes: the input window `[batch, window, channels]` float32
//! to the feature row of its LAST row, in vigil's layout (`vigil_train::features`).
//!
//! Every feature is computed in float64 from the float32 inputs with the same operations vigil
//! uses (a gathered value, a first difference, centring and division by the training scale),
//! so the float64 features equal vigil's exactly for window values, lags and differences; the
//! rolling mean and standard deviation are a two-pass mean/σ where vigil keeps running moments
//! (differences near 1e-15 relative).

use vigil_train::features::FeatureModel;

use crate::ExportError;
use crate::graph::{Attr, Graph};
use crate::proto::data_type;

/// The graph's feature tensors.
pub(crate) struct FeatureNodes {
    /// Scaled features, float64 `[batch, dim]`.
    pub scaled: String,
    /// Unscaled features as float32 `[batch, dim]` when every feature is one input value
    /// (no differences, no rolling statistics): exact copies of the inputs.
    pub raw_inputs: Option<String>,
    /// `[batch]` bool: the row has a missing or non-finite feature (vigil scores it 0).
    pub invalid: String,
}

/// Rows of input the graph takes: the last row's features reach back `warm_up` rows.
pub fn input_window(features: &FeatureModel) -> usize {
    features.warm_up + 1
}

/// Why a feature transform cannot be exported, or `None`.
pub fn unsupported(features: &FeatureModel) -> Option<String> {
    let p = &features.params;
    if p.time_of_day || p.day_of_week {
        return Some(
            "time-of-day / day-of-week features need the row timestamps, which the exported \
             graph does not take as input"
                .to_string(),
        );
    }
    None
}

/// The feature columns the graph builds, in vigil's layout (for `spec.json`): `c{k}` is input
/// channel k, `[t-j]` the row j before the scored row, `Δ` a first difference.
pub fn feature_layout(features: &FeatureModel) -> Vec<String> {
    let p = &features.params;
    let d = if p.diff { "Δ" } else { "" };
    let mut names = Vec::with_capacity(features.dim());
    for channel in 0..features.channels {
        for j in (0..p.window).rev() {
            names.push(format!("{d}c{channel}[t-{j}]"));
        }
    }
    for &lag in &p.lags {
        for channel in 0..features.channels {
            names.push(format!("{d}c{channel}[t-{lag}]"));
        }
    }
    for &length in &p.rolling {
        for channel in 0..features.channels {
            names.push(format!("mean({d}c{channel}[t-{}..=t])", length - 1));
            names.push(format!("std({d}c{channel}[t-{}..=t])", length - 1));
        }
    }
    names
}

/// Adds the feature transform reading graph input `x` (`[batch, window, channels]`).
pub(crate) fn build(
    g: &mut Graph,
    features: &FeatureModel,
    x: &str,
) -> Result<FeatureNodes, ExportError> {
    if let Some(reason) = unsupported(features) {
        return Err(ExportError::Unsupported {
            family: "features".to_string(),
            reason,
        });
    }
    let p = &features.params;
    let c = features.channels;
    let l = input_window(features);
    let last = l - 1;
    // Flat index of (row, channel) in the reshaped input `[batch, l * c]`.
    let at = |row: usize, channel: usize| (row * c + channel) as i64;
    let shape = g.const_i64("flat_shape", &[2], &[-1, (l * c) as i64]);
    let flat32 = g.op("Reshape", &[x, &shape], vec![]);
    let flat = g.op(
        "Cast",
        &[&flat32],
        vec![("to", Attr::Int(data_type::DOUBLE as i64))],
    );

    // Columns that are one value (or one difference) each: the window, then the lags.
    let mut cur_idx: Vec<i64> = Vec::new();
    for channel in 0..c {
        for j in 0..p.window {
            cur_idx.push(at(last + 1 + j - p.window, channel));
        }
    }
    for &lag in &p.lags {
        for channel in 0..c {
            cur_idx.push(at(last - lag, channel));
        }
    }
    let value_columns = |g: &mut Graph, source: &str, idx: &[i64]| -> String {
        let cur = g.const_i64("idx", &[idx.len()], idx);
        let picked = g.op("Gather", &[source, &cur], vec![("axis", Attr::Int(1))]);
        if p.diff {
            // Each index moved one row back (c flat positions).
            let prev: Vec<i64> = idx.iter().map(|i| i - c as i64).collect();
            let prev = g.const_i64("idx_prev", &[prev.len()], &prev);
            let before = g.op("Gather", &[source, &prev], vec![("axis", Attr::Int(1))]);
            g.op("Sub", &[&picked, &before], vec![])
        } else {
            picked
        }
    };
    let mut parts = vec![value_columns(g, &flat, &cur_idx)];
    let axes1 = g.const_i64("axes1", &[1], &[1]);
    for &length in &p.rolling {
        for channel in 0..c {
            let idx: Vec<i64> = (last + 1 - length..=last).map(|r| at(r, channel)).collect();
            let values = value_columns(g, &flat, &idx);
            let mean = g.op(
                "ReduceMean",
                &[&values],
                vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(1))],
            );
            let centred = g.op("Sub", &[&values, &mean], vec![]);
            let squares = g.op("Mul", &[&centred, &centred], vec![]);
            let ssq = g.op(
                "ReduceSum",
                &[&squares, &axes1],
                vec![("keepdims", Attr::Int(1))],
            );
            let dof = g.const_f64("dof", &[], &[(length - 1) as f64]);
            let var = g.op("Div", &[&ssq, &dof], vec![]);
            let std = g.op("Sqrt", &[&var], vec![]);
            parts.push(mean);
            parts.push(std);
        }
    }
    let features64 = if parts.len() == 1 {
        parts.pop().expect("one part")
    } else {
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        g.op("Concat", &refs, vec![("axis", Attr::Int(1))])
    };
    let d = features.dim();
    let center = g.const_f64("center", &[d], &features.center);
    let scale = g.const_f64("scale", &[d], &features.scale);
    let centred = g.op("Sub", &[&features64, &center], vec![]);
    let scaled = g.op("Div", &[&centred, &scale], vec![]);
    // x − x is 0 for finite x and NaN for NaN or ±∞: the row sum flags any bad feature.
    let zero = g.op("Sub", &[&features64, &features64], vec![]);
    let total = g.op(
        "ReduceSum",
        &[&zero, &axes1],
        vec![("keepdims", Attr::Int(0))],
    );
    let invalid = g.op("IsNaN", &[&total], vec![]);
    let raw_inputs = if !p.diff && p.rolling.is_empty() {
        let cur = g.const_i64("idx_raw", &[cur_idx.len()], &cur_idx);
        Some(g.op("Gather", &[&flat32, &cur], vec![("axis", Attr::Int(1))]))
    } else {
        None
    };
    Ok(FeatureNodes {
        scaled,
        raw_inputs,
        invalid,
    })
}
