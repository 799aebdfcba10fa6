//! Times vigil's ECOD and PCA on the files written by `benches/peers/ml_b.py` (raw
//! little-endian f64), with PyOD's default parameters, and prints one JSON line: seconds (best
//! of the given repeats) and the largest difference from PyOD's scores that the script saved.
//!
//! Usage: `ml_b_peers DIR ROWS_TRAIN ROWS_TEST DIM [REPEATS]` (the script builds and runs it).

use std::path::Path;
use std::time::Instant;

use ndarray::Array2;
use vigil_train::detectors::ecod::EcodParams;
use vigil_train::detectors::pca::PcaParams;
use vigil_train::features::{PointFamily, PointScorer};

fn read(dir: &Path, name: &str, rows: usize, cols: usize) -> Array2<f64> {
    let path = dir.join(format!("{name}.f64"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(bytes.len(), rows * cols * 8, "{}: size", path.display());
    let values: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    Array2::from_shape_vec((rows, cols), values).expect("shape")
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

fn max_relative_difference(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
        .fold(0.0, f64::max)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(args.get(1).expect("DIR"));
    let arg = |i: usize| -> usize { args[i].parse().expect("a count") };
    let (n_train, n_test, dim) = (arg(2), arg(3), arg(4));
    let repeats = args.get(5).map_or(3, |r| r.parse().expect("repeats"));
    let train = read(dir, "train", n_train, dim);
    let test = read(dir, "test", n_test, dim);
    let pyod_ecod_train = read(dir, "pyod_ecod_train", n_train, 1);
    let pyod_pca_test = read(dir, "pyod_pca_test", n_test, 1);

    let ecod = EcodParams::default().check().expect("params");
    let (ecod_s, (ecod_model, ecod_scores)) = best_of(repeats, || {
        let model = ecod.fit_rows(train.view()).expect("fit");
        let scores = model.score_rows(test.view());
        (model, scores)
    });
    let ecod_in_sample = ecod_model.training_scores(train.view());
    let pca = PcaParams::default().check().expect("params");
    let (pca_s, pca_scores) = best_of(repeats, || {
        let model = pca.fit_rows(train.view()).expect("fit");
        model.score_rows(test.view())
    });
    std::hint::black_box(&ecod_scores);
    println!(
        "{}",
        serde_json::json!({
            "ecod_fit_score_s": ecod_s,
            "pca_fit_score_s": pca_s,
            "ecod_in_sample_max_rel_diff": max_relative_difference(
                &ecod_in_sample,
                pyod_ecod_train.as_slice().expect("contiguous"),
            ),
            "pca_test_max_rel_diff": max_relative_difference(
                &pca_scores,
                pyod_pca_test.as_slice().expect("contiguous"),
            ),
            "threads": rayon::current_num_threads(),
        })
    );
}
