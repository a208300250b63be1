"""Reference implementation of Caruana ensemble selection (benchmark only).

Caruana, Niculescu-Mizil, Crew & Ksikes, "Ensemble selection from libraries
of models", ICML 2004: greedy forward selection *with replacement*. Starting
from an empty bag, each round adds the module whose inclusion gives the best
loss of the bag's plain average on held-out predictions; a module may be
added many times. The weights are the selection counts divided by the number
of rounds.

This is a small, plain implementation for the benchmarks, not part of the
package. It selects on the same out-of-fold predictions (same ``cv``) as
StackingClassifier and the sparse-attention ensembles, and then refits every
selected module on all the data. No sorted initialisation, no bagging of
selections.

Within a predict-time budget (bench/budget.py), the selection may only add a
module that is not yet in the bag while the bag stays within the budget: at
most ``max_modules`` distinct modules, and distinct modules whose summed
``costs`` are at most ``max_cost``. A module already in the bag can always be
added again, since calling it costs nothing more.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.model_selection import check_cv, cross_val_predict
from sklearn.preprocessing import LabelEncoder

PROBA_FLOOR = 1e-15


def log_loss_rows(proba, codes):
    """Mean log-loss of ``proba`` (n, K) for integer labels ``codes``."""
    true = proba[np.arange(len(codes)), codes]
    return float(-np.mean(np.log(np.maximum(true, PROBA_FLOOR))))


def mean_squared_error_rows(prediction, y):
    return float(np.mean((prediction - y) ** 2))


def ensemble_selection(
    outputs, target, loss, n_rounds=50, *, max_modules=None, costs=None, max_cost=None
):
    """Greedy forward selection with replacement, within a budget.

    Parameters
    ----------
    outputs : list of ndarray
        Held-out outputs of each module (probabilities or predictions), all
        of the same shape.
    target : ndarray
        Class codes or regression targets.
    loss : callable
        ``loss(averaged_outputs, target) -> float``, lower is better.
    n_rounds : int
        Number of selections (with replacement).
    max_modules : int, default=None
        At most this many distinct modules in the bag (None: no limit).
    costs : array-like of shape (n_modules,), default=None
        Each module's predict cost, for ``max_cost``.
    max_cost : float, default=None
        The distinct modules in the bag cost at most this much in all
        (None: no limit).

    Returns
    -------
    weights : ndarray of shape (n_modules,)
        Selection counts / n_rounds.
    """
    n_modules = len(outputs)
    costs = np.zeros(n_modules) if costs is None else np.asarray(costs, dtype=float)
    if max_cost is not None and not np.any(costs <= max_cost):
        raise ValueError(f"no module costs at most max_cost={max_cost:g}")
    counts = np.zeros(n_modules)
    total = np.zeros_like(outputs[0], dtype=np.float64)
    for round_ in range(n_rounds):
        in_bag = counts > 0
        allowed = in_bag.copy()
        if max_modules is None or in_bag.sum() < max_modules:
            spent = costs[in_bag].sum()
            allowed |= max_cost is None or spent + costs <= max_cost
        scores = [
            loss((total + out) / (round_ + 1), target) if ok else np.inf
            for out, ok in zip(outputs, allowed)
        ]
        best = int(np.argmin(scores))  # ties: the first module
        counts[best] += 1
        total += outputs[best]
    return counts / n_rounds


class _CaruanaBase(BaseEstimator):
    def __init__(
        self,
        estimators,
        *,
        cv=5,
        n_rounds=50,
        max_modules=None,
        costs=None,
        max_cost=None,
    ):
        self.estimators = estimators
        self.cv = cv
        self.n_rounds = n_rounds
        self.max_modules = max_modules
        self.costs = costs
        self.max_cost = max_cost

    def _fit(self, X, y, classifier):
        cv = check_cv(self.cv, y, classifier=classifier)
        method = "predict_proba" if classifier else "predict"
        outputs = [
            cross_val_predict(clone(est), X, y, cv=cv, method=method)
            for _, est in self.estimators
        ]
        loss = log_loss_rows if classifier else mean_squared_error_rows
        self.weights_ = ensemble_selection(
            outputs,
            y,
            loss,
            self.n_rounds,
            max_modules=self.max_modules,
            costs=self.costs,
            max_cost=self.max_cost,
        )
        self.estimators_ = [
            clone(est).fit(X, y) if w > 0 else None
            for (_, est), w in zip(self.estimators, self.weights_)
        ]
        return self

    def _combined(self, X, method):
        return sum(
            w * getattr(est, method)(X)
            for w, est in zip(self.weights_, self.estimators_)
            if w > 0
        )


class CaruanaClassifier(ClassifierMixin, _CaruanaBase):
    """Ensemble selection over out-of-fold class probabilities (log-loss)."""

    def fit(self, X, y):
        self._encoder = LabelEncoder().fit(y)
        self.classes_ = self._encoder.classes_
        return self._fit(X, self._encoder.transform(y), classifier=True)

    def predict_proba(self, X):
        return self._combined(X, "predict_proba")

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class CaruanaRegressor(RegressorMixin, _CaruanaBase):
    """Ensemble selection over out-of-fold predictions (squared error)."""

    def fit(self, X, y):
        return self._fit(X, np.asarray(y, dtype=np.float64), classifier=False)

    def predict(self, X):
        return self._combined(X, "predict")
