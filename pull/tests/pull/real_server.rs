//! Against a real Prometheus 2.42 over backfilled data with known series: every value, the
//! gap, the counter reset, the chunk boundaries and the incident windows.
//!
//! Prometheus semantics the expectations encode (checked on 2.42): an instant selector at time
//! `t` takes the latest sample in `[t - 5m, t]` (the default lookback, both ends inclusive), so
//! after a series stops, its last value is returned for up to 5 minutes and then nothing; a
//! range selector `x[10m]` at `t` holds the samples in `[t - 10m, t]`. Backfilled data has no
//! staleness markers, so this lookback is what ends a series here (a live scrape ends it at
//! once with a staleness marker).

use std::time::Duration;

use vigil_datasets::{GenericOptions, load_generic};
use vigil_pull::client::Client;
use vigil_pull::{
    Auth, PullError, PullSpec, QueryArg, RetryPolicy, ServerUrl, read_metadata, resolve_names,
    write_pull,
};

use super::harness::{PromServer, T0_MS, T0_S, out_dir, read, real_server_available};

/// Minutes of data: 12,000 one-minute samples, more than one 11,000-point request holds.
const MINUTES: i64 = 12_000;
/// Prometheus' default lookback, in minutes.
const LOOKBACK: i64 = 5;

/// Room a's temperature: a gap of 30 minutes at 3000..3030.
fn temp_a(i: i64) -> Option<f64> {
    (!(3_000..3_030).contains(&i)).then_some(20.0 + (i % 97) as f64 * 0.25)
}

/// Room b's temperature: starts at minute 100.
fn temp_b(i: i64) -> Option<f64> {
    (i >= 100).then_some(10.0 + (i % 13) as f64)
}

/// A counter growing by 3 a minute that resets to 0 at minute 6000 and then grows by 2.
fn requests(i: i64) -> Option<f64> {
    Some(if i < 6_000 { 3 * i } else { 2 * (i - 6_000) } as f64)
}

/// One `ALERTS` label set (alertname, alertstate, severity, identity label) and its active
/// minutes (inclusive spans).
type Alert = (
    &'static str,
    &'static str,
    &'static str,
    (&'static str, &'static str),
    &'static [(i64, i64)],
);

/// The alert history.
const ALERTS: [Alert; 3] = [
    (
        "HighTemp",
        "firing",
        "critical",
        ("room", "a"),
        &[(1_000, 1_010), (5_000, 5_100)],
    ),
    (
        "HighTemp",
        "pending",
        "critical",
        ("room", "a"),
        &[(995, 999), (4_990, 4_999)],
    ),
    (
        "ApiDown",
        "firing",
        "warning",
        ("job", "api"),
        &[(7_000, 7_004)],
    ),
];

fn openmetrics() -> String {
    let mut text = String::new();
    text.push_str(
        "# HELP temperature_celsius Room temperature.\n# TYPE temperature_celsius gauge\n",
    );
    for (room, f) in [("a", temp_a as fn(i64) -> Option<f64>), ("b", temp_b)] {
        for i in 0..MINUTES {
            if let Some(v) = f(i) {
                text.push_str(&format!(
                    "temperature_celsius{{room=\"{room}\"}} {v} {}\n",
                    T0_S + 60 * i
                ));
            }
        }
    }
    text.push_str("# HELP requests Requests served.\n# TYPE requests counter\n");
    for i in 0..MINUTES {
        if let Some(v) = requests(i) {
            text.push_str(&format!(
                "requests_total{{job=\"api\"}} {v} {}\n",
                T0_S + 60 * i
            ));
        }
    }
    text.push_str("# HELP ALERTS Alert history.\n# TYPE ALERTS gauge\n");
    for (name, state, severity, (label, value), spans) in ALERTS {
        for &(first, last) in spans {
            for i in first..=last {
                text.push_str(&format!(
                    "ALERTS{{alertname=\"{name}\",alertstate=\"{state}\",severity=\"{severity}\",{label}=\"{value}\"}} 1 {}\n",
                    T0_S + 60 * i
                ));
            }
        }
    }
    text.push_str("# EOF\n");
    text
}

