"""The temperature path: its ends, found from the data, and its fits."""

import numpy as np
import pytest
from _helpers import combination_loss

from skweighting._normalisers import NORMALISERS
from skweighting._objective import Objective
from skweighting._path import (
    PATH_ENDS,
    SEARCH_TEMPERATURES,
    fit_path,
    temperature_path,
    temperature_range,
)

SOLVE = {"max_iter": 1000, "tol": 1e-6, "seed": 0}


def _objective(name="log", normaliser="softmax", seed=0):
    loss = combination_loss(name, np.random.default_rng(seed))
    return Objective(loss, NORMALISERS[normaliser], alpha=1e-4, temperature=1.0)


def _covered(objective, temperature):
    """How much of the way from the optimum's loss to uniform weights' loss
    the penalty has cost at ``temperature``."""
    loss = objective.loss
    optimum = fit_path(
        Objective(loss, NORMALISERS["sparsemax"], alpha=0.0, temperature=1.0),
        [1.0],
        **SOLVE,
    )[0]
    low = loss.value(optimum.weights, optimum.extra)
    uniform = fit_path(objective, [SEARCH_TEMPERATURES[-1]], **SOLVE)[0]
    high = loss.value(uniform.weights, uniform.extra)
    at = fit_path(objective, [temperature], **SOLVE)[0]
    return (loss.value(at.weights, at.extra) - low) / (high - low)


@pytest.mark.parametrize("name", ["log", "linear", "regression"])
def test_range_ends_where_the_penalty_has_cost_1_and_99_percent(name):
    objective = _objective(name)
    low, high = temperature_range(objective, max_iter=1000, tol=1e-6, seed=0)
    assert low < high
    # Interpolated in log T between half-decade steps: close to the fractions.
    assert _covered(objective, low) == pytest.approx(PATH_ENDS[0], abs=0.01)
    assert _covered(objective, high) == pytest.approx(PATH_ENDS[1], abs=0.02)


def test_path_starts_a_decade_below_the_range_capped_at_one_and_ends_at_its_top():
    # The documented rule: from one decade below where the weights leave the
    # optimum (and at most 1) to where they are nearly uniform.
    objectives = [_objective("log", seed=1), _objective("log", "sparsemax", seed=1)]
    ranges = [temperature_range(o, max_iter=1000, tol=1e-6, seed=0) for o in objectives]
    path = temperature_path(objectives, 7, max_iter=1000, tol=1e-6, seed=0)
    low = min(r[0] for r in ranges)
    assert path[0] == pytest.approx(min(low / 10.0, 1.0), rel=1e-12)
    assert path[-1] == pytest.approx(max(r[1] for r in ranges), rel=1e-12)
    np.testing.assert_allclose(np.diff(np.log(path)), np.log(path[1] / path[0]))


def test_range_of_modules_that_all_score_alike_is_the_default():
    loss = combination_loss("linear", np.random.default_rng(2))
    loss.proba_true[:] = loss.proba_true[0]  # every module the same
    objective = Objective(loss, NORMALISERS["softmax"], alpha=1e-4, temperature=1.0)
    assert temperature_range(objective, max_iter=1000, tol=1e-6, seed=0) == (
        0.1,
        10.0,
    )


def test_fit_path_is_warm_started_and_matches_cold_fits():
    objective = _objective("linear", "sparsemax", seed=3)
    temperatures = [0.5, 5.0, 50.0]
    warm = fit_path(objective, temperatures, **SOLVE)
    for temperature, fit in zip(temperatures, warm):
        cold = fit_path(objective, [temperature], **SOLVE)[0]
        np.testing.assert_allclose(fit.weights, cold.weights, atol=1e-5)
