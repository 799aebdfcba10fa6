//! ONNX export time and graph size of every exportable family: each family's default
//! parameters fitted on 1,500 rows of a seeded synthetic series (outside the timed loop), then
//! `vigil_export::export` timed (graph construction and protobuf serialisation). The LSTM is
//! left out here: its default fit trains for many epochs, which CI's test-mode pass (every
//! bench once, dev profile) cannot afford; the export parity tests cover its graph.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use vigil_datasets::Series;
use vigil_export::{ExportOptions, export};
use vigil_train::DetectorKind;

const ROWS: usize = 1_500;

fn series() -> Series {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let noise = Normal::new(0.0, 5.0).expect("normal");
    let values = Array2::from_shape_fn((ROWS, 1), |(t, _)| {
        500.0 + 40.0 * (std::f64::consts::TAU * t as f64 / 288.0).sin() + noise.sample(&mut rng)
    });
    Series::new(
        "bench",
        (0..ROWS as i64).map(|i| i * 300_000).collect(),
        vec!["value".into()],
        values,
    )
}

fn exports(c: &mut Criterion) {
    let train = series();
    let options = ExportOptions {
        threshold: 3.0,
        dataset_fingerprint: Some("bench".into()),
    };
    let mut group = c.benchmark_group("onnx_export");
    group.sample_size(10);
    for &kind in DetectorKind::ALL {
        if kind == DetectorKind::LstmAutoencoder {
            continue;
        }
        let model = kind.default_spec().fit(&train).expect("fit");
        // Families without an ONNX form are refused with their reason; they are not timed.
        let Ok(onnx) = export(&model, &options) else {
            continue;
        };
        assert!(onnx.nodes > 0 && !onnx.bytes.is_empty(), "{}", kind.name());
        group.bench_with_input(
            BenchmarkId::new(kind.name(), format!("{} B", onnx.bytes.len())),
            &model,
            |b, model| b.iter(|| export(model, &options).expect("export")),
        );
    }
    group.finish();
}

criterion_group!(benches, exports);
criterion_main!(benches);
