#![allow(clippy::unwrap_used)]

use burn::backend::Flex;
use burn::backend::flex::FlexDevice;
use burn::tensor::{Tensor, TensorData};
use ndarray::Array2;
use vigil_datasets::Series;

use super::fit::{initial_weights, split_windows};
use super::network::Autoencoder;
use super::weights::AutoencoderWeights;
use super::*;

fn series(channels: &[Vec<f64>]) -> Series {
    let n = channels[0].len();
    let values = Array2::from_shape_fn((n, channels.len()), |(r, c)| channels[c][r]);
    Series::new(
        "t",
        (0..n as i64).map(|i| i * 60_000).collect(),
        (0..channels.len()).map(|c| format!("c{c}")).collect(),
        values,
    )
}

fn wave(n: usize, phase: f64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            (2.0 * std::f64::consts::PI * i as f64 / 12.0 + phase).sin() + 0.01 * (i % 7) as f64
        })
        .collect()
}

fn tiny() -> LstmAutoencoderParams {
    LstmAutoencoderParams::default()
        .with_window(6)
        .with_hidden(5)
        .with_latent(3)
        .with_epochs(3)
        .with_batch_size(16)
        .with_progress(false)
}

/// The autoencoder's forward pass in plain Rust, from the ONNX-ordered weights alone.
fn plain_forward(weights: &AutoencoderWeights, window: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let run = |layers: &[LstmLayerWeights], mut sequence: Vec<Vec<f32>>| {
        for layer in layers {
            let (mut h, mut c) = (vec![0.0; layer.hidden_size], vec![0.0; layer.hidden_size]);
            let mut out = Vec::new();
            for x in &sequence {
                (h, c) = layer.step(x, &h, &c);
                out.push(h.clone());
            }
            sequence = out;
        }
        sequence
    };
    let encoded = run(&weights.encoder, window.to_vec());
    let latent = weights.to_latent.apply(encoded.last().unwrap());
    let decoded = run(&weights.decoder, vec![latent; window.len()]);
    decoded.iter().map(|h| weights.output.apply(h)).collect()
}

#[test]
fn burn_forward_matches_a_plain_lstm_from_the_onnx_ordered_weights() {
    for layers in [1, 2] {
        let params = tiny().with_layers(layers).with_seed(layers as u64);
        let weights = initial_weights(&params, 3);
        let network = Autoencoder::<Flex>::from_weights(&weights, &FlexDevice);
        // Reading the module back gives the same weights, bit for bit.
        assert_eq!(network.to_weights(), weights);

        let (batch, window, channels) = (2, 6, 3);
        let input: Vec<f32> = (0..batch * window * channels)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) / 4.0)
            .collect();
        let x = Tensor::<Flex, 3>::from_data(
            TensorData::new(input.clone(), [batch, window, channels]),
            &FlexDevice,
        );
        let burn_out: Vec<f32> = network.forward(x).into_data().into_vec().unwrap();
        for b in 0..batch {
            let rows: Vec<Vec<f32>> = (0..window)
                .map(|s| input[(b * window + s) * channels..][..channels].to_vec())
                .collect();
            let plain = plain_forward(&weights, &rows);
            for (s, row) in plain.iter().enumerate() {
                for (c, value) in row.iter().enumerate() {
                    let burn_value = burn_out[(b * window + s) * channels + c];
                    assert!(
                        (burn_value - value).abs() <= 1e-5,
                        "layers {layers}, batch {b}, step {s}, channel {c}: burn {burn_value} vs plain {value}"
                    );
                }
            }
        }
    }
}

