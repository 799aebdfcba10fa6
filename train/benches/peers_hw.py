"""Times statsmodels' Holt-Winters fit on the week vigil's bench fits (2,016 rows, season 288,
additive damped trend, additive season), for the comparison in benches/families.rs.

statsmodels==0.15.0, numpy==2.4.6 (see .ci/requirements.txt). Run from the repository root:
    python3 train/benches/peers_hw.py
Prints the median wall time of 5 fits and the SSE, for the default
initialization_method="estimated" and for the "simple" initial states given as known.
"""

import json
import pathlib
import statistics
import time
import warnings

import numpy as np
import statsmodels
from statsmodels.tsa.exponential_smoothing.initialization import _initialization_simple
from statsmodels.tsa.holtwinters import ExponentialSmoothing

warnings.simplefilter("ignore")
HERE = pathlib.Path(__file__).resolve().parent
FIXTURE = HERE.parent / "tests" / "fixtures" / "holt_winters_statsmodels" / "expected.json"


def model(y, init):
    if init == "estimated":
        return ExponentialSmoothing(y, trend="add", damped_trend=True, seasonal="add", seasonal_periods=288,
                                    initialization_method="estimated")
    level, trend, seasons = _initialization_simple(y, "add", "add", 288)
    return ExponentialSmoothing(y, trend="add", damped_trend=True, seasonal="add", seasonal_periods=288,
                                initialization_method="known", initial_level=level, initial_trend=trend,
                                initial_seasonal=seasons)


def main():
    y = np.array(json.loads(FIXTURE.read_text())["synthetic"])
    print(f"statsmodels {statsmodels.__version__}, numpy {np.__version__}, {len(y)} rows, season 288")
    for init in ("estimated", "simple"):
        times, sse = [], None
        for _ in range(5):
            start = time.perf_counter()
            fit = model(y, init).fit()
            times.append(time.perf_counter() - start)
            sse = fit.sse
        print(f"{init:>9}: median {statistics.median(times) * 1000:.1f} ms  SSE {sse:.6f}")


if __name__ == "__main__":
    main()
