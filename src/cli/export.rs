//! `vigil export MODEL@ALIAS|MODEL@VERSION --out DIR`: a registered version as ONNX, for the
//! runtime services that load models with ONNX Runtime.
//!
//! A version registered by `vigil run` holds one fitted model per series and its threshold
//! (its [`VersionState`]). The export writes every series by default, because a runtime service
//! scores every series the version was trained for and the models differ (own scaling, own
//! trees); `--series KEY` picks one. The layout:
//! - one series (a one-series version, or `--series`): `DIR/model.onnx`, `DIR/spec.json`;
//! - several: `DIR/<series>/model.onnx` and `DIR/<series>/spec.json`, the directory name made
//!   file-safe (the real key is in each `spec.json` and in the manifest);
//! - an ensemble version: the members' graphs instead of `model.onnx`
//!   (`member-<i>-<family>.onnx`), and the combination rule with each member's normaliser for
//!   that series in `spec.json` (members plus rule: the members take different input windows,
//!   and some carry state, so one graph would not serve them all);
//! - always `DIR/manifest.json`: sha256 and size of every file, vigil's version, the source
//!   model/version/aliases and the dataset fingerprints.
//!
//! All of it is written into a temporary directory beside DIR and renamed into place at the
//! end, so DIR is either absent, complete, or (when it existed empty before) untouched. The
//! graphs and the specs are also attached to the version in the registry (the file's path in
//! DIR with `/` replaced by `.`, and `onnx-spec.json` for `spec.json`), unless `--no-store`.
//! A family that has no ONNX form stops the export with exit 2, the reason and a hint, before
//! anything is written.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Value, json};
use vigil_experiments::ensemble::Normaliser;
use vigil_experiments::spec::EnsembleMode;
use vigil_experiments::state::{EnsembleState, ModelState, VersionState};
use vigil_export::{ExportError, ExportOptions, OnnxModel, Rule, Scale};
use vigil_registry::{DEFAULT_DB_URL, ModelRef, ModelVersion, NamedArtifact, Registry, sha256_hex};
use vigil_train::FittedModel;

use super::version::{
    Refusal, check_out_dir, move_into_place, open_version, refuse, temp_dir_beside,
};
use super::{EXIT_ERROR, EXIT_OK};

/// The `spec.json` format, bumped on incompatible changes.
pub const SPEC_FORMAT: &str = "vigil-onnx-spec/1";
/// The export manifest format.
pub const MANIFEST_FORMAT: &str = "vigil-onnx-export/1";

/// `vigil export …`
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The version to export: MODEL@ALIAS, MODEL@VERSION or MODEL (newest version).
    pub reference: String,
    /// Output directory; must not exist or be empty.
    #[arg(long)]
    pub out: PathBuf,
    /// Export only this series of the version (default: every series it holds).
    #[arg(long)]
    pub series: Option<String>,
    /// Do not attach the ONNX artifacts to the version in the registry.
    #[arg(long)]
    pub no_store: bool,
    /// Registry database: sqlite://PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long = "registry", visible_alias = "db", env = "VIGIL_DB", default_value = DEFAULT_DB_URL)]
    pub db: String,
    /// Artifact directory (default: `<db stem>-artifacts` beside a SQLite file).
    #[arg(long, env = "VIGIL_ARTIFACTS")]
    pub artifacts: Option<PathBuf>,
    /// Print the manifest as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One exported series, in memory until everything has exported.
struct Exported {
    key: String,
    /// Sub-directory (None: flat in DIR).
    dir: Option<String>,
    /// `single_family` or `ensemble`.
    family: String,
    /// File name → graph: `model.onnx`, or the ensemble's `member-<i>-<family>.onnx`.
    graphs: Vec<(String, OnnxModel)>,
    spec: Value,
}

