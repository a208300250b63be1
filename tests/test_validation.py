"""Validation (skweighting._validation): the module list, y (labels and
their codes, numeric targets), and the seeds ``random_state`` gives the
modules."""

import numpy as np
import pytest
from _helpers import X_THREE_CLASSES as X
from _helpers import Y_THREE_CLASSES as Y
from _helpers import unseeded_forests
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from skweighting import SparseAttentionClassifier
from skweighting._validation import (
    check_classification_y,
    check_regression_y,
    seed_modules,
    validate_estimators,
)


# --------------------------------------------------------------------------
# The module list
# --------------------------------------------------------------------------
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


# --------------------------------------------------------------------------
# y
# --------------------------------------------------------------------------
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


# --------------------------------------------------------------------------
# Seeds
# --------------------------------------------------------------------------
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


def test_different_random_states_give_different_fits():
    a = unseeded_forests(random_state=0).fit(X, Y)
    b = unseeded_forests(random_state=1).fit(X, Y)
    assert not np.array_equal(a.attention_weights_, b.attention_weights_)


def test_explicitly_seeded_modules_are_not_reseeded():
    ens = SparseAttentionClassifier(
        [("rf", RandomForestClassifier(n_estimators=5, random_state=7))],
        random_state=0,
    ).fit(X, Y)
    assert ens.named_estimators_["rf"].random_state == 7
