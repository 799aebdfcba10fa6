//! `vigil gate SPEC`: the CI accuracy gate. Evaluates the gate's fixed-parameter experiment,
//! compares it with the baseline (a committed JSON, or a registered version or alias) and
//! prints what changed per dataset and series. Exit 0 when it passes, 1 when a watched metric
//! got worse beyond its tolerance (each failure named), 2 on error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use comfy_table::{Cell, Table, presets::UTF8_FULL_CONDENSED};
use vigil_experiments::gate::{self, Check, Comparison, Verdict};

use super::{EXIT_ERROR, EXIT_GATE_FAILED, EXIT_OK};

/// `vigil gate …`
#[derive(Debug, clap::Args)]
pub struct GateArgs {
    /// The gate spec (TOML), e.g. experiments/specs/gate.toml.
    pub spec: PathBuf,
    /// Write the current numbers as the baseline JSON to PATH instead of comparing.
    #[arg(long, value_name = "PATH")]
    pub write_baseline: Option<PathBuf>,
    /// Compare with this baseline JSON instead of the spec's.
    #[arg(long, value_name = "PATH", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,
    /// Registry URL for a `baseline.model` reference (overrides `baseline.registry`).
    #[arg(long, visible_alias = "db", env = "VIGIL_DB")]
    pub registry: Option<String>,
    /// Worker threads (results do not depend on it).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Show every series row, not only the changed ones.
    #[arg(long)]
    pub all: bool,
}

/// Runs the verb.
pub fn run(args: &GateArgs) -> anyhow::Result<ExitCode> {
    match gate_inner(args) {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            Ok(ExitCode::from(EXIT_ERROR))
        }
    }
}

fn gate_inner(args: &GateArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let loaded = gate::load_gate(&args.spec)?;
    let current = gate::evaluate(&loaded, args.threads)?;
    let mut out = std::io::stdout().lock();
    if let Some(path) = &args.write_baseline {
        gate::write_baseline(path, &current)?;
        let entries: usize = current.datasets.values().map(|d| d.entries.len()).sum();
        writeln!(
            out,
            "gate {}: baseline written to {} ({} datasets, {entries} entries) in {:.1} s",
            loaded.spec.name,
            path.display(),
            current.datasets.len(),
            started.elapsed().as_secs_f64()
        )?;
        return Ok(ExitCode::from(EXIT_OK));
    }
    let (baseline, source, fingerprints) = match (&args.baseline, &loaded.baseline_path) {
        (Some(path), _) | (None, Some(path)) => {
            (gate::read_baseline(path)?, path.display().to_string(), true)
        }
        (None, None) => {
            let reference = loaded
                .spec
                .baseline
                .model
                .clone()
                .ok_or_else(|| anyhow::anyhow!("the gate names no baseline"))?;
            let url = args
                .registry
                .clone()
                .or_else(|| loaded.spec.baseline.registry.clone())
                .unwrap_or_else(|| vigil_registry::DEFAULT_DB_URL.to_string());
            let registry = vigil_registry::Registry::open(&url)?;
            let b = gate::baseline_from_registry(&registry, &reference, &current)?;
            let source = format!("registry version {}", b.gate);
            (b, source, false)
        }
    };
    let comparison = gate::compare(&loaded.spec, &baseline, &current, fingerprints)?;
    print_comparison(&mut out, &comparison, args.all)?;
    let failures = comparison.failures();
    let gating = comparison.checks.iter().filter(|c| c.gating).count();
    writeln!(out)?;
    if failures.is_empty() {
        writeln!(
            out,
            "gate {}: PASSED ({gating} checks against {source}) in {:.1} s",
            loaded.spec.name,
            started.elapsed().as_secs_f64()
        )?;
        Ok(ExitCode::from(EXIT_OK))
    } else {
        writeln!(
            out,
            "gate {}: FAILED, {} of {gating} checks against {source} ({:.1} s):",
            loaded.spec.name,
            failures.len(),
            started.elapsed().as_secs_f64()
        )?;
        for f in &failures {
            writeln!(out, "  FAIL {}", f.describe())?;
        }
        writeln!(
            out,
            "hint: if the change is intended, rewrite the baseline with `vigil gate {} --write-baseline PATH` and commit it",
            args.spec.display()
        )?;
        Ok(ExitCode::from(EXIT_GATE_FAILED))
    }
}

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4}")
    } else {
        "—".into()
    }
}

/// One table per dataset: each entry's aggregate per watched metric, then the series whose
/// numbers changed (every series with `all`).
fn print_comparison(
    out: &mut impl Write,
    comparison: &Comparison,
    all: bool,
) -> std::io::Result<()> {
    let mut datasets: Vec<&str> = comparison
        .checks
        .iter()
        .map(|c| c.dataset.as_str())
        .collect();
    datasets.dedup();
    for dataset in datasets {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        table.set_header(vec![
            "entry",
            "series",
            "metric",
            "baseline",
            "current",
            "change",
            "tolerance",
            "verdict",
            "note",
        ]);
        let rows: Vec<&Check> = comparison
            .checks
            .iter()
            .filter(|c| c.dataset == dataset)
            .filter(|c| all || c.series.is_none() || c.gating || c.verdict != Verdict::Same)
            .collect();
        let hidden = comparison
            .checks
            .iter()
            .filter(|c| c.dataset == dataset)
            .count()
            - rows.len();
        for c in rows {
            let series = c
                .series
                .as_deref()
                .map(|s| s.strip_prefix(&format!("{dataset}/")).unwrap_or(s))
                .unwrap_or("(dataset)");
            let change = if c.baseline.is_finite() && c.current.is_finite() {
                format!("{:+.4}", c.delta())
            } else {
                "—".into()
            };
            let verdict = if c.gating {
                c.verdict.word().to_string()
            } else {
                format!("({})", c.verdict.word())
            };
            let note: String = c.note.chars().take(90).collect();
            table.add_row(vec![
                Cell::new(&c.entry),
                Cell::new(series),
                Cell::new(c.metric.name()),
                Cell::new(num(c.baseline)),
                Cell::new(num(c.current)),
                Cell::new(change),
                Cell::new(if c.gating {
                    format!("{}", c.tolerance)
                } else {
                    String::new()
                }),
                Cell::new(verdict),
                Cell::new(note),
            ]);
        }
        writeln!(out, "\ndataset {dataset}")?;
        writeln!(out, "{table}")?;
        if hidden > 0 {
            writeln!(
                out,
                "({hidden} unchanged series rows hidden; --all shows them)"
            )?;
        }
    }
    Ok(())
}
