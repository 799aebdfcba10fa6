//! Fits vigil's Isolation Forest (100 trees, 256 samples, raw row standardised) on a float64
//! little-endian matrix file and writes the exported ONNX model; used by
//! `benches/peers/onnx_iforest.py`. Usage: `iforest_onnx TRAIN.f64 COLUMNS OUT.onnx`.

use std::process::ExitCode;

use ndarray::Array2;
use vigil_datasets::Series;
use vigil_export::{ExportOptions, export};
use vigil_train::FittedModel;
use vigil_train::detectors::isolation_forest::IsolationForestParams;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: iforest_onnx TRAIN.f64 COLUMNS OUT.onnx");
        return ExitCode::from(2);
    }
    match run(&args[1], &args[2], &args[3]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &str, columns: &str, out: &str) -> Result<(), String> {
    let d: usize = columns
        .parse()
        .map_err(|e| format!("COLUMNS {columns:?}: {e}"))?;
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let values: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    if d == 0 || !values.len().is_multiple_of(d) {
        return Err(format!(
            "{path}: {} values do not split into {d} columns",
            values.len()
        ));
    }
    let n = values.len() / d;
    let matrix = Array2::from_shape_vec((n, d), values).map_err(|e| e.to_string())?;
    let series = Series::new(
        "bench",
        (0..n as i64).collect(),
        (0..d).map(|c| format!("c{c}")).collect(),
        matrix,
    );
    let model = IsolationForestParams::default()
        .with_seed(0)
        .check()
        .map_err(|e| e.to_string())?
        .fit(&series)
        .map_err(|e| e.to_string())?;
    let onnx = export(
        &FittedModel::IsolationForest(model),
        &ExportOptions {
            threshold: 0.6,
            dataset_fingerprint: None,
        },
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(out, &onnx.bytes).map_err(|e| format!("{out}: {e}"))?;
    println!(
        "{{\"nodes\": {}, \"bytes\": {}, \"input_window\": {}}}",
        onnx.nodes,
        onnx.bytes.len(),
        onnx.input_window
    );
    Ok(())
}
