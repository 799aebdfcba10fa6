//! End-to-end runs of small specs against a temporary SQLite registry: leaderboard, model
//! versions, determinism across thread counts, and resuming an interrupted run.

#![allow(clippy::unwrap_used)]

use vigil_experiments::{RunOptions, parse_spec, run};
use vigil_registry::{ModelRef, Registry, RunFilter};

fn spec_text(db: &str) -> String {
    format!(
        r#"
name = "small"
seed = 3
threshold_scope = "series"
[[datasets]]
synthetic = {{ seed = 11, length = 3000, anomalies = {{ min_per_series = 3, max_per_series = 3, persist_probability = 0.0, kinds = ["spike", "dip", "level_shift", "variance_change"] }} }}
max_series = 2
[split]
kind = "fractions"
train = 0.4
validation = 0.3
[search]
strategy = "grid"
budget = 3
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
[[detectors]]
kind = "rolling_percentile"
search = "none"
[ensemble]
top = 3
modes = ["mean", "vote"]
[registry]
url = "{db}"
"#
    )
}

fn options(text: &str, threads: usize) -> RunOptions {
    RunOptions {
        threads: Some(threads),
        spec_text: text.to_string(),
        ..RunOptions::default()
    }
}

#[test]
fn a_run_ranks_families_registers_models_and_beats_the_baselines() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let text = spec_text(&db);
    let spec = parse_spec(&text, "small.toml").unwrap();
    let out = run(&spec, &options(&text, 2)).unwrap();
    let lb = &out.leaderboard;
    let names: Vec<&str> = lb.entries.iter().map(|e| e.name.as_str()).collect();
    for expected in [
        "rolling_zscore",
        "ewma",
        "rolling_percentile",
        "ensemble_mean",
        "ensemble_vote",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    // Sorted by validation objective, best first.
    let vals: Vec<f64> = lb
        .entries
        .iter()
        .filter(|e| e.feasible)
        .map(|e| e.validation)
        .collect();
    assert!(vals.windows(2).all(|w| w[0] >= w[1]), "{vals:?}");
    // Every entry was tested on the one dataset, with deployable and oracle numbers.
    let best = lb.best().unwrap();
    let test = &best.test["synthetic"];
    assert!(test["event_f1"].is_finite());
    assert!(test.contains_key("oracle_event_f1"));
    // The families beat random scores on the test rows (NAB standard, point F1).
    let random = &lb.baselines["synthetic"]["random"];
    let beat = |metric: &str, margin: f64| {
        lb.entries
            .iter()
            .filter(|e| e.test["synthetic"][metric] > random[metric] + margin)
            .count()
    };
    assert!(beat("nab_standard", 10.0) >= 3, "{lb:#?}");
    assert!(beat("point_f1", 0.02) >= 3, "{lb:#?}");

    // Versions: the best overall under the experiment name, each family's best under NAME.FAMILY.
    let registry = Registry::open(&db).unwrap();
    let v = registry.resolve(&ModelRef::Latest("small".into())).unwrap();
    assert_eq!(v.version, out.versions[0].1);
    assert!(
        registry
            .resolve(&ModelRef::Latest("small.ewma".into()))
            .is_ok()
    );
    let fitted = registry
        .read_artifact(&v.artifacts[0].artifact.sha256)
        .unwrap();
    assert!(!fitted.is_empty());
    // Every trial is a run, plus the summary.
    let runs = registry
        .runs(&RunFilter {
            experiment: Some("small".into()),
            ..RunFilter::default()
        })
        .unwrap();
    let trials: usize = lb
        .entries
        .iter()
        .filter(|e| !e.name.starts_with("ensemble"))
        .map(|e| e.trials)
        .sum();
    assert_eq!(runs.len(), trials + 1);
}

#[test]
fn leaderboards_are_identical_on_one_and_four_threads() {
    let dir = tempfile::tempdir().unwrap();
    let a = format!("sqlite://{}", dir.path().join("a.db").display());
    let b = format!("sqlite://{}", dir.path().join("b.db").display());
    let ta = spec_text(&a);
    let tb = spec_text(&b);
    let one = run(&parse_spec(&ta, "a").unwrap(), &options(&ta, 1)).unwrap();
    let four = run(&parse_spec(&tb, "b").unwrap(), &options(&tb, 4)).unwrap();
    assert_eq!(
        serde_json::to_string(&one.leaderboard).unwrap(),
        serde_json::to_string(&four.leaderboard).unwrap()
    );
}

