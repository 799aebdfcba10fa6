"""Every side-by-side workload in one go: vigil's release build against scikit-learn, PyOD and
statsmodels on the same machine, one table of times, ratios, accuracy and peak memory.

Run from the repository root:
    python3 benches/peers/run.py [--quick] [--no-build] [--repeats N] [--only a,b,...]
                                 [--smd machine-1-2,...] [--json PATH]
It builds the release examples `peers` and `hw_week` once (`cargo build --release --workspace`,
into $CARGO_TARGET_DIR or target/), writes each workload's data (seeded) under
$TMPDIR/vigil_peers/WORKLOAD, then runs each side in its own child process, so each side's
peak resident memory (GNU time around that child; the Python side includes the interpreter
and the imported libraries, about 100-200 MiB before any data) is the workload's alone:
    python3 run.py --peer WORKLOAD DIR REPEATS     the peer (this file, timing itself)
    peers WORKLOAD DIR REPEATS                     vigil (train/examples/peers.rs)
Times are the best of REPEATS calls inside each process (data loaded outside the timing);
the ratio is peer ÷ vigil. Accuracy is computed here, from the scores both sides wrote.

Workloads (names for --only):
  iforest      Isolation Forest fit + score, 1,000,000 x 8, 100 trees x 256 samples;
               scikit-learn n_jobs=-1; ROC-AUC each side (seeds differ)
  lof          LOF novelty, fit 20,000 x 8, score 100,000 x 8, k=20; scikit-learn n_jobs=-1
               (its k-d tree); ROC-AUC each side and max relative score difference
  lof38        the same on SMD machine-1-2 (38 metrics; fit on its 23,694 training rows,
               score its 23,694 test rows); scikit-learn uses brute force above 15 features
  knn ecod pca PyOD defaults, fit 100,000 x 8 + decision_function on 100,000 x 8 new rows;
               ROC-AUC each side; score agreement (ECOD: in-sample, as PyOD's test scores
               recompute the ECDFs over the scored batch)
  hw           Holt-Winters, 2,016 points, season 288, additive damped trend, additive and
               multiplicative season, statsmodels' default (estimated) initialisation; SSE
  arima        ARIMA(1,1,1) fit on 10,000 simulated points: statsmodels
               ARIMA(y, order=(1,1,1)).fit() (its default: exact diffuse likelihood on y)
               against vigil's exact likelihood of the differenced series; both coefficient
               sets and log-likelihoods are shown
  mp           matrix profile of a 100,000-point random walk, window 100: stumpy 1.14.1's
               `stump` self-join (numba, all cores; its first call, which compiles, is not
               timed) against vigil's `matrix_profile` (self-join) and `left_matrix_profile`
               (causal); max abs difference of each profile (the left one against distances
               recomputed from stumpy's left indices)
  smd          issue 6's SMD side by side: on each SMD machine (default: all in
               $VIGIL_SHARED_DATASETS/smd, else ../shared/datasets/smd), PyOD IForest and ECOD
               against vigil's; fit on the first 80% of the training rows, threshold at the
               99th percentile of the held-out 20% (no test labels), event F1 and VUS-PR on
               the test rows computed by vigil-eval for both sides; time = fit + score of
               held-out and test rows
Versions: numpy 2.4.6, scikit-learn 1.9.1, PyOD 3.6.7, statsmodels 0.15.0, scipy 1.17.1,
stumpy 1.14.1, numba 0.68.1
(.ci/requirements.txt).
"""

import argparse
import json
import os
import pathlib
import platform
import sys
import tempfile
import time
import warnings

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import common  # noqa: E402

WORKLOADS = ["iforest", "lof", "lof38", "knn", "ecod", "pca", "hw", "arima", "mp", "smd"]
MP_WINDOW = 100
BASE = pathlib.Path(tempfile.gettempdir()) / "vigil_peers"


def smd_root():
    shared = os.environ.get("VIGIL_SHARED_DATASETS", str(common.ROOT.parent / "shared" / "datasets"))
    return pathlib.Path(shared) / "smd"


def smd_machine(name):
    root = smd_root()
    load = lambda sub: np.loadtxt(root / sub / f"{name}.txt", delimiter=",", ndmin=2)  # noqa: E731
    return load("train"), load("test"), load("test_label").ravel()


