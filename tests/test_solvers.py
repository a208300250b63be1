"""The objective and its solvers: gradients, the optimum despite the kinks
of the sparse normalisers, and what temperature does to the support."""

import numpy as np
import pytest
from _helpers import (
    COMBINATIONS,
    NORMALISER_NAMES,
    combination_loss,
    module_errors,
    solve,
)
from scipy.optimize import minimize, minimize_scalar

from skweighting import _solvers
from skweighting._combinations.average import QuadraticLoss
from skweighting._normalisers import NORMALISERS


def _penalised(loss, normaliser, temperature, alpha):
    """The objective as the user sees it: the loss of normaliser(logits / T)
    plus (alpha / 2) ||logits||^2, as a function of (logits, extra)."""
    forward = NORMALISERS[normaliser].forward

    def objective(logits, extra):
        value = loss.loss_grad(forward(logits / temperature), extra)[0]
        return value + 0.5 * alpha * logits @ logits

    return objective


@pytest.mark.parametrize("normaliser", NORMALISER_NAMES)
@pytest.mark.parametrize("name", COMBINATIONS)
def test_fit_reports_logits_weights_and_objective_consistently(normaliser, name):
    rng = np.random.default_rng(8)
    loss = combination_loss(name, rng)
    temperature, alpha = 0.7, 0.05
    fit = solve(loss, normaliser=normaliser, temperature=temperature, alpha=alpha)
    assert fit.converged
    forward = NORMALISERS[normaliser].forward
    np.testing.assert_allclose(
        forward(fit.logits / temperature), fit.weights, atol=1e-12
    )
    assert np.all(fit.weights >= 0) and fit.weights.sum() == pytest.approx(1.0)
    value = _penalised(loss, normaliser, temperature, alpha)(fit.logits, fit.extra)
    assert fit.objective == pytest.approx(value, rel=1e-9, abs=1e-12)


# --------------------------------------------------------------------------
# The optimum, despite the kinks
# --------------------------------------------------------------------------
def _reference_simplex_minimum(fun, n_modules, n_starts=6, seed=0):
    """min over the simplex of ``fun(w)`` by SLSQP from several starts: a
    solver that shares nothing with the package's."""
    rng = np.random.default_rng(seed)
    starts = [np.full(n_modules, 1.0 / n_modules)]
    starts += list(rng.dirichlet(np.ones(n_modules), size=n_starts - 1))
    best = np.inf
    for start in starts:
        result = minimize(
            fun,
            start,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * n_modules,
            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
            options={"ftol": 1e-15, "maxiter": 2000},
        )
        w = np.clip(result.x, 0.0, None)
        best = min(best, fun(w / w.sum()))
    return best


def _reference_minimum(loss, penalty=None):
    """The reference optimum of ``loss(w, extra) + penalty(w)``; for log
    pooling, a scalar search over the log-sharpness around convex inner
    solves (the pool is convex in the weights at fixed sharpness)."""
    penalty = penalty or (lambda w: 0.0)
    n_modules = loss.n_modules
    if loss.n_extra == 0:
        return _reference_simplex_minimum(
            lambda w: loss.loss_grad(w, np.zeros(0))[0] + penalty(w), n_modules
        )

    def inner(log_sharpness):
        extra = np.array([log_sharpness])
        return _reference_simplex_minimum(
            lambda w: loss.loss_grad(w, extra)[0] + penalty(w), n_modules, n_starts=3
        )

    result = minimize_scalar(
        inner, bounds=(-3.0, 4.0), method="bounded", options={"xatol": 1e-7}
    )
    return result.fun


@pytest.mark.parametrize("name", COMBINATIONS)
def test_sparsemax_reaches_the_simplex_optimum_without_penalty(name):
    rng = np.random.default_rng(9)
    loss = combination_loss(name, rng, n_samples=150, n_modules=5)
    fit = solve(loss, normaliser="sparsemax", temperature=1.0, alpha=0.0)
    reference = _reference_minimum(loss)
    assert fit.converged
    assert fit.objective <= reference + 1e-6 * abs(reference)
    assert fit.objective == pytest.approx(reference, rel=1e-6)
    # The optimum is sparse here: the weak modules get exact zeros.
    assert np.count_nonzero(fit.weights) < loss.n_modules


