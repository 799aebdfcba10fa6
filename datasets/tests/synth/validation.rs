//! Every config rule rejects a bad value with an error naming its key; configs are serde data.

use vigil_datasets::DatasetError;
use vigil_datasets::synth::{AnomalyKind, MinutesRange, NoiseModel, Sawtooth, SynthConfig};

use super::config;

fn rejects(key: &str, mutate: impl FnOnce(&mut SynthConfig)) {
    let mut cfg = config(1);
    mutate(&mut cfg);
    match vigil_datasets::generate(&cfg) {
        Err(DatasetError::InvalidSynthConfig {
            key: got,
            reason,
            hint,
        }) => {
            assert_eq!(got, key, "wrong key (reason: {reason})");
            let msg = DatasetError::InvalidSynthConfig {
                key: got,
                reason,
                hint,
            }
            .to_string();
            assert!(msg.contains(key) && msg.contains("\nhint: "), "{msg}");
        }
        Err(e) => panic!("{key}: unexpected error {e}"),
        Ok(_) => panic!("{key}: a bad value was accepted"),
    }
}

#[test]
fn top_level_rules() {
    rejects("step_ms", |c| c.step_ms = 0);
    rejects("step_ms", |c| c.step_ms = -300_000);
    rejects("length", |c| c.length = 63);
    rejects("start_ms", |c| c.start_ms = i64::MAX - 10);
    rejects("start_ms", |c| c.start_ms = 253_402_300_799_000);
    rejects("metrics", |c| c.metrics.clear());
    // The smallest allowed length works with anomalies turned off.
    let mut short = config(1);
    short.length = 64;
    short.anomalies = vigil_datasets::synth::AnomalyConfig::none();
    assert!(vigil_datasets::generate(&short).is_ok());
}

#[test]
fn profile_rules() {
    rejects("metrics[0].name", |c| c.metrics[0].name = String::new());
    rejects("metrics[0].name", |c| c.metrics[0].name = "a/b".into());
    rejects("metrics[0].name", |c| c.metrics[0].name = ".hidden".into());
    rejects("metrics[1].name", |c| c.metrics[1].name = "labels".into());
    rejects("metrics[2].name", |c| {
        c.metrics[2].name = c.metrics[0].name.clone()
    });
    rejects("metrics[0].base", |c| c.metrics[0].base = f64::NAN);
    rejects("metrics[0].trend_per_day", |c| {
        c.metrics[0].trend_per_day = f64::INFINITY
    });
    rejects("metrics[1].daily_amplitude", |c| {
        c.metrics[1].daily_amplitude = 1.5
    });
    rejects("metrics[1].weekly_amplitude", |c| {
        c.metrics[1].weekly_amplitude = -0.1
    });
    rejects("metrics[4].daily_amplitude", |c| {
        c.metrics[4].daily_amplitude = -1.0
    });
    rejects("metrics[3].noise.sigma", |c| {
        c.metrics[3].noise = NoiseModel::Gaussian { sigma: -1.0 }
    });
    rejects("metrics[0].noise.exposure_seconds", |c| {
        c.metrics[0].noise = NoiseModel::Poisson {
            exposure_seconds: 0.0,
            overdispersion: 0.0,
        }
    });
    rejects("metrics[0].noise.overdispersion", |c| {
        c.metrics[0].noise = NoiseModel::Poisson {
            exposure_seconds: 60.0,
            overdispersion: -0.5,
        }
    });
    let saw = Sawtooth {
        period_minutes: 60.0,
        amplitude: 1.0,
        phase: 0.0,
    };
    rejects("metrics[4].sawtooth.period_minutes", |c| {
        c.metrics[4].sawtooth = Some(Sawtooth {
            period_minutes: 0.0,
            ..saw
        })
    });
    rejects("metrics[4].sawtooth.phase", |c| {
        c.metrics[4].sawtooth = Some(Sawtooth { phase: 1.0, ..saw })
    });
    rejects("metrics[3].min", |c| c.metrics[3].min = Some(2.0));
    rejects("metrics[3].max", |c| c.metrics[3].max = Some(f64::NAN));
}

#[test]
fn anomaly_rules() {
    rejects("anomalies.min_per_series", |c| {
        c.anomalies.min_per_series = 5
    });
    rejects("anomalies.kinds", |c| c.anomalies.kinds.clear());
    rejects("anomalies.min_start_fraction", |c| {
        c.anomalies.min_start_fraction = 1.0
    });
    rejects("anomalies.min_start_fraction", |c| {
        c.anomalies.min_start_fraction = -0.1
    });
    rejects("anomalies.magnitude_min_sigma", |c| {
        c.anomalies.magnitude_min_sigma = 9.0
    });
    rejects("anomalies.magnitude_max_sigma", |c| {
        c.anomalies.magnitude_max_sigma = f64::NAN
    });
    rejects("anomalies.warning_sigma", |c| {
        c.anomalies.warning_sigma = 7.5
    });
    rejects("anomalies.persist_probability", |c| {
        c.anomalies.persist_probability = 1.5
    });
    rejects("anomalies.durations.spike", |c| {
        c.anomalies.durations.spike = MinutesRange { min: 0.0, max: 5.0 }
    });
    rejects("anomalies.durations.gap", |c| {
        c.anomalies.durations.gap = MinutesRange {
            min: 30.0,
            max: 20.0,
        }
    });
    rejects("anomalies.durations.dip.max", |c| {
        c.anomalies.durations.dip = MinutesRange {
            min: 5.0,
            max: f64::INFINITY,
        }
    });
    rejects("anomalies.max_per_series", |c| {
        c.anomalies.max_per_series = 40
    });
    rejects("anomalies.max_per_series", |c| c.length = 1_000);
    // Without the long kinds, the same short series has room.
    let mut cfg = config(1);
    cfg.length = 1_000;
    cfg.anomalies.kinds = vec![AnomalyKind::Spike, AnomalyKind::Dip, AnomalyKind::Gap];
    let ds = vigil_datasets::generate(&cfg).expect("short series with short anomalies");
    assert!(ds.incident_count() >= 10);
}

#[test]
fn configs_are_serde_data_with_defaults_and_strict_keys() {
    let cfg = config(42);
    let json = serde_json::to_string(&cfg).expect("serialise");
    assert!(
        json.contains("\"level_shift\"") && json.contains("\"model\":\"poisson\""),
        "{json}"
    );
    let back: SynthConfig = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back, cfg);
    let partial: SynthConfig =
        serde_json::from_str(r#"{"seed": 42, "anomalies": {"guard_rows": 10}}"#).expect("partial");
    assert_eq!(partial.seed, 42);
    assert_eq!(partial.anomalies.guard_rows, 10);
    assert_eq!(partial.anomalies.kinds.len(), 8);
    assert_eq!(partial.metrics.len(), 5);
    let typo = serde_json::from_str::<SynthConfig>(r#"{"sede": 42}"#).expect_err("unknown key");
    assert!(typo.to_string().contains("sede"), "{typo}");
    let kind: AnomalyKind = serde_json::from_str("\"flat_line\"").expect("kind");
    assert_eq!(kind, AnomalyKind::FlatLine);
    for kind in AnomalyKind::ALL {
        assert_eq!(
            serde_json::to_string(&kind).expect("kind"),
            format!("\"{kind}\"")
        );
        assert_eq!(AnomalyKind::parse(kind.as_str()), Some(kind));
    }
}
