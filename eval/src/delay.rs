//! Detection delay per incident: time and rows from the incident's first row to the first alert
//! that fires inside it (negative when an early-detection allowance let it fire before).

use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::error::Result;
use crate::event::{extended_windows, first_alerts};
use crate::labels::{Window, validate_windows};

/// Delay of one incident.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IncidentDelay {
    /// The incident.
    pub window: Window,
    /// Rows from its start to the first alert; `None` when missed.
    pub rows: Option<i64>,
    /// Milliseconds from its start to the first alert; `None` when missed.
    pub ms: Option<i64>,
}

/// Mean, median and maximum of a set of delays.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DelayStats {
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (mean of the two middle values for an even count).
    pub median: f64,
    /// Largest delay.
    pub max: f64,
}

/// Delays of every incident with their summaries over the detected ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DelayReport {
    /// One entry per incident.
    pub incidents: Vec<IncidentDelay>,
    /// Summary in rows; `None` when no incident was detected.
    pub rows: Option<DelayStats>,
    /// Summary in milliseconds; `None` when no incident was detected.
    pub ms: Option<DelayStats>,
}

impl DelayReport {
    /// Appends the incidents of another series (call [`DelayReport::finish`] after the last).
    pub fn extend(&mut self, other: DelayReport) {
        self.incidents.extend(other.incidents);
    }

    /// Recomputes the summaries from the incidents.
    pub fn finish(&mut self) {
        self.rows = stats(
            self.incidents
                .iter()
                .filter_map(|d| d.rows)
                .map(|r| r as f64)
                .collect(),
        );
        self.ms = stats(
            self.incidents
                .iter()
                .filter_map(|d| d.ms)
                .map(|m| m as f64)
                .collect(),
        );
    }
}

/// Delay of each incident to its first alert (allowance `early_ms` as in event metrics).
pub fn detection_delays(
    alerts: &[Alert],
    windows: &[Window],
    timestamps: &[i64],
    early_ms: i64,
) -> Result<DelayReport> {
    validate_windows(windows, timestamps.len())?;
    let extended = extended_windows(windows, timestamps, early_ms);
    let firsts = first_alerts(alerts, &extended);
    let incidents: Vec<IncidentDelay> = windows
        .iter()
        .zip(&firsts)
        .map(|(w, first)| IncidentDelay {
            window: *w,
            rows: first.map(|a| alerts[a].start as i64 - w.start as i64),
            ms: first.map(|a| timestamps[alerts[a].start] - timestamps[w.start]),
        })
        .collect();
    let rows: Vec<f64> = incidents
        .iter()
        .filter_map(|d| d.rows)
        .map(|r| r as f64)
        .collect();
    let ms: Vec<f64> = incidents
        .iter()
        .filter_map(|d| d.ms)
        .map(|m| m as f64)
        .collect();
    Ok(DelayReport {
        incidents,
        rows: stats(rows),
        ms: stats(ms),
    })
}

fn stats(mut v: Vec<f64>) -> Option<DelayStats> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some(DelayStats {
        mean: v.iter().sum::<f64>() / n as f64,
        median,
        max: v[n - 1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertPolicy, apply_alert_policy};

    #[test]
    fn delays_in_rows_and_time() {
        let t: Vec<i64> = (0..40).map(|i| i * 300_000).collect(); // 5-minute rows
        let mut s = vec![0.0; 40];
        s[10] = 1.0; // first row of incident 1: delay 0
        s[23] = 1.0; // 3 rows into incident 2
        let windows = [
            Window::new(10, 14),
            Window::new(20, 25),
            Window::new(30, 35),
        ];
        let alerts = apply_alert_policy(&s, &t, 0.5, &AlertPolicy::default()).unwrap();
        let d = detection_delays(&alerts, &windows, &t, 0).unwrap();
        assert_eq!(d.incidents[0].rows, Some(0));
        assert_eq!(d.incidents[1].rows, Some(3));
        assert_eq!(d.incidents[1].ms, Some(900_000));
        assert_eq!(d.incidents[2].rows, None);
        let r = d.rows.unwrap();
        assert_eq!((r.mean, r.median, r.max), (1.5, 1.5, 3.0));
        assert_eq!(d.ms.unwrap().max, 900_000.0);
        let none = detection_delays(&[], &windows, &t, 0).unwrap();
        assert!(none.rows.is_none() && none.ms.is_none());
    }

    #[test]
    fn early_alert_gives_negative_delay() {
        let t: Vec<i64> = (0..20).collect();
        let mut s = vec![0.0; 20];
        s[8] = 1.0;
        let alerts = apply_alert_policy(&s, &t, 0.5, &AlertPolicy::default()).unwrap();
        let d = detection_delays(&alerts, &[Window::new(10, 12)], &t, 2).unwrap();
        assert_eq!(d.incidents[0].rows, Some(-2));
    }
}
