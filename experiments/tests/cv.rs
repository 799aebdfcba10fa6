//! Cross-validation across groups, end to end on generated data written as a generic folder:
//! every fold's choices ignore what its held-out group contains, the estimate covers every
//! group once, and the leaderboard carries the in-sample figure and the gap beside it.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use vigil_datasets::synth::{AnomalyConfig, SynthConfig, generate, write_synth};
use vigil_experiments::{Leaderboard, RunOptions, parse_spec, run};

/// Writes five generated metrics (3,000 rows, four incidents each) into `dir`.
fn write_data(dir: &Path) {
    let config = SynthConfig {
        seed: 5,
        length: 3000,
        anomalies: AnomalyConfig {
            min_per_series: 4,
            max_per_series: 4,
            persist_probability: 0.0,
            ..AnomalyConfig::default()
        },
        ..SynthConfig::default()
    };
    write_synth(&generate(&config).unwrap(), &config, dir).unwrap();
}

fn spec_text(data: &Path, db: &str, policies: &str) -> String {
    format!(
        r#"
name = "cv"
seed = 3
threshold_scope = "series"
threshold_candidates = {policies}
[[datasets]]
name = "web"
path = "{data}"
labels = "{labels}"
[split]
kind = "fractions"
train = 0.4
validation = 0.3
[validation]
kind = "groups"
group_by = "series"
[search]
strategy = "grid"
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
[[detectors]]
kind = "rolling_percentile"
search = "none"
[ensemble]
top = 3
modes = ["mean", "vote"]
[registry]
url = "{db}"
"#,
        data = data.display(),
        labels = data.join("labels.csv").display(),
    )
}

fn run_spec(text: &str) -> Leaderboard {
    let spec = parse_spec(text, "cv.toml").unwrap();
    let options = RunOptions {
        threads: Some(2),
        spec_text: text.to_string(),
        ..RunOptions::default()
    };
    run(&spec, &options).unwrap().leaderboard
}

const POLICIES: &str =
    r#"[{ kind = "pot", risk = 0.001 }, { kind = "alert_budget", per_day = 1.0 }]"#;

#[test]
fn a_held_out_group_influences_none_of_its_folds_choices() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    write_data(&full);
    // The same data with the incidents of one series removed from the labels.
    let blind = dir.path().join("blind");
    write_data(&blind);
    let labels = std::fs::read_to_string(full.join("labels.csv")).unwrap();
    let held = "latency_p99_ms";
    let kept: String = labels
        .lines()
        .filter(|l| !l.starts_with(&format!("{held},")))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(kept.len() < labels.len(), "the series has labels to remove");
    std::fs::write(blind.join("labels.csv"), kept).unwrap();

    let db = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
    let a = run_spec(&spec_text(&full, &db("a.db"), POLICIES));
    let b = run_spec(&spec_text(&blind, &db("b.db"), POLICIES));

    let cv = a.cv.as_ref().expect("a cross-validated run has a summary");
    assert_eq!(cv.folds, 5, "one fold per series");
    assert_eq!(cv.procedure.folds.len(), 5);
    assert_eq!(cv.groups.len(), 5);
    let key = format!("web/{held}");
    for (ea, eb) in a.entries.iter().zip(&b.entries) {
        let (Some(ca), Some(cb)) = (&ea.cv, &eb.cv) else {
            continue;
        };
        let fa = ca.folds.iter().find(|f| f.held_out == [key.clone()]);
        let fb = cb.folds.iter().find(|f| f.held_out == [key.clone()]);
        let (Some(fa), Some(fb)) = (fa, fb) else {
            continue;
        };
        assert_eq!(fa.chosen, fb.chosen, "{}: the fold's choice moved", ea.name);
        assert_eq!(
            fa.training_objective.to_bits(),
            fb.training_objective.to_bits(),
            "{}",
            ea.name
        );
        assert_eq!(
            fa.thresholds[&key].to_bits(),
            fb.thresholds[&key].to_bits(),
            "{}: the held-out threshold moved with its labels",
            ea.name
        );
    }
    let pa = cv
        .procedure
        .folds
        .iter()
        .find(|f| f.held_out == [key.clone()]);
    let pb =
        b.cv.as_ref()
            .unwrap()
            .procedure
            .folds
            .iter()
            .find(|f| f.held_out == [key.clone()]);
    assert_eq!(pa.unwrap().chosen, pb.unwrap().chosen);
    // The in-sample run did see those labels: the whole-data choice may differ, and the
    // in-sample figures differ since the test rows are scored against other labels.
    assert_ne!(a.entries[0].test, b.entries[0].test);
}

