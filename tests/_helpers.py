"""Synthetic module outputs and a finite-difference check shared by the
tests of the math."""

import numpy as np
from scipy.optimize import approx_fprime
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from skweighting._combinations._common import clipped_log
from skweighting._combinations.average import QuadraticLoss
from skweighting._combinations.log_pool import LogPoolLoss
from skweighting._combinations.mixture import MixtureLoss


def module_probas(rng, n_modules=4, n_samples=200, n_classes=3, signal=(0.6, 0.3)):
    """Noisy class probabilities where the first modules know some truth."""
    y = rng.integers(0, n_classes, n_samples)
    proba = rng.dirichlet(np.ones(n_classes), size=(n_modules, n_samples))
    for m, strength in enumerate(signal):
        proba[m, np.arange(n_samples), y] += strength
    proba /= proba.sum(axis=-1, keepdims=True)
    return proba, y


def module_errors(rng, n_samples=150, n_outputs=2, n_modules=4):
    """Scaled regression errors, module m noisier than module m - 1."""
    noise_levels = np.linspace(0.3, 2.0, n_modules)[:, None, None]
    return rng.normal(size=(n_modules, n_samples, n_outputs)) * noise_levels


def relative_gradient_error(fun, x, step=1e-7):
    """Distance between ``fun(x)[1]`` and a finite-difference gradient of
    ``fun(x)[0]``, relative to the gradient's norm."""
    numeric = approx_fprime(x, lambda v: fun(v)[0], step)
    analytic = fun(x)[1]
    return np.linalg.norm(numeric - analytic) / max(np.linalg.norm(analytic), 1e-12)


def solve(loss, *, normaliser="softmax", temperature=1.0, alpha=1e-4, **options):
    """`learn_attention` of ``loss`` with ``normaliser`` (by name) at
    ``temperature`` and ``alpha``."""

    from skweighting._normalisers import NORMALISERS
    from skweighting._objective import Objective
    from skweighting._solvers import learn_attention

    objective = Objective(
        loss, NORMALISERS[normaliser], alpha=alpha, temperature=temperature
    )
    return learn_attention(objective, **options)


class Table(ClassifierMixin, BaseEstimator):
    """A fitted module whose predict_proba returns a given table."""

    def __init__(self, table=None, classes=None):
        self.table = table
        self.classes = classes
        self.classes_ = classes

    def predict_proba(self, X):
        return np.array(self.table[np.asarray(X)[:, 0].astype(int)])


class Values(RegressorMixin, BaseEstimator):
    def __init__(self, values=None):
        self.values = values

    def predict(self, X):
        return np.array(self.values[np.asarray(X)[:, 0].astype(int)])


def _modules(names):
    """(name, estimator) pairs, as a store is allocated for."""
    return [(name, Values()) for name in names]


def _write_all(combination, proba, y, folds, sample_weight=None):
    n_modules, n_samples, _ = proba.shape
    names = [f"m{m}" for m in range(n_modules)]
    store = combination.allocate(_modules(names), y, sample_weight)
    for m in range(n_modules):
        for rows in folds:
            combination.write(store, m, rows, proba[m, rows])
    return store


FOLDS = [slice(0, 70), slice(70, 140), slice(140, 200)]


NORMALISER_NAMES = ["softmax", "sparsemax", "entmax15"]


COMBINATIONS = ["log", "linear", "regression"]


def combination_loss(name, rng, n_samples=200, n_modules=4):
    proba, y = module_probas(rng, n_modules=n_modules, n_samples=n_samples)
    if name == "log":
        return LogPoolLoss(clipped_log(proba.copy()), y)
    if name == "linear":
        return MixtureLoss(proba[:, np.arange(n_samples), y])
    errors = module_errors(rng, n_samples, n_modules=n_modules)
    # The last module repeats the first one's mistakes and adds its own: the
    # optimum gives it no weight.
    errors[-1] = errors[0] + rng.normal(size=errors.shape[1:])
    return QuadraticLoss(errors)
