//! Pull metric history and alert incidents straight from a Prometheus server.
//!
//! `vigil datasets pull` runs `query_range` for each query over a step grid, cut into chunks
//! under Prometheus' 11,000-points-per-series limit, with retries and backoff on transient
//! failures and bearer / basic credentials from the environment. Each query becomes one series
//! (`DIR/<name>.parquet`, one column per label set, NaN where Prometheus returned no point); an
//! `ALERTS`-style query becomes incident windows in `DIR/labels.csv`; `DIR/pull.json` records
//! the server, queries, range, step, pull time and the dataset fingerprint. The folder reads
//! back with `vigil_datasets::load_generic`.
//!
//! This is its own crate (not a `datasets` feature) so that the HTTP client stays at the edge:
//! `vigil-datasets` builds without it for every other user, and the real-server tests form
//! their own test binary.

pub mod assemble;
pub mod chunk;
pub mod client;
pub mod error;
pub mod incidents;
pub mod output;
pub mod promql;
pub mod queries;
pub mod retry;
pub mod run;
pub mod target;
pub mod time;

pub use chunk::{Chunk, Grid};
pub use error::{PullError, Result};
pub use output::{PullMetadata, read_metadata, write_pull};
pub use queries::{Query, QueryArg, read_query_file, resolve_names};
pub use retry::RetryPolicy;
pub use run::{Progress, PullSpec, Pulled, ValidPull};
pub use target::{Auth, ServerUrl};
