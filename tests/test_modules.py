"""Calling modules (skweighting._modules): fitting, the fused output
check (probabilities, predictions, in blocks of rows), named errors, and
modules that are odd but valid (a fit that does not return self,
predict_proba that exists only once fitted).

The misbehaving modules these checks catch, end to end, are in
test_faults_modules.py."""

import numpy as np
import pytest
from _helpers import X_BINARY as X
from _helpers import Y_BINARY as Y
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from skweighting import SparseAttentionClassifier
from skweighting._modules import (
    call_module,
    check_predictions,
    check_probabilities,
    fit_module,
)

GOOD = np.array([[0.2, 0.8], [1.0, 0.0], [0.5, 0.5]])


def _check(output):
    return check_probabilities(np.asarray(output, float), "m", LogisticRegression(), 2)


# --------------------------------------------------------------------------
# The output checks
# --------------------------------------------------------------------------
def test_probabilities_pass_and_report_tiny_negatives():
    assert not _check(GOOD)
    assert _check([[1.0 + 1e-7, -1e-7], [0.5, 0.5]])


@pytest.mark.parametrize(
    "bad, message",
    [
        ([[np.nan, 1.0], [0.5, 0.5]], "NaN or infinite"),
        ([[np.inf, 0.0], [0.5, 0.5]], "NaN or infinite"),
        ([[-np.inf, 1.0], [0.5, 0.5]], "NaN or infinite"),
        ([[-0.5, 1.5], [0.5, 0.5]], "not probabilities"),
        ([[-0.1, 0.6], [0.5, 0.5]], "not probabilities"),
        ([[0.7, 0.7], [0.5, 0.5]], "not probabilities"),
        ([[1.0], [1.0]], "shape"),
    ],
)
def test_not_probabilities_are_named_errors(bad, message):
    with pytest.raises(
        ValueError, match=f"module 'm' \\(LogisticRegression\\).*{message}"
    ):
        _check(bad)


def test_predictions_check():
    out = check_predictions(np.arange(3.0), "r", LogisticRegression(), 1)
    assert out.shape == (3, 1)
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_predictions(np.array([1.0, np.nan]), "r", LogisticRegression(), 1)
    with pytest.raises(ValueError, match="predicted 2 outputs for a y with 1"):
        check_predictions(np.ones((3, 2)), "r", LogisticRegression(), 1)


def test_check_finds_a_bad_row_anywhere():
    rows = np.tile([[0.25, 0.75]], (10, 1))
    assert not _check(rows)
    cases = [
        (9, [np.nan, 1.0], "NaN or infinite"),
        (0, [np.inf, 0.0], "NaN or infinite"),
        (4, [-0.5, 1.5], "not probabilities"),
        (7, [0.6, 0.6], "not probabilities"),
        (2, [0.4, 0.4], "not probabilities"),
    ]
    for bad_row, bad, message in cases:
        broken = rows.copy()
        broken[bad_row] = bad
        with pytest.raises(ValueError, match=f"module 'm'.*{message}"):
            _check(broken)
    # A tiny negative in the last row is reported, not raised.
    rows[9] = [1.0 + 1e-7, -1e-7]
    assert _check(rows)


def test_prediction_check_is_exact_when_the_sum_overflows():
    # One sum proves every entry finite; when it overflows (finite but huge
    # entries) the entries are checked one by one.
    huge = np.full((3, 1), 1e308)
    assert check_predictions(huge, "m", None, 1).shape == (3, 1)
    for bad in ([np.inf], [-np.inf], [np.nan]):
        output = np.vstack([huge[:2], [bad]])
        with pytest.raises(ValueError, match="NaN or infinite"):
            check_predictions(output, "m", None, 1)
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_predictions(np.array([[np.inf], [-np.inf]]), "m", None, 1)


# --------------------------------------------------------------------------
# Fitting and calling a module
# --------------------------------------------------------------------------
class Forgetful(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)  # and no `return self`


class Broken(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise KeyError("boom")

    def predict_proba(self, X):
        raise RuntimeError("bust")


def test_fit_module_returns_the_module_and_names_failures():
    X, y = np.zeros((4, 1)), np.array([0, 1, 0, 1])
    module = Forgetful()
    assert fit_module(module, "f", X, y, {}) is module
    with pytest.raises(KeyError, match="module 'b' \\(Broken\\) failed to fit") as info:
        fit_module(Broken(), "b", X, y, {})
    assert isinstance(info.value.__cause__, KeyError)


def test_call_module_names_failures_and_missing_methods():
    with pytest.raises(RuntimeError, match="'b' \\(Broken\\) failed to predict_proba"):
        call_module(Broken(), "b", np.zeros((2, 1)), "predict_proba")
    with pytest.raises(ValueError, match="has no predict_proba after fitting"):
        call_module(Forgetful(), "f", np.zeros((2, 1)), "predict_proba")


class NoReturnSelf(ClassifierMixin, BaseEstimator):
    """A module whose fit forgets ``return self``."""

    def fit(self, X, y):
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_module_whose_fit_does_not_return_self():
    ens = SparseAttentionClassifier([("odd", NoReturnSelf()), ("nb", GaussianNB())])
    ens.fit(X, Y)
    assert ens.predict_proba(X).shape == (len(X), 2)


def test_module_whose_predict_proba_exists_only_after_fitting():
    # StackingClassifier has predict_proba only once its final estimator is
    # fitted; soft voting accepts it, so do we.
    stack = StackingClassifier([("nb", GaussianNB()), ("lr", LogisticRegression())])
    assert not hasattr(stack, "predict_proba")
    VotingClassifier([("stack", stack)], voting="soft").fit(X, Y)
    ens = SparseAttentionClassifier([("stack", stack), ("nb", GaussianNB())]).fit(X, Y)
    assert ens.predict_proba(X).shape == (len(Y), 2)
