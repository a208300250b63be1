"""Why log pooling lost to the best single module on a few small data sets.

**Historical experiment.** It describes the package *before* commit bb068c2,
and its results (``bench/results/sharpness.md`` and the table in the "Why log
pooling loses" section of docs/benchmarks.md) were measured at commit 6835abd.
At that commit log pooling learned its output sharpness beta without any
penalty: when the pool's out-of-fold predictions were (nearly) separable, as
on wine, the out-of-fold log-loss kept falling as beta grew, so beta ran to
large values and one confident mistake on the test fold cost a lot. This
experiment led to the fixed penalty ``(SCALE_PENALTY / 2) * log(beta)^2``,
``SCALE_PENALTY = 1e-2``, that bb068c2 added to the package.

The script refits SparseAttentionClassifier(combine="log") on the same
cached module fits with variants of the sharpness handling, by swapping the
combination class the estimator uses (nothing in the package is changed):

* ``learned``: the package as it was at 6835abd (beta unpenalised);
* ``fixed``: beta = 1 (not learned);
* ``penalised(lam)``: ``(lam / 2) * log(beta)^2`` added to the objective.

On later commits the package's own penalty would be added to every variant,
so the labels would be wrong, and the internals it swaps have moved; the
script therefore refuses to run there. To reproduce the table, run it at the
commit that produced it (a few minutes on 2 cores)::

    git worktree add /tmp/skweighting-6835abd 6835abd
    cd /tmp/skweighting-6835abd && python bench/sharpness.py

The measurements that hold for the current package are the quality and
alpha sections of docs/benchmarks.md, rerun after bb068c2.
"""

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from bench._common import (  # noqa: E402
    RESULTS,
    clear_cache,
    machine_line,
    make_modules,
)
from bench._data import load_folds  # noqa: E402
from bench.caruana import log_loss_rows  # noqa: E402
from skweighting import SparseAttentionClassifier  # noqa: E402

# The commit that produced bench/results/sharpness.md.
MEASURED_AT = "6835abd"


def _unpenalised_package():
    """``(skweighting._base, LogPooling)`` of a package whose log pooling
    learns beta without a penalty; SystemExit on any later package."""
    try:
        import skweighting._attention as attention

        import skweighting._base as base
    except ImportError:
        attention = None
    if attention is None or hasattr(attention, "SCALE_PENALTY"):
        raise SystemExit(
            "bench/sharpness.py measures the package as it was before its "
            "log-pooling sharpness was penalised (before commit bb068c2); this "
            "package already penalises it. Run the script at commit "
            f"{MEASURED_AT} (see its docstring) to reproduce "
            "bench/results/sharpness.md."
        )
    return base, attention.LogPooling


DATASETS = ["breast_cancer", "wine", "pima", "digits", "vowel", "ionosphere", "letter"]


def variant(LogPooling, penalty=None, fixed=False):
    class Pooling(LogPooling):
        def loss_grad(self, weights, extra):
            if fixed:
                extra = np.zeros(1)
            loss, grad_w, grad_extra = super().loss_grad(weights, extra)
            if fixed:
                grad_extra = np.zeros(1)
            elif penalty:
                loss += 0.5 * penalty * extra[0] ** 2
                grad_extra = grad_extra + penalty * extra
            return loss, grad_w, grad_extra

        def take(self, rows):
            out = super().take(rows)
            out.__class__ = Pooling
            return out

    return Pooling


def variants(LogPooling):
    return {
        "learned": LogPooling,
        "fixed beta=1": variant(LogPooling, fixed=True),
        "penalised 1e-3": variant(LogPooling, penalty=1e-3),
        "penalised 1e-2": variant(LogPooling, penalty=1e-2),
        "penalised 1e-1": variant(LogPooling, penalty=1e-1),
    }


LABELS = [
    "learned",
    "fixed beta=1",
    "penalised 1e-3",
    "penalised 1e-2",
    "penalised 1e-1",
]


def run_fold(name, fold, n_folds, max_train):
    base, LogPooling = _unpenalised_package()
    out = []
    with threadpool_limits(1):
        folds, _ = load_folds(name, n_folds, max_train=max_train)
        X_train, y_train, X_test, y_test = folds[fold]
        clear_cache()
        modules = make_modules("classification")
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
        codes = np.searchsorted(np.unique(y_train), y_test)
        for label, pooling in variants(LogPooling).items():
            base.LogPooling = pooling
            try:
                est = SparseAttentionClassifier(modules, cv=cv, random_state=0)
                est.fit(X_train, y_train)
            finally:
                base.LogPooling = LogPooling
            # Only runs on packages before bb068c2, whose attribute for beta
            # was output_scale_ (sharpness_ came later).
            beta = est.output_scale_ if label != "fixed beta=1" else 1.0
            loss = log_loss_rows(est.predict_proba(X_test), codes)
            out.append((name, fold, label, loss, beta))
        clear_cache()
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--max-train", type=int, default=1500)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)
    _unpenalised_package()  # fail early, before any fit
    chunks = Parallel(n_jobs=args.n_jobs)(
        delayed(run_fold)(d, f, args.folds, args.max_train)
        for d in args.datasets
        for f in range(args.folds)
    )
    rows = [r for chunk in chunks for r in chunk]
    labels = LABELS
    lines = [
        "| data set | " + " | ".join(labels) + " |",
        "|---" * (len(labels) + 1) + "|",
    ]
    means = {label: [] for label in labels}
    for d in args.datasets:
        cells = []
        for label in labels:
            sel = [r for r in rows if r[0] == d and r[2] == label]
            loss = np.mean([r[3] for r in sel])
            beta = np.mean([r[4] for r in sel])
            means[label].append(loss)
            cells.append(f"{loss:.4f} (beta {beta:.2g})")
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    lines.append(
        "| **mean** | "
        + " | ".join(f"{np.mean(means[label]):.4f}" for label in labels)
        + " |"
    )
    text = "\n".join(lines)
    print(text)
    header = (
        "Historical: log pooling with an unpenalised sharpness beta (the "
        "package before commit bb068c2). Test log-loss, mean over "
        f"{args.folds} outer folds; mean beta in brackets. Machine: "
        f"{machine_line()}.\n\n"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sharpness.md").write_text(header + text + "\n")
    return text


if __name__ == "__main__":
    main()
