"""Speed and memory benchmark.

Run ``python bench/speed.py`` (the full run, about an hour on 2 shared
cores) or, tiny, ``python bench/speed.py --quick``. ``--part NAME``
(repeatable; ``--parts A B`` also works) runs parts alone:

* ``whole-fit``: what a user pays for a whole ``fit`` when the modules cost
  nothing. Free modules (`FreeClassifier`, `FreeRegressor`) only set
  ``classes_`` in ``fit`` and gather rows of a precomputed table in
  ``predict_proba`` / ``predict`` (X is the column of row indices), so all
  that is left is the ensemble's own work. Every combination (log pooling,
  linear mixture, regression) and normaliser, ``cv=KFold(5)``, n_jobs=1, at
  n=1e6, M=10, K=10 and one size varied at a time around it. Times are in
  floor passes (below); each fit is also profiled by phase (module calls,
  fold slicing, output checks, store writes, combination build, weight step,
  refits, other) by wrapping the package's functions with timers, and its
  peak memory is traced (tracemalloc) in units of the n x M x K tensor.
* ``predict``: ``predict_proba`` (log, linear) and the regressor's
  ``predict`` at n=1e6, M=10, K=10, the same way: floor passes beyond the
  modules' own work (the gather), by phase.
* ``end-to-end``: ``SparseAttentionClassifier.fit`` against
  ``StackingClassifier`` with the same real modules and the same cv;
  alternating runs, the median and spread of the per-round ratios, at
  n_jobs=1 and n_jobs=2, including ``normaliser='sparsemax'``, which prunes.
* ``weights``: the weight-learning step alone against n, M and K, and
  against the LogisticRegression meta-step of StackingClassifier.
* ``memory``: peak memory of the log-pooling weight step, float64 and
  float32.
* ``grid``: tuning the temperature: SparseAttentionClassifierCV and
  GridSearchCV over 5 temperatures (without and with ``memory``) against
  one plain fit.

The floor is one vectorised pass over the n x M x K float64 tensor of module
outputs, ``np.tensordot(w, tensor, 1)`` (the same pass as
``np.einsum("mnk,m->nk")``; for a regressor K is the number of outputs),
measured in the same process on the same data, best of several, with the
default threads and with one BLAS thread (`floor_seconds`). The
``matrix floor`` is one pass ``matrix @ w`` over an n x M matrix (the size
of the linear mixture's store: each module's probability of the true
class). Nothing in this script limits threads: every figure is what a plain
process pays with the library's own thread settings (the package itself runs
its weight step and predict's combination on one BLAS thread).

Writes bench/results/speed_*.csv (plus speed_meta.csv: commit, CPU, load)
and the speed section of docs/benchmarks.md.
"""

import argparse
import csv
import datetime
import gc
import os
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections import defaultdict
from pathlib import Path

if __package__ in (None, ""):
    # After PYTHONPATH, before the installed packages: a skweighting given on
    # PYTHONPATH (say, an export of a commit) comes before the repository's
    # own, and the repository's before a copy installed in site-packages.
    _installed = [
        i
        for i, p in enumerate(sys.path)
        if p.endswith(("site-packages", "dist-packages"))
    ]
    sys.path.insert(
        _installed[0] if _installed else len(sys.path),
        str(Path(__file__).resolve().parents[1]),
    )

import numpy as np  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.ensemble import StackingClassifier  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    KFold,
    StratifiedKFold,
)

from bench._common import (  # noqa: E402
    DOCS,
    RESULTS,
    cpu_model,
    machine_line,
    make_modules,
)
from bench.quality import replace_section  # noqa: E402
from skweighting import (  # noqa: E402
    SparseAttentionClassifier,
    SparseAttentionRegressor,
)
from skweighting._combinations._common import clipped_log  # noqa: E402
from skweighting._combinations.log_pool import LogPoolLoss  # noqa: E402
from skweighting._combinations.mixture import MixtureLoss  # noqa: E402
from skweighting._kernels import one_blas_thread  # noqa: E402
from skweighting._normalisers import NORMALISERS as _NORMALISER_OBJECTS  # noqa: E402
from skweighting._objective import Objective  # noqa: E402
from skweighting._solvers import learn_attention as _learn  # noqa: E402


def learn_attention(loss, *, temperature, alpha, normaliser="softmax", **options):
    """The package's weight step on ``loss``, by normaliser name."""
    objective = Objective(
        loss, _NORMALISER_OBJECTS[normaliser], alpha=alpha, temperature=temperature
    )
    return _learn(objective, **options)


ALPHA = 1e-4
NORMALISERS = ("softmax", "sparsemax", "entmax15")
COMBINATIONS = ("log", "linear", "regression")
TARGET = (1_000_000, 10, 10)
QUICK_TARGET = (3_000, 3, 3)
# The targets, in floor passes (whole fit, predict beyond the modules' own
# work) and in tensors (peak memory of a whole fit).
FIT_TARGET = {"log": 25, "linear": 10, "regression": 10}
PREDICT_TARGET = {"log": 6, "linear": 3, "regression": 3}
PEAK_TARGET = 1.2


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


def synthetic_predictions(n, M, n_outputs=1, seed=0):
    """Predictions of M regressors of graded quality, shape (M, n) (or
    (M, n, n_outputs)), and y: module m errs by Gaussian noise of scale
    1 - 0.8 m / M, half of it shared by all modules."""
    rng = np.random.default_rng(seed)
    shape = (n,) if n_outputs == 1 else (n, n_outputs)
    y = rng.standard_normal(shape)
    shared = rng.standard_normal(shape)
    predictions = np.empty((M, *shape))
    for m in range(M):
        noise = rng.standard_normal(shape)
        noise += shared
        noise *= np.sqrt(0.5) * (1.0 - 0.8 * m / M)
        predictions[m] = y + noise
    return predictions, y


# --------------------------------------------------------------------------
# Modules that cost nothing
# --------------------------------------------------------------------------
class Shared:
    """A table handed to a free module by reference. ``clone`` deep-copies
    the parameters of an estimator; copying the table for every fold would
    be work no real module makes the ensemble do."""

    def __init__(self, array):
        self.array = array

    def __deepcopy__(self, memo):
        return self

    def __repr__(self):
        return f"Shared(array of shape {self.array.shape})"


def _gather(table, X):
    """The rows ``X[:, 0]`` of ``table``. ``np.take`` rather than indexing
    with the array, NumPy's faster gather, so the modules' own share of a
    fit is what a row gather costs, not NumPy's general indexing."""
    return np.take(table, X[:, 0].astype(np.intp), axis=0)


