//! The state a registered version holds: one typed, format-tagged value that `vigil run`
//! writes and every reader (`vigil score`, `vigil export`, `vigil retrain`, the model card)
//! deserialises, so that applying a version to new data is one function, [`VersionState::score`],
//! and not a per-reader guess at what `fitted.json` contains.
//!
//! A version is a single family or an ensemble; either way it holds, per series it was
//! trained on (key `dataset/series`): the fitted model(s), the calibration of the scores (the
//! spec's `calibrate`), an ensemble's per-member normalisers, and the deployable threshold the
//! run chose for that series, with the alert policy. Scoring a series through the state gives
//! the runner's own scores bit for bit (tested in `tests/cli.rs`: `vigil score` on the data of
//! a run equals `vigil run --scores`).
//!
//! Versions registered before this format (`fitted.json`: a bare map of series key → fitted
//! model, or the ensemble's untyped JSON, with `calibration.json` beside) still load through
//! [`VersionState::load`]; what such a version did not record (per-series thresholds under
//! the series scope, the columns, the training rows) is filled from the version row and named
//! in [`VersionState::legacy`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigil_datasets::Series;
use vigil_eval::alert::AlertPolicy;
use vigil_registry::{ModelVersion, Registry};
use vigil_train::{DetectorSpec, FittedModel};

use crate::ensemble::{Normaliser, combine};
use crate::error::{ExperimentError, Result};
use crate::spec::{EnsembleMode, Normalise, ThresholdScope};

/// The format tag of [`VersionState`]; bumped on incompatible changes.
pub const STATE_FORMAT: &str = "vigil-state/2";
/// The artifact name the runner registers the state under (the version's `state_artifact`).
pub const STATE_ARTIFACT: &str = "state.json";

/// Everything needed to apply a registered version to new data as a runtime service would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionState {
    /// [`STATE_FORMAT`].
    pub format: String,
    /// The leaderboard entry: a family name or `ensemble_MODE`.
    pub entry: String,
    /// The threshold policy the run chose (text form, e.g. `pot:0.001`, `vote share 0.500`).
    pub threshold_policy: String,
    /// How the thresholds were shared: one per series, pooled, or one for the corpus.
    pub threshold_scope: ThresholdScope,
    /// The calibration kind of the scores (the spec's `calibrate`), `None` for raw scores; a
    /// series added with `--fit-new` is calibrated the same way on its own training rows.
    pub calibrate: Option<Normalise>,
    /// How detections become alerts (minimum run, cooldown, merge gap, severity bands).
    pub alert: AlertPolicy,
    /// Early-detection allowance of the event metrics, ms.
    pub early_ms: i64,
    /// The series the version was trained on, in the run's order.
    pub series: Vec<SeriesState>,
    /// The fitted model(s).
    pub model: ModelState,
    /// Set by the reader of a version registered before [`STATE_FORMAT`]: what it did not
    /// record and how the reader filled it in. Never written.
    #[serde(skip)]
    pub legacy: Option<String>,
}

/// One series a version was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesState {
    /// `dataset/series`.
    pub key: String,
    /// The dataset's short name in the experiment.
    pub dataset: String,
    /// The series name inside its dataset.
    pub name: String,
    /// The channels (value columns) the model was fitted on, in order; empty when unknown
    /// (a version registered before [`STATE_FORMAT`]).
    pub columns: Vec<String>,
    /// Training rows (the series' first rows the model was fitted on); 0 when unknown.
    pub train_rows: usize,
    /// The deployable threshold the run chose for this series, on the version's score scale
    /// (NaN, written as `null`, when the run fitted none: the series never alerts).
    #[serde(with = "finite_or_null")]
    pub threshold: f64,
}

/// A single family or an ensemble of families.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ModelState {
    /// One family, one fitted model per series.
    Single(Member),
    /// Members combined per series after normalisation.
    Ensemble(EnsembleState),
}

