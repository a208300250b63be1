"""Property-based tests (hypothesis) and numerical extremes.

Invariants checked on the pure math (`skweighting._solvers`) and on the
estimators (the normalisers' own properties are in test_normalisers.py):

* permuting the modules permutes the learned weights and leaves the combined
  predictions unchanged;
* shifting and rescaling y leaves the regression weights unchanged;
* predicted probabilities are finite, in [0, 1] and sum to one;
* extreme temperature and alpha give finite, sensible weights.

Example counts are kept small: the whole file runs in a few seconds.
"""

import numpy as np
import pytest
from _helpers import solve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs, make_classification, make_regression
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils._testing import ignore_warnings

from skweighting import (
    SparseAttentionClassifier,
    SparseAttentionEnsemble,
    SparseAttentionRegressor,
)
from skweighting._combinations._common import clipped_log
from skweighting._combinations.average import QuadraticLoss
from skweighting._combinations.log_pool import LogPoolLoss
from skweighting._combinations.mixture import MixtureLoss

FAST = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SLOW = settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# --------------------------------------------------------------------------
# Permutation of the modules, on the math
# --------------------------------------------------------------------------
def _synthetic_outputs(seed, n_modules, n_classes, n_samples=60):
    """Module probabilities around a true distribution that y is drawn from.

    y is random given the outputs, so the problem is never separable and the
    optimum is a well-defined point (see the notes in the test below).
    """
    rng = np.random.default_rng(seed)
    truth = rng.dirichlet(np.ones(n_classes), size=n_samples)
    y = (rng.random(n_samples)[:, None] > np.cumsum(truth, axis=1)).sum(axis=1)
    y = np.minimum(y, n_classes - 1)
    noise = rng.uniform(0, 1, n_modules)
    proba = np.stack(
        [
            (1 - e) * truth + e * rng.dirichlet(np.ones(n_classes), size=n_samples)
            for e in noise
        ]
    )
    return proba, y


def _combination(kind, proba, y):
    n_samples = len(y)
    if kind == "log":
        return LogPoolLoss(clipped_log(proba.copy()), y)
    if kind == "linear":
        return MixtureLoss(proba[:, np.arange(n_samples), y])
    # Regression: each module "predicts" its probability of class 0.
    target = (y == 0).astype(float)
    errors = proba[:, :, 0] - target
    return QuadraticLoss(np.ascontiguousarray(errors[:, :, None]))


def _combined_output(kind, proba, weights, extra):
    if kind == "log":
        scores = np.exp(extra[0]) * np.einsum("m,mik->ik", weights, np.log(proba))
        scores -= scores.max(axis=1, keepdims=True)
        out = np.exp(scores)
        return out / out.sum(axis=1, keepdims=True)
    if kind == "linear":
        return np.einsum("m,mik->ik", weights, proba)
    return proba[:, :, 0].T @ weights


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n_modules=st.integers(2, 5),
    n_classes=st.integers(2, 4),
    kind=st.sampled_from(["log", "linear", "squared_error"]),
    temperature=st.sampled_from([0.3, 1.0, 3.0]),
    normaliser=st.sampled_from(["softmax", "sparsemax", "entmax15"]),
    data=st.data(),
)
def test_permuting_modules_permutes_learned_weights(
    seed, n_modules, n_classes, kind, temperature, normaliser, data
):
    perm = np.array(data.draw(st.permutations(range(n_modules)), label="perm"))
    proba, y = _synthetic_outputs(seed, n_modules, n_classes)
    # A tight tolerance so that both runs land on the optimum itself and not
    # on two different points of a flat valley around it.
    fits = [
        solve(
            _combination(kind, p, y),
            normaliser=normaliser,
            temperature=temperature,
            alpha=1e-4,
            tol=1e-9,
        )
        for p in (proba, proba[perm])
    ]
    weights = [fit.weights for fit in fits]
    np.testing.assert_allclose(weights[1], weights[0][perm], atol=1e-6)
    np.testing.assert_allclose(fits[1].logits, fits[0].logits[perm], atol=1e-4)
    outputs = [
        _combined_output(kind, p, w, fit.extra)
        for p, w, fit in zip((proba, proba[perm]), weights, fits)
    ]
    np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-6)


# --------------------------------------------------------------------------
# Permutation of the modules, on the estimator
# --------------------------------------------------------------------------
X_CLF, Y_CLF = make_classification(
    n_samples=90,
    n_features=6,
    n_informative=4,
    n_classes=3,
    flip_y=0.1,
    random_state=0,
)
# Deterministic modules: no randomness, so the order of the list cannot
# change any module's fit (seeds drawn from random_state follow that order).
DETERMINISTIC_CLASSIFIERS = [
    ("lr", LogisticRegression(C=0.1)),
    ("nb", GaussianNB()),
    ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
    ("knn", KNeighborsClassifier(n_neighbors=7)),
]