#[test]
fn the_estimate_covers_every_group_with_its_gap_and_spread() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write_data(&data);
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let lb = run_spec(&spec_text(&data, &db, "[]"));
    let cv = lb.cv.as_ref().unwrap();
    let objective = "event_f1";
    let estimate = cv.procedure.metrics[objective];
    assert!((0.0..=1.0).contains(&estimate), "{estimate}");
    // Series scope: the estimate is the mean over the folds' held-out metrics.
    let folds: Vec<f64> = cv
        .procedure
        .folds
        .iter()
        .map(|f| f.metrics[objective])
        .collect();
    let mean = folds.iter().sum::<f64>() / folds.len() as f64;
    assert!((estimate - mean).abs() < 1e-12);
    assert!(cv.procedure.spread[objective] >= 0.0);
    assert_eq!(cv.chosen, lb.entries[0].name);
    let in_sample = cv.in_sample[objective];
    assert_eq!(in_sample, lb.entries[0].test["web"][objective]);
    assert!((cv.gap[objective] - (in_sample - estimate)).abs() < 1e-12);
    // Every family and ensemble has its own estimate, over every fold.
    for e in &lb.entries {
        let c = e.cv.as_ref().unwrap();
        assert_eq!(c.folds.len() + c.missing_folds, 5, "{}", e.name);
        assert!(c.metrics.contains_key("vus_pr"), "{}", e.name);
    }
    // Held-out thresholds were fitted: per series, supervised policies fall back to the value
    // pooled over the training series.
    for f in &cv.procedure.folds {
        assert_eq!(f.thresholds.len(), 1);
        assert!(f.thresholds.values().all(|t| t.is_finite()), "{f:?}");
    }
}

#[test]
fn transfer_selection_ranks_by_how_thresholds_carry_over() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write_data(&data);
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let text = spec_text(&data, &db, POLICIES)
        .replace(
            "group_by = \"series\"",
            "group_by = \"series\"\nselect = \"transfer\"",
        )
        .replace(
            "metric = \"event_f1\"",
            "metric = \"event_f1\"\nentries = [\"rolling_zscore\", \"ewma\"]",
        );
    let lb = run_spec(&text);
    // Every entry carries the inner cross-validated score that ranked it.
    assert!(
        lb.entries.iter().all(|e| e.selection.is_some()),
        "{:?}",
        lb.entries
    );
    // Only the entries the spec allows may be chosen, in every fold and at the end.
    let chosen = &lb.entries[0];
    assert!(["rolling_zscore", "ewma"].contains(&chosen.name.as_str()));
    assert!(chosen.eligible);
    assert!(
        lb.entries
            .iter()
            .filter(|e| !e.eligible)
            .all(|e| e.name != "rolling_zscore" && e.name != "ewma")
    );
    let eligible: Vec<f64> = lb
        .entries
        .iter()
        .filter(|e| e.eligible && e.feasible)
        .map(|e| e.selection.unwrap())
        .collect();
    assert!(eligible.windows(2).all(|w| w[0] >= w[1]), "{eligible:?}");
    let cv = lb.cv.as_ref().unwrap();
    for f in &cv.procedure.folds {
        let name = f.chosen.split_once(':').unwrap().0;
        assert!(["rolling_zscore", "ewma"].contains(&name), "{}", f.chosen);
    }
}

#[test]
fn every_shipped_spec_parses_and_the_benchmarks_cross_validate_across_groups() {
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs");
    let mut seen = 0;
    for entry in std::fs::read_dir(&specs).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.extension().is_none_or(|e| e != "toml")
            || name.starts_with("gate")
            || name == "retrain"
        {
            continue;
        }
        let spec = vigil_experiments::load_spec(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        seen += 1;
        if ["nab", "smd", "asd"].contains(&name.as_str()) {
            assert_eq!(
                spec.validation.kind,
                vigil_experiments::spec::ValidationKind::Groups,
                "{name} must cross-validate across groups"
            );
        }
    }
    assert!(seen >= 5, "{seen} specs");
}
