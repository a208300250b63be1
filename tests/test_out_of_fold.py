"""The module fits (skweighting._out_of_fold): every (module, fold) fit in
one joblib run, in what order (the folds, then the refits; softmax's
refits first; the slowest module first within a fold), the same results
whatever ``n_jobs`` or the joblib backend (one that cannot stream, a dask
cluster), fold rows reused only once their modules are done, and the
progress lines of ``verbose``."""

import re
import time

import numpy as np
import pytest
from _helpers import (
    CALLS,
    X_THREE_CLASSES,
    Y_THREE_CLASSES,
    Spy,
    spied_ensemble,
    three_classifiers,
    unseeded_forests,
)
from _helpers import X_BINARY as X
from _helpers import X_REGRESSION as X_REG
from _helpers import Y_BINARY as Y
from _helpers import Y_REGRESSION as Y_REG
from joblib import parallel_config, register_parallel_backend
from joblib._parallel_backends import SequentialBackend
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from skweighting import SparseAttentionClassifier, SparseAttentionRegressor


def _modules():
    return three_classifiers(tree_depth=3)


# --------------------------------------------------------------------------
# The order of the fits
# --------------------------------------------------------------------------
def test_fold_fits_come_first_then_the_refits():
    CALLS.clear()
    spied_ensemble().fit(X, Y)
    fits = [c for c in CALLS if c[1] == "fit"]
    first_full = next(i for i, c in enumerate(fits) if c[2] == len(X))
    assert all(c[2] < len(X) for c in fits[:first_full])
    assert all(c[2] == len(X) for c in fits[first_full:])
    assert first_full == 9  # 3 modules x 3 folds


def test_softmax_refits_go_first_in_the_same_call():
    # Softmax weights are never exactly zero, so every module is refitted
    # anyway: the refits lead the one joblib call, and each module is still
    # fitted once on all rows and kept in its own order.
    CALLS.clear()
    ens = spied_ensemble(normaliser="softmax").fit(X, Y)
    fits = [c for c in CALLS if c[1] == "fit"]
    assert [c[2] for c in fits[:3]] == [len(X)] * 3
    assert all(c[2] < len(X) for c in fits[3:]) and len(fits) == 12
    assert [e.tag for e in ens.estimators_] == ["lr", "nb", "noise"]
    assert np.all(ens.modules_["refit_time"] > 0)


def _tree():
    return DecisionTreeClassifier(max_depth=3, random_state=0)


def test_slowest_module_of_the_folds_done_goes_first():
    # Within each fold, the module that took longest on the folds already
    # done is dispatched first, so that with n_jobs > 1 no worker is left
    # with a long fit at the end; the stores still get each output at its
    # module and fold, whatever the order.
    CALLS.clear()
    modules = [
        ("lr", Spy(LogisticRegression(), tag="lr")),
        ("nb", Spy(GaussianNB(), tag="nb")),
        ("slow", Spy(_tree(), tag="slow", delay=0.05)),
    ]
    params = dict(normaliser="sparsemax", prune_tol=0, cv=3, random_state=0)
    ens = SparseAttentionClassifier(modules, **params).fit(X, Y)
    fold_fits = [c[0] for c in CALLS if c[1] == "fit" and c[2] < len(X)]
    assert fold_fits[:3] == ["lr", "nb", "slow"]  # nothing measured yet
    assert fold_fits[3] == fold_fits[6] == "slow"
    assert ens.modules_["fold_fit_time"][2] > 3 * 0.05
    # The same weights as without the delay, whose folds run in another
    # order: every output was stored at its own module's place.
    modules[2] = ("slow", Spy(_tree(), tag="slow"))
    same = SparseAttentionClassifier(modules, **params).fit(X, Y)
    np.testing.assert_allclose(ens.attention_weights_, same.attention_weights_)
    assert np.all(ens.attention_weights_ > 0)


# --------------------------------------------------------------------------
# The same fit whatever n_jobs or the backend
# --------------------------------------------------------------------------
def test_random_state_makes_fit_identical_across_n_jobs():
    X, Y = X_THREE_CLASSES, Y_THREE_CLASSES
    fits = [
        unseeded_forests(random_state=0, n_jobs=n_jobs).fit(X, Y)
        for n_jobs in (1, 2, 1)
    ]
    for other in fits[1:]:
        np.testing.assert_array_equal(
            other.attention_weights_, fits[0].attention_weights_
        )
        np.testing.assert_array_equal(other.oof_scores_, fits[0].oof_scores_)
        np.testing.assert_array_equal(other.predict_proba(X), fits[0].predict_proba(X))
    # random_state seeded the unseeded modules (nested in a Pipeline too),
    # and different modules got different seeds.
    rf = fits[0].named_estimators_["rf"]
    pipe_rf = fits[0].named_estimators_["pipe"][-1]
    assert rf.random_state is not None and pipe_rf.random_state is not None
    assert rf.random_state != pipe_rf.random_state


