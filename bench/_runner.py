"""Running methods over outer folds: fit, score, describe, and write the rows
to a CSV that a later run can resume.

A job is one outer fold of one data set. In the job every method is the real
estimator, fitted on the outer training fold with the same modules and the
same inner splitter; module fits on identical rows are shared through the
cache of bench/_common.py, and each method is charged the stored time of
every fit it reused, so its fit time is that of an uncached run.
"""

import csv
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold

from bench._common import charged_seconds, clear_cache
from bench._methods import BestSingle
from bench.caruana import _CaruanaBase, log_loss_rows

FIELDS = [
    "dataset",
    "task",
    "fold",
    "kind",
    "method",
    "log_loss",
    "accuracy",
    "rmse",
    "r2",
    "fit_time",
    "predict_time",
    "n_nonzero",
    "n_modules",
    "n_train",
    "n_test",
    "details",
]
NUMERIC_FIELDS = (
    "log_loss",
    "accuracy",
    "rmse",
    "r2",
    "fit_time",
    "predict_time",
    "n_nonzero",
    "n_modules",
)
# The loss each task is ranked by.
LOSS = {"classification": "log_loss", "regression": "rmse"}


def inner_splitter(task, n_splits, random_state=0):
    """The shuffled (stratified) splitter every method gets as ``cv``."""
    if task == "classification":
        return StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    return KFold(n_splits, shuffle=True, random_state=random_state)


def run_fold(fold_data, task, modules, methods, base, *, predict_repeats=1):
    """Fit and score every method of ``methods`` ({name: unfitted estimator})
    and every module alone on one outer fold; the rows, each ``base`` plus
    the scores."""
    X_train, y_train, X_test, y_test = fold_data
    classes = np.unique(y_train) if task == "classification" else None
    base = {**base, "task": task, "n_train": len(y_train), "n_test": len(y_test)}
    rows = []
    clear_cache()
    try:
        for method, est in methods.items():
            charged = charged_seconds()
            start = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                est.fit(X_train, y_train)
            fit_time = time.perf_counter() - start + charged_seconds() - charged
            output, predict_time = _predict(est, X_test, task, classes, predict_repeats)
            details = describe(method, est)
            n_warn = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
            if n_warn and method.startswith("attention"):
                details += f"; {n_warn} ConvergenceWarning(s)"
            rows.append(
                {
                    **base,
                    "kind": "method",
                    "method": method,
                    **scores(task, y_test, output, classes),
                    "fit_time": fit_time,
                    "predict_time": predict_time,
                    "n_nonzero": n_nonzero(est, len(modules)),
                    "n_modules": len(modules),
                    "details": details,
                }
            )
        # Each module alone, refitted on the whole training fold (cached).
        for name, module in modules:
            charged = charged_seconds()
            start = time.perf_counter()
            fitted = clone(module).fit(X_train, y_train)
            fit_time = time.perf_counter() - start + charged_seconds() - charged
            output, predict_time = _predict(
                fitted, X_test, task, classes, predict_repeats
            )
            rows.append(
                {
                    **base,
                    "kind": "module",
                    "method": name,
                    **scores(task, y_test, output, classes),
                    "fit_time": fit_time,
                    "predict_time": predict_time,
                    "n_nonzero": 1,
                    "n_modules": len(modules),
                    "details": "",
                }
            )
    finally:
        clear_cache()
    return rows


def _predict(est, X, task, classes, repeats, statistic=min):
    """Test-fold output and ``statistic`` (the fastest, by default) of
    ``repeats`` timed calls."""
    call = est.predict_proba if task == "classification" else est.predict
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        output = call(X)
        times.append(time.perf_counter() - start)
    if task == "classification":
        output = align(output, est.classes_, classes)
    return output, float(statistic(times))


def align(proba, est_classes, classes):
    """Probability columns in the order of ``classes`` (by label)."""
    out = np.zeros((proba.shape[0], len(classes)))
    out[:, np.searchsorted(classes, est_classes)] = proba
    return out


