//! The CI accuracy gate behind `vigil gate SPEC`: evaluate a fixed-parameter experiment
//! (no tuning, so it is fast and deterministic), compare its test metrics per dataset and per
//! series with a baseline (a committed JSON, or a registered version or alias), and fail when
//! a watched metric gets worse beyond its tolerance.
//!
//! * [`spec`]: the gate spec (strict TOML).
//! * [`compare`]: the comparison, absolute or from a confidence interval over series.
//!
//! Each dataset of the experiment runs as its own experiment (a fixed-parameter family's
//! numbers on one dataset do not depend on the others), in a throw-away registry.

pub mod compare;
pub mod spec;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{ExperimentError, Result};
use crate::metrics::MetricMap;
use crate::runner::{RunOptions, run};

pub use compare::{Check, Comparison, Verdict, compare};
pub use spec::{BaselineSpec, Gate, GateSpec, Interval, Scope, Watch, load_gate, parse_gate};

/// The format tag of a baseline JSON.
pub const BASELINE_FORMAT: &str = "vigil-gate-baseline/1";

/// The numbers of one gate evaluation (also the baseline JSON's content).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateResults {
    /// [`BASELINE_FORMAT`].
    pub format: String,
    /// The gate's name.
    pub gate: String,
    /// Per dataset.
    pub datasets: BTreeMap<String, DatasetResults>,
}

/// One dataset's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetResults {
    /// Content fingerprint of the loaded dataset (a comparison across different data is an
    /// error, not a regression).
    pub fingerprint: String,
    /// Per leaderboard entry (family or ensemble).
    pub entries: BTreeMap<String, EntryResults>,
}

/// One entry's test metrics; undefined (NaN) values are left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EntryResults {
    /// The dataset aggregate.
    pub aggregate: BTreeMap<String, f64>,
    /// Per series (`dataset/series`).
    pub series: BTreeMap<String, BTreeMap<String, f64>>,
}

fn finite(map: &MetricMap) -> BTreeMap<String, f64> {
    map.iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// Runs the gate's experiment, one dataset at a time, in a temporary registry.
pub fn evaluate(gate: &Gate, threads: Option<usize>) -> Result<GateResults> {
    let scratch = tempfile::tempdir().map_err(|e| ExperimentError::Io {
        path: std::env::temp_dir(),
        message: format!("cannot create a scratch registry: {e}"),
        hint: "check that the temporary directory is writable (TMPDIR)".into(),
    })?;
    let mut datasets = BTreeMap::new();
    for (i, data) in gate.experiment.datasets.iter().enumerate() {
        let mut one = gate.experiment.clone();
        one.datasets = vec![data.clone()];
        let url = format!(
            "sqlite://{}",
            scratch.path().join(format!("d{i}.db")).display()
        );
        let options = RunOptions {
            registry_url: Some(url),
            threads,
            ..RunOptions::default()
        };
        let outcome = run(&one, &options)?;
        let lb = outcome.leaderboard;
        for (name, (fingerprint, _, _)) in &lb.datasets {
            let mut entries = BTreeMap::new();
            for e in &lb.entries {
                entries.insert(
                    e.name.clone(),
                    EntryResults {
                        aggregate: e.test.get(name).map(finite).unwrap_or_default(),
                        series: e
                            .per_series
                            .iter()
                            .filter(|(k, _)| k.starts_with(&format!("{name}/")))
                            .map(|(k, m)| (k.clone(), finite(m)))
                            .collect(),
                    },
                );
            }
            if datasets
                .insert(
                    name.clone(),
                    DatasetResults {
                        fingerprint: fingerprint.clone(),
                        entries,
                    },
                )
                .is_some()
            {
                return Err(ExperimentError::SpecInvalid {
                    file: gate.spec.name.clone(),
                    key: format!("datasets[{i}].name"),
                    message: format!("two datasets are named {name}"),
                    hint: "give each dataset its own `name`".into(),
                });
            }
        }
    }
    Ok(GateResults {
        format: BASELINE_FORMAT.into(),
        gate: gate.spec.name.clone(),
        datasets,
    })
}

/// Reads a baseline JSON.
pub fn read_baseline(path: &std::path::Path) -> Result<GateResults> {
    let bytes = std::fs::read(path).map_err(|e| ExperimentError::Io {
        path: path.to_path_buf(),
        message: format!("cannot read the baseline: {e}"),
        hint: "write it with `vigil gate SPEC --write-baseline PATH` and commit it".into(),
    })?;
    let results: GateResults = serde_json::from_slice(&bytes).map_err(|e| ExperimentError::Io {
        path: path.to_path_buf(),
        message: format!("not a gate baseline: {e}"),
        hint: "write it with `vigil gate SPEC --write-baseline PATH`".into(),
    })?;
    if results.format != BASELINE_FORMAT {
        return Err(ExperimentError::Io {
            path: path.to_path_buf(),
            message: format!(
                "baseline format {:?}, expected {BASELINE_FORMAT:?}",
                results.format
            ),
            hint: "rewrite it with `vigil gate SPEC --write-baseline PATH`".into(),
        });
    }
    Ok(results)
}

/// Writes a baseline JSON (pretty, keys sorted, so diffs in review are readable).
pub fn write_baseline(path: &std::path::Path, results: &GateResults) -> Result<()> {
    let io = |e: std::io::Error| ExperimentError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
        hint: "check that the folder exists and is writable".into(),
    };
    let mut text = serde_json::to_string_pretty(results).map_err(|e| ExperimentError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
        hint: "report this as a bug".into(),
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(io)
}

/// The baseline from a registered version or alias: its stored test metrics, as dataset
/// aggregates of the entry of its family (or of every entry when it is an ensemble or the
/// family is not in the gate). Per-series numbers are not in the registry.
pub fn baseline_from_registry(
    registry: &vigil_registry::Registry,
    reference: &str,
    current: &GateResults,
) -> Result<GateResults> {
    let model_ref: vigil_registry::ModelRef = reference.parse()?;
    let version = registry.resolve(&model_ref)?;
    let family = version
        .spec
        .get("kind")
        .and_then(|k| k.as_str())
        .map(str::to_string);
    let mut datasets = BTreeMap::new();
    let single = current.datasets.len() == 1;
    for (name, now) in &current.datasets {
        let aggregate: BTreeMap<String, f64> = version
            .metrics
            .iter()
            .filter_map(|(k, v)| {
                let key = if single {
                    k.strip_prefix(&format!("{name}.")).unwrap_or(k)
                } else {
                    k.strip_prefix(&format!("{name}."))?
                };
                v.is_finite().then(|| (key.to_string(), *v))
            })
            .collect();
        let entries = now
            .entries
            .keys()
            .filter(|e| family.as_deref().is_none_or(|f| f == e.as_str()))
            .map(|e| {
                (
                    e.clone(),
                    EntryResults {
                        aggregate: aggregate.clone(),
                        series: BTreeMap::new(),
                    },
                )
            })
            .collect();
        datasets.insert(
            name.clone(),
            DatasetResults {
                // A registered version's metrics come from its own data; no fingerprint check.
                fingerprint: now.fingerprint.clone(),
                entries,
            },
        );
    }
    Ok(GateResults {
        format: BASELINE_FORMAT.into(),
        gate: format!("{}@{}", version.model, version.version),
        datasets,
    })
}
