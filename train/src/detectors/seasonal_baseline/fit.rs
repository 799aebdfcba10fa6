//! What the seasonal baseline learns from the training rows of one channel: every estimate is
//! a median or a MAD, so the anomalies that training rows hold move it little.

use serde::{Deserialize, Serialize};

use super::{SeasonalBaselineParams, Transform};
use crate::error::{Result, TrainError};
use crate::season::detect_period;

/// Fewest finite training values accepted (and at least two short periods).
const MIN_TRAIN: usize = 10;
/// Phases pooling fewer differences than this take the median phase's scale.
const MIN_SCALE_VALUES: usize = 5;
/// A phase's scale is at least this share of the median phase's.
const SCALE_FLOOR_SHARE: f64 = 0.25;
/// At most this many blocks enter the Theil–Sen trend (pairs grow quadratically).
const MAX_TREND_BLOCKS: usize = 64;
/// MAD → standard deviation for normal data.
const MAD_TO_SD: f64 = 1.482_602_218_505_602;

/// The fitted state of one channel (in the channel's scaled units, after the transform).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineChannel {
    /// The transform the values go through.
    pub transform: Transform,
    /// Under `log`: the value that non-positive values read as (half the smallest positive
    /// training value); 0 otherwise.
    pub log_floor: f64,
    /// Short period in rows (1 = none).
    pub period: usize,
    /// Long period in rows.
    pub long_period: usize,
    /// Profile per short-period phase (median, centred to mean 0).
    pub profile: Vec<f64>,
    /// Level at row 0.
    pub level: f64,
    /// Trend per row (0 without a trend).
    pub slope: f64,
    /// Noise standard deviation per short-period phase.
    pub scale: Vec<f64>,
    /// Share of consecutive finite training pairs that repeat exactly (with one pseudo-count).
    pub repeat_rate: f64,
}

impl BaselineChannel {
    /// A raw (scaled) value after the transform; NaN stays NaN.
    pub(crate) fn transform(&self, v: f64) -> f64 {
        match self.transform {
            Transform::None => v,
            Transform::Log if v.is_nan() => v,
            Transform::Log => v.max(self.log_floor).ln(),
        }
    }

    /// The z score of a run of `repeats` exact repeats: the upper normal quantile of
    /// `repeat_rate^repeats` (capped where that underflows).
    pub(crate) fn stuck_score(&self, repeats: usize) -> f64 {
        let log_p = repeats as f64 * self.repeat_rate.ln();
        normal_upper_quantile(log_p.max(f64::MIN_POSITIVE.ln()).exp())
    }
}

