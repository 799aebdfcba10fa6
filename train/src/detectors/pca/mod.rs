//! (wrapped once the feature transform lands)

pub mod core;