/// Why a model cannot be exported, as the user sees it.
fn unsupported(version: &ModelVersion, key: &str, e: ExportError) -> Refusal {
    match e {
        ExportError::Unsupported { family, reason } => refuse(
            format!(
                "{}@{} series {key:?}: {family} cannot be exported to ONNX: {reason}",
                version.model, version.version
            ),
            "export a version of a family that maps to ONNX (export/README.md lists them and \
             why the others do not), e.g. MODEL.FAMILY@1 as registered by `vigil run`",
        ),
        other => refuse(
            format!(
                "{}@{} series {key:?}: {other}",
                version.model, version.version
            ),
            "check the version's threshold and fitted state",
        ),
    }
}

/// Runs the verb.
pub fn run(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    match export(args) {
        Ok(Ok(manifest)) => {
            let mut out = std::io::stdout().lock();
            if args.json {
                serde_json::to_writer_pretty(&mut out, &manifest)?;
                writeln!(out)?;
            } else {
                let files = manifest["files"].as_array().map_or(0, Vec::len);
                writeln!(
                    out,
                    "exported {}@{} ({} series, {files} files) to {}",
                    manifest["source"]["model"].as_str().unwrap_or_default(),
                    manifest["source"]["version"],
                    manifest["series"].as_array().map_or(0, Vec::len),
                    args.out.display()
                )?;
            }
            Ok(ExitCode::from(EXIT_OK))
        }
        Ok(Err(refusal)) => {
            eprintln!("error: {}\nhint: {}", refusal.message, refusal.hint);
            Ok(ExitCode::from(EXIT_ERROR))
        }
        Err(e) => Err(e),
    }
}

