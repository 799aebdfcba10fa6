//! The retraining job behind `vigil retrain SPEC`: train and tune a challenger exactly as the
//! experiment spec says, evaluate the registered `champion` and the challenger on the **same**
//! recent labelled period, and move `champion` only when the challenger is better on the
//! objective by the stated margin without breaking the constraints.
//!
//! Both sides are judged the same way, as deployed: each version's state ([`VersionState`]: a
//! family's or an ensemble's fitted models per series, with the run's calibration,
//! normalisers and per-series thresholds) scores the whole window, and the window's test rows
//! are measured at the version's own thresholds (the challenger's were chosen on this window's
//! validation rows, the champion keeps the ones it runs with in production). The champion's
//! numbers are therefore today's data under its deployed thresholds, not copied from its
//! registration, and not flattered by a threshold refitted on the window.
//!
//! Safe from cron: a window already trained on (same data fingerprints) is re-judged, not
//! retrained, so a second run changes nothing; the alias move is a compare-and-set on the
//! champion seen at the start, so two concurrent runs cannot both promote; any error before
//! the move leaves the champion untouched. `dry_run` trains in a scratch registry and moves
//! nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vigil_eval::EvalSeries;
use vigil_registry::{ExpectedAlias, ModelVersion, Registry};

use crate::data::{PreparedDataset, prepare};
use crate::error::{ExperimentError, Result};
use crate::metrics::{MetricMap, MetricName, macro_average};
use crate::runner::{RunOptions, run};
use crate::spec::{Spec, syntax_error};
use crate::state::VersionState;
use crate::yardstick::{Average, Part, at_thresholds};

/// The alias the job manages.
pub const CHAMPION: &str = "champion";

/// A retrain spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrainSpec {
    /// The job's name (shown in the audit log).
    pub name: String,
    /// The experiment spec that trains the challenger (relative to this file).
    #[serde(default)]
    pub experiment: Option<PathBuf>,
    /// Or the experiment inline.
    #[serde(default)]
    pub inline: Option<Spec>,
    /// How much better (oriented, in the objective's units) the challenger must be.
    #[serde(default)]
    pub margin: f64,
    /// Comparison report path (default `reports/retrain-NAME.html`).
    #[serde(default)]
    pub report: Option<PathBuf>,
}

/// A loaded retrain job.
#[derive(Debug, Clone)]
pub struct Retrain {
    /// The job spec.
    pub spec: RetrainSpec,
    /// The experiment (paths resolved).
    pub experiment: Spec,
}

fn invalid(origin: &str, key: &str, message: String, hint: &str) -> ExperimentError {
    ExperimentError::SpecInvalid {
        file: origin.into(),
        key: key.into(),
        message,
        hint: hint.into(),
    }
}

/// Reads a retrain spec and its experiment; relative paths resolve against its folder.
pub fn load_retrain(path: &Path) -> Result<Retrain> {
    let text = std::fs::read_to_string(path).map_err(|e| ExperimentError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
        hint: "check the retrain spec path".into(),
    })?;
    let origin = path.display().to_string();
    let spec: RetrainSpec = toml::from_str(&text)
        .map_err(|e| syntax_error(&text, &origin, &e, "experiments/specs/retrain.toml"))?;
    vigil_registry::validate_name("retrain job", &spec.name).map_err(|e| {
        invalid(
            &origin,
            "name",
            e.to_string(),
            "use letters, digits, '.', '_' and '-'",
        )
    })?;
    if !spec.margin.is_finite() || spec.margin < 0.0 {
        return Err(invalid(
            &origin,
            "margin",
            format!("{} is not a non-negative number", spec.margin),
            "e.g. margin = 0.01",
        ));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let resolve = |p: &Path| {
        if p.is_relative() {
            base.join(p)
        } else {
            p.to_path_buf()
        }
    };
    let experiment = match (&spec.experiment, &spec.inline) {
        (Some(file), None) => crate::spec::load_spec(&resolve(file))?,
        (None, Some(inline)) => {
            let mut inline = inline.clone();
            inline.check(&origin)?;
            for data in &mut inline.datasets {
                for p in [&mut data.path, &mut data.labels].into_iter().flatten() {
                    *p = resolve(p);
                }
            }
            inline
        }
        _ => {
            return Err(invalid(
                &origin,
                "experiment",
                "give exactly one of `experiment` (a spec file) and an inline [inline] spec".into(),
                "e.g. experiment = \"quickstart.toml\"",
            ));
        }
    };
    Ok(Retrain { spec, experiment })
}

/// One side's numbers on the shared period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// Registered version.
    pub version: i64,
    /// Family.
    pub family: String,
    /// The detector spec.
    pub params: serde_json::Value,
    /// Test metrics over the window (macro over datasets).
    pub metrics: MetricMap,
    /// Test metrics per series.
    pub per_series: BTreeMap<String, MetricMap>,
}

