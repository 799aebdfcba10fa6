//! vigil's NAB scorer against NAB's own outputs (`shared/datasets/nab/reference/`): per-file raw
//! score (1e-9), TP/TN/FP/FN (exact) and the sparse `S(t)` column, for 4 detectors × 3 profiles
//! × 31 files; the DevTotals row; and the exact threshold search reaching NAB's total.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use vigil_eval::Window;
use vigil_eval::nab::{NabProfile, NabSeries, score_corpus, score_series, search_thresholds};

use crate::common::shared_datasets;

const DETECTORS: [&str; 4] = ["numenta", "windowedGaussian", "relativeEntropy", "null"];

/// One per-row reference file.
struct RowFile {
    key: String,
    scores: Vec<f64>,
    labels: Vec<bool>,
    sparse: BTreeMap<NabProfile, Vec<f64>>,
    windows: Vec<Window>,
}

/// One line of a score table.
#[derive(Debug)]
struct TableRow {
    score: f64,
    tp: usize,
    tn: usize,
    fp: usize,
    fn_: usize,
    total: usize,
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON in {}: {e}", path.display()))
}

/// Maps NAB's timestamp windows to rows by walking the rows in file order: a window opens at the
/// first row whose timestamp equals its start and closes at the next row equal to its end.
fn windows_to_rows(key: &str, timestamps: &[String], limits: &[(String, String)]) -> Vec<Window> {
    let mut out = Vec::new();
    let mut row = 0usize;
    for (start, end) in limits {
        let first = (row..timestamps.len())
            .find(|&i| &timestamps[i] == start)
            .unwrap_or_else(|| panic!("{key}: window start {start} not found after row {row}"));
        let last = (first..timestamps.len())
            .find(|&i| &timestamps[i] == end)
            .unwrap_or_else(|| panic!("{key}: window end {end} not found after row {first}"));
        out.push(Window::new(first, last));
        row = last + 1;
    }
    out
}

fn load_windows(root: &Path) -> BTreeMap<String, Vec<(String, String)>> {
    let json = read_json(&root.join("nab/labels/combined_windows.json"));
    let obj = json
        .as_object()
        .expect("combined_windows.json is an object");
    obj.iter()
        .map(|(key, list)| {
            let limits = list
                .as_array()
                .expect("window list")
                .iter()
                .map(|pair| {
                    let strip = |v: &Value| {
                        let s = v.as_str().expect("timestamp string");
                        s.split('.').next().unwrap_or(s).to_string()
                    };
                    (strip(&pair[0]), strip(&pair[1]))
                })
                .collect();
            (key.clone(), limits)
        })
        .collect()
}

fn load_rows(root: &Path, detector: &str, key: &str, limits: &[(String, String)]) -> RowFile {
    let (category, file) = key.split_once('/').expect("key is category/file");
    let path = root.join(format!(
        "nab/reference/results/{detector}/{category}/{detector}_{file}"
    ));
    let mut reader = csv::Reader::from_path(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{}: no column {name}", path.display()))
    };
    let (ts_col, score_col, label_col) = (col("timestamp"), col("anomaly_score"), col("label"));
    let sparse_cols: Vec<(NabProfile, usize)> = NabProfile::ALL
        .iter()
        .map(|&p| (p, col(&format!("S(t)_{}", p.name()))))
        .collect();
    let mut timestamps = Vec::new();
    let mut scores = Vec::new();
    let mut labels = Vec::new();
    let mut sparse: BTreeMap<NabProfile, Vec<f64>> = BTreeMap::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.unwrap_or_else(|e| panic!("{}: row {i}: {e}", path.display()));
        let num = |c: usize| -> f64 {
            record[c]
                .parse()
                .unwrap_or_else(|e| panic!("{}: row {i} col {c}: {e}", path.display()))
        };
        timestamps.push(record[ts_col].to_string());
        scores.push(num(score_col));
        labels.push(num(label_col) == 1.0);
        for &(p, c) in &sparse_cols {
            sparse.entry(p).or_default().push(num(c));
        }
    }
    let windows = windows_to_rows(key, &timestamps, limits);
    RowFile {
        key: key.to_string(),
        scores,
        labels,
        sparse,
        windows,
    }
}

