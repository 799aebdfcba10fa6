//! Alert policy, applied after thresholding: how detections become the alerts a person sees.
//!
//! 1. A row is *active* once the run of consecutive detections ending at it is at least
//!    `min_consecutive` long (causal: the first rows of a run never alert on their own).
//! 2. Runs of active rows are alert events; events whose gap (time from the end of one to the
//!    start of the next) is at most `merge_gap_ms` merge into one.
//! 3. Cooldown: an event that starts less than `cooldown_ms` after the previous alert started is
//!    suppressed, folded into that alert (e.g. the 5-minute throttle of the runtime services).
//! 4. Each alert gets the severity band its peak score reaches.
//!
//! Timestamps are milliseconds UTC, one per row; time differences that come out negative
//! (timestamps out of order) count as 0.

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result, check_finite, check_len};

/// How detections turn into alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertPolicy {
    /// Consecutive detected rows needed before an alert fires (at least 1).
    pub min_consecutive: usize,
    /// After an alert fires, further events starting within this many ms are suppressed.
    pub cooldown_ms: i64,
    /// Events separated by at most this many ms merge into one.
    pub merge_gap_ms: i64,
    /// Optional severity classes from score bands.
    pub severity: Option<SeverityBands>,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        Self {
            min_consecutive: 1,
            cooldown_ms: 0,
            merge_gap_ms: 0,
            severity: None,
        }
    }
}

/// Severity classes: an alert takes the highest band whose `min_score` its peak reaches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityBands {
    /// Bands in ascending order of `min_score`.
    pub bands: Vec<SeverityBand>,
}

/// One severity class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityBand {
    /// Class name (`info`, `warning`, `critical`).
    pub name: String,
    /// Lowest peak score of this class.
    pub min_score: f64,
}

impl SeverityBands {
    /// Bands from `(name, min_score)` pairs; they must ascend strictly.
    pub fn new(bands: &[(&str, f64)]) -> Result<Self> {
        let out = Self {
            bands: bands
                .iter()
                .map(|&(name, min_score)| SeverityBand {
                    name: name.to_string(),
                    min_score,
                })
                .collect(),
        };
        out.check()?;
        Ok(out)
    }

    /// Checks that the bands are finite and strictly ascending.
    pub fn check(&self) -> Result<()> {
        let ascending = self
            .bands
            .windows(2)
            .all(|p| p[0].min_score < p[1].min_score);
        if !ascending || self.bands.iter().any(|b| !b.min_score.is_finite()) {
            return Err(EvalError::InvalidParam {
                param: "alert.severity.bands",
                value: format!("{:?}", self.bands),
                reason: "min_score values must be finite and strictly ascending",
                hint: "e.g. info >= 0.5, warning >= 0.8, critical >= 0.95",
            });
        }
        Ok(())
    }

    /// The class of a peak score, `None` below the lowest band.
    pub fn classify(&self, peak: f64) -> Option<&str> {
        self.bands
            .iter()
            .rev()
            .find(|b| peak >= b.min_score)
            .map(|b| b.name.as_str())
    }
}

impl AlertPolicy {
    /// Checks the parameters.
    pub fn check(&self) -> Result<()> {
        if self.min_consecutive == 0 {
            return Err(EvalError::InvalidParam {
                param: "alert.min_consecutive",
                value: "0".into(),
                reason: "must be at least 1",
                hint: "use 1 to alert on the first detected row",
            });
        }
        for (param, v) in [
            ("alert.cooldown_ms", self.cooldown_ms),
            ("alert.merge_gap_ms", self.merge_gap_ms),
        ] {
            if v < 0 {
                return Err(EvalError::InvalidParam {
                    param,
                    value: v.to_string(),
                    reason: "must not be negative",
                    hint: "use 0 to switch it off",
                });
            }
        }
        if let Some(bands) = &self.severity {
            bands.check()?;
        }
        Ok(())
    }
}

/// One alert as a person would see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Row where the alert fired.
    pub start: usize,
    /// Last active row covered by the alert (suppressed events included).
    pub end: usize,
    /// Time the alert fired (ms UTC).
    pub start_ms: i64,
    /// Highest score over the alert's active rows.
    pub peak_score: f64,
    /// Severity class of the peak, when the policy has bands.
    pub severity: Option<String>,
    /// Events folded into this alert by the cooldown.
    pub suppressed: usize,
}

/// Rows that count as detected after `min_consecutive`.
pub fn active_rows(scores: &[f64], threshold: f64, min_consecutive: usize) -> Vec<bool> {
    let mut run = 0usize;
    scores
        .iter()
        .map(|&s| {
            run = if s >= threshold { run + 1 } else { 0 };
            run >= min_consecutive.max(1)
        })
        .collect()
}