/// One family's fitted models and score calibration, per series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// The chosen parameters.
    pub detector: DetectorSpec,
    /// Series key → fitted model. A series without one could not be fitted by the run and
    /// scores 0 everywhere (silent), as the runner scored it.
    pub models: BTreeMap<String, FittedModel>,
    /// Series key → calibration of the raw scores (fitted on the training-row scores).
    #[serde(default)]
    pub calibration: BTreeMap<String, Normaliser>,
}

/// An ensemble: its rule and members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleState {
    /// Mean, weighted vote, majority or consensus.
    pub mode: EnsembleMode,
    /// The normalisation kind of the members' scores.
    pub normalise: Normalise,
    /// One weight per member.
    pub weights: Vec<f64>,
    /// Each member's vote threshold on its normalised scale (the vote modes).
    pub vote_thresholds: Vec<f64>,
    /// The vote modes' fixed alert share (`None` for the mean, whose threshold is fitted).
    pub alert_threshold: Option<f64>,
    /// The members, in the combination's order.
    pub members: Vec<EnsembleMember>,
}

/// One member of an ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleMember {
    /// The member family's fitted models and calibration.
    pub member: Member,
    /// Series key → the normaliser of this member's (calibrated) scores.
    pub normalisers: BTreeMap<String, Normaliser>,
}

/// A series scored through a version.
#[derive(Debug, Clone, PartialEq)]
pub struct StateScores {
    /// One score per row, on the version's threshold scale.
    pub values: Vec<f64>,
    /// Leading rows whose scores lack history (the largest warm-up of the models used).
    pub warm_up: usize,
    /// Whether every model the score needs was fitted for this series (false: a member that
    /// failed to fit in the run contributes 0, as in the run).
    pub complete: bool,
}

impl Member {
    /// Raw scores of `series` by the model of `key`, calibrated as the run calibrated them.
    fn score(&self, key: &str, series: &Series) -> Result<StateScores> {
        let Some(model) = self.models.get(key) else {
            return Ok(StateScores {
                values: vec![0.0; series.len()],
                warm_up: 0,
                complete: false,
            });
        };
        let scores = model.score(series).map_err(|e| ExperimentError::Detector {
            family: format!("{} on {key}", model.kind()),
            source: Box::new(e),
        })?;
        let mut values = scores.values;
        if let Some(c) = self.calibration.get(key) {
            values.iter_mut().for_each(|v| *v = c.apply(*v));
        }
        Ok(StateScores {
            values,
            warm_up: scores.warm_up,
            complete: true,
        })
    }

    /// Fits this family with the version's parameters on `train` (a new series' first rows)
    /// and registers the model and calibration under `key`.
    fn fit_new(
        &mut self,
        key: &str,
        series: &Series,
        train_rows: usize,
        calibrate: Option<Normalise>,
    ) -> Result<Vec<f64>> {
        let model = self
            .detector
            .fit(&series.slice_rows(0, train_rows))
            .map_err(|e| ExperimentError::Detector {
                family: format!(
                    "{} fitted on the first {train_rows} rows of {key}",
                    self.detector.kind()
                ),
                source: Box::new(e),
            })?;
        self.models.insert(key.to_string(), model);
        self.calibration.remove(key);
        let mut scores = self.score(key, series)?.values;
        if let Some(kind) = calibrate {
            let cal = Normaliser::fit(kind, &scores[..train_rows]);
            scores.iter_mut().for_each(|v| *v = cal.apply(*v));
            self.calibration.insert(key.to_string(), cal);
        }
        Ok(scores)
    }
}

impl VersionState {
    /// The series `key`, if the version was trained on it.
    pub fn series(&self, key: &str) -> Option<&SeriesState> {
        self.series.iter().find(|s| s.key == key)
    }

    /// Whether every score is causal (row t uses rows ≤ t only).
    pub fn causal(&self) -> bool {
        self.members().iter().all(|m| m.detector.kind().causal())
    }

    /// The families the version uses, in member order.
    pub fn members(&self) -> Vec<&Member> {
        match &self.model {
            ModelState::Single(m) => vec![m],
            ModelState::Ensemble(e) => e.members.iter().map(|m| &m.member).collect(),
        }
    }

