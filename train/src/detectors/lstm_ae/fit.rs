//! Standardising, windowing, training and scoring. burn types stay in this file and in
//! `network.rs`.

use burn::backend::flex::FlexDevice;
use burn::backend::{Autodiff, Flex};
use burn::module::AutodiffModule;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_datasets::Series;

use super::network::Autoencoder;
use super::weights::{AutoencoderWeights, DenseWeights, F32s, LstmLayerWeights};
use super::{
    ChannelScaler, EpochLoss, ErrorOver, FAMILY, LstmAutoencoderModel, LstmAutoencoderParams,
    TrainingBackend, TrainingHistory,
};
use crate::channels::{SPREAD_FLOOR, power_of_two_scale};
use crate::error::{Result, TrainError};
use crate::scores::{ChannelScores, Scores};
use crate::space::trial_seed;

/// Windows per scoring batch. Fixed (the last batch is padded), so a window's reconstruction
/// never depends on what else is scored with it.
const SCORE_BATCH: usize = 256;

/// A standardised series: row-major `[rows, channels]` values (missing → 0) and a 0/1 mask of
/// observed values.
struct Standardised {
    rows: usize,
    channels: usize,
    /// The standardised values in f64 (NaN where missing), for the error.
    exact: Vec<f64>,
    /// The network's input: f32, 0 where missing.
    input: Vec<f32>,
    /// 1 where observed, 0 where missing.
    mask: Vec<f32>,
}

fn standardise(series: &Series, scalers: &[ChannelScaler]) -> Standardised {
    let (rows, channels) = (series.len(), series.channels());
    let mut exact = Vec::with_capacity(rows * channels);
    for row in series.values.rows() {
        for (value, scaler) in row.iter().zip(scalers) {
            exact.push(if value.is_finite() {
                scaler.apply(*value)
            } else {
                f64::NAN
            });
        }
    }
    let input = exact
        .iter()
        .map(|v| if v.is_finite() { *v as f32 } else { 0.0 })
        .collect();
    let mask = exact
        .iter()
        .map(|v| if v.is_finite() { 1.0 } else { 0.0 })
        .collect();
    Standardised {
        rows,
        channels,
        exact,
        input,
        mask,
    }
}

fn fit_scalers(train: &Series) -> Result<Vec<ChannelScaler>> {
    (0..train.channels())
        .map(|channel| {
            let raw: Vec<f64> = train.values.column(channel).to_vec();
            let scale = power_of_two_scale(&raw);
            let finite: Vec<f64> = raw
                .iter()
                .filter(|v| v.is_finite())
                .map(|v| v / scale)
                .collect();
            if finite.is_empty() {
                return Err(TrainError::NotEnoughData {
                    family: FAMILY,
                    channel,
                    needed: 1,
                    got: 0,
                });
            }
            let n = finite.len() as f64;
            let mean = finite.iter().sum::<f64>() / n;
            let var = finite.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
            Ok(ChannelScaler {
                scale,
                mean,
                std: var.sqrt().max(SPREAD_FLOOR),
            })
        })
        .collect()
}

/// How the training windows split: the first `train` window starts train, the last
/// `validation` ones validate, with `window − 1` windows left out between them.
pub(super) fn split_windows(rows: usize, window: usize, fraction: f64) -> Option<(usize, usize)> {
    let total = (rows + 1).checked_sub(window)?;
    let validation = if fraction > 0.0 {
        ((fraction * total as f64).ceil() as usize).max(1)
    } else {
        0
    };
    let gap = if validation > 0 { window - 1 } else { 0 };
    let train = total.checked_sub(validation + gap)?;
    (train > 0).then_some((train, validation))
}

/// The fewest rows that give at least one training (and, if asked, one validation) window.
fn rows_needed(window: usize, fraction: f64) -> usize {
    (window..)
        .find(|rows| split_windows(*rows, window, fraction).is_some())
        .expect("enough rows exist for any window")
}

