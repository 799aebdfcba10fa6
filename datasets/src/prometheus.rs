//! Prometheus HTTP API range-query exports (`/api/v1/query_range`, `resultType: "matrix"`),
//! which is how the runtime side hands over metric history.
//!
//! Each label set becomes one single-channel series named like
//! `http_requests_total{instance="a:9090",job="api"}`. All series share one row grid: the
//! query's step (the smallest gap between sample times) from the first sample to the last.
//! Points a series lacks on that grid (stale or absent) are NaN rows rather than interpolated,
//! and decreases of a `*_total` counter (resets) are reported as warnings, so the caller sees
//! both instead of having them smoothed away.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use ndarray::Array2;
use serde::de::{self, IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};

use crate::error::{DatasetError, Result};
use crate::labels::{attach_labels, read_labels};
use crate::model::{Dataset, Layout, Series, Warning};
use crate::timestamp::format_timestamp;

const EXPORT_HINT: &str =
    "save the unchanged response body of /api/v1/query_range?query=...&start=...&end=...&step=...";

/// A common grid may hold at most this many times the distinct sample times (and never more
/// than `MAX_GRID_ROWS`); beyond that the rows are the union of sample times instead.
const MAX_GRID_FACTOR: usize = 100;
const MAX_GRID_ROWS: usize = 50_000_000;

/// Loads a Prometheus range-query JSON export as a [`Layout::Prometheus`] dataset, with an
/// optional labels file whose series names are the label-set names described above.
///
/// `status: "error"` gives [`DatasetError::PrometheusError`] with Prometheus' `errorType` and
/// `error`; a `resultType` other than `matrix` is a format error. Prometheus' own `warnings`
/// are passed on as [`Warning`]s.
pub fn load_prometheus(path: &Path, labels: Option<&Path>) -> Result<Dataset> {
    let text = std::fs::read_to_string(path).map_err(|e| DatasetError::io(path, e))?;
    if text.trim().is_empty() {
        return Err(DatasetError::EmptyFile {
            path: path.to_path_buf(),
            hint: EXPORT_HINT.to_owned(),
        });
    }
    let invalid = |e: serde_json::Error| {
        DatasetError::format(
            path,
            format!("not a Prometheus API response: {e}"),
            EXPORT_HINT,
        )
    };
    let head: Head = serde_json::from_str(&text).map_err(invalid)?;
    match head.status.as_str() {
        "success" => {}
        "error" => {
            return Err(DatasetError::PrometheusError {
                path: path.to_path_buf(),
                error_type: head.error_type.unwrap_or_else(|| "unknown".to_owned()),
                error: head.error.unwrap_or_default(),
            });
        }
        other => {
            return Err(DatasetError::format(
                path,
                format!("status is {other:?}, expected \"success\""),
                EXPORT_HINT,
            ));
        }
    }
    let result_type = head.data.map(|d| d.result_type).unwrap_or_default();
    if result_type != "matrix" {
        return Err(DatasetError::format(
            path,
            format!("resultType is {result_type:?}, not \"matrix\""),
            "export a range query (/api/v1/query_range), not an instant query (/api/v1/query)",
        ));
    }
    let response: MatrixResponse = serde_json::from_str(&text).map_err(invalid)?;

    let path_text = path.display().to_string();
    let mut warnings: Vec<Warning> = head
        .warnings
        .into_iter()
        .map(|w| warning(&path_text, None, format!("Prometheus warned: {w}")))
        .collect();
    let mut raw = Vec::with_capacity(response.data.result.len());
    for result in response.data.result {
        let name = series_name(&result.metric);
        if result.values.is_empty() {
            let what = if result.histograms.is_some() {
                "only native-histogram samples, which are not supported"
            } else {
                "no samples"
            };
            warnings.push(warning(
                &path_text,
                Some(&name),
                format!("skipped: the series has {what}"),
            ));
            continue;
        }
        let counter = result
            .metric
            .get("__name__")
            .is_some_and(|n| n.ends_with("_total"));
        let samples: Vec<(i64, f64)> = result
            .values
            .iter()
            .map(|s| ((s.0 * 1000.0).round() as i64, s.1.0))
            .collect();
        raw.push((name, counter, samples));
    }
    raw.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(pair) = raw.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(DatasetError::format(
            path,
            format!("two results have the same label set {}", pair[0].0),
            EXPORT_HINT,
        ));
    }

    let grid = common_grid(
        raw.iter()
            .flat_map(|(_, _, samples)| samples.iter().map(|s| s.0)),
    );
    if !grid.regular {
        warnings.push(warning(
            &path_text,
            None,
            "sample times do not lie on one step grid; rows are the union of all sample times"
                .to_owned(),
        ));
    }
    let mut series = Vec::with_capacity(raw.len());
    for (name, counter, samples) in raw {
        let mut values = vec![f64::NAN; grid.times.len()];
        let mut filled = vec![false; grid.times.len()];
        let mut repeated = 0usize;
        for &(time, value) in &samples {
            let row = grid.row_of(time);
            repeated += usize::from(filled[row]);
            filled[row] = true;
            values[row] = value;
        }
        let missing = filled.iter().filter(|f| !**f).count();
        let mut notes = Vec::new();
        if missing > 0 {
            notes.push(format!(
                "{missing} of {} grid points have no sample (stale or absent); they are NaN rows",
                grid.times.len()
            ));
        }
        if repeated > 0 {
            notes.push(format!(
                "{repeated} sample(s) repeat a time; the last one is kept"
            ));
        }
        let infinite = values.iter().filter(|v| v.is_infinite()).count();
        if infinite > 0 {
            notes.push(format!("{infinite} value(s) are ±Inf"));
        }
        if counter && let Some(note) = counter_resets(&samples) {
            notes.push(note);
        }
        for note in notes {
            warnings.push(warning(&path_text, Some(&name), note));
        }
        let rows = values.len();
        let values = Array2::from_shape_vec((rows, 1), values).map_err(|e| {
            DatasetError::format(path, e.to_string(), "report this as a bug in vigil")
        })?;
        series.push(Series::new(
            name,
            grid.times.clone(),
            vec!["value".to_owned()],
            values,
        ));
    }

    let name = path.file_stem().map_or_else(
        || "prometheus".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    );
    let mut dataset = Dataset {
        name,
        layout: Layout::Prometheus,
        source: path_text,
        series,
        warnings,
    };
    if let Some(labels_path) = labels {
        let rows = read_labels(labels_path)?;
        attach_labels(&mut dataset, rows, labels_path)?;
    }
    Ok(dataset)
}