class FreeClassifier(ClassifierMixin, BaseEstimator):
    """``fit`` only sets ``classes_``; ``predict_proba(X)`` is the rows
    ``X[:, 0]`` of ``table`` (``Shared``, shape (n, K))."""

    def __init__(self, table=None, classes=None):
        self.table = table
        self.classes = classes

    def fit(self, X, y, sample_weight=None):
        self.classes_ = self.classes.array
        return self

    def predict_proba(self, X):
        return _gather(self.table.array, X)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class FreeRegressor(RegressorMixin, BaseEstimator):
    """``fit`` does nothing; ``predict(X)`` is the rows ``X[:, 0]`` of
    ``table`` (``Shared``, shape (n,) or (n, n_outputs))."""

    def __init__(self, table=None):
        self.table = table

    def fit(self, X, y, sample_weight=None):
        self.fitted_ = True
        return self

    def predict(self, X):
        return _gather(self.table.array, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class FreeProblem:
    """Free modules over synthetic outputs, the data that selects their
    rows, and the arrays the floors are measured on.

    ``tensor`` (M, n, K) holds the modules' tables (each module's table is
    a view of it, so nothing is held twice); ``matrix`` is the (n, M)
    matrix of the linear mixture (each module's probability of the true
    class) or of the regression (its predictions).
    """

    def __init__(self, kind, n, M, K, seed=0):
        self.kind, self.n, self.M, self.K = kind, n, M, K
        self.X = np.arange(n, dtype=np.float64).reshape(-1, 1)
        if kind == "classification":
            self.tensor, self.y = synthetic_outputs(n, M, K, seed)
            classes = Shared(np.arange(K))
            self.modules = [
                (f"m{m}", FreeClassifier(Shared(self.tensor[m]), classes))
                for m in range(M)
            ]
            self.matrix = np.ascontiguousarray(self.tensor[:, np.arange(n), self.y].T)
        else:
            self.tensor, self.y = synthetic_predictions(n, M, K)
            self.modules = [
                (f"m{m}", FreeRegressor(Shared(self.tensor[m]))) for m in range(M)
            ]
            self.matrix = np.ascontiguousarray(self.tensor.reshape(M, -1).T)
        self.tensor_bytes = self.tensor.nbytes

    def estimator(self, combination, normaliser):
        common = {
            "normaliser": normaliser,
            "cv": KFold(5),
            "n_jobs": 1,
            "random_state": 0,
        }
        if combination == "regression":
            return SparseAttentionRegressor(self.modules, **common)
        return SparseAttentionClassifier(self.modules, combine=combination, **common)


def warm_memory(nbytes):
    """Touch ``nbytes`` of fresh memory once, and free it.

    On the benchmark machine (a virtual machine) the first touch of memory
    the guest has not used lately costs up to ~7 us per 4 kB page (an 800 MB
    array took 6 s to fill, then 0.3 s on reuse), so whichever run first
    grows the process pays seconds that are no part of the ensemble's work.
    """
    if nbytes > 0:
        np.ones(int(nbytes) // 8)


def floors(tensor, matrix, repeat=7):
    """Seconds of one pass over the (M, n, K) tensor and over the (n, M)
    matrix (`floor_seconds`)."""
    M = tensor.shape[0]
    w = np.full(M, 1.0 / M)
    tensor_s = floor_seconds(lambda: np.tensordot(w, tensor, 1), repeat)
    matrix_s = floor_seconds(lambda: matrix @ w, repeat)
    return tensor_s, matrix_s


def floor_seconds(fn, repeat):
    """The fastest of ``repeat`` runs of the pass ``fn`` with the default
    threads and as many on one BLAS thread (the package's `one_blas_thread`).
    The floor is a unit, not a cost a user pays: on a busy machine a
    multi-threaded pass over a small array waits for its threads, and a
    slower floor would make every figure divided by it look smaller."""
    best, _ = _best_time(fn, repeat)
    with one_blas_thread():
        single, _ = _best_time(fn, repeat)
    return min(best, single)


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


# --------------------------------------------------------------------------
# Where the time goes: timers wrapped around the package's functions
# --------------------------------------------------------------------------
class Profiler:
    """Exclusive seconds (and calls) per label, from timing wrappers
    monkeypatched onto the package's functions and methods for the duration
    of a ``with`` block.

    A wrapper's exclusive time is its own time minus that of the wrapped
    calls it makes, so the labels add up to the outermost call (``run``).
    Functions are patched where they are looked up: ``_combinations``
    imports ``check_probabilities`` from ``_modules`` into its own
    namespace, ``_base`` imports ``learn_attention``, and so on.

    With ``memory=True`` the block also traces memory, and each label gets
    the peak (bytes above the start) reached while it was the innermost
    running label.
    """

    def __init__(self, n_samples=None, memory=False):
        self.n_samples = n_samples
        self.memory = memory
        self.seconds = defaultdict(float)
        self.calls = defaultdict(int)
        self.peaks = defaultdict(int)
        self._children = []
        self._labels = []
        self._patches = []
        self._base = 0

    def _segment(self):
        peak = tracemalloc.get_traced_memory()[1] - self._base
        label = self._labels[-1] if self._labels else "other"
        self.peaks[label] = max(self.peaks[label], peak)
        tracemalloc.reset_peak()

    def wrap(self, label, function):
        def wrapper(*args, **kwargs):
            name = label(*args) if callable(label) else label
            if self.memory:
                self._segment()
            self._labels.append(name)
            self._children.append(0.0)
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                if self.memory:
                    self._segment()
                self._labels.pop()
                children = self._children.pop()
                self.seconds[name] += elapsed - children
                self.calls[name] += 1
                if self._children:
                    self._children[-1] += elapsed

        wrapper.__wrapped__ = function
        wrapper.__name__ = getattr(function, "__name__", "wrapper")
        wrapper.__doc__ = getattr(function, "__doc__", None)
        return wrapper

    def run(self, label, fn, *args):
        return self.wrap(label, fn)(*args)

    def _loss_label(self, loss, *args, **kwargs):
        full = loss.n_samples == self.n_samples
        return "loss_grad full" if full else "loss_grad subsample"

    def _targets(self):
        from skweighting import (
            _base,
            _fixed,
            _modules,
            _out_of_fold,
            _path,
            _prediction,
            _tasks,
            _validation,
        )
        from skweighting._combinations import _probabilities, average, log_pool, mixture

        targets = [
            (_out_of_fold, "clone", "clone"),
            (_base, "check_splits", "check_splits"),
            (_base, "seed_modules", "seed_modules"),
            (_validation, "validate_data", "validate_data"),
            (_out_of_fold, "fit_predict_fold", "fit_predict_fold"),
            (_out_of_fold, "fold_data", "fold slicing"),
            (_out_of_fold, "fold_params", "fold slicing"),
            (_out_of_fold, "fit_module", "refit"),
            (_fixed, "learn_attention", "learn_attention"),
            (_path, "learn_attention", "learn_attention"),
            (_prediction._Prediction, "_check_X", "check_X"),
            (_tasks.Classification, "encode", "prepare_targets"),
            (_tasks.Regression, "encode", "prepare_targets"),
            (_modules, "fit_module", "fold fit_module"),
            (_probabilities, "call_module", "call_module"),
            (average, "call_module", "call_module"),
            (_probabilities, "check_probabilities", "check_probabilities"),
            (average, "check_predictions", "check_predictions"),
            (_probabilities, "class_columns", "class_columns"),
            (_probabilities.ClassProbabilities, "read", "read"),
            (average.Average, "read", "read"),
            (_probabilities.ClassProbabilities, "module_scores", "module_scores"),
            (average.Average, "module_scores", "module_scores"),
        ]
        for cls in (log_pool.LogPooling, mixture.LinearMixture, average.Average):
            for method in ("allocate", "write", "loss", "combine"):
                targets.append((cls, method, method))
        # A block's own work beside its modules' reads (the linear mixture
        # folds its outputs in there, not in ``combine``) is combining too.
        for cls in (
            _probabilities.ClassProbabilities,
            mixture.LinearMixture,
            average.Average,
        ):
            targets.append((cls, "predict_block", "combine"))
        for cls in (log_pool.LogPoolLoss, mixture.MixtureLoss, average.QuadraticLoss):
            targets.append((cls, "loss_grad", self._loss_label))
            targets.append((cls, "take", "take"))
        targets += [
            (FreeClassifier, "fit", "module fit"),
            (FreeClassifier, "predict_proba", "module predict"),
            (FreeRegressor, "fit", "module fit"),
            (FreeRegressor, "predict", "module predict"),
        ]
        return targets

    def __enter__(self):
        for owner, name, label in self._targets():
            # A class's own attribute, never an inherited one, so that
            # restoring it leaves the class as it was.
            original = vars(owner)[name]
            self._patches.append((owner, name, original))
            setattr(owner, name, self.wrap(label, original))
        if self.memory:
            gc.collect()
            tracemalloc.start()
            tracemalloc.reset_peak()
            self._base = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc):
        if self.memory:
            self._segment()
            tracemalloc.stop()
        for owner, name, original in reversed(self._patches):
            setattr(owner, name, original)
        self._patches.clear()
        return False

    @property
    def total(self):
        return sum(self.seconds.values())

    @property
    def peak(self):
        return max(self.peaks.values(), default=0)


FIT_PHASES = {
    "module calls": ("module fit", "module predict"),
    "fold slicing": ("fold slicing",),
    "output checks": (
        "read",
        "call_module",
        "check_probabilities",
        "check_predictions",
        "class_columns",
    ),
    "store writes": ("write",),
    "combination build": ("loss",),
    "weight step": (
        "learn_attention",
        "loss_grad full",
        "loss_grad subsample",
        "take",
    ),
    "refits": ("refit",),
}
PREDICT_PHASES = {
    "module calls": ("module predict",),
    "output checks": FIT_PHASES["output checks"],
    "combine": ("combine",),
}
# Labels of "other" worth their own column in the CSV.
OTHER_LABELS = (
    "prepare_targets",
    "clone",
    "check_splits",
    "seed_modules",
    "validate_data",
    "allocate",
    "module_scores",
    "fit_predict_fold",
    "fold fit_module",
    "check_X",
    "fit",
    "predict",
)


def _slug(text):
    return text.replace(" ", "_")


def phase_seconds(profiler, phases):
    """Seconds per phase; ``other`` is the rest of the profiled call."""
    out = {}
    for phase, labels in phases.items():
        out[phase] = sum(profiler.seconds.get(label, 0.0) for label in labels)
    out["other"] = profiler.total - sum(out.values())
    return out


def phase_peaks(profiler, phases):
    """The peak (bytes) reached in each phase; ``other`` for the rest."""
    out = {}
    named = set()
    for phase, labels in phases.items():
        out[phase] = max((profiler.peaks.get(label, 0) for label in labels), default=0)
        named.update(labels)
    out["other"] = max(
        (v for k, v in profiler.peaks.items() if k not in named), default=0
    )
    return out


# --------------------------------------------------------------------------
# Whole fit with free modules
# --------------------------------------------------------------------------
def whole_fit_cases(quick):
    """(n, M, K) of the classifiers; the regressors run at the same n and M
    with one output (their tensor is n x M), and at the target also with K
    outputs."""
    if quick:
        return [QUICK_TARGET, (1_000, 3, 3)]
    n0, M0, K0 = TARGET
    cases = [(n, M0, K0) for n in (10_000, 100_000, n0)]
    cases += [(n0, M, K0) for M in (2, 50)]
    cases += [(n0, M0, 2)]
    # n=1e6, K=100 would be an 8 GB tensor (and as much again in the
    # modules' tables): K=100 is measured at n=1e5.
    cases += [(100_000, M0, 100)]
    return cases


def _fit_repeat(n, M, K, quick):
    if quick:
        return 1
    cells = n * M * K
    return 5 if cells <= 1e8 else 1


def _problems(n, M, K, target, quick):
    """The problems of one case: (kind, outputs, combinations)."""
    yield "classification", K, ("log", "linear")
    if target[2] == K or (quick and (n, M, K) == target):
        yield "regression", 1, ("regression",)
        if (n, M, K) == target:
            yield "regression", K, ("regression",)


def _refloor(rows, problem, floor_s):
    """Measure the floors again after the runs, so that a busy spell at the
    start does not inflate them (the best of all their runs counts), and
    express ``rows`` in them."""
    again = floors(problem.tensor, problem.matrix)
    floor_s = (min(floor_s[0], again[0]), min(floor_s[1], again[1]))
    for r in rows:
        r["floor_s"], r["matrix_floor_s"] = floor_s
        r["floor_passes"] = r["seconds"] / floor_s[0]
        r["matrix_floor_passes"] = r["seconds"] / floor_s[1]
        r["beyond_modules_passes"] = (r["seconds"] - r["modules_own_s"]) / floor_s[0]
        # The spread of the plain runs, in the same units as their median.
        for end in ("min", "max"):
            seconds = r[f"seconds_{end}"]
            r[f"floor_passes_{end}"] = seconds / floor_s[0]
            r[f"beyond_modules_passes_{end}"] = (
                seconds - r["modules_own_s"]
            ) / floor_s[0]
    return floor_s


def _timed_and_profiled(label, call, n_samples, repeat):
    """``repeat`` plain runs of ``call`` alternating with as many profiled
    ones (so a busy spell hits both alike), then one run tracing memory:
    ``(seconds of the plain runs, fastest Profiler, tracing Profiler)``."""
    plain = []
    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(repeat):
            gc.collect()
            start = time.perf_counter()
            call()
            plain.append(time.perf_counter() - start)
            gc.collect()
            with Profiler(n_samples) as profiler:
                profiler.run(label, call)
            if best is None or profiler.total < best.total:
                best = profiler
        gc.collect()
        with Profiler(n_samples, memory=True) as traced:
            traced.run(label, call)
    return plain, best, traced


def measure_fit(problem, combination, normaliser, *, repeat, floor_s):
    """Time, profile and trace one whole fit."""
    est = problem.estimator(combination, normaliser)
    runs, best, traced = _timed_and_profiled(
        "fit", lambda: est.fit(problem.X, problem.y), problem.n, repeat
    )
    plain = float(np.median(runs))
    tensor = problem.tensor_bytes
    row = {
        "n": problem.n,
        "M": problem.M,
        "K": problem.K,
        "combination": combination,
        "normaliser": normaliser,
        "n_nonzero": est.n_nonzero_,
        "n_iter": est.n_iter_,
        "seconds": plain,
        "seconds_min": min(runs),
        "seconds_max": max(runs),
        "runs": len(runs),
        "profiled_seconds": best.total,
        "floor_s": floor_s[0],
        "matrix_floor_s": floor_s[1],
        "floor_passes": plain / floor_s[0],
        "matrix_floor_passes": plain / floor_s[1],
        "tensor_MB": tensor / 1e6,
    }
    phases = phase_seconds(best, FIT_PHASES)
    row["modules_own_s"] = phases["module calls"]
    row["beyond_modules_passes"] = (plain - phases["module calls"]) / floor_s[0]
    for phase, seconds in phases.items():
        row[f"{_slug(phase)}_s"] = seconds
    for label in OTHER_LABELS:
        row[f"other_{_slug(label)}_s"] = best.seconds.get(label, 0.0)
    for label in ("loss_grad full", "loss_grad subsample", "take"):
        row[f"{_slug(label)}_s"] = best.seconds.get(label, 0.0)
        row[f"{_slug(label)}_calls"] = best.calls.get(label, 0)
    row["peak_tensors"] = traced.peak / tensor
    peaks = phase_peaks(traced, FIT_PHASES)
    row["peak_phase"] = max(peaks, key=peaks.get)
    for phase, peak in peaks.items():
        row[f"peak_{_slug(phase)}_tensors"] = peak / tensor
    return row


def run_whole_fit(quick):
    target = QUICK_TARGET if quick else TARGET
    rows = []
    for n, M, K in whole_fit_cases(quick):
        repeat = _fit_repeat(n, M, K, quick)
        for kind, outputs, combinations in _problems(n, M, K, target, quick):
            start = time.perf_counter()
            problem = FreeProblem(kind, n, M, outputs)
            warm_memory(2 * problem.tensor_bytes)
            floor_s = floors(problem.tensor, problem.matrix)
            case_rows = []
            for combination in combinations:
                for normaliser in NORMALISERS:
                    case_rows.append(
                        measure_fit(
                            problem,
                            combination,
                            normaliser,
                            repeat=repeat,
                            floor_s=floor_s,
                        )
                    )
                    r = case_rows[-1]
                    print(
                        f"whole_fit n={n} M={M} K={outputs} {combination} "
                        f"{normaliser}: {r['seconds']:.3f}s = "
                        f"{r['floor_passes']:.1f} floor passes, peak "
                        f"{r.get('peak_tensors', np.nan):.2f} tensors, "
                        f"n_nonzero {r['n_nonzero']}",
                        flush=True,
                    )
            # The floor again after the fits, so a busy spell at the start
            # does not inflate it: the best of all its runs counts.
            floor_s = _refloor(case_rows, problem, floor_s)
            rows += case_rows
            print(
                f"whole_fit n={n} M={M} K={outputs} ({kind}): floor "
                f"{floor_s[0]:.4f}s, matrix floor {floor_s[1]:.4f}s "
                f"({time.perf_counter() - start:.0f}s)",
                flush=True,
            )
            del problem
            gc.collect()
    return rows


# --------------------------------------------------------------------------
# Predict
# --------------------------------------------------------------------------
def measure_predict(problem, combination, normaliser, *, repeat, floor_s):
    """Time, profile and trace ``predict_proba`` (``predict`` for a
    regressor) on the n rows, after one fit."""
    est = problem.estimator(combination, normaliser)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(problem.X, problem.y)
    method = est.predict if combination == "regression" else est.predict_proba
    runs, best, traced = _timed_and_profiled(
        "predict", lambda: method(problem.X), problem.n, repeat
    )
    plain = float(np.median(runs))
    phases = phase_seconds(best, PREDICT_PHASES)
    own = phases["module calls"]
    row = {
        "n": problem.n,
        "M": problem.M,
        "K": problem.K,
        "combination": combination,
        "normaliser": normaliser,
        "n_nonzero": est.n_nonzero_,
        "seconds": plain,
        "seconds_min": min(runs),
        "seconds_max": max(runs),
        "runs": len(runs),
        "profiled_seconds": best.total,
        "modules_own_s": own,
        "floor_s": floor_s[0],
        "matrix_floor_s": floor_s[1],
        "floor_passes": plain / floor_s[0],
        "beyond_modules_passes": (plain - own) / floor_s[0],
        "tensor_MB": problem.tensor_bytes / 1e6,
        "peak_tensors": traced.peak / problem.tensor_bytes,
    }
    for phase, seconds in phases.items():
        row[f"{_slug(phase)}_s"] = seconds
    return row


def run_predict(quick):
    n, M, K = QUICK_TARGET if quick else TARGET
    repeat = 2 if quick else 5
    rows = []
    for kind, outputs, combinations in _problems(n, M, K, (n, M, K), True):
        problem = FreeProblem(kind, n, M, outputs)
        warm_memory(3 * problem.tensor_bytes)
        floor_s = floors(problem.tensor, problem.matrix)
        case_rows = []
        for combination in combinations:
            for normaliser in NORMALISERS:
                case_rows.append(
                    measure_predict(
                        problem, combination, normaliser, repeat=repeat, floor_s=floor_s
                    )
                )
                r = case_rows[-1]
                print(
                    f"predict n={n} M={M} K={outputs} {combination} {normaliser}: "
                    f"{r['seconds']:.3f}s, {r['beyond_modules_passes']:.1f} floor "
                    f"passes beyond the modules (n_nonzero {r['n_nonzero']})",
                    flush=True,
                )
        _refloor(case_rows, problem, floor_s)
        rows += case_rows
        del problem
        gc.collect()
    return rows


# --------------------------------------------------------------------------
# Adam against L-BFGS
# --------------------------------------------------------------------------
def _data(n_samples):
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


END_TO_END_METHODS = (
    "stacking",
    "attention_log",
    "attention_linear",
    "attention_log_sparsemax",
)


def _end_to_end_estimators(modules, cv, n_jobs):
    def attention(**params):
        return SparseAttentionClassifier(
            modules, cv=cv, n_jobs=n_jobs, random_state=0, **params
        )

    return {
        "stacking": StackingClassifier(modules, cv=cv, n_jobs=n_jobs),
        "attention_log": attention(),
        "attention_linear": attention(combine="linear"),
        "attention_log_sparsemax": attention(normaliser="sparsemax"),
    }


def run_end_to_end(quick, rounds):
    n = 300 if quick else 5_000
    X, y = _data(n)
    modules = _modules(quick)
    cv = StratifiedKFold(3 if quick else 5, shuffle=True, random_state=0)
    rows = []

    def fit(est, **record):
        gc.collect()
        start = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "n": n,
                "n_modules": len(modules),
                **record,
                "seconds": seconds,
                "n_nonzero": getattr(est, "n_nonzero_", len(modules)),
            }
        )
        print(f"end_to_end {rows[-1]}", flush=True)

    for n_jobs in (1, 2):
        estimators = _end_to_end_estimators(modules, cv, n_jobs)
        stacking = estimators.pop("stacking")
        if n_jobs > 1:  # start joblib's workers before anything is timed
            stacking.fit(X, y)
        names = list(estimators)
        for round_ in range(rounds):
            # Each method is timed in a pair with a stacking fit right before
            # or right after it, the order alternating from round to round;
            # the methods' order rotates, so none always follows the same.
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                pair = [("stacking", stacking), (name, estimators[name])]
                for method, est in pair[:: 1 if round_ % 2 == 0 else -1]:
                    fit(
                        est,
                        n_jobs=n_jobs,
                        round=round_,
                        pair=name,
                        method=method,
                    )
    return rows


