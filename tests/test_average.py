"""Average and its loss: the scale of y, the Gram matrix of the errors,
the store written fold after fold and its checks."""

import numpy as np
import pytest
from _helpers import (
    FOLDS,
    Values,
    _modules,
    module_errors,
    relative_gradient_error,
)

from skweighting._combinations import Average
from skweighting._combinations import average as average_module
from skweighting._combinations.average import (
    error_gram,
    output_scale,
    quadratic_loss,
)


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


def test_weighted_gram_is_the_sample_weighted_mean_of_the_error_products():
    rng = np.random.default_rng(9)
    errors = module_errors(rng, n_samples=100)
    sample_weight = rng.uniform(0.5, 1.5, 100)
    sample_weight /= sample_weight.sum()
    expected = np.einsum("i,mit,lit->ml", sample_weight, errors, errors)
    np.testing.assert_allclose(
        error_gram(errors, sample_weight), expected / errors.shape[2]
    )


def test_average_store_scores_and_prediction():
    rng = np.random.default_rng(5)
    y = rng.normal(size=(200, 2)) * [1.0, 100.0] + [0.0, 50.0]
    predictions = (
        y[None]
        + rng.normal(size=(3, 200, 2)) * np.array([[0.1], [0.5], [1.0]])[:, :, None]
    )
    combination = Average(2, 2)
    names = ["a", "b", "c"]
    store = combination.allocate(_modules(names), y, None)
    for rows in FOLDS:  # fold after fold, as the fit writes them
        for m in range(3):
            combination.write(store, m, rows, predictions[m, rows])
    combination.loss(store)
    r2 = [
        np.mean(1 - ((predictions[m] - y) ** 2).mean(axis=0) / y.var(axis=0))
        for m in range(3)
    ]
    np.testing.assert_allclose(combination.module_scores(store), r2)
    weights = np.array([0.5, 0.3, 0.2])
    combined = combination.combine(iter(list(predictions)), weights, np.zeros(0))
    np.testing.assert_allclose(combined, np.einsum("m,mij->ij", weights, predictions))
    module = Values(predictions[0])
    np.testing.assert_array_equal(
        combination.read(module, "a", np.arange(200.0)[:, None]), predictions[0]
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_average_gram_from_folds_equals_the_gram_of_all_rows(weighted):
    # Without keep_rows the store keeps one fold's errors at a time and sums
    # the folds' Gram matrices: the same loss as from the whole tensor.
    rng = np.random.default_rng(8)
    y = rng.normal(size=(200, 2))
    predictions = y[None] + rng.normal(size=(4, 200, 2))
    sample_weight = rng.uniform(0.5, 2.0, 200) if weighted else None
    combination = Average(2, 2)
    stores = [
        combination.allocate(_modules("abcd"), y, sample_weight, keep_rows=keep)
        for keep in (False, True)
    ]
    for store in stores:
        for rows in FOLDS:
            for m in range(4):
                combination.write(store, m, rows, predictions[m, rows])
    by_fold, whole = (combination.loss(store) for store in stores)
    assert by_fold.errors is None and whole.errors is not None
    np.testing.assert_allclose(by_fold.gram, whole.gram, rtol=1e-12)
    assert stores[0].fold_errors.shape[1] == max(r.stop - r.start for r in FOLDS)
    with pytest.raises(RuntimeError, match="Gram matrix"):
        by_fold.take(np.arange(10))


def test_average_store_refuses_folds_out_of_order():
    y = np.zeros((200, 1))
    combination = Average(1, 1)
    store = combination.allocate(_modules("ab"), y, None)
    combination.write(store, 0, FOLDS[0], np.ones((FOLDS[0].stop, 1)))
    with pytest.raises(RuntimeError, match="out of order"):
        combination.write(store, 0, FOLDS[1], np.ones((70, 1)))


def _write_folds(predictions, y, keep_rows, sample_weight=None):
    """A regression store of `predictions` (n_modules, n_samples, n_outputs),
    written fold after fold, and its objective."""
    combination = Average(y.shape[1], 2)
    names = "abc"[: len(predictions)]
    store = combination.allocate(_modules(names), y, sample_weight, keep_rows=keep_rows)
    for rows in FOLDS:
        for m in range(len(predictions)):
            combination.write(store, m, rows, predictions[m, rows])
    return combination.loss(store)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("keep_rows", [False, True])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_average_store_names_a_module_with_non_finite_predictions(
    keep_rows, bad, weighted
):
    # The fit checks only a regressor's shape; the store finds non-finite
    # values from the Gram matrix (even on a row of zero weight) and raises
    # `check_predictions`'s error.
    rng = np.random.default_rng(11)
    y = rng.normal(size=(200, 2))
    predictions = y + rng.normal(size=(3, 200, 2))
    predictions[1, 150, 1] = bad  # in the last fold
    sample_weight = rng.uniform(0.5, 2.0, 200) if weighted else None
    if weighted:
        sample_weight[150] = 0.0
    with pytest.raises(ValueError, match=r"module 'b' \(Values\) returned NaN or inf"):
        _write_folds(predictions, y, keep_rows, sample_weight)


@pytest.mark.parametrize("keep_rows", [False, True])
def test_average_store_tells_overflowing_errors_from_non_finite_predictions(
    keep_rows,
):
    rng = np.random.default_rng(12)
    y = rng.normal(size=(200, 1))
    predictions = y + rng.normal(size=(3, 200, 1))
    # Finite errors whose squares overflow: the objective names the module.
    predictions[2, 10] = 1e200
    with pytest.raises(ValueError, match=r"modules \['c'\] overflow"):
        _write_folds(predictions, y, keep_rows)
    # Finite predictions whose scaled errors overflow cannot be told from
    # infinite ones: the error says both.
    tiny = y * 1e-12
    predictions = tiny + rng.normal(size=(3, 200, 1)) * 1e-12
    predictions[2, 10] = 1e300
    with pytest.raises(
        ValueError, match=r"module 'c' \(Values\) returned NaN or infinite.*overflow"
    ):
        _write_folds(predictions, tiny, keep_rows)


@pytest.mark.parametrize("n_rows", [1, 7, 8, 50])
@pytest.mark.parametrize("scale", [1.0, 1e-200, 1e200])  # 1e200: squares overflow
def test_output_scale_is_the_weighted_std_of_y(monkeypatch, n_rows, scale):
    monkeypatch.setattr(average_module, "SCALE_BLOCK_VALUES", 7 * 3)  # blocks merged
    rng = np.random.default_rng(13)
    y = (rng.normal(size=(n_rows, 3)) * [1.0, 50.0, 0.0] + [1e3, -2.0, 4.0]) * scale
    sample_weight = rng.uniform(0.5, 2.0, n_rows)
    sample_weight[:7] = 0.0 if n_rows > 7 else sample_weight[:7]  # a weightless block
    sample_weight /= sample_weight.sum()
    scale_ = output_scale(y, sample_weight)
    magnitude = np.abs(y).max(axis=0)
    scaled = y / magnitude  # the direct formula, safe from overflow
    mean = sample_weight @ scaled
    spread = np.sqrt(sample_weight @ (scaled - mean) ** 2)
    # A column without spread (one weighted row, or constant) keeps its units.
    expected = np.where(spread <= 1e-12, 1.0, spread * magnitude)
    np.testing.assert_allclose(scale_, expected, rtol=1e-12)
    assert scale_[2] == 1.0
    # Without the constant column, and unless squares under- or overflow,
    # one pass measures the scale: the largest values are never searched.
    if scale == 1.0 and n_rows > 8:
        monkeypatch.setattr(average_module, "_scaled_output_scale", None)
    varying = np.ascontiguousarray(y[:, :2])
    scale_ = output_scale(varying, sample_weight)
    np.testing.assert_allclose(scale_, expected[:2], rtol=1e-12)