/// `name{label="value",...}`, labels sorted, `__name__` as the prefix, values escaped the way
/// Prometheus writes them.
pub fn series_name(metric: &BTreeMap<String, String>) -> String {
    let mut name = metric.get("__name__").cloned().unwrap_or_default();
    name.push('{');
    let mut first = true;
    for (key, value) in metric.iter().filter(|(k, _)| *k != "__name__") {
        if !first {
            name.push(',');
        }
        first = false;
        name.push_str(key);
        name.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => name.push_str("\\\\"),
                '"' => name.push_str("\\\""),
                '\n' => name.push_str("\\n"),
                c => name.push(c),
            }
        }
        name.push('"');
    }
    name.push('}');
    name
}

/// The rows every series is laid on.
struct Grid {
    times: Vec<i64>,
    /// `Some(step)` when `times` is `first + k * step`.
    step: Option<i64>,
    regular: bool,
}

impl Grid {
    fn row_of(&self, time: i64) -> usize {
        match self.step {
            Some(step) => ((time - self.times[0]) / step) as usize,
            None => self.times.partition_point(|&t| t < time),
        }
    }
}

/// The step grid through all sample times when they lie on one (the step being the smallest
/// gap), else their sorted union.
fn common_grid(times: impl Iterator<Item = i64>) -> Grid {
    let mut distinct: Vec<i64> = times.collect();
    distinct.sort_unstable();
    distinct.dedup();
    let step = distinct.windows(2).map(|w| w[1] - w[0]).min();
    let (Some(step), Some(&first), Some(&last)) = (step, distinct.first(), distinct.last()) else {
        return Grid {
            times: distinct,
            step: None,
            regular: true,
        };
    };
    let on_grid = distinct.iter().all(|t| (t - first) % step == 0);
    let rows = usize::try_from((last - first) / step).map_or(usize::MAX, |r| r.saturating_add(1));
    if on_grid && rows <= MAX_GRID_ROWS && rows <= distinct.len().saturating_mul(MAX_GRID_FACTOR) {
        Grid {
            times: (0..rows as i64).map(|k| first + k * step).collect(),
            step: Some(step),
            regular: true,
        }
    } else {
        Grid {
            times: distinct,
            step: None,
            regular: false,
        }
    }
}

