//! LSTM autoencoder: an encoder–decoder that learns to reconstruct normal windows; a window it
//! cannot reconstruct is anomalous (Malhotra et al., "LSTM-based Encoder-Decoder for
//! Multi-sensor Anomaly Detection", ICML workshop 2016).
//!
//! - **Input**: sliding windows of `window` rows over all channels, each channel standardised
//!   with the mean and σ of the training data (after an exact power-of-two rescaling, so
//!   1e-300 and 1e300 data train the same network). Missing values enter as 0 (the training
//!   mean) and are left out of the loss and the score.
//! - **Network**: encoder LSTM stack (`hidden`, `layers`) → the last layer's final hidden state
//!   → dense → latent code (`latent`) → the code repeated at each of the `window` steps →
//!   decoder LSTM stack (`hidden`, `layers`) → dense per step → the channels. Weights are kept
//!   in ONNX's LSTM layout (gates i, o, f, c; see [`weights`]) so the ONNX export reads them
//!   as they are.
//! - **Score at row t** ([`ErrorOver`]): by default the squared reconstruction error of row t
//!   itself, as the **last step** of the window ending at t, per channel, in σ units of the
//!   training data. Causal (rows ≤ t only). The last step is the default because it places a
//!   score on the row that caused it (a spike raises the score at its row, not over the next
//!   `window` rows, which keeps event precision and alert end times honest) and because it is
//!   what a runtime service sees when the newest row arrives. [`ErrorOver::Window`] (the mean
//!   over the window) is smoother and is in the search space. Channels combine by
//!   [`Combine::Mean`] by default: the mean over channels is the window's reconstruction MSE.
//!   The first `window − 1` rows are warm-up (score 0); a missing value scores 0.
//! - **Training**: Adam (burn's, ε = 1e-5, gradients clipped to norm 1 per tensor) on masked
//!   MSE over mini-batches of `batch_size` windows, shuffled each epoch by a seeded ChaCha8
//!   stream. The last `validation_fraction` of the windows (by time, with a gap of `window − 1`
//!   windows so that no row is shared) is held out; training stops when the validation loss
//!   has not improved for `patience` epochs and keeps the best epoch's weights. The history
//!   (train and validation loss per epoch) is stored in the fitted model.
//! - **Determinism**: weights are initialised from the seed by this module (uniform ±1/√fan-in,
//!   PyTorch's default; burn's own RNG is global state and is not used), batches are drawn
//!   from the seed, and burn's pure-Rust CPU backend (`Flex`, single-threaded matrix products
//!   here) computes in a fixed order: same seed → bit-identical weights and scores on any
//!   number of threads. Scoring runs on the CPU in batches of a fixed size, so the score of a
//!   window does not depend on what else is scored with it (the prefix rule holds bit for bit).
//! - **Backends**: the CPU by default; with the `cuda` cargo feature, [`TrainingBackend::Cuda`]
//!   trains on an NVIDIA GPU (not bit-identical to the CPU; scoring stays on the CPU).
//! - **Cost**: O(rows × window × layers × hidden × (hidden + channels)) per epoch;
//!   memory O(batch_size × window × hidden × layers) for the autodiff graph.

mod fit;
mod network;
pub mod weights;

use serde::{Deserialize, Serialize};
use vigil_datasets::Series;

use crate::error::{Result, TrainError};
use crate::scores::{Combine, Scores};
use crate::space::{Dim, Space};

pub use weights::{AutoencoderWeights, DenseWeights, F32s, LstmLayerWeights, OnnxLstmTensors};

const FAMILY: &str = "lstm_autoencoder";

/// Which rows of the window the score of its last row measures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorOver {
    /// The squared error of the window's last step (row t itself).
    #[default]
    LastStep,
    /// The mean squared error over the whole window ending at t.
    Window,
}

/// Where training runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingBackend {
    /// burn's pure-Rust CPU backend (deterministic; what CI uses).
    #[default]
    Cpu,
    /// burn's CUDA backend (needs the `cuda` cargo feature and an NVIDIA driver at run time).
    Cuda,
}