fn export(args: &ExportArgs) -> anyhow::Result<Result<Value, Refusal>> {
    if let Some(refusal) = check_out_dir(&args.out) {
        return Ok(Err(refusal));
    }
    let (registry, reference, version, state) =
        match open_version(&args.db, args.artifacts.as_deref(), &args.reference)? {
            Ok(opened) => opened,
            Err(refusal) => return Ok(Err(refusal)),
        };
    // The series every model of the version was fitted on (a series the run could not fit
    // scored silent and has nothing to export).
    let all_keys: Vec<String> = state
        .series
        .iter()
        .filter(|s| {
            state
                .members()
                .iter()
                .all(|m| m.models.contains_key(&s.key))
        })
        .map(|s| s.key.clone())
        .collect();
    let selected: Vec<String> = match &args.series {
        Some(key) if all_keys.contains(key) => vec![key.clone()],
        Some(key) => {
            return Ok(Err(refuse(
                format!(
                    "{}@{} has no series {key:?}",
                    version.model, version.version
                ),
                format!("pick one of: {}", all_keys.join(", ")),
            )));
        }
        None => all_keys.clone(),
    };
    let fingerprints: Vec<String> = {
        let mut f: Vec<String> = version
            .datasets
            .iter()
            .map(|d| d.fingerprint.clone())
            .collect();
        f.sort();
        f.dedup();
        f
    };
    let fingerprint = (!fingerprints.is_empty()).then(|| fingerprints.join(","));
    let flat = selected.len() == 1;
    let mut exported = Vec::with_capacity(selected.len());
    let mut used_dirs = BTreeMap::new();
    for key in &selected {
        let dir = if flat {
            None
        } else {
            let mut name = safe_name(key);
            let n = used_dirs.entry(name.clone()).or_insert(0usize);
            *n += 1;
            if *n > 1 {
                name = format!("{name}-{n}");
            }
            Some(name)
        };
        let series = state
            .series(key)
            .expect("selected keys come from the state");
        let one = match &state.model {
            ModelState::Single(member) => {
                let model = &member.models[key];
                let calibration = member.calibration.get(key);
                // A conformal calibration is a step function of the training scores: the
                // graph carries them and scores the calibrated value; a robust-z one is affine
                // and folds into the threshold on the raw score.
                let conformal = matches!(
                    calibration,
                    Some(Normaliser::Conformal { .. } | Normaliser::Rank { .. })
                );
                let threshold = if conformal {
                    series.threshold
                } else {
                    raw_threshold(calibration, series.threshold)
                };
                let options = ExportOptions {
                    threshold,
                    dataset_fingerprint: fingerprint.clone(),
                };
                let exported = if conformal {
                    let one = [vigil_export::Member {
                        model,
                        scales: calibration.map(scale_of).into_iter().collect(),
                        weight: 1.0,
                        vote: 0.0,
                    }];
                    vigil_export::export_ensemble(&one, Rule::Mean, &options)
                } else {
                    vigil_export::export(model, &options)
                };
                match exported {
                    Ok(onnx) => {
                        let mut spec = spec_json(&version, key, model, &onnx);
                        spec["threshold"] = json!(threshold);
                        if let Some(c) = calibration {
                            spec["calibration"] = json!(c);
                        }
                        if conformal {
                            spec["threshold_rule"] = json!(
                                "is_anomaly = score >= threshold; the graph's score is the \
                                 calibrated one (the share of training scores below the \
                                 family's raw score), as vigil thresholds it"
                            );
                        } else if calibration.is_some() {
                            spec["calibrated_threshold"] = json!(series.threshold);
                        }
                        Exported {
                            key: key.clone(),
                            dir,
                            family: onnx.family.clone(),
                            graphs: vec![("model.onnx".to_string(), onnx)],
                            spec,
                        }
                    }
                    Err(e) => return Ok(Err(unsupported(&version, key, e))),
                }
            }
            ModelState::Ensemble(ensemble) => {
                let options = ExportOptions {
                    threshold: series.threshold,
                    dataset_fingerprint: fingerprint.clone(),
                };
                match one_graph(ensemble, key, &options) {
                    Ok(onnx) => {
                        let spec = one_graph_spec(&version, &state, ensemble, key, &onnx);
                        Exported {
                            key: key.clone(),
                            dir,
                            family: "ensemble".to_string(),
                            graphs: vec![("model.onnx".to_string(), onnx)],
                            spec,
                        }
                    }
                    // A member that cannot share one graph (a streaming one): members plus
                    // rule, with the reason in spec.json.
                    Err(ExportError::Unsupported { family, reason }) if family == "ensemble" => {
                        tracing::warn!(
                            "{}@{} series {key:?}: one graph is not possible ({reason}); \
                             exporting members plus rule",
                            version.model,
                            version.version
                        );
                        match ensemble_series(&version, ensemble, key) {
                            Ok(graphs) => {
                                let mut spec =
                                    ensemble_spec(&version, &state, ensemble, key, &graphs);
                                spec["layout"] = json!("members_plus_rule");
                                spec["why_not_one_graph"] = json!(reason);
                                Exported {
                                    key: key.clone(),
                                    dir,
                                    family: "ensemble".to_string(),
                                    graphs,
                                    spec,
                                }
                            }
                            Err(refusal) => return Ok(Err(refusal)),
                        }
                    }
                    Err(e) => return Ok(Err(unsupported(&version, key, e))),
                }
            }
        };
        exported.push(one);
    }
    let temp = temp_dir_beside(&args.out)?;
    let written = write_all(&temp, &version, &reference, &fingerprints, &exported);
    let manifest = match written {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&temp);
            return Err(e);
        }
    };
    if !args.no_store
        && let Err(e) = store(&registry, &version, &exported)
    {
        let _ = std::fs::remove_dir_all(&temp);
        return Err(e);
    }
    if let Err(e) = move_into_place(&temp, &args.out) {
        let _ = std::fs::remove_dir_all(&temp);
        return Err(e);
    }
    Ok(Ok(manifest))
}

/// The series' threshold on the graph's raw score scale: a robust-z calibration is affine,
/// so `(s - median) / scale >= t` is `s >= median + scale * t`; without one it is `t`. (A
/// conformal calibration is exported inside the graph instead, see the caller.)
fn raw_threshold(calibration: Option<&Normaliser>, threshold: f64) -> f64 {
    match calibration {
        Some(Normaliser::RobustZ { median, scale }) => median + scale * threshold,
        _ => threshold,
    }
}

/// A normaliser as the exporter's scale map.
fn scale_of(n: &Normaliser) -> Scale {
    match n {
        Normaliser::Identity => Scale::Identity,
        Normaliser::RobustZ { median, scale } => Scale::Affine {
            median: *median,
            scale: *scale,
        },
        Normaliser::Rank { sorted } => Scale::Rank {
            sorted: sorted.clone(),
            strict: false,
        },
        Normaliser::Conformal { sorted } => Scale::Rank {
            sorted: sorted.clone(),
            strict: true,
        },
    }
}

