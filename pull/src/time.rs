//! Time and duration arguments: Prometheus durations (`30s`, `5m`, `1h30m`, `7d`) and range
//! ends given as absolute times or relative to now (`now-30d`).
//!
//! Everything is `i64` milliseconds (UTC) like the rest of vigil.

use vigil_datasets::timestamp::{format_timestamp, parse_timestamp};

use crate::error::{PullError, Result};

const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 86_400_000),
    ("w", 7 * 86_400_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses a positive Prometheus duration into milliseconds.
///
/// Accepts Prometheus' own syntax — one or more `<integer><unit>` parts with units `y w d h m s
/// ms`, largest first, each at most once (`1h30m`, `90s`, `250ms`; a year is 365 days) — and a
/// plain number of seconds (`300`, `0.5`) as the HTTP API does. Zero is refused.
pub fn parse_duration(arg: &'static str, text: &str) -> Result<i64> {
    let bad = |reason: &str| PullError::BadDuration {
        arg,
        value: text.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(bad("it is empty"));
    }
    let ms = if let Ok(seconds) = trimmed.parse::<f64>() {
        if !seconds.is_finite() || seconds < 0.0 || seconds * 1000.0 > i64::MAX as f64 / 2.0 {
            return Err(bad("it is not a finite positive number of seconds"));
        }
        (seconds * 1000.0).round() as i64
    } else {
        parse_units(trimmed).map_err(bad)?
    };
    if ms <= 0 {
        return Err(bad("it must be longer than zero (and at least 1ms)"));
    }
    Ok(ms)
}

fn parse_units(text: &str) -> std::result::Result<i64, &'static str> {
    let bytes = text.as_bytes();
    let mut total: i64 = 0;
    let mut at = 0;
    // Index into UNITS of the last unit seen: units must come largest first, once each.
    let mut last_unit: Option<usize> = None;
    while at < bytes.len() {
        let digits_start = at;
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            at += 1;
        }
        if at == digits_start {
            return Err("expected a number before each unit");
        }
        let number: i64 = text[digits_start..at]
            .parse()
            .map_err(|_| "the number is too large")?;
        let unit_start = at;
        while at < bytes.len() && bytes[at].is_ascii_alphabetic() {
            at += 1;
        }
        let unit = &text[unit_start..at];
        let Some(index) = UNITS.iter().position(|(name, _)| *name == unit) else {
            return Err(if unit.is_empty() {
                "a number without a unit must stand alone (seconds)"
            } else {
                "unknown unit (use y, w, d, h, m, s or ms)"
            });
        };
        if last_unit.is_some_and(|last| index <= last) {
            return Err("units must go from largest to smallest, each at most once");
        }
        last_unit = Some(index);
        total = number
            .checked_mul(UNITS[index].1)
            .and_then(|ms| total.checked_add(ms))
            .ok_or("the duration is too long")?;
    }
    Ok(total)
}

/// Formats milliseconds as the shortest Prometheus duration (`90000` → `1m30s`).
pub fn format_duration(ms: i64) -> String {
    if ms <= 0 {
        return format!("{ms}ms");
    }
    let mut rest = ms;
    let mut out = String::new();
    for (name, size) in UNITS {
        if rest >= size {
            out.push_str(&format!("{}{name}", rest / size));
            rest %= size;
        }
    }
    out
}

/// Parses a range end: `now`, `now-<duration>` or `now+<duration>` relative to `now_ms`, or an
/// absolute time in any form [`parse_timestamp`] reads (RFC 3339, `YYYY-MM-DD HH:MM:SS` as UTC,
/// epoch seconds or milliseconds). `arg` names the flag in the error.
pub fn parse_time(arg: &'static str, text: &str, now_ms: i64) -> Result<i64> {
    let bad = || PullError::BadTime {
        arg,
        value: text.to_owned(),
    };
    let trimmed = text.trim();
    if let Some(rest) = trimmed.strip_prefix("now") {
        let rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(now_ms);
        }
        let (sign, duration) = match rest.split_at(1) {
            ("-", d) => (-1, d),
            ("+", d) => (1, d),
            _ => return Err(bad()),
        };
        let ms = parse_duration(arg, duration.trim()).map_err(|_| bad())?;
        return now_ms.checked_add(sign * ms).ok_or_else(bad);
    }
    parse_timestamp(trimmed).ok_or_else(bad)
}

