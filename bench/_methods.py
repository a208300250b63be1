"""The combination methods the quality benchmarks compare, and a registry of
named variants.

A method is made from the module list and the inner splitter every method
shares, so that all of them see the very same out-of-fold fits. A variant is
a registered method with constructor parameters changed::

    METHODS["attention_cv_1se"] = variant("attention_cv", selection="1se")

or, without editing code, on the command line of bench/broad.py::

    --variant "attention_cv_1se=attention_cv(selection='1se')"
"""

import ast
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.ensemble import (
    StackingClassifier,
    StackingRegressor,
    VotingClassifier,
    VotingRegressor,
)
from sklearn.model_selection import check_cv, cross_val_predict

from bench.caruana import CaruanaClassifier, CaruanaRegressor, log_loss_rows
from skweighting import (
    SparseAttentionClassifier,
    SparseAttentionClassifierCV,
    SparseAttentionRegressor,
    SparseAttentionRegressorCV,
)


class BestSingle(BaseEstimator):
    """The module with the best out-of-fold score under ``cv``, refitted."""

    def __init__(self, estimators, *, cv=5):
        self.estimators = estimators
        self.cv = cv

    def fit(self, X, y):
        classifier = isinstance(self, ClassifierMixin)
        cv = check_cv(self.cv, y, classifier=classifier)
        scores = []
        for _, est in self.estimators:
            if classifier:
                proba = cross_val_predict(
                    clone(est), X, y, cv=cv, method="predict_proba"
                )
                scores.append(log_loss_rows(proba, np.searchsorted(self.classes_, y)))
            else:
                pred = cross_val_predict(clone(est), X, y, cv=cv)
                scores.append(float(np.mean((pred - y) ** 2)))
        self.scores_ = np.asarray(scores)
        self.best_index_ = int(np.argmin(scores))
        self.best_name_ = self.estimators[self.best_index_][0]
        self.estimator_ = clone(self.estimators[self.best_index_][1]).fit(X, y)
        return self

    def predict(self, X):
        return self.estimator_.predict(X)


class BestSingleClassifier(ClassifierMixin, BestSingle):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return super().fit(X, y)

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)


class BestSingleRegressor(RegressorMixin, BestSingle):
    pass


class Method(NamedTuple):
    """``make(task, modules, inner_cv, random_state)`` builds the estimator;
    ``params`` are then set on it (``set_params``)."""

    label: str
    make: Callable
    params: dict = {}

    def build(self, task, modules, inner_cv, random_state=0):
        est = self.make(task, modules, inner_cv, random_state)
        return est.set_params(**self.params) if self.params else est


def _by_task(classifier, regressor, *, seeded=True, **fixed):
    def make(task, modules, inner_cv, random_state):
        cls = classifier if task == "classification" else regressor
        seed = {"random_state": random_state} if seeded else {}
        return cls(modules, cv=inner_cv, **seed, **fixed)

    return make


def _voting(task, modules, inner_cv, random_state):
    if task == "classification":
        return VotingClassifier(modules, voting="soft")
    return VotingRegressor(modules)


METHODS = {
    "attention": Method(
        "`SparseAttention*` at its defaults",
        _by_task(SparseAttentionClassifier, SparseAttentionRegressor),
    ),
    "attention_cv": Method(
        "`SparseAttention*CV` at its defaults",
        _by_task(SparseAttentionClassifierCV, SparseAttentionRegressorCV),
    ),
    "caruana": Method(
        "Caruana ensemble selection (50 rounds)",
        _by_task(CaruanaClassifier, CaruanaRegressor, seeded=False, n_rounds=50),
    ),
    "stacking": Method(
        "stacking (`Stacking*`, default final estimator)",
        _by_task(StackingClassifier, StackingRegressor, seeded=False),
    ),
    "voting": Method("soft voting (`Voting*`, uniform)", _voting),
    "best_single": Method(
        "best single module (by inner CV)",
        _by_task(BestSingleClassifier, BestSingleRegressor, seeded=False),
    ),
}


def variant(base, label=None, **params):
    """A registered method with ``params`` changed."""
    method = METHODS[base]
    text = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return Method(
        label or (f"{method.label}, `{text}`" if text else method.label),
        method.make,
        {**method.params, **params},
    )


METHODS = {
    "attention": METHODS["attention"],
    "attention_sparsemax": variant("attention", normaliser="sparsemax"),
    **METHODS,
}


def within_budget(base, *, max_modules=None, max_cost=None, costs=None):
    """The registered method ``base`` (``attention``, ``attention_cv``,
    ``caruana`` or ``best_single``) restricted to a predict-time budget: at
    most ``max_modules`` modules called, and modules whose summed predict
    ``costs`` (one per module, seconds per 1,000 rows) are at most
    ``max_cost``.

    The sparse-attention estimators get ``max_modules`` and
    ``max_predict_cost`` and measure their modules' costs themselves;
    Caruana's selection and the best single module keep to ``costs``: a new
    module joins Caruana's bag only while it stays within the budget, and
    the best single module is chosen among those that fit alone."""
    method = METHODS[base]
    text = ", ".join(
        f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in (("max_modules", max_modules), ("max_cost", max_cost))
        if value is not None
    )
    label = f"{method.label} within `{text}`"
    if base in ("attention", "attention_cv"):
        budget = {"max_modules": max_modules, "max_predict_cost": max_cost}
        return Method(label, method.make, {**method.params, **budget})
    if base == "caruana":
        budget = {"max_modules": max_modules, "costs": costs, "max_cost": max_cost}
        return Method(label, method.make, {**method.params, **budget})
    if base != "best_single":
        raise ValueError(f"no budget for method {base!r}")

    def make(task, modules, inner_cv, random_state):
        if max_cost is not None:
            modules = [m for m, cost in zip(modules, costs) if cost <= max_cost]
        return method.make(task, modules, inner_cv, random_state)

    return Method(label, make, method.params)


def parse_variant(text):
    """``NAME=BASE(param=value, ...)`` (values are Python literals) to
    ``(NAME, Method)``."""
    name, _, call = text.partition("=")
    try:
        tree = ast.parse(call.strip(), mode="eval").body
        if isinstance(tree, ast.Name):  # a plain copy: NAME=BASE
            tree = ast.Call(tree, [], [])
        base = tree.func.id
        params = {kw.arg: ast.literal_eval(kw.value) for kw in tree.keywords}
        if tree.args or None in params:
            raise ValueError
    except (SyntaxError, ValueError, AttributeError):
        base = None
    if not name.isidentifier() or base not in METHODS:
        raise ValueError(
            f"--variant {text!r}: expected NAME=BASE(param=value, ...) with "
            f"BASE one of {sorted(METHODS)} and literal values"
        )
    return name, variant(base, **params)
