"""Speed and memory benchmark.

Run ``python bench/speed.py`` (full, ~15 min on 2 cores) or, tiny,
``python bench/speed.py --quick``. Parts (``--parts``):

* ``weights``: the weight-learning step alone,
  ``skweighting._solvers.learn_attention`` on synthetic out-of-fold
  module outputs, against n (1e3..1e6), M (2..50) and K (2..100). Time and
  peak memory are given as ratios to (a) the floor, one vectorised pass over
  the n x M x K tensor (``np.tensordot(w, tensor, 1)``), and (b) the
  LogisticRegression meta-step StackingClassifier fits on the same
  out-of-fold outputs.
* ``memory``: peak memory of the 1e6 x M=10 x K=10 log-pooling step, in
  units of the tensor (the tensor must not be copied more than once).
* ``end_to_end``: SparseAttentionClassifier.fit against StackingClassifier
  with the same modules and the same cv, at n_jobs=1 and n_jobs=2.
* ``grid``: GridSearchCV over 5 temperatures against one plain fit.

Writes bench/results/speed_*.csv and the speed section of docs/benchmarks.md.
"""

import argparse
import csv
import gc
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.ensemble import StackingClassifier  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from bench._common import DOCS, RESULTS, machine_line, make_modules  # noqa: E402
from bench.quality import replace_section  # noqa: E402
from skweighting import SparseAttentionClassifier  # noqa: E402
from skweighting._losses import (  # noqa: E402
    LogPoolLoss,
    MixtureLoss,
    clipped_log,
)
from skweighting._solvers import learn_attention  # noqa: E402

ALPHA = 1e-4


# --------------------------------------------------------------------------
# Synthetic out-of-fold outputs
# --------------------------------------------------------------------------
def synthetic_outputs(n, M, K, seed=0, dtype=np.float64):
    """Class probabilities of M modules of graded quality, shape (M, n, K),
    and the labels. Module m sees the true class with signal 0.3 + 2 m / M
    plus Gaussian noise, half of it shared by all modules (modules make
    correlated mistakes, so the pool never becomes separable); the rows of
    each module sum to one."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    shared = rng.standard_normal((n, K), dtype=np.float32)
    proba = np.empty((M, n, K), dtype=dtype)
    for m in range(M):
        scores = rng.standard_normal((n, K), dtype=np.float32)
        scores += shared
        scores *= np.float32(np.sqrt(0.5))
        scores = scores.astype(dtype)
        scores[np.arange(n), y] += 0.3 + 2.0 * m / M
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        proba[m] = scores
    return proba, y


def _best_time(fn, repeat):
    best = np.inf
    result = None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _peak(fn):
    """Peak traced memory (bytes) allocated while running ``fn``."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base


def stacking_features(proba):
    """What StackingClassifier feeds its final estimator: each module's
    predict_proba side by side, dropping the first column when K == 2."""
    M, n, K = proba.shape
    if K == 2:
        return np.ascontiguousarray(proba[:, :, 1].T)
    return np.ascontiguousarray(proba.transpose(1, 0, 2).reshape(n, M * K))