/// The current time in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// RFC 3339 text of a millisecond time, for messages and metadata.
pub fn show(ms: i64) -> String {
    format_timestamp(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duration(text: &str) -> Option<i64> {
        parse_duration("--step", text).ok()
    }

    #[test]
    fn prometheus_durations() {
        assert_eq!(duration("30s"), Some(30_000));
        assert_eq!(duration("5m"), Some(300_000));
        assert_eq!(duration("1h"), Some(3_600_000));
        assert_eq!(duration("1h30m"), Some(5_400_000));
        assert_eq!(duration("1d2h3m4s5ms"), Some(93_784_005));
        assert_eq!(duration("2w"), Some(1_209_600_000));
        assert_eq!(duration("1y"), Some(31_536_000_000));
        assert_eq!(duration("250ms"), Some(250));
        assert_eq!(duration(" 15s "), Some(15_000));
    }

    #[test]
    fn plain_numbers_are_seconds() {
        assert_eq!(duration("300"), Some(300_000));
        assert_eq!(duration("0.5"), Some(500));
    }

    #[test]
    fn bad_durations_say_why() {
        let reason = |text: &str| match parse_duration("--step", text) {
            Err(PullError::BadDuration { reason, .. }) => reason,
            other => panic!("{text:?}: {other:?}"),
        };
        assert!(reason("").contains("empty"));
        assert!(reason("0s").contains("longer than zero"));
        assert!(reason("0").contains("longer than zero"));
        assert!(reason("5x").contains("unknown unit"));
        assert!(reason("m").contains("number before"));
        assert!(reason("30m1h").contains("largest to smallest"));
        assert!(reason("5m5m").contains("largest to smallest"));
        assert!(reason("1m30").contains("stand alone"));
        assert!(reason("-5").contains("positive"));
        assert!(reason("99999999999999999999s").contains("too large"));
        assert!(reason("9999999999999y").contains("too long"));
    }

    #[test]
    fn durations_format_back() {
        for text in ["30s", "5m", "1h30m", "1d2h3m4s5ms", "250ms", "2w"] {
            assert_eq!(
                duration(text).map(format_duration).as_deref(),
                Some(text),
                "{text}"
            );
        }
        assert_eq!(format_duration(90_000), "1m30s");
    }

    #[test]
    fn times_absolute_and_relative() {
        let now = 1_700_000_000_000;
        let time = |text: &str| parse_time("--start", text, now).ok();
        assert_eq!(time("now"), Some(now));
        assert_eq!(time("now-30d"), Some(now - 30 * 86_400_000));
        assert_eq!(time("now - 1h30m"), Some(now - 5_400_000));
        assert_eq!(time("now+5m"), Some(now + 300_000));
        assert_eq!(time("2023-11-14T22:13:20Z"), Some(1_700_000_000_000));
        assert_eq!(time("2023-11-14 22:13:20"), Some(1_700_000_000_000));
        assert_eq!(time("2023-11-15T00:13:20+02:00"), Some(1_700_000_000_000));
        assert_eq!(time("1700000000"), Some(1_700_000_000_000));
        assert_eq!(time("1700000000000"), Some(1_700_000_000_000));
        for bad in ["yesterday", "now-", "now*2", "now-5x", "2023-13-01"] {
            let err = parse_time("--end", bad, now).err().map(|e| e.to_string());
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.starts_with("--end: cannot read") && e.contains("hint:")),
                "{bad}: {err:?}"
            );
        }
    }
}
