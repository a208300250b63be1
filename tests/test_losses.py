"""The losses of the three combinations: formulas and gradients."""

import numpy as np
import pytest
from _helpers import module_errors, module_probas, relative_gradient_error

from skweighting._losses import (
    SHARPNESS_PENALTY,
    LogPoolLoss,
    MixtureLoss,
    QuadraticLoss,
    clipped_log,
    error_gram,
    linear_mixture_loss,
    log_pool,
    log_pool_loss,
    quadratic_loss,
)


def test_log_pool_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    proba, y = module_probas(rng)
    log_proba = clipped_log(proba.copy())
    sample_weight = rng.uniform(0.1, 2.0, size=y.shape[0])
    sample_weight /= sample_weight.sum()

    def fun(params):
        loss, grad_w, grad_s = log_pool_loss(
            params[:4], params[4], log_proba, y, sample_weight
        )
        return loss, np.append(grad_w, grad_s)

    params = np.append(rng.dirichlet(np.ones(4)), 0.3)
    assert relative_gradient_error(fun, params) < 1e-5


def test_log_pool_equals_explicit_formula():
    rng = np.random.default_rng(2)
    proba, y = module_probas(rng, n_samples=30)
    weights = rng.dirichlet(np.ones(4))
    beta = 1.7
    pooled = beta * np.einsum("m,mik->ik", weights, np.log(proba))
    log_p = pooled - np.log(np.exp(pooled).sum(axis=1, keepdims=True))
    expected = -np.mean(log_p[np.arange(30), y])
    log_proba = clipped_log(proba.copy())
    loss, _, _ = log_pool_loss(weights, np.log(beta), log_proba, y, np.full(30, 1 / 30))
    assert loss == pytest.approx(expected)
    _, unnormalised, norm, _ = log_pool(weights, np.log(beta), log_proba)
    np.testing.assert_allclose(unnormalised / norm[:, None], np.exp(log_p))


def test_log_pool_rows_far_below_the_maximum_are_not_lost_to_underflow():
    # One row's scores sit 2000 below the other's: a single global shift
    # would underflow its row sum to zero.
    log_proba = np.log(np.array([[[0.5, 0.5], [0.7, 0.3]]]))
    log_proba[0, 1] -= 2000.0
    _, unnormalised, norm, log_norm = log_pool(np.ones(1), 0.0, log_proba)
    np.testing.assert_allclose(unnormalised[1] / norm[1], [0.7, 0.3])
    assert log_norm[1] == pytest.approx(-2000.0)


def test_log_pool_float32_tensor_is_not_upcast():
    rng = np.random.default_rng(3)
    proba, y = module_probas(rng, n_samples=50)
    log32 = clipped_log(proba.astype(np.float32))
    weights = rng.dirichlet(np.ones(4))
    sw = np.full(50, 1 / 50)
    loss32, grad32, _ = log_pool_loss(weights, 0.0, log32, y, sw)
    loss64, grad64, _ = log_pool_loss(weights, 0.0, log32.astype(np.float64), y, sw)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    np.testing.assert_allclose(grad32, grad64, rtol=1e-4)


def test_log_pool_loss_data_adds_the_sharpness_penalty():
    rng = np.random.default_rng(4)
    proba, y = module_probas(rng, n_samples=40)
    data = LogPoolLoss(clipped_log(proba.copy()), y)
    weights = rng.dirichlet(np.ones(4))
    plain = log_pool_loss(weights, 0.8, data.log_proba, y, data.sample_weight)[0]
    loss, _, _ = data.loss_grad(weights, np.array([0.8]))
    assert loss - plain == pytest.approx(0.5 * SHARPNESS_PENALTY * 0.8**2)


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


def test_quadratic_loss_is_the_weighted_squared_error_of_the_average():
    rng = np.random.default_rng(5)
    errors = module_errors(rng)
    sample_weight = rng.uniform(0.5, 1.5, errors.shape[1])
    sample_weight /= sample_weight.sum()
    weights = rng.dirichlet(np.ones(4))
    gram = error_gram(errors, sample_weight)
    loss, _ = quadratic_loss(weights, gram)
    residual = np.tensordot(weights, errors, axes=1)
    assert loss == pytest.approx(sample_weight @ np.mean(residual**2, axis=1))
    # Equal weights take the one-product path: the same matrix.
    equal = np.full(errors.shape[1], 1.0 / errors.shape[1])
    flat = errors.reshape(errors.shape[0], -1)
    np.testing.assert_allclose(error_gram(errors, equal), flat @ flat.T / flat.shape[1])
    assert relative_gradient_error(lambda w: quadratic_loss(w, gram), weights) < 1e-5


@pytest.mark.parametrize("make", ["log", "linear", "regression"])
def test_take_is_the_same_loss_on_the_rows_taken(make):
    rng = np.random.default_rng(8)
    proba, y = module_probas(rng, n_samples=120)
    sample_weight = rng.uniform(0.5, 2.0, 120)
    data = {
        "log": lambda: LogPoolLoss(clipped_log(proba.copy()), y, sample_weight),
        "linear": lambda: MixtureLoss(proba[:, np.arange(120), y], sample_weight),
        "regression": lambda: QuadraticLoss(module_errors(rng, 120), sample_weight),
    }[make]()
    rows = np.arange(0, 120, 3)
    subset = data.take(rows)
    assert subset.n_samples == 40
    assert subset.sample_weight.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(
        subset.sample_weight, sample_weight[rows] / sample_weight[rows].sum()
    )
    weights = rng.dirichlet(np.ones(4))
    extra = data.initial_extra()
    assert np.isfinite(subset.loss_grad(weights, extra)[0])


def test_weighted_gram_in_blocks_is_the_same_matrix(monkeypatch):
    from skweighting import _losses

    rng = np.random.default_rng(9)
    errors = module_errors(rng, n_samples=100)
    sample_weight = rng.uniform(0.5, 1.5, 100)
    sample_weight /= sample_weight.sum()
    whole = error_gram(errors, sample_weight)
    monkeypatch.setattr(_losses, "GRAM_BLOCK_ROWS", 7)
    np.testing.assert_allclose(error_gram(errors, sample_weight), whole)
    flat = errors.reshape(4, -1)
    row_weight = np.repeat(sample_weight / errors.shape[2], errors.shape[2])
    np.testing.assert_allclose(whole, (flat * row_weight) @ flat.T)
