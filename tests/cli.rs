//! End-to-end tests of the `vigil` binary: what a user runs, with the exit codes and output
//! they see. One test binary for the whole CLI keeps link times low.

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
        .output()
        .expect("run vigil")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn inspect_json(path: &Path) -> serde_json::Value {
    let output = vigil(&[
        "datasets",
        "inspect",
        path.to_str().expect("utf-8 path"),
        "--json",
    ]);
    assert!(
        output.status.success(),
        "inspect {} failed: {}",
        path.display(),
        stderr(&output)
    );
    serde_json::from_str(&stdout(&output)).expect("inspect --json prints JSON")
}

#[test]
fn inspect_nab_lists_31_series_and_53_windows() {
    let summary = inspect_json(&shared_datasets().join("nab"));
    assert_eq!(summary["layout"], "nab");
    assert_eq!(summary["series_count"], 31);
    assert_eq!(summary["incidents"], 53);
    let taxi = summary["series"]
        .as_array()
        .expect("series array")
        .iter()
        .find(|s| s["name"] == "realKnownCause/nyc_taxi.csv")
        .expect("nyc_taxi is listed");
    assert_eq!(taxi["rows"], 10320);
    assert_eq!(taxi["modal_step_ms"], 1_800_000);
    assert_eq!(taxi["incidents"], 5);

    let table = vigil(&[
        "datasets",
        "inspect",
        shared_datasets().join("nab").to_str().expect("utf-8"),
    ]);
    assert!(table.status.success());
    let text = stdout(&table);
    assert!(text.contains("31 series"), "{text}");
    assert!(text.contains("53 incident windows"), "{text}");
    assert!(text.contains("realKnownCause/nyc_taxi.csv"), "{text}");
}

#[test]
fn inspect_smd_asd_ucr_agree_with_the_datasets_readme() {
    let smd = inspect_json(&shared_datasets().join("smd"));
    assert_eq!(smd["layout"], "smd");
    assert_eq!(smd["series_count"], 5);
    assert_eq!(smd["labelled_rows"], 3349);
    assert!(
        smd["series"]
            .as_array()
            .expect("series")
            .iter()
            .all(|s| s["channels"] == 38)
    );

    let asd = inspect_json(&shared_datasets().join("asd"));
    assert_eq!(asd["layout"], "asd");
    assert_eq!(asd["series_count"], 8);
    for entity in asd["series"].as_array().expect("series") {
        assert_eq!(entity["channels"], 19);
        assert_eq!(entity["rows"], 8640 + 4320);
        assert_eq!(entity["train_rows"], 8640);
    }

    let ucr = inspect_json(&shared_datasets().join("ucr"));
    assert_eq!(ucr["layout"], "ucr");
    assert_eq!(ucr["series_count"], 51);
    assert_eq!(ucr["incidents"], 51);
}

