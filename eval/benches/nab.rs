//! Benchmarks: NAB scoring of the 31 development files for one detector (numenta), all three
//! profiles with the exact corpus threshold search; and sort-once sweeps (PR curve, best-F1) at
//! 1k–1M points. Data is built outside the timed loops.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_eval::Window;
use vigil_eval::curves::pr_curve;
use vigil_eval::nab::{NabProfile, NabSeries, search_thresholds};
use vigil_eval::threshold::{Objective, SeriesScores, best_threshold};

/// (scores, windows) of every development file, from NAB's numenta per-row results.
fn nab_corpus() -> Vec<(Vec<f64>, Vec<Window>)> {
    let root = vigil_testkit::shared_datasets();
    let results = root.join("nab/reference/results/numenta");
    assert!(
        results.is_dir(),
        "{} not found; hint: set VIGIL_SHARED_DATASETS to the folder that holds nab/",
        results.display()
    );
    let mut files = Vec::new();
    for category in std::fs::read_dir(&results).expect("results folder") {
        let category = category.expect("entry").path();
        if !category.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&category).expect("category folder") {
            let mut reader = csv::Reader::from_path(file.expect("entry").path()).expect("csv");
            let headers = reader.headers().expect("header").clone();
            let col = |n: &str| headers.iter().position(|h| h == n).expect("column");
            let (s, l) = (col("anomaly_score"), col("label"));
            let mut scores = Vec::new();
            let mut labels = Vec::new();
            for r in reader.records() {
                let r = r.expect("row");
                scores.push(r[s].parse::<f64>().expect("score"));
                labels.push(&r[l] == "1");
            }
            files.push((scores, vigil_eval::windows_from_labels(&labels)));
        }
    }
    assert_eq!(files.len(), 31);
    files
}

fn bench_nab(c: &mut Criterion) {
    let files = nab_corpus();
    c.bench_function("nab_31_files_3_profiles_exact_search", |b| {
        b.iter(|| {
            let corpus: Vec<NabSeries<'_>> = files
                .iter()
                .map(|(s, w)| NabSeries::new(s, w).expect("valid"))
                .collect();
            search_thresholds(&corpus, &NabProfile::ALL)
        })
    });
}

fn synthetic(n: usize) -> (Vec<f64>, Vec<Window>) {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut scores: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
    let windows: Vec<Window> = (0..n / 1000)
        .map(|k| Window::new(k * 1000 + 400, k * 1000 + 450))
        .collect();
    for w in &windows {
        for s in &mut scores[w.start..=w.end] {
            *s += 0.5;
        }
    }
    (scores, windows)
}

fn bench_sweeps(c: &mut Criterion) {
    let mut group = c.benchmark_group("sweeps");
    group.sample_size(10);
    for n in [1_000usize, 10_000, 100_000, 1_000_000] {
        let (scores, windows) = synthetic(n);
        let labels = vigil_eval::labels_from_windows(&windows, n);
        group.bench_with_input(BenchmarkId::new("pr_curve", n), &n, |b, _| {
            b.iter(|| pr_curve(&scores, &labels).expect("curve"))
        });
        group.bench_with_input(BenchmarkId::new("best_f1", n), &n, |b, _| {
            b.iter(|| {
                let s = SeriesScores::new(&scores, &windows).expect("valid");
                best_threshold(&[s], Objective::PointF1).expect("threshold")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_nab, bench_sweeps);
criterion_main!(benches);