/// Initial weights from the seed: uniform ±1/√fan-in (PyTorch's default for LSTM and Linear).
pub(super) fn initial_weights(
    params: &LstmAutoencoderParams,
    channels: usize,
) -> AutoencoderWeights {
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let mut uniform = |n: usize, bound: f64| -> F32s {
        F32s(
            (0..n)
                .map(|_| rng.random_range(-bound..bound) as f32)
                .collect(),
        )
    };
    let h = params.hidden;
    let lstm_bound = 1.0 / (h as f64).sqrt();
    let mut lstm = |input_size: usize| LstmLayerWeights {
        input_size,
        hidden_size: h,
        w: uniform(4 * h * input_size, lstm_bound),
        r: uniform(4 * h * h, lstm_bound),
        b: uniform(8 * h, lstm_bound),
    };
    let encoder: Vec<_> = (0..params.layers)
        .map(|l| lstm(if l == 0 { channels } else { h }))
        .collect();
    let decoder: Vec<_> = (0..params.layers)
        .map(|l| lstm(if l == 0 { params.latent } else { h }))
        .collect();
    let mut dense = |inputs: usize, outputs: usize| {
        let bound = 1.0 / (inputs as f64).sqrt();
        DenseWeights {
            inputs,
            outputs,
            weight: uniform(inputs * outputs, bound),
            bias: uniform(outputs, bound),
        }
    };
    let to_latent = dense(h, params.latent);
    let output = dense(h, channels);
    AutoencoderWeights {
        encoder,
        to_latent,
        decoder,
        output,
    }
}

/// `[batch, window, channels]` input and mask tensors for windows starting at `starts`,
/// padded with zero windows up to `pad_to`.
fn batch<B: Backend>(
    data: &Standardised,
    starts: &[usize],
    window: usize,
    pad_to: usize,
    device: &B::Device,
) -> (Tensor<B, 3>, Tensor<B, 3>) {
    let c = data.channels;
    let len = window * c;
    let rows = pad_to.max(starts.len());
    let mut input = vec![0.0_f32; rows * len];
    let mut mask = vec![0.0_f32; rows * len];
    for (k, start) in starts.iter().enumerate() {
        let span = start * c..(start + window) * c;
        input[k * len..(k + 1) * len].copy_from_slice(&data.input[span.clone()]);
        mask[k * len..(k + 1) * len].copy_from_slice(&data.mask[span]);
    }
    let shape = [rows, window, c];
    (
        Tensor::from_data(TensorData::new(input, shape), device),
        Tensor::from_data(TensorData::new(mask, shape), device),
    )
}

/// Sum of masked squared errors (a one-element tensor).
fn masked_sse<B: Backend>(
    recon: Tensor<B, 3>,
    x: Tensor<B, 3>,
    mask: Tensor<B, 3>,
) -> Tensor<B, 1> {
    ((recon - x) * mask).square().sum()
}

fn observed(data: &Standardised, starts: &[usize], window: usize) -> f64 {
    let c = data.channels;
    starts
        .iter()
        .map(|s| {
            data.mask[s * c..(s + window) * c]
                .iter()
                .map(|m| f64::from(*m))
                .sum::<f64>()
        })
        .sum()
}

/// Masked MSE over `starts` with the inference module.
fn evaluate<B: Backend>(
    model: &Autoencoder<B>,
    data: &Standardised,
    starts: &[usize],
    window: usize,
    batch_size: usize,
    device: &B::Device,
) -> f64 {
    let mut sse = 0.0;
    for chunk in starts.chunks(batch_size) {
        let (x, mask) = batch::<B>(data, chunk, window, 0, device);
        let recon = model.forward(x.clone());
        sse += masked_sse(recon, x, mask).into_scalar().elem::<f64>();
    }
    sse / observed(data, starts, window).max(1.0)
}

pub(super) fn fit(params: &LstmAutoencoderParams, train: &Series) -> Result<LstmAutoencoderModel> {
    let window = params.window;
    if train.channels() == 0 || train.len() < rows_needed(window, params.validation_fraction) {
        return Err(TrainError::NotEnoughData {
            family: FAMILY,
            channel: 0,
            needed: rows_needed(window, params.validation_fraction),
            got: train.len(),
        });
    }
    let scalers = fit_scalers(train)?;
    let data = standardise(train, &scalers);
    let (train_windows, validation_windows) =
        split_windows(data.rows, window, params.validation_fraction)
            .expect("rows_needed checked above");
    let total = data.rows + 1 - window;
    let train_starts: Vec<usize> = (0..train_windows).collect();
    let validation_starts: Vec<usize> = (total - validation_windows..total).collect();
    let init = initial_weights(params, data.channels);
    let (weights, history) = match params.backend {
        TrainingBackend::Cpu => train_on::<Autodiff<Flex>>(
            params,
            &data,
            &train_starts,
            &validation_starts,
            init,
            &FlexDevice,
        )?,
        TrainingBackend::Cuda => {
            train_cuda(params, &data, &train_starts, &validation_starts, init)?
        }
    };
    Ok(LstmAutoencoderModel {
        params: params.clone(),
        scalers,
        weights,
        history,
    })
}

