//! `vigil registry …`: browse and operate the experiment tracker and model registry.
//!
//! Human tables by default, `--json` for machines; data goes to stdout, logs to stderr.
//! `get MODEL@champion --out DIR` is the stable read path for runtime services.

mod render;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use render::{compare_table, first_line, number, plain, show_run, show_version, table, time};
use serde_json::{Value, json};
use vigil_registry::{
    DEFAULT_DB_URL, ExpectedAlias, ModelRef, ModelVersion, Registry, RegistryError,
    RegistryOptions, RunDetails, RunFilter, RunStatus,
};

/// Arguments of `vigil registry`.
#[derive(Debug, clap::Args)]
pub struct RegistryArgs {
    /// Registry database: sqlite://PATH or postgres://USER@HOST:PORT/DB.
    #[arg(
        long = "registry",
        visible_alias = "db",
        env = "VIGIL_DB",
        default_value = DEFAULT_DB_URL,
        global = true
    )]
    pub db: String,
    /// Artifact directory (default: `<db stem>-artifacts` beside a SQLite file).
    #[arg(long, env = "VIGIL_ARTIFACTS", global = true)]
    pub artifacts: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: RegistryCommand,
}

/// Run statuses accepted by `--status`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StatusArg {
    /// Still logging.
    Running,
    /// Completed.
    Finished,
    /// Ended with an error.
    Failed,
    /// Stopped from outside.
    Killed,
}

impl From<StatusArg> for RunStatus {
    fn from(status: StatusArg) -> Self {
        match status {
            StatusArg::Running => RunStatus::Running,
            StatusArg::Finished => RunStatus::Finished,
            StatusArg::Failed => RunStatus::Failed,
            StatusArg::Killed => RunStatus::Killed,
        }
    }
}

