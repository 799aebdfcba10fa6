//! The autoencoder's weights as plain data: what a fitted model stores and what the ONNX
//! export reads. No burn type appears here, so the saved form does not change with burn's
//! record format; [`super::network`] builds a burn module from it and reads one back.
//!
//! LSTM layers are stored in ONNX's layout from the start (operator `LSTM`, opset 7+, one
//! direction, gate order **i, o, f, c**):
//!
//! - `w`: `[4·hidden, input]` row-major: the input weights of the gates i, o, f, c stacked;
//! - `r`: `[4·hidden, hidden]`: the recurrent weights, same order;
//! - `b`: `[8·hidden]`: the input biases `Wb` (i, o, f, c) followed by the recurrent biases
//!   `Rb` (i, o, f, c).
//!
//! so that `i = σ(x·Wiᵀ + h·Riᵀ + Wbi + Rbi)`, `o`, `f` alike, `c̃ = tanh(…)`,
//! `c' = f ⊙ c + i ⊙ c̃`, `h' = o ⊙ tanh(c')`. ONNX adds a leading `num_directions = 1`
//! axis to each tensor; [`LstmLayerWeights`] leaves it out.

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A vector of `f32` stored as base64 of its little-endian bytes (exact, and about half the
/// size of decimal JSON).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct F32s(pub Vec<f32>);

impl Serialize for F32s {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = self.0.iter().flat_map(|v| v.to_le_bytes()).collect();
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }
}

impl<'de> Deserialize<'de> for F32s {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("weights are not base64: {e}")))?;
        if bytes.len() % 4 != 0 {
            return Err(serde::de::Error::custom(format!(
                "weights hold {} bytes, not a whole number of f32 values",
                bytes.len()
            )));
        }
        Ok(F32s(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ))
    }
}

/// One LSTM layer in ONNX's layout (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LstmLayerWeights {
    /// Features per step entering the layer.
    pub input_size: usize,
    /// Hidden (and cell) state size.
    pub hidden_size: usize,
    /// `W`: `[4·hidden, input]`, gates i, o, f, c.
    pub w: F32s,
    /// `R`: `[4·hidden, hidden]`, gates i, o, f, c.
    pub r: F32s,
    /// `B`: `[8·hidden]`, `Wb` then `Rb`, gates i, o, f, c in each.
    pub b: F32s,
}

/// A dense layer `y = x·W + b` with `W` stored `[inputs, outputs]` row-major (ONNX `Gemm`
/// with `transB = 0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenseWeights {
    /// Input features.
    pub inputs: usize,
    /// Output features.
    pub outputs: usize,
    /// `[inputs, outputs]` row-major.
    pub weight: F32s,
    /// `[outputs]`.
    pub bias: F32s,
}

/// Every weight of the autoencoder: encoder LSTM stack → latent (dense, from the last
/// encoder layer's final hidden state) → the latent repeated over the window → decoder LSTM
/// stack → per-step output (dense, to the channels).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoencoderWeights {
    /// Encoder layers, first to last.
    pub encoder: Vec<LstmLayerWeights>,
    /// Last encoder hidden state → latent code.
    pub to_latent: DenseWeights,
    /// Decoder layers, first to last (the first reads the latent code at every step).
    pub decoder: Vec<LstmLayerWeights>,
    /// Decoder hidden state → reconstructed channels, at every step.
    pub output: DenseWeights,
}

/// ONNX's gate order: input, output, forget, cell.
pub const ONNX_GATES: [&str; 4] = ["i", "o", "f", "c"];

impl LstmLayerWeights {
    /// `W`'s rows for gate `g` (0..4 in ONNX order i, o, f, c): `[hidden, input]`.
    pub fn w_gate(&self, g: usize) -> &[f32] {
        let size = self.hidden_size * self.input_size;
        &self.w.0[g * size..(g + 1) * size]
    }

    /// `R`'s rows for gate `g`: `[hidden, hidden]`.
    pub fn r_gate(&self, g: usize) -> &[f32] {
        let size = self.hidden_size * self.hidden_size;
        &self.r.0[g * size..(g + 1) * size]
    }

