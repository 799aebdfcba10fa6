//! One integration-test binary for the crate (one link); each area is a module.

mod rowbased_fixtures;
mod split;
mod synth;

mod loaders {
    mod common;
    mod fingerprint;
    mod generic;
    mod labels;
    mod nab;
    mod parquet;
    mod prometheus;
    mod smd;
    mod ucr;
}