/// The ensemble of one series as one graph: members, calibration, normalisers, rule and
/// threshold inside it.
fn one_graph(
    ensemble: &EnsembleState,
    key: &str,
    options: &ExportOptions,
) -> Result<OnnxModel, ExportError> {
    let members: Vec<vigil_export::Member<'_>> = ensemble
        .members
        .iter()
        .zip(&ensemble.weights)
        .zip(&ensemble.vote_thresholds)
        .map(|((m, &weight), &vote)| vigil_export::Member {
            model: &m.member.models[key],
            scales: m
                .member
                .calibration
                .get(key)
                .into_iter()
                .chain(m.normalisers.get(key))
                .map(scale_of)
                .collect(),
            weight,
            vote,
        })
        .collect();
    let rule = match ensemble.mode {
        EnsembleMode::Mean => Rule::Mean,
        EnsembleMode::Vote => Rule::Vote,
        EnsembleMode::Majority | EnsembleMode::Consensus => Rule::Count,
    };
    vigil_export::export_ensemble(&members, rule, options)
}

/// `spec.json` of an ensemble exported as one graph.
fn one_graph_spec(
    version: &ModelVersion,
    state: &VersionState,
    ensemble: &EnsembleState,
    key: &str,
    onnx: &OnnxModel,
) -> Value {
    json!({
        "format": SPEC_FORMAT,
        "family": "ensemble",
        "layout": "one_graph",
        "series": key,
        "source": {"model": version.model, "version": version.version, "aliases": version.aliases},
        "ensemble": {
            "mode": ensemble.mode,
            "normalise": ensemble.normalise,
            "weights": ensemble.weights,
            "vote_thresholds": ensemble.vote_thresholds,
            "alert_threshold": ensemble.alert_threshold,
        },
        "members": ensemble.members.iter().map(|m| json!({
            "parameters": m.member.detector,
            "calibration": m.member.calibration.get(key),
            "normaliser": m.normalisers.get(key),
        })).collect::<Vec<_>>(),
        "threshold": state.series(key).map(|s| s.threshold),
        "threshold_rule": "is_anomaly = score >= threshold, decided in float64 inside the graph; \
                           the graph runs every member on the last rows of x, maps each score \
                           through its calibration and normaliser, and combines them by the \
                           ensemble's rule",
        "alert_policy": state.alert,
        "input_window": onnx.input_window,
        "channels": onnx.channels,
        "inputs": [{"name": "x", "dtype": "float32", "shape": ["batch", onnx.input_window, onnx.channels],
            "meaning": "the last input_window rows of the series, oldest first; the last row is scored"}],
        "outputs": [
            {"name": "score", "dtype": "float32", "shape": ["batch"], "meaning": "the ensemble's score of the last row"},
            {"name": "is_anomaly", "dtype": "bool", "shape": ["batch"], "meaning": "score >= threshold"},
        ],
        "state": Value::Null,
        "tolerance": {
            "absolute": onnx.score_tolerance,
            "relative": onnx.relative_tolerance,
            "rule": "|score_onnx - score_vigil| <= absolute + relative * |score_vigil| (float32 \
                     output; a rank normaliser can move by one training score per member)"
        },
        "graph": {"nodes": onnx.nodes, "bytes": onnx.bytes.len(), "opset": 17},
        "not_exported": Value::Null,
    })
}

/// The members' graphs for one series. A member graph's own `is_anomaly` is not the
/// ensemble's decision: it is exported with threshold +∞ (always false), and the service
/// applies the combination rule in `spec.json`.
fn ensemble_series(
    version: &ModelVersion,
    ensemble: &EnsembleState,
    key: &str,
) -> Result<Vec<(String, OnnxModel)>, Refusal> {
    let options = ExportOptions {
        threshold: f64::INFINITY,
        dataset_fingerprint: None,
    };
    ensemble
        .members
        .iter()
        .enumerate()
        .map(|(m, member)| {
            let model = &member.member.models[key];
            let onnx =
                vigil_export::export(model, &options).map_err(|e| unsupported(version, key, e))?;
            Ok((format!("member-{m}-{}.onnx", onnx.family), onnx))
        })
        .collect()
}

