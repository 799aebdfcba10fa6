//! Times vigil's Holt-Winters fit on one week of 5-minute data (the 2,016-row synthetic week
//! of the statsmodels fixture, season 288), for `benches/peers/holt_winters.py`, which times
//! statsmodels on the same data and prints both side by side.
//!
//! Build once with the workspace (`cargo build --release --workspace --examples`), then run
//! `target/release/examples/hw_week [repeats]`. Prints one JSON object per configuration and
//! initialisation: the median and every wall time in ms, the SSE and the SSE evaluations.

use std::time::Instant;

use vigil_train::detectors::holt_winters::{Component, HoltWintersParams, Initialization};

fn week() -> Result<Vec<f64>, String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/holt_winters_statsmodels/expected.json"
    );
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    json["synthetic"]
        .as_array()
        .ok_or("no synthetic series in the fixture")?
        .iter()
        .map(|v| {
            v.as_f64()
                .ok_or_else(|| "a non-number in the series".to_string())
        })
        .collect()
}

fn main() -> Result<(), String> {
    let repeats: usize = match std::env::args().nth(1) {
        Some(text) => text
            .parse()
            .map_err(|e| format!("repeats {text:?}: {e} (hint: give a count such as 15)"))?,
        None => 15,
    };
    let y = week()?;
    for (seasonal, seasonal_name) in [(Component::Add, "add"), (Component::Mul, "mul")] {
        for (initialization, init_name) in [
            (Initialization::Simple, "simple"),
            (Initialization::Heuristic, "heuristic"),
            (Initialization::Estimated, "estimated"),
        ] {
            let valid = HoltWintersParams::default()
                .with_trend(Component::Add, true)
                .with_seasonal(seasonal, Some(288))
                .with_initialization(initialization)
                .check()
                .map_err(|e| e.to_string())?;
            let mut times = Vec::with_capacity(repeats);
            let mut fitted = None;
            for _ in 0..repeats.max(1) {
                let started = Instant::now();
                let channel = valid.fit_values(&y).map_err(|e| e.to_string())?;
                times.push(started.elapsed().as_secs_f64() * 1e3);
                fitted = Some(channel);
            }
            let channel = fitted.ok_or("no fit ran")?;
            let mut sorted = times.clone();
            sorted.sort_by(f64::total_cmp);
            let median = sorted[sorted.len() / 2];
            println!(
                "{}",
                serde_json::json!({
                    "trend": "add", "damped": true, "seasonal": seasonal_name, "period": 288,
                    "initialization": init_name, "median_ms": median, "times_ms": times,
                    "sse": channel.sse, "evaluations": channel.evaluations,
                })
            );
        }
    }
    Ok(())
}