def end_to_end_summary(rows):
    """Per (n_jobs, method): median seconds, and the median, min and max of
    the ratio to the stacking fit of the same pair."""
    stacking = {
        (r["n_jobs"], r["round"], r["pair"]): r["seconds"]
        for r in rows
        if r["method"] == "stacking"
    }
    out = {}
    for r in rows:
        key = (r["n_jobs"], r["method"])
        entry = out.setdefault(key, {"seconds": [], "ratios": [], "n_nonzero": []})
        entry["seconds"].append(r["seconds"])
        entry["ratios"].append(
            r["seconds"] / stacking[(r["n_jobs"], r["round"], r["pair"])]
        )
        entry["n_nonzero"].append(r["n_nonzero"])
    return {
        key: {
            "median_s": float(np.median(e["seconds"])),
            "ratio": float(np.median(e["ratios"])),
            "ratio_min": float(np.min(e["ratios"])),
            "ratio_max": float(np.max(e["ratios"])),
            "pairs": len(e["ratios"]),
            "n_nonzero": int(np.median(e["n_nonzero"])),
        }
        for key, e in out.items()
    }


# --------------------------------------------------------------------------
# The weight-learning step alone
# --------------------------------------------------------------------------
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
    proba_true = np.ascontiguousarray(proba[:, np.arange(n), y])  # (M, n)
    w = np.full(M, 1.0 / M)
    floor = floor_seconds(lambda: np.tensordot(w, log_proba, 1), max(repeat, 3))
    matrix_floor = floor_seconds(lambda: w @ proba_true, max(repeat, 3))
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
    if n * M * K * K <= stacking_max_cells or (n, M, K) == TARGET:
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
        return [(1000, 3, 3)]
    cases = [(n, 10, 10) for n in (1_000, 10_000, 100_000, 1_000_000)]
    cases += [(100_000, M, 10) for M in (2, 5, 20, 50)]
    cases += [(100_000, 10, K) for K in (2, 5, 20, 50, 100)]
    return cases


