//! Trains the LSTM autoencoder on one SMD machine and evaluates it beside the rolling z-score.
//!
//! ```sh
//! cargo run --release --workspace --example lstm_smd -- [machine-1-2] [epochs]
//! ```
//!
//! Protocol: fit on the machine's train rows (≈ 23,700 × 38); score the whole series causally
//! (train then test); the first 30% of the test rows (by time) choose the threshold (best
//! point F1), the remaining 70% are the test. Prints the training history, the time per epoch
//! and, for both detectors, event F1 (deployable threshold and oracle) and VUS-PR.
//! Run it under `/usr/bin/time -v` for the peak memory.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Instant;

use vigil_eval::labels::windows_from_labels;
use vigil_eval::{EvalConfig, EvalSeries, evaluate};
use vigil_train::detectors::lstm_ae::LstmAutoencoderParams;
use vigil_train::detectors::zscore::RollingZScoreParams;
use vigil_train::{DetectorSpec, FittedModel};

fn shared_datasets() -> PathBuf {
    vigil_testkit::shared_datasets()
}

struct Outcome {
    event_f1: f64,
    oracle_event_f1: f64,
    vus_pr: f64,
}

fn evaluate_scores(scores: &[f64], labels: &[bool], timestamps: &[i64]) -> Outcome {
    let cut = labels.len() * 3 / 10;
    let validation_windows = windows_from_labels(&labels[..cut]);
    let test_windows = windows_from_labels(&labels[cut..]);
    let validation =
        EvalSeries::new(&scores[..cut], &validation_windows, &timestamps[..cut]).unwrap();
    let test = EvalSeries::new(&scores[cut..], &test_windows, &timestamps[cut..]).unwrap();
    let result = evaluate(&[validation], &[test], &EvalConfig::default()).unwrap();
    Outcome {
        event_f1: result.deployable.events.event_f1,
        oracle_event_f1: result.oracle.map_or(f64::NAN, |o| o.events.event_f1),
        vus_pr: result.threshold_free.vus_pr.unwrap_or(f64::NAN),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let machine = args.next().unwrap_or_else(|| "machine-1-2".into());
    let epochs: usize = args
        .next()
        .map_or(20, |e| e.parse().expect("epochs: a number"));

    let dataset = vigil_datasets::load_smd(&shared_datasets().join("smd")).unwrap();
    let series = dataset
        .get(&machine)
        .unwrap_or_else(|| panic!("no machine {machine} in SMD"));
    let train_end = series.train_end.expect("SMD has a train split");
    let train = series.slice_rows(0, train_end);
    let labels = series.labels();
    println!(
        "{machine}: {} train rows, {} test rows, {} channels",
        train_end,
        series.len() - train_end,
        series.channels()
    );

    let params = LstmAutoencoderParams::default().with_epochs(epochs);
    println!("params: {}", serde_json::to_string(&params).unwrap());
    let started = Instant::now();
    let lstm = DetectorSpec::LstmAutoencoder(params).fit(&train).unwrap();
    let fit_seconds = started.elapsed().as_secs_f64();
    let FittedModel::LstmAutoencoder(model) = &lstm else {
        unreachable!("an LSTM spec fits an LSTM model")
    };
    for e in &model.history.epochs {
        println!(
            "epoch {:>2}: train loss {:.5}, validation loss {:.5}",
            e.epoch,
            e.train_loss,
            e.validation_loss.unwrap_or(f64::NAN)
        );
    }
    let trained = model.history.epochs.len();
    println!(
        "trained {trained} epochs in {fit_seconds:.1} s ({:.1} s per epoch; {} train / {} validation windows; best epoch {}, stopped early: {})",
        fit_seconds / trained as f64,
        model.history.train_windows,
        model.history.validation_windows,
        model.history.best_epoch,
        model.history.stopped_early
    );
    let json = serde_json::to_string(&lstm).unwrap();
    println!("saved model: {} KiB of JSON", json.len() / 1024);

    let started = Instant::now();
    let lstm_scores = lstm.score(series).unwrap().values;
    println!(
        "scored {} rows in {:.1} s",
        series.len(),
        started.elapsed().as_secs_f64()
    );
    let zscore = DetectorSpec::RollingZscore(RollingZScoreParams::default())
        .fit(&train)
        .unwrap();
    let z_scores = zscore.score(series).unwrap().values;

    let timestamps = &series.timestamps[train_end..];
    let test_labels = &labels[train_end..];
    println!("\ndetector          event F1 (deployable)  event F1 (oracle)  VUS-PR");
    for (name, scores) in [
        ("lstm_autoencoder", &lstm_scores),
        ("rolling_zscore", &z_scores),
    ] {
        let outcome = evaluate_scores(&scores[train_end..], test_labels, timestamps);
        println!(
            "{name:<17} {:>21.3}  {:>17.3}  {:>6.3}",
            outcome.event_f1, outcome.oracle_event_f1, outcome.vus_pr
        );
    }
}
