"""The objective: both forms a solver minimises, their gradients against
finite differences, and the penalty the objective owns."""

import numpy as np
import pytest
from _helpers import (
    COMBINATIONS,
    NORMALISER_NAMES,
    combination_loss,
    relative_gradient_error,
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