#[cfg(feature = "cuda")]
fn train_cuda(
    params: &LstmAutoencoderParams,
    data: &Standardised,
    train_starts: &[usize],
    validation_starts: &[usize],
    init: AutoencoderWeights,
) -> Result<(AutoencoderWeights, TrainingHistory)> {
    use burn::backend::Cuda;
    use burn::backend::cuda::CudaDevice;
    // burn-cuda loads the driver at run time and panics without one: probe it first.
    let probe = std::panic::catch_unwind(|| {
        let device = CudaDevice::default();
        let _ = Tensor::<Cuda, 1>::zeros([1], &device).into_data();
        device
    });
    let device = probe.map_err(|panic| TrainingFailed {
        reason: format!(
            "no usable CUDA device: {}",
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the CUDA backend panicked".into())
        ),
    })?;
    train_on::<Autodiff<Cuda>>(params, data, train_starts, validation_starts, init, &device)
}

#[cfg(not(feature = "cuda"))]
fn train_cuda(
    _params: &LstmAutoencoderParams,
    _data: &Standardised,
    _train_starts: &[usize],
    _validation_starts: &[usize],
    _init: AutoencoderWeights,
) -> Result<(AutoencoderWeights, TrainingHistory)> {
    Err(TrainingFailed {
        reason: "this build has no CUDA backend".into(),
    }
    .into())
}

/// A training failure with the usual hint.
struct TrainingFailed {
    reason: String,
}

impl From<TrainingFailed> for TrainError {
    fn from(failure: TrainingFailed) -> Self {
        TrainError::TrainingFailed {
            family: FAMILY,
            reason: failure.reason,
            hint: "use backend = \"cpu\", or a lower learning_rate if the loss diverged".into(),
        }
    }
}

fn progress_bar(params: &LstmAutoencoderParams, batches: usize) -> ProgressBar {
    if !params.progress {
        return ProgressBar::hidden();
    }
    // indicatif draws nothing when stderr is not a terminal.
    let bar = ProgressBar::with_draw_target(
        Some((params.epochs * batches) as u64),
        ProgressDrawTarget::stderr(),
    );
    let style = ProgressStyle::with_template(
        "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} batches, eta {eta} {msg}",
    )
    .expect("a valid progress template");
    bar.set_style(style);
    bar.set_prefix(FAMILY);
    bar
}

