"""Choosing the default ``alpha`` (the L2 strength on the attention logits).

Run ``python bench/alpha.py`` (~10 min on 2 cores) or, tiny,
``python bench/alpha.py --datasets breast_cancer --folds 1 --quick``.

On a few real classification data sets, for each outer fold, the modules are
fitted out-of-fold once (the fits are shared through the benchmark cache) and
SparseAttentionClassifier is refitted for

* alpha in {0, 1e-5, 1e-4, 1e-3, 1e-2} at temperature 1: the held-out
  log-loss, and how far the weights are from the unpenalised (alpha=0)
  optimum;
* temperature in {0.1, 0.3, 1, 3, 10} at the default alpha: the entropy of
  the weights (1 = uniform, 0 = one module) and the held-out log-loss.

Both combinations (log pooling and the linear mixture) are measured.
Writes bench/results/alpha.csv and the "Choosing the default alpha" section
of docs/benchmarks.md.
"""

import argparse
import csv
import sys
import time
import warnings
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from bench._common import (  # noqa: E402
    DOCS,
    RESULTS,
    clear_cache,
    machine_line,
    make_modules,
)
from bench._data import load_folds  # noqa: E402
from bench.caruana import log_loss_rows  # noqa: E402
from bench.quality import replace_section  # noqa: E402
from skweighting import SparseAttentionClassifier  # noqa: E402

ALPHAS = [0.0, 1e-5, 1e-4, 1e-3, 1e-2]
TEMPERATURES = [0.1, 0.3, 1.0, 3.0, 10.0]
DATASETS = ["breast_cancer", "wine", "digits", "pima", "vowel", "banana", "ionosphere"]
DEFAULT_ALPHA = SparseAttentionClassifier().alpha


def entropy(weights):
    """Entropy of the weights divided by log(M): 1 uniform, 0 one module."""
    w = np.asarray(weights)
    w = w[w > 0]
    return float(-(w @ np.log(w)) / np.log(len(weights)))


def run_fold(name, fold, n_folds, max_train, quick):
    rows = []
    folds, info = load_folds(name, n_folds, max_train=max_train)
    X_train, y_train, X_test, y_test = folds[fold]
    clear_cache()
    modules = make_modules("classification", quick=quick)
    cv = StratifiedKFold(3 if quick else 5, shuffle=True, random_state=0)
    codes = np.searchsorted(np.unique(y_train), y_test)
    settings = [("alpha", a, 1.0) for a in ALPHAS]
    settings += [("temperature", DEFAULT_ALPHA, t) for t in TEMPERATURES]
    for combine in ("log", "linear"):
        reference = None
        for sweep, alpha, temperature in settings:
            est = SparseAttentionClassifier(
                modules,
                combine=combine,
                alpha=alpha,
                temperature=temperature,
                cv=cv,
                random_state=0,
            )
            start = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                est.fit(X_train, y_train)
            seconds = time.perf_counter() - start
            weights = est.attention_weights_
            if sweep == "alpha" and alpha == 0.0:
                reference = weights
            rows.append(
                {
                    "dataset": name,
                    "fold": fold,
                    "combine": combine,
                    "sweep": sweep,
                    "alpha": alpha,
                    "temperature": temperature,
                    "test_log_loss": log_loss_rows(est.predict_proba(X_test), codes),
                    "entropy": entropy(weights),
                    "max_weight": float(weights.max()),
                    "distance_to_alpha0": float(np.abs(weights - reference).sum()),
                    "n_iter": est.n_iter_,
                    "converged": not any(
                        issubclass(w.category, ConvergenceWarning) for w in caught
                    ),
                    "seconds": seconds,
                }
            )
    clear_cache()
    return rows