    /// Scores every row of `series` as the version's series `key`: each model scores the
    /// whole series from its first row (causal families warm up on the series' own first
    /// rows), the run's calibration is applied, and an ensemble normalises and combines its
    /// members. The result is on the scale of [`SeriesState::threshold`].
    pub fn score(&self, key: &str, series: &Series) -> Result<StateScores> {
        match &self.model {
            ModelState::Single(m) => m.score(key, series),
            ModelState::Ensemble(e) => {
                let mut normalised = Vec::with_capacity(e.members.len());
                let (mut warm_up, mut complete) = (0, true);
                for member in &e.members {
                    let s = member.member.score(key, series)?;
                    warm_up = warm_up.max(s.warm_up);
                    complete &= s.complete;
                    let values = match member.normalisers.get(key) {
                        Some(n) => s.values.iter().map(|&v| n.apply(v)).collect(),
                        None => {
                            complete = false;
                            s.values
                        }
                    };
                    normalised.push(values);
                }
                Ok(StateScores {
                    values: combine(e.mode, &normalised, &e.weights, &e.vote_thresholds),
                    warm_up,
                    complete,
                })
            }
        }
    }

    /// The threshold a series the version was not trained on gets: the shared one when the
    /// scope shares thresholds, the median of the series' thresholds on a calibrated (or
    /// normalised-ensemble) scale, which means the same on every series; `None` when the
    /// thresholds are per series on raw scores and so do not transfer.
    pub fn transferable_threshold(&self) -> Option<f64> {
        let mut t: Vec<f64> = self
            .series
            .iter()
            .map(|s| s.threshold)
            .filter(|v| v.is_finite())
            .collect();
        if t.is_empty() {
            return None;
        }
        t.sort_by(f64::total_cmp);
        let comparable = self.threshold_scope != ThresholdScope::Series
            || self.calibrate.is_some()
            || matches!(&self.model, ModelState::Ensemble(e)
                if e.alert_threshold.is_some() || e.normalise != Normalise::None);
        comparable.then(|| t[t.len() / 2])
    }

    /// Adds `series` as a new series `key` of the version: every family is fitted with the
    /// version's parameters on the series' first `train_rows` rows (calibration and an
    /// ensemble's normalisers on those rows' scores), and the threshold is
    /// [`VersionState::transferable_threshold`].
    pub fn fit_new(
        &mut self,
        dataset: &str,
        key: &str,
        series: &Series,
        train_rows: usize,
    ) -> Result<()> {
        let refuse = |message: String, hint: &str| ExperimentError::Selection {
            dataset: dataset.to_string(),
            message,
            hint: hint.to_string(),
        };
        if train_rows < 2 || train_rows > series.len() {
            return Err(refuse(
                format!(
                    "series {key} has {} rows; fitting a new series on its first {train_rows} \
                     rows is not possible",
                    series.len()
                ),
                "pass --fit-rows N with 2 <= N <= the series' rows",
            ));
        }
        let threshold = self.transferable_threshold().ok_or_else(|| {
            refuse(
                format!(
                    "the version's thresholds ({}) are fitted per series on raw scores, so \
                     none carries over to the new series {key}",
                    self.threshold_policy
                ),
                "train with `calibrate = \"robust_z\"` or a pooled/corpus threshold scope, or \
                 add the series to the experiment and run it",
            )
        })?;
        let calibrate = self.calibrate;
        match &mut self.model {
            ModelState::Single(m) => {
                m.fit_new(key, series, train_rows, calibrate)?;
            }
            ModelState::Ensemble(e) => {
                let normalise = e.normalise;
                for member in &mut e.members {
                    let scores = member.member.fit_new(key, series, train_rows, calibrate)?;
                    member.normalisers.insert(
                        key.to_string(),
                        Normaliser::fit(normalise, &scores[..train_rows]),
                    );
                }
            }
        }
        self.series.retain(|s| s.key != key);
        self.series.push(SeriesState {
            key: key.to_string(),
            dataset: dataset.to_string(),
            name: series.name.clone(),
            columns: series.columns.clone(),
            train_rows,
            threshold,
        });
        Ok(())
    }

