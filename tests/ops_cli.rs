//! End-to-end tests of the operations verbs: `vigil gate` (the CI accuracy gate) and
//! `vigil retrain` (the monthly retraining job).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shared_datasets() -> PathBuf {
    let path = std::env::var_os("VIGIL_SHARED_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets"));
    assert!(
        path.join("nab").is_dir(),
        "shared datasets not found at {}; set VIGIL_SHARED_DATASETS",
        path.display()
    );
    path
}

fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("VIGIL_REGISTRY")
        .output()
        .expect("run vigil")
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn specs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/specs")
}

/// The shipped gate spec, copied into `dir` with the data path and the committed baseline
/// made absolute, and `edit` applied.
fn gate_copy(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let original = std::fs::read_to_string(specs().join("gate.toml")).unwrap();
    let nab = shared_datasets().join("nab");
    let copy = original
        .replace(
            "path = \"../../../shared/datasets/nab\"",
            &format!("path = {:?}", nab.display().to_string()),
        )
        .replace(
            "path = \"gate-baseline.json\"",
            &format!(
                "path = {:?}",
                specs().join("gate-baseline.json").display().to_string()
            ),
        );
    assert_ne!(copy, original, "the gate spec's paths were rewritten");
    let path = dir.join("gate.toml");
    std::fs::write(&path, edit(copy)).unwrap();
    path
}

#[test]
fn the_shipped_gate_passes_against_the_committed_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let spec = gate_copy(dir.path(), |s| s);
    let out = vigil(&["-q", "gate", spec.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("gate ci: PASSED"), "{stdout}");
    assert!(stdout.contains("dataset nab"), "{stdout}");
    assert!(stdout.contains("dataset synthetic"), "{stdout}");
}

#[test]
fn a_planted_regression_fails_the_gate_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    // EWMA forgets its level almost at once: many more false alarms.
    let spec = gate_copy(dir.path(), |s| {
        let worse = s.replace("params = { alpha = 0.1 }", "params = { alpha = 0.9 }");
        assert_ne!(worse, s, "the planted change applies");
        worse
    });
    let out = vigil(&["-q", "gate", spec.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("gate ci: FAILED"), "{stdout}");
    let fails: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("  FAIL "))
        .collect();
    assert!(!fails.is_empty(), "{stdout}");
    // Only the planted family fails; the line names metric, family, dataset and series.
    assert!(fails.iter().all(|l| l.contains("of ewma on")), "{fails:?}");
    assert!(
        fails.iter().any(|l| l.contains("false_alarms_per_day")
            && l.contains("dataset nab")
            && l.contains("nab/realKnownCause/ec2_request_latency_system_failure.csv")),
        "{fails:?}"
    );
}

#[test]
fn gate_errors_exit_2_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let spec = gate_copy(dir.path(), |s| {
        s.replace("tolerance = 0.02", "tolerence = 0.02")
    });
    let out = vigil(&["-q", "gate", spec.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("tolerence") && stderr.contains("hint:"),
        "{stderr}"
    );
    // A searched family is refused: the gate runs fixed parameters only.
    let spec = gate_copy(dir.path(), |s| s.replacen("search = \"none\"\n", "", 1));
    let out = vigil(&["-q", "gate", spec.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("detectors[0].search"), "{stderr}");
}

#[test]
fn write_baseline_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let spec = gate_copy(dir.path(), |s| s);
    let written = dir.path().join("b.json");
    let out = vigil(&[
        "-q",
        "gate",
        spec.to_str().unwrap(),
        "--write-baseline",
        written.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(specs().join("gate-baseline.json")).unwrap())
            .unwrap();
    let fresh: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&written).unwrap()).unwrap();
    assert_eq!(fresh, committed, "the evaluation is deterministic");
}
