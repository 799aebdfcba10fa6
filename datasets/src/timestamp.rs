//! Timestamps as `i64` milliseconds since the Unix epoch (UTC): parsing every text form the
//! loaders meet, formatting as RFC 3339, and the order check that turns duplicate or backward
//! timestamps into a [`Warning`].
//!
//! Parsing is on the hot path of every CSV load (one call per row), so the fixed ISO shapes
//! (`YYYY-MM-DD HH:MM:SS`, the `T` form, RFC 3339 with a fraction and an offset) are decoded by
//! hand without allocating; anything else falls back to chrono.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDateTime};

use crate::model::Warning;

const MS_PER_SECOND: i64 = 1_000;
const MS_PER_DAY: i64 = 86_400_000;

/// Numbers at or above this magnitude are epoch **milliseconds**, below it epoch **seconds**.
/// 1e11 s is the year 5138 and 1e11 ms is 1973-03-03, so real data is never ambiguous.
pub const EPOCH_MS_THRESHOLD: f64 = 1e11;

/// Parses a timestamp into milliseconds since the Unix epoch (UTC).
///
/// Accepted forms (surrounding whitespace ignored):
/// - RFC 3339: `2024-01-31T12:00:00Z`, `2024-01-31T12:00:00.250+02:00` (any fraction length;
///   digits past milliseconds are truncated);
/// - `YYYY-MM-DD HH:MM:SS[.ffffff]` and `YYYY-MM-DDTHH:MM:SS[.f]` without an offset, read as UTC;
///   `HH:MM` without seconds and a bare `YYYY-MM-DD` (midnight) are accepted too;
/// - a plain number as epoch time: seconds when `|v| < 1e11`, milliseconds otherwise;
///   fractional seconds are allowed (`1435781430.781`).
///
/// Returns `None` when the text is none of these (or names an impossible date such as
/// February 30th); callers turn that into an error naming the row and column.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    let bytes = text.as_bytes();
    if bytes.len() >= 10 && bytes[4] == b'-' {
        if let Some(ms) = parse_iso(bytes) {
            return Some(ms);
        }
    } else if let Some(ms) = parse_epoch(text) {
        return Some(ms);
    }
    parse_with_chrono(text)
}

/// Converts an integer epoch value to milliseconds by magnitude (see [`EPOCH_MS_THRESHOLD`]).
/// `None` when seconds overflow `i64` milliseconds.
pub fn epoch_to_ms(value: i64) -> Option<i64> {
    if value.unsigned_abs() >= EPOCH_MS_THRESHOLD as u64 {
        Some(value)
    } else {
        value.checked_mul(MS_PER_SECOND)
    }
}

/// Converts a fractional epoch value (seconds or milliseconds by magnitude) to milliseconds,
/// rounding to the nearest millisecond. `None` for NaN, infinities and values out of range.
pub fn epoch_float_to_ms(value: f64) -> Option<i64> {
    if !value.is_finite() {
        return None;
    }
    let ms = if value.abs() >= EPOCH_MS_THRESHOLD {
        value.round()
    } else {
        (value * MS_PER_SECOND as f64).round()
    };
    // i64::MAX as f64 rounds up to 2^63, so compare with a strict bound.
    if ms >= -(i64::MAX as f64) && ms < i64::MAX as f64 {
        Some(ms as i64)
    } else {
        None
    }
}

/// Formats milliseconds since the epoch as RFC 3339 in UTC with milliseconds:
/// `2024-01-31T12:00:00.000Z`. Years outside 0..=9999 cannot be written in RFC 3339; they are
/// written as the plain millisecond number, which [`parse_timestamp`] reads back unchanged.
pub fn format_timestamp(ms: i64) -> String {
    let mut out = String::with_capacity(24);
    write_timestamp(ms, &mut out);
    out
}

/// Appends [`format_timestamp`]'s text to `out` without allocating a new string.
pub fn write_timestamp(ms: i64, out: &mut String) {
    let days = ms.div_euclid(MS_PER_DAY);
    let in_day = ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        let _ = write!(out, "{ms}");
        return;
    }
    let seconds = in_day / MS_PER_SECOND;
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        in_day % MS_PER_SECOND
    );
}