#[test]
fn synth_writes_data_the_generic_loader_reads_back_identically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("synth");
    let output = vigil(&[
        "datasets",
        "synth",
        "--seed",
        "7",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(output.status.success(), "synth failed: {}", stderr(&output));
    let printed = stdout(&output);
    let fingerprint = printed
        .split("fingerprint ")
        .nth(1)
        .and_then(|rest| rest.get(..64))
        .expect("synth prints the fingerprint");

    let summary = inspect_json(&out);
    assert_eq!(summary["layout"], "generic");
    assert_eq!(
        summary["fingerprint"], fingerprint,
        "read-back data differs from the generated data"
    );
    assert!(summary["incidents"].as_u64().expect("count") > 0);

    let again = tempfile::tempdir().expect("tempdir");
    let out2 = again.path().join("synth");
    let output = vigil(&[
        "datasets",
        "synth",
        "--seed",
        "7",
        "--out",
        out2.to_str().expect("utf-8"),
    ]);
    assert!(output.status.success());
    assert_eq!(
        inspect_json(&out2)["fingerprint"],
        fingerprint,
        "same seed, same data"
    );
}

#[test]
fn validate_lists_every_problem_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("cpu.csv"),
        "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,abc\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("mem.csv"),
        "time_of_day,value\n2024-01-01 00:00:00,1\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("ok.csv"),
        "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n",
    )
    .expect("write");
    let output = vigil(&["datasets", "validate", dir.path().to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.contains("cpu.csv") && text.contains("abc"),
        "the bad value is named: {text}"
    );
    assert!(
        text.contains("mem.csv"),
        "the second bad file is listed too: {text}"
    );
    assert!(text.contains("hint:"), "{text}");
    assert!(!text.contains("ok.csv"), "good files raise nothing: {text}");

    let good = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        good.path().join("ok.csv"),
        "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n",
    )
    .expect("write");
    let output = vigil(&["datasets", "validate", good.path().to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn unknown_layout_is_a_clear_error_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("notes.md"), "hello").expect("write");
    let output = vigil(&["datasets", "inspect", dir.path().to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("does not match any known dataset layout"),
        "{message}"
    );
    assert!(message.contains("hint:"), "{message}");
}

#[test]
fn eval_scores_nab_reference_results_like_nab() {
    let nab = shared_datasets().join("nab");
    let output = vigil(&[
        "eval",
        "--scores",
        nab.join("reference/results/numenta")
            .to_str()
            .expect("utf-8"),
        "--labels",
        nab.join("labels/combined_windows.json")
            .to_str()
            .expect("utf-8"),
        "--json",
    ]);
    assert!(output.status.success(), "eval failed: {}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("69.5"),
        "numenta's NAB standard score is 69.5 on these files: {text}"
    );
}

/// A small experiment spec writing to `dir` (registry and report inside it).
fn small_spec(dir: &Path) -> PathBuf {
    let text = format!(
        r#"
name = "cli-small"
seed = 5
threshold_scope = "series"
[[datasets]]
synthetic = {{ seed = 4, length = 3000, anomalies = {{ min_per_series = 3, max_per_series = 3, persist_probability = 0.0, kinds = ["spike", "dip", "level_shift"] }} }}
max_series = 2
[split]
kind = "fractions"
train = 0.4
validation = 0.3
[search]
budget = 2
grid_points = 2
[objective]
metric = "event_f1"
[threshold]
kind = "best"
objective = {{ metric = "nab", profile = "standard" }}
[[detectors]]
kind = "rolling_zscore"
search = {{ window = [24, 96] }}
[[detectors]]
kind = "ewma"
search = "none"
[ensemble]
top = 2
modes = ["mean"]
[registry]
url = "sqlite://{db}"
[report]
path = "{report}"
"#,
        db = dir.join("vigil.db").display(),
        report = dir.join("report.html").display()
    );
    let path = dir.join("small.toml");
    std::fs::write(&path, text).expect("write spec");
    path
}

#[test]
fn run_prints_a_leaderboard_registers_and_writes_a_self_contained_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = small_spec(dir.path());
    let out = vigil(&["run", spec.to_str().expect("utf-8"), "--promote"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "rolling_zscore",
        "ewma",
        "ensemble_mean",
        "baseline: random",
        "registered cli-small v1",
        "challenger alias of cli-small -> v1",
    ] {
        assert!(text.contains(needle), "{needle} missing in\n{text}");
    }
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("report");
    assert!(html.contains("<svg"), "plots expected");
    let external = html
        .replace("http://www.w3.org/2000/svg", "")
        .contains("http");
    assert!(!external, "the report must not fetch anything");
    // The registry answers for the alias the run set.
    let get = vigil(&[
        "registry",
        "--db",
        &format!("sqlite://{}", dir.path().join("vigil.db").display()),
        "versions",
        "cli-small",
    ]);
    assert!(get.status.success(), "{}", stderr(&get));
    assert!(stdout(&get).contains("challenger"), "{}", stdout(&get));
}

#[test]
fn run_rejects_a_bad_spec_with_the_line_and_a_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = small_spec(dir.path());
    let text = std::fs::read_to_string(&spec)
        .expect("read")
        .replace("budget = 2", "budgit = 2");
    std::fs::write(&spec, text).expect("write");
    let out = vigil(&["run", spec.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("budgit") && err.contains("small.toml:13:") && err.contains("hint:"),
        "{err}"
    );
    assert!(
        !dir.path().join("vigil.db").exists(),
        "a spec error must stop before the registry is touched"
    );
}

/// The README's main command, end to end, and its report checked as a person would: the page
/// opens in headless Chromium without console output and with plots on screen.
#[test]
fn the_quickstart_runs_and_its_report_opens_in_headless_chromium() {
    let browser = match vigil_reports::browser::find_chromium() {
        Some(b) => Some(b),
        None if std::env::var_os("CI").is_some() => panic!(
            "chromium not found under CI\nhint: apt-get install -y --no-install-recommends chromium (or set VIGIL_CHROMIUM)"
        ),
        None => {
            eprintln!(
                "note: chromium not found; the browser half of this test is skipped (it fails under CI)"
            );
            None
        }
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/specs/quickstart.toml");
    let db = format!("sqlite://{}", dir.path().join("vigil.db").display());
    let report = dir.path().join("quickstart.html");
    let output = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args([
            "-q",
            "run",
            spec.to_str().expect("utf-8"),
            "--registry",
            &db,
        ])
        .arg("--report")
        .arg(&report)
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .output()
        .expect("run vigil");
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    for expected in ["ensemble_", "registered quickstart v1", "report: "] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let html = std::fs::read_to_string(&report).expect("the report is written");
    assert!(html.contains("<svg"), "the report has plots");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "the report fetches nothing"
    );
    let Some(browser) = browser else {
        return;
    };
    let png = dir.path().join("quickstart.png");
    let page = vigil_reports::browser::open_headless(&browser, &report, &png, (1400, 2000))
        .expect("chromium opens the report");
    assert!(
        page.console.is_empty(),
        "console output:\n{}",
        page.console.join("\n")
    );
    assert_eq!(page.screenshot_size, (1400, 2000));
    assert!(
        page.screenshot_bytes > 40_000,
        "a blank page? screenshot of {} bytes",
        page.screenshot_bytes
    );
    if std::env::var_os("VIGIL_UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report-quickstart.png");
        vigil_reports::browser::open_headless(&browser, &report, &docs, (1400, 3300))
            .expect("docs screenshot");
    }
}
