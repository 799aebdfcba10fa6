//! The gate spec: which experiment to evaluate (fixed parameters, no tuning), which metrics
//! to watch with which tolerances, and where the baseline is.
//!
//! ```toml
//! name = "ci"
//! experiment = "gate-experiment.toml"      # or an inline [experiment] table
//! [baseline]
//! path = "gate-baseline.json"              # or model = "nab@champion" (+ registry = URL)
//! [[watch]]
//! metric = "event_f1"
//! tolerance = 0.02                         # may get worse by at most this much
//! [[watch]]
//! metric = "vus_pr"
//! interval = { kind = "bootstrap", level = 0.95, resamples = 2000, seed = 7 }
//! ```
//!
//! Parsing is strict like the experiment spec: unknown keys fail with the key, the line and a
//! hint.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ExperimentError, Result};
use crate::metrics::MetricName;
use crate::spec::{SearchDims, Spec, Weights, syntax_error};

/// A whole gate spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateSpec {
    /// The gate's name (shown in the output and stored in the baseline).
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// An experiment spec file to evaluate (relative to the gate file).
    #[serde(default)]
    pub experiment: Option<PathBuf>,
    /// Or the experiment spec inline.
    #[serde(default)]
    pub inline: Option<Spec>,
    /// Where the baseline comes from.
    pub baseline: BaselineSpec,
    /// The watched metrics.
    pub watch: Vec<Watch>,
}

/// The baseline: a committed JSON file (written by `vigil gate --write-baseline`) or a
/// registered model version or alias.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BaselineSpec {
    /// A baseline JSON (relative to the gate file).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// A registered model reference, `NAME`, `NAME@VERSION` or `NAME@ALIAS`: its test metrics
    /// (dataset aggregates only: the registry keeps no per-series numbers).
    #[serde(default)]
    pub model: Option<String>,
    /// The registry holding `model` (`--registry` overrides; default the local registry).
    #[serde(default)]
    pub registry: Option<String>,
}

/// Where a tolerance applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The dataset's aggregate (corpus or macro over series).
    #[default]
    Dataset,
    /// Every series on its own.
    Series,
}

/// One watched metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Watch {
    /// The metric; its direction is known (false alarms: lower is better).
    pub metric: MetricName,
    /// How much worse than the baseline it may get, in the metric's own units (absolute).
    #[serde(default)]
    pub tolerance: f64,
    /// Dataset aggregate (default) or each series.
    #[serde(default)]
    pub scope: Scope,
    /// Judge the dataset from a confidence interval of the paired per-series differences
    /// instead of the aggregate: fail only when the whole interval lies below `-tolerance`.
    #[serde(default)]
    pub interval: Option<Interval>,
}

/// A confidence interval of the mean paired per-series difference (current − baseline,
/// oriented so that positive is better).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Interval {
    /// Percentile bootstrap over series, resampled with a seed.
    Bootstrap {
        /// Two-sided confidence level.
        #[serde(default = "default_level")]
        level: f64,
        /// Bootstrap resamples.
        #[serde(default = "default_resamples")]
        resamples: usize,
        /// Seed of the resampling.
        #[serde(default)]
        seed: u64,
    },
    /// mean ± k · standard error.
    Stderr {
        /// Multiplier of the standard error.
        #[serde(default = "default_k")]
        k: f64,
    },
}

fn default_level() -> f64 {
    0.95
}
fn default_resamples() -> usize {
    2000
}
fn default_k() -> f64 {
    2.0
}

/// A loaded gate: the spec, the experiment to run and the resolved baseline path.
#[derive(Debug, Clone)]
pub struct Gate {
    /// The gate spec.
    pub spec: GateSpec,
    /// The experiment (paths resolved).
    pub experiment: Spec,
    /// The baseline JSON path (resolved), when the baseline is a file.
    pub baseline_path: Option<PathBuf>,
}

