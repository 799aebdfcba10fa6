//! Shared helpers: ONNX Runtime through `ort` (loaded from ORT_DYLIB_PATH), the Python check,
//! and test series.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ndarray::Array2;
use ort::session::Session;
use ort::value::TensorRef;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_datasets::Series;

/// Reports a missing prerequisite: fails the test under `CI` (CI installs it), otherwise prints
/// `SKIPPED: …` and returns `None`.
pub fn missing<T>(message: &str) -> Option<T> {
    if std::env::var_os("CI").is_some() {
        panic!("{message} (CI is set, so the ONNX parity tests must run)");
    }
    eprintln!("SKIPPED: {message}");
    None
}

/// The ONNX Runtime environment, loaded once from `ORT_DYLIB_PATH` (the `libonnxruntime.so`
/// inside the PyPI `onnxruntime` 1.31.1 wheel, as `.ci/run` exports it).
pub fn runtime() -> Option<&'static ort::environment::Environment> {
    static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();
    let env = ENV.get_or_init(|| {
        let path = std::env::var_os("ORT_DYLIB_PATH").ok_or_else(|| {
            "ORT_DYLIB_PATH is not set: pip install onnxruntime==1.31.1 and export \
             ORT_DYLIB_PATH to its capi/libonnxruntime.so* (see .ci/run)"
                .to_string()
        })?;
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(format!(
                "ORT_DYLIB_PATH={} is not a file: point it at onnxruntime's capi/libonnxruntime.so*",
                path.display()
            ));
        }
        ort::init_from(&path)
            .map_err(|e| format!("loading ONNX Runtime from {}: {e}", path.display()))?
            .build()
            .map_err(|e| format!("starting ONNX Runtime: {e}"))
    });
    match env {
        Ok(env) => Some(env),
        Err(message) => missing(message),
    }
}

/// Scores `x` (`[batch, window, channels]`, row-major) with the model in ONNX Runtime.
pub fn score_ort(
    env: &ort::environment::Environment,
    model: &[u8],
    x: &[f32],
    shape: [usize; 3],
) -> (Vec<f32>, Vec<bool>) {
    let mut session = Session::builder(env)
        .expect("session builder")
        .commit_from_memory(model)
        .expect("ONNX Runtime accepts the exported model");
    let input = TensorRef::from_array_view((shape, x)).expect("input tensor");
    let outputs = session
        .run(ort::inputs!["x" => input])
        .expect("ONNX Runtime runs the exported model");
    let (_, score) = outputs["score"]
        .try_extract_tensor::<f32>()
        .expect("score is float32");
    let (_, flag) = outputs["is_anomaly"]
        .try_extract_tensor::<bool>()
        .expect("is_anomaly is bool");
    (score.to_vec(), flag.to_vec())
}

/// Runs `export/tests/check_onnx.py` on the model and the case; returns its JSON summary.
#[allow(clippy::too_many_arguments)]
pub fn check_python(
    dir: &Path,
    model: &[u8],
    x: &[f32],
    shape: [usize; 3],
    score: &[f64],
    flag: &[bool],
    tolerance: f64,
    relative: f64,
) -> Option<serde_json::Value> {
    check_python_case(dir, model, x, shape, None, score, flag, tolerance, relative)
}

/// [`check_python`] for a stateful graph: the script feeds the rows one at a time, starting
/// from `initial_state` and passing `state_out` on.
#[allow(clippy::too_many_arguments)]
pub fn check_python_stateful(
    dir: &Path,
    model: &[u8],
    x: &[f32],
    shape: [usize; 3],
    initial_state: &[f64],
    score: &[f64],
    flag: &[bool],
    tolerance: f64,
    relative: f64,
) -> Option<serde_json::Value> {
    check_python_case(
        dir,
        model,
        x,
        shape,
        Some(initial_state),
        score,
        flag,
        tolerance,
        relative,
    )
}

