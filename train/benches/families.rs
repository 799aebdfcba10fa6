//! Fit time and score time of every catalog family at 1k / 10k / 100k rows, and 1M under
//! `cargo bench` (fixed seed, data built outside the timed loop), and Holt-Winters fitting on one week of 5-minute data (2,016
//! rows, season 288; the fixture's synthetic week) — compare with `benches/peers/holt_winters.py` (statsmodels)
//! on the same machine.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use vigil_datasets::Series;
use vigil_train::DetectorKind;
use vigil_train::detectors::holt_winters::{Component, HoltWintersParams, Initialization};

fn data(n: usize, period: f64, seed: u64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 5.0).expect("normal");
    (0..n)
        .map(|i| {
            let t = i as f64;
            500.0
                + 0.02 * t
                + 40.0 * (std::f64::consts::TAU * t / period).sin()
                + noise.sample(&mut rng)
        })
        .collect()
}

fn series(values: &[f64]) -> Series {
    let n = values.len();
    Series::new(
        "bench",
        (0..n as i64).map(|i| i * 300_000).collect(),
        vec!["value".into()],
        Array2::from_shape_vec((n, 1), values.to_vec()).expect("shape"),
    )
}

/// Fit (on the first 15% of rows, at least 600) and score (every row) separately, for every
/// family in the catalog, so a new family is benched without touching this file.
fn families(c: &mut Criterion) {
    let mut sizes = vec![1_000, 10_000, 100_000];
    // 1M rows only when measuring (`cargo bench` passes `--bench`): CI's test-mode pass runs
    // every benchmark once in the dev profile, where 1M-row fits would take many minutes.
    if std::env::args().any(|a| a == "--bench") {
        sizes.push(1_000_000);
    }
    let data: Vec<(usize, Series, Series)> = sizes
        .iter()
        .map(|&n| {
            let s = series(&data(n, 288.0, 42));
            let train = s.slice_rows(0, (n * 15 / 100).max(600));
            (n, s, train)
        })
        .collect();
    let mut fit = c.benchmark_group("fit");
    fit.sample_size(10);
    for (n, _, train) in &data {
        for &kind in DetectorKind::ALL.iter().filter(|k| *n <= max_rows(**k)) {
            let spec = kind.default_spec();
            fit.bench_with_input(BenchmarkId::new(kind.name(), n), n, |b, _| {
                b.iter(|| spec.fit(train).expect("fit"));
            });
        }
    }
    fit.finish();
    let mut score = c.benchmark_group("score");
    score.sample_size(10);
    for (n, s, train) in &data {
        for &kind in DetectorKind::ALL.iter().filter(|k| *n <= max_rows(**k)) {
            let model = kind.default_spec().fit(train).expect("fit");
            score.bench_with_input(BenchmarkId::new(kind.name(), n), n, |b, _| {
                b.iter(|| model.score(s).expect("score"));
            });
        }
    }
    score.finish();
}

/// The largest size a family runs at here: the quadratic ones (matrix profile O(n²) per
/// scored series, one-class SVM O(n²) kernel work on the 15k training rows of the 100k size)
/// and CAD OSE stop at 10k in this catalog-wide bench, which also runs once in debug in CI; `ml_b.rs`
/// times them alone.
fn max_rows(kind: DetectorKind) -> usize {
    match kind {
        // The matrix profiles are O(n²): the discord computes three of them.
        DetectorKind::MatrixProfile
        | DetectorKind::Discord
        | DetectorKind::Damp
        | DetectorKind::Ocsvm => 10_000,
        // CAD OSE's context memory grows with the series; a 100k-row replay runs for many
        // minutes in the debug test-mode pass CI makes.
        DetectorKind::CadOse => 10_000,
        // MSTL's robust STL passes (16 per season and pass) with a period detected up to 2016
        // rows make a 150k-row fit a matter of minutes in the debug test-mode pass.
        DetectorKind::Mstl => 100_000,
        // ARTime adds a category per non-resonant downsampled value and matches each value
        // against all of them: about 1 s for 100k rows, quadratic beyond.
        DetectorKind::Artime => 100_000,
        // At 1M rows (150k fitted): ARIMA's order grid (≈ 50 s a fit), the sliding seasonal ESD
        // (≈ 12 s a score) and the LSTM's epochs would hold a criterion run for an hour.
        // The neighbour families' k-d tree queries cost more per row as the fitted rows grow;
        // DBSCAN also keeps every fitted point's ε-neighbourhood while it finds the core points.
        DetectorKind::Arima
        | DetectorKind::SeasonalEsdSliding
        | DetectorKind::LstmAutoencoder
        | DetectorKind::Knn
        | DetectorKind::Lof
        | DetectorKind::Dbscan => 100_000,
        _ => usize::MAX,
    }
}

/// The synthetic week that `benches/peers/holt_winters.py` also times (from the statsmodels fixture).
fn week() -> Vec<f64> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/holt_winters_statsmodels/expected.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    json["synthetic"]
        .as_array()
        .expect("synthetic")
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect()
}

fn holt_winters_week(c: &mut Criterion) {
    let y = week();
    let mut group = c.benchmark_group("holt_winters_fit_2016x288");
    group.sample_size(10);
    for (name, initialization) in [
        ("simple", Initialization::Simple),
        ("heuristic", Initialization::Heuristic),
        ("estimated", Initialization::Estimated),
    ] {
        let valid = HoltWintersParams::default()
            .with_trend(Component::Add, true)
            .with_seasonal(Component::Add, Some(288))
            .with_initialization(initialization)
            .check()
            .expect("valid");
        group.bench_function(name, |b| b.iter(|| valid.fit_values(&y).expect("fit")));
    }
    group.finish();
}

criterion_group!(benches, families, holt_winters_week);
criterion_main!(benches);
