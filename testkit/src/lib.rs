//! What vigil's tests, benches and examples share: where the shared real datasets are.
//!
//! One copy of the rule (it was written in six test helpers): `$VIGIL_SHARED_DATASETS`, else
//! `shared/datasets` beside the repository; a missing folder fails the test with a hint, so a
//! real-data test can never skip silently.

use std::path::PathBuf;

/// The shared real datasets folder: `$VIGIL_SHARED_DATASETS`, else `../shared/datasets` from
/// the repository root. Panics with a hint when it has no `nab/` folder.
pub fn shared_datasets() -> PathBuf {
    let dir = std::env::var_os("VIGIL_SHARED_DATASETS").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/datasets"
            ))
        },
        PathBuf::from,
    );
    assert!(
        dir.join("nab").is_dir(),
        "the shared datasets are not at {}: set VIGIL_SHARED_DATASETS to the folder holding \
         nab/, smd/, asd/ and ucr/",
        dir.display()
    );
    dir
}

/// One dataset folder of the shared datasets (`nab`, `smd`, `smd-extra`, `asd`, `ucr`); panics
/// when it is missing.
pub fn dataset(name: &str) -> PathBuf {
    let dir = shared_datasets().join(name);
    assert!(
        dir.is_dir(),
        "the shared dataset {} is missing",
        dir.display()
    );
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_holds_the_datasets_and_a_missing_one_is_refused() {
        assert!(dataset("nab").join("data").is_dir());
        let missing = std::panic::catch_unwind(|| dataset("no-such-dataset"));
        assert!(missing.is_err());
    }
}
