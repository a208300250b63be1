"""Modules and folds that disagree on the classes: a module that puts
probability exactly 0 (or 1) on the true class, one whose ``classes_`` are
not in sorted order, a prefit module that misses a class or knows labels y
does not have, folds that miss a class, a fold with a single training
class.

Class columns are aligned by label, never by position; an impossible
alignment is an error naming the module.
"""

import warnings

import numpy as np
import pytest
from _helpers import X_THREE_CLASSES as X
from _helpers import X_WITH_ROW_IDS as X_ID
from _helpers import Y_THREE_CLASSES as Y
from _helpers import Y_THREE_CLASSES_STR as Y_STR
from _helpers import (
    LabelOracle,
    PermutedClassesClassifier,
    assert_finite_fit,
    assert_probabilities,
)
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from skweighting import SparseAttentionClassifier
from skweighting._combinations import LogPooling
from skweighting._combinations._common import PROBA_FLOOR
from skweighting._folds import cost_rows, fold_data
from skweighting._modules import fit_predict_fold

IDS = np.arange(len(Y), dtype=float)


# --------------------------------------------------------------------------
# Probability exactly 0 (or 1) on the true class
# --------------------------------------------------------------------------
@pytest.mark.parametrize("combine", ["log", "linear"])
@pytest.mark.parametrize(
    "modules",
    [
        [("nb", GaussianNB()), ("wrong", LabelOracle(Y, shift=1))],
        [("wrong", LabelOracle(Y, shift=1))],
        [("wrong", LabelOracle(Y, shift=1)), ("wrong2", LabelOracle(Y, shift=2))],
        [("nb", GaussianNB()), ("oracle", LabelOracle(Y, shift=0))],
    ],
    ids=["one-wrong", "only-wrong", "all-wrong", "oracle"],
)
def test_zero_probability_on_the_true_class_gives_finite_results(combine, modules):
    ens = SparseAttentionClassifier(modules, combine=combine).fit(X_ID, Y)
    assert_finite_fit(ens)
    names = [name for name, _ in modules]
    # A module always wrong scores the floor: log(PROBA_FLOOR) per sample.
    for name, score in zip(names, ens.oof_scores_):
        if name.startswith("wrong"):
            assert score == pytest.approx(np.log(PROBA_FLOOR))
    if combine == "log":
        assert np.isfinite(ens.sharpness_)
    assert_probabilities(ens.predict_proba(X_ID), 3)
    if names == ["nb", "wrong"]:
        assert ens.attention_weights_[1] < 0.01
        assert ens.score(X_ID, Y) >= ens.named_estimators_["nb"].score(X_ID, Y) - 0.05
    if "oracle" in names:
        assert ens.score(X_ID, Y) == 1.0


# --------------------------------------------------------------------------
# Class columns are aligned by label
# --------------------------------------------------------------------------
@pytest.mark.parametrize("labels", [Y, Y_STR], ids=["int", "str"])
@pytest.mark.parametrize("combine", ["log", "linear"])
def test_module_with_permuted_classes_is_aligned_by_label(labels, combine):
    plain = SparseAttentionClassifier(
        [("lr", LogisticRegression()), ("nb", GaussianNB())], combine=combine
    ).fit(X, labels)
    permuted = SparseAttentionClassifier(
        [
            ("lr", PermutedClassesClassifier(LogisticRegression())),
            ("nb", GaussianNB()),
        ],
        combine=combine,
    ).fit(X, labels)
    assert list(permuted.named_estimators_["lr"].classes_) == list(plain.classes_[::-1])
    np.testing.assert_array_equal(permuted.classes_, plain.classes_)
    np.testing.assert_allclose(permuted.attention_weights_, plain.attention_weights_)
    np.testing.assert_allclose(permuted.predict_proba(X), plain.predict_proba(X))
    np.testing.assert_allclose(permuted.transform(X), plain.transform(X))
    np.testing.assert_array_equal(permuted.predict(X), plain.predict(X))


def test_prefit_frozen_module_with_permuted_classes_is_aligned_by_label():
    prefit = PermutedClassesClassifier(LogisticRegression()).fit(X, Y_STR)
    ens = SparseAttentionClassifier(
        [("frozen", FrozenEstimator(prefit)), ("nb", GaussianNB())]
    ).fit(X, Y_STR)
    # transform: the frozen module's columns, reordered to ens.classes_.
    columns = ens.transform(X)[:, :3]
    expected = prefit.predict_proba(X)[:, np.argsort(prefit.classes_)]
    np.testing.assert_allclose(columns, expected)
    np.testing.assert_array_equal(ens.classes_, ["bird", "cat", "dog"])
    assert_probabilities(ens.predict_proba(X), 3)