#[test]
fn onnx_tensors_have_onnx_shapes_and_gate_blocks() {
    let params = tiny().with_layers(2);
    let model = params
        .check()
        .unwrap()
        .fit(&series(&[wave(120, 0.0), wave(120, 1.0)]))
        .unwrap();
    let layers = model.onnx_lstm_layers();
    assert_eq!(layers.len(), 4, "two encoder and two decoder layers");
    let h = params.hidden;
    let first = &layers[0];
    assert_eq!(first.w.0, vec![1, 4 * h, 2]);
    assert_eq!(first.r.0, vec![1, 4 * h, h]);
    assert_eq!(first.b.0, vec![1, 8 * h]);
    assert_eq!(
        layers[2].w.0,
        vec![1, 4 * h, params.latent],
        "decoder reads the latent"
    );
    assert_eq!(layers[3].w.0, vec![1, 4 * h, h]);
    for layer in &layers {
        let numel = |shape: &[usize]| shape.iter().product::<usize>();
        assert_eq!(layer.w.1.len(), numel(&layer.w.0));
        assert_eq!(layer.r.1.len(), numel(&layer.r.0));
        assert_eq!(layer.b.1.len(), numel(&layer.b.0));
    }
    // After training, the burn network still equals the plain ONNX-ordered LSTM.
    let network = Autoencoder::<Flex>::from_weights(&model.weights, &FlexDevice);
    let rows: Vec<Vec<f32>> = (0..6).map(|s| vec![s as f32 / 6.0, -0.5]).collect();
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    let x = Tensor::<Flex, 3>::from_data(TensorData::new(flat, [1, 6, 2]), &FlexDevice);
    let burn_out: Vec<f32> = network.forward(x).into_data().into_vec().unwrap();
    let plain: Vec<f32> = plain_forward(&model.weights, &rows).concat();
    for (a, b) in burn_out.iter().zip(&plain) {
        assert!((a - b).abs() <= 1e-5, "trained: burn {a} vs plain {b}");
    }
}

#[test]
fn one_rule_per_parameter() {
    let bad = |p: LstmAutoencoderParams, field: &str| {
        let err = p.check().expect_err(field);
        match err {
            TrainError::ParamError { param, .. } => {
                assert_eq!(param, format!("lstm_autoencoder.{field}"))
            }
            other => panic!("{field}: {other}"),
        }
    };
    let p = LstmAutoencoderParams::default;
    bad(p().with_window(1), "window");
    bad(p().with_hidden(0), "hidden");
    bad(p().with_layers(0), "layers");
    bad(p().with_latent(0), "latent");
    bad(p().with_epochs(0), "epochs");
    bad(p().with_batch_size(0), "batch_size");
    bad(p().with_patience(0), "patience");
    bad(p().with_learning_rate(0.0), "learning_rate");
    bad(p().with_learning_rate(f64::NAN), "learning_rate");
    bad(p().with_validation_fraction(0.6), "validation_fraction");
    bad(p().with_validation_fraction(-0.1), "validation_fraction");
    if !cfg!(feature = "cuda") {
        bad(p().with_backend(TrainingBackend::Cuda), "backend");
    }
    assert!(p().check().is_ok());
}

#[test]
fn validation_windows_are_the_last_ones_and_share_no_row_with_training() {
    // 100 rows, W = 10: 91 windows; 20% → 19 validation windows (starts 72..=90), a gap of 9
    // windows, so training windows start at 0..=62 and end at row 71 at the latest.
    assert_eq!(split_windows(100, 10, 0.2), Some((63, 19)));
    assert_eq!(split_windows(100, 10, 0.0), Some((91, 0)));
    assert_eq!(split_windows(9, 10, 0.0), None);
    assert_eq!(
        split_windows(19, 10, 0.2),
        None,
        "one validation window leaves none"
    );
    // 22 rows: 13 windows, 3 validate, 9 are the gap, 1 trains.
    assert_eq!(split_windows(21, 10, 0.2), None);
    assert_eq!(split_windows(22, 10, 0.2), Some((1, 3)));
}