/// What an instant selector returns at `t_ms` for a series sampled each minute by `f`.
fn lookback(f: fn(i64) -> Option<f64>, t_ms: i64) -> Option<f64> {
    let latest = (t_ms - T0_MS).div_euclid(60_000);
    (latest - LOOKBACK..=latest)
        .rev()
        .filter(|i| (0..MINUTES).contains(i))
        .filter(|i| T0_MS + 60_000 * i >= t_ms - LOOKBACK * 60_000)
        .find_map(f)
}

fn spec(server: &PromServer, queries: &[&str], start: i64, end: i64, step: i64) -> PullSpec {
    let url = ServerUrl::parse(&server.url).expect("server url");
    let queries =
        resolve_names(queries.iter().map(|q| QueryArg::parse(q)).collect()).expect("queries");
    let mut spec = PullSpec::new(url, queries, start, end, step);
    spec.retry = RetryPolicy {
        max_retries: 1,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(50),
    };
    spec
}

fn same(got: f64, want: Option<f64>) -> bool {
    match want {
        Some(w) => got == w,
        None => got.is_nan(),
    }
}

#[test]
fn real_prometheus_pull() {
    if !real_server_available("real_prometheus_pull") {
        return;
    }
    let server = PromServer::start(&openmetrics());
    let last = T0_MS + (MINUTES - 1) * 60_000;
    full_range_with_incidents(&server, last);
    chunk_boundaries_do_not_change_values(&server);
    counters(&server, last);
    server_side_errors(&server, last);
}

