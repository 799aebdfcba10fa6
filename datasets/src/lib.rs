//! Labelled operational-metric time series: the data model every other vigil crate shares,
//! loaders for every supported layout, time-based splits and a seeded synthetic generator.
//!
//! polars reads CSV and Parquet at the boundary; inside, a [`Series`] is plain arrays:
//! `i64` millisecond UTC timestamps in file order and an `ndarray::Array2<f64>` of
//! rows × channels, NaN marking a missing value.

pub mod error;
pub mod generic;
pub mod labels;
pub mod model;
pub mod nab;
pub mod prometheus;
pub mod summary;
pub mod timestamp;

pub use error::{DatasetError, Result};
pub use generic::{GenericOptions, load_generic, write_csv, write_parquet};
pub use labels::{LabelRow, attach_labels, read_labels, write_labels_csv};
pub use model::{Dataset, Incident, Layout, Series, Warning};
pub use nab::{load_nab, load_nab_with_windows};
pub use prometheus::load_prometheus;
pub use timestamp::{format_timestamp, parse_timestamp};