    /// Reads the state of `version` from `registry`, in the current format or the one
    /// registered before it.
    pub fn load(registry: &Registry, version: &ModelVersion) -> Result<VersionState> {
        let what = format!("{}@{}", version.model, version.version);
        let read = |name: &str| -> Result<Option<Vec<u8>>> {
            match version.artifacts.iter().find(|a| a.name == name) {
                Some(a) => Ok(Some(registry.read_artifact(&a.artifact.sha256)?)),
                None => Ok(None),
            }
        };
        let bytes =
            read(&version.state_artifact)?.ok_or_else(|| ExperimentError::NothingToChoose {
                message: format!("{what} has no {} artifact", version.state_artifact),
                hint: "register versions with `vigil run`".into(),
            })?;
        let calibration = read("calibration.json")?;
        let mut state = Self::from_bytes(version, &bytes, calibration.as_deref())?;
        if state.legacy.is_some() {
            legacy_member_calibration(registry, version, &mut state)?;
        }
        Ok(state)
    }

    /// Parses a version's state artifact (`calibration`: the legacy `calibration.json`).
    pub fn from_bytes(
        version: &ModelVersion,
        bytes: &[u8],
        calibration: Option<&[u8]>,
    ) -> Result<VersionState> {
        let what = format!("{}@{}", version.model, version.version);
        let bad = |message: String| ExperimentError::NothingToChoose {
            message: format!("{what}: {}: {message}", version.state_artifact),
            hint: "versions are written by `vigil run`; re-run the experiment to register a \
                   new one"
                .into(),
        };
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
        match value.get("format").and_then(Value::as_str) {
            Some(STATE_FORMAT) => {
                serde_json::from_value(value).map_err(|e| bad(format!("does not parse: {e}")))
            }
            Some(other) if other.starts_with("vigil-state/") => {
                Err(ExperimentError::NothingToChoose {
                    message: format!(
                        "{what} was registered in state format {other}; this vigil reads \
                     {STATE_FORMAT} and the unversioned format before it"
                    ),
                    hint: "use the vigil release that registered it, or a newer one".into(),
                })
            }
            _ => legacy(version, value, calibration).map_err(bad),
        }
    }
}

/// What the legacy reader says of an old ensemble until its members' calibration is found.
const MEMBER_CALIBRATION_NOTE: &str = "an ensemble's member calibration (the spec's \
    `calibrate`) was not recorded with it and its members' family versions of the same run \
    were not found: its members' scores are taken as uncalibrated";