def weights_case(n, M, K, *, repeat, stacking_max_cells, with_memory):
    proba, y = synthetic_outputs(n, M, K)
    log_proba = clipped_log(proba.copy())
    proba_true = np.ascontiguousarray(proba[:, np.arange(n), y].T)
    w = np.full(M, 1.0 / M)
    floor, _ = _best_time(lambda: np.tensordot(w, log_proba, 1), max(repeat, 3))
    matrix_floor, _ = _best_time(lambda: proba_true @ w, max(repeat, 3))
    tensor_bytes = log_proba.nbytes
    row = {"n": n, "M": M, "K": K, "floor_s": floor, "matrix_floor_s": matrix_floor}

    def fit_log():
        return learn_attention(
            LogPoolLoss(log_proba, y), temperature=1.0, alpha=ALPHA, random_state=0
        )

    def fit_linear():
        return learn_attention(
            MixtureLoss(proba_true), temperature=1.0, alpha=ALPHA, random_state=0
        )

    row["log_s"], fit = _best_time(fit_log, repeat)
    row["log_iter"] = fit.n_iter
    row["linear_s"], fit = _best_time(fit_linear, repeat)
    row["linear_iter"] = fit.n_iter
    # LogisticRegression's cost per iteration grows as n * (M * K) * K; the
    # target case (n=1e6, M=10, K=10) is always run.
    if n * M * K * K <= stacking_max_cells or (n, M, K) == (1_000_000, 10, 10):
        features = stacking_features(proba)

        def meta():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                return LogisticRegression().fit(features, y)

        row["stacking_meta_s"], _ = _best_time(meta, 1)
        del features
    else:
        row["stacking_meta_s"] = np.nan
    if with_memory:
        row["log_peak_tensors"] = _peak(fit_log) / tensor_bytes
        row["linear_peak_tensors"] = _peak(fit_linear) / tensor_bytes
    else:
        row["log_peak_tensors"] = row["linear_peak_tensors"] = np.nan
    return row


def weight_grid(quick):
    if quick:
        return [(1000, 3, 3), (2000, 3, 3), (1000, 5, 2)]
    cases = [(n, 10, 10) for n in (1_000, 10_000, 100_000, 1_000_000)]
    cases += [(100_000, M, 10) for M in (2, 5, 20, 50)]
    cases += [(100_000, 10, K) for K in (2, 5, 20, 50, 100)]
    return cases


def run_weights(quick):
    # Single-threaded, like the end-to-end parts: the step is memory-bound,
    # and multi-threaded BLAS inflates every timing when the cores are
    # shared with other jobs (LogisticRegression most of all).
    with threadpool_limits(1):
        return _run_weights(quick)


def _run_weights(quick):
    rows = []
    for n, M, K in weight_grid(quick):
        start = time.perf_counter()
        row = weights_case(
            n,
            M,
            K,
            repeat=1 if (quick or n * M * K >= 1e8) else 3,
            stacking_max_cells=1e6 if quick else 2.5e8,
            with_memory=n * M * K <= 1e8,
        )
        print(
            f"weights n={n} M={M} K={K}: log {row['log_s']:.3f}s, linear "
            f"{row['linear_s']:.3f}s, floor {row['floor_s']:.4f}s, stacking "
            f"{row['stacking_meta_s']:.3f}s ({time.perf_counter() - start:.0f}s)",
            flush=True,
        )
        rows.append(row)
    return rows


# --------------------------------------------------------------------------
# Memory of the 1e6 x 10 x 10 log-pooling case
# --------------------------------------------------------------------------
def run_memory(quick):
    with threadpool_limits(1):
        return _run_memory(quick)


def _run_memory(quick):
    n, M, K = (5_000, 4, 3) if quick else (1_000_000, 10, 10)
    proba, y = synthetic_outputs(n, M, K)
    rows = []
    for dtype in (np.float64, np.float32):
        log_proba = clipped_log(proba.astype(dtype))
        tensor = log_proba.nbytes

        def fit(log_proba=log_proba):
            return learn_attention(
                LogPoolLoss(log_proba, y), temperature=1.0, alpha=ALPHA, random_state=0
            )

        peak = _peak(fit)
        seconds, result = _best_time(fit, 1)
        w = np.full(M, 1.0 / M, dtype=dtype)
        floor, _ = _best_time(lambda w=w, t=log_proba: np.tensordot(w, t, 1), 3)
        rows.append(
            {
                "n": n,
                "M": M,
                "K": K,
                "dtype": np.dtype(dtype).name,
                "tensor_MB": tensor / 1e6,
                "peak_extra_MB": peak / 1e6,
                "peak_extra_tensors": peak / tensor,
                "seconds": seconds,
                "floor_passes": seconds / floor,
                "n_iter": result.n_iter,
            }
        )
        print(f"memory {rows[-1]}", flush=True)
        del log_proba
        gc.collect()
    return rows


