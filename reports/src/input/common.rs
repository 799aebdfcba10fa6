//! Building blocks shared by every report's input: ordered metrics, parameters, time windows,
//! dataset references, lineage and the per-series plot data.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Hyperparameters or policy settings by name, values as JSON (numbers, strings, booleans,
/// nested objects). Rendered as `name = value` lists; tuning plots read numeric and string values.
pub type Params = BTreeMap<String, serde_json::Value>;

/// Named metric values in a chosen order (the order columns appear in tables).
///
/// Serialised as a JSON object whose keys keep this order; a non-finite value is written as
/// `null` and read back as NaN, rendered as "—". Inserting an existing name replaces its value
/// in place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics(Vec<(String, f64)>);

impl Metrics {
    /// No metrics.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Adds (or replaces) `name`, builder style.
    pub fn with(mut self, name: impl Into<String>, value: f64) -> Self {
        self.insert(name, value);
        self
    }

    /// Adds `name` at the end, or replaces its value where it already exists.
    pub fn insert(&mut self, name: impl Into<String>, value: f64) {
        let name = name.into();
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some(entry) => entry.1 = value,
            None => self.0.push((name, value)),
        }
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }

    /// `(name, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Number of metrics.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no metric.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<String>> FromIterator<(K, f64)> for Metrics {
    fn from_iter<I: IntoIterator<Item = (K, f64)>>(iter: I) -> Self {
        let mut metrics = Metrics::new();
        for (k, v) in iter {
            metrics.insert(k, v);
        }
        metrics
    }
}

impl Serialize for Metrics {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            let v = v.is_finite().then_some(*v);
            map.serialize_entry(k, &v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Metrics {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MetricsVisitor;
        impl<'de> Visitor<'de> for MetricsVisitor {
            type Value = Metrics;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of metric name to number (or null)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Metrics, A::Error> {
                let mut metrics = Metrics::new();
                while let Some((k, v)) = access.next_entry::<String, Option<f64>>()? {
                    metrics.insert(k, v.unwrap_or(f64::NAN));
                }
                Ok(metrics)
            }
        }
        deserializer.deserialize_map(MetricsVisitor)
    }
}

/// How to read one metric: its label, direction and meaning. Leaderboards and comparisons use
/// the direction to rank rows, mark the best value and colour deltas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricInfo {
    /// The metric's key in [`Metrics`] (e.g. `"point_f1"`).
    pub key: String,
    /// Column heading; the key when absent.
    #[serde(default)]
    pub label: Option<String>,
    /// True when a larger value is better (F1, AUC, NAB score); false for delays and false
    /// alarms per day.
    #[serde(default = "default_true")]
    pub higher_is_better: bool,
    /// One sentence shown as the column's tooltip and in the metric glossary.
    #[serde(default)]
    pub description: Option<String>,
}

fn default_true() -> bool {
    true
}

impl MetricInfo {
    /// A higher-is-better metric with no label or description.
    pub fn new(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            label: None,
            higher_is_better: true,
            description: None,
        }
    }

    /// Sets the column heading.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Marks a lower-is-better metric.
    pub fn lower_is_better(mut self) -> Self {
        self.higher_is_better = false;
        self
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The heading to show.
    pub fn heading(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.key)
    }
}

/// An inclusive time window (incident or alert), ms since the Unix epoch, UTC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeWindow {
    /// First instant (ms UTC).
    pub start_ms: i64,
    /// Last instant, inclusive (ms UTC); equal to `start_ms` for a single row.
    pub end_ms: i64,
    /// Optional label: incident kind, or alert severity.
    #[serde(default)]
    pub label: Option<String>,
}

impl TimeWindow {
    /// A window without label.
    pub fn new(start_ms: i64, end_ms: i64) -> Self {
        Self {
            start_ms,
            end_ms,
            label: None,
        }
    }
}

