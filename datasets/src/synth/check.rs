//! Validation of a [`SynthConfig`]: one rule per check, each error naming the offending key
//! (`metrics[2].daily_amplitude`) and ending with a hint.

use super::config::{
    AnomalyKind, DEFAULT_LENGTH, MIN_LENGTH, MetricProfile, NoiseModel, Seasonality, SynthConfig,
};
use crate::error::{DatasetError, Result};

/// A config that passed [`SynthConfig::check`]: the generator only ever sees these.
#[derive(Debug, Clone)]
pub struct ValidSynthConfig(pub(crate) SynthConfig);

impl ValidSynthConfig {
    /// The checked config.
    pub fn config(&self) -> &SynthConfig {
        &self.0
    }
}

fn invalid(
    key: impl Into<String>,
    reason: impl Into<String>,
    hint: impl Into<String>,
) -> DatasetError {
    DatasetError::InvalidSynthConfig {
        key: key.into(),
        reason: reason.into(),
        hint: hint.into(),
    }
}

fn finite(key: &str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!("{v} is not a finite number"),
            "use a finite decimal number",
        ))
    }
}

fn non_negative(key: &str, v: f64) -> Result<()> {
    finite(key, v)?;
    if v < 0.0 {
        return Err(invalid(key, format!("{v} is negative"), "use a value ≥ 0"));
    }
    Ok(())
}

/// Names that would collide with the other files `write_synth` writes.
const RESERVED_NAMES: [&str; 2] = ["labels", "synth"];

impl SynthConfig {
    /// Checks every setting; the error names the offending key (`metrics[2].daily_amplitude`).
    pub fn check(&self) -> Result<ValidSynthConfig> {
        if self.step_ms <= 0 {
            return Err(invalid(
                "step_ms",
                format!("{} is not positive", self.step_ms),
                "use the row interval in milliseconds, e.g. 300000 for five minutes",
            ));
        }
        if self.length < MIN_LENGTH {
            return Err(invalid(
                "length",
                format!(
                    "{} rows is fewer than the minimum {MIN_LENGTH}",
                    self.length
                ),
                format!(
                    "ask for at least {MIN_LENGTH} rows (the default is {DEFAULT_LENGTH}, four weeks)"
                ),
            ));
        }
        let last = i64::try_from(self.length - 1)
            .ok()
            .and_then(|n| n.checked_mul(self.step_ms))
            .and_then(|span| span.checked_add(self.start_ms));
        let in_range = |ms: i64| (-62_135_596_800_000..=253_402_300_799_999).contains(&ms);
        if !in_range(self.start_ms) || !last.is_some_and(in_range) {
            return Err(invalid(
                "start_ms",
                "the rows would fall outside the years 1–9999",
                "use a start near the present and a smaller length or step",
            ));
        }
        if self.metrics.is_empty() {
            return Err(invalid(
                "metrics",
                "no metric profiles",
                "list at least one profile (the default has five)",
            ));
        }
        for (i, profile) in self.metrics.iter().enumerate() {
            check_profile(i, profile)?;
            if let Some(j) = self.metrics[..i]
                .iter()
                .position(|p| p.name == profile.name)
            {
                return Err(invalid(
                    format!("metrics[{i}].name"),
                    format!("{:?} is also the name of metrics[{j}]", profile.name),
                    "give every profile its own name",
                ));
            }
        }
        self.check_anomalies()?;
        Ok(ValidSynthConfig(self.clone()))
    }

    fn check_anomalies(&self) -> Result<()> {
        let a = &self.anomalies;
        if a.min_per_series > a.max_per_series {
            return Err(invalid(
                "anomalies.min_per_series",
                format!(
                    "{} is more than anomalies.max_per_series ({})",
                    a.min_per_series, a.max_per_series
                ),
                "make min_per_series ≤ max_per_series",
            ));
        }
        if a.max_per_series > 0 && a.kinds.is_empty() {
            return Err(invalid(
                "anomalies.kinds",
                "no kinds to inject",
                "list kinds (spike, dip, level_shift, …) or set max_per_series to 0",
            ));
        }
        finite("anomalies.min_start_fraction", a.min_start_fraction)?;
        if !(0.0..1.0).contains(&a.min_start_fraction) {
            return Err(invalid(
                "anomalies.min_start_fraction",
                format!("{} is outside [0, 1)", a.min_start_fraction),
                "use a fraction of the rows, e.g. 0.15 (NAB's probationary period)",
            ));
        }
        non_negative("anomalies.magnitude_min_sigma", a.magnitude_min_sigma)?;
        non_negative("anomalies.magnitude_max_sigma", a.magnitude_max_sigma)?;
        if a.magnitude_min_sigma > a.magnitude_max_sigma {
            return Err(invalid(
                "anomalies.magnitude_min_sigma",
                format!(
                    "{} is more than magnitude_max_sigma ({})",
                    a.magnitude_min_sigma, a.magnitude_max_sigma
                ),
                "make magnitude_min_sigma ≤ magnitude_max_sigma",
            ));
        }
        finite("anomalies.warning_sigma", a.warning_sigma)?;
        finite("anomalies.critical_sigma", a.critical_sigma)?;
        if a.warning_sigma > a.critical_sigma {
            return Err(invalid(
                "anomalies.warning_sigma",
                format!(
                    "{} is more than critical_sigma ({})",
                    a.warning_sigma, a.critical_sigma
                ),
                "make warning_sigma ≤ critical_sigma",
            ));
        }
        finite("anomalies.persist_probability", a.persist_probability)?;
        if !(0.0..=1.0).contains(&a.persist_probability) {
            return Err(invalid(
                "anomalies.persist_probability",
                format!("{} is outside [0, 1]", a.persist_probability),
                "use a probability, e.g. 0.3",
            ));
        }
        let mut longest = Vec::new();
        for kind in AnomalyKind::ALL {
            let key = format!("anomalies.durations.{kind}");
            let range = a.durations.get(kind);
            finite(&format!("{key}.min"), range.min)?;
            finite(&format!("{key}.max"), range.max)?;
            if range.min <= 0.0 || range.min > range.max {
                return Err(invalid(
                    key,
                    format!(
                        "[{}, {}] minutes is not a range 0 < min ≤ max",
                        range.min, range.max
                    ),
                    "give positive minutes with min ≤ max",
                ));
            }
            if a.kinds.contains(&kind) {
                longest.push(minutes_to_rows(range.max, self.step_ms));
            }
        }
        // The worst case: every anomaly of a series is of the longest kind.
        let longest = longest.into_iter().max().unwrap_or(0);
        let available = self.length - first_allowed_row(self.length, a.min_start_fraction);
        let needed = a
            .max_per_series
            .saturating_mul(longest.saturating_add(a.guard_rows));
        if needed > available {
            return Err(invalid(
                "anomalies.max_per_series",
                format!(
                    "{} anomalies of up to {longest} rows plus {} guard rows each need {needed} rows, but only {available} rows follow the first {:.0}%",
                    a.max_per_series,
                    a.guard_rows,
                    a.min_start_fraction * 100.0
                ),
                "inject fewer anomalies, shorten their durations or guard band, or generate more rows",
            ));
        }
        Ok(())
    }
}