# ---------------------------------------------------------------------------------------------
# Data (written by the parent, read by both children)
# ---------------------------------------------------------------------------------------------

def prepare(workload, directory, quick):
    rng = np.random.default_rng(42)
    if workload == "iforest":
        n = 100_000 if quick else 1_000_000
        x, y = common.planted(rng, n, 8, 0.01)
        common.write(directory, "train", x)
        common.write(directory, "labels", y)
        common.write_shape(directory, train_rows=n, test_rows=n, dim=8)
        return f"Isolation Forest fit + score {n:,} x 8"
    if workload == "lof":
        n_test = 20_000 if quick else 100_000
        train, _ = common.planted(rng, 20_000, 8, 0.0)
        test, y = common.planted(rng, n_test, 8, 0.01)
        for name, a in [("train", train), ("test", test), ("labels", y)]:
            common.write(directory, name, a)
        common.write_shape(directory, train_rows=20_000, test_rows=n_test, dim=8)
        return f"LOF fit 20,000 x 8 / score {n_test:,} x 8"
    if workload == "lof38":
        train, test, labels = smd_machine("machine-1-2")
        if quick:
            train, test, labels = train[:5_000], test[:5_000], labels[:5_000]
        for name, a in [("train", train), ("test", test), ("labels", labels)]:
            common.write(directory, name, a)
        common.write_shape(directory, train_rows=len(train), test_rows=len(test), dim=train.shape[1])
        return f"LOF fit {len(train):,} x 38 / score {len(test):,} x 38 (SMD machine-1-2)"
    if workload in ("knn", "ecod", "pca"):
        n = 10_000 if quick else 100_000
        rng = np.random.default_rng(7)
        train, _ = common.planted(rng, n, 8, 0.01)
        test, y = common.planted(rng, n, 8, 0.01)
        for name, a in [("train", train), ("test", test), ("labels", y)]:
            common.write(directory, name, a)
        common.write_shape(directory, train_rows=n, test_rows=n, dim=8)
        return f"{workload.upper() if workload != 'knn' else 'kNN'} fit + score {n:,} x 8 (PyOD)"
    if workload == "mp":
        n = 20_000 if quick else 100_000
        y = 100.0 + np.cumsum(np.random.default_rng(5).normal(size=n))
        common.write(directory, "train", y)
        common.write_shape(directory, train_rows=n, test_rows=0, dim=1, window=MP_WINDOW)
        return f"matrix profile {n:,} points, window {MP_WINDOW}"
    if workload == "arima":
        n = 10_000
        rng = np.random.default_rng(11)
        e = rng.normal(size=n + 1)
        dz = np.zeros(n)
        for t in range(1, n):
            dz[t] = 0.6 * dz[t - 1] + e[t + 1] + 0.3 * e[t]
        y = 100.0 + np.cumsum(dz)
        common.write(directory, "train", y)
        common.write_shape(directory, train_rows=n, test_rows=0, dim=1)
        return f"ARIMA(1,1,1) fit {n:,} points"
    raise ValueError(workload)


# ---------------------------------------------------------------------------------------------
# The peer side (runs in its own child process: `run.py --peer WORKLOAD DIR REPEATS`)
# ---------------------------------------------------------------------------------------------

