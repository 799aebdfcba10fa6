//! `vigil report`: re-renders an experiment report from the registry (the summary run of a
//! `vigil run` carries the report's input), or renders the model card of a registered version.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use vigil_experiments::report::{REPORT_ARTIFACT, write_html};
use vigil_registry::{ModelRef, ModelVersion, Registry, RunFilter};
use vigil_reports::{
    Artifact, DatasetRef, ExperimentReport, ExportState, ExportStatus, Lineage, MetricGroup,
    MetricInfo, ModelCard, Params, ThresholdInfo,
};

use super::{EXIT_ERROR, EXIT_OK};

/// `vigil report …`
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A summary run id, or an experiment name (its latest finished `vigil run`); with
    /// `--card`, a model reference: MODEL, MODEL@ALIAS or MODEL@VERSION.
    pub target: String,
    /// Render the model card of a registered version instead of an experiment report.
    #[arg(long)]
    pub card: bool,
    /// Output HTML file.
    #[arg(long)]
    pub out: PathBuf,
    /// Registry database URL.
    #[arg(
        long = "registry",
        visible_alias = "db",
        env = "VIGIL_DB",
        default_value = vigil_registry::DEFAULT_DB_URL
    )]
    pub db: String,
}

/// Runs the verb.
pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let registry = Registry::open(&args.db).with_context(|| format!("opening {}", args.db))?;
    let result = if args.card {
        card(&registry, args)
    } else {
        experiment(&registry, args)
    };
    match result {
        Ok(path) => {
            println!("{}", path.display());
            Ok(ExitCode::from(EXIT_OK))
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            Ok(ExitCode::from(EXIT_ERROR))
        }
    }
}

fn experiment(registry: &Registry, args: &ReportArgs) -> anyhow::Result<PathBuf> {
    let is_run_id = args.target.len() == 32 && args.target.bytes().all(|b| b.is_ascii_hexdigit());
    let run_id = if is_run_id {
        args.target.clone()
    } else {
        let runs = registry.runs(&RunFilter {
            experiment: Some(args.target.clone()),
            ..RunFilter::default()
        })?;
        runs.into_iter()
            .find(|r| r.info.name == "summary")
            .map(|r| r.id)
            .with_context(|| {
                format!(
                    "experiment {:?} has no finished `vigil run` in {}; hint: list runs with `vigil registry runs`",
                    args.target, args.db
                )
            })?
    };
    let bytes = registry
        .read_run_artifact(&run_id, REPORT_ARTIFACT)
        .with_context(|| {
            format!("run {run_id} holds no {REPORT_ARTIFACT}; hint: pass the summary run of a `vigil run`")
        })?;
    let report: ExperimentReport =
        serde_json::from_slice(&bytes).context("the stored report input does not parse")?;
    Ok(write_html(&report, &args.out)?)
}

fn card(registry: &Registry, args: &ReportArgs) -> anyhow::Result<PathBuf> {
    let reference: ModelRef = args
        .target
        .parse()
        .with_context(|| format!("{:?} is not a model reference", args.target))?;
    let version = registry.resolve(&reference)?;
    let card = model_card(&version);
    let html = vigil_reports::render_model_card(&card)?;
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, html).with_context(|| format!("writing {}", args.out.display()))?;
    Ok(args.out.clone())
}

fn params(value: &serde_json::Value) -> Params {
    value
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| k.as_str() != "normalisers")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// One named metric value.
type Metric = (String, f64);

