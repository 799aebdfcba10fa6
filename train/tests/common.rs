//! Test helpers: locating shared data, reading NAB files, building series, reading fixtures.

use std::path::PathBuf;

use ndarray::Array2;
use vigil_datasets::Series;

/// The shared datasets folder (`VIGIL_SHARED_DATASETS` overrides); panics with a clear
/// message when it is missing: these tests must fail, not skip, without their data.
pub fn shared_datasets() -> PathBuf {
    vigil_testkit::shared_datasets()
}

/// The `value` column of a NAB file, e.g. `realKnownCause/nyc_taxi.csv`.
pub fn nab_values(file: &str) -> Vec<f64> {
    let path = shared_datasets().join("nab/data").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let value = line.rsplit(',').next().expect("a value column");
            value
                .trim()
                .parse::<f64>()
                .unwrap_or_else(|e| panic!("{}: bad value {value:?}: {e}", path.display()))
        })
        .collect()
}

/// A one-channel series over `values`, 5-minute steps.
pub fn series(values: &[f64]) -> Series {
    multi(&[values.to_vec()])
}

/// A series with one channel per vector (all the same length).
pub fn multi(channels: &[Vec<f64>]) -> Series {
    let n = channels[0].len();
    let values = Array2::from_shape_fn((n, channels.len()), |(row, col)| channels[col][row]);
    Series::new(
        "test",
        (0..n as i64).map(|i| i * 300_000).collect(),
        (0..channels.len()).map(|c| format!("c{c}")).collect(),
        values,
    )
}

/// Reads `tests/fixtures/<name>/expected.json`.
pub fn fixture(name: &str) -> serde_json::Value {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
        .join(name)
        .join("expected.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A JSON array of non-negative integers.
pub fn usizes(value: &serde_json::Value) -> Vec<usize> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_u64().expect("a non-negative integer") as usize)
        .collect()
}

/// A JSON array of numbers or nulls (NaN).
pub fn floats(value: &serde_json::Value) -> Vec<f64> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_f64().unwrap_or(f64::NAN))
        .collect()
}

/// A deterministic noisy daily-cycle series with a trend (seeded).
pub fn synthetic(n: usize, seed: u64) -> Vec<f64> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 1.0).expect("valid normal");
    (0..n)
        .map(|i| {
            let t = i as f64;
            100.0
                + 0.01 * t
                + 10.0 * (2.0 * std::f64::consts::PI * t / 48.0).sin()
                + noise.sample(&mut rng)
        })
        .collect()
}