fn load_table(root: &Path, detector: &str, profile: NabProfile) -> BTreeMap<String, TableRow> {
    let path = root.join(format!(
        "nab/reference/results/{detector}/{detector}_{}_scores.csv",
        profile.name()
    ));
    let mut reader = csv::Reader::from_path(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut out = BTreeMap::new();
    for record in reader.records() {
        let r = record.expect("score table row");
        let key = if &r[0] == "DevTotals" {
            "DevTotals".to_string()
        } else {
            r[2].to_string()
        };
        let int = |c: usize| r[c].parse::<usize>().expect("count");
        out.insert(
            key,
            TableRow {
                score: r[4].parse().expect("score"),
                tp: int(5),
                tn: int(6),
                fp: int(7),
                fn_: int(8),
                total: int(9),
            },
        );
    }
    out
}

#[test]
fn nab_scorer_matches_nab_reference_for_every_file_detector_and_profile() {
    let root = shared_datasets();
    let limits = load_windows(&root);
    assert_eq!(limits.len(), 31, "expected the 31 development files");
    let thresholds = read_json(&root.join("nab/reference/config/thresholds.json"));
    let mut checked = 0usize;
    let mut report = Vec::new();
    for detector in DETECTORS {
        let files: Vec<RowFile> = limits
            .iter()
            .map(|(key, l)| load_rows(&root, detector, key, l))
            .collect();
        for f in &files {
            let membership = vigil_eval::labels_from_windows(&f.windows, f.scores.len());
            assert_eq!(
                membership, f.labels,
                "{detector} {}: window rows differ from NAB's label column",
                f.key
            );
        }
        let corpus: Vec<NabSeries<'_>> = files
            .iter()
            .map(|f| NabSeries::new(&f.scores, &f.windows).expect("valid series"))
            .collect();
        let searched = search_thresholds(&corpus, &NabProfile::ALL);
        for (profile, best) in NabProfile::ALL.into_iter().zip(&searched) {
            let threshold = thresholds[detector][profile.name()]["threshold"]
                .as_f64()
                .expect("threshold");
            let table = load_table(&root, detector, profile);
            for (f, series) in files.iter().zip(&corpus) {
                let expected = &table[&f.key];
                let got = score_series(series, threshold, profile);
                let ctx = format!("{detector} {} {}", profile.name(), f.key);
                assert!(
                    (got.score - expected.score).abs() <= 1e-9,
                    "{ctx}: score {} vs NAB {}",
                    got.score,
                    expected.score
                );
                let c = got.confusion;
                assert_eq!(
                    (c.tp, c.tn, c.fp, c.fn_),
                    (expected.tp, expected.tn, expected.fp, expected.fn_),
                    "{ctx}: TP/TN/FP/FN"
                );
                assert_eq!(got.rows, expected.total, "{ctx}: Total_Count");
                let sparse = got.sparse_contributions(series.windows());
                for (row, (a, b)) in sparse.iter().zip(&f.sparse[&profile]).enumerate() {
                    assert!((a - b).abs() <= 1e-9, "{ctx}: S(t) row {row}: {a} vs {b}");
                }
                checked += 1;
            }
            let totals = score_corpus(&corpus, threshold, profile);
            let dev = &table["DevTotals"];
            assert!(
                (totals.raw - dev.score).abs() <= 1e-9,
                "{detector} {}: DevTotals {} vs {}",
                profile.name(),
                totals.raw,
                dev.score
            );
            let c = totals.confusion;
            assert_eq!(
                (c.tp, c.tn, c.fp, c.fn_),
                (dev.tp, dev.tn, dev.fp, dev.fn_),
                "{detector} {}: DevTotals counts",
                profile.name()
            );
            assert!(
                best.raw >= dev.score - 1e-9,
                "{detector} {}: search found {} below NAB's {}",
                profile.name(),
                best.raw,
                dev.score
            );
            report.push(format!(
                "{detector:>16} {:>18}: NAB threshold {threshold:.6} raw {:>10.4} normalised {:>8.3} | searched threshold {:.6} raw {:>10.4} normalised {:>8.3}",
                profile.name(),
                totals.raw,
                totals.normalised.unwrap_or(f64::NAN),
                best.threshold,
                best.raw,
                best.normalised.unwrap_or(f64::NAN),
            ));
        }
    }
    assert_eq!(checked, 4 * 3 * 31);
    println!("{}", report.join("\n"));
}

#[test]
fn evaluate_with_the_nab_policy_reproduces_the_exact_search_on_nab() {
    use vigil_eval::report::{EvalConfig, EvalSeries, evaluate};
    use vigil_eval::threshold::{Objective, ThresholdPolicy};
    use vigil_eval::vus::VusParams;

    let root = shared_datasets();
    let limits = load_windows(&root);
    let files: Vec<RowFile> = limits
        .iter()
        .map(|(key, l)| load_rows(&root, "numenta", key, l))
        .collect();
    // Five-minute steps stand in for timestamps: NAB scoring works on rows.
    let times: Vec<Vec<i64>> = files
        .iter()
        .map(|f| (0..f.scores.len() as i64).map(|i| i * 300_000).collect())
        .collect();
    let series: Vec<EvalSeries<'_>> = files
        .iter()
        .zip(&times)
        .map(|(f, t)| EvalSeries::new(&f.scores, &f.windows, t).unwrap())
        .collect();
    let objective = Objective::Nab {
        profile: NabProfile::Standard,
    };
    let config = EvalConfig {
        threshold: ThresholdPolicy::Best { objective },
        oracle: objective,
        vus: VusParams {
            max_window: 4,
            thresholds: 50,
        },
        ..EvalConfig::default()
    };
    let e = evaluate(&[], &series, &config).unwrap();
    assert!(e.in_sample);
    let searched = &e.nab_optimised[0];
    assert_eq!(searched.profile, NabProfile::Standard);
    assert_eq!(e.fitted.value, searched.threshold);
    assert!((e.deployable.nab[0].raw - searched.raw).abs() < 1e-9);
    assert_eq!(e.deployable.events.incidents, 53);
    let baselines = e.baselines.as_ref().unwrap();
    assert_eq!(baselines.null.nab[0].normalised, Some(0.0));
    assert!(searched.normalised.unwrap() > baselines.random.nab_optimised[0].normalised.unwrap());
}
