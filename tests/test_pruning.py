"""Pruning: the one-standard-error rule on the folds' out-of-fold losses,
the losses' fold sums and module drops it relies on, the solve with modules
held at zero, and what the estimators do with it."""

import numpy as np
import pytest
from _helpers import module_errors, module_probas, solve
from sklearn.datasets import load_breast_cancer, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skweighting import SparseAttentionClassifier, SparseAttentionRegressor
from skweighting._combinations._common import clipped_log
from skweighting._combinations.average import QuadraticLoss
from skweighting._combinations.log_pool import LogPoolLoss, log_pool
from skweighting._combinations.mixture import MixtureLoss
from skweighting._normalisers import NORMALISERS
from skweighting._pruning import NEGLIGIBLE_WEIGHT, prune, rise_and_standard_error

N_SAMPLES = 300
FOLDS = [slice(0, 100), slice(100, 200), slice(200, 300)]


def _losses(rng, sample_weight=None):
    proba, y = module_probas(rng, n_modules=4, n_samples=N_SAMPLES)
    true = proba[:, np.arange(N_SAMPLES), y]
    errors = module_errors(rng, N_SAMPLES, n_modules=4)
    return {
        "log": LogPoolLoss(clipped_log(proba), y, sample_weight),
        "linear": MixtureLoss(true, sample_weight),
        "regression": QuadraticLoss(errors, sample_weight),
    }


# --------------------------------------------------------------------------
# The losses' pieces
# --------------------------------------------------------------------------
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", ["log", "linear", "regression"])
def test_fold_sums_add_up_to_the_loss(name, weighted):
    rng = np.random.default_rng(0)
    sample_weight = rng.uniform(0.1, 2.0, N_SAMPLES) if weighted else None
    loss = _losses(rng, sample_weight)[name]
    weights = np.array([0.5, 0.3, 0.2, 0.0])
    extra = loss.initial_extra() + 0.3
    sums, fold_weight = loss.fold_sums(weights, extra, FOLDS)
    assert sums.shape == fold_weight.shape == (3,)
    assert sums.sum() == pytest.approx(loss.value(weights, extra), rel=1e-12)
    assert fold_weight.sum() == pytest.approx(1.0)
    expected = [loss.sample_weight[rows].sum() for rows in FOLDS]
    np.testing.assert_allclose(fold_weight, expected)


def test_fold_sums_from_fold_grams_equal_those_from_the_errors():
    rng = np.random.default_rng(1)
    errors = module_errors(rng, N_SAMPLES, n_modules=4)
    full = QuadraticLoss(errors)
    grams = np.array(
        [
            QuadraticLoss(errors[:, rows]).gram * (rows.stop - rows.start) / N_SAMPLES
            for rows in FOLDS
        ]
    )
    gram_only = QuadraticLoss(None, np.ones(N_SAMPLES), fold_grams=grams)
    weights = np.array([0.4, 0.3, 0.2, 0.1])
    np.testing.assert_allclose(
        gram_only.fold_sums(weights, None, FOLDS)[0],
        full.fold_sums(weights, None, FOLDS)[0],
        rtol=1e-12,
    )
    np.testing.assert_allclose(gram_only.gram, full.gram, rtol=1e-12)
    with pytest.raises(ValueError, match="Gram matrices of 3 folds, not 2"):
        gram_only.fold_sums(weights, None, FOLDS[:2])


@pytest.mark.parametrize("name", ["linear", "regression"])
def test_drop_rescales_the_other_weights(name):
    loss = _losses(np.random.default_rng(2))[name]
    weights, extra = loss.drop(np.array([0.5, 0.3, 0.2, 0.0]), np.zeros(0), 1)
    np.testing.assert_allclose(weights, [0.5 / 0.7, 0.0, 0.2 / 0.7, 0.0])


def test_log_pool_drop_removes_one_term_of_the_pool():
    # Dropping a module from the log pool leaves every other module's
    # exponent beta * w[m] as it was.
    rng = np.random.default_rng(3)
    loss = _losses(rng)["log"]
    weights, extra = np.array([0.5, 0.3, 0.2, 0.0]), np.array([0.4])
    new_weights, new_extra = loss.drop(weights, extra, 0)
    np.testing.assert_allclose(
        np.exp(new_extra[0]) * new_weights,
        np.exp(extra[0]) * np.array([0.0, 0.3, 0.2, 0.0]),
    )
    pooled = log_pool(new_weights, new_extra[0], loss.log_proba)[0]
    expected = np.exp(extra[0]) * np.tensordot([0, 0.3, 0.2, 0], loss.log_proba, 1)
    np.testing.assert_allclose(np.exp(new_extra[0]) * pooled, expected, atol=1e-12)