/// Unchecked parameters of the LSTM autoencoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LstmAutoencoderParams {
    /// Rows per window (W).
    pub window: usize,
    /// LSTM hidden size, encoder and decoder.
    pub hidden: usize,
    /// LSTM layers in the encoder and in the decoder.
    pub layers: usize,
    /// Size of the latent code between encoder and decoder.
    pub latent: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Most epochs to train.
    pub epochs: usize,
    /// Windows per mini-batch.
    pub batch_size: usize,
    /// Epochs without a better validation loss before training stops.
    pub patience: usize,
    /// Share of the training windows (the last ones, by time) held out for early stopping; 0
    /// trains for every epoch without validation.
    pub validation_fraction: f64,
    /// Seed of the initial weights and the batch order.
    pub seed: u64,
    /// Which error the score is.
    pub score_on: ErrorOver,
    /// How channel errors combine (mean = the reconstruction MSE).
    pub combine: Combine,
    /// Show a progress bar with the loss on stderr (hidden when stderr is not a terminal).
    pub progress: bool,
    /// Where training runs.
    pub backend: TrainingBackend,
}

impl Default for LstmAutoencoderParams {
    fn default() -> Self {
        Self {
            window: 32,
            hidden: 32,
            layers: 1,
            latent: 16,
            learning_rate: 1e-3,
            epochs: 20,
            batch_size: 64,
            patience: 3,
            validation_fraction: 0.2,
            seed: 0,
            score_on: ErrorOver::LastStep,
            combine: Combine::Mean,
            progress: true,
            backend: TrainingBackend::Cpu,
        }
    }
}

impl LstmAutoencoderParams {
    /// Sets the window length.
    pub fn with_window(mut self, window: usize) -> Self {
        self.window = window;
        self
    }
    /// Sets the hidden size.
    pub fn with_hidden(mut self, hidden: usize) -> Self {
        self.hidden = hidden;
        self
    }
    /// Sets the number of LSTM layers (encoder and decoder each).
    pub fn with_layers(mut self, layers: usize) -> Self {
        self.layers = layers;
        self
    }
    /// Sets the latent size.
    pub fn with_latent(mut self, latent: usize) -> Self {
        self.latent = latent;
        self
    }
    /// Sets the learning rate.
    pub fn with_learning_rate(mut self, learning_rate: f64) -> Self {
        self.learning_rate = learning_rate;
        self
    }
    /// Sets the most epochs.
    pub fn with_epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }
    /// Sets the mini-batch size.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }
    /// Sets the early-stopping patience.
    pub fn with_patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }
    /// Sets the validation share.
    pub fn with_validation_fraction(mut self, validation_fraction: f64) -> Self {
        self.validation_fraction = validation_fraction;
        self
    }
    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets which error the score is.
    pub fn with_score_on(mut self, score_on: ErrorOver) -> Self {
        self.score_on = score_on;
        self
    }
    /// Sets the channel combination.
    pub fn with_combine(mut self, combine: Combine) -> Self {
        self.combine = combine;
        self
    }
    /// Shows or hides the progress bar.
    pub fn with_progress(mut self, progress: bool) -> Self {
        self.progress = progress;
        self
    }
    /// Sets where training runs.
    pub fn with_backend(mut self, backend: TrainingBackend) -> Self {
        self.backend = backend;
        self
    }

    /// The search space: window, sizes and depth on integer steps, the learning rate in log
    /// space, training length and batching, and the seed (restarts).
    pub fn space() -> Space {
        vec![
            Dim::int("window", 8, 128, 8),
            Dim::int("hidden", 8, 128, 8),
            Dim::int("layers", 1, 3, 1),
            Dim::int("latent", 2, 64, 2),
            Dim::log("learning_rate", 1e-4, 1e-2),
            Dim::int("epochs", 5, 100, 5),
            Dim::int("batch_size", 16, 256, 16),
            Dim::int("patience", 1, 10, 1),
            Dim::float("validation_fraction", 0.1, 0.3),
            Dim::int("seed", 0, 9, 1),
            Dim::choice("score_on", &["last_step", "window"]),
        ]
    }

    /// Checks every rule; a checked value cannot be wrong.
    pub fn check(&self) -> Result<LstmAutoencoderValid> {
        let positive = |name: &str, value: usize, hint: &str| {
            if value == 0 {
                Err(TrainError::param(
                    format!("{FAMILY}.{name}"),
                    "0 is not allowed",
                    hint.to_string(),
                ))
            } else {
                Ok(())
            }
        };
        if self.window < 2 {
            return Err(TrainError::param(
                format!("{FAMILY}.window"),
                format!("{} is below 2", self.window),
                "a sequence model needs windows of 2 rows or more (e.g. one season, 16-128)",
            ));
        }
        positive("hidden", self.hidden, "use a hidden size such as 32")?;
        positive("layers", self.layers, "use 1 to 3 LSTM layers")?;
        positive("latent", self.latent, "use a latent size such as 16")?;
        positive("epochs", self.epochs, "train for at least one epoch")?;
        positive("batch_size", self.batch_size, "use a batch size such as 64")?;
        positive(
            "patience",
            self.patience,
            "stop after e.g. 3 epochs without progress",
        )?;
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(TrainError::param(
                format!("{FAMILY}.learning_rate"),
                format!("{} is not a positive number", self.learning_rate),
                "use a learning rate such as 1e-3",
            ));
        }
        if !(0.0..=0.5).contains(&self.validation_fraction) {
            return Err(TrainError::param(
                format!("{FAMILY}.validation_fraction"),
                format!("{} is not within 0..=0.5", self.validation_fraction),
                "hold out e.g. 0.2 of the training windows, or 0 to train without early stopping",
            ));
        }
        if self.backend == TrainingBackend::Cuda && !cfg!(feature = "cuda") {
            return Err(TrainError::param(
                format!("{FAMILY}.backend"),
                "this build has no CUDA backend",
                "build with `--features vigil-train/cuda`, or use backend = \"cpu\"",
            ));
        }
        Ok(LstmAutoencoderValid {
            params: self.clone(),
        })
    }
}

