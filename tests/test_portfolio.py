"""The default portfolios (``estimators=None``, skweighting._portfolio): the
modules they hold, their fit on dense and sparse X, and their helpers."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags

from skweighting import SparseAttentionClassifier, SparseAttentionRegressor
from skweighting._portfolio import _Standardize, _ToDense

X, Y = make_classification(
    n_samples=120, n_features=8, n_informative=4, n_classes=3, random_state=0
)
X[np.abs(X) < 0.8] = 0.0  # mostly zeros, as sparse data is
X_REG, Y_REG = make_regression(n_samples=100, n_features=6, noise=1.0, random_state=0)
X_REG[np.abs(X_REG) < 0.8] = 0.0


def test_default_portfolios_fit(cancer):
    X_train, X_test, y_train, y_test = cancer
    clf = SparseAttentionClassifier(random_state=0).fit(X_train, y_train)
    assert list(clf.named_estimators_) == [
        "logistic",
        "random_forest",
        "gradient_boosting",
        "naive_bayes",
    ]
    assert clf.score(X_test, y_test) > 0.93
    X, y = make_regression(n_samples=150, n_features=5, noise=5.0, random_state=0)
    reg = SparseAttentionRegressor(random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.9


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize(
    "Estimator, X_fit, y",
    [(SparseAttentionClassifier, X, Y), (SparseAttentionRegressor, X_REG, Y_REG)],
    ids=["classifier", "regressor"],
)
def test_default_portfolio_fits_sparse_X(Estimator, X_fit, y, fmt):
    est = Estimator(random_state=0, cv=3)
    assert get_tags(est).input_tags.sparse
    X_sparse = sparse.csr_matrix(X_fit).asformat(fmt)
    est.fit(X_sparse, y)
    np.testing.assert_allclose(est.attention_weights_.sum(), 1.0)
    prediction = est.predict(X_sparse)
    assert prediction.shape == (X_fit.shape[0],)
    # Fitted on sparse X, the ensemble is still better than a constant.
    assert est.score(X_sparse, y) > 0.5
    if Estimator is SparseAttentionClassifier:
        proba = est.predict_proba(X_sparse)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # The linear model was scaled, not centred: X stayed sparse.
    scaler = est.estimators_[0].steps[0][1]
    assert not scaler.scaler_.with_mean


def test_sparse_and_dense_X_give_the_same_trees():
    # Densifying for boosting and naive Bayes changes nothing but the
    # container: those modules predict the same from sparse and dense X.
    dense = SparseAttentionClassifier(random_state=0, cv=3).fit(X, Y)
    from_sparse = SparseAttentionClassifier(random_state=0, cv=3).fit(
        sparse.csr_matrix(X), Y
    )
    for name in ("gradient_boosting", "naive_bayes"):
        np.testing.assert_allclose(
            from_sparse.named_estimators_[name].predict_proba(X),
            dense.named_estimators_[name].predict_proba(X),
        )


def test_standardize_centres_dense_X_like_standard_scaler():
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(X))
    ours = _Standardize().fit(X, sample_weight=weights)
    theirs = StandardScaler().fit(X, sample_weight=weights)
    np.testing.assert_array_equal(ours.transform(X), theirs.transform(X))
    scaled = _Standardize().fit(sparse.csr_matrix(X)).transform(sparse.csr_matrix(X))
    assert sparse.issparse(scaled)
    np.testing.assert_allclose(
        scaled.toarray(), StandardScaler(with_mean=False).fit_transform(X)
    )


def test_helpers_clone_and_keep_dense_input_as_is():
    for helper in (_Standardize(), _ToDense()):
        assert clone(helper).get_params() == helper.get_params() == {}
    assert _ToDense().fit(X).transform(X) is X
    np.testing.assert_array_equal(_ToDense().transform(sparse.csr_matrix(X)), X)
