//! Generation speed at the default size (5 series × 8,064 rows) and at 100k rows per series.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use vigil_datasets::synth::{SynthConfig, generate};

fn bench_generate(c: &mut Criterion) {
    let mut group = c.benchmark_group("synth_generate");
    group.sample_size(20);
    for length in [8_064usize, 100_000] {
        let config = SynthConfig {
            length,
            ..SynthConfig::with_seed(7)
        };
        let rows = (length * config.metrics.len()) as u64;
        group.throughput(Throughput::Elements(rows));
        group.bench_with_input(BenchmarkId::from_parameter(length), &config, |b, config| {
            b.iter(|| generate(black_box(config)).expect("valid config"));
        });
    }
    group.finish();
}

criterion_group!(benches, bench_generate);
criterion_main!(benches);
