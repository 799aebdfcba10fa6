//! Labelled operational-metric time series: the data model every other vigil crate shares,
//! loaders for every supported layout, time-based splits and a seeded synthetic generator.
//!
//! polars reads CSV and Parquet at the boundary; inside, a [`Series`] is plain arrays:
//! `i64` millisecond UTC timestamps in file order and an `ndarray::Array2<f64>` of
//! rows × channels, NaN marking a missing value.

pub mod error;
pub mod model;
pub mod summary;

pub use error::{DatasetError, Result};
pub use model::{Dataset, Incident, Layout, Series, Warning};
