//! Helpers shared by the loader tests.

use std::path::{Path, PathBuf};

/// The shared real datasets: `$VIGIL_SHARED_DATASETS`, else `../shared/datasets` beside the
/// repository. Missing data fails the test: it is never skipped.
pub fn shared_datasets() -> PathBuf {
    vigil_testkit::shared_datasets()
}

/// The NAB folder of the shared datasets.
pub fn nab_dir() -> PathBuf {
    let dir = shared_datasets().join("nab");
    assert!(
        dir.join("data").is_dir(),
        "NAB data missing under {}",
        dir.display()
    );
    dir
}

/// Writes `content` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write fixture");
    path
}

/// The message of an error that must happen.
pub fn error_text<T: std::fmt::Debug>(result: vigil_datasets::Result<T>) -> String {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => error.to_string(),
    }
}

/// Checks that an error message names the file and ends with a hint.
pub fn assert_names_file_and_hint(message: &str, path: &Path) {
    assert!(
        message.contains(&path.display().to_string()),
        "message does not name {}: {message}",
        path.display()
    );
    let hint = message.split("\nhint: ").nth(1).unwrap_or("");
    assert!(hint.len() > 10, "message has no useful hint: {message}");
}

/// A temporary folder for fixtures.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary folder")
}
