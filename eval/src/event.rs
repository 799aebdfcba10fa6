//! Event-wise metrics: what an on-call person experiences.
//!
//! * Incident recall: an incident is found when an alert fires inside it, or up to `early_ms`
//!   before its start (an early-detection allowance; it never reaches back past the previous
//!   incident).
//! * Alert precision: the share of alerts whose rows touch an incident (allowance included).
//! * False alarms per day: alerts touching no incident, per day of data covered.
//!
//! Severity classes are evaluated beside them: per class, how many alerts and how many true.

use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::error::{EvalError, Result, check_len};
use crate::labels::{Window, validate_windows};
use crate::point::{f1, ratio};

/// Milliseconds per day.
pub const DAY_MS: f64 = 86_400_000.0;

/// Incidents widened to the left by the early-detection allowance (in time), never overlapping
/// the previous incident.
pub fn extended_windows(windows: &[Window], timestamps: &[i64], early_ms: i64) -> Vec<Window> {
    let mut out = Vec::with_capacity(windows.len());
    let mut floor = 0usize;
    for w in windows {
        let mut start = w.start;
        while start > floor && timestamps[w.start] - timestamps[start - 1] <= early_ms {
            start -= 1;
        }
        out.push(Window::new(start, w.end));
        floor = w.end + 1;
    }
    out
}

/// Event-wise results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EventMetrics {
    /// Labelled incidents.
    pub incidents: usize,
    /// Incidents with an alert firing inside them (allowance included).
    pub detected_incidents: usize,
    /// `detected_incidents / incidents` (0 without incidents).
    pub incident_recall: f64,
    /// Alerts raised.
    pub alerts: usize,
    /// Alerts touching an incident.
    pub true_alerts: usize,
    /// `true_alerts / alerts` (0 without alerts).
    pub alert_precision: f64,
    /// Harmonic mean of incident recall and alert precision.
    pub event_f1: f64,
    /// Alerts touching no incident.
    pub false_alarms: usize,
    /// Days covered by the timestamps (last − first).
    pub days: f64,
    /// `false_alarms / days` (0 when the data spans no time).
    pub false_alarms_per_day: f64,
}

impl EventMetrics {
    /// Adds the counts of another series (call [`EventMetrics::finish`] after the last one).
    pub fn add(&mut self, other: &EventMetrics) {
        self.incidents += other.incidents;
        self.detected_incidents += other.detected_incidents;
        self.alerts += other.alerts;
        self.true_alerts += other.true_alerts;
        self.false_alarms += other.false_alarms;
        self.days += other.days;
    }

    /// Recomputes the ratios from the counts.
    pub fn finish(&mut self) {
        self.incident_recall = ratio(self.detected_incidents, self.incidents);
        self.alert_precision = ratio(self.true_alerts, self.alerts);
        self.event_f1 = f1(self.alert_precision, self.incident_recall);
        self.false_alarms_per_day = if self.days > 0.0 {
            self.false_alarms as f64 / self.days
        } else {
            0.0
        };
    }
}

/// Adds per-class counts of another series into `into` (matching classes by name).
pub fn merge_severities(into: &mut Vec<SeverityMetrics>, more: Vec<SeverityMetrics>) {
    for m in more {
        match into.iter_mut().find(|x| x.severity == m.severity) {
            Some(x) => {
                x.alerts += m.alerts;
                x.true_alerts += m.true_alerts;
                x.labelled_incidents += m.labelled_incidents;
                x.matched_incidents += m.matched_incidents;
                x.precision = ratio(x.true_alerts, x.alerts);
            }
            None => into.push(m),
        }
    }
    into.sort_by(|a, b| a.severity.cmp(&b.severity));
}

/// For each incident, the index of the first alert that fires inside it (allowance included).
pub(crate) fn first_alerts(alerts: &[Alert], extended: &[Window]) -> Vec<Option<usize>> {
    extended
        .iter()
        .map(|w| alerts.iter().position(|a| w.contains(a.start)))
        .collect()
}

/// Whether each alert touches an (extended) incident.
pub(crate) fn true_alert_flags(alerts: &[Alert], extended: &[Window]) -> Vec<bool> {
    alerts
        .iter()
        .map(|a| {
            let span = Window::new(a.start, a.end);
            extended.iter().any(|w| w.overlaps(&span))
        })
        .collect()
}

