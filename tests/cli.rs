//! End-to-end tests of the `vigil` binary: what a user runs, with the exit codes and output
//! they see. One test binary for the whole CLI keeps link times low.

use std::path::{Path, PathBuf};

mod common;

use common::{shared_datasets, stderr, stdout, vigil, vigil_command};

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

/// Every metric of a leaderboard map equals `vigil eval`'s (to 1e-12; NaN equals NaN).
fn assert_same_metrics(board: &serde_json::Value, eval: &serde_json::Value, what: &str) {
    let board = board.as_object().expect("leaderboard metrics");
    let eval = eval.as_object().expect("eval metrics");
    let mut compared = 0;
    for (k, v) in board {
        let (Some(b), Some(e)) = (v.as_f64(), eval.get(k)) else {
            continue;
        };
        compared += 1;
        match e.as_f64() {
            Some(e) => assert!(
                (b - e).abs() <= 1e-12 * (1.0 + b.abs()),
                "{what}: {k}: leaderboard {b} vs vigil eval {e}"
            ),
            None => panic!("{what}: {k}: leaderboard {b} vs vigil eval {e}"),
        }
    }
    assert!(compared >= 10, "{what}: only {compared} metrics in common");
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
    // `--registry` is the flag on every verb (`--db` stays as an alias, used further down).
    let get = vigil(&[
        "registry",
        "--registry",
        &format!("sqlite://{}", dir.path().join("vigil.db").display()),
        "versions",
        "cli-small",
    ]);
    assert!(get.status.success(), "{}", stderr(&get));
    assert!(stdout(&get).contains("challenger"), "{}", stdout(&get));
}

