//! Axes whose ticks we choose ourselves: round numbers, decades on log axes, UTC calendar
//! boundaries on time axes, and named categories.

use std::ops::Range;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

const MINUTE: f64 = 60_000.0;
const HOUR: f64 = 60.0 * MINUTE;
const DAY: f64 = 24.0 * HOUR;

#[derive(Debug, Clone)]
enum Labels {
    /// Numbers printed with this many decimals (scientific when huge or tiny).
    Number { decimals: usize },
    /// Epoch milliseconds printed with this chrono format (UTC).
    Time { format: &'static str },
    /// Integer positions named by these labels.
    Categories(Vec<String>),
}

/// A plotters coordinate over `f64` with chosen ticks and labels.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    ticks: Vec<f64>,
    labels: Labels,
}

impl Axis {
    /// Linear axis over `[lo, hi]` (widened when empty) with about `target` round ticks.
    pub fn linear(lo: f64, hi: f64, target: usize) -> Self {
        let (lo, hi) = widen(lo, hi);
        let step = nice_step((hi - lo) / target.max(1) as f64);
        let first = (lo / step).ceil() as i64;
        let last = (hi / step).floor() as i64;
        let ticks = (first..=last).map(|k| k as f64 * step).collect();
        let decimals = (-step.log10().floor()).max(0.0) as usize;
        Self {
            lo,
            hi,
            log: false,
            ticks,
            labels: Labels::Number { decimals },
        }
    }

    /// Log₁₀ axis over `[lo, hi]` (both > 0) with ticks at decades (and 2×, 5× when narrow).
    pub fn log(lo: f64, hi: f64) -> Self {
        let lo = lo.max(f64::MIN_POSITIVE);
        let hi = if hi > lo { hi } else { lo * 10.0 };
        let (d0, d1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        let mults: &[f64] = if d1 - d0 <= 2 {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0]
        };
        let mut ticks = Vec::new();
        for d in d0..=d1 {
            for m in mults {
                let t = m * 10f64.powi(d);
                if t >= lo * (1.0 - 1e-9) && t <= hi * (1.0 + 1e-9) {
                    ticks.push(t);
                }
            }
        }
        Self {
            lo,
            hi,
            log: true,
            ticks,
            labels: Labels::Number { decimals: 0 },
        }
    }

    /// Time axis over epoch milliseconds `[lo, hi]`, ticks on UTC calendar boundaries.
    pub fn time(lo: f64, hi: f64, target: usize) -> Self {
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            (lo - HOUR, hi + HOUR)
        };
        let (ticks, format) = time_ticks(lo, hi, target.max(2));
        Self {
            lo,
            hi,
            log: false,
            ticks,
            labels: Labels::Time { format },
        }
    }

    /// Categories at 0, 1, …, n-1 (range padded by half a slot on each side).
    pub fn categories(names: Vec<String>) -> Self {
        let n = names.len().max(1) as f64;
        Self {
            lo: -0.5,
            hi: n - 0.5,
            log: false,
            ticks: (0..names.len()).map(|i| i as f64).collect(),
            labels: Labels::Categories(names),
        }
    }

    /// Reversed categories (first at the top of a vertical axis).
    pub fn categories_top_down(names: Vec<String>) -> Self {
        let mut axis = Self::categories(names);
        std::mem::swap(&mut axis.lo, &mut axis.hi);
        axis
    }

    /// Number of ticks (every one is labelled).
    pub fn tick_count(&self) -> usize {
        self.ticks.len()
    }

    /// The label of a value as drawn on the axis.
    pub fn label(&self, v: f64) -> String {
        match &self.labels {
            Labels::Number { decimals } => {
                if self.log {
                    format_number(v)
                } else {
                    format_fixed(v, *decimals)
                }
            }
            Labels::Time { format } => format_time(v, format),
            Labels::Categories(names) => {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
        }
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (a, b, v) = if self.log {
            (
                self.lo.log10(),
                self.hi.log10(),
                value.max(self.lo * 1e-3).log10(),
            )
        } else {
            (self.lo, self.hi, *value)
        };
        let frac = if b == a { 0.5 } else { (v - a) / (b - a) };
        // Clamp far outside values so pixel arithmetic cannot overflow.
        let frac = frac.clamp(-10.0, 11.0);
        (f64::from(limit.0) + frac * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let max = hint.max_num_points().max(1);
        if self.ticks.len() <= max {
            return self.ticks.clone();
        }
        let every = self.ticks.len().div_ceil(max);
        self.ticks.iter().step_by(every).copied().collect()
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, value: &f64) -> String {
        self.label(*value)
    }
}

fn widen(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi > lo {
        return (lo, hi);
    }
    let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
    (lo - pad, hi + pad)
}

/// The 1-2-5 step nearest to `raw`.
pub(crate) fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let residual = raw / magnitude;
    let m = if residual <= 1.5 {
        1.0
    } else if residual <= 3.0 {
        2.0
    } else if residual <= 7.0 {
        5.0
    } else {
        10.0
    };
    m * magnitude
}

/// Fixed decimals, switching to scientific notation for huge or tiny magnitudes.
pub(crate) fn format_fixed(v: f64, decimals: usize) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() >= 1e6 || decimals > 5 {
        return format_number(v);
    }
    let s = format!("{v:.decimals$}");
    if s.starts_with("-0") && s.trim_start_matches(['-', '0', '.']).is_empty() {
        return "0".into();
    }
    s
}