fn ensemble_spec(
    version: &ModelVersion,
    state: &VersionState,
    ensemble: &EnsembleState,
    key: &str,
    graphs: &[(String, OnnxModel)],
) -> Value {
    let members: Vec<Value> = graphs
        .iter()
        .zip(&ensemble.members)
        .map(|((file, onnx), m)| {
            let model = &m.member.models[key];
            let mut member = spec_json(version, key, model, onnx);
            member["model"] = json!(file);
            member["parameters"] = json!(m.member.detector);
            member["calibration"] = json!(m.member.calibration.get(key));
            member["normaliser"] = json!(m.normalisers.get(key));
            member["threshold"] =
                json!("+inf: this graph's is_anomaly is always false; the ensemble rule decides");
            if let Some(obj) = member.as_object_mut() {
                obj.remove("format");
                obj.remove("source");
                obj.remove("alert_policy");
                obj.remove("threshold_rule");
            }
            member
        })
        .collect();
    let threshold = state.series(key).map_or(f64::NAN, |s| s.threshold);
    json!({
        "format": SPEC_FORMAT,
        "family": "ensemble",
        "series": key,
        "source": {"model": version.model, "version": version.version, "aliases": version.aliases},
        "ensemble": {
            "mode": ensemble.mode,
            "normalise": ensemble.normalise,
            "weights": ensemble.weights,
            "vote_thresholds": ensemble.vote_thresholds,
            "alert_threshold": ensemble.alert_threshold,
        },
        "combination": "per member m: s_m = its graph's score; c_m = calibration(s_m) when the \
                        member has one (robust_z: (s_m - median) / scale; conformal: (count of \
                        `sorted` < s_m) / len(sorted)), else s_m; n_m = normaliser(c_m): \
                        robust_z (c_m - median) / scale, rank: (count of `sorted` <= c_m) / \
                        len(sorted) (0.5 when empty), identity: c_m; mode mean: sum(w_m * n_m) \
                        / sum(w); vote: sum(w_m * [n_m >= vote_m]) / sum(w); majority / \
                        consensus: sum([n_m >= vote_m]) / members; a non-finite result is 0 \
                        (sum(w) <= 0 counts as 1); is_anomaly = combined >= threshold",
        "threshold": threshold,
        "alert_policy": state.alert,
        "members": members,
        "not_exported": Value::Null,
    })
}

/// A file-system-safe directory name for a series key.
fn safe_name(key: &str) -> String {
    let s: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() { "series".into() } else { s }
}

fn spec_json(version: &ModelVersion, key: &str, model: &FittedModel, onnx: &OnnxModel) -> Value {
    let family = model.kind().name();
    let mut inputs = vec![json!({"name": "x", "dtype": "float32",
        "shape": ["batch", onnx.input_window, onnx.channels],
        "meaning": "the last input_window rows of the series, oldest first; the last row is scored"})];
    let mut outputs = vec![
        json!({"name": "score", "dtype": "float32", "shape": ["batch"], "meaning": "vigil's score of the last row"}),
        json!({"name": "is_anomaly", "dtype": "bool", "shape": ["batch"], "meaning": "score >= threshold"}),
    ];
    if let Some(state) = &onnx.state {
        let mut shape = vec![json!("batch")];
        shape.extend(state.shape.iter().map(|d| json!(d)));
        inputs.push(json!({"name": state.input, "dtype": "float64", "shape": shape,
            "meaning": "the recurrent state: `state.initial` before the series' first row, then the previous call's state_out (one row per call)"}));
        outputs.push(
            json!({"name": state.output, "dtype": "float64", "shape": shape,
            "meaning": "the state after this row"}),
        );
    }
    json!({
        "format": SPEC_FORMAT,
        "family": family,
        "series": key,
        "source": {"model": version.model, "version": version.version, "aliases": version.aliases},
        "parameters": version.spec,
        "fitted_state": model,
        "threshold": version.threshold,
        "threshold_rule": "is_anomaly = score >= threshold, decided in float64 inside the graph; \
                           the threshold is this series' own, on the graph's raw score scale (a \
                           robust-z calibrated threshold t becomes median + scale * t)",
        "alert_policy": version.alert_policy,
        "feature_layout": vigil_export::feature_layout(model),
        "input_window": onnx.input_window,
        "channels": onnx.channels,
        "feature_dim": onnx.feature_dim,
        "inputs": inputs,
        "outputs": outputs,
        "state": onnx.state,
        "tolerance": {
            "absolute": onnx.score_tolerance,
            "relative": onnx.relative_tolerance,
            "rule": "|score_onnx - score_vigil| <= absolute + relative * |score_vigil| (float32 output)"
        },
        "graph": {"nodes": onnx.nodes, "bytes": onnx.bytes.len(), "opset": 17},
        "not_exported": Value::Null,
    })
}

