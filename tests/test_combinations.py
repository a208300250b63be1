"""The combination objects: the out-of-fold store, reading and checking a
module's output, module scores, and the prediction formula."""

import re
import warnings

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
from skweighting._combinations._common import (
    clipped_log,
    normalised_weights,
    renormalised_without,
)
from skweighting._combinations.average import (
    QuadraticLoss,
)
from skweighting._combinations.log_pool import (
    POOL_FLOOR,
    LogPoolLoss,
    _FlooredLog,
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


# --------------------------------------------------------------------------
# The losses' small pieces
# --------------------------------------------------------------------------
def _loss_of(make, rng, n_samples=120, with_proba=False):
    proba, y = module_probas(rng, n_samples=n_samples)
    sample_weight = rng.uniform(0.5, 2.0, n_samples)
    if make == "log":
        return LogPoolLoss(clipped_log(proba.copy()), y, sample_weight)
    if make == "linear":
        true = proba[:, np.arange(n_samples), y]
        return MixtureLoss(true, sample_weight, proba if with_proba else None)
    return QuadraticLoss(module_errors(rng, n_samples), sample_weight)


@pytest.mark.parametrize("make", ["log", "linear", "regression"])
def test_keep_modules_is_the_loss_of_those_modules_alone(make):
    # The same rows, targets and sample weights; only the modules' axis is
    # cut. Its value at weights on the kept modules is the whole loss's value
    # at those weights with zeros elsewhere.
    rng = np.random.default_rng(12)
    loss = _loss_of(make, rng, with_proba=True)
    kept = loss.keep_modules(np.array([0, 2]))
    assert (kept.n_modules, kept.n_samples) == (2, loss.n_samples)
    np.testing.assert_allclose(kept.sample_weight, loss.sample_weight, rtol=1e-15)
    extra = loss.initial_extra() + 0.2
    value = loss.value(np.array([0.7, 0.0, 0.3, 0.0]), extra)
    assert kept.value(np.array([0.7, 0.3]), extra) == pytest.approx(value, rel=1e-13)
    if make == "linear":
        np.testing.assert_allclose(
            kept.predict_rows(np.arange(5), np.array([0.7, 0.3]), extra),
            loss.predict_rows(np.arange(5), np.array([0.7, 0, 0.3, 0]), extra),
        )
        assert _loss_of(make, rng).keep_modules([1]).proba is None


@pytest.mark.parametrize("make", ["linear", "regression"])
def test_losses_without_extra_parameters_have_no_extra_penalty(make):
    loss = _loss_of(make, np.random.default_rng(13))
    assert loss.extra_penalty(np.zeros(0)) == 0.0


def test_log_pool_extra_penalty_is_half_the_sharpness_penalty_times_log_beta2():
    assert LogPoolLoss.extra_penalty(np.array([0.7])) == pytest.approx(
        0.5 * 1e-2 * 0.49, rel=1e-15
    )
    assert LogPoolLoss.extra_penalty(np.array([-2.0])) == pytest.approx(0.02)


def test_log_pool_drop_of_the_only_module_with_weight():
    # Nothing is left to pool: all-zero weights and the sharpness unchanged
    # (not log(0)).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weights, extra = LogPoolLoss.drop(np.array([0.0, 1.0, 0.0]), np.array([0.3]), 1)
    np.testing.assert_array_equal(weights, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(extra, [0.3])


def test_renormalised_without():
    np.testing.assert_array_equal(
        renormalised_without(np.array([0.25, 0.25, 0.5]), 2), [0.5, 0.5, 0.0]
    )
    # The only module with weight: all zeros, no division by zero.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zeros = renormalised_without([0, 1, 0], 1)
    assert zeros.dtype == np.float64
    np.testing.assert_array_equal(zeros, [0.0, 0.0, 0.0])
    # float32 weights are rescaled in float64.
    w32 = np.array([0.2, 0.3, 0.5], dtype=np.float32)
    rescaled = renormalised_without(w32, 0)
    assert rescaled.dtype == np.float64
    w64 = w32.astype(np.float64)
    np.testing.assert_array_equal(rescaled, [0.0, w64[1], w64[2]] / (w64[1] + w64[2]))


def test_floored_log_writes_into_its_buffer():
    for dtype in [np.float64, np.float32]:
        out = np.empty((2, 3), dtype=dtype)
        block = np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]])
        assert _FlooredLog(dtype)(block, out) is out
        assert out[0, 0] == np.log(np.asarray(POOL_FLOOR, dtype=dtype))


