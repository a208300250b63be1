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
from skweighting._combinations.mixture import linear_mixture_loss


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
