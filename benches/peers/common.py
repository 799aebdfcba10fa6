"""Shared helpers of the side-by-side peer benchmarks (run.py, ml_a.py, ml_b.py).

- Data: `planted` (two correlated Gaussian clusters with a share of uniform outliers, seeded),
  raw little-endian f64 files (`write` / `read`) that vigil's release example
  `train/examples/peers.rs` reads, and `shape.json` beside them.
- Running: `build` (one `cargo build --release --workspace` of the examples), `example`
  (the path of a built example), `measured` (run a child process and return its stdout, wall
  time and peak resident memory, from GNU time (`/usr/bin/time -f %M`) around that child).
- Timing inside a process: `best_of`.
- Accuracy: `roc_auc` (scikit-learn's) and `max_rel_diff` (the largest |a − b| / max(|b|, 1)).
Versions are pinned in .ci/requirements.txt (numpy 2.4.6, scikit-learn 1.9.1, PyOD 3.6.7,
statsmodels 0.15.0).
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]


def planted(rng, n, dim, outlier_share):
    """Two correlated Gaussian clusters; a share of rows replaced by uniform outliers (label 1)."""
    mix = rng.normal(scale=0.6, size=(dim, dim))
    x = rng.normal(size=(n, dim)) @ mix
    half = n // 2
    x[half:] = rng.normal(size=(n - half, dim)) * 0.7 + 4.0
    y = np.zeros(n)
    out = rng.choice(n, size=int(n * outlier_share), replace=False)
    x[out] = rng.uniform(-6.0, 10.0, size=(len(out), dim))
    y[out] = 1
    return x, y


def write(directory, name, array):
    np.ascontiguousarray(array, dtype="<f8").tofile(os.path.join(directory, name + ".f64"))


def read(directory, name):
    return np.fromfile(os.path.join(directory, name + ".f64"), dtype="<f8")


def write_shape(directory, **counts):
    with open(os.path.join(directory, "shape.json"), "w") as f:
        json.dump(counts, f)


def best_of(fn, repeats):
    """(best wall seconds over `repeats` calls, the last call's result)."""
    times, result = [], None
    for _ in range(max(repeats, 1)):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


GNU_TIME = os.environ.get("GNU_TIME", "/usr/bin/time")
if not pathlib.Path(GNU_TIME).exists():
    raise SystemExit(f"{GNU_TIME} not found: peak memory is measured with GNU time "
                     "(apt-get install time), or set GNU_TIME to its path")


def target_dir():
    return pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


PROFILE = "release"


def set_profile(profile):
    """`release` (the default) or `dev` (vigil-train, -eval and -experiments at opt-level 2,
    dependencies at 1: only for a machine where the release build cannot be had; say so)."""
    global PROFILE
    if profile not in ("release", "dev"):
        raise SystemExit(f"--profile {profile!r}: use release or dev")
    PROFILE = profile


def example(name):
    return target_dir() / ("release" if PROFILE == "release" else "debug") / "examples" / name


def build(examples):
    """One build of the workspace's examples (`--workspace`: the same feature set as every
    other build, so nothing is rebuilt twice), in the chosen profile."""
    cmd = ["cargo", "build", "--quiet", "--workspace"] + (["--release"] if PROFILE == "release" else [])
    for name in examples:
        cmd += ["--example", name]
    subprocess.run(cmd, check=True, cwd=ROOT)


def measured(cmd, env=None):
    """Runs `cmd` under GNU time (`/usr/bin/time -f %M`) and returns (stdout, wall seconds,
    peak RSS in MiB). Fails loudly, with the child's stderr, when it exits non-zero.

    Why not this process's own `os.wait4`: Linux starts a forked child's `ru_maxrss` at the
    parent's high-water mark (the copied address space's counter survives `exec`), so every
    child of a harness that once held a large array would report at least that much. GNU time
    is a small process, so what it reports is the command's own peak."""
    with tempfile.TemporaryFile(mode="w+") as out, tempfile.TemporaryFile(mode="w+") as err, \
            tempfile.NamedTemporaryFile(mode="w+", suffix=".rss") as rss:
        t0 = time.perf_counter()
        wrapped = [GNU_TIME, "-f", "%M", "-o", rss.name] + [str(c) for c in cmd]
        code = subprocess.run(wrapped, stdout=out, stderr=err, env=env, cwd=ROOT).returncode
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
        lines = [line for line in pathlib.Path(rss.name).read_text().splitlines() if line.strip()]
    if code != 0:
        sys.stderr.write(stderr)
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited with {code}")
    # GNU time's %M is the peak resident set size in KiB (its last line; earlier lines, if
    # any, are its notes).
    return stdout, wall, int(lines[-1]) / 1024.0


def last_json(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def roc_auc(labels, scores):
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def max_rel_diff(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1.0)))


def load_average():
    return os.getloadavg()
