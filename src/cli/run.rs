//! `vigil run SPEC`: the main job. Tunes every family the spec names, builds ensembles,
//! evaluates once on test, registers the best, prints the leaderboard (stdout) and writes the
//! report.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use comfy_table::{Cell, Table, presets::UTF8_FULL_CONDENSED};
use vigil_experiments::metrics::MetricName;
use vigil_experiments::{Leaderboard, RunOptions, load_spec};

use super::{EXIT_ERROR, EXIT_OK};

/// `vigil run …`
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The experiment spec (TOML), e.g. experiments/specs/quickstart.toml.
    pub spec: PathBuf,
    /// Registry database URL (overrides the spec's `[registry] url`).
    #[arg(long, visible_alias = "db", env = "VIGIL_DB")]
    pub registry: Option<String>,
    /// Artifact directory (default: beside a SQLite registry file; `./vigil-artifacts` for
    /// PostgreSQL, so point every process of a team at one shared directory).
    #[arg(long, env = "VIGIL_ARTIFACTS")]
    pub artifacts: Option<PathBuf>,
    /// Continue the last interrupted run of this spec, reusing its finished trials.
    #[arg(long, conflicts_with_all = ["shard", "merge"])]
    pub resume: bool,
    /// Run only shard K of N (1-based) of the tuning trials, logging them to the registry
    /// (use a PostgreSQL registry shared by all shards); then assemble with --merge.
    #[arg(long, value_name = "K/N", conflicts_with = "merge")]
    pub shard: Option<vigil_experiments::Shard>,
    /// Assemble a sharded run once every shard has finished: leaderboard, versions, report.
    #[arg(long)]
    pub merge: bool,
    /// Label of the sharded run (shards and merge must agree; default "sharded").
    #[arg(long, value_name = "LABEL", env = "VIGIL_SHARD_GROUP")]
    pub shard_group: Option<String>,
    /// Point the `challenger` alias at the best overall version.
    #[arg(long)]
    pub promote: bool,
    /// Worker threads (default: the spec's `threads`, 0 = one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// HTML report path (overrides the spec's `[report] path`).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Print the leaderboard as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write every entry's per-row scores, thresholds, labels and split parts as CSV
    /// under DIR (`DIR/<entry>/<dataset>/<series>.csv`, NAB's results layout).
    #[arg(long, value_name = "DIR")]
    pub scores: Option<PathBuf>,
}

/// Runs the verb.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let spec = match load_spec(&args.spec) {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_ERROR));
        }
    };
    let spec_text = std::fs::read_to_string(&args.spec)
        .with_context(|| format!("reading {}", args.spec.display()))?;
    let options = RunOptions {
        registry_url: args.registry.clone(),
        artifact_dir: args.artifacts.clone(),
        resume: args.resume,
        promote: args.promote,
        threads: args.threads,
        progress: std::io::stderr().is_terminal(),
        spec_text,
        stop_after_trials: None,
        merge: args.merge,
        shard_group: args.shard_group.clone(),
    };
    if let Some(shard) = args.shard {
        let outcome = match vigil_experiments::run_shard(&spec, &options, shard) {
            Ok(outcome) => outcome,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(EXIT_ERROR));
            }
        };
        let mut out = std::io::stdout().lock();
        if args.json {
            serde_json::to_writer_pretty(&mut out, &outcome)?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "shard {}: {} of {} trials owned; {} computed ({} failed), {} already logged",
                outcome.shard,
                outcome.owned,
                outcome.total_trials,
                outcome.computed,
                outcome.failed,
                outcome.reused
            )?;
            writeln!(out, "invocation: {}", outcome.invocation)?;
            writeln!(out, "wall time: {:.1} s", outcome.wall_seconds)?;
        }
        return Ok(ExitCode::from(EXIT_OK));
    }
    let outcome = match vigil_experiments::run(&spec, &options) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_ERROR));
        }
    };
    let report_path = args
        .report
        .clone()
        .or_else(|| spec.report.path.clone())
        .unwrap_or_else(|| PathBuf::from(format!("reports/{}.html", spec.name)));
    let report = vigil_experiments::report::write_report(&spec, &options, &outcome, &report_path)
        .with_context(|| format!("writing the report to {}", report_path.display()))?;
    if let Some(dir) = &args.scores {
        match vigil_experiments::scores_out::write_scores(&outcome, dir) {
            Ok(files) => {
                tracing::info!(files = files.len(), dir = %dir.display(), "scores written")
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(EXIT_ERROR));
            }
        }
    }

    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &outcome.leaderboard)?;
        writeln!(out)?;
    } else {
        print_leaderboard(&mut out, &outcome.leaderboard)?;
        for (model, version) in &outcome.versions {
            writeln!(out, "registered {model} v{version}")?;
        }
        if let Some((model, version)) = outcome.versions.first()
            && args.promote
        {
            writeln!(out, "challenger alias of {model} -> v{version}")?;
        }
        writeln!(out, "summary run: {}", outcome.summary_run)?;
        writeln!(out, "report: {}", report.display())?;
        if let Some(dir) = &args.scores {
            writeln!(out, "scores: {}", dir.display())?;
        }
        writeln!(out, "wall time: {:.1} s", outcome.wall_seconds)?;
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn fmt(v: Option<&f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.3}"),
        _ => "—".into(),
    }
}

