//! `vigil-reports`: self-contained HTML reports (inline SVG from plotters, inline CSS and a
//! tiny sorting script; no network fetches) from plain data.
//!
//! * [`input`]: the serde input types ([`ExperimentReport`], [`ModelCard`], [`Comparison`]).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod input;

pub use input::*;
