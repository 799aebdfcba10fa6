"""Holt-Winters fit time, vigil next to statsmodels, on one week of 5-minute data.

The data is the 2,016-row synthetic week of train/tests/fixtures/holt_winters_statsmodels
(season 288); the model has an additive damped trend and an additive or multiplicative
season. statsmodels==0.15.0, numpy==2.4.6, scipy==1.17.1 (see .ci/requirements.txt), fitted
with its default optimiser (brute start + L-BFGS-B) for three initialisations:
  simple     statsmodels' "simple" initial states given as known; weights fitted
  heuristic  initialization_method="heuristic"; weights fitted
  estimated  initialization_method="estimated" (its default): initial states fitted too
and vigil's Initialization::{Simple, Heuristic, Estimated}, timed by the release example
train/examples/hw_week.rs (one process, the same data, median of the repeats).

Run from the repository root after one release build of the workspace:
    cargo build --release --workspace --examples
    python3 benches/peers/holt_winters.py [--repeats 7] [--vigil PATH/TO/hw_week]
The vigil binary defaults to $CARGO_TARGET_DIR/release/examples/hw_week (or target/...).
Prints one row per configuration: both medians, the ratio, and both SSEs.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import time
import warnings

import numpy as np
import scipy
import statsmodels
from statsmodels.tsa.exponential_smoothing.initialization import _initialization_simple
from statsmodels.tsa.holtwinters import ExponentialSmoothing

warnings.simplefilter("ignore")
ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "train" / "tests" / "fixtures" / "holt_winters_statsmodels" / "expected.json"
PERIOD = 288


def model(y, seasonal, init):
    common = dict(trend="add", damped_trend=True, seasonal=seasonal, seasonal_periods=PERIOD)
    if init == "simple":
        level, trend, seasons = _initialization_simple(y, "add", seasonal, PERIOD)
        return ExponentialSmoothing(y, initialization_method="known", initial_level=level, initial_trend=trend,
                                    initial_seasonal=seasons, **common)
    return ExponentialSmoothing(y, initialization_method=init, **common)


def time_statsmodels(y, seasonal, init, repeats):
    times, sse = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        fit = model(y, seasonal, init).fit()
        times.append((time.perf_counter() - start) * 1e3)
        sse = float(fit.sse)
    return statistics.median(times), times, sse


def vigil_results(binary, repeats):
    out = subprocess.run([str(binary), str(repeats)], check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {(r["seasonal"], r["initialization"]): r for r in rows}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    parser.add_argument("--vigil", type=pathlib.Path, default=target / "release" / "examples" / "hw_week")
    args = parser.parse_args()
    y = np.array(json.loads(FIXTURE.read_text())["synthetic"])
    print(f"statsmodels {statsmodels.__version__}, numpy {np.__version__}, scipy {scipy.__version__}; "
          f"{len(y)} rows, season {PERIOD}, additive damped trend; median of {args.repeats} fits")
    vigil = vigil_results(args.vigil, max(args.repeats, 15)) if args.vigil.exists() else None
    if vigil is None:
        print(f"(no vigil binary at {args.vigil}: build it with `cargo build --release --workspace --examples`)")
    print("| season | init | statsmodels ms | vigil ms | speed-up | statsmodels SSE | vigil SSE | vigil SSE ≤ |")
    print("|---|---|---|---|---|---|---|---|")
    for seasonal in ("add", "mul"):
        for init in ("simple", "heuristic", "estimated"):
            median, _, sse = time_statsmodels(y, seasonal, init, args.repeats)
            if vigil is None:
                print(f"| {seasonal} | {init} | {median:.1f} | | | {sse:.4f} | | |")
                continue
            ours = vigil[(seasonal, init)]
            ok = "yes" if ours["sse"] <= sse * (1 + 1e-6) else "NO"
            print(f"| {seasonal} | {init} | {median:.1f} | {ours['median_ms']:.2f} | "
                  f"{median / ours['median_ms']:.0f}× | {sse:.4f} | {ours['sse']:.4f} | {ok} |")


if __name__ == "__main__":
    main()
