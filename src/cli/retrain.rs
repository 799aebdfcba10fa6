//! `vigil retrain SPEC`: the retraining job. Trains a challenger as the experiment says,
//! judges it and the `champion` on the same recent labelled period, promotes it only when it
//! is better by the margin without breaking the constraints, and writes a comparison report.
//! Exit 0 when it promoted or kept the champion, 2 on error (the champion is then untouched).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use vigil_experiments::retrain::{self, Decision, RetrainOutcome, Side};
use vigil_reports::{
    Comparison, DatasetRef, MetricInfo, Metrics, SeriesComparison, VersionSummary,
};

use super::{EXIT_ERROR, EXIT_OK};

/// `vigil retrain …`
#[derive(Debug, clap::Args)]
pub struct RetrainArgs {
    /// The retrain spec (TOML), e.g. experiments/specs/retrain.toml.
    pub spec: PathBuf,
    /// Registry database URL (overrides the experiment's `[registry] url`).
    #[arg(long, visible_alias = "db", env = "VIGIL_DB")]
    pub registry: Option<String>,
    /// Decide and report without moving any alias (the challenger trains in a scratch registry).
    #[arg(long)]
    pub dry_run: bool,
    /// Comparison report path (overrides the spec's `report`).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Worker threads (results do not depend on it).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print the outcome (decision, reason, both sides' numbers) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs the verb.
pub fn run(args: &RetrainArgs) -> anyhow::Result<ExitCode> {
    match inner(args) {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!(
                "error: {e:#}\nno alias was moved by this run (the champion is as it was before, or as a concurrent run left it)"
            );
            Ok(ExitCode::from(EXIT_ERROR))
        }
    }
}

fn inner(args: &RetrainArgs) -> anyhow::Result<ExitCode> {
    let job = retrain::load_retrain(&args.spec)?;
    let outcome = retrain::retrain(&job, args.registry.as_deref(), args.dry_run, args.threads)?;
    let path = args
        .report
        .clone()
        .or_else(|| job.spec.report.clone())
        .unwrap_or_else(|| PathBuf::from(format!("reports/retrain-{}.html", job.spec.name)));
    let html = vigil_reports::render_comparison(&report(&outcome))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, html)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &outcome)?;
        writeln!(out)?;
        return Ok(ExitCode::from(EXIT_OK));
    }
    let word = match (&outcome.decision, outcome.moved, args.dry_run) {
        (Decision::Promoted, true, _) => "PROMOTED",
        (Decision::Promoted, false, _) => "WOULD PROMOTE (dry run)",
        (Decision::Kept, _, _) => "KEPT",
    };
    writeln!(out, "{} {word}: {}", outcome.model, outcome.reason)?;
    if !outcome.trained {
        writeln!(
            out,
            "(this data window was trained on before: the challenger was re-judged, not retrained)"
        )?;
    }
    writeln!(out, "report: {}", path.display())?;
    Ok(ExitCode::from(EXIT_OK))
}

fn metrics(m: &std::collections::BTreeMap<String, f64>, keys: &[String]) -> Metrics {
    let mut out = Metrics::new();
    for k in keys {
        out.insert(k.clone(), m.get(k).copied().unwrap_or(f64::NAN));
    }
    out
}

fn summary(label: String, model: &str, side: &Side, keys: &[String]) -> VersionSummary {
    VersionSummary {
        label,
        model: Some(model.to_string()),
        version: Some(side.version.to_string()),
        family: side.family.clone(),
        params: side
            .params
            .as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        threshold: side.metrics.get("threshold").copied(),
        metrics: metrics(&side.metrics, keys),
    }
}

/// The comparison report's input: champion (baseline) vs challenger (candidate).
fn report(o: &RetrainOutcome) -> Comparison {
    use vigil_experiments::metrics::MetricName;
    let keys: Vec<String> = MetricName::ALL
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let metric_info = MetricName::ALL
        .iter()
        .map(|m| {
            let mut info = MetricInfo::new(m.name());
            info.higher_is_better = !m.lower_is_better();
            info
        })
        .collect();
    let empty = Side {
        version: 0,
        family: "none".into(),
        params: serde_json::Value::Null,
        metrics: Default::default(),
        per_series: Default::default(),
    };
    let champion = o.champion.as_ref().unwrap_or(&empty);
    let series = o
        .challenger
        .per_series
        .iter()
        .map(|(k, m)| SeriesComparison {
            series: k.clone(),
            baseline_metrics: champion
                .per_series
                .get(k)
                .map(|b| metrics(b, &keys))
                .unwrap_or_default(),
            candidate_metrics: metrics(m, &keys),
            plot: None,
        })
        .collect();
    Comparison {
        title: format!(
            "{}: champion v{} vs challenger v{}",
            o.model, champion.version, o.challenger.version
        ),
        data: o
            .data
            .iter()
            .map(|(name, fingerprint, n)| DatasetRef {
                name: name.clone(),
                fingerprint: fingerprint.clone(),
                series: Some(*n),
                split: Some(
                    "test rows of the window; threshold fitted on its validation rows".into(),
                ),
                ..DatasetRef::default()
            })
            .collect(),
        protocol: Some(format!(
            "both versions' fitted models score the same window; objective {}",
            o.objective
        )),
        baseline: summary(
            format!("champion v{}", champion.version),
            &o.model,
            champion,
            &keys,
        ),
        candidate: summary(
            format!("challenger v{}", o.challenger.version),
            &o.model,
            &o.challenger,
            &keys,
        ),
        metric_info,
        series,
        notes: vec![format!("decision: {:?}: {}", o.decision, o.reason)],
        ..Comparison::default()
    }
}