def run_fit_memory(quick):
    """Peak memory of a whole SparseAttentionClassifier(combine="log").fit at
    the size of the memory target (n=1e6, M=10, K=10), with ten cheap modules
    (Gaussian naive Bayes with different smoothing), in units of the n x M x K
    float64 tensor."""
    from sklearn.naive_bayes import GaussianNB

    n, M, K = (5_000, 4, 3) if quick else (1_000_000, 10, 10)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 5))
    y = np.argmax(X @ rng.standard_normal((5, K)) + rng.standard_normal((n, K)), 1)
    modules = [
        (f"nb{m}", GaussianNB(var_smoothing=10.0 ** -(m % 9 + 1))) for m in range(M)
    ]
    tensor = n * M * K * 8
    rows = []
    for cv in (5,):
        est = SparseAttentionClassifier(modules, cv=cv, random_state=0)
        with threadpool_limits(1):
            peak = _peak(lambda est=est: est.fit(X, y))
            seconds, _ = _best_time(lambda est=est: est.fit(X, y), 1)
        rows.append(
            {
                "n": n,
                "M": M,
                "K": K,
                "cv": cv,
                "tensor_MB": tensor / 1e6,
                "X_MB": X.nbytes / 1e6,
                "peak_MB": peak / 1e6,
                "peak_tensors": peak / tensor,
                "fit_seconds": seconds,
            }
        )
        print(f"fit_memory {rows[-1]}", flush=True)
    return rows


# --------------------------------------------------------------------------
# End to end
# --------------------------------------------------------------------------
def _data(n_samples, quick):
    return make_classification(
        n_samples=n_samples,
        n_features=20,
        n_informative=10,
        n_classes=3,
        random_state=0,
    )


def _modules(quick):
    modules = make_modules("classification", cached=False, quick=quick)
    if quick:  # three fast modules keep the smoke test short
        modules = [m for m in modules if m[0] in ("logistic", "naive_bayes", "tree")]
    return modules


def run_end_to_end(quick, repeat):
    # Each process gets one BLAS/OpenMP thread (loky workers get the same by
    # default), so n_jobs is the only parallelism and a busy machine does
    # not make multi-threaded modules spin.
    with threadpool_limits(1):
        return _run_end_to_end(quick, repeat)


def _run_end_to_end(quick, repeat):
    n = 300 if quick else 5_000
    X, y = _data(n, quick)
    modules = _modules(quick)
    cv = StratifiedKFold(3 if quick else 5, shuffle=True, random_state=0)
    rows = []
    for n_jobs in (1, 2):
        estimators = {
            "stacking": StackingClassifier(modules, cv=cv, n_jobs=n_jobs),
            "attention_log": SparseAttentionClassifier(
                modules, cv=cv, n_jobs=n_jobs, random_state=0
            ),
            "attention_linear": SparseAttentionClassifier(
                modules, cv=cv, n_jobs=n_jobs, random_state=0, combine="linear"
            ),
        }
        for name, est in estimators.items():
            seconds, _ = _best_time(lambda est=est: est.fit(X, y), repeat)
            rows.append({"n": n, "n_jobs": n_jobs, "method": name, "seconds": seconds})
            print(f"end_to_end {rows[-1]}", flush=True)
    return rows


def run_grid(quick, repeat):
    with threadpool_limits(1):
        return _run_grid(quick, repeat)