    /// `Wb` for gate `g`: `[hidden]`.
    pub fn wb_gate(&self, g: usize) -> &[f32] {
        let h = self.hidden_size;
        &self.b.0[g * h..(g + 1) * h]
    }

    /// `Rb` for gate `g`: `[hidden]`.
    pub fn rb_gate(&self, g: usize) -> &[f32] {
        let h = self.hidden_size;
        &self.b.0[(4 + g) * h..(5 + g) * h]
    }

    /// One LSTM step in plain Rust from the ONNX-ordered weights (f64 arithmetic): the
    /// reference the export and the burn network are checked against. `x` has `input_size`
    /// values, `h` and `c` `hidden_size`; returns the new `(h, c)`.
    pub fn step(&self, x: &[f32], h: &[f32], c: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let (d, hs) = (self.input_size, self.hidden_size);
        let gate = |g: usize, j: usize| -> f64 {
            let w = &self.w_gate(g)[j * d..(j + 1) * d];
            let r = &self.r_gate(g)[j * hs..(j + 1) * hs];
            let mut sum = f64::from(self.wb_gate(g)[j]) + f64::from(self.rb_gate(g)[j]);
            sum += w
                .iter()
                .zip(x)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum::<f64>();
            sum += r
                .iter()
                .zip(h)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum::<f64>();
            sum
        };
        let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
        let mut h_next = vec![0.0; hs];
        let mut c_next = vec![0.0; hs];
        for j in 0..hs {
            let i = sigmoid(gate(0, j));
            let o = sigmoid(gate(1, j));
            let f = sigmoid(gate(2, j));
            let candidate = gate(3, j).tanh();
            let cell = f * f64::from(c[j]) + i * candidate;
            c_next[j] = cell as f32;
            h_next[j] = (o * cell.tanh()) as f32;
        }
        (h_next, c_next)
    }
}

impl DenseWeights {
    /// `y = x·W + b` in plain Rust (f64 arithmetic).
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        (0..self.outputs)
            .map(|o| {
                let mut sum = f64::from(self.bias.0[o]);
                for (i, xi) in x.iter().enumerate() {
                    sum += f64::from(*xi) * f64::from(self.weight.0[i * self.outputs + o]);
                }
                sum as f32
            })
            .collect()
    }
}

/// One LSTM layer's tensors as the ONNX `LSTM` operator takes them, with their ONNX shapes
/// (`num_directions = 1` included).
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxLstmTensors {
    /// `W`: shape `[1, 4·hidden, input]`, gates i, o, f, c.
    pub w: (Vec<usize>, Vec<f32>),
    /// `R`: shape `[1, 4·hidden, hidden]`.
    pub r: (Vec<usize>, Vec<f32>),
    /// `B`: shape `[1, 8·hidden]` (`Wb` then `Rb`).
    pub b: (Vec<usize>, Vec<f32>),
    /// The operator's `hidden_size` attribute.
    pub hidden_size: usize,
}

impl LstmLayerWeights {
    /// This layer's `W`, `R`, `B` initialisers for an ONNX `LSTM` node.
    pub fn onnx_tensors(&self) -> OnnxLstmTensors {
        let h = self.hidden_size;
        OnnxLstmTensors {
            w: (vec![1, 4 * h, self.input_size], self.w.0.clone()),
            r: (vec![1, 4 * h, h], self.r.0.clone()),
            b: (vec![1, 8 * h], self.b.0.clone()),
            hidden_size: h,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32s_round_trip_bit_for_bit() {
        let values = F32s(vec![0.0, -0.0, 1.5e-42, f32::MAX, -3.25, 0.1]);
        let json = serde_json::to_string(&values).expect("serialise");
        let back: F32s = serde_json::from_str(&json).expect("deserialise");
        let bits = |v: &F32s| v.0.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&values), bits(&back));
        let err = serde_json::from_str::<F32s>("\"AAA=\"").expect_err("3 bytes");
        assert!(err.to_string().contains("whole number"), "{err}");
    }
}
