//! The generator's settings: [`SynthConfig`] with its metric profiles and anomaly plan, every
//! default in one place, and the validation that turns a bad setting into an error naming its key.

use serde::{Deserialize, Serialize};

/// 2026-01-05T00:00:00Z, a Monday, so day 0 of the weekly pattern is a weekday.
pub const DEFAULT_START_MS: i64 = 1_767_571_200_000;
/// Five minutes, the usual Prometheus scrape interval of a dashboard.
pub const DEFAULT_STEP_MS: i64 = 300_000;
/// Four weeks of five-minute rows.
pub const DEFAULT_LENGTH: usize = 8_064;
/// The fewest rows a generated series may have.
pub const MIN_LENGTH: usize = 64;

/// Everything the generator needs; the same config always gives the same [`crate::Dataset`].
///
/// Serialised as `synth.json` beside the generated files, so a dataset can be regenerated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynthConfig {
    /// Master seed. Each series draws its signal and its anomalies from streams derived from
    /// (seed, series index), so appending a profile leaves the other series unchanged.
    pub seed: u64,
    /// Timestamp of the first row, ms since the Unix epoch (UTC).
    pub start_ms: i64,
    /// Interval between rows, ms.
    pub step_ms: i64,
    /// Rows per series.
    pub length: usize,
    /// Where, how many and how strong the injected anomalies are.
    pub anomalies: AnomalyConfig,
    /// One profile per generated series.
    pub metrics: Vec<MetricProfile>,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            start_ms: DEFAULT_START_MS,
            step_ms: DEFAULT_STEP_MS,
            length: DEFAULT_LENGTH,
            anomalies: AnomalyConfig::default(),
            metrics: MetricProfile::web_service(),
        }
    }
}

impl SynthConfig {
    /// The default web-service config with another seed.
    pub fn with_seed(seed: u64) -> Self {
        Self {
            seed,
            ..Self::default()
        }
    }
}

/// How seasonal factors combine with the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seasonality {
    /// `level × (1 + daily_amplitude·d(t)) × (1 + weekly_amplitude·w(t))`: the swing scales with
    /// the level, as traffic does. Amplitudes are fractions in `[0, 1]`.
    Multiplicative,
    /// `level + daily_amplitude·d(t) + weekly_amplitude·w(t)`, amplitudes in the metric's unit.
    Additive,
}

/// Observation noise around the expected value `m` of a row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum NoiseModel {
    /// `m + sigma·z`: instrument noise of constant size.
    Gaussian { sigma: f64 },
    /// `m·exp(sigma·z − sigma²/2)`: positive, right-skewed, mean `m`; latencies and ratios that
    /// burst upwards.
    LogNormal { sigma: f64 },
    /// A per-second rate measured over `exposure_seconds`: `Poisson(m·E·g)/E` with a gamma
    /// factor `g` of mean 1 and variance `overdispersion` (negative binomial counts, as real
    /// traffic is burstier than Poisson).
    Poisson {
        exposure_seconds: f64,
        overdispersion: f64,
    },
}

impl NoiseModel {
    /// Standard deviation of an observation whose expected value is `mean`: the local noise
    /// scale that anomaly magnitudes are measured in.
    pub fn sd_at(&self, mean: f64) -> f64 {
        let mean = mean.abs();
        match *self {
            NoiseModel::Gaussian { sigma } => sigma,
            NoiseModel::LogNormal { sigma } => mean * ((sigma * sigma).exp() - 1.0).sqrt(),
            NoiseModel::Poisson {
                exposure_seconds,
                overdispersion,
            } => (mean / exposure_seconds + overdispersion * mean * mean).sqrt(),
        }
    }
}

/// A slow rise that drops back every `period_minutes` (heap growth and garbage collection,
/// log-file growth and rotation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sawtooth {
    /// Time between drops, minutes.
    pub period_minutes: f64,
    /// Height reached just before a drop, in the metric's unit.
    pub amplitude: f64,
    /// Where in the period the series starts, as a fraction of it in `[0, 1)`.
    pub phase: f64,
}

