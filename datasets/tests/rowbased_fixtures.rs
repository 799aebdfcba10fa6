//! Helpers shared by the row-based loader and split tests: where the real data lives, and
//! small files written into a temporary folder.

use std::path::{Path, PathBuf};

/// The shared real datasets folder: `$VIGIL_SHARED_DATASETS`, else `../../shared/datasets`
/// from this crate. Panics (fails the test) with a clear message when it is missing: real-data
/// tests must never skip silently.
pub fn shared_datasets() -> PathBuf {
    vigil_testkit::shared_datasets()
}

/// One real dataset folder (`smd`, `asd`, `ucr`, `nab`), which must exist.
pub fn real(name: &str) -> PathBuf {
    let dir = shared_datasets().join(name);
    assert!(dir.exists(), "real dataset {} is missing", dir.display());
    dir
}

/// Writes `text` to `dir/relative`, creating parent folders.
pub fn write(dir: &Path, relative: &str, text: &str) -> PathBuf {
    let path = dir.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create fixture folder");
    }
    std::fs::write(&path, text).expect("write fixture file");
    path
}

/// Non-blank lines of a text file, read independently of the loaders.
pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Asserts that an error message names `path` and ends with a hint.
pub fn assert_clear(err: &vigil_datasets::DatasetError, path: &Path) {
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "message does not name {}: {msg}",
        path.display()
    );
    let hint = msg.rsplit('\n').next().unwrap_or("");
    assert!(
        hint.starts_with("hint: ") && hint.len() > 10,
        "message has no hint line: {msg}"
    );
}
