"""The objective: both forms a solver minimises, their gradients against
finite differences, and the penalty the objective owns."""

import numpy as np
import pytest
from _helpers import (
    COMBINATIONS,
    NORMALISER_NAMES,
    combination_loss,
    relative_gradient_error,
    solve,
)

from skweighting._normalisers import NORMALISERS
from skweighting._objective import Objective


# --------------------------------------------------------------------------
# Gradients of both forms of the objective
# --------------------------------------------------------------------------
@pytest.mark.parametrize("normaliser", NORMALISER_NAMES)
@pytest.mark.parametrize("name", COMBINATIONS)
@pytest.mark.parametrize("temperature", [0.3, 1.0, 5.0])
def test_objective_gradient_matches_finite_differences(normaliser, name, temperature):
    rng = np.random.default_rng(6)
    loss = combination_loss(name, rng)
    objective = Objective(
        loss, NORMALISERS[normaliser], alpha=0.01, temperature=temperature
    ).form()
    theta = objective.initial_theta(temperature)
    # A point away from the start and, for the bounded form, inside r > 0.
    theta[: loss.n_modules] *= rng.uniform(0.5, 1.5, loss.n_modules)
    theta[loss.n_modules :] += 0.2
    assert relative_gradient_error(objective, theta) < 1e-5


@pytest.mark.parametrize("name", COMBINATIONS)
def test_softmax_penalty_is_alpha_half_squared_logits(name):
    rng = np.random.default_rng(7)
    loss = combination_loss(name, rng)
    temperature, alpha = 2.5, 0.3
    theta = rng.normal(size=loss.n_modules + loss.n_extra)
    with_penalty = Objective(
        loss, NORMALISERS["softmax"], alpha=alpha, temperature=temperature
    ).form()
    without = Objective(
        loss, NORMALISERS["softmax"], alpha=0.0, temperature=temperature
    ).form()
    logits = temperature * theta[: loss.n_modules]
    expected = 0.5 * alpha * logits @ logits
    assert with_penalty(theta)[0] - without(theta)[0] == pytest.approx(expected)


# --------------------------------------------------------------------------
# The penalty and the value the pruning and the CV path ask for
# --------------------------------------------------------------------------
def test_penalty_and_value_by_hand():
    # penalty = alpha * T**2 * R(w) (sparse normalisers) + the loss's own
    # penalty on its extra parameters; value = data loss + penalty.
    rng = np.random.default_rng(8)
    loss = combination_loss("log", rng)
    weights, extra = np.array([0.5, 0.3, 0.2, 0.0]), np.array([0.4])
    sharpness_penalty = 0.5 * 1e-2 * 0.4**2
    data = loss.value(weights, extra)
    sparse = Objective(loss, NORMALISERS["sparsemax"], alpha=0.2, temperature=3.0)
    expected = 0.2 * 9.0 * 0.5 * np.sum((weights - 0.25) ** 2) + sharpness_penalty
    assert sparse.penalty(weights, extra) == pytest.approx(expected, rel=1e-13)
    assert sparse.value(weights, extra) == pytest.approx(data + expected, rel=1e-13)
    # softmax: only the loss's own penalty (its L2 penalty is on the logits,
    # which the weights do not determine uniquely).
    smooth = Objective(loss, NORMALISERS["softmax"], alpha=0.2, temperature=3.0)
    assert smooth.penalty(weights, extra) == pytest.approx(sharpness_penalty)
    assert smooth.penalty(weights, np.zeros(1)) == 0.0
    assert smooth.value(weights, extra) == pytest.approx(data + sharpness_penalty)


def test_simplex_form_on_a_subset_keeps_the_modules_held_at_zero():
    loss = combination_loss("linear", np.random.default_rng(9))
    fixed = np.array([False, True, False, True])
    form = Objective(loss, NORMALISERS["sparsemax"], alpha=0.1, temperature=1.0).form(
        fixed
    )
    subset = form.take(np.arange(0, loss.n_samples, 2))
    np.testing.assert_array_equal(subset.fixed_zero, fixed)
    assert subset.bounds == form.bounds
    assert subset.penalty == form.penalty


@pytest.mark.parametrize("normaliser", NORMALISER_NAMES)
def test_starts_are_the_documented_points(normaliser):
    # Logits at ones (equal weights) without a warm start; a warm start
    # from a fit at another temperature gives back that fit's weights
    # (simplex form) or its logits (logit form).
    loss = combination_loss("log", np.random.default_rng(10))
    objective = Objective(loss, NORMALISERS[normaliser], alpha=0.1, temperature=2.5)
    form = objective.form()
    theta = form.initial_theta(2.5)
    weights, u = form.weights_and_u(theta)
    np.testing.assert_allclose(weights, 0.25, rtol=1e-15)
    np.testing.assert_array_equal(theta[4:], [0.0])
    if normaliser == "softmax":
        np.testing.assert_allclose(2.5 * u, 1.0, rtol=1e-15)  # logits at ones
    fit = solve(loss, normaliser=normaliser, temperature=0.5, alpha=0.1)
    start = form.start_from(fit, 2.5)
    np.testing.assert_array_equal(start[4:], fit.extra)
    weights, u = form.weights_and_u(start)
    if normaliser == "softmax":
        np.testing.assert_allclose(2.5 * u, fit.logits, rtol=1e-14)
    else:
        np.testing.assert_allclose(weights, fit.weights, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("normaliser", ["sparsemax", "entmax15"])
def test_the_simplex_start_has_unit_scale_and_held_modules_at_zero(normaliser):
    # r0 is the image of equal weights over the free modules with the
    # scale term at its minimum (sum r**p = 1), and exactly zero for a
    # module held at zero (its bounds are 0 <= r <= 0).
    loss = combination_loss("log", np.random.default_rng(11))
    fixed = np.array([False, True, False, False])
    objective = Objective(loss, NORMALISERS[normaliser], alpha=0.1, temperature=1.0)
    form = objective.form(fixed)
    theta = form.initial_theta(1.0)
    r = theta[: loss.n_modules]
    assert r[1] == 0.0
    assert (r**form.power).sum() == pytest.approx(1.0, rel=1e-15)
    weights, _ = form.weights_and_u(theta)
    np.testing.assert_allclose(weights, [1 / 3, 0.0, 1 / 3, 1 / 3], rtol=1e-15)
    # At r = 0 there are no weights: an infinite value pushes the solver
    # away, with a gradient of theta's shape that it never uses.
    value, gradient = form(np.zeros_like(theta))
    assert value == np.inf
    assert gradient.shape == theta.shape and np.all(np.isnan(gradient))


def test_only_a_sparse_normaliser_holds_a_weight_at_zero():
    loss = combination_loss("linear", np.random.default_rng(12))
    objective = Objective(loss, NORMALISERS["softmax"], alpha=0.1, temperature=1.0)
    objective.form(np.zeros(loss.n_modules, dtype=bool))  # none held: fine
    with pytest.raises(
        ValueError, match=r"^Only a sparse normaliser can hold a weight at zero\.$"
    ):
        objective.form(np.array([False, True, False, False]))