fn write_file(root: &Path, rel: &str, bytes: &[u8], files: &mut Vec<Value>) -> anyhow::Result<()> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    files.push(json!({"path": rel, "sha256": sha256_hex(bytes), "size_bytes": bytes.len()}));
    Ok(())
}

fn write_all(
    root: &Path,
    version: &ModelVersion,
    reference: &ModelRef,
    fingerprints: &[String],
    exported: &[Exported],
) -> anyhow::Result<Value> {
    let mut files = Vec::new();
    let mut series = Vec::new();
    for e in exported {
        let prefix = e.dir.as_ref().map_or_else(String::new, |d| format!("{d}/"));
        let spec = serde_json::to_vec_pretty(&e.spec)?;
        let mut models = Vec::new();
        for (file, onnx) in &e.graphs {
            write_file(root, &format!("{prefix}{file}"), &onnx.bytes, &mut files)?;
            models.push(format!("{prefix}{file}"));
        }
        write_file(root, &format!("{prefix}spec.json"), &spec, &mut files)?;
        series.push(json!({
            "series": e.key,
            "family": e.family,
            "threshold": e.spec["threshold"],
            "models": models,
            "spec": format!("{prefix}spec.json"),
        }));
    }
    let manifest = json!({
        "format": MANIFEST_FORMAT,
        "vigil_version": env!("CARGO_PKG_VERSION"),
        "source": {
            "reference": reference.to_string(),
            "model": version.model,
            "version": version.version,
            "aliases": version.aliases,
            "run_id": version.run_id,
        },
        "dataset_fingerprints": fingerprints,
        "datasets": version.datasets,
        "threshold": version.threshold,
        "series": series,
        "files": files,
    });
    let bytes = serde_json::to_vec_pretty(&manifest)?;
    std::fs::write(root.join("manifest.json"), bytes)
        .with_context(|| format!("writing {}", root.join("manifest.json").display()))?;
    Ok(manifest)
}

/// Attaches each graph and spec to the version (idempotent for identical bytes), named by
/// its path in DIR with `/` as `.` (`spec.json` as `onnx-spec.json`).
fn store(registry: &Registry, version: &ModelVersion, exported: &[Exported]) -> anyhow::Result<()> {
    let mut named = Vec::new();
    for e in exported {
        let prefix = e.dir.as_ref().map_or_else(String::new, |d| format!("{d}."));
        for (file, onnx) in &e.graphs {
            named.push(NamedArtifact {
                name: format!("{prefix}{file}"),
                artifact: registry.put_artifact(&onnx.bytes, "application/onnx")?,
            });
        }
        let spec =
            registry.put_artifact(&serde_json::to_vec_pretty(&e.spec)?, "application/json")?;
        named.push(NamedArtifact {
            name: format!("{prefix}onnx-spec.json"),
            artifact: spec,
        });
    }
    registry
        .attach_version_artifacts(&version.model, version.version, &named)
        .with_context(|| {
            format!(
                "attaching the ONNX export to {}@{} (pass --no-store to only write the directory)",
                version.model, version.version
            )
        })
}