def run_weights(quick):
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


def run_memory(quick):
    n, M, K = (5_000, 4, 3) if quick else TARGET
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
        floor = floor_seconds(lambda w=w, t=log_proba: np.tensordot(w, t, 1), 3)
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


GRID_TEMPERATURES = [1.0, 3.0, 10.0, 30.0, 100.0]


def run_grid(quick, repeat):
    """Tuning the temperature: SparseAttentionClassifierCV (10 temperatures)
    and GridSearchCV over 5 temperatures, without and with ``memory`` (a
    fresh cache, then the same search again on the warm cache), each
    against one plain fit with the same modules and cv."""
    import tempfile

    from skweighting import SparseAttentionClassifierCV

    n = 200 if quick else 2_000
    X, y = _data(n)
    modules = _modules(quick)
    cv = 2 if quick else 5
    outer = 2 if quick else 3

    def search(memory=None):
        return GridSearchCV(
            SparseAttentionClassifier(modules, cv=cv, memory=memory, random_state=0),
            {"temperature": GRID_TEMPERATURES},
            cv=outer,
            scoring="neg_log_loss",
        )

    cases = [
        (
            "plain fit",
            lambda: SparseAttentionClassifier(modules, cv=cv, random_state=0),
        ),
        (
            "SparseAttentionClassifierCV, 10 temperatures",
            lambda: SparseAttentionClassifierCV(
                modules, temperatures=10, cv=cv, random_state=0
            ),
        ),
        (f"GridSearchCV, 5 T x {outer} folds", search),
    ]
    rows = []
    for name, make in cases:
        seconds, _ = _best_time(lambda make=make: make().fit(X, y), repeat)
        rows.append({"n": n, "what": name, "seconds": seconds})
        print(f"grid {rows[-1]}", flush=True)
    with tempfile.TemporaryDirectory() as cache:
        for name in ("memory, cold cache", "memory, warm cache (same search again)"):
            start = time.perf_counter()
            search(cache).fit(X, y)
            seconds = time.perf_counter() - start
            rows.append({"n": n, "what": f"GridSearchCV, {name}", "seconds": seconds})
            print(f"grid {rows[-1]}", flush=True)
    return rows


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------
def _isnan(value):
    return value is None or (isinstance(value, float) and np.isnan(value))


