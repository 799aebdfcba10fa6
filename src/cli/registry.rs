//! `vigil registry …`: browse and operate the experiment tracker and model registry.
//!
//! Human tables by default, `--json` for machines; data goes to stdout, logs to stderr.
//! `get MODEL@champion --out DIR` is the stable read path for runtime services.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use vigil_registry::{
    DEFAULT_DB_URL, ExpectedAlias, ModelRef, ModelVersion, Registry, RegistryError,
    RegistryOptions, RunDetails, RunFilter, RunStatus,
};

/// Arguments of `vigil registry`.
#[derive(Debug, clap::Args)]
pub struct RegistryArgs {
    /// Registry database: sqlite://PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long, env = "VIGIL_DB", default_value = DEFAULT_DB_URL, global = true)]
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

fn show_run(run: &RunDetails) -> String {
    let info = &run.run.info;
    let mut text = String::new();
    let mut field = |name: &str, value: String| text.push_str(&format!("{name:<12} {value}\n"));
    field("run", run.run.id.clone());
    field("experiment", info.experiment.clone());
    field("name", info.name.clone());
    field("status", run.run.status.to_string());
    field("started", time(info.started_at_ms));
    field("ended", run.run.ended_at_ms.map(time).unwrap_or_default());
    field("trial", info.trial_key.clone().unwrap_or_default());
    field("git commit", info.git_commit.clone().unwrap_or_default());
    field("spec hash", info.spec_hash.clone().unwrap_or_default());
    field("host", info.host.clone().unwrap_or_default());
    let mut out = text;
    out.push('\n');
    out.push_str(&table(
        &["PARAM", "VALUE"],
        run.params.iter().map(|(k, v)| vec![k.clone(), v.clone()]),
    ));
    out.push('\n');
    out.push_str(&table(
        &["METRIC", "STEP", "VALUE"],
        run.metrics
            .iter()
            .map(|m| vec![m.key.clone(), m.step.to_string(), number(m.value)]),
    ));
    out.push('\n');
    out.push_str(&table(
        &["TAG", "VALUE"],
        run.tags.iter().map(|(k, v)| vec![k.clone(), v.clone()]),
    ));
    out.push('\n');
    out.push_str(&table(
        &["ARTIFACT", "SHA256", "BYTES", "MEDIA TYPE"],
        run.artifacts.iter().map(|a| {
            vec![
                a.name.clone(),
                a.artifact.sha256.clone(),
                a.artifact.size_bytes.to_string(),
                a.artifact.media_type.clone(),
            ]
        }),
    ));
    out.push('\n');
    out.push_str(&table(
        &["DATASET", "ROLE", "DESCRIPTION"],
        run.datasets
            .iter()
            .map(|d| vec![d.fingerprint.clone(), d.role.clone(), d.description.clone()]),
    ));
    out
}

fn show_version(version: &ModelVersion) -> String {
    let mut out = format!(
        "model        {}\nversion      {}\naliases      {}\ncreated      {} by {}\nrun          {}\nthreshold    {}\nstate        {}\nspec         {}\nalert policy {}\ndescription  {}\n\n",
        version.model,
        version.version,
        version.aliases.join(" "),
        time(version.created_at_ms),
        version.created_by,
        version.run_id.clone().unwrap_or_default(),
        version.threshold,
        version.state_artifact,
        version.spec,
        version.alert_policy,
        version.description,
    );
    out.push_str(&table(
        &["METRIC", "VALUE"],
        version
            .metrics
            .iter()
            .map(|(k, v)| vec![k.clone(), number(*v)]),
    ));
    out.push('\n');
    out.push_str(&table(
        &["ARTIFACT", "SHA256", "BYTES", "MEDIA TYPE"],
        version.artifacts.iter().map(|a| {
            vec![
                a.name.clone(),
                a.artifact.sha256.clone(),
                a.artifact.size_bytes.to_string(),
                a.artifact.media_type.clone(),
            ]
        }),
    ));
    out.push('\n');
    out.push_str(&table(
        &["DATASET", "ROLE", "DESCRIPTION"],
        version
            .datasets
            .iter()
            .map(|d| vec![d.fingerprint.clone(), d.role.clone(), d.description.clone()]),
    ));
    out
}

fn compare_table(columns: &[Comparable]) -> String {
    let mut header = vec!["KEY".to_owned()];
    header.extend(columns.iter().map(|c| c.label.clone()));
    let params: BTreeSet<&String> = columns.iter().flat_map(|c| c.params.keys()).collect();
    let metrics: BTreeSet<&String> = columns.iter().flat_map(|c| c.metrics.keys()).collect();
    let mut rows = Vec::new();
    for key in params {
        let mut row = vec![format!("param {key}")];
        row.extend(
            columns
                .iter()
                .map(|c| c.params.get(key).cloned().unwrap_or_else(|| "-".to_owned())),
        );
        rows.push(row);
    }
    for key in metrics {
        let mut row = vec![format!("metric {key}")];
        row.extend(columns.iter().map(|c| {
            c.metrics
                .get(key)
                .map_or_else(|| "-".to_owned(), |v| number(*v))
        }));
        rows.push(row);
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(&header, rows.into_iter())
}

/// Left-aligned columns separated by two spaces.
fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = rows.collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let last = cells.len().saturating_sub(1);
        let mut out = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// UTC time from epoch milliseconds.
fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// A metric for humans: NaN, scientific for tiny or huge magnitudes, else up to 6 decimals.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value != 0.0 && value.is_finite() && !(1e-4..1e12).contains(&value.abs()) {
        format!("{value:e}")
    } else if value.is_finite() {
        let fixed = format!("{value:.6}");
        fixed.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        value.to_string()
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use vigil_registry::{NamedArtifact, NewVersion};

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: RegistryArgs,
    }