/// Checked parameters of the LSTM autoencoder.
#[derive(Debug, Clone, PartialEq)]
pub struct LstmAutoencoderValid {
    params: LstmAutoencoderParams,
}

impl LstmAutoencoderValid {
    /// The checked parameters.
    pub fn params(&self) -> &LstmAutoencoderParams {
        &self.params
    }

    /// Standardises `train`, trains the autoencoder with early stopping and returns the fitted
    /// model with its training history.
    pub fn fit(&self, train: &Series) -> Result<LstmAutoencoderModel> {
        fit::fit(&self.params, train)
    }
}

/// A channel's standardisation, fitted on training data: `((x / scale) − mean) / std`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelScaler {
    /// Exact power-of-two prescale.
    pub scale: f64,
    /// Mean of the prescaled training values.
    pub mean: f64,
    /// Standard deviation (population) of the prescaled training values, floored at 1e-9.
    pub std: f64,
}

impl ChannelScaler {
    /// The standardised value.
    pub fn apply(&self, x: f64) -> f64 {
        (x / self.scale - self.mean) / self.std
    }
    /// Back to the data's units.
    pub fn invert(&self, z: f64) -> f64 {
        (z * self.std + self.mean) * self.scale
    }
}

/// One epoch of training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLoss {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean masked MSE over the training windows during the epoch (σ² units).
    pub train_loss: f64,
    /// Masked MSE over the validation windows after the epoch; `None` without validation.
    pub validation_loss: Option<f64>,
}

/// How training went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingHistory {
    /// Loss per epoch, in order.
    pub epochs: Vec<EpochLoss>,
    /// The epoch whose weights were kept (the best validation loss, or the last epoch).
    pub best_epoch: usize,
    /// True when early stopping ended training before `epochs`.
    pub stopped_early: bool,
    /// Windows trained on.
    pub train_windows: usize,
    /// Windows held out for validation.
    pub validation_windows: usize,
}

/// A fitted LSTM autoencoder: its configuration, scalers, weights and training history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LstmAutoencoderModel {
    /// The parameters it was fitted with.
    pub params: LstmAutoencoderParams,
    /// Per-channel standardisation fitted on the training data.
    pub scalers: Vec<ChannelScaler>,
    /// The network's weights (ONNX LSTM layout).
    pub weights: AutoencoderWeights,
    /// Loss per epoch and where training stopped.
    pub history: TrainingHistory,
}

impl LstmAutoencoderModel {
    /// Scores every row of `series` causally: row t by the reconstruction error of the window
    /// ending at t (see the module doc); the first `window − 1` rows are warm-up.
    pub fn score(&self, series: &Series) -> Result<Scores> {
        fit::score(self, series)
    }

    /// The window length (the warm-up is one row shorter).
    pub fn window(&self) -> usize {
        self.params.window
    }

    /// Each LSTM layer's `W`, `R`, `B` in ONNX's layout and shapes: encoder layers first, then
    /// decoder layers (for the ONNX export).
    pub fn onnx_lstm_layers(&self) -> Vec<OnnxLstmTensors> {
        self.weights
            .encoder
            .iter()
            .chain(&self.weights.decoder)
            .map(LstmLayerWeights::onnx_tensors)
            .collect()
    }
}

#[cfg(test)]
mod tests;
