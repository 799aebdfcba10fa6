//! End-to-end tests of the operations verbs: `vigil gate` (the CI accuracy gate) and
//! `vigil retrain` (the monthly retraining job).

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{shared_datasets, text, vigil, vigil_command};

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

/// A retrain job over one synthetic "month" (the generator's seed stands for the month's data).
fn retrain_spec(dir: &Path, month_seed: u64) -> PathBuf {
    let text = format!(
        r#"name = "monthly"
margin = 0.01
report = "report.html"

[inline]
name = "svc"
seed = 7
threshold_scope = "series"
[[inline.datasets]]
name = "synthetic"
synthetic = {{ seed = {month_seed}, length = 4032, anomalies = {{ min_per_series = 2, max_per_series = 4 }} }}
[inline.split]
kind = "fractions"
train = 0.4
validation = 0.3
[inline.objective]
metric = "event_f1"
constraints = [{{ metric = "false_alarms_per_day", max = 20.0 }}]
[inline.threshold]
kind = "best"
objective = {{ metric = "point_f1" }}
[[inline.detectors]]
kind = "cusum"
[[inline.detectors]]
kind = "rolling_zscore"
search = {{ window = [48, 288] }}
"#
    );
    let path = dir.join(format!("month{month_seed}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn aliases(db: &str) -> serde_json::Value {
    let out = vigil(&["registry", "--db", db, "aliases", "svc", "--json"]);
    assert!(out.status.success(), "{:?}", text(&out));
    serde_json::from_str(&text(&out).0).unwrap()
}

#[test]
fn retrain_promotes_a_better_challenger_once_and_audits_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let month1 = retrain_spec(dir.path(), 1);
    let month2 = retrain_spec(dir.path(), 2);
    let report = dir.path().join("report.html");
    let retrain = |spec: &Path, extra: &[&str]| {
        let mut args = vec!["-q", "retrain", spec.to_str().unwrap(), "--registry", &db];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--report", report.to_str().unwrap()]);
        let out = vigil(&args);
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
        text(&out).0
    };

    // Month 1: no champion yet, the first challenger becomes it.
    let first = retrain(&month1, &[]);
    assert!(first.contains("svc PROMOTED: no champion yet"), "{first}");
    assert_eq!(aliases(&db)["aliases"]["champion"], 1);

    // Month 2, dry run: decides, moves nothing, registers nothing.
    let dry = retrain(&month2, &["--dry-run"]);
    assert!(dry.contains("WOULD PROMOTE (dry run)"), "{dry}");
    let a = aliases(&db);
    assert_eq!(a["aliases"]["champion"], 1);
    assert_eq!(a["history"].as_array().unwrap().len(), 1);

    // Month 2: the challenger trained on the new month beats the month-1 champion on the
    // same (month-2) test rows: promoted, with both sets of numbers in the audit log.
    let second = retrain(&month2, &[]);
    assert!(
        second.contains("svc PROMOTED: promoted: challenger v2"),
        "{second}"
    );
    let a = aliases(&db);
    assert_eq!(a["aliases"]["champion"], 2);
    let history = a["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    let last = &history[1];
    assert_eq!(last["from_version"], 1);
    assert_eq!(last["to_version"], 2);
    assert_eq!(last["moved_by"], "vigil retrain monthly");
    let why = last["reason"].as_str().unwrap();
    assert!(
        why.contains("challenger v2") && why.contains("champion v1"),
        "{why}"
    );
    assert!(
        why.contains("event_f1") && why.contains("false_alarms_per_day"),
        "{why}"
    );
    assert!(why.contains("margin 0.01"), "{why}");

    // The comparison report: champion v1 against challenger v2.
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("champion v1") && html.contains("challenger v2"),
        "report"
    );
    assert!(html.contains("event_f1"));

    // Idempotent: the same month again changes nothing (no new version, no alias move).
    let again = retrain(&month2, &[]);
    assert!(
        again.contains("KEPT") && again.contains("re-judged"),
        "{again}"
    );
    let a = aliases(&db);
    assert_eq!(a["aliases"]["champion"], 2);
    assert_eq!(a["history"].as_array().unwrap().len(), 2);
    let versions = vigil(&["registry", "--db", &db, "versions", "svc", "--json"]);
    let versions: serde_json::Value = serde_json::from_str(&text(&versions).0).unwrap();
    assert_eq!(versions.as_array().map(Vec::len), Some(2), "{versions}");
}

/// The same job whose experiment may only choose its mean ensemble (the seeds' production
/// model is an ensemble): champion and challenger are both ensembles.
fn ensemble_retrain_spec(dir: &Path, month_seed: u64) -> PathBuf {
    let path = retrain_spec(dir, month_seed);
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "constraints = [",
        "entries = [\"ensemble_mean\"]\nconstraints = [",
    );
    let text = format!(
        "{text}[inline.ensemble]\nmembers = [\"cusum\", \"rolling_zscore\"]\nmodes = [\"mean\"]\n"
    );
    let path = dir.join(format!("ensemble-month{month_seed}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn retrain_judges_and_promotes_ensembles() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let report = dir.path().join("report.html");
    let retrain = |spec: &Path| {
        let out = vigil(&[
            "-q",
            "retrain",
            spec.to_str().unwrap(),
            "--registry",
            &db,
            "--report",
            report.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
        serde_json::from_str::<serde_json::Value>(&text(&out).0).unwrap()
    };
    let first = retrain(&ensemble_retrain_spec(dir.path(), 1));
    assert_eq!(first["decision"], "promoted", "{first}");
    assert_eq!(first["challenger"]["family"], "ensemble_mean");
    let second = retrain(&ensemble_retrain_spec(dir.path(), 2));
    // Both sides judged on month 2's rows through their ensemble states.
    assert_eq!(second["champion"]["family"], "ensemble_mean", "{second}");
    assert_eq!(second["challenger"]["family"], "ensemble_mean");
    for side in ["champion", "challenger"] {
        let f1 = second[side]["metrics"]["event_f1"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&f1), "{side}: {second}");
    }
    assert!(
        second["reason"].as_str().unwrap().contains("champion v1"),
        "{second}"
    );
    // One protocol: the job's judgement of the champion is `vigil score --labels` of that
    // version on the same rows (the month's data, measured from its first test row).
    let job =
        vigil_experiments::retrain::load_retrain(&ensemble_retrain_spec(dir.path(), 2)).unwrap();
    let data_spec = &job.experiment.datasets[0];
    let config = dir.path().join("month2.json");
    std::fs::write(
        &config,
        serde_json::to_vec(data_spec.synthetic.as_ref().unwrap()).unwrap(),
    )
    .unwrap();
    let month = dir.path().join("synthetic");
    let synth = vigil(&[
        "datasets",
        "synth",
        "--config",
        config.to_str().unwrap(),
        "--out",
        month.to_str().unwrap(),
    ]);
    assert!(synth.status.success(), "{:?}", text(&synth));
    let prepared = vigil_experiments::data::prepare(data_spec, &job.experiment.split).unwrap();
    let first = &prepared.series[0];
    let from = first.series.timestamps[first.split.test.start].to_string();
    let score = vigil(&[
        "score",
        "svc@1",
        "--data",
        month.to_str().unwrap(),
        "--measure-from",
        &from,
        "--out",
        dir.path().join("scored").to_str().unwrap(),
        "--registry",
        &db,
        "--json",
    ]);
    assert!(score.status.success(), "{:?}", text(&score));
    let scored: serde_json::Value = serde_json::from_str(&text(&score).0).unwrap();
    for metric in [
        "event_f1",
        "event_recall",
        "alert_precision",
        "point_f1",
        "false_alarms_per_day",
        "vus_pr",
        "roc_auc",
        "nab_standard",
    ] {
        let judged = second["champion"]["metrics"][metric].as_f64().unwrap();
        let applied = scored["metrics"][metric].as_f64().unwrap();
        assert!(
            (judged - applied).abs() <= 1e-12,
            "{metric}: retrain {judged} vs vigil score {applied}"
        );
    }
}

#[test]
fn a_failed_retrain_exits_2_and_leaves_the_champion() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let month1 = retrain_spec(dir.path(), 1);
    let out = vigil(&[
        "-q",
        "retrain",
        month1.to_str().unwrap(),
        "--registry",
        &db,
        "--report",
        dir.path().join("r.html").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    // A month whose data cannot be generated: the run fails before any alias move.
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        std::fs::read_to_string(&month1)
            .unwrap()
            .replace("length = 4032", "length = 500"),
    )
    .unwrap();
    let out = vigil(&["-q", "retrain", broken.to_str().unwrap(), "--registry", &db]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no alias was moved"), "{stderr}");
    assert_eq!(aliases(&db)["aliases"]["champion"], 1);
}

#[test]
fn two_concurrent_retrains_cannot_both_promote() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let month1 = retrain_spec(dir.path(), 1);
    let month2 = retrain_spec(dir.path(), 2);
    let report = dir.path().join("r.html");
    let args = |spec: &Path| -> Vec<String> {
        [
            "-q",
            "retrain",
            spec.to_str().unwrap(),
            "--registry",
            &db,
            "--report",
            report.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let out = vigil(&args(&month1).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    // Two jobs over the new month at once.
    let spawn = || vigil_command(&args(&month2)).spawn().unwrap();
    let (a, b) = (spawn(), spawn());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let promoted = outs
        .iter()
        .filter(|o| text(o).0.contains("svc PROMOTED"))
        .count();
    for o in &outs {
        // Promoted, kept (it found the other's promotion), or failed without moving an alias
        // (exit 2: usually the lost compare-and-set, "someone moved it concurrently"; under
        // heavy load possibly a busy database).
        assert!(matches!(o.status.code(), Some(0 | 2)), "{:?}", text(o));
        if o.status.code() == Some(2) {
            assert!(text(o).1.contains("no alias was moved"), "{:?}", text(o));
        }
    }
    assert!(
        promoted <= 1,
        "{:?}",
        outs.iter().map(text).collect::<Vec<_>>()
    );
    let a = aliases(&db);
    let history = a["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "one promotion after month 1's: {a}");
    assert_eq!(history[1]["from_version"], 1);
}

/// A PostgreSQL database for one test, dropped at the end. Under `CI` an unreachable server
/// fails the test; elsewhere the test says SKIPPED on stderr and returns `None`.
struct PgDatabase {
    name: String,
    url: String,
}

fn psql(sql: &str) -> std::result::Result<(), String> {
    let admin = std::env::var("VIGIL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let out = Command::new("psql")
        .args([admin.as_str(), "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

impl PgDatabase {
    fn create(tag: &str) -> Option<Self> {
        let name = format!("vigil_test_{tag}_{}", std::process::id());
        let _ = psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        match psql(&format!("CREATE DATABASE {name}")) {
            Ok(()) => Some(Self {
                url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
                name,
            }),
            Err(e) => {
                let message = format!("PostgreSQL not reachable on 127.0.0.1:5432 ({e})");
                assert!(
                    std::env::var_os("CI").is_none(),
                    "{message} (CI is set, so PostgreSQL tests must run)"
                );
                let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
                None
            }
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Err(e) = psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )) {
            eprintln!("warning: could not drop {}: {e}", self.name);
        }
    }
}

/// A small sharded experiment: synthetic series, three families, a dozen trials.
fn shard_spec(dir: &Path, strategy: &str) -> PathBuf {
    let text = format!(
        r#"name = "fleet"
seed = 5
threshold_scope = "series"
[[datasets]]
name = "synthetic"
synthetic = {{ seed = 21, length = 3000, anomalies = {{ min_per_series = 3, max_per_series = 4, persist_probability = 0.0 }} }}
max_series = 3
[split]
kind = "fractions"
train = 0.4
validation = 0.3
[search]
strategy = "{strategy}"
budget = 4
grid_points = 2
[objective]
metric = "event_f1"
[threshold]
kind = "best"
objective = {{ metric = "nab", profile = "standard" }}
[[detectors]]
kind = "rolling_zscore"
search = {{ window = [24, 96], center = ["mean_std", "median_mad"] }}
[[detectors]]
kind = "ewma"
[[detectors]]
kind = "cusum"
[ensemble]
top = 3
modes = ["mean", "vote"]
"#
    );
    let path = dir.join(format!("fleet-{strategy}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn three_shards_at_once_on_postgres_merge_to_the_single_process_leaderboard() {
    let Some(pg) = PgDatabase::create("shards") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = shard_spec(dir.path(), "grid");
    let spec = spec.to_str().unwrap();
    let report = dir.path().join("fleet.html");
    let report = report.to_str().unwrap();

    // The reference: one process, its own SQLite registry.
    let single_db = format!("sqlite://{}", dir.path().join("single.db").display());
    let single = vigil(&[
        "-q",
        "run",
        spec,
        "--registry",
        &single_db,
        "--report",
        report,
        "--json",
    ]);
    assert_eq!(single.status.code(), Some(0), "{:?}", text(&single));
    let single: serde_json::Value = serde_json::from_str(&text(&single).0).unwrap();

    // Merging before any shard ran names what is missing.
    let merge_args = [
        "-q",
        "run",
        spec,
        "--registry",
        &pg.url,
        "--merge",
        "--report",
        report,
        "--json",
    ];
    let early = vigil(&merge_args);
    assert_eq!(early.status.code(), Some(2), "{:?}", text(&early));
    assert!(text(&early).1.contains("incomplete"), "{:?}", text(&early));

    // Three shard processes at once against one PostgreSQL registry (artifacts in one
    // shared directory: the processes' working directory).
    let shard_args = |shard: &'static str| {
        [
            "-q",
            "run",
            spec,
            "--registry",
            pg.url.as_str(),
            "--shard",
            shard,
            "--json",
        ]
    };
    let spawn = |shard: &'static str| {
        vigil_command(&shard_args(shard))
            .current_dir(dir.path())
            .spawn()
            .unwrap()
    };
    let children: Vec<_> = ["1/3", "2/3", "3/3"].into_iter().map(spawn).collect();
    let mut owned = 0;
    let mut totals = std::collections::BTreeSet::new();
    let mut invocations = std::collections::BTreeSet::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
        let shard: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
        totals.insert(shard["total_trials"].as_u64().unwrap());
        assert_eq!(shard["computed"], shard["owned"], "{shard}");
        owned += shard["owned"].as_u64().unwrap();
        invocations.insert(shard["invocation"].as_str().unwrap().to_string());
    }
    assert_eq!(
        totals.len(),
        1,
        "every shard enumerates the same trials: {totals:?}"
    );
    assert!(totals.first().unwrap() > &10, "{totals:?}");
    assert_eq!(
        Some(&owned),
        totals.first(),
        "the shards partition the trials"
    );
    assert_eq!(
        invocations.len(),
        1,
        "every shard logs under one invocation"
    );

    // A shard run again (a retried pod) reuses its trials and computes nothing.
    let again = vigil(&shard_args("2/3"));
    assert_eq!(again.status.code(), Some(0), "{:?}", text(&again));
    let again: serde_json::Value = serde_json::from_str(&text(&again).0).unwrap();
    assert_eq!(again["computed"], 0, "{again}");
    assert_eq!(again["reused"], again["owned"], "{again}");

    // The merge equals the single-process run.
    let merge = || {
        vigil_command(&merge_args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let merged = merge();
    assert_eq!(merged.status.code(), Some(0), "{:?}", text(&merged));
    let merged: serde_json::Value = serde_json::from_str(&text(&merged).0).unwrap();
    assert_eq!(
        merged, single,
        "the union of the shards is the single-process result"
    );

    // Merging twice is refused: the versions are registered once.
    let twice = merge();
    assert_eq!(twice.status.code(), Some(2), "{:?}", text(&twice));
    assert!(
        text(&twice).1.contains("already merged"),
        "{:?}",
        text(&twice)
    );
}

#[test]
fn sharding_refuses_halving_and_bad_shard_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let spec = shard_spec(dir.path(), "halving");
    let spec = spec.to_str().unwrap();
    let out = vigil(&["-q", "run", spec, "--registry", &db, "--shard", "1/2"]);
    assert_eq!(out.status.code(), Some(2), "{:?}", text(&out));
    assert!(text(&out).1.contains("halving"), "{:?}", text(&out));
    for bad in ["0/3", "4/3", "3", "a/b"] {
        let out = vigil(&["-q", "run", spec, "--registry", &db, "--shard", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {:?}", text(&out));
        assert!(text(&out).1.contains("K/N"), "{bad}: {:?}", text(&out));
    }
    let grid = shard_spec(dir.path(), "grid");
    let out = vigil(&[
        "-q",
        "run",
        grid.to_str().unwrap(),
        "--registry",
        &db,
        "--merge",
        "--shard-group",
        "no spaces",
    ]);
    assert_eq!(out.status.code(), Some(2), "{:?}", text(&out));
    assert!(text(&out).1.contains("shard group"), "{:?}", text(&out));
}
