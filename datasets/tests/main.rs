//! One integration-test binary for the crate (one link); each area is a module.

mod rowbased_fixtures;
mod split;
mod synth;

mod loaders {
    mod smd;
    mod ucr;
}
