"""LogPooling and its loss: the log-linear pool, its gradient, its store
and its prediction."""

import warnings

import numpy as np
import pytest
from _helpers import (
    FOLDS,
    _modules,
    _write_all,
    module_probas,
    relative_gradient_error,
    solve,
)

from skweighting._combinations import LogPooling
from skweighting._combinations import log_pool as log_pool_module
from skweighting._combinations._common import clipped_log
from skweighting._combinations.log_pool import (
    POOL_FLOOR,
    SHARPNESS_PENALTY,
    LogPoolLoss,
    _FlooredLog,
    log_pool,
    log_pool_loss,
    log_pool_normalise,
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


def test_log_pooling_store_is_the_floored_log_tensor():
    rng = np.random.default_rng(1)
    proba, y = module_probas(rng)
    combination = LogPooling(np.arange(3))
    sample_weight = rng.uniform(0.5, 2.0, len(y))
    store = _write_all(combination, proba, y, FOLDS, sample_weight)
    loss = combination.loss(store)
    assert loss.log_proba is store.proba  # turned into logs in place
    np.testing.assert_allclose(loss.log_proba, np.log(np.maximum(proba, POOL_FLOOR)))
    np.testing.assert_array_equal(loss.y, y)
    np.testing.assert_allclose(loss.sample_weight, sample_weight / sample_weight.sum())


def test_log_pool_value_and_row_losses_are_the_loss_without_its_penalty():
    rng = np.random.default_rng(21)
    proba, y = module_probas(rng)
    sample_weight = rng.uniform(0.5, 2.0, len(y))
    loss = LogPoolLoss(clipped_log(proba.copy(), floor=POOL_FLOOR), y, sample_weight)
    weights, extra = rng.dirichlet(np.ones(4)), np.array([0.3])
    value = loss.value(weights, extra)
    assert value == pytest.approx(
        loss.loss_grad(weights, extra)[0] - loss.extra_penalty(extra), rel=1e-13
    )
    pooled = np.exp(0.3) * np.einsum("m,mik->ik", weights, loss.log_proba)
    log_p = pooled - np.log(np.exp(pooled).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(
        loss.row_losses(weights, extra), -log_p[np.arange(len(y)), y], rtol=1e-13
    )
    assert LogPooling(np.arange(3)).fitted_attributes(np.log([2.0])) == {
        "sharpness_": pytest.approx(2.0)
    }


def test_floored_log_transform_is_clipped_log_for_any_block():
    rng = np.random.default_rng(6)
    transform, narrow = _FlooredLog(np.float64), _FlooredLog(np.float32)
    for shape in [(5, 3), (9, 3), (4, 3), (7, 2)]:
        block = rng.dirichlet(np.ones(shape[1]) * 0.2, size=shape[0])
        block[0, 0] = 0.0
        expected = clipped_log(block.copy(), floor=POOL_FLOOR)
        np.testing.assert_array_equal(transform(block, np.empty(shape)), expected)
        # In float32: float32's log of the floored block rounded to float32.
        floored = np.maximum(block, POOL_FLOOR).astype(np.float32)
        logs = narrow(block, np.empty(shape, np.float32))
        assert logs.dtype == np.float32
        np.testing.assert_array_equal(logs, np.log(floored))


def test_combine_never_overwrites_a_modules_output():
    rng = np.random.default_rng(4)
    proba, _ = module_probas(rng)
    outputs = [p.copy() for p in proba]
    LogPooling(np.arange(3)).combine(iter(outputs), np.full(4, 0.25), np.zeros(1))
    np.testing.assert_array_equal(np.stack(outputs), proba)


def test_large_log_pooling_store_is_float32_and_gives_the_same_weights(monkeypatch):

    rng = np.random.default_rng(6)
    proba, y = module_probas(rng, n_samples=3000)
    weights = {}
    for rows in (10**9, 1000):  # float64, then float32 above 1000 rows
        monkeypatch.setattr(LogPooling, "FLOAT32_ROWS", rows)
        combination = LogPooling(np.arange(3))
        store = _write_all(combination, proba, y, [slice(0, 1500), slice(1500, 3000)])
        loss = combination.loss(store)
        weights[loss.log_proba.dtype] = solve(
            loss, temperature=1.0, alpha=1e-4, tol=1e-10
        ).weights
    assert set(weights) == {np.dtype(np.float64), np.dtype(np.float32)}
    np.testing.assert_allclose(*weights.values(), atol=2e-5)


def test_a_log_pool_fitted_on_float32_logs_pools_float32_logs(monkeypatch):
    # What the weights were learned on, to float32's rounding of the logs;
    # the probabilities stay float64 and are normalised in float64.
    rng = np.random.default_rng(8)
    proba, y = module_probas(rng, n_samples=3000)
    weights = rng.dirichlet(np.ones(len(proba)))
    extra = np.array([0.4])
    monkeypatch.setattr(LogPooling, "FLOAT32_ROWS", 1000)
    combination = LogPooling(np.arange(3))
    assert combination.log_dtype == np.float64  # before a fit
    _write_all(combination, proba, y, [slice(0, 1500), slice(1500, 3000)])
    assert combination.log_dtype == np.float32
    pooled = np.exp(0.4) * np.einsum(
        "m,mik->ik", weights, clipped_log(proba.copy(), floor=POOL_FLOOR)
    )
    expected = np.exp(pooled - pooled.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    combined = combination.combine(iter(list(proba)), weights, extra)
    assert combined.dtype == np.float64
    np.testing.assert_allclose(combined.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(combined, expected, rtol=2e-6)
    assert np.abs(combined - expected).max() > 1e-12  # not float64's pooling
    # Row by row: any subset of rows gives those rows' values, into ``out``.
    out = np.empty((1000, 3))
    part = combination.combine(iter(list(proba[:, 500:1500])), weights, extra, out)
    assert part is out
    np.testing.assert_allclose(part, combined[500:1500], rtol=1e-14)


@pytest.mark.parametrize(
    "n_rows, dtype", [(199_999, np.float64), (200_000, np.float32)]
)
def test_the_store_is_float32_from_200_000_rows(n_rows, dtype):
    combination = LogPooling(np.arange(2))
    codes = np.zeros(n_rows, dtype=np.intp)
    store = combination.allocate(_modules(["a"]), codes, None)
    assert store.proba.dtype == dtype
    assert combination.log_dtype == dtype


def test_a_rows_probabilities_do_not_depend_on_its_batch(monkeypatch):
    # Element-wise pooling: the same row gives the same values whatever
    # rows it is predicted with, float32 logs (summed in float32) included.
    monkeypatch.setattr(LogPooling, "FLOAT32_ROWS", 1000)
    rng = np.random.default_rng(9)
    proba, y = module_probas(rng, n_samples=3000)
    weights = rng.dirichlet(np.ones(len(proba)))
    extra = np.array([0.4])
    combination = LogPooling(np.arange(3))
    _write_all(combination, proba, y, [slice(0, 1500), slice(1500, 3000)])
    whole = combination.combine(iter(list(proba)), weights, extra)
    for rows in (slice(0, 1), slice(7, 8), slice(1001, 1014), slice(2990, 3000)):
        part = combination.combine(iter(list(proba[:, rows])), weights, extra)
        np.testing.assert_allclose(part, whole[rows], rtol=1e-15, atol=0)


def test_log_pool_loss_sums_its_blocks_of_rows(monkeypatch):
    # Blocks of 7 rows x 3 classes: the loss and both gradients are the sums
    # over the blocks, the same as in one block.
    rng = np.random.default_rng(23)
    proba, y = module_probas(rng, n_samples=50)
    log_proba = clipped_log(proba.copy(), floor=POOL_FLOOR)
    sample_weight = rng.uniform(0.5, 2.0, 50)
    sample_weight /= sample_weight.sum()
    weights = rng.dirichlet(np.ones(4))
    whole = log_pool_loss(weights, 0.3, log_proba, y, sample_weight)
    monkeypatch.setattr(log_pool_module, "LOSS_BLOCK_ELEMENTS", 21)
    blocks = log_pool_loss(weights, 0.3, log_proba, y, sample_weight)
    assert blocks[0] == pytest.approx(whole[0], rel=1e-13)
    np.testing.assert_allclose(blocks[1], whole[1], rtol=1e-12)
    assert blocks[2] == pytest.approx(whole[2], rel=1e-12)
    loss = LogPoolLoss(log_proba, y, sample_weight)
    np.testing.assert_allclose(
        loss.row_losses(weights, np.array([0.3])).sum(),
        LogPoolLoss(log_proba, y).value(weights, np.array([0.3])) * 50,
        rtol=1e-13,
    )


@pytest.mark.parametrize("log_sharpness", [0.0, 1.0, -0.7])
def test_log_pool_normalise_is_the_formula_without_warnings(log_sharpness):
    # Ordinary rows, two rows far below 0 (their sums underflow: redone with
    # their own maximum) and one far above it (its sum would overflow).
    pooled = np.array(
        [[-0.2, -1.5, -0.7], [-3000.0, -3001.0, -3003.0], [-2000.5, -2000.0, -2002.0]]
    )
    pooled = np.vstack([pooled, [[800.0, 799.0, 790.0]]])
    scores = np.exp(log_sharpness) * pooled
    top = scores.max(axis=1, keepdims=True)
    expected = np.exp(scores - top) / np.exp(scores - top).sum(axis=1, keepdims=True)
    expected_log_norm = np.log(np.exp(scores - top).sum(axis=1)) + top[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unnormalised, norm, log_norm = log_pool_normalise(
            pooled, log_sharpness, out=np.empty((4, 3))
        )
    np.testing.assert_allclose(unnormalised / norm[:, None], expected, rtol=1e-13)
    np.testing.assert_allclose(log_norm, expected_log_norm, rtol=1e-13)
