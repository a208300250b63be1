"""Folds (skweighting._folds): the splits of ``cv`` (every row held out
exactly once, int32 indices, groups, KFold's own folds made as runs of
rows), the order the out-of-fold rows are stored in, and the fold rows
copied out of X and y (runs, buffers reused from fold to fold)."""

import numpy as np
import pandas as pd
import pytest
from _helpers import three_classifiers
from sklearn.datasets import load_iris
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils import _safe_indexing

from skweighting import SparseAttentionClassifier
from skweighting._folds import (
    FoldBuffers,
    FoldRows,
    _take_rows,
    check_splits,
    cost_rows,
    fold_data,
    stored_order,
)

X = np.zeros((12, 2))
Y = np.array([0, 1] * 6)
X_IRIS, Y_IRIS = load_iris(return_X_y=True)


# --------------------------------------------------------------------------
# The splits
# --------------------------------------------------------------------------
def test_splits_hold_out_every_sample_once():
    splits = check_splits(3, X, Y, classifier=True)
    held_out = np.sort(np.concatenate([test for _, test in splits]))
    np.testing.assert_array_equal(held_out, np.arange(12))
    with pytest.raises(ValueError, match="exactly one test fold"):
        check_splits([(np.arange(6), np.arange(6))], X, Y, classifier=True)


def test_cv_must_hold_out_every_sample_once():
    splits = [(np.arange(100), np.arange(100, 150))]
    with pytest.raises(ValueError, match=r"exactly one test fold.*K-fold"):
        SparseAttentionClassifier(three_classifiers(), cv=splits).fit(X_IRIS, Y_IRIS)


def test_split_indices_are_int32_and_out_of_range_ones_still_fail():
    splits = check_splits(3, X, Y, classifier=True)
    assert all(a.dtype == np.int32 for split in splits for a in split)
    # An index beyond int32 is not wrapped into range by the narrowing.
    huge = np.array([2**32 + 1], dtype=np.int64)
    split = (np.arange(11), np.concatenate([huge, np.arange(11)]))
    with pytest.raises(ValueError, match="outside the 12 training rows"):
        check_splits([split], X, Y, classifier=True)


def test_group_splitter_needs_groups():
    with pytest.raises(ValueError, match="no groups were given"):
        check_splits(GroupKFold(3), X, Y, classifier=True)
    groups = np.arange(12) // 2
    splits = check_splits(GroupKFold(3), X, Y, classifier=True, groups=groups)
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])


def test_precomputed_splits_for_other_rows():
    splits = list(KFold(3).split(np.zeros((30, 1))))
    with pytest.raises(ValueError, match="outside the 12 training rows"):
        check_splits(splits, X, Y, classifier=True)


def test_too_few_samples_for_the_folds():
    with pytest.raises(ValueError, match="n_samples=2 with cv=5"):
        check_splits(5, X[:2], Y[:2], classifier=False)


@pytest.mark.parametrize("n_samples, n_splits", [(10, 2), (13, 5), (7, 7), (101, 3)])
def test_unshuffled_kfold_splits_are_kfolds_own(n_samples, n_splits):
    # Consecutive folds are made without KFold's masks: the same indices.
    X = np.zeros((n_samples, 1))
    y = np.arange(n_samples) % 2
    splits = check_splits(KFold(n_splits), X, y, classifier=False)
    expected = list(KFold(n_splits).split(X, y))
    assert len(splits) == len(expected)
    for (train, test), (train_kfold, test_kfold) in zip(splits, expected):
        np.testing.assert_array_equal(train, train_kfold)
        np.testing.assert_array_equal(test, test_kfold)
        assert train.dtype == test.dtype == np.int32
    # An int cv of a regressor is such a KFold.
    for (train, test), (train_int, test_int) in zip(
        splits, check_splits(n_splits, X, y, classifier=False)
    ):
        np.testing.assert_array_equal(train, train_int)
        np.testing.assert_array_equal(test, test_int)


def test_stored_order_is_none_only_for_folds_in_the_rows_own_order():
    X = np.zeros((13, 1))
    y = np.arange(13) % 2
    for cv in (KFold(5), [(np.r_[4:13], np.r_[0:4]), (np.r_[0:4], np.r_[4:13])]):
        assert stored_order(check_splits(cv, X, y, classifier=False)) is None
    shuffled = KFold(5, shuffle=True, random_state=0)
    splits = check_splits(shuffled, X, y, classifier=False)
    np.testing.assert_array_equal(
        stored_order(splits), np.concatenate([test for _, test in splits])
    )
    backwards = [(np.r_[0:4], np.r_[4:13]), (np.r_[4:13], np.r_[0:4])]
    np.testing.assert_array_equal(stored_order(backwards), np.r_[4:13, 0:4])


# --------------------------------------------------------------------------
# The rows of a fold
# --------------------------------------------------------------------------
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


def test_cost_rows_are_held_out_then_training_rows_repeated_only_if_short():
    X = np.arange(20.0).reshape(-1, 1)
    train, test = np.r_[0:15], np.r_[15:20]
    np.testing.assert_array_equal(
        cost_rows(X, train, test, 8)[:, 0], [15, 16, 17, 18, 19, 0, 1, 2]
    )
    taken = cost_rows(X, train, test, 45)[:, 0]
    np.testing.assert_array_equal(taken[:20], np.r_[15:20, 0:15])
    np.testing.assert_array_equal(taken[20:40], taken[:20])
    frame = pd.DataFrame(X, columns=["a"])
    assert list(cost_rows(frame, train, test, 6)["a"]) == [15, 16, 17, 18, 19, 0]
