"""Invalid parameters: values out of range, an invalid module list,
modules that cannot serve (not estimators, classes instead of instances,
classifiers without predict_proba), a combination the modules do not offer,
temperatures outside the numerically safe range.

Each is an error at fit that says what was wrong. The module list's checks,
unit by unit, are in test_validation.py; the CV estimators' parameters in
test_cv.py.
"""

import numpy as np
import pytest
from _helpers import X_REGRESSION as X_REG
from _helpers import X_THREE_CLASSES as X
from _helpers import Y_REGRESSION as Y_REG
from _helpers import Y_THREE_CLASSES as Y
from _helpers import assert_finite_fit, classifier_with
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import SVC
from sklearn.utils._param_validation import InvalidParameterError

from skweighting import (
    SparseAttentionClassifier,
    SparseAttentionEnsemble,
    SparseAttentionRegressor,
)

LR = ("lr", LogisticRegression())


# --------------------------------------------------------------------------
# Parameter values
# --------------------------------------------------------------------------
@pytest.mark.parametrize("Estimator", [SparseAttentionClassifier])
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(temperature=0), "'temperature' parameter .* range \\(0.0, inf\\)"),
        (dict(temperature=-1.0), "'temperature' parameter .* range \\(0.0, inf\\)"),
        (dict(temperature=np.nan), "'temperature' parameter"),
        (dict(temperature=np.inf), "'temperature' parameter"),
        (dict(alpha=-1e-3), "'alpha' parameter .* range \\[0.0, inf\\)"),
        (dict(alpha=np.inf), "'alpha' parameter"),
        (dict(cv=1), "'cv' parameter"),
        (dict(combine="mean"), "'combine' parameter"),
        (dict(max_iter=0), "'max_iter' parameter"),
    ],
)
def test_invalid_parameters(Estimator, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        Estimator([LR], **params).fit(X, Y)


def test_log_combine_with_regressor_modules():
    with pytest.raises(ValueError, match="combine='log' is not a combination of reg"):
        SparseAttentionEnsemble([("ridge", Ridge())], combine="log").fit(X_REG, Y_REG)


@pytest.mark.parametrize("temperature", [1e-300, 1e300])
def test_absurd_temperature_is_clearly_rejected(temperature):
    ens = classifier_with(temperature=temperature)
    with pytest.raises(
        ValueError,
        match=r"temperature=.* is outside the numerically safe range \[1e-10, 1e10\]",
    ):
        ens.fit(X, Y)
    assert not hasattr(ens, "attention_weights_")


@pytest.mark.parametrize("temperature", [1e-10, 1e10])
def test_temperature_at_the_edges_of_the_safe_range_is_handled(temperature):
    # Inside the safe range the extremes give the weights of the neighbouring
    # extreme temperatures: the unpenalised optimum, or uniform weights.
    ens = classifier_with(temperature=temperature, random_state=0).fit(X, Y)
    assert_finite_fit(ens)
    neighbour = 1e-4 if temperature < 1 else 1e4
    reference = classifier_with(temperature=neighbour, random_state=0).fit(X, Y)
    np.testing.assert_allclose(
        ens.attention_weights_, reference.attention_weights_, atol=1e-3
    )


# --------------------------------------------------------------------------
# The module list
# --------------------------------------------------------------------------
ALL = [SparseAttentionClassifier, SparseAttentionEnsemble]


@pytest.mark.parametrize("Estimator", ALL + [SparseAttentionRegressor])
@pytest.mark.parametrize(
    "estimators, match",
    [
        ([], "non-empty list of \\(name, estimator\\)"),
        ([("lr", "drop")], "All estimators are dropped.*Keep at least one"),
        (
            [("a", "drop"), ("b", "drop")],
            "All estimators are dropped.*Keep at least one",
        ),
        ([LogisticRegression()], "non-empty list of \\(name, estimator\\)"),
        ([(1, LogisticRegression())], "non-empty list of \\(name, estimator\\)"),
        ([LR, LR], "Names provided are not unique"),
        ([("a__b", LogisticRegression())], "must not contain __"),
        ([("alpha", LogisticRegression())], "conflict with constructor arguments"),
    ],
)
def test_invalid_estimators_list(Estimator, estimators, match):
    with pytest.raises(ValueError, match=match):
        Estimator(estimators).fit(X, Y)


@pytest.mark.parametrize("Estimator", ALL)
def test_classifier_without_predict_proba(Estimator):
    with pytest.raises(
        ValueError,
        match=r"module 'svc' \(SVC\) has no predict_proba after fitting.*"
        r"CalibratedClassifierCV",
    ):
        Estimator([LR, ("svc", SVC())]).fit(X, Y)


@pytest.mark.parametrize("bad", [3, None, "passthrough"])
def test_non_estimator_module_in_classifier(bad):
    with pytest.raises(TypeError, match="Module 'x' is .*, not an estimator"):
        SparseAttentionClassifier([LR, ("x", bad)]).fit(X, Y)


@pytest.mark.parametrize("Estimator", ALL)
def test_estimator_class_instead_of_instance(Estimator):
    with pytest.raises(TypeError, match="Expected an estimator instance"):
        Estimator([LR, ("x", LogisticRegression)]).fit(X, Y)


@pytest.mark.parametrize("bad", [3, None, "passthrough"])
def test_non_estimator_module_in_ensemble(bad):
    with pytest.raises(TypeError, match="Module 'x' is .*, not an estimator"):
        SparseAttentionEnsemble([LR, ("x", bad)]).fit(X, Y)
