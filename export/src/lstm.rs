//! The LSTM autoencoder with ONNX's `LSTM` operator (sequence-first `layout = 0`: ONNX Runtime's
//! CPU kernel refuses the batch-first layout, so the graph transposes around the stacks).
//!
//! The graph does what vigil's scoring does for the window ending at the scored row:
//! standardise each channel in float64 (`(x / scale − mean) / σ`), feed the float32 values
//! (missing ones as 0, the training mean) through the encoder LSTM stack, the dense layer from
//! the last encoder layer's final hidden state to the latent code, the code repeated over the
//! window, the decoder stack and the per-step dense output, then score in float64: the squared
//! error of the last step (or the mean over the window's observed steps), per channel, missing
//! values scoring 0, channels combined by mean or max. The weights are vigil's own, already in
//! ONNX's gate order (i, o, f, c), so they are copied as they are.
//!
//! The network runs in float32 on both sides with differently ordered sums (burn's `Flex`
//! kernels, ONNX Runtime's MLAS): reconstructions differ in the last float32 bits, and the
//! score `(r − x)²` by about `2·|r − x|·δr`, which grows with the score. The tolerance is
//! `1e-5 + 1e-6 × |score|` (measured: 4.3e-7 at scores up to 12).

use vigil_train::detectors::lstm_ae::{DenseWeights, ErrorOver, LstmAutoencoderModel};

use crate::graph::{Attr, Dim, Graph};
use crate::iforest::finish;
use crate::proto::data_type;
use crate::stats::combine_channels;
use crate::{ExportError, ExportOptions, OnnxModel};
use crate::{RELATIVE_TOLERANCE, SCORE_TOLERANCE};

// Absolute part of the tolerance.
// (the shared `crate::SCORE_TOLERANCE` = 1e-5)
// Relative part: float32 reconstructions from differently ordered sums.
// (the shared `crate::RELATIVE_TOLERANCE` = 1e-6)

fn dense(g: &mut Graph, x: &str, d: &DenseWeights) -> String {
    let w = g.const_f32("dense_w", &[d.inputs, d.outputs], &d.weight.0);
    let b = g.const_f32("dense_b", &[d.outputs], &d.bias.0);
    let y = g.op("MatMul", &[x, &w], vec![]);
    g.op("Add", &[&y, &b], vec![])
}

/// One LSTM layer over `[window, batch, input]` float32 (sequence first): the output sequence
/// `[window, batch, hidden]` and the final hidden state `[batch, hidden]`.
fn lstm_layer(
    g: &mut Graph,
    x: &str,
    layer: &vigil_train::detectors::lstm_ae::LstmLayerWeights,
) -> (String, String) {
    let t = layer.onnx_tensors();
    let w = g.const_f32("lstm_w", &t.w.0, &t.w.1);
    let r = g.const_f32("lstm_r", &t.r.0, &t.r.1);
    let b = g.const_f32("lstm_b", &t.b.0, &t.b.1);
    let mut outs = g.op_n(
        "LSTM",
        &[x, &w, &r, &b],
        vec![("hidden_size", Attr::Int(t.hidden_size as i64))],
        2,
    );
    let y_h = outs.pop().expect("Y_h");
    let y = outs.pop().expect("Y");
    // Y is [seq, 1, batch, hidden], Y_h [1, batch, hidden].
    let axis1 = g.const_i64("axis1", &[1], &[1]);
    let axis0 = g.const_i64("axis0", &[1], &[0]);
    let seq = g.op("Squeeze", &[&y, &axis1], vec![]);
    let last = g.op("Squeeze", &[&y_h, &axis0], vec![]);
    (seq, last)
}

