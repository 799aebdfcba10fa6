//! Per-series facts for `vigil datasets inspect`: size, time range, sampling regularity,
//! missing values and labels.

use std::collections::HashMap;

use serde::Serialize;

use crate::model::{Dataset, Series};

/// What `inspect` shows for one series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesSummary {
    /// Series name.
    pub name: String,
    /// Row count.
    pub rows: usize,
    /// Channel count.
    pub channels: usize,
    /// First timestamp in file order (ms UTC).
    pub first: Option<i64>,
    /// Last timestamp in file order (ms UTC).
    pub last: Option<i64>,
    /// Most common difference between consecutive timestamps (ms); ties go to the smaller step.
    pub modal_step_ms: Option<i64>,
    /// Share of consecutive differences equal to the modal step (1.0 = perfectly regular).
    pub regular_share: Option<f64>,
    /// Consecutive pairs whose timestamp does not increase (duplicates and steps back).
    pub non_increasing_steps: usize,
    /// NaN cells over all channels.
    pub nan_cells: usize,
    /// Incident windows.
    pub incidents: usize,
    /// Rows labelled anomalous (point labels, or rows inside incident windows).
    pub labelled_rows: usize,
    /// Rows of the source's own training prefix, when it has one.
    pub train_rows: Option<usize>,
}

impl SeriesSummary {
    /// Summarises one series in one pass over its timestamps and values.
    pub fn of(series: &Series) -> Self {
        let mut step_counts: HashMap<i64, usize> = HashMap::new();
        let mut non_increasing_steps = 0;
        for pair in series.timestamps.windows(2) {
            let step = pair[1] - pair[0];
            if step <= 0 {
                non_increasing_steps += 1;
            }
            *step_counts.entry(step).or_default() += 1;
        }
        let steps: usize = step_counts.values().sum();
        let modal = step_counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(&step, &count)| (step, count));
        Self {
            name: series.name.clone(),
            rows: series.len(),
            channels: series.channels(),
            first: series.timestamps.first().copied(),
            last: series.timestamps.last().copied(),
            modal_step_ms: modal.map(|(step, _)| step),
            regular_share: modal.map(|(_, count)| count as f64 / steps as f64),
            non_increasing_steps,
            nan_cells: series.nan_count(),
            incidents: series.incidents.len(),
            labelled_rows: series.labels().iter().filter(|&&l| l).count(),
            train_rows: series.train_end,
        }
    }
}

/// What `inspect` shows for a whole dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetSummary {
    /// Dataset name.
    pub name: String,
    /// Layout it was read from.
    pub layout: String,
    /// Where it came from.
    pub source: String,
    /// Content fingerprint (sha256 hex).
    pub fingerprint: String,
    /// Series count.
    pub series_count: usize,
    /// Rows over all series.
    pub rows: usize,
    /// Incident windows over all series.
    pub incidents: usize,
    /// Labelled rows over all series.
    pub labelled_rows: usize,
    /// One entry per series, in dataset order.
    pub series: Vec<SeriesSummary>,
    /// Warnings found while loading.
    pub warnings: Vec<String>,
}

impl DatasetSummary {
    /// Summarises every series of a dataset.
    pub fn of(dataset: &Dataset) -> Self {
        let series: Vec<SeriesSummary> = dataset.series.iter().map(SeriesSummary::of).collect();
        Self {
            name: dataset.name.clone(),
            layout: dataset.layout.to_string(),
            source: dataset.source.clone(),
            fingerprint: dataset.fingerprint(),
            series_count: series.len(),
            rows: series.iter().map(|s| s.rows).sum(),
            incidents: series.iter().map(|s| s.incidents).sum(),
            labelled_rows: series.iter().map(|s| s.labelled_rows).sum(),
            series,
            warnings: dataset.warnings.iter().map(ToString::to_string).collect(),
        }
    }
}

/// Formats a duration in milliseconds the way people write sampling steps: `5m`, `1h`, `30s`,
/// `1d`, `250ms`; negative and zero steps as plain numbers of milliseconds.
pub fn format_step(ms: i64) -> String {
    const UNITS: [(i64, &str); 4] = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1_000, "s")];
    if ms <= 0 {
        return format!("{ms}ms");
    }
    for (size, unit) in UNITS {
        if ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Incident, Series};
    use ndarray::Array2;

    #[test]
    fn summary_counts_steps_nans_and_labels() {
        let mut values = Array2::from_elem((6, 2), 1.0);
        values[[2, 1]] = f64::NAN;
        let mut s = Series::new("s", vec![0, 300_000, 600_000, 600_000, 900_000, 1_500_000], vec!["a".into(), "b".into()], values);
        s.incidents.push(Incident::new(600_000, 900_000));
        let summary = SeriesSummary::of(&s);
        assert_eq!(summary.rows, 6);
        assert_eq!(summary.channels, 2);
        assert_eq!(summary.modal_step_ms, Some(300_000));
        assert_eq!(summary.regular_share, Some(3.0 / 5.0));
        assert_eq!(summary.non_increasing_steps, 1);
        assert_eq!(summary.nan_cells, 1);
        assert_eq!(summary.incidents, 1);
        assert_eq!(summary.labelled_rows, 3);
    }

    #[test]
    fn empty_series_has_no_step() {
        let s = Series::new("e", vec![], vec!["v".into()], Array2::zeros((0, 1)));
        let summary = SeriesSummary::of(&s);
        assert_eq!(summary.modal_step_ms, None);
        assert_eq!(summary.regular_share, None);
    }

    #[test]
    fn steps_format_like_people_write_them() {
        assert_eq!(format_step(300_000), "5m");
        assert_eq!(format_step(3_600_000), "1h");
        assert_eq!(format_step(86_400_000), "1d");
        assert_eq!(format_step(1_000), "1s");
        assert_eq!(format_step(1_500), "1500ms");
        assert_eq!(format_step(0), "0ms");
    }
}
