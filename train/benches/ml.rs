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

/// Under `cargo bench`: 1k to 1M rows at 8 dimensions; at 38 dimensions the neighbour search
/// is a quadratic exhaustive pass (≈ 2.5 h for 1M × 1M), so it stops at 100k there.
fn sizes(dim: usize) -> Vec<usize> {
    if std::env::args().any(|a| a == "--bench") {
        if dim > 15 {
            vec![1_000, 10_000, 100_000]
        } else {
            vec![1_000, 10_000, 100_000, 1_000_000]
        }
    } else {
        vec![1_000]
    }
}

fn bench_family<F: PointFamily>(c: &mut Criterion, name: &str, dim: usize, family: &F) {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    for n in sizes(dim) {
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
    bench_family(c, "isolation_forest_x8", 8, &forest);
    let lof = LofParams::default().check().expect("params");
    bench_family(c, "lof_x8", 8, &lof);
    bench_family(c, "lof_x38", 38, &lof);
    let knn = KnnParams::default().check().expect("params");
    bench_family(c, "knn_x8", 8, &knn);
    bench_family(c, "knn_x38", 38, &knn);
}

criterion_group!(benches, point_families);
criterion_main!(benches);
