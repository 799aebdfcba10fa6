"""vigil's kNN distance, ECOD and PCA against PyOD side by side.

A shortcut for `python3 benches/peers/run.py --only knn,ecod,pca` (see run.py for the
workloads, the data, how each side is timed and its peak memory read, and the versions):
    python3 benches/peers/ml_b.py [--quick] [--no-build] [--repeats N]
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run  # noqa: E402

if __name__ == "__main__":
    sys.argv[1:1] = ["--only", "knn,ecod,pca"]
    run.main()
