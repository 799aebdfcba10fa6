//! `vigil datasets pull`: metric history and alert incidents straight from Prometheus into a
//! dataset folder (`<name>.parquet` per query, `labels.csv`, `pull.json`) that
//! `vigil datasets inspect DIR` and every loader read back.

use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use vigil_pull::time::{now_ms, parse_duration, parse_time};
use vigil_pull::{
    Auth, Progress, PullSpec, QueryArg, RetryPolicy, ServerUrl, read_query_file, resolve_names,
    write_pull,
};

/// Pull `query_range` results (and alert history as incident labels) from a Prometheus server.
///
/// Long ranges are split into requests under Prometheus' 11,000-points-per-series limit;
/// transient failures are retried with backoff. Each query becomes `OUT/<name>.parquet`: a
/// `timestamp` column (UTC) and one column per label set, empty (NaN) where Prometheus had no
/// point (stale or absent series are never filled in).
#[derive(Debug, Clone, clap::Args)]
pub struct PullArgs {
    /// The Prometheus server's base URL, e.g. http://127.0.0.1:9090.
    #[arg(long = "prometheus", value_name = "URL")]
    pub prometheus: String,
    /// A query to pull, as `PROMQL` or `NAME=PROMQL` (NAME becomes the file name; without it
    /// a name is derived from the query). Repeat for several.
    #[arg(long = "query", value_name = "[NAME=]PROMQL")]
    pub queries: Vec<String>,
    /// A TOML file of queries: `[[query]]` tables with `query = "..."` and an optional
    /// `name = "..."`; pulled after any --query.
    #[arg(long, value_name = "FILE")]
    pub query_file: Option<PathBuf>,
    /// An alert-history query, e.g. 'ALERTS{alertstate="firing", alertname=~"High.*"}': its
    /// firing intervals become incident windows in OUT/labels.csv (kind = alertname, severity
    /// = the severity label), attached to the queries whose labels agree with the alert's.
    #[arg(long, value_name = "PROMQL")]
    pub incidents: Option<String>,
    /// Range start: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC), epoch seconds/ms, or `now-30d`.
    #[arg(long, value_name = "TIME")]
    pub start: String,
    /// Range end (inclusive), in the same forms.
    #[arg(long, value_name = "TIME", default_value = "now")]
    pub end: String,
    /// Evaluation step: 30s, 1m, 5m, 1h…
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub step: String,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace the data files (.csv, .parquet, labels.*, pull.json) already in OUT.
    #[arg(long)]
    pub overwrite: bool,
    /// Pull raw counters as they are instead of refusing them (use rate()/increase() instead).
    #[arg(long)]
    pub allow_counter: bool,
    /// Name of an environment variable holding a bearer token (the token is never logged).
    #[arg(long, value_name = "VAR")]
    pub bearer_token_env: Option<String>,
    /// Name of an environment variable holding `user:password` for basic auth.
    #[arg(long, value_name = "VAR", conflicts_with = "bearer_token_env")]
    pub basic_auth_env: Option<String>,
    /// Limit on each request (connect and answer).
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub timeout: String,
    /// Retries of a transient failure (connection refused or reset, timeout, HTTP 429/5xx),
    /// after 0.5 s, 1 s, 2 s… (at most 10 s each).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// Grid points per request (Prometheus allows 11,000).
    #[arg(long, value_name = "N", default_value_t = 11_000)]
    pub max_points: u64,
}

impl PullArgs {
    /// Resolves the arguments into a pull specification; `now` anchors relative times and
    /// `env` reads the credentials' variables.
    pub fn to_spec(
        &self,
        now: i64,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<PullSpec> {
        let server = ServerUrl::parse(&self.prometheus)?;
        let auth = Auth::from_env(
            self.bearer_token_env.as_deref(),
            self.basic_auth_env.as_deref(),
            env,
        )?;
        let mut args: Vec<QueryArg> = self.queries.iter().map(|q| QueryArg::parse(q)).collect();
        if let Some(file) = &self.query_file {
            args.extend(read_query_file(file)?);
        }
        let queries = resolve_names(args)?;
        let start = parse_time("--start", &self.start, now)?;
        let end = parse_time("--end", &self.end, now)?;
        let step = parse_duration("--step", &self.step)?;
        let timeout = parse_duration("--timeout", &self.timeout)?;
        let mut spec = PullSpec::new(server, queries, start, end, step);
        spec.auth = auth;
        spec.incidents = self.incidents.clone();
        spec.allow_counter = self.allow_counter;
        spec.points_per_chunk = self.max_points;
        spec.retry = RetryPolicy {
            max_retries: self.retries,
            ..RetryPolicy::default()
        };
        spec.timeout = std::time::Duration::from_millis(timeout.unsigned_abs());
        Ok(spec)
    }
}

/// Runs `vigil datasets pull`: prints one line per written file and the fingerprint to stdout.
pub fn run(args: &PullArgs) -> anyhow::Result<ExitCode> {
    let spec = args.to_spec(now_ms(), |name| std::env::var(name).ok())?;
    let valid = spec.clone().check()?;
    tracing::info!(
        "pulling {} quer{} from {} ({}), {} points per series",
        spec.queries.len(),
        if spec.queries.len() == 1 { "y" } else { "ies" },
        spec.server,
        spec.auth.describe(),
        valid.grid().points
    );
    let style = ProgressStyle::with_template(
        "{prefix:>16} [{bar:30}] {pos}/{len} requests {elapsed} {msg}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    let mut bar: Option<ProgressBar> = None;
    let pulled = valid.run(&mut |event| match event {
        Progress::Started { name, chunks } => {
            let b =
                ProgressBar::with_draw_target(Some(chunks as u64), ProgressDrawTarget::stderr())
                    .with_style(style.clone())
                    .with_prefix(name.to_owned());
            bar = Some(b);
        }
        Progress::Chunk { .. } => {
            if let Some(b) = &bar {
                b.inc(1);
            }
        }
        Progress::Finished { series, .. } => {
            if let Some(b) = bar.take() {
                b.finish_with_message(format!("{series} series"));
            }
        }
    })?;
    let metadata = write_pull(&args.out, &spec, &pulled, args.overwrite)?;
    for query in &metadata.queries {
        println!(
            "{}: {} series x {} points -> {}",
            query.report.name,
            query.report.columns.len(),
            metadata.points,
            args.out.join(&query.file).display()
        );
    }
    if let Some(incidents) = &metadata.incidents {
        println!(
            "incidents: {} window(s) from {} alert series -> {}",
            incidents.windows,
            incidents.alert_series,
            args.out.join(&incidents.file).display()
        );
    }
    println!("fingerprint: {}", metadata.fingerprint);
    Ok(ExitCode::SUCCESS)
}