/// Applies the threshold and the alert policy; alerts come back in time order.
pub fn apply_alert_policy(
    scores: &[f64],
    timestamps: &[i64],
    threshold: f64,
    policy: &AlertPolicy,
) -> Result<Vec<Alert>> {
    policy.check()?;
    check_finite(scores)?;
    check_len("timestamps", scores.len(), timestamps.len())?;
    let active = active_rows(scores, threshold, policy.min_consecutive);
    let gap = |from: usize, to: usize| (timestamps[to] - timestamps[from]).max(0);
    // Active runs, merged across small gaps: (start, end, peak).
    let mut events: Vec<(usize, usize, f64)> = Vec::new();
    for w in crate::labels::runs(&active) {
        let peak = scores[w.start..=w.end]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        match events.last_mut() {
            Some(last) if gap(last.1, w.start) <= policy.merge_gap_ms => {
                last.1 = w.end;
                last.2 = last.2.max(peak);
            }
            _ => events.push((w.start, w.end, peak)),
        }
    }
    let mut alerts: Vec<Alert> = Vec::new();
    for (start, end, peak) in events {
        match alerts.last_mut() {
            Some(last) if gap(last.start, start) < policy.cooldown_ms => {
                last.end = end;
                last.peak_score = last.peak_score.max(peak);
                last.suppressed += 1;
            }
            _ => alerts.push(Alert {
                start,
                end,
                start_ms: timestamps[start],
                peak_score: peak,
                severity: None,
                suppressed: 0,
            }),
        }
    }
    if let Some(bands) = &policy.severity {
        for a in &mut alerts {
            a.severity = bands.classify(a.peak_score).map(str::to_string);
        }
    }
    Ok(alerts)
}

/// Per-row mask of the rows covered by alerts (`start..=end`).
pub fn alert_mask(alerts: &[Alert], rows: usize) -> Vec<bool> {
    let mut mask = vec![false; rows];
    for a in alerts {
        for m in mask.iter_mut().take(a.end + 1).skip(a.start) {
            *m = true;
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn minutes(n: usize) -> Vec<i64> {
        (0..n as i64).map(|i| i * MIN).collect()
    }

    #[test]
    fn min_consecutive_waits_for_the_run() {
        let s = [1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0];
        assert_eq!(
            active_rows(&s, 0.5, 2),
            vec![false, true, false, false, true, true, false]
        );
        let p = AlertPolicy {
            min_consecutive: 3,
            ..AlertPolicy::default()
        };
        let alerts = apply_alert_policy(&s, &minutes(7), 0.5, &p).unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!((alerts[0].start, alerts[0].end), (5, 5));
    }

    #[test]
    fn merge_gap_joins_nearby_events() {
        let s = [1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let t = minutes(7);
        let none = apply_alert_policy(&s, &t, 0.5, &AlertPolicy::default()).unwrap();
        assert_eq!(none.len(), 3);
        let p = AlertPolicy {
            merge_gap_ms: 2 * MIN,
            ..AlertPolicy::default()
        };
        let merged = apply_alert_policy(&s, &t, 0.5, &p).unwrap();
        assert_eq!(merged.len(), 2);
        assert_eq!((merged[0].start, merged[0].end), (0, 2));
        assert_eq!(merged[0].suppressed, 0);
    }

    #[test]
    fn cooldown_suppresses_within_five_minutes() {
        let s = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
        let p = AlertPolicy {
            cooldown_ms: 5 * MIN,
            ..AlertPolicy::default()
        };
        let alerts = apply_alert_policy(&s, &minutes(8), 0.5, &p).unwrap();
        // Fires at 0; events at 2 and 4 are suppressed; 6 is 6 min after 0 and fires again.
        assert_eq!(alerts.len(), 2);
        assert_eq!(
            (alerts[0].start, alerts[0].end, alerts[0].suppressed),
            (0, 4, 2)
        );
        assert_eq!(alerts[1].start, 6);
        assert_eq!(alerts[1].start_ms, 6 * MIN);
    }

    #[test]
    fn severity_from_peak_band() {
        let bands =
            SeverityBands::new(&[("info", 0.5), ("warning", 0.8), ("critical", 0.95)]).unwrap();
        let p = AlertPolicy {
            severity: Some(bands),
            ..AlertPolicy::default()
        };
        let s = [0.6, 0.0, 0.85, 0.97, 0.0, 0.55];
        let alerts = apply_alert_policy(&s, &minutes(6), 0.5, &p).unwrap();
        let sev: Vec<_> = alerts.iter().map(|a| a.severity.as_deref()).collect();
        assert_eq!(sev, vec![Some("info"), Some("critical"), Some("info")]);
        assert!(SeverityBands::new(&[("a", 0.9), ("b", 0.5)]).is_err());
    }

    #[test]
    fn no_alerts_and_bad_input() {
        let alerts =
            apply_alert_policy(&[0.1, 0.2], &minutes(2), 0.5, &AlertPolicy::default()).unwrap();
        assert!(alerts.is_empty());
        assert!(apply_alert_policy(&[0.1], &[], 0.5, &AlertPolicy::default()).is_err());
        let bad = AlertPolicy {
            min_consecutive: 0,
            ..AlertPolicy::default()
        };
        assert!(apply_alert_policy(&[0.1], &[0], 0.5, &bad).is_err());
        let mask = alert_mask(
            &apply_alert_policy(&[1.0, 1.0, 0.0], &minutes(3), 0.5, &AlertPolicy::default())
                .unwrap(),
            3,
        );
        assert_eq!(mask, vec![true, true, false]);
    }
}