/// The whole range at 1m: 12,000 points in two requests (11,000 + 1,000).
fn full_range_with_incidents(server: &PromServer, last: i64) {
    let mut spec = spec(
        server,
        &[
            "temps=temperature_celsius",
            "reqs=rate(requests_total[5m])",
            "req_resets=resets(requests_total[10m])",
        ],
        T0_MS,
        last,
        60_000,
    );
    spec.incidents = Some("ALERTS{alertstate=\"firing\"}".to_owned());
    let valid = spec.clone().check().expect("valid spec");
    let mut events = Vec::new();
    let pulled = valid
        .run(&mut |p| events.push(format!("{p:?}")))
        .expect("pull");
    assert_eq!(pulled.grid.points, MINUTES as u64);
    assert!(
        events
            .iter()
            .any(|e| e.contains("Chunk { name: \"temps\", done: 2, chunks: 2 }")),
        "{events:?}"
    );
    assert!(pulled.reports.iter().all(|r| r.chunks == 2));

    // Every temperature value against the lookback model; the gap is NaN after 5 minutes.
    let temps = &pulled.series[0];
    assert_eq!(temps.name, "temps");
    assert_eq!(
        temps.columns,
        [
            "temperature_celsius{room=\"a\"}",
            "temperature_celsius{room=\"b\"}"
        ]
    );
    for (k, &t) in temps.timestamps.iter().enumerate() {
        assert_eq!(t, T0_MS + 60_000 * k as i64);
        for (j, f) in [temp_a as fn(i64) -> Option<f64>, temp_b]
            .into_iter()
            .enumerate()
        {
            let got = temps.values[[k, j]];
            assert!(
                same(got, lookback(f, t)),
                "temps row {k} column {j}: got {got}, want {:?}",
                lookback(f, t)
            );
        }
    }
    let gap: Vec<usize> = (0..temps.len())
        .filter(|&k| temps.values[[k, 0]].is_nan())
        .collect();
    assert_eq!(gap, (3_005..3_030).collect::<Vec<_>>(), "room a's NaN rows");
    assert_eq!(
        temps.values[[3_004, 0]],
        temp_a(2_999).unwrap_or_default(),
        "last value carried for the lookback"
    );
    assert_eq!(
        (0..temps.len())
            .filter(|&k| temps.values[[k, 1]].is_nan())
            .count(),
        100
    );

    // rate() equals the counter's slope wherever its 5m window holds no reset.
    let reqs = &pulled.series[1];
    assert_eq!(reqs.name, "reqs");
    assert_eq!(reqs.columns, ["{job=\"api\"}"]);
    for k in (6..5_990).chain(6_006..MINUTES as usize) {
        let slope = if k < 6_000 { 3.0 } else { 2.0 } / 60.0;
        let got = reqs.values[[k, 0]];
        assert!(
            (got - slope).abs() <= 1e-9 * slope,
            "rate row {k}: {got} vs {slope}"
        );
    }
    // resets() sees the reset exactly while both samples are inside [t - 10m, t].
    let resets = &pulled.series[2];
    for k in 0..MINUTES as usize {
        let want = if (6_000..=6_009).contains(&k) {
            1.0
        } else {
            0.0
        };
        assert_eq!(resets.values[[k, 0]], want, "resets row {k}");
    }

    // Incident windows: firing runs, extended by the lookback; pending ones skipped; each
    // alert labels the query whose labels it agrees with (room=a -> temps, job=api -> reqs
    // and req_resets).
    let rows = pulled.labels.clone().expect("labels");
    let got: Vec<(String, i64, i64, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.series.clone(),
                (r.incident.start - T0_MS) / 60_000,
                (r.incident.end - T0_MS) / 60_000,
                r.incident.kind.clone().unwrap_or_default(),
                r.incident.severity.clone().unwrap_or_default(),
            )
        })
        .collect();
    let row =
        |s: &str, a, b, k: &str, sev: &str| (s.to_owned(), a, b, k.to_owned(), sev.to_owned());
    assert_eq!(
        got,
        [
            row("req_resets", 7_000, 7_004 + LOOKBACK, "ApiDown", "warning"),
            row("reqs", 7_000, 7_004 + LOOKBACK, "ApiDown", "warning"),
            row("temps", 1_000, 1_010 + LOOKBACK, "HighTemp", "critical"),
            row("temps", 5_000, 5_100 + LOOKBACK, "HighTemp", "critical"),
        ]
    );
    assert_eq!(pulled.alert_series, 2);

    // The folder reads back through the generic loader as the same dataset.
    let (_guard, out) = out_dir();
    let metadata = write_pull(&out, &spec, &pulled, false).expect("write");
    let labels_csv = read(&out.join("labels.csv"));
    assert!(
        labels_csv.starts_with("series,start,end,kind,severity\n"),
        "{labels_csv}"
    );
    assert!(
        labels_csv
            .contains("temps,2024-01-01T16:40:00.000Z,2024-01-01T16:55:00.000Z,HighTemp,critical"),
        "{labels_csv}"
    );
    let dataset =
        load_generic(&out, &GenericOptions::default()).expect("load_generic reads the pull folder");
    let names: Vec<&str> = dataset.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["req_resets", "reqs", "temps"]);
    assert_eq!(dataset.fingerprint(), metadata.fingerprint);
    assert_eq!(dataset.incident_count(), 4);
    let back = dataset.get("temps").expect("temps");
    assert_eq!(back.columns, temps.columns);
    assert_eq!(back.timestamps, temps.timestamps);
    assert!(
        back.values
            .iter()
            .zip(temps.values.iter())
            .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()))
    );

    let meta = read_metadata(&out).expect("pull.json");
    assert_eq!(meta, metadata);
    assert_eq!(meta.server, server.url);
    assert_eq!(
        (meta.step.as_str(), meta.points, meta.auth.as_str()),
        ("1m", MINUTES as u64, "none")
    );
    assert_eq!(meta.start, "2024-01-01T00:00:00.000Z");
    assert_eq!(meta.queries[0].file, "temps.parquet");
    assert_eq!(
        meta.queries[0].report.samples,
        (2 * MINUTES - 100 - 25) as u64
    );
    assert_eq!(meta.incidents.as_ref().map(|i| i.windows), Some(4));

    // A second pull into the same folder needs --overwrite.
    let again = write_pull(&out, &spec, &pulled, false)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        again.contains("already holds data files") && again.contains("--overwrite"),
        "{again}"
    );
    assert!(write_pull(&out, &spec, &pulled, true).is_ok());
}

