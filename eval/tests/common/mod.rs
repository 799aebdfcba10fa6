//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// Root of the shared datasets: `VIGIL_SHARED_DATASETS`, else `../../shared/datasets` from the
/// crate. Panics with a clear message when missing: these tests never skip silently.
pub fn shared_datasets() -> PathBuf {
    let root = std::env::var_os("VIGIL_SHARED_DATASETS").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/datasets"
            ))
        },
        PathBuf::from,
    );
    assert!(
        root.join("nab").is_dir(),
        "shared datasets not found at {}; hint: set VIGIL_SHARED_DATASETS to the folder that holds nab/",
        root.display()
    );
    root
}
