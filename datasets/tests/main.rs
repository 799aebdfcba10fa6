//! Integration tests of vigil-datasets: one binary, one module per area.

mod loaders {
    mod common;
    mod fingerprint;
    mod generic;
    mod labels;
    mod nab;
    mod parquet;
    mod prometheus;
}
