//! The clean signal: shared daily and weekly shapes, level, trend, sawtooth and noise.

use std::f64::consts::PI;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Poisson, StandardNormal};

use super::config::{MetricProfile, NoiseModel, Seasonality};

const MS_PER_HOUR: f64 = 3_600_000.0;
const MS_PER_DAY: i64 = 86_400_000;
const MS_PER_WEEK: i64 = 7 * MS_PER_DAY;
/// 1970-01-01 was a Thursday: shifting by three days puts Monday 00:00 at week position 0.
const EPOCH_TO_MONDAY_MS: i64 = 3 * MS_PER_DAY;
/// Half-width of the smooth weekday/weekend transitions, in days (three hours).
const WEEKEND_RAMP_DAYS: f64 = 0.125;

/// Daily load shape at `t_ms` (UTC), in `[-1, 1]`: a trough around 03:00–04:00, a peak in the
/// early afternoon and a shoulder into the evening (fundamental plus a second harmonic).
pub(crate) fn daily_shape(t_ms: i64) -> f64 {
    let hour = t_ms.rem_euclid(MS_PER_DAY) as f64 / MS_PER_HOUR;
    0.8 * (2.0 * PI * (hour - 15.0) / 24.0).cos() + 0.2 * (4.0 * PI * (hour - 11.0) / 24.0).cos()
}

/// Weekly load shape at `t_ms` (UTC), in `[-1, 1]`: +1 on weekdays, −1 at the weekend, with
/// raised-cosine transitions of ±3 hours around Saturday 00:00 and Monday 00:00.
pub(crate) fn weekly_shape(t_ms: i64) -> f64 {
    let day = (t_ms + EPOCH_TO_MONDAY_MS).rem_euclid(MS_PER_WEEK) as f64 / MS_PER_DAY as f64;
    let ramp = |x: f64| {
        if x <= -WEEKEND_RAMP_DAYS {
            0.0
        } else if x >= WEEKEND_RAMP_DAYS {
            1.0
        } else {
            0.5 - 0.5 * (PI * (x + WEEKEND_RAMP_DAYS) / (2.0 * WEEKEND_RAMP_DAYS)).cos()
        }
    };
    // Weight of "weekend": rises into Saturday, falls into Monday (also seen just after the
    // week wraps at Monday 00:00).
    let weekend = ramp(day - 5.0) - ramp(day - 7.0) + (1.0 - ramp(day));
    1.0 - 2.0 * weekend
}

/// The expected (noise-free) value of a profile at `t_ms`, with the daily pattern running
/// `daily_delay_ms` late (0 for the normal signal; a seasonal break delays it).
pub(crate) fn expected(
    profile: &MetricProfile,
    start_ms: i64,
    t_ms: i64,
    daily_delay_ms: i64,
) -> f64 {
    let elapsed_ms = (t_ms - start_ms) as f64;
    let days = elapsed_ms / MS_PER_DAY as f64;
    let level = profile.base + profile.trend_per_day * days;
    let daily = daily_shape(t_ms - daily_delay_ms);
    let weekly = weekly_shape(t_ms);
    let seasonal = match profile.seasonality {
        Seasonality::Multiplicative => {
            level
                * (1.0 + profile.daily_amplitude * daily)
                * (1.0 + profile.weekly_amplitude * weekly)
        }
        Seasonality::Additive => {
            level + profile.daily_amplitude * daily + profile.weekly_amplitude * weekly
        }
    };
    let saw = profile.sawtooth.map_or(0.0, |saw| {
        let cycles = saw.phase + elapsed_ms / 60_000.0 / saw.period_minutes;
        saw.amplitude * (cycles - cycles.floor())
    });
    seasonal + saw
}

/// Draws observations around expected values for one noise model.
#[derive(Debug)]
pub(crate) struct NoiseSampler {
    model: NoiseModel,
    gamma: Option<Gamma<f64>>,
}

/// Above this Poisson mean the normal approximation is exact to far below f64 noise, and
/// rand_distr's Poisson refuses means past `Poisson::MAX_LAMBDA`.
const POISSON_NORMAL_ABOVE: f64 = 1e12;

impl NoiseSampler {
    pub(crate) fn new(model: NoiseModel) -> Self {
        let gamma = match model {
            NoiseModel::Poisson { overdispersion, .. } if overdispersion > 0.0 => {
                Gamma::new(1.0 / overdispersion, overdispersion).ok()
            }
            _ => None,
        };
        Self { model, gamma }
    }

    /// One observation with expected value `mean`.
    pub(crate) fn sample(&self, mean: f64, rng: &mut ChaCha8Rng) -> f64 {
        match self.model {
            NoiseModel::Gaussian { sigma } => {
                let z: f64 = rng.sample(StandardNormal);
                mean + sigma * z
            }
            NoiseModel::LogNormal { sigma } => {
                let z: f64 = rng.sample(StandardNormal);
                if mean > 0.0 {
                    mean * (sigma * z - 0.5 * sigma * sigma).exp()
                } else {
                    mean
                }
            }
            NoiseModel::Poisson {
                exposure_seconds, ..
            } => {
                let factor = self.gamma.as_ref().map_or(1.0, |g| g.sample(rng));
                let lambda = mean * exposure_seconds * factor;
                if lambda.is_nan() || lambda <= 0.0 {
                    return 0.0;
                }
                let count = if lambda > POISSON_NORMAL_ABOVE {
                    let z: f64 = rng.sample(StandardNormal);
                    (lambda + lambda.sqrt() * z).round()
                } else {
                    Poisson::new(lambda).map_or(lambda, |p| p.sample(rng))
                };
                count / exposure_seconds
            }
        }
    }
}

