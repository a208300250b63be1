"""The demo's wall time, as a newcomer meets it: ``python -m skweighting``
run as a fresh process (interpreter start, imports, every fit and the
printed tables), on a quiet machine and with one CPU-bound process of
another program running beside it.

Runs alternate quiet / loaded so that a drift of the machine shows in both.
The interpreter is ``--python`` (give a fresh virtual environment's to
measure what a new user runs; installing is not timed).

    python bench/demo.py [--python /path/to/venv/bin/python] [--repeats 3]
    python bench/demo.py --report-only     # the section from the stored CSV

Writes bench/results/demo.csv and .json; the README's ``demo-time`` block
(docs/figures.py) is generated from them.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import RESULTS, _git_commit, cpu_model, machine  # noqa: E402

# A busy loop in another process: the load a shared machine puts on one core.
BUSY_LOOP = "while True: pass"


def _time_demo(python, dataset):
    start = time.perf_counter()
    subprocess.run(
        [python, "-m", "skweighting", "--dataset", dataset],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=os.path.expanduser("~"),  # the installed package, not this checkout
    )
    return time.perf_counter() - start


def measure(python, dataset, repeats):
    """Rows of (run, condition, seconds), alternating quiet and loaded."""
    rows = []
    for run in range(repeats):
        for condition in ("quiet", "loaded"):
            busy = None
            load = _other_runnable()
            if condition == "loaded":
                busy = subprocess.Popen([sys.executable, "-c", BUSY_LOOP])
            try:
                seconds = _time_demo(python, dataset)
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()
            rows.append(
                {"run": run, "condition": condition, "seconds": seconds, "load": load}
            )
            print(
                f"run {run}, {condition}: {seconds:.1f} s (load {load:.1f})", flush=True
            )
    return rows


def _other_runnable():
    """Processes ready to run right now, this one left out (the load
    average would still count the previous loaded run's busy loop)."""
    try:
        running = Path("/proc/loadavg").read_text().split()[3].split("/")[0]
        return max(int(running) - 1, 0)
    except (OSError, IndexError, ValueError):
        return float("nan")


def summary(rows):
    """``{condition: (median, min, max)}`` in seconds, and the most other
    processes seen ready to run as a quiet run started."""
    out = {}
    for condition in ("quiet", "loaded"):
        values = [float(r["seconds"]) for r in rows if r["condition"] == condition]
        out[condition] = (float(np.median(values)), min(values), max(values))
    quiet_load = max(float(r["load"]) for r in rows if r["condition"] == "quiet")
    return out, quiet_load


def read(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    meta = json.loads(path.with_suffix(".json").read_text())
    return rows, meta


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "demo.csv")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.report_only:
        rows = measure(args.python, args.dataset, args.repeats)
        with open(args.out, "w", newline="") as handle:
            writer = csv.DictWriter(handle, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        meta = {
            "commit": _git_commit(),
            "machine": machine(),
            "cpu": cpu_model(),
            "dataset": args.dataset,
            "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        }
        args.out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    rows, meta = read(args.out)
    times, quiet_load = summary(rows)
    print(f"most other processes ready to run at a quiet start: {quiet_load:g}")
    for condition, (median, low, high) in times.items():
        print(f"{condition}: median {median:.1f} s ({low:.1f}-{high:.1f})")


if __name__ == "__main__":
    main()
