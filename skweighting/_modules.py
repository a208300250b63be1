"""Calling the modules: fitting them, getting their outputs, checking those.

Everything here runs inside the joblib workers or at predict time, one
module at a time. A failure names the module that caused it.
"""

import pickle
from time import perf_counter

import numpy as np
from sklearn.utils import _safe_indexing

from ._kernels import one_blas_thread


def describe(name, estimator):
    return f"module {name!r} ({type(estimator).__name__})"


def named_error(exc, name, estimator, action):
    """The same kind of exception, with a message naming the failing module."""
    message = f"{describe(name, estimator)} failed to {action}: {exc}"
    try:
        error = type(exc)(message)
    except Exception:  # exception types with unusual constructors
        error = RuntimeError(message)
    return error


def _fit_pickled(estimator, X, y, fit_params):
    # What a `memory` caches for a module fitted on all rows: the module,
    # pickled here, because joblib's own loader unpickles in pure Python
    # (seconds for a forest of a few hundred trees) where ``pickle.loads``
    # takes milliseconds. Keyed by the unfitted module's parameters, the
    # rows and the fit parameters.
    estimator.fit(X, y, **fit_params)
    return pickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL)


def fit_module(estimator, name, X, y, fit_params, memory=None, *, where=None):
    """Fit one module; returns the module itself, not what its ``fit``
    returns (a ``fit`` that forgets ``return self`` still works, as in
    ``VotingClassifier``). With a `joblib.Memory`, a module already fitted on
    the same rows with the same parameters is loaded instead. ``where``
    (e.g. ``"fold 2 of 5"``) is named in the error of a failing fit."""
    try:
        if memory is None:
            estimator.fit(X, y, **fit_params)
            return estimator
        return pickle.loads(memory.cache(_fit_pickled)(estimator, X, y, fit_params))
    except Exception as exc:
        action = "fit" if where is None else f"fit on {where}"
        raise named_error(exc, name, estimator, action) from exc


def call_module(estimator, name, X, method, *, where=None):
    """``estimator.<method>(X)`` as a float array; errors name the module
    (and ``where``, e.g. ``"fold 2 of 5"``)."""
    if not hasattr(estimator, method):
        raise ValueError(
            f"{describe(name, estimator)} has no {method} after fitting, which "
            "the ensemble combines. "
            + (
                "Use a classifier with predict_proba: for example wrap it in "
                "sklearn.calibration.CalibratedClassifierCV, or set "
                "probability=True for SVC."
                if method == "predict_proba"
                else f"Use an estimator with {method}."
            )
        )
    try:
        output = getattr(estimator, method)(X)
    except Exception as exc:
        action = method if where is None else f"{method} on {where}"
        raise named_error(exc, name, estimator, action) from exc
    return np.asarray(output, dtype=np.float64)


def check_probability_shape(output, name, estimator, n_classes):
    """Raise unless ``output`` is (n_samples, n_classes)."""
    if output.ndim != 2 or output.shape[1] != n_classes:
        raise ValueError(
            f"{describe(name, estimator)} returned predict_proba of shape "
            f"{output.shape}, but it has {n_classes} classes_. Only "
            "single-output classifiers can be combined."
        )


def check_probabilities(output, name, estimator, n_classes, *, check_rows=True):
    """Raise unless ``output`` is (n_samples, n_classes) probabilities;
    returns whether some entry is (slightly, within the tolerance) negative.

    Two reductions: the smallest entry and the row sums (a BLAS product,
    on one thread: see `one_blas_thread`). Entries >= 0 with rows summing
    to one are probabilities (none can exceed one); NaN propagates into the
    minimum, and an infinite entry into its row sum, so these two also
    catch non-finite outputs. With ``check_rows=False`` only the smallest
    entry is checked (NaN and -inf are still caught), for a caller that
    checks the rows of a positive mixture of the outputs instead.
    """
    check_probability_shape(output, name, estimator, n_classes)
    if output.size == 0:
        return False
    smallest = float(output.min())
    sums = row_sums(output) if check_rows else np.ones(1)
    # Written so that NaN, which fails every comparison, fails the check.
    if not (smallest >= -1e-6 and rows_sum_to_one(sums)):
        module = describe(name, estimator)
        if not (np.isfinite(smallest) and all_finite(sums)):
            raise non_finite_predictions(module, method="predict_proba")
        raise ValueError(
            f"{module} returned predict_proba values that are not "
            "probabilities (each row must lie in [0, 1] and sum to 1). Fix "
            "the module, calibrate it, or drop it."
        )
    return smallest < 0.0


def row_sums(output):
    """The row sums of a 2-D ``output``: a BLAS product on one thread (see
    `one_blas_thread`), faster than NumPy's sum over short rows."""
    with one_blas_thread():
        return output @ np.ones(output.shape[1])


def rows_sum_to_one(sums):
    """Whether every one of ``sums`` (row sums of probabilities, not
    empty) is one, within the tolerance of a module's probabilities (False
    for NaN)."""
    return bool(sums.min() >= 1 - 1e-4 and sums.max() <= 1 + 1e-4)


def check_predictions(output, name, estimator, n_outputs):
    """Raise unless ``output`` holds ``n_outputs`` finite predictions per row;
    returns it as (n_samples, n_outputs)."""
    if not all_finite(output):
        raise non_finite_predictions(describe(name, estimator))
    return check_prediction_shape(output, name, estimator, n_outputs)


