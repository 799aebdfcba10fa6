//! The data model: [`Series`], [`Incident`], [`Dataset`] and its content fingerprint.

use std::fmt;

use ndarray::Array2;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A labelled anomaly window on one series: `start ..= end`, both in milliseconds since the
/// Unix epoch (UTC), both **inclusive**.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// First instant of the window (ms UTC, inclusive).
    pub start: i64,
    /// Last instant of the window (ms UTC, inclusive).
    pub end: i64,
    /// What kind of anomaly this is (`spike`, `level_shift`, `metric-temporal`, an alert name…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Severity label, when the source has one (`critical`, `warning`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// 0-based channel indices that the source names as the cause (SMD/ASD interpretation labels).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<usize>,
}

impl Incident {
    /// A window with no kind, severity or channels.
    pub fn new(start: i64, end: i64) -> Self {
        Self {
            start,
            end,
            kind: None,
            severity: None,
            channels: Vec::new(),
        }
    }
}

/// One metric series (possibly multichannel) with its labels.
///
/// Rows keep file order: timestamps are not assumed unique, increasing or regular (NAB has
/// duplicates and a step back), and loaders warn instead of reordering.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Unique name inside its dataset (NAB: `realKnownCause/nyc_taxi.csv`; SMD: `machine-1-2`).
    pub name: String,
    /// Milliseconds since the Unix epoch, UTC, one per row, in file order.
    pub timestamps: Vec<i64>,
    /// One name per channel (column of `values`).
    pub columns: Vec<String>,
    /// rows × channels; NaN marks a missing value.
    pub values: Array2<f64>,
    /// Labelled anomaly windows, inclusive.
    pub incidents: Vec<Incident>,
    /// Per-row ground truth where the source has it (SMD/ASD `test_label`); `None` otherwise, in
    /// which case [`Series::labels`] derives row labels from the incident windows.
    pub point_labels: Option<Vec<bool>>,
    /// Rows before this index are the source's own training prefix (SMD/ASD `train/`, the UCR
    /// `trainEnd`). Labels only describe rows from here on for SMD and ASD.
    pub train_end: Option<usize>,
}