@SLOW
@given(
    perm=st.permutations(range(len(DETERMINISTIC_CLASSIFIERS))),
    combine=st.sampled_from(["log", "linear"]),
)
def test_permuting_estimators_permutes_weights_keeps_predictions(perm, combine):
    perm = np.array(perm)
    kwargs = dict(combine=combine, tol=1e-9, random_state=0)
    ref = SparseAttentionEnsemble(DETERMINISTIC_CLASSIFIERS, **kwargs)
    permuted = SparseAttentionEnsemble(
        [DETERMINISTIC_CLASSIFIERS[i] for i in perm], **kwargs
    )
    ref.fit(X_CLF, Y_CLF)
    permuted.fit(X_CLF, Y_CLF)
    np.testing.assert_allclose(
        permuted.attention_weights_, ref.attention_weights_[perm], atol=1e-6
    )
    np.testing.assert_allclose(permuted.oof_scores_, ref.oof_scores_[perm])
    np.testing.assert_allclose(
        permuted.predict_proba(X_CLF), ref.predict_proba(X_CLF), atol=1e-6
    )
    np.testing.assert_array_equal(permuted.predict(X_CLF), ref.predict(X_CLF))


# --------------------------------------------------------------------------
# Regression weights do not depend on the units of y
# --------------------------------------------------------------------------
X_REG, Y_REG = make_regression(
    n_samples=80, n_features=5, n_informative=3, noise=20.0, random_state=0
)
Y_REG_2D = np.column_stack([Y_REG, np.sin(Y_REG / 50.0)])
# Modules whose predictions are affine-equivariant in y (y -> a*y + b gives
# predictions a*f + b), so any change of the weights would be the ensemble's.
EQUIVARIANT_REGRESSORS = [
    ("ridge", Ridge(alpha=10.0)),
    ("ols", LinearRegression()),
    ("knn", KNeighborsRegressor(n_neighbors=5)),
    ("mean", DummyRegressor()),
]


@SLOW
@given(
    scale=st.floats(1e-3, 1e3),
    sign=st.sampled_from([-1.0, 1.0]),
    shift=st.floats(-1e3, 1e3),
    multi_output=st.booleans(),
    normaliser=st.sampled_from(["softmax", "sparsemax", "entmax15"]),
)
def test_regression_weights_ignore_shift_and_scale_of_y(
    scale, sign, shift, multi_output, normaliser
):
    y = Y_REG_2D if multi_output else Y_REG
    params = dict(normaliser=normaliser, tol=1e-9, max_iter=2000, random_state=0)
    ref = SparseAttentionRegressor(EQUIVARIANT_REGRESSORS, **params)
    moved = SparseAttentionRegressor(EQUIVARIANT_REGRESSORS, **params)
    with ignore_warnings():  # max_iter may be hit at this tight tol
        ref.fit(X_REG, y)
        moved.fit(X_REG, sign * scale * y + shift)
    np.testing.assert_allclose(
        moved.attention_weights_, ref.attention_weights_, atol=1e-6
    )
    np.testing.assert_allclose(moved.oof_scores_, ref.oof_scores_, atol=1e-8)
    np.testing.assert_allclose(
        moved.predict(X_REG),
        sign * scale * ref.predict(X_REG) + shift,
        rtol=1e-6,
        atol=1e-6 * scale * np.abs(y).max() + 1e-9 * abs(shift),
    )


@pytest.mark.parametrize("scale", [1e200, 1e-200])  # squares over- / underflow
def test_regression_weights_ignore_huge_scale_of_y(scale):
    ref = SparseAttentionRegressor(EQUIVARIANT_REGRESSORS).fit(X_REG, Y_REG)
    with np.errstate(all="ignore"):
        scaled = SparseAttentionRegressor(EQUIVARIANT_REGRESSORS).fit(
            X_REG, Y_REG * scale
        )
    np.testing.assert_allclose(
        scaled.attention_weights_, ref.attention_weights_, atol=1e-4
    )