/// Looks for timestamps that repeat or go back, in file order, and describes the first few of
/// each with their 1-based data rows. Rows are kept as they are; this only reports.
pub(crate) fn order_warning(path: &str, series: &str, timestamps: &[i64]) -> Option<Warning> {
    const SHOWN: usize = 3;
    let mut duplicates = Vec::new();
    let mut duplicate_count = 0usize;
    let mut backward = Vec::new();
    let mut backward_count = 0usize;
    for (i, pair) in timestamps.windows(2).enumerate() {
        let (previous_row, row) = (i + 1, i + 2);
        if pair[1] == pair[0] {
            duplicate_count += 1;
            if duplicates.len() < SHOWN {
                duplicates.push(format!(
                    "row {row} repeats {} of row {previous_row}",
                    format_timestamp(pair[1])
                ));
            }
        } else if pair[1] < pair[0] {
            backward_count += 1;
            if backward.len() < SHOWN {
                backward.push(format!(
                    "row {row} ({}) is before row {previous_row} ({})",
                    format_timestamp(pair[1]),
                    format_timestamp(pair[0])
                ));
            }
        }
    }
    if duplicate_count == 0 && backward_count == 0 {
        return None;
    }
    let mut parts = Vec::new();
    if duplicate_count > 0 {
        parts.push(format!(
            "{duplicate_count} duplicate timestamp(s): {}{}",
            duplicates.join("; "),
            if duplicate_count > SHOWN { "; …" } else { "" }
        ));
    }
    if backward_count > 0 {
        parts.push(format!(
            "{backward_count} step(s) back in time: {}{}",
            backward.join("; "),
            if backward_count > SHOWN { "; …" } else { "" }
        ));
    }
    let message = format!("{}; rows are kept in file order", parts.join("; "));
    tracing::warn!(path, series, "{message}");
    Some(Warning {
        path: path.to_owned(),
        series: Some(series.to_owned()),
        message,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

#[inline]
fn digits(bytes: &[u8]) -> Option<u32> {
    let mut value = 0u32;
    for &b in bytes {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        value = value * 10 + u32::from(d);
    }
    Some(value)
}

/// The fast path: `YYYY-MM-DD[( |T)HH:MM[:SS[.fff…]]][Z|±HH[:MM]]`.
fn parse_iso(b: &[u8]) -> Option<i64> {
    let year = i64::from(digits(&b[0..4])?);
    let month = digits(b.get(5..7)?)?;
    let day = digits(b.get(8..10)?)?;
    if b[7] != b'-' || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let date_ms = days_from_civil(year, month, day) * MS_PER_DAY;
    if b.len() == 10 {
        return Some(date_ms);
    }
    if !matches!(b[10], b' ' | b'T' | b't') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let mut pos = 16;
    let mut second = 0;
    if b.get(pos) == Some(&b':') {
        second = digits(b.get(17..19)?)?;
        pos = 19;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut millis = 0i64;
    if matches!(b.get(pos), Some(b'.' | b',')) {
        pos += 1;
        let start = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            if pos - start < 3 {
                millis = millis * 10 + i64::from(b[pos] - b'0');
            }
            pos += 1;
        }
        let len = pos - start;
        if len == 0 {
            return None;
        }
        for _ in len..3 {
            millis *= 10;
        }
    }
    let offset_ms = match &b[pos..] {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (hours, minutes) = match rest {
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
                }
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = (i64::from(hours) * 60 + i64::from(minutes)) * 60_000;
            if *sign == b'+' { offset } else { -offset }
        }
        _ => return None,
    };
    let time_ms = ((i64::from(hour) * 60 + i64::from(minute)) * 60 + i64::from(second))
        * MS_PER_SECOND
        + millis;
    Some(date_ms + time_ms - offset_ms)
}

/// A plain number: epoch seconds or milliseconds by magnitude.
fn parse_epoch(text: &str) -> Option<i64> {
    let first = *text.as_bytes().first()?;
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return None;
    }
    if let Ok(value) = text.parse::<i64>() {
        return epoch_to_ms(value);
    }
    epoch_float_to_ms(text.parse::<f64>().ok()?)
}

/// The slow path for shapes the fast path does not know (leap seconds, `/` dates, `UTC`
/// suffixes, offsets without a colon after a fraction…).
fn parse_with_chrono(text: &str) -> Option<i64> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.timestamp_millis());
    }
    const ZONED: [&str; 3] = [
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y/%m/%d %H:%M:%S%.f%#z",
    ];
    for format in ZONED {
        if let Ok(dt) = DateTime::parse_from_str(text, format) {
            return Some(dt.timestamp_millis());
        }
    }
    let naive_text = text.strip_suffix(" UTC").unwrap_or(text);
    const NAIVE: [&str; 4] = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S%.f",
        "%Y/%m/%d %H:%M",
    ];
    for format in NAIVE {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive_text, format) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono_ms(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text)
            .map(|d| d.timestamp_millis())
            .unwrap_or(i64::MIN)
    }

    #[test]
    fn iso_shapes_agree_with_chrono() {
        let base = chrono_ms("2014-07-01T00:30:00Z");
        assert_eq!(parse_timestamp("2014-07-01 00:30:00"), Some(base));
        assert_eq!(parse_timestamp("2014-07-01T00:30:00"), Some(base));
        assert_eq!(parse_timestamp("2014-07-01T00:30:00Z"), Some(base));
        assert_eq!(parse_timestamp("  2014-07-01 00:30  "), Some(base));
        assert_eq!(parse_timestamp("2014-07-01 00:30:00.000000"), Some(base));
        assert_eq!(parse_timestamp("2014-07-01T02:30:00+02:00"), Some(base));
        assert_eq!(parse_timestamp("2014-06-30T19:00:00-0530"), Some(base));
        assert_eq!(parse_timestamp("2014-07-01T00:30:00.25Z"), Some(base + 250));
        assert_eq!(
            parse_timestamp("2014-07-01T00:30:00.123999Z"),
            Some(base + 123)
        );
        assert_eq!(
            parse_timestamp("2014-07-01"),
            Some(chrono_ms("2014-07-01T00:00:00Z"))
        );
        for text in [
            "1969-12-31T23:59:59.999Z",
            "2000-02-29T12:00:00Z",
            "1900-03-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_timestamp(text), Some(chrono_ms(text)), "{text}");
        }
    }

    #[test]
    fn slow_shapes_go_through_chrono() {
        let base = chrono_ms("2014-07-01T00:30:00Z");
        assert_eq!(parse_timestamp("2014/07/01 00:30:00"), Some(base));
        assert_eq!(parse_timestamp("2014-07-01 00:30:00 UTC"), Some(base));
        assert_eq!(
            parse_timestamp("2016-12-31T23:59:60Z"),
            Some(chrono_ms("2016-12-31T23:59:60Z"))
        );
    }

    #[test]
    fn epoch_numbers_by_magnitude() {
        assert_eq!(parse_timestamp("1404174600"), Some(1_404_174_600_000));
        assert_eq!(parse_timestamp("1404174600000"), Some(1_404_174_600_000));
        assert_eq!(parse_timestamp("1435781430.781"), Some(1_435_781_430_781));
        assert_eq!(parse_timestamp("1404174600000.4"), Some(1_404_174_600_000));
        assert_eq!(parse_timestamp("0"), Some(0));
        assert_eq!(parse_timestamp("-86400"), Some(-86_400_000));
        assert_eq!(epoch_to_ms(99_999_999_999), Some(99_999_999_999_000));
        assert_eq!(epoch_to_ms(100_000_000_000), Some(100_000_000_000));
        assert_eq!(epoch_float_to_ms(f64::NAN), None);
    }

    #[test]
    fn garbage_is_rejected() {
        for text in [
            "",
            "   ",
            "yesterday",
            "2014-13-01 00:00:00",
            "2014-02-30 00:00:00",
            "2014-07-01 24:00:00",
            "2014-07-01 00:61:00",
            "2014-07-01 00:30:00+25:00",
            "2014-07-01 00:30:00.",
            "2014-07-01 00:30:00 junk",
            "NaN",
            "inf",
            "12:30",
            "1e400",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text:?}");
        }
    }

    #[test]
    fn format_round_trips() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            format_timestamp(1_435_781_430_781),
            "2015-07-01T20:10:30.781Z"
        );
        for ms in [
            0,
            -1,
            951_782_400_000,
            1_435_781_430_781,
            253_402_300_799_999,
            -62_167_219_200_000,
        ] {
            assert_eq!(parse_timestamp(&format_timestamp(ms)), Some(ms), "{ms}");
        }
        for ms in [i64::MAX, i64::MIN + 1, 253_402_300_800_000] {
            assert_eq!(format_timestamp(ms), ms.to_string());
            assert_eq!(parse_timestamp(&format_timestamp(ms)), Some(ms));
        }
    }

    #[test]
    fn civil_days_invert() {
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn order_warning_names_rows() {
        assert!(order_warning("f.csv", "s", &[1, 2, 3]).is_none());
        let warning = order_warning("f.csv", "s", &[0, 1000, 1000, 500, 2000])
            .map(|w| w.message)
            .unwrap_or_default();
        assert!(warning.contains("row 3 repeats"), "{warning}");
        assert!(
            warning.contains("row 4 (1970-01-01T00:00:00.500Z) is before row 3"),
            "{warning}"
        );
    }
}