def _run_grid(quick, repeat):
    n = 200 if quick else 2_000
    X, y = _data(n, quick)
    modules = _modules(quick)
    cv = 2 if quick else 5
    plain = SparseAttentionClassifier(modules, cv=cv, random_state=0)
    grid = GridSearchCV(
        SparseAttentionClassifier(modules, cv=cv, random_state=0),
        {"temperature": [0.1, 0.3, 1.0, 3.0, 10.0]},
        cv=2 if quick else 3,
        scoring="neg_log_loss",
    )
    rows = []
    for name, est in (("plain fit", plain), ("GridSearchCV, 5 T x 3 folds", grid)):
        seconds, _ = _best_time(lambda est=est: est.fit(X, y), repeat)
        rows.append({"n": n, "what": name, "seconds": seconds})
        print(f"grid {rows[-1]}", flush=True)
    return rows


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------
def _fmt(value, spec):
    return "-" if value is None or np.isnan(value) else format(value, spec)


def report(results):
    parts = [f"Machine: {machine_line()}.", ""]
    if "weights" in results:
        lines = [
            "| n | M | K | floor pass (s) | log pooling (s) | iters | x floor "
            "| linear (s) | iters | x floor | stacking meta-step (s) | stacking "
            "/ log | stacking / linear | peak mem log (tensors) | peak mem "
            "linear (tensors) |",
            "|---" * 15 + "|",
        ]
        for r in results["weights"]:
            lines.append(
                f"| {r['n']:.0e} | {r['M']} | {r['K']} | {r['floor_s']:.4f} | "
                f"{r['log_s']:.3f} | {r['log_iter']} | "
                f"{r['log_s'] / r['floor_s']:.1f} | {r['linear_s']:.3f} | "
                f"{r['linear_iter']} | {r['linear_s'] / r['floor_s']:.1f} | "
                f"{_fmt(r['stacking_meta_s'], '.2f')} | "
                f"{_fmt(r['stacking_meta_s'] / r['log_s'], '.1f')} | "
                f"{_fmt(r['stacking_meta_s'] / r['linear_s'], '.1f')} | "
                f"{_fmt(r['log_peak_tensors'], '.3f')} | "
                f"{_fmt(r['linear_peak_tensors'], '.3f')} |"
            )
        parts += [
            "### Weight learning alone (learn_attention, lbfgs, alpha=1e-4, T=1)",
            "",
            "Single-threaded (one BLAS thread for every step, floor included). "
            "Synthetic out-of-fold outputs of M modules of graded quality with "
            "correlated errors (`synthetic_outputs`).",
            "",
            "Floor: one `np.tensordot(w, tensor, 1)` over the float64 n x M x K "
            "tensor of log-probabilities. Stacking meta-step: the default "
            "`LogisticRegression()` StackingClassifier fits on the same "
            "out-of-fold probabilities (n x M*K features, n x M when K = 2); "
            "'-' where it was not run (too large). Peak memory: the most "
            "memory allocated at once during the step (tracemalloc), in units "
            "of the n x M x K float64 tensor.",
            "",
            "\n".join(lines),
            "",
        ]
    if "memory" in results:
        lines = [
            "| n | M | K | dtype | tensor (MB) | peak extra (MB) | peak extra "
            "(tensors) | time (s) | floor passes | iterations |",
            "|---" * 10 + "|",
        ]
        for r in results["memory"]:
            lines.append(
                f"| {r['n']:.0e} | {r['M']} | {r['K']} | {r['dtype']} | "
                f"{r['tensor_MB']:.0f} | {r['peak_extra_MB']:.1f} | "
                f"{r['peak_extra_tensors']:.3f} | {r['seconds']:.2f} | "
                f"{r['floor_passes']:.1f} | {r['n_iter']} |"
            )
        parts += [
            "### Peak memory of log pooling at the largest size (target: the n x M x K "
            "tensor copied at most once)",
            "",
            "\n".join(lines),
            "",
        ]
    if "fit_memory" in results:
        lines = [
            "| n | M | K | cv | tensor (MB) | X (MB) | peak during fit (MB) | "
            "peak (tensors) | fit time (s) |",
            "|---" * 9 + "|",
        ]
        for r in results["fit_memory"]:
            lines.append(
                f"| {r['n']:.0e} | {r['M']} | {r['K']} | {r['cv']} | "
                f"{r['tensor_MB']:.0f} | {r['X_MB']:.0f} | {r['peak_MB']:.0f} | "
                f"{r['peak_tensors']:.2f} | {r['fit_seconds']:.1f} |"
            )
        parts += [
            "### Peak memory of a whole fit at the largest size (target: the n x M x K "
            "tensor copied at most once)",
            "",
            "`SparseAttentionClassifier(combine='log')` with ten Gaussian naive "
            "Bayes modules (cheap, so that the ensemble's own arrays dominate); "
            "peak traced memory allocated during `fit`, X excluded.",
            "",
            "\n".join(lines),
            "",
        ]
    if "end_to_end" in results:
        rows = results["end_to_end"]
        stack = {r["n_jobs"]: r["seconds"] for r in rows if r["method"] == "stacking"}
        lines = [
            "| method | n_jobs=1 (s) | vs stacking | n_jobs=2 (s) | vs stacking |",
            "|---|---|---|---|---|",
        ]
        for name in ("stacking", "attention_log", "attention_linear"):
            t = {r["n_jobs"]: r["seconds"] for r in rows if r["method"] == name}
            lines.append(
                f"| {name} | {t[1]:.2f} | {t[1] / stack[1]:.2f}x | {t[2]:.2f} | "
                f"{t[2] / stack[2]:.2f}x |"
            )
        parts += [
            f"### End-to-end fit, n={rows[0]['n']} (make_classification, 20 "
            "features, 3 classes), the seven benchmark modules, the same "
            "5-fold cv",
            "",
            "Best of 2 fits. Every process has one BLAS/OpenMP thread, so "
            "n_jobs is the only parallelism (joblib's workers get the same).",
            "",
            "\n".join(lines),
            "",
        ]
    if "grid" in results:
        rows = results["grid"]
        lines = ["| what | time (s) | x plain fit |", "|---|---|---|"]
        for r in rows:
            lines.append(
                f"| {r['what']} | {r['seconds']:.1f} | "
                f"{r['seconds'] / rows[0]['seconds']:.1f} |"
            )
        parts += [
            f"### GridSearchCV over 5 temperatures, n={rows[0]['n']}",
            "",
            "\n".join(lines),
            "",
        ]
    return "\n".join(parts)


