//! `vigil-experiments`: the experiment spec (TOML) and the runner behind `vigil run`.
//!
//! * [`spec`]: the spec schema, strict parsing (key, line, hint) and semantic checks.
//! * [`data`]: loading, series/channel selection and time splits.
//! * [`search`]: candidates per family (grid, random, successive halving).
//! * [`metrics`]: headline metric names, directions, and flattening of evaluations.
//! * [`cv`]: cross-validation across groups of series: groups, folds, results.
//! * [`ensemble`]: score normalisation, weighted mean/vote, majority, consensus, learned weights.
//! * [`runner`]: the run itself: tune, test once, register, leaderboard.
//! * [`retrain`]: the retraining job (`vigil retrain`): challenger vs champion on one period.
//! * [`gate`]: the CI accuracy gate (`vigil gate`): fixed parameters against a baseline.
//! * [`report`]: the run as the report crate's input, rendered to one HTML file.
//! * [`scores_out`]: every entry's per-row scores as CSV (`vigil run --scores DIR`).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod apply;
pub mod cv;
pub mod data;
pub mod ensemble;
pub mod error;
pub mod gate;
pub mod metrics;
pub mod report;
pub mod retrain;
pub mod runner;
pub mod scores_out;
pub mod search;
pub mod spec;
pub mod state;
pub mod yardstick;

pub use error::{ExperimentError, Result};
pub use runner::{
    Entry, HoldoutHeadline, Leaderboard, Outcome, RunOptions, Shard, ShardOutcome, run, run_shard,
};
pub use spec::{Spec, load_spec, parse_spec};