# --------------------------------------------------------------------------
# The rule
# --------------------------------------------------------------------------
def test_rise_and_standard_error_by_hand():
    optimum = np.array([1.0, 2.0, 3.0, 4.0])
    fold_weight = np.array([0.25, 0.25, 0.25, 0.25])
    rises = np.array([0.1, 0.3, -0.1, 0.1])  # per fold, as means
    candidate = optimum + rises * fold_weight
    rise, standard_error = rise_and_standard_error(candidate, optimum, fold_weight)
    assert rise == pytest.approx(0.1)
    assert standard_error == pytest.approx(np.sqrt(np.var(rises) / 3))


def test_rise_and_standard_error_leaves_out_folds_without_weight():
    optimum = np.array([1.0, 2.0, 0.0])
    candidate = np.array([1.2, 2.2, 5.0])
    rise, standard_error = rise_and_standard_error(
        candidate, optimum, np.array([0.5, 0.5, 0.0])
    )
    assert rise == pytest.approx(0.4) and standard_error == pytest.approx(0.0)
    # One fold with weight: no spread to measure, nothing can be dropped.
    _, standard_error = rise_and_standard_error(
        candidate, optimum, np.array([1.0, 0.0, 0.0])
    )
    assert standard_error == np.inf


class _Penalised:
    """What `prune` asks of an objective: its loss, and a penalty (none by
    default)."""

    def __init__(self, loss, penalty=None):
        self.loss = loss
        self._penalty = penalty

    def penalty(self, weights, extra):
        return 0.0 if self._penalty is None else self._penalty(weights, extra)


def _optimum(loss):
    fit = solve(loss, temperature=1.0, alpha=0.0, normaliser="sparsemax")
    return fit.weights, fit.extra


