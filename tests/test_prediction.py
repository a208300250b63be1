"""Prediction (skweighting._prediction): predict, predict_proba and
transform return the weighted combination of the modules in use, call no
module with zero weight, check X (fitted, its width), and serve many
threads at once from one fitted model."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from _helpers import (
    CALLS,
    X_BINARY,
    Y_BINARY,
    classifier_with,
    spy_calls,
    three_classifiers,
)
from _helpers import X_REGRESSION as X_REG
from _helpers import X_THREE_CLASSES as X
from _helpers import Y_REGRESSION as Y_REG
from _helpers import Y_THREE_CLASSES as Y
from _helpers import Y_THREE_CLASSES_STR as Y_STR
from sklearn.datasets import make_regression
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skweighting import SparseAttentionClassifier, SparseAttentionRegressor
from skweighting import _prediction as prediction_module


# --------------------------------------------------------------------------
# The weighted combination
# --------------------------------------------------------------------------
def test_linear_mixture_predicts_the_weighted_mixture(cancer):
    X_train, X_test, y_train, _ = cancer
    ens = SparseAttentionClassifier(three_classifiers(), combine="linear").fit(
        X_train, y_train
    )
    assert not hasattr(ens, "sharpness_")
    mixture = sum(
        w * est.predict_proba(X_test)
        for w, est in zip(ens.attention_weights_, ens.estimators_)
    )
    np.testing.assert_allclose(ens.predict_proba(X_test), mixture)


def test_regressor_predicts_the_weighted_average_and_ignores_units():
    X, y = make_regression(n_samples=150, n_features=4, noise=10.0, random_state=1)
    modules = [
        ("lin", LinearRegression()),
        ("tree", DecisionTreeRegressor(max_depth=2, random_state=0)),
        ("knn", KNeighborsRegressor()),
    ]
    reg = SparseAttentionRegressor(modules).fit(X, y)
    average = sum(
        w * est.predict(X) for w, est in zip(reg.attention_weights_, reg.estimators_)
    )
    np.testing.assert_allclose(reg.predict(X), average)
    # Rescaling and shifting y leaves the weights unchanged.
    moved = SparseAttentionRegressor(modules).fit(X, 1000.0 * y - 5e4)
    np.testing.assert_allclose(
        moved.attention_weights_, reg.attention_weights_, atol=1e-6
    )
    assert reg.oof_scores_[0] > reg.oof_scores_[1]  # linear data: linear wins


def test_pruned_prediction_equals_the_weighted_combination(pruned):
    proba = pruned.predict_proba(X_BINARY)
    outputs = [e.predict_proba(X_BINARY) for e in pruned.estimators_]
    weights = pruned.attention_weights_[pruned.support_]
    np.testing.assert_allclose(proba, sum(w * o for w, o in zip(weights, outputs)))


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score", "transform"])
def test_zero_weight_module_is_never_called_at_predict(pruned, method):
    CALLS.clear()
    args = (X_BINARY, Y_BINARY) if method == "score" else (X_BINARY,)
    getattr(pruned, method)(*args)
    assert not [c for c in CALLS if c[0] == "noise"]
    assert spy_calls("lr", "predict_proba")


# --------------------------------------------------------------------------
# X at predict time
# --------------------------------------------------------------------------
def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        classifier_with().predict(X)


def test_wrong_number_of_features_at_predict():
    ens = classifier_with().fit(X, Y)
    with pytest.raises(ValueError, match="X has 4 features, but .* expecting 5"):
        ens.predict(X[:, :4])


# --------------------------------------------------------------------------
# Concurrency: one fitted model, many threads
# --------------------------------------------------------------------------
def _hammer(function, inputs, n_threads=8):
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        return list(pool.map(function, inputs))


@pytest.mark.parametrize("combine", ["log", "linear"])
def test_concurrent_predict_on_one_classifier(combine):
    ens = SparseAttentionClassifier(
        [
            ("lr", make_pipeline(StandardScaler(), LogisticRegression())),
            ("knn", KNeighborsClassifier()),
            ("rf", RandomForestClassifier(n_estimators=10)),
        ],
        combine=combine,
        random_state=0,
    ).fit(X, Y_STR)
    chunks = [X[i : i + 30] for i in range(0, 90, 15)] * 6
    for method in (ens.predict_proba, ens.predict, ens.transform):
        expected = [method(chunk) for chunk in chunks]
        results = _hammer(method, chunks)
        for got, want in zip(results, expected):
            np.testing.assert_array_equal(got, want)


def test_concurrent_predict_on_one_regressor():
    ens = SparseAttentionRegressor(
        [("ridge", Ridge()), ("knn", KNeighborsRegressor())], random_state=0
    ).fit(X_REG, Y_REG)
    expected = ens.predict(X_REG)
    for got in _hammer(ens.predict, [X_REG] * 32):
        np.testing.assert_array_equal(got, expected)


# --------------------------------------------------------------------------
# Blocks of rows: a row's prediction does not depend on its batch
# --------------------------------------------------------------------------
@pytest.mark.parametrize("combine", ["log", "linear", "regression"])
def test_a_rows_prediction_does_not_depend_on_its_batch_or_blocks(combine, monkeypatch):
    # Modules whose own outputs for a row do not depend on its batch (a
    # linear model's may, by an ulp, through BLAS): the combination then
    # gives the same bits.
    if combine == "regression":
        ens = SparseAttentionRegressor(
            [
                ("tree", DecisionTreeRegressor(max_depth=3, random_state=0)),
                ("knn", KNeighborsRegressor()),
            ],
            random_state=0,
        ).fit(X_REG, Y_REG)
        method, data = ens.predict, X_REG
    else:
        ens = SparseAttentionClassifier(
            [
                ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
                ("knn", KNeighborsClassifier()),
            ],
            combine=combine,
            random_state=0,
        ).fit(X, Y)
        method, data = ens.predict_proba, X
    assert ens.n_nonzero_ == 2
    whole = method(data)
    # Blocks of 7 rows (the last one shorter), each folded in on its own.
    monkeypatch.setattr(prediction_module, "PREDICT_BLOCK_BYTES", 1)
    monkeypatch.setattr(prediction_module, "PREDICT_MIN_BLOCK_ROWS", 7)
    np.testing.assert_array_equal(method(data), whole)
    for rows in (slice(0, 1), slice(5, 6), slice(13, 29)):
        np.testing.assert_array_equal(method(data[rows]), whole[rows])