def _write_csv(path, rows):
    if not rows:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _read_csv(path):
    def value(text):
        for cast in (int, float):
            try:
                return cast(text)
            except ValueError:
                pass
        return text

    with open(path, newline="") as handle:
        return [{k: value(v) for k, v in row.items()} for row in csv.DictReader(handle)]


PARTS = ("weights", "memory", "fit_memory", "end_to_end", "grid")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke)")
    parser.add_argument("--repeat", type=int, default=2, help="end-to-end repeats")
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    parser.add_argument("--docs", type=Path, default=DOCS / "benchmarks.md")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the report from the CSVs in --out-dir, measuring nothing",
    )
    args = parser.parse_args(argv)
    if args.report_only:
        results = {}
        for part in args.parts:
            path = args.out_dir / f"speed_{part}.csv"
            if path.exists():
                results[part] = _read_csv(path)
        text = report(results)
        print(text)
        if not args.no_docs:
            replace_section(args.docs, "speed", text)
        return {"results": results, "text": text}
    runners = {
        "weights": lambda: run_weights(args.quick),
        "memory": lambda: run_memory(args.quick),
        "fit_memory": lambda: run_fit_memory(args.quick),
        "end_to_end": lambda: run_end_to_end(
            args.quick, 1 if args.quick else args.repeat
        ),
        "grid": lambda: run_grid(args.quick, 1),
    }
    results = {}
    for part in args.parts:
        results[part] = runners[part]()
        _write_csv(args.out_dir / f"speed_{part}.csv", results[part])
    text = report(results)
    print(text)
    if not args.no_docs:
        replace_section(args.docs, "speed", text)
    return {"results": results, "text": text}


if __name__ == "__main__":
    main()