/// `--scores DIR` writes one CSV per entry and series, holding every row with its score, the
/// run's threshold, the detection, the label and the split part.
#[test]
fn run_writes_every_entrys_per_row_scores() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = small_spec(dir.path());
    let scores = dir.path().join("scores");
    let out = vigil(&[
        "run",
        spec.to_str().expect("utf-8"),
        "--json",
        "--scores",
        scores.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let board: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let entries: Vec<&str> = board["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["name"].as_str().expect("name"))
        .collect();
    assert!(entries.contains(&"ensemble_mean"), "{entries:?}");
    for entry in &entries {
        let folder = scores.join(entry).join("synthetic");
        let mut files: Vec<_> = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .map(|f| f.expect("entry").path())
            .collect();
        files.sort();
        assert_eq!(files.len(), 2, "two series per entry: {files:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read");
            let mut lines = text.lines();
            assert_eq!(
                lines.next(),
                Some("timestamp,value,anomaly_score,threshold,detected,label,part")
            );
            let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
            assert_eq!(rows.len(), 3000, "{}", file.display());
            let parts: Vec<&str> = rows.iter().map(|r| r[6]).collect();
            assert_eq!(parts.iter().filter(|p| **p == "train").count(), 1200);
            assert_eq!(parts.iter().filter(|p| **p == "validation").count(), 900);
            assert_eq!(parts.iter().filter(|p| **p == "test").count(), 900);
            assert!(
                rows.iter().any(|r| r[5] == "1"),
                "three incidents are labelled"
            );
            for r in &rows {
                let score: f64 = r[2].parse().expect("score");
                let threshold: f64 = r[3].parse().expect("threshold");
                assert_eq!(r[4] == "1", score >= threshold, "{r:?}");
            }
        }
        // One yardstick: `vigil eval` over the entry's folder, at the recorded thresholds on
        // the test rows, with the spec's settings, gives the leaderboard's numbers.
        let eval = vigil(&[
            "eval",
            "--scores",
            folder.to_str().expect("utf-8"),
            "--spec",
            spec.to_str().expect("utf-8"),
            "--json",
        ]);
        assert!(eval.status.success(), "{entry}: {}", stderr(&eval));
        let evaluated: serde_json::Value = serde_json::from_slice(&eval.stdout).expect("json");
        assert_eq!(evaluated["threshold"], "recorded");
        assert_eq!(evaluated["average"], "series");
        let row = board["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["name"] == *entry)
            .expect("entry");
        assert_same_metrics(&row["test"]["synthetic"], &evaluated["metrics"], entry);
    }
}

/// The written scores re-score to the leaderboard: `vigil eval --threshold nab` over one
/// entry's folder of a NAB run gives the NAB standard score the run reported for it.
#[test]
fn written_nab_scores_re_score_to_the_leaderboard_s_nab_score() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nab = shared_datasets().join("nab");
    let spec = dir.path().join("nab-small.toml");
    std::fs::write(
        &spec,
        format!(
            r#"
name = "nab-small"
seed = 7
threshold_scope = "corpus"
[[datasets]]
name = "nab"
path = "{nab}"
layout = "nab"
series = ["realKnownCause/*", "realTraffic/*"]
[split]
kind = "probationary"
[objective]
metric = "nab_standard"
[threshold]
kind = "best"
objective = {{ metric = "nab", profile = "standard" }}
[[detectors]]
kind = "rolling_zscore"
search = "none"
[registry]
url = "sqlite://{db}"
[report]
path = "{report}"
"#,
            nab = nab.display(),
            db = dir.path().join("vigil.db").display(),
            report = dir.path().join("report.html").display()
        ),
    )
    .expect("write spec");
    let scores = dir.path().join("scores");
    let run = vigil(&[
        "run",
        spec.to_str().expect("utf-8"),
        "--json",
        "--scores",
        scores.to_str().expect("utf-8"),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let board: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json");
    let reported = board["entries"][0]["test"]["nab"]["nab_standard"]
        .as_f64()
        .expect("the run's NAB standard score");
    let eval = vigil(&[
        "eval",
        "--scores",
        scores.join("rolling_zscore/nab").to_str().expect("utf-8"),
        "--labels",
        nab.join("labels/combined_windows.json")
            .to_str()
            .expect("utf-8"),
        "--threshold",
        "nab",
        "--json",
    ]);
    assert!(eval.status.success(), "{}", stderr(&eval));
    let evaluated: serde_json::Value = serde_json::from_slice(&eval.stdout).expect("json");
    let standard = evaluated["nab_optimised"]
        .as_array()
        .expect("NAB results")
        .iter()
        .find(|r| r["profile"] == "standard")
        .and_then(|r| r["normalised"].as_f64())
        .expect("the standard profile");
    assert!(
        (standard - reported).abs() < 1e-9,
        "vigil eval {standard} vs vigil run {reported}"
    );
    // At the recorded threshold, with the spec's settings (a corpus: pooled) and the files'
    // own label column: every leaderboard number of the entry.
    let recorded = vigil(&[
        "eval",
        "--scores",
        scores.join("rolling_zscore/nab").to_str().expect("utf-8"),
        "--spec",
        spec.to_str().expect("utf-8"),
        "--json",
    ]);
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let recorded: serde_json::Value = serde_json::from_slice(&recorded.stdout).expect("json");
    assert_eq!(recorded["average"], "pooled");
    assert_same_metrics(
        &board["entries"][0]["test"]["nab"],
        &recorded["metrics"],
        "nab rolling_zscore",
    );
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
    let scores = dir.path().join("scores");
    let output = vigil_command(&[
        "-q",
        "run",
        spec.to_str().expect("utf-8"),
        "--registry",
        &db,
        "--scores",
        scores.to_str().expect("utf-8"),
    ])
    .arg("--report")
    .arg(&report)
    .current_dir(dir.path())
    .output()
    .expect("run vigil");
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    for expected in ["ensemble_", "registered quickstart v1", "report: "] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // The held-out headline: the chosen entry beats random clearly on test rows, and choosing
    // on validation did not flatter it by more than 0.15 event F1 (issue 20's bar).
    let headline = out
        .lines()
        .find(|l| l.starts_with("headline (synthetic): "))
        .unwrap_or_else(|| panic!("no held-out headline in:\n{out}"));
    let figure = |after: &str| -> f64 {
        let rest = &headline[headline.find(after).expect(after) + after.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(rest.len());
        rest[..end].parse().expect("a number")
    };
    let (validation, test) = (figure("event_f1 "), figure("→ test "));
    let (drop, random) = (figure("the drop "), figure("random scores "));
    assert!((validation - test - drop).abs() < 2e-3, "{headline}");
    assert!(
        test >= 0.5 && test >= 2.0 * random && drop <= 0.15,
        "the quickstart's chosen entry must reach test event F1 >= 0.5 and 2x random with a \
         drop <= 0.15: {headline}"
    );
    // The registered model applied to another week of the same service (the spec's
    // generator with another seed), as a runtime service would.
    let parsed = vigil_experiments::load_spec(&spec).expect("the quickstart spec");
    let mut config = parsed.datasets[0]
        .synthetic
        .clone()
        .expect("a synthetic dataset");
    config.seed = 8;
    let config_file = dir.path().join("seed8.json");
    std::fs::write(&config_file, serde_json::to_vec(&config).expect("json")).expect("write");
    let week = dir.path().join("synthetic");
    let synth = vigil(&[
        "datasets",
        "synth",
        "--config",
        config_file.to_str().expect("utf-8"),
        "--out",
        week.to_str().expect("utf-8"),
    ]);
    assert!(synth.status.success(), "{}", stderr(&synth));
    let scored = dir.path().join("scored");
    let score = vigil(&[
        "score",
        "quickstart",
        "--data",
        week.to_str().expect("utf-8"),
        "--out",
        scored.to_str().expect("utf-8"),
        "--registry",
        &db,
        "--json",
    ]);
    assert!(score.status.success(), "{}", stderr(&score));
    let summary: serde_json::Value = serde_json::from_slice(&score.stdout).expect("json");
    let series = summary["series"].as_array().expect("series");
    assert_eq!(series.len(), 10);
    assert!(series.iter().all(|s| s["fitted_new_on_rows"].is_null()));
    let f1 = summary["metrics"]["event_f1"]
        .as_f64()
        .expect("labelled data");
    assert!((0.0..=1.0).contains(&f1));
    // The chosen entry's written scores re-score to its headline test figure.
    let entry = summary["source"]["entry"].as_str().expect("entry");
    let eval = vigil(&[
        "eval",
        "--scores",
        scores
            .join(entry)
            .join("synthetic")
            .to_str()
            .expect("utf-8"),
        "--spec",
        spec.to_str().expect("utf-8"),
        "--json",
    ]);
    assert!(eval.status.success(), "{}", stderr(&eval));
    let evaluated: serde_json::Value = serde_json::from_slice(&eval.stdout).expect("json");
    let recorded = evaluated["metrics"]["event_f1"].as_f64().expect("event_f1");
    assert!(
        (recorded - test).abs() <= 5e-4,
        "vigil eval {recorded} vs the headline's {test}"
    );
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

/// A small spec for the export tests: a rolling z-score and an EWMA (exportable), ARIMA (a
/// recursion over the whole history whose graph is not written yet) and the mean ensemble of
/// the first two.
fn export_spec(dir: &Path) -> PathBuf {
    let text = format!(
        r#"
name = "cli-export"
seed = 11
threshold_scope = "series"
[[datasets]]
synthetic = {{ seed = 9, length = 1500, anomalies = {{ min_per_series = 2, max_per_series = 2, persist_probability = 0.0, kinds = ["spike", "level_shift"] }} }}
max_series = 2
[split]
kind = "fractions"
train = 0.4
validation = 0.3
[search]
budget = 1
grid_points = 1
[objective]
metric = "event_f1"
[threshold]
kind = "best"
objective = {{ metric = "nab", profile = "standard" }}
[[detectors]]
kind = "rolling_zscore"
search = {{ window = [24] }}
[[detectors]]
kind = "ewma"
search = "none"
[[detectors]]
kind = "arima"
search = "none"
[ensemble]
members = ["rolling_zscore", "ewma"]
modes = ["mean"]
[registry]
url = "sqlite://{db}"
[report]
path = "{report}"
"#,
        db = dir.join("vigil.db").display(),
        report = dir.join("report.html").display()
    );
    let path = dir.join("export.toml");
    std::fs::write(&path, text).expect("write spec");
    path
}

/// ONNX Runtime from `ORT_DYLIB_PATH` (the PyPI wheel's library, as `.ci/run` exports it);
/// under `CI` a missing library fails the test, elsewhere it is skipped with a message.
fn onnx_runtime() -> Option<&'static ort::environment::Environment> {
    static ENV: std::sync::OnceLock<Option<ort::environment::Environment>> =
        std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let path = match std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from) {
            Some(p) if p.is_file() => p,
            _ => {
                let message = "ORT_DYLIB_PATH does not name onnxruntime's capi/libonnxruntime.so* \
                               (pip install onnxruntime==1.31.1; see .ci/run)";
                assert!(std::env::var_os("CI").is_none(), "{message} (CI is set)");
                eprintln!("SKIPPED: {message}");
                return None;
            }
        };
        Some(
            ort::init_from(&path)
                .expect("load ONNX Runtime")
                .build()
                .expect("start ONNX Runtime"),
        )
    })
    .as_ref()
}

/// A deterministic `channels`-channel test series (a wave, hashed noise, spikes, one NaN).
fn probe_series(n: usize, channels: usize) -> vigil_datasets::Series {
    let mut values = ndarray::Array2::zeros((n, channels));
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for t in 0..n {
        for c in 0..channels {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let spike = if t % 97 == 13 { 6.0 } else { 0.0 };
            let v = 50.0 + (t as f64 * 0.07 + c as f64).sin() * 4.0 + noise + spike;
            values[[t, c]] = f64::from(v as f32);
        }
    }
    values[[n / 2, 0]] = f64::NAN;
    vigil_datasets::Series::new(
        "probe",
        (0..n as i64).map(|t| t * 60_000).collect(),
        (0..channels).map(|c| format!("c{c}")).collect(),
        values,
    )
}

/// Scores every row of `probe` with an exported graph as a service would, following its
/// `spec.json` entry (`member` or top level): windows of `input_window` rows, or one row per
/// call with the state fed back. Rows before the first full window are NaN. Also returns
/// `is_anomaly`.
fn score_with_onnx(
    env: &ort::environment::Environment,
    onnx: &[u8],
    spec: &serde_json::Value,
    probe: &vigil_datasets::Series,
) -> (Vec<f64>, Vec<bool>) {
    use ort::session::Session;
    use ort::value::TensorRef;
    let mut session = Session::builder(env)
        .expect("session")
        .commit_from_memory(onnx)
        .expect("ONNX Runtime loads the export");
    let window = spec["input_window"].as_u64().expect("input_window") as usize;
    let (n, c) = probe.values.dim();
    let mut scores = vec![f64::NAN; n];
    let mut flags = vec![false; n];
    if spec["state"].is_null() {
        let ends: Vec<usize> = (window - 1..n).collect();
        let mut x = Vec::with_capacity(ends.len() * window * c);
        for &t in &ends {
            for r in t + 1 - window..=t {
                for k in 0..c {
                    x.push(probe.values[[r, k]] as f32);
                }
            }
        }
        let input = TensorRef::from_array_view(([ends.len(), window, c], x.as_slice())).expect("x");
        let outputs = session.run(ort::inputs!["x" => input]).expect("run");
        let (_, score) = outputs["score"].try_extract_tensor::<f32>().expect("score");
        let (_, flag) = outputs["is_anomaly"]
            .try_extract_tensor::<bool>()
            .expect("flag");
        for (i, &t) in ends.iter().enumerate() {
            scores[t] = f64::from(score[i]);
            flags[t] = flag[i];
        }
    } else {
        let shape: Vec<usize> = spec["state"]["shape"]
            .as_array()
            .expect("state shape")
            .iter()
            .map(|d| d.as_u64().expect("dim") as usize)
            .collect();
        // JSON has no NaN: null entries of the initial state are NaN.
        let mut state: Vec<f64> = spec["state"]["initial"]
            .as_array()
            .expect("initial state")
            .iter()
            .map(|v| v.as_f64().unwrap_or(f64::NAN))
            .collect();
        for t in 0..n {
            let x: Vec<f32> = (0..c).map(|k| probe.values[[t, k]] as f32).collect();
            let outputs = session
                .run(ort::inputs![
                    "x" => TensorRef::from_array_view(([1usize, 1, c], x.as_slice())).expect("x"),
                    "state" => TensorRef::from_array_view(([1usize, shape[0], shape[1]], state.as_slice())).expect("state")
                ])
                .expect("run");
            let (_, score) = outputs["score"].try_extract_tensor::<f32>().expect("score");
            let (_, flag) = outputs["is_anomaly"]
                .try_extract_tensor::<bool>()
                .expect("flag");
            let (_, next) = outputs["state_out"]
                .try_extract_tensor::<f64>()
                .expect("state");
            scores[t] = f64::from(score[0]);
            flags[t] = flag[0];
            state = next.to_vec();
        }
    }
    (scores, flags)
}

/// The worst |Δ| / allowed over the scored rows (`spec.tolerance`).
fn worst_ratio(onnx: &[f64], vigil: &[f64], spec: &serde_json::Value) -> f64 {
    let tolerance = spec["tolerance"]["absolute"].as_f64().expect("tol");
    let relative = spec["tolerance"]["relative"].as_f64().expect("rel");
    onnx.iter()
        .zip(vigil)
        .filter(|(o, _)| !o.is_nan())
        .map(|(o, v)| (o - v).abs() / (tolerance + relative * v.abs()))
        .fold(0.0, f64::max)
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read JSON file")).expect("JSON")
}

#[test]
fn export_writes_onnx_that_scores_like_vigil_and_refuses_what_cannot_map() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = export_spec(dir.path());
    let run = vigil(&["run", spec.to_str().expect("utf-8"), "--json"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let leaderboard: serde_json::Value = serde_json::from_str(&stdout(&run)).expect("JSON");
    let db = format!("sqlite://{}", dir.path().join("vigil.db").display());
    let env = onnx_runtime();

    // Every series of the version, one sub-directory each.
    let out = dir.path().join("onnx");
    let export = vigil(&[
        "export",
        "cli-export.rolling_zscore@1",
        "--out",
        out.to_str().expect("utf-8"),
        "--db",
        &db,
    ]);
    assert!(export.status.success(), "{}", stderr(&export));
    let manifest = read_json(&out.join("manifest.json"));
    assert_eq!(manifest["source"]["model"], "cli-export.rolling_zscore");
    assert_eq!(manifest["source"]["version"], 1);
    assert_eq!(manifest["vigil_version"], env!("CARGO_PKG_VERSION"));
    let fingerprint = manifest["dataset_fingerprints"][0].as_str().expect("fp");
    assert_eq!(fingerprint.len(), 64);
    let series = manifest["series"].as_array().expect("series");
    assert_eq!(series.len(), 2, "{manifest}");
    for file in manifest["files"].as_array().expect("files") {
        let bytes = std::fs::read(out.join(file["path"].as_str().expect("path"))).expect("file");
        assert_eq!(
            file["sha256"].as_str(),
            Some(vigil_registry::sha256_hex(&bytes).as_str())
        );
    }
    for entry in series {
        let spec = read_json(&out.join(entry["spec"].as_str().expect("spec")));
        assert_eq!(spec["family"], "rolling_zscore");
        assert_eq!(spec["series"], entry["series"]);
        assert_eq!(spec["input_window"], 25);
        assert!(spec["not_exported"].is_null());
        let model: vigil_train::FittedModel =
            serde_json::from_value(spec["fitted_state"].clone()).expect("fitted state");
        let Some(env) = env else { continue };
        let channels = spec["channels"].as_u64().expect("channels") as usize;
        let threshold = spec["threshold"].as_f64().expect("threshold");
        let probe = probe_series(600, channels);
        let vigil_scores = model.score(&probe).expect("vigil scores").values;
        let onnx =
            std::fs::read(out.join(entry["models"][0].as_str().expect("model"))).expect("onnx");
        let (scores, flags) = score_with_onnx(env, &onnx, &spec, &probe);
        assert!(worst_ratio(&scores, &vigil_scores, &spec) <= 1.0);
        let mut alerts = 0;
        for t in 24..probe.values.nrows() {
            assert_eq!(flags[t], vigil_scores[t] >= threshold, "row {t}");
            alerts += usize::from(flags[t]);
        }
        assert!(
            alerts > 0,
            "the probe's spikes must alert at threshold {threshold}"
        );
    }

    // The registry carries the graphs and specs on the version.
    let show = vigil(&[
        "registry",
        "--db",
        &db,
        "--json",
        "show",
        "cli-export.rolling_zscore@1",
    ]);
    assert!(show.status.success(), "{}", stderr(&show));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&show)).expect("json");
    let names: Vec<&str> = shown["artifacts"]
        .as_array()
        .expect("artifacts")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(
        names.iter().filter(|n| n.ends_with(".onnx")).count(),
        2,
        "{names:?}"
    );
    assert_eq!(
        names
            .iter()
            .filter(|n| n.ends_with("onnx-spec.json"))
            .count(),
        2,
        "{names:?}"
    );

    // One series: the flat layout.
    let key = series[0]["series"].as_str().expect("key");
    let one = dir.path().join("one");
    let again = vigil(&[
        "export",
        "cli-export.rolling_zscore@1",
        "--series",
        key,
        "--out",
        one.to_str().expect("utf-8"),
        "--db",
        &db,
    ]);
    assert!(again.status.success(), "{}", stderr(&again));
    for name in ["model.onnx", "spec.json", "manifest.json"] {
        assert!(one.join(name).is_file(), "{name} missing");
    }
    // An existing non-empty directory is never overwritten.
    let busy = vigil(&[
        "export",
        "cli-export.rolling_zscore@1",
        "--out",
        one.to_str().expect("utf-8"),
        "--db",
        &db,
    ]);
    assert_eq!(busy.status.code(), Some(2), "{}", stderr(&busy));
    assert!(stderr(&busy).contains("not empty"), "{}", stderr(&busy));

    // The ensemble: members plus rule. Registered here in the format before vigil-state/2
    // (the leaderboard's untyped ensemble JSON plus each member's bare map of fitted models),
    // which the reader still loads; then exported, and the ensemble score recomputed from
    // the members' ONNX scores with the exported rule.
    let entry = leaderboard["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["name"] == "ensemble_mean")
        .expect("the mean ensemble is on the leaderboard");
    let registry = vigil_registry::Registry::open(&db).expect("registry");
    let mut state = entry["params"].clone();
    let fitted: Vec<serde_json::Value> = state["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            let kind = m["kind"].as_str().expect("kind");
            let reference: vigil_registry::ModelRef =
                format!("cli-export.{kind}@1").parse().expect("reference");
            let version = registry.resolve(&reference).expect("member version");
            let member = vigil_experiments::state::VersionState::load(&registry, &version)
                .expect("member state");
            match member.model {
                vigil_experiments::state::ModelState::Single(m) => {
                    serde_json::to_value(&m.models).expect("json")
                }
                other => panic!("a family version holds one family: {other:?}"),
            }
        })
        .collect();
    state["fitted"] = serde_json::Value::Array(fitted);
    let stored = registry
        .put_artifact(
            &serde_json::to_vec(&state).expect("json"),
            "application/json",
        )
        .expect("put");
    registry
        .register_version(&vigil_registry::NewVersion {
            model: "cli-export-ensemble".into(),
            run_id: None,
            spec: entry["params"].clone(),
            state_artifact: "fitted.json".into(),
            artifacts: vec![vigil_registry::NamedArtifact {
                name: "fitted.json".into(),
                artifact: stored,
            }],
            threshold: 1.5,
            alert_policy: serde_json::json!({}),
            metrics: Default::default(),
            datasets: Vec::new(),
            description: "the mean ensemble of the export test".into(),
            created_by: "tests/cli.rs".into(),
        })
        .expect("register the ensemble");
    registry.close();
    let ens = dir.path().join("ensemble");
    let export = vigil(&[
        "export",
        "cli-export-ensemble@1",
        "--out",
        ens.to_str().expect("utf-8"),
        "--db",
        &db,
    ]);
    assert!(export.status.success(), "{}", stderr(&export));
    let manifest = read_json(&ens.join("manifest.json"));
    for entry in manifest["series"].as_array().expect("series") {
        assert_eq!(entry["family"], "ensemble");
        let spec = read_json(&ens.join(entry["spec"].as_str().expect("spec")));
        assert_eq!(spec["ensemble"]["mode"], "mean");
        let members = spec["members"].as_array().expect("members");
        assert_eq!(members.len(), 2);
        let Some(env) = env else { continue };
        let probe = probe_series(600, members[0]["channels"].as_u64().expect("c") as usize);
        let weights: Vec<f64> = spec["ensemble"]["weights"]
            .as_array()
            .expect("weights")
            .iter()
            .map(|w| w.as_f64().expect("weight"))
            .collect();
        let mut onnx_members = Vec::new();
        let mut vigil_members = Vec::new();
        for (m, member) in members.iter().enumerate() {
            let model: vigil_train::FittedModel =
                serde_json::from_value(member["fitted_state"].clone()).expect("fitted");
            let vigil_scores = model.score(&probe).expect("score").values;
            let file = format!(
                "{}/{}",
                entry["spec"]
                    .as_str()
                    .expect("spec")
                    .trim_end_matches("/spec.json"),
                member["model"].as_str().expect("model")
            );
            assert_eq!(entry["models"][m], file.as_str());
            let onnx = std::fs::read(ens.join(&file)).expect("member graph");
            let (scores, flags) = score_with_onnx(env, &onnx, member, &probe);
            assert!(
                worst_ratio(&scores, &vigil_scores, member) <= 1.0,
                "member {m}"
            );
            assert!(
                flags.iter().all(|f| !f),
                "member graphs never alert on their own"
            );
            let normaliser: vigil_experiments::ensemble::Normaliser =
                serde_json::from_value(member["normaliser"].clone()).expect("normaliser");
            onnx_members.push(
                scores
                    .iter()
                    .map(|s| normaliser.apply(*s))
                    .collect::<Vec<_>>(),
            );
            vigil_members.push(
                vigil_scores
                    .iter()
                    .map(|s| normaliser.apply(*s))
                    .collect::<Vec<_>>(),
            );
        }
        let mode = vigil_experiments::spec::EnsembleMode::Mean;
        let onnx_combined =
            vigil_experiments::ensemble::combine(mode, &onnx_members, &weights, &[]);
        let vigil_combined =
            vigil_experiments::ensemble::combine(mode, &vigil_members, &weights, &[]);
        let window = members
            .iter()
            .map(|m| m["input_window"].as_u64().expect("w") as usize)
            .max()
            .expect("members");
        for t in window..probe.values.nrows() {
            assert!(
                (onnx_combined[t] - vigil_combined[t]).abs()
                    <= 1e-4 * (1.0 + vigil_combined[t].abs()),
                "row {t}: {} vs {}",
                onnx_combined[t],
                vigil_combined[t]
            );
        }
    }

    // An unknown series and a family with no ONNX form: exit 2, reason, hint, no directory.
    let none = dir.path().join("none");
    let unknown = vigil(&[
        "export",
        "cli-export.rolling_zscore@1",
        "--series",
        "nope",
        "--out",
        none.to_str().expect("utf-8"),
        "--db",
        &db,
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains(key), "{}", stderr(&unknown));
    let refused = vigil(&[
        "export",
        "cli-export.arima@1",
        "--out",
        none.to_str().expect("utf-8"),
        "--db",
        &db,
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let err = stderr(&refused);
    assert!(
        err.contains("arima cannot be exported")
            && err.contains("recursion")
            && err.contains("hint:"),
        "{err}"
    );
    assert!(!none.exists(), "a refused export leaves no directory");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary directories left behind");
}

/// A spec over a folder written by `vigil datasets synth`, so that `vigil score` reads the
/// very data the run saw: two of its series, robust-z calibrated scores, per-series
/// thresholds, a mean ensemble.
fn score_spec(dir: &Path, data: &Path) -> PathBuf {
    let text = format!(
        r#"
name = "cli-score"
seed = 3
threshold_scope = "series"
calibrate = "robust_z"
[[datasets]]
path = "{data}"
max_series = 2
[split]
kind = "fractions"
train = 0.4
validation = 0.3
[search]
budget = 1
grid_points = 1
[objective]
metric = "event_f1"
[threshold]
kind = "best"
objective = {{ metric = "nab", profile = "standard" }}
[[detectors]]
kind = "rolling_zscore"
search = {{ window = [48] }}
[[detectors]]
kind = "ewma"
search = "none"
[ensemble]
members = ["rolling_zscore", "ewma"]
modes = ["mean"]
[registry]
url = "sqlite://{db}"
[report]
path = "{report}"
"#,
        data = data.display(),
        db = dir.join("vigil.db").display(),
        report = dir.join("report.html").display()
    );
    let path = dir.join("score.toml");
    std::fs::write(&path, text).expect("write spec");
    path
}

/// CSV rows of a file, header first.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// `vigil score` applies a registered version (a family, or an ensemble with its members'
/// calibration and normalisers) to data and gets, on every row of the series the run saw,
/// the run's own score, threshold and decision; a series it was not trained on is refused by
/// name, or fitted on its own first rows with `--fit-new`; channel mismatches are refused.
#[test]
fn score_applies_a_registered_version_exactly_as_the_run_scored_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("synth");
    let synth = vigil(&[
        "datasets",
        "synth",
        "--seed",
        "4",
        "--rows",
        "3000",
        "--out",
        data.to_str().expect("utf-8"),
    ]);
    assert!(synth.status.success(), "{}", stderr(&synth));
    let spec = score_spec(dir.path(), &data);
    let scores = dir.path().join("scores");
    let run = vigil(&[
        "run",
        spec.to_str().expect("utf-8"),
        "--scores",
        scores.to_str().expect("utf-8"),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let db = format!("sqlite://{}", dir.path().join("vigil.db").display());
    let score = |reference: &str, out: &Path, extra: &[&str]| {
        let mut args = vec![
            "score",
            reference,
            "--data",
            data.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
            "--registry",
            &db,
        ];
        args.extend_from_slice(extra);
        vigil(&args)
    };

    // The data holds more series than the run selected: refused by name without --fit-new,
    // and nothing is written.
    let refused = dir.path().join("refused");
    let out = score("cli-score.ewma", &refused, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("was not trained on series") && stderr(&out).contains("--fit-new"),
        "{}",
        stderr(&out)
    );
    assert!(!refused.exists());

    for entry in ["rolling_zscore", "ewma", "ensemble_mean"] {
        let out_dir = dir.path().join(format!("scored-{entry}"));
        let out = score(
            &format!("cli-score.{entry}"),
            &out_dir,
            &["--fit-new", "--json"],
        );
        assert!(out.status.success(), "{entry}: {}", stderr(&out));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(summary["source"]["entry"], entry);
        let series = summary["series"].as_array().expect("series");
        let known: Vec<&serde_json::Value> = series
            .iter()
            .filter(|s| s["fitted_new_on_rows"].is_null())
            .collect();
        assert_eq!(known.len(), 2, "the run's two series: {series:?}");
        assert!(series.len() > 2, "the other series were fitted new");
        for s in series {
            assert!(s["metrics"]["event_f1"].is_number(), "labelled: {s}");
        }
        // Every row of the run's series: the same score, threshold, decision and label.
        let folder = scores.join(entry).join("synth");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .map(|f| f.expect("entry").path())
            .collect();
        files.sort();
        assert_eq!(files.len(), 2);
        for file in files {
            let name = file.file_name().expect("name");
            let ran = csv_rows(&file);
            let applied = csv_rows(&out_dir.join("synth").join(name));
            assert_eq!(
                applied[0],
                [
                    "timestamp",
                    "value",
                    "anomaly_score",
                    "threshold",
                    "detected",
                    "alert",
                    "severity",
                    "warm_up",
                    "label"
                ]
            );
            assert_eq!(ran.len(), applied.len());
            let mut detected = 0;
            for (r, a) in ran.iter().zip(&applied).skip(1) {
                // timestamp, value, score, threshold, detected, label
                assert_eq!(
                    [&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]],
                    [&a[0], &a[1], &a[2], &a[3], &a[4], &a[8]],
                    "{entry} {}",
                    file.display()
                );
                detected += usize::from(a[4] == "1");
            }
            assert!(detected > 0, "{entry}: the version alerts somewhere");
        }
        let alerts = csv_rows(&out_dir.join("alerts.csv"));
        assert!(alerts.len() > 1, "{entry}: alerts.csv lists the alerts");
        assert!(out_dir.join("summary.json").is_file());
    }

    // The best entry is registered under the plain name too, and scores like its twin.
    let best = dir.path().join("best");
    let out = score("cli-score", &best, &["--fit-new", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let entry = summary["source"]["entry"]
        .as_str()
        .expect("entry")
        .to_string();
    let twin = dir.path().join(format!("scored-{entry}"));
    for s in summary["series"].as_array().expect("series") {
        let key = s["series"].as_str().expect("key");
        let file = format!("{}.csv", key.trim_end_matches(".csv"));
        assert_eq!(
            std::fs::read(best.join(&file)).expect("best"),
            std::fs::read(twin.join(&file)).expect("twin"),
            "{file}"
        );
    }

    // A known series whose metric column was renamed: refused, naming the channels.
    let renamed = dir.path().join("renamed");
    std::fs::create_dir(&renamed).expect("mkdir");
    let known = summary["series"]
        .as_array()
        .expect("series")
        .iter()
        .find(|s| s["fitted_new_on_rows"].is_null())
        .expect("a known series");
    let name = known["series"]
        .as_str()
        .expect("key")
        .split_once('/')
        .expect("key")
        .1;
    let file = format!("{}.csv", name.trim_end_matches(".csv"));
    let text = std::fs::read_to_string(data.join(&file)).expect("series file");
    let (header, body) = text.split_once('\n').expect("header");
    let (head, _) = header.rsplit_once(',').expect("two columns");
    std::fs::write(renamed.join(&file), format!("{head},bogus\n{body}")).expect("write");
    let out = vigil(&[
        "score",
        "cli-score.ewma",
        "--data",
        renamed.to_str().expect("utf-8"),
        "--dataset",
        "synth",
        "--out",
        dir.path().join("mismatch").to_str().expect("utf-8"),
        "--registry",
        &db,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("bogus"), "{}", stderr(&out));
    assert!(stderr(&out).contains("fitted on"), "{}", stderr(&out));
}

/// An ensemble version exports as one graph per series (members, calibration, normalisers,
/// rule and threshold inside), and ONNX Runtime (Rust and Python, with `onnx.checker`) gives
/// `vigil score`'s score within the stated tolerance and its decision on every row.
#[test]
fn an_ensemble_exports_as_one_graph_that_scores_like_vigil_score() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("synth");
    let synth = vigil(&[
        "datasets",
        "synth",
        "--seed",
        "6",
        "--rows",
        "3000",
        "--out",
        data.to_str().expect("utf-8"),
    ]);
    assert!(synth.status.success(), "{}", stderr(&synth));
    // The graph takes float32 rows: values a float32 carries exactly are what a service can
    // feed it, and on them the decisions must agree exactly.
    for file in std::fs::read_dir(&data).expect("synth folder") {
        let path = file.expect("entry").path();
        if path.file_name().is_some_and(|n| n == "labels.csv")
            || path.extension().is_none_or(|e| e != "csv")
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("series");
        let mut lines = text.lines();
        let mut out = format!("{}\n", lines.next().expect("header"));
        for line in lines {
            let (ts, value) = line.split_once(',').expect("timestamp,value");
            match value.parse::<f64>() {
                Ok(v) => out.push_str(&format!("{ts},{}\n", f64::from(v as f32))),
                Err(_) => out.push_str(&format!("{line}\n")),
            }
        }
        std::fs::write(&path, out).expect("rounded series");
    }
    let spec = score_spec(dir.path(), &data);
    let text = std::fs::read_to_string(&spec)
        .expect("spec")
        .replace("name = \"cli-score\"", "name = \"cli-onegraph\"")
        .replace(
            "[[detectors]]\nkind = \"ewma\"\nsearch = \"none\"",
            "[[detectors]]\nkind = \"isolation_forest\"\nsearch = \"none\"\n[[detectors]]\nkind = \"knn\"\nsearch = \"none\"",
        )
        .replace(
            "members = [\"rolling_zscore\", \"ewma\"]\nmodes = [\"mean\"]",
            "members = [\"rolling_zscore\", \"isolation_forest\", \"knn\"]\nnormalise = \"rank\"\nmodes = [\"mean\", \"vote\"]",
        );
    std::fs::write(&spec, text).expect("write");
    let run = vigil(&["run", spec.to_str().expect("utf-8")]);
    assert!(run.status.success(), "{}", stderr(&run));
    let db = format!("sqlite://{}", dir.path().join("vigil.db").display());
    let dataset = vigil_datasets::load(&data, &vigil_datasets::LoadOptions::default())
        .expect("the synthetic folder loads");
    let env = onnx_runtime();
    for entry in ["ensemble_mean", "ensemble_vote"] {
        let reference = format!("cli-onegraph.{entry}");
        let out = dir.path().join(format!("export-{entry}"));
        let export = vigil(&[
            "export",
            &reference,
            "--out",
            out.to_str().expect("utf-8"),
            "--registry",
            &db,
            "--no-store",
        ]);
        assert!(export.status.success(), "{entry}: {}", stderr(&export));
        let scored = dir.path().join(format!("scored-{entry}"));
        let score = vigil(&[
            "score",
            &reference,
            "--data",
            data.to_str().expect("utf-8"),
            "--fit-new",
            "--out",
            scored.to_str().expect("utf-8"),
            "--registry",
            &db,
        ]);
        assert!(score.status.success(), "{entry}: {}", stderr(&score));
        let manifest = read_json(&out.join("manifest.json"));
        let series = manifest["series"].as_array().expect("series");
        assert_eq!(series.len(), 2, "the run's two series");
        let mut alerts = 0;
        for item in series {
            assert_eq!(item["family"], "ensemble");
            let models = item["models"].as_array().expect("models");
            assert_eq!(models.len(), 1, "one graph: {models:?}");
            let spec = read_json(&out.join(item["spec"].as_str().expect("spec")));
            assert_eq!(spec["layout"], "one_graph");
            let key = item["series"].as_str().expect("key");
            let name = key.split_once('/').expect("dataset/series").1;
            let rows = csv_rows(&scored.join("synth").join(format!("{name}.csv")));
            let vigil_score: Vec<f64> = rows[1..]
                .iter()
                .map(|r| r[2].parse().expect("score"))
                .collect();
            let vigil_flag: Vec<bool> = rows[1..].iter().map(|r| r[4] == "1").collect();
            let onnx = std::fs::read(out.join(models[0].as_str().expect("file"))).expect("graph");
            let window = spec["input_window"].as_u64().expect("window") as usize;
            let Some(env) = env else { continue };
            let probe = dataset
                .series
                .iter()
                .find(|s| s.name == name)
                .expect("the series");
            let (scores, flags) = score_with_onnx(env, &onnx, &spec, probe);
            let (abs, rel) = (
                spec["tolerance"]["absolute"].as_f64().expect("tol"),
                spec["tolerance"]["relative"].as_f64().expect("rel"),
            );
            // Every score within the stated tolerance, every decision identical.
            let mut worst = 0.0_f64;
            for t in window - 1..vigil_score.len() {
                let d = (scores[t] - vigil_score[t]).abs();
                worst = worst.max(d / (abs + rel * vigil_score[t].abs()));
                assert_eq!(
                    flags[t], vigil_flag[t],
                    "{entry} {key} row {t}: {} vs {}",
                    scores[t], vigil_score[t]
                );
            }
            assert!(worst <= 1.0, "{entry} {key}: worst Δ/tolerance {worst}");
            eprintln!("{entry} {key}: worst Δ/tolerance {worst:.3}");
            alerts += vigil_flag.iter().filter(|f| **f).count();
            // Python's onnxruntime and onnx.checker (full check) on the same windows.
            let ends: Vec<usize> = (window - 1..vigil_score.len()).collect();
            let x: Vec<Vec<Vec<f32>>> = ends
                .iter()
                .map(|&t| {
                    (t + 1 - window..=t)
                        .map(|r| vec![probe.values[[r, 0]] as f32])
                        .collect()
                })
                .collect();
            let case = serde_json::json!({
                "x": x,
                "score": ends.iter().map(|&t| vigil_score[t]).collect::<Vec<_>>(),
                "is_anomaly": ends.iter().map(|&t| vigil_flag[t]).collect::<Vec<_>>(),
                "tolerance": abs,
                "relative_tolerance": rel,
                "initial_state": null,
            });
            let case_path = dir.path().join("case.json");
            std::fs::write(&case_path, case.to_string()).expect("case");
            let model_path = dir.path().join("ensemble.onnx");
            std::fs::write(&model_path, &onnx).expect("model");
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("export/tests/check_onnx.py");
            let py = std::process::Command::new("python3")
                .arg(&script)
                .arg(&model_path)
                .arg(&case_path)
                .output()
                .expect("python3");
            assert!(
                py.status.success(),
                "{entry} {key}: check_onnx.py: {}\n{}",
                String::from_utf8_lossy(&py.stdout),
                String::from_utf8_lossy(&py.stderr)
            );
        }
        if env.is_some() {
            assert!(alerts > 0, "{entry}: the decisions compared include alerts");
        }
    }
}

/// Copies a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A registry written by the previous release (before `vigil-state/2`: bare `fitted.json`,
/// `calibration.json` beside, the ensemble's untyped JSON) still loads, scores exactly as
/// that release's run scored, and exports (`tests/fixtures/registry-v1`, see its `gen.sh`).
#[test]
fn a_registry_of_the_previous_release_still_scores_and_exports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/registry-v1");
    let reg = dir.path().join("reg");
    copy_tree(&fixture, &reg);
    let data = dir.path().join("synth");
    let synth = vigil(&[
        "datasets",
        "synth",
        "--seed",
        "4",
        "--rows",
        "3000",
        "--out",
        data.to_str().expect("utf-8"),
    ]);
    assert!(synth.status.success(), "{}", stderr(&synth));
    let db = format!("sqlite://{}", reg.join("registry.db").display());
    let scored = dir.path().join("scored");
    let out = vigil(&[
        "score",
        "legacy@1",
        "--data",
        data.to_str().expect("utf-8"),
        "--out",
        scored.to_str().expect("utf-8"),
        "--registry",
        &db,
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(summary["source"]["entry"], "ensemble_mean");
    let note = summary["source"]["legacy"].as_str().expect("a legacy note");
    assert!(note.contains("registered before vigil-state/2"), "{note}");
    // The members' calibration was found through their family versions of the same run.
    assert!(!note.contains("uncalibrated"), "{note}");
    let now = csv_rows(&scored.join("synth/request_rate.csv"));
    let then = csv_rows(&fixture.join("ensemble_mean-request_rate.csv"));
    assert!(then.len() > 300);
    for old in then.iter().skip(1) {
        let row: usize = old[0].parse().expect("row");
        let new = &now[row + 1];
        assert_eq!(
            [&old[1], &old[2], &old[4]],
            [&new[0], &new[2], &new[4]],
            "row {row}"
        );
        // The old format kept the threshold only in the version row, whose storage rounds
        // the run's value in its last bit; the new state keeps it exactly.
        let (a, b): (f64, f64) = (old[3].parse().expect("t"), new[3].parse().expect("t"));
        assert!((a - b).abs() <= 1e-12 * a.abs(), "row {row}: {a} vs {b}");
    }
    for (reference, out) in [
        ("legacy.rolling_zscore@1", "family"),
        ("legacy@1", "ensemble"),
    ] {
        let export = vigil(&[
            "export",
            reference,
            "--out",
            dir.path().join(out).to_str().expect("utf-8"),
            "--registry",
            &db,
            "--no-store",
        ]);
        assert!(export.status.success(), "{reference}: {}", stderr(&export));
    }
}

/// `vigil families`: every catalog family listed with its ONNX form; one family's parameters
/// with defaults and search space; an unknown name is an error that lists the names.
#[test]
fn families_lists_the_catalog_and_explains_one_family() {
    let output = vigil(&["families"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    for kind in vigil_train::DetectorKind::ALL {
        assert!(out.contains(kind.name()), "{kind} missing from:\n{out}");
    }
    assert!(out.contains("streaming") && out.contains("batch"), "{out}");

    let output = vigil(&["families", "knn", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let knn: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(knn["kind"], "knn");
    assert_eq!(knn["causal"], true);
    assert_eq!(knn["input"], "feature rows");
    assert_eq!(knn["export"]["form"], "window");
    assert_eq!(knn["parameters"]["n_neighbors"], 5, "{knn}");
    let space = knn["search_space"].as_array().expect("a list");
    assert!(
        space.iter().any(|d| d["name"] == "n_neighbors"),
        "n_neighbors is searched: {knn}"
    );

    let output = vigil(&["families", "arima"]);
    let out = stdout(&output);
    assert!(out.contains("ONNX export: no"), "{out}");
    let output = vigil(&["families", "cusum"]);
    let out = stdout(&output);
    assert!(out.contains("ONNX export: streaming"), "{out}");

    let output = vigil(&["families", "knnn"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("no family named \"knnn\"") && err.contains("isolation_forest"),
        "{err}"
    );
}