fn invalid(origin: &str, key: &str, message: String, hint: &str) -> ExperimentError {
    ExperimentError::SpecInvalid {
        file: origin.to_string(),
        key: key.to_string(),
        message,
        hint: hint.to_string(),
    }
}

/// Parses a gate spec from TOML text; `origin` names the file in errors.
pub fn parse_gate(text: &str, origin: &str) -> Result<GateSpec> {
    let spec: GateSpec = toml::from_str(text)
        .map_err(|e| syntax_error(text, origin, &e, "experiments/specs/gate.toml"))?;
    spec.check(origin)?;
    Ok(spec)
}

impl GateSpec {
    /// Semantic checks; each error names its key.
    pub fn check(&self, origin: &str) -> Result<()> {
        vigil_registry::validate_name("gate", &self.name).map_err(|e| {
            invalid(
                origin,
                "name",
                e.to_string(),
                "use letters, digits, '.', '_' and '-'",
            )
        })?;
        if self.experiment.is_some() == self.inline.is_some() {
            return Err(invalid(
                origin,
                "experiment",
                "give exactly one of `experiment` (a spec file) and an inline [inline] spec".into(),
                "e.g. experiment = \"gate-experiment.toml\"",
            ));
        }
        if self.baseline.path.is_some() == self.baseline.model.is_some() {
            return Err(invalid(
                origin,
                "baseline",
                "give exactly one of `baseline.path` and `baseline.model`".into(),
                "e.g. [baseline] path = \"gate-baseline.json\" (write it with `vigil gate SPEC --write-baseline PATH`)",
            ));
        }
        if self.watch.is_empty() {
            return Err(invalid(
                origin,
                "watch",
                "no metric is watched".into(),
                "add [[watch]] tables, e.g. metric = \"event_f1\" with tolerance = 0.02",
            ));
        }
        for (i, w) in self.watch.iter().enumerate() {
            if !w.tolerance.is_finite() || w.tolerance < 0.0 {
                return Err(invalid(
                    origin,
                    &format!("watch[{i}].tolerance"),
                    format!("{} is not a non-negative number", w.tolerance),
                    "the tolerance is how much worse the metric may get, e.g. 0.02",
                ));
            }
            match &w.interval {
                Some(Interval::Bootstrap {
                    level, resamples, ..
                }) => {
                    if !(0.5..1.0).contains(level) {
                        return Err(invalid(
                            origin,
                            &format!("watch[{i}].interval.level"),
                            format!("{level} is outside [0.5, 1)"),
                            "e.g. level = 0.95",
                        ));
                    }
                    if *resamples < 100 {
                        return Err(invalid(
                            origin,
                            &format!("watch[{i}].interval.resamples"),
                            format!("{resamples} resamples are too few"),
                            "use at least 100, e.g. resamples = 2000",
                        ));
                    }
                }
                Some(Interval::Stderr { k }) if !k.is_finite() || *k <= 0.0 => {
                    return Err(invalid(
                        origin,
                        &format!("watch[{i}].interval.k"),
                        format!("{k} is not a positive number"),
                        "e.g. k = 2.0",
                    ));
                }
                _ => {}
            }
            if w.interval.is_some() && w.scope == Scope::Series {
                return Err(invalid(
                    origin,
                    &format!("watch[{i}].scope"),
                    "an interval is taken over series, so it needs scope = \"dataset\"".into(),
                    "remove `scope` or `interval`",
                ));
            }
        }
        Ok(())
    }
}

/// The gate runs fixed parameters only: no search, no learned ensemble weights.
fn check_fixed(experiment: &Spec, origin: &str) -> Result<()> {
    for (i, d) in experiment.detectors.iter().enumerate() {
        if d.search != SearchDims::Named("none".into()) {
            return Err(invalid(
                origin,
                &format!("detectors[{i}].search"),
                format!(
                    "{} is searched; a gate evaluates fixed parameters only (fast and deterministic)",
                    d.kind
                ),
                "set search = \"none\" and give the parameters in `params = { ... }`",
            ));
        }
    }
    if let Some(e) = &experiment.ensemble
        && e.weights == Weights::Named("learned".into())
    {
        return Err(invalid(
            origin,
            "ensemble.weights",
            "learned weights are a search; a gate evaluates fixed parameters only".into(),
            "use weights = \"equal\" or a list of numbers",
        ));
    }
    Ok(())
}