#[test]
fn training_is_bit_identical_for_a_seed_and_any_thread_count() {
    let train = series(&[wave(200, 0.0), wave(200, 0.7)]);
    let fit_on = |threads: usize, seed: u64| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| tiny().with_seed(seed).check().unwrap().fit(&train).unwrap())
    };
    let one = fit_on(1, 5);
    let four = fit_on(4, 5);
    assert_eq!(one, four, "weights and history depend on the thread count");
    let scores = |m: &LstmAutoencoderModel| {
        m.score(&train)
            .unwrap()
            .values
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(scores(&one), scores(&four));
    let other = fit_on(1, 6);
    assert_ne!(
        one.weights, other.weights,
        "the seed changes the initial weights"
    );
}

#[test]
fn history_records_every_epoch_and_early_stopping_keeps_the_best() {
    let train = series(&[wave(300, 0.0)]);
    let model = tiny()
        .with_epochs(12)
        .with_patience(2)
        .with_learning_rate(0.05)
        .check()
        .unwrap()
        .fit(&train)
        .unwrap();
    let h = &model.history;
    assert!(!h.epochs.is_empty());
    assert_eq!(
        h.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(),
        (1..=h.epochs.len()).collect::<Vec<_>>()
    );
    assert!(
        h.epochs
            .iter()
            .all(|e| e.train_loss.is_finite() && e.validation_loss.is_some())
    );
    let best = h.epochs[h.best_epoch - 1].validation_loss.unwrap();
    assert!(h.epochs.iter().all(|e| e.validation_loss.unwrap() >= best));
    if h.stopped_early {
        assert_eq!(
            h.epochs.len(),
            h.best_epoch + 2,
            "stops `patience` epochs after the best"
        );
    }
    assert!(
        h.epochs.last().unwrap().train_loss < h.epochs[0].train_loss,
        "the loss falls: {:?}",
        h.epochs
    );
    // Without validation every epoch runs and the last one is kept.
    let model = tiny()
        .with_validation_fraction(0.0)
        .check()
        .unwrap()
        .fit(&train)
        .unwrap();
    assert_eq!(model.history.epochs.len(), 3);
    assert_eq!(model.history.best_epoch, 3);
    assert!(!model.history.stopped_early);
    assert_eq!(model.history.validation_windows, 0);
}

#[test]
fn window_error_and_per_channel_scores() {
    let train = series(&[wave(200, 0.0), wave(200, 2.0)]);
    let mut test = series(&[wave(200, 0.0), wave(200, 2.0)]);
    test.values[[150, 1]] = 4.0;
    test.values[[100, 0]] = f64::NAN;
    let model = tiny().check().unwrap().fit(&train).unwrap();
    let scores = model.score(&test).unwrap();
    assert_eq!(scores.warm_up, 5);
    assert!(scores.values[..5].iter().all(|v| *v == 0.0));
    assert_eq!(scores.per_channel.len(), 2);
    let ch1 = &scores.per_channel[1].values;
    let top = (0..200).max_by(|a, b| ch1[*a].total_cmp(&ch1[*b])).unwrap();
    assert_eq!(
        top, 150,
        "the spike's own row scores highest on its channel"
    );
    assert_eq!(
        scores.per_channel[0].values[100], 0.0,
        "a missing value scores 0"
    );
    for row in 0..200 {
        let mean = (scores.per_channel[0].values[row] + scores.per_channel[1].values[row]) / 2.0;
        assert!((scores.values[row] - mean).abs() <= 1e-12 * mean.max(1.0));
    }
    // Expected values are reconstructions in the data's units.
    let expected = scores.per_channel[0].expected.as_ref().unwrap();
    assert!(expected[..5].iter().all(|v| v.is_nan()));
    assert!(expected[5..].iter().all(|v| v.is_finite() && v.abs() < 3.0));

    let windowed = LstmAutoencoderModel {
        params: model.params.clone().with_score_on(ErrorOver::Window),
        ..model.clone()
    };
    let spread = windowed.score(&test).unwrap().per_channel[1].values.clone();
    // The spike stays inside the window for W rows, so the window error stays raised.
    for row in 150..156 {
        assert!(
            spread[row] > spread[140],
            "row {row}: {} vs {}",
            spread[row],
            spread[140]
        );
    }
}
