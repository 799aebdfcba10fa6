"""ONNX Runtime throughput of vigil's exported Isolation Forest next to scikit-learn's own
converter (skl2onnx) for the same forest size, and scikit-learn's native scoring.

Usage: python3 benches/peers/onnx_iforest.py   (from the repository root)

Data: 8 columns, two correlated Gaussian clusters with 1% uniform outliers (seed 42); both
forests have 100 trees of 256 samples, fitted on the first 20,000 rows; scoring runs on
100,000 × 8 rows, best of 5, ONNX Runtime CPU with its default threads.
Versions: scikit-learn 1.9.1, skl2onnx 1.20.0, onnx 1.23.2, onnxruntime 1.31.1, numpy 2.4.6.
vigil's model is written by the example `export/examples/iforest_onnx.rs` (the export does not depend
on the build profile: scoring happens in ONNX Runtime).
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
import sklearn
from sklearn.ensemble import IsolationForest


def data(n, d=8, seed=42):
    rng = np.random.default_rng(seed)
    cov = 0.6 * np.ones((d, d)) + 0.4 * np.eye(d)
    half = n // 2
    x = np.vstack([rng.multivariate_normal(np.zeros(d), cov, half),
                   rng.multivariate_normal(np.full(d, 4.0), cov, n - half)])
    k = n // 100
    x[rng.choice(n, k, replace=False)] = rng.uniform(-8, 12, (k, d))
    return x


def best(f, repeat=5):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    train = data(20_000)
    test = data(100_000, seed=7)
    tmp = tempfile.mkdtemp()
    train_path = os.path.join(tmp, "train.f64")
    train.astype("<f8").tofile(train_path)
    vigil_path = os.path.join(tmp, "vigil_iforest.onnx")
    # Built with --workspace like every build here (feature unification), then run directly.
    subprocess.run(["cargo", "build", "--quiet", "--workspace", "--examples"], check=True)
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    out = subprocess.run(
        [os.path.join(target, "debug", "examples", "iforest_onnx"), train_path, "8", vigil_path],
        check=True, capture_output=True, text=True)
    vigil_info = json.loads(out.stdout.strip().splitlines()[-1])

    forest = IsolationForest(n_estimators=100, max_samples=256, random_state=0).fit(train)
    native = best(lambda: forest.score_samples(test))

    try:
        import skl2onnx
        from skl2onnx import to_onnx
        skl = to_onnx(forest, train[:1].astype(np.float32),
                      target_opset={"": 17, "ai.onnx.ml": 3})
        skl_path = os.path.join(tmp, "skl2onnx_iforest.onnx")
        with open(skl_path, "wb") as f:
            f.write(skl.SerializeToString())
        skl_version = skl2onnx.__version__
    except Exception as e:  # reported, not hidden
        skl_path, skl_version = None, f"failed: {e}"

    x32 = test.astype(np.float32)
    rows = {}
    s = ort.InferenceSession(vigil_path, providers=["CPUExecutionProvider"])
    xin = x32.reshape(len(x32), 1, 8)
    rows["vigil ONNX"] = (best(lambda: s.run(None, {"x": xin})), os.path.getsize(vigil_path),
                          vigil_info["nodes"])
    if skl_path:
        s2 = ort.InferenceSession(skl_path, providers=["CPUExecutionProvider"])
        name = s2.get_inputs()[0].name
        nodes = len(__import__("onnx").load(skl_path).graph.node)
        rows["skl2onnx ONNX"] = (best(lambda: s2.run(None, {name: x32})), os.path.getsize(skl_path), nodes)
    rows["scikit-learn native"] = (native, None, None)

    print(f"scikit-learn {sklearn.__version__}, skl2onnx {skl_version}, onnxruntime {ort.__version__}")
    print("| scorer (100,000 × 8 rows, 100 trees × 256 samples) | time | rows/s | file | graph nodes |")
    print("|---|---|---|---|---|")
    for k, (t, size, nodes) in rows.items():
        size_s = f"{size / 1024:.0f} KiB" if size else "—"
        print(f"| {k} | {t * 1000:.1f} ms | {len(test) / t / 1e6:.2f} M | {size_s} | {nodes or '—'} |")


if __name__ == "__main__":
    sys.exit(main())
