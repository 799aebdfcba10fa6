"""Wall time, CPU time and peak memory of the NAB experiment end to end
(`vigil run experiments/specs/nab.toml`: every univariate family of the spec, its default
search, NAB's corpus threshold search, the ensemble, the registry and the report), and how it
scales with threads (1 vs 2) and with data (the 31-file corpus copied 1x, 2x, 4x).

Run from the repository root after `cargo build --release --workspace --bin vigil`:
    python3 benches/peers/nab_scaling.py [--runs 1x1,1x2,2x2,4x2] [--vigil PATH]
Each run is `/usr/bin/time -v vigil run SPEC --threads T --registry sqlite://FRESH.db
--report FRESH.html` on a copy of the spec whose dataset path points at a scaled copy of the
NAB folder under $TMPDIR/vigil_nab_scaling/xN (the data files hard-linked or copied under new
names, `labels/combined_windows.json` extended with the copies' windows), so the registry and
report of the repository are never touched. A run name `NxT` means N copies, T threads.
Prints one table: wall s, user + system CPU s, peak RSS MiB, and the load average.
"""

import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC = ROOT / "experiments" / "specs" / "nab.toml"
BASE = pathlib.Path(tempfile.gettempdir()) / "vigil_nab_scaling"


def nab_source():
    shared = os.environ.get("VIGIL_SHARED_DATASETS", str(ROOT.parent / "shared" / "datasets"))
    return pathlib.Path(shared) / "nab"


def scaled_copy(copies):
    """The NAB folder with every data file present `copies` times (copy k > 0 named
    `<file>_x<k>.csv`, same values and windows)."""
    source = nab_source()
    windows = json.loads((source / "labels" / "combined_windows.json").read_text())
    target = BASE / f"x{copies}"
    if target.exists():
        shutil.rmtree(target)
    (target / "labels").mkdir(parents=True)
    scaled = {}
    for key, spans in sorted(windows.items()):
        category, name = key.split("/")
        (target / "data" / category).mkdir(parents=True, exist_ok=True)
        for k in range(copies):
            new_name = name if k == 0 else name.replace(".csv", f"_x{k}.csv")
            src, dst = source / "data" / category / name, target / "data" / category / new_name
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)
            scaled[f"{category}/{new_name}"] = spans
    (target / "labels" / "combined_windows.json").write_text(json.dumps(scaled, indent=1))
    return target


def spec_for(data_dir, name):
    text = SPEC.read_text()
    text, count = re.subn(r'^path = ".*nab"$', f'path = "{data_dir}"', text, flags=re.M)
    if count != 1:
        raise SystemExit(f"{SPEC}: expected one `path = \"…nab\"` line in [[datasets]]")
    path = BASE / f"{name}.toml"
    path.write_text(text)
    return path


def time_v(cmd):
    """Runs cmd under /usr/bin/time -v; returns (wall s, user+sys s, peak RSS MiB)."""
    result = subprocess.run(["/usr/bin/time", "-v", *map(str, cmd)], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit(f"{' '.join(map(str, cmd))} exited with {result.returncode}")
    field = lambda label: re.search(rf"{re.escape(label)}: (.+)", result.stderr).group(1).strip()  # noqa: E731
    parts = [float(p) for p in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")]
    wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    return wall, cpu, int(field("Maximum resident set size (kbytes)")) / 1024.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", default="1x1,1x2,2x2,4x2")
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    parser.add_argument("--vigil", type=pathlib.Path, default=target / "release" / "vigil",
                        help="the vigil binary (default: the release build)")
    args = parser.parse_args()
    if not args.vigil.exists():
        raise SystemExit(f"no {args.vigil}: cargo build --release --workspace --bin vigil")
    BASE.mkdir(parents=True, exist_ok=True)
    rows = []
    for run in args.runs.split(","):
        copies, threads = (int(v) for v in run.split("x"))
        data = scaled_copy(copies)
        spec = spec_for(data, f"nab_{run}")
        db = BASE / f"{run}.db"
        db.unlink(missing_ok=True)
        before = os.getloadavg()[0]
        started = time.strftime("%H:%M:%S", time.gmtime())
        wall, cpu, mib = time_v([args.vigil, "run", spec, "--threads", threads, "--registry", f"sqlite://{db}",
                                 "--report", BASE / f"{run}.html"])
        rows.append((run, copies, threads, wall, cpu, mib, before, os.getloadavg()[0], started))
        print(f"... {run}: {wall:.1f} s wall", file=sys.stderr, flush=True)
    print(f"{os.cpu_count()} CPUs; vigil run experiments/specs/nab.toml (31 files x copies)")
    print("| run | copies | threads | wall s | CPU s (user+sys) | peak RSS MiB | load avg before / after | start UTC |")
    print("|---|---|---|---|---|---|---|---|")
    for run, copies, threads, wall, cpu, mib, before, after, started in rows:
        print(f"| {run} | {copies} | {threads} | {wall:.1f} | {cpu:.1f} | {mib:.0f} | {before:.1f} / {after:.1f} | {started} |")


if __name__ == "__main__":
    main()
