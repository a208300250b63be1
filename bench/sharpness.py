"""Why log pooling loses to the best single module on a few small data sets.

Profiling experiment behind the "2% of the best module" target in
docs/benchmarks.md. Log pooling learns an output sharpness beta that the L2
penalty does not touch. When the out-of-fold predictions of the pool are
(nearly) separable, as on wine or breast_cancer, the out-of-fold log-loss
keeps falling as beta grows, so beta runs to large values and one confident
mistake on the test fold costs a lot.

This script refits SparseAttentionClassifier(combine="log") on the same
cached module fits with variants of the sharpness handling, by swapping the
combination class the estimator uses (nothing in the package is changed):

* ``learned``: the package as it is;
* ``fixed``: beta = 1 (not learned);
* ``penalised(lam)``: ``(lam / 2) * log(beta)^2`` added to the objective.

Run ``python bench/sharpness.py`` (a few minutes).
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

import skweighting._base as base  # noqa: E402
from bench._common import RESULTS, clear_cache, load_folds, make_modules  # noqa: E402
from bench.caruana import log_loss_rows  # noqa: E402
from skweighting import SparseAttentionClassifier  # noqa: E402
from skweighting._attention import LogPooling  # noqa: E402

DATASETS = ["breast_cancer", "wine", "pima", "digits", "vowel", "ionosphere", "letter"]


def variant(penalty=None, fixed=False):
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


VARIANTS = {
    "learned": LogPooling,
    "fixed beta=1": variant(fixed=True),
    "penalised 1e-3": variant(penalty=1e-3),
    "penalised 1e-2": variant(penalty=1e-2),
    "penalised 1e-1": variant(penalty=1e-1),
}


def run_fold(name, fold, n_folds, max_train):
    out = []
    with threadpool_limits(1):
        folds, _ = load_folds(name, n_folds, max_train=max_train)
        X_train, y_train, X_test, y_test = folds[fold]
        clear_cache()
        modules = make_modules("classification")
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
        codes = np.searchsorted(np.unique(y_train), y_test)
        for label, pooling in VARIANTS.items():
            base.LogPooling = pooling
            try:
                est = SparseAttentionClassifier(modules, cv=cv, random_state=0)
                est.fit(X_train, y_train)
            finally:
                base.LogPooling = LogPooling
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
    chunks = Parallel(n_jobs=args.n_jobs)(
        delayed(run_fold)(d, f, args.folds, args.max_train)
        for d in args.datasets
        for f in range(args.folds)
    )
    rows = [r for chunk in chunks for r in chunk]
    labels = list(VARIANTS)
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
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sharpness.md").write_text(text + "\n")
    return text


if __name__ == "__main__":
    main()
