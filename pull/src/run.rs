//! A pull from settings to data: [`PullSpec`] (as given) → [`PullSpec::check`] →
//! [`ValidPull`] (cannot be wrong) → [`ValidPull::run`] → [`Pulled`].

use std::time::Duration;

use ndarray::Array2;
use vigil_datasets::{LabelRow, Series};

use crate::assemble::{Assembler, Column};
use crate::chunk::{Chunk, DEFAULT_POINTS_PER_CHUNK, Grid, PROMETHEUS_MAX_RESOLUTION};
use crate::client::Client;
use crate::error::{PullError, Result};
use crate::incidents::{firing_windows, label_rows};
use crate::promql::{is_counter_name, raw_counters};
use crate::queries::Query;
use crate::retry::RetryPolicy;
use crate::target::{Auth, ServerUrl};
use crate::time::{format_duration, show};

/// Most grid points per series one pull holds in memory (a year of 1-second steps is 31.5M).
pub const MAX_POINTS: u64 = 50_000_000;

/// What to pull, as given (times already resolved to ms).
#[derive(Debug, Clone)]
pub struct PullSpec {
    /// The Prometheus base URL.
    pub server: ServerUrl,
    /// Credentials, read from the environment.
    pub auth: Auth,
    /// Named queries; each becomes one output series (file).
    pub queries: Vec<Query>,
    /// An `ALERTS`-style query whose firing intervals become incident windows.
    pub incidents: Option<String>,
    /// Range start (ms UTC, inclusive).
    pub start: i64,
    /// Range end (ms UTC, inclusive).
    pub end: i64,
    /// Evaluation step (ms).
    pub step: i64,
    /// Pull raw counters instead of refusing them.
    pub allow_counter: bool,
    /// Grid points per request (1 ..= 11,000).
    pub points_per_chunk: u64,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// Limit on each request.
    pub timeout: Duration,
}

impl PullSpec {
    /// A spec with the default chunk size, retry policy and a 60 s request timeout.
    pub fn new(server: ServerUrl, queries: Vec<Query>, start: i64, end: i64, step: i64) -> Self {
        Self {
            server,
            auth: Auth::None,
            queries,
            incidents: None,
            start,
            end,
            step,
            allow_counter: false,
            points_per_chunk: DEFAULT_POINTS_PER_CHUNK,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
        }
    }

    /// Checks everything that can be checked without the server: the range, its size, the
    /// chunk size, and that no query reads a raw counter (unless allowed).
    pub fn check(self) -> Result<ValidPull> {
        if self.end < self.start {
            return Err(PullError::ReversedRange {
                start: show(self.start),
                end: show(self.end),
            });
        }
        let points = (self.end as i128 - self.start as i128) / self.step.max(1) as i128 + 1;
        if self.step <= 0 || points > MAX_POINTS as i128 {
            return Err(PullError::RangeTooLarge {
                start: show(self.start),
                end: show(self.end),
                step: format_duration(self.step),
                points: points.min(u64::MAX as i128) as u64,
                limit: MAX_POINTS,
            });
        }
        if !(1..=PROMETHEUS_MAX_RESOLUTION).contains(&self.points_per_chunk) {
            return Err(PullError::bad_query(
                format!("--max-points {} is out of range", self.points_per_chunk),
                "give 1 to 11000 points per request (Prometheus refuses more than 11,000)",
            ));
        }
        if !self.allow_counter {
            for query in &self.queries {
                if let Some(metric) = raw_counters(&query.query).into_iter().next() {
                    return Err(PullError::RawCounter {
                        name: query.name.clone(),
                        query: query.query.clone(),
                        metric,
                    });
                }
            }
        }
        let grid = Grid::new(self.start, self.end, self.step);
        Ok(ValidPull { spec: self, grid })
    }
}

/// A checked pull.
#[derive(Debug)]
pub struct ValidPull {
    spec: PullSpec,
    grid: Grid,
}

/// Where a pull stands, for progress bars.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// A query starts: its name and how many chunks it takes.
    Started { name: &'a str, chunks: usize },
    /// One more chunk of the query arrived.
    Chunk {
        name: &'a str,
        done: usize,
        chunks: usize,
    },
    /// The query is done with this many label sets.
    Finished { name: &'a str, series: usize },
}

/// What one query gave.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QueryReport {
    /// Output name (file stem).
    pub name: String,
    /// The PromQL.
    pub query: String,
    /// Column names (label sets), in file order.
    pub columns: Vec<String>,
    /// Requests made (chunks).
    pub chunks: usize,
    /// Samples received.
    pub samples: u64,
}

/// The result of a pull, ready to write.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The evaluation grid shared by every series.
    pub grid: Grid,
    /// One series per query (named by the query), one channel per label set.
    pub series: Vec<Series>,
    /// Per-query details, in query order.
    pub reports: Vec<QueryReport>,
    /// Incident windows, when an incidents query was given.
    pub labels: Option<Vec<LabelRow>>,
    /// Label sets the incidents query returned (before filtering to firing ones).
    pub alert_series: usize,
    /// Prometheus' warnings, prefixed with the query name.
    pub warnings: Vec<String>,
}