def _fmt(value, spec):
    return "-" if _isnan(value) or value == "" else format(value, spec)


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _target_of(rows):
    sizes = {(r["n"], r["M"]) for r in rows}
    return TARGET if TARGET[:2] in sizes else QUICK_TARGET


def _label(r, target):
    """``log`` / ``linear`` / ``regression``, with the regression's number
    of outputs when it has several."""
    if r["combination"] == "regression" and r["K"] > 1:
        return f"regression ({r['K']} outputs)"
    return r["combination"]


def _at_target(rows, target):
    n, M, K = target
    return [
        r
        for r in rows
        if r["n"] == n
        and r["M"] == M
        and (r["K"] == K or (r["combination"] == "regression" and r["K"] in (1, K)))
    ]


def _n(n):
    """1e6, 3e3, 2.5e4: a row count as the tables write it."""
    mantissa, exponent = f"{n:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _ms(seconds):
    return f"{seconds * 1e3:.3g} ms"


def _size(n, M, K):
    return f"n={_n(n)}, M={M}, K={K}"


PHASE_COLUMNS = (
    "module calls",
    "fold slicing",
    "output checks",
    "store writes",
    "combination build",
    "weight step",
    "refits",
    "other",
)


def _passes(r, key):
    return r[key] / r["floor_s"]


def _with_spread(r, key, bold=False):
    """The median ``r[key]``, and the spread of the runs in brackets when
    there were several."""
    median = f"**{r[key]:.1f}**" if bold else f"{r[key]:.1f}"
    low, high = r.get(f"{key}_min"), r.get(f"{key}_max")
    if low is None or high is None or r.get("runs", 1) < 2:
        return median
    return f"{median} ({low:.1f}-{high:.1f})"


def report_whole_fit(rows):
    target = _target_of(rows)
    at = _at_target(rows, target)
    parts = []
    classification = [r for r in at if r["combination"] != "regression"]
    regression = [r for r in at if r["combination"] == "regression"]
    floors_text = []
    if classification:
        r = classification[0]
        floors_text.append(
            f"classifiers: floor {_ms(r['floor_s'])} over the "
            f"{r['tensor_MB']:.0f} MB n x M x K tensor, matrix floor "
            f"{_ms(r['matrix_floor_s'])} over the n x M matrix"
        )
    for r in regression[:: len(NORMALISERS)]:
        floors_text.append(
            f"regression with {r['K']} output(s): floor "
            f"{_ms(r['floor_s'])} over its {r['tensor_MB']:.0f} MB "
            f"n x M x {r['K']} tensor, matrix floor {_ms(r['matrix_floor_s'])}"
        )
    table = []
    for r in at:
        table.append(
            [
                _label(r, target),
                r["normaliser"],
                f"{r['seconds']:.2f}",
                _with_spread(r, "floor_passes", bold=True),
                _with_spread(r, "beyond_modules_passes"),
                f"{r['matrix_floor_passes']:.0f}",
                f"{r['n_nonzero']} of {r['M']}",
                f"{r['n_iter']}",
                _fmt(r.get("peak_tensors"), ".2f"),
                r.get("peak_phase", "-"),
            ]
        )
    parts += [
        f"### Whole fit with free modules, {_size(*target)}",
        "",
        "Modules that cost nothing (`FreeClassifier`, `FreeRegressor` in "
        "bench/speed.py): `fit` only sets `classes_`, `predict_proba` / "
        "`predict` gathers the rows X[:, 0] of a precomputed table "
        "(`np.take`) of "
        "synthetic outputs (`synthetic_outputs`: graded quality, correlated "
        "errors). What is left is the ensemble's own work. `cv=KFold(5)`, "
        "n_jobs=1, the library's default threads, default alpha and "
        "temperature. Time: the median of the plain fits (5 up to 1e8 "
        "tensor entries, one above), with the fastest and slowest in "
        "brackets; in floor passes, i.e. divided by one "
        "`np.tensordot(w, tensor, 1)` over the float64 n x M x K tensor of "
        "module outputs, measured in the same process (the fastest of "
        "several, with the default threads and with one BLAS thread; for a "
        "regressor K is "
        "its number of outputs: with one output the tensor is the n x M "
        "matrix). Beyond the modules: the same minus the modules' own work "
        "(their `fit` and row gathers, from the fastest profiled fit). The "
        "matrix floor is one `matrix @ w` over an n x M matrix (the size of "
        "what the linear mixture keeps: each module's probability of the "
        "true class). Peak: the most memory "
        "the fit allocated at once (tracemalloc; the modules' tables exist "
        "before the fit and are not counted, the modules' per-fold outputs "
        "are), in units of the tensor, and the phase it was reached in.",
        "",
        "Floors: " + "; ".join(floors_text) + ".",
        "",
        _table(
            [
                "combination",
                "normaliser",
                "fit (s)",
                "floor passes",
                "beyond the modules",
                "matrix floor passes",
                "modules kept",
                "iterations",
                "peak (tensors)",
                "peak in",
            ],
            table,
        ),
        "",
    ]
    # Phase breakdown.
    table = []
    for r in at:
        cells = [_label(r, target), r["normaliser"]]
        for phase in PHASE_COLUMNS:
            cells.append(f"{_passes(r, f'{_slug(phase)}_s'):.1f}")
        cells.append(f"{r['profiled_seconds'] / r['floor_s']:.1f}")
        table.append(cells)
    parts += [
        f"### Whole fit: where the time goes, {_size(*target)} (floor passes)",
        "",
        "One profiled fit (the fastest of as many as the plain ones), timed by "
        "wrapping the package's functions and methods (monkeypatched where "
        "they are looked up; a wrapper's time excludes the wrapped calls it "
        "makes, so the phases add up to the total). Module calls: the free "
        "modules' own `fit` and `predict_proba`/`predict` (the row gather). "
        "Fold slicing: `fold_data` (X and y of each fold, sliced once for "
        "all modules) and `fold_params` (each module's fit parameters). "
        "Output checks: `combination.read` around the module call "
        "(`check_probabilities` / `check_predictions`, `class_columns`; a "
        "regressor's fold outputs have only their shape checked there). "
        "Store writes: `combination.write` (for the regression, each fold's "
        "Gram matrix once all its modules are written, whose diagonal is "
        "the check that the predictions are finite). "
        "Combination build: `combination.objective`. Weight step: "
        "`learn_attention`. Refits: `fit_module` on all rows (modules with "
        "non-zero weight). Other: the rest (validation of y and the label "
        "encoding, cloning, the cv split, joblib, module scores). The plain "
        "and the profiled fits are separate runs: on this machine a fresh "
        "80 MB buffer sometimes takes a second to fault in, so the two "
        "totals (and one phase between normalisers) can differ by ~10 "
        "passes; read the phases as shares of the total.",
        "",
        _table(["combination", "normaliser", *PHASE_COLUMNS, "total"], table),
        "",
    ]
    table = []
    for r in at:
        rest = r["other_s"] - sum(
            r[f"other_{_slug(label)}_s"]
            for label in ("prepare_targets", "clone", "check_splits")
        )
        step = r["weight_step_s"] - r["loss_grad_full_s"] - r["loss_grad_subsample_s"]
        table.append(
            [
                _label(r, target),
                r["normaliser"],
                f"{_passes(r, 'other_prepare_targets_s'):.1f}",
                f"{_passes(r, 'other_clone_s'):.1f}",
                f"{_passes(r, 'other_check_splits_s'):.1f}",
                f"{rest / r['floor_s']:.1f}",
                f"{r['loss_grad_full_calls']} / {_passes(r, 'loss_grad_full_s'):.1f}",
                f"{r['loss_grad_subsample_calls']} / "
                f"{_passes(r, 'loss_grad_subsample_s'):.1f}",
                f"{step / r['floor_s']:.1f}",
                r["n_iter"],
            ]
        )
    parts += [
        f"### Whole fit: other and the weight step in detail, {_size(*target)} "
        "(floor passes)",
        "",
        "Prepare targets: y's checks and label encoding (classifiers), y's "
        "checks (regressors). Rest of fit: validation, joblib, module "
        "scores, the store's allocation. Loss evaluations: calls / floor "
        "passes on all rows and on the solver's 20,000-row warm-start "
        "subsample (the regression's evaluations read only the Gram matrix "
        "summed as the folds are written: O(M^2), no subsample). Solver: the "
        "rest of the "
        "weight step (subsample copies, L-BFGS, normalisers).",
        "",
        _table(
            [
                "combination",
                "normaliser",
                "prepare targets",
                "clone",
                "cv split",
                "rest of fit",
                "loss evaluations, all rows",
                "loss evaluations, subsample",
                "solver",
                "iterations",
            ],
            table,
        ),
        "",
    ]
    if any("peak_tensors" in r for r in at):
        table = []
        for r in at:
            table.append(
                [_label(r, target), r["normaliser"]]
                + [
                    _fmt(r.get(f"peak_{_slug(p)}_tensors"), ".2f")
                    for p in (
                        "module calls",
                        "output checks",
                        "store writes",
                        "combination build",
                        "weight step",
                        "refits",
                        "other",
                    )
                ]
                + [f"**{_fmt(r.get('peak_tensors'), '.2f')}**"]
            )
        parts += [
            f"### Whole fit: peak memory by phase, {_size(*target)} (tensors)",
            "",
            "The most memory allocated since the start of the fit (everything "
            "alive: the store, the current fold's module output, temporaries) "
            "while each phase ran, in units of the n x M x K float64 tensor "
            "(n x M x outputs for the regression).",
            "",
            _table(
                [
                    "combination",
                    "normaliser",
                    "module calls",
                    "output checks",
                    "store writes",
                    "combination build",
                    "weight step",
                    "refits",
                    "other",
                    "peak",
                ],
                table,
            ),
            "",
        ]
    # The sweep.
    cases = sorted(
        {(r["n"], r["M"], r["K"]) for r in rows if r["combination"] != "regression"},
        key=lambda c: (c[0], c[1], c[2]),
    )
    table = []
    for case in cases:
        n, M, K = case
        cls = {
            (r["combination"], r["normaliser"]): r
            for r in rows
            if (r["n"], r["M"], r["K"]) == case and r["combination"] != "regression"
        }
        reg = {
            r["normaliser"]: r
            for r in rows
            if (r["n"], r["M"], r["K"]) == (n, M, 1)
            and r["combination"] == "regression"
        }
        if not cls:
            continue
        first = next(iter(cls.values()))
        cells = [_n(n), M, K, f"{first['floor_s'] * 1e3:.3g}"]
        for combination in ("log", "linear"):
            for normaliser in NORMALISERS:
                r = cls.get((combination, normaliser))
                cells.append(_fmt(r and r["floor_passes"], ".1f"))
        if reg and target[2] == K:
            cells.append(f"{next(iter(reg.values()))['floor_s'] * 1e3:.3g}")
            cells += [
                _fmt(reg[x]["floor_passes"] if x in reg else None, ".1f")
                for x in NORMALISERS
            ]
        else:
            cells += ["-"] * (1 + len(NORMALISERS))
        cells += [
            _fmt(cls.get(("log", "softmax"), {}).get("peak_tensors"), ".2f"),
            _fmt(cls.get(("linear", "softmax"), {}).get("peak_tensors"), ".2f"),
            _fmt(reg.get("softmax", {}).get("peak_tensors") if reg else None, ".2f"),
        ]
        table.append(cells)
    header = ["n", "M", "K", "floor (ms)"]
    header += [f"log {x}" for x in NORMALISERS]
    header += [f"linear {x}" for x in NORMALISERS]
    header += ["regression floor (ms)"] + [f"regression {x}" for x in NORMALISERS]
    header += ["peak log", "peak linear", "peak regression"]
    parts += [
        "### Whole fit: sweep over n, M and K (floor passes)",
        "",
        "One size varied at a time around the target. n=1e6 with K=100 "
        "(an 8 GB tensor, and as much again in the modules' tables) is "
        "replaced by n=1e5, K=100. The regression (one output, its own floor: "
        "a pass over n x M) runs at the rows with K=10; its K does not "
        "apply. Peak memory (tensors) with the softmax normaliser.",
        "",
        _table(header, table),
        "",
    ]
    return parts