/// One table per dataset: entries in leaderboard order, the objective on validation, then the
/// headline test metrics (deployable threshold) and the baselines.
pub fn print_leaderboard(out: &mut impl Write, lb: &Leaderboard) -> std::io::Result<()> {
    let objective = lb.objective;
    let headline: Vec<MetricName> = {
        let mut m = vec![objective];
        for x in [
            MetricName::EventF1,
            MetricName::PointF1,
            MetricName::VusPr,
            MetricName::FalseAlarmsPerDay,
            MetricName::NabStandard,
            MetricName::NabLowFp,
            MetricName::NabLowFn,
        ] {
            if !m.contains(&x) {
                m.push(x);
            }
        }
        m
    };
    writeln!(
        out,
        "experiment {} — objective {} ({}), chosen on {}",
        lb.experiment,
        objective,
        if objective.lower_is_better() {
            "lower is better"
        } else {
            "higher is better"
        },
        if lb.in_sample {
            "the test rows themselves (no validation split: NAB's in-sample protocol)"
        } else {
            "validation rows; test rows scored once"
        }
    )?;
    if let Some(cv) = &lb.cv {
        print_cv_headline(out, lb, cv)?;
    }
    for h in lb.holdout_headline() {
        writeln!(
            out,
            "\nheadline ({}): {} chosen on validation {objective} {} → test {} (rows nothing was \
             chosen on; the drop {} is what choosing on validation added); random scores {}",
            h.dataset,
            h.entry,
            fmt(Some(&h.validation)),
            fmt(Some(&h.test)),
            fmt(Some(&h.drop)),
            fmt(Some(&h.random)),
        )?;
    }
    for (dataset, (fingerprint, _, series)) in &lb.datasets {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        let mut header = vec![
            "#".to_string(),
            "entry".to_string(),
            "causal".to_string(),
            format!("val {objective}"),
        ];
        let transfer = lb.entries.iter().any(|e| e.selection.is_some());
        if transfer {
            header.push(format!("across groups {objective} (chooses)"));
        }
        if lb.cv.is_some() {
            header.push(format!("cv {objective}"));
            header.push("± folds".into());
        }
        header.extend(headline.iter().map(|m| format!("test {m}")));
        header.push("trials".into());
        table.set_header(header);
        for (rank, e) in lb.entries.iter().enumerate() {
            let mut row = vec![
                Cell::new(if !e.eligible {
                    "·".into()
                } else if e.feasible {
                    format!("{}", rank + 1)
                } else {
                    "✗".into()
                }),
                Cell::new(&e.name),
                Cell::new(if e.causal { "yes" } else { "no" }),
                Cell::new(fmt(Some(&e.validation))),
            ];
            if transfer {
                row.push(Cell::new(fmt(e.selection.as_ref())));
            }
            if lb.cv.is_some() {
                let cv = e.cv.as_ref();
                row.push(Cell::new(fmt(
                    cv.and_then(|c| c.metrics.get(objective.name()))
                )));
                row.push(Cell::new(fmt(
                    cv.and_then(|c| c.spread.get(objective.name()))
                )));
            }
            let test = e.test.get(dataset);
            row.extend(
                headline
                    .iter()
                    .map(|m| Cell::new(fmt(test.and_then(|t| t.get(m.name()))))),
            );
            row.push(Cell::new(if e.series_failed.is_empty() {
                format!("{} ({} failed)", e.trials, e.failed)
            } else {
                format!(
                    "{} ({} failed; {} series unfit)",
                    e.trials,
                    e.failed,
                    e.series_failed.len()
                )
            }));
            table.add_row(row);
        }
        if let Some(base) = lb.baselines.get(dataset) {
            for (name, map) in base {
                let mut row = vec![
                    Cell::new(""),
                    Cell::new(format!("baseline: {name}")),
                    Cell::new(""),
                    Cell::new(""),
                ];
                if transfer {
                    row.push(Cell::new(""));
                }
                if lb.cv.is_some() {
                    row.push(Cell::new(""));
                    row.push(Cell::new(""));
                }
                row.extend(headline.iter().map(|m| Cell::new(fmt(map.get(m.name())))));
                row.push(Cell::new(""));
                table.add_row(row);
            }
        }
        writeln!(
            out,
            "\ndataset {dataset} ({series} series, fingerprint {})",
            &fingerprint[..12.min(fingerprint.len())]
        )?;
        writeln!(out, "{table}")?;
    }
    for w in &lb.warnings {
        writeln!(out, "warning: {w}")?;
    }
    Ok(())
}

