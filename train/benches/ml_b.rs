//! Fit and score time of ECOD, PCA, the one-class SVM and DBSCAN on 1k / 10k / 100k / 1M rows
//! × 8 columns (fixed seed, data built outside the timed loop, the families' own rows: no feature
//! transform), and of the matrix-profile discord on one channel. In test mode
//! (`cargo test --benches`) only the 1k size runs, so the debug build stays quick; `cargo bench`
//! runs all sizes, except the one-class SVM (1k, 10k: its fit is O(n²) kernel work), DBSCAN (to
//! 100k: its core-point pass holds every point's ε-neighbourhood) and the matrix profile (1k, 10k, 30k: O(n²) per scored series). Compare ECOD and PCA with PyOD
//! through `benches/peers/run.py` (or `ml_b.py`).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use vigil_datasets::Series;
use vigil_train::detectors::dbscan::DbscanParams;
use vigil_train::detectors::ecod::EcodParams;
use vigil_train::detectors::matrix_profile::MatrixProfileParams;
use vigil_train::detectors::ocsvm::OcsvmParams;
use vigil_train::detectors::pca::PcaParams;
use vigil_train::features::{PointFamily, PointScorer};

fn rows(n: usize, seed: u64) -> Array2<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0, 1.0).expect("normal");
    Array2::from_shape_fn((n, 8), |(r, c)| {
        normal.sample(&mut rng) + if r % 2 == 0 { 3.0 } else { 0.0 } + c as f64 * 0.1
    })
}

fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// `full` under `cargo bench`, the first size only in test mode.
fn sizes(full: &[usize]) -> Vec<usize> {
    if full_run() {
        full.to_vec()
    } else {
        full[..1].to_vec()
    }
}

const ALL: &[usize] = &[1_000, 10_000, 100_000, 1_000_000];

fn bench_family<F: PointFamily>(c: &mut Criterion, name: &str, family: &F, full: &[usize]) {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    for n in sizes(full) {
        let data = rows(n, 42);
        group.bench_with_input(BenchmarkId::new("fit", n), &n, |b, _| {
            b.iter(|| family.fit_rows(data.view()).expect("fit"));
        });
        let model = family.fit_rows(data.view()).expect("fit");
        let query = rows(n, 43);
        group.bench_with_input(BenchmarkId::new("score", n), &n, |b, _| {
            b.iter(|| model.score_rows(query.view()));
        });
    }
    group.finish();
}

fn channel(n: usize) -> Series {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(44);
    let noise = Normal::new(0.0, 1.0).expect("normal");
    let values = Array2::from_shape_fn((n, 1), |(t, _)| {
        10.0 * (std::f64::consts::TAU * t as f64 / 96.0).sin() + noise.sample(&mut rng)
    });
    Series::new(
        "bench",
        (0..n as i64).map(|i| i * 300_000).collect(),
        vec!["value".into()],
        values,
    )
}

fn point_families(c: &mut Criterion) {
    let ecod = EcodParams::default().check().expect("params");
    bench_family(c, "ecod_x8", &ecod, ALL);
    let pca = PcaParams::default().check().expect("params");
    bench_family(c, "pca_x8", &pca, ALL);
    let ocsvm = OcsvmParams::default().check().expect("params");
    bench_family(c, "ocsvm_x8", &ocsvm, &[1_000, 10_000]);
    let dbscan = DbscanParams::default().check().expect("params");
    bench_family(c, "dbscan_x8", &dbscan, &ALL[..3]);
}

fn matrix_profile(c: &mut Criterion) {
    let mut group = c.benchmark_group("matrix_profile_w48");
    group.sample_size(10);
    let params = MatrixProfileParams::default().check().expect("params");
    for n in sizes(&[1_000, 10_000, 30_000]) {
        let s = channel(n);
        let model = params.fit(&s.slice_rows(0, n / 5)).expect("fit");
        group.bench_with_input(BenchmarkId::new("score", n), &n, |b, _| {
            b.iter(|| model.score(&s).expect("score"));
        });
    }
    group.finish();
}

criterion_group!(benches, point_families, matrix_profile);
criterion_main!(benches);
