//! Registration: the run's chosen entry as `MODEL` and every leaderboard entry as
//! `MODEL.ENTRY`, each with its typed state ([`VersionState`], `state.json`): the fitted
//! models, calibration, ensemble rule and per-series thresholds of what the leaderboard shows.

use vigil_registry::{DatasetUse, ExpectedAlias, NamedArtifact, NewVersion, Registry};

use super::{Ctx, EnsembleBuild, Entry, FamilyBest, Leaderboard, Traces};
use crate::error::{ExperimentError, Result};
use crate::metrics::MetricMap;
use crate::state::{
    EnsembleMember, EnsembleState, Member, ModelState, STATE_ARTIFACT, STATE_FORMAT, SeriesState,
    VersionState,
};

/// What registration reads from a finished run.
#[derive(Clone, Copy)]
pub(super) struct Registration<'a> {
    pub ctx: &'a Ctx<'a>,
    pub registry: &'a Registry,
    pub leaderboard: &'a Leaderboard,
    pub bests: &'a [&'a FamilyBest],
    pub ensembles: &'a [EnsembleBuild],
    pub traces: &'a Traces,
    pub datasets: &'a [DatasetUse],
    pub invocation: &'a str,
    /// Point the `challenger` alias at the chosen entry.
    pub promote: bool,
}

