//! vigil's side of the side-by-side peer benchmarks (`benches/peers/run.py`, `ml_a.py`,
//! `ml_b.py`): one workload per process, so the harness can read each side's peak memory.
//!
//! Usage: `peers WORKLOAD DIR [REPEATS]`. The harness writes raw little-endian f64 files into
//! DIR (`train.f64`, `test.f64`) and `shape.json` (`train_rows`, `test_rows`, `dim`); this
//! program times vigil on them (best of REPEATS, data loaded outside the timing), writes its
//! scores next to them (`vigil_scores.f64`, and `vigil_train_scores.f64` for ECOD's
//! in-sample scores) and prints one JSON line of seconds, which the harness compares with the
//! peer's scores and the labels.
//!
//! Workloads (the peer's defaults where a peer exists):
//! - `iforest`: Isolation Forest, 100 trees × 256 samples, fit on train + score train.
//! - `lof`: LOF (novelty), k = 20: fit on train, score test (fit and score timed apart).
//! - `knn`, `ecod`, `pca`: PyOD's defaults (kNN k = 5 largest; ECOD; PCA all components,
//!   weighted, standardised): fit on train + score test.
//! - `arima`: ARIMA(1, 1, 1) on the series in `train.f64` (one column): coefficients, σ² and
//!   the log-likelihood of the differenced series.
//! - `mp`: the matrix profile of the series in `train.f64` (one column) with the window in
//!   `shape.json`: the self-join (`vigil_scores.f64`, timed as `seconds`) and the left profile
//!   (`vigil_left.f64`, `left_s`).
//! - `smd`: one SMD machine (issue 6): Isolation Forest and ECOD fitted on the first part of
//!   the training rows (`train.f64`), scoring the held-out rest of the training rows
//!   (`val.f64`) and the test rows (`test.f64`, labels in `labels.f64`). The threshold is the
//!   99th percentile of the held-out training scores (no test labels); the alerts it gives on
//!   the test rows are scored by event F1, and the test scores by VUS-PR, with vigil-eval.
//!   The peer's scores (`pyod_{iforest,ecod}_{val,test}.f64`) go through the same code.

use std::path::Path;
use std::time::Instant;

use ndarray::Array2;
use vigil_eval::alert::{AlertPolicy, apply_alert_policy};
use vigil_eval::event::event_metrics;
use vigil_eval::labels::windows_from_labels;
use vigil_eval::vus::{VusParams, vus};
use vigil_train::detectors::arima::ArimaParams;
use vigil_train::detectors::ecod::EcodParams;
use vigil_train::detectors::isolation_forest::{IsolationForestParams, MaxSamples};
use vigil_train::detectors::knn::KnnParams;
use vigil_train::detectors::lof::LofParams;
use vigil_train::detectors::matrix_profile::{left_matrix_profile, matrix_profile};
use vigil_train::detectors::pca::PcaParams;
use vigil_train::features::{PointFamily, PointScorer};

type Failure = Box<dyn std::error::Error>;

/// Held-out training scores and test scores.
type HeldOutAndTest = (Vec<f64>, Vec<f64>);

fn read(dir: &Path, name: &str, rows: usize, cols: usize) -> Result<Array2<f64>, Failure> {
    let path = dir.join(format!("{name}.f64"));
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() != rows * cols * 8 {
        return Err(format!(
            "{}: {} bytes, expected {rows} × {cols} f64 values",
            path.display(),
            bytes.len()
        )
        .into());
    }
    let values: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        .collect();
    Ok(Array2::from_shape_vec((rows, cols), values)?)
}

fn write(dir: &Path, name: &str, values: &[f64]) -> Result<(), Failure> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let path = dir.join(format!("{name}.f64"));
    std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(())
}

fn best_of<T>(
    repeats: usize,
    mut f: impl FnMut() -> Result<T, Failure>,
) -> Result<(f64, T), Failure> {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        let value = f()?;
        best = best.min(start.elapsed().as_secs_f64());
        out = Some(value);
    }
    Ok((best, out.ok_or("no run")?))
}