/// How one metric behaves when nothing is wrong.
///
/// Expected value at row time `t` (days `τ` since the start): `level = base + trend_per_day·τ`,
/// combined with the daily shape `d(t)` and weekly shape `w(t)` (both in `[-1, 1]`, shared by
/// every profile so metrics move together with load) per [`Seasonality`], plus the sawtooth;
/// the observation adds [`NoiseModel`] noise and is clamped to `[min, max]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricProfile {
    /// Series name (also the CSV file stem): letters, digits, `_`, `-`, `.`.
    pub name: String,
    /// Unit, for people reading `synth.json`.
    pub unit: String,
    /// Level at the first row.
    pub base: f64,
    /// Change of the level per day (same unit as `base`).
    pub trend_per_day: f64,
    /// How the seasonal shapes combine with the level.
    pub seasonality: Seasonality,
    /// Amplitude of the daily shape (peak mid-afternoon UTC, trough before dawn).
    pub daily_amplitude: f64,
    /// Amplitude of the weekly shape (weekdays high, weekend low).
    pub weekly_amplitude: f64,
    /// Observation noise.
    pub noise: NoiseModel,
    /// Optional sawtooth added to the expected value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sawtooth: Option<Sawtooth>,
    /// Lowest possible observation (after anomalies too), e.g. 0 for a rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Highest possible observation, e.g. 1 for a ratio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl MetricProfile {
    /// The default set: five golden-signal metrics of one web service.
    pub fn web_service() -> Vec<MetricProfile> {
        vec![
            MetricProfile {
                name: "request_rate".into(),
                unit: "req/s".into(),
                base: 120.0,
                trend_per_day: 0.6,
                seasonality: Seasonality::Multiplicative,
                daily_amplitude: 0.55,
                weekly_amplitude: 0.25,
                noise: NoiseModel::Poisson {
                    exposure_seconds: 60.0,
                    overdispersion: 0.0025,
                },
                sawtooth: None,
                min: Some(0.0),
                max: None,
            },
            MetricProfile {
                name: "latency_p99_ms".into(),
                unit: "ms".into(),
                base: 180.0,
                trend_per_day: 0.0,
                seasonality: Seasonality::Multiplicative,
                daily_amplitude: 0.25,
                weekly_amplitude: 0.1,
                noise: NoiseModel::LogNormal { sigma: 0.12 },
                sawtooth: None,
                min: Some(0.0),
                max: None,
            },
            MetricProfile {
                name: "error_rate".into(),
                unit: "ratio".into(),
                base: 0.004,
                trend_per_day: 0.0,
                seasonality: Seasonality::Multiplicative,
                daily_amplitude: 0.3,
                weekly_amplitude: 0.1,
                noise: NoiseModel::LogNormal { sigma: 0.35 },
                sawtooth: None,
                min: Some(0.0),
                max: Some(1.0),
            },
            MetricProfile {
                name: "cpu_utilisation".into(),
                unit: "ratio".into(),
                base: 0.35,
                trend_per_day: 0.001,
                seasonality: Seasonality::Multiplicative,
                daily_amplitude: 0.45,
                weekly_amplitude: 0.2,
                noise: NoiseModel::Gaussian { sigma: 0.02 },
                sawtooth: None,
                min: Some(0.0),
                max: Some(1.0),
            },
            MetricProfile {
                name: "memory_bytes".into(),
                unit: "bytes".into(),
                base: 2.0e9,
                trend_per_day: 8.0e6,
                seasonality: Seasonality::Additive,
                daily_amplitude: 6.0e7,
                weekly_amplitude: 2.0e7,
                noise: NoiseModel::Gaussian { sigma: 1.0e7 },
                sawtooth: Some(Sawtooth {
                    period_minutes: 180.0,
                    amplitude: 2.5e8,
                    phase: 0.3,
                }),
                min: Some(0.0),
                max: None,
            },
        ]
    }
}

/// The injected anomaly kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// A short upward burst of `k·σ`.
    Spike,
    /// A short drop of `k·σ`.
    Dip,
    /// The level moves by `±k·σ` for a segment (or to the end of the series) then returns.
    LevelShift,
    /// The noise grows to `(1 + k/2)` times its usual standard deviation.
    VarianceChange,
    /// A ramp that reaches `±k·σ` at the end of its segment (a leak), then drops back (a
    /// restart); when it persists, it ramps to the last row of the series.
    TrendDrift,
    /// The daily pattern runs `1.5·k` hours late (a timezone or batch-schedule change).
    SeasonalBreak,
    /// The value sticks at the last good observation (a stuck exporter).
    FlatLine,
    /// Missing rows (failed scrapes), written as NaN.
    Gap,
}

impl AnomalyKind {
    /// Every kind, in declaration order.
    pub const ALL: [AnomalyKind; 8] = [
        AnomalyKind::Spike,
        AnomalyKind::Dip,
        AnomalyKind::LevelShift,
        AnomalyKind::VarianceChange,
        AnomalyKind::TrendDrift,
        AnomalyKind::SeasonalBreak,
        AnomalyKind::FlatLine,
        AnomalyKind::Gap,
    ];

    /// The snake_case name used in labels (`level_shift`).
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::Spike => "spike",
            AnomalyKind::Dip => "dip",
            AnomalyKind::LevelShift => "level_shift",
            AnomalyKind::VarianceChange => "variance_change",
            AnomalyKind::TrendDrift => "trend_drift",
            AnomalyKind::SeasonalBreak => "seasonal_break",
            AnomalyKind::FlatLine => "flat_line",
            AnomalyKind::Gap => "gap",
        }
    }

    /// The kind with this snake_case name.
    pub fn parse(name: &str) -> Option<AnomalyKind> {
        AnomalyKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether the kind may persist to the end of the series.
    pub fn can_persist(self) -> bool {
        matches!(self, AnomalyKind::LevelShift | AnomalyKind::TrendDrift)
    }
}

