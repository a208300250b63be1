"""The pure math: normaliser, losses, gradients, solvers."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime, check_grad

from skweighting._attention import (
    AttentionObjective,
    LinearMixture,
    LogPooling,
    SquaredError,
    clipped_log,
    error_gram,
    learn_attention,
    linear_mixture_loss,
    log_pool_loss,
    quadratic_loss,
    softmax,
    softmax_backward,
    squared_error_loss,
)


def _module_probas(rng, n_modules=4, n_samples=200, n_classes=3, signal=(0.6, 0.3)):
    """Noisy class probabilities where the first modules know some truth."""
    y = rng.integers(0, n_classes, n_samples)
    proba = rng.dirichlet(np.ones(n_classes), size=(n_modules, n_samples))
    for m, strength in enumerate(signal):
        proba[m, np.arange(n_samples), y] += strength
    proba /= proba.sum(axis=-1, keepdims=True)
    return proba, y


def _module_errors(rng, n_samples=150, n_outputs=2, n_modules=4):
    truth = rng.normal(size=(n_samples, n_outputs))
    noise_levels = np.linspace(0.3, 2.0, n_modules)
    errors = rng.normal(size=(n_samples, n_outputs, n_modules)) * noise_levels
    return truth, errors


def _relative_gradient_error(fun, x):
    numeric = approx_fprime(x, lambda v: fun(v)[0], 1e-7)
    analytic = fun(x)[1]
    return np.linalg.norm(numeric - analytic) / max(np.linalg.norm(analytic), 1e-12)


# --------------------------------------------------------------------------
# softmax
# --------------------------------------------------------------------------
@pytest.mark.parametrize("temperature", [1e-3, 1e-1, 1.0, 10.0, 1e3])
def test_softmax_is_a_stable_distribution(temperature):
    logits = np.array([800.0, -800.0, 3.0, 3.0 + 1e-9])
    weights = softmax(logits, temperature)
    assert np.all(np.isfinite(weights))
    assert np.all(weights >= 0)
    assert weights.sum() == pytest.approx(1.0)


def test_softmax_temperature_limits():
    logits = np.array([1.0, 2.0, 0.5])
    assert softmax(logits, 1e-3) == pytest.approx([0.0, 1.0, 0.0])
    assert softmax(logits, 1e3) == pytest.approx(np.full(3, 1 / 3), abs=1e-3)
    # Shift invariance, as any softmax.
    assert softmax(logits + 100.0, 0.7) == pytest.approx(softmax(logits, 0.7))


@pytest.mark.parametrize("temperature", [0.05, 1.0, 7.0])
def test_softmax_backward_matches_finite_differences(temperature):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=5)
    direction = rng.normal(size=5)  # loss = direction @ softmax(logits / T)

    def fun(z):
        weights = softmax(z, temperature)
        return direction @ weights, softmax_backward(weights, direction, temperature)

    assert _relative_gradient_error(fun, logits) < 1e-5


# --------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------
def test_log_pool_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    proba, y = _module_probas(rng)
    log_proba = clipped_log(proba.copy())
    sample_weight = rng.uniform(0.1, 2.0, size=y.shape[0])
    sample_weight /= sample_weight.sum()

    def fun(params):
        loss, grad_w, grad_s = log_pool_loss(
            params[:4], params[4], log_proba, y, sample_weight
        )
        return loss, np.append(grad_w, grad_s)

    params = np.append(rng.dirichlet(np.ones(4)), 0.3)
    assert _relative_gradient_error(fun, params) < 1e-5


def test_log_pool_equals_explicit_formula():
    rng = np.random.default_rng(2)
    proba, y = _module_probas(rng, n_samples=30)
    weights = rng.dirichlet(np.ones(4))
    beta = 1.7
    pooled = beta * np.einsum("m,mik->ik", weights, np.log(proba))
    log_p = pooled - np.log(np.exp(pooled).sum(axis=1, keepdims=True))
    expected = -np.mean(log_p[np.arange(30), y])
    loss, _, _ = log_pool_loss(
        weights, np.log(beta), clipped_log(proba.copy()), y, np.full(30, 1 / 30)
    )
    assert loss == pytest.approx(expected)


def test_log_pool_float32_tensor_is_not_upcast():
    rng = np.random.default_rng(3)
    proba, y = _module_probas(rng, n_samples=50)
    log32 = clipped_log(proba.astype(np.float32))
    weights = rng.dirichlet(np.ones(4))
    sw = np.full(50, 1 / 50)
    loss32, grad32, _ = log_pool_loss(weights, 0.0, log32, y, sw)
    loss64, grad64, _ = log_pool_loss(weights, 0.0, log32.astype(np.float64), y, sw)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    np.testing.assert_allclose(grad32, grad64, rtol=1e-4)


def test_linear_mixture_gradient_and_formula():
    rng = np.random.default_rng(4)
    proba, y = _module_probas(rng)
    proba_true = proba[:, np.arange(y.shape[0]), y].T.copy()
    sample_weight = np.full(y.shape[0], 1 / y.shape[0])
    weights = rng.dirichlet(np.ones(4))
    loss, _ = linear_mixture_loss(weights, proba_true, sample_weight)
    mixture = np.einsum("m,mik->ik", weights, proba)
    assert loss == pytest.approx(-np.mean(np.log(mixture[np.arange(len(y)), y])))
    assert (
        check_grad(
            lambda w: linear_mixture_loss(w, proba_true, sample_weight)[0],
            lambda w: linear_mixture_loss(w, proba_true, sample_weight)[1],
            weights,
        )
        < 1e-5
    )


def test_linear_mixture_floor_has_zero_gradient():
    proba_true = np.array([[0.0, 0.0], [0.5, 0.9]])
    loss, grad = linear_mixture_loss(np.array([0.5, 0.5]), proba_true, np.full(2, 0.5))
    assert np.isfinite(loss)
    # Only the second row contributes to the gradient.
    np.testing.assert_allclose(grad, -0.5 * np.array([0.5, 0.9]) / 0.7)


def test_squared_error_gradient_and_gram():
    rng = np.random.default_rng(5)
    _, errors = _module_errors(rng)
    sample_weight = rng.uniform(0.5, 1.5, errors.shape[0])
    sample_weight /= sample_weight.sum()
    weights = rng.dirichlet(np.ones(4))

    def fun(w):
        return squared_error_loss(w, errors, sample_weight)

    assert _relative_gradient_error(fun, weights) < 1e-5
    gram = error_gram(errors, sample_weight)
    loss, grad = fun(weights)
    gram_loss, gram_grad = quadratic_loss(weights, gram)
    assert gram_loss == pytest.approx(loss)
    np.testing.assert_allclose(gram_grad, grad)
    residual = errors @ weights
    assert loss == pytest.approx(sample_weight @ np.mean(residual**2, axis=1))


# --------------------------------------------------------------------------
# the full objective (normaliser + combination + penalty)
# --------------------------------------------------------------------------
def _combinations(rng):
    proba, y = _module_probas(rng)
    proba_true = proba[:, np.arange(y.shape[0]), y].T.copy()
    _, errors = _module_errors(rng)
    return {
        "log": LogPooling(clipped_log(proba.copy()), y),
        "linear": LinearMixture(proba_true),
        "regression": SquaredError(errors),
    }


@pytest.mark.parametrize("name", ["log", "linear", "regression"])
@pytest.mark.parametrize("temperature", [0.1, 1.0, 5.0])
def test_objective_gradient_matches_finite_differences(name, temperature):
    rng = np.random.default_rng(6)
    combination = _combinations(rng)[name]
    objective = AttentionObjective(combination, temperature=temperature, alpha=0.01)
    theta = rng.normal(size=combination.n_modules + combination.n_extra)
    assert _relative_gradient_error(objective, theta) < 1e-5


@pytest.mark.parametrize("name", ["log", "linear", "regression"])
def test_penalty_is_alpha_half_squared_logits(name):
    rng = np.random.default_rng(7)
    combination = _combinations(rng)[name]
    theta = rng.normal(size=combination.n_modules + combination.n_extra)
    temperature, alpha = 2.5, 0.3
    with_penalty = AttentionObjective(combination, temperature=temperature, alpha=alpha)
    without = AttentionObjective(combination, temperature=temperature, alpha=0.0)
    logits = temperature * theta[: combination.n_modules]
    expected = 0.5 * alpha * logits @ logits
    assert with_penalty(theta)[0] - without(theta)[0] == pytest.approx(expected)


def test_take_renormalises_sample_weight():
    rng = np.random.default_rng(8)
    combination = _combinations(rng)["linear"]
    subset = combination.take(np.arange(50))
    assert subset.n_samples == 50
    assert subset.sample_weight.sum() == pytest.approx(1.0)


# --------------------------------------------------------------------------
# solvers
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["log", "linear", "regression"])
def test_lbfgs_and_adam_reach_the_same_weights(name):
    rng = np.random.default_rng(9)
    combination = _combinations(rng)[name]
    fits = [
        learn_attention(
            combination, temperature=1.0, alpha=1e-3, solver=solver, max_iter=5000
        )
        for solver in ("lbfgs", "adam")
    ]
    assert all(fit.converged for fit in fits)
    weights = [softmax(fit.logits) for fit in fits]
    np.testing.assert_allclose(weights[0], weights[1], atol=2e-3)


def test_adam_mini_batch_gets_close_to_the_optimum():
    rng = np.random.default_rng(10)
    combination = _combinations(rng)["linear"]
    full = learn_attention(combination, temperature=1.0, alpha=1e-3)
    batched = learn_attention(
        combination,
        temperature=1.0,
        alpha=1e-3,
        solver="adam",
        batch_size=32,
        max_iter=500,
        random_state=0,
    )
    np.testing.assert_allclose(softmax(full.logits), softmax(batched.logits), atol=0.02)


def test_exhausted_iteration_budget_is_reported_as_not_converged():
    rng = np.random.default_rng(11)
    combination = _combinations(rng)["log"]
    fit = learn_attention(combination, temperature=1.0, alpha=1e-4, max_iter=1)
    assert not fit.converged
    assert fit.n_iter == 1
    assert len(fit.loss_curve) == 1


def test_loss_curve_decreases_overall():
    rng = np.random.default_rng(12)
    combination = _combinations(rng)["log"]
    fit = learn_attention(combination, temperature=1.0, alpha=1e-4)
    objective = AttentionObjective(combination, temperature=1.0, alpha=1e-4)
    start = objective(np.concatenate([np.ones(4), np.zeros(1)]))[0]
    assert fit.loss_curve[-1] < start
    assert fit.loss_curve[-1] == pytest.approx(min(fit.loss_curve))


def test_warm_start_on_subsample_reaches_the_full_optimum(monkeypatch):
    from skweighting import _attention

    rng = np.random.default_rng(13)
    proba, y = _module_probas(rng, n_samples=3000)
    combination = LogPooling(clipped_log(proba.copy()), y)
    cold = learn_attention(combination, temperature=1.0, alpha=1e-4)
    monkeypatch.setattr(_attention, "WARM_START_ROWS", 500)
    warm = learn_attention(combination, temperature=1.0, alpha=1e-4, random_state=0)
    np.testing.assert_allclose(softmax(cold.logits), softmax(warm.logits), atol=1e-4)


@pytest.mark.parametrize("alpha", [1e-4, 1e-2, 1.0])
def test_higher_temperature_means_more_uniform_weights(alpha):
    rng = np.random.default_rng(14)
    combination = _combinations(rng)["log"]

    def entropy(temperature):
        fit = learn_attention(combination, temperature=temperature, alpha=alpha)
        w = softmax(fit.logits, temperature)
        return -np.sum(w * np.log(np.maximum(w, 1e-300)))

    entropies = [entropy(t) for t in (0.1, 1.0, 10.0, 100.0)]
    assert np.all(np.diff(entropies) > -1e-9)
    assert entropies[-1] > entropies[0]
