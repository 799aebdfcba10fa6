//! One error type for pulling from Prometheus. Every message is a single line (the CLI prints
//! it as `error: …` and exits 2) that names the query, URL or argument at fault and ends with
//! `hint: …`. Credentials never appear in a message: URLs are shown without user info and
//! tokens are only ever named by the environment variable that holds them.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T, E = PullError> = std::result::Result<T, E>;

/// Everything that can go wrong while pulling.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(
        "invalid Prometheus URL {url:?}: {reason}; hint: give the server's base URL, like http://127.0.0.1:9090 or https://prometheus.example.com/prom"
    )]
    BadUrl { url: String, reason: String },

    #[error(
        "the Prometheus URL {url:?} carries a user name or password; hint: put `user:pass` in an environment variable and pass --basic-auth-env NAME, so the secret never lands in logs or pull.json"
    )]
    UrlHasCredentials { url: String },

    #[error(
        "{arg}: cannot read {value:?} as a time; hint: use RFC 3339 (2024-01-31T12:00:00Z), `YYYY-MM-DD HH:MM:SS` (UTC), epoch seconds/milliseconds, `now`, or `now-30d` / `now-1h30m`"
    )]
    BadTime { arg: &'static str, value: String },

    #[error(
        "{arg}: cannot read {value:?} as a duration: {reason}; hint: write a Prometheus duration such as 30s, 5m, 1h, 1h30m, 7d or 250ms"
    )]
    BadDuration {
        arg: &'static str,
        value: String,
        reason: String,
    },

    #[error("the range ends ({end}) before it starts ({start}); hint: swap --start and --end")]
    ReversedRange { start: String, end: String },

    #[error(
        "the range {start} .. {end} at step {step} gives {points} points per series, more than the {limit} vigil pulls at once; hint: use a coarser --step or a shorter range"
    )]
    RangeTooLarge {
        start: String,
        end: String,
        step: String,
        points: u64,
        limit: u64,
    },

    #[error(
        "environment variable {var} (named by {flag}) is not set or empty; hint: export {var}=... before running, or drop {flag}"
    )]
    MissingSecret { flag: &'static str, var: String },

    #[error(
        "environment variable {var} (named by --basic-auth-env) does not hold `user:password`; hint: set it to the user name, a colon, then the password"
    )]
    BadBasicAuth { var: String },

    #[error("{message}; hint: {hint}")]
    BadQuery { message: String, hint: String },

    #[error(
        "{path}: {message}; hint: a query file is TOML: [[query]] tables with `name = \"...\"` and `query = \"...\"`"
    )]
    QueryFile { path: PathBuf, message: String },

    #[error(
        "query {name:?} ({query}) reads the raw counter {metric}, whose value only ever grows and resets on restarts; hint: pull rate({metric}[5m]) or increase({metric}[1h]) instead, or pass --allow-counter to keep the raw counter"
    )]
    RawCounter {
        name: String,
        query: String,
        metric: String,
    },

    #[error(
        "query {name:?}: cannot connect to Prometheus at {url}: {reason} (after {attempts} attempt(s)); hint: check the URL and port, and that the server is running and reachable from here"
    )]
    Unreachable {
        name: String,
        url: String,
        reason: String,
        attempts: u32,
    },

    #[error(
        "query {name:?}: no answer from Prometheus at {url} within {timeout} (after {attempts} attempt(s)); hint: raise --timeout, pull a shorter range, or use a coarser --step"
    )]
    Timeout {
        name: String,
        url: String,
        timeout: String,
        attempts: u32,
    },

    #[error(
        "query {name:?}: Prometheus at {url} answered HTTP {status} (not authorised); hint: {hint}"
    )]
    Unauthorized {
        name: String,
        url: String,
        status: u16,
        hint: String,
    },

    #[error(
        "query {name:?}: Prometheus rejected the PromQL {query}: {error}; hint: fix the query (try it in the Prometheus UI's graph tab first)"
    )]
    PromqlSyntax {
        name: String,
        query: String,
        error: String,
    },

    #[error(
        "query {name:?} ({query}): Prometheus failed ({error_type}, HTTP {status}): {error}; hint: {hint}"
    )]
    PrometheusFailed {
        name: String,
        query: String,
        error_type: String,
        status: u16,
        error: String,
        hint: String,
    },

    #[error(
        "query {name:?}: {url} answered HTTP {status}{body}; hint: check that the URL is the Prometheus server's base URL (the one that serves /api/v1/query_range)"
    )]
    HttpStatus {
        name: String,
        url: String,
        status: u16,
        body: String,
    },

    #[error(
        "query {name:?}: {url} did not answer with a Prometheus range-query result: {reason}; hint: check that the URL is the Prometheus server's base URL (the one that serves /api/v1/query_range)"
    )]
    BadResponse {
        name: String,
        url: String,
        reason: String,
    },

    #[error(
        "query {name:?} ({query}) returned no series between {start} and {end}; hint: check the metric name and label matchers in the Prometheus UI, and that the range covers data the server still retains"
    )]
    EmptyResult {
        name: String,
        query: String,
        start: String,
        end: String,
    },

    /// The IO error is part of the message and deliberately not a `source`, so that an error
    /// chain printed with `{:#}` stays one line without repeating it.
    #[error(
        "{path}: cannot write: {error}; hint: check that the folder is writable and the disk has room"
    )]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },

    #[error(transparent)]
    Dataset(#[from] vigil_datasets::DatasetError),
}

impl PullError {
    /// Wraps an IO error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error,
        }
    }

    /// A query problem with its own message and hint.
    pub fn bad_query(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::BadQuery {
            message: message.into(),
            hint: hint.into(),
        }
    }
}
