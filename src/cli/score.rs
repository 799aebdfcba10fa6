//! `vigil score MODEL@ALIAS|MODEL@VERSION --data PATH --out DIR`: applies a registered
//! version to new data as a runtime service would, and says what it would have flagged.
//!
//! The data is any layout vigil loads (CSV/Parquet, NAB, SMD/ASD, UCR, a Prometheus export or
//! a `vigil datasets pull` folder). Every series goes through the version's state in time
//! order ([`vigil_experiments::apply`]): its models, the run's calibration, an ensemble's
//! normalisers and rule, the series' own threshold, then the alert policy and severity bands.
//! Causal families warm up on the data's own first rows (the `warm_up` column marks them).
//!
//! Written into DIR (atomically: DIR is absent, complete, or untouched):
//! `<dataset>/<series>.csv` per series (`timestamp,[value,]anomaly_score,threshold,detected,
//! alert,severity,warm_up,label`), `alerts.csv` (one row per alert) and `summary.json`. Labels,
//! when the data has them (NAB windows, SMD/ASD labels, `--labels FILE`), add vigil's metrics
//! at the version's thresholds, per series and macro-averaged, to the summary and stdout.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use comfy_table::{Cell, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::{Value, json};
use vigil_datasets::{LoadOptions, load};
use vigil_experiments::apply::{ApplyOptions, apply};
use vigil_experiments::scores_out::write_applied;
use vigil_registry::DEFAULT_DB_URL;

use super::datasets::LayoutArg;
use super::version::{
    Refusal, check_out_dir, move_into_place, open_version, refusal_of, refuse, temp_dir_beside,
};
use super::{EXIT_ERROR, EXIT_OK};

/// `vigil score …`
#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// The version to apply: MODEL@ALIAS, MODEL@VERSION or MODEL (newest version).
    pub reference: String,
    /// The data: a dataset folder (NAB, SMD, ASD, UCR, CSV/Parquet files, a `vigil datasets
    /// pull` folder) or a file (.csv, .parquet, Prometheus .json).
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// The layout, when detection should not guess.
    #[arg(long, value_enum)]
    pub layout: Option<LayoutArg>,
    /// Labels (CSV or JSON of series,start,end[,kind,severity]) for generic/Prometheus data.
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Timestamp column of generic data.
    #[arg(long)]
    pub timestamp_column: Option<String>,
    /// Value columns of generic data, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub value_columns: Option<Vec<String>>,
    /// Which of the version's datasets the data stands for (when it was trained on several).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Fit a series the version was not trained on with the version's family and parameters
    /// on its own first rows (default: refuse it by name).
    #[arg(long)]
    pub fit_new: bool,
    /// Rows a new series is fitted on (default: the median training rows of the version's
    /// series, at most half the new series).
    #[arg(long, value_name = "N", requires = "fit_new")]
    pub fit_rows: Option<usize>,
    /// With labels, measure only the rows from this time on (RFC 3339, `YYYY-MM-DD HH:MM:SS`
    /// or epoch seconds/ms): the rows before it are history the models run through.
    #[arg(long, value_name = "TIME")]
    pub measure_from: Option<String>,
    /// Output directory; must not exist or be empty.
    #[arg(long)]
    pub out: PathBuf,
    /// Registry database: sqlite://PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long = "registry", visible_alias = "db", env = "VIGIL_DB", default_value = DEFAULT_DB_URL)]
    pub db: String,
    /// Artifact directory (default: `<db stem>-artifacts` beside a SQLite file).
    #[arg(long, env = "VIGIL_ARTIFACTS")]
    pub artifacts: Option<PathBuf>,
    /// Print the summary as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the verb.
pub fn run(args: &ScoreArgs) -> anyhow::Result<ExitCode> {
    match score(args)? {
        Ok(summary) => {
            let mut out = std::io::stdout().lock();
            if args.json {
                serde_json::to_writer_pretty(&mut out, &summary)?;
                writeln!(out)?;
            } else {
                writeln!(out, "{}", table(&summary))?;
                if let Some(m) = summary["metrics"].as_object() {
                    let get = |k: &str| m.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
                    writeln!(
                        out,
                        "macro over {} labelled series: event F1 {:.3}, alert precision {:.3}, event recall \
                         {:.3}, point F1 {:.3}, false alarms/day {:.3}",
                        summary["labelled"],
                        get("event_f1"),
                        get("alert_precision"),
                        get("event_recall"),
                        get("point_f1"),
                        get("false_alarms_per_day"),
                    )?;
                }
                writeln!(out, "wrote {}", args.out.display())?;
            }
            Ok(ExitCode::from(EXIT_OK))
        }
        Err(refusal) => {
            eprintln!("error: {}\nhint: {}", refusal.message, refusal.hint);
            Ok(ExitCode::from(EXIT_ERROR))
        }
    }
}

