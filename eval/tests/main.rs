//! Integration tests of `vigil-eval` against reference implementations (one binary).

#![allow(clippy::unwrap_used)]

mod common;
mod nab_reference;
mod pot_reference;
mod reference_metrics;
mod ucr_reference;
