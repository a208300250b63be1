"""The package at another commit beside this tree's, in one process.

Run ``python bench/versions.py --base REF`` (for example the commit before
a refactoring), or, tiny, ``python bench/versions.py --base HEAD --quick``.
The package at REF is extracted with ``git archive`` into a temporary
directory as ``skweighting_base`` (its own imports are relative), so both
versions run in the same process, alternately, on the same data:

* speed: the whole ``fit`` and the whole ``predict`` (``predict_proba`` for
  a classifier) with modules that cost nothing (`speed.FreeProblem`), log
  pooling, the linear mixture and the regression with K outputs and with
  one, at n rows, M=10 and K=10, with the library's default threads: the
  median of the paired ratios (this tree over the base) and their range,
  and each version's median in floor passes (`speed.floors`);
* weights: the largest difference in ``attention_weights_`` on the first
  outer fold of real data sets, with the quality benchmark's modules
  (`_common.make_modules`) and a shuffled 5-fold cv, for the defaults,
  ``normaliser="sparsemax"`` and, for classifiers, ``combine="linear"``.

Prints both tables and writes them to ``--out`` (CSV).
"""

import argparse
import csv
import importlib
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from io import BytesIO
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench._common import make_modules  # noqa: E402
from bench._data import load_folds, task_of  # noqa: E402
from bench.speed import FreeProblem, floors, warm_memory  # noqa: E402

VERSIONS = ("base", "tree")
SPEED_CASES = [
    ("classification", "log", 10),
    ("classification", "linear", 10),
    ("regression", "regression", 10),
    ("regression", "regression", 1),
]
DATASETS = ["breast_cancer", "wine", "pima", "wdbc", "ionosphere", "diabetes"]


def base_package(ref, into):
    """Import the package at ``ref`` as ``skweighting_base`` from ``into``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "skweighting"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    # Our own archive: the "data" filter, where this Python has it, only
    # keeps the default safe.
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, **safe)
    (Path(into) / "skweighting").rename(Path(into) / "skweighting_base")
    for name in [m for m in sys.modules if m.split(".")[0] == "skweighting_base"]:
        del sys.modules[name]  # a base imported by an earlier call
    sys.path.insert(0, str(into))
    try:
        return importlib.import_module("skweighting_base")
    finally:
        sys.path.remove(str(into))


def _estimator(package, task, modules, cv, **params):
    if task == "classification":
        return package.SparseAttentionClassifier(modules, cv=cv, **params)
    return package.SparseAttentionRegressor(modules, cv=cv, **params)


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X, y)


def speed_rows(packages, n, fits, predicts):
    rows = []
    for kind, combination, K in SPEED_CASES:
        problem = FreeProblem(kind, n, 10, K)
        warm_memory(3 * problem.tensor_bytes)
        floor_s = floors(problem.tensor, problem.matrix)[0]
        params = {"n_jobs": 1, "random_state": 0}
        if kind == "classification":
            params["combine"] = combination
        times = {("fit", v): [] for v in VERSIONS}
        times.update({("predict", v): [] for v in VERSIONS})
        fitted = {}
        for _ in range(fits):
            for version in VERSIONS:
                est = _estimator(
                    packages[version], kind, problem.modules, KFold(5), **params
                )
                start = time.perf_counter()
                fitted[version] = _fit(est, problem.X, problem.y)
                times["fit", version].append(time.perf_counter() - start)
        for _ in range(predicts):
            for version in VERSIONS:
                est = fitted[version]
                method = est.predict_proba if kind == "classification" else est.predict
                start = time.perf_counter()
                method(problem.X)
                times["predict", version].append(time.perf_counter() - start)
        weights = [fitted[v].attention_weights_ for v in VERSIONS]
        for step in ("fit", "predict"):
            base, tree = (np.array(times[step, v]) for v in VERSIONS)
            ratios = tree / base
            rows.append(
                {
                    "case": f"{combination} K={K}",
                    "step": step,
                    "base_passes": float(np.median(base) / floor_s),
                    "tree_passes": float(np.median(tree) / floor_s),
                    "ratio": float(np.median(ratios)),
                    "ratio_min": float(ratios.min()),
                    "ratio_max": float(ratios.max()),
                    "max_weight_difference": float(
                        np.max(np.abs(np.subtract(*weights)))
                    ),
                }
            )
            print(_speed_line(rows[-1]), flush=True)
    return rows


def _speed_line(row):
    return (
        f"{row['case']:16s} {row['step']:8s} base {row['base_passes']:6.2f} "
        f"tree {row['tree_passes']:6.2f} floor passes; tree/base "
        f"{row['ratio']:.3f} ({row['ratio_min']:.2f}-{row['ratio_max']:.2f})"
    )


def weight_rows(packages, datasets, quick):
    rows = []
    for name in datasets:
        task = task_of(name)
        folds, info = load_folds(name, 1, max_train=300 if quick else 2000)
        X, y = folds[0][0], folds[0][1]
        splitter = StratifiedKFold if task == "classification" else KFold
        settings = [{}, {"normaliser": "sparsemax"}]
        if task == "classification":
            settings.append({"combine": "linear"})
        for params in settings:
            weights = []
            for version in VERSIONS:
                modules = make_modules(
                    task,
                    info["categorical"],
                    info["numeric"],
                    cached=False,
                    quick=quick,
                )
                cv = splitter(5, shuffle=True, random_state=0)
                est = _estimator(
                    packages[version], task, modules, cv, random_state=0, **params
                )
                weights.append(_fit(est, X, y).attention_weights_)
            rows.append(
                {
                    "case": f"{name} {params or 'defaults'}",
                    "step": "weights",
                    "max_weight_difference": float(
                        np.max(np.abs(np.subtract(*weights)))
                    ),
                }
            )
            print(
                f"{rows[-1]['case']:40s} max |w_tree - w_base| = "
                f"{rows[-1]['max_weight_difference']:.1e}",
                flush=True,
            )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="a git commit or branch")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--fits", type=int, default=4)
    parser.add_argument("--predicts", type=int, default=7)
    parser.add_argument("--datasets", nargs="*", default=DATASETS)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke)")
    parser.add_argument("--out", default=None, help="CSV of both tables")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.fits, args.predicts = 2_000, 1, 1
        args.datasets = args.datasets[:1]
    import skweighting

    with tempfile.TemporaryDirectory() as into:
        packages = {"base": base_package(args.base, into), "tree": skweighting}
        rows = speed_rows(packages, args.n, args.fits, args.predicts)
        rows += weight_rows(packages, args.datasets, args.quick)
    if args.out:
        fields = list(dict.fromkeys(key for row in rows for key in row))
        with open(args.out, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    return rows


if __name__ == "__main__":
    main()