/// A dataset (or the part of one a model saw), identified by its content fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetRef {
    /// Name (e.g. `"nab"`, `"synth-seed7"`).
    pub name: String,
    /// sha256 content fingerprint (hex), as recorded in the registry.
    pub fingerprint: String,
    /// Where it came from (path, loader, query); free text.
    #[serde(default)]
    pub source: Option<String>,
    /// Which part was used, e.g. `"test: last 40% of each series"` or `"probationary 15% skipped"`.
    #[serde(default)]
    pub split: Option<String>,
    /// Number of series.
    #[serde(default)]
    pub series: Option<usize>,
    /// Total rows over all series.
    #[serde(default)]
    pub rows: Option<u64>,
    /// Number of labelled incident windows.
    #[serde(default)]
    pub incidents: Option<usize>,
    /// First timestamp (ms UTC).
    #[serde(default)]
    pub start_ms: Option<i64>,
    /// Last timestamp (ms UTC).
    #[serde(default)]
    pub end_ms: Option<i64>,
}

/// Where a result came from: enough to reproduce it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    /// Datasets used, with fingerprints.
    #[serde(default)]
    pub datasets: Vec<DatasetRef>,
    /// Git commit of the vigil checkout that produced the result (full or short hash).
    #[serde(default)]
    pub git_commit: Option<String>,
    /// True when the checkout had uncommitted changes.
    #[serde(default)]
    pub git_dirty: Option<bool>,
    /// vigil version (`CARGO_PKG_VERSION` of the producing binary).
    #[serde(default)]
    pub vigil_version: Option<String>,
    /// Run seed (every trial's seed derives from it).
    #[serde(default)]
    pub seed: Option<u64>,
    /// When the run started (ms UTC).
    #[serde(default)]
    pub started_at_ms: Option<i64>,
    /// Wall-clock time of the whole run, seconds.
    #[serde(default)]
    pub wall_time_s: Option<f64>,
    /// Worker threads used (results do not depend on it; shown for timing context).
    #[serde(default)]
    pub threads: Option<usize>,
    /// Registry identifiers (experiment, run ids) and any other provenance, shown as given.
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
}

/// One row-aligned metric series to plot: timestamps and values (NaN = missing), with its
/// labelled incidents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesData {
    /// Series name (e.g. `"realKnownCause/machine_temperature_system_failure"`).
    pub name: String,
    /// Unit of the values, shown on the y axis (e.g. `"req/s"`, `"%"`, `"ms"`).
    #[serde(default)]
    pub unit: Option<String>,
    /// One timestamp per row, ms UTC, non-decreasing.
    pub timestamps_ms: Vec<i64>,
    /// One value per row; NaN (JSON `null`) marks a missing value and breaks the line.
    #[serde(deserialize_with = "nan_vec::deserialize")]
    pub values: Vec<f64>,
    /// Labelled incident windows (shaded on every panel).
    #[serde(default)]
    pub incidents: Vec<TimeWindow>,
}

/// A forecasting family's prediction interval, row-aligned with the series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// Lower bound per row (NaN where undefined, e.g. during warm-up).
    #[serde(deserialize_with = "nan_vec::deserialize")]
    pub lower: Vec<f64>,
    /// Upper bound per row.
    #[serde(deserialize_with = "nan_vec::deserialize")]
    pub upper: Vec<f64>,
    /// What the band is, e.g. `"95% prediction interval"`.
    #[serde(default)]
    pub label: Option<String>,
}

/// One detector's output on one series, row-aligned with its [`SeriesData`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreTrack {
    /// Legend label, usually the family (e.g. `"ewma"`) or a version (`"champion v3"`).
    pub label: String,
    /// Raw score per row (higher = more anomalous); NaN during warm-up.
    #[serde(deserialize_with = "nan_vec::deserialize")]
    pub scores: Vec<f64>,
    /// Deployable threshold (`score >= threshold` detects), drawn as a line.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Alerts after the alert policy (start = when it fired); marked on the value panel.
    #[serde(default)]
    pub alerts: Vec<TimeWindow>,
    /// Expected value per row for forecasting families (drawn over the values).
    #[serde(default, deserialize_with = "nan_vec::deserialize_opt")]
    pub expected: Option<Vec<f64>>,
    /// Prediction band for forecasting families.
    #[serde(default)]
    pub band: Option<Band>,
}

/// Reads `null` entries of a number array as NaN (serde_json writes NaN as `null`).
pub(crate) mod nan_vec {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let raw = Vec::<Option<f64>>::deserialize(d)?;
        Ok(raw.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }

    pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f64>>, D::Error> {
        let raw = Option::<Vec<Option<f64>>>::deserialize(d)?;
        Ok(raw.map(|v| v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect()))
    }
}