/// The card of one registered version, from what the registry stores.
pub fn model_card(v: &ModelVersion) -> ModelCard {
    let family = v
        .spec
        .get("kind")
        .and_then(|k| k.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| {
            v.spec
                .get("mode")
                .and_then(|m| m.as_str())
                .map_or("ensemble".into(), |m| format!("ensemble ({m})"))
        });
    let kind: Option<vigil_train::DetectorKind> = v
        .spec
        .get("kind")
        .and_then(|k| serde_json::from_value(k.clone()).ok());
    let strip = |prefix: &str| -> Vec<Metric> {
        v.metrics
            .iter()
            .filter_map(|(k, x)| Some((k.strip_prefix(prefix)?.to_string(), *x)))
            .collect()
    };
    // Cross-validated across groups: the whole selection (the headline), then this entry.
    let procedure = strip("cv_procedure_");
    let own_cv: Vec<Metric> = strip("cv_")
        .into_iter()
        .filter(|(k, _)| !k.starts_with("procedure_"))
        .collect();
    let has_cv = !procedure.is_empty() || !own_cv.is_empty();
    let (test, oracle): (Vec<Metric>, Vec<Metric>) = v
        .metrics
        .iter()
        .filter(|(k, _)| !k.starts_with("cv_"))
        .map(|(k, x)| (k.clone(), *x))
        .partition(|(k, _)| !k.starts_with("oracle_"));
    let datasets: Vec<DatasetRef> = v
        .datasets
        .iter()
        .map(|d| DatasetRef {
            name: d.description.split(':').next().unwrap_or("").to_string(),
            fingerprint: d.fingerprint.clone(),
            source: Some(d.description.clone()),
            split: Some(d.role.clone()),
            ..DatasetRef::default()
        })
        .collect();
    let mut limitations = vec![
        "Scores are raw and family-specific: only the registered threshold and alert policy make them decisions.".to_string(),
        "Metrics come from the experiment's test rows; data that drifts away from them needs retraining (`vigil retrain`).".to_string(),
    ];
    if kind.is_some_and(|k| !k.causal()) {
        limitations.push(
            "Batch-only: scores use the whole series, so a runtime service cannot reproduce them row by row.".into(),
        );
    }
    ModelCard {
        model: v.model.clone(),
        version: v.version.to_string(),
        aliases: v.aliases.clone(),
        registered_at_ms: Some(v.created_at_ms),
        purpose: Some(v.description.clone()),
        family,
        family_description: None,
        causal: kind.map(vigil_train::DetectorKind::causal),
        params: params(&v.spec),
        inputs: Vec::new(),
        training_data: datasets.clone(),
        evaluation_data: datasets,
        metrics: [
            (!procedure.is_empty()).then(|| MetricGroup {
                name: "cross-validated across groups (the headline)".into(),
                protocol: Some(
                    "the whole selection repeated with each group held out, every choice made on the other groups; the held-out groups' test rows scored once".into(),
                ),
                metrics: procedure.into_iter().collect(),
            }),
            (!own_cv.is_empty()).then(|| MetricGroup {
                name: "this family or ensemble, cross-validated across groups".into(),
                protocol: Some(
                    "its parameters and threshold re-chosen on each fold's training groups".into(),
                ),
                metrics: own_cv.into_iter().collect(),
            }),
            Some(MetricGroup {
                name: if has_cv {
                    "test rows, deployable threshold (in-sample: chosen on every group)".into()
                } else {
                    "test rows, deployable threshold".into()
                },
                protocol: Some(
                    "threshold fitted on validation rows, applied unchanged to the test rows; validation_* is the objective that chose the model".into(),
                ),
                metrics: test.into_iter().collect(),
            }),
            Some(MetricGroup {
                name: "test rows, oracle threshold (for comparison only)".into(),
                protocol: Some("best threshold on the test rows themselves".into()),
                metrics: oracle.into_iter().collect(),
            }),
        ]
        .into_iter()
        .flatten()
        .collect(),
        metric_info: vec![
            MetricInfo::new("false_alarms_per_day").lower_is_better(),
            MetricInfo::new("mean_delay_seconds").lower_is_better(),
        ],
        threshold: v.threshold.is_finite().then(|| ThresholdInfo {
            value: v.threshold,
            policy: "the experiment spec's threshold policy".into(),
            fitted_on: Some("validation rows".into()),
        }),
        alert_policy: params(&v.alert_policy),
        limitations,
        exports: vec![ExportStatus {
            format: "onnx".into(),
            state: ExportState::Unsupported,
            detail: Some("run `vigil export` to produce and verify an ONNX artifact".into()),
            max_abs_diff: None,
            sha256: None,
        }],
        artifacts: v
            .artifacts
            .iter()
            .map(|a| Artifact {
                name: a.name.clone(),
                sha256: a.artifact.sha256.clone(),
                size_bytes: Some(a.artifact.size_bytes),
                media_type: Some(a.artifact.media_type.clone()),
            })
            .collect(),
        lineage: Lineage {
            datasets: Vec::new(),
            git_commit: None,
            git_dirty: None,
            vigil_version: Some(env!("CARGO_PKG_VERSION").into()),
            seed: None,
            started_at_ms: None,
            wall_time_s: None,
            threads: None,
            extra: v
                .run_id
                .iter()
                .map(|r| ("run".to_string(), r.clone()))
                .collect(),
        },
        examples: Vec::new(),
    }
}