def report_predict(rows):
    target = _target_of(rows)
    table = []
    for r in rows:
        table.append(
            [
                _label(r, target),
                r["normaliser"],
                f"{r['n_nonzero']} of {r['M']}",
                f"{r['seconds'] * 1e3:.0f}",
                f"{r['modules_own_s'] * 1e3:.0f}",
                f"{r['floor_passes']:.1f}",
                _with_spread(r, "beyond_modules_passes", bold=True),
                f"{_passes(r, 'output_checks_s'):.1f}",
                f"{_passes(r, 'combine_s'):.1f}",
                f"{_passes(r, 'other_s'):.1f}",
                f"{r['peak_tensors']:.2f}",
            ]
        )
    return [
        f"### Predict with free modules, {_size(*target)}",
        "",
        "`predict_proba` (classifiers) and `predict` (regressors) on the n "
        "training rows, after a fit as above. Time: the median of 5 calls "
        "(the fastest and slowest in brackets); "
        "beyond the modules: minus the modules' own work (their row gathers, "
        "from the fastest profiled call), in floor passes (the same floor as "
        "the whole fit: one pass over the n x M x K tensor, all M modules). "
        "Phases as in the fit: the modules are called on blocks of rows, "
        "each block's outputs checked (output checks) and folded into the "
        "combination (combine; the linear mixture checks its modules' row "
        "sums there, once, on the mixture's). Log pooling fitted on 200,000 "
        "out-of-fold rows or more (as here) pools float32 logs in float32, as its fit "
        "did (`LogPooling.FLOAT32_ROWS`), and normalises them in float64. "
        "Peak: memory allocated during the call, "
        "the modules' outputs and the result included, in tensors.",
        "",
        _table(
            [
                "combination",
                "normaliser",
                "modules kept",
                "predict (ms)",
                "modules' own (ms)",
                "floor passes",
                "beyond the modules",
                "output checks",
                "combine",
                "other",
                "peak (tensors)",
            ],
            table,
        ),
        "",
    ]


# What a run pinned no thread records; runs before that pinned one thread in
# every process (their meta has no ``threads``).
PLAIN_THREADS = "default"
PINNED_NOTE = (
    "This part's stored run predates the plain-process rule: every process "
    "had one BLAS/OpenMP thread. "
)


