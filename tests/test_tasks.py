"""Tasks (skweighting._tasks): classification and regression.

What kind of estimator the modules make (an ensemble takes its kind from
its modules; classifiers and regressors do not mix), what y each task
accepts and how it encodes it (class labels and their order, numeric and
multi-output targets), with the errors for a y of the wrong kind.
"""

import numpy as np
import pytest
from _helpers import X_REGRESSION as X_REG
from _helpers import X_THREE_CLASSES as X
from _helpers import Y_REGRESSION as Y_REG
from _helpers import Y_THREE_CLASSES as Y
from _helpers import Y_THREE_CLASSES_STR as Y_STR
from _helpers import classifier_with, three_classifiers
from sklearn.base import BaseEstimator, RegressorMixin, is_classifier, is_regressor
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skweighting import (
    SparseAttentionClassifier,
    SparseAttentionEnsemble,
    SparseAttentionRegressor,
)

LR = ("lr", LogisticRegression())


# --------------------------------------------------------------------------
# The kind of the modules
# --------------------------------------------------------------------------
def test_classifiers_mixed_with_regressors():
    mixed = [LR, ("ridge", Ridge())]
    with pytest.raises(
        ValueError,
        match=r"all classifiers or all regressors; got classifiers \['lr'\] and "
        r"non-classifiers \['ridge'\]",
    ):
        SparseAttentionEnsemble(mixed).fit(X, Y)
    with pytest.raises(
        ValueError, match=r"module 'ridge' \(Ridge\) is not a classifier"
    ):
        SparseAttentionClassifier(mixed).fit(X, Y)
    with pytest.raises(
        ValueError, match=r"module 'lr' \(LogisticRegression\) is not a regressor"
    ):
        SparseAttentionRegressor(mixed).fit(X_REG, Y_REG)
    # The kind of an ensemble follows its modules.
    assert is_classifier(SparseAttentionEnsemble([LR]))
    assert is_regressor(SparseAttentionEnsemble([("ridge", Ridge())]))


def test_multi_branch_over_the_same_input():
    X, y = load_iris(return_X_y=True)
    branches = [
        ("scaled_linear", make_pipeline(StandardScaler(), LogisticRegression())),
        ("raw_knn", KNeighborsClassifier(n_neighbors=15)),
        (
            "petals_only",
            make_pipeline(
                ColumnTransformer([("petals", "passthrough", [2, 3])]), GaussianNB()
            ),
        ),
    ]
    ens = SparseAttentionEnsemble(branches).fit(X, y)
    assert is_classifier(ens)
    assert ens.score(X, y) > 0.9
    assert list(ens.named_estimators_) == ["scaled_linear", "raw_knn", "petals_only"]


# --------------------------------------------------------------------------
# Classification: class labels
# --------------------------------------------------------------------------
def test_string_labels_and_class_order(cancer):
    X_train, X_test, y_train, _ = cancer
    labels = np.array(["malignant", "benign"])[y_train]
    ens = SparseAttentionClassifier(three_classifiers()).fit(X_train, labels)
    np.testing.assert_array_equal(ens.classes_, ["benign", "malignant"])
    assert set(ens.predict(X_test)) <= {"benign", "malignant"}


@pytest.mark.parametrize(
    "Estimator, modules",
    [
        (SparseAttentionClassifier, [LR]),
        (SparseAttentionEnsemble, [LR]),
    ],
)
def test_continuous_y_to_a_classifier(Estimator, modules):
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        Estimator(modules).fit(X_REG, Y_REG)


@pytest.mark.parametrize("y", [np.zeros(90), np.full(90, "cat")], ids=["int", "str"])
def test_single_class_is_an_error(y):
    with pytest.raises(ValueError, match="only one class.*at least 2 classes"):
        classifier_with().fit(X, y)


# --------------------------------------------------------------------------
# Regression: numeric targets
# --------------------------------------------------------------------------
def test_multi_output_regression():
    X, Y = make_regression(
        n_samples=120, n_features=4, n_targets=3, noise=5.0, random_state=0
    )
    ens = SparseAttentionEnsemble(
        [("ridge", Ridge()), ("knn", KNeighborsRegressor())], random_state=0
    ).fit(X, Y)
    assert not is_classifier(ens)
    assert ens.predict(X).shape == (120, 3)
    assert ens.transform(X).shape == (120, 6)
    assert len(ens.get_feature_names_out()) == 6
    assert ens.score(X, Y) > 0.8


def test_multi_output_needs_capable_modules():
    X, Y = make_regression(n_samples=60, n_features=3, n_targets=2, random_state=0)
    with pytest.raises(ValueError, match=r"2 outputs.*MultiOutputRegressor"):
        SparseAttentionRegressor().fit(X, Y)


@pytest.mark.parametrize(
    "Estimator", [SparseAttentionRegressor, SparseAttentionEnsemble]
)
def test_string_y_to_a_regressor(Estimator):
    with pytest.raises(ValueError, match="needs numeric regression targets"):
        Estimator([("ridge", Ridge())]).fit(X, Y_STR)


class NeverFitted(RegressorMixin, BaseEstimator):
    """A regressor whose fit must not be reached."""

    def fit(self, X, y):
        raise AssertionError("a module was fitted on a y the ensemble refuses")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_y_to_a_regressor(bad):
    # The ensemble's own error, naming y, before any module sees y.
    y = Y_REG.copy()
    y[3] = bad
    with pytest.raises(ValueError, match="^Input y contains (NaN|infinity)") as info:
        SparseAttentionRegressor([("spy", NeverFitted())]).fit(X_REG, y)
    assert "module" not in str(info.value)
