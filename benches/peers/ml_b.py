"""Side by side: vigil's ECOD and PCA against PyOD on the same data.

Run from the repository root (builds the Rust side in release the first time):
    python3 benches/peers/ml_b.py [--quick]
It writes the data as raw little-endian f64 files under $TMPDIR/vigil_ml_b, times PyOD, then
builds and runs the release example `ml_b_peers` (train/examples/ml_b_peers.rs), which times
vigil on the same files and checks its scores against PyOD's, and prints one table.

- Fit on 100,000 x 8 rows and score 100,000 x 8 new rows (two Gaussian clusters, 1% uniform
  outliers), PyOD defaults: ECOD() (n_jobs=1; PyOD's n_jobs>1 path uses joblib over
  features) and PCA() (all components, weighted, standardised).
- What is timed: fit + decision_function(test). PyOD's ECOD decision_function recomputes its
  ECDFs over train + test (the leak vigil does not reproduce), so its work differs; vigil's
  score is the no-leak form. The in-sample ECOD scores and the PCA test scores are compared.
Versions: PyOD 3.6.7, numpy 2.4.6, scikit-learn 1.9.1 (see .ci/requirements*.txt).
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyod
from pyod.models.ecod import ECOD
from pyod.models.pca import PCA

QUICK = "--quick" in sys.argv
DIR = os.path.join(tempfile.gettempdir(), "vigil_ml_b")
REPEATS = 1 if QUICK else 3
ROWS = 10_000 if QUICK else 100_000
DIM = 8


def planted(rng, n, dim, outlier_share):
    mix = rng.normal(scale=0.6, size=(dim, dim))
    x = rng.normal(size=(n, dim)) @ mix
    half = n // 2
    x[half:] = rng.normal(size=(n - half, dim)) * 0.7 + 4.0
    out = rng.choice(n, size=int(n * outlier_share), replace=False)
    x[out] = rng.uniform(-6.0, 10.0, size=(len(out), dim))
    return x


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
    rng = np.random.default_rng(7)
    train = planted(rng, ROWS, DIM, 0.01)
    test = planted(rng, ROWS, DIM, 0.01)
    write("train", train)
    write("test", test)

    def ecod():
        model = ECOD().fit(train)
        return model, model.decision_function(test)

    def pca():
        model = PCA().fit(train)
        return model.decision_function(test)

    t_ecod, (ecod_model, _) = best_of(ecod)
    t_pca, pca_scores = best_of(pca)
    write("pyod_ecod_train", ecod_model.decision_scores_)
    write("pyod_pca_test", pca_scores)

    subprocess.run(["cargo", "build", "--quiet", "--release", "--workspace", "--example", "ml_b_peers"], check=True)
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    binary = os.path.join(target, "release", "examples", "ml_b_peers")
    out = subprocess.run([binary, DIR, str(ROWS), str(ROWS), str(DIM), str(REPEATS)],
                         check=True, capture_output=True, text=True).stdout
    ours = json.loads(out.strip().splitlines()[-1])

    print(f"PyOD {pyod.__version__}, numpy {np.__version__}; fit {ROWS} x {DIM}, score {ROWS} x {DIM}; "
          f"best of {REPEATS}; vigil on {ours['threads']} rayon threads")
    print(f"{'family':<8}{'PyOD s':>10}{'vigil s':>10}{'speed-up':>10}  agreement")
    print(f"{'ECOD':<8}{t_ecod:>10.3f}{ours['ecod_fit_score_s']:>10.3f}{t_ecod / ours['ecod_fit_score_s']:>9.1f}x"
          f"  in-sample max rel diff {ours['ecod_in_sample_max_rel_diff']:.1e}")
    print(f"{'PCA':<8}{t_pca:>10.3f}{ours['pca_fit_score_s']:>10.3f}{t_pca / ours['pca_fit_score_s']:>9.1f}x"
          f"  test max rel diff {ours['pca_test_max_rel_diff']:.1e}")


if __name__ == "__main__":
    main()
