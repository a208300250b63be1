"""The combination objects: the out-of-fold store, reading and checking a
module's output, module scores, and the prediction formula."""

import numpy as np
import pytest
from _helpers import module_probas
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from skweighting._combinations import Average, LinearMixture, LogPooling
from skweighting._losses import POOL_FLOOR, clipped_log


class Table(ClassifierMixin, BaseEstimator):
    """A fitted module whose predict_proba returns a given table."""

    def __init__(self, table=None, classes=None):
        self.table = table
        self.classes = classes
        self.classes_ = classes

    def predict_proba(self, X):
        return np.array(self.table[np.asarray(X)[:, 0].astype(int)])


class Values(RegressorMixin, BaseEstimator):
    def __init__(self, values=None):
        self.values = values

    def predict(self, X):
        return np.array(self.values[np.asarray(X)[:, 0].astype(int)])


def _modules(names):
    """(name, estimator) pairs, as a store is allocated for."""
    return [(name, Values()) for name in names]


def _write_all(combination, proba, y, folds, sample_weight=None):
    n_modules, n_samples, _ = proba.shape
    names = [f"m{m}" for m in range(n_modules)]
    store = combination.allocate(_modules(names), y, sample_weight)
    for m in range(n_modules):
        for rows in folds:
            combination.write(store, m, rows, proba[m, rows])
    return store


FOLDS = [slice(0, 70), slice(70, 140), slice(140, 200)]


@pytest.mark.parametrize("make", [LogPooling, LinearMixture])
def test_module_scores_are_each_modules_out_of_fold_log_likelihood(make):
    rng = np.random.default_rng(0)
    proba, y = module_probas(rng)
    sample_weight = rng.uniform(0.5, 2.0, len(y))
    combination = make(np.arange(3))
    store = _write_all(combination, proba, y, FOLDS, sample_weight)
    combination.objective(store)
    expected = [
        np.average(np.log(proba[m, np.arange(len(y)), y]), weights=sample_weight)
        for m in range(len(proba))
    ]
    np.testing.assert_allclose(combination.module_scores(store), expected)


def test_log_pooling_store_is_the_floored_log_tensor():
    rng = np.random.default_rng(1)
    proba, y = module_probas(rng)
    combination = LogPooling(np.arange(3))
    loss = combination.objective(_write_all(combination, proba, y, FOLDS))
    np.testing.assert_allclose(loss.log_proba, np.log(np.maximum(proba, POOL_FLOOR)))
    np.testing.assert_array_equal(loss.y, y)


def test_linear_mixture_store_keeps_only_the_true_class():
    rng = np.random.default_rng(2)
    proba, y = module_probas(rng)
    combination = LinearMixture(np.arange(3))
    loss = combination.objective(_write_all(combination, proba, y, FOLDS))
    np.testing.assert_allclose(loss.proba_true, proba[:, np.arange(len(y)), y])
    assert loss.proba is None  # the whole outputs only when asked for


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
    loss = combination.objective(store)
    rows = np.array([5, 0, 17])
    np.testing.assert_allclose(
        combination.predict_rows(loss, rows, weights, extra), expected[rows]
    )


def test_floored_log_transform_is_clipped_log_for_any_block():
    # Its floor array grows and reshapes with the blocks it meets.
    from skweighting._combinations import _FlooredLog

    rng = np.random.default_rng(6)
    transform, narrow = _FlooredLog(), _FlooredLog(np.float32)
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
    combination.objective(store)
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
    by_fold, whole = (combination.objective(store) for store in stores)
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
    return combination.objective(store)


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


def test_output_names():
    assert LogPooling(np.array(["x", "y"])).output_names("ens", "lr") == [
        "ens_lr_x",
        "ens_lr_y",
    ]
    assert Average(1, 1).output_names("ens", "ridge") == ["ens_ridge"]
    assert Average(2, 2).output_names("ens", "ridge") == ["ens_ridge0", "ens_ridge1"]


def test_large_log_pooling_store_is_float32_and_gives_the_same_weights(monkeypatch):
    from skweighting._solvers import learn_attention

    rng = np.random.default_rng(6)
    proba, y = module_probas(rng, n_samples=3000)
    weights = {}
    for rows in (10**9, 1000):  # float64, then float32 above 1000 rows
        monkeypatch.setattr(LogPooling, "FLOAT32_ROWS", rows)
        combination = LogPooling(np.arange(3))
        store = _write_all(combination, proba, y, [slice(0, 1500), slice(1500, 3000)])
        loss = combination.objective(store)
        weights[loss.log_proba.dtype] = learn_attention(
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


@pytest.mark.parametrize("n_rows", [1, 7, 8, 50])
@pytest.mark.parametrize("scale", [1.0, 1e-200, 1e200])  # 1e200: squares overflow
def test_output_scale_is_the_weighted_std_of_y(monkeypatch, n_rows, scale):
    from skweighting import _combinations

    monkeypatch.setattr(_combinations, "SCALE_BLOCK_VALUES", 7 * 3)  # blocks merged
    rng = np.random.default_rng(13)
    y = (rng.normal(size=(n_rows, 3)) * [1.0, 50.0, 0.0] + [1e3, -2.0, 4.0]) * scale
    sample_weight = rng.uniform(0.5, 2.0, n_rows)
    sample_weight[:7] = 0.0 if n_rows > 7 else sample_weight[:7]  # a weightless block
    sample_weight /= sample_weight.sum()
    output_scale = _combinations._output_scale(y, sample_weight)
    magnitude = np.abs(y).max(axis=0)
    scaled = y / magnitude  # the direct formula, safe from overflow
    mean = sample_weight @ scaled
    spread = np.sqrt(sample_weight @ (scaled - mean) ** 2)
    # A column without spread (one weighted row, or constant) keeps its units.
    expected = np.where(spread <= 1e-12, 1.0, spread * magnitude)
    np.testing.assert_allclose(output_scale, expected, rtol=1e-12)
    assert output_scale[2] == 1.0
    # Without the constant column, and unless squares under- or overflow,
    # one pass measures the scale: the largest values are never searched.
    if scale == 1.0 and n_rows > 8:
        monkeypatch.setattr(_combinations, "_column_max_abs", None)
    varying = np.ascontiguousarray(y[:, :2])
    output_scale = _combinations._output_scale(varying, sample_weight)
    np.testing.assert_allclose(output_scale, expected[:2], rtol=1e-12)