@pytest.mark.parametrize("tol", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("name", ["log", "linear", "regression"])
def test_prune_stops_at_the_first_drop_beyond_tol_standard_errors(name, tol):
    rng = np.random.default_rng(4)
    loss = _losses(rng)[name]
    weights, extra = _optimum(loss)
    optimum, fold_weight = loss.fold_sums(weights, extra, FOLDS)
    pruned, pruned_extra = prune(_Penalised(loss), weights, extra, FOLDS, tol)
    kept = pruned > 0
    assert np.all(kept <= (weights > 0))  # only modules of the optimum stay
    assert pruned.sum() == pytest.approx(1.0)
    # Accepted: within tol standard errors of the optimum.
    rise, standard_error = rise_and_standard_error(
        loss.fold_sums(pruned, pruned_extra, FOLDS)[0], optimum, fold_weight
    )
    assert rise <= tol * standard_error + 1e-12
    # The next drop (of the smallest remaining weight) is not.
    if kept.sum() > 1:
        smallest = np.flatnonzero(kept)[np.argmin(pruned[kept])]
        next_weights, next_extra = loss.drop(pruned, pruned_extra, smallest)
        rise, standard_error = rise_and_standard_error(
            loss.fold_sums(next_weights, next_extra, FOLDS)[0], optimum, fold_weight
        )
        assert rise > tol * standard_error


def _small_gain_loss():
    """Two good modules with independent errors and a third that is only
    right on 4% of the rows, where both others fail: the optimum gives it a
    small weight (0.018) whose gain is within the loss's noise."""
    rng = np.random.default_rng(0)
    good = np.clip(rng.beta(4, 2, (2, N_SAMPLES)), 0.01, 0.99)
    rescuer = np.full(N_SAMPLES, 0.3)
    rescued = rng.random(N_SAMPLES) < 0.04
    good[:, rescued], rescuer[rescued] = 0.05, 0.9
    return MixtureLoss(np.vstack([good, rescuer]))


def test_prune_drops_a_module_whose_gain_is_noise_and_keeps_the_signal():
    loss = _small_gain_loss()
    weights, extra = _optimum(loss)
    assert np.all(weights > 0) and weights[2] < 0.05
    pruned, _ = prune(_Penalised(loss), weights, extra, FOLDS, 1.0)
    assert pruned[2] == 0 and np.all(pruned[:2] > 0.25)
    # With a tolerance far below one standard error the module stays.
    np.testing.assert_array_equal(
        prune(_Penalised(loss), weights, extra, FOLDS, 1e-3)[0], weights
    )


def test_the_penalty_counts_in_the_rise():
    # The same drop does not pass once moving the weights costs more of the
    # objective than the loss's noise.
    loss = _small_gain_loss()
    weights, extra = _optimum(loss)
    penalised = _Penalised(loss, lambda w, e: 1e3 * np.sum((w - weights) ** 2))
    kept, _ = prune(penalised, weights, extra, FOLDS, 1.0)
    np.testing.assert_array_equal(kept, weights)


def test_negligible_weights_are_dropped_untested():
    # entmax15's optimum gives every module a weight held up only by the
    # penalty; those below a millionth go without an evaluation of the loss,
    # even when a penalty would make any drop fail the test.
    rng = np.random.default_rng(7)
    proba, y = module_probas(rng, n_modules=5, n_samples=N_SAMPLES)
    loss = MixtureLoss(proba[:, np.arange(N_SAMPLES), y])
    evaluated = []
    fold_sums = loss.fold_sums

    def counting(weights, extra, folds):
        evaluated.append(np.count_nonzero(weights))
        return fold_sums(weights, extra, folds)

    loss.fold_sums = counting
    weights = np.array([0.6, 0.4 - 6e-9, 1e-9, 2e-9, 3e-9])
    penalised = _Penalised(loss, lambda w, e: 1e3 * np.sum((w - weights) ** 2))
    pruned, _ = prune(penalised, weights, np.zeros(0), FOLDS, 1.0)
    assert evaluated == [5, 1]  # the optimum, then the first real candidate
    np.testing.assert_allclose(pruned, [0.6, 0.4, 0, 0, 0], atol=1e-8)
    assert np.all(pruned[2:] == 0)
    # All negligible: the largest is kept.
    tiny = np.array([1e-7, 3e-7, 2e-7])
    only, _ = prune(
        _Penalised(MixtureLoss(proba[:3, np.arange(N_SAMPLES), y])),
        tiny,
        None,
        FOLDS,
        1.0,
    )
    np.testing.assert_array_equal(only > 0, [False, True, False])


def test_prune_with_zero_tol_keeps_the_optimum():
    loss = _losses(np.random.default_rng(6))["linear"]
    weights, extra = _optimum(loss)
    np.testing.assert_array_equal(
        prune(_Penalised(loss), weights, extra, FOLDS, 0.0)[0], weights
    )


# --------------------------------------------------------------------------
# The solve with modules held at zero
# --------------------------------------------------------------------------
@pytest.mark.parametrize("normaliser", ["sparsemax", "entmax15"])
@pytest.mark.parametrize("name", ["log", "linear", "regression"])
def test_fixed_zero_reaches_the_optimum_of_the_other_modules(name, normaliser):
    # At alpha=0 the optimum over the face of modules 0 and 2 is the optimum
    # of those two modules alone.
    rng = np.random.default_rng(7)
    loss = _losses(rng)[name]
    fixed = np.array([False, True, False, True])
    fit = solve(
        loss, temperature=1.0, alpha=0.0, normaliser=normaliser, fixed_zero=fixed
    )
    assert np.all(fit.weights[fixed] == 0.0)
    pair = {
        "log": lambda: LogPoolLoss(loss.log_proba[~fixed], loss.y),
        "linear": lambda: MixtureLoss(loss.proba_true[~fixed]),
        "regression": lambda: QuadraticLoss(loss.errors[~fixed]),
    }[name]()
    reference = solve(pair, temperature=1.0, alpha=0.0, normaliser=normaliser)
    assert fit.objective == pytest.approx(reference.objective, rel=1e-6)
    # The logits map onto the weights, zeros included.
    forward = NORMALISERS[normaliser].forward
    np.testing.assert_allclose(forward(fit.logits), fit.weights, atol=1e-12)


def test_fixed_zero_needs_a_sparse_normaliser():
    loss = _losses(np.random.default_rng(8))["linear"]
    with pytest.raises(ValueError, match="Only a sparse normaliser"):
        solve(
            loss,
            temperature=1.0,
            alpha=1e-4,
            normaliser="softmax",
            fixed_zero=np.array([True, False, False, False]),
        )


# --------------------------------------------------------------------------
# The estimators
# --------------------------------------------------------------------------
X_BC, Y_BC = load_breast_cancer(return_X_y=True)
CLASSIFIERS = [
    ("lr", make_pipeline(StandardScaler(), LogisticRegression())),
    ("nb", GaussianNB()),
    ("knn", KNeighborsClassifier()),
    ("tree", DecisionTreeClassifier(max_depth=4, random_state=0)),
]


@pytest.mark.parametrize("combine", ["log", "linear"])
@pytest.mark.parametrize("normaliser", ["sparsemax", "entmax15"])
def test_pruning_keeps_a_subset_of_the_optimum(combine, normaliser):
    params = dict(combine=combine, normaliser=normaliser, cv=5, random_state=0)
    optimum = SparseAttentionClassifier(CLASSIFIERS, prune_tol=0, **params)
    pruned = SparseAttentionClassifier(CLASSIFIERS, prune_tol=1.0, **params)
    optimum.fit(X_BC, Y_BC)
    pruned.fit(X_BC, Y_BC)
    assert np.all(pruned.support_ <= optimum.support_)
    assert pruned.n_nonzero_ < optimum.n_nonzero_  # this data set has spares
    assert len(pruned.estimators_) == pruned.n_nonzero_
    forward = NORMALISERS[normaliser].forward
    np.testing.assert_allclose(
        forward(pruned.attention_logits_ / pruned.temperature),
        pruned.attention_weights_,
        atol=1e-12,
    )
    assert pruned.score(X_BC, Y_BC) > 0.9


@pytest.mark.parametrize("normaliser", ["sparsemax", "entmax15"])
def test_high_temperature_keeps_every_module(normaliser):
    # The rule weighs the whole objective: far from the loss's optimum (the
    # penalty pulling the weights to uniform) dropping a module lowers the
    # loss but raises the penalty by far more, so nothing is dropped.
    est = SparseAttentionClassifier(
        CLASSIFIERS, normaliser=normaliser, temperature=1e4, cv=3, random_state=0
    ).fit(X_BC, Y_BC)
    assert est.n_nonzero_ == len(CLASSIFIERS)
    np.testing.assert_allclose(est.attention_weights_, 0.25, atol=1e-3)


def test_softmax_ignores_prune_tol():
    params = dict(normaliser="softmax", cv=3, random_state=0)
    a = SparseAttentionClassifier(CLASSIFIERS, prune_tol=0, **params).fit(X_BC, Y_BC)
    b = SparseAttentionClassifier(CLASSIFIERS, prune_tol=5, **params).fit(X_BC, Y_BC)
    np.testing.assert_array_equal(a.attention_weights_, b.attention_weights_)


def test_regressor_prunes_with_the_folds_gram_matrices():
    X, y = make_regression(n_samples=300, n_features=5, noise=5.0, random_state=0)
    modules = [
        ("ridge", Ridge()),
        ("ridge_too", Ridge(alpha=3.0)),
        ("tree", DecisionTreeRegressor(max_depth=3, random_state=0)),
    ]
    params = dict(normaliser="sparsemax", cv=5)
    optimum = SparseAttentionRegressor(modules, prune_tol=0, **params).fit(X, y)
    pruned = SparseAttentionRegressor(modules, prune_tol=1.0, **params).fit(X, y)
    assert np.all(pruned.support_ <= optimum.support_)
    assert pruned.attention_weights_.sum() == pytest.approx(1.0)
    assert pruned.score(X, y) > 0.9


def test_pruning_is_logged(capsys):
    SparseAttentionClassifier(
        CLASSIFIERS, normaliser="sparsemax", cv=5, verbose=1, random_state=0
    ).fit(X_BC, Y_BC)
    assert "pruned [" in capsys.readouterr().out


def test_nan_is_rejected_even_when_only_nan_tolerant_modules_are_left():
    # y is the xor of two signs: the tree reads it exactly, the linear model
    # is at chance and gets no weight, so only the tree (which accepts NaN)
    # is left; the ensemble, whose tags say it does not accept NaN, still
    # rejects it.
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(400, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    ens = SparseAttentionClassifier(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=4))],
        normaliser="sparsemax",
        combine="linear",
        random_state=0,
    ).fit(X, y)
    assert list(ens.support_) == [False, True]
    with pytest.raises(ValueError, match="NaN"):
        ens.predict(np.array([[np.nan, 1.0]]))


