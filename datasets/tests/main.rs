//! One integration-test binary for the datasets crate (one link instead of one per file).

mod synth;
