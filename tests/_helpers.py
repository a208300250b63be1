"""What several test files share.

* Synthetic module outputs and a finite-difference check (the tests of the
  math).
* Small data sets, module lists and checks of a fitted estimator.
* Small misbehaving modules (the fault tests, and the cases of
  docs/reliability.py).
* `Spy`, a module that records its calls in `CALLS`.
"""

import time

import numpy as np
from scipy.optimize import approx_fprime
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skweighting import SparseAttentionClassifier, SparseAttentionRegressor
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


# --------------------------------------------------------------------------
# Shared data sets and module lists of the estimator tests
# --------------------------------------------------------------------------
def three_classifiers(tree_depth=2):
    """A scaled logistic regression, a shallow tree and naive Bayes."""
    return [
        ("lr", make_pipeline(StandardScaler(), LogisticRegression())),
        ("tree", DecisionTreeClassifier(max_depth=tree_depth, random_state=0)),
        ("nb", GaussianNB()),
    ]


# Three classes, 90 rows (as integers and as strings), and a regression of
# 80 rows: the data of the fault tests (tests/test_faults_*.py), which
# docs/reliability.py runs its cases on too.
X_THREE_CLASSES, Y_THREE_CLASSES = make_classification(
    n_samples=90,
    n_features=5,
    n_informative=3,
    n_redundant=0,
    n_classes=3,
    random_state=0,
)
Y_THREE_CLASSES_STR = np.array(["bird", "cat", "dog"])[Y_THREE_CLASSES]
X_REGRESSION, Y_REGRESSION = make_regression(
    n_samples=80, n_features=5, noise=5.0, random_state=0
)
# The row id in column 0 (what `LabelOracle` reads), then the features.
X_WITH_ROW_IDS = np.column_stack(
    [np.arange(len(Y_THREE_CLASSES), dtype=float), X_THREE_CLASSES]
)


def classifier_with(*modules, **params):
    """A SparseAttentionClassifier of naive Bayes, a shallow tree and
    ``modules``."""
    base = [("nb", GaussianNB()), ("tree", DecisionTreeClassifier(max_depth=3))]
    return SparseAttentionClassifier(base + list(modules), **params)


def regressor_with(*modules, **params):
    """A SparseAttentionRegressor of a ridge, a shallow tree and
    ``modules``."""
    base = [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3))]
    return SparseAttentionRegressor(base + list(modules), **params)


def assert_finite_fit(est):
    """Finite logits, weights and out-of-fold scores; weights summing to 1."""
    for attr in ("attention_logits_", "attention_weights_", "oof_scores_"):
        assert np.all(np.isfinite(getattr(est, attr))), attr
    assert abs(est.attention_weights_.sum() - 1.0) <= 1e-6


def assert_probabilities(proba, n_classes):
    """Finite probabilities in [0, 1], ``n_classes`` columns, rows summing
    to 1."""
    assert proba.shape[1] == n_classes
    assert np.all(np.isfinite(proba))
    assert np.all(proba >= 0) and np.all(proba <= 1 + 1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


# --------------------------------------------------------------------------
# Small misbehaving modules (the fault tests; docs/reliability.py)
# --------------------------------------------------------------------------
class CodedError(Exception):
    """An exception whose constructor does not take a single message."""

    def __init__(self, code, detail):
        super().__init__(code, detail)
        self.code = code


class FaultyClassifier(ClassifierMixin, BaseEstimator):
    """GaussianNB that fails, or outputs NaN/inf, when told to.

    fail_in : None, "fit" or "predict_proba"
    bad_value : None or a float written into the first probability
    error : "runtime" or "coded" (an exception with an unusual constructor)
    """

    def __init__(self, fail_in=None, bad_value=None, error="runtime"):
        self.fail_in = fail_in
        self.bad_value = bad_value
        self.error = error

    def _fail(self, where):
        if self.fail_in == where:
            if self.error == "coded":
                raise CodedError(42, f"coded failure in {where}")
            raise RuntimeError(f"boom in {where}")

    def fit(self, X, y):
        self._fail("fit")
        self.nb_ = GaussianNB().fit(X, y)
        self.classes_ = self.nb_.classes_
        self.n_features_in_ = self.nb_.n_features_in_
        return self

    def predict_proba(self, X):
        self._fail("predict_proba")
        proba = self.nb_.predict_proba(X)
        if self.bad_value is not None:
            proba[0, 0] = self.bad_value
        return proba

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class FaultyRegressor(RegressorMixin, BaseEstimator):
    """Ridge that fails, or outputs NaN/inf or huge values, when told to."""

    def __init__(self, fail_in=None, bad_value=None, constant=None):
        self.fail_in = fail_in
        self.bad_value = bad_value
        self.constant = constant

    def fit(self, X, y):
        if self.fail_in == "fit":
            raise RuntimeError("boom in fit")
        self.ridge_ = Ridge().fit(X, y)
        self.n_features_in_ = self.ridge_.n_features_in_
        return self

    def predict(self, X):
        if self.fail_in == "predict":
            raise RuntimeError("boom in predict")
        if self.constant is not None:
            return np.full(len(X), float(self.constant))
        prediction = self.ridge_.predict(X)
        if self.bad_value is not None:
            prediction[0] = self.bad_value
        return prediction


class LogFeatureRegressor(RegressorMixin, BaseEstimator):
    """Regresses y on log(x0): NaN for x0 <= 0, a realistic predict-time fault."""

    def fit(self, X, y):
        X = np.asarray(X)
        self.lr_ = LinearRegression().fit(np.log(np.abs(X[:, :1]) + 1.0), y)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        X = np.asarray(X)
        with np.errstate(invalid="ignore", divide="ignore"):
            feature = np.log(X[:, 0] + 1.0)
        return self.lr_.coef_[0] * feature + self.lr_.intercept_


class LabelOracle(ClassifierMixin, BaseEstimator):
    """Reads the sample id in column 0 and looks its label up in `labels`.

    shift=0 puts probability 1 on the true class; shift=k puts it on the
    class k places further in ``classes_``, so exactly 0 on the true class.
    A true class the module was not fitted on gets uniform probabilities.
    """

    def __init__(self, labels=None, shift=0):
        self.labels = labels
        self.shift = shift

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict_proba(self, X):
        true = np.asarray(self.labels)[np.asarray(X)[:, 0].astype(int)]
        n_classes = len(self.classes_)
        proba = np.full((len(true), n_classes), 1.0 / n_classes)
        known = np.isin(true, self.classes_)
        code = np.searchsorted(self.classes_, true[known])
        proba[known] = np.eye(n_classes)[(code + self.shift) % n_classes]
        return proba

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class PermutedClassesClassifier(ClassifierMixin, BaseEstimator):
    """Wraps a classifier and reverses its ``classes_`` and its probability
    columns together: consistent, but not in sorted order."""

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, y):
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_[::-1]
        self.n_features_in_ = self.estimator_.n_features_in_
        return self

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)[:, ::-1]

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class ReshapingClassifier(FaultyClassifier):
    """Returns probabilities of the wrong shape (drops the last column)."""

    def predict_proba(self, X):
        return super().predict_proba(X)[:, :-1]


