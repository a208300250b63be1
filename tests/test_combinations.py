"""The combination objects: the out-of-fold store, reading and checking a
module's output, module scores, and the prediction formula."""

import numpy as np
import pytest
from _helpers import (
    FOLDS,
    Table,
    _modules,
    _write_all,
    module_errors,
    module_probas,
)

from skweighting._combinations import Average, LinearMixture, LogPooling
from skweighting._combinations._common import clipped_log
from skweighting._combinations.average import (
    QuadraticLoss,
)
from skweighting._combinations.log_pool import (
    POOL_FLOOR,
    LogPoolLoss,
)
from skweighting._combinations.mixture import MixtureLoss


@pytest.mark.parametrize("make", [LogPooling, LinearMixture])
def test_module_scores_are_each_modules_out_of_fold_log_likelihood(make):
    rng = np.random.default_rng(0)
    proba, y = module_probas(rng)
    sample_weight = rng.uniform(0.5, 2.0, len(y))
    combination = make(np.arange(3))
    store = _write_all(combination, proba, y, FOLDS, sample_weight)
    combination.loss(store)
    expected = [
        np.average(np.log(proba[m, np.arange(len(y)), y]), weights=sample_weight)
        for m in range(len(proba))
    ]
    np.testing.assert_allclose(combination.module_scores(store), expected)


@pytest.mark.parametrize("make", [LogPooling, LinearMixture])
def test_combine_is_the_formula_and_predict_rows_agrees(make):
    rng = np.random.default_rng(3)
    proba, y = module_probas(rng)
    weights = rng.dirichlet(np.ones(len(proba)))
    extra = np.array([0.4])
    combination = make(np.arange(3))
    if make is LogPooling:
        pooled = np.exp(0.4) * np.einsum(
            "m,mik->ik", weights, clipped_log(proba.copy(), floor=POOL_FLOOR)
        )
        expected = np.exp(pooled - pooled.max(axis=1, keepdims=True))
    else:
        expected = np.einsum("m,mik->ik", weights, proba)
    expected /= expected.sum(axis=1, keepdims=True)
    outputs = iter(list(proba.copy()))  # consumed one at a time
    np.testing.assert_allclose(combination.combine(outputs, weights, extra), expected)
    store = combination.allocate(
        _modules([f"m{m}" for m in range(len(proba))]), y, None, keep_outputs=True
    )
    for m in range(len(proba)):
        combination.write(store, m, slice(None), proba[m])
    loss = combination.loss(store)
    rows = np.array([5, 0, 17])
    np.testing.assert_allclose(loss.predict_rows(rows, weights, extra), expected[rows])


def test_read_aligns_columns_by_label():
    table = np.array([[0.7, 0.3], [0.1, 0.9]])
    # The module knows classes "c" and "a" in that order; the ensemble "a", "b", "c".
    module = Table(table, classes=np.array(["c", "a"]))
    combination = LogPooling(np.array(["a", "b", "c"]))
    output = combination.read(module, "m", np.array([[0.0], [1.0]]))
    np.testing.assert_array_equal(output, [[0.3, 0.0, 0.7], [0.9, 0.0, 0.1]])


def test_read_rounds_tiny_negative_probabilities_to_zero_without_touching_the_module():
    table = np.array([[1.0 + 5e-7, -5e-7], [0.5, 0.5]])
    module = Table(table, classes=np.array([0, 1]))
    output = LinearMixture(np.array([0, 1])).read(module, "m", np.array([[0.0], [1.0]]))
    assert output.min() == 0.0
    assert table.min() < 0  # the module's own array is untouched


def test_output_names():
    assert LogPooling(np.array(["x", "y"])).output_names("ens", "lr") == [
        "ens_lr_x",
        "ens_lr_y",
    ]
    assert Average(1, 1).output_names("ens", "ridge") == ["ens_ridge"]
    assert Average(2, 2).output_names("ens", "ridge") == ["ens_ridge0", "ens_ridge1"]


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
