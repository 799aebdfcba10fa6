//! The synthetic generator: determinism, exact labels, realism of the signal, config
//! validation and the files it writes.

mod files;
mod labels;
mod signal;
mod validation;

use vigil_datasets::synth::{AnomalyConfig, SynthConfig};
use vigil_datasets::{Dataset, Series, generate};

/// The default config with this seed.
pub fn config(seed: u64) -> SynthConfig {
    SynthConfig::with_seed(seed)
}

/// Generates, failing the test with the error's message.
pub fn gen_ok(config: &SynthConfig) -> Dataset {
    match generate(config) {
        Ok(ds) => ds,
        Err(e) => panic!("generate failed: {e}"),
    }
}

/// The same generation with injection turned off.
pub fn clean_twin(config: &SynthConfig) -> Dataset {
    gen_ok(&SynthConfig {
        anomalies: AnomalyConfig::none(),
        ..config.clone()
    })
}

/// The series with this name.
pub fn series<'a>(ds: &'a Dataset, name: &str) -> &'a Series {
    ds.get(name).unwrap_or_else(|| panic!("no series {name}"))
}

/// Same names, timestamps, value bits (NaN == NaN) and incidents; `Series: PartialEq` says
/// NaN != NaN.
pub fn same_series(a: &[Series], b: &[Series]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.name == y.name
                && x.timestamps == y.timestamps
                && x.incidents == y.incidents
                && x.values.shape() == y.values.shape()
                && x.values
                    .iter()
                    .zip(y.values.iter())
                    .all(|(u, v)| u.to_bits() == v.to_bits())
        })
}

/// Column 0 as a vector.
pub fn column(s: &Series) -> Vec<f64> {
    s.values.column(0).to_vec()
}

#[test]
fn same_config_same_fingerprint_and_other_seed_another() {
    let a = gen_ok(&config(7));
    let b = gen_ok(&config(7));
    assert!(same_series(&a.series, &b.series));
    assert_eq!(a.fingerprint(), b.fingerprint());
    let c = gen_ok(&config(8));
    assert_ne!(a.fingerprint(), c.fingerprint());
    for (x, y) in a.series.iter().zip(&c.series) {
        assert_ne!(
            column(x),
            column(y),
            "{} is the same under seeds 7 and 8",
            x.name
        );
    }
}

#[test]
fn generation_does_not_depend_on_threads() {
    let want = gen_ok(&config(11)).fingerprint();
    let handles: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| gen_ok(&config(11)).fingerprint()))
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("thread"), want);
    }
}

#[test]
fn appending_a_profile_leaves_the_other_series_unchanged() {
    let full = config(3);
    let mut fewer = full.clone();
    fewer.metrics.truncate(3);
    let (a, b) = (gen_ok(&full), gen_ok(&fewer));
    assert_eq!(b.series.len(), 3);
    for s in &b.series {
        assert_eq!(
            s,
            series(&a, &s.name),
            "{} changed when profiles were appended",
            s.name
        );
    }
}

#[test]
fn default_shape_layout_and_source() {
    let ds = gen_ok(&config(7));
    assert_eq!(ds.layout, vigil_datasets::Layout::Synthetic);
    let names: Vec<&str> = ds.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "cpu_utilisation",
            "error_rate",
            "latency_p99_ms",
            "memory_bytes",
            "request_rate"
        ]
    );
    assert!(ds.source.contains("seed 7"), "{}", ds.source);
    for s in &ds.series {
        assert_eq!(s.len(), 8_064);
        assert_eq!(s.columns, ["value"]);
        assert_eq!(s.timestamps[0], 1_767_571_200_000, "2026-01-05T00:00:00Z");
        assert!(s.timestamps.windows(2).all(|w| w[1] - w[0] == 300_000));
        assert!(
            (2..=4).contains(&s.incidents.len()),
            "{}: {} incidents",
            s.name,
            s.incidents.len()
        );
        assert!(s.point_labels.is_none() && s.train_end.is_none());
    }
}
