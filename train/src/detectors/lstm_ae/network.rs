//! The burn side: the autoencoder as a burn module, built from [`AutoencoderWeights`] and read
//! back into them. Nothing here is public outside the LSTM module.
//!
//! burn's `Lstm` keeps one `GateController` per gate (input, forget, output, cell), each with
//! an input and a hidden `Linear` stored `[in, out]` (`y = x·W + b`). ONNX stacks the gates
//! i, o, f, c with each gate's weights `[out, in]`; the conversion below transposes and
//! reorders, and both biases are kept (ONNX's `Wb` and `Rb`).

use burn::module::{Initializer, Module, Param};
use burn::nn::{Linear, Lstm, LstmConfig};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use super::weights::{AutoencoderWeights, DenseWeights, F32s, LstmLayerWeights};

/// Encoder LSTM stack → latent → repeated latent → decoder LSTM stack → per-step output.
#[derive(Module, Debug)]
pub(super) struct Autoencoder<B: Backend> {
    encoder: Vec<Lstm<B>>,
    to_latent: Linear<B>,
    decoder: Vec<Lstm<B>>,
    output: Linear<B>,
}

impl<B: Backend> Autoencoder<B> {
    /// Reconstructs `x` (`[batch, window, channels]`).
    pub(super) fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let [_, window, _] = x.dims();
        let mut sequence = x;
        let mut last_hidden = None;
        for layer in &self.encoder {
            let (out, state) = layer.forward(sequence, None);
            sequence = out;
            last_hidden = Some(state.hidden);
        }
        let last_hidden = last_hidden.expect("check() requires at least one layer");
        let latent = self.to_latent.forward(last_hidden);
        let mut sequence: Tensor<B, 3> = latent.unsqueeze_dim::<3>(1).repeat_dim(1, window);
        for layer in &self.decoder {
            sequence = layer.forward(sequence, None).0;
        }
        self.output.forward(sequence)
    }

    /// Builds the module from plain weights on `device`.
    pub(super) fn from_weights(weights: &AutoencoderWeights, device: &B::Device) -> Self {
        Autoencoder {
            encoder: weights
                .encoder
                .iter()
                .map(|l| lstm_from(l, device))
                .collect(),
            to_latent: linear_from(&weights.to_latent, device),
            decoder: weights
                .decoder
                .iter()
                .map(|l| lstm_from(l, device))
                .collect(),
            output: linear_from(&weights.output, device),
        }
    }

    /// Reads the module's weights back into plain data.
    pub(super) fn to_weights(&self) -> AutoencoderWeights {
        AutoencoderWeights {
            encoder: self.encoder.iter().map(lstm_to).collect(),
            to_latent: linear_to(&self.to_latent),
            decoder: self.decoder.iter().map(lstm_to).collect(),
            output: linear_to(&self.output),
        }
    }
}

fn tensor_values<const D: usize, B: Backend>(tensor: Tensor<B, D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .into_vec::<f32>()
        .expect("a float tensor converted to f32 reads back as f32")
}

fn linear_from<B: Backend>(dense: &DenseWeights, device: &B::Device) -> Linear<B> {
    let weight = Tensor::<B, 2>::from_data(
        TensorData::new(dense.weight.0.clone(), [dense.inputs, dense.outputs]),
        device,
    );
    let bias = Tensor::<B, 1>::from_data(
        TensorData::new(dense.bias.0.clone(), [dense.outputs]),
        device,
    );
    Linear {
        weight: Param::from_tensor(weight),
        bias: Some(Param::from_tensor(bias)),
    }
}

fn linear_to<B: Backend>(linear: &Linear<B>) -> DenseWeights {
    let [inputs, outputs] = linear.weight.dims();
    DenseWeights {
        inputs,
        outputs,
        weight: F32s(tensor_values(linear.weight.val())),
        bias: F32s(
            linear
                .bias
                .as_ref()
                .map(|b| tensor_values(b.val()))
                .unwrap_or_else(|| vec![0.0; outputs]),
        ),
    }
}

/// `[rows, cols]` row-major → `[cols, rows]` row-major.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// burn's gate controllers in ONNX order (i, o, f, c).
fn gates_onnx_order<B: Backend>(lstm: &Lstm<B>) -> [&burn::nn::GateController<B>; 4] {
    [
        &lstm.input_gate,
        &lstm.output_gate,
        &lstm.forget_gate,
        &lstm.cell_gate,
    ]
}

fn lstm_from<B: Backend>(layer: &LstmLayerWeights, device: &B::Device) -> Lstm<B> {
    let (d, h) = (layer.input_size, layer.hidden_size);
    // Zeros: no random initialisation (burn's RNG is global state); every value is replaced.
    let mut lstm = LstmConfig::new(d, h, true)
        .with_initializer(Initializer::Zeros)
        .init::<B>(device);
    let dense = |w: &[f32], inputs: usize, b: &[f32]| DenseWeights {
        inputs,
        outputs: h,
        // ONNX [out, in] → burn [in, out].
        weight: F32s(transpose(w, h, inputs)),
        bias: F32s(b.to_vec()),
    };
    let mut gates = [
        &mut lstm.input_gate,
        &mut lstm.output_gate,
        &mut lstm.forget_gate,
        &mut lstm.cell_gate,
    ];
    for (g, gate) in gates.iter_mut().enumerate() {
        gate.input_transform = linear_from(&dense(layer.w_gate(g), d, layer.wb_gate(g)), device);
        gate.hidden_transform = linear_from(&dense(layer.r_gate(g), h, layer.rb_gate(g)), device);
    }
    lstm
}

fn lstm_to<B: Backend>(lstm: &Lstm<B>) -> LstmLayerWeights {
    let h = lstm.d_hidden;
    let gates = gates_onnx_order(lstm);
    let d = gates[0].input_transform.weight.dims()[0];
    let (mut w, mut r, mut wb, mut rb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for gate in gates {
        let input = linear_to(&gate.input_transform);
        let hidden = linear_to(&gate.hidden_transform);
        w.extend(transpose(&input.weight.0, d, h));
        r.extend(transpose(&hidden.weight.0, h, h));
        wb.extend(input.bias.0);
        rb.extend(hidden.bias.0);
    }
    wb.extend(rb);
    LstmLayerWeights {
        input_size: d,
        hidden_size: h,
        w: F32s(w),
        r: F32s(r),
        b: F32s(wb),
    }
}