/// The z with `P(Z > z) = q` for a standard normal Z (q in (0, 0.5]), by bisection on the
/// tail; 0 for q ≥ 0.5.
fn normal_upper_quantile(q: f64) -> f64 {
    if q >= 0.5 {
        return 0.0;
    }
    let (mut lo, mut hi) = (0.0_f64, 40.0_f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid == lo || mid == hi {
            break;
        }
        if crate::stats::normal_tail(mid) > q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Median of the finite values (NaN when there is none).
fn finite_median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    let mid = v.len() / 2;
    let (_, upper, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if v.len() % 2 == 1 {
        upper
    } else {
        let lower = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lower + upper)
    }
}

/// `MAD · 1.4826` of the finite values (NaN when there is none).
fn robust_sd(values: &[f64]) -> f64 {
    let centre = finite_median(values.iter().copied());
    MAD_TO_SD * finite_median(values.iter().map(|v| (v - centre).abs()))
}

/// Fits one (scaled) training channel.
pub(crate) fn fit_channel(
    params: &SeasonalBaselineParams,
    raw: &[f64],
    channel: usize,
) -> Result<BaselineChannel> {
    let log_floor = match params.transform {
        Transform::None => 0.0,
        Transform::Log => {
            let smallest = raw
                .iter()
                .copied()
                .filter(|v| v.is_finite() && *v > 0.0)
                .fold(f64::INFINITY, f64::min);
            if !smallest.is_finite() {
                return Err(TrainError::param(
                    "seasonal_baseline.transform",
                    format!("log needs positive values; channel {channel} has none in training"),
                    "use transform = \"none\" for data that is not positive",
                ));
            }
            0.5 * smallest
        }
    };
    let mut state = BaselineChannel {
        transform: params.transform,
        log_floor,
        period: 1,
        long_period: 1,
        profile: vec![0.0],
        level: 0.0,
        slope: 0.0,
        scale: vec![1.0],
        repeat_rate: 0.5,
    };
    let y: Vec<f64> = raw.iter().map(|&v| state.transform(v)).collect();
    let finite = y.iter().filter(|v| v.is_finite()).count();
    if finite < MIN_TRAIN {
        return Err(TrainError::NotEnoughData {
            family: "seasonal_baseline",
            channel,
            needed: MIN_TRAIN,
            got: finite,
        });
    }
    let period = params
        .period
        .unwrap_or_else(|| detect_period(&y, params.max_period).unwrap_or(1));
    if finite < 2 * period {
        return Err(TrainError::NotEnoughData {
            family: "seasonal_baseline",
            channel,
            needed: 2 * period,
            got: finite,
        });
    }
    state.period = period;
    state.long_period = params.long_period.unwrap_or(period);

    // The trend first, through per-period medians (each spans every phase once, so the cycle
    // cancels), so that it does not tilt the profile.
    state.slope = if params.trend {
        theil_sen_blocks(&y, period)
    } else {
        0.0
    };
    let detrended: Vec<f64> = (0..y.len())
        .map(|t| y[t] - state.slope * t as f64)
        .collect();
    let centre = finite_median(detrended.iter().copied());
    let mut profile: Vec<f64> = (0..period)
        .map(|p| finite_median(detrended.iter().skip(p).step_by(period).map(|v| v - centre)))
        .map(|v| if v.is_finite() { v } else { 0.0 })
        .collect();
    let mean = profile.iter().sum::<f64>() / period as f64;
    profile.iter_mut().for_each(|v| *v -= mean);
    let deseasonal: Vec<f64> = (0..y.len())
        .map(|t| detrended[t] - profile[t % period])
        .collect();
    state.level = finite_median(deseasonal.iter().copied());
    state.scale = phase_scales(&deseasonal, period, params.scale_half_width);
    state.profile = profile;
    state.repeat_rate = repeat_rate(raw);
    Ok(state)
}

/// Theil–Sen slope per row through the medians of consecutive blocks (one short period long,
/// a whole number of periods when there would be more than [`MAX_TREND_BLOCKS`]); 0 with fewer
/// than two blocks.
fn theil_sen_blocks(values: &[f64], period: usize) -> f64 {
    let periods_per_block = values
        .len()
        .div_ceil(MAX_TREND_BLOCKS)
        .div_ceil(period.max(1))
        .max(1);
    let block = period.max(1) * periods_per_block;
    let blocks: Vec<(f64, f64)> = values
        .chunks(block)
        .enumerate()
        .filter(|(_, chunk)| chunk.len() == block)
        .filter_map(|(b, chunk)| {
            let m = finite_median(chunk.iter().copied());
            m.is_finite()
                .then(|| ((b * block) as f64 + 0.5 * (block - 1) as f64, m))
        })
        .collect();
    let slopes = blocks.iter().enumerate().flat_map(|(i, &(xi, yi))| {
        blocks[i + 1..]
            .iter()
            .map(move |&(xj, yj)| (yj - yi) / (xj - xi))
    });
    let slope = finite_median(slopes);
    if slope.is_finite() { slope } else { 0.0 }
}

/// Robust noise standard deviation per phase: MAD / √2 of the first differences of the
/// detrended, deseasonalised values at the phases within `half_width` of it (circularly),
/// floored at a share of the median phase's. Differences cancel the level and slow (weekly)
/// patterns; the profile removes the short cycle's own slope.
fn phase_scales(y: &[f64], period: usize, half_width: usize) -> Vec<f64> {
    let mut by_phase: Vec<Vec<f64>> = vec![Vec::new(); period];
    for t in 1..y.len() {
        let d = y[t] - y[t - 1];
        if d.is_finite() {
            by_phase[t % period].push(d);
        }
    }
    let reach = half_width.min(period.saturating_sub(1) / 2);
    let mut pooled = Vec::new();
    let mut scale: Vec<f64> = (0..period)
        .map(|p| {
            pooled.clear();
            for offset in 0..=2 * reach {
                let q = (p + period + offset - reach) % period;
                pooled.extend_from_slice(&by_phase[q]);
            }
            if pooled.len() >= MIN_SCALE_VALUES {
                robust_sd(&pooled) / std::f64::consts::SQRT_2
            } else {
                f64::NAN
            }
        })
        .collect();
    let mut typical = finite_median(scale.iter().copied());
    if !typical.is_finite() {
        let all: Vec<f64> = by_phase.concat();
        typical = robust_sd(&all) / std::f64::consts::SQRT_2;
    }
    let typical = if typical.is_finite() { typical } else { 0.0 };
    for s in &mut scale {
        *s = if s.is_finite() { *s } else { typical };
        *s = s.max(SCALE_FLOOR_SHARE * typical);
    }
    scale
}

/// Share of consecutive finite pairs that are equal, with one pseudo-count each way.
fn repeat_rate(raw: &[f64]) -> f64 {
    let (mut pairs, mut repeats) = (0usize, 0usize);
    for w in raw.windows(2) {
        if w[0].is_finite() && w[1].is_finite() {
            pairs += 1;
            repeats += usize::from(w[0] == w[1]);
        }
    }
    (repeats as f64 + 1.0) / (pairs as f64 + 2.0)
}