def scores(task, y_test, output, classes=None):
    if task == "classification":
        codes = np.searchsorted(classes, y_test)
        proba = np.asarray(output, dtype=np.float64)
        assert proba.shape[1] == len(classes)
        return {
            "log_loss": log_loss_rows(proba, codes),
            "accuracy": float(np.mean(np.argmax(proba, axis=1) == codes)),
        }
    pred = np.asarray(output, dtype=np.float64).ravel()
    mse = float(np.mean((pred - y_test) ** 2))
    return {
        "rmse": float(np.sqrt(mse)),
        "r2": 1.0 - mse / float(np.mean((y_test - np.mean(y_test)) ** 2)),
    }


def describe(method, est):
    """A short description of what a fitted method chose."""
    inner = est.best_estimator_ if isinstance(est, GridSearchCV) else est
    names = [name for name, _ in getattr(inner, "estimators", [])]
    parts = []
    if isinstance(est, GridSearchCV):
        parts.append(f"T={est.best_params_['temperature']:g}")
    if getattr(inner, "single_module_", None) is not None:  # a module alone
        parts.append(f"module alone: {inner.single_module_}")
    elif hasattr(inner, "temperatures_"):  # the CV estimators
        path = inner.temperatures_
        step = int(np.argmin(np.abs(np.log(path / inner.temperature_)))) + 1
        parts += [
            f"combine={inner.combine_}",
            f"normaliser={inner.normaliser_}",
            f"T={inner.temperature_:.4g}",
            f"step {step} of {len(path)} on path {path[0]:.3g}-{path[-1]:.3g}",
        ]
    if hasattr(inner, "attention_weights_"):
        weights = inner.attention_weights_
    elif hasattr(inner, "weights_") and method == "caruana":
        weights = inner.weights_
    elif hasattr(inner, "best_name_"):
        return f"chose {inner.best_name_}"
    else:
        return ""
    if hasattr(inner, "sharpness_"):
        parts.append(f"beta={inner.sharpness_:.3g}")
    parts.append(" ".join(f"{n}={w:.3f}" for n, w in zip(names, weights)))
    return "; ".join(parts)


def n_nonzero(est, n_modules):
    """How many modules the fitted method calls at predict time."""
    inner = est.best_estimator_ if isinstance(est, GridSearchCV) else est
    if hasattr(inner, "n_nonzero_"):
        return int(inner.n_nonzero_)
    if isinstance(inner, _CaruanaBase):
        # distinct selected modules: only these are refitted and called
        return int(np.count_nonzero(inner.weights_))
    if isinstance(inner, BestSingle):
        return 1
    return n_modules  # voting, stacking: every module


# --------------------------------------------------------------------------
# Jobs and the CSV
# --------------------------------------------------------------------------
def run_jobs(jobs, work, out, *, n_jobs=2, append=False, log=print):
    """Run ``work(*args)`` for each ``(label, args)`` of ``jobs`` with joblib,
    writing every job's rows to the CSV ``out`` as soon as the job is done
    (appended when ``append``, so an interrupted run loses only the jobs in
    flight). Returns the rows written."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    append = append and out.exists() and out.stat().st_size > 0
    written, start = [], time.perf_counter()
    with open(out, "a" if append else "w", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        if not append:
            writer.writeheader()
        labels = [label for label, _ in jobs]
        results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(_labelled)(label, work, args) for label, args in jobs
        )
        for done, (label, rows) in enumerate(results, 1):
            for row in rows:
                writer.writerow({k: row.get(k, "") for k in FIELDS})
            handle.flush()
            written.extend(rows)
            log(
                f"[{time.perf_counter() - start:7.1f}s] {label} done "
                f"({done}/{len(labels)})"
            )
    return written


def _labelled(label, work, args):
    return label, work(*args)


def read_rows(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key in NUMERIC_FIELDS:
            value = row.get(key)
            row[key] = float(value) if value not in ("", None) else np.nan
        row["fold"] = int(row["fold"])
    return rows