/// Clamps to the profile's bounds and turns −0 into +0, so every zero is written and read
/// back as the same bits.
pub(crate) fn clamp(profile: &MetricProfile, v: f64) -> f64 {
    if v.is_nan() {
        return v;
    }
    let mut v = v;
    if let Some(lo) = profile.min {
        v = v.max(lo);
    }
    if let Some(hi) = profile.max {
        v = v.min(hi);
    }
    v + 0.0
}

/// A series before injection: the expected value and the observation of every row.
#[derive(Debug, Clone)]
pub(crate) struct CleanSignal {
    pub(crate) means: Vec<f64>,
    pub(crate) values: Vec<f64>,
}

/// Generates the clean rows of one profile at the given timestamps.
pub(crate) fn clean_signal(
    profile: &MetricProfile,
    timestamps: &[i64],
    rng: &mut ChaCha8Rng,
) -> CleanSignal {
    let start_ms = timestamps.first().copied().unwrap_or(0);
    let sampler = NoiseSampler::new(profile.noise);
    let means: Vec<f64> = timestamps
        .iter()
        .map(|&t| expected(profile, start_ms, t, 0))
        .collect();
    let values = means
        .iter()
        .map(|&m| clamp(profile, sampler.sample(m, rng)))
        .collect();
    CleanSignal { means, values }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::config::DEFAULT_START_MS;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn shapes_stay_in_unit_range_and_peak_where_documented() {
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        let (mut argmin, mut argmax) = (0, 0);
        for minute in 0..1440 {
            let d = daily_shape(DEFAULT_START_MS + minute * 60_000);
            if d < lo {
                (lo, argmin) = (d, minute);
            }
            if d > hi {
                (hi, argmax) = (d, minute);
            }
        }
        assert!(
            lo >= -1.0 && hi <= 1.0,
            "daily shape out of range: [{lo}, {hi}]"
        );
        assert!(
            (2 * 60..=5 * 60).contains(&argmin),
            "trough at minute {argmin}"
        );
        assert!(
            (12 * 60..=16 * 60).contains(&argmax),
            "peak at minute {argmax}"
        );
    }

    #[test]
    fn weekly_shape_is_high_on_weekdays_and_low_at_weekends() {
        // DEFAULT_START_MS is Monday 00:00 UTC.
        let at =
            |day: i64, hour: i64| weekly_shape(DEFAULT_START_MS + day * 24 * HOUR + hour * HOUR);
        for day in 0..5 {
            assert_eq!(at(day, 12), 1.0, "weekday {day}");
        }
        assert_eq!(at(5, 12), -1.0);
        assert_eq!(at(6, 12), -1.0);
        // Smooth and continuous across the transitions, including the week wrap.
        let mut prev = weekly_shape(DEFAULT_START_MS - HOUR);
        for minute in -60..(8 * 1440) {
            let w = weekly_shape(DEFAULT_START_MS + minute * 60_000);
            assert!((-1.0..=1.0).contains(&w));
            assert!(
                (w - prev).abs() < 0.02,
                "jump at minute {minute}: {prev} -> {w}"
            );
            prev = w;
        }
    }

    #[test]
    fn noise_models_have_the_documented_spread() {
        use rand::SeedableRng;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let n = 20_000;
        for (model, mean) in [
            (NoiseModel::Gaussian { sigma: 2.0 }, 10.0),
            (NoiseModel::LogNormal { sigma: 0.3 }, 50.0),
            (
                NoiseModel::Poisson {
                    exposure_seconds: 60.0,
                    overdispersion: 0.01,
                },
                100.0,
            ),
        ] {
            let sampler = NoiseSampler::new(model);
            let xs: Vec<f64> = (0..n).map(|_| sampler.sample(mean, &mut rng)).collect();
            let m = xs.iter().sum::<f64>() / n as f64;
            let sd = (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
            let want = model.sd_at(mean);
            assert!(
                (m - mean).abs() < 4.0 * want / (n as f64).sqrt(),
                "{model:?}: mean {m}"
            );
            assert!(
                (sd / want - 1.0).abs() < 0.05,
                "{model:?}: sd {sd}, want {want}"
            );
        }
    }

    #[test]
    fn clamp_bounds_and_unifies_zero() {
        let mut p = MetricProfile::web_service().remove(3);
        p.min = Some(0.0);
        p.max = Some(1.0);
        assert_eq!(clamp(&p, 1.5), 1.0);
        assert_eq!(clamp(&p, -0.2).to_bits(), 0.0f64.to_bits());
        p.min = None;
        assert_eq!(clamp(&p, -0.0).to_bits(), 0.0f64.to_bits());
        assert!(clamp(&p, f64::NAN).is_nan());
    }
}