def check_prediction_shape(output, name, estimator, n_outputs):
    """`check_predictions` without the values' check; returns ``output`` as
    (n_samples, n_outputs)."""
    output = output.reshape(output.shape[0], -1)
    if output.shape[1] != n_outputs:
        raise ValueError(
            f"{describe(name, estimator)} predicted {output.shape[1]} outputs "
            f"for a y with {n_outputs}."
        )
    return output


def all_finite(values):
    """Whether every entry of ``values`` is finite: one reduction, unless
    the sum is not finite (NaN and infinities propagate into it; a sum of
    finite values can still overflow, then every entry is checked)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(values)):
            return True
    return bool(np.all(np.isfinite(values)))


def non_finite_predictions(module, method=None, alternative=None):
    """The error for outputs of ``module`` (`describe`) that are not all
    finite (``method``: the one named in the message; ``alternative``:
    another cause that cannot be told apart)."""
    called = f" ({method})" if method else ""
    also = f", {alternative}" if alternative else ""
    return ValueError(
        f"{module} returned NaN or infinite outputs{called}{also}. Check this "
        "module (for example its input preprocessing) or drop it."
    )


def class_columns(module_classes, name, estimator, classes):
    """Where each of ``module_classes`` (a fitted module's ``classes_``) sits
    in ``classes``.

    Columns are matched by label, never by position: a module fitted on a fold
    that misses a class, or one that orders its classes differently, still
    lands in the right columns.
    """
    module_classes = np.asarray(module_classes)
    columns = np.searchsorted(classes, module_classes)
    columns = np.clip(columns, 0, len(classes) - 1)
    unknown = classes[columns] != module_classes
    if np.any(unknown):
        raise ValueError(
            f"{describe(name, estimator)} predicts classes "
            f"{module_classes[unknown].tolist()} that are not in y "
            f"{classes.tolist()}. Prefit modules must use the labels of y."
        )
    return columns


# Rows of the small call that measures a module's cost per call (the
# part of a predict call that does not grow with the rows).
CALL_ROWS = 8
# Rows of the call that measures a module's predict cost, the seconds of a
# call predicting this many rows.
COST_ROWS = 1000


def _fit_call(estimator, name, fold, fit_params, method, where=None):
    """Fit one module on a fold's training rows and call ``method`` on its
    held-out rows (``fold`` is ``(X_train, y_train, X_test, X_cost)``): the
    raw output, the classes the module learned (None for a regressor) and
    the seconds spent fitting, predicting the held-out rows, and then in
    calls of their own predicting the first `CALL_ROWS` rows of ``X_cost``
    and all of them (`COST_ROWS`, `~skweighting._folds.cost_rows`).

    The cost is timed in calls of its own, not read off the held-out call:
    that call is the first after fitting, slowed by what a first call pays
    once (memory the module's arrays touch for the first time), and a
    fold's few hundred rows leave the part that grows with the rows hard to
    tell from a call's own part. The two sizes give both parts of a call.
    """
    X_train, y_train, X_test, X_cost = fold
    start = perf_counter()
    estimator = fit_module(estimator, name, X_train, y_train, fit_params, where=where)
    fitted = perf_counter()
    output = call_module(estimator, name, X_test, method, where=where)
    seconds = [fitted - start, perf_counter() - fitted]
    for rows in (_safe_indexing(X_cost, np.arange(CALL_ROWS)), X_cost):
        before = perf_counter()
        call_module(estimator, name, rows, method, where=where)
        seconds.append(perf_counter() - before)
    classes = getattr(estimator, "classes_", None)
    return output, classes, tuple(seconds)


def fit_predict_fold(estimator, name, fold, fit_params, reader, *, memory, where):
    """Fit one module on the training rows of a fold (``fold`` is
    ``(X_train, y_train, X_test, X_cost)``); return its outputs on the
    held-out rows, checked by ``reader.check`` (a combination; a
    regressor's values are checked by the store) and laid out as
    ``reader.read`` lays them out, with the seconds spent fitting,
    predicting and on the two timing calls (`_fit_call`). Errors name the
    module and ``where`` (e.g. ``"fold 2 of 5"``).

    A fold's module serves only its held-out outputs, so a `joblib.Memory`
    caches those (keyed by the unfitted module, the fold's rows and the fit
    parameters), not the module: a cache hit neither loads the module nor
    calls it. The seconds are then those measured when the fold was cached.
    The checks run on every call, cached or not.
    """
    fit_call = (
        _fit_call
        if memory is None
        else memory.cache(_fit_call, ignore=["name", "where"])
    )
    output, classes, seconds = fit_call(
        estimator, name, tuple(fold), fit_params, reader.method, where
    )
    return reader.check(output, name, estimator, classes), seconds


class ModuleFailure:
    """A module's failure, returned instead of raised where failures are
    tolerated (``error_score=np.nan``): ``error`` is the exception, whose
    message names the module and where it failed."""

    def __init__(self, error):
        self.error = error


def tolerating(function, *args, **kwargs):
    """``function(*args, **kwargs)``, or a `ModuleFailure` if it raises."""
    try:
        return function(*args, **kwargs)
    except Exception as exc:
        return ModuleFailure(exc)
