"""Modules that misbehave: a module that raises (in fit, predict or
predict_proba, in this process or a worker), returns NaN / inf or
overflowing outputs, outputs of the wrong shape, or "probabilities" that are
not probabilities.

Each must end in an exception that names the module (and keeps the
module's own error as its ``__cause__``), never in NaN weights or silently
wrong predictions. docs/reliability.md collects the messages users see.
What ``error_score=np.nan`` does with a failing module is in
test_module_failures.py; the checks themselves, unit by unit, in
test_modules.py.
"""

import numpy as np
import pytest
from _helpers import X_REGRESSION as X_REG
from _helpers import X_THREE_CLASSES as X
from _helpers import Y_REGRESSION as Y_REG
from _helpers import Y_THREE_CLASSES as Y
from _helpers import (
    CodedError,
    FaultyClassifier,
    FaultyRegressor,
    InvalidProbabilityClassifier,
    LogFeatureRegressor,
    ReshapingClassifier,
    RowFaultClassifier,
    TwoOutputRegressor,
    classifier_with,
    regressor_with,
)


# --------------------------------------------------------------------------
# A module that raises
# --------------------------------------------------------------------------
@pytest.mark.parametrize("make", [classifier_with, regressor_with])
def test_module_failing_in_fit_is_named_and_chained(make):
    bad = FaultyClassifier if make is classifier_with else FaultyRegressor
    ens = make(("bad", bad(fail_in="fit")))
    y = Y if make is classifier_with else Y_REG
    X_fit = X if make is classifier_with else X_REG
    with pytest.raises(
        RuntimeError,
        match=r"module 'bad' \(Faulty\w+\) failed to fit on "
        r"(fold \d of 5|all rows): boom in fit",
    ) as info:
        ens.fit(X_fit, y)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert str(info.value.__cause__) == "boom in fit"


def test_module_failing_with_unusual_exception_keeps_the_original_as_cause():
    ens = classifier_with(("bad", FaultyClassifier(fail_in="fit", error="coded")))
    with pytest.raises(RuntimeError, match="module 'bad'") as info:
        ens.fit(X, Y)
    assert "coded failure in fit" in str(info.value)
    assert isinstance(info.value.__cause__, CodedError)
    assert info.value.__cause__.code == 42


def test_module_failing_in_predict_proba_during_fit_is_named():
    ens = classifier_with(("bad", FaultyClassifier(fail_in="predict_proba")))
    with pytest.raises(RuntimeError, match="module 'bad'.*failed to predict_proba"):
        ens.fit(X, Y)


def test_module_failing_at_predict_time_is_named_and_chained():
    ens = classifier_with(("bad", FaultyClassifier())).fit(X, Y)
    ens.named_estimators_["bad"].set_params(fail_in="predict_proba")
    for method in (ens.predict, ens.predict_proba, ens.transform):
        with pytest.raises(RuntimeError, match="module 'bad'") as info:
            method(X)
        assert str(info.value.__cause__) == "boom in predict_proba"

    reg = regressor_with(("bad", FaultyRegressor())).fit(X_REG, Y_REG)
    reg.named_estimators_["bad"].set_params(fail_in="predict")
    with pytest.raises(RuntimeError, match="module 'bad'.*failed to predict"):
        reg.predict(X_REG)


def test_module_failing_in_a_worker_process_is_named():
    # With n_jobs=2 the error crosses a process boundary: joblib keeps its
    # type and message (naming the module); the __cause__ is then joblib's
    # remote traceback, whose text contains the original error.
    ens = classifier_with(("bad", FaultyClassifier(fail_in="fit")), n_jobs=2)
    with pytest.raises(RuntimeError, match="module 'bad'.*boom in fit") as info:
        ens.fit(X, Y)
    assert "boom in fit" in str(info.value.__cause__)


# --------------------------------------------------------------------------
# A module that outputs NaN or inf
# --------------------------------------------------------------------------
NON_FINITE = pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
NON_FINITE_MESSAGE = r"module 'bad' \(\w+\) returned NaN or infinite outputs"


@NON_FINITE
@pytest.mark.parametrize("combine", ["log", "linear"])
def test_non_finite_probabilities_at_fit_are_an_error(bad_value, combine):
    ens = classifier_with(
        ("bad", FaultyClassifier(bad_value=bad_value)), combine=combine
    )
    with pytest.raises(ValueError, match=NON_FINITE_MESSAGE):
        ens.fit(X, Y)
    assert not hasattr(ens, "attention_weights_")


@pytest.mark.parametrize(
    "bad_value, n_jobs",
    # Every value in this process; one is enough for the workers' path.
    [(np.nan, 1), (np.inf, 1), (-np.inf, 1), (np.nan, 2)],
)
def test_non_finite_regression_outputs_at_fit_are_an_error(bad_value, n_jobs):
    # Found by the store, from the fold's Gram matrix of the errors, however
    # the folds were fitted.
    ens = regressor_with(("bad", FaultyRegressor(bad_value=bad_value)), n_jobs=n_jobs)
    with pytest.raises(ValueError, match=NON_FINITE_MESSAGE + r"\. Check"):
        ens.fit(X_REG, Y_REG)
    assert not hasattr(ens, "attention_weights_")


