//! Loading speed of the row-based layouts on the real development data: all SMD machines
//! (5 × ~47k rows × 38 columns, 66 MB of text), all ASD entities, and all 51 UCR series.
//!
//! Throughput is reported in rows (time steps); multiply by the column count for values.
//! Run: `cargo bench -p vigil-datasets --bench load_rowbased -- --warm-up-time 1 --measurement-time 3`

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_datasets::{Dataset, load_asd, load_smd, load_ucr};

fn shared(name: &str) -> PathBuf {
    vigil_testkit::dataset(name)
}

fn bench_layout(
    c: &mut Criterion,
    name: &str,
    load: fn(&std::path::Path) -> vigil_datasets::Result<Dataset>,
) {
    let dir = shared(name);
    let rows = load(&dir).unwrap_or_else(|e| panic!("{e}")).row_count();
    let mut group = c.benchmark_group("load_rowbased");
    group.throughput(Throughput::Elements(rows as u64));
    group.sample_size(10);
    group.bench_function(name, |b| {
        b.iter(|| load(&dir).unwrap_or_else(|e| panic!("{e}")))
    });
    group.finish();
}

fn loaders(c: &mut Criterion) {
    bench_layout(c, "smd", load_smd);
    bench_layout(c, "asd", load_asd);
    bench_layout(c, "ucr", load_ucr);
}

criterion_group!(benches, loaders);
criterion_main!(benches);
