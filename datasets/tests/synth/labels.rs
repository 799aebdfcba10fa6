//! Incident labels cover exactly the rows the injection altered.

use std::collections::BTreeSet;

use vigil_datasets::Series;
use vigil_datasets::synth::{
    AnomalyConfig, AnomalyKind, MetricProfile, NoiseModel, Seasonality, SynthConfig,
};

use super::{clean_twin, column, config, gen_ok, series};

fn differs(a: f64, b: f64) -> bool {
    a.to_bits() != b.to_bits()
}

fn kind_of(s: &Series, i: usize) -> AnomalyKind {
    let name = s.incidents[i].kind.as_deref().expect("kind");
    AnomalyKind::parse(name).unwrap_or_else(|| panic!("unknown kind {name}"))
}

#[test]
fn every_kind_appears_in_the_default_config() {
    for seed in 0..10 {
        let ds = gen_ok(&config(seed));
        let kinds: BTreeSet<AnomalyKind> = ds
            .series
            .iter()
            .flat_map(|s| (0..s.incidents.len()).map(move |i| kind_of(s, i)))
            .collect();
        assert_eq!(
            kinds.len(),
            AnomalyKind::ALL.len(),
            "seed {seed}: only {kinds:?}"
        );
    }
}

#[test]
fn each_window_is_exactly_the_altered_rows() {
    for seed in 0..12 {
        let cfg = config(seed);
        let (ds, clean) = (gen_ok(&cfg), clean_twin(&cfg));
        for s in &ds.series {
            let (got, base) = (column(s), column(series(&clean, &s.name)));
            let ranges = s.incident_row_ranges();
            assert_eq!(
                ranges.len(),
                s.incidents.len(),
                "{}: a window covers no row",
                s.name
            );
            for w in ranges.windows(2) {
                assert!(
                    w[0].1 < w[1].0,
                    "seed {seed} {}: windows overlap or are unsorted: {w:?}",
                    s.name
                );
            }
            for (row, (&g, &b)) in got.iter().zip(&base).enumerate() {
                let labelled = ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&row));
                assert!(
                    !differs(g, b) || labelled,
                    "seed {seed} {}: row {row} altered ({b} -> {g}) outside every window",
                    s.name
                );
            }
            for (i, &(lo, hi)) in ranges.iter().enumerate() {
                let kind = kind_of(s, i);
                assert!(
                    differs(got[lo], base[lo]),
                    "seed {seed} {} {kind}: first row {lo} unaltered",
                    s.name
                );
                assert!(
                    differs(got[hi], base[hi]),
                    "seed {seed} {} {kind}: last row {hi} unaltered",
                    s.name
                );
                // The window starts exactly on a row and ends exactly on a row.
                assert_eq!(s.incidents[i].start, s.timestamps[lo]);
                assert_eq!(s.incidents[i].end, s.timestamps[hi]);
                let window = lo..=hi;
                match kind {
                    AnomalyKind::Gap => assert!(window.clone().all(|r| got[r].is_nan())),
                    AnomalyKind::FlatLine => {
                        assert!(window.clone().all(|r| got[r] == got[lo]), "flat line moves");
                        assert_eq!(got[lo], got[lo - 1], "flat line holds the last good value");
                    }
                    AnomalyKind::Spike => assert!(window.clone().all(|r| got[r] >= base[r])),
                    AnomalyKind::Dip => assert!(window.clone().all(|r| got[r] <= base[r])),
                    _ => {}
                }
                let severity = s.incidents[i].severity.as_deref().unwrap_or("");
                assert!(
                    ["info", "warning", "critical"].contains(&severity),
                    "{severity:?}"
                );
                assert!(s.incidents[i].channels.is_empty());
            }
        }
    }
}

#[test]
fn nan_only_inside_gap_windows_and_no_anomaly_in_probation() {
    let mut severities = BTreeSet::new();
    let mut persisted = 0;
    for seed in 0..12 {
        let ds = gen_ok(&config(seed));
        for s in &ds.series {
            let values = column(s);
            let ranges = s.incident_row_ranges();
            for (row, v) in values.iter().enumerate() {
                if v.is_nan() {
                    let in_gap = ranges.iter().enumerate().any(|(i, &(lo, hi))| {
                        (lo..=hi).contains(&row) && kind_of(s, i) == AnomalyKind::Gap
                    });
                    assert!(
                        in_gap,
                        "seed {seed} {}: NaN at row {row} outside a gap window",
                        s.name
                    );
                }
            }
            let probation = (s.len() as f64 * 0.15).ceil() as usize;
            assert!(
                ranges.iter().all(|&(lo, _)| lo >= probation),
                "seed {seed} {}: {ranges:?}",
                s.name
            );
            severities.extend(s.incidents.iter().filter_map(|i| i.severity.clone()));
            persisted += ranges.iter().filter(|&&(_, hi)| hi == s.len() - 1).count();
        }
    }
    assert_eq!(severities.len(), 3, "severities seen: {severities:?}");
    assert!(
        persisted > 0,
        "no level shift or drift ever persisted to the end"
    );
}

#[test]
fn min_start_fraction_and_anomaly_free_configs_are_honoured() {
    let mut cfg = config(5);
    cfg.anomalies.min_start_fraction = 0.5;
    for s in &gen_ok(&cfg).series {
        assert!(
            s.incident_row_ranges()
                .iter()
                .all(|&(lo, _)| lo >= s.len() / 2),
            "{}",
            s.name
        );
    }
    let clean = clean_twin(&config(5));
    assert_eq!(clean.incident_count(), 0);
    assert!(clean.series.iter().all(|s| s.nan_count() == 0));
}