#[allow(clippy::too_many_arguments)]
fn check_python_case(
    dir: &Path,
    model: &[u8],
    x: &[f32],
    shape: [usize; 3],
    initial_state: Option<&[f64]>,
    score: &[f64],
    flag: &[bool],
    tolerance: f64,
    relative: f64,
) -> Option<serde_json::Value> {
    let probe = Command::new("python3")
        .args(["-c", "import onnx, onnxruntime, numpy"])
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        _ => {
            return missing(
                "python3 with onnx and onnxruntime is not available (pip install -r .ci/requirements.txt)",
            );
        }
    }
    let model_path = dir.join("model.onnx");
    std::fs::write(&model_path, model).expect("write model");
    let [n, l, c] = shape;
    let rows: Vec<Vec<Vec<f32>>> = (0..n)
        .map(|b| {
            (0..l)
                .map(|r| (0..c).map(|k| x[(b * l + r) * c + k]).collect())
                .collect()
        })
        .collect();
    // JSON has no NaN: the initial state's NaN entries travel as null.
    let initial: Option<Vec<Option<f64>>> =
        initial_state.map(|s| s.iter().map(|v| (!v.is_nan()).then_some(*v)).collect());
    let case = serde_json::json!({"x": rows, "score": score, "is_anomaly": flag, "tolerance": tolerance, "relative_tolerance": relative, "initial_state": initial});
    let case_path = dir.join("case.json");
    std::fs::write(&case_path, case.to_string()).expect("write case");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check_onnx.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&model_path)
        .arg(&case_path)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "check_onnx.py failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_str(stdout.trim()).expect("check_onnx.py prints JSON"))
}

/// A `channels`-channel series of `n` rows: seeded noise around a daily-ish wave, a few
/// spikes, values rounded to float32 (what the ONNX input can carry) and one NaN row.
pub fn series(n: usize, channels: usize, seed: u64) -> Series {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut values = Array2::zeros((n, channels));
    for t in 0..n {
        for c in 0..channels {
            let wave = (t as f64 * 0.05 + c as f64).sin() * 3.0;
            let noise: f64 = rng.random::<f64>() - 0.5;
            let spike = if rng.random::<f64>() < 0.01 { 8.0 } else { 0.0 };
            values[[t, c]] = f64::from((100.0 * (c + 1) as f64 + wave + noise + spike) as f32);
        }
    }
    if n > 50 {
        values[[n - 30, 0]] = f64::NAN;
    }
    Series::new(
        "synthetic",
        (0..n as i64).map(|t| t * 60_000).collect(),
        (0..channels).map(|c| format!("c{c}")).collect(),
        values,
    )
}

/// The input windows of every row from `window − 1` on, `[batch, window, channels]` float32,
/// with the index of the row each window ends at.
pub fn windows(series: &Series, window: usize) -> (Vec<f32>, [usize; 3], Vec<usize>) {
    let (n, c) = series.values.dim();
    let ends: Vec<usize> = (window - 1..n).collect();
    let mut x = Vec::with_capacity(ends.len() * window * c);
    for &t in &ends {
        for r in t + 1 - window..=t {
            for k in 0..c {
                x.push(series.values[[r, k]] as f32);
            }
        }
    }
    (x, [ends.len(), window, c], ends)
}

/// A threshold halfway between two neighbouring scores near the `q` quantile, so that no
/// row's score sits on it (the float32 sum inside the tree ensemble moves scores by ~1e-7).
pub fn threshold_between(scores: &[f64], q: f64) -> f64 {
    let mut s: Vec<f64> = scores.to_vec();
    s.sort_by(f64::total_cmp);
    s.dedup();
    let i = ((q * s.len() as f64) as usize).clamp(1, s.len() - 1);
    (s[i - 1] + s[i]) / 2.0
}

/// `a` followed by `b` (same channels), timestamps continuing one minute apart.
pub fn concat(a: &Series, b: &Series) -> Series {
    let (n, c) = a.values.dim();
    let m = b.values.nrows();
    let mut values = Array2::zeros((n + m, c));
    values.slice_mut(ndarray::s![..n, ..]).assign(&a.values);
    values.slice_mut(ndarray::s![n.., ..]).assign(&b.values);
    Series::new(
        "synthetic",
        (0..(n + m) as i64).map(|t| t * 60_000).collect(),
        (0..c).map(|k| format!("c{k}")).collect(),
        values,
    )
}
