"""Validation: the module list, y, cv splits, seeds."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold
from sklearn.tree import DecisionTreeClassifier

from skweighting import SparseAttentionClassifier
from skweighting._folds import check_splits, stored_order
from skweighting._validation import (
    check_classification_y,
    check_regression_y,
    seed_modules,
    validate_estimators,
)

X = np.zeros((12, 2))
Y = np.array([0, 1] * 6)


def test_splits_hold_out_every_sample_once():
    splits = check_splits(3, X, Y, classifier=True)
    held_out = np.sort(np.concatenate([test for _, test in splits]))
    np.testing.assert_array_equal(held_out, np.arange(12))
    with pytest.raises(ValueError, match="exactly one test fold"):
        check_splits([(np.arange(6), np.arange(6))], X, Y, classifier=True)


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


def test_seeds_are_drawn_for_unseeded_modules_only():
    modules = [
        ("tree", DecisionTreeClassifier()),
        ("seeded", DecisionTreeClassifier(random_state=7)),
    ]
    a = seed_modules(modules, 0)
    b = seed_modules(modules, 0)
    assert a[0].random_state == b[0].random_state is not None
    assert a[1].random_state == 7
    assert seed_modules(modules, None)[0].random_state is None
    assert modules[0][1].random_state is None  # the given modules are untouched


def test_estimator_list_errors():
    owner = SparseAttentionClassifier()

    with pytest.raises(ValueError, match="non-empty list"):
        validate_estimators(owner, [])
    with pytest.raises(ValueError, match="All estimators are dropped"):
        validate_estimators(owner, [("a", "drop")])
    with pytest.raises(TypeError, match="Expected an estimator instance"):
        validate_estimators(owner, [("a", LogisticRegression)])
    with pytest.raises(ValueError, match="unique"):
        validate_estimators(
            owner, [("a", LogisticRegression()), ("a", LogisticRegression())]
        )
    names, active = validate_estimators(
        owner, [("a", LogisticRegression()), ("b", "drop")]
    )
    assert names == ["a", "b"] and [n for n, _ in active] == ["a"]


def test_y_checks():
    with pytest.raises(ValueError, match="only one class"):
        check_classification_y(np.zeros(5))
    with pytest.raises(ValueError, match="Unknown label type"):
        check_classification_y(np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="numeric regression targets"):
        check_regression_y(np.array(["a", "b"]), [], "R")
    with pytest.raises(ValueError, match="do not support multi-output"):
        check_regression_y(np.ones((4, 2)), [("tree", LogisticRegression())], "R")


@pytest.mark.parametrize(
    "y",
    [
        np.array([3, 1, 3, 7]),
        np.array([True, False, True]),
        np.resize(np.array([-100, 100, 0], dtype=np.int8), 300),  # int8 overflow
        np.array([-128, 127, 0], dtype=np.int8),  # wide range: np.unique
        np.array([2**63 - 1, -(2**63), 0]),
        np.array([2**63 + 1, 2**63 - 2, 2**63 - 1], dtype=np.uint64),
        np.random.default_rng(0).integers(-3, 50, 1000),
        np.array(["b", "a", "b"]),
    ],
)
def test_labels_and_codes_equal_np_unique(y):
    # Integer labels are counted, not sorted: the same classes (and dtype)
    # and codes as np.unique, wherever the labels lie.
    _, classes, codes = check_classification_y(y)
    expected, inverse = np.unique(y, return_inverse=True)
    assert classes.dtype == expected.dtype
    np.testing.assert_array_equal(classes, expected)
    np.testing.assert_array_equal(codes, inverse.ravel())


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