fn check_profile(i: usize, p: &MetricProfile) -> Result<()> {
    let key = |field: &str| format!("metrics[{i}].{field}");
    let name_ok = !p.name.is_empty()
        && !p.name.starts_with('.')
        && p.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !name_ok {
        return Err(invalid(
            key("name"),
            format!("{:?} is not a usable series name", p.name),
            "use letters, digits, '_', '-' and '.', not starting with '.' (it becomes a file name)",
        ));
    }
    if RESERVED_NAMES.contains(&p.name.as_str()) {
        return Err(invalid(
            key("name"),
            format!(
                "{:?} is reserved (labels.csv and synth.json sit beside the series)",
                p.name
            ),
            "choose another name",
        ));
    }
    finite(&key("base"), p.base)?;
    finite(&key("trend_per_day"), p.trend_per_day)?;
    match p.seasonality {
        Seasonality::Multiplicative => {
            for (field, amp) in [
                ("daily_amplitude", p.daily_amplitude),
                ("weekly_amplitude", p.weekly_amplitude),
            ] {
                finite(&key(field), amp)?;
                if !(0.0..=1.0).contains(&amp) {
                    return Err(invalid(
                        key(field),
                        format!("{amp} is outside [0, 1] for multiplicative seasonality"),
                        "give the swing as a fraction of the level (0.5 = ±50%), or use additive seasonality",
                    ));
                }
            }
        }
        Seasonality::Additive => {
            non_negative(&key("daily_amplitude"), p.daily_amplitude)?;
            non_negative(&key("weekly_amplitude"), p.weekly_amplitude)?;
        }
    }
    match p.noise {
        NoiseModel::Gaussian { sigma } | NoiseModel::LogNormal { sigma } => {
            non_negative(&key("noise.sigma"), sigma)?
        }
        NoiseModel::Poisson {
            exposure_seconds,
            overdispersion,
        } => {
            finite(&key("noise.exposure_seconds"), exposure_seconds)?;
            if exposure_seconds <= 0.0 {
                return Err(invalid(
                    key("noise.exposure_seconds"),
                    format!("{exposure_seconds} is not positive"),
                    "use the rate window in seconds, e.g. 60 for rate(x[1m])",
                ));
            }
            non_negative(&key("noise.overdispersion"), overdispersion)?;
        }
    }
    if let Some(saw) = &p.sawtooth {
        finite(&key("sawtooth.period_minutes"), saw.period_minutes)?;
        if saw.period_minutes <= 0.0 {
            return Err(invalid(
                key("sawtooth.period_minutes"),
                format!("{} is not positive", saw.period_minutes),
                "give the time between drops in minutes",
            ));
        }
        finite(&key("sawtooth.amplitude"), saw.amplitude)?;
        finite(&key("sawtooth.phase"), saw.phase)?;
        if !(0.0..1.0).contains(&saw.phase) {
            return Err(invalid(
                key("sawtooth.phase"),
                format!("{} is outside [0, 1)", saw.phase),
                "give the starting point as a fraction of the period",
            ));
        }
    }
    for (field, bound) in [("min", p.min), ("max", p.max)] {
        if bound.is_some_and(f64::is_nan) {
            return Err(invalid(
                key(field),
                "NaN is not a bound",
                "use a number or leave the bound out",
            ));
        }
    }
    if let (Some(lo), Some(hi)) = (p.min, p.max)
        && lo > hi
    {
        return Err(invalid(
            key("min"),
            format!("{lo} is above max ({hi})"),
            "make min ≤ max",
        ));
    }
    Ok(())
}

/// Rows a duration in minutes spans at this step (at least one).
pub(crate) fn minutes_to_rows(minutes: f64, step_ms: i64) -> usize {
    let rows = (minutes * 60_000.0 / step_ms as f64).round();
    if rows.is_finite() && rows >= 1.0 {
        rows as usize
    } else {
        1
    }
}

/// The first row an anomaly may start at.
pub(crate) fn first_allowed_row(length: usize, min_start_fraction: f64) -> usize {
    ((length as f64 * min_start_fraction).ceil() as usize).min(length)
}