def report_end_to_end(rows, pinned=False):
    summary = end_to_end_summary(rows)
    n_jobs_values = sorted({r["n_jobs"] for r in rows})
    methods = [m for m in END_TO_END_METHODS if any(r["method"] == m for r in rows)]
    table = []
    for method in methods:
        cells = [method]
        for n_jobs in n_jobs_values:
            s = summary.get((n_jobs, method))
            if s is None:
                cells += ["-", "-"]
                continue
            cells.append(f"{s['median_s']:.2f}")
            cells.append(
                "1"
                if method == "stacking"
                else f"**{s['ratio']:.2f}** ({s['ratio_min']:.2f}-"
                f"{s['ratio_max']:.2f}, {s['pairs']} pairs)"
            )
        s = summary.get((n_jobs_values[0], method))
        cells.append(f"{s['n_nonzero']} of {rows[0]['n_modules']}")
        table.append(cells)
    header = ["method"]
    for n_jobs in n_jobs_values:
        header += [f"n_jobs={n_jobs}: median (s)", "vs stacking: median (min-max)"]
    header.append("modules kept")
    return [
        f"### End-to-end fit against StackingClassifier, n={rows[0]['n']}",
        "",
        f"make_classification (20 features, 3 classes), the "
        f"{rows[0]['n_modules']} benchmark modules, the same stratified "
        "5-fold cv. Every method is timed in pairs with a StackingClassifier "
        "fit right before or right after it (the order alternating from "
        "round to round, the methods' order rotating): the ratio is to the "
        "stacking fit of the same pair; the median of the pairs, and in "
        "brackets the smallest and largest ratio. Median times are over all "
        "of a method's fits (stacking's: all its pairs). "
        + (
            PINNED_NOTE
            if pinned
            else "Threads as a user's plain process has them: the modules' "
            "BLAS/OpenMP defaults (joblib's workers get one core's share each). "
        )
        + "`attention_log_sparsemax` is "
        "`normaliser='sparsemax'`, which leaves the modules with zero weight "
        "out of the refit.",
        "",
        _table(header, table),
        "",
    ]


def _verdict(ok):
    return "**met**" if ok else "**not met**"


def _target_groups(rows):
    """(label, combination, rows) of each target line: the classifiers'
    combinations, and the regression with one output and with K outputs."""
    for combination in COMBINATIONS:
        rs = [r for r in rows if r["combination"] == combination]
        if combination != "regression":
            rs = [r for r in rs if r["K"] != 1]
            if rs:
                yield combination, combination, rs
            continue
        for K in sorted({r["K"] for r in rs}):
            group = [r for r in rs if r["K"] == K]
            label = "regression, 1 output" if K == 1 else f"regression, {K} outputs"
            yield label, combination, group


def report_targets(results):
    lines = []
    fits = results.get("whole_fit")
    if fits:
        target = _target_of(fits)
        groups = list(_target_groups(_at_target(fits, target)))
        for label, combination, rs in groups:
            limit = FIT_TARGET[combination]
            values = ", ".join(
                f"{r['normaliser']} {_with_spread(r, 'floor_passes')}" for r in rs
            )
            verdict = _verdict(all(r["floor_passes"] <= limit for r in rs))
            if rs[0]["K"] != target[2]:
                # The targets are set at K; a regression with fewer outputs
                # has a tensor K times smaller against the same per-fit
                # costs (cloning, dispatching and fitting M x cv modules).
                verdict = f"reported (the targets are at K = {target[2]}): {verdict}"
            lines.append(
                [f"whole fit, {label}: <= {limit} floor passes", values, verdict]
            )
        for label, _, rs in groups:
            rs = [r for r in rs if "peak_tensors" in r]
            if not rs:
                continue
            values = ", ".join(f"{r['normaliser']} {r['peak_tensors']:.2f}" for r in rs)
            ok = all(r["peak_tensors"] <= PEAK_TARGET for r in rs)
            lines.append(
                [
                    f"whole fit, {label}: peak memory <= {PEAK_TARGET} tensors",
                    values,
                    _verdict(ok),
                ]
            )
    predicts = results.get("predict")
    if predicts:
        for label, combination, rs in _target_groups(predicts):
            limit = PREDICT_TARGET[combination]
            values = ", ".join(
                f"{r['normaliser']} {_with_spread(r, 'beyond_modules_passes')}"
                for r in rs
            )
            ok = all(r["beyond_modules_passes"] <= limit for r in rs)
            what = "predict" if combination == "regression" else "predict_proba"
            lines.append(
                [
                    f"{what}, {label}: <= {limit} floor passes beyond the "
                    "modules' own work",
                    values,
                    _verdict(ok),
                ]
            )
    e2e = results.get("end_to_end")
    if e2e:
        summary = end_to_end_summary(e2e)
        for n_jobs, rule in ((1, "no slower"), (2, "faster")):
            for method in END_TO_END_METHODS[1:]:
                s = summary.get((n_jobs, method))
                if s is None:
                    continue
                ok = s["ratio"] <= 1.0 if n_jobs == 1 else s["ratio"] < 1.0
                lines.append(
                    [
                        f"end to end, {method}, n_jobs={n_jobs}: {rule} than stacking",
                        f"{s['ratio']:.2f} ({s['ratio_min']:.2f}-{s['ratio_max']:.2f})",
                        _verdict(ok),
                    ]
                )
    if not lines:
        return []
    return [
        "### Targets",
        "",
        "Each part measured the package at the commit listed for its run above; "
        "floor passes and tensors as defined in the tables below (the "
        "regression with one output, where the tensor is the n x M matrix, "
        "and with K outputs). Every verdict is on the median: of the plain "
        "runs (whole fit, predict) or of the pairs' ratios to stacking (end "
        "to end); the fastest and slowest run or pair are in brackets, to "
        "show the spread, and decide nothing. No slower: the median pair's "
        "ratio is at most 1. Faster: it is below 1.",
        "",
        _table(["target", "measured", "verdict"], lines),
        "",
    ]


def report_weights(rows, pinned=False):
    lines = []
    for r in rows:
        lines.append(
            [
                _n(r["n"]),
                r["M"],
                r["K"],
                f"{r['floor_s']:.4f}",
                f"{r['log_s']:.3f}",
                r["log_iter"],
                f"{r['log_s'] / r['floor_s']:.1f}",
                f"{r['linear_s']:.3f}",
                r["linear_iter"],
                f"{r['linear_s'] / r['floor_s']:.1f}",
                _fmt(r["stacking_meta_s"], ".2f"),
                _fmt(r["stacking_meta_s"] / r["log_s"], ".1f"),
                _fmt(r["stacking_meta_s"] / r["linear_s"], ".1f"),
                _fmt(r["log_peak_tensors"], ".3f"),
                _fmt(r["linear_peak_tensors"], ".3f"),
            ]
        )
    return [
        "### Weight learning alone (learn_attention, lbfgs, alpha=1e-4, T=1)",
        "",
        (
            PINNED_NOTE
            if pinned
            else "The package's own threads: its weight step runs on one BLAS "
            "thread, StackingClassifier's meta-step on the default ones; the "
            "floor is the faster of the two. "
        )
        + "Synthetic out-of-fold outputs of M modules of graded quality with "
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
        _table(
            [
                "n",
                "M",
                "K",
                "floor pass (s)",
                "log pooling (s)",
                "iters",
                "x floor",
                "linear (s)",
                "iters",
                "x floor",
                "stacking meta-step (s)",
                "stacking / log",
                "stacking / linear",
                "peak mem log (tensors)",
                "peak mem linear (tensors)",
            ],
            lines,
        ),
        "",
    ]


def report_memory(rows):
    lines = [
        [
            _n(r["n"]),
            r["M"],
            r["K"],
            r["dtype"],
            f"{r['tensor_MB']:.0f}",
            f"{r['peak_extra_MB']:.1f}",
            f"{r['peak_extra_tensors']:.3f}",
            f"{r['seconds']:.2f}",
            f"{r['floor_passes']:.1f}",
            r["n_iter"],
        ]
        for r in rows
    ]
    return [
        "### Peak memory of log pooling's weight step at the largest size",
        "",
        "`learn_attention` alone on the floored log-probabilities, float64 and "
        "float32; peak memory it allocates beyond the tensor.",
        "",
        _table(
            [
                "n",
                "M",
                "K",
                "dtype",
                "tensor (MB)",
                "peak extra (MB)",
                "peak extra (tensors)",
                "time (s)",
                "floor passes",
                "iterations",
            ],
            lines,
        ),
        "",
    ]