def test_finite_regression_outputs_whose_errors_overflow_are_named():
    # Against a y of spread 1e-12, a prediction of 1e300 has a scaled error
    # beyond float64: it cannot be told from an infinite one, and the error
    # says both.
    ens = regressor_with(("bad", FaultyRegressor(constant=1e300)))
    with pytest.raises(
        ValueError,
        match=NON_FINITE_MESSAGE + ", or predictions so far outside the range of y",
    ):
        ens.fit(X_REG, Y_REG * 1e-12)


@NON_FINITE
@pytest.mark.parametrize("combine", ["log", "linear"])
def test_non_finite_probabilities_at_predict_are_an_error(bad_value, combine):
    ens = classifier_with(("bad", FaultyClassifier()), combine=combine).fit(X, Y)
    ens.named_estimators_["bad"].set_params(bad_value=bad_value)
    for method in (ens.predict, ens.predict_proba, ens.transform):
        with pytest.raises(ValueError, match=NON_FINITE_MESSAGE):
            method(X)


def test_nan_regression_outputs_at_predict_are_an_error():
    # Fitted on x0 > -1, the module gives NaN for x0 < -1: the ensemble must
    # not pass NaN predictions on.
    X_pos = np.abs(X_REG)
    ens = regressor_with(("bad", LogFeatureRegressor())).fit(X_pos, Y_REG)
    assert np.all(np.isfinite(ens.predict(X_pos)))
    with pytest.raises(ValueError, match=NON_FINITE_MESSAGE):
        ens.predict(-X_pos - 2.0)
    with pytest.raises(ValueError, match=NON_FINITE_MESSAGE):
        ens.transform(-X_pos - 2.0)


def test_huge_finite_regression_outputs_are_not_silently_averaged():
    # Finite but absurd predictions cannot be squared: a clear error, never
    # an average that gives the absurd module weight.
    ens = regressor_with(("bad", FaultyRegressor(constant=1e90)))
    with (
        np.errstate(all="ignore"),
        pytest.raises(
            (ValueError, FloatingPointError), match="overflow.*'bad'|too large"
        ),
    ):
        ens.fit(X_REG, Y_REG)
    assert not hasattr(ens, "attention_weights_")


# --------------------------------------------------------------------------
# Outputs of the wrong shape, probabilities that are not
# --------------------------------------------------------------------------
def test_probabilities_of_the_wrong_shape_are_an_error():
    ens = classifier_with(("bad", ReshapingClassifier()))
    with pytest.raises(ValueError, match=r"module 'bad' .*predict_proba of shape"):
        ens.fit(X, Y)


def test_wrong_number_of_regression_outputs_is_an_error():
    ens = regressor_with(("bad", TwoOutputRegressor()))
    with pytest.raises(ValueError, match=r"module 'bad' \(\w+\) predicted 2 outputs"):
        ens.fit(X_REG, Y_REG)


@pytest.mark.parametrize("combine", ["log", "linear"])
def test_probabilities_outside_0_1_are_an_error(combine):
    ens = classifier_with(("bad", InvalidProbabilityClassifier()), combine=combine)
    with pytest.raises(ValueError, match="module 'bad' .*not probabilities"):
        ens.fit(X, Y)


@pytest.mark.parametrize("combine", ["log", "linear"])
@pytest.mark.parametrize(
    "values, message",
    [
        ([np.nan, 0.5, 0.5], "NaN or infinite"),
        ([np.inf, 0.0, 0.0], "NaN or infinite"),
        ([-0.5, 1.0, 0.5], "not probabilities"),
        ([0.6, 0.6, 0.6], "not probabilities"),
    ],
    ids=["nan", "inf", "negative", "sum"],
)
def test_bad_probabilities_at_predict_in_any_row_are_an_error(combine, values, message):
    # Predict checks each module's output as it folds it into the result: a
    # bad last row is caught as surely as the first.
    ens = classifier_with(("bad", RowFaultClassifier()), combine=combine).fit(X, Y)
    for row in (0, 30, len(X) - 1):
        ens.named_estimators_["bad"].set_params(row=row, values=values)
        for method in (ens.predict, ens.predict_proba):
            with pytest.raises(ValueError, match=f"module 'bad' .*{message}"):
                method(X)


@pytest.mark.parametrize("combine", ["log", "linear"])
def test_probabilities_rounded_below_zero_at_predict_are_clipped(combine):
    # Within the tolerance, an entry rounded below zero counts as zero.
    ens = classifier_with(("bad", RowFaultClassifier()), combine=combine).fit(X, Y)
    bad = ens.named_estimators_["bad"]
    bad.set_params(row=5, values=[0.0, 0.5, 0.5 + 1e-9])
    clipped = ens.predict_proba(X)
    bad.set_params(row=5, values=[-1e-9, 0.5, 0.5 + 1e-9])
    proba = ens.predict_proba(X)
    np.testing.assert_allclose(proba, clipped, rtol=0, atol=1e-15)
    assert np.all(proba >= 0.0)