fn train_on<B: AutodiffBackend>(
    params: &LstmAutoencoderParams,
    data: &Standardised,
    train_starts: &[usize],
    validation_starts: &[usize],
    init: AutoencoderWeights,
    device: &B::Device,
) -> Result<(AutoencoderWeights, TrainingHistory)> {
    let window = params.window;
    let mut model = Autoencoder::<B>::from_weights(&init, device);
    let mut optimizer = AdamConfig::new()
        .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
        .init::<B, Autoencoder<B>>();
    let batches = train_starts.len().div_ceil(params.batch_size);
    let bar = progress_bar(params, batches);
    let mut epochs = Vec::new();
    let mut best: Option<(f64, usize, AutoencoderWeights)> = None;
    let mut since_best = 0;
    let mut order = train_starts.to_vec();
    for epoch in 1..=params.epochs {
        let mut rng = ChaCha8Rng::seed_from_u64(trial_seed(params.seed, epoch as u64));
        order.shuffle(&mut rng);
        let mut sse = 0.0;
        let mut count = 0.0;
        for chunk in order.chunks(params.batch_size) {
            let (x, mask) = batch::<B>(data, chunk, window, 0, device);
            let n = observed(data, chunk, window);
            let recon = model.forward(x.clone());
            let batch_sse = masked_sse(recon, x, mask);
            let loss = batch_sse.clone().div_scalar(n.max(1.0));
            let value = batch_sse.into_scalar().elem::<f64>();
            if !value.is_finite() {
                bar.finish_and_clear();
                return Err(TrainingFailed {
                    reason: format!("the training loss became {value} in epoch {epoch}"),
                }
                .into());
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(params.learning_rate, model, grads);
            sse += value;
            count += n;
            bar.inc(1);
        }
        let train_loss = sse / count.max(1.0);
        let validation_loss = (!validation_starts.is_empty()).then(|| {
            evaluate(
                &model.valid(),
                data,
                validation_starts,
                window,
                params.batch_size,
                device,
            )
        });
        tracing::debug!(epoch, train_loss, ?validation_loss, "{FAMILY} epoch");
        bar.set_message(match validation_loss {
            Some(v) => format!("epoch {epoch}: loss {train_loss:.4}, validation {v:.4}"),
            None => format!("epoch {epoch}: loss {train_loss:.4}"),
        });
        epochs.push(EpochLoss {
            epoch,
            train_loss,
            validation_loss,
        });
        let Some(validation_loss) = validation_loss else {
            continue;
        };
        if !validation_loss.is_finite() {
            bar.finish_and_clear();
            return Err(TrainingFailed {
                reason: format!("the validation loss became {validation_loss} in epoch {epoch}"),
            }
            .into());
        }
        if best
            .as_ref()
            .is_none_or(|(loss, _, _)| validation_loss < *loss)
        {
            best = Some((validation_loss, epoch, model.to_weights()));
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= params.patience {
                break;
            }
        }
    }
    bar.finish_and_clear();
    let trained = epochs.len();
    let (best_epoch, weights) = match best {
        Some((_, epoch, weights)) => (epoch, weights),
        None => (trained, model.to_weights()),
    };
    Ok((
        weights,
        TrainingHistory {
            epochs,
            best_epoch,
            stopped_early: trained < params.epochs,
            train_windows: train_starts.len(),
            validation_windows: validation_starts.len(),
        },
    ))
}

pub(super) fn score(model: &LstmAutoencoderModel, series: &Series) -> Result<Scores> {
    let channels = model.scalers.len();
    if series.channels() != channels {
        return Err(TrainError::ChannelMismatch {
            family: FAMILY,
            fitted: channels,
            got: series.channels(),
        });
    }
    let window = model.params.window;
    let data = standardise(series, &model.scalers);
    let rows = data.rows;
    let mut values = vec![vec![0.0; rows]; channels];
    let mut expected = vec![vec![f64::NAN; rows]; channels];
    if rows >= window {
        let device = FlexDevice;
        let network = Autoencoder::<Flex>::from_weights(&model.weights, &device);
        let starts: Vec<usize> = (0..=rows - window).collect();
        for chunk in starts.chunks(SCORE_BATCH) {
            let (x, _) = batch::<Flex>(&data, chunk, window, SCORE_BATCH, &device);
            let recon: Vec<f32> = network
                .forward(x)
                .into_data()
                .into_vec::<f32>()
                .expect("the CPU backend computes in f32");
            for (k, start) in chunk.iter().enumerate() {
                let end = start + window - 1;
                let at = |step: usize, c: usize| {
                    let r = f64::from(recon[(k * window + step) * channels + c]);
                    (r, data.exact[(start + step) * channels + c])
                };
                for c in 0..channels {
                    let (last, truth) = at(window - 1, c);
                    expected[c][end] = model.scalers[c].invert(last);
                    if !truth.is_finite() {
                        continue;
                    }
                    values[c][end] = match model.params.score_on {
                        ErrorOver::LastStep => (last - truth).powi(2),
                        ErrorOver::Window => {
                            let (sum, n) = (0..window)
                                .map(|step| at(step, c))
                                .filter(|(_, x)| x.is_finite())
                                .fold((0.0, 0.0), |(s, n), (r, x)| (s + (r - x).powi(2), n + 1.0));
                            sum / n
                        }
                    };
                }
            }
        }
    }
    let warm_up = (window - 1).min(rows);
    let channel_scores = values
        .into_iter()
        .zip(expected)
        .map(|(values, expected)| ChannelScores {
            values,
            warm_up,
            expected: Some(expected),
            band: None,
        })
        .collect();
    Ok(Scores::combine(channel_scores, model.params.combine))
}