def test_linear_mixture_combine_renormalises_only_rows_off_by_more_than_64_ulps():
    eps = np.finfo(float).eps
    rows = np.array(
        [
            [0.5, 0.5],  # sums to one
            [0.5 + 2 * eps, 0.5],  # 2 ulps of 1 off: left as it is
            [0.5 + 64 * eps, 0.5],  # exactly 64 ulps off: left as it is
            [0.5 + 65 * eps, 0.5],  # 65 ulps off: divided by its sum
            [0.3, 0.3],  # a module whose rows do not sum to one
        ]
    )
    combined = LinearMixture(np.arange(2)).combine([rows], np.array([1.0]), None)
    np.testing.assert_array_equal(combined[:3], rows[:3])
    np.testing.assert_array_equal(combined[3:], rows[3:] / rows[3:].sum(1)[:, None])
    np.testing.assert_array_equal(combined[4], [0.5, 0.5])
    assert combined[3, 0] != rows[3, 0]


@pytest.mark.parametrize("make", [LogPooling, LinearMixture])
def test_combine_writes_into_out(make):
    rng = np.random.default_rng(14)
    proba, _ = module_probas(rng, n_samples=10)
    out = np.empty((10, 3))
    weights, extra = np.array([0.4, 0.3, 0.2, 0.1]), np.zeros(1)
    combined = make(np.arange(3)).combine(iter(list(proba)), weights, extra, out=out)
    assert combined is out
    np.testing.assert_allclose(
        combined, make(np.arange(3)).combine(iter(list(proba)), weights, extra)
    )


@pytest.mark.parametrize("make", [LogPooling, LinearMixture])
def test_class_probabilities_placeholder_is_uniform(make):
    np.testing.assert_array_equal(
        make(np.arange(4)).placeholder(3), np.full((3, 4), 0.25)
    )


def test_read_names_the_module_in_its_errors():
    combination = LinearMixture(np.array([0, 1, 2]))
    failing = Table(None, classes=np.array([0, 1, 2]))
    with pytest.raises(TypeError, match=r"^module 'f' \(Table\) failed to predict"):
        combination.read(failing, "f", np.array([[0.0], [1.0]]))
    wrong_shape = Table(np.full((2, 2), 0.5), classes=np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"module 'm' \(Table\)"):
        combination.read(wrong_shape, "m", np.array([[0.0], [1.0]]))
    # A module that learned labels the ensemble never saw, as many as its own.
    unknown = Table(np.full((2, 3), 1 / 3), classes=np.array([0, 1, 5]))
    with pytest.raises(ValueError, match=r"module 'u' \(Table\)"):
        combination.read(unknown, "u", np.array([[0.0], [1.0]]))
    nan = Table(np.full((2, 3), np.nan), classes=np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"module 'n' \(Table\) returned NaN"):
        combination.read(nan, "n", np.array([[0.0], [1.0]]))


@pytest.mark.parametrize("make", [LinearMixture, LogPooling])
def test_predict_block_names_the_module_in_its_errors(make):
    combination = make(np.array([0, 1, 2]))
    X = np.array([[0.0], [1.0]])
    good = ("g", Table(np.full((2, 3), 1 / 3), classes=np.array([0, 1, 2])))
    nan = ("n", Table(np.full((2, 3), np.nan), classes=np.array([0, 1, 2])))
    with pytest.raises(ValueError, match=r"^module 'n' \(Table\) returned NaN"):
        combination.predict_block([good, nan], X, np.array([0.5, 0.5]), np.zeros(1))


class CountingTable(Table):
    """`Table` that counts its predict_proba calls."""

    def predict_proba(self, X):
        self.calls_ = getattr(self, "calls_", 0) + 1
        return super().predict_proba(X)


