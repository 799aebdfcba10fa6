//! Loading the spec's datasets, selecting series and channels, and splitting each series by
//! time into the parts the runner fits, tunes and tests on.

use std::ops::Range;

use vigil_datasets::split::{Split, SplitSpec, split};
use vigil_datasets::synth::generate;
use vigil_datasets::{Dataset, LoadOptions, Series, load};
use vigil_eval::{Window, windows_from_labels};

use crate::error::{ExperimentError, Result};
use crate::spec::DataSpec;

/// One series ready to run: its rows, where train/validation/test lie, and its incident
/// windows as row ranges over the whole series.
#[derive(Debug, Clone)]
pub struct PreparedSeries {
    /// The dataset's short name.
    pub dataset: String,
    /// The series (selected channels only).
    pub series: Series,
    /// Row ranges.
    pub split: Split,
    /// Labelled windows over all rows (sorted, disjoint, inclusive).
    pub windows: Vec<Window>,
}

impl PreparedSeries {
    /// `dataset/series`, unique in an experiment.
    pub fn key(&self) -> String {
        format!("{}/{}", self.dataset, self.series.name)
    }

    /// The training rows as a series of their own.
    pub fn train(&self) -> Series {
        self.series
            .slice_rows(self.split.train.start, self.split.train.end)
    }

    /// The rows evaluated as test. Under NAB's protocol (a probationary split) this is the
    /// whole file: NAB's scorer skips the probationary rows itself.
    pub fn test_rows(&self) -> Range<usize> {
        self.split.test.clone()
    }

    /// Windows clipped to `rows` and shifted to start at 0.
    pub fn windows_in(&self, rows: &Range<usize>) -> Vec<Window> {
        vigil_eval::windows_in(&self.windows, rows)
    }
}

/// A loaded dataset with its prepared series.
#[derive(Debug, Clone)]
pub struct PreparedDataset {
    /// Short name.
    pub name: String,
    /// Content fingerprint (sha256) of the whole loaded dataset.
    pub fingerprint: String,
    /// Layout and source, for lineage.
    pub description: String,
    /// The selected series.
    pub series: Vec<PreparedSeries>,
}

/// Loads, selects and splits one dataset.
pub fn prepare(spec: &DataSpec, split_spec: &SplitSpec) -> Result<PreparedDataset> {
    let (dataset, default_name) = match (&spec.path, &spec.synthetic) {
        (Some(path), _) => {
            let options = LoadOptions {
                layout: spec.layout,
                labels: spec.labels.clone(),
                ..LoadOptions::default()
            };
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "data".into());
            let dataset = load(path, &options).map_err(|source| ExperimentError::Data {
                dataset: path.display().to_string(),
                source: Box::new(source),
            })?;
            (dataset, name)
        }
        (None, Some(config)) => {
            let dataset = generate(config).map_err(|source| ExperimentError::Data {
                dataset: "synthetic".into(),
                source: Box::new(source),
            })?;
            (dataset, "synthetic".to_string())
        }
        (None, None) => {
            return Err(ExperimentError::Selection {
                dataset: "?".into(),
                message: "neither path nor synthetic is given".into(),
                hint: "give path = \"...\" or synthetic = { seed = 7 }".into(),
            });
        }
    };
    let name = spec.name.clone().unwrap_or(default_name);
    select(&name, dataset, spec, split_spec)
}

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

fn select(
    name: &str,
    dataset: Dataset,
    spec: &DataSpec,
    split_spec: &SplitSpec,
) -> Result<PreparedDataset> {
    let fingerprint = dataset.fingerprint();
    let description = format!(
        "{} ({} layout, {} series, {} rows)",
        dataset.source,
        dataset.layout,
        dataset.series.len(),
        dataset.row_count()
    );
    for w in &dataset.warnings {
        tracing::warn!(dataset = name, "{w}");
    }
    let mut chosen: Vec<Series> = dataset
        .series
        .into_iter()
        .filter(|s| spec.series.is_empty() || spec.series.iter().any(|p| matches(p, &s.name)))
        .collect();
    chosen.sort_by(|a, b| a.name.cmp(&b.name));
    if spec.max_series > 0 {
        chosen.truncate(spec.max_series);
    }
    if chosen.is_empty() {
        return Err(ExperimentError::Selection {
            dataset: name.into(),
            message: format!("no series matches {:?}", spec.series),
            hint: "run `vigil datasets inspect PATH` to list the series names; patterns are exact names or `prefix*`".into(),
        });
    }
    let mut prepared = Vec::with_capacity(chosen.len());
    for series in chosen {
        let series = select_channels(name, series, &spec.channels)?;
        let mut split = split(&series, split_spec).map_err(|source| ExperimentError::Data {
            dataset: name.into(),
            source: Box::new(source),
        })?;
        if matches!(split_spec, SplitSpec::Probationary) {
            split.test = 0..series.len();
        }
        let windows = windows_from_labels(&series.labels());
        prepared.push(PreparedSeries {
            dataset: name.to_string(),
            series,
            split,
            windows,
        });
    }
    Ok(PreparedDataset {
        name: name.to_string(),
        fingerprint,
        description,
        series: prepared,
    })
}

pub(crate) fn select_channels(
    dataset: &str,
    series: Series,
    channels: &[String],
) -> Result<Series> {
    if channels.is_empty() {
        return Ok(series);
    }
    let mut idx = Vec::with_capacity(channels.len());
    for c in channels {
        let Some(i) = series.columns.iter().position(|col| col == c) else {
            return Err(ExperimentError::Selection {
                dataset: dataset.into(),
                message: format!(
                    "series {:?} has no channel {c:?} (it has {:?})",
                    series.name, series.columns
                ),
                hint: "list channels by their column names, or leave `channels` out for all".into(),
            });
        };
        idx.push(i);
    }
    let values = series.values.select(ndarray::Axis(1), &idx);
    Ok(Series {
        columns: channels.to_vec(),
        values,
        ..series
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_datasets::synth::SynthConfig;

    /// Generated data: `max_series` series of 3,000 rows with 2–3 anomalies each.
    fn synthetic(max_series: usize) -> DataSpec {
        DataSpec {
            name: None,
            path: None,
            layout: None,
            labels: None,
            synthetic: Some(SynthConfig {
                seed: 3,
                length: 3000,
                anomalies: vigil_datasets::synth::AnomalyConfig {
                    min_per_series: 2,
                    max_per_series: 3,
                    ..Default::default()
                },
                ..SynthConfig::default()
            }),
            series: vec![],
            channels: vec![],
            max_series,
        }
    }

    #[test]
    fn synthetic_data_is_split_and_labelled() {
        let spec = synthetic(2);
        let split = SplitSpec::Fractions {
            train: 0.5,
            validation: 0.25,
        };
        let d = prepare(&spec, &split).expect("prepares");
        assert_eq!(d.series.len(), 2);
        let s = &d.series[0];
        assert_eq!(s.split.train, 0..1500);
        assert_eq!(s.split.validation, 1500..2250);
        assert!(!s.windows.is_empty());
        let test = s.windows_in(&s.split.test);
        assert!(test.iter().all(|w| w.end < 750));
    }

    #[test]
    fn unknown_channels_are_named() {
        let spec = DataSpec {
            name: Some("s".into()),
            channels: vec!["nope".into()],
            ..synthetic(1)
        };
        let split = SplitSpec::Fractions {
            train: 0.5,
            validation: 0.25,
        };
        let err = prepare(&spec, &split).expect_err("bad channel").to_string();
        assert!(err.contains("nope"), "{err}");
    }
}
