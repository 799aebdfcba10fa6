//! Incident windows from alert history.
//!
//! An `ALERTS`-style query gives one column per alert label set, present (value 1) at the grid
//! times when the alert was active. Each run of consecutive grid points with a non-zero sample
//! becomes one firing window `[first, last]` (inclusive, at the pull's step resolution); a
//! label set whose `alertstate` is not `firing` (e.g. `pending`) is skipped.
//!
//! **Which series a window labels.** A window is written for every pulled query that has at
//! least one column *agreeing* with the alert. The alert's identity labels are its labels
//! other than `alertname`, `alertstate`, `severity` and `__name__`; a column's are its labels
//! other than `__name__`. They agree when every label name both carry has equal values and
//! either they share at least one label name, or one side has no identity labels at all. So
//! `ALERTS{alertname="HighLatency", job="api", instance="a"}` labels a query with a column
//! `{job="api", instance="a"}`, not one whose columns are `{job="db"}` (a different value) or
//! `{room="a"}` (nothing in common); an alert with no identity labels (from an aggregate rule)
//! labels every query, and a query whose column has no labels (`sum(rate(...))`) receives every
//! alert. The window's `kind` is the `alertname` and its `severity` the `severity` label.

use std::collections::BTreeMap;

use vigil_datasets::{Incident, LabelRow};

use crate::assemble::Column;
use crate::chunk::Grid;

/// Alert labels that are not compared with series labels.
const ALERT_ONLY_LABELS: [&str; 4] = ["__name__", "alertname", "alertstate", "severity"];

/// One firing interval of one alert label set.
#[derive(Debug, Clone, PartialEq)]
pub struct FiringWindow {
    /// The alert's label set.
    pub labels: BTreeMap<String, String>,
    /// First grid time at which it fired (ms, inclusive).
    pub start: i64,
    /// Last grid time at which it fired (ms, inclusive).
    pub end: i64,
}

