"""Side by side: vigil's Isolation Forest and LOF against scikit-learn on the same data.

Run from the repository root (builds the Rust side in release the first time):
    python3 benches/peers/ml_a.py [--quick] [--no-build]
It writes the data as raw little-endian f64 files under $TMPDIR/vigil_ml_a, times scikit-learn,
then builds and runs the release example `ml_peers` (train/examples/ml_peers.rs), which times
vigil on the same files, and prints one table with both and their ROC-AUC. `--no-build` skips
the cargo step (the example already built with `cargo build --release --workspace --example
ml_peers`); `--quick` uses 100k rows for the forest and one repeat.

- Isolation Forest: fit + score on 1,000,000 x 8 rows (1% planted outliers), 100 trees, 256
  samples per tree; scikit-learn with n_jobs=-1.
- LOF (novelty): fit on 20,000 x 8 rows, score 100,000 x 8 rows (1% planted outliers),
  n_neighbors=20; scikit-learn with n_jobs=-1 (algorithm='auto' picks its k-d tree here).
Versions: numpy 2.4.6, scikit-learn 1.9.1 (see .ci/requirements.txt).
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor

QUICK = "--quick" in sys.argv
DIR = os.path.join(tempfile.gettempdir(), "vigil_ml_a")
REPEATS = 1 if QUICK else 3


def planted(rng, n, dim, outlier_share):
    """Two correlated Gaussian clusters; a share of rows replaced by uniform outliers."""
    mix = rng.normal(scale=0.6, size=(dim, dim))
    x = rng.normal(size=(n, dim)) @ mix
    half = n // 2
    x[half:] = rng.normal(size=(n - half, dim)) * 0.7 + 4.0
    y = np.zeros(n)
    out = rng.choice(n, size=int(n * outlier_share), replace=False)
    x[out] = rng.uniform(-6.0, 10.0, size=(len(out), dim))
    y[out] = 1
    return x, y


def write(name, array):
    np.ascontiguousarray(array, dtype="<f8").tofile(os.path.join(DIR, name + ".f64"))


def best_of(fn):
    times, result = [], None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main():
    os.makedirs(DIR, exist_ok=True)
    rng = np.random.default_rng(42)
    n_if = 100_000 if QUICK else 1_000_000
    x_if, y_if = planted(rng, n_if, 8, 0.01)
    x_lof_train, _ = planted(rng, 20_000, 8, 0.0)
    x_lof_test, y_lof = planted(rng, 100_000, 8, 0.01)
    for name, a in [("if_x", x_if), ("if_y", y_if), ("lof_train", x_lof_train), ("lof_test", x_lof_test), ("lof_y", y_lof)]:
        write(name, a)
    with open(os.path.join(DIR, "shape.json"), "w") as f:
        json.dump({"if_rows": n_if, "lof_train_rows": 20_000, "lof_test_rows": 100_000, "dim": 8}, f)

    def sk_if():
        model = IsolationForest(n_estimators=100, max_samples=256, n_jobs=-1, random_state=0).fit(x_if)
        return -model.score_samples(x_if)

    t_if, s_if = best_of(sk_if)

    def sk_lof_fit():
        return LocalOutlierFactor(n_neighbors=20, novelty=True, n_jobs=-1).fit(x_lof_train)

    t_lof_fit, lof = best_of(sk_lof_fit)
    t_lof_score, s_lof = best_of(lambda: -lof.score_samples(x_lof_test))
    sk = {
        "if_fit_score_s": t_if,
        "if_auc": roc_auc_score(y_if, s_if),
        "lof_fit_s": t_lof_fit,
        "lof_score_s": t_lof_score,
        "lof_auc": roc_auc_score(y_lof, s_lof),
    }

    print("scikit-learn:", json.dumps(sk), flush=True)
    # Build with --workspace (same feature set as every other build), then run the binary.
    if "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--quiet", "--release", "--workspace", "--example", "ml_peers"], check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.getcwd(), "target"))
    binary = os.path.join(target, "release", "examples", "ml_peers")
    out = subprocess.run([binary, DIR, str(REPEATS)], check=True, capture_output=True, text=True).stdout
    ours = json.loads(out.strip().splitlines()[-1])

    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs")
    print(f"{'what':<42}{'scikit-learn':>14}{'vigil':>12}{'speed-up':>10}")
    rows = [
        (f"IsolationForest fit+score {n_if:,} x 8 (s)", "if_fit_score_s"),
        ("LOF fit 20,000 x 8 (s)", "lof_fit_s"),
        ("LOF score 100,000 x 8 (s)", "lof_score_s"),
    ]
    for label, key in rows:
        print(f"{label:<42}{sk[key]:>14.3f}{ours[key]:>12.3f}{sk[key] / ours[key]:>9.1f}x")
    print(f"{'IsolationForest ROC-AUC':<42}{sk['if_auc']:>14.4f}{ours['if_auc']:>12.4f}")
    print(f"{'LOF ROC-AUC':<42}{sk['lof_auc']:>14.4f}{ours['lof_auc']:>12.4f}")
    print(json.dumps({"scikit_learn": sk, "vigil": ours}))


if __name__ == "__main__":
    main()
