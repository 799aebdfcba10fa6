//! vigil-pull's integration tests: one binary (see HELPERS.md), one module per area.

mod pull {
    mod harness;
    mod real_server;
    mod stub;
}