def report_grid(rows):
    seconds = {r["what"]: r["seconds"] for r in rows}
    plain = rows[0]["seconds"]
    search = next((s for w, s in seconds.items() if w.endswith("folds")), None)
    lines = []
    for r in rows:
        versus = ""
        if "memory" in r["what"] and search:
            versus = f"{r['seconds'] / search:.2f}"
        lines.append(
            [r["what"], f"{r['seconds']:.1f}", f"{r['seconds'] / plain:.2f}", versus]
        )
    targets = []
    cv_row = next((r for r in rows if r["what"].startswith("SparseAttention")), None)
    if cv_row:
        ratio = cv_row["seconds"] / plain
        targets.append(
            f"SparseAttentionClassifierCV with 10 temperatures: {ratio:.2f}x one "
            f"plain fit (target at most 1.2x: {'met' if ratio <= 1.2 else 'missed'})."
        )
    for what, limit in (("cold", 0.35), ("warm", 0.1)):
        row = next((r for r in rows if f"memory, {what}" in r["what"]), None)
        if row and search:
            ratio = row["seconds"] / search
            targets.append(
                f"GridSearchCV with memory, {what} cache: {ratio:.2f}x the same "
                f"search without it (target at most {limit}x: "
                f"{'met' if ratio <= limit else 'missed'})."
            )
    return [
        f"### Tuning the temperature, n={rows[0]['n']}",
        "",
        "The same seven modules and 5-fold cv throughout; GridSearchCV over "
        f"temperatures {GRID_TEMPERATURES} with 3 outer folds.",
        "",
        _table(["what", "time (s)", "x plain fit", "x search without memory"], lines),
        "",
        *[f"* {t}" for t in targets],
        "",
    ]


def report(results, meta=None):
    """The speed section; ``meta`` maps each part to the record of its run
    (commit, machine, load, date)."""
    meta = meta or {}
    runs = [meta[p] for p in PARTS if p in meta and results.get(p)]
    if runs:
        cpus = list(dict.fromkeys(r["cpu"] for r in runs))
        latest = max(runs, key=lambda r: r["date"])
        if len(cpus) == 1:
            head = [f"Machine: {cpus[0]}; {latest['machine']}."]
        else:  # parts measured on different machines: each run names its own
            head = [
                f"Machines: {' / '.join(cpus)} (each run's below); the "
                f"latest run's: {latest['machine']}."
            ]
        head.append(
            "The cores were shared with other jobs. The targets' times are "
            "medians of repeated runs (the weight step, memory and tuning "
            "tables: the best of repeated runs), and the floor is measured "
            "in the same process right before and after what it divides. Runs "
            "(part: date, CPU, commit of the package measured, 1-minute load "
            "average; 'one thread': a run from before this benchmark stopped "
            "pinning threads, every process on one BLAS/OpenMP thread): "
            + "; ".join(
                f"{r['part'].replace('_', '-')}: {r['date']}, {r['cpu']}, "
                f"{r.get('package', '')}, load {r['load']}"
                + ("" if r.get("threads") == PLAIN_THREADS else ", one thread")
                for r in runs
            )
            + "."
        )
        head = " ".join(head)
    else:
        head = f"Machine: {os.cpu_count()} cores, {cpu_model()}; {machine_line()}."
    parts = [head, ""]
    parts += report_targets(results)
    reporters = {
        "whole_fit": report_whole_fit,
        "predict": report_predict,
        "end_to_end": report_end_to_end,
        "weights": report_weights,
        "memory": report_memory,
        "grid": report_grid,
    }
    for part in PARTS:
        if results.get(part):
            if part in ("end_to_end", "weights"):
                pinned = meta.get(part, {}).get("threads") != PLAIN_THREADS
                parts += reporters[part](results[part], pinned=pinned)
            else:
                parts += reporters[part](results[part])
    return "\n".join(parts)


# --------------------------------------------------------------------------
# Files and command line
# --------------------------------------------------------------------------
def _write_csv(path, rows):
    if not rows:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows(rows)


def _read_csv(path):
    def value(text):
        if text in ("True", "False"):
            return text == "True"
        for cast in (int, float):
            try:
                return cast(text)
            except ValueError:
                pass
        return text

    with open(path, newline="") as handle:
        return [
            {k: value(v) for k, v in row.items() if v != ""}
            for row in csv.DictReader(handle)
        ]


def _package_state():
    """The repository's commit, and whether the skweighting that was imported
    is exactly that commit's (it may be the working tree with changes, or an
    export of the commit put first on PYTHONPATH)."""
    import skweighting

    root = Path(__file__).resolve().parents[1]
    package = Path(skweighting.__file__).resolve().parent

    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=60
        ).stdout

    try:
        commit = git("rev-parse", "--short", "HEAD").strip()
        committed = {}
        for line in git("ls-tree", "-r", "HEAD", "skweighting").splitlines():
            info, path = line.split("\t", 1)
            if path.endswith(".py"):
                committed[path] = info.split()[2]
        files = sorted(package.rglob("*.py"))
        hashes = git("hash-object", *map(str, files)).split()
    except (OSError, subprocess.SubprocessError, IndexError):
        return ""
    imported = {
        f"skweighting/{f.relative_to(package).as_posix()}": h
        for f, h in zip(files, hashes)
    }
    if not commit:
        return ""
    if imported == committed:
        return commit
    return f"{commit} with uncommitted changes to skweighting/"


def _meta(part, load_before, package, machine):
    load_after = os.getloadavg()
    return {
        "part": part,
        "machine": machine,
        "cpu": f"{os.cpu_count()} cores, {cpu_model() or 'unknown CPU'}",
        "package": package,
        "load": f"{load_before[0]:.1f} at its start, {load_after[0]:.1f} at its end",
        "date": datetime.date.today().isoformat(),
        "threads": PLAIN_THREADS,
    }


PARTS = ("whole_fit", "predict", "end_to_end", "weights", "memory", "grid")


RUNNERS = {
    "whole_fit": lambda args: run_whole_fit(args.quick),
    "predict": lambda args: run_predict(args.quick),
    "end_to_end": lambda args: run_end_to_end(
        args.quick, 1 if args.quick else args.rounds
    ),
    "weights": lambda args: run_weights(args.quick),
    "memory": lambda args: run_memory(args.quick),
    "grid": lambda args: run_grid(args.quick, 1),
}


def _part(text):
    return text.replace("-", "_")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part",
        "--parts",
        dest="parts",
        nargs="+",
        action="extend",
        type=_part,
        choices=PARTS,
        metavar="PART",
        help=f"parts to run (default: all): {', '.join(PARTS)}; '-' or '_'",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke)")
    parser.add_argument(
        "--rounds", type=int, default=5, help="end-to-end rounds per n_jobs"
    )
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    parser.add_argument("--docs", type=Path, default=DOCS / "benchmarks.md")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the report from the CSVs in --out-dir, measuring nothing",
    )
    args = parser.parse_args(argv)
    parts = list(dict.fromkeys(args.parts or PARTS))
    # Everything alive now (modules, the test runner) is never garbage: out
    # of the collector's way, a gc.collect() between timed runs costs
    # microseconds instead of ~0.1 s.
    gc.collect()
    gc.freeze()
    try:
        return _main(args, parts)
    finally:
        gc.unfreeze()


def _main(args, parts):
    meta_path = args.out_dir / "speed_meta.csv"
    meta = {}
    if meta_path.exists():
        meta = {r["part"]: r for r in _read_csv(meta_path) if r.get("part")}
    results = {}
    if not args.report_only:
        # Which code is measured, as the run starts: the repository may move
        # on while it runs.
        package, machine = _package_state(), machine_line()
        for part in parts:
            load_before = os.getloadavg()
            results[part] = RUNNERS[part](args)
            _write_csv(args.out_dir / f"speed_{part}.csv", results[part])
            meta[part] = _meta(part, load_before, package, machine)
            _write_csv(meta_path, [meta[p] for p in PARTS if p in meta])
    # Parts not run this time keep their stored results in the report.
    for part in PARTS:
        path = args.out_dir / f"speed_{part}.csv"
        if part not in results and path.exists():
            results[part] = _read_csv(path)
    text = report(results, meta)
    print(text)
    if not args.no_docs:
        replace_section(args.docs, "speed", text)
    return {"results": results, "text": text}


if __name__ == "__main__":
    main()
