//! Registry write throughput on SQLite (a WAL file in a temp dir, synchronous=FULL):
//! metric points per second when a run's metrics are written in one batched transaction,
//! whole runs per second, and alias moves per second.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use vigil_registry::{
    ExpectedAlias, MetricPoint, NamedArtifact, NewVersion, Registry, RunInfo, RunRecord,
};

fn open() -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let registry = Registry::open(&url).expect("open");
    (dir, registry)
}

/// `n` points over 10 keys, built outside the timed loop.
fn points(n: usize) -> Vec<MetricPoint> {
    (0..n)
        .map(|i| MetricPoint {
            key: format!("metric_{}", i % 10),
            value: i as f64 * 0.5,
            step: (i / 10) as i64,
            timestamp_ms: 1_700_000_000_000 + i as i64,
        })
        .collect()
}

fn metric_points(c: &mut Criterion) {
    let (_dir, registry) = open();
    let mut group = c.benchmark_group("metric_points");
    group.sample_size(10);
    for n in [1_000usize, 10_000, 100_000] {
        let metrics = points(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("log_run", n), &metrics, |b, metrics| {
            let mut record = RunRecord::finished(RunInfo::new("bench"));
            record.metrics = metrics.clone();
            b.iter(|| black_box(registry.log_run(&record).expect("log run")));
        });
        group.bench_with_input(
            BenchmarkId::new("log_metrics", n),
            &metrics,
            |b, metrics| {
                b.iter(|| {
                    let id = registry.start_run(&RunInfo::new("bench")).expect("start");
                    registry.log_metrics(&id, metrics).expect("log metrics");
                    black_box(id)
                });
            },
        );
    }
    group.finish();
}

fn whole_runs(c: &mut Criterion) {
    let (_dir, registry) = open();
    let mut record = RunRecord::finished(RunInfo::new("bench"));
    record.metrics = points(20);
    for p in 0..3 {
        record.params.insert(format!("param_{p}"), p.to_string());
    }
    let mut group = c.benchmark_group("runs");
    group.throughput(Throughput::Elements(1));
    group.bench_function("log_run_20_metrics_3_params", |b| {
        b.iter(|| black_box(registry.log_run(&record).expect("log run")));
    });
    group.finish();
}

fn alias_moves(c: &mut Criterion) {
    let (_dir, registry) = open();
    let state = registry
        .put_artifact(b"{}", "application/json")
        .expect("state");
    for _ in 0..2 {
        registry
            .register_version(&NewVersion {
                model: "bench".to_owned(),
                run_id: None,
                spec: serde_json::json!({"kind": "ewma"}),
                state_artifact: "state.json".to_owned(),
                artifacts: vec![NamedArtifact {
                    name: "state.json".to_owned(),
                    artifact: state.clone(),
                }],
                threshold: 1.0,
                alert_policy: serde_json::json!({}),
                metrics: Default::default(),
                datasets: Vec::new(),
                description: String::new(),
                created_by: "bench".to_owned(),
            })
            .expect("register");
    }
    let mut group = c.benchmark_group("alias_moves");
    group.throughput(Throughput::Elements(1));
    let mut to = 1;
    group.bench_function("move_alias_cas", |b| {
        b.iter(|| {
            let from = ExpectedAlias::from_current(
                registry
                    .aliases("bench")
                    .expect("aliases")
                    .get("champion")
                    .copied(),
            );
            to = 3 - to;
            black_box(
                registry
                    .move_alias("bench", "champion", to, from, "bench", "benchmark")
                    .expect("move"),
            )
        });
    });
    group.finish();
}

criterion_group!(benches, metric_points, whole_runs, alias_moves);
criterion_main!(benches);