fn score(args: &ScoreArgs) -> anyhow::Result<Result<Value, Refusal>> {
    if let Some(refusal) = check_out_dir(&args.out) {
        return Ok(Err(refusal));
    }
    let (_registry, reference, version, mut state) =
        match open_version(&args.db, args.artifacts.as_deref(), &args.reference)? {
            Ok(opened) => opened,
            Err(refusal) => return Ok(Err(refusal)),
        };
    if !state.causal() {
        tracing::warn!(
            "{}@{} ({}) uses a batch family: a row's score depends on later rows of the data, \
             which a runtime service scoring row by row would not have",
            version.model,
            version.version,
            state.entry
        );
    }
    let load_options = LoadOptions {
        layout: args.layout.map(Into::into),
        labels: args.labels.clone(),
        timestamp_column: args.timestamp_column.clone(),
        value_columns: args.value_columns.clone(),
    };
    let data = match load(&args.data, &load_options) {
        Ok(d) => d,
        Err(e) => {
            return Ok(Err(refuse(
                format!("--data {}: {e}", args.data.display()),
                "check the path and layout with `vigil datasets inspect PATH`",
            )));
        }
    };
    for w in &data.warnings {
        tracing::warn!(data = %args.data.display(), "{w}");
    }
    let measure_from = match args.measure_from.as_deref() {
        None => None,
        Some(text) => match vigil_datasets::parse_timestamp(text) {
            Some(t) => Some(t),
            None => {
                return Ok(Err(refuse(
                    format!("--measure-from {text:?} is not a time"),
                    "write e.g. 2026-01-05T00:00:00Z, 2026-01-05 00:00:00 or epoch seconds",
                )));
            }
        },
    };
    let apply_options = ApplyOptions {
        dataset: args.dataset.clone(),
        fit_new: args.fit_new,
        fit_rows: args.fit_rows,
        measure_from,
    };
    let applied = match apply(&mut state, &data, &apply_options) {
        Ok(a) => a,
        Err(e) => return Ok(Err(refusal_of(&e))),
    };
    let summary = json!({
        "source": {
            "reference": reference.to_string(),
            "model": version.model,
            "version": version.version,
            "aliases": version.aliases,
            "entry": state.entry,
            "threshold_policy": state.threshold_policy,
            "causal": state.causal(),
            "legacy": state.legacy,
        },
        "data": {"path": args.data.display().to_string(), "layout": data.layout.to_string(), "fingerprint": data.fingerprint()},
        "series": applied.series.iter().map(|s| json!({
            "series": s.key,
            "rows": s.scores.len(),
            "warm_up_rows": s.warm_up,
            "threshold": s.threshold,
            "detected_rows": s.detected.iter().filter(|d| **d).count(),
            "alerts": s.alerts.len(),
            "fitted_new_on_rows": s.fitted_new,
            "complete": s.complete,
            "incidents": s.windows.len(),
            "measured_from": args.measure_from,
            "metrics": s.metrics,
        })).collect::<Vec<_>>(),
        "labelled": applied.labelled,
        "metrics": applied.metrics,
    });
    let temp = temp_dir_beside(&args.out)?;
    let written = write_applied(&applied, &temp)
        .map_err(anyhow::Error::from)
        .and_then(|_| {
            let bytes = serde_json::to_vec_pretty(&summary)?;
            std::fs::write(temp.join("summary.json"), bytes)
                .with_context(|| format!("writing {}", temp.join("summary.json").display()))
        });
    if let Err(e) = written.and_then(|()| move_into_place(&temp, &args.out)) {
        let _ = std::fs::remove_dir_all(&temp);
        return Err(e);
    }
    Ok(Ok(summary))
}

fn table(summary: &Value) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "series",
        "rows",
        "threshold",
        "detected",
        "alerts",
        "incidents",
        "event F1",
        "note",
    ]);
    for s in summary["series"].as_array().into_iter().flatten() {
        let f1 = s["metrics"]["event_f1"]
            .as_f64()
            .map_or_else(|| "-".to_string(), |v| format!("{v:.3}"));
        let mut note = Vec::new();
        if let Some(rows) = s["fitted_new_on_rows"].as_u64() {
            note.push(format!("new: fitted on its first {rows} rows"));
        }
        if s["complete"] == false {
            note.push("a model failed to fit in the run: scored 0".into());
        }
        t.add_row([
            Cell::new(s["series"].as_str().unwrap_or_default()),
            Cell::new(&s["rows"]),
            Cell::new(
                s["threshold"]
                    .as_f64()
                    .map_or_else(|| "none".to_string(), |v| format!("{v:.4}")),
            ),
            Cell::new(&s["detected_rows"]),
            Cell::new(&s["alerts"]),
            Cell::new(&s["incidents"]),
            Cell::new(f1),
            Cell::new(note.join("; ")),
        ]);
    }
    t
}
