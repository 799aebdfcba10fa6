//! Labelled operational-metric time series: the data model every other vigil crate shares,
//! loaders for every supported layout, time-based splits and a seeded synthetic generator.
//!
//! polars reads CSV and Parquet at the boundary; inside, a [`Series`] is plain arrays:
//! `i64` millisecond UTC timestamps in file order and an `ndarray::Array2<f64>` of
//! rows × channels, NaN marking a missing value.

pub mod error;
pub mod model;
mod numtext;
pub mod smd;
pub mod split;
pub mod summary;
pub mod synth;
pub mod ucr;

pub use error::{DatasetError, Result};
pub use model::{Dataset, Incident, Layout, Series, Warning};
pub use smd::{load_asd, load_smd};
pub use split::{Split, SplitSpec, probationary_rows, rolling_origin, split};
pub use synth::{AnomalyKind, SynthConfig, generate, write_synth};
pub use ucr::load_ucr;
