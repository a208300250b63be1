"""The fixed-temperature estimators (skweighting._fixed):
SparseAttentionClassifier / Regressor / Ensemble learn the weights of one
combination at one temperature, out of fold, then prune.

The weights move from the best module's to uniform as the temperature
rises; out-of-fold scores do not reward a module that overfits; the fitted
attributes of the log pool; a grid search over the temperature; a
regressor prunes a useless module.
"""

import numpy as np
from _helpers import three_classifiers
from sklearn.datasets import make_regression
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeClassifier

from skweighting import SparseAttentionClassifier, SparseAttentionRegressor


def _entropy(weights):
    weights = weights[weights > 0]
    return float(-np.sum(weights * np.log(weights)))


# --------------------------------------------------------------------------
# The weights at one temperature, learned out of fold
# --------------------------------------------------------------------------
def test_temperature_moves_weights_from_the_best_module_to_uniform(cancer):
    X_train, _, y_train, _ = cancer
    weights = {}
    for temperature in (0.01, 0.1, 1.0, 10.0, 1e4):
        ens = SparseAttentionClassifier(
            three_classifiers(), temperature=temperature, alpha=1e-2
        ).fit(X_train, y_train)
        weights[temperature] = ens.attention_weights_
    entropies = [_entropy(weights[t]) for t in sorted(weights)]
    assert np.all(np.diff(entropies) > -1e-6), entropies
    # Very hot: near uniform.
    np.testing.assert_allclose(weights[1e4], np.full(3, 1 / 3), atol=1e-3)
    # Cold: the module with the best out-of-fold score gets the most weight.
    best = int(np.argmax(ens.oof_scores_))
    assert ens.named_estimators_["lr"] is ens.estimators_[0]
    assert np.argmax(weights[0.01]) == best
    assert weights[0.01][best] > 0.5


def test_out_of_fold_weights_do_not_reward_an_overfitted_tree():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    logits = X[:, 0] + 0.5 * X[:, 1]
    y = (logits + rng.normal(scale=1.5, size=400) > 0).astype(int)
    ens = SparseAttentionClassifier(
        [
            ("tree", DecisionTreeClassifier(random_state=0)),
            ("lr", LogisticRegression()),
        ],
        random_state=0,
    ).fit(X, y)
    # In-sample, the fully grown tree is perfect; out-of-fold it is not.
    assert ens.named_estimators_["tree"].score(X, y) == 1.0
    tree_weight, lr_weight = ens.attention_weights_
    assert lr_weight > tree_weight
    assert ens.oof_scores_[1] > ens.oof_scores_[0]


def test_log_pooling_fitted_attributes(cancer):
    X_train, X_test, y_train, y_test = cancer
    ens = SparseAttentionClassifier(three_classifiers()).fit(X_train, y_train)
    assert ens.combine_ == "log"
    assert ens.sharpness_ > 0
    assert ens.attention_logits_.shape == (3,)
    np.testing.assert_allclose(
        ens.attention_weights_,
        np.exp(ens.attention_logits_) / np.exp(ens.attention_logits_).sum(),
    )
    assert ens.n_iter_ == len(ens.loss_curve_) >= 1
    assert ens.n_features_in_ == X_train.shape[1]
    proba = ens.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # The pooled probabilities are what the formula in the docs says.
    outputs = [est.predict_proba(X_test) for est in ens.estimators_]
    pooled = ens.sharpness_ * sum(
        w * np.log(np.maximum(p, 1e-3)) for w, p in zip(ens.attention_weights_, outputs)
    )
    expected = np.exp(pooled - pooled.max(axis=1, keepdims=True))
    np.testing.assert_allclose(proba, expected / expected.sum(axis=1, keepdims=True))
    assert ens.score(X_test, y_test) > 0.9


def test_grid_search_over_temperature(cancer):
    X_train, _, y_train, _ = cancer
    # With alpha=1e-2 the penalty's strength alpha * T^2 spans 1e-4 to 1 over
    # this grid: from the unpenalised optimum to nearly uniform weights.
    grid = [0.1, 1.0, 10.0]

    def ensemble(**params):
        return SparseAttentionClassifier(
            three_classifiers(), alpha=1e-2, cv=3, random_state=0, **params
        )

    search = GridSearchCV(
        ensemble(), {"temperature": grid}, cv=3, scoring="neg_log_loss"
    ).fit(X_train, y_train)
    plain = {t: ensemble(temperature=t).fit(X_train, y_train) for t in grid}
    # The temperatures of the grid give different weights, and the search
    # saw it: its candidates' cross-validated scores differ.
    for low, high in zip(grid, grid[1:]):
        assert not np.allclose(
            plain[low].attention_weights_, plain[high].attention_weights_, atol=1e-3
        )
    assert len(set(search.cv_results_["mean_test_score"])) == len(grid)
    # The refitted best estimator is a plain fit at the chosen temperature.
    best = search.best_estimator_
    chosen = search.best_params_["temperature"]
    assert best.temperature == chosen
    np.testing.assert_allclose(
        best.attention_weights_, plain[chosen].attention_weights_, rtol=1e-10
    )
    np.testing.assert_allclose(
        best.predict_proba(X_train), plain[chosen].predict_proba(X_train), rtol=1e-10
    )


# --------------------------------------------------------------------------
# Pruning
# --------------------------------------------------------------------------
def test_regressor_prunes_too():
    X_reg, y_reg = make_regression(
        n_samples=150, n_features=4, noise=1.0, random_state=0
    )
    reg = SparseAttentionRegressor(
        [("ridge", Ridge()), ("mean", DummyRegressor())],
        normaliser="sparsemax",
    ).fit(X_reg, y_reg)
    np.testing.assert_array_equal(reg.attention_weights_, [1.0, 0.0])
    assert reg.named_estimators_["mean"] == "drop"
    np.testing.assert_allclose(
        reg.predict(X_reg), reg.named_estimators_["ridge"].predict(X_reg)
    )
