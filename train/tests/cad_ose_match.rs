//! CAD OSE against NAB's published `contextOSE` results: with NAB's settings (the whole file's
//! min and max as the range, a rest period of the probationary period / 5), vigil's per-row
//! scores equal NAB's `anomaly_score` column on every row of each fixture file.
//!
//! The fixtures (`fixtures/cad_ose_nab/`, see its README) hold the rows where NAB's score is
//! not 0, as NAB printed them (Python 2 `str`, 12 significant digits), over the file's first
//! `rows` rows (all of it for speed_7578); every other of those rows must score 0. A prefix is
//! a full check of those rows: CAD is causal, and the range (the whole file's) comes from the
//! data file.

use std::collections::HashMap;

use vigil_datasets::probationary_rows;
use vigil_train::DetectorSpec;
use vigil_train::detectors::cad_ose::CadOseParams;

use crate::common::{nab_values, series, shared_datasets};

/// NAB prints 12 significant digits; the scores lie in [0, 1].
const TOLERANCE: f64 = 1e-11;

fn fixture(name: &str) -> HashMap<String, f64> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cad_ose_nab")
        .join(format!("{name}.csv"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut rows = HashMap::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let (timestamp, score) = line.split_once(',').expect("timestamp,anomaly_score");
        let score: f64 = score.parse().expect("a score");
        assert!(
            rows.insert(timestamp.to_string(), score).is_none(),
            "{name}: duplicate timestamp {timestamp}"
        );
    }
    rows
}

fn nab_timestamps(file: &str) -> Vec<String> {
    let path = shared_datasets().join("nab/data").join(file);
    let text = std::fs::read_to_string(&path).expect("NAB file");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').next().expect("timestamp").to_string())
        .collect()
}

fn check_file(file: &str, name: &str, rows: usize) {
    let values = nab_values(file);
    let timestamps = nab_timestamps(file);
    assert_eq!(values.len(), timestamps.len());
    let expected = fixture(name);
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let spec = DetectorSpec::CadOse(CadOseParams::default().with_range(min, max));
    let train = series(&values[..probationary_rows(values.len())]);
    let model = spec.fit(&train).expect("fits");
    let scores = model.score(&series(&values)).expect("scores");
    assert!(rows <= values.len());
    let mut matched = 0;
    let mut first_bad = None;
    let mut bad = 0;
    for (row, (timestamp, got)) in timestamps.iter().zip(&scores.values).take(rows).enumerate() {
        let want = expected.get(timestamp).copied().unwrap_or(0.0);
        if (got - want).abs() <= TOLERANCE {
            matched += 1;
        } else {
            bad += 1;
            first_bad.get_or_insert((row, timestamp.clone(), *got, want));
        }
    }
    let seen = timestamps[..rows]
        .iter()
        .filter(|t| expected.contains_key(*t))
        .count();
    assert_eq!(
        seen,
        expected.len(),
        "{name}: fixture timestamps missing from the data file"
    );
    assert!(
        bad == 0,
        "{name}: {bad} of {rows} rows differ from NAB's contextOSE (first: {first_bad:?}); {matched} match"
    );
    assert!(
        expected.len() > 100,
        "{name}: the fixture has few nonzero rows"
    );
}

#[test]
fn cad_ose_matches_nab_context_ose_on_speed_7578() {
    check_file("realTraffic/speed_7578.csv", "speed_7578", 1127);
}

#[test]
fn cad_ose_matches_nab_context_ose_on_the_first_269_rows_of_exchange_3_cpc() {
    check_file(
        "realAdExchange/exchange-3_cpc_results.csv",
        "exchange-3_cpc_results",
        269,
    );
}
