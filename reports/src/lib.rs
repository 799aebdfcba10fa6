//! `vigil-reports`: self-contained HTML reports from plain data. Plots are inline SVG drawn
//! with plotters; the page carries its own CSS and a tiny table-sorting script, and fetches
//! nothing (no external URL appears in the output).
//!
//! * [`input`]: the serde input types ([`ExperimentReport`], [`ModelCard`], [`Comparison`]).
//! * [`render_experiment`], [`render_model_card`], [`render_comparison`]: one HTML page each.
//! * [`browser`]: a headless-Chromium check of a rendered page (console clean, screenshot).
//! * [`downsample`]: min/max-per-bucket reduction that keeps every spike of long series.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod browser;
pub mod downsample;
pub mod error;
mod html;
pub mod input;
mod plot;
mod render;

pub use error::{ReportError, Result};
pub use input::*;
pub use render::card::render_model_card;
pub use render::comparison::render_comparison;
pub use render::experiment::render_experiment;