def _linear_block(bad_row, weights=(0.5, 0.5)):
    """The linear mixture's predict_block of a good module and one whose
    row 1 is ``bad_row``; returns the result (or the error) and the calls."""
    classes = np.array([0, 1, 2])
    good = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    bad = good.copy()
    bad[1] = bad_row
    modules = [("g", CountingTable(good, classes)), ("b", CountingTable(bad, classes))]
    X = np.array([[0.0], [1.0]])
    try:
        result = LinearMixture(classes).predict_block(
            modules, X, np.array(weights), np.zeros(1)
        )
    except ValueError as error:
        result = error
    return result, [module.calls_ for _, module in modules]


@pytest.mark.parametrize(
    "bad_row, message",
    [
        ([0.6, 0.3, 0.3], "values that are not probabilities"),
        ([0.6, 0.3, 0.0], "values that are not probabilities"),
        ([np.inf, 0.3, 0.1], "NaN or infinite"),
    ],
)
def test_linear_predict_block_checks_row_sums_on_the_mixture(bad_row, message):
    # Rows that do not sum to one (or sum to infinity) reach the mixture's
    # row sums: only then is each module called again and checked in full.
    error, calls = _linear_block(bad_row)
    assert isinstance(error, ValueError)
    assert re.match(rf"^module 'b' \(CountingTable\) returned .*{message}", str(error))
    assert calls == [2, 2]


@pytest.mark.parametrize("bad_value", [np.nan, -np.inf, -0.1])
def test_linear_predict_block_checks_each_modules_entries_as_it_comes(bad_value):
    error, calls = _linear_block([bad_value, 0.3, 0.1])
    assert isinstance(error, ValueError)
    assert str(error).startswith("module 'b' (CountingTable) returned")
    assert calls == [1, 1]


def test_linear_predict_block_calls_each_module_once_on_probabilities():
    # Entries rounded below zero are clipped; rows off by rounding are
    # divided by their sum.
    proba, calls = _linear_block([0.6 + 1e-9, 0.4, -1e-9], weights=(0.25, 0.75))
    expected = 0.25 * np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]) + 0.75 * np.array(
        [[0.2, 0.3, 0.5], [0.6 + 1e-9, 0.4, 0.0]]
    )
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(proba, expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert calls == [1, 1]


@pytest.mark.parametrize("make", [LinearMixture, LogPooling])
def test_check_checks_row_sums_unless_told_not_to(make):
    # The fit's path: a fold's outputs are checked with the default.
    classes = np.array([0, 1, 2])
    rows_off = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.3]])
    combination = make(classes)
    with pytest.raises(ValueError, match="not probabilities"):
        combination.check(rows_off, "m", Table(rows_off, classes), classes)
    unchecked = combination.check(
        rows_off, "m", Table(rows_off, classes), classes, check_rows=False
    )
    np.testing.assert_array_equal(unchecked, rows_off)


@pytest.mark.parametrize("module_classes", [["c", "a"], ["a", "c"], ["c", "a", "b"]])
def test_read_aligns_the_columns_of_a_module_by_label(module_classes):
    # The columns go to the module's labels in the ensemble's classes_:
    # zeros for a class it never saw, and its own order undone.
    n_labels = len(module_classes)
    table = np.random.default_rng(0).dirichlet(np.ones(n_labels), size=3)
    module = Table(table, classes=np.array(module_classes))
    combination = LinearMixture(np.array(["a", "b", "c"]))
    output = combination.read(module, "m", np.arange(3.0)[:, None])
    expected = np.zeros((3, 3))
    expected[:, [["a", "b", "c"].index(label) for label in module_classes]] = table
    np.testing.assert_array_equal(output, expected)
    shape = (3, n_labels + 1)
    wrong = Table(np.full(shape, 1 / shape[1]), classes=np.array(module_classes))
    with pytest.raises(
        ValueError,
        match=rf"^module 'w' \(Table\) returned predict_proba of shape "
        rf"\(3, {shape[1]}\), but it has {n_labels} classes_\.",
    ):
        combination.read(wrong, "w", np.arange(3.0)[:, None])


@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.float64])
def test_normalised_sample_weights_are_float64_and_sum_to_one(dtype):
    weights = normalised_weights(np.array([1, 2, 5], dtype=dtype), 3)
    assert weights.dtype == np.float64
    np.testing.assert_array_equal(weights, np.array([1, 2, 5]) / 8)
    np.testing.assert_array_equal(normalised_weights(None, 4), np.full(4, 0.25))