def peer(workload, directory, repeats):
    warnings.simplefilter("ignore")
    shape_path = pathlib.Path(directory) / "shape.json"
    shape = json.loads(shape_path.read_text()) if workload != "hw" else {"dim": 1}
    dim = shape["dim"]
    load = lambda name, rows: common.read(directory, name).reshape(rows, dim)  # noqa: E731
    out = {}
    if workload == "iforest":
        from sklearn.ensemble import IsolationForest

        x = load("train", shape["train_rows"])

        def fit_score():
            model = IsolationForest(n_estimators=100, max_samples=256, n_jobs=-1, random_state=0).fit(x)
            return -model.score_samples(x)

        out["seconds"], scores = common.best_of(fit_score, repeats)
        common.write(directory, "peer_scores", scores)
    elif workload in ("lof", "lof38"):
        from sklearn.neighbors import LocalOutlierFactor

        train, test = load("train", shape["train_rows"]), load("test", shape["test_rows"])
        out["fit_s"], model = common.best_of(
            lambda: LocalOutlierFactor(n_neighbors=20, novelty=True, n_jobs=-1).fit(train), repeats)
        out["score_s"], scores = common.best_of(lambda: -model.score_samples(test), repeats)
        out["method"] = model._fit_method
        common.write(directory, "peer_scores", scores)
    elif workload in ("knn", "ecod", "pca"):
        from pyod.models.ecod import ECOD
        from pyod.models.knn import KNN
        from pyod.models.pca import PCA

        train, test = load("train", shape["train_rows"]), load("test", shape["test_rows"])
        make = {"knn": KNN, "ecod": ECOD, "pca": PCA}[workload]

        def fit_score():
            model = make().fit(train)
            return model, model.decision_function(test)

        out["seconds"], (model, scores) = common.best_of(fit_score, repeats)
        common.write(directory, "peer_scores", scores)
        common.write(directory, "peer_train_scores", model.decision_scores_)
    elif workload == "mp":
        import stumpy

        y, m = common.read(directory, "train"), shape["window"]
        stumpy.stump(y[:1_000], m)  # numba compiles on the first call
        out["seconds"], profile = common.best_of(lambda: stumpy.stump(y, m), repeats)
        common.write(directory, "peer_scores", np.asarray(profile[:, 0], dtype=float))
        left = np.asarray(profile[:, 2], dtype=np.int64)
        common.write(directory, "peer_left", left_distances(y, m, left))
    elif workload == "arima":
        from statsmodels.tsa.arima.model import ARIMA

        y = common.read(directory, "train")
        out["seconds"], fit = common.best_of(lambda: ARIMA(y, order=(1, 1, 1)).fit(), repeats)
        params = dict(zip(fit.model.param_names, fit.params))
        out.update(ar=[params["ar.L1"]], ma=[params["ma.L1"]], sigma2=params["sigma2"], loglik=float(fit.llf))
    elif workload == "hw":
        import holt_winters

        y = np.array(json.loads(holt_winters.FIXTURE.read_text())["synthetic"])
        for seasonal in ("add", "mul"):
            median, _, sse = holt_winters.time_statsmodels(y, seasonal, "estimated", repeats)
            out[seasonal] = {"median_ms": median, "sse": sse}
    elif workload == "smd":
        from pyod.models.ecod import ECOD
        from pyod.models.iforest import IForest

        fit_rows, val_rows, test_rows = shape["train_rows"], shape["val_rows"], shape["test_rows"]
        train, val, test = load("train", fit_rows), load("val", val_rows), load("test", test_rows)
        for family, make in [("iforest", lambda: IForest(n_estimators=100, max_samples=256, random_state=0)),
                             ("ecod", ECOD)]:
            def fit_score(make=make):
                model = make().fit(train)
                return model.decision_function(val), model.decision_function(test)

            seconds, (v, t) = common.best_of(fit_score, repeats)
            out[f"pyod_{family}_s"] = seconds
            common.write(directory, f"pyod_{family}_val", v)
            common.write(directory, f"pyod_{family}_test", t)
    else:
        raise ValueError(workload)
    print(json.dumps(out))


def left_distances(y, m, left):
    """z-normalised distance of each subsequence to its left neighbour (index -1: none, inf)."""
    windows = np.lib.stride_tricks.sliding_window_view(y, m)
    z = (windows - windows.mean(axis=1, keepdims=True)) / windows.std(axis=1, keepdims=True)
    out = np.full(len(windows), np.inf)
    has = left >= 0
    out[has] = np.sqrt(np.maximum(((z[has] - z[left[has]]) ** 2).sum(axis=1), 0.0))
    return out


# ---------------------------------------------------------------------------------------------
# The parent: data, both children, the table
# ---------------------------------------------------------------------------------------------

def run_peer(workload, directory, repeats):
    return common.measured([sys.executable, __file__, "--peer", workload, directory, str(repeats)])


def run_vigil(workload, directory, repeats):
    name = "lof" if workload == "lof38" else workload
    return common.measured([common.example("peers"), name, directory, str(repeats)])


