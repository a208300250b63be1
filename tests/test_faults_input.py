"""Bad input to fit: X of the wrong dimension, X and y of different
lengths, bad sample weights, and too few rows for the folds (or classes
smaller than them).

Each is an error that says what was wrong, raised before any module is
fitted; the valid edge cases (as many rows as folds, a class smaller than
the folds when others are not) fit. Bad y (a continuous y to a classifier,
strings or NaN to a regressor, a single class) is in test_tasks.py; bad X
at predict time in test_prediction.py.
"""

import numpy as np
import pytest
from _helpers import X_REGRESSION as X_REG
from _helpers import X_THREE_CLASSES as X
from _helpers import Y_REGRESSION as Y_REG
from _helpers import Y_THREE_CLASSES as Y
from _helpers import assert_finite_fit, classifier_with, regressor_with
from sklearn.datasets import make_regression
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold
from sklearn.naive_bayes import GaussianNB

from skweighting import SparseAttentionClassifier, SparseAttentionRegressor


# --------------------------------------------------------------------------
# X, y and sample_weight
# --------------------------------------------------------------------------
def test_one_dimensional_X():
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        classifier_with().fit(X[:, 0], Y)


@pytest.mark.parametrize("cv", [3, KFold(3), KFold(3, shuffle=True, random_state=0)])
def test_x_and_y_of_different_lengths_are_refused_before_any_fit(cv):
    X, y = make_regression(n_samples=30, n_features=3, random_state=0)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SparseAttentionRegressor([("lr", LinearRegression())], cv=cv).fit(X, y[:-1])
    labels = (y > 0).astype(int)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SparseAttentionClassifier([("nb", GaussianNB())], cv=cv).fit(X[:-1], labels)


def test_negative_or_zero_sample_weight():
    with pytest.raises(ValueError, match="Negative values in data passed"):
        classifier_with().fit(X, Y, sample_weight=np.r_[-1.0, np.ones(len(Y) - 1)])
    with pytest.raises(ValueError, match="(sums to zero|at least one non-zero)"):
        classifier_with().fit(X, Y, sample_weight=np.zeros(len(Y)))


# --------------------------------------------------------------------------
# Rows and classes against the folds
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "est, X_fit, y",
    [
        (classifier_with(), X[:4], Y[:4]),
        (regressor_with(), X_REG[:4], Y_REG[:4]),
        (classifier_with(cv=10), X[:9], Y[:9]),
    ],
    ids=["classifier", "regressor", "cv=10"],
)
def test_fewer_samples_than_folds(est, X_fit, y):
    with pytest.raises(
        ValueError,
        match=rf"Cannot learn out-of-fold weights from n_samples={len(y)} with "
        rf"cv={est.cv} folds.*smaller cv",
    ):
        est.fit(X_fit, y)


def test_class_smaller_than_the_number_of_folds():
    # StratifiedKFold refuses when every class is smaller than cv...
    y = np.array([0, 1] * 4)
    with pytest.raises(ValueError, match="n_splits=5 cannot be greater"):
        classifier_with().fit(X[:8], y)
    # ...and only warns when some are: the fit still works.
    y = np.r_[np.zeros(10, int), np.ones(3, int)]
    with pytest.warns(UserWarning, match="least populated class"):
        ens = classifier_with().fit(X[:13], y)
    assert_finite_fit(ens)


def test_as_many_samples_as_folds_fits():
    ens = regressor_with(cv=5).fit(X_REG[:5], Y_REG[:5])
    assert_finite_fit(ens)