fn check_inputs(alerts: &[Alert], windows: &[Window], timestamps: &[i64]) -> Result<()> {
    validate_windows(windows, timestamps.len())?;
    if let Some(a) = alerts
        .iter()
        .find(|a| a.end >= timestamps.len() || a.end < a.start)
    {
        return Err(EvalError::WindowOutOfRange {
            index: a.start,
            end: a.end,
            len: timestamps.len(),
        });
    }
    Ok(())
}

/// Event-wise metrics of `alerts` against incident `windows` over a series with `timestamps`.
pub fn event_metrics(
    alerts: &[Alert],
    windows: &[Window],
    timestamps: &[i64],
    early_ms: i64,
) -> Result<EventMetrics> {
    check_inputs(alerts, windows, timestamps)?;
    let extended = extended_windows(windows, timestamps, early_ms);
    let detected_incidents = first_alerts(alerts, &extended)
        .iter()
        .filter(|f| f.is_some())
        .count();
    let true_alerts = true_alert_flags(alerts, &extended)
        .iter()
        .filter(|&&t| t)
        .count();
    let days = match (timestamps.iter().min(), timestamps.iter().max()) {
        (Some(lo), Some(hi)) => (hi - lo) as f64 / DAY_MS,
        _ => 0.0,
    };
    let false_alarms = alerts.len() - true_alerts;
    let incident_recall = ratio(detected_incidents, windows.len());
    let alert_precision = ratio(true_alerts, alerts.len());
    Ok(EventMetrics {
        incidents: windows.len(),
        detected_incidents,
        incident_recall,
        alerts: alerts.len(),
        true_alerts,
        alert_precision,
        event_f1: f1(alert_precision, incident_recall),
        false_alarms,
        days,
        false_alarms_per_day: if days > 0.0 {
            false_alarms as f64 / days
        } else {
            0.0
        },
    })
}

/// Results for one severity class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityMetrics {
    /// Class name; `None` for alerts below every band.
    pub severity: Option<String>,
    /// Alerts of this class.
    pub alerts: usize,
    /// Of those, alerts touching an incident.
    pub true_alerts: usize,
    /// `true_alerts / alerts`.
    pub precision: f64,
    /// Incidents labelled with this class (when incident severities are given).
    pub labelled_incidents: usize,
    /// Of those, incidents whose first alert has this same class.
    pub matched_incidents: usize,
}