@pytest.mark.parametrize("normaliser", ["sparsemax", "entmax15"])
@pytest.mark.parametrize("name", COMBINATIONS)
def test_sparse_normalisers_reach_the_penalised_optimum(normaliser, name):
    rng = np.random.default_rng(10)
    loss = combination_loss(name, rng, n_samples=150, n_modules=5)
    temperature, alpha = 2.0, 0.02
    strength = alpha * temperature**2
    preimage = NORMALISERS[normaliser].preimage
    fit = solve(loss, normaliser=normaliser, temperature=temperature, alpha=alpha)
    reference = _reference_minimum(
        loss, lambda w: 0.5 * strength * np.sum(preimage(w) ** 2)
    )
    assert fit.converged
    assert fit.objective == pytest.approx(reference, rel=1e-6)


def test_the_logit_form_gets_stuck_where_the_simplex_form_does_not():
    # Why sparsemax is solved over the simplex: on the logits, a module
    # outside the support gets no gradient. Start plain L-BFGS on the logits
    # with a useful module just outside the support: it never comes back.
    rng = np.random.default_rng(11)
    loss = combination_loss("linear", rng, n_samples=150, n_modules=4)
    normaliser = NORMALISERS["sparsemax"]

    def on_logits(u):
        w = normaliser.forward(u)
        value, grad_w, _ = loss.loss_grad(w, np.zeros(0))
        return value, normaliser.backward(w, grad_w)

    start = np.array([0.0, 0.0, 0.0, 5.0])  # only the weakest module in use
    stuck = minimize(on_logits, start, jac=True, method="L-BFGS-B").fun
    fit = solve(loss, normaliser="sparsemax", temperature=1.0, alpha=0.0)
    assert fit.objective < stuck - 1e-3


# --------------------------------------------------------------------------
# Temperature and the support of the sparse normalisers
# --------------------------------------------------------------------------
def _support_path(loss, normaliser, temperatures, alpha=1e-4):
    return [
        solve(loss, normaliser=normaliser, temperature=t, alpha=alpha).weights > 0
        for t in temperatures
    ]


def _sparse_loss(name):
    loss = combination_loss(name, np.random.default_rng(12), n_samples=300, n_modules=6)
    if name == "regression":
        # Three modules make the best one's mistakes, larger: the optimum
        # gives them no weight.
        errors = loss.errors.copy()
        for module, factor in [(3, 1.5), (4, 2.5), (5, 1.2)]:
            errors[module] = factor * errors[0]
        loss = QuadraticLoss(errors)
    return loss


TEMPERATURES = np.geomspace(1e-2, 1e4, 25)


@pytest.mark.parametrize("name", COMBINATIONS)
def test_sparsemax_support_grows_with_temperature(name):
    loss = _sparse_loss(name)
    supports = _support_path(loss, "sparsemax", TEMPERATURES)
    counts = [support.sum() for support in supports]
    assert np.all(np.diff(counts) >= 0), counts
    # Low temperatures: the support of the out-of-fold optimum (alpha=0).
    optimum = solve(loss, normaliser="sparsemax", temperature=1.0, alpha=0.0)
    np.testing.assert_array_equal(supports[0], optimum.weights > 0)
    assert counts[0] < loss.n_modules
    # Very high temperatures: every module.
    assert counts[-1] == loss.n_modules


@pytest.mark.parametrize("name", COMBINATIONS)
def test_entmax15_support_grows_with_temperature(name):
    # With alpha > 0 the exact entmax15 optimum gives every module a positive
    # weight (the logit penalty's slope at a zero weight is infinite); those
    # the out-of-fold optimum leaves out get weights of order
    # (alpha * T^2)^2, zero wherever that is below the solver's tolerance.
    loss = _sparse_loss(name)
    supports = _support_path(loss, "entmax15", TEMPERATURES)
    counts = [support.sum() for support in supports]
    assert np.all(np.diff(counts) >= 0), counts
    optimum = solve(loss, normaliser="entmax15", temperature=1.0, alpha=0.0)
    assert np.all(supports[0][optimum.weights > 0])
    assert counts[-1] == loss.n_modules
    fit = solve(loss, normaliser="entmax15", temperature=0.01, alpha=1e-4)
    assert np.all(fit.weights[optimum.weights == 0] < 1e-6)