/// Registers the chosen entry and every entry; returns (model, version) in that order.
pub(super) fn register_versions(r: &Registration<'_>) -> Result<Vec<(String, i64)>> {
    // Register: the best overall (family or ensemble) as MODEL, then every entry as
    // MODEL.ENTRY, each as a typed version state (`state.json`) with per-series thresholds.
    let Registration {
        ctx,
        registry,
        leaderboard,
        bests,
        ensembles,
        traces,
        datasets,
        invocation,
        promote,
    } = *r;
    let spec = ctx.spec;
    let objective = spec.objective.metric;
    tracing::info!("registering the chosen models");
    let model = spec.model_name();
    let mut versions = Vec::new();
    let keys: Vec<String> = ctx.units.iter().map(|u| u.prepared.key()).collect();
    let member_of = |b: &FamilyBest| Member {
        detector: b.candidate.spec.clone(),
        models: keys
            .iter()
            .zip(&b.scored.models)
            .filter_map(|(k, m)| Some((k.clone(), m.clone()?)))
            .collect(),
        calibration: keys
            .iter()
            .zip(&b.scored.calibration)
            .filter_map(|(k, c)| Some((k.clone(), c.clone()?)))
            .collect(),
    };
    let state_of = |entry: &Entry| -> Result<VersionState> {
        let missing = |what: &str| ExperimentError::NothingToChoose {
            message: format!("registering {}: {what} is missing", entry.name),
            hint: "this is a bug in vigil; please report it with the spec".into(),
        };
        let model = match bests.iter().find(|b| b.kind.name() == entry.name) {
            Some(b) => ModelState::Single(member_of(b)),
            None => {
                let e = ensembles
                    .iter()
                    .find(|e| e.name() == entry.name)
                    .ok_or_else(|| missing("the entry's fitted models"))?;
                let members = e
                    .members
                    .iter()
                    .zip(&e.normalisers)
                    .map(|(kind, normalisers)| {
                        let b = bests
                            .iter()
                            .find(|b| b.kind == *kind)
                            .ok_or_else(|| missing("an ensemble member's family"))?;
                        Ok(EnsembleMember {
                            member: member_of(b),
                            normalisers: keys.iter().cloned().zip(normalisers.clone()).collect(),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                ModelState::Ensemble(EnsembleState {
                    mode: e.mode,
                    normalise: e.normalise,
                    weights: e.weights.clone(),
                    vote_thresholds: e.votes.clone(),
                    alert_threshold: e.fixed,
                    members,
                })
            }
        };
        let thresholds = &traces
            .get(&entry.name)
            .ok_or_else(|| missing("the entry's thresholds"))?
            .thresholds;
        Ok(VersionState {
            format: STATE_FORMAT.into(),
            entry: entry.name.clone(),
            threshold_policy: entry.threshold_policy.clone(),
            threshold_scope: spec.threshold_scope,
            calibrate: ctx.calibration(),
            alert: spec.alert.clone(),
            early_ms: spec.early_seconds * 1000,
            series: ctx
                .units
                .iter()
                .zip(&keys)
                .enumerate()
                .map(|(i, (u, key))| SeriesState {
                    key: key.clone(),
                    dataset: u.prepared.dataset.clone(),
                    name: u.prepared.series.name.clone(),
                    columns: u.prepared.series.columns.clone(),
                    train_rows: u.prepared.split.train.len(),
                    threshold: thresholds.get(i).copied().unwrap_or(f64::NAN),
                })
                .collect(),
            model,
            legacy: None,
        })
    };
    let register = |name: &str, entry: &Entry| -> Result<(String, i64)> {
        let state = state_of(entry)?;
        let bytes = serde_json::to_vec(&state).map_err(|e| ExperimentError::NothingToChoose {
            message: format!("serialising the state of {}: {e}", entry.name),
            hint: "a fitted model holds a value JSON cannot represent; run with -v and report it"
                .into(),
        })?;
        let artifacts = vec![NamedArtifact {
            name: STATE_ARTIFACT.into(),
            artifact: registry.put_artifact(&bytes, "application/json")?,
        }];
        let mut metrics = MetricMap::new();
        for (dataset, map) in &entry.test {
            for (k, v) in map {
                let key = if leaderboard.datasets.len() == 1 {
                    k.clone()
                } else {
                    format!("{dataset}.{k}")
                };
                metrics.insert(key, *v);
            }
        }
        metrics.insert(format!("validation_{}", objective.name()), entry.validation);
        // The cross-validated estimates: this entry's own, and (for the best overall) the
        // whole procedure's, which is what the model card quotes.
        if let Some(cv) = &entry.cv {
            for (k, v) in &cv.metrics {
                metrics.insert(format!("cv_{k}"), *v);
            }
        }
        if let Some(summary) = leaderboard.cv.as_ref().filter(|c| c.chosen == entry.name) {
            for (k, v) in &summary.procedure.metrics {
                metrics.insert(format!("cv_procedure_{k}"), *v);
            }
        }
        // The version row's one threshold, for listings: the dataset's (under the series
        // scope the mean of the per-series thresholds, each series' own is in the state).
        let threshold = metrics
            .get("threshold")
            .or_else(|| {
                metrics
                    .iter()
                    .find(|(k, v)| k.ends_with(".threshold") && v.is_finite())
                    .map(|(_, v)| v)
            })
            .copied()
            .filter(|v| v.is_finite())
            .unwrap_or(0.0);
        let version = registry.register_version(&NewVersion {
            model: name.to_string(),
            run_id: None,
            spec: entry.params.clone(),
            state_artifact: STATE_ARTIFACT.into(),
            artifacts,
            threshold,
            alert_policy: serde_json::to_value(&spec.alert).unwrap_or_default(),
            metrics,
            datasets: datasets.to_vec(),
            description: format!(
                "{} from experiment {} (invocation {invocation}); threshold scope {:?}, policy \
                 {}{}",
                entry.name,
                spec.name,
                spec.threshold_scope,
                entry.threshold_policy,
                if state.calibrate.is_some() {
                    " on calibrated scores"
                } else {
                    ""
                }
            ),
            created_by: format!("vigil run {}", spec.name),
        })?;
        Ok((name.to_string(), version))
    };
    if let Some(best) = leaderboard.best() {
        let v = register(&model, best)?;
        if promote {
            registry.move_alias(
                &v.0,
                "challenger",
                v.1,
                ExpectedAlias::Anything,
                &format!("vigil run {}", spec.name),
                &format!(
                    "best {} on validation: {} = {:.4}",
                    best.name, objective, best.validation
                ),
            )?;
        }
        versions.push(v);
    } else {
        tracing::warn!("no entry meets the constraints on validation; no best model is registered");
    }
    // Every entry, ensembles included, as MODEL.ENTRY: any of them can be scored, exported
    // or promoted later.
    for e in &leaderboard.entries {
        versions.push(register(&format!("{model}.{}", e.name), e)?);
    }
    Ok(versions)
}
