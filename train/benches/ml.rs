//! Fit and score time of the point families (Isolation Forest, LOF, kNN distance) on
//! 1k / 10k / 100k rows × 8 columns, and of the neighbour families at 38 columns (SMD's width,
//! where the neighbour search scans instead of walking the k-d tree), (fixed seed, data built outside the timed loop), on the
//! families' own feature rows (no feature transform). In test mode (`cargo test --benches`)
//! only the 1k size runs, so the debug build stays quick; `cargo bench` runs all three.
//! Compare with scikit-learn through `benches/peers/run.py` (or `ml_a.py`).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use vigil_train::detectors::isolation_forest::IsolationForestParams;
use vigil_train::detectors::knn::KnnParams;
use vigil_train::detectors::lof::LofParams;
use vigil_train::features::{PointFamily, PointScorer};

fn rows(n: usize, dim: usize, seed: u64) -> Array2<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0, 1.0).expect("normal");
    Array2::from_shape_fn((n, dim), |(r, c)| {
        normal.sample(&mut rng) + if r % 2 == 0 { 3.0 } else { 0.0 } + c as f64 * 0.1
    })
}

/// Under `cargo bench`: 1k to `max` rows; the first size only in test mode.
fn sizes(max: usize) -> Vec<usize> {
    if std::env::args().any(|a| a == "--bench") {
        [1_000, 10_000, 100_000, 1_000_000]
            .into_iter()
            .filter(|&n| n <= max)
            .collect()
    } else {
        vec![1_000]
    }
}

/// The neighbour families stop at 100k: a 1M-row self-join (the fit) takes ≈ 160 s a sample at 8
/// dimensions (the k-d tree's per-query cost grows with n there, as any exact tree's does in 8
/// dimensions) and is a quadratic exhaustive pass at 38.
const NEIGHBOURS_MAX: usize = 100_000;

fn bench_family<F: PointFamily>(c: &mut Criterion, name: &str, dim: usize, family: &F, max: usize) {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    for n in sizes(max) {
        let data = rows(n, dim, 42);
        group.bench_with_input(BenchmarkId::new("fit", n), &n, |b, _| {
            b.iter(|| family.fit_rows(data.view()).expect("fit"));
        });
        let model = family.fit_rows(data.view()).expect("fit");
        let query = rows(n, dim, 43);
        group.bench_with_input(BenchmarkId::new("score", n), &n, |b, _| {
            b.iter(|| model.score_rows(query.view()));
        });
    }
    group.finish();
}

fn point_families(c: &mut Criterion) {
    let forest = IsolationForestParams::default().check().expect("params");
    bench_family(c, "isolation_forest_x8", 8, &forest, 1_000_000);
    let lof = LofParams::default().check().expect("params");
    bench_family(c, "lof_x8", 8, &lof, NEIGHBOURS_MAX);
    bench_family(c, "lof_x38", 38, &lof, NEIGHBOURS_MAX);
    let knn = KnnParams::default().check().expect("params");
    bench_family(c, "knn_x8", 8, &knn, NEIGHBOURS_MAX);
    bench_family(c, "knn_x38", 38, &knn, NEIGHBOURS_MAX);
}

criterion_group!(benches, point_families);
criterion_main!(benches);