/// A single Gaussian-noise profile, so the local noise scale is known exactly.
fn gaussian_config(kind: AnomalyKind, sigma: f64) -> SynthConfig {
    one_profile_config(kind, NoiseModel::Gaussian { sigma }, Seasonality::Additive)
}

fn one_profile_config(
    kind: AnomalyKind,
    noise: NoiseModel,
    seasonality: Seasonality,
) -> SynthConfig {
    SynthConfig {
        seed: 21,
        metrics: vec![MetricProfile {
            name: "g".into(),
            unit: "u".into(),
            base: 100.0,
            trend_per_day: 0.0,
            seasonality,
            daily_amplitude: if seasonality == Seasonality::Additive {
                5.0
            } else {
                0.3
            },
            weekly_amplitude: if seasonality == Seasonality::Additive {
                2.0
            } else {
                0.1
            },
            noise,
            sawtooth: None,
            min: None,
            max: None,
        }],
        anomalies: AnomalyConfig {
            kinds: vec![kind],
            min_per_series: 3,
            max_per_series: 3,
            persist_probability: 0.0,
            ..AnomalyConfig::default()
        },
        ..SynthConfig::default()
    }
}

#[test]
fn magnitudes_are_measured_in_local_noise_and_set_the_severity() {
    let sigma = 0.5;
    for kind in [
        AnomalyKind::Spike,
        AnomalyKind::Dip,
        AnomalyKind::LevelShift,
    ] {
        let cfg = gaussian_config(kind, sigma);
        let (ds, clean) = (gen_ok(&cfg), clean_twin(&cfg));
        let (s, c) = (&ds.series[0], &clean.series[0]);
        assert_eq!(s.incidents.len(), 3);
        for (inc, (lo, hi)) in s.incidents.iter().zip(s.incident_row_ranges()) {
            let k = (s.values[[lo, 0]] - c.values[[lo, 0]]).abs() / sigma;
            assert!((4.0 - 1e-9..=8.0 + 1e-9).contains(&k), "{kind}: {k} σ");
            for r in lo..=hi {
                let kr = (s.values[[r, 0]] - c.values[[r, 0]]).abs() / sigma;
                assert!((kr - k).abs() < 1e-6, "{kind}: the shift is not constant");
            }
            let want = if k >= 7.0 {
                "critical"
            } else if k >= 5.5 {
                "warning"
            } else {
                "info"
            };
            assert_eq!(inc.severity.as_deref(), Some(want), "{kind} at {k} σ");
        }
    }
}

#[test]
fn variance_change_raises_the_noise_and_drift_ramps() {
    let sigma = 0.5;
    let cfg = gaussian_config(AnomalyKind::VarianceChange, sigma);
    let (ds, clean) = (gen_ok(&cfg), clean_twin(&cfg));
    for (lo, hi) in ds.series[0].incident_row_ranges() {
        let diff: Vec<f64> = (lo..=hi)
            .map(|r| ds.series[0].values[[r, 0]] - clean.series[0].values[[r, 0]])
            .collect();
        let sd = (diff.iter().map(|d| d * d).sum::<f64>() / diff.len() as f64).sqrt();
        // Extra noise σ·sqrt(f² − 1) with f = 1 + k/2 ∈ [3, 5].
        assert!(sd > 2.0 * sigma && sd < 7.0 * sigma, "extra noise sd {sd}");
    }
    let mut cfg = gaussian_config(AnomalyKind::TrendDrift, sigma);
    cfg.anomalies.persist_probability = 1.0;
    let (ds, clean) = (gen_ok(&cfg), clean_twin(&cfg));
    let ranges = ds.series[0].incident_row_ranges();
    assert_eq!(
        ranges.last().map(|r| r.1),
        Some(cfg.length - 1),
        "the last drift persists"
    );
    for (lo, hi) in ranges {
        let d = |r: usize| ds.series[0].values[[r, 0]] - clean.series[0].values[[r, 0]];
        let (first, last) = (d(lo), d(hi));
        assert!(
            last.abs() > 10.0 * first.abs(),
            "no ramp: {first} .. {last}"
        );
        assert!((4.0 - 1e-9..=8.0 + 1e-9).contains(&(last.abs() / sigma)));
        if hi + 1 < ds.series[0].len() {
            assert_eq!(d(hi + 1), 0.0, "the drift drops back after its window");
        }
    }
}

#[test]
fn multiplicative_profiles_move_on_the_log_scale() {
    // Log-normal noise: the log-scale sigma is exactly `sigma`, whatever the level.
    let sigma = 0.2;
    for kind in [
        AnomalyKind::Spike,
        AnomalyKind::Dip,
        AnomalyKind::LevelShift,
    ] {
        let cfg = one_profile_config(
            kind,
            NoiseModel::LogNormal { sigma },
            Seasonality::Multiplicative,
        );
        let (ds, clean) = (gen_ok(&cfg), clean_twin(&cfg));
        let (s, c) = (&ds.series[0], &clean.series[0]);
        assert_eq!(s.incidents.len(), 3);
        for (lo, hi) in s.incident_row_ranges() {
            let log_ratio = |r: usize| (s.values[[r, 0]] / c.values[[r, 0]]).ln() / sigma;
            let k = log_ratio(lo);
            assert!(
                (4.0 - 1e-9..=8.0 + 1e-9).contains(&k.abs()),
                "{kind}: {k} log-σ"
            );
            assert!(kind != AnomalyKind::Dip || k < 0.0);
            assert!(
                (lo..=hi).all(|r| (log_ratio(r) - k).abs() < 1e-6),
                "{kind}: factor not constant"
            );
            assert!(
                (lo..=hi).all(|r| s.values[[r, 0]] > 0.0),
                "{kind}: a multiplicative dip stays positive"
            );
        }
    }
}