# --------------------------------------------------------------------------
# Predicted probabilities are probabilities
# --------------------------------------------------------------------------
@SLOW
@given(
    seed=st.integers(0, 1000),
    n_classes=st.integers(2, 4),
    combine=st.sampled_from(["log", "linear"]),
    temperature=st.sampled_from([1e-4, 0.1, 1.0, 10.0, 1e4]),
    alpha=st.sampled_from([0.0, 1e-4, 1.0]),
    x_scale=st.sampled_from([1.0, 1e3]),
)
def test_predicted_probabilities_are_probabilities(
    seed, n_classes, combine, temperature, alpha, x_scale
):
    X, y = make_classification(
        n_samples=60,
        n_features=5,
        n_informative=3,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    clf = SparseAttentionClassifier(
        [
            ("lr", LogisticRegression()),
            ("nb", GaussianNB()),
            ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ],
        combine=combine,
        temperature=temperature,
        alpha=alpha,
        cv=3,
    ).fit(X, y)
    # Also far outside the training range, where modules are most extreme.
    X_test = np.vstack([X, x_scale * X[:10]])
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), n_classes)
    assert np.all(np.isfinite(proba))
    assert np.all(proba >= 0.0)
    assert np.all(proba <= 1.0 + 1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(
        clf.predict(X_test), clf.classes_[proba.argmax(axis=1)]
    )


# --------------------------------------------------------------------------
# Numerical extremes of temperature and alpha
# --------------------------------------------------------------------------
X_BLOBS, Y_BLOBS = make_blobs(
    n_samples=90, centers=3, cluster_std=3.0, n_features=4, random_state=0
)
EXTREME_CLASSIFIERS = [
    ("lr", LogisticRegression()),
    ("nb", GaussianNB()),
    ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
    ("knn", KNeighborsClassifier(n_neighbors=3)),
]
EXTREME_REGRESSORS = [
    ("ridge", Ridge()),
    ("knn", KNeighborsRegressor(n_neighbors=3)),
    ("mean", DummyRegressor()),
]


def _fit_extreme(kind, normaliser="softmax", **params):
    if kind == "regressor":
        return SparseAttentionRegressor(
            EXTREME_REGRESSORS, normaliser=normaliser, **params
        ).fit(X_REG, Y_REG)
    return SparseAttentionClassifier(
        EXTREME_CLASSIFIERS, combine=kind, normaliser=normaliser, **params
    ).fit(X_BLOBS, Y_BLOBS)


KINDS = ["log", "linear", "regressor"]


EXTREME_GRID = [
    (normaliser, temperature, alpha)
    for normaliser in ("softmax", "sparsemax", "entmax15")
    for temperature in (1e-4, 1.0, 1e4)
    for alpha in (0.0, 1e-4, 1e6)
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("normaliser, temperature, alpha", EXTREME_GRID)
def test_extreme_temperature_and_alpha_give_finite_weights(
    kind, normaliser, temperature, alpha
):
    with ignore_warnings():  # a ConvergenceWarning is fine here, NaN is not
        est = _fit_extreme(kind, normaliser, temperature=temperature, alpha=alpha)
    for attr in ("attention_logits_", "attention_weights_", "oof_scores_"):
        assert np.all(np.isfinite(getattr(est, attr))), attr
    assert np.all(est.attention_weights_ >= 0)
    assert est.attention_weights_.sum() == pytest.approx(1.0)
    if kind == "log":
        assert np.isfinite(est.sharpness_) and est.sharpness_ > 0
    if kind != "regressor":
        proba = est.predict_proba(X_BLOBS)
        assert np.all(np.isfinite(proba))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    else:
        assert np.all(np.isfinite(est.predict(X_REG)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "params", [dict(alpha=1e6), dict(temperature=1e4)], ids=["alpha", "temperature"]
)
def test_huge_alpha_or_temperature_gives_near_uniform_weights(kind, params):
    est = _fit_extreme(kind, **params)
    n_modules = len(est.attention_weights_)
    np.testing.assert_allclose(est.attention_weights_, 1.0 / n_modules, atol=1e-3)


@pytest.mark.parametrize("kind", KINDS)
def test_tiny_temperature_reaches_the_unpenalised_optimum(kind):
    # With u = logits / T the penalty is alpha * T^2 / 2 * ||u||^2: at
    # T = 1e-4 it vanishes, so the weights are those of alpha = 0.
    tiny = _fit_extreme(kind, temperature=1e-4)
    unpenalised = _fit_extreme(kind, alpha=0.0)
    np.testing.assert_allclose(
        tiny.attention_weights_, unpenalised.attention_weights_, atol=1e-3
    )


@pytest.mark.parametrize("kind", KINDS)
def test_temperature_is_a_regularisation_path(kind):
    # With u = logits / T the objective is loss(softmax(u)) + lambda/2 ||u||^2
    # with lambda = alpha * T^2. Along a regularisation path ||u|| cannot
    # grow and the data loss cannot shrink as lambda grows. (The entropy of
    # the weights need not be monotone, so it is not tested.)
    alpha = 1e-4
    norms, data_losses = [], []
    for temperature in (1e-4, 0.1, 1.0, 10.0, 1e4):
        est = _fit_extreme(kind, temperature=temperature, alpha=alpha, tol=1e-9)
        u = est.attention_logits_ / temperature
        norms.append(np.linalg.norm(u))
        penalty = 0.5 * alpha * np.sum(est.attention_logits_**2)
        data_losses.append(est.loss_curve_[-1] - penalty)
    assert np.all(np.diff(norms) <= 1e-6 * (1 + np.max(norms))), norms
    assert np.all(np.diff(data_losses) >= -1e-7), data_losses
    n_modules = len(est.attention_weights_)
    np.testing.assert_allclose(est.attention_weights_, 1 / n_modules, atol=1e-3)