def test_only_weights_below_a_millionth_go_untested():
    # Just below the threshold: dropped without an evaluation. Just above:
    # tested, and kept here because a penalty makes every tested drop fail.
    rng = np.random.default_rng(8)
    proba, y = module_probas(rng, n_modules=4, n_samples=N_SAMPLES)
    loss = MixtureLoss(proba[:, np.arange(N_SAMPLES), y])
    weights = np.array([0.6, 0.4 - 2.5e-6, 2e-6, 5e-7])
    penalised = _Penalised(loss, lambda w, e: 1e3 * np.abs(w - weights).sum())
    pruned, _ = prune(penalised, weights, np.zeros(0), FOLDS, 1.0)
    assert pruned[3] == 0.0
    assert pruned[2] > 0.0


# --------------------------------------------------------------------------
# Boundaries of the rule
# --------------------------------------------------------------------------
def test_rise_and_standard_error_weighs_folds_by_their_share():
    # Fold weights of a subset of rows need not sum to one: each fold's rise
    # counts by its share of their sum (here 1/4 and 3/4).
    optimum = np.array([1.0, 2.0])
    fold_weight = np.array([0.1, 0.3])
    candidate = optimum + np.array([0.2, -0.1]) * fold_weight  # mean rises
    rise, standard_error = rise_and_standard_error(candidate, optimum, fold_weight)
    assert rise == pytest.approx(0.25 * 0.2 + 0.75 * -0.1, abs=1e-15)
    # The weighted variance of the rises around -0.025, over n_folds - 1 = 1.
    variance = 0.25 * 0.225**2 + 0.75 * 0.075**2
    assert standard_error == pytest.approx(np.sqrt(variance), rel=1e-12)


