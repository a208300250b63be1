"""Calling modules: fitting, the fused output check, named errors."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils import _safe_indexing

from skweighting._folds import FoldBuffers, FoldRows, _take_rows, fold_data
from skweighting._modules import (
    call_module,
    check_predictions,
    check_probabilities,
    fit_module,
)

GOOD = np.array([[0.2, 0.8], [1.0, 0.0], [0.5, 0.5]])


def _check(output):
    return check_probabilities(np.asarray(output, float), "m", LogisticRegression(), 2)


def test_probabilities_pass_and_report_tiny_negatives():
    assert not _check(GOOD)
    assert _check([[1.0 + 1e-7, -1e-7], [0.5, 0.5]])


@pytest.mark.parametrize(
    "bad, message",
    [
        ([[np.nan, 1.0], [0.5, 0.5]], "NaN or infinite"),
        ([[np.inf, 0.0], [0.5, 0.5]], "NaN or infinite"),
        ([[-np.inf, 1.0], [0.5, 0.5]], "NaN or infinite"),
        ([[-0.5, 1.5], [0.5, 0.5]], "not probabilities"),
        ([[-0.1, 0.6], [0.5, 0.5]], "not probabilities"),
        ([[0.7, 0.7], [0.5, 0.5]], "not probabilities"),
        ([[1.0], [1.0]], "shape"),
    ],
)
def test_not_probabilities_are_named_errors(bad, message):
    with pytest.raises(
        ValueError, match=f"module 'm' \\(LogisticRegression\\).*{message}"
    ):
        _check(bad)


def test_predictions_check():
    out = check_predictions(np.arange(3.0), "r", LogisticRegression(), 1)
    assert out.shape == (3, 1)
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_predictions(np.array([1.0, np.nan]), "r", LogisticRegression(), 1)
    with pytest.raises(ValueError, match="predicted 2 outputs for a y with 1"):
        check_predictions(np.ones((3, 2)), "r", LogisticRegression(), 1)


class Forgetful(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)  # and no `return self`


class Broken(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise KeyError("boom")

    def predict_proba(self, X):
        raise RuntimeError("bust")


def test_fit_module_returns_the_module_and_names_failures():
    X, y = np.zeros((4, 1)), np.array([0, 1, 0, 1])
    module = Forgetful()
    assert fit_module(module, "f", X, y, {}) is module
    with pytest.raises(KeyError, match="module 'b' \\(Broken\\) failed to fit") as info:
        fit_module(Broken(), "b", X, y, {})
    assert isinstance(info.value.__cause__, KeyError)


def test_call_module_names_failures_and_missing_methods():
    with pytest.raises(RuntimeError, match="'b' \\(Broken\\) failed to predict_proba"):
        call_module(Broken(), "b", np.zeros((2, 1)), "predict_proba")
    with pytest.raises(ValueError, match="has no predict_proba after fitting"):
        call_module(Forgetful(), "f", np.zeros((2, 1)), "predict_proba")


def test_blocked_check_finds_a_bad_row_in_any_block(monkeypatch):
    from skweighting import _modules

    monkeypatch.setattr(_modules, "CHECK_BLOCK_ROWS", 3)
    rows = np.tile([[0.25, 0.75]], (10, 1))
    assert not _check(rows)
    for bad_row, bad in [(9, [np.nan, 1.0]), (4, [-0.5, 1.5]), (7, [0.6, 0.6])]:
        broken = rows.copy()
        broken[bad_row] = bad
        with pytest.raises(ValueError, match="module 'm'"):
            _check(broken)


@pytest.mark.parametrize(
    "rows",
    [
        np.r_[0:5, 10:20],  # KFold without shuffling: copied run by run
        np.r_[3:7],
        np.array([5, 6, -3, -2]),  # negative indices: never a run
        np.array([2, 1, 0]),
        np.array([], dtype=int),
        np.array([7, 1, 12, 3, 19, 0, 8]),
        np.r_[0:20],
    ],
)
@pytest.mark.parametrize("shape", [(20,), (20, 2), (20, 3)])
def test_fold_rows_are_copies_equal_to_safe_indexing(rows, shape):
    data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    taken = _take_rows(data, rows)
    expected = _safe_indexing(data, rows)
    np.testing.assert_array_equal(taken, expected)
    assert taken.dtype == expected.dtype and taken.shape == expected.shape
    assert not np.shares_memory(taken, data)
    # A fold's X and y share the runs of its training rows.
    y = np.arange(20) * 2
    X_train, y_train, X_test = fold_data(data, y, rows, rows[::-1])
    np.testing.assert_array_equal(X_train, expected)
    np.testing.assert_array_equal(y_train, _safe_indexing(y, rows))
    np.testing.assert_array_equal(X_test, _safe_indexing(data, rows[::-1]))


@pytest.mark.parametrize(
    "train, test",
    [
        (np.r_[4:20], np.r_[0:4]),  # KFold's first fold: one run
        (np.r_[0:8, 12:20], np.r_[8:12]),
        (np.array([3, 9, 1, 14, 0, 18]), np.array([2, 7, 5])),  # shuffled
    ],
)
def test_folds_rows_are_copied_into_the_buffers_of_the_previous_fold(train, test):
    X = np.arange(60.0).reshape(20, 3)
    y = np.arange(20.0) * 2
    buffers = FoldBuffers()
    first = fold_data(X, y, np.r_[0:16], np.r_[16:20], buffers)
    taken = fold_data(X, y, train, test, buffers)
    expected = (_safe_indexing(X, train), _safe_indexing(y, train))
    expected += (_safe_indexing(X, test),)
    for array, previous, want in zip(taken, first, expected):
        np.testing.assert_array_equal(array, want)
        assert np.shares_memory(array, previous)  # the same memory, rewritten
        assert not np.shares_memory(array, X) and not np.shares_memory(array, y)
    # More rows than a buffer holds, another dtype or another row shape: a
    # new array (and the buffer is replaced for the folds after).
    longer = fold_data(X, y, np.r_[0:18], np.r_[0:18], buffers)
    assert not np.shares_memory(longer[0], first[0])
    np.testing.assert_array_equal(longer[0], X[:18])
    for other in (X.astype(np.float32), X[:, :2].copy()):
        rows = fold_data(other, y, np.r_[0:4], np.r_[4:8], buffers)[0]
        np.testing.assert_array_equal(rows, other[:4])
        assert rows.dtype == other.dtype
    # Data in Fortran order is copied as before (its layout kept), never
    # into a buffer.
    fortran = np.asfortranarray(X)
    rows = fold_data(fortran, y, np.r_[2:10], np.r_[0:2], buffers)[0]
    np.testing.assert_array_equal(rows, X[2:10])
    assert rows.flags.f_contiguous and not np.shares_memory(rows, first[0])


def test_fold_rows_are_runs_made_into_indices_only_on_request():
    rows = FoldRows([slice(0, 3), slice(5, 5), slice(7, 9)], np.int32)
    assert len(rows) == 5
    assert rows.runs == [slice(0, 3), slice(7, 9)]  # the empty run dropped
    indices = np.asarray(rows)
    np.testing.assert_array_equal(indices, [0, 1, 2, 7, 8])
    assert indices.dtype == np.int32
    assert np.asarray(rows, dtype=np.int64).dtype == np.int64
    assert np.asarray(FoldRows([], np.int32)).shape == (0,)
    data = np.arange(20).reshape(10, 2)
    np.testing.assert_array_equal(_take_rows(data, rows), data[[0, 1, 2, 7, 8]])
    np.testing.assert_array_equal(_take_rows([*range(10)], rows), [0, 1, 2, 7, 8])


def test_prediction_check_is_exact_when_the_sum_overflows():
    # One sum proves every entry finite; when it overflows (finite but huge
    # entries) the entries are checked one by one.
    huge = np.full((3, 1), 1e308)
    assert check_predictions(huge, "m", None, 1).shape == (3, 1)
    for bad in ([np.inf], [-np.inf], [np.nan]):
        output = np.vstack([huge[:2], [bad]])
        with pytest.raises(ValueError, match="NaN or infinite"):
            check_predictions(output, "m", None, 1)
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_predictions(np.array([[np.inf], [-np.inf]]), "m", None, 1)
