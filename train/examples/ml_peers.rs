//! Times vigil's Isolation Forest and LOF on the files written by `benches/peers/ml_a.py`
//! (raw little-endian f64), with the parameters the script gives scikit-learn, and prints one
//! JSON line: seconds (best of the given repeats) and ROC-AUC.
//!
//! Usage: `ml_peers DIR [REPEATS]` (the script builds and runs it).

use std::path::Path;
use std::time::Instant;

use ndarray::Array2;
use vigil_train::detectors::isolation_forest::{IsolationForestParams, MaxSamples};
use vigil_train::detectors::lof::LofParams;
use vigil_train::features::{PointFamily, PointScorer};

fn read(dir: &Path, name: &str, rows: usize, cols: usize) -> Array2<f64> {
    let path = dir.join(format!("{name}.f64"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        bytes.len(),
        rows * cols * 8,
        "{}: unexpected size",
        path.display()
    );
    let values: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    Array2::from_shape_vec((rows, cols), values).expect("shape")
}

fn roc_auc(scores: &[f64], labels: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += order[i..=j].iter().filter(|o| labels[**o] == 1.0).count() as f64 * rank;
        i = j + 1;
    }
    let positives = labels.iter().filter(|l| **l == 1.0).count() as f64;
    let negatives = labels.len() as f64 - positives;
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

fn best_of<T>(repeats: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        let value = f();
        best = best.min(start.elapsed().as_secs_f64());
        out = Some(value);
    }
    (best, out.expect("at least one run"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(args.get(1).expect("usage: ml_peers DIR [REPEATS]"));
    let repeats: usize = args
        .get(2)
        .map_or(3, |r| r.parse().expect("REPEATS is a number"));
    let shape: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("shape.json")).expect("shape.json"))
            .expect("shape json");
    let get = |k: &str| shape[k].as_u64().expect("a count") as usize;
    let dim = get("dim");

    let x = read(dir, "if_x", get("if_rows"), dim);
    let y = read(dir, "if_y", get("if_rows"), 1)
        .into_raw_vec_and_offset()
        .0;
    let params = IsolationForestParams::default()
        .with_n_estimators(100)
        .with_max_samples(MaxSamples::Count(256))
        .check()
        .expect("params");
    let (if_time, if_scores) = best_of(repeats, || {
        let forest = params.fit_rows(x.view()).expect("fit");
        forest.score_rows(x.view())
    });

    let train = read(dir, "lof_train", get("lof_train_rows"), dim);
    let test = read(dir, "lof_test", get("lof_test_rows"), dim);
    let labels = read(dir, "lof_y", get("lof_test_rows"), 1)
        .into_raw_vec_and_offset()
        .0;
    let lof = LofParams::default()
        .with_n_neighbors(20)
        .check()
        .expect("params");
    let (fit_time, model) = best_of(repeats, || lof.fit_rows(train.view()).expect("fit"));
    let (score_time, lof_scores) = best_of(repeats, || model.score_rows(test.view()));

    println!(
        "{}",
        serde_json::json!({
            "threads": rayon::current_num_threads(),
            "if_fit_score_s": if_time,
            "if_auc": roc_auc(&if_scores, &y),
            "lof_fit_s": fit_time,
            "lof_score_s": score_time,
            "lof_auc": roc_auc(&lof_scores, &labels),
        })
    );
}
