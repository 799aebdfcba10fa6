//! The LSTM autoencoder finds what a point-wise detector cannot: a change of shape inside the
//! seasonal period with every value still in the normal range.

use vigil_train::detectors::lstm_ae::{ErrorOver, LstmAutoencoderParams};
use vigil_train::detectors::zscore::RollingZScoreParams;
use vigil_train::{DetectorSpec, FittedModel};

use crate::common::series;

const PERIOD: usize = 24;
const TRAIN: usize = 1200;
const TEST: usize = 600;
/// The break: four periods whose sawtooth runs backwards.
const BREAK: std::ops::Range<usize> = 288..384;

/// A seeded sawtooth season (slow rise over 18 rows, fast fall over 6) plus small noise; inside
/// `broken` rows the tooth is reversed (fast rise, slow fall): the same values in a new order.
fn sawtooth(n: usize, seed: u64, broken: std::ops::Range<usize>) -> Vec<f64> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 0.05).expect("valid normal");
    (0..n)
        .map(|t| {
            let phase = t % PERIOD;
            let phase = if broken.contains(&t) {
                PERIOD - 1 - phase
            } else {
                phase
            };
            let tooth = if phase < 18 {
                -1.0 + 2.0 * phase as f64 / 17.0
            } else {
                1.0 - 2.0 * (phase - 17) as f64 / 6.0
            };
            10.0 + 3.0 * tooth + noise.sample(&mut rng)
        })
        .collect()
}

/// Highest score inside the break over the highest score elsewhere (after warm-up).
fn peak_ratio(model: &FittedModel, test: &[f64]) -> (f64, usize) {
    let scores = model.score(&series(test)).expect("score");
    let v = &scores.values;
    let start = scores.warm_up;
    let inside = BREAK.map(|t| v[t]).fold(0.0, f64::max);
    let outside = (start..TEST)
        .filter(|t| !BREAK.contains(t))
        .map(|t| v[t])
        .fold(0.0, f64::max);
    let peak = (start..TEST)
        .max_by(|a, b| v[*a].total_cmp(&v[*b]))
        .expect("rows");
    (inside / outside, peak)
}

#[test]
fn lstm_autoencoder_finds_a_seasonal_shape_break_that_a_rolling_z_score_misses() {
    let train = sawtooth(TRAIN, 1, 0..0);
    let test = sawtooth(TEST, 2, BREAK);
    let (lo, hi) = train
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    assert!(
        BREAK
            .clone()
            .all(|t| test[t] > lo - 0.2 && test[t] < hi + 0.2),
        "break values stay in the normal range"
    );

    let lstm = DetectorSpec::LstmAutoencoder(
        LstmAutoencoderParams::default()
            .with_window(PERIOD)
            .with_hidden(16)
            .with_latent(8)
            .with_epochs(6)
            .with_batch_size(32)
            .with_learning_rate(1e-2)
            .with_score_on(ErrorOver::LastStep)
            .with_progress(false),
    )
    .fit(&series(&train))
    .expect("fit");
    let zscore = DetectorSpec::RollingZscore(RollingZScoreParams::default())
        .fit(&series(&train))
        .expect("fit");

    let (lstm_ratio, lstm_peak) = peak_ratio(&lstm, &test);
    let (z_ratio, _) = peak_ratio(&zscore, &test);
    // The error of the whole window would also rise on the `window` rows after the break,
    // which still hold broken rows: the last-step error keeps the peak inside it.
    eprintln!("peak inside / outside the break: lstm {lstm_ratio:.2}, rolling z {z_ratio:.2}");
    assert!(
        BREAK.contains(&lstm_peak),
        "LSTM AE peak at row {lstm_peak}, outside the break {BREAK:?}"
    );
    assert!(
        lstm_ratio > 3.0,
        "LSTM AE: the break's peak is only {lstm_ratio:.2}x the rest"
    );
    assert!(
        z_ratio < 1.5,
        "the rolling z-score should not single out the break (ratio {z_ratio:.2})"
    );
}
