//! How long a pull takes against a real local Prometheus: 30 days of 1-minute data for 50
//! series (43,201 points each, 4 requests per query), parsed, laid on the grid and written as
//! Parquet + pull.json.
//!
//! `cargo bench -p vigil-pull --bench pull` backfills the data with `promtool` (a minute or
//! so), starts `prometheus` on a free 127.0.0.1 port and times the pull. Run in test mode
//! (`cargo test --benches`, as CI does) it uses 1 day x 5 series so it stays quick. Needs
//! Debian's `prometheus` package; without it the bench says SKIPPED (and fails under `CI`).

#[path = "../tests/pull/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use vigil_pull::{PullSpec, QueryArg, ServerUrl, resolve_names, write_pull};

use harness::{PromServer, T0_MS, T0_S, real_server_available};

/// `(days, series)`: the full measurement under `cargo bench`, a smoke run otherwise;
/// `VIGIL_PULL_BENCH_SIZE=DAYSxSERIES` (e.g. `30x50`) overrides both.
fn size() -> (i64, usize) {
    if let Ok(text) = std::env::var("VIGIL_PULL_BENCH_SIZE")
        && let Some((days, series)) = text.split_once('x')
        && let (Ok(days), Ok(series)) = (days.parse(), series.parse())
    {
        return (days, series);
    }
    if std::env::args().any(|a| a == "--bench") {
        (30, 50)
    } else {
        (1, 5)
    }
}

/// `node_load{instance="host-NN"}` gauges sampled every minute, values from a fixed formula.
fn openmetrics(days: i64, series: usize) -> String {
    let minutes = days * 1_440 + 1;
    let mut text = String::with_capacity(minutes as usize * series * 50);
    text.push_str("# TYPE node_load gauge\n");
    for s in 0..series {
        for i in 0..minutes {
            let value = ((i * 7 + s as i64 * 13) % 1_000) as f64 / 8.0;
            text.push_str(&format!(
                "node_load{{instance=\"host-{s:02}\"}} {value} {}\n",
                T0_S + 60 * i
            ));
        }
    }
    text.push_str("# EOF\n");
    text
}

fn bench_pull(c: &mut Criterion) {
    if !real_server_available("bench pull") {
        return;
    }
    let (days, series) = size();
    let started = Instant::now();
    let server = PromServer::start(&openmetrics(days, series));
    eprintln!(
        "backfilled and started Prometheus with {series} series x {days} day(s) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let queries = resolve_names(vec![QueryArg::parse("load=node_load")]).expect("query");
    let end = T0_MS + days * 86_400_000;
    let mut spec = PullSpec::new(
        ServerUrl::parse(&server.url).expect("url"),
        queries,
        T0_MS,
        end,
        60_000,
    );
    spec.timeout = Duration::from_secs(120);
    let out = tempfile::tempdir().expect("temp dir");
    let dir = out.path().join("pulled");

    // One pull timed by hand as well, so that the figure also shows in test mode
    // (`cargo test --benches`, where criterion runs each routine once without timing).
    let once = Instant::now();
    let pulled = spec
        .clone()
        .check()
        .expect("spec")
        .run(&mut |_| {})
        .expect("pull");
    let pulled_in = once.elapsed();
    write_pull(&dir, &spec, &pulled, true).expect("write");
    eprintln!(
        "one pull of {series} series x {} points: {:.2} s (+ {:.2} s to write Parquet and pull.json)",
        pulled.grid.points,
        pulled_in.as_secs_f64(),
        once.elapsed().as_secs_f64() - pulled_in.as_secs_f64()
    );

    let mut group = c.benchmark_group("prometheus_pull");
    group.sample_size(10);
    group.bench_function(format!("{days}d_1m_{series}_series"), |b| {
        b.iter(|| {
            let pulled = spec
                .clone()
                .check()
                .expect("spec")
                .run(&mut |_| {})
                .expect("pull");
            assert_eq!(pulled.series[0].channels(), series);
            write_pull(&dir, &spec, &pulled, true).expect("write")
        });
    });
    group.finish();
}

criterion_group!(benches, bench_pull);
criterion_main!(benches);
