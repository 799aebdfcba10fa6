//! Benchmarks of the threshold policies that do more than a sort: the alert budget (exact
//! branch-and-bound over the distinct scores) and POT (GPD fit of the tail) at 1k–100k rows of
//! 5-minute data, an AR(1) score with incidents every 5,000 rows. Fixed seed; data built outside
//! the timed loops.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_eval::Window;
use vigil_eval::alert::AlertPolicy;
use vigil_eval::threshold::{FitContext, SeriesScores, ThresholdPolicy};

fn synthetic(n: usize) -> (Vec<f64>, Vec<Window>, Vec<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut scores = vec![0.0; n];
    for i in 1..n {
        scores[i] = 0.95 * scores[i - 1] + rng.random::<f64>() - 0.5;
    }
    let windows = (0..n / 5000)
        .map(|k| Window::new(k * 5000 + 100, k * 5000 + 160))
        .collect();
    let timestamps = (0..n as i64).map(|i| i * 300_000).collect();
    (scores, windows, timestamps)
}

fn bench_thresholds(c: &mut Criterion) {
    let mut group = c.benchmark_group("thresholds");
    group.sample_size(10);
    let alert = AlertPolicy {
        merge_gap_ms: 1_800_000,
        cooldown_ms: 3_600_000,
        ..AlertPolicy::default()
    };
    for n in [1_000usize, 10_000, 100_000] {
        let (scores, windows, timestamps) = synthetic(n);
        let series = [SeriesScores::new(&scores, &windows).expect("valid")];
        let context = FitContext {
            timestamps: vec![&timestamps],
            alert: &alert,
            early_ms: 0,
        };
        for per_day in [1.0, 10.0] {
            let policy = ThresholdPolicy::AlertBudget { per_day };
            group.bench_with_input(
                BenchmarkId::new(format!("alert_budget_{per_day}_per_day"), n),
                &n,
                |b, _| b.iter(|| policy.fit_with(&series, &context).expect("fit")),
            );
        }
        let pot = ThresholdPolicy::Pot {
            risk: 1e-4,
            level: 0.98,
        };
        group.bench_with_input(BenchmarkId::new("pot_1e-4", n), &n, |b, _| {
            b.iter(|| pot.fit(&series).expect("fit"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_thresholds);
criterion_main!(benches);
