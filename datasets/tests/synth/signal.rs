//! The clean signal looks like a web service: seasonality, trend, correlation, clamps.

use super::{clean_twin, column, config, gen_ok, series};

/// Autocorrelation at `lag`, over pairs where both values are present.
fn acf(xs: &[f64], lag: usize) -> f64 {
    let pairs: Vec<(f64, f64)> = xs
        .iter()
        .zip(&xs[lag..])
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .map(|(&a, &b)| (a, b))
        .collect();
    let present: Vec<f64> = xs.iter().copied().filter(|v| !v.is_nan()).collect();
    let mean = present.iter().sum::<f64>() / present.len() as f64;
    let var = present.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / present.len() as f64;
    pairs
        .iter()
        .map(|(a, b)| (a - mean) * (b - mean))
        .sum::<f64>()
        / pairs.len() as f64
        / var
}

fn pearson(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let cov: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let vx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let vy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

fn mean(xs: &[f64]) -> f64 {
    let present: Vec<f64> = xs.iter().copied().filter(|v| !v.is_nan()).collect();
    present.iter().sum::<f64>() / present.len() as f64
}

#[test]
fn request_rate_has_daily_and_weekly_seasonality() {
    for seed in [1, 7] {
        let ds = gen_ok(&config(seed));
        let rate = column(series(&ds, "request_rate"));
        let (day, half_day, week) = (acf(&rate, 288), acf(&rate, 144), acf(&rate, 2016));
        assert!(day > 0.6, "lag-1d autocorrelation {day}");
        assert!(day > half_day + 0.8, "lag 1d {day} vs lag 12h {half_day}");
        assert!(
            week > day,
            "a week back matches better than a day back: {week} vs {day}"
        );
        // Weekends are quieter than weekdays (rows 0..1440 are Monday–Friday of week 1).
        let weekdays = mean(&rate[..1440]);
        let weekend = mean(&rate[1440..2016]);
        assert!(
            weekend < 0.75 * weekdays,
            "weekend {weekend} vs weekdays {weekdays}"
        );
    }
}

#[test]
fn metrics_follow_load_and_trends_grow() {
    let clean = clean_twin(&config(2));
    let rate = column(series(&clean, "request_rate"));
    let latency = column(series(&clean, "latency_p99_ms"));
    let cpu = column(series(&clean, "cpu_utilisation"));
    assert!(
        pearson(&rate, &cpu) > 0.8,
        "cpu vs load {}",
        pearson(&rate, &cpu)
    );
    assert!(
        pearson(&rate, &latency) > 0.5,
        "latency vs load {}",
        pearson(&rate, &latency)
    );
    // Four weeks of growth: the last week is busier than the first.
    let first_week = mean(&rate[..2016]);
    let last_week = mean(&rate[rate.len() - 2016..]);
    assert!(last_week > first_week * 1.05, "{first_week} -> {last_week}");
    // Latency is right-skewed (log-normal noise): mean above median.
    let mut sorted = latency.clone();
    sorted.sort_by(f64::total_cmp);
    assert!(mean(&latency) > sorted[sorted.len() / 2]);
}

#[test]
fn memory_has_a_gc_sawtooth() {
    let clean = clean_twin(&config(4));
    let memory = column(series(&clean, "memory_bytes"));
    // A drop of more than half the 250 MB sawtooth, every 3 hours: 8 a day for 28 days.
    let drops = memory.windows(2).filter(|w| w[1] - w[0] < -1.25e8).count();
    assert!((220..=226).contains(&drops), "{drops} GC drops");
    let rises = memory.windows(2).filter(|w| w[1] > w[0]).count();
    assert!(
        rises > memory.len() / 2,
        "memory mostly rises between collections"
    );
}

#[test]
fn clamps_hold_with_and_without_anomalies() {
    for seed in 0..6 {
        for ds in [gen_ok(&config(seed)), clean_twin(&config(seed))] {
            for s in &ds.series {
                let values = column(s);
                let present = values.iter().filter(|v| !v.is_nan());
                match s.name.as_str() {
                    "cpu_utilisation" | "error_rate" => {
                        assert!(
                            present.clone().all(|v| (0.0..=1.0).contains(v)),
                            "{}",
                            s.name
                        );
                    }
                    _ => assert!(present.clone().all(|&v| v >= 0.0), "{}", s.name),
                }
                // No −0: every zero has the bits of +0, so it reads back identically.
                assert!(
                    values.iter().all(|v| v.to_bits() != (-0.0f64).to_bits()),
                    "{}",
                    s.name
                );
            }
        }
    }
}

#[test]
fn anomalies_stay_within_a_plausible_envelope() {
    // Every level shift or drift that can persist does, the case where a runaway would show.
    for seed in 0..12 {
        let mut cfg = config(seed);
        cfg.anomalies.persist_probability = 1.0;
        let (ds, clean) = (gen_ok(&cfg), clean_twin(&cfg));
        for s in &ds.series {
            let base = column(series(&clean, &s.name));
            let top = base.iter().copied().fold(f64::MIN, f64::max);
            let values = column(s);
            assert!(values.iter().all(|v| v.is_nan() || v.is_finite()));
            let worst = values
                .iter()
                .copied()
                .filter(|v| !v.is_nan())
                .fold(f64::MIN, f64::max);
            assert!(
                worst <= 200.0 * top,
                "seed {seed} {}: {worst} vs clean max {top}",
                s.name
            );
        }
    }
}
