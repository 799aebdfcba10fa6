//! The report tests, one module per concern.

mod chromium;
pub mod fixtures;
mod size;
pub mod structure;
