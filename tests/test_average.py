"""Average and its loss: the scale of y, the Gram matrix of the errors,
the store written fold after fold and its checks."""

import warnings

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


# --------------------------------------------------------------------------
# The scale's edge cases, without warnings
# --------------------------------------------------------------------------
def _weighted_std(y, sample_weight):
    sample_weight = sample_weight / sample_weight.sum()
    mean = sample_weight @ y
    return np.sqrt(sample_weight @ (y - mean) ** 2)


def test_output_scale_skips_a_weightless_block_in_the_middle(monkeypatch):
    monkeypatch.setattr(average_module, "SCALE_BLOCK_VALUES", 2 * 5)  # 5 rows
    rng = np.random.default_rng(14)
    y = rng.normal(size=(20, 2)) * [1.0, 30.0]
    sample_weight = rng.uniform(0.5, 2.0, 20)
    sample_weight[5:10] = 0.0  # the second block: the later ones still count
    # The scale of a weighted std does not depend on the weights' total.
    np.testing.assert_allclose(
        output_scale(y, 2.0 * sample_weight), _weighted_std(y, sample_weight)
    )


def test_output_scale_of_columns_constant_up_to_rounding_is_one():
    # No spread relative to the column's size (1e-13 of 1e6), or none at all:
    # the column keeps its units.
    rng = np.random.default_rng(15)
    y = np.column_stack([1e6 + 1e-7 * rng.normal(size=30), np.zeros(30)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(output_scale(y, np.full(30, 1 / 30)), [1.0, 1.0])
        # Each alone (one pass, then the check of the spread against the
        # column's root mean square).
        for column in y.T:
            assert output_scale(column[:, None], np.full(30, 1 / 30)).tolist() == [1.0]


def test_scaled_output_scale_finds_the_largest_value_in_any_block(monkeypatch):
    # Squares that overflow send the scale to y / max|y|; the maximum is
    # searched in every block, the first row and the last included.
    monkeypatch.setattr(average_module, "SCALE_BLOCK_VALUES", 2 * 4)  # 4 rows
    y = np.ones((13, 2))
    y[1::2] = -1.0
    y[0, 0], y[12, 1] = 1e300, -1e300
    sample_weight = np.full(13, 1 / 13)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scale = output_scale(y, sample_weight)
    expected = [
        _weighted_std(y[:, j] / 1e300, sample_weight)[()] * 1e300 for j in (0, 1)
    ]
    np.testing.assert_allclose(scale, expected, rtol=1e-12)


def test_huge_values_raise_no_floating_point_warnings():
    # Squares of 1e200 overflow (and inf * 0 is NaN) on the way: silenced,
    # the scale falls back to y / max|y|, and the store names the module.
    rng = np.random.default_rng(16)
    huge = rng.normal(size=(200, 1)) * 1e200
    expected = np.std(huge / 1e200, axis=0) * 1e200
    y = rng.normal(size=(200, 1))
    predictions = y + rng.normal(size=(3, 200, 1))
    predictions[2, 10] = 1e200  # its squared error overflows
    tiny = y * 1e-12
    scaled_up = tiny + rng.normal(size=(3, 200, 1)) * 1e-12
    scaled_up[2, 10] = 1e300  # its scaled error overflows
    scaled_up[0, 10] = tiny[10]  # an error of exactly 0 there: 0 * inf is NaN
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(
            output_scale(huge, np.full(200, 1 / 200)), expected, rtol=1e-12
        )
        for keep_rows in (False, True):
            with pytest.raises(ValueError, match=r"modules \['c'\] overflow"):
                _write_folds(predictions, y, keep_rows)
            # Squares of opposite signs: inf - inf in the Gram matrix.
            mixed = predictions.copy()
            mixed[1, 10:12], mixed[2, 10:12] = [[1e200], [1e200]], [[1e200], [-1e200]]
            with pytest.raises(ValueError, match=r"modules \['b', 'c'\] overflow"):
                _write_folds(mixed, y, keep_rows)
            with pytest.raises(ValueError, match=r"module 'c' .*overflow"):
                _write_folds(scaled_up, tiny, keep_rows)
        errors = np.full((2, 3, 1), 1e300)
        assert np.isinf(average_module.QuadraticLoss(errors).gram).all()
        store = Average(1, 1).allocate(_modules("ab"), y[:10, 0], None, keep_rows=True)
        Average(1, 1).write(store, 0, slice(0, 10), np.full((10, 1), 1e300))
        Average(1, 1).write(store, 1, slice(0, 10), np.full((10, 1), -1e300))
        assert np.all(Average(1, 1).module_scores(store) == -np.inf)
        # A squared error that overflows on a row of zero weight: NaN.
        weight = np.r_[0.0, np.ones(9)]
        store = Average(1, 1).allocate(
            _modules("ab"), y[:10, 0], weight, keep_rows=True
        )
        Average(1, 1).write(store, 0, slice(0, 10), np.r_[1e300, y[1:10, 0]][:, None])
        Average(1, 1).write(store, 1, slice(0, 10), y[:10])
        scores = Average(1, 1).module_scores(store)
        assert np.isnan(scores[0]) and scores[1] == 1.0


def test_error_gram_of_a_single_row():
    errors = np.array([[[1.0, 2.0]], [[3.0, -1.0]]])  # 2 modules, 1 row, 2 outputs
    np.testing.assert_allclose(
        error_gram(errors, np.array([1.0])), [[2.5, 0.5], [0.5, 5.0]]
    )


# --------------------------------------------------------------------------
# The loss's pieces with the scale and the targets
# --------------------------------------------------------------------------
def _store_and_loss(keep_rows=True, sample_weight=None):
    rng = np.random.default_rng(17)
    y = rng.normal(size=(200, 2)) * [3.0, 0.5] + [10.0, -4.0]
    predictions = y[None] + rng.normal(size=(3, 200, 2))
    combination = Average(2, 2)
    store = combination.allocate(_modules("abc"), y, sample_weight, keep_rows=keep_rows)
    for rows in FOLDS:
        for m in range(3):
            combination.write(store, m, rows, predictions[m, rows])
    return combination, store, combination.loss(store), predictions


def test_predict_rows_of_the_loss_its_subsets_and_kept_modules():
    sample_weight = np.random.default_rng(18).uniform(0.5, 2.0, 200)
    _, store, loss, predictions = _store_and_loss(sample_weight=sample_weight)
    np.testing.assert_allclose(store.sample_weight, sample_weight / sample_weight.sum())
    weights = np.array([0.5, 0.3, 0.2])
    rows = np.array([3, 50, 199])
    expected = np.einsum("m,mij->ij", weights, predictions[:, rows])
    np.testing.assert_allclose(loss.predict_rows(rows, weights, None), expected)
    subset = loss.take(np.arange(0, 200, 2))
    np.testing.assert_allclose(
        subset.predict_rows(np.array([1, 25, 99]), weights, None),
        np.einsum("m,mij->ij", weights, predictions[:, [2, 50, 198]]),
    )
    kept = loss.keep_modules([0, 2])
    np.testing.assert_allclose(
        kept.predict_rows(rows, np.array([0.6, 0.4]), None),
        np.einsum("m,mij->ij", [0.6, 0.4], predictions[[0, 2]][:, rows]),
    )
    assert kept.value(np.array([0.6, 0.4]), None) == pytest.approx(
        loss.value(np.array([0.6, 0.0, 0.4]), None), rel=1e-13
    )


def test_keep_modules_of_the_folds_gram_matrices():
    sample_weight = np.random.default_rng(19).uniform(0.5, 2.0, 200)
    _, _, loss, _ = _store_and_loss(keep_rows=False, sample_weight=sample_weight)
    kept = loss.keep_modules([2, 0])
    assert kept.errors is None and kept.n_modules == 2
    sums, fold_weight = kept.fold_sums(np.array([0.4, 0.6]), None, FOLDS)
    expected, expected_weight = loss.fold_sums(np.array([0.6, 0, 0.4]), None, FOLDS)
    np.testing.assert_allclose(sums, expected, rtol=1e-13)
    np.testing.assert_allclose(fold_weight, expected_weight, rtol=1e-15)
    with pytest.raises(
        RuntimeError,
        match=r"^This loss kept only the Gram matrix of the errors, not their rows "
        r"\(allocate the store with keep_rows=True\)\.$",
    ):
        kept.predict_rows(np.arange(3), np.array([0.5, 0.5]), None)


def test_module_scores_of_several_outputs_are_the_mean_r2():
    combination, store, _, predictions = _store_and_loss()
    y = store.y
    r2 = [
        np.mean(1 - ((predictions[m] - y) ** 2).mean(axis=0) / y.var(axis=0))
        for m in range(3)
    ]
    np.testing.assert_allclose(combination.module_scores(store), r2)


@pytest.mark.parametrize("y_ndim", [1, 2])
def test_average_combine_shape_and_out(y_ndim):
    outputs = [np.full((4, 1), 1.0), np.full((4, 1), 3.0)]
    combination = Average(1, y_ndim)
    combined = combination.combine(iter(outputs), np.array([0.25, 0.75]), None)
    assert combined.shape == ((4,) if y_ndim == 1 else (4, 1))
    np.testing.assert_array_equal(combined.ravel(), 2.5)
    out = np.empty((4, 1))
    combination.combine(iter(outputs), np.array([0.5, 0.5]), None, out=out)
    np.testing.assert_array_equal(out, 2.0)
    np.testing.assert_array_equal(combination.placeholder(3), np.zeros((3, 1)))


def test_average_store_error_messages():
    combination = Average(1, 1)
    store = combination.allocate(_modules("ab"), np.zeros(200), None)
    combination.write(store, 0, FOLDS[0], np.ones((70, 1)))
    with pytest.raises(
        RuntimeError,
        match=r"^The folds' outputs were written out of order; every module of a "
        r"fold must be written before the next fold\.$",
    ):
        combination.write(store, 0, FOLDS[1], np.ones((70, 1)))
    with pytest.raises(
        RuntimeError, match=r"^The last fold's outputs were not all written\.$"
    ):
        combination.loss(store)
    rng = np.random.default_rng(12)
    y = rng.normal(size=(200, 1))
    predictions = y + rng.normal(size=(3, 200, 1))
    predictions[2, 10] = 1e200
    with pytest.raises(
        ValueError,
        match=r"^The squared errors of modules \['c'\] overflow: their predictions "
        r"are far outside the range of y\. Fix or drop them\.$",
    ):
        _write_folds(predictions, y, False)


def test_average_read_and_check_name_the_module():
    combination = Average(2, 2)
    with pytest.raises(TypeError, match=r"^module 'f' \(Values\) failed to predict"):
        combination.read(Values(None), "f", np.arange(5.0)[:, None])
    with pytest.raises(ValueError, match=r"^module 'b' \(Values\) predicted 1 outputs"):
        combination.check(np.zeros((5, 1)), "b", Values(np.zeros((5, 1))))
    module = Values(np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match=r"^module 'v' \(Values\) returned NaN"):
        combination.read(module, "v", np.arange(5.0)[:, None])


@pytest.mark.parametrize(
    "y_column, alternative",
    [
        (np.zeros(200), False),  # scale 1 (no spread): no overflow possible
        (np.linspace(-1.5, 1.5, 200) * 1.5, False),  # scale above 1
        (np.r_[1e291, np.linspace(-1, 1, 199)], False),  # |y| at most 1e291
        (np.linspace(-1, 1, 200) * 1e-3, True),  # errors scaled up
        (np.r_[1.1e291, np.linspace(-1, 1, 199)], True),  # y near overflowing
    ],
)
def test_infinite_predictions_are_told_from_overflowing_errors(y_column, alternative):
    y = y_column[:, None]
    predictions = np.repeat(y[None], 3, axis=0) + 0.1
    predictions[1, 150] = np.inf
    message = r"module 'b' \(Values\) returned NaN or infinite outputs"
    if alternative:
        message += (
            r", or predictions so far outside the range of y that their errors "
            r"overflow\. "
        )
    else:
        message += r"\. Check"
    with pytest.raises(ValueError, match="^" + message):
        _write_folds(predictions, y, keep_rows=True)


def test_a_nan_module_is_named_after_a_module_whose_squares_overflow():
    rng = np.random.default_rng(20)
    y = rng.normal(size=(200, 1))
    predictions = y + rng.normal(size=(3, 200, 1))
    predictions[0, 5] = 1e200  # finite: its squared errors overflow
    predictions[2, 5] = np.nan
    with pytest.raises(ValueError, match=r"^module 'c' \(Values\) returned NaN"):
        _write_folds(predictions, y, keep_rows=True)


class CountingValues(Values):
    """`Values` that counts its predict calls."""

    def predict(self, X):
        self.calls_ = getattr(self, "calls_", 0) + 1
        return super().predict(X)


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_predict_block_names_the_module_of_a_non_finite_prediction(bad_value):
    # The values are checked on the weighted sum; only a non-finite sum has
    # the modules called again, one by one, to name the culprit.
    good = np.linspace(-1.0, 1.0, 6)[:, None]
    bad = good.copy()
    bad[4] = bad_value
    modules = [("a", CountingValues(good)), ("b", CountingValues(bad))]
    combination = Average(1, 1)
    with pytest.raises(ValueError, match=r"^module 'b' \(CountingValues\) returned"):
        combination.predict_block(modules, np.arange(6.0)[:, None], [0.5, 0.5], None)
    assert [module.calls_ for _, module in modules] == [2, 2]


def test_predict_block_names_a_failing_or_misshapen_module():
    combination = Average(2, 2)
    X = np.arange(5.0)[:, None]
    good = ("g", Values(np.zeros((5, 2))))
    failing = ("f", Values(None))
    with pytest.raises(TypeError, match=r"^module 'f' \(Values\) failed to predict"):
        combination.predict_block([good, failing], X, np.array([0.5, 0.5]), None)
    narrow = ("b", Values(np.zeros((5, 1))))
    with pytest.raises(ValueError, match=r"^module 'b' \(Values\) predicted 1 outputs"):
        combination.predict_block([good, narrow], X, np.array([0.5, 0.5]), None)


def test_predict_block_returns_an_overflowing_sum_of_finite_predictions():
    X = np.arange(3.0)[:, None]
    combination = Average(1, 1)
    finite = ("a", CountingValues(np.ones((3, 1))))
    combined = combination.predict_block([finite], X, np.array([1.0]), None)
    np.testing.assert_array_equal(combined, 1.0)
    assert finite[1].calls_ == 1  # a finite sum: each module called once
    values = np.full((3, 1), 1.5e308)
    modules = [("a", CountingValues(values)), ("b", CountingValues(values))]
    with np.errstate(over="ignore"):
        combined = combination.predict_block(modules, X, np.array([0.9, 0.9]), None)
    # Called again to find a culprit; none is found, and the sum is returned.
    np.testing.assert_array_equal(combined, np.inf)
    assert [module.calls_ for _, module in modules] == [2, 2]