class TwoOutputRegressor(FaultyRegressor):
    """Predicts two outputs for a single-output y."""

    def predict(self, X):
        prediction = super().predict(X)
        return np.column_stack([prediction, prediction])


class InvalidProbabilityClassifier(FaultyClassifier):
    """Finite 'probabilities' that are negative, above one, rows not summing
    to one: a broken module, like one that returns NaN."""

    def predict_proba(self, X):
        return 2.0 * super().predict_proba(X) - 0.5


class RowFaultClassifier(FaultyClassifier):
    """GaussianNB whose probabilities of row ``row`` are replaced by
    ``values`` at predict time (``row=None``: none)."""

    def __init__(self, row=None, values=None):
        super().__init__()
        self.row = row
        self.values = values

    def predict_proba(self, X):
        proba = super().predict_proba(X)
        if self.row is not None:
            proba[self.row] = self.values
        return proba


# --------------------------------------------------------------------------
# A spy on the module calls (the order of the fits, pruning, the cache)
# --------------------------------------------------------------------------
# Two classes, 150 rows.
X_BINARY, Y_BINARY = make_classification(
    n_samples=150, n_features=6, n_informative=4, random_state=0, flip_y=0.05
)
CALLS = []  # (tag, method, n_rows), appended in call order


class Spy(ClassifierMixin, BaseEstimator):
    """Wraps a classifier and records every fit and predict_proba call;
    ``flip=True`` fits it on flipped binary labels: a module that is
    systematically wrong, which only hurts a combination with weights >= 0."""

    def __init__(self, estimator=None, tag="spy", flip=False, delay=0.0):
        self.estimator = estimator
        self.tag = tag
        self.flip = flip
        self.delay = delay

    def fit(self, X, y):
        CALLS.append((self.tag, "fit", len(X)))
        time.sleep(self.delay)
        if self.flip:
            y = 1 - y
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X):
        CALLS.append((self.tag, "predict_proba", len(X)))
        return self.estimator_.predict_proba(X)

    def predict(self, X):
        CALLS.append((self.tag, "predict", len(X)))
        return self.estimator_.predict(X)


def spy_calls(tag, method, n_rows=None):
    """The calls of ``CALLS`` of module ``tag`` to ``method`` (on ``n_rows``
    rows, if given)."""
    return [c for c in CALLS if c[:2] == (tag, method) and n_rows in (None, c[2])]


def spied_ensemble(normaliser="sparsemax", **params):
    """A linear mixture of three spied modules, the third ("noise") fitted on
    flipped labels: a sparse normaliser gives it weight 0."""
    return SparseAttentionClassifier(
        [
            ("lr", Spy(LogisticRegression(), tag="lr")),
            ("nb", Spy(GaussianNB(), tag="nb")),
            ("noise", Spy(DecisionTreeClassifier(), tag="noise", flip=True)),
        ],
        normaliser=normaliser,
        combine="linear",
        cv=3,
        **params,
    )


def unseeded_forests(**params):
    """A SparseAttentionClassifier of two unseeded random forests (one in a
    Pipeline) and naive Bayes: its fits depend on ``random_state`` only."""
    return SparseAttentionClassifier(
        [
            ("rf", RandomForestClassifier(n_estimators=10)),
            (
                "pipe",
                make_pipeline(
                    StandardScaler(), RandomForestClassifier(n_estimators=10)
                ),
            ),
            ("nb", GaussianNB()),
        ],
        **params,
    )
