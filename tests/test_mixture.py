"""LinearMixture and its loss: the probability mixture, its gradient and
its store."""

import numpy as np
import pytest
from _helpers import (
    FOLDS,
    _write_all,
    module_probas,
    relative_gradient_error,
)

from skweighting._combinations import LinearMixture
from skweighting._combinations.mixture import MixtureLoss, linear_mixture_loss


def test_linear_mixture_gradient_and_formula():
    rng = np.random.default_rng(4)
    proba, y = module_probas(rng)
    proba_true = proba[:, np.arange(y.shape[0]), y]
    sample_weight = np.full(y.shape[0], 1 / y.shape[0])
    weights = rng.dirichlet(np.ones(4))
    loss, _ = linear_mixture_loss(weights, proba_true, sample_weight)
    mixture = np.einsum("m,mik->ik", weights, proba)
    assert loss == pytest.approx(-np.mean(np.log(mixture[np.arange(len(y)), y])))

    def fun(w):
        return linear_mixture_loss(w, proba_true, sample_weight)

    assert relative_gradient_error(fun, weights) < 1e-5


def test_linear_mixture_floor_has_zero_gradient():
    proba_true = np.array([[0.0, 0.5], [0.0, 0.9]])  # (modules, samples)
    loss, grad = linear_mixture_loss(np.array([0.5, 0.5]), proba_true, np.full(2, 0.5))
    assert np.isfinite(loss)
    # Only the second row contributes to the gradient.
    np.testing.assert_allclose(grad, -0.5 * np.array([0.5, 0.9]) / 0.7)


def test_linear_mixture_store_keeps_only_the_true_class():
    rng = np.random.default_rng(2)
    proba, y = module_probas(rng)
    combination = LinearMixture(np.arange(3))
    loss = combination.loss(_write_all(combination, proba, y, FOLDS))
    np.testing.assert_allclose(loss.proba_true, proba[:, np.arange(len(y)), y])
    assert loss.proba is None  # the whole outputs only when asked for


def test_linear_mixture_floor_applies_strictly_below_1e_15():
    # A row whose mixture is below the floor adds a constant to the loss and
    # nothing to the gradient, even when its probabilities are not exactly
    # zero; a row exactly at the floor is not floored.
    proba_true = np.array([[1e-16, 1e-15, 0.5], [2e-16, 1e-15, 0.9]])
    sample_weight = np.full(3, 1 / 3)
    loss, grad = linear_mixture_loss(np.array([0.5, 0.5]), proba_true, sample_weight)
    at_floor = np.array([1e-15, 1e-15]) / 1e-15
    expected = -(at_floor + np.array([0.5, 0.9]) / 0.7) / 3
    np.testing.assert_allclose(grad, expected, rtol=1e-12)
    assert loss == pytest.approx(-(2 * np.log(1e-15) + np.log(0.7)) / 3)
    # Floored by a module with all the weight: the other's probability of
    # that row (0.9) does not reach the gradient either.
    _, grad = linear_mixture_loss(
        np.array([1.0, 0.0]), np.array([[1e-16, 0.5], [0.9, 0.5]]), np.full(2, 0.5)
    )
    np.testing.assert_allclose(grad, [-0.5, -0.5], rtol=1e-15)


def test_mixture_take_keeps_every_classes_probabilities():
    rng = np.random.default_rng(22)
    proba, y = module_probas(rng)
    loss = MixtureLoss(proba[:, np.arange(len(y)), y], None, proba)
    rows = np.arange(0, len(y), 4)
    weights = np.array([0.4, 0.3, 0.2, 0.1])
    np.testing.assert_allclose(
        loss.take(rows).predict_rows(np.array([0, 5]), weights, None),
        np.einsum("m,mik->ik", weights, proba[:, rows[[0, 5]]]),
    )
    assert MixtureLoss(proba[:, np.arange(len(y)), y]).take(rows).proba is None