def fmt_s(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def add_row(rows, what, peer_name, peer_s, vigil_s, accuracy, peer_mib, vigil_mib):
    rows.append({
        "workload": what, "peer": peer_name, "peer_s": peer_s, "vigil_s": vigil_s,
        "ratio": peer_s / vigil_s, "accuracy": accuracy, "peer_mib": peer_mib, "vigil_mib": vigil_mib,
    })
    # Progress (and a record if a later workload fails).
    print(f"    {what}: {fmt_s(peer_s)} / {fmt_s(vigil_s)} = {peer_s / vigil_s:.1f}x; {accuracy}",
          file=sys.stderr, flush=True)


def point_workload(workload, args, rows):
    directory = BASE / workload
    directory.mkdir(parents=True, exist_ok=True)
    what = prepare(workload, str(directory), args.quick)
    p_out, _, p_mib = run_peer(workload, str(directory), args.repeats)
    v_out, _, v_mib = run_vigil(workload, str(directory), args.repeats)
    p, v = common.last_json(p_out), common.last_json(v_out)
    d = str(directory)
    if workload == "arima":
        acc = (f"statsmodels φ {p['ar'][0]:.4f} θ {p['ma'][0]:.4f} llf {p['loglik']:.1f}; "
               f"vigil φ {v['ar'][0]:.4f} θ {v['ma'][0]:.4f} llf {v['loglik']:.1f}")
        add_row(rows, what, "statsmodels", p["seconds"], v["seconds"], acc, p_mib, v_mib)
        return
    if workload == "mp":
        def diff(a, b):
            a, b = common.read(d, a), common.read(d, b)
            if not np.array_equal(np.isinf(a), np.isinf(b)):
                return float("inf")  # one side finds a match where the other finds none
            finite = np.isfinite(a)
            return float(np.max(np.abs(a[finite] - b[finite])))

        add_row(rows, what + ", self-join", "stumpy", p["seconds"], v["seconds"],
                f"profile max abs diff {diff('vigil_scores', 'peer_scores'):.1e}", p_mib, v_mib)
        add_row(rows, what + ", left (causal)", "stumpy (self-join)", p["seconds"], v["left_s"],
                f"left profile max abs diff {diff('vigil_left', 'peer_left'):.1e}", p_mib, v_mib)
        return
    labels = common.read(d, "labels")
    peer_scores, vigil_scores = common.read(d, "peer_scores"), common.read(d, "vigil_scores")
    auc = f"ROC-AUC {common.roc_auc(labels, peer_scores):.4f} / {common.roc_auc(labels, vigil_scores):.4f}"
    if workload == "iforest":
        add_row(rows, what, "scikit-learn", p["seconds"], v["seconds"], auc, p_mib, v_mib)
    elif workload in ("lof", "lof38"):
        agree = f"{auc}; scores max rel diff {common.max_rel_diff(vigil_scores, peer_scores):.1e}"
        name = f"scikit-learn ({p['method']})"
        add_row(rows, what + ": fit", name, p["fit_s"], v["fit_s"], "", p_mib, v_mib)
        add_row(rows, what + ": score", name, p["score_s"], v["score_s"], agree, p_mib, v_mib)
    else:
        if workload == "ecod":
            diff = common.max_rel_diff(common.read(d, "vigil_train_scores"), common.read(d, "peer_train_scores"))
            agree = f"{auc}; in-sample scores max rel diff {diff:.1e}"
        else:
            agree = f"{auc}; scores max rel diff {common.max_rel_diff(vigil_scores, peer_scores):.1e}"
        add_row(rows, what, "PyOD", p["seconds"], v["seconds"], agree, p_mib, v_mib)


def hw_workload(args, rows):
    directory = BASE / "hw"
    directory.mkdir(parents=True, exist_ok=True)
    p_out, _, p_mib = run_peer("hw", str(directory), max(args.repeats, 3))
    v_out, _, v_mib = common.measured([common.example("hw_week"), str(max(args.repeats, 15))])
    p = common.last_json(p_out)
    lines = [json.loads(line) for line in v_out.splitlines() if line.strip()]
    ours = {(r["seasonal"], r["initialization"]): r for r in lines}
    for seasonal in ("add", "mul"):
        v = ours[(seasonal, "estimated")]
        acc = f"SSE {p[seasonal]['sse']:.2f} / {v['sse']:.2f}"
        add_row(rows, f"Holt-Winters fit 2,016 pts, season 288, {seasonal} season (estimated init)",
                "statsmodels", p[seasonal]["median_ms"] / 1e3, v["median_ms"] / 1e3, acc, p_mib, v_mib)


def smd_workload(args, rows, details):
    machines = args.smd.split(",") if args.smd else sorted(p.stem for p in (smd_root() / "train").glob("*.txt"))
    if not machines:
        raise SystemExit(f"no SMD machines under {smd_root()}: set VIGIL_SHARED_DATASETS")
    for machine in machines:
        directory = BASE / "smd" / machine
        directory.mkdir(parents=True, exist_ok=True)
        d = str(directory)
        train, test, labels = smd_machine(machine)
        cut = int(len(train) * 0.8)
        for name, a in [("train", train[:cut]), ("val", train[cut:]), ("test", test), ("labels", labels)]:
            common.write(d, name, a)
        common.write_shape(d, train_rows=cut, val_rows=len(train) - cut, test_rows=len(test), dim=train.shape[1])
        p_out, _, p_mib = run_peer("smd", d, args.repeats)
        v_out, _, v_mib = run_vigil("smd", d, args.repeats)
        p, v = common.last_json(p_out), common.last_json(v_out)
        for family, label in [("iforest", "IForest"), ("ecod", "ECOD")]:
            po, vo = v[f"pyod_{family}"], v[f"vigil_{family}"]
            acc = (f"event F1 {po['event_f1']:.3f} / {vo['event_f1']:.3f}; "
                   f"VUS-PR {po['vus_pr']:.3f} / {vo['vus_pr']:.3f}")
            add_row(rows, f"SMD {machine} {label} ({len(train):,}+{len(test):,} x 38)", "PyOD",
                    p[f"pyod_{family}_s"], v[f"vigil_{family}_s"], acc, p_mib, v_mib)
            details.append({"machine": machine, "family": family, "pyod": po, "vigil": vo})


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--peer":
        peer(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data, one repeat")
    parser.add_argument("--no-build", action="store_true", help="use the examples already built")
    parser.add_argument("--repeats", type=int, default=None, help="best of N inside each process (default 3)")
    parser.add_argument("--only", default="", help="comma-separated workloads: " + ",".join(WORKLOADS))
    parser.add_argument("--smd", default="", help="comma-separated SMD machines (default: all)")
    parser.add_argument("--json", default="", help="also write the rows as JSON to this path")
    parser.add_argument("--profile", default="release",
                        help="vigil's build: release (default) or dev (only where no release build can be had)")
    args = parser.parse_args()
    args.repeats = args.repeats or (1 if args.quick else 3)
    common.set_profile(args.profile)
    chosen = [w for w in args.only.split(",") if w] or WORKLOADS
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        raise SystemExit(f"unknown workload(s) {unknown}; choose from {WORKLOADS}")
    if not args.no_build:
        common.build(["peers", "hw_week"])
    for name in ("peers", "hw_week"):
        if not common.example(name).exists():
            raise SystemExit(f"no {common.example(name)}: build with "
                             "`cargo build [--release] --workspace --example peers --example hw_week`")
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows, details = [], []
    for workload in chosen:
        print(f"... {workload}", file=sys.stderr, flush=True)
        if workload == "hw":
            hw_workload(args, rows)
        elif workload == "smd":
            smd_workload(args, rows, details)
        else:
            point_workload(workload, args, rows)
    load_after = os.getloadavg()
    print(f"{started}; {platform.machine()}, {os.cpu_count()} CPUs; load average before "
          f"{load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f}, after "
          f"{load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f}; best of {args.repeats}; "
          f"vigil built in the {args.profile} profile")
    print("| workload | peer | peer time | vigil time | peer ÷ vigil | accuracy (peer / vigil) | peak MiB peer / vigil |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['workload']} | {r['peer']} | {fmt_s(r['peer_s'])} | {fmt_s(r['vigil_s'])} | "
              f"{r['ratio']:.1f}× | {r['accuracy']} | {r['peer_mib']:.0f} / {r['vigil_mib']:.0f} |")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"rows": rows, "smd": details, "started": started,
                                                       "load": [load_before, load_after]}, indent=1))


if __name__ == "__main__":
    main()