impl Series {
    /// A series with no labels. `values.nrows()` must equal `timestamps.len()` and
    /// `values.ncols()` must equal `columns.len()`.
    pub fn new(name: impl Into<String>, timestamps: Vec<i64>, columns: Vec<String>, values: Array2<f64>) -> Self {
        debug_assert_eq!(values.nrows(), timestamps.len());
        debug_assert_eq!(values.ncols(), columns.len());
        Self {
            name: name.into(),
            timestamps,
            columns,
            values,
            incidents: Vec::new(),
            point_labels: None,
            train_end: None,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// True when the series has no rows.
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.columns.len()
    }

    /// The row range `(first, last)` (inclusive) that an incident covers, walking rows in file
    /// order the way NAB does: the window opens at the first row whose timestamp is at or after
    /// `start` and closes at the last row before the first timestamp beyond `end` that follows
    /// it. `None` when the window covers no row.
    pub fn incident_rows(&self, incident: &Incident) -> Option<(usize, usize)> {
        let first = self.timestamps.iter().position(|&t| t >= incident.start)?;
        if self.timestamps[first] > incident.end {
            return None;
        }
        let mut last = first;
        for (i, &t) in self.timestamps.iter().enumerate().skip(first + 1) {
            if t > incident.end {
                break;
            }
            last = i;
        }
        Some((first, last))
    }

    /// Row ranges `(first, last)` (inclusive) of every incident that covers at least one row.
    pub fn incident_row_ranges(&self) -> Vec<(usize, usize)> {
        self.incidents.iter().filter_map(|inc| self.incident_rows(inc)).collect()
    }

    /// One label per row: the point labels where the source has them, else membership of any
    /// incident window.
    pub fn labels(&self) -> Vec<bool> {
        if let Some(points) = &self.point_labels {
            return points.clone();
        }
        let mut labels = vec![false; self.len()];
        for (first, last) in self.incident_row_ranges() {
            labels[first..=last].iter_mut().for_each(|l| *l = true);
        }
        labels
    }

    /// Count of NaN cells over all channels.
    pub fn nan_count(&self) -> usize {
        self.values.iter().filter(|v| v.is_nan()).count()
    }

    /// A new series holding rows `start..end` (labels clipped to that range).
    pub fn slice_rows(&self, start: usize, end: usize) -> Series {
        let end = end.min(self.len());
        let start = start.min(end);
        let timestamps = self.timestamps[start..end].to_vec();
        let values = self.values.slice_axis(ndarray::Axis(0), ndarray::Slice::from(start..end)).to_owned();
        let incidents = match (timestamps.first(), timestamps.last()) {
            (Some(&lo), Some(&hi)) => {
                let (lo, hi) = timestamps.iter().fold((lo.min(hi), lo.max(hi)), |(a, b), &t| (a.min(t), b.max(t)));
                self.incidents
                    .iter()
                    .filter(|inc| inc.end >= lo && inc.start <= hi)
                    .cloned()
                    .collect()
            }
            _ => Vec::new(),
        };
        Series {
            name: self.name.clone(),
            timestamps,
            columns: self.columns.clone(),
            values,
            incidents,
            point_labels: self.point_labels.as_ref().map(|p| p[start..end].to_vec()),
            train_end: self.train_end.map(|t| t.saturating_sub(start).min(end - start)),
        }
    }

    fn hash_into(&self, hasher: &mut Sha256) {
        hash_str(hasher, &self.name);
        hasher.update((self.columns.len() as u64).to_le_bytes());
        for column in &self.columns {
            hash_str(hasher, column);
        }
        hasher.update((self.timestamps.len() as u64).to_le_bytes());
        for t in &self.timestamps {
            hasher.update(t.to_le_bytes());
        }
        for v in self.values.iter() {
            // All NaNs hash alike: a missing value is a missing value, whatever its bit pattern.
            let bits = if v.is_nan() { f64::NAN.to_bits() } else { v.to_bits() };
            hasher.update(bits.to_le_bytes());
        }
        hasher.update((self.incidents.len() as u64).to_le_bytes());
        for inc in &self.incidents {
            hasher.update(inc.start.to_le_bytes());
            hasher.update(inc.end.to_le_bytes());
            hash_str(hasher, inc.kind.as_deref().unwrap_or(""));
            hash_str(hasher, inc.severity.as_deref().unwrap_or(""));
            hasher.update((inc.channels.len() as u64).to_le_bytes());
            for c in &inc.channels {
                hasher.update((*c as u64).to_le_bytes());
            }
        }
        match &self.point_labels {
            Some(points) => {
                hasher.update([1u8]);
                hasher.update(points.iter().map(|&p| p as u8).collect::<Vec<u8>>());
            }
            None => hasher.update([0u8]),
        }
        hasher.update(self.train_end.map_or(u64::MAX, |t| t as u64).to_le_bytes());
    }
}

fn hash_str(hasher: &mut Sha256, s: &str) {
    hasher.update((s.len() as u64).to_le_bytes());
    hasher.update(s.as_bytes());
}

/// Which on-disk layout a dataset came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// A CSV or Parquet file with a timestamp column and value columns, plus a labels file.
    Generic,
    /// Numenta Anomaly Benchmark: `data/<category>/*.csv` + `labels/combined_windows.json`.
    Nab,
    /// Server Machine Dataset: `train/ test/ test_label/ interpretation_label/` (end exclusive).
    Smd,
    /// Application Server Dataset: SMD's layout with inclusive interpretation ends.
    Asd,
    /// UCR anomaly archive: one value per line, labels in the file name.
    Ucr,
    /// A Prometheus HTTP API range-query JSON export (`resultType: "matrix"`).
    Prometheus,
    /// Made by the seeded synthetic generator.
    Synthetic,
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Layout::Generic => "generic",
            Layout::Nab => "nab",
            Layout::Smd => "smd",
            Layout::Asd => "asd",
            Layout::Ucr => "ucr",
            Layout::Prometheus => "prometheus",
            Layout::Synthetic => "synthetic",
        };
        f.write_str(name)
    }
}