/// Per-severity alert precision and, when `incident_severities` (one per window) is given, how
/// often an incident's first alert carries the incident's labelled class.
pub fn severity_metrics(
    alerts: &[Alert],
    windows: &[Window],
    timestamps: &[i64],
    early_ms: i64,
    incident_severities: Option<&[Option<String>]>,
) -> Result<Vec<SeverityMetrics>> {
    check_inputs(alerts, windows, timestamps)?;
    if let Some(sev) = incident_severities {
        check_len("incident severities", windows.len(), sev.len())?;
    }
    let extended = extended_windows(windows, timestamps, early_ms);
    let flags = true_alert_flags(alerts, &extended);
    let firsts = first_alerts(alerts, &extended);
    let mut classes: Vec<Option<String>> = alerts.iter().map(|a| a.severity.clone()).collect();
    if let Some(sev) = incident_severities {
        classes.extend(sev.iter().cloned());
    }
    classes.sort();
    classes.dedup();
    Ok(classes
        .into_iter()
        .map(|class| {
            let of_class: Vec<usize> = (0..alerts.len())
                .filter(|&i| alerts[i].severity == class)
                .collect();
            let true_alerts = of_class.iter().filter(|&&i| flags[i]).count();
            let (labelled, matched) = match incident_severities {
                Some(sev) => {
                    let labelled: Vec<usize> =
                        (0..windows.len()).filter(|&w| sev[w] == class).collect();
                    let matched = labelled
                        .iter()
                        .filter(|&&w| firsts[w].is_some_and(|a| alerts[a].severity == class))
                        .count();
                    (labelled.len(), matched)
                }
                None => (0, 0),
            };
            SeverityMetrics {
                severity: class,
                alerts: of_class.len(),
                true_alerts,
                precision: ratio(true_alerts, of_class.len()),
                labelled_incidents: labelled,
                matched_incidents: matched,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertPolicy, SeverityBands, apply_alert_policy};

    const MIN: i64 = 60_000;

    fn hours(n: usize) -> Vec<i64> {
        (0..n as i64).map(|i| i * 60 * MIN).collect()
    }

    fn alerts_of(scores: &[f64], t: &[i64]) -> Vec<Alert> {
        apply_alert_policy(scores, t, 0.5, &AlertPolicy::default()).unwrap()
    }

    #[test]
    fn recall_precision_and_false_alarms_per_day() {
        // 49 hourly rows = 2 days. Incidents 10..=12 and 30..=33.
        let t = hours(49);
        let mut s = vec![0.0; 49];
        s[11] = 1.0; // inside incident 1
        s[40] = 1.0; // false alarm
        s[45] = 1.0; // false alarm
        let windows = [Window::new(10, 12), Window::new(30, 33)];
        let m = event_metrics(&alerts_of(&s, &t), &windows, &t, 0).unwrap();
        assert_eq!(
            (m.incidents, m.detected_incidents, m.alerts, m.true_alerts),
            (2, 1, 3, 1)
        );
        assert_eq!(m.incident_recall, 0.5);
        assert!((m.alert_precision - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(m.days, 2.0);
        assert_eq!(m.false_alarms_per_day, 1.0);
    }

    #[test]
    fn alert_at_first_row_and_early_allowance() {
        let t = hours(20);
        let windows = [Window::new(10, 12)];
        let mut s = vec![0.0; 20];
        s[10] = 1.0;
        let m = event_metrics(&alerts_of(&s, &t), &windows, &t, 0).unwrap();
        assert_eq!(m.detected_incidents, 1);
        let mut s = vec![0.0; 20];
        s[8] = 1.0; // two hours early
        assert_eq!(
            event_metrics(&alerts_of(&s, &t), &windows, &t, 0)
                .unwrap()
                .detected_incidents,
            0
        );
        let m = event_metrics(&alerts_of(&s, &t), &windows, &t, 2 * 60 * MIN).unwrap();
        assert_eq!((m.detected_incidents, m.true_alerts), (1, 1));
    }

    #[test]
    fn empty_labels_and_no_alerts() {
        let t = hours(25);
        let m = event_metrics(&[], &[], &t, 0).unwrap();
        assert_eq!(
            (m.incident_recall, m.alert_precision, m.event_f1),
            (0.0, 0.0, 0.0)
        );
        let mut s = vec![0.0; 25];
        s[3] = 1.0;
        let m = event_metrics(&alerts_of(&s, &t), &[], &t, 0).unwrap();
        assert_eq!(m.false_alarms, 1);
        assert_eq!(m.false_alarms_per_day, 1.0);
        let m = event_metrics(&[], &[Window::new(1, 2)], &t, 0).unwrap();
        assert_eq!((m.incidents, m.detected_incidents), (1, 0));
    }

    #[test]
    fn allowance_stops_at_previous_incident() {
        let t = hours(20);
        let ext = extended_windows(&[Window::new(2, 4), Window::new(6, 8)], &t, 10 * 60 * MIN);
        assert_eq!(ext, vec![Window::new(0, 4), Window::new(5, 8)]);
    }

    #[test]
    fn severities_are_evaluated() {
        let t = hours(30);
        let bands = SeverityBands::new(&[("warning", 0.5), ("critical", 0.9)]).unwrap();
        let policy = AlertPolicy {
            severity: Some(bands),
            ..AlertPolicy::default()
        };
        let mut s = vec![0.0; 30];
        s[5] = 0.95; // critical, true
        s[15] = 0.6; // warning, true
        s[25] = 0.95; // critical, false
        let alerts = apply_alert_policy(&s, &t, 0.5, &policy).unwrap();
        let windows = [Window::new(4, 6), Window::new(14, 16)];
        let labelled = [Some("critical".to_string()), Some("critical".to_string())];
        let m = severity_metrics(&alerts, &windows, &t, 0, Some(&labelled)).unwrap();
        let crit = m
            .iter()
            .find(|c| c.severity.as_deref() == Some("critical"))
            .unwrap();
        assert_eq!(
            (
                crit.alerts,
                crit.true_alerts,
                crit.labelled_incidents,
                crit.matched_incidents
            ),
            (2, 1, 2, 1)
        );
        assert_eq!(crit.precision, 0.5);
        let warn = m
            .iter()
            .find(|c| c.severity.as_deref() == Some("warning"))
            .unwrap();
        assert_eq!(
            (warn.alerts, warn.true_alerts, warn.labelled_incidents),
            (1, 1, 0)
        );
        assert!(severity_metrics(&alerts, &windows, &t, 0, Some(&labelled[..1])).is_err());
    }
}