/// What the job decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// `champion` moved to the challenger (or would have, in a dry run).
    Promoted,
    /// The champion stays.
    Kept,
}

/// The outcome of one job run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetrainOutcome {
    /// Model name.
    pub model: String,
    /// The decision.
    pub decision: Decision,
    /// Why, with both sets of numbers (also the alias move's reason).
    pub reason: String,
    /// The champion before the run (None: there was none).
    pub champion: Option<Side>,
    /// The challenger.
    pub challenger: Side,
    /// True when the challenger was trained by this run (false: the window was seen before).
    pub trained: bool,
    /// True when the alias actually moved.
    pub moved: bool,
    /// The objective.
    pub objective: MetricName,
    /// Data: (name, fingerprint, series).
    pub data: Vec<(String, String, usize)>,
}

/// Judges a version as it is deployed: its state scores every series of the window, and the
/// test rows are measured at the thresholds the version holds (a challenger trained on this
/// window chose them on its validation rows; the champion keeps the ones it was registered
/// with), through the one yardstick every verb uses ([`at_thresholds`], averaged as the
/// version's threshold scope says). `vigil score --labels` on the same rows gives the same
/// numbers.
fn judge(
    spec: &Spec,
    data: &[PreparedDataset],
    registry: &Registry,
    version: &ModelVersion,
) -> Result<Side> {
    let state = VersionState::load(registry, version)?;
    let config = spec.eval_config();
    let average = Average::of_scope(state.threshold_scope);
    let mut per_series = BTreeMap::new();
    let mut per_dataset = Vec::new();
    for d in data {
        let mut scored = Vec::with_capacity(d.series.len());
        for s in &d.series {
            let key = s.key();
            let Some(known) = state.series(&key) else {
                return Err(ExperimentError::Selection {
                    dataset: d.name.clone(),
                    message: format!(
                        "{} v{} has no fitted model for series {key}",
                        version.model, version.version
                    ),
                    hint: "the champion was trained on other series; retrain with the same series selection".into(),
                });
            };
            let scores = state.score(&key, &s.series)?.values;
            let windows = (
                s.windows_in(&s.split.validation),
                s.windows_in(&s.test_rows()),
            );
            scored.push((s, key, known.threshold, scores, windows));
        }
        let parts: Vec<Part<'_>> = scored
            .iter()
            .map(|(s, key, threshold, scores, (vw, tw))| {
                let view = |rows: std::ops::Range<usize>, windows| EvalSeries {
                    scores: &scores[rows.clone()],
                    windows,
                    timestamps: &s.series.timestamps[rows],
                    incident_severities: None,
                };
                Part {
                    key: key.clone(),
                    validation: (!s.split.validation.is_empty())
                        .then(|| view(s.split.validation.clone(), vw.as_slice())),
                    test: view(s.test_rows(), tw.as_slice()),
                    threshold: *threshold,
                }
            })
            .collect();
        let measured = at_thresholds(&parts, &config, average)?;
        per_dataset.push(measured.metrics);
        per_series.extend(measured.per_series);
    }
    Ok(Side {
        version: version.version,
        family: state.entry.clone(),
        params: version.spec.clone(),
        metrics: macro_average(&per_dataset),
        per_series,
    })
}

fn fingerprints(data: &[PreparedDataset]) -> Vec<String> {
    let mut f: Vec<String> = data.iter().map(|d| d.fingerprint.clone()).collect();
    f.sort();
    f
}

fn summary(objective: MetricName, spec: &Spec, m: &MetricMap) -> String {
    let get = |n: MetricName| m.get(n.name()).copied().unwrap_or(f64::NAN);
    let mut parts = vec![format!("{objective} {:.4}", get(objective))];
    for c in &spec.objective.constraints {
        parts.push(format!("{} {:.4}", c.metric, get(c.metric)));
    }
    parts.join(", ")
}