/// Firing windows of every alert column, in column order then time order.
pub fn firing_windows(columns: &[Column], grid: &Grid) -> Vec<FiringWindow> {
    let mut windows = Vec::new();
    for column in columns {
        if column
            .labels
            .get("alertstate")
            .is_some_and(|state| state != "firing")
        {
            tracing::debug!("skipping {}: not a firing alert", column.name);
            continue;
        }
        let mut open: Option<usize> = None;
        for (k, value) in column.values.iter().enumerate() {
            let firing = !value.is_nan() && *value != 0.0;
            match (firing, open) {
                (true, None) => open = Some(k),
                (false, Some(first)) => {
                    windows.push(window(column, grid, first, k - 1));
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(first) = open {
            windows.push(window(column, grid, first, column.values.len() - 1));
        }
    }
    windows
}

fn window(column: &Column, grid: &Grid, first: usize, last: usize) -> FiringWindow {
    FiringWindow {
        labels: column.labels.clone(),
        start: grid.time(first as u64),
        end: grid.time(last as u64),
    }
}

/// Whether an alert's labels agree with a series' labels (see the module docs).
pub fn agrees(alert: &BTreeMap<String, String>, series: &BTreeMap<String, String>) -> bool {
    let mut alert_identity = alert
        .iter()
        .filter(|(name, _)| !ALERT_ONLY_LABELS.contains(&name.as_str()))
        .peekable();
    let series_has_identity = series.keys().any(|name| name != "__name__");
    if alert_identity.peek().is_none() || !series_has_identity {
        return true;
    }
    let mut shared = 0;
    for (name, value) in alert_identity {
        match series.get(name) {
            Some(v) if v == value => shared += 1,
            Some(_) => return false,
            None => {}
        }
    }
    shared > 0
}

/// Label rows for the pulled queries (`(name, columns)`): each window once per query it
/// agrees with, sorted by series, start, end, kind, severity, without duplicates.
pub fn label_rows(windows: &[FiringWindow], outputs: &[(&str, &[Column])]) -> Vec<LabelRow> {
    let mut rows: Vec<LabelRow> = Vec::new();
    for window in windows {
        for (name, columns) in outputs {
            if columns.iter().any(|c| agrees(&window.labels, &c.labels)) {
                let mut incident = Incident::new(window.start, window.end);
                incident.kind = Some(
                    window
                        .labels
                        .get("alertname")
                        .cloned()
                        .unwrap_or_else(|| "alert".to_owned()),
                );
                incident.severity = window.labels.get("severity").cloned();
                rows.push(LabelRow {
                    series: (*name).to_owned(),
                    incident,
                });
            }
        }
    }
    let key = |row: &LabelRow| {
        (
            row.series.clone(),
            row.incident.start,
            row.incident.end,
            row.incident.kind.clone(),
            row.incident.severity.clone(),
        )
    };
    rows.sort_by_key(key);
    rows.dedup_by(|a, b| key(a) == key(b));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn column(pairs: &[(&str, &str)], values: &[f64]) -> Column {
        Column {
            name: String::new(),
            labels: labels(pairs),
            values: values.to_vec(),
        }
    }

    const N: f64 = f64::NAN;

    #[test]
    fn runs_of_samples_become_inclusive_windows() {
        let grid = Grid::new(0, 9_000, 1_000);
        let alerts = [
            column(
                &[("alertname", "A"), ("alertstate", "firing")],
                &[1., 1., N, N, 1., N, N, N, 1., 1.],
            ),
            column(&[("alertname", "B"), ("alertstate", "pending")], &[1.; 10]),
            column(&[("alertname", "C")], &[N, 0., 1., 0., N, N, N, N, N, N]),
        ];
        let windows = firing_windows(&alerts, &grid);
        let spans: Vec<(&str, i64, i64)> = windows
            .iter()
            .map(|w| (w.labels["alertname"].as_str(), w.start, w.end))
            .collect();
        assert_eq!(
            spans,
            [
                ("A", 0, 1_000),
                ("A", 4_000, 4_000),
                ("A", 8_000, 9_000),
                ("C", 2_000, 2_000)
            ]
        );
    }

    #[test]
    fn alerts_label_the_series_they_agree_with() {
        let alert = labels(&[
            ("alertname", "HighLatency"),
            ("severity", "page"),
            ("job", "api"),
            ("instance", "a"),
            ("team", "x"),
        ]);
        assert!(agrees(
            &alert,
            &labels(&[("__name__", "lat"), ("job", "api"), ("instance", "a")])
        ));
        assert!(agrees(&alert, &labels(&[])));
        assert!(!agrees(
            &alert,
            &labels(&[("severity", "other"), ("code", "500")])
        ));
        assert!(!agrees(
            &alert,
            &labels(&[("__name__", "temp"), ("room", "a")])
        ));
        assert!(agrees(
            &labels(&[("alertname", "Any"), ("severity", "page")]),
            &labels(&[("room", "a")])
        ));
        assert!(agrees(&alert, &labels(&[("__name__", "up")])));
        assert!(!agrees(
            &alert,
            &labels(&[("job", "api"), ("instance", "b")])
        ));
        assert!(!agrees(&alert, &labels(&[("job", "db")])));

        let window = FiringWindow {
            labels: alert,
            start: 60_000,
            end: 120_000,
        };
        let api = [
            column(&[("job", "api"), ("instance", "b")], &[]),
            column(&[("job", "api"), ("instance", "a")], &[]),
        ];
        let db = [column(&[("job", "db")], &[])];
        let total = [column(&[], &[])];
        let rows = label_rows(
            &[window.clone(), window],
            &[("latency", &api), ("db", &db), ("total", &total)],
        );
        type Row<'a> = (&'a str, i64, i64, Option<&'a str>, Option<&'a str>);
        let got: Vec<Row<'_>> = rows
            .iter()
            .map(|r| {
                (
                    r.series.as_str(),
                    r.incident.start,
                    r.incident.end,
                    r.incident.kind.as_deref(),
                    r.incident.severity.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "latency",
                    60_000,
                    120_000,
                    Some("HighLatency"),
                    Some("page")
                ),
                ("total", 60_000, 120_000, Some("HighLatency"), Some("page")),
            ]
        );
    }
}