/// The `vigil registry` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum RegistryCommand {
    /// List experiments with their run counts.
    Experiments,
    /// List runs, newest first.
    Runs {
        /// Only runs of this experiment.
        #[arg(long)]
        experiment: Option<String>,
        /// Only runs with this status.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        /// Only runs of this spec hash.
        #[arg(long)]
        spec_hash: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// List registered models with their newest version and aliases.
    Models,
    /// List the versions of a model.
    Versions {
        /// Model name.
        model: String,
    },
    /// Show a run (by id) or a version (MODEL, MODEL@VERSION or MODEL@ALIAS).
    Show {
        /// Run id or model reference.
        target: String,
    },
    /// Compare runs and/or versions side by side: parameters and final metrics.
    Compare {
        /// Two or more run ids or model references.
        #[arg(required = true, num_args = 2..)]
        targets: Vec<String>,
    },
    /// Point an alias (default `champion`) at a version, recorded in the audit log.
    Promote {
        /// Model name.
        model: String,
        /// Version number to promote.
        version: i64,
        /// Alias to move.
        #[arg(long, default_value = "champion")]
        alias: String,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: String,
        /// Where the alias must point now: a version number or `none`. Default: where it
        /// points when read, so a concurrent move makes this promotion fail instead of
        /// silently overwriting it.
        #[arg(long)]
        expect: Option<String>,
        /// Who promotes (kept in the audit log).
        #[arg(long, env = "USER", default_value = "unknown")]
        who: String,
    },
    /// Show a model's aliases and their audit log.
    Aliases {
        /// Model name.
        model: String,
    },
    /// List artifact blobs with their references.
    Artifacts {
        /// Re-hash every blob and report missing or corrupt ones (exit 1 if any).
        #[arg(long)]
        verify: bool,
    },
    /// Delete artifact blobs and rows that nothing references.
    Gc {
        /// Report what would be deleted without deleting.
        #[arg(long)]
        dry_run: bool,
        /// Keep anything younger than this many seconds (it may belong to a write in
        /// progress).
        #[arg(long, default_value_t = 3600)]
        min_age_secs: u64,
    },
    /// Write a version's artifacts and manifest.json into a directory.
    Get {
        /// MODEL, MODEL@VERSION or MODEL@ALIAS.
        reference: String,
        /// Output directory (created if needed).
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs `vigil registry …`. Exit code 0 on success, 1 when `artifacts --verify` finds damage;
/// errors are returned for the caller to report (exit 2).
pub fn run(args: &RegistryArgs) -> anyhow::Result<ExitCode> {
    let mut options = RegistryOptions::new(&args.db);
    if let Some(dir) = &args.artifacts {
        options = options.artifact_dir(dir);
    }
    let registry = Registry::open_with(&options)
        .with_context(|| format!("opening registry {}", vigil_registry::redact(&args.db)))?;
    let out = Output { json: args.json };
    match &args.command {
        RegistryCommand::Experiments => {
            let experiments = registry.experiments()?;
            out.emit(&experiments, || {
                table(
                    &["EXPERIMENT", "RUNS", "CREATED", "DESCRIPTION"],
                    experiments.iter().map(|e| {
                        vec![
                            e.name.clone(),
                            e.run_count.to_string(),
                            time(e.created_at_ms),
                            e.description.clone(),
                        ]
                    }),
                )
            })?;
        }
        RegistryCommand::Runs {
            experiment,
            status,
            spec_hash,
            limit,
        } => {
            let runs = registry.runs(&RunFilter {
                experiment: experiment.clone(),
                status: status.map(RunStatus::from),
                spec_hash: spec_hash.clone(),
                limit: Some(*limit),
            })?;
            out.emit(&runs, || {
                table(
                    &["RUN", "EXPERIMENT", "STATUS", "STARTED", "TRIAL", "NAME"],
                    runs.iter().map(|r| {
                        vec![
                            r.id.clone(),
                            r.info.experiment.clone(),
                            r.status.to_string(),
                            time(r.info.started_at_ms),
                            r.info.trial_key.clone().unwrap_or_default(),
                            r.info.name.clone(),
                        ]
                    }),
                )
            })?;
        }
        RegistryCommand::Models => {
            let models = registry.models()?;
            out.emit(&models, || {
                table(
                    &["MODEL", "LATEST", "ALIASES", "DESCRIPTION"],
                    models.iter().map(|m| {
                        vec![
                            m.name.clone(),
                            m.latest_version.map(|v| v.to_string()).unwrap_or_default(),
                            m.aliases
                                .iter()
                                .map(|(a, v)| format!("{a}={v}"))
                                .collect::<Vec<_>>()
                                .join(" "),
                            m.description.clone(),
                        ]
                    }),
                )
            })?;
        }
        RegistryCommand::Versions { model } => {
            let versions = registry.versions(model)?;
            out.emit(&versions, || {
                table(
                    &[
                        "VERSION",
                        "CREATED",
                        "BY",
                        "THRESHOLD",
                        "ALIASES",
                        "RUN",
                        "METRICS",
                    ],
                    versions.iter().map(|v| {
                        vec![
                            v.version.to_string(),
                            time(v.created_at_ms),
                            v.created_by.clone(),
                            v.threshold.to_string(),
                            v.aliases.join(" "),
                            v.run_id.clone().unwrap_or_default(),
                            v.metrics
                                .iter()
                                .map(|(k, x)| format!("{k}={}", number(*x)))
                                .collect::<Vec<_>>()
                                .join(" "),
                        ]
                    }),
                )
            })?;
        }
        RegistryCommand::Show { target } => match resolve(&registry, target)? {
            Target::Run(run) => out.emit(&run, || show_run(&run))?,
            Target::Version(version) => out.emit(&version, || show_version(&version))?,
        },
        RegistryCommand::Compare { targets } => {
            let columns = targets
                .iter()
                .map(|t| resolve(&registry, t).map(|r| r.comparable(t)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let json_view: Vec<Value> = columns
                .iter()
                .map(|c| json!({"target": c.label, "params": c.params, "metrics": c.metrics}))
                .collect();
            out.emit(&json_view, || compare_table(&columns))?;
        }
        RegistryCommand::Promote {
            model,
            version,
            alias,
            reason,
            expect,
            who,
        } => {
            let expected = match expect.as_deref() {
                Some("none") => ExpectedAlias::Unset,
                Some(v) => ExpectedAlias::At(v.parse().with_context(|| {
                    format!("--expect {v:?} is neither a version number nor `none`")
                })?),
                None => ExpectedAlias::from_current(registry.aliases(model)?.get(alias).copied()),
            };
            let moved = registry.move_alias(model, alias, *version, expected, who, reason)?;
            out.emit(&moved, || {
                let from = moved
                    .from_version
                    .map_or_else(|| "unset".to_owned(), |v| v.to_string());
                format!(
                    "{}@{}: {from} -> {} (audit #{}, by {})\n",
                    moved.model, moved.alias, version, moved.seq, moved.moved_by
                )
            })?;
        }
        RegistryCommand::Aliases { model } => {
            let aliases = registry.aliases(model)?;
            let history = registry.alias_history(model)?;
            let view = json!({"aliases": aliases, "history": history});
            out.emit(&view, || {
                let mut text = table(
                    &["ALIAS", "VERSION"],
                    aliases.iter().map(|(a, v)| vec![a.clone(), v.to_string()]),
                );
                text.push('\n');
                text.push_str(&table(
                    &["#", "WHEN", "ALIAS", "FROM", "TO", "WHO", "WHY"],
                    history.iter().map(|h| {
                        let pos =
                            |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
                        vec![
                            h.seq.to_string(),
                            time(h.moved_at_ms),
                            h.alias.clone(),
                            pos(h.from_version),
                            pos(h.to_version),
                            h.moved_by.clone(),
                            h.reason.clone(),
                        ]
                    }),
                ));
                text
            })?;
        }
        RegistryCommand::Artifacts { verify } => {
            let rows = registry.artifact_rows()?;
            let mut damaged = 0;
            let checked: Vec<Value> = rows
                .iter()
                .map(|row| {
                    let state = if *verify {
                        match registry.read_artifact(&row.artifact.sha256) {
                            Ok(_) => "ok".to_owned(),
                            Err(err) => {
                                damaged += 1;
                                first_line(&err.to_string())
                            }
                        }
                    } else {
                        "unchecked".to_owned()
                    };
                    json!({"artifact": row, "state": state})
                })
                .collect();
            out.emit(&checked, || {
                table(
                    &["SHA256", "BYTES", "MEDIA TYPE", "REFS", "STATE"],
                    rows.iter().zip(&checked).map(|(row, c)| {
                        vec![
                            row.artifact.sha256.clone(),
                            row.artifact.size_bytes.to_string(),
                            row.artifact.media_type.clone(),
                            row.references.to_string(),
                            c["state"].as_str().unwrap_or_default().to_owned(),
                        ]
                    }),
                )
            })?;
            if damaged > 0 {
                eprintln!("{damaged} artifact(s) missing or corrupt");
                return Ok(ExitCode::from(1));
            }
        }
        RegistryCommand::Gc {
            dry_run,
            min_age_secs,
        } => {
            let report = registry.gc(*dry_run, Duration::from_secs(*min_age_secs))?;
            out.emit(&report, || {
                let verb = if report.dry_run { "would remove" } else { "removed" };
                format!(
                    "{verb} {} unreferenced artifact row(s), {} blob file(s) ({} bytes), {} temp file(s); kept {} recent blob(s)\n",
                    report.unreferenced_rows.len(),
                    report.removed_files.len(),
                    report.removed_bytes,
                    report.removed_temp_files,
                    report.kept_recent
                )
            })?;
        }
        RegistryCommand::Get {
            reference,
            out: dir,
        } => {
            let reference: ModelRef = reference.parse()?;
            let manifest = registry
                .get(&reference, dir)
                .with_context(|| format!("getting {reference} into {}", dir.display()))?;
            out.emit(&manifest, || {
                format!(
                    "wrote {}@{} ({} artifact(s), threshold {}) to {}\n",
                    manifest.model,
                    manifest.version,
                    manifest.artifacts.len(),
                    manifest.threshold,
                    dir.display()
                )
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where output goes and in which form.
struct Output {
    json: bool,
}

impl Output {
    fn emit<T: serde::Serialize>(
        &self,
        value: &T,
        human: impl FnOnce() -> String,
    ) -> anyhow::Result<()> {
        let mut stdout = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer_pretty(&mut stdout, value)?;
            writeln!(stdout)?;
        } else {
            stdout.write_all(human().as_bytes())?;
        }
        Ok(())
    }
}

/// What `show` and `compare` resolve a target to.
enum Target {
    Run(Box<RunDetails>),
    Version(Box<ModelVersion>),
}

/// One column of `compare`.
struct Comparable {
    label: String,
    params: BTreeMap<String, String>,
    metrics: BTreeMap<String, f64>,
}

impl Target {
    fn comparable(self, label: &str) -> Comparable {
        match self {
            Target::Run(run) => Comparable {
                label: label.to_owned(),
                metrics: run.final_metrics(),
                params: run.params,
            },
            Target::Version(version) => {
                let mut params: BTreeMap<String, String> = match &version.spec {
                    Value::Object(map) => map
                        .iter()
                        .map(|(k, v)| (format!("spec.{k}"), plain(v)))
                        .collect(),
                    other => [("spec".to_owned(), other.to_string())].into(),
                };
                params.insert("threshold".to_owned(), version.threshold.to_string());
                Comparable {
                    label: format!("{}@{}", version.model, version.version),
                    params,
                    metrics: version.metrics,
                }
            }
        }
    }
}

/// A 32-hex string is a run id; anything else is a model reference.
fn resolve(registry: &Registry, target: &str) -> anyhow::Result<Target> {
    let looks_like_run = target.len() == 32 && target.bytes().all(|b| b.is_ascii_hexdigit());
    if looks_like_run {
        match registry.run(target) {
            Ok(run) => return Ok(Target::Run(Box::new(run))),
            Err(RegistryError::NotFound { .. }) => {}
            Err(err) => return Err(err.into()),
        }
    }
    let reference: ModelRef = match target.parse() {
        Ok(reference) => reference,
        Err(err) if looks_like_run => bail!("no run or model {target:?}: {err}"),
        Err(err) => return Err(err.into()),
    };
    Ok(Target::Version(Box::new(registry.resolve(&reference)?)))
}