impl ValidPull {
    /// The checked settings.
    pub fn spec(&self) -> &PullSpec {
        &self.spec
    }

    /// The evaluation grid.
    pub fn grid(&self) -> Grid {
        self.grid
    }

    /// Pulls every query (and the incidents query), reporting progress through `progress`.
    ///
    /// An empty result, a PromQL error, an HTTP error or a raw counter in the answer (unless
    /// allowed) stops the pull with an error naming the query.
    pub fn run(&self, progress: &mut dyn FnMut(Progress<'_>)) -> Result<Pulled> {
        let spec = &self.spec;
        let client = Client::new(
            spec.server.clone(),
            spec.auth.clone(),
            spec.retry,
            spec.timeout,
        );
        let chunks = self.grid.chunks(spec.points_per_chunk);
        let mut warnings = Vec::new();
        let mut outputs: Vec<(QueryReport, Vec<Column>)> = Vec::with_capacity(spec.queries.len());
        for query in &spec.queries {
            let (columns, samples) = self.pull_one(
                &client,
                &query.name,
                &query.query,
                &chunks,
                &mut warnings,
                progress,
            )?;
            if columns.is_empty() {
                return Err(PullError::EmptyResult {
                    name: query.name.clone(),
                    query: query.query.clone(),
                    start: show(self.grid.start),
                    end: show(self.grid.end()),
                });
            }
            if !spec.allow_counter
                && let Some(metric) = columns
                    .iter()
                    .filter_map(|c| c.labels.get("__name__"))
                    .find(|name| is_counter_name(name))
            {
                return Err(PullError::RawCounter {
                    name: query.name.clone(),
                    query: query.query.clone(),
                    metric: metric.clone(),
                });
            }
            let report = QueryReport {
                name: query.name.clone(),
                query: query.query.clone(),
                columns: columns.iter().map(|c| c.name.clone()).collect(),
                chunks: chunks.len(),
                samples,
            };
            outputs.push((report, columns));
        }

        let mut labels = None;
        let mut alert_series = 0;
        if let Some(incidents) = &spec.incidents {
            let (alerts, _) = self.pull_one(
                &client,
                "incidents",
                incidents,
                &chunks,
                &mut warnings,
                progress,
            )?;
            alert_series = alerts.len();
            if alerts.is_empty() {
                tracing::warn!(
                    "the incidents query {incidents} returned no alerts in the range; labels.csv will hold no windows"
                );
            }
            let windows = firing_windows(&alerts, &self.grid);
            let named: Vec<(&str, &[Column])> = outputs
                .iter()
                .map(|(report, columns)| (report.name.as_str(), columns.as_slice()))
                .collect();
            let rows = label_rows(&windows, &named);
            tracing::info!(
                "{} firing window(s) give {} incident label(s)",
                windows.len(),
                rows.len()
            );
            labels = Some(rows);
        }

        let times: Vec<i64> = (0..self.grid.points).map(|k| self.grid.time(k)).collect();
        let mut series = Vec::with_capacity(outputs.len());
        let mut reports = Vec::with_capacity(outputs.len());
        for (report, columns) in outputs {
            let rows = times.len();
            let mut values = Array2::from_elem((rows, columns.len()), f64::NAN);
            for (j, column) in columns.iter().enumerate() {
                values
                    .column_mut(j)
                    .iter_mut()
                    .zip(&column.values)
                    .for_each(|(cell, v)| *cell = *v);
            }
            series.push(Series::new(
                report.name.clone(),
                times.clone(),
                report.columns.clone(),
                values,
            ));
            reports.push(report);
        }
        Ok(Pulled {
            grid: self.grid,
            series,
            reports,
            labels,
            alert_series,
            warnings,
        })
    }

    /// Pulls one query chunk by chunk; returns its columns and the sample count.
    fn pull_one(
        &self,
        client: &Client,
        name: &str,
        query: &str,
        chunks: &[Chunk],
        warnings: &mut Vec<String>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<(Vec<Column>, u64)> {
        progress(Progress::Started {
            name,
            chunks: chunks.len(),
        });
        let mut assembler = Assembler::new(self.grid);
        for (i, chunk) in chunks.iter().enumerate() {
            let answer = client.query_range(name, query, chunk.start, chunk.end, self.grid.step)?;
            for warning in &answer.warnings {
                tracing::warn!("query {name:?}: Prometheus warned: {warning}");
                warnings.push(format!("{name}: {warning}"));
            }
            assembler
                .add(chunk, answer)
                .map_err(|reason| PullError::BadResponse {
                    name: name.to_owned(),
                    url: client.server().endpoint("/api/v1/query_range"),
                    reason,
                })?;
            progress(Progress::Chunk {
                name,
                done: i + 1,
                chunks: chunks.len(),
            });
        }
        let samples = assembler.samples();
        let columns = assembler.finish();
        progress(Progress::Finished {
            name,
            series: columns.len(),
        });
        tracing::info!(
            "query {name:?}: {} label set(s), {samples} samples in {} request(s)",
            columns.len(),
            chunks.len()
        );
        Ok((columns, samples))
    }
}
