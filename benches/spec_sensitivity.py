"""How the headline results of two shipped specs move when one setting moves: the tables
"ASD ensemble: how the protocol's choices carry over" and "The NAB pipeline that passes HTM,
and how fragile it is" in benches/README.md.

Run from the repository root after `cargo build --release --workspace --bin vigil`:
    python3 benches/spec_sensitivity.py asd   # 24 ensemble settings of asd.toml (~1 min)
    python3 benches/spec_sensitivity.py nab   # 6 likelihood settings of nab.toml (~2 min)
Each setting is the shipped spec with a few keys replaced, written beside the shipped specs
(so their relative dataset paths still resolve) under a temporary name that is removed
afterwards, and run with `vigil run --json` against a fresh SQLite registry in a temporary
folder; the script prints the markdown table rows.
"""

import argparse
import itertools
import json
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
SPECS = ROOT / "experiments" / "specs"
VIGIL = ROOT / "target" / "release" / "vigil"


def vigil_path(given):
    if given:
        return pathlib.Path(given)
    target = os.environ.get("CARGO_TARGET_DIR")
    return pathlib.Path(target) / "release" / "vigil" if target else VIGIL


def run_variant(vigil, base, name, edit, workdir):
    """The leaderboard of `base` with `edit(text) -> text` applied."""
    text = edit((SPECS / base).read_text())
    spec = SPECS / f"_sensitivity_{name}.toml"
    spec.write_text(text)
    try:
        out = subprocess.run(
            [
                str(vigil), "-q", "run", str(spec), "--json",
                "--registry", f"sqlite://{workdir / (name + '.db')}",
                "--report", str(workdir / f"{name}.html"),
            ],
            check=True, capture_output=True, text=True,
        )
    finally:
        spec.unlink()
    return json.loads(out.stdout)


def replace(text, old, new):
    if old not in text:
        sys.exit(f"the shipped spec no longer holds {old!r}; update this script")
    return text.replace(old, new, 1)


def entry(board, name):
    return next(e for e in board["entries"] if e["name"] == name)


def asd(vigil, workdir):
    short = {"rolling_zscore": "z", "ewma": "ewma", "rolling_percentile": "pct",
             "cusum": "cusum", "isolation_forest": "IF", "ecod": "ECOD", "pca": "PCA"}
    for objective, normalise, weights, top in itertools.product(
        ["event_f1", "vus_pr"], ["robust_z", "rank"], ["learned", "equal"], [3, 4, 7]
    ):
        def edit(t):
            t = replace(t, 'metric = "vus_pr"', f'metric = "{objective}"')
            t = replace(t, 'normalise = "rank"', f'normalise = "{normalise}"')
            t = replace(t, 'weights = "learned"', f'weights = "{weights}"')
            return replace(t, "top = 4", f"top = {top}")
        name = f"asd_{objective}_{normalise}_{weights}_{top}"
        board = run_variant(vigil, "asd.toml", name, edit, workdir)
        e = entry(board, "ensemble_mean")
        test = e["test"]["asd"]
        members = ", ".join(
            f"{short[m['kind']]} {w:.2f}" for m, w in zip(e["params"]["members"], e["params"]["weights"])
        )
        print(f"| {objective} | {normalise} | {weights} | {top} | {test['event_f1']:.3f} "
              f"| {test['vus_pr']:.3f} | {members} |", flush=True)


def nab(vigil, workdir):
    shipped = ('params = { detector = { kind = "holt_winters" }, '
               '"likelihood.spatial_tolerance" = 0.05 }\n'
               'search = { others = [[], [{ kind = "rolling_zscore" }], [{ kind = "ewma" }], '
               '[{ kind = "arima" }], [{ kind = "cad_ose" }]] }')
    for window, tolerance in [(10, 0.05), (5, 0.05), (15, 0.05), (10, 0.0), (10, 0.02), (10, 0.1)]:
        fixed = ('params = { detector = { kind = "holt_winters" }, others = [{ kind = "rolling_zscore" }], '
                 f'"likelihood.spatial_tolerance" = {tolerance}, "likelihood.averaging_window" = {window} }}\n'
                 'search = "none"')
        board = run_variant(vigil, "nab.toml", f"nab_{window}_{tolerance}",
                            lambda t: replace(t, shipped, fixed), workdir)
        test = entry(board, "anomaly_likelihood")["test"]["nab"]
        print(f"| {window} | {tolerance} | {test['nab_standard']:.1f} | {test['nab_low_fp']:.1f} "
              f"| {test['nab_low_fn']:.1f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("spec", choices=["asd", "nab"])
    parser.add_argument("--vigil", help="the vigil binary (default: the release build)")
    args = parser.parse_args()
    vigil = vigil_path(args.vigil)
    if not vigil.exists():
        sys.exit(f"{vigil} not found; run `cargo build --release --workspace --bin vigil` first")
    with tempfile.TemporaryDirectory() as tmp:
        {"asd": asd, "nab": nab}[args.spec](vigil, pathlib.Path(tmp))


if __name__ == "__main__":
    main()
