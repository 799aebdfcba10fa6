//! Integration tests of vigil-train, one binary: reference matches and the catalog-wide
//! conformance test.

mod arima_match;
mod artime_nab;
mod cad_ose_match;
mod common;
mod conformance;
mod cusum_reference;
mod discord_match;
mod holt_winters_match;
mod likelihood_match;
mod linfa_check;
mod lstm_ae;
mod ml_b_match;
mod ml_match;
mod mstl_match;
mod nab_families;
mod rolling_match;
mod stl_shesd_match;
