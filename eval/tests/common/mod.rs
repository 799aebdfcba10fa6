//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// Root of the shared datasets: `VIGIL_SHARED_DATASETS`, else `../../shared/datasets` from the
/// crate. Panics with a clear message when missing: these tests never skip silently.
pub fn shared_datasets() -> PathBuf {
    vigil_testkit::shared_datasets()
}

/// Parsed `expected.json` of a committed fixture (`tests/fixtures/<name>/`).
pub fn fixture(name: &str) -> serde_json::Value {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
        .join(name)
        .join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read fixture {}: {e}; hint: run gen.py beside it",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON in {}: {e}", path.display()))
}

/// A JSON array of numbers as `Vec<f64>`.
pub fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// A JSON array of `[start, end]` pairs as windows.
pub fn windows(v: &serde_json::Value) -> Vec<vigil_eval::Window> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|p| {
            let s = p[0].as_u64().expect("start") as usize;
            let e = p[1].as_u64().expect("end") as usize;
            vigil_eval::Window::new(s, e)
        })
        .collect()
}

/// Asserts `|a − b| <= tol`, naming what is compared.
pub fn close(what: &str, got: f64, expected: f64, tol: f64) {
    assert!(
        (got - expected).abs() <= tol,
        "{what}: got {got}, reference {expected} (diff {:e})",
        (got - expected).abs()
    );
}