impl std::fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A duration range in minutes, both ends inclusive; converted to rows with the config's step
/// (at least one row).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinutesRange {
    pub min: f64,
    pub max: f64,
}

impl MinutesRange {
    const fn new(min: f64, max: f64) -> Self {
        Self { min, max }
    }
}

/// How long each kind lasts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KindDurations {
    pub spike: MinutesRange,
    pub dip: MinutesRange,
    pub level_shift: MinutesRange,
    pub variance_change: MinutesRange,
    pub trend_drift: MinutesRange,
    pub seasonal_break: MinutesRange,
    pub flat_line: MinutesRange,
    pub gap: MinutesRange,
}

impl Default for KindDurations {
    fn default() -> Self {
        Self {
            spike: MinutesRange::new(5.0, 15.0),
            dip: MinutesRange::new(10.0, 60.0),
            level_shift: MinutesRange::new(6.0 * 60.0, 2.0 * 1440.0),
            variance_change: MinutesRange::new(2.0 * 60.0, 12.0 * 60.0),
            trend_drift: MinutesRange::new(12.0 * 60.0, 2.0 * 1440.0),
            seasonal_break: MinutesRange::new(1440.0, 2.0 * 1440.0),
            flat_line: MinutesRange::new(60.0, 6.0 * 60.0),
            gap: MinutesRange::new(15.0, 3.0 * 60.0),
        }
    }
}

impl KindDurations {
    /// The range for one kind.
    pub fn get(&self, kind: AnomalyKind) -> MinutesRange {
        match kind {
            AnomalyKind::Spike => self.spike,
            AnomalyKind::Dip => self.dip,
            AnomalyKind::LevelShift => self.level_shift,
            AnomalyKind::VarianceChange => self.variance_change,
            AnomalyKind::TrendDrift => self.trend_drift,
            AnomalyKind::SeasonalBreak => self.seasonal_break,
            AnomalyKind::FlatLine => self.flat_line,
            AnomalyKind::Gap => self.gap,
        }
    }
}

/// Where, how many and how strong the injected anomalies are.
///
/// Each anomaly draws a strength `u ∈ [0, 1)`; its magnitude is `k = magnitude_min_sigma +
/// u·(magnitude_max_sigma − magnitude_min_sigma)` local noise standard deviations, and for
/// flat lines and gaps (which have no size) the duration grows with `u` instead. The severity
/// follows `k`: `critical` from `critical_sigma`, `warning` from `warning_sigma`, else `info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnomalyConfig {
    /// Fewest anomalies per series. Series `i` is dealt kinds `kinds[(i·min + j) mod len]` for
    /// `j < min`, so every kind appears once `series × min_per_series ≥ kinds.len()`.
    pub min_per_series: usize,
    /// Most anomalies per series; the count is drawn uniformly in `[min, max]`, the kinds past
    /// the dealt ones at random.
    pub max_per_series: usize,
    /// Kinds to inject.
    pub kinds: Vec<AnomalyKind>,
    /// No anomaly starts before this fraction of the rows (NAB's probationary 15%).
    pub min_start_fraction: f64,
    /// Unaltered rows kept between two anomalies of one series.
    pub guard_rows: usize,
    /// Smallest magnitude, in local noise standard deviations.
    pub magnitude_min_sigma: f64,
    /// Largest magnitude, in local noise standard deviations.
    pub magnitude_max_sigma: f64,
    /// Magnitude from which an anomaly is labelled `warning`.
    pub warning_sigma: f64,
    /// Magnitude from which an anomaly is labelled `critical`.
    pub critical_sigma: f64,
    /// Chance that a series' last level shift or trend drift never recovers and runs to the
    /// end of the series.
    pub persist_probability: f64,
    /// Duration range of each kind.
    pub durations: KindDurations,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        Self {
            min_per_series: 2,
            max_per_series: 4,
            kinds: AnomalyKind::ALL.to_vec(),
            min_start_fraction: 0.15,
            guard_rows: 36,
            magnitude_min_sigma: 4.0,
            magnitude_max_sigma: 8.0,
            warning_sigma: 5.5,
            critical_sigma: 7.0,
            persist_probability: 0.3,
            durations: KindDurations::default(),
        }
    }
}

impl AnomalyConfig {
    /// No anomalies at all: the clean signal.
    pub fn none() -> Self {
        Self {
            min_per_series: 0,
            max_per_series: 0,
            ..Self::default()
        }
    }

    /// The severity label of a magnitude `k` (in σ).
    pub fn severity(&self, k: f64) -> &'static str {
        if k >= self.critical_sigma {
            "critical"
        } else if k >= self.warning_sigma {
            "warning"
        } else {
            "info"
        }
    }
}