def test_regressor_random_state_identical_across_n_jobs():
    def make(n_jobs):
        return SparseAttentionRegressor(
            [
                ("rf", RandomForestRegressor(n_estimators=10)),
                ("ridge", Ridge()),
            ],
            random_state=0,
            n_jobs=n_jobs,
        ).fit(X_REG, Y_REG)

    a, b = make(1), make(2)
    np.testing.assert_array_equal(a.attention_weights_, b.attention_weights_)
    np.testing.assert_array_equal(a.predict(X_REG), b.predict(X_REG))


class NoGeneratorBackend(SequentialBackend):
    """A backend that cannot stream results, as Ray's cannot."""

    supports_return_generator = False


def test_backend_that_cannot_stream_gives_the_same_fit():
    register_parallel_backend("no_generator", NoGeneratorBackend)
    reference = SparseAttentionClassifier(_modules(), random_state=0).fit(X, Y)
    with parallel_config(backend="no_generator"):
        ens = SparseAttentionClassifier(_modules(), random_state=0).fit(X, Y)
    np.testing.assert_array_equal(ens.attention_weights_, reference.attention_weights_)


def test_dask_cluster_gives_the_same_fit_as_sequential():
    distributed = pytest.importorskip("distributed")
    reference = SparseAttentionClassifier(_modules(), random_state=0).fit(X, Y)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        parallel_config(backend="dask"),
    ):
        ens = SparseAttentionClassifier(_modules(), random_state=0, n_jobs=2)
        ens.fit(X, Y)
    np.testing.assert_array_equal(ens.attention_weights_, reference.attention_weights_)
    np.testing.assert_array_equal(ens.predict_proba(X), reference.predict_proba(X))


# --------------------------------------------------------------------------
# Fold rows, progress
# --------------------------------------------------------------------------
class RowRecordingRegressor(RegressorMixin, BaseEstimator):
    """Predicts y = 2 * row id (X's only column); records, for each fit,
    where its training rows lived and whether they stayed the same while it
    fitted and predicted, apart from the rows it predicts."""

    fits = []

    def fit(self, X, y):
        self.X_, self.y_ = X, y  # kept, as nearest neighbours keep them
        self.rows_ = X[:, 0].copy()
        time.sleep(0.005)  # room for another fold's rows to be copied
        return self

    def predict(self, X):
        time.sleep(0.005)
        intact = np.array_equal(self.X_[:, 0], self.rows_)
        intact &= np.array_equal(self.y_, self.rows_ * 2)
        address = self.X_.__array_interface__["data"][0]
        held_out = not np.intersect1d(X[:, 0], self.rows_).size
        type(self).fits.append((len(self.rows_), address, intact, held_out, len(X)))
        return X[:, 0] * 2.0


@pytest.mark.parametrize("backend, n_jobs", [("sequential", 1), ("threading", 2)])
def test_folds_rows_are_reused_only_once_their_modules_are_done(backend, n_jobs):
    X_rows = np.arange(60.0).reshape(-1, 1)
    modules = [(f"m{i}", RowRecordingRegressor()) for i in range(3)]
    RowRecordingRegressor.fits = []
    with parallel_config(backend=backend):
        ens = SparseAttentionRegressor(modules, cv=KFold(5), n_jobs=n_jobs)
        ens.fit(X_rows, X_rows[:, 0] * 2)
    folds = [fit for fit in RowRecordingRegressor.fits if fit[0] < len(X_rows)]
    # Each fold's module predicts its held-out rows, then 8 of them and
    # 1,000 rows in calls of their own (its cost per call and per 1,000
    # rows): the fold's 12 held-out rows and its 48 training rows, repeated
    # (with n_jobs=2 the folds' calls interleave).
    assert sorted(fit[4] for fit in folds) == sorted([12, 8, 1000] * 15)
    assert all(fit[2] for fit in folds)
    assert all(fit[3] for fit in folds if fit[4] < 1000)
    if n_jobs == 1:
        # Every fold's training rows went into the first fold's arrays.
        assert len({fit[1] for fit in folds}) == 1


@pytest.mark.parametrize("verbose", [1, 2])
def test_progress_lines(capsys, verbose):
    SparseAttentionClassifier(_modules(), cv=3, verbose=verbose).fit(X, Y)
    lines = capsys.readouterr().out.splitlines()
    module_lines = [line for line in lines if "(module " in line]
    assert len(module_lines) == 3
    assert re.search(
        r"\[SparseAttentionClassifier\] \.* ?\(module 1 of 3\) lr: 3 folds, "
        r"out-of-fold log-likelihood=-?[0-9.e-]+, total=\s*[0-9.]+s",
        module_lines[0],
    )
    fold_lines = [line for line in lines if "(fold " in line]
    assert len(fold_lines) == (9 if verbose >= 2 else 0)
    assert any(re.search(r"weights \(\d+ iterations", line) for line in lines)