#[test]
fn an_interrupted_run_resumes_where_it_stopped_with_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let text = spec_text(&db);
    let spec = parse_spec(&text, "small.toml").unwrap();
    // Nothing to resume yet.
    let err = run(
        &spec,
        &RunOptions {
            resume: true,
            ..options(&text, 2)
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("no run of this spec"), "{err}");
    // Killed after 3 trials.
    let err = run(
        &spec,
        &RunOptions {
            stop_after_trials: Some(3),
            ..options(&text, 2)
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("--resume"), "{err}");
    let registry = Registry::open(&db).unwrap();
    let filter = RunFilter {
        experiment: Some("small".into()),
        ..RunFilter::default()
    };
    assert_eq!(registry.runs(&filter).unwrap().len(), 3);
    // Resumed: the 3 finished trials are reused, the rest run, and the result equals a fresh
    // uninterrupted run's.
    let resumed = run(
        &spec,
        &RunOptions {
            resume: true,
            ..options(&text, 2)
        },
    )
    .unwrap();
    let total = registry.runs(&filter).unwrap().len();
    let trials: usize = resumed
        .leaderboard
        .entries
        .iter()
        .filter(|e| !e.name.starts_with("ensemble"))
        .map(|e| e.trials)
        .sum();
    assert_eq!(total, trials + 1, "no trial ran twice");
    let other = tempfile::tempdir().unwrap();
    let db2 = format!("sqlite://{}", other.path().join("f.db").display());
    let t2 = spec_text(&db2);
    let fresh = run(&parse_spec(&t2, "f").unwrap(), &options(&t2, 2)).unwrap();
    assert_eq!(
        serde_json::to_string(&resumed.leaderboard.entries).unwrap(),
        serde_json::to_string(&fresh.leaderboard.entries).unwrap()
    );
    // A finished invocation has nothing left to resume.
    let err = run(
        &spec,
        &RunOptions {
            resume: true,
            ..options(&text, 2)
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("finished"), "{err}");
}

/// A UCR spec over the first two archive series, ranked by `ucr_top1` with `slack`.
fn ucr_spec_text(db: &str, slack: usize) -> String {
    let ucr = vigil_testkit::dataset("ucr").display().to_string();
    format!(
        r#"
name = "ucr_small"
seed = 7
threshold_scope = "series"
ucr_top1_slack = {slack}
[[datasets]]
name = "ucr"
path = "{ucr}"
layout = "ucr"
max_series = 2
[split]
kind = "dataset_prefix"
validation_fraction = 0.0
[objective]
metric = "ucr_top1"
[[detectors]]
kind = "rolling_zscore"
search = "none"
[[detectors]]
kind = "ewma"
search = "none"
[registry]
url = "{db}"
"#
    )
}

#[test]
fn ucr_runs_rank_by_top1_accuracy_with_the_spec_slack() {
    let dir = tempfile::tempdir().unwrap();
    let mut by_slack = Vec::new();
    for slack in [100, 1_000_000] {
        let db = format!(
            "sqlite://{}",
            dir.path().join(format!("{slack}.db")).display()
        );
        let text = ucr_spec_text(&db, slack);
        let spec = parse_spec(&text, "ucr_small.toml").unwrap();
        let lb = run(&spec, &options(&text, 2)).unwrap().leaderboard;
        assert_eq!(
            lb.objective,
            vigil_experiments::metrics::MetricName::UcrTop1
        );
        assert_eq!(lb.entries.len(), 2);
        for e in &lb.entries {
            // The metric of each series is a verdict; the dataset's is their mean.
            let verdicts: Vec<f64> = e.per_series.values().map(|m| m["ucr_top1"]).collect();
            assert_eq!(verdicts.len(), 2, "{}", e.name);
            assert!(
                verdicts.iter().all(|&v| v == 0.0 || v == 1.0),
                "{verdicts:?}"
            );
            let mean = verdicts.iter().sum::<f64>() / 2.0;
            assert_eq!(e.test["ucr"]["ucr_top1"], mean, "{}", e.name);
            // No validation rows: the objective is the same figure, chosen in-sample.
            assert_eq!(e.validation, mean, "{}", e.name);
        }
        assert!(lb.baselines["ucr"]["random"]["ucr_top1"].is_finite());
        by_slack.push(lb);
    }
    // At 100 points the second series (005, a one-point anomaly) is missed; a slack longer
    // than any series makes every top score a hit: the spec's slack reached the tuning pass
    // and the test evaluation.
    assert!(
        by_slack[0]
            .entries
            .iter()
            .any(|e| e.test["ucr"]["ucr_top1"] < 1.0)
    );
    for e in &by_slack[1].entries {
        assert_eq!(e.test["ucr"]["ucr_top1"], 1.0, "{}", e.name);
        assert_eq!(e.validation, 1.0, "{}", e.name);
    }
    assert_eq!(by_slack[1].baselines["ucr"]["random"]["ucr_top1"], 1.0);
}

/// A spec over two generated series (4,000 five-minute rows each, 40/30/30 % split), one
/// candidate per family, `detectors` appended, its registry in `dir`.
fn two_series_spec(dir: &std::path::Path, name: &str, detectors: &str) -> String {
    let db = format!("sqlite://{}", dir.join("r.db").display());
    format!(
        r#"
name = "{name}"
seed = 3
[[datasets]]
synthetic = {{ seed = 11, length = 4000 }}
max_series = 2
[split]
kind = "fractions"
train = 0.4
validation = 0.3
[search]
strategy = "grid"
budget = 1
[objective]
metric = "event_f1"
[threshold]
kind = "best"
objective = {{ metric = "point_f1" }}
{detectors}
[registry]
url = "{db}"
"#
    )
}

/// The report's seasonal-period table: the families that take a period, with what was detected
/// on each series' training rows (the generator's metrics have a daily cycle: 288 five-minute
/// rows), and no column for the families without one.
#[test]
fn the_report_shows_the_periods_detected_on_each_series() {
    let dir = tempfile::tempdir().unwrap();
    let text = two_series_spec(
        dir.path(),
        "periods",
        r#"
[[detectors]]
kind = "ewma"
search = "none"
[[detectors]]
kind = "holt_winters"
search = "none"
[[detectors]]
kind = "mstl"
search = "none"
"#,
    );
    let spec = parse_spec(&text, "periods.toml").unwrap();
    let options = options(&text, 2);
    let out = run(&spec, &options).unwrap();
    let report = vigil_experiments::report::build_report(&spec, &options, &out);
    assert_eq!(report.periods.len(), 1);
    let table = &report.periods[0];
    let mut families = table.families.clone();
    families.sort();
    assert_eq!(families, ["holt_winters", "mstl"]);
    assert_eq!(table.rows.len(), 2);
    let mstl = table.families.iter().position(|f| f == "mstl").unwrap();
    let mut daily = 0;
    for row in &table.rows {
        let periods = row.periods[mstl].as_ref().expect("mstl was fitted");
        assert_eq!(periods.len(), 1, "one channel");
        // A day of rows (snapped to the clock), or nothing on a noisy series.
        assert!(
            periods[0].iter().all(|&p| p == 288),
            "{}: {periods:?}",
            row.series
        );
        daily += usize::from(periods[0] == [288]);
    }
    assert!(daily >= 1, "{table:?}");
}

/// A fit that departs from its parameters (Holt-Winters finding no season within `max_period`)
/// is reported once per family with the series it concerns, not once per series and trial.
#[test]
fn fit_fallbacks_are_one_warning_per_family_with_the_series_counted() {
    let dir = tempfile::tempdir().unwrap();
    let text = two_series_spec(
        dir.path(),
        "fallbacks",
        r#"
[[detectors]]
kind = "holt_winters"
params = { max_period = 10 }
search = "none"
[[detectors]]
kind = "ewma"
search = "none"
"#,
    );
    let spec = parse_spec(&text, "fallbacks.toml").unwrap();
    let out = run(&spec, &options(&text, 2)).unwrap();
    let fallbacks: Vec<&String> = out
        .leaderboard
        .warnings
        .iter()
        .filter(|w| w.starts_with("holt_winters:"))
        .collect();
    assert_eq!(fallbacks.len(), 1, "{:?}", out.leaderboard.warnings);
    assert!(
        fallbacks[0].contains("no seasonal period detected up to 10 rows")
            && fallbacks[0].contains("on 2 of 2 series"),
        "{}",
        fallbacks[0]
    );
    assert!(
        !out.leaderboard
            .warnings
            .iter()
            .any(|w| w.starts_with("ewma:"))
    );
}
