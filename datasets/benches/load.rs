//! Load speed of the timestamped loaders on the real NAB corpus (31 files, 139k rows):
//! NAB's own CSV layout, the same series as generic CSV and as Parquet (written once in setup to
//! a temporary folder), and the timestamp parser alone.
//!
//! `cargo bench -p vigil-datasets --bench load -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_datasets::{
    GenericOptions, format_timestamp, load_generic, load_nab, parse_timestamp, write_csv,
    write_parquet,
};

fn nab_dir() -> PathBuf {
    vigil_testkit::dataset("nab")
}

fn load(c: &mut Criterion) {
    let nab = nab_dir();
    let dataset = load_nab(&nab).expect("NAB loads");
    let rows = dataset.row_count() as u64;
    let scratch = tempfile::tempdir().expect("temporary folder");
    let csv_dir = scratch.path().join("csv");
    let parquet_dir = scratch.path().join("parquet");
    for dir in [&csv_dir, &parquet_dir] {
        std::fs::create_dir_all(dir).expect("create folder");
    }
    for series in &dataset.series {
        let stem = series.name.trim_end_matches(".csv").replace('/', "__");
        write_csv(series, &csv_dir.join(format!("{stem}.csv"))).expect("write csv");
        write_parquet(series, &parquet_dir.join(format!("{stem}.parquet"))).expect("write parquet");
    }
    let options = GenericOptions::default();

    let mut group = c.benchmark_group("load_all_nab");
    group.throughput(Throughput::Elements(rows));
    group.sample_size(20);
    group.bench_function("nab_layout_csv", |b| {
        b.iter(|| black_box(load_nab(&nab).expect("loads")))
    });
    group.bench_function("generic_csv_rfc3339", |b| {
        b.iter(|| black_box(load_generic(&csv_dir, &options).expect("loads")))
    });
    group.bench_function("generic_parquet", |b| {
        b.iter(|| black_box(load_generic(&parquet_dir, &options).expect("loads")))
    });
    group.finish();
}

fn parse(c: &mut Criterion) {
    const N: i64 = 100_000;
    let naive: Vec<String> = (0..N)
        .map(|i| {
            format_timestamp(1_400_000_000_000 + i * 300_000).replace('T', " ")[..19].to_owned()
        })
        .collect();
    let rfc3339: Vec<String> = (0..N)
        .map(|i| format_timestamp(1_400_000_000_000 + i * 300_000))
        .collect();
    let epoch: Vec<String> = (0..N)
        .map(|i| (1_400_000_000 + i * 300).to_string())
        .collect();
    let mut group = c.benchmark_group("parse_timestamp");
    group.throughput(Throughput::Elements(N as u64));
    for (name, texts) in [
        ("naive_space", &naive),
        ("rfc3339_ms_z", &rfc3339),
        ("epoch_seconds", &epoch),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                texts
                    .iter()
                    .map(|t| parse_timestamp(t).unwrap_or(0))
                    .fold(0i64, i64::wrapping_add)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, load, parse);
criterion_main!(benches);