/// Tiny chunks, a start between samples and a coarser step give the same values as the model
/// at every evaluation time: no point is lost or doubled at a boundary.
fn chunk_boundaries_do_not_change_values(server: &PromServer) {
    let start = T0_MS + 2_950 * 60_000 + 30_000;
    let end = start + 199 * 60_000;
    let mut one = spec(
        server,
        &["temperature_celsius{room=\"a\"}"],
        start,
        end,
        60_000,
    );
    let mut many = one.clone();
    many.points_per_chunk = 7;
    one.points_per_chunk = 11_000;
    let a = one
        .check()
        .expect("spec")
        .run(&mut |_| {})
        .expect("one chunk");
    let b = many
        .check()
        .expect("spec")
        .run(&mut |_| {})
        .expect("many chunks");
    assert_eq!(b.reports[0].chunks, 29);
    assert_eq!(a.series[0].timestamps, b.series[0].timestamps);
    for (k, &t) in b.series[0].timestamps.iter().enumerate() {
        let want = lookback(temp_a, t);
        assert!(
            same(a.series[0].values[[k, 0]], want) && same(b.series[0].values[[k, 0]], want),
            "row {k} at {t}"
        );
    }

    let coarse = spec(
        server,
        &["temperature_celsius{room=\"b\"}"],
        T0_MS,
        T0_MS + 11_999 * 60_000,
        7 * 60_000,
    );
    let mut coarse = coarse;
    coarse.points_per_chunk = 100;
    let pulled = coarse
        .check()
        .expect("spec")
        .run(&mut |_| {})
        .expect("coarse");
    assert_eq!(pulled.grid.points, 11_999 / 7 + 1);
    for (k, &t) in pulled.series[0].timestamps.iter().enumerate() {
        assert!(
            same(pulled.series[0].values[[k, 0]], lookback(temp_b, t)),
            "coarse row {k}"
        );
    }
}

fn counters(server: &PromServer, last: i64) {
    // Refused before any request, and by the answer when a regex hides the name.
    let refused = spec(server, &["requests_total"], T0_MS, last, 60_000)
        .check()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        refused.contains("raw counter requests_total")
            && refused.contains("rate(requests_total[5m])"),
        "{refused}"
    );
    let hidden = spec(
        server,
        &["{__name__=~\"requests_.*\"}"],
        T0_MS,
        last,
        60_000,
    )
    .check()
    .expect("passes the text check")
    .run(&mut |_| {});
    assert!(
        matches!(hidden, Err(PullError::RawCounter { ref metric, .. }) if metric == "requests_total"),
        "{hidden:?}"
    );

    // Allowed: the raw values, reset included.
    let mut allowed = spec(server, &["requests_total"], T0_MS, last, 60_000);
    allowed.allow_counter = true;
    let pulled = allowed
        .check()
        .expect("spec")
        .run(&mut |_| {})
        .expect("raw counter pull");
    let column = pulled.series[0].values.column(0).to_vec();
    assert_eq!(column.len(), MINUTES as usize);
    for (i, v) in column.iter().enumerate() {
        assert_eq!(Some(*v), requests(i as i64), "counter row {i}");
    }
    assert_eq!(column[6_000], 0.0);
}

fn server_side_errors(server: &PromServer, last: i64) {
    // Prometheus itself refuses one request of 12,000 points: the chunking is what makes the
    // full-range pull work.
    let client = Client::new(
        ServerUrl::parse(&server.url).expect("url"),
        Auth::None,
        RetryPolicy::default(),
        Duration::from_secs(30),
    );
    let whole = client
        .query_range("temps", "temperature_celsius", T0_MS, last, 60_000)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        whole.contains("exceeded maximum resolution of 11,000 points"),
        "{whole}"
    );

    let syntax = spec(
        server,
        &["bad=rate(temperature_celsius[5m)"],
        T0_MS,
        last,
        60_000,
    )
    .check()
    .expect("spec")
    .run(&mut |_| {});
    let message = syntax.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.starts_with(
            "query \"bad\": Prometheus rejected the PromQL rate(temperature_celsius[5m): 1:"
        ),
        "{message}"
    );
    assert!(
        message.contains("parse error") && message.contains("hint:") && !message.contains('\n'),
        "{message}"
    );

    let empty = spec(
        server,
        &["none=temperature_celsius{room=\"nowhere\"}"],
        T0_MS,
        last,
        60_000,
    )
    .check()
    .expect("spec")
    .run(&mut |_| {});
    let message = empty.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.starts_with("query \"none\" (temperature_celsius{room=\"nowhere\"}) returned no series between 2024-01-01T00:00:00.000Z and"), "{message}");
}
