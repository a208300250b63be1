"""The module fits: every (module, fold) fit in one joblib call, each fold's
output written into the combinations' stores as it arrives; then the refits
of the modules in use on all rows, in a second call (or, when no weight can
be zero, at the head of the first).

Running everything through joblib means ``n_jobs`` (or a dask / ray
backend, ``joblib.parallel_config``) sees all the fits at once.
"""

import time
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.utils.parallel import Parallel, delayed

from ._folds import FoldBuffers, cost_rows, fold_data, fold_params
from ._kernels import one_blas_thread
from ._modules import (
    COST_ROWS,
    ModuleFailure,
    fit_module,
    fit_predict_fold,
    tolerating,
)


@dataclass
class ModuleFits:
    """What every fit of a module reads: the data, the modules (seeded
    clones, not yet fitted), the fit parameters of each, and the cache."""

    X: object
    y: object
    names: list
    modules: list
    params: list
    memory: object = None
    # Whether a module's failure is returned (a `ModuleFailure`) rather than
    # raised: error_score=np.nan.
    tolerate: bool = False

    def task(self, function, *args, **kwargs):
        """A delayed call of ``function``, tolerating failures if asked."""
        if self.tolerate:
            return delayed(tolerating)(function, *args, **kwargs)
        return delayed(function)(*args, **kwargs)

    def refit(self, module):
        """A delayed task: module ``module`` fitted on all rows, timed."""
        return self.task(
            _timed,
            fit_module,
            clone(self.modules[module]),
            self.names[module],
            self.X,
            self.y,
            self.params[module],
            self.memory,
            where="all rows",
        )


def _timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def _stream(tasks, n_jobs, verbose):
    """Run the tasks ``tasks()`` yields through joblib, yielding results in
    order as they finish, so each can be stored and freed at once; backends
    that cannot stream (e.g. Ray's) return a list instead.

    One task per batch: each is a module's fit, far longer than joblib's
    dispatch, and joblib's automatic batching would pack a slow fit together
    with the fast ones after it on one worker."""
    try:
        return Parallel(
            n_jobs=n_jobs, verbose=verbose, batch_size=1, return_as="generator"
        )(tasks())
    except ValueError as exc:
        if "return_as" not in str(exc):
            raise
        return Parallel(n_jobs=n_jobs, verbose=verbose, batch_size=1)(tasks())


class OutOfFoldRun:
    """One run of every (module, fold) fit.

    Parameters
    ----------
    fits : ModuleFits
    layout : OutOfFoldLayout
        The splits and where each fold's rows go in the stores.
    n_jobs, verbose : as the estimator's
    log : callable
        ``log(message, seconds)``, for ``verbose``.
    """

    def __init__(self, fits, layout, *, n_jobs, verbose, log):
        self.fits = fits
        self.layout = layout
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.log = log
        n_modules = len(fits.names)
        # Seconds of each module fitting, predicting the held-out rows and
        # predicting a few and 1,000 rows in calls of their own, on each fold.
        self.fold_seconds = np.zeros((n_modules, len(layout.splits), 4))
        # (fold, module) of each task in the order it is yielded (fold None
        # for a refit): joblib returns the results in that order.
        self.keys = []
        self.done = [0] * len(layout.splits)  # results taken so far, per fold
        # The first failure of each module that failed (error_score=np.nan).
        self.failures = {}

    def run(self, combinations, stores, refit_first=False):
        """Fit every (module, fold) pair and write each output into every
        combination's store; returns the refits (``{module: (estimator,
        seconds)}``) if ``refit_first``, else None.

        ``refit_first``: no weight can be exactly zero, so the refits on all
        rows go first in the same call: the workers then never wait at the
        barrier between the folds and the refits, and the largest tasks
        start first."""
        n_modules = len(self.fits.names)
        results = iter(
            _stream(
                lambda: self._tasks(combinations[0], refit_first),
                self.n_jobs,
                max(self.verbose - 2, 0),
            )
        )
        refits = None
        if refit_first:
            refits = {}
            for module in range(n_modules):
                refit = next(results)
                if isinstance(refit, ModuleFailure):
                    self.failures.setdefault(module, refit.error)
                else:
                    refits[module] = refit
        for index, result in enumerate(results, start=n_modules if refit_first else 0):
            fold, module = self.keys[index]
            rows = self.layout.folds[fold]
            if isinstance(result, ModuleFailure):
                self.failures.setdefault(module, result.error)
                # Stand-in outputs complete the stores; the module is left
                # out of the weights.
                n_rows = rows.stop - rows.start
                result = (combinations[0].placeholder(n_rows), (0.0,) * 4)
            output, seconds = result
            with one_blas_thread():  # small BLAS calls: see `one_blas_thread`
                for combination, store in zip(combinations, stores):
                    combination.write(store, module, rows, output)
            self.done[fold] += 1
            self.fold_seconds[module, fold] = seconds
            if self.verbose >= 2:
                self.log(
                    f"(fold {fold + 1} of {len(self.done)}) {self.fits.names[module]}",
                    seconds[0] + seconds[1],
                )
        return refits

    @property
    def times(self):
        """The seconds of each module (fit, predict, the two timing calls), summed
        over the folds."""
        return self.fold_seconds.sum(axis=1)

    def _tasks(self, reader, refit_first):
        fits = self.fits
        if refit_first:
            for module in range(len(fits.names)):
                self.keys.append((None, module))
                yield fits.refit(module)
        # Fold after fold, so each fold's rows are sliced once for all the
        # modules; joblib draws tasks as it dispatches them, so only a fold
        # or two of slices is alive at a time.
        buffers = FoldBuffers()
        for fold, (train, test) in enumerate(self.layout.splits):
            if fold and self.done[fold - 1] < len(fits.names):
                # The previous fold's modules may still be reading its rows
                # (n_jobs > 1): copy into new arrays.
                buffers = FoldBuffers()
            data = fold_data(fits.X, fits.y, train, test, buffers)
            data += (cost_rows(fits.X, train, test, COST_ROWS),)
            # Within a fold, the modules that took longest on the folds
            # already done go first: with n_jobs > 1 a long fit dispatched
            # last would keep one worker busy while the others wait for it
            # (longest-processing-time-first).
            for module in np.argsort(-self.times[:, :2].sum(axis=1), kind="stable"):
                self.keys.append((fold, module))
                yield fits.task(
                    fit_predict_fold,
                    clone(fits.modules[module]),
                    fits.names[module],
                    data,
                    fold_params(fits.X, fits.params[module], train),
                    reader,
                    memory=fits.memory,
                    where=f"fold {fold + 1} of {len(self.done)}",
                )

    def log_module_scores(self, scores, score_name):
        """One line per module: its folds, out-of-fold score and time."""
        names = self.fits.names
        for module, name in enumerate(names):
            self.log(
                f"(module {module + 1} of {len(names)}) {name}: "
                f"{len(self.done)} folds, {score_name}={scores[module]:.4g}",
                self.times[module, :2].sum(),
            )


def refit_modules(fits, kept, fold_times, *, n_jobs, verbose):
    """Fit the modules ``kept`` on all rows: ``{module: (estimator,
    seconds)}`` (or a `ModuleFailure`, if failures are tolerated). Longest
    first (by the module's fit time on the folds), so that with n_jobs > 1
    no worker is left with a long refit at the end."""
    order = kept[np.argsort(-fold_times[kept], kind="stable")]
    done = Parallel(n_jobs=n_jobs, verbose=max(verbose - 2, 0))(
        fits.refit(module) for module in order
    )
    return dict(zip(order.tolist(), done))