/// The forest both `iforest` and `smd` compare with the peers' defaults: 100 trees × 256
/// samples.
fn forest() -> Result<vigil_train::detectors::isolation_forest::IsolationForestValid, Failure> {
    Ok(IsolationForestParams::default()
        .with_n_estimators(100)
        .with_max_samples(MaxSamples::Count(256))
        .check()?)
}

/// Fit on train + score test, timed together; the test scores are written out.
fn fit_score<F: PointFamily>(
    family: &F,
    train: &Array2<f64>,
    test: &Array2<f64>,
    repeats: usize,
    dir: &Path,
) -> Result<(f64, F::Model), Failure> {
    let (seconds, (model, scores)) = best_of(repeats, || {
        let model = family.fit_rows(train.view())?;
        let scores = model.score_rows(test.view());
        Ok((model, scores))
    })?;
    write(dir, "vigil_scores", &scores)?;
    Ok((seconds, model))
}

/// Fit on `train`, then score `val` and `test` (timed together).
fn smd_fit_score<F: PointFamily>(
    family: &F,
    train: &Array2<f64>,
    val: &Array2<f64>,
    test: &Array2<f64>,
    repeats: usize,
) -> Result<(f64, HeldOutAndTest), Failure> {
    best_of(repeats, || {
        let model = family.fit_rows(train.view())?;
        Ok((model.score_rows(val.view()), model.score_rows(test.view())))
    })
}

/// Threshold at the 99th percentile (nearest rank) of the held-out training scores; event F1
/// of the alerts on the test rows (one row a minute, no early allowance) and VUS-PR.
fn smd_quality(val: &[f64], test: &[f64], labels: &[bool]) -> Result<serde_json::Value, Failure> {
    let mut sorted = val.to_vec();
    sorted.sort_by(f64::total_cmp);
    let threshold = sorted
        .get(((sorted.len().saturating_sub(1)) as f64 * 0.99).round() as usize)
        .copied()
        .ok_or("no held-out training rows")?;
    let timestamps: Vec<i64> = (0..test.len() as i64).map(|t| t * 60_000).collect();
    let alerts = apply_alert_policy(test, &timestamps, threshold, &AlertPolicy::default())?;
    let windows = windows_from_labels(labels);
    let events = event_metrics(&alerts, &windows, &timestamps, 0)?;
    let area = vus(test, labels, VusParams::default())?;
    Ok(serde_json::json!({
        "threshold": threshold,
        "event_f1": events.event_f1,
        "alerts": events.alerts,
        "true_alerts": events.true_alerts,
        "incidents": events.incidents,
        "detected": events.detected_incidents,
        "vus_pr": area.pr,
    }))
}