def test_prefit_module_missing_a_class_gets_zero_in_that_column():
    seen = Y_STR != "cat"
    prefit = LogisticRegression().fit(X[seen], Y_STR[seen])
    ens = SparseAttentionClassifier(
        [("frozen", FrozenEstimator(prefit)), ("nb", GaussianNB())]
    ).fit(X, Y_STR)
    columns = ens.transform(X)[:, :3]
    np.testing.assert_array_equal(columns[:, 1], 0.0)  # "cat"
    np.testing.assert_allclose(columns[:, [0, 2]], prefit.predict_proba(X))
    assert_finite_fit(ens)
    assert_probabilities(ens.predict_proba(X), 3)


def test_prefit_module_with_unknown_labels_is_an_error():
    prefit = LogisticRegression().fit(X, Y)  # integer labels
    ens = SparseAttentionClassifier([("frozen", FrozenEstimator(prefit))])
    with pytest.raises(ValueError, match="module 'frozen'.*not in y"):
        ens.fit(X, Y_STR)


# --------------------------------------------------------------------------
# Folds that miss a class
# --------------------------------------------------------------------------
def test_fold_without_a_class_is_aligned_by_label():
    X = np.arange(30, dtype=float).reshape(-1, 1)
    y = np.repeat(["a", "b", "c"], 10)
    classes = np.array(["a", "b", "c"])
    # The fold that holds out the "a" rows trains on "b" and "c" only.
    train, test = np.arange(10, 30), np.arange(10)
    X_train, y_train, X_test = fold_data(X, y, train, test)
    output, _ = fit_predict_fold(
        KNeighborsClassifier(n_neighbors=1),
        "knn",
        (X_train, y_train, X_test, cost_rows(X, train, test, 1000)),
        {},
        LogPooling(classes),
        memory=None,
        where="fold 1 of 3",
    )
    assert output.shape == (10, 3)
    np.testing.assert_array_equal(output[:, 0], 0.0)  # never seen: probability 0
    np.testing.assert_array_equal(output[:, 1], 1.0)  # nearest rows are "b"
    # End to end with unshuffled folds, where every fold misses a class.
    ens = SparseAttentionClassifier(
        [("knn", KNeighborsClassifier(n_neighbors=1)), ("nb", GaussianNB())],
        cv=KFold(3),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing silently wrong
        ens.fit(X, y)
    assert np.all(np.isfinite(ens.attention_weights_))
    assert ens.predict_proba(X).shape == (30, 3)


def test_fold_missing_a_class_is_aligned_by_label():
    # Fold 0 holds out every "dog" and a third of the rest: its modules are
    # fitted on two classes only. A label oracle must still put probability
    # 1 on the right column for the birds and cats it knows.
    rng = np.random.default_rng(0)
    dog = np.flatnonzero(Y_STR == "dog")
    rest = rng.permutation(np.flatnonzero(Y_STR != "dog"))
    test_sets = [np.sort(np.r_[dog, rest[:20]]), np.sort(rest[20:40])]
    test_sets.append(np.sort(rest[40:]))
    cv = [(np.setdiff1d(IDS.astype(int), t), t) for t in test_sets]
    ens = SparseAttentionClassifier(
        [("oracle", LabelOracle(Y_STR)), ("nb", GaussianNB())], cv=cv
    ).fit(X_ID, Y_STR)
    # Only the held-out dogs are unknown to the oracle: uniform over the two
    # classes it saw, so the dog column gets 0, floored to PROBA_FLOOR.
    expected = len(dog) / len(Y) * np.log(PROBA_FLOOR)
    assert ens.oof_scores_[0] == pytest.approx(expected)
    assert_finite_fit(ens)
    assert_probabilities(ens.predict_proba(X_ID), 3)
    assert ens.score(X_ID, Y_STR) == 1.0


def test_folds_each_missing_a_class_still_fit():
    y_sorted = np.repeat([0, 1, 2], 30)  # KFold(3) unshuffled: one class per fold
    ens = SparseAttentionClassifier(
        [("nb", GaussianNB()), ("tree", DecisionTreeClassifier(max_depth=3))],
        cv=KFold(3),
    ).fit(X, y_sorted)
    assert_finite_fit(ens)
    assert_probabilities(ens.predict_proba(X), 3)
    for module in ens.estimators_:  # the refits saw every class
        np.testing.assert_array_equal(module.classes_, [0, 1, 2])


def test_fold_with_a_single_training_class():
    y_two = np.repeat([0, 1], 45)  # KFold(2) unshuffled: one class per fold
    tolerant = SparseAttentionClassifier(
        [("nb", GaussianNB()), ("tree", DecisionTreeClassifier(max_depth=3))],
        cv=KFold(2),
    ).fit(X, y_two)
    assert_finite_fit(tolerant)
    assert_probabilities(tolerant.predict_proba(X), 2)
    # LogisticRegression refuses one class: the error names the module.
    strict = SparseAttentionClassifier([("lr", LogisticRegression())], cv=KFold(2))
    with pytest.raises(ValueError, match="module 'lr'.*only one class") as info:
        strict.fit(X, y_two)
    assert isinstance(info.value.__cause__, ValueError)
