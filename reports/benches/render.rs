//! Rendering cost: the NAB-sized experiment report and min/max downsampling of long series.

#![allow(clippy::unwrap_used)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use vigil_reports::downsample::min_max;
use vigil_reports::render_experiment;

#[path = "../tests/report/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

fn render(c: &mut Criterion) {
    let mut group = c.benchmark_group("render_experiment");
    group.sample_size(10);
    let report = fixtures::experiment(31, 4_500, 15, 3);
    group.bench_function("nab_sized_31x4500_15_families", |b| {
        b.iter(|| render_experiment(&report).unwrap().len())
    });
    group.finish();
}

fn downsample(c: &mut Criterion) {
    let mut group = c.benchmark_group("min_max");
    for n in [1_000usize, 10_000, 100_000, 1_000_000] {
        let mut rng = fixtures::Rng::new(1);
        let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let y: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| min_max(&x, &y, 553).len())
        });
    }
    group.finish();
}

criterion_group!(benches, render, downsample);
criterion_main!(benches);
