//! Command-line arguments and dispatch. Each verb lives in its own module with a `clap::Args`
//! struct and a `run` function returning the process exit code.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod datasets;
pub mod eval;
pub mod export;
pub mod families;
pub mod gate;
pub mod pull;
pub mod registry;
pub mod report;
pub mod retrain;
pub mod run;
pub mod score;
mod version;

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for a failed quality gate (`vigil gate`).
pub const EXIT_GATE_FAILED: u8 = 1;
/// Exit code for an error (bad input, IO, a broken invariant).
pub const EXIT_ERROR: u8 = 2;

/// Train, evaluate, version and ship anomaly detectors for operational metrics.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, about, long_about = None)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect, validate and generate labelled metric datasets.
    Datasets(datasets::DatasetsArgs),
    /// Evaluate anomaly scores from any tool against labelled incidents (NAB, point, event,
    /// range, AUC/VUS metrics; validation-fitted vs oracle thresholds).
    Eval(eval::EvalArgs),
    /// Run an experiment spec: tune every family in parallel, build ensembles, test once,
    /// register the best models and write the report.
    Run(run::RunArgs),
    /// The CI accuracy gate: evaluate fixed parameters and compare with a baseline (exit 1
    /// when a watched metric got worse beyond its tolerance).
    Gate(gate::GateArgs),
    /// The retraining job: train a challenger, judge it and the champion on the same recent
    /// period, promote only when better by the margin.
    Retrain(retrain::RetrainArgs),
    /// Apply a registered version to new data as a runtime service would: per-row score,
    /// decision, severity and alerts (CSV), and vigil's metrics when the data has labels.
    Score(score::ScoreArgs),
    /// Export a registered version to ONNX (`model.onnx`, `spec.json`, `manifest.json`) and
    /// attach the ONNX artifact to the version.
    Export(export::ExportArgs),
    /// The detector families: what each scores, causal or batch, its ONNX form, every
    /// parameter with its default and its search space.
    Families(families::FamiliesArgs),
    /// Re-render an experiment report from the registry, or a registered version's model card.
    Report(report::ReportArgs),
    /// Experiments, runs, models, versions, aliases and artifacts in the registry.
    Registry(registry::RegistryArgs),
}

/// Runs the chosen verb.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Datasets(args) => datasets::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Registry(args) => registry::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Gate(args) => gate::run(&args),
        Command::Retrain(args) => retrain::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Score(args) => score::run(&args),
        Command::Families(args) => families::run(&args),
    }
}

/// Logs go to stderr (data goes to stdout). Warnings by default.
pub fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .compact()
        .init();
}