pub(crate) fn export(
    model: &LstmAutoencoderModel,
    options: &ExportOptions,
) -> Result<OnnxModel, ExportError> {
    let window = model.params.window;
    let c = model.scalers.len();
    let weights = &model.weights;
    if weights.encoder.is_empty() || weights.decoder.is_empty() {
        return Err(ExportError::Param {
            name: "lstm_autoencoder.layers",
            reason: "no encoder or decoder layer".to_string(),
            hint: "refit with layers >= 1",
        });
    }
    let mut g = Graph::new();
    g.input_f32(
        "x",
        &[Dim::Named("batch"), Dim::Fixed(window), Dim::Fixed(c)],
        "the window ending at the scored row, oldest first",
    );
    let x = g.op(
        "Cast",
        &["x"],
        vec![("to", Attr::Int(i64::from(data_type::DOUBLE)))],
    );
    let scale: Vec<f64> = model.scalers.iter().map(|s| s.scale).collect();
    let mean: Vec<f64> = model.scalers.iter().map(|s| s.mean).collect();
    let std: Vec<f64> = model.scalers.iter().map(|s| s.std).collect();
    let scale = g.const_f64("scale", &[1, 1, c], &scale);
    let mean = g.const_f64("mean", &[1, 1, c], &mean);
    let std = g.const_f64("std", &[1, 1, c], &std);
    let a = g.op("Div", &[&x, &scale], vec![]);
    let b = g.op("Sub", &[&a, &mean], vec![]);
    let exact = g.op("Div", &[&b, &std], vec![]);
    let self_diff = g.op("Sub", &[&exact, &exact], vec![]);
    let missing = g.op("IsNaN", &[&self_diff], vec![]);
    let zero = g.const_f64("zero", &[], &[0.0]);
    let filled = g.op("Where", &[&missing, &zero, &exact], vec![]);
    let input = g.op(
        "Cast",
        &[&filled],
        vec![("to", Attr::Int(i64::from(data_type::FLOAT)))],
    );
    let swap = vec![("perm", Attr::Ints(vec![1, 0, 2]))];
    let mut sequence = g.op("Transpose", &[&input], swap.clone());
    let mut last = String::new();
    for layer in &weights.encoder {
        let (seq, h) = lstm_layer(&mut g, &sequence, layer);
        sequence = seq;
        last = h;
    }
    let latent = dense(&mut g, &last, &weights.to_latent);
    let axis0 = g.const_i64("axis0", &[1], &[0]);
    let latent = g.op("Unsqueeze", &[&latent, &axis0], vec![]);
    let repeat = g.const_i64("repeat", &[3], &[window as i64, 1, 1]);
    let mut sequence = g.op("Expand", &[&latent, &repeat], vec![]);
    for layer in &weights.decoder {
        sequence = lstm_layer(&mut g, &sequence, layer).0;
    }
    let sequence = g.op("Transpose", &[&sequence], swap);
    let recon = dense(&mut g, &sequence, &weights.output);
    let axis1 = g.const_i64("axis1", &[1], &[1]);
    let recon = g.op(
        "Cast",
        &[&recon],
        vec![("to", Attr::Int(i64::from(data_type::DOUBLE)))],
    );
    let diff = g.op("Sub", &[&recon, &exact], vec![]);
    let sq = g.op("Mul", &[&diff, &diff], vec![]);
    let z = match model.params.score_on {
        ErrorOver::LastStep => {
            let start = g.const_i64("last_start", &[1], &[window as i64 - 1]);
            let end = g.const_i64("last_end", &[1], &[window as i64]);
            let last = g.op("Slice", &[&sq, &start, &end, &axis1], vec![]);
            g.op("Squeeze", &[&last, &axis1], vec![])
        }
        ErrorOver::Window => {
            let one = g.const_f64("one", &[], &[1.0]);
            let observed = g.op("Where", &[&missing, &zero, &sq], vec![]);
            let present = g.op("Where", &[&missing, &zero, &one], vec![]);
            let sum = g.op(
                "ReduceSum",
                &[&observed, &axis1],
                vec![("keepdims", Attr::Int(0))],
            );
            let n = g.op(
                "ReduceSum",
                &[&present, &axis1],
                vec![("keepdims", Attr::Int(0))],
            );
            g.op("Div", &[&sum, &n], vec![])
        }
    };
    // A missing scored value scores 0 (vigil skips it), and so does any non-finite error.
    let start = g.const_i64("last_start", &[1], &[window as i64 - 1]);
    let end = g.const_i64("last_end", &[1], &[window as i64]);
    let last_missing = g.op("Slice", &[&missing, &start, &end, &axis1], vec![]);
    let last_missing = g.op("Squeeze", &[&last_missing, &axis1], vec![]);
    let z_self = g.op("Sub", &[&z, &z], vec![]);
    let z_bad = g.op("IsNaN", &[&z_self], vec![]);
    let off = g.op("Or", &[&last_missing, &z_bad], vec![]);
    let z = g.op("Where", &[&off, &zero, &z], vec![]);
    let score = combine_channels(&mut g, &z, model.params.combine, c, &axis1);
    let never = g.op("IsNaN", &[&zero], vec![]);
    let mut out = finish(g, score, &never, options, "lstm_autoencoder", window, c, c)?;
    out.score_tolerance = SCORE_TOLERANCE;
    out.relative_tolerance = RELATIVE_TOLERANCE;
    Ok(out)
}