/// A compact, readable number: 4 significant digits, scientific outside 1e-3..1e6, no
/// trailing zeros; "—" for NaN.
pub(crate) fn format_number(v: f64) -> String {
    if v.is_nan() {
        return "—".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e6).contains(&a) {
        let s = format!("{v:.2e}");
        // 1.50e6 -> 1.5e6
        return match s.split_once('e') {
            Some((m, e)) => format!("{}e{e}", trim_zeros(m)),
            None => s,
        };
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    trim_zeros(&format!("{v:.decimals$}")).to_string()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Formats epoch milliseconds as UTC.
pub(crate) fn format_time(ms: f64, format: &str) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms.round() as i64) {
        Some(t) => t.format(format).to_string(),
        None => String::new(),
    }
}

/// Ticks on calendar boundaries: the smallest step giving at most `target` ticks.
fn time_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, &'static str) {
    const STEPS: [(f64, &str); 17] = [
        (1_000.0, "%H:%M:%S"),
        (5_000.0, "%H:%M:%S"),
        (15_000.0, "%H:%M:%S"),
        (30_000.0, "%H:%M:%S"),
        (MINUTE, "%m-%d %H:%M"),
        (5.0 * MINUTE, "%m-%d %H:%M"),
        (15.0 * MINUTE, "%m-%d %H:%M"),
        (30.0 * MINUTE, "%m-%d %H:%M"),
        (HOUR, "%m-%d %H:%M"),
        (3.0 * HOUR, "%m-%d %H:%M"),
        (6.0 * HOUR, "%m-%d %H:%M"),
        (12.0 * HOUR, "%m-%d %H:%M"),
        (DAY, "%Y-%m-%d"),
        (2.0 * DAY, "%Y-%m-%d"),
        (7.0 * DAY, "%Y-%m-%d"),
        (14.0 * DAY, "%Y-%m-%d"),
        (28.0 * DAY, "%Y-%m"),
    ];
    let span = hi - lo;
    for (step, format) in STEPS {
        if span / step <= target as f64 {
            if step >= 28.0 * DAY {
                break;
            }
            // Weeks start on Monday: the epoch was a Thursday.
            let offset = if step >= 7.0 * DAY { 4.0 * DAY } else { 0.0 };
            let first = ((lo - offset) / step).ceil() as i64;
            let last = ((hi - offset) / step).floor() as i64;
            let ticks = (first..=last).map(|k| k as f64 * step + offset).collect();
            return (ticks, format);
        }
    }
    month_ticks(lo, hi, target)
}

/// Ticks on the first of every 1, 3, 6 or 12·k months.
fn month_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, &'static str) {
    let date = |ms: f64| {
        DateTime::<Utc>::from_timestamp_millis(ms as i64).map_or(
            NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default(),
            |t| t.date_naive(),
        )
    };
    let (d0, d1) = (date(lo), date(hi));
    let months = |d: NaiveDate| d.year() as i64 * 12 + d.month0() as i64;
    let span = (months(d1) - months(d0)).max(1);
    let mut step = 1;
    for s in [1, 3, 6, 12, 24, 60, 120, 240, 600, 1200] {
        step = s;
        if span / s <= target as i64 {
            break;
        }
    }
    let mut ticks = Vec::new();
    let mut m = (months(d0) + step - 1) / step * step;
    while m <= months(d1) {
        let (year, month0) = (m.div_euclid(12), m.rem_euclid(12));
        if let Some(d) = NaiveDate::from_ymd_opt(year as i32, month0 as u32 + 1, 1) {
            let ms = d
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().timestamp_millis());
            if let Some(ms) = ms {
                let ms = ms as f64;
                if ms >= lo && ms <= hi {
                    ticks.push(ms);
                }
            }
        }
        m += step;
    }
    (ticks, if step >= 12 { "%Y" } else { "%Y-%m" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compact() {
        assert_eq!(format_number(0.81234), "0.8123");
        assert_eq!(format_number(1234.5678), "1235");
        assert_eq!(format_number(12.5), "12.5");
        assert_eq!(format_number(2.5e7), "2.5e7");
        assert_eq!(format_number(0.0001), "1e-4");
        assert_eq!(format_number(f64::NAN), "—");
        assert_eq!(format_fixed(-0.0001, 2), "0");
        assert_eq!(format_fixed(0.25, 2), "0.25");
    }

    #[test]
    fn linear_ticks_are_round() {
        let a = Axis::linear(0.0, 0.93, 5);
        assert_eq!(a.ticks, vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8]);
        assert_eq!(a.label(0.6000000000000001), "0.6");
    }

    #[test]
    fn time_ticks_fall_on_utc_boundaries() {
        // 2014-02-14 00:00 UTC plus 5 days.
        let lo = 1_392_336_000_000.0;
        let a = Axis::time(lo + 3.0 * HOUR, lo + 5.0 * DAY, 8);
        assert!(a.ticks.iter().all(|t| t % DAY == 0.0), "{:?}", a.ticks);
        assert_eq!(a.label(a.ticks[0]), "2014-02-15");
        let b = Axis::time(lo, lo + 6.0 * HOUR, 8);
        assert_eq!(b.label(b.ticks[1]), "02-14 01:00");
        let c = Axis::time(lo, lo + 400.0 * DAY, 8);
        assert!(
            c.ticks.iter().all(|t| c.label(*t).len() == 7),
            "{:?}",
            c.ticks
        );
    }

    #[test]
    fn log_ticks_are_decades() {
        let a = Axis::log(1e-4, 1.0);
        assert_eq!(a.ticks.len(), 5);
        assert_eq!(a.label(1e-3), "0.001");
        assert_eq!(a.label(1e-4), "1e-4");
        assert_eq!(a.map(&1e-2, (0, 400)), 200);
    }
}