/// Describes the decreases of a counter (resets), naming the first few times.
fn counter_resets(samples: &[(i64, f64)]) -> Option<String> {
    const SHOWN: usize = 3;
    let mut shown = Vec::new();
    let mut count = 0usize;
    let mut previous: Option<f64> = None;
    for &(time, value) in samples {
        if value.is_nan() {
            continue;
        }
        if let Some(before) = previous
            && value < before
        {
            count += 1;
            if shown.len() < SHOWN {
                shown.push(format!("{} ({before} → {value})", format_timestamp(time)));
            }
        }
        previous = Some(value);
    }
    (count > 0).then(|| {
        format!(
            "counter decreased {count} time(s), a reset or a restart: at {}{}; use rate()/increase() semantics, not raw differences",
            shown.join(", "),
            if count > SHOWN { ", …" } else { "" }
        )
    })
}

fn warning(path: &str, series: Option<&str>, message: String) -> Warning {
    match series {
        Some(series) => tracing::warn!(path, series, "{message}"),
        None => tracing::warn!(path, "{message}"),
    }
    Warning {
        path: path.to_owned(),
        series: series.map(str::to_owned),
        message,
    }
}

/// The envelope, read first without the (possibly large) result.
#[derive(Deserialize)]
struct Head {
    status: String,
    #[serde(default)]
    data: Option<HeadData>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct HeadData {
    #[serde(rename = "resultType")]
    result_type: String,
}

#[derive(Deserialize)]
struct MatrixResponse {
    data: MatrixData,
}

#[derive(Deserialize)]
struct MatrixData {
    result: Vec<MatrixSeries>,
}

#[derive(Deserialize)]
struct MatrixSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, SampleValue)>,
    #[serde(default)]
    histograms: Option<IgnoredAny>,
}

/// A sample value: Prometheus writes it as a string (`"1.5"`, `"NaN"`, `"+Inf"`). Parsed in
/// place, without allocating a string per sample.
struct SampleValue(f64);

impl<'de> Deserialize<'de> for SampleValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct SampleVisitor;
        impl Visitor<'_> for SampleVisitor {
            type Value = SampleValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sample value as a string such as \"1.5\", \"NaN\" or \"+Inf\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> std::result::Result<SampleValue, E> {
                text.parse::<f64>()
                    .map(SampleValue)
                    .map_err(|_| E::custom(format!("sample value {text:?} is not a number")))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> std::result::Result<SampleValue, E> {
                Ok(SampleValue(value))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> std::result::Result<SampleValue, E> {
                Ok(SampleValue(value as f64))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> std::result::Result<SampleValue, E> {
                Ok(SampleValue(value as f64))
            }
        }
        deserializer.deserialize_any(SampleVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_and_escape_labels() {
        let metric: BTreeMap<String, String> = [
            ("__name__", "up"),
            ("job", "api"),
            ("instance", "a:9090"),
            ("path", "say \"hi\"\\"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(
            series_name(&metric),
            r#"up{instance="a:9090",job="api",path="say \"hi\"\\"}"#
        );
        assert_eq!(series_name(&BTreeMap::new()), "{}");
    }

    #[test]
    fn grid_fills_gaps_or_falls_back_to_the_union() {
        let grid = common_grid([0, 15_000, 60_000, 30_000].into_iter());
        assert!(grid.regular);
        assert_eq!(grid.times, vec![0, 15_000, 30_000, 45_000, 60_000]);
        assert_eq!(grid.row_of(45_000), 3);
        let grid = common_grid([0, 15_000, 20_000].into_iter());
        assert!(grid.regular, "5 s step fits all three");
        assert_eq!(grid.times.len(), 5);
        let grid = common_grid([0, 1, 1_000_000].into_iter());
        assert!(!grid.regular);
        assert_eq!(grid.times, vec![0, 1, 1_000_000]);
        assert_eq!(grid.row_of(1_000_000), 2);
    }

    #[test]
    fn counter_resets_are_reported() {
        assert_eq!(
            counter_resets(&[(0, 1.0), (1000, 2.0), (2000, f64::NAN), (3000, 2.0)]),
            None
        );
        let note = counter_resets(&[(0, 5.0), (1000, 7.0), (2000, 1.0)]).unwrap_or_default();
        assert!(
            note.contains("decreased 1 time(s)")
                && note.contains("1970-01-01T00:00:02.000Z (7 → 1)"),
            "{note}"
        );
    }
}