/// Reads a gate spec, its experiment (a file or inline) and resolves relative paths against
/// the gate file's folder.
pub fn load_gate(path: &Path) -> Result<Gate> {
    let text = std::fs::read_to_string(path).map_err(|e| ExperimentError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
        hint: "check the gate spec path".into(),
    })?;
    let origin = path.display().to_string();
    let spec = parse_gate(&text, &origin)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let resolve = |p: &Path| {
        if p.is_relative() {
            base.join(p)
        } else {
            p.to_path_buf()
        }
    };
    let (experiment, experiment_origin) = match (&spec.experiment, &spec.inline) {
        (Some(file), _) => {
            let file = resolve(file);
            (crate::spec::load_spec(&file)?, file.display().to_string())
        }
        (None, Some(inline)) => {
            let mut inline = inline.clone();
            inline.check(&origin)?;
            for data in &mut inline.datasets {
                for p in [&mut data.path, &mut data.labels].into_iter().flatten() {
                    *p = resolve(p);
                }
            }
            (inline, format!("{origin} [inline]"))
        }
        (None, None) => unreachable!("checked: one of experiment and inline"),
    };
    check_fixed(&experiment, &experiment_origin)?;
    let baseline_path = spec.baseline.path.as_deref().map(resolve);
    Ok(Gate {
        spec,
        experiment,
        baseline_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GATE: &str = r#"
name = "g"
[inline]
name = "g"
[[inline.datasets]]
synthetic = { seed = 1 }
[inline.split]
kind = "fractions"
train = 0.5
validation = 0.25
[inline.objective]
metric = "event_f1"
[[inline.detectors]]
kind = "rolling_zscore"
search = "none"
[baseline]
path = "b.json"
[[watch]]
metric = "event_f1"
tolerance = 0.02
"#;

    #[test]
    fn a_gate_parses() {
        let g = parse_gate(GATE, "g.toml").expect("parses");
        assert_eq!(g.watch[0].metric, MetricName::EventF1);
        assert_eq!(g.watch[0].scope, Scope::Dataset);
    }

    #[test]
    fn unknown_keys_name_the_key_line_and_hint() {
        let text = GATE.replace("tolerance = 0.02", "tolerence = 0.02");
        let err = parse_gate(&text, "g.toml")
            .expect_err("unknown")
            .to_string();
        assert!(err.contains("g.toml:20:"), "{err}");
        assert!(err.contains("tolerence"), "{err}");
        assert!(err.contains("hint:"), "{err}");
    }

    #[test]
    fn a_searched_family_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.toml");
        std::fs::write(&path, GATE.replace("search = \"none\"\n", "")).unwrap();
        let err = load_gate(&path).expect_err("searched").to_string();
        assert!(err.contains("detectors[0].search"), "{err}");
        assert!(err.contains("search = \\\"none\\\"") || err.contains("search = \"none\""));
    }

    #[test]
    fn bad_tolerances_and_intervals_name_the_key() {
        let text = GATE.replace("tolerance = 0.02", "tolerance = -1.0");
        let err = parse_gate(&text, "g.toml").expect_err("neg").to_string();
        assert!(err.contains("watch[0].tolerance"), "{err}");
        let text = GATE.replace(
            "tolerance = 0.02",
            "interval = { kind = \"bootstrap\", level = 1.5 }",
        );
        let err = parse_gate(&text, "g.toml").expect_err("level").to_string();
        assert!(err.contains("watch[0].interval.level"), "{err}");
        let text = GATE.replace("[baseline]\npath = \"b.json\"", "[baseline]");
        let err = parse_gate(&text, "g.toml")
            .expect_err("no base")
            .to_string();
        assert!(err.contains("baseline"), "{err}");
    }
}
