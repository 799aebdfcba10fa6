"""Issue 6's first half side by side: vigil's Isolation Forest and LOF against scikit-learn.

A shortcut for `python3 benches/peers/run.py --only iforest,lof,lof38` (see run.py for the
workloads, the data, how each side is timed and its peak memory read, and the versions):
    python3 benches/peers/ml_a.py [--quick] [--no-build] [--repeats N]
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run  # noqa: E402

if __name__ == "__main__":
    sys.argv[1:1] = ["--only", "iforest,lof,lof38"]
    run.main()