def test_prune_with_zero_tol_keeps_even_negligible_weights():
    # tol=0 keeps the optimum's support as it is: not even the weights below
    # a millionth go, and the loss is never evaluated.
    loss = _losses(np.random.default_rng(6))["linear"]
    loss.fold_sums = None  # never called
    weights = np.array([0.6, 0.4 - 1e-9, 1e-9, 0.0])
    kept, extra = prune(_Penalised(loss), weights, np.zeros(0), FOLDS, 0.0)
    np.testing.assert_array_equal(kept, weights)
    # A one-hot list of integers comes back as float64 weights.
    one_hot, _ = prune(_Penalised(loss), [0, 1, 0, 0], np.zeros(0), FOLDS, 0.0)
    assert one_hot.dtype == np.float64
    np.testing.assert_array_equal(one_hot, [0.0, 1.0, 0.0, 0.0])


def test_a_drop_that_leaves_the_loss_unchanged_is_accepted():
    # Two copies of one module at equal weights: dropping one gives the same
    # mixture bit for bit, a rise of exactly zero with a standard error of
    # exactly zero, which is within any tol (the rule is rise <= tol * se).
    rng = np.random.default_rng(9)
    proba, y = module_probas(rng, n_modules=2, n_samples=N_SAMPLES)
    true = proba[0, np.arange(N_SAMPLES), y]
    loss = MixtureLoss(np.vstack([true, true]))
    weights = np.array([0.5, 0.5])
    optimum, fold_weight = loss.fold_sums(weights, np.zeros(0), FOLDS)
    dropped = loss.fold_sums(np.array([0.0, 1.0]), np.zeros(0), FOLDS)[0]
    assert rise_and_standard_error(dropped, optimum, fold_weight) == (0.0, 0.0)
    pruned, _ = prune(_Penalised(loss), weights, np.zeros(0), FOLDS, 1.0)
    np.testing.assert_array_equal(pruned, [0.0, 1.0])


def test_a_weight_of_exactly_a_millionth_is_tested():
    # NEGLIGIBLE_WEIGHT itself is not below the threshold: it is tested (and
    # kept here, as the penalty makes every tested drop fail).
    rng = np.random.default_rng(8)
    proba, y = module_probas(rng, n_modules=3, n_samples=N_SAMPLES)
    loss = MixtureLoss(proba[:, np.arange(N_SAMPLES), y])
    weights = np.array([0.6, 0.4 - NEGLIGIBLE_WEIGHT, NEGLIGIBLE_WEIGHT])
    penalised = _Penalised(loss, lambda w, e: 1e3 * np.abs(w - weights).sum())
    pruned, _ = prune(penalised, weights, np.zeros(0), FOLDS, 1.0)
    np.testing.assert_array_equal(pruned, weights)


def test_negligible_drops_carry_the_log_pools_sharpness():
    # A negligible module dropped from the log pool lowers the sharpness by
    # log(1 - w), so that the other modules' exponents beta * w[m] stay.
    rng = np.random.default_rng(10)
    loss = _losses(rng)["log"]
    weights = np.array([0.6, 0.4 - 1e-9, 1e-9, 0.0])
    extra = np.array([0.3])
    penalised = _Penalised(loss, lambda w, e: 1e3 * np.abs(w - weights).sum())
    pruned, pruned_extra = prune(penalised, weights, extra, FOLDS, 1.0)
    np.testing.assert_allclose(pruned, np.array([0.6, 0.4 - 1e-9, 0, 0]) / (1 - 1e-9))
    assert pruned_extra[0] == pytest.approx(0.3 + np.log(1 - 1e-9), abs=1e-15)