/// An old ensemble did not store its members' calibration, but the same run registered each
/// member family as `MODEL.FAMILY` with its `calibration.json` (or none, uncalibrated): found
/// by the run's invocation in their descriptions.
fn legacy_member_calibration(
    registry: &Registry,
    version: &ModelVersion,
    state: &mut VersionState,
) -> Result<()> {
    let ModelState::Ensemble(e) = &mut state.model else {
        return Ok(());
    };
    let Some(invocation) = version
        .description
        .split_once("(invocation ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inv, _)| format!("(invocation {inv})"))
    else {
        return Ok(());
    };
    #[derive(Deserialize)]
    struct LegacyCalibration {
        series: BTreeMap<String, Normaliser>,
    }
    let mut found = Vec::new();
    for m in &e.members {
        let model = format!("{}.{}", version.model, m.member.detector.kind().name());
        let sibling = registry
            .versions(&model)
            .unwrap_or_default()
            .into_iter()
            .find(|v| v.description.contains(&invocation));
        let Some(sibling) = sibling else {
            return Ok(());
        };
        let calibration = match sibling
            .artifacts
            .iter()
            .find(|a| a.name == "calibration.json")
        {
            None => BTreeMap::new(),
            Some(a) => {
                let bytes = registry.read_artifact(&a.artifact.sha256)?;
                serde_json::from_slice::<LegacyCalibration>(&bytes)
                    .map_err(|err| ExperimentError::NothingToChoose {
                        message: format!(
                            "{}@{}: calibration.json does not parse: {err}",
                            sibling.model, sibling.version
                        ),
                        hint: "re-run the experiment to register a new version".into(),
                    })?
                    .series
            }
        };
        found.push(calibration);
    }
    for (m, calibration) in e.members.iter_mut().zip(found) {
        m.member.calibration = calibration;
    }
    if let Some(notes) = &mut state.legacy {
        *notes = notes
            .split("; ")
            .filter(|n| *n != MEMBER_CALIBRATION_NOTE)
            .collect::<Vec<_>>()
            .join("; ");
    }
    Ok(())
}

/// Reads a version registered before [`STATE_FORMAT`].
fn legacy(
    version: &ModelVersion,
    value: Value,
    calibration: Option<&[u8]>,
) -> std::result::Result<VersionState, String> {
    #[derive(Deserialize)]
    struct LegacyCalibration {
        calibrate: crate::spec::Calibration,
        series: BTreeMap<String, Normaliser>,
    }
    let calibration: Option<LegacyCalibration> = calibration
        .map(serde_json::from_slice)
        .transpose()
        .map_err(|e| format!("calibration.json does not parse: {e}"))?;
    let alert: AlertPolicy = if version.alert_policy.is_null() {
        AlertPolicy::default()
    } else {
        serde_json::from_value(version.alert_policy.clone())
            .map_err(|e| format!("the version's alert policy does not parse: {e}"))?
    };
    let scope = if version.description.contains("threshold scope Series") {
        ThresholdScope::Series
    } else if version.description.contains("threshold scope Pooled") {
        ThresholdScope::Pooled
    } else {
        ThresholdScope::Corpus
    };
    let policy = version
        .description
        .split_once(", policy ")
        .map(|(_, p)| {
            p.split(" on calibrated")
                .next()
                .unwrap_or(p)
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| "unknown".into());
    let (entry, model, keys) = if value.get("members").is_some() && value.get("mode").is_some() {
        let members: Vec<DetectorSpec> = serde_json::from_value(value["members"].clone())
            .map_err(|e| format!("its ensemble `members` do not parse: {e}"))?;
        let fitted: Vec<BTreeMap<String, FittedModel>> =
            serde_json::from_value(value["fitted"].clone())
                .map_err(|e| format!("its ensemble's `fitted` states do not parse: {e}"))?;
        let normalisers: Vec<Vec<Normaliser>> =
            serde_json::from_value(value["normalisers"].clone())
                .map_err(|e| format!("its ensemble's `normalisers` do not parse: {e}"))?;
        if members.len() < 2 || fitted.len() != members.len() || normalisers.len() != members.len()
        {
            return Err(format!(
                "{} ensemble members, {} fitted states and {} normaliser lists do not line up",
                members.len(),
                fitted.len(),
                normalisers.len()
            ));
        }
        // The normalisers were stored by position in the run's series order, which is each
        // dataset's series sorted by name: recoverable for one dataset whose members fitted
        // every series, and refused otherwise rather than guessed.
        let keys: Vec<String> = fitted[0].keys().cloned().collect();
        let datasets: std::collections::BTreeSet<&str> = keys
            .iter()
            .map(|k| k.split_once('/').map_or(k.as_str(), |(d, _)| d))
            .collect();
        if !fitted.iter().all(|m| m.keys().eq(keys.iter()))
            || !normalisers.iter().all(|n| n.len() == keys.len())
            || datasets.len() != 1
        {
            return Err(
                "its per-series normalisers are stored by position, and the series \
                        order can only be recovered for one dataset whose members fitted \
                        every series"
                    .into(),
            );
        }
        let rule = |field: &str| value[field].clone();
        let mode: EnsembleMode = serde_json::from_value(rule("mode"))
            .map_err(|e| format!("its ensemble `mode` does not parse: {e}"))?;
        let state = EnsembleState {
            mode,
            normalise: serde_json::from_value(rule("normalise")).map_err(|e| e.to_string())?,
            weights: serde_json::from_value(rule("weights")).map_err(|e| e.to_string())?,
            vote_thresholds: serde_json::from_value(rule("vote_thresholds"))
                .map_err(|e| e.to_string())?,
            alert_threshold: serde_json::from_value(rule("alert_threshold"))
                .map_err(|e| e.to_string())?,
            members: members
                .into_iter()
                .zip(fitted)
                .zip(normalisers)
                .map(|((detector, models), normalisers)| EnsembleMember {
                    member: Member {
                        detector,
                        models,
                        calibration: BTreeMap::new(),
                    },
                    normalisers: keys.iter().cloned().zip(normalisers).collect(),
                })
                .collect(),
        };
        let entry = format!(
            "ensemble_{}",
            serde_json::to_value(mode)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        );
        (entry, ModelState::Ensemble(state), keys)
    } else {
        let models: BTreeMap<String, FittedModel> = serde_json::from_value(value)
            .map_err(|e| format!("not a map of series key -> fitted model: {e}"))?;
        let detector: DetectorSpec = serde_json::from_value(version.spec.clone())
            .map_err(|e| format!("the version's detector spec does not parse: {e}"))?;
        let keys: Vec<String> = models.keys().cloned().collect();
        let member = Member {
            detector,
            models,
            calibration: calibration
                .as_ref()
                .map(|c| c.series.clone())
                .unwrap_or_default(),
        };
        (
            member.detector.kind().name().to_string(),
            ModelState::Single(member),
            keys,
        )
    };
    let mut notes = vec![
        "registered before vigil-state/2: the series' columns and training rows were not \
         recorded (no channel-name check, no --fit-new)"
            .to_string(),
    ];
    if matches!(model, ModelState::Ensemble(_)) {
        notes.push(MEMBER_CALIBRATION_NOTE.to_string());
    }
    if scope == ThresholdScope::Series {
        notes.push(format!(
            "its per-series thresholds were not recorded: every series uses the version's \
             threshold {} (the mean of the per-series ones)",
            version.threshold
        ));
    }
    Ok(VersionState {
        format: STATE_FORMAT.into(),
        entry,
        threshold_policy: policy,
        threshold_scope: scope,
        calibrate: calibration.as_ref().and_then(|c| c.calibrate.normalise()),
        alert,
        early_ms: 0,
        series: keys
            .iter()
            .map(|key| {
                let (dataset, name) = key.split_once('/').unwrap_or(("", key));
                SeriesState {
                    key: key.clone(),
                    dataset: dataset.into(),
                    name: name.into(),
                    columns: Vec::new(),
                    train_rows: 0,
                    threshold: version.threshold,
                }
            })
            .collect(),
        model,
        legacy: Some(notes.join("; ")),
    })
}

/// A threshold as JSON: a number, or `null` for a non-finite one (JSON has no NaN), read back
/// as NaN (no score reaches it).
mod finite_or_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ndarray::Array2;

    /// 600 hourly rows: a daily sine with noise-free spikes at rows 450 and 520.
    pub(crate) fn series(name: &str) -> Series {
        let n = 600;
        let values: Vec<f64> = (0..n)
            .map(|t| {
                let base = 10.0 + (t as f64 * std::f64::consts::TAU / 24.0).sin();
                if t == 450 || t == 520 {
                    base + 9.0
                } else {
                    base + 0.1 * ((t * 7919) % 13) as f64
                }
            })
            .collect();
        Series::new(
            name,
            (0..n as i64).map(|t| t * 3_600_000).collect(),
            vec!["value".into()],
            Array2::from_shape_vec((n, 1), values).expect("shape"),
        )
    }

    fn detector(json: Value) -> DetectorSpec {
        serde_json::from_value(json).expect("detector spec")
    }

    fn member(spec: DetectorSpec, key: &str, s: &Series, calibrate: Option<Normalise>) -> Member {
        let mut m = Member {
            detector: spec,
            models: BTreeMap::new(),
            calibration: BTreeMap::new(),
        };
        m.fit_new(key, s, 240, calibrate).expect("fit");
        m
    }

    pub(crate) fn single(threshold: f64) -> (VersionState, Series) {
        let s = series("a");
        let m = member(
            detector(serde_json::json!({"kind": "rolling_zscore", "window": 24})),
            "d/a",
            &s,
            Some(Normalise::RobustZ),
        );
        let state = VersionState {
            format: STATE_FORMAT.into(),
            entry: "rolling_zscore".into(),
            threshold_policy: "best:nab".into(),
            threshold_scope: ThresholdScope::Series,
            calibrate: Some(Normalise::RobustZ),
            alert: AlertPolicy::default(),
            early_ms: 0,
            series: vec![SeriesState {
                key: "d/a".into(),
                dataset: "d".into(),
                name: "a".into(),
                columns: vec!["value".into()],
                train_rows: 240,
                threshold,
            }],
            model: ModelState::Single(m),
            legacy: None,
        };
        (state, s)
    }

    fn version(state_artifact: &str, spec: Value, description: &str) -> ModelVersion {
        ModelVersion {
            model: "m".into(),
            version: 1,
            run_id: None,
            spec,
            state_artifact: state_artifact.into(),
            artifacts: Vec::new(),
            threshold: 2.5,
            alert_policy: serde_json::json!({"min_consecutive": 1, "cooldown_ms": 0, "merge_gap_ms": 0, "severity": null}),
            metrics: BTreeMap::new(),
            datasets: Vec::new(),
            description: description.into(),
            created_by: "test".into(),
            created_at_ms: 0,
            aliases: Vec::new(),
        }
    }

    #[test]
    fn a_single_family_scores_as_its_model_then_its_calibration() {
        let (state, s) = single(3.0);
        let ModelState::Single(m) = &state.model else {
            unreachable!()
        };
        let raw = m.models["d/a"].score(&s).expect("score");
        let cal = &m.calibration["d/a"];
        let scored = state.score("d/a", &s).expect("score");
        assert!(scored.complete);
        assert_eq!(scored.warm_up, raw.warm_up);
        let expected: Vec<f64> = raw.values.iter().map(|&v| cal.apply(v)).collect();
        assert_eq!(scored.values, expected);
        // The spikes stand out on the calibrated scale.
        assert!(scored.values[450] > 3.0 && scored.values[520] > 3.0);
        // A series without a model (its fit failed in the run) scores 0, flagged.
        let silent = state.score("d/other", &s).expect("score");
        assert!(!silent.complete && silent.values.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn the_state_round_trips_through_json_with_a_missing_threshold_as_null() {
        let (state, _) = single(f64::NAN);
        let bytes = serde_json::to_vec(&state).expect("json");
        let text = String::from_utf8(bytes.clone()).expect("utf-8");
        assert!(text.contains("\"threshold\":null"), "{text}");
        assert!(text.contains("\"format\":\"vigil-state/2\""));
        let back =
            VersionState::from_bytes(&version(STATE_ARTIFACT, Value::Null, ""), &bytes, None)
                .expect("parse");
        assert!(back.series[0].threshold.is_nan());
        let (mut state, _) = single(2.0);
        let back = VersionState::from_bytes(
            &version(STATE_ARTIFACT, Value::Null, ""),
            &serde_json::to_vec(&state).expect("json"),
            None,
        )
        .expect("parse");
        assert_eq!(back, state);
        // A newer format is refused by name, not misread.
        state.format = "vigil-state/9".into();
        let err = VersionState::from_bytes(
            &version(STATE_ARTIFACT, Value::Null, ""),
            &serde_json::to_vec(&state).expect("json"),
            None,
        )
        .expect_err("newer format");
        assert!(err.to_string().contains("vigil-state/9"), "{err}");
    }

    #[test]
    fn an_ensemble_normalises_and_combines_its_members_like_the_runner() {
        let s = series("a");
        let members: Vec<EnsembleMember> = [
            serde_json::json!({"kind": "rolling_zscore", "window": 24}),
            serde_json::json!({"kind": "ewma"}),
        ]
        .into_iter()
        .map(|j| {
            let m = member(detector(j), "d/a", &s, None);
            let train = m.score("d/a", &s).expect("score").values;
            EnsembleMember {
                normalisers: [(
                    "d/a".to_string(),
                    Normaliser::fit(Normalise::RobustZ, &train[..240]),
                )]
                .into(),
                member: m,
            }
        })
        .collect();
        let expected_members: Vec<Vec<f64>> = members
            .iter()
            .map(|m| {
                let raw = m.member.models["d/a"].score(&s).expect("score").values;
                raw.iter().map(|&v| m.normalisers["d/a"].apply(v)).collect()
            })
            .collect();
        let weights = vec![0.7, 0.3];
        let state = VersionState {
            model: ModelState::Ensemble(EnsembleState {
                mode: EnsembleMode::Mean,
                normalise: Normalise::RobustZ,
                weights: weights.clone(),
                vote_thresholds: vec![3.0, 3.0],
                alert_threshold: None,
                members,
            }),
            entry: "ensemble_mean".into(),
            ..single(2.0).0
        };
        let scored = state.score("d/a", &s).expect("score");
        assert_eq!(
            scored.values,
            combine(EnsembleMode::Mean, &expected_members, &weights, &[3.0, 3.0])
        );
        assert!(state.causal());
    }

    #[test]
    fn a_new_series_is_fitted_on_its_own_first_rows_with_a_transferable_threshold() {
        let (mut state, _) = single(3.0);
        let b = series("b");
        state.fit_new("d", "d/b", &b, 200).expect("fit new");
        let added = state.series("d/b").expect("added");
        assert_eq!((added.train_rows, added.threshold), (200, 3.0));
        let scored = state.score("d/b", &b).expect("score");
        assert!(scored.complete && scored.values[450] > 3.0);
        // Raw per-series thresholds do not carry over: refused with the reason.
        let (mut raw, _) = single(3.0);
        raw.calibrate = None;
        let err = raw
            .fit_new("d", "d/b", &b, 200)
            .expect_err("no transferable threshold");
        assert!(err.to_string().contains("raw scores"), "{err}");
        assert!(raw.fit_new("d", "d/b", &b, 1).is_err());
    }

    #[test]
    fn a_version_registered_before_the_typed_state_still_loads() {
        let (state, s) = single(3.0);
        let ModelState::Single(m) = &state.model else {
            unreachable!()
        };
        let bare = serde_json::to_vec(&m.models).expect("json");
        let calibration = serde_json::to_vec(&serde_json::json!({
            "calibrate": "robust_z",
            "series": m.calibration,
        }))
        .expect("json");
        let v = version(
            "fitted.json",
            serde_json::to_value(&m.detector).expect("spec"),
            "rolling_zscore from experiment x (invocation i); threshold scope Series, policy \
             best:nab on calibrated scores (calibration.json)",
        );
        let old = VersionState::from_bytes(&v, &bare, Some(&calibration)).expect("legacy");
        assert_eq!(old.entry, "rolling_zscore");
        assert_eq!(old.threshold_policy, "best:nab");
        assert_eq!(old.threshold_scope, ThresholdScope::Series);
        assert_eq!(old.series[0].threshold, 2.5);
        let note = old.legacy.as_deref().expect("legacy note");
        assert!(
            note.contains("per-series thresholds were not recorded"),
            "{note}"
        );
        assert_eq!(
            old.score("d/a", &s).expect("score").values,
            state.score("d/a", &s).expect("score").values
        );
        assert!(VersionState::from_bytes(&v, b"[1, 2]", None).is_err());
    }
}