def report(rows, settings):
    datasets = [d for d in DATASETS if any(r["dataset"] == d for r in rows)]
    parts = [f"Machine: {machine_line()}.", "", f"Settings: {settings}.", ""]

    def mean(sel, key):
        return float(np.mean([r[key] for r in sel])) if sel else np.nan

    for combine in ("log", "linear"):
        lines = [
            "| alpha | " + " | ".join(datasets) + " | mean | L1 distance of the "
            "weights to alpha=0 (mean) | not converged |",
            "|---" * (len(datasets) + 4) + "|",
        ]
        for alpha in ALPHAS:
            sel = [
                r
                for r in rows
                if r["combine"] == combine
                and r["sweep"] == "alpha"
                and r["alpha"] == alpha
            ]
            cells = [
                f"{mean([r for r in sel if r['dataset'] == d], 'test_log_loss'):.4f}"
                for d in datasets
            ]
            per_ds = [
                mean([r for r in sel if r["dataset"] == d], "test_log_loss")
                for d in datasets
            ]
            lines.append(
                f"| {alpha:g} | " + " | ".join(cells) + f" | {np.mean(per_ds):.4f} | "
                f"{mean(sel, 'distance_to_alpha0'):.3f} | "
                f"{sum(not r['converged'] for r in sel)} of {len(sel)} |"
            )
        parts += [
            f"### combine='{combine}': held-out log-loss against alpha "
            "(temperature 1, mean over outer folds)",
            "",
            "\n".join(lines),
            "",
        ]
        lines = [
            "| temperature | weight entropy (mean) | largest weight (mean) | "
            + " | ".join(datasets)
            + " | mean log-loss |",
            "|---" * (len(datasets) + 4) + "|",
        ]
        for t in TEMPERATURES:
            sel = [
                r
                for r in rows
                if r["combine"] == combine
                and r["sweep"] == "temperature"
                and r["temperature"] == t
            ]
            per_ds = [
                mean([r for r in sel if r["dataset"] == d], "test_log_loss")
                for d in datasets
            ]
            lines.append(
                f"| {t:g} | {mean(sel, 'entropy'):.3f} | {mean(sel, 'max_weight'):.3f} "
                "| "
                + " | ".join(f"{v:.4f}" for v in per_ds)
                + f" | {np.mean(per_ds):.4f} |"
            )
        parts += [
            f"### combine='{combine}': temperature at alpha={DEFAULT_ALPHA:g} "
            "(entropy / log M: 1 = uniform weights, 0 = one module)",
            "",
            "\n".join(lines),
            "",
        ]
    return "\n".join(parts)


def _read(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key in (
            "alpha",
            "temperature",
            "test_log_loss",
            "entropy",
            "max_weight",
            "distance_to_alpha0",
            "seconds",
        ):
            row[key] = float(row[key])
        row["fold"] = int(row["fold"])
        row["converged"] = row["converged"] == "True"
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--max-train", type=int, default=1500)
    parser.add_argument("--quick", action="store_true", help="smoke-test settings")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "alpha.csv")
    parser.add_argument("--docs", type=Path, default=DOCS / "benchmarks.md")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the report from an existing --out CSV, fitting nothing",
    )
    args = parser.parse_args(argv)
    if args.report_only:
        rows = _read(args.out)
        meta = args.out.with_suffix(".txt")
        text = report(rows, meta.read_text().strip() if meta.exists() else "")
        print(text)
        if not args.no_docs:
            replace_section(args.docs, "alpha", text)
        return {"rows": rows, "text": text}
    start = time.perf_counter()
    jobs = [(d, f) for d in args.datasets for f in range(args.folds)]
    results = Parallel(n_jobs=args.n_jobs)(
        delayed(run_fold)(d, f, args.folds, args.max_train, args.quick) for d, f in jobs
    )
    rows = [row for chunk in results for row in chunk]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    settings = (
        f"the seven benchmark modules, {args.folds} outer folds per data set "
        f"(training folds capped at {args.max_train} rows), inner cv 5-fold; "
        f"wall time {(time.perf_counter() - start) / 60:.1f} min"
        + ("; QUICK smoke settings" if args.quick else "")
    )
    args.out.with_suffix(".txt").write_text(settings + "\n")
    text = report(rows, settings)
    print(text)
    if not args.no_docs:
        replace_section(args.docs, "alpha", text)
    return {"rows": rows, "text": text}


if __name__ == "__main__":
    main()
