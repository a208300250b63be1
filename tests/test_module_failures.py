"""A module that fails on a fold or on its refit: with error_score='raise'
(the default) the fit stops with an error naming the module and the fold;
with error_score=np.nan the module is left out, with a warning, and the
ensemble is the one fitted without it."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skweighting import (
    SparseAttentionClassifier,
    SparseAttentionClassifierCV,
    SparseAttentionRegressor,
)

X, Y = make_classification(n_samples=100, n_features=5, random_state=0)
X_REG, Y_REG = make_regression(n_samples=100, n_features=5, noise=5.0, random_state=0)
CV = KFold(5)  # fold k holds out rows 20k to 20k + 19
ROW_0 = {False: X[0], True: X_REG[0]}


class Fragile(ClassifierMixin, RegressorMixin, BaseEstimator):
    """A logistic regression (or ridge, for a numeric y) that fails when
    fitted without row 0 (``on="fold 1"``: only fold 1 holds it out) or on
    all 100 rows (``on="refit"``)."""

    def __init__(self, on="fold 1", regression=False):
        self.on = on
        self.regression = regression

    def fit(self, X, y):
        holds_row_0 = np.any(np.all(ROW_0[self.regression] == X, axis=1))
        if (self.on == "fold 1" and not holds_row_0) or (
            self.on == "refit" and len(X) == 100
        ):
            raise RuntimeError("fragile")
        self.model_ = (Ridge() if self.regression else LogisticRegression()).fit(X, y)
        if not self.regression:
            self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor" if self.regression else "classifier"
        return tags


def _others():
    return [("nb", GaussianNB()), ("tree", DecisionTreeClassifier(max_depth=2))]


@pytest.mark.parametrize(
    "on, where", [("fold 1", "fold 1 of 5"), ("refit", "all rows")]
)
def test_by_default_a_failing_module_stops_the_fit_naming_where(on, where):
    ens = SparseAttentionClassifier([("bad", Fragile(on)), *_others()], cv=CV)
    with pytest.raises(
        RuntimeError,
        match=f"module 'bad' \\(Fragile\\) failed to fit on {where}: fragile",
    ):
        ens.fit(X, Y)


@pytest.mark.parametrize("normaliser", ["softmax", "sparsemax"])
@pytest.mark.parametrize("on", ["fold 1", "refit"])
def test_with_nan_a_failing_module_is_left_out_with_a_warning(on, normaliser):
    params = dict(cv=CV, normaliser=normaliser, random_state=0, error_score=np.nan)
    ens = SparseAttentionClassifier([("bad", Fragile(on)), *_others()], **params)
    with pytest.warns(
        FitFailedWarning,
        match="module 'bad' \\(Fragile\\) failed to fit on .*fragile.*left out",
    ) as record:
        ens.fit(X, Y)
    assert len([w for w in record if issubclass(w.category, FitFailedWarning)]) == 1
    table = ens.modules_
    assert table["failed"].tolist() == [True, False, False]
    assert "fragile" in table["error"][0] and table["error"][1] == ""
    assert table["weight"][0] == 0 and not table["pruned"][0]
    assert np.isnan(table["oof_score"][0])
    assert ens.named_estimators_["bad"] == "drop"
    assert ens.attention_logits_[0] == -np.inf
    # The ensemble is the one fitted without the failing module.
    without = SparseAttentionClassifier(_others(), **params).fit(X, Y)
    np.testing.assert_allclose(ens.attention_weights_[1:], without.attention_weights_)
    np.testing.assert_allclose(ens.predict_proba(X), without.predict_proba(X))


def test_a_regression_module_failing_on_a_fold_is_left_out():
    params = dict(cv=CV, random_state=0, error_score=np.nan)
    others = [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3))]
    ens = SparseAttentionRegressor(
        [("bad", Fragile(regression=True)), *others], **params
    )
    with pytest.warns(FitFailedWarning, match="fold 1 of 5"):
        ens.fit(X_REG, Y_REG)
    without = SparseAttentionRegressor(others, **params).fit(X_REG, Y_REG)
    np.testing.assert_allclose(ens.attention_weights_[1:], without.attention_weights_)
    np.testing.assert_allclose(ens.predict(X_REG), without.predict(X_REG))


def test_the_cv_estimator_leaves_a_failing_module_out_of_every_candidate():
    est = SparseAttentionClassifierCV(
        [("bad", Fragile()), *_others()], cv=CV, temperatures=3, error_score=np.nan
    )
    with pytest.warns(FitFailedWarning):
        est.fit(X, Y)
    assert np.all(est.cv_results_["weight_bad"] == 0)
    assert "bad" not in set(est.cv_results_["param_module"])
    assert np.all(est.weights_path_[:, 0] == 0)
    assert est.modules_["failed"][0]


def test_every_module_failing_is_an_error():
    ens = SparseAttentionClassifier(
        [("a", Fragile()), ("b", Fragile())], cv=CV, error_score=np.nan
    )
    with (
        pytest.warns(FitFailedWarning),
        pytest.raises(ValueError, match="Every module failed"),
    ):
        ens.fit(X, Y)


def test_error_score_is_raise_or_nan():
    ens = SparseAttentionClassifier(_others(), error_score=0.5)
    with pytest.raises(ValueError, match="error_score=0.5"):
        ens.fit(X, Y)