/// Something odd in the input that does not stop loading (duplicate or backwards timestamps,
/// a label window outside the data). Loaders also log each one with `tracing::warn!`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// File the warning is about.
    pub path: String,
    /// Series it concerns, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// What was found, naming the row or key.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.series {
            Some(series) => write!(f, "{} ({}): {}", self.path, series, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// Named series with their labels, where they came from, and a content fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Short name (folder or file stem).
    pub name: String,
    /// The layout it was read from.
    pub layout: Layout,
    /// Where it was read from (a path), or how it was made (the generator's settings).
    pub source: String,
    /// Series in a stable order (sorted by name for folder layouts).
    pub series: Vec<Series>,
    /// Non-fatal problems found while loading.
    pub warnings: Vec<Warning>,
}

impl Dataset {
    /// The sha256 (hex) of the dataset's content: every series' name, columns, timestamps,
    /// values (bit patterns, NaNs unified), labels and training prefix, in order.
    ///
    /// It fingerprints *content*, not file bytes: the same data read from CSV or Parquet, or
    /// made by the generator and read back, has one fingerprint, and any change to a value,
    /// timestamp or label gives a new one. The registry records it as lineage.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"vigil-dataset-v1");
        hasher.update((self.series.len() as u64).to_le_bytes());
        for series in &self.series {
            series.hash_into(&mut hasher);
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The series with this name.
    pub fn get(&self, name: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.name == name)
    }

    /// Total incident windows over all series.
    pub fn incident_count(&self) -> usize {
        self.series.iter().map(|s| s.incidents.len()).sum()
    }

    /// Total rows over all series.
    pub fn row_count(&self) -> usize {
        self.series.iter().map(Series::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn series(ts: Vec<i64>) -> Series {
        let n = ts.len();
        Series::new("s", ts, vec!["value".into()], Array2::from_shape_fn((n, 1), |(i, _)| i as f64))
    }

    #[test]
    fn incident_rows_walk_file_order_with_duplicates() {
        let s = series(vec![0, 10, 20, 20, 30, 40]);
        assert_eq!(s.incident_rows(&Incident::new(10, 20)), Some((1, 3)));
        assert_eq!(s.incident_rows(&Incident::new(15, 35)), Some((2, 4)));
        assert_eq!(s.incident_rows(&Incident::new(41, 50)), None);
        assert_eq!(s.incident_rows(&Incident::new(11, 19)), None);
    }

    #[test]
    fn labels_come_from_windows_or_points() {
        let mut s = series(vec![0, 10, 20, 30]);
        s.incidents.push(Incident::new(10, 20));
        assert_eq!(s.labels(), vec![false, true, true, false]);
        s.point_labels = Some(vec![true, false, false, false]);
        assert_eq!(s.labels(), vec![true, false, false, false]);
    }

    #[test]
    fn fingerprint_changes_with_any_content() {
        let ds = |s: Series| Dataset {
            name: "d".into(),
            layout: Layout::Generic,
            source: "x".into(),
            series: vec![s],
            warnings: vec![],
        };
        let base = series(vec![0, 10, 20]);
        let a = ds(base.clone()).fingerprint();
        assert_eq!(a, ds(base.clone()).fingerprint());
        assert_eq!(a.len(), 64);

        let mut changed = base.clone();
        changed.values[[1, 0]] = 1.5;
        assert_ne!(a, ds(changed).fingerprint());

        let mut changed = base.clone();
        changed.timestamps[2] = 21;
        assert_ne!(a, ds(changed).fingerprint());

        let mut changed = base.clone();
        changed.incidents.push(Incident::new(0, 10));
        assert_ne!(a, ds(changed).fingerprint());

        let mut changed = base;
        changed.name = "t".into();
        assert_ne!(a, ds(changed).fingerprint());
    }

    #[test]
    fn slice_rows_clips_labels() {
        let mut s = series(vec![0, 10, 20, 30, 40]);
        s.incidents.push(Incident::new(30, 40));
        s.point_labels = Some(vec![false, false, false, true, true]);
        s.train_end = Some(2);
        let head = s.slice_rows(0, 3);
        assert_eq!(head.len(), 3);
        assert!(head.incidents.is_empty());
        assert_eq!(head.train_end, Some(2));
        let tail = s.slice_rows(3, 5);
        assert_eq!(tail.incidents.len(), 1);
        assert_eq!(tail.point_labels, Some(vec![true, true]));
        assert_eq!(tail.train_end, Some(0));
    }
}