    struct Fixture {
        dir: tempfile::TempDir,
        db: String,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().expect("temp dir");
            let db = format!("sqlite://{}", dir.path().join("vigil.db").display());
            Self { dir, db }
        }

        fn run(&self, args: &[&str]) -> anyhow::Result<ExitCode> {
            let mut argv = vec!["registry", "--db", self.db.as_str()];
            argv.extend_from_slice(args);
            run(&Cli::try_parse_from(argv)?.args)
        }

        fn registry(&self) -> Registry {
            Registry::open(&self.db).expect("open")
        }

        fn register(&self, registry: &Registry) -> i64 {
            let state = registry
                .put_artifact(b"{\"mean\": 1.5}", "application/json")
                .expect("state");
            registry
                .register_version(&NewVersion {
                    model: "cpu".to_owned(),
                    run_id: None,
                    spec: json!({"kind": "ewma", "alpha": 0.3}),
                    state_artifact: "state.json".to_owned(),
                    artifacts: vec![NamedArtifact {
                        name: "state.json".to_owned(),
                        artifact: state,
                    }],
                    threshold: 2.5,
                    alert_policy: json!({"min_duration": 1}),
                    metrics: [("f1".to_owned(), 0.75)].into(),
                    datasets: Vec::new(),
                    description: String::new(),
                    created_by: "test".to_owned(),
                })
                .expect("register")
        }
    }

    #[test]
    fn listings_succeed_on_a_fresh_registry() {
        let fx = Fixture::new();
        for args in [
            &["experiments"][..],
            &["runs", "--status", "finished"],
            &["models"],
            &["artifacts", "--verify"],
            &["gc", "--dry-run"],
            &["--json", "experiments"],
        ] {
            assert_eq!(fx.run(args).expect("runs"), ExitCode::SUCCESS, "{args:?}");
        }
    }

    #[test]
    fn promote_moves_with_compare_and_set_and_records_who() {
        let fx = Fixture::new();
        let registry = fx.registry();
        fx.register(&registry);
        fx.register(&registry);
        fx.run(&["promote", "cpu", "1", "--reason", "first", "--who", "alice"])
            .expect("promote 1");
        let err = fx
            .run(&["promote", "cpu", "2", "--reason", "x", "--expect", "none"])
            .expect_err("stale expectation");
        assert!(
            format!("{err:#}").contains("was expected at unset"),
            "{err:#}"
        );
        fx.run(&[
            "promote", "cpu", "2", "--reason", "better", "--expect", "1", "--who", "bob",
        ])
        .expect("promote 2");
        let history = registry.alias_history("cpu").expect("history");
        let moves: Vec<_> = history
            .iter()
            .map(|h| {
                (
                    h.from_version,
                    h.to_version,
                    h.moved_by.as_str(),
                    h.reason.as_str(),
                )
            })
            .collect();
        assert_eq!(
            moves,
            vec![
                (None, Some(1), "alice", "first"),
                (Some(1), Some(2), "bob", "better")
            ]
        );
        assert!(
            fx.run(&["promote", "cpu", "2"]).is_err(),
            "--reason is required"
        );
    }

    #[test]
    fn get_show_compare_and_verify() {
        let fx = Fixture::new();
        let registry = fx.registry();
        fx.register(&registry);
        fx.run(&["promote", "cpu", "1", "--reason", "first"])
            .expect("promote");
        let out = fx.dir.path().join("served");
        let out_arg = out.to_string_lossy().into_owned();
        fx.run(&["get", "cpu@champion", "--out", &out_arg])
            .expect("get");
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest"))
                .expect("json");
        assert_eq!(manifest["version"], 1);
        assert_eq!(manifest["threshold"], 2.5);
        assert_eq!(
            std::fs::read(out.join("state.json")).expect("state"),
            b"{\"mean\": 1.5}"
        );

        fx.register(&registry);
        assert!(fx.run(&["show", "cpu@2"]).is_ok());
        assert!(fx.run(&["compare", "cpu@1", "cpu@champion"]).is_ok());
        assert!(
            fx.run(&["compare", "cpu@1"]).is_err(),
            "compare needs two targets"
        );
        assert!(fx.run(&["show", "cpu@9"]).is_err());

        assert_eq!(
            fx.run(&["artifacts", "--verify"]).expect("verify"),
            ExitCode::SUCCESS
        );
        let sha = &registry
            .resolve(&"cpu@1".parse().expect("ref"))
            .expect("v1")
            .artifacts[0]
            .artifact
            .sha256;
        let path = registry.artifacts().path_of(sha).expect("path");
        std::fs::write(path, b"corrupt").expect("corrupt");
        assert_eq!(
            fx.run(&["artifacts", "--verify"]).expect("verify"),
            ExitCode::from(1)
        );
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(0.75), "0.75");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(1e-9), "1e-9");
        assert_eq!(number(0.0), "0");
    }
}