def test_exhausted_iteration_budget_is_reported_as_not_converged():
    loss = combination_loss("log", np.random.default_rng(15))
    fit = solve(loss, temperature=1.0, alpha=1e-4, max_iter=1)
    assert not fit.converged
    assert fit.n_iter == 1
    assert len(fit.loss_curve) == 1


@pytest.mark.parametrize("normaliser", NORMALISER_NAMES)
def test_loss_curve_ends_below_the_start(normaliser):
    loss = combination_loss("log", np.random.default_rng(16))
    fit = solve(loss, normaliser=normaliser, temperature=1.0, alpha=1e-4)
    start = _penalised(loss, normaliser, 1.0, 1e-4)(np.ones(4), np.zeros(1))
    assert fit.objective < start
    assert fit.loss_curve[-1] == pytest.approx(min(fit.loss_curve))


@pytest.mark.parametrize("normaliser", NORMALISER_NAMES)
@pytest.mark.parametrize("name", ["log", "linear"])
def test_warm_start_on_a_subsample_reaches_the_full_optimum(
    monkeypatch, normaliser, name
):
    loss = combination_loss(name, np.random.default_rng(17), n_samples=3000)
    cold = solve(loss, normaliser=normaliser, temperature=1.0, alpha=1e-4)
    monkeypatch.setattr(_solvers, "WARM_START_ROWS", 500)
    warm = solve(
        loss, normaliser=normaliser, temperature=1.0, alpha=1e-4, random_state=0
    )
    np.testing.assert_allclose(cold.weights, warm.weights, atol=1e-4)
    assert warm.objective == pytest.approx(cold.objective, rel=1e-8)


def test_warm_start_from_a_previous_fit_gives_the_same_optimum():
    loss = combination_loss("log", np.random.default_rng(18))
    first = solve(loss, normaliser="sparsemax", temperature=1.0, alpha=1e-3)
    cold = solve(loss, normaliser="sparsemax", temperature=3.0, alpha=1e-3)
    warm = solve(
        loss, normaliser="sparsemax", temperature=3.0, alpha=1e-3, warm_start=first
    )
    np.testing.assert_allclose(warm.weights, cold.weights, atol=1e-5)


@pytest.mark.parametrize("alpha", [1e-4, 1e-2, 1.0])
def test_higher_temperature_means_more_uniform_softmax_weights(alpha):
    loss = combination_loss("log", np.random.default_rng(19))

    def entropy(temperature):
        w = solve(loss, temperature=temperature, alpha=alpha).weights
        return -np.sum(w * np.log(np.maximum(w, 1e-300)))

    entropies = [entropy(t) for t in (0.1, 1.0, 10.0, 100.0)]
    assert np.all(np.diff(entropies) > -1e-9)
    assert entropies[-1] > entropies[0]


@pytest.mark.parametrize("normaliser", ["softmax", "sparsemax"])
def test_gram_only_quadratic_loss_needs_no_rows(normaliser):
    # The regression's loss costs O(M^2) per evaluation whatever the rows:
    # no subsample warm start, so a loss that kept only its Gram matrix
    # (whose `take` raises) is solved at any number of rows, to the same
    # weights as from the errors themselves.
    rng = np.random.default_rng(9)
    errors = module_errors(rng)
    full = QuadraticLoss(errors)
    n_rows = 5 * _solvers.WARM_START_ROWS
    gram_only = QuadraticLoss(None, np.ones(n_rows), fold_grams=full.gram[None])
    assert gram_only.n_samples == n_rows
    fits = [
        solve(loss, temperature=1.0, alpha=1e-4, normaliser=normaliser)
        for loss in (gram_only, full)
    ]
    np.testing.assert_allclose(fits[0].weights, fits[1].weights, atol=1e-10)
