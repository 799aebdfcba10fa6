//! `vigil datasets inspect|validate|synth`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use vigil_datasets::summary::{DatasetSummary, format_step};
use vigil_datasets::synth::{SynthConfig, generate, write_synth};
use vigil_datasets::timestamp::format_timestamp;
use vigil_datasets::validate::{Severity, validate};
use vigil_datasets::{Layout, LoadOptions, load};

use super::{EXIT_ERROR, EXIT_OK};

/// `vigil datasets …`
#[derive(Debug, Args)]
pub struct DatasetsArgs {
    #[command(subcommand)]
    pub command: DatasetsCommand,
}

/// Dataset verbs.
#[derive(Debug, Subcommand)]
pub enum DatasetsCommand {
    /// Detect the layout and print a table per series: rows, channels, time range, sampling
    /// step, regularity, missing values, incidents and labelled rows.
    Inspect(InspectArgs),
    /// Run every check on a dataset and list every problem; exits 2 if there is any error.
    Validate(ValidateArgs),
    /// Write a seeded synthetic dataset (CSV per series + labels.csv) that the generic loader
    /// reads back identically.
    Synth(SynthArgs),
    /// Pull metric history (query_range) and alert incidents from a Prometheus server into a
    /// dataset folder the loaders read.
    Pull(super::pull::PullArgs),
}

/// Where the data is and how to read it.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// A dataset folder (NAB, SMD, ASD, UCR, a folder of CSV/Parquet) or file (.csv, .parquet,
    /// Prometheus .json, UCR .txt).
    pub path: PathBuf,
    /// The layout, when detection should not guess.
    #[arg(long, value_enum)]
    pub layout: Option<LayoutArg>,
    /// Labels file (CSV or JSON of series,start,end[,kind,severity]) for generic/Prometheus data.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Timestamp column of generic data (default: `timestamp`, or a column named like a time).
    #[arg(long)]
    pub timestamp_column: Option<String>,
    /// Value columns of generic data, comma-separated (default: every other column).
    #[arg(long, value_delimiter = ',')]
    pub value_columns: Option<Vec<String>>,
}

impl SourceArgs {
    fn options(&self) -> LoadOptions {
        LoadOptions {
            layout: self.layout.map(Layout::from),
            labels: self.labels.clone(),
            timestamp_column: self.timestamp_column.clone(),
            value_columns: self.value_columns.clone(),
        }
    }
}

/// Dataset layouts as CLI values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LayoutArg {
    Generic,
    Nab,
    Smd,
    Asd,
    Ucr,
    Prometheus,
}

impl From<LayoutArg> for Layout {
    fn from(arg: LayoutArg) -> Self {
        match arg {
            LayoutArg::Generic => Layout::Generic,
            LayoutArg::Nab => Layout::Nab,
            LayoutArg::Smd => Layout::Smd,
            LayoutArg::Asd => Layout::Asd,
            LayoutArg::Ucr => Layout::Ucr,
            LayoutArg::Prometheus => Layout::Prometheus,
        }
    }
}

/// `vigil datasets inspect`
#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `vigil datasets validate`
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Treat warnings as errors too.
    #[arg(long)]
    pub strict: bool,
    /// Print JSON instead of a list.
    #[arg(long)]
    pub json: bool,
}

/// `vigil datasets synth`
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Seed for every random step; the same seed gives the same files (default: the
    /// `--config` file's seed, else 7).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Rows per series (default: four weeks at the step).
    #[arg(long)]
    pub rows: Option<usize>,
    /// A JSON or TOML file with a full generator configuration (see `synth.json` in any output).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Runs a `datasets` verb.
pub fn run(args: &DatasetsArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        DatasetsCommand::Inspect(args) => inspect(args),
        DatasetsCommand::Validate(args) => validate_command(args),
        DatasetsCommand::Synth(args) => synth(args),
        DatasetsCommand::Pull(args) => super::pull::run(args),
    }
}

fn inspect(args: &InspectArgs) -> anyhow::Result<ExitCode> {
    let path = &args.source.path;
    let dataset = load(path, &args.source.options())
        .with_context(|| format!("inspecting {}", path.display()))?;
    let summary = DatasetSummary::of(&dataset);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &summary)?;
        writeln!(out)?;
        return Ok(ExitCode::from(EXIT_OK));
    }
    writeln!(
        out,
        "{} ({} layout): {} series, {} rows, {} incident windows, {} labelled rows",
        summary.source,
        summary.layout,
        summary.series_count,
        summary.rows,
        summary.incidents,
        summary.labelled_rows
    )?;
    writeln!(out, "fingerprint {}", summary.fingerprint)?;
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header([
        "series",
        "rows",
        "ch",
        "first",
        "last",
        "step",
        "regular",
        "NaN",
        "incidents",
        "labelled",
        "train",
    ]);
    for s in &summary.series {
        table.add_row([
            s.name.clone(),
            s.rows.to_string(),
            s.channels.to_string(),
            s.first.map(format_timestamp).unwrap_or_default(),
            s.last.map(format_timestamp).unwrap_or_default(),
            s.modal_step_ms.map(format_step).unwrap_or_default(),
            s.regular_share
                .map(|r| format!("{:.1}%", 100.0 * r))
                .unwrap_or_default(),
            s.nan_cells.to_string(),
            s.incidents.to_string(),
            s.labelled_rows.to_string(),
            s.train_rows
                .map(|t| t.to_string())
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    writeln!(out, "{table}")?;
    if !summary.warnings.is_empty() {
        writeln!(
            out,
            "{} warning(s); run `vigil datasets validate` for the list",
            summary.warnings.len()
        )?;
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn validate_command(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let report = validate(&args.source.path, &args.source.options());
    let failed = report
        .problems
        .iter()
        .any(|p| p.severity == Severity::Error || args.strict);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        for problem in &report.problems {
            writeln!(out, "{problem}")?;
        }
        let errors = report
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count();
        let warnings = report.problems.len() - errors;
        let verdict = if failed { "FAILED" } else { "ok" };
        writeln!(
            out,
            "{}: {verdict}: {errors} error(s), {warnings} warning(s), {} file(s) checked",
            args.source.path.display(),
            report.files_checked
        )?;
    }
    Ok(ExitCode::from(if failed { EXIT_ERROR } else { EXIT_OK }))
}

fn synth(args: &SynthArgs) -> anyhow::Result<ExitCode> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let is_toml = path.extension().is_some_and(|e| e == "toml");
            if is_toml {
                toml::from_str(&text).with_context(|| {
                    format!("parsing {} as a generator configuration", path.display())
                })?
            } else {
                serde_json::from_str(&text).with_context(|| {
                    format!("parsing {} as a generator configuration", path.display())
                })?
            }
        }
        None => SynthConfig::with_seed(7),
    };
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if let Some(rows) = args.rows {
        config.length = rows;
    }
    let dataset = generate(&config).context("generating the synthetic dataset")?;
    write_synth(&dataset, &config, &args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    tracing::info!(out = %args.out.display(), series = dataset.series.len(), "wrote synthetic dataset");
    println!(
        "wrote {} series, {} rows, {} incidents to {} (fingerprint {})",
        dataset.series.len(),
        dataset.row_count(),
        dataset.incident_count(),
        args.out.display(),
        dataset.fingerprint()
    );
    Ok(ExitCode::from(EXIT_OK))
}
