//! A seeded synthetic generator of labelled operational metrics.
//!
//! It models one web service (request rate, p99 latency, error ratio, CPU, memory) with trend,
//! daily and weekly seasonality shared across metrics (so metrics move with load), realistic
//! noise (over-dispersed Poisson rates, log-normal latencies, GC sawtooth) and clamps, then
//! injects anomalies of known kinds ([`AnomalyKind`]) so detectors can be scored against ground
//! truth known by construction.
//!
//! # Placement
//! Per series, 2–4 anomalies by default, at seeded random positions that never overlap, keep
//! `guard_rows` clean rows between each other and never start in the first
//! `min_start_fraction` of the rows (NAB's probationary 15%). Magnitudes are `k` local noise
//! standard deviations (`k ∈ [4, 8]` by default, the noise evaluated at the expected value of
//! the onset row); the severity follows `k` (`info` < 5.5 σ ≤ `warning` < 7 σ ≤ `critical`).
//! Additive profiles move by `±k·σ` in the metric's unit. Multiplicative ones (rates,
//! latencies, ratios) move on the log scale, by a factor `exp(±k·σ_log)` with
//! `σ_log = sqrt(ln(1 + σ²/m²))` (exactly the log-normal sigma): an error-rate spike multiplies
//! it, and a latency dip lowers it without driving it to zero.
//!
//! # Label contract
//! Each incident window runs from the timestamp of the first row the injection changed to that
//! of the last row it changed (both inclusive), so every altered row is labelled and both window
//! ends are altered rows. For the long kinds this is the whole altered segment: a level shift
//! is labelled from its onset until it recovers, or to the last row of the series when it
//! persists (a deploy that is never rolled back; at most one per series, always its last
//! anomaly); a trend drift from the first drifted row to the last (after which it drops back,
//! like a leak cleared by a restart, or runs to the end). Rows that an injection would change
//! but the profile's clamps pin to the same value (a dip on a ratio already at 0) are not
//! altered; an injection that changes no row at all gives no incident. Gaps are NaN rows
//! labelled `gap`, and NaN appears nowhere else.
//!
//! # Determinism
//! [`generate`] is a pure function of the [`SynthConfig`]. Every series draws its signal and
//! its anomalies from two ChaCha8 streams seeded from (seed, stream, series index), so the
//! result never depends on threads, turning anomalies off leaves the clean signal
//! bit-identical, and appending a profile leaves the other series unchanged. (Bit-identity
//! across machines also assumes the same libm for `sin`/`exp`.)

mod check;
mod config;
mod inject;
mod signal;
mod write;

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use check::ValidSynthConfig;
pub use config::{
    AnomalyConfig, AnomalyKind, DEFAULT_LENGTH, DEFAULT_START_MS, DEFAULT_STEP_MS, KindDurations,
    MIN_LENGTH, MetricProfile, MinutesRange, NoiseModel, Sawtooth, Seasonality, SynthConfig,
};
pub use write::{SYNTH_CONFIG_FILE, SYNTH_LABELS_FILE, write_synth};

use crate::error::Result;
use crate::model::{Dataset, Layout, Series};

/// Stream id of the clean signal.
const STREAM_SIGNAL: u64 = 1;
/// Stream id of anomaly placement and injection.
const STREAM_ANOMALIES: u64 = 2;

/// SplitMix64's finaliser: a bijective mix whose outputs for consecutive inputs are unrelated.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of one random stream of one series.
pub fn derive_seed(seed: u64, stream: u64, series_index: usize) -> u64 {
    splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ series_index as u64)
}

/// Generates the dataset a config describes (checking the config first).
///
/// Series are named after their profiles, have one column `value`, and come sorted by name;
/// the layout is [`Layout::Synthetic`] and `source` names the seed and size.
pub fn generate(config: &SynthConfig) -> Result<Dataset> {
    generate_checked(&config.check()?)
}

/// Generates from an already checked config.
pub fn generate_checked(valid: &ValidSynthConfig) -> Result<Dataset> {
    let config = valid.config();
    let timestamps: Vec<i64> = (0..config.length as i64)
        .map(|i| config.start_ms + i * config.step_ms)
        .collect();
    let mut series = Vec::with_capacity(config.metrics.len());
    for (index, profile) in config.metrics.iter().enumerate() {
        let mut signal_rng =
            ChaCha8Rng::seed_from_u64(derive_seed(config.seed, STREAM_SIGNAL, index));
        let clean = signal::clean_signal(profile, &timestamps, &mut signal_rng);

        let mut anomaly_rng =
            ChaCha8Rng::seed_from_u64(derive_seed(config.seed, STREAM_ANOMALIES, index));
        let planned = inject::plan(
            index,
            config.length,
            config.step_ms,
            &config.anomalies,
            &mut anomaly_rng,
        )?;
        let (values, incidents) = inject::inject(
            profile,
            config.start_ms,
            &timestamps,
            &clean,
            &planned,
            &config.anomalies,
            &mut anomaly_rng,
        );
        tracing::debug!(series = %profile.name, incidents = incidents.len(), "generated");

        let values = Array2::from_shape_vec((config.length, 1), values).map_err(|e| {
            crate::error::DatasetError::format(
                "<synthetic>",
                e.to_string(),
                "this is a bug in vigil",
            )
        })?;
        let mut s = Series::new(
            profile.name.clone(),
            timestamps.clone(),
            vec!["value".to_owned()],
            values,
        );
        s.incidents = incidents;
        series.push(s);
    }
    series.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Dataset {
        name: "synthetic".to_owned(),
        layout: Layout::Synthetic,
        source: format!(
            "synthetic web-service metrics: seed {}, {} series × {} rows every {} s from {}",
            config.seed,
            config.metrics.len(),
            config.length,
            config.step_ms as f64 / 1000.0,
            crate::timestamp::format_timestamp(config.start_ms),
        ),
        series,
        warnings: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_seeds_differ_by_seed_stream_and_index() {
        let mut seen = std::collections::HashSet::new();
        for seed in 0..20 {
            for stream in [STREAM_SIGNAL, STREAM_ANOMALIES] {
                for index in 0..20 {
                    assert!(
                        seen.insert(derive_seed(seed, stream, index)),
                        "{seed} {stream} {index}"
                    );
                }
            }
        }
        assert_eq!(
            derive_seed(7, STREAM_SIGNAL, 3),
            derive_seed(7, STREAM_SIGNAL, 3)
        );
    }
}