fn run() -> Result<serde_json::Value, Failure> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: peers iforest|lof|knn|ecod|pca|arima|mp|smd DIR [REPEATS]";
    let workload = args.get(1).ok_or(usage)?.as_str();
    let dir = Path::new(args.get(2).ok_or(usage)?);
    let repeats: usize = match args.get(3) {
        Some(r) => r
            .parse()
            .map_err(|_| format!("REPEATS: {r:?} is not a count"))?,
        None => 3,
    };
    let shape_path = dir.join("shape.json");
    let shape: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&shape_path)
            .map_err(|e| format!("{}: {e}", shape_path.display()))?,
    )?;
    let get = |k: &str| -> Result<usize, Failure> {
        Ok(shape[k]
            .as_u64()
            .ok_or_else(|| format!("{}: no count {k:?}", shape_path.display()))?
            as usize)
    };
    let dim = get("dim")?;
    let train = read(dir, "train", get("train_rows")?, dim)?;
    let threads = rayon::current_num_threads();
    let test = || read(dir, "test", get("test_rows")?, dim);
    Ok(match workload {
        "iforest" => {
            let (seconds, _) = fit_score(&forest()?, &train, &train, repeats, dir)?;
            serde_json::json!({ "seconds": seconds, "threads": threads })
        }
        "lof" => {
            let test = test()?;
            let params = LofParams::default().with_n_neighbors(20).check()?;
            let (fit_s, model) = best_of(repeats, || Ok(params.fit_rows(train.view())?))?;
            let (score_s, scores) = best_of(repeats, || Ok(model.score_rows(test.view())))?;
            write(dir, "vigil_scores", &scores)?;
            serde_json::json!({ "fit_s": fit_s, "score_s": score_s, "threads": threads })
        }
        "knn" => {
            let knn = KnnParams::default().check()?;
            let (seconds, _) = fit_score(&knn, &train, &test()?, repeats, dir)?;
            serde_json::json!({ "seconds": seconds, "threads": threads })
        }
        "ecod" => {
            let ecod = EcodParams::default().check()?;
            let (seconds, model) = fit_score(&ecod, &train, &test()?, repeats, dir)?;
            write(
                dir,
                "vigil_train_scores",
                &model.training_scores(train.view()),
            )?;
            serde_json::json!({ "seconds": seconds, "threads": threads })
        }
        "pca" => {
            let pca = PcaParams::default().check()?;
            let (seconds, _) = fit_score(&pca, &train, &test()?, repeats, dir)?;
            serde_json::json!({ "seconds": seconds, "threads": threads })
        }
        "arima" => {
            let y = train.column(0).to_vec();
            let params = ArimaParams::default()
                .with_order(1, 1, 1)
                .with_scale_alpha(0.0)
                .check()?;
            let (seconds, fit) = best_of(repeats, || Ok(params.fit_values(&y)?))?;
            serde_json::json!({
                "seconds": seconds,
                "ar": fit.ar,
                "ma": fit.ma,
                "sigma2": fit.sigma2,
                "loglik": fit.loglik,
                "threads": threads,
            })
        }
        "mp" => {
            let y = train.column(0).to_vec();
            let m = get("window")?;
            let (seconds, profile) = best_of(repeats, || Ok(matrix_profile(&y, m)))?;
            let (left_s, left) = best_of(repeats, || Ok(left_matrix_profile(&y, m)))?;
            write(dir, "vigil_scores", &profile)?;
            write(dir, "vigil_left", &left)?;
            serde_json::json!({ "seconds": seconds, "left_s": left_s, "threads": threads })
        }
        "smd" => {
            let val = read(dir, "val", get("val_rows")?, dim)?;
            let test = test()?;
            let labels: Vec<bool> = read(dir, "labels", get("test_rows")?, 1)?
                .iter()
                .map(|v| *v != 0.0)
                .collect();
            let ecod = EcodParams::default().check()?;
            let mut out = serde_json::Map::new();
            let (s, (v, t)) = smd_fit_score(&forest()?, &train, &val, &test, repeats)?;
            out.insert("vigil_iforest_s".into(), s.into());
            out.insert("vigil_iforest".into(), smd_quality(&v, &t, &labels)?);
            let (s, (v, t)) = smd_fit_score(&ecod, &train, &val, &test, repeats)?;
            out.insert("vigil_ecod_s".into(), s.into());
            out.insert("vigil_ecod".into(), smd_quality(&v, &t, &labels)?);
            for family in ["iforest", "ecod"] {
                let v = read(dir, &format!("pyod_{family}_val"), val.nrows(), 1)?;
                let t = read(dir, &format!("pyod_{family}_test"), test.nrows(), 1)?;
                let quality = smd_quality(
                    v.as_slice().ok_or("contiguous")?,
                    t.as_slice().ok_or("contiguous")?,
                    &labels,
                )?;
                out.insert(format!("pyod_{family}"), quality);
            }
            out.insert("threads".into(), threads.into());
            serde_json::Value::Object(out)
        }
        other => return Err(format!("unknown workload {other:?}; {usage}").into()),
    })
}

fn main() {
    match run() {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("peers: {e}");
            std::process::exit(1);
        }
    }
}