/// The cross-validated headline: the whole procedure's estimate on held-out groups, the
/// chosen entry's in-sample figure and the gap, and what each fold chose.
fn print_cv_headline(
    out: &mut impl Write,
    lb: &Leaderboard,
    cv: &vigil_experiments::cv::CvSummary,
) -> std::io::Result<()> {
    let objective = lb.objective;
    let mut shown = vec![objective];
    for m in [
        MetricName::EventF1,
        MetricName::VusPr,
        MetricName::FalseAlarmsPerDay,
        MetricName::NabStandard,
        MetricName::NabLowFp,
        MetricName::NabLowFn,
    ] {
        if !shown.contains(&m)
            && cv
                .procedure
                .metrics
                .get(m.name())
                .is_some_and(|v| v.is_finite())
        {
            shown.push(m);
        }
    }
    writeln!(
        out,
        "\ncross-validated across groups ({} groups by {}, {} folds): every choice (parameters, \
         threshold, ensemble, entry) made on the training groups, scored on the held-out ones",
        cv.groups.len(),
        cv.group_by,
        cv.folds
    )?;
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec![
        "metric".to_string(),
        "cross-validated (headline)".to_string(),
        "± folds".to_string(),
        format!("in-sample ({})", cv.chosen),
        "gap".to_string(),
    ]);
    for m in shown {
        let k = m.name();
        table.add_row(vec![
            Cell::new(k),
            Cell::new(fmt(cv.procedure.metrics.get(k))),
            Cell::new(fmt(cv.procedure.spread.get(k))),
            Cell::new(fmt(cv.in_sample.get(k))),
            Cell::new(fmt(cv.gap.get(k))),
        ]);
    }
    writeln!(out, "{table}")?;
    for (i, f) in cv.procedure.folds.iter().enumerate() {
        writeln!(
            out,
            "  fold {} (held out {}): {} = {} → chose {}",
            i + 1,
            f.held_out.join(", "),
            objective,
            fmt(f.metrics.get(objective.name())),
            f.chosen
                .split_once(':')
                .map_or(f.chosen.as_str(), |(name, _)| name)
        )?;
    }
    Ok(())
}