/// Runs the job once. `registry_url` overrides the experiment's registry.
pub fn retrain(
    job: &Retrain,
    registry_url: Option<&str>,
    dry_run: bool,
    threads: Option<usize>,
) -> Result<RetrainOutcome> {
    let spec = &job.experiment;
    let url = registry_url.map_or_else(|| spec.registry.url.clone(), str::to_string);
    let registry = Registry::open(&url)?;
    let model = spec.model_name();
    let data: Vec<PreparedDataset> = spec
        .datasets
        .iter()
        .map(|d| prepare(d, &spec.split))
        .collect::<Result<_>>()?;
    let window = fingerprints(&data);
    let objective = spec.objective.metric;

    // The champion as seen now: the compare-and-set precondition of the move.
    let champion_version = registry
        .aliases(&model)
        .ok()
        .and_then(|a| a.get(CHAMPION).copied());

    // The challenger: a version already trained on this exact window, or a new one.
    let existing = registry
        .versions(&model)
        .unwrap_or_default()
        .into_iter()
        .filter(|v| v.created_by == format!("vigil run {}", spec.name))
        .filter(|v| {
            let mut f: Vec<String> = v.datasets.iter().map(|d| d.fingerprint.clone()).collect();
            f.sort();
            f == window
        })
        .max_by_key(|v| v.version);
    let scratch = tempfile::tempdir().map_err(|e| ExperimentError::Io {
        path: std::env::temp_dir(),
        message: format!("cannot create a scratch directory: {e}"),
        hint: "check that TMPDIR is writable".into(),
    })?;
    let (challenger_version, challenger_registry, trained) = match existing {
        Some(v) => {
            tracing::info!(model = %model, version = v.version, "this window was trained on before: re-judging it");
            (v, None, false)
        }
        None => {
            let train_url = if dry_run {
                format!("sqlite://{}", scratch.path().join("dry-run.db").display())
            } else {
                url.clone()
            };
            let options = RunOptions {
                registry_url: Some(train_url.clone()),
                threads,
                ..RunOptions::default()
            };
            let outcome = run(spec, &options)?;
            let Some((name, number)) = outcome.versions.first().cloned() else {
                return Err(ExperimentError::NothingToChoose {
                    message: "the experiment registered no model (nothing met the constraints on validation)".into(),
                    hint: "relax the constraints or add families; the champion is untouched".into(),
                });
            };
            let reg = Registry::open(&train_url)?;
            let v = reg.resolve(&vigil_registry::ModelRef::Version(name, number))?;
            (v, if dry_run { Some(reg) } else { None }, true)
        }
    };
    let challenger_reg = challenger_registry.as_ref().unwrap_or(&registry);
    let challenger = judge(spec, &data, challenger_reg, &challenger_version)?;
    let champion = match champion_version {
        Some(c) => {
            let v = registry.resolve(&vigil_registry::ModelRef::Version(model.clone(), c))?;
            Some(judge(spec, &data, &registry, &v)?)
        }
        None => None,
    };

    let get = |m: &MetricMap, n: MetricName| m.get(n.name()).copied().unwrap_or(f64::NAN);
    let challenger_value = get(&challenger.metrics, objective);
    let broken: Vec<String> = spec
        .objective
        .constraints
        .iter()
        .filter(|c| !c.holds(get(&challenger.metrics, c.metric)))
        .map(|c| format!("{} = {:.4}", c.metric, get(&challenger.metrics, c.metric)))
        .collect();
    let ch_text = format!(
        "challenger v{}{} ({}): {}",
        challenger.version,
        if challenger_registry.is_some() {
            " (dry run, unregistered)"
        } else {
            ""
        },
        challenger.family,
        summary(objective, spec, &challenger.metrics)
    );
    // In a dry run the challenger lives in a scratch registry: its number is not comparable.
    let scratch_challenger = challenger_registry.is_some();
    let (decision, reason) = match &champion {
        Some(c) if !scratch_challenger && c.version == challenger.version => (
            Decision::Kept,
            format!(
                "the challenger v{} is already the champion; {ch_text}",
                c.version
            ),
        ),
        _ if !broken.is_empty() => (
            Decision::Kept,
            format!("{ch_text}; breaks the constraints ({})", broken.join(", ")),
        ),
        None if challenger_value.is_finite() => {
            (Decision::Promoted, format!("no champion yet; {ch_text}"))
        }
        None => (
            Decision::Kept,
            format!("{ch_text}; the objective is undefined"),
        ),
        Some(c) => {
            let champ_value = get(&c.metrics, objective);
            let gain = objective.oriented(challenger_value) - objective.oriented(champ_value);
            let both = format!(
                "{ch_text} vs champion v{} ({}): {}; gain {gain:+.4}, margin {}",
                c.version,
                c.family,
                summary(objective, spec, &c.metrics),
                job.spec.margin
            );
            if challenger_value.is_finite()
                && (gain >= job.spec.margin || !champ_value.is_finite())
                && gain > 0.0
            {
                (Decision::Promoted, format!("promoted: {both}"))
            } else {
                (Decision::Kept, format!("kept: {both}"))
            }
        }
    };
    let mut moved = false;
    if decision == Decision::Promoted && !dry_run {
        registry.move_alias(
            &model,
            CHAMPION,
            challenger.version,
            ExpectedAlias::from_current(champion_version),
            &format!("vigil retrain {}", job.spec.name),
            &reason,
        )?;
        moved = true;
    }
    Ok(RetrainOutcome {
        model,
        decision,
        reason,
        champion,
        challenger,
        trained,
        moved,
        objective,
        data: data
            .iter()
            .map(|d| (d.name.clone(), d.fingerprint.clone(), d.series.len()))
            .collect(),
    })
}
